#!/usr/bin/env bash
# Configurations of bptt train side by side on the classification tasks of benchmarks/own_class_tasks.py,
# as a new user runs them: the defaults plus each configuration's options, trained on lengths 1-40,
# the model kept by validation (lengths 1-40), then scored on lengths 41-200 (reported, never chosen on).
# Every (task, seed, configuration) is one job; JOBS (default 2) run at once, each on one core.
#   TASKS='cd-mod4' N_TRAIN=600 SEEDS='0 1 2' MAXTIME=240 \
#     bash benchmarks/class_configs.sh WORKDIR 'defaults=' 'wd0.3=--weight-decay 0.3'
# A configuration whose options start with NOVALID trains without the validation file ('one-file=NOVALID',
# 'split=NOVALID --valid-split 0.1'), as a user with one file does.
# Output: one line per job (validation accuracy of the kept model, seconds, test accuracy), then the
# mean test accuracy of each configuration; each job's log is WORKDIR/TASK/sSEED/NAME.log.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=$1
shift
mkdir -p "$W"
cd "$W"
echo "=== class_configs.sh ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?')):" \
  "TASKS='${TASKS:-}' N_TRAIN=${N_TRAIN:-3000} SEEDS='${SEEDS:-0 1 2}' MAXTIME=${MAXTIME:-240} JOBS=${JOBS:-2}; configs: $*"
for t in ${TASKS:?TASKS names the tasks}; do
  for seed in ${SEEDS:-0 1 2}; do
    mkdir -p "$t/s$seed"
    (cd "$t/s$seed" && N_TRAIN=${N_TRAIN:-3000} python "$HERE/own_class_tasks.py" "$t" "$seed" && mv "$t"/* . && rmdir "$t")
  done
done
job() {  # task seed core name args...
  local t=$1 seed=$2 name=$3
  shift 3
  local d="$W/$t/s$seed" start
  local vopt=(--valid "$d/valid.tsv")
  if [ "${1:-}" = NOVALID ]; then  # a configuration that starts with NOVALID: no validation file, as a user with one
    shift
    vopt=()
  fi
  start=$(date +%s)
  OMP_NUM_THREADS=1 bptt train --data "$d/train.tsv" "${vopt[@]}" --out "$d/$name.bptt" --seed "$seed" \
    --quiet --max-time "${MAXTIME:-240}" "$@" > "$d/$name.log" 2>&1
  local took=$(( $(date +%s) - start ))
  local valid test
  valid=$(grep -o "best validation accuracy [0-9.]*%" "$d/$name.log" | tail -n 1 | grep -o "[0-9.]*%" || true)
  [ -n "$valid" ] || valid=$(grep -E '\*$' "$d/$name.log" | tail -n 1 | grep -o "acc [0-9.]*%" | grep -o "[0-9.]*%")
  test=$(bptt evaluate --model "$d/$name.bptt" --data "$d/test.tsv" | grep -o "accuracy [0-9.]*%" | grep -o "[0-9.]*%")
  echo "$t seed $seed $name: valid $valid, ${took} s, test 41-200 $test"
}
export -f job
export W HERE MAXTIME JOBS
for t in $TASKS; do
  for seed in ${SEEDS:-0 1 2}; do
    for cfg in "$@"; do
      name=${cfg%%=*}
      echo "$t $seed $name ${cfg#*=}"
    done
  done
done | xargs -d '\n' -n 1 -P "${JOBS:-2}" bash -c 'job $1' _ | tee "$W/summary.txt"
summarise() {  # name summary-file: the configuration's mean test accuracy, and its validation where it had one
  grep " $1: " "$2" | awk -v n="$1" '{
      t = $0; sub(/.*test 41-200 /, "", t); sub(/%.*/, "", t); tt += t; k++; if (t + 0 >= 99) g++
      if (match($0, /valid [0-9.]+%/)) { vv += substr($0, RSTART + 6, RLENGTH - 7); kv++ } } END {
      printf "%-12s %d runs: validation %s, test %.1f%%, %d at >= 99%%\n", n, k,
             kv ? sprintf("%.1f%%", vv / kv) : "none (no validation file)", tt / k, g}'
}
echo "--- mean test accuracy at lengths 41-200 (and validation) per configuration"
for cfg in "$@"; do
  name=${cfg%%=*}
  summarise "$name" "$W/summary.txt"
done
