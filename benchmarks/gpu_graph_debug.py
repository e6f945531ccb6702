"""Which capture is refused in a bidirectional stack on CuPy, and why (one case per process)."""
import gc, sys, traceback
import numpy as np
case = sys.argv[1]
from bptt import SGD, Batch, Model, ModelConfig, _cuda_rnn
from bptt.device import to_device
import cupy
if "nogc" in case:
    gc.disable()
orig = _cuda_rnn._run_loop
log = []
def spy(k, arrays, loop):
    st = _cuda_rnn._cache.get(("capture_stream", _cuda_rnn._device()))
    log.append((arrays[0], st is not None and st.is_capturing()))
    return orig(k, arrays, loop)
_cuda_rnn._run_loop = spy
B, T, D, H = 64, 100, 128, (33 if "small" in case else 256)
bi = "uni" not in case
dtype = "float64" if "f64" in case else "float32"
rng = np.random.default_rng(0)
m = Model(ModelConfig(input_size=D, hidden_size=H, output_size=10, bidirectional=bi, dtype=dtype,
                      cell="lstm" if "lstm" in case else "rnn"), rng=rng)
m.params = to_device(m.params, "gpu")
x = cupy.asarray(rng.standard_normal((B, T, D)).astype(dtype))
y = cupy.asarray(rng.integers(0, 10, B))
opt = SGD(lr=0.01)
try:
    for i in range(4):
        loss, g = m.loss_and_grads(Batch(x=x, y=y), check="check" in case)
        opt.step(m.params, g)
        cupy.cuda.runtime.deviceSynchronize()
        print(case, "step", i, "ok", float(loss), _cuda_rnn.graph_stats["captured"], _cuda_rnn.graph_stats["replayed"],
              _cuda_rnn.graph_stats["failed"], flush=True)
except Exception as e:
    print(case, "ERROR", "".join(traceback.format_exception(e)[-3:]))
print(case, "loops:", log[:12])
if _cuda_rnn.graph_stats["first_error"]:
    print(case, "first refusal:", _cuda_rnn.graph_stats["first_error"])
