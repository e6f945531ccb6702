#!/usr/bin/env bash
# Two `bptt train` runs at once on this machine (two seeds of one task, as a user starts them with &),
# at the commit before the BLAS ran one thread inside a step (OLD) and at this checkout, and each alone.
#   bash benchmarks/two_at_once.sh [OLD_COMMIT] [WORKDIR]
# The task: the regular language "tomita3" of `bptt data make`, 3,000 strings of lengths 1-40,
# every option a default except --max-steps 600 (so both runs do the same work), seeds 0 and 1.
set -euo pipefail
OLD=${1:-8ba8c33}
W=${2:-$(mktemp -d)}
REPO=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$W"
git -C "$REPO" worktree add -f "$W/old" "$OLD" >/dev/null 2>&1 || true
cd "$W"
PYTHONPATH=$REPO python -m bptt data make tomita3 --lengths 1-40 --n 3000 --seed 1 --out train.tsv
PYTHONPATH=$REPO python -m bptt data make tomita3 --lengths 1-40 --n 500 --seed 2 --out valid.tsv
run() {  # code-path tag seed
  local s=$(date +%s.%N)
  PYTHONPATH=$1 python -m bptt train --data train.tsv --valid valid.tsv --out "m.$2.$3.bptt" --seed "$3" \
    --max-steps 600 --quiet > "log.$2.$3" 2>&1
  printf '%s seed %s: %.1f s\n' "$2" "$3" "$(echo "$(date +%s.%N) - $s" | bc)"
}
echo "=== two bptt train at once, 600 steps each ($(date -u +%FT%TZ)); old = $OLD, new = $(git -C "$REPO" rev-parse --short HEAD)"
for code in old new; do
  path=$REPO; [ $code = old ] && path=$W/old
  echo "--- $code, alone"; run "$path" "$code-alone" 0
  echo "--- $code, two at once"; run "$path" "$code-pair" 0 & run "$path" "$code-pair" 1 & wait
done
git -C "$REPO" worktree remove --force "$W/old" >/dev/null 2>&1 || true
