"""Tagging tasks a user might bring, which bptt does not ship: the data of one, written as a new user
would (space-separated tokens, one tag per token), 4,000 training and 400 validation sequences of
lengths 1-40 and 500 test sequences of lengths 41-200.  ``benchmarks/own_tag_tasks.sh`` trains on
them with bptt's defaults and scores the test set.

  prefix-parity  bits; tag each with the parity of the ones so far
  count-mod3     a/b/c; tag each with (#a - #b) mod 3 so far
  delay2         x/y/z; tag each with the token two steps back ('-' for the first two)
  latch          a/b/c/d/x; tag each with the last of a/b/c seen so far ('none' before one)
  running-max    digits 0-9; tag each with the largest digit so far (a new user's try of stop 40)

and three whose tag depends on the tokens after it (no left-to-right model can learn them):

  next-same      a/b/c; tag each 'y' when the next token is the same, else 'n' (the last 'n')
  next-token     x/y/z; tag each with the token after it ('-' for the last)
  suffix-parity  bits; tag each with the parity of the ones from it to the end

Usage: python benchmarks/own_tag_tasks.py TASK [SEED] (writes TASK/train.tsv, valid.tsv, test.tsv; env N_TRAIN
sets the training sequences)."""
import random, sys, os

def prefix_parity(s):
    p, out = 0, []
    for c in s:
        p ^= c == "1"; out.append(str(int(p)))
    return out

def count_mod3(s):
    v, out = 0, []
    for c in s:
        v = (v + (c == "a") - (c == "b")) % 3; out.append(str(v))
    return out

def delay2(s):
    return ["-" if t < 2 else s[t - 2] for t in range(len(s))]

def latch(s):
    cur, out = "none", []
    for c in s:
        if c in "abc": cur = c
        out.append(cur)
    return out

def running_max(s):
    out, m = [], "0"
    for c in s:
        m = max(m, c); out.append(m)
    return out

def next_same(s):
    return ["y" if t + 1 < len(s) and s[t + 1] == s[t] else "n" for t in range(len(s))]

def next_token(s):
    return [s[t + 1] if t + 1 < len(s) else "-" for t in range(len(s))]

def suffix_parity(s):
    return prefix_parity(s[::-1])[::-1]

TASKS = {"prefix-parity": ("01", prefix_parity), "count-mod3": ("abc", count_mod3),
         "delay2": ("xyz", delay2), "latch": ("abcdx", latch),
         "running-max": ("0123456789", running_max), "next-same": ("abc", next_same),
         "next-token": ("xyz", next_token), "suffix-parity": ("01", suffix_parity)}

def write(path, alpha, f, n, lo, hi, rng):
    with open(path, "w") as fh:
        fh.write("text\tlabel\n")
        for _ in range(n):
            s = [rng.choice(alpha) for _ in range(rng.randint(lo, hi))]
            fh.write(" ".join(s) + "\t" + " ".join(f(s)) + "\n")

name, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
alpha, f = TASKS[name]
rng = random.Random(seed)
os.makedirs(name, exist_ok=True)
write(f"{name}/train.tsv", alpha, f, int(os.environ.get("N_TRAIN", 4000)), 1, 40, rng)
write(f"{name}/valid.tsv", alpha, f, 400, 1, 40, rng)
write(f"{name}/test.tsv", alpha, f, 500, 41, 200, rng)
