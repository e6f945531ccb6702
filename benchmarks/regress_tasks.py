"""Regression tasks a user might bring (a number per sequence), for choosing the defaults of
``bptt train --task regress``: 3,000 training and 300 validation sequences of lengths 1-40, 500 test
sequences of lengths 41-200, written as a new user would (text<TAB>number).

  frac-a   a/b strings; the fraction of a's (a mean: needs the length as well as the count)
  filter   digits 0-9; sum_k 0.5^k d_(T-k) / 10 (a linear filter of the last digits, any length)
  last-b   a/b/x strings; how many steps ago the last b was, capped at 10, over 10 (1 when none)
  float-sum  numbers in [-1, 1] with 2 decimals, space separated (a user's measured values); their sum
             (bptt train reads each distinct number as a symbol: 201 of them here)
  gc-content DNA (A C G T); the fraction of G and C, each string drawn with its own chance of G/C
             (a new user's try of 2026-12-03, which bptt then read as hundreds of classes)
  digit-sum  digits 0-9; their sum, written as a whole number (a new user's try of 2026-12-03, which bptt
             then read as 213 classes and stopped at the first validation sum not seen in training)

Usage: python benchmarks/regress_tasks.py TASK [SEED] (writes TASK/train.tsv, valid.tsv, test.tsv)."""
import os
import random
import sys


def frac_a(s):
    return s.count("a") / len(s)


def filt(s):
    v = 0.0
    for c in s:
        v = 0.5 * v + int(c)
    return v / 10


def last_b(s):
    for k, c in enumerate(reversed(s)):
        if c == "b":
            return min(k, 10) / 10
    return 1.0


def digit_sum(s):
    return sum(int(c) for c in s)


def gc(s):
    return (s.count("G") + s.count("C")) / len(s)


TASKS = {"frac-a": ("ab", frac_a), "filter": ("0123456789", filt), "last-b": ("abxx", last_b),
         "float-sum": (None, None), "gc-content": ("ACGT", gc), "digit-sum": ("0123456789", digit_sum)}


def write(path, alpha, f, n, lo, hi, rng):
    with open(path, "w") as fh:
        for _ in range(n):
            if alpha is None:  # float-sum
                xs = [f"{rng.uniform(-1, 1):.2f}" for _ in range(rng.randint(lo, hi))]
                fh.write(" ".join(xs) + f"\t{sum(float(x) for x in xs):.6f}\n")
                continue
            if f is gc:  # a chance of G or C of its own, so that the fractions spread over 0..1
                p = rng.random()
                s = "".join(rng.choice("GC" if rng.random() < p else "AT") for _ in range(rng.randint(lo, hi)))
            else:
                s = "".join(rng.choice(alpha) for _ in range(rng.randint(lo, hi)))
            fh.write(f"{s}\t{f(s)}\n" if f is digit_sum else f"{s}\t{f(s):.6f}\n")


if __name__ == "__main__":
    name, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    alpha, f = TASKS[name]
    rng = random.Random(seed)
    os.makedirs(name, exist_ok=True)
    write(f"{name}/train.tsv", alpha, f, 3000, 1, 40, rng)
    write(f"{name}/valid.tsv", alpha, f, 300, 1, 40, rng)
    write(f"{name}/test.tsv", alpha, f, 500, 41, 200, rng)
