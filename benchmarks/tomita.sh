#!/usr/bin/env bash
# A new-user try on the seven Tomita grammars (bptt data make tomita1 ... tomita7: labels balanced,
# each string uniform among those of its length and label), 3,000 training strings of lengths
# 1-40, 500 for validation (1-40), 1,000 for test at lengths 41-200. `bptt train` with nothing but
# --data --valid --out --seed (and --max-time 600 as a guard), two runs at a time on one core each;
# the model kept is each run's best on validation.
#   bash benchmarks/tomita.sh [WORKDIR]      SEEDS="0 1 2" (default); ARGS="--cell rnn" adds
#   arguments to every `bptt train`; GRAMMARS="4 5 7" runs those only (default: 1 to 7).
# (Before bptt shipped the grammars, this script drew its data with its own sampler and also ran a
# tag form: benchmarks/results/tomita-defaults.log, at commit 8a40cbc.)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cd "$W"
echo "=== bash benchmarks/tomita.sh ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'), SEEDS='${SEEDS:-0 1 2}' GRAMMARS='${GRAMMARS:-1 2 3 4 5 6 7}' ARGS='${ARGS:-}')"
for g in ${GRAMMARS:-1 2 3 4 5 6 7}; do
  bptt data make tomita$g --lengths 1-40 --n 3000 --seed 1 --out c$g-train.tsv > /dev/null
  bptt data make tomita$g --lengths 1-40 --n 500 --seed 2 --out c$g-valid.tsv > /dev/null
  bptt data make tomita$g --lengths 41-200 --n 1000 --seed 3 --out c$g-test.tsv > /dev/null
done
export OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1
one() {  # grammar seed
  local m="c$1-s$2"
  local t0=$(date +%s)
  bptt train --data "c$1-train.tsv" --valid "c$1-valid.tsv" --out "$m.bptt" --seed "$2" --max-time 600 --quiet ${ARGS:-} \
    > "$m.log" 2>&1
  local secs=$(( $(date +%s) - t0 ))
  local cell=$(sed -n 's/^cell \([a-z]*\) .*/\1/p' "$m.log" | head -1)
  local best=$(python -c "import csv; print(max(float(r['valid_accuracy']) for r in csv.DictReader(open('$m.bptt.metrics.csv'))))")
  local test=$(bptt evaluate --model "$m.bptt" --data "c$1-test.tsv" | grep -o 'accuracy [0-9.]*%.*')
  echo "tomita $1 seed $2: cell ${cell:-rnn}, $(grep -c '^epoch' "$m.log") epochs ${secs}s, best valid $best; test (41-200) $test; $(grep -o 'stopped: .*' "$m.log" || echo 'ran all its epochs')"
}
jobs_=()
for seed in ${SEEDS:-0 1 2}; do for g in ${GRAMMARS:-1 2 3 4 5 6 7}; do jobs_+=("$g $seed"); done; done
i=0
while [ $i -lt ${#jobs_[@]} ]; do
  one ${jobs_[$i]} &
  if [ $((i + 1)) -lt ${#jobs_[@]} ]; then one ${jobs_[$((i + 1))]} & fi
  wait
  i=$((i + 2))
done
