#!/usr/bin/env bash
# A default --patience for classifying text (words, not symbols)?  bptt train's defaults on the four
# sentence corpora of `bptt data fetch` (movie-reviews, tweets, amazon-reviews, nyt-editorials), seeds
# 0, 1, 2, all 200 epochs (--patience 0: the defaults before this script's change, which had no
# patience for classify), each run on one core of its own, two runs at a time.  Every epoch's
# validation accuracy and loss are logged; `python benchmarks/text_patience.py` replays early stopping
# on them.  Each run's kept model (its best on validation) is then scored on the test file.
# A second pass runs the same commands with --patience K (K chosen on the replay) and scores their
# kept models on the test file too: the same seed trains the same epochs, so a run stopped by patience
# keeps what the replay says.
#
#   PATIENCES=0 bash benchmarks/text_patience.sh > benchmarks/results/text-patience.log
#   python benchmarks/text_patience.py >> benchmarks/results/text-patience.log      # the replay: choose K
#   PATIENCES=K bash benchmarks/text_patience.sh >> benchmarks/results/text-patience.log
set -u
B=${BPTT_DATA:-$HOME/.cache/bptt}
W=${WORK:-$(mktemp -d)}
PATIENCES=${PATIENCES:-0}
CORPORA="movie-reviews tweets amazon-reviews nyt-editorials"
for c in $CORPORA; do bptt data fetch "$c" >/dev/null; done
run() {  # name core corpus patience seed
  local name=$1 core=$2 c=$3 p=$4 seed=$5
  {
    echo "== $name: bptt train --data $c/train.tsv --valid $c/valid.tsv --task classify --patience $p --seed $seed (taskset -c $core, one core)"
    local t0=$SECONDS
    taskset -c "$core" env OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1 bptt train --data "$B/$c/train.tsv" \
      --valid "$B/$c/valid.tsv" --task classify --patience "$p" --seed "$seed" --out "$W/$name.bptt" 2>&1
    echo "-- $name: $((SECONDS - t0)) s; test: $(bptt evaluate --model "$W/$name.bptt" --data "$B/$c/test.tsv" 2>&1 | grep accuracy)"
  } > "$W/$name.log"
}
echo "=== text_patience.sh, $(date -u +%FT%TZ), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD), --patience $PATIENCES"
for p in $PATIENCES; do
  jobs=()
  for c in $CORPORA; do for s in 0 1 2; do jobs+=("$c:$s"); done; done
  i=0
  while [ $i -lt ${#jobs[@]} ]; do
    a=${jobs[$i]}; b=${jobs[$((i + 1))]:-}
    run "${a%%:*}-p$p-s${a##*:}" 0 "${a%%:*}" "$p" "${a##*:}" &
    [ -n "$b" ] && run "${b%%:*}-p$p-s${b##*:}" 1 "${b%%:*}" "$p" "${b##*:}" &
    wait
    i=$((i + 2))
  done
  for j in "${jobs[@]}"; do cat "$W/${j%%:*}-p$p-s${j##*:}.log"; done
done
