"""Regular languages nobody chose: random automata, trained at lengths 1-40, tested at 41-200.

A user's own regular-language task is the first thing bptt's defaults meet, and the tasks bptt
ships are ones its defaults were measured on.  This draws languages at random instead: for each
``--dfa`` seed, a deterministic finite automaton over 2-3 letters (``--letters``) with 3-6 states, each state
reachable and the automaton minimal (so it has exactly that many states), whose language keeps
both answers common at every length (at least 25% of the rarer one among uniform strings of
lengths 10, 11 and each test length: no sink state that makes long strings all "no").  Data: 3,000 (``--n-train``) training and
500 validation strings of lengths 1-40, and 400 test strings at lengths 41, 60, 100 and 200
(100 each); every file has as many "yes" as "no" labels.  Each run is ``bptt train`` with only
``--data --valid --task classify --out --seed --max-time --quiet`` plus a config's arguments
(benchmarks/lengths.py's ``run_one``); the score is the whole-sequence accuracy at the test
lengths of the model kept on validation.

    python benchmarks/random_regular.py --dfas 0 1 2 3 4 5 6 7 --config rnn= --config lstm="--cell lstm"
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lengths import run_all  # noqa: E402

TEST_LENGTHS = (41, 60, 100, 200)


def minimal_size(delta, accept, alphabet):
    """Number of states of the minimal automaton (Moore's partition refinement)."""
    n = len(delta)
    part = [int(q in accept) for q in range(n)]
    while True:
        sig = [(part[q], tuple(part[delta[q][a]] for a in range(alphabet))) for q in range(n)]
        ids = {s: i for i, s in enumerate(sorted(set(sig)))}
        new = [ids[s] for s in sig]
        if len(set(new)) == len(set(part)):
            return len(set(new))
        part = new


def reachable(delta, alphabet):
    seen, todo = {0}, [0]
    while todo:
        q = todo.pop()
        for a in range(alphabet):
            if delta[q][a] not in seen:
                seen.add(delta[q][a])
                todo.append(delta[q][a])
    return len(seen)


def accepts(dfa, s):
    delta, accept = dfa["delta"], dfa["accept"]
    q = 0
    for ch in s:
        q = delta[q][ord(ch) - 97]
    return q in accept


LETTERS = "abcdefgh"


def draw_dfa(seed: int, letters: tuple = (2, 3)) -> dict:
    """The first automaton of a seeded stream that meets the conditions of the module's docstring,
    over as many letters as one of ``letters`` (``--letters``)."""
    r = random.Random(seed)
    while True:
        alphabet, n = r.choice(letters), r.randint(3, 6)
        delta = [[r.randrange(n) for _ in range(alphabet)] for _ in range(n)]
        accept = {q for q in range(n) if r.random() < 0.5}
        if not 0 < len(accept) < n or reachable(delta, alphabet) < n or minimal_size(delta, accept, alphabet) < n:
            continue
        dfa = {"alphabet": alphabet, "delta": delta, "accept": accept}
        if balanced(dfa, r):
            return dfa


def draw_product(seed: int) -> dict:
    """Two small random languages (2-3 states each, over the same 2-3 letters) joined by AND, OR or
    XOR, as a user writes a rule ("an even number of c's XOR contains ab"): the product automaton,
    minimal with at least 4 states, under the same balance conditions as :func:`draw_dfa`."""
    r = random.Random(10_000 + seed)
    while True:
        alphabet = r.choice((2, 3))
        parts = []
        for _ in range(2):
            n = r.randint(2, 3)
            delta = [[r.randrange(n) for _ in range(alphabet)] for _ in range(n)]
            accept = {q for q in range(n) if r.random() < 0.5}
            parts.append((n, delta, accept))
        op = r.choice(("and", "or", "xor"))
        (n1, d1, a1), (n2, d2, a2) = parts
        if any(not 0 < len(a) < n or reachable(d, alphabet) < n or minimal_size(d, a, alphabet) < n
               for n, d, a in parts):
            continue
        delta = [[d1[q // n2][a] * n2 + d2[q % n2][a] for a in range(alphabet)] for q in range(n1 * n2)]
        both = {q for q in range(n1 * n2) if {"and": (q // n2 in a1) and (q % n2 in a2),
                                               "or": (q // n2 in a1) or (q % n2 in a2),
                                               "xor": (q // n2 in a1) != (q % n2 in a2)}[op]}
        if reachable(delta, alphabet) < n1 * n2 or minimal_size(delta, both, alphabet) < 4:
            continue
        dfa = {"alphabet": alphabet, "delta": delta, "accept": both, "op": op}
        if balanced(dfa, r):
            return dfa


def balanced(dfa, r) -> bool:
    for length in (10, 11, *TEST_LENGTHS):  # lengths of both parities and every residue mod 3
        yes = sum(accepts(dfa, "".join(r.choice(LETTERS[:dfa["alphabet"]]) for _ in range(length))) for _ in range(400))
        if not 0.25 <= yes / 400 <= 0.75:
            return False
    return True


def write(dfa, path, n, lengths, seed):
    """n strings with lengths drawn from ``lengths``, half accepted; per length when several."""
    r = random.Random(seed)
    letters = LETTERS[:dfa["alphabet"]]
    rows, want = [], {True: n // 2, False: n - n // 2}
    per = {length: {True: 0, False: 0} for length in lengths}
    cap = None if len(lengths) > 10 else {True: n // len(lengths) // 2, False: n // len(lengths) // 2}
    for _ in range(10_000 * n):
        if len(rows) == n:
            break
        length = r.choice(lengths)
        s = "".join(r.choice(letters) for _ in range(length))
        y = accepts(dfa, s)
        if want[y] == 0 or (cap and per[length][y] >= cap[y]):
            continue
        want[y] -= 1
        per[length][y] += 1
        rows.append(f"{s}\t{'yes' if y else 'no'}\n")
    else:
        raise RuntimeError(f"could not balance {path}")
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        f.writelines(rows)


def make_data(dfa_seed: int, root: str, kind: str = "random", n_train: int = 3000, letters: tuple = (2, 3)) -> dict:
    dfa = draw_dfa(dfa_seed, letters) if kind == "random" else draw_product(dfa_seed)
    d = os.path.join(root, f"{kind}{dfa_seed}")
    os.makedirs(d, exist_ok=True)
    paths = {"kind": "classify", "dfa": dfa}
    for name, n, lengths, seed in (("train", n_train, range(1, 41), 1), ("valid", 500, range(1, 41), 2),
                                   ("test", 400, TEST_LENGTHS, 3)):
        paths[name] = os.path.join(d, f"{name}.tsv")
        write(dfa, paths[name], n, list(lengths), dfa_seed * 10 + seed)
    return paths


def describe(dfa) -> str:
    letters = LETTERS[:dfa["alphabet"]]
    table = " ".join(f"{q}{'*' if q in dfa['accept'] else ''}:" + ",".join(f"{a}>{dfa['delta'][q][i]}"
                                                                            for i, a in enumerate(letters))
                     for q in range(len(dfa["delta"])))
    op = f"the product of two languages joined by {dfa['op'].upper()}, " if "op" in dfa else ""
    return f"{op}{len(dfa['delta'])} states over {letters} (start 0, * accepts): {table}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dfas", nargs="+", type=int, default=list(range(8)), help="automaton seeds")
    ap.add_argument("--kind", choices=("random", "product"), default="random",
                    help="random: one random automaton; product: two small ones joined by AND, OR or XOR")
    ap.add_argument("--n-train", type=int, default=3000, help="training strings per language")
    ap.add_argument("--letters", nargs="+", type=int, default=[2, 3],
                    help="--kind random: the automaton's alphabet has one of these sizes (letters a, b, c, ...)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0], help="training seeds")
    ap.add_argument("--max-time", type=float, default=120)
    ap.add_argument("--config", action="append", default=None, metavar="NAME=ARGS")
    ap.add_argument("--jobs", type=int, default=None)
    a = ap.parse_args(argv)
    configs = [c.split("=", 1) if "=" in c else (c, "") for c in (a.config or ["defaults="])]
    jobs = a.jobs or os.cpu_count() or 1
    threads = max(1, (os.cpu_count() or 1) // jobs)
    root = tempfile.mkdtemp(prefix="bptt-random-regular-")
    if not all(2 <= n <= len(LETTERS) for n in a.letters):
        ap.error(f"--letters: sizes from 2 to {len(LETTERS)}, got {a.letters}")
    data = {k: make_data(k, root, a.kind, a.n_train, tuple(a.letters)) for k in a.dfas}
    print(f"python benchmarks/random_regular.py {' '.join(map(shlex.quote, argv if argv is not None else sys.argv[1:]))}")
    for k in a.dfas:
        print(f"dfa {k}: {describe(data[k]['dfa'])}")
    runs = [(name, k, s, extra) for k in a.dfas for s in a.seeds for name, extra in configs]
    print(f"{len(runs)} runs, {jobs} at a time ({threads} thread(s) each), --max-time {a.max_time:g}s; data in {root}",
          flush=True)
    results = run_all([(f"{name:8} dfa {k} seed {s}", f"dfa{k}", data[k], s, extra, {"config": name, "dfa": k})
                       for name, k, s, extra in runs], a.max_time, jobs, threads, root, "41-200")
    print()
    print(f"{'config':8} {'automata':>8} {'test 41-200: mean':>18} {'min':>6} {'runs >= 99%':>12} {'valid mean':>11}")
    for name, _ in configs:
        rs = [r for r in results if r["config"] == name and "error" not in r]
        if not rs:
            continue
        te = [100 * r["test_mean"] for r in rs]
        print(f"{name:8} {len({r['dfa'] for r in rs}):8} {statistics.mean(te):17.1f}% {min(te):5.1f}% "
              f"{sum(t >= 99 for t in te):5}/{len(te):<6} {statistics.mean(100 * r['valid'] for r in rs):10.1f}%")
    return results


if __name__ == "__main__":
    main()
