#!/usr/bin/env bash
# A new user's try beyond regular languages: three counting languages (benchmarks/counting_tasks.py),
# 3,000 training strings of lengths 1-40, 500 validation strings of lengths 1-40, 1,000 test strings of
# lengths 41-200; `bptt train` with nothing but --data --valid --out --seed (seeds 0-2), then
# `bptt evaluate` on the test file.
#   bash benchmarks/counting_tasks.sh [WORKDIR]
set -euo pipefail
W=${1:-$(mktemp -d)}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$W" && cd "$W"
echo "=== counting languages, bptt's defaults ($(date -u +%FT%TZ), commit $(git -C "$HERE" rev-parse --short HEAD))"
for t in dyck majority anbn; do
  python "$HERE/counting_tasks.py" $t 1 40 3000 1 > $t.train.tsv
  python "$HERE/counting_tasks.py" $t 1 40 500 2 > $t.valid.tsv
  python "$HERE/counting_tasks.py" $t 41 200 1000 3 > $t.test.tsv
  for seed in 0 1 2; do
    s=$(date +%s)
    bptt train --data $t.train.tsv --valid $t.valid.tsv --out $t.$seed.bptt --seed $seed > $t.$seed.log 2>&1
    took=$(( $(date +%s) - s ))
    [ $seed = 0 ] && sed -n '1,5p' $t.$seed.log | sed "s/^/  $t: /"
    echo "$t seed $seed: $(grep -c '^epoch' $t.$seed.log) epochs, ${took} s; $(tail -2 $t.$seed.log | head -1)"
    echo "  test (lengths 41-200): $(bptt evaluate --model $t.$seed.bptt --data $t.test.tsv)"
    bptt evaluate --model $t.$seed.bptt --data $t.test.tsv --by-length --json > $t.$seed.bylen.json
    echo "  the shortest test length below 100%: $(python -c 'import json, sys
by = json.load(open(sys.argv[1]))["by_length"]
print(min((int(k) for k, v in by.items() if v["accuracy"] < 1), default="none"))' $t.$seed.bylen.json)"
  done
done
