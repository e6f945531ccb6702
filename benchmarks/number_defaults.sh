#!/usr/bin/env bash
# Choosing the defaults of `bptt train --inputs numbers` (benchmarks/number_tasks.py): each task and seed
# trained with nothing but --data --valid --inputs numbers --out --seed, --max-time as a guard, and each of
# the CONFIGS below added, two runs at once (one core each); then bptt evaluate on lengths 1-40 and 41-200.
#   bash benchmarks/number_defaults.sh [WORKDIR]      SEEDS (default "0"), MAX_TIME (default 60)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cd "$W"
export OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1
# NAME|ARGS, the arguments comma-separated ("defaults|" adds nothing)
CONFIGS=${CONFIGS:-"defaults| rnn|--cell=rnn,--no-curriculum rnn-curriculum|--cell=rnn,--curriculum lstm|--cell=lstm,--no-curriculum"}
TASKS=${TASKS:-"sum sign parity seen-high"}
one() {  # task seed name args...
  local t=$1 seed=$2 name=$3; shift 3
  local d="s$seed/$t" m="s$seed/$t/$name" task=()
  if [ "$t" = sum ]; then task=(--task regress); fi  # numbers as labels are read as classes unless told
  bptt train --data "$d/train.tsv" --valid "$d/valid.tsv" "${task[@]}" --inputs numbers --out "$m.bptt" \
    --seed "$seed" --max-time "${MAX_TIME:-60}" "$@" > "$m.log" 2>&1 || true
  {
    echo "== $t seed $seed $name ($*): $(grep "^epoch" "$m.log" | tail -n 1 | cut -c1-90)"
    grep -E "^(task|cell|length curriculum|learning rate|stopped)" "$m.log" || true
    echo "   valid 1-40: $(bptt evaluate --model "$m.bptt" --data "$d/valid.tsv")"
    echo "   test 41-200: $(bptt evaluate --model "$m.bptt" --data "$d/test.tsv")"
  } > "$m.summary"
}
for seed in ${SEEDS:-0}; do
  for t in $TASKS; do
    mkdir -p "s$seed" && (cd "s$seed" && python "$HERE/number_tasks.py" "$t" "$seed")
  done
done
jobs=()
for seed in ${SEEDS:-0}; do
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
cat s*/*/*.summary
