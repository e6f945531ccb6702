#!/usr/bin/env bash
# bptt train with and without bptt.keep_freed_memory (glibc's malloc keeping freed blocks for the next
# step), alternating, 3 rounds: wall time of whole runs (start-up included).
#   bash benchmarks/malloc_ab.sh [WORKDIR]
set -eu
W=${1:-$(mktemp -d)}
mkdir -p "$W"
echo "=== bash benchmarks/malloc_ab.sh ($(date -u +%FT%TZ), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'))"
bptt data make parity --lengths 1-50 --n 4000 --seed 1 --out "$W/p50.tsv"
for round in 1 2 3; do
  for cell in rnn lstm; do
    for keep in 0 1; do
      s=$(date +%s.%N)
      BPTT_KEEP_FREED_MEMORY=$keep bptt train --data "$W/p50.tsv" --task classify --epochs 6 --no-curriculum --quiet \
        --hidden 128 --cell $cell --out "$W/ab.bptt" > /dev/null
      e=$(date +%s.%N)
      printf 'round %s  cell %-4s  freed memory kept %s  %.2f s\n' $round $cell $([ $keep = 1 ] && echo yes || echo no) "$(echo "$e - $s" | bc)"
    done
  done
done
