#!/usr/bin/env bash
# `bptt predict` on a file of lines (stdin), at the commit before it labelled lines in batches (OLD: one
# forward pass per line) and at this checkout: the same model (the LSTM `bptt train` picks, one epoch on
# tomita3), 5,000 lines of lengths 1-40, three timings each, alternating; the outputs are compared.
#   bash benchmarks/predict_lines.sh [OLD_COMMIT] [WORKDIR]
set -euo pipefail
OLD=${1:-5e68c43}
W=${2:-$(mktemp -d)}
REPO=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$W"
git -C "$REPO" worktree add -f "$W/old" "$OLD" >/dev/null 2>&1 || true
cd "$W"
PYTHONPATH=$REPO python -m bptt data make tomita3 --lengths 1-40 --n 5000 --seed 1 --out lines.tsv > /dev/null
tail -n +2 lines.tsv | cut -f1 > lines.txt
PYTHONPATH=$REPO python -m bptt train --data lines.tsv --out m.bptt --epochs 1 --quiet > /dev/null
echo "=== bptt predict --model m.bptt < lines.txt ($(wc -l < lines.txt) lines; $(date -u +%FT%TZ)); old = $OLD, new = $(git -C "$REPO" rev-parse --short HEAD)"
for r in 1 2 3; do
  for code in old new; do
    path=$REPO; [ $code = old ] && path=$W/old
    s=$(date +%s.%N)
    PYTHONPATH=$path python -m bptt predict --model m.bptt < lines.txt > "out.$code" 2> /dev/null
    printf '%s run %s: %.2f s\n' "$code" "$r" "$(echo "$(date +%s.%N) - $s" | bc)"
  done
done
cmp out.old out.new && echo "the outputs are the same, line for line"
git -C "$REPO" worktree remove --force "$W/old" >/dev/null 2>&1 || true
