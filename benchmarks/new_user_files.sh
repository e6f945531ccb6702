#!/usr/bin/env bash
# A new user's try (stop 40): the five tasks of benchmarks/new_user_files.py, each in its own file format,
# trained with bptt's defaults and no option (the model kept by validation, lengths 1-40), then scored on
# lengths 41-200 (reported, never chosen on).  Two runs at once, each on one core.
#   bash benchmarks/new_user_files.sh WORKDIR [SEED]
# NO_VALID=1 trains without --valid (on the training file alone, as a first run may); ARGS adds options.
# Output: each run's log (WORKDIR/TASK.log) after a line naming it, ending with its test scores.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
W=$1
SEED=${2:-0}
mkdir -p "$W" && cd "$W" || exit 1
python "$HERE/new_user_files.py" "$SEED"
echo "=== new_user_files.sh ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'), seed $SEED, NO_VALID='${NO_VALID:-}' ARGS='${ARGS:-}')"
one() {  # task extension
  local t=$1 x=$2 start rc
  start=$(date +%s)
  local valid=(--valid "${t}_valid.$x")
  [ -n "${NO_VALID:-}" ] && valid=()
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1 bptt train --data "${t}_train.$x" \
    "${valid[@]}" --out "$t.bptt" --quiet ${ARGS:-} > "$t.log" 2>&1
  rc=$?
  echo "exit status $rc, $(( $(date +%s) - start )) s" >> "$t.log"
  echo "$ bptt evaluate --model $t.bptt --data ${t}_test.$x" >> "$t.log"
  bptt evaluate --model "$t.bptt" --data "${t}_test.$x" >> "$t.log" 2>&1
}
export -f one
export NO_VALID ARGS
printf 'div3 csv\nkth jsonl\nnotriple tsv\nsubseq tsv\nrunmax tsv\n' | xargs -L 1 -P 2 bash -c 'one $0 $1'
for t in div3 kth notriple subseq runmax; do
  v="--valid $(ls ${t}_valid.*) "
  [ -n "${NO_VALID:-}" ] && v=""
  echo "== $t: bptt train --data $(ls ${t}_train.*) ${v}--out $t.bptt --quiet ${ARGS:-}"
  grep -v '^epoch ' "$t.log"
done
