#!/bin/bash
# From the repository root on a machine with an NVIDIA GPU, CuPy and PyTorch; the MPI part needs the mpi4py and mpich
# wheels for Python 3.12 in .whl/ (pip download mpi4py==4.1.2 mpich==5.0.2 ...), as the device tool carries them.
# one device session (2026-11-30): the gated cells' fused CUDA loops and the stacks on the GPU,
# end to end with --cell lstm, MPI ranks on the GPU, the test suite there
export PYTHONUNBUFFERED=1 BPTT_DATA="$PWD/.gpu/data"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl 2>&1 | tail -1
export PYTHONPATH="$PWD:/tmp/site" PATH="/tmp/site/bin:$PATH"
set -o pipefail
d=$(mktemp -d)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import numpy, cupy, torch; print('numpy', numpy.__version__, 'cupy', cupy.__version__, 'torch', torch.__version__)"
echo "=== gpu.py: exactness (rnn, gated cells, stacks, the layer with pads anywhere), then cells and stacks against cuDNN"; s=$(date +%s)
timeout 200 python3 benchmarks/gpu.py --steps 10 --models lstm gru rnn:2 rnn:1:bi lstm:2:bi gru:1:bi 2>&1 | tee $OUT/gpu-cells.log | grep -v " OK at "
echo "gpu.py: $(( $(date +%s) - s )) s"
echo "=== end to end: --cell lstm on the GPU (trained there, read on the CPU and the GPU; resume exact)"; s=$(date +%s)
(
python3 -m bptt data make parity --lengths 1-20 --n 4000 --seed 1 --out $d/tr.tsv
python3 -m bptt data make parity --lengths 1-20 --n 500 --seed 2 --out $d/va.tsv
python3 -m bptt data make parity --lengths 21-200 --n 1000 --seed 3 --out $d/te.tsv
for dev in gpu cpu; do
  timeout 45 python3 -m bptt train --data $d/tr.tsv --valid $d/va.tsv --task classify --chars --cell lstm --device $dev \
     --max-time 30 --out $d/$dev.bptt | tail -n 3
done
for dev in cpu gpu; do echo "GPU-trained LSTM on $dev:"; python3 -m bptt evaluate --model $d/gpu.bptt --data $d/te.tsv --device $dev | head -n 2; done
timeout 40 python3 -m bptt train --data $d/tr.tsv --valid $d/va.tsv --task classify --chars --cell gru --layers 2 --bidirectional \
   --device gpu --epochs 3 --out $d/bi.bptt | tail -n 2
A="--data $d/tr.tsv --valid $d/va.tsv --task classify --chars --cell lstm --device gpu --epochs 3 --stop-perfect 0 --quiet --no-curriculum"
python3 -m bptt train $A --out $d/a.bptt && python3 -m bptt train $A --out $d/b.bptt --max-steps 200 \
  && python3 -m bptt train $A --out $d/b.bptt --resume
python3 - $d <<'PY'
import sys, numpy as np
from bptt import checkpoint
d = sys.argv[1]
a, b = checkpoint.load(d + "/a.bptt.last").model.params, checkpoint.load(d + "/b.bptt.last").model.params
print("LSTM on the GPU, resumed after --max-steps, equals the uninterrupted run:", all(np.array_equal(a[k], b[k]) for k in a))
PY
) 2>&1 | tee $OUT/e2e.log
echo "end to end: $(( $(date +%s) - s )) s"
echo "=== MPI: 1 process against 2 ranks on the GPU (float64)"; s=$(date +%s)
(
cd $d
python3 -m bptt data make addition --lengths 1-4 --n 150 --seed 1 --out add.tsv
C="--dtype float64 --epochs 2 --stop-perfect 0 --quiet --device gpu"
for job in "--data tr.tsv --valid va.tsv --task classify --hidden 8 --dropout 0.2 --batch-size 64 --no-curriculum --cell lstm" \
           "--data add.tsv --valid add.tsv --task tag --hidden 6 --batch-size 7 --no-curriculum --bidirectional --cell gru"; do
  timeout 40 python3 -m bptt train $job $C --out one.bptt && timeout 40 mpiexec -n 2 python3 -m bptt train $job $C --out two.bptt
  python3 -c "
from bptt import checkpoint; import numpy as np
a, b = checkpoint.load('one.bptt.last').model.params, checkpoint.load('two.bptt.last').model.params
print('$job'.split('--task ')[1].split()[0], '2 ranks on the GPU vs 1: worst relative difference',
      max(float(np.max(np.abs(a[k] - b[k]))) / max(1.0, float(np.max(np.abs(a[k])))) for k in a))"
done
) 2>&1 | tee $OUT/mpi-gpu.log
echo "MPI: $(( $(date +%s) - s )) s"
echo "=== test suite (python3 there)"; s=$(date +%s)
timeout 110 python3 -m pytest -q -x -n 8 -p no:cacheprovider tests 2>&1 | tee $OUT/pytest.log | tail -n 8
echo "suite: $(( $(date +%s) - s )) s"
