"""What a run would have kept had it stopped sooner: ``bptt train`` run in this process, a copy of the
model file taken each time the run saves a better model (the epoch lines marked ``*``), and every copy
scored afterwards on a test file.  Shows how the kept model's accuracy on a test set of longer lengths
than the training ones moves with training time, so a stopping rule can be judged on the whole curve
from one run instead of one run per budget.

Usage: python benchmarks/kept_over_time.py DIR TEST.tsv -- TRAIN ARGS...   (the train arguments as for
``bptt train``, with ``--out DIR/model.bptt``; prints one line per kept model: epoch, seconds, validation
accuracy and loss, test accuracy)."""
import contextlib
import io
import os
import re
import shutil
import sys

import bptt.cli as cli


def main(argv):
    d, test = argv[0], argv[1]
    args = argv[argv.index("--") + 1:]
    out = args[args.index("--out") + 1]
    os.makedirs(d, exist_ok=True)
    kept = []
    real = cli.train

    def train(*a, log=print, **k):
        def logged(line):
            log(line)
            m = re.match(r"epoch (\S+)\s+step \d+\s+(\S+)s .*valid loss (\S+)\s+acc (\S+)%.*\*$", line)
            if m:
                snap = os.path.join(d, f"kept-{len(kept):04d}.bptt")
                shutil.copyfile(out, snap)
                kept.append((m.group(1), float(m.group(2)), m.group(3), m.group(4), snap))
        return real(*a, log=logged, **k)

    cli.train = train
    try:
        rc = cli.main(["train", *args])
    finally:  # in a test's process, the command line must not stay patched after a failed run
        cli.train = real
    print(f"--- train exit {rc}; {len(kept)} kept models, each scored on {test}")
    for epoch, secs, vloss, vacc, snap in kept:
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            cli.main(["evaluate", "--model", snap, "--data", test])
        text = text.getvalue()
        acc = re.search(r"accuracy ([0-9.]+)%", text)
        print(f"kept at epoch {epoch:>5} {secs:7.1f} s  valid acc {vacc}% loss {vloss}  test {acc.group(1) if acc else '?'}%",
              flush=True)
        os.remove(snap)


if __name__ == "__main__":
    main(sys.argv[1:])
