#!/bin/sh
# The whole GPU check in one go, from the repository root, on a machine with an NVIDIA GPU,
# CuPy, PyTorch and NumPy (bptt itself need not be installed):   sh benchmarks/run_gpu.sh
# 1. benchmarks/gpu.py: exactness of every CUDA variant against NumPy, then the timings against cuDNN.
# 2. End to end: train on the GPU with the command line, evaluate the saved model on the CPU and the GPU.
set -e
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv || true
python3 benchmarks/gpu.py "$@"
d=$(mktemp -d)
python3 -m bptt data make parity --lengths 1-20 --n 4000 --seed 1 --out "$d/train.tsv"
python3 -m bptt data make parity --lengths 1-20 --n 500 --seed 2 --out "$d/valid.tsv"
python3 -m bptt data make parity --lengths 21-200 --n 1000 --seed 3 --out "$d/test.tsv"
for dev in gpu cpu; do
    s=$(python3 -c 'import time; print(time.time())')
    python3 -m bptt train --data "$d/train.tsv" --valid "$d/valid.tsv" --task classify --chars --quiet \
        --out "$d/$dev.bptt" --device $dev
    python3 -c "import time; print('trained on $dev in %.1f s' % (time.time() - $s))"
done
for dev in cpu gpu; do
    echo "model trained on the GPU, evaluated on $dev:"
    python3 -m bptt evaluate --model "$d/gpu.bptt" --data "$d/test.tsv" --device $dev
done
python3 -m bptt predict --model "$d/gpu.bptt" 0110 1110101
