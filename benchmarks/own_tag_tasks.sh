#!/usr/bin/env bash
# Tagging tasks that bptt does not ship (benchmarks/own_tag_tasks.py), tried as a new user would:
# bptt train with its defaults alone (plus --max-time 600 as a guard), on lengths 1-40, then
# bptt evaluate on lengths 41-200.  SEEDS (default "0 1 2") seeds both the data and the training.
# TASKS (default the four left-to-right ones) picks tasks, ARGS adds options to bptt train (e.g.
# ARGS=--bidirectional), MAXTIME (default 600) sets the guard.
# SCRIPT=own_class_tasks.py does the same for the classification tasks of that file.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cd "$W"
for seed in ${SEEDS:-0 1 2}; do
  SCRIPT=${SCRIPT:-own_tag_tasks.py}
  if [ "$SCRIPT" = own_class_tasks.py ]; then DEFAULT_TASKS="first-last latch q-then-z mod5"
  else DEFAULT_TASKS="prefix-parity count-mod3 delay2 latch"; fi
  for t in ${TASKS:-$DEFAULT_TASKS}; do
    mkdir -p "s$seed" && (cd "s$seed" && python "$HERE/$SCRIPT" "$t" "$seed")
    d="s$seed/$t"
    start=$(date +%s)
    bptt train --data "$d/train.tsv" --valid "$d/valid.tsv" --out "$d/m.bptt" --seed "$seed" --quiet \
      --max-time "${MAXTIME:-600}" ${ARGS:-} > "$d/train.log" 2>&1
    echo "== $t seed $seed: $(grep -E '^task' "$d/train.log" | cut -c1-60)"
    grep -E "^stopped|^cell|^length curriculum|bidirectional" "$d/train.log" || true
    grep "^epoch" "$d/train.log" | tail -n 1
    echo "trained in $(( $(date +%s) - start )) s; test 41-200: $(bptt evaluate --model "$d/m.bptt" --data "$d/test.tsv")"
  done
done
