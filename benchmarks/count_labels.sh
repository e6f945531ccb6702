#!/bin/bash
# A new user's counts (2026-12-04): strings of a and b, the label how many a's; 3,000 training and 500 validation
# strings of lengths 1-40, 1,000 test strings of lengths 41-200.  The defaults (the labels read as 30 classes: the
# run says so), then --task regress (the LSTM), then --task regress --cell rnn --activation identity, each evaluated on
# the test strings.   bash benchmarks/count_labels.sh DIR     (log: benchmarks/results/count-labels.log)
set -u
d=${1:?usage: count_labels.sh DIR}
mkdir -p "$d"
python3 - "$d" <<'PY'
import random, sys
d = sys.argv[1]
for name, n, lo, hi, seed in (("train", 3000, 1, 40, 1), ("valid", 500, 1, 40, 2), ("test", 1000, 41, 200, 3)):
    r = random.Random(seed)
    with open(f"{d}/{name}.tsv", "w") as f:
        f.write("text\tcount\n")
        for _ in range(n):
            s = "".join(r.choice("ab") for _ in range(r.randint(lo, hi)))
            f.write(f"{s}\t{s.count('a')}\n")
PY
for run in "defaults=" "regress=--task regress" "regress-identity=--task regress --cell rnn --activation identity"; do
    name=${run%%=*}; opts=${run#*=}
    echo "=== $name: bptt train --data train.tsv --valid valid.tsv $opts"
    s=$(date +%s)
    python3 -m bptt train --data "$d/train.tsv" --valid "$d/valid.tsv" $opts --quiet --out "$d/$name.bptt" 2>&1 \
        | grep -v "^epoch"
    echo "($(( $(date +%s) - s )) s)"
    echo "--- bptt evaluate --model $name.bptt --data test.tsv"
    python3 -m bptt evaluate --model "$d/$name.bptt" --data "$d/test.tsv" 2>&1
done
