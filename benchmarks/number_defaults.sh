#!/usr/bin/env bash
# Choosing the defaults of `bptt train --inputs numbers` (benchmarks/number_tasks.py): the sweep of
# benchmarks/regress_defaults.sh on its tasks, each run given --inputs numbers (and --task regress for the
# sum: numbers as labels are read as classes unless told), with each of the CONFIGS below added.
#   bash benchmarks/number_defaults.sh [WORKDIR]      SEEDS (default "0"), MAX_TIME (default 60)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:-$(mktemp -d)}
export GEN=number_tasks.py SEEDS=${SEEDS:-0}
export CONFIGS=${CONFIGS:-"defaults| rnn|--cell=rnn,--no-curriculum rnn-curriculum|--cell=rnn,--curriculum lstm|--cell=lstm,--no-curriculum"}
TASKS="sign parity seen-high" ARGS="--inputs numbers" bash "$HERE/regress_defaults.sh" "$W"
TASKS="sum" ARGS="--inputs numbers --task regress" bash "$HERE/regress_defaults.sh" "$W"
