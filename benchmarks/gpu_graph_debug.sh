#!/bin/bash
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD"
# From the repository root on a machine with an NVIDIA GPU, CuPy and PyTorch; the MPI part needs the mpi4py and mpich
# wheels for Python 3.12 in .whl/ (pip download mpi4py==4.1.2 mpich==5.0.2 ...), as the device tool carries them.
for c in bi uni bi-nogc bi-f64 bi-small bi-check bi-lstm; do timeout 40 python3 benchmarks/gpu_graph_debug.py $c 2>&1 | tail -n 30; echo; done
echo "=== MPI: 2 ranks on the GPU against 1 process (float64)"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl 2>&1 | grep -v WARNING | tail -1
python3 -c "import zipfile, glob; z = zipfile.ZipFile(glob.glob('.whl/mpich-*.whl')[0]); [z.extract(n, '/tmp/mpich') for n in z.namelist() if '/data/lib/' in n]"
LIB=$(dirname $(find /tmp/mpich -name 'libmpi.so.12' | head -1)); chmod +x /tmp/site/bin/* 2>/dev/null
export PYTHONPATH="$PWD:/tmp/site" PATH="/tmp/site/bin:$PATH" MPI4PY_LIBMPI="$LIB/libmpi.so.12" LD_LIBRARY_PATH="$LIB:$LD_LIBRARY_PATH"
d=$(mktemp -d); cd $d
python3 -c "from mpi4py import MPI; print(MPI.Get_library_version().splitlines()[0])"
python3 -m bptt data make parity --lengths 1-20 --n 1000 --seed 1 --out tr.tsv > /dev/null
python3 -m bptt data make addition --lengths 1-4 --n 150 --seed 1 --out add.tsv > /dev/null
C="--dtype float64 --epochs 2 --stop-perfect 0 --quiet --device gpu"
for job in "--data tr.tsv --valid tr.tsv --task classify --hidden 8 --dropout 0.2 --batch-size 64 --no-curriculum --cell lstm" \
           "--data add.tsv --valid add.tsv --task tag --hidden 6 --batch-size 7 --no-curriculum --bidirectional --cell gru"; do
  timeout 40 python3 -m bptt train $job $C --out one.bptt > /dev/null && timeout 40 mpiexec -n 2 python3 -m bptt train $job $C --out two.bptt 2>&1 | tail -n 3
  python3 -c "
from bptt import checkpoint; import numpy as np
a, b = checkpoint.load('one.bptt.last').model.params, checkpoint.load('two.bptt.last').model.params
print('$job'.split('--task ')[1].split()[0], '2 ranks on one GPU vs 1 process: worst relative difference of the weights',
      max(float(np.max(np.abs(a[k] - b[k]))) / max(1.0, float(np.max(np.abs(a[k])))) for k in a))" 2>&1 | tail -n 1
done
