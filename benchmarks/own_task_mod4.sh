#!/usr/bin/env bash
# A regular-language task of a new-user try that bptt does not ship: over {a, b}, label "yes" when
# (the number of a's - the number of b's) is divisible by 4 (a counter modulo 4: a 4-state automaton).
# Train on lengths 1-40 (3000 examples), validate on 1-40 (500), test on 41-200 (1000), each set drawn
# uniformly with neither label past half of it (odd lengths are always "no"); the defaults with each
# cell, seeds 0-2, 150 s each, two runs at a time on one core each; the model kept is each run's best
# on validation.
#   bash benchmarks/own_task_mod4.sh [WORKDIR]        (CELLS=lstm runs one cell alone)
#   VALID_LONG=1 CELLS=lstm bash benchmarks/own_task_mod4.sh   (validation on lengths 41-60 instead)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cd "$W"
echo "=== bash benchmarks/own_task_mod4.sh ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
python - <<'PY'
import random
def make(n, lo, hi, seed, path):
    r, rows, count = random.Random(seed), [], {True: 0, False: 0}
    while len(rows) < n:
        s = "".join(r.choice("ab") for _ in range(r.randint(lo, hi)))
        y = (s.count("a") - s.count("b")) % 4 == 0
        if count[y] < (n + 1) // 2:
            count[y] += 1
            rows.append(f"{s}\t{'yes' if y else 'no'}\n")
    with open(path, "w") as f:
        f.write("text\tlabel\n" + "".join(rows))
make(3000, 1, 40, 1, "train.tsv"); make(500, 1, 40, 2, "valid.tsv"); make(1000, 41, 200, 3, "test.tsv")
make(500, 41, 60, 4, "valid-long.tsv")
PY
V=valid.tsv
if [ "${VALID_LONG:-0}" = 1 ]; then V=valid-long.tsv; echo "validation on lengths 41-60 ($V)"; fi
DEFAULT_CELLS="lstm gru rnn"
. "$HERE/own_task_runs.sh"
