#!/bin/bash
# From the repository root on a machine with an NVIDIA GPU and CuPy: do bidirectional layers' time loops run as CUDA
# graphs, and what made CUDA refuse them on 2026-11-30?  Log: benchmarks/results/h200-run9-bi-graphs.log.
# 1. benchmarks/gpu_graph_debug3.py: twelve training steps (B=64, T=100, D=128, H=256) with graphs and without, the
#    captures counted, the losses compared; then the directions forced onto two threads, with and without the lock that runs one loop at a time.
# 2. bptt train --bidirectional --device gpu on parity strings, with graphs and without (BPTT_CUDA_GRAPH=0): the time,
#    the stderr (a refused capture says so there), and both models evaluated on the validation strings; the same
#    for one direction.
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD"
for c in "rnn-bi" "lstm-bi" "gru-bi-2l" "rnn-bi threads nolock" "rnn-bi threads" "lstm-bi threads"; do
    timeout 90 python3 benchmarks/gpu_graph_debug3.py $c 2>&1 | grep -v "^  loop:\|^  File\|^    " ; done
d=$(mktemp -d)
python3 -m bptt data make parity --lengths 1-20 --n 4000 --seed 1 --out "$d/train.tsv"
python3 -m bptt data make parity --lengths 1-20 --n 500 --seed 2 --out "$d/valid.tsv"
for bi in --bidirectional --layers=1; do for g in 1 0; do
    s=$(python3 -c 'import time; print(time.time())')
    BPTT_CUDA_GRAPH=$g timeout 200 python3 -m bptt train --data "$d/train.tsv" --valid "$d/valid.tsv" $bi \
        --device gpu --epochs 5 --out "$d/m$g.bptt" > "$d/out$g.txt" 2> "$d/err$g.txt"
    echo "$bi BPTT_CUDA_GRAPH=$g: exit $?, $(python3 -c "import time; print('%.1f' % (time.time() - $s))") s; stderr: $(cat "$d/err$g.txt")"
    tail -2 "$d/out$g.txt"
    python3 -m bptt evaluate --model "$d/m$g.bptt" --data "$d/valid.tsv" --device gpu
done; done
# 3. the timings of one training step against cuDNN, and the exactness checks (benchmarks/gpu.py)
[ -n "$NO_TIMINGS" ] || timeout 300 python3 benchmarks/gpu.py --steps 10 --variants auto stepwise-nograph \
    --models rnn:1:bi gru:1:bi lstm:1:bi lstm:2:bi lstm gru
