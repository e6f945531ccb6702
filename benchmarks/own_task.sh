#!/usr/bin/env bash
# A regular language that bptt does not ship, tried as a new user would: strings over x, y, z
# labelled (#x - #y) mod 3; 8,000 training and 800 validation strings of lengths 1-40, 600 test
# strings of lengths 41-300.  The defaults (seeds 0-2; they turn the length curriculum on for these
# sequences of 3 symbols), then the defaults without the curriculum (seeds 0 and 1; the defaults before
# 2026-11-30).  ONLY_DEFAULTS=1 runs the defaults' three seeds alone.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cd "$W"
python - <<'PY'
import random
random.seed(7)
def row(L):
    s = "".join(random.choice("xyz") for _ in range(L))
    return s, str((s.count("x") - s.count("y")) % 3)
for name, lo, hi, n in (("train", 1, 40, 8000), ("valid", 1, 40, 800), ("test", 41, 300, 600)):
    with open(f"{name}.tsv", "w") as f:
        for _ in range(n):
            s, label = row(random.randint(lo, hi))
            f.write(f"{s}\t{label}\n")
PY
export OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1
one() {  # name, then bptt train's extra arguments
  name=$1; shift
  start=$(date +%s)
  bptt train --data train.tsv --valid valid.tsv --task classify --out "$name.bptt" --quiet --max-time 600 "$@" \
    > "$name.train.log" 2>&1
  { grep -E "^stopped|^best|^reading|^length curriculum|^cell" "$name.train.log"; grep "^epoch" "$name.train.log" | tail -n 1
    echo "$name: trained in $(( $(date +%s) - start )) s"
    echo "$name: test 41-300: $(bptt evaluate --model "$name.bptt" --data test.tsv)"; } > "$name.log" 2>&1
}
one defaults-seed0 --seed 0 &
one defaults-seed1 --seed 1 &
wait || true  # a run that failed still leaves its log
runs="defaults-seed0 defaults-seed1 defaults-seed2"
if [ "${ONLY_DEFAULTS:-0}" = 1 ]; then
  one defaults-seed2 --seed 2 || true
else
  one defaults-seed2 --seed 2 &
  one no-curriculum-seed0 --seed 0 --no-curriculum &
  wait || true  # a run that failed still leaves its log
  one no-curriculum-seed1 --seed 1 --no-curriculum || true
  runs="$runs no-curriculum-seed0 no-curriculum-seed1"
fi
echo "=== bash benchmarks/own_task.sh ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
for f in $runs; do
  echo "== bptt train ... $f"; cat "$f.log"
done
