#!/bin/bash
# From the repository root on a machine with an NVIDIA GPU and CuPy: where the time of a bidirectional LSTM's training
# on parity strings of lengths 1-20 goes with CUDA graphs (cProfile, the 45 most costly calls by cumulative time).
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD"
d=$(mktemp -d)
python3 -m bptt data make parity --lengths 1-20 --n 4000 --seed 1 --out "$d/train.tsv" > /dev/null
python3 -m bptt data make parity --lengths 1-20 --n 500 --seed 2 --out "$d/valid.tsv" > /dev/null
timeout 120 python3 -c "
import cProfile, pstats, time
from bptt import cli, _cuda_rnn
t = time.time()
cProfile.run(\"cli.main(['train', '--data', '$d/train.tsv', '--valid', '$d/valid.tsv', '--bidirectional', '--device', 'gpu', '--epochs', '2', '--quiet', '--out', '$d/m.bptt'])\", '$d/prof')
print('%.1f s' % (time.time() - t), {k: v for k, v in _cuda_rnn.graph_stats.items() if k != 'first_error'})
pstats.Stats('$d/prof').sort_stats('cumulative').print_stats(45)
pstats.Stats('$d/prof').sort_stats('tottime').print_stats(15)
" 2>&1 | grep -v "^best model\|^task \|^reading \|^length curr"
