"""Does a device synchronisation before each capture stop the refusals in bidirectional layers, and do the
paths (graphs, then none after a refusal) give the same losses? One case per process:
    python3 benchmarks/gpu_graph_debug2.py bi | bi-nosync | bi-fresh-nosync | bi-lstm | bi-gru-2l | uni-lstm-2l | bi-f64 ...
For h200-run8-final.log the cases without "nosync" ran with `cupy.cuda.runtime.deviceSynchronize()` before each
capture in `_cuda_rnn._run_loop` (a function `_sync_before_capture`, which "nosync" replaced by a no-op); it changed
nothing and was not kept, so today every case runs without it."""
import sys, traceback
import numpy as np
case = sys.argv[1]
from bptt import SGD, Batch, Model, ModelConfig, _cuda_rnn
from bptt.device import to_device
import cupy
if "nosync" in case:  # the capture without the synchronisation before it
    _cuda_rnn._sync_before_capture = lambda k: None
if "fresh" in case:  # a new capture stream for every capture
    orig = _cuda_rnn._run_loop
    def fresh(k, arrays, loop):
        _cuda_rnn._cache.pop(("capture_stream", _cuda_rnn._device()), None)
        return orig(k, arrays, loop)
    _cuda_rnn._run_loop = fresh
B, T, D, H = 64, 100, 128, 256
bi = "uni" not in case
dtype = "float64" if "f64" in case else "float32"
rng = np.random.default_rng(0)
cell = "lstm" if "lstm" in case else "gru" if "gru" in case else "rnn"
m = Model(ModelConfig(input_size=D, hidden_size=H, output_size=10, bidirectional=bi, dtype=dtype, cell=cell,
                      num_layers=2 if "2l" in case else 1), rng=rng)
m.params = to_device(m.params, "gpu")
x = cupy.asarray(rng.standard_normal((B, T, D)).astype(dtype))
y = cupy.asarray(rng.integers(0, 10, B))
opt = SGD(lr=0.01)
losses = []
try:
    for i in range(5):
        loss, g = m.loss_and_grads(Batch(x=x, y=y), check=False)
        opt.step(m.params, g)
        losses.append(float(loss))
    cupy.cuda.runtime.deviceSynchronize()
except Exception as e:
    print(case, "ERROR", "".join(traceback.format_exception(e)[-2:]))
st = _cuda_rnn.graph_stats
print(f"{case:>16}: captured {st['captured']}, replayed {st['replayed']}, refused {st['failed']}; losses {losses}")
if st["first_error"]:
    print(case, "first refusal:", st["first_error"].strip().splitlines()[-1])
