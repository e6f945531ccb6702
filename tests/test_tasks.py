"""Each task's generator against an independent reference: brute force, Python's own arithmetic,
or the task's automaton written out state by state."""

import itertools
import re

import numpy as np
import pytest

from bptt.tasks import TASKS, make, parse_lengths


def _even_pairs(s):  # count the "ab" and "ba" substrings directly
    return int((sum(s[i:i + 2] in ("ab", "ba") for i in range(len(s) - 1))) % 2 == 0)


def _cycle(s):  # walk the cycle
    pos = 0
    for c in s:
        pos = (pos + {"0": 0, "1": 1, "2": -1}[c]) % 5
    return pos


def _ab_parity(s):  # the 4-state automaton: (parity, last symbol was a)
    parity, last_a = 0, False
    for c in s:
        if c == "b" and last_a:
            parity ^= 1
        last_a = c == "a"
    return parity


def _dyck1(s):  # delete "()" until none is left: balanced when nothing remains
    while "()" in s:
        s = s.replace("()", "")
    return int(s == "")


REFERENCE = {
    "parity": lambda s: s.count("1") % 2,
    "even-pairs": _even_pairs,
    "cycle-navigation": _cycle,
    "modular-arithmetic": lambda s: eval(s) % 5,  # Python's precedence and unary minus; digits 0-4 only
    "divisible3": lambda s: int(int(s, 2) % 3 == 0),
    "third-last": lambda s: int(s[-3]) if len(s) >= 3 else 0,
    "ab-parity": _ab_parity,
    "dyck1": _dyck1,
    "anbn": lambda s: int(re.fullmatch("a*b*", s) is not None and s.count("a") == s.count("b")),
    "majority": lambda s: int(s.count("1") > s.count("0")),
}
ALPHABET = {"parity": "01", "even-pairs": "ab", "cycle-navigation": "012", "modular-arithmetic": "01234+-*",
            "divisible3": "01", "third-last": "01", "ab-parity": "ab", "dyck1": "()", "anbn": "ab", "majority": "01"}


@pytest.mark.parametrize("task", sorted(REFERENCE))
def test_classify_tasks_match_their_reference(task):
    rows = make(task, (1, 30), 400, seed=7)
    assert TASKS[task].kind == "classify"
    lengths = set()
    for text, label in rows:
        assert set(text) <= set(ALPHABET[task]), text
        assert label in TASKS[task].labels
        assert int(label) == REFERENCE[task](text), (text, label)
        lengths.add(len(text))
    assert lengths == set(range(1, 31))  # every length in the range occurs, as asked
    counts = np.bincount([int(lb) for _, lb in rows])
    assert counts.min() > 0.5 * len(rows) / len(TASKS[task].labels) / 2  # no label is rare


def test_modular_arithmetic_every_string_of_length_3_and_4():
    """Exhaustive over small lengths: every expression the generator can make evaluates as Python does."""
    seen = set()
    for text, label in make("modular-arithmetic", (3, 4), 3000, seed=1):
        assert int(label) == eval(text) % 5
        seen.add(text)
    odd = {f"{a}{o}{b}" for a, o, b in itertools.product("01234", "+-*", "01234")}
    assert odd <= seen  # all 75 three-token expressions were drawn
    assert all(t.startswith("-") for t in seen if len(t) == 4)


def test_reverse_string_tags_the_reversed_bits():
    for text, tags in make("reverse-string", (1, 12), 100, seed=2):
        n = len(text) // 2
        bits, queries = text[:n], text[n:]
        assert queries == "=" * n and set(bits) <= {"0", "1"}
        assert tags.split() == ["_"] * n + list(bits[::-1])


def test_addition_matches_python_integers_and_reaches_10000_digits():
    for text, tags in make("addition", (1, 30), 200, seed=3):
        pairs = text.split()
        a = int("".join(p[0] for p in reversed(pairs)))
        b = int("".join(p[1] for p in reversed(pairs)))
        assert int("".join(reversed(tags.split()))) == a + b
    # far beyond Python's 4,300-digit int/str limit: checked digit by digit with the carry
    (text, tags), = make("addition", (10_000, 10_000), 1, seed=4)
    pairs, digits = text.split(), [int(d) for d in tags.split()]
    assert len(pairs) == len(digits) == 10_001
    carry = 0
    for p, d in zip(pairs, digits):
        s = int(p[0]) + int(p[1]) + carry
        assert d == s % 10
        carry = s // 10
    assert carry == 0


def test_parse_lengths_ranges_and_lists():
    assert parse_lengths("3") == [3]
    assert parse_lengths("1-4") == [1, 2, 3, 4]
    assert parse_lengths("41,60,100-102") == [41, 60, 100, 101, 102]
    for bad in ("0-3", "5-2", "a", "1-2-3", "", "1,,2"):
        with pytest.raises(ValueError, match="lengths"):
            parse_lengths(bad)
    rows = make("parity", [41, 60], 50, seed=0)
    assert {len(t) for t, _ in rows} == {41, 60}


def _tomita3(s):  # the runs written out: no odd run of 1s directly followed by an odd run of 0s
    runs = [(c, len(list(g))) for c, g in itertools.groupby(s)]
    return not any(a == "1" and b == "0" and la % 2 and lb % 2 for (a, la), (b, lb) in zip(runs, runs[1:]))


TOMITA = {  # each grammar's definition, independent of its automaton
    1: lambda s: set(s) <= {"1"},
    2: lambda s: re.fullmatch("(10)*", s) is not None,
    3: _tomita3,
    4: lambda s: "000" not in s,
    5: lambda s: s.count("0") % 2 == 0 and s.count("1") % 2 == 0,
    6: lambda s: (s.count("0") - s.count("1")) % 3 == 0,
    7: lambda s: re.fullmatch("0*1*0*1*", s) is not None,
}


@pytest.mark.parametrize("g", sorted(TOMITA))
def test_tomita_automata_and_examples_match_the_grammars(g):
    from bptt.tasks import tomita
    for n in range(11):  # the automaton on every string up to length 10
        for t in itertools.product("01", repeat=n):
            s = "".join(t)
            assert tomita.accepts(g, s) == TOMITA[g](s), s
    rows = make(f"tomita{g}", (1, 60), 600, seed=3)
    assert all(set(text) <= {"0", "1"} and label == str(int(TOMITA[g](text))) for text, label in rows)
    # the labels balanced, though uniform strings of these lengths are mostly "no"
    share = np.mean([label == "1" for _, label in rows])
    odd_only_no = g in (2, 5)  # (10)* and even counts have no string of odd length
    assert (0.18 < share < 0.32) if odd_only_no else (0.42 < share < 0.58), share
    long = make(f"tomita{g}", [3000], 4, seed=1)  # thousands of symbols: the proportions kept in logs
    assert all(len(t) == 3000 and label == str(int(TOMITA[g](t))) for t, label in long)


def test_tomita_strings_are_uniform_among_those_of_their_length_and_label():
    """Every accepted (and every rejected) string of length 6 of grammar 3 comes about equally often."""
    from collections import Counter
    rows = make("tomita3", [6], 20000, seed=5)
    for label in ("0", "1"):
        counts = Counter(text for text, y in rows if y == label)
        expected = sum(1 for t in itertools.product("01", repeat=6) if str(int(_tomita3("".join(t)))) == label)
        assert len(counts) == expected  # every string of the class appears
        mean = sum(counts.values()) / expected
        chi2 = sum((c - mean) ** 2 / mean for c in counts.values())
        assert chi2 < expected + 5 * np.sqrt(2 * expected), (label, chi2, expected)  # ~ chi-square, dof expected-1


def test_counting_languages_draw_members_uniformly_and_near_misses():
    """dyck1 and anbn: half the strings of each even length are members, every Dyck word of length 8
    comes about equally often (the cycle lemma's draw), and each non-member is a near miss: its
    counts differ by at most 2 (dyck1), or it is a*b* or has equal counts (anbn)."""
    from collections import Counter
    rows = make("dyck1", [8], 20000, seed=4)
    words = Counter(t for t, y in rows if y == "1")
    expected = sum(_dyck1("".join(t)) for t in itertools.product("()", repeat=8))
    assert expected == 14 and len(words) == 14  # the Catalan number C_4: every word appears
    mean = sum(words.values()) / expected
    assert abs(sum(words.values()) / len(rows) - 0.5) < 0.02
    assert sum((c - mean) ** 2 / mean for c in words.values()) < expected + 5 * np.sqrt(2 * expected)
    for text, label in make("dyck1", (1, 60), 2000, seed=5):
        if label == "0":
            assert abs(text.count("(") - text.count(")")) <= 2, text
    for text, label in make("anbn", (1, 60), 2000, seed=6):
        if label == "0":
            assert re.fullmatch("a*b*", text) or text.count("a") == text.count("b"), text
    long = make("dyck1", [5000], 6, seed=1)  # long strings: deep walks, drawn without recursion
    assert all(len(t) == 5000 and label == str(_dyck1(t)) for t, label in long)
