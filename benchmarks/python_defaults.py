"""Training in Python: the plain configs against ``bptt.defaults_for``, trained at lengths 1-40, tested beyond.

A user of the library who builds ``ModelConfig(vocab_size=..., output_size=...)`` and ``TrainConfig()``
gets the tutorial's plain setting (its cell, a constant rate of 0.001, batches of 32, all lengths at
once); ``bptt.defaults_for(train_data)`` gives what ``bptt train`` chooses for the same data.  For each
task: 3,000 training and 500 validation strings of lengths 1-40 and 400 test strings at lengths 41, 60,
100 and 200; ``bptt.train.train`` with each config and ``max_time``; the score is the whole-sequence
accuracy at the test lengths of the model kept on validation.  Tasks: some of ``bptt data make``'s and
random automata over 2-3 letters (benchmarks/random_regular.py's, ``dfaN``).  Two runs at a time, one
core each.

    python benchmarks/python_defaults.py --tasks parity divisible3 tomita3 tomita5 tomita7 dfa0 dfa1 --seeds 0 1
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core a run, two runs at a time
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("BPTT_CPU_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import random_regular  # noqa: E402

import bptt  # noqa: E402
from bptt import checkpoint  # noqa: E402
from bptt import tasks  # noqa: E402
from bptt.data import Labels, Vocab  # noqa: E402
from bptt.train import SeqData, TrainConfig, evaluate, train  # noqa: E402

TEST_LENGTHS = random_regular.TEST_LENGTHS


def rows_of(task: str, root: str) -> dict:
    """``{"train": rows, "valid": rows, "test": rows}``, each row ``(string, label)``."""
    if task.startswith("dfa"):
        paths = random_regular.make_data(int(task[3:]), root)
        out = {}
        for part in ("train", "valid", "test"):
            with open(paths[part]) as f:
                out[part] = [tuple(line.rstrip("\n").split("\t")) for line in f][1:]  # (a header line)
        return out
    return {"train": tasks.make(task, (1, 40), 3000, 1), "valid": tasks.make(task, (1, 40), 500, 2),
            "test": tasks.make(task, list(TEST_LENGTHS), 400, 3)}


def run_one(job):
    task, seed, config, rows, max_time, root = job
    vocab = Vocab.build(list(s) for s, _ in rows["train"])
    labels = Labels.build(y for _, y in rows["train"])
    data = {part: SeqData([vocab.encode(list(s)) for s, _ in r], [labels.index[y] for _, y in r], "classify")
            for part, r in rows.items()}
    if config == "plain":
        model_cfg, train_cfg = bptt.ModelConfig(vocab_size=len(vocab), output_size=max(len(labels), 2)), TrainConfig()
    else:
        model_cfg, train_cfg = bptt.defaults_for(data["train"])
    train_cfg = dataclasses.replace(train_cfg, max_time=max_time, seed=seed)
    model = bptt.Model(model_cfg, rng=seed)
    t = time.time()
    out = os.path.join(root, f"{task}-{seed}-{config}.bptt")
    history = train(model, data["train"], data["valid"], train_cfg, out=out, log=lambda *a, **k: None)
    seconds = time.time() - t
    model = checkpoint.load(out).model  # the model kept on validation (the last epoch's may be worse)
    valid, test = evaluate(model, data["valid"]), evaluate(model, data["test"])
    epochs = len(history) if isinstance(history, list) else None
    return task, seed, config, valid["accuracy"], test["accuracy"], seconds, epochs, model_cfg.cell


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", nargs="+", default=["parity", "divisible3", "tomita3", "tomita5", "tomita7", "dfa0",
                                                   "dfa1"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--configs", nargs="+", default=["plain", "defaults_for"], choices=["plain", "defaults_for"])
    ap.add_argument("--max-time", type=float, default=90.0, help="seconds a run")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    print(f"=== python benchmarks/python_defaults.py {' '.join(sys.argv[1:])} (commit {commit}, "
          f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, bptt at {os.path.dirname(bptt.__file__)})",
          flush=True)
    with tempfile.TemporaryDirectory() as root:
        data = {task: rows_of(task, root) for task in args.tasks}
        jobs = [(task, seed, config, data[task], args.max_time, root)
                for task in args.tasks for seed in args.seeds for config in args.configs]
        results = []
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            for r in pool.imap_unordered(run_one, jobs):
                results.append(r)
                task, seed, config, va, te, secs, epochs, cell = r
                print(f"{task:12s} seed {seed}  {config:13s} cell {cell:4s}  valid {va:7.2%}  test (41-200) {te:7.2%}"
                      f"  {secs:6.1f} s  {epochs} epochs", flush=True)
    print("\nmean test accuracy at lengths 41-200 (runs at >= 99%; worst), per config:")
    for config in args.configs:
        accs = [r[4] for r in results if r[2] == config]
        secs = sum(r[5] for r in results if r[2] == config)
        print(f"  {config:13s} {statistics.mean(accs):7.2%}  ({sum(a >= 0.99 for a in accs)} of {len(accs)}; "
              f"worst {min(accs):.2%})  {secs:.0f} s in all")


if __name__ == "__main__":
    main()
