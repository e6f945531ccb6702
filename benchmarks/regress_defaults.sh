#!/usr/bin/env bash
# Choosing the defaults of `bptt train --task regress` (benchmarks/regress_tasks.py): each task and seed
# trained with nothing but --data --valid --task regress --out --seed, --max-time as a guard, and each
# of the CONFIGS below added, two runs at once (one core each); then bptt evaluate on lengths 41-200.
#   bash benchmarks/regress_defaults.sh [WORKDIR]      SEEDS (default "0 1"), MAX_TIME (default 60)
# GEN (the data's script, default regress_tasks.py), TASKS (default its three) and ARGS (given to every run,
# default --task regress) let benchmarks/number_defaults.sh run the same sweep on sequences of numbers.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cd "$W"
export OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1
# NAME|ARGS, the arguments comma-separated
CONFIGS=${CONFIGS:-"rnn|--cell=rnn,--no-curriculum rnn-curriculum|--cell=rnn,--curriculum lstm|--cell=lstm,--no-curriculum lstm-curriculum|--cell=lstm,--curriculum"}
one() {  # task seed name args...
  local t=$1 seed=$2 name=$3; shift 3
  local d="s$seed/$t" m="s$seed/$t/$name"
  bptt train --data "$d/train.tsv" --valid "$d/valid.tsv" ${ARGS:---task regress} --out "$m.bptt" --seed "$seed" \
    --quiet --max-time "${MAX_TIME:-60}" "$@" > "$m.log" 2>&1 || true
  {
    echo "== $t seed $seed $name ($*): $(grep "^epoch" "$m.log" | tail -n 1 | cut -c1-90)"
    grep -E "^(cell|length curriculum|learning rate|stopped|bptt train: error)" "$m.log" || true
    echo "   valid 1-40: $(bptt evaluate --model "$m.bptt" --data "$d/valid.tsv")"
    echo "   test 41-200: $(bptt evaluate --model "$m.bptt" --data "$d/test.tsv")"
  } > "$m.summary"
}
TASKS=${TASKS:-frac-a filter last-b}
for seed in ${SEEDS:-0 1}; do
  for t in $TASKS; do
    mkdir -p "s$seed" && (cd "s$seed" && python "$HERE/${GEN:-regress_tasks.py}" "$t" "$seed")
  done
done
jobs=()
for seed in ${SEEDS:-0 1}; do
  for t in $TASKS; do
    for c in $CONFIGS; do
      name=${c%%|*}; args=${c#*|}; args=${args//,/ }
      one "$t" "$seed" "$name" $args &
      jobs+=($!)
      if [ ${#jobs[@]} -ge 2 ]; then wait "${jobs[0]}"; jobs=("${jobs[@]:1}"); fi
    done
  done
done
wait
for t in $TASKS; do cat s*/"$t"/*.summary; done
