"""A regular language a user might bring (a new-user try, 2026-12-04 night): balanced brackets whose depth
never exceeds 3 ("bounded Dyck", a finite automaton of 5 states: depth 0-3 and a dead state).  Half the
strings are drawn in the language (a random walk kept between depth 0 and 3, ending at 0), the other
half are near misses: such a string with one bracket flipped, or one step pushed to depth 4.  3,000
training and 500 validation strings of lengths 2-40 (even), 1,000 test strings of lengths 42-200.

Usage: python benchmarks/bounded_dyck.py DIR SEED  (writes DIR/train.tsv, valid.tsv, test.tsv: text, label)."""
import os
import random
import sys

MAX = 3


def member(s):
    d = 0
    for c in s:
        d += 1 if c == "(" else -1
        if d < 0 or d > MAX:
            return False
    return d == 0


def walk(r, n):
    """A string of n (even) brackets in the language: each step up or down at random, as the depth and the
    steps left allow."""
    s, d = [], 0
    for i in range(n):
        left = n - i
        ups = d < MAX and d + 1 <= left - 1
        downs = d > 0
        c = "(" if ups and (not downs or r.random() < 0.5) else ")"
        d += 1 if c == "(" else -1
        s.append(c)
    return "".join(s)


def example(r, lo, hi):
    n = 2 * r.randint(lo // 2 if lo % 2 == 0 else lo // 2 + 1, hi // 2)
    s = walk(r, n)
    if r.random() < 0.5:
        return s, "yes"
    while True:  # a near miss: one bracket flipped, or a dip under 0 / a rise over 3 spliced in
        t = list(s)
        if r.random() < 0.5:
            i = r.randrange(n)
            t[i] = "(" if t[i] == ")" else ")"
            t = "".join(t)
        else:
            i = r.randrange(n + 1)
            t = s[:i] + "(" * (MAX + 1) + ")" * (MAX + 1) + s[i:]
            t = t[:n] if len(t) > hi else t
        if not member(t):
            return t, "no"


def write(path, n, lo, hi, r):
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for _ in range(n):
            s, y = example(r, lo, hi)
            assert (y == "yes") == member(s)
            f.write(f"{s}\t{y}\n")


if __name__ == "__main__":
    d, seed = sys.argv[1], int(sys.argv[2])
    os.makedirs(d, exist_ok=True)
    r = random.Random(seed)
    write(os.path.join(d, "train.tsv"), 3000, 2, 40, r)
    write(os.path.join(d, "valid.tsv"), 500, 2, 40, r)
    write(os.path.join(d, "test.tsv"), 1000, 42, 200, r)
