#!/bin/bash
# bptt predict on one very long line (5,000,000 characters), the whole command's time and peak resident memory, for an
# LSTM classifier and a tagger of the tutorial's cell (one direction), both trained briefly on parity strings, and
# (MODELS="bitag bicls") the default tagger of symbols (the tutorial's cell, both directions) and a bidirectional LSTM
# classifier:
#   bash benchmarks/predict_long_line.sh DIR        (the bptt on PYTHONPATH; log benchmarks/results/predict-long-line.log)
#   N=2000000 MODELS="bitag bicls" bash benchmarks/predict_long_line.sh DIR
set -eu
d=${1:?usage: predict_long_line.sh DIR}
N=${N:-5000000}
mkdir -p "$d"
python3 -m bptt data make parity --lengths 1-20 --n 2000 --seed 1 --out "$d/train.tsv" > /dev/null
python3 - "$d" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(2)
with open(f"{d}/tags.tsv", "w") as f:  # the parity so far, at every step
    for _ in range(2000):
        s = "".join(r.choice("01") for _ in range(r.randint(1, 20)))
        f.write(s + "\t" + " ".join(str(s[:i + 1].count("1") % 2) for i in range(len(s))) + "\n")
PY
[ -f "$d/cls.bptt" ] || python3 -m bptt train --data "$d/train.tsv" --epochs 3 --quiet --out "$d/cls.bptt" > /dev/null
[ -f "$d/tag.bptt" ] || python3 -m bptt train --data "$d/tags.tsv" --task tag --no-bidirectional --epochs 3 --quiet \
    --out "$d/tag.bptt" > /dev/null
[ -f "$d/bitag.bptt" ] || python3 -m bptt train --data "$d/tags.tsv" --task tag --epochs 3 --quiet \
    --out "$d/bitag.bptt" > /dev/null
[ -f "$d/bicls.bptt" ] || python3 -m bptt train --data "$d/train.tsv" --bidirectional --epochs 3 --quiet \
    --out "$d/bicls.bptt" > /dev/null
python3 -c "import random; r = random.Random(3); print(''.join(r.choice('01') for _ in range($N)))" > "$d/long.txt"
for m in ${MODELS:-cls tag}; do
    /usr/bin/time -f "$m: %e s, peak resident %M KB" python3 -m bptt predict --model "$d/$m.bptt" --data "$d/long.txt" \
        > "$d/$m.out"
    echo "$m output: $(head -c 60 "$d/$m.out") ($(wc -c < "$d/$m.out") bytes, md5 $(md5sum < "$d/$m.out" | cut -c1-12))"
done
