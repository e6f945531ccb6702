#!/usr/bin/env bash
# Addition trained on 1-4 digits, tested on 10,000-digit sums (whole sums right):
# the demo's model, and `bptt train --task tag` with the defaults.
#   sh benchmarks/addition_10k.sh [WORKDIR]      (log: benchmarks/results/addition-10k.log)
set -eux
W=${1:-$(mktemp -d)}
bptt demo --out-dir "$W/demo" --quiet
bptt data make addition --lengths 10000 --n 100 --seed 5 --out "$W/add10k.tsv"
time bptt evaluate --model "$W/demo/addition.bptt" --data "$W/add10k.tsv"
bptt data make addition --lengths 1-4 --n 4000 --seed 1 --out "$W/train.tsv"
bptt data make addition --lengths 1-4 --n 500 --seed 2 --out "$W/valid.tsv"
for seed in 0 1 2; do
  bptt train --data "$W/train.tsv" --valid "$W/valid.tsv" --task tag --out "$W/add-s$seed.bptt" --seed $seed --quiet
  bptt evaluate --model "$W/add-s$seed.bptt" --data "$W/add10k.tsv"
done
