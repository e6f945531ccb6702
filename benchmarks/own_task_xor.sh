#!/usr/bin/env bash
# A regular-language task of a new-user try that bptt does not ship: over {a, b, c}, label "yes" when
# (the number of c's is even) XOR (the string contains "ab"). Train on lengths 1-40 (3000 examples),
# validate on 1-40 (500), test on 41-200 (1000); the defaults with each cell, seeds 0-2, 150 s each,
# two runs at a time on one core each; the model kept is each run's best on validation.
#   bash benchmarks/own_task_xor.sh [WORKDIR]        (CELLS=lstm runs one cell alone)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cd "$W"
echo "=== bash benchmarks/own_task_xor.sh ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
python - <<'PY'
import random
def make(n, lo, hi, seed, path):
    r = random.Random(seed)
    with open(path, "w") as f:
        f.write("text\tlabel\n")
        for _ in range(n):
            s = "".join(r.choice("abc") for _ in range(r.randint(lo, hi)))
            f.write(f"{s}\t{'yes' if (s.count('c') % 2 == 0) != ('ab' in s) else 'no'}\n")
make(3000, 1, 40, 1, "train.tsv"); make(500, 1, 40, 2, "valid.tsv"); make(1000, 41, 200, 3, "test.tsv")
PY
DEFAULT_CELLS="rnn gru lstm"
. "$HERE/own_task_runs.sh"
