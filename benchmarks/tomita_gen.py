"""The seven Tomita grammars (Tomita 1982), the classic test of recurrent nets on regular languages,
as automata over {0, 1}, and balanced data files drawn from them: every other line accepted, each
line's length uniform in LO..HI and its string uniform among the accepted (or rejected) strings of
that length (exact counts per automaton state, no rejection sampling).

    python benchmarks/tomita_gen.py G LO HI N SEED OUT [--tag]

G 1..7: 1 = 1*; 2 = (10)*; 3 = no odd run of 1s directly followed by an odd run of 0s; 4 = no 000;
5 = even count of 0s and of 1s; 6 = (#0 - #1) divisible by 3; 7 = 0*1*0*1*.  Labels yes/no, or
with --tag one label (y/n) per symbol: whether the prefix up to it is in the language.
Used by benchmarks/tomita.sh; not part of bptt.
"""
import sys

import numpy as np
D = -1
DFAS = {  # state -> (on '0', on '1'), accepting set
 1: ({0: (D, 0)}, {0}),
 2: ({0: (D, 1), 1: (0, D)}, {0}),
 3: ({0: (0, 1), 1: (3, 2), 2: (0, 1), 3: (4, D), 4: (3, 1)}, {0, 1, 2, 4}),
 4: ({0: (1, 0), 1: (2, 0), 2: (D, 0)}, {0, 1, 2}),
 5: ({0: (1, 2), 1: (0, 3), 2: (3, 0), 3: (2, 1)}, {0}),
 6: ({0: (1, 2), 1: (2, 0), 2: (0, 1)}, {0}),
 7: ({0: (0, 1), 1: (2, 1), 2: (2, 3), 3: (D, 3)}, {0, 1, 2, 3}),
}
def counts(dfa, acc, n):
    S = list(dfa)
    # c[k][s] = number of strings of length k from s that end accepted
    c = [{s: (1 if s in acc else 0) for s in S}]
    for k in range(1, n + 1):
        c.append({s: sum(c[k - 1][t] for t in dfa[s] if t != D) for s in S})
    return c
def sample(dfa, acc, n, want, rng, c):
    s, out = 0, []
    for k in range(n, 0, -1):
        opts = []
        for sym, t in enumerate(dfa[s]):
            if t == D:
                w = 0 if want else 2 ** (k - 1)
            else:
                w = c[k - 1][t] if want else 2 ** (k - 1) - c[k - 1][t]
            opts.append(w)
        tot = sum(opts)
        if tot == 0: return None
        r = rng.integers(0, tot) if tot < 2**62 else int(rng.random() * tot)
        sym = 0 if r < opts[0] else 1
        out.append(str(sym)); t = dfa[s][sym]
        if t == D:
            out += [str(x) for x in rng.integers(0, 2, k - 1)]
            return "".join(out)
        s = t
    return "".join(out)
def accepts(dfa, acc, x):
    s = 0
    for ch in x:
        s = dfa[s][int(ch)]
        if s == D: return False
    return s in acc
tag = "--tag" in sys.argv[1:]
args = [a for a in sys.argv[1:] if a != "--tag"]
g, lo, hi, n, seed, out = int(args[0]), int(args[1]), int(args[2]), int(args[3]), int(args[4]), args[5]
dfa, acc = DFAS[g]; rng = np.random.default_rng(seed); c = counts(dfa, acc, hi)
with open(out, "w") as f:
    f.write("text\tlabel\n")
    i = 0
    while i < n:
        L = int(rng.integers(lo, hi + 1)); want = bool(i % 2)
        x = sample(dfa, acc, L, want, rng, c)
        if x is None: continue
        assert accepts(dfa, acc, x) == want, (g, x, want)
        if tag:
            label = " ".join("y" if accepts(dfa, acc, x[:k + 1]) else "n" for k in range(len(x)))
        else:
            label = "yes" if want else "no"
        f.write(f"{x}\t{label}\n")
        i += 1
