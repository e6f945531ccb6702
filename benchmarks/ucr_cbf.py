"""Cylinder-Bell-Funnel (Saito 1994), the synthetic data set of the UCR time-series archive, written as the
archive writes its files (``CBF_TRAIN.tsv``, ``CBF_TEST.tsv``: the class 1-3 first, then the 128 steps,
tab-separated): 30 training and 900 test series, as the archive's own split.  A new user's try of stop 40
(a file of the archive was refused at line 1 before: 'has 129 column(s), expected 2').

    c(t) = (6 + n) * 1[a <= t <= b] + e(t)                           cylinder
    b(t) = (6 + n) * 1[a <= t <= b] * (t - a) / (b - a) + e(t)       bell
    f(t) = (6 + n) * 1[a <= t <= b] * (b - t) / (b - a) + e(t)       funnel

with n, e(t) ~ N(0, 1), a ~ U{16..32}, b - a ~ U{32..96}, t = 1..128.

Usage: python benchmarks/ucr_cbf.py DIR [SEED] [N_TRAIN] (writes DIR/CBF_TRAIN.tsv and DIR/CBF_TEST.tsv)."""
import os
import sys

import numpy as np


def series(kind: int, rng) -> np.ndarray:
    t = np.arange(1, 129)
    a = int(rng.integers(16, 33))
    b = a + int(rng.integers(32, 97))
    inside = ((t >= a) & (t <= b)).astype(float)
    shape = [inside, inside * (t - a) / (b - a), inside * (b - t) / (b - a)][kind - 1]
    return (6 + rng.normal()) * shape + rng.normal(size=128)


def write(path: str, n: int, rng) -> None:
    with open(path, "w") as f:
        for i in range(n):
            kind = 1 + i % 3
            f.write("\t".join([str(kind)] + [f"{v:.6f}" for v in series(kind, rng)]) + "\n")


if __name__ == "__main__":
    out, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    n_train = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "CBF_TRAIN.tsv"), n_train, rng)
    write(os.path.join(out, "CBF_TEST.tsv"), 900, rng)
