#!/usr/bin/env bash
# bptt train's defaults for classifying text, against one change at a time: on the four sentence
# corpora of `bptt data fetch` (movie-reviews, tweets, amazon-reviews, nyt-editorials), seeds 0, 1, 2,
# each run on one core of its own, two at a time, with the default --patience for text (10 epochs
# without a better validation score).  A config is NAME=ARGS (ARGS added to the defaults).  For each
# run: its best validation accuracy (what decides), the epochs it ran, and its kept model's accuracy on
# the test file (reported, never used to choose).  A summary per config ends the log.
# TASK=regress runs the four NAME-ratings sets (each sentence's mean rating) with --task regress: its
# "valid" is the best validation loss (mean squared error in units of the training targets' variance,
# lower is better), its "test" the kept model's R^2 on the test file, and "rmse" its root mean squared
# error in rating points (-4..+4).
#
#   bash benchmarks/text_defaults.sh "defaults=" "dropout0.3=--dropout 0.3" > benchmarks/results/text-defaults.log
set -u
B=${BPTT_DATA:-$HOME/.cache/bptt}
W=${WORK:-$(mktemp -d)}
mkdir -p "$W"
TASK=${TASK:-classify}  # tag: with BPTT_DATA and CORPORA naming folders of tag files (text_tag_defaults.sh)
SETS="movie-reviews tweets amazon-reviews nyt-editorials"
[ "$TASK" = regress ] && SETS="movie-reviews-ratings tweets-ratings amazon-reviews-ratings nyt-editorials-ratings"
CORPORA=${CORPORA:-$SETS}
SEEDS=${SEEDS:-"0 1 2"}
[ "$TASK" != tag ] && for c in $CORPORA; do bptt data fetch "$c" >/dev/null; done
run() {  # tag core corpus seed args...
  local tag=$1 core=$2 c=$3 seed=$4; shift 4
  local t0=$SECONDS
  taskset -c "$core" env OPENBLAS_NUM_THREADS=1 BPTT_CPU_THREADS=1 bptt train --data "$B/$c/train.tsv" \
    --valid "$B/$c/valid.tsv" --task "$TASK" --seed "$seed" --out "$W/$tag.bptt" "$@" > "$W/$tag.train" 2>&1
  local secs=$((SECONDS - t0))
  local best epochs test test_f1
  if [ "$TASK" = regress ]; then  # the lowest validation loss
    best=$(grep '^epoch' "$W/$tag.train" | sed -n 's/.*valid loss \([0-9.e+-]*\).*/\1/p' | sort -g | head -1)
  else
    best=$(grep '^epoch' "$W/$tag.train" | sed -n 's/.*acc \([0-9.]*\)%.*/\1/p' | sort -n | tail -1)
  fi
  epochs=$(grep -c '^epoch' "$W/$tag.train")
  local kept=""
  if [ "$TASK" = tag ]; then  # the kept model: validation whole sequences / tokens / macro F1, test tokens and macro F1
    local pick='import json, sys; m = json.load(sys.stdin); print(" ".join("%.2f" % (100 * m[k]) for k in sys.argv[1:]))'
    kept=" kept-valid $(bptt evaluate --model "$W/$tag.bptt" --data "$B/$c/valid.tsv" --json |
      python -c "$pick" accuracy token_accuracy macro_f1)"
    read -r test test_f1 < <(bptt evaluate --model "$W/$tag.bptt" --data "$B/$c/test.tsv" --json |
      python -c "$pick" token_accuracy macro_f1)
    kept="$kept test-f1 $test_f1"
  elif [ "$TASK" = regress ]; then  # the kept model's test R^2, and its root mean squared error
    read -r test rmse < <(bptt evaluate --model "$W/$tag.bptt" --data "$B/$c/test.tsv" --json |
      python -c 'import json, sys; m = json.load(sys.stdin); print("%.4f %.4f" % (m["r2"], m["rmse"]))')
    kept=" rmse $rmse"
  else
    test=$(bptt evaluate --model "$W/$tag.bptt" --data "$B/$c/test.tsv" 2>&1 | sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p')
  fi
  echo "-- $tag: valid $best test $test epochs $epochs seconds $secs$kept" > "$W/$tag.res"
}
echo "=== text_defaults.sh, $(date -u +%FT%TZ), commit $(git -C "$(dirname "$0")" rev-parse --short HEAD)"
for cfg in "$@"; do
  name=${cfg%%=*}; args=${cfg#*=}
  echo "== $name: bptt train --data C/train.tsv --valid C/valid.tsv --task $TASK --seed S $args"
  jobs=()
  for c in $CORPORA; do for s in $SEEDS; do jobs+=("$c:$s"); done; done
  i=0
  while [ $i -lt ${#jobs[@]} ]; do
    a=${jobs[$i]}; b=${jobs[$((i + 1))]:-}
    # shellcheck disable=SC2086
    run "$name-${a%%:*}-s${a##*:}" 0 "${a%%:*}" "${a##*:}" $args &
    # shellcheck disable=SC2086
    [ -n "$b" ] && run "$name-${b%%:*}-s${b##*:}" 1 "${b%%:*}" "${b##*:}" $args &
    wait
    i=$((i + 2))
  done
  for j in "${jobs[@]}"; do cat "$W/$name-${j%%:*}-s${j##*:}.res"; done
  cat "$W/$name-"*.res | awk -v n="$name" '{v += $4; t += $6; e += $8; s += $10; k++}
    {if (NF >= 13) {ks += $12; kt += $13; kf += $14; tf += $16}}
    {if (NF == 12) {rm += $12}}
    END {if (rm) printf "== %s: mean of %d runs: valid loss %.4f test R2 %.4f rmse %.4f epochs %.1f seconds %d in all", n, k, v / k, t / k, rm / k, e / k, s
         else printf "== %s: mean of %d runs: valid %.2f test %.2f epochs %.1f seconds %d in all", n, k, v / k, t / k, e / k, s
         if (ks) printf "; kept models on validation: sequences %.2f tokens %.2f macro F1 %.2f (test %.2f)", ks / k, kt / k, kf / k, tf / k
         printf "\n"}'
done
