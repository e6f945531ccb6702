"""Classification tasks a user might bring, which bptt does not ship (a new-user try, 2026-12-01):
strings written as a user would (characters, no spaces), 3,000 training and 500 validation strings
of lengths 1-40 and 1,000 test strings of lengths 41-200.  ``SCRIPT=own_class_tasks.py
bash benchmarks/own_tag_tasks.sh`` trains on them with bptt's defaults and scores the test set.

  first-last  a/b/c/d; same when the first symbol is the last, else diff (memory over the whole string)
  latch       a/b/c/x (x three times as often); the last of a/b/c seen, none before one
  q-then-z    26 letters; yes when a q is followed later by a z (labels about balanced: half the
              strings get a q ... z planted, the other half lose every z after their first q)
  mod5        a/b; the number of a's mod 5 (five classes)
  cd-mod4     c/d/x; (the number of c's - the number of d's) mod 4, labels r0-r3 (a new user's try of
              2026-12-03: a counter that goes both ways)
  dec-mod7    a decimal number without leading zeros; its remainder mod 7, labels r0-r6 (a new user's try
              of stop 40: each digit maps the remainder r to 3r + d mod 7)
  sorted      decimal digits; sorted when no digit is below the one before it, else unsorted (a new user's
              try of stop 41: half the strings are sorted, the other half sorted with one pair of unequal
              neighbours swapped, so one step anywhere in the string decides)
  has-abc     a/b/c/d; yes when the string holds abc (a new user's try of 2026-12-04: half the strings of
              each split drawn until they hold it, half until they do not)

Usage: python benchmarks/own_class_tasks.py TASK [SEED] (writes TASK/train.tsv, valid.tsv, test.tsv; env
N_TRAIN sets the training strings, VALID=LO-HI and TEST=LO-HI the lengths of the validation and test
strings: VALID=41-80 TEST=81-200 validates on longer strings than the training ones; the training
strings do not depend on them)."""
import os
import random
import string
import sys


def first_last(s):
    return "same" if s[0] == s[-1] else "diff"


def latch(s):
    cur = "none"
    for c in s:
        if c in "abc":
            cur = c
    return cur


def q_then_z(s):
    i = s.find("q")
    return "yes" if i >= 0 and "z" in s[i + 1:] else "no"


def mod5(s):
    return str(s.count("a") % 5)


def cd_mod4(s):
    return f"r{(s.count('c') - s.count('d')) % 4}"


def dec_mod7(s):
    return f"r{int(s) % 7}"


def has_abc(s):
    return "yes" if "abc" in s else "no"


def sorted_digits(s):
    return "sorted" if all(a <= b for a, b in zip(s, s[1:])) else "unsorted"


TASKS = {"first-last": ("abcd", first_last), "latch": ("abcxxx", latch),
         "q-then-z": (string.ascii_lowercase, q_then_z), "mod5": ("ab", mod5),
         "cd-mod4": ("cdx", cd_mod4), "dec-mod7": ("0123456789", dec_mod7),
         "sorted": ("0123456789", sorted_digits), "has-abc": ("abcd", has_abc)}


def sample(name, alpha, f, lo, hi, rng):
    s = "".join(rng.choice(alpha) for _ in range(rng.randint(lo, hi)))
    if name == "dec-mod7":
        return rng.choice("123456789") + s[1:]  # no leading zero
    if name == "sorted":
        d = sorted(s)
        swaps = [i for i in range(len(d) - 1) if d[i] != d[i + 1]]
        if swaps and rng.random() < 0.5:  # an unsorted one: one pair of unequal neighbours swapped
            i = rng.choice(swaps)
            d[i], d[i + 1] = d[i + 1], d[i]
        return "".join(d)
    if name == "has-abc":  # as many yes as no: drawn again until it is what the coin says
        want = "yes" if rng.random() < 0.5 else "no"
        while f(s) != want:
            s = "".join(rng.choice(alpha) for _ in range(rng.randint(lo, hi)))
        return s
    if name != "q-then-z":
        return s
    if rng.random() < 0.5:  # a yes: plant a q ... z where there is none
        if len(s) >= 2 and f(s) == "no":
            i = rng.randrange(len(s) - 1)
            j = rng.randrange(i + 1, len(s))
            s = s[:i] + "q" + s[i + 1:j] + "z" + s[j + 1:]
        return s
    i = s.find("q")  # a no: every z after the first q becomes another letter
    other = alpha.replace("q", "").replace("z", "")
    return s if i < 0 else s[:i + 1] + "".join(rng.choice(other) if c == "z" else c for c in s[i + 1:])


def write(path, name, n, lo, hi, rng):
    alpha, f = TASKS[name]
    with open(path, "w") as fh:
        for _ in range(n):
            s = sample(name, alpha, f, lo, hi, rng)
            fh.write(f"{s}\t{f(s)}\n")


if __name__ == "__main__":
    name, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    rng = random.Random(seed)
    os.makedirs(name, exist_ok=True)
    n_train = int(os.environ.get("N_TRAIN", 3000))
    valid = [int(x) for x in os.environ.get("VALID", "1-40").split("-")]
    test = [int(x) for x in os.environ.get("TEST", "41-200").split("-")]
    for split, n, lo, hi in (("train", n_train, 1, 40), ("valid", 500, *valid), ("test", 1000, *test)):
        write(f"{name}/{split}.tsv", name, n, lo, hi, rng)
