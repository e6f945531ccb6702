"""How often the sign of a rating regression's prediction is the sentence's label (pos / neg): a
regression of the NAME-ratings sets read as a classifier of NAME, on the same test sentences.

    python benchmarks/ratings_sign.py WORK CONFIG [CONFIG ...]

WORK is the folder of a `TASK=regress bash benchmarks/text_defaults.sh` run (its models
CONFIG-CORPUS-sS.bptt); each model labels its corpus's test sentences with `bptt predict`, and the
script prints, per corpus, the fraction whose predicted rating has the sign of the human one (no test
sentence is rated exactly 0), mean and standard deviation over the seeds found."""
import glob
import os
import re
import subprocess
import sys

import numpy as np

DATA = os.environ.get("BPTT_DATA", os.path.expanduser("~/.cache/bptt"))
CORPORA = ("movie-reviews-ratings", "tweets-ratings", "amazon-reviews-ratings", "nyt-editorials-ratings")


def sign_accuracy(model: str, test: str) -> float:
    rows = [line.rstrip("\n").split("\t") for line in open(test, encoding="utf-8")][1:]
    texts, ratings = [r[0] for r in rows], np.array([float(r[1]) for r in rows])
    out = subprocess.run(["bptt", "predict", "--model", model], input="\n".join(texts) + "\n", text=True,
                         capture_output=True, check=True).stdout.split("\n")[:len(texts)]
    pred = np.array([float(x) for x in out])
    return float(np.mean(np.sign(pred) == np.sign(ratings)))


def main(work: str, configs: list) -> None:
    for cfg in configs:
        by_corpus = {}
        for corpus in CORPORA:
            for m in sorted(glob.glob(os.path.join(work, f"{cfg}-{corpus}-s*.bptt"))):
                if re.fullmatch(rf"{re.escape(cfg)}-{corpus}-s\d+\.bptt", os.path.basename(m)):
                    by_corpus.setdefault(corpus, []).append(sign_accuracy(m, os.path.join(DATA, corpus, "test.tsv")))
        for corpus, accs in by_corpus.items():
            a = 100 * np.array(accs)
            print(f"{cfg} {corpus}: sign right {a.mean():.1f} +- {a.std(ddof=1) if len(a) > 1 else 0:.1f}% "
                  f"({', '.join(f'{x:.1f}' for x in a)}; {len(a)} seeds)", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
