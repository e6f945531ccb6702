"""Counting languages, as a user would write them for a first try of bptt: sequences that no finite
automaton classifies, so a model must count.  Writes TSV lines ``text<TAB>label`` to stdout.

    python benchmarks/counting_tasks.py dyck 1 40 3000 1 > train.tsv   # task, shortest, longest, n, seed

Tasks (labels 0/1):
  dyck      parentheses; 1 when balanced (Dyck-1).  Half the even lengths are balanced strings drawn as
            random walks that stay at depth >= 0 and end at 0; the rest are near misses (one bracket
            flipped, or two swapped) or, at odd lengths, uniform strings (never balanced).
  majority  bits; 1 when there are more ones than zeros (uniform strings).
  anbn      a^k b^(n-k); 1 when k = n - k (half the even lengths), else another k.
"""

import random
import sys


def _walk(n, r):  # a balanced string of even length n: a random walk kept at depth >= 0, back to 0 at the end
    s, depth = [], 0
    for i in range(n):
        c = "(" if depth == 0 else ")" if depth == n - i else r.choice("()")
        depth += 1 if c == "(" else -1
        s.append(c)
    return s


def balanced(s):
    depth = 0
    for c in s:
        depth += 1 if c == "(" else -1
        if depth < 0:
            return False
    return depth == 0


def dyck(n, r):
    if n % 2 == 0 and r.random() < 0.5:
        s = _walk(n, r)
    elif n % 2 == 0:
        s = _walk(n, r)
        if r.random() < 0.5:  # one bracket flipped: the counts differ
            i = r.randrange(n)
            s[i] = "(" if s[i] == ")" else ")"
        else:  # two brackets swapped: the counts agree, the order may not
            i, j = sorted(r.sample(range(n), 2))
            s[i], s[j] = s[j], s[i]
    else:
        s = [r.choice("()") for _ in range(n)]
    s = "".join(s)
    return s, int(balanced(s))


def majority(n, r):
    s = "".join(r.choice("01") for _ in range(n))
    return s, int(s.count("1") > s.count("0"))


def anbn(n, r):
    if n % 2 == 0 and r.random() < 0.5:
        return "a" * (n // 2) + "b" * (n // 2), 1
    k = r.randint(0, n)
    if 2 * k == n:
        k = k + 1 if k < n else k - 1
    return "a" * k + "b" * (n - k), 0


TASKS = {"dyck": dyck, "majority": majority, "anbn": anbn}

if __name__ == "__main__":
    task, lo, hi, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    r = random.Random(seed)
    for _ in range(n):
        text, label = TASKS[task](r.randint(lo, hi), r)
        print(f"{text}\t{label}")
