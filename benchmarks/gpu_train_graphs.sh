#!/bin/bash
# From the repository root on a machine with an NVIDIA GPU and CuPy: CUDA graphs in whole training runs (bptt train
# --device gpu), with graphs (BPTT_CUDA_GRAPH=1, bptt's default) and without (0): the wall time, the graphs'
# counts and the validation accuracy; on parity strings of lengths 1-20 (batches of varying lengths, a length
# curriculum) and of length 20 alone (every batch the same shape), one direction and both.  Then one training step
# against cuDNN (benchmarks/gpu.py).  Log: benchmarks/results/h200-run10-train-graphs.log.
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD"
d=$(mktemp -d)
python3 -m bptt data make parity --lengths 1-20 --n 4000 --seed 1 --out "$d/train.tsv" > /dev/null
python3 -m bptt data make parity --lengths 1-20 --n 500 --seed 2 --out "$d/valid.tsv" > /dev/null
python3 -m bptt data make parity --lengths 20 --n 4000 --seed 1 --out "$d/train20.tsv" > /dev/null
python3 -m bptt data make parity --lengths 20 --n 500 --seed 2 --out "$d/valid20.tsv" > /dev/null
for data in "" 20; do for bi in --bidirectional --layers=1; do for g in 1 0; do
    BPTT_CUDA_GRAPH=$g timeout 200 python3 -c "
import sys, time
from bptt import cli, _cuda_rnn
t = time.time()
rc = cli.main(['train', '--data', '$d/train$data.tsv', '--valid', '$d/valid$data.tsv', '$bi', '--device', 'gpu',
               '--epochs', '5', '--quiet', '--out', '$d/m.bptt'] + (['--no-curriculum'] if '$data' else []))
st = {k: v for k, v in _cuda_rnn.graph_stats.items() if k != 'first_error'}
print('lengths', '$data' or '1-20', '$bi', 'BPTT_CUDA_GRAPH=$g', 'exit', rc, '%.1f s' % (time.time() - t), st)
" 2>&1 | grep -v "^best model\|^task \|^reading \|^length curr"
    python3 -m bptt evaluate --model "$d/m.bptt" --data "$d/valid$data.tsv" --device gpu
done; done; done
timeout 200 python3 benchmarks/gpu.py --no-exact --steps 10 --variants auto stepwise-nograph --models lstm:1:bi lstm \
    --rows 64,100,128,256 128,100,256,512 2>&1 | grep -A30 "^summary\|^CUDA graphs"
