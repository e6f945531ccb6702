#!/bin/bash
# A new user's counter language (2026-12-04): Dyck-1, is a string of ( and ) balanced; JSONL records {"string", "balanced"}
# (true/false), 3,000 training and 500 validation strings of lengths 1-40, 1,000 test strings of lengths 41-200 (half
# drawn balanced, half at random; 23% of the test strings are balanced).  The defaults and a few settings, seeds 0-2,
# each evaluated on the test strings:   bash benchmarks/dyck1.sh DIR    (log: benchmarks/results/dyck1.log)
set -u
d=${1:?usage: dyck1.sh DIR}
BENCH="$(cd "$(dirname "$0")" && pwd)"  # for counting_tasks.balanced
mkdir -p "$d" && cd "$d" || exit 1
BENCH="$BENCH" python3 - <<'PY'
import json, os, random, sys
sys.path.insert(0, os.environ["BENCH"])
from counting_tasks import balanced  # noqa: E402
def gen(r, L):
    while True:
        if r.random() < 0.5:  # a walk that stays at or above 0 and closes where it can
            s, d = [], 0
            for i in range(L):
                rem = L - i
                if d == 0 or (d < rem and r.random() < 0.5) and d + 1 <= rem - 1:
                    s.append("("); d += 1
                else:
                    s.append(")"); d -= 1
            s = "".join(s)
        else:
            s = "".join(r.choice("()") for _ in range(L))
        if L % 2 == 0 or not balanced(s):
            return s
for name, n, lo, hi, seed in (("train", 3000, 1, 40, 1), ("valid", 500, 1, 40, 2), ("test", 1000, 41, 200, 3)):
    r = random.Random(seed)
    with open(f"{name}.jsonl", "w") as f:
        for _ in range(n):
            s = gen(r, r.randint(lo, hi))
            f.write(json.dumps({"string": s, "balanced": balanced(s)}) + "\n")
PY
run1() { name=$1; shift; timeout 300 python3 -m bptt train --data train.jsonl --valid valid.jsonl --quiet --out $name.bptt "$@" \
    > $name.log 2>&1; echo "$name ($*): $(grep -o 'epoch [0-9]*  step [0-9]*  [0-9.]*s' $name.log | tail -1) | $(python3 -m bptt \
    evaluate --model $name.bptt --data test.jsonl 2>/dev/null)"; }
for s in 0 1 2; do run1 defaults$s --seed $s; done
[ -n "${ONLY_DEFAULTS:-}" ] && exit 0  # ONLY_DEFAULTS=1: the defaults' three seeds alone
for s in 0 1 2; do run1 wd$s --seed $s --weight-decay 0.1 --max-time 120; done
for s in 0 1 2; do run1 relu$s --seed $s --cell rnn --activation relu --max-time 120; done
run1 gru0 --seed 0 --cell gru --max-time 120
