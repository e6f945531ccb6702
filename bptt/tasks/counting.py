"""Counting languages: sequences that no finite automaton classifies at every length, so that a
model must keep a count (Weiss, Goldberg & Yahav 2018, "On the Practical Computational Power of
Finite Precision RNNs for Language Recognition": an LSTM can count, the tutorial's cell with a
saturating ``f_s`` cannot past the counts it was trained on).

* ``dyck1`` -- alphabet ``()``; label ``1`` when the brackets are balanced (Dyck-1: the depth
  never falls below 0 and ends at 0).  One counter.
* ``anbn`` -- alphabet ``ab``; label ``1`` when the string is ``a^n b^n``.  One counter and an
  order (every ``a`` before every ``b``).
* ``majority`` -- alphabet ``01``; label ``1`` when there are more ones than zeros (a tie is
  ``0``).  One counter, uniform strings.

Balanced strings are few among uniform ones (none of odd length), so ``dyck1`` and ``anbn``
draw each example's label first, each with probability 1/2 where the length has strings of
both (as the Tomita grammars do), then a string of that label: a member drawn uniformly among
the members of that length, or a *near miss*, which only a count tells from a member:

* ``dyck1``: a uniform balanced string with one bracket flipped (the counts differ by 2), or two
  brackets swapped so that the depth falls below 0 (the counts agree); at an odd length, a
  balanced string of one symbol fewer with one bracket put in anywhere.
* ``anbn``: ``a^k b^(L-k)`` with ``k != L - k`` (the order right, the count wrong), or, at even
  lengths, ``a^n b^n`` with one ``a`` and one ``b`` swapped (the count right, the order wrong).
"""

from __future__ import annotations

import numpy as np


def balanced(text: str) -> bool:
    """Whether ``text`` (over ``()``) is a Dyck-1 word: its depth never below 0, and 0 at the end."""
    steps = np.frombuffer(text.encode("ascii"), np.uint8) == ord("(")
    depth = np.cumsum(np.where(steps, 1, -1))
    return bool(depth.size == 0 or (depth.min() >= 0 and depth[-1] == 0))


def dyck_word(rng: np.random.Generator, L: int) -> np.ndarray:
    """A Dyck-1 word of even length ``L`` drawn uniformly among all of them, as steps ``+1`` for
    ``(`` and ``-1`` for ``)``.  By the cycle lemma: of the rotations of a sequence of ``L/2`` up
    steps and ``L/2 + 1`` down steps, exactly one keeps every partial sum >= 0 until its last
    step, the one that starts after the first lowest point; that rotation less its last step is
    a Dyck word, and each word comes from the same number of sequences."""
    m = L // 2
    s = np.array([1] * m + [-1] * (m + 1), dtype=np.int64)
    rng.shuffle(s)
    low = int(np.argmin(np.cumsum(s)))  # the first lowest point
    return np.roll(s, -(low + 1))[:-1]


def _text(steps: np.ndarray) -> str:
    return "".join("(" if v > 0 else ")" for v in steps.tolist())


def _dyck1(rng, L):
    if L % 2 == 0 and rng.random() < 0.5:
        return _text(dyck_word(rng, L)), "1"
    while True:
        if L % 2:  # a balanced word of L - 1 with one bracket put in: never balanced
            w = list(dyck_word(rng, L - 1))
            w.insert(int(rng.integers(0, L)), 1 if rng.random() < 0.5 else -1)
            s = np.array(w)
        elif rng.random() < 0.5:  # one bracket flipped: the counts differ by 2
            s = dyck_word(rng, L)
            s[int(rng.integers(0, L))] *= -1
        else:  # a ")" moved before an earlier "(": the counts agree, the depth falls below 0 (or not: drawn again)
            s = dyck_word(rng, L)
            i, j = sorted(rng.choice(L, size=2, replace=False).tolist())
            s[i], s[j] = s[j], s[i]
        text = _text(s)
        if not balanced(text):
            return text, "0"


def _anbn(rng, L):
    if L % 2 == 0 and rng.random() < 0.5:
        return "a" * (L // 2) + "b" * (L // 2), "1"
    if L % 2 == 0 and rng.random() < 0.5:  # the count right, the order wrong: one a and one b swapped
        s = ["a"] * (L // 2) + ["b"] * (L // 2)
        i, j = int(rng.integers(0, L // 2)), int(rng.integers(L // 2, L))
        s[i], s[j] = s[j], s[i]
        return "".join(s), "0"
    k = int(rng.integers(0, L + 1))
    while 2 * k == L:  # the order right, the count wrong
        k = int(rng.integers(0, L + 1))
    return "a" * k + "b" * (L - k), "0"


def _majority(rng, L):
    bits = rng.integers(0, 2, size=L)
    ones = int(bits.sum())
    return "".join("01"[int(b)] for b in bits.tolist()), str(int(2 * ones > L))
