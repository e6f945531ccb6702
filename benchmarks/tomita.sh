#!/usr/bin/env bash
# A new-user try on data bptt does not ship: the seven Tomita grammars (benchmarks/tomita_gen.py),
# 3,000 balanced training strings of lengths 1-40, 500 for validation (1-40), 1,000 for test at
# lengths 41-200. `bptt train` with nothing but --data --valid --out --seed (and --max-time 600 as
# a guard), two runs at a time on one core each; the model kept is each run's best on validation.
#   bash benchmarks/tomita.sh [WORKDIR]      SEEDS="0 1 2" (default), TAG=1 also the tag form
#   (one label per symbol: is the prefix so far in the language), seed 0; ARGS="--cell rnn" adds
#   arguments to every `bptt train`.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cd "$W"
echo "=== bash benchmarks/tomita.sh ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'), SEEDS='${SEEDS:-0 1 2}' TAG=${TAG:-0} ARGS='${ARGS:-}')"
for g in 1 2 3 4 5 6 7; do
  python "$HERE/tomita_gen.py" $g 1 40 3000 1 c$g-train.tsv && python "$HERE/tomita_gen.py" $g 1 40 500 2 c$g-valid.tsv
  python "$HERE/tomita_gen.py" $g 41 200 1000 3 c$g-test.tsv
  if [ "${TAG:-0}" = 1 ]; then
    python "$HERE/tomita_gen.py" $g 1 40 3000 1 t$g-train.tsv --tag && python "$HERE/tomita_gen.py" $g 1 40 500 2 t$g-valid.tsv --tag
    python "$HERE/tomita_gen.py" $g 41 200 1000 3 t$g-test.tsv --tag
  fi
done
export OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1
one() {  # form (c: classify, t: tag) grammar seed
  local m="$1$2-s$3"
  local t0=$(date +%s)
  bptt train --data "$1$2-train.tsv" --valid "$1$2-valid.tsv" --out "$m.bptt" --seed "$3" --max-time 600 --quiet ${ARGS:-} \
    > "$m.log" 2>&1
  local secs=$(( $(date +%s) - t0 ))
  local cell=$(sed -n 's/^cell \([a-z]*\) .*/\1/p' "$m.log" | head -1)
  local best=$(python -c "import csv; print(max(float(r['valid_accuracy']) for r in csv.DictReader(open('$m.bptt.metrics.csv'))))")
  local test=$(bptt evaluate --model "$m.bptt" --data "$1$2-test.tsv" | grep -o 'accuracy [0-9.]*%.*')
  echo "$( [ "$1" = c ] && echo classify || echo tag) tomita $2 seed $3: cell ${cell:-rnn}, $(grep -c '^epoch' "$m.log") epochs ${secs}s, best valid $best; test (41-200) $test; $(grep -o 'stopped: .*' "$m.log" || echo 'ran all its epochs')"
}
jobs_=()
for seed in ${SEEDS:-0 1 2}; do for g in 1 2 3 4 5 6 7; do jobs_+=("c $g $seed"); done; done
if [ "${TAG:-0}" = 1 ]; then for g in 1 2 3 4 5 6 7; do jobs_+=("t $g 0"); done; fi
i=0
while [ $i -lt ${#jobs_[@]} ]; do
  one ${jobs_[$i]} &
  if [ $((i + 1)) -lt ${#jobs_[@]} ]; then one ${jobs_[$((i + 1))]} & fi
  wait
  i=$((i + 2))
done
