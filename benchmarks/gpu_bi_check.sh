#!/bin/bash
# From the repository root on a machine with an NVIDIA GPU, CuPy and PyTorch: why bidirectional layers refuse CUDA graphs, then their timings.
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD"
for c in bi bi-lstm bi-f64; do timeout 40 python3 benchmarks/gpu_graph_debug.py $c 2>&1 | grep -v "loops:" | tail -n 12; done
timeout 150 python3 benchmarks/gpu.py --no-exact --steps 10 --variants auto stepwise-nograph off --models rnn:1:bi lstm:2:bi gru:1:bi lstm:2 2>&1 | tee $OUT/gpu-bi2.log | grep -A40 "^summary\|CUDA graphs"
