#!/usr/bin/env bash
# Addition trained on 1-4 digits, tested on 100 sums of 10,000-digit numbers (whole sums right):
# the demo's model, then `bptt train --task tag` with the defaults and with the stopping rules they
# were chosen over (seeds 0-2 each).
#   bash benchmarks/addition_10k.sh [WORKDIR]      (log: benchmarks/results/addition-10k.log)
#   ONLY_DEFAULTS=1 bash benchmarks/addition_10k.sh    the demo and the defaults' three seeds alone
set -eu
W=${1:-$(mktemp -d)}
run() { echo "+ $*"; "$@"; }
run bptt demo --out-dir "$W/demo" --quiet | tail -1
run bptt data make addition --lengths 10000 --n 100 --seed 5 --out "$W/add10k.tsv"
run bptt evaluate --model "$W/demo/addition.bptt" --data "$W/add10k.tsv"
run bptt data make addition --lengths 1-4 --n 4000 --seed 1 --out "$W/train.tsv"
run bptt data make addition --lengths 1-4 --n 500 --seed 2 --out "$W/valid.tsv"
rules=("--stop-perfect 3 --perfect-loss 1" "--stop-perfect 10 --perfect-loss 1" "--stop-perfect 25 --perfect-loss 1"
       "--perfect-loss 1e-3" "")
[ "${ONLY_DEFAULTS:-0}" = 1 ] && rules=("")
echo "=== bash benchmarks/addition_10k.sh ($(date -u +%FT%TZ), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'))"
for rule in "${rules[@]}"; do
  echo "== stopping rule: ${rule:-the defaults}"
  for seed in 0 1 2; do
    start=$(date +%s)
    run bptt train --data "$W/train.tsv" --valid "$W/valid.tsv" --task tag --out "$W/add.bptt" --seed $seed --quiet $rule \
      | grep -E "^cell|^stopped|best model" | head -2
    echo "  trained in $(( $(date +%s) - start )) s"
    run bptt evaluate --model "$W/add.bptt" --data "$W/add10k.tsv"
  done
done
