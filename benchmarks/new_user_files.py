"""A new user's try of stop 40 (2026-12-03): five tasks written as a new user writes them, each in its own
file format, training sequences of lengths 1-40, validation 1-40, 1,000 test sequences of 41-200.

  div3      a binary number (most significant bit first) divisible by 3: yes/no; CSV headed number,divisible
            (2,000 training strings)
  kth       the 4th symbol from the end is 'a': JSONL records {"string": ..., "label": true/false} (1,000)
  notriple  a/b strings with no 'aaa' and no 'bbb': ok/bad, balanced by construction; TSV without a header (500)
  subseq    a/b/c/d strings holding a...b...c as a subsequence: 1/0, balanced by construction; TSV (1,500)
  runmax    tags: digits separated by spaces, each tagged with the largest digit so far; TSV (800)

Usage: python benchmarks/new_user_files.py [SEED] (writes TASK_{train,valid,test}.EXT in the current folder);
``bash benchmarks/new_user_files.sh WORKDIR`` writes them and trains each with bptt's defaults."""
import csv
import json
import random
import sys

rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
def rs(alpha, n): return "".join(rng.choice(alpha) for _ in range(n))
# 1. binary number (most significant bit first) divisible by 3 -> yes/no, CSV with header
def div3(lo, hi):
    s = "1" + rs("01", rng.randint(lo, hi) - 1)
    return s, ("yes" if int(s, 2) % 3 == 0 else "no")
# 2. the 4th symbol from the end is 'a' (JSONL, labels true/false)
def kth(lo, hi):
    s = rs("ab", rng.randint(max(lo, 4), hi))
    return s, s[-4] == "a"
# 3. no 'aaa' and no 'bbb' (balanced by construction)
def notriple(lo, hi):
    n = rng.randint(max(lo, 3), hi)
    if rng.random() < 0.5:
        s = ""
        while len(s) < n:
            c = rng.choice("ab")
            if s[-2:] == c * 2: c = "b" if c == "a" else "a"
            s += c
        return s, "ok"
    while True:
        s = list(rs("ab", n)); i = rng.randrange(n - 2); c = rng.choice("ab"); s[i:i+3] = c * 3
        return "".join(s), "bad"
# 4. contains a..b..c as a subsequence over abcd (balanced by construction)
def subseq(lo, hi):
    n = rng.randint(max(lo, 3), hi); s = list(rs("abcd", n))
    if rng.random() < 0.5:
        for p, c in zip(sorted(rng.sample(range(n), 3)), "abc"): s[p] = c
        return "".join(s), 1
    out, st = [], 0
    for c in s:
        if st == 0 and c == "a": st = 1
        elif st == 1 and c == "b": st = 2
        if st == 2 and c == "c": c = rng.choice("abd")
        out.append(c)
    t = "".join(out)
    return t, 0
# 5. tags: running maximum of digits, tokens separated by spaces
def runmax(lo, hi):
    d = [rng.choice("0123456789") for _ in range(rng.randint(lo, hi))]
    m, tags = "0", []
    for c in d:
        m = max(m, c); tags.append(m)
    return " ".join(d), " ".join(tags)
for name, f, n in [("div3", div3, 2000), ("kth", kth, 1000), ("notriple", notriple, 500), ("subseq", subseq, 1500), ("runmax", runmax, 800)]:
    for split, cnt, lo, hi in [("train", n, 1, 40), ("valid", max(200, n // 5), 1, 40), ("test", 1000, 41, 200)]:
        rows = [f(lo, hi) for _ in range(cnt)]
        if name == "div3":
            with open(f"{name}_{split}.csv", "w", newline="") as fh:
                w = csv.writer(fh); w.writerow(["number", "divisible"]); w.writerows(rows)
        elif name == "kth":
            with open(f"{name}_{split}.jsonl", "w") as fh:
                for s, l in rows: fh.write(json.dumps({"string": s, "label": l}) + "\n")
        else:
            with open(f"{name}_{split}.tsv", "w") as fh:
                for s, l in rows: fh.write(f"{s}\t{l}\n")
