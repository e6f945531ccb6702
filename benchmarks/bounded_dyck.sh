#!/bin/bash
# A new user's regular language (benchmarks/bounded_dyck.py: balanced brackets of depth at most 3), bptt train
# with nothing but --data --valid --out --seed (and ARGS, e.g. ARGS="--cell rnn"), seeds 0-2, each scored at
# lengths 42-200:   bash benchmarks/bounded_dyck.sh DIR      (log benchmarks/results/bounded-dyck.log)
set -eu
d=${1:?usage: bounded_dyck.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
echo "=== bounded_dyck.sh $(date -u +%FT%TZ), commit $(git -C "$here" rev-parse --short HEAD), ARGS='${ARGS:-}'"
for seed in ${SEEDS:-0 1 2}; do
    python3 "$here/bounded_dyck.py" "$d/s$seed" "$seed"
    start=$(date +%s)
    python3 -m bptt train --data "$d/s$seed/train.tsv" --valid "$d/s$seed/valid.tsv" --seed "$seed" \
        --max-time ${MAX_TIME:-600} ${ARGS:-} --out "$d/s$seed/m.bptt" > "$d/s$seed/train.log" 2>&1
    echo "== seed $seed: $(grep -m1 '^cell' "$d/s$seed/train.log" | cut -c1-60) ..."
    grep -E "^stopped|^best|^epoch" "$d/s$seed/train.log" | grep -E "\*$|^stopped|^best" | tail -2
    echo "trained in $(( $(date +%s) - start )) s; test 42-200: $(python3 -m bptt evaluate --model "$d/s$seed/m.bptt" \
        --data "$d/s$seed/test.tsv")"
    python3 -m bptt evaluate --model "$d/s$seed/m.bptt" --data "$d/s$seed/test.tsv" --by-length | tail -n +2
done
