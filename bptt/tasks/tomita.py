"""The seven Tomita grammars (Tomita 1982), the classic test of recurrent nets on regular languages.

Strings over ``01``; label ``1`` when the string is in the language:

1. ``1*``
2. ``(10)*``
3. no odd-length run of 1s directly followed by an odd-length run of 0s
4. no ``000``
5. an even number of 0s and an even number of 1s
6. the number of 0s minus the number of 1s divisible by 3
7. ``0*1*0*1*``

Under uniform strings most of these languages are all "no" at long lengths (one string of
each length is in ``1*``), so each example first draws its label (each with probability 1/2,
or the other one where a length has strings of only one kind: ``(10)*`` has none of odd length),
then a string uniformly among the strings of that length with that label.  That takes the
fraction of accepted strings of each length from each automaton state, kept as logarithms so
that lengths of many thousands stay exact in their proportions.
"""

from __future__ import annotations

import numpy as np

DEAD = -1
# grammar -> (transitions: state -> (next on "0", next on "1"), accepting states); state 0 starts
AUTOMATA = {
    1: ({0: (DEAD, 0)}, {0}),
    2: ({0: (DEAD, 1), 1: (0, DEAD)}, {0}),
    # 0: no pending run; 1: odd run of 1s; 2: even run of 1s; 3: odd 1s then odd 0s; 4: odd 1s then even 0s
    3: ({0: (0, 1), 1: (3, 2), 2: (0, 1), 3: (4, DEAD), 4: (3, 1)}, {0, 1, 2, 4}),
    4: ({0: (1, 0), 1: (2, 0), 2: (DEAD, 0)}, {0, 1, 2}),  # the trailing 0s so far
    5: ({0: (1, 2), 1: (0, 3), 2: (3, 0), 3: (2, 1)}, {0}),  # (parity of 0s, parity of 1s)
    6: ({0: (1, 2), 1: (2, 0), 2: (0, 1)}, {0}),  # (#0 - #1) mod 3
    7: ({0: (0, 1), 1: (2, 1), 2: (2, 3), 3: (DEAD, 3)}, {0, 1, 2, 3}),  # which block of 0*1*0*1*
}


def accepts(grammar: int, text: str) -> bool:
    """Whether the automaton of ``grammar`` accepts ``text`` (a string over ``01``)."""
    delta, accept = AUTOMATA[grammar]
    q = 0
    for ch in text:
        q = delta[q][ch == "1"]
        if q == DEAD:
            return False
    return q in accept


_TABLES: dict = {}  # grammar -> the table below for the longest length asked so far (shorter ones are its rows)


def _log_accepted(grammar: int, length: int) -> np.ndarray:
    """``[>= length + 1, states + 1]``: row k, the log of the fraction of the strings of k more
    symbols that end accepted, from each state (the last column: the dead state, ``-inf``)."""
    table = _TABLES.get(grammar)
    if table is not None and len(table) > length:
        return table
    delta, accept = AUTOMATA[grammar]
    n = len(delta)
    nxt = np.array([[n if t == DEAD else t for t in delta[q]] for q in range(n)] + [[n, n]])  # [states + 1, 2]
    rows = max(length + 1, 2 * (len(table) if table is not None else 64))
    table = np.full((rows, n + 1), -np.inf)
    table[0, list(accept)] = 0.0
    for k in range(1, rows):
        prev = table[k - 1]
        table[k] = np.logaddexp(prev[nxt[:, 0]], prev[nxt[:, 1]]) - np.log(2.0)  # the mean over the next symbol
    _TABLES[grammar] = table
    return table


def _log_rejected(log_acc):
    """log(1 - exp(log_acc)), elementwise: the fraction that ends rejected."""
    with np.errstate(divide="ignore"):
        return np.where(log_acc > -0.693, np.log(-np.expm1(log_acc)), np.log1p(-np.exp(log_acc)))


def example(grammar: int, rng: np.random.Generator, length: int) -> tuple[str, str]:
    """One ``(text, label)`` of ``length`` symbols: the label ``1``/``0`` drawn first (either with
    probability 1/2, or the only one the length has), then the string uniformly among those of
    that length with that label."""
    delta, _ = AUTOMATA[grammar]
    table = _log_accepted(grammar, length)
    p_in = float(np.exp(table[length, 0]))
    want = bool(rng.integers(0, 2))
    if p_in == 0.0:
        want = False
    elif p_in == 1.0:
        want = True
    q, out = 0, []
    for k in range(length, 0, -1):
        logw = []
        for t in delta[q]:  # log of the share of the wanted label among the strings after each symbol
            if t == DEAD:
                logw.append(-np.inf if want else 0.0)
            else:
                logw.append(float(table[k - 1][t]) if want else float(_log_rejected(table[k - 1][t])))
        if logw[1] == -np.inf:
            p1 = 0.0
        elif logw[0] == -np.inf:
            p1 = 1.0
        else:
            p1 = 1.0 / (1.0 + np.exp(min(logw[0] - logw[1], 700.0)))  # P(next symbol is 1 | the wanted label)
        sym = int(rng.random() < p1)
        out.append("01"[sym])
        q = delta[q][sym]
        if q == DEAD:  # rejected whatever follows: the rest is uniform
            out.extend("01"[int(b)] for b in rng.integers(0, 2, size=k - 1))
            break
    return "".join(out), "1" if want else "0"
