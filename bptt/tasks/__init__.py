"""Tasks bptt can make: sequences whose rule a recurrent net can carry to any length.

* ``addition`` -- the tutorial's example.  Two decimal numbers of up to N
  digits, fed as aligned digit pairs least significant first (token ``"37"``
  = digits 3 and 7), one step per digit position plus one for the final
  carry; the target at each step is the sum's digit there (``tag``).
* ``parity`` -- a string of bits; the label is 1 when the count of ones is odd
  (``classify``).
* ``divisible3`` -- a binary number, most significant bit first; the label is
  1 when it is divisible by 3 (``classify``; a three-state automaton).
"""

from __future__ import annotations

import numpy as np

TASKS = {  # name -> (bptt task kind, character-level tokens?)
    "addition": ("tag", False),
    "parity": ("classify", True),
    "divisible3": ("classify", True),
}


def parse_lengths(text: str) -> tuple[int, int]:
    """``"A-B"`` or ``"A"`` -> (A, B) with 1 <= A <= B."""
    try:
        parts = [int(p) for p in str(text).split("-")]
        lo, hi = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])
        if len(parts) > 2:
            raise ValueError
    except ValueError:
        raise ValueError(f"lengths={text!r} must look like A-B (e.g. 1-20) or A") from None
    if lo < 1 or hi < lo:
        raise ValueError(f"lengths={text!r} needs 1 <= A <= B")
    return lo, hi


def addition_example(a: int, b: int, n_digits: int) -> tuple[str, str]:
    """The aligned digit-pair sequence of ``a + b`` and its per-step sum digits."""
    da = str(a).zfill(n_digits)[::-1] + "0"  # least significant first, one extra step for the carry
    db = str(b).zfill(n_digits)[::-1] + "0"
    ds = str(a + b).zfill(n_digits + 1)[::-1]
    return " ".join(x + y for x, y in zip(da, db)), " ".join(ds)


def make(task: str, lengths: tuple[int, int], n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` examples of ``task`` with lengths (digits or bits) uniform in ``lengths``, as (text, target)."""
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not known; choose one of {sorted(TASKS)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    lo, hi = lengths
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        L = int(rng.integers(lo, hi + 1))
        if task == "addition":
            a = int("".join(str(d) for d in rng.integers(0, 10, size=L)))
            b = int("".join(str(d) for d in rng.integers(0, 10, size=L)))
            rows.append(addition_example(a, b, L))
        else:
            bits = rng.integers(0, 2, size=L)
            text = "".join(str(int(v)) for v in bits)
            if task == "parity":
                label = int(bits.sum()) % 2
            else:
                label = int(int(text, 2) % 3 == 0)
            rows.append((text, str(label)))
    return rows
