#!/usr/bin/env bash
# Stop 40's new-user try of a UCR archive file: Cylinder-Bell-Funnel written as the archive writes it
# (benchmarks/ucr_cbf.py: 30 training and 900 test series of 128 steps), trained with bptt's defaults and no
# option but --seed (no validation file: the archive has none), then scored on the test file. ARGS adds options.
#   bash benchmarks/ucr_cbf.sh WORKDIR [SEEDS]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=$1
echo "=== ucr_cbf.sh ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
for seed in ${2:-0 1 2}; do
  d="$W/s$seed"
  python "$HERE/ucr_cbf.py" "$d" "$seed"
  start=$(date +%s)
  echo "== seed $seed: bptt train --data $d/CBF_TRAIN.tsv --out $d/cbf.bptt --seed $seed --quiet ${ARGS:-}"
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1 bptt train --data "$d/CBF_TRAIN.tsv" \
    --out "$d/cbf.bptt" --seed "$seed" --quiet ${ARGS:-} 2>&1 | grep -v "^epoch "
  echo "trained in $(( $(date +%s) - start )) s; test (900 series): $(bptt evaluate --model "$d/cbf.bptt" \
    --data "$d/CBF_TEST.tsv" 2>/dev/null)"
done
