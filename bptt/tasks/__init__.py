"""Tasks bptt can make: sequences whose rule a recurrent net can carry to any length.

Each task is a formal language or a small algorithm.  The *length* of an
example is the number of symbols read (digits per number for ``addition``,
symbols of the string for ``reverse-string``).  Symbols are single characters
written without spaces (``bptt train`` reads such files character by
character), except ``addition``'s digit pairs, which are space separated.

Regular tier of Delétang et al., "Neural Networks and the Chomsky Hierarchy"
(ICLR 2023), where a finite automaton suffices:

* ``parity`` -- alphabet ``01``; label ``1`` when the count of ones is odd.
  The automaton remembers one bit.
* ``even-pairs`` -- alphabet ``ab``; label ``1`` when the number of ``ab`` and
  ``ba`` pairs of neighbours is even, which holds exactly when the first and
  the last symbol are equal.  The automaton remembers the first symbol
  (2 states after the first step, 1 bit: "is the current symbol the first one").
* ``cycle-navigation`` -- alphabet ``012`` (``0`` stay, ``1`` one step
  forward, ``2`` one step back) on a cycle of 5 positions starting at
  position 0; label: the final position ``0``-``4``.  5 states.
* ``modular-arithmetic`` -- the paper's "simple" variant: numbers ``0``-``4``
  and operators ``+ - *`` alternating, e.g. ``3+4*2-1``; ``*`` binds tighter
  than ``+`` and ``-`` (``3+4*2-1`` is ``3 + 8 - 1``), and everything is
  taken modulo 5.  An expression of even length starts with a unary minus
  (``-3*2+1`` is ``(-3)*2 + 1``), so every length exists.  Label: the value
  ``0``-``4``.  The automaton remembers the sum of the finished terms and the
  product of the open one with its sign (25 states, times whether a number or
  an operator comes next).

Regular languages of bptt's own:

* ``divisible3`` -- a binary number, most significant bit first; label ``1``
  when it is divisible by 3.  The automaton remembers the remainder (3 states).
* ``third-last`` -- alphabet ``01``; label: the third symbol from the end
  (``0`` for strings shorter than 3).  The automaton remembers the last three
  symbols (8 states): a fixed-distance memory, not a count.
* ``ab-parity`` -- alphabet ``ab``; label ``1`` when ``ab`` occurs an odd
  number of times as a pair of neighbours.  The automaton remembers that
  parity and whether the last symbol was ``a`` (4 states).

The seven Tomita grammars (Tomita 1982; :mod:`bptt.tasks.tomita`), ``tomita1`` ... ``tomita7``:
strings over ``01``, label ``1`` when the string is in the language (``1*``; ``(10)*``; no odd
run of 1s directly followed by an odd run of 0s; no ``000``; even counts of 0s and of 1s;
#0 - #1 divisible by 3; ``0*1*0*1*``).  Unlike the tasks above, their examples are drawn by
label, each with probability 1/2 (or the only one a length has), and then uniformly among the
strings of that length and label: most of these languages are all "no" among uniform strings.

Counting languages (:mod:`bptt.tasks.counting`), which no finite automaton decides at every
length: ``dyck1`` (balanced brackets ``()``), ``anbn`` (``a^n b^n``) and ``majority`` (more ones
than zeros).  ``dyck1`` and ``anbn`` draw their labels balanced, as the Tomita grammars do, and
their non-members are near misses that only a count tells apart.

Beyond the regular tier:

* ``addition`` -- the tutorial's example.  Two decimal numbers of N digits,
  fed as aligned digit pairs least significant first (token ``"37"`` = digits
  3 and 7), one step per digit position plus one for the final carry; the
  target at each step is the sum's digit there (``tag``).  The automaton
  remembers the carry (2 states).  Any N works (no conversion to Python
  integers).
* ``reverse-string`` -- context-free (the paper's RNN reaches 62.0%): a binary
  string of N symbols, then N ``=`` symbols; the tags are ``_`` while reading
  and then the string reversed.  An automaton cannot do it for every N: it
  needs a stack of N symbols.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import counting, tomita


@dataclass(frozen=True)
class Task:
    name: str
    kind: str  # "classify" or "tag"
    labels: tuple  # every label (classify) or tag (tag) the task can give
    summary: str  # one line for --help
    example: Callable  # (rng, length) -> (text, target)


def _bits(rng, L, alphabet="01"):
    sym = rng.integers(0, len(alphabet), size=L)
    return sym, "".join(alphabet[int(v)] for v in sym)


def _parity(rng, L):
    bits, text = _bits(rng, L)
    return text, str(int(bits.sum()) % 2)


def _even_pairs(rng, L):
    sym, text = _bits(rng, L, "ab")
    changes = int(np.count_nonzero(sym[1:] != sym[:-1]))  # each "ab" or "ba" pair is one change of symbol
    return text, str(int(changes % 2 == 0))


def _cycle_navigation(rng, L):
    moves, text = _bits(rng, L, "012")
    step = np.array([0, 1, -1])[moves]
    return text, str(int(step.sum()) % 5)


def _modular_arithmetic(rng, L):
    n_numbers = (L + 1) // 2
    numbers = rng.integers(0, 5, size=n_numbers)
    ops = rng.integers(0, 3, size=n_numbers - 1)
    total, term = 0, (-1 if L % 2 == 0 else 1) * int(numbers[0])
    for op, v in zip(ops, numbers[1:]):
        sym = "+-*"[int(op)]
        if sym == "*":
            term = term * int(v) % 5
        else:
            total = (total + term) % 5
            term = int(v) if sym == "+" else -int(v)
    text = ("-" if L % 2 == 0 else "") + str(int(numbers[0])) + "".join("+-*"[int(o)] + str(int(v)) for o, v in zip(ops, numbers[1:]))
    return text, str((total + term) % 5)


def _divisible3(rng, L):
    bits, text = _bits(rng, L)
    r = 0
    for b in bits:  # the automaton itself: no big integers
        r = (2 * r + int(b)) % 3
    return text, str(int(r == 0))


def _third_last(rng, L):
    _, text = _bits(rng, L)
    return text, text[-3] if L >= 3 else "0"


def _ab_parity(rng, L):
    sym, text = _bits(rng, L, "ab")
    return text, str(int(np.count_nonzero((sym[:-1] == 0) & (sym[1:] == 1))) % 2)


def _digits(rng, L):
    return rng.integers(0, 10, size=L)[::-1]  # drawn most significant first, returned least significant first


def addition_digits(a: np.ndarray, b: np.ndarray) -> tuple[str, str]:
    """The aligned digit-pair sequence of two numbers given as digit arrays, least significant
    first and of equal length N, and its N + 1 sum digits (one step more for the final carry)."""
    a, b = np.append(np.asarray(a, np.int64), 0), np.append(np.asarray(b, np.int64), 0)
    out, carry = np.empty(len(a), np.int64), 0
    for i, s in enumerate((a + b).tolist()):
        s += carry
        out[i], carry = s % 10, s // 10
    return " ".join(f"{x}{y}" for x, y in zip(a.tolist(), b.tolist())), " ".join(map(str, out.tolist()))


def addition_example(a: int, b: int, n_digits: int) -> tuple[str, str]:
    """The aligned digit-pair sequence of ``a + b`` (Python ints, at most ``n_digits`` digits) and
    its per-step sum digits."""
    def digits(v):
        return [int(c) for c in str(v).zfill(n_digits)[::-1]]
    return addition_digits(digits(a), digits(b))


def _addition(rng, L):
    return addition_digits(_digits(rng, L), _digits(rng, L))


def _reverse_string(rng, L):
    _, text = _bits(rng, L)
    return text + "=" * L, " ".join(["_"] * L + list(text[::-1]))


TASKS = {t.name: t for t in (
    Task("addition", "tag", tuple("0123456789"), "aligned digit pairs, least significant first; tag the sum digits",
         _addition),
    Task("parity", "classify", ("0", "1"), "bits; 1 when the count of ones is odd", _parity),
    Task("even-pairs", "classify", ("0", "1"), "a/b string; 1 when the ab and ba pairs are even in number",
         _even_pairs),
    Task("cycle-navigation", "classify", tuple("01234"),
         "moves 0 stay, 1 forward, 2 back on a 5-cycle from 0; the final position", _cycle_navigation),
    Task("modular-arithmetic", "classify", tuple("01234"),
         "numbers 0-4 with + - * (* binds tighter; even lengths start with a unary minus); the value mod 5",
         _modular_arithmetic),
    Task("divisible3", "classify", ("0", "1"), "a binary number, most significant bit first; 1 when divisible by 3",
         _divisible3),
    Task("third-last", "classify", ("0", "1"), "bits; the third bit from the end (0 when shorter)", _third_last),
    Task("ab-parity", "classify", ("0", "1"), "a/b string; 1 when 'ab' occurs an odd number of times", _ab_parity),
    Task("reverse-string", "tag", ("_", "0", "1"), "bits then as many '='; tag the bits reversed (context-free)",
         _reverse_string),
    Task("dyck1", "classify", ("0", "1"), "brackets (); 1 when balanced (counting; labels balanced, near misses)",
         counting._dyck1),
    Task("anbn", "classify", ("0", "1"), "a/b string; 1 when a^n b^n (counting; labels balanced, near misses)",
         counting._anbn),
    Task("majority", "classify", ("0", "1"), "bits; 1 when more ones than zeros (counting)", counting._majority),
) + tuple(
    Task(f"tomita{g}", "classify", ("0", "1"), f"Tomita grammar {g}, {text}; 1 when in it (labels balanced)",
         functools.partial(tomita.example, g))
    for g, text in ((1, "1*"), (2, "(10)*"), (3, "no odd run of 1s then an odd run of 0s"), (4, "no 000"),
                    (5, "even 0s and even 1s"), (6, "#0 - #1 divisible by 3"), (7, "0*1*0*1*"))
)}


def parse_lengths(text: str) -> list[int]:
    """``"A-B"`` (every length from A to B), ``"A"``, or a comma list of those
    (``"41,60,100-102"``) -> sorted distinct lengths, each >= 1."""
    out = set()
    for part in str(text).split(","):
        try:
            bounds = [int(p) for p in part.strip().split("-")]
            if len(bounds) > 2:
                raise ValueError
        except ValueError:
            raise ValueError(f"lengths={text!r} must look like A-B (e.g. 1-20), A, or a comma list of those") from None
        lo, hi = bounds[0], bounds[-1]
        if lo < 1 or hi < lo:
            raise ValueError(f"lengths={text!r}: each range A-B needs 1 <= A <= B, got {part.strip()!r}")
        if hi - lo > 10_000_000:
            raise ValueError(f"lengths={text!r}: the range {part.strip()!r} is too wide")
        out.update(range(lo, hi + 1))
    return sorted(out)


def make(task: str, lengths, n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` examples of ``task`` as ``(text, target)`` rows, each length drawn uniformly from
    ``lengths`` (a list of lengths, or an inclusive ``(lo, hi)`` pair)."""
    return list(iter_examples(task, lengths, n, seed))


def iter_examples(task: str, lengths, n: int, seed: int):
    """:func:`make`'s rows one at a time (the same rows for the same arguments), so that a large
    ``n`` is written as it is drawn instead of held in memory.  The arguments are checked on the
    call, before the first row."""
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not known; choose one of {sorted(TASKS)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(lengths, tuple) and len(lengths) == 2:
        lengths = range(int(lengths[0]), int(lengths[1]) + 1)
    lengths = np.asarray(list(lengths), dtype=np.int64)
    if lengths.size == 0 or lengths.min() < 1:
        raise ValueError(f"lengths must be positive integers, got {lengths.tolist()[:10]}")
    rng = np.random.default_rng(seed)
    example = TASKS[task].example
    return (example(rng, int(lengths[rng.integers(0, len(lengths))])) for _ in range(n))


def estimated_bytes(task: str, lengths, n: int) -> int:
    """About how many bytes :func:`make`'s ``n`` rows take as TSV: a few rows drawn at a short and a
    longer length give the bytes per row and per symbol, scaled to the mean of ``lengths``."""
    lengths = np.asarray(list(lengths), dtype=np.int64)
    rng = np.random.default_rng(0)
    lo, hi = 1, 64
    size = {L: sum(len(s) + len(t) + 2 for s, t in (TASKS[task].example(rng, L) for _ in range(8))) / 8
            for L in (lo, hi)}
    per_symbol = (size[hi] - size[lo]) / (hi - lo)
    return int(n * (size[lo] + per_symbol * (float(lengths.mean()) - lo)))
