"""Tasks over sequences of numbers (``bptt train --inputs numbers``), for choosing its defaults: 3,000
training and 300 validation sequences of lengths 1-40, 500 test sequences of lengths 41-200, values
uniform in [-1, 1] written with 3 decimals, one a step.

  sum        regress: the sum of the values
  sign       classify: whether the sum is positive (pos / neg)
  parity     classify: whether an even or odd number of the values are above 0.5
  seen-high  tag: each step tagged yes once a value above 0.9 has been seen, else no
  record     tag: yes where the value is above every value before it (the first step too), else no
  rising     tag: up where the value is above the one before it, else - (the first step: -)
  next-up    tag: up where the next value is above this one, else - (the last step: -); reads ahead
  local-max  tag: peak where the value is above both neighbours (a missing one counts as lower), else -
  forecast   regress at every step: a sine wave of random frequency (0.1-0.5 radians a step), phase and
             amplitude (0.5-2), each step labelled with the next sample (a new user's try of 2026-12-03)
  running-mean  regress at every step: the mean of the values so far
  rotation   classify: points x,y (two numbers a step, joined by a comma) on a circle of random centre,
             radius, start and speed, with noise; whether they turn clockwise (cw) or not (ccw); lengths
             3-40 (a new user's try of 2026-12-03)

Usage: python benchmarks/number_tasks.py TASK [SEED] (writes TASK/train.tsv, valid.tsv, test.tsv)."""
import math
import os
import random
import sys


def label(name, xs):
    if name == "sum":
        return f"{sum(xs):.6f}"
    if name == "running-mean":
        return " ".join(f"{sum(xs[:i + 1]) / (i + 1):.6f}" for i in range(len(xs)))
    if name == "sign":
        return "pos" if sum(xs) > 0 else "neg"
    if name == "parity":
        return "odd" if sum(x > 0.5 for x in xs) % 2 else "even"
    n, low = len(xs), float("-inf")
    if name == "record":
        return " ".join("yes" if x > max(xs[:i], default=low) else "no" for i, x in enumerate(xs))
    if name == "rising":
        return " ".join("up" if i and x > xs[i - 1] else "-" for i, x in enumerate(xs))
    if name == "next-up":
        return " ".join("up" if i + 1 < n and xs[i + 1] > x else "-" for i, x in enumerate(xs))
    if name == "local-max":
        return " ".join("peak" if x > (xs[i - 1] if i else low) and x > (xs[i + 1] if i + 1 < n else low) else "-"
                        for i, x in enumerate(xs))
    seen, tags = False, []
    for x in xs:
        seen = seen or x > 0.9
        tags.append("yes" if seen else "no")
    return " ".join(tags)


TASKS = ("sum", "sign", "parity", "seen-high", "record", "rising", "next-up", "local-max", "rotation", "forecast",
         "running-mean")


def forecast(rng, n):
    """A line of the forecast task: n samples of a sine wave, each labelled with the one after it."""
    f, ph, amp = rng.uniform(0.1, 0.5), rng.uniform(0, 2 * math.pi), rng.uniform(0.5, 2)
    v = [f"{amp * math.sin(f * t + ph):.3f}" for t in range(n + 1)]
    return " ".join(v[:-1]) + "\t" + " ".join(v[1:]) + "\n"


def rotation(rng, n):
    """A line of the rotation task: ``x,y`` points of n steps and their label."""
    cw = rng.random() < 0.5
    w, a, r = rng.uniform(0.1, 0.6) * (-1 if cw else 1), rng.uniform(0, 2 * math.pi), rng.uniform(0.5, 3)
    cx, cy = rng.uniform(-2, 2), rng.uniform(-2, 2)
    pts = [f"{cx + r * math.cos(a + w * t) + rng.gauss(0, 0.05):.3f},{cy + r * math.sin(a + w * t) + rng.gauss(0, 0.05):.3f}"
           for t in range(n)]
    return " ".join(pts) + "\t" + ("cw" if cw else "ccw") + "\n"


if __name__ == "__main__":
    name, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    assert name in TASKS, f"TASK is one of {TASKS}"
    rng = random.Random(seed)
    os.makedirs(name, exist_ok=True)
    for split, n, lo, hi in (("train", 3000, 1, 40), ("valid", 300, 1, 40), ("test", 500, 41, 200)):
        with open(f"{name}/{split}.tsv", "w") as fh:
            for _ in range(n):
                if name in ("rotation", "forecast"):
                    fh.write((rotation if name == "rotation" else forecast)(rng, rng.randint(max(lo, 3), hi)))
                    continue
                xs = [float(f"{rng.uniform(-1, 1):.3f}") for _ in range(rng.randint(lo, hi))]
                fh.write(" ".join(f"{x:.3f}" for x in xs) + "\t" + label(name, xs) + "\n")
