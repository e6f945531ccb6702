#!/usr/bin/env bash
# The language model's defaults (bptt.train.LM_HIDDEN, default_cell, default_lr): the tutorial's cell at
# H=64 (the defaults before 2026-12-01) against the LSTM at H=64 and H=256 and the tutorial's cell at
# H=256, each run 300 s (--max-time) on one core of its own, two runs at a time, seed 0; the best
# validation loss (nats per token) is what decides.  Corpora: Shakespeare by characters and by words
# (bptt data fetch shakespeare), and Python's own standard library by characters (its *.py files, every
# 20th file, in a fixed shuffled order, for validation): text nobody chose for bptt.
#
#   bash benchmarks/lm_defaults.sh > benchmarks/results/lm-defaults.log
set -u
S=${BPTT_DATA:-$HOME/.cache/bptt}/shakespeare
W=${WORK:-$(mktemp -d)}
bptt data fetch shakespeare >/dev/null
python - "$W" <<'PY'
import glob, os, random, sys, sysconfig
files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))
random.Random(0).shuffle(files)
with open(f"{sys.argv[1]}/py_train.txt", "w") as tr, open(f"{sys.argv[1]}/py_valid.txt", "w") as va:
    for i, f in enumerate(files):
        (va if i % 20 == 0 else tr).write(open(f, encoding="utf-8", errors="replace").read())
PY
run() {  # name core train valid [options]
  local name=$1 core=$2 data=$3 valid=$4; shift 4
  {
    echo "== $name: bptt train --task lm --data $data --valid $valid --max-time 300 $* (taskset -c $core, one core)"
    taskset -c "$core" env OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1 bptt train --task lm --data "$data" \
      --valid "$valid" --max-time 300 --out "$W/$name.bptt" --quiet "$@" 2>&1
  } > "$W/$name.log"
}
RNN64=(--cell rnn --hidden 64 --lr 0.001)
run rnn64 0 "$S/train.txt" "$S/valid.txt" "${RNN64[@]}" & run lstm64 1 "$S/train.txt" "$S/valid.txt" --cell lstm --hidden 64 --lr 0.003 & wait
run rnn256 0 "$S/train.txt" "$S/valid.txt" --cell rnn --hidden 256 --lr 0.001 & run lstm256 1 "$S/train.txt" "$S/valid.txt" --cell lstm --hidden 256 --lr 0.003 & wait
run py-rnn64 0 "$W/py_train.txt" "$W/py_valid.txt" "${RNN64[@]}" & run py-lstm256 1 "$W/py_train.txt" "$W/py_valid.txt" --cell lstm --hidden 256 --lr 0.003 & wait
run word-rnn64 0 "$S/train.txt" "$S/valid.txt" --level word "${RNN64[@]}" & run word-lstm256 1 "$S/train.txt" "$S/valid.txt" --level word --cell lstm --hidden 256 --lr 0.003 & wait
# a second seed, and a small text (Shakespeare's first 200,000 training characters), where a larger model could overfit
run rnn64-seed1 0 "$S/train.txt" "$S/valid.txt" "${RNN64[@]}" --seed 1 & run lstm256-seed1 1 "$S/train.txt" "$S/valid.txt" --cell lstm --hidden 256 --lr 0.003 --seed 1 & wait
head -c 200000 "$S/train.txt" > "$W/small_train.txt"
run small-rnn64 0 "$W/small_train.txt" "$S/valid.txt" "${RNN64[@]}" & run small-lstm256 1 "$W/small_train.txt" "$S/valid.txt" --cell lstm --hidden 256 --lr 0.003 & wait
for name in rnn64 lstm64 rnn256 lstm256 py-rnn64 py-lstm256 word-rnn64 word-lstm256 rnn64-seed1 lstm256-seed1 small-rnn64 small-lstm256; do
  cat "$W/$name.log"
  best=$(grep '^epoch' "$W/$name.log" | awk '{for (i = 1; i <= NF; i++) if ($i == "valid") print $(i + 2)}' | sort -n | head -1)
  echo "-- $name: best validation loss $best"
done
