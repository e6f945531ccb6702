"""Why CUDA refuses to capture a bidirectional layer's backward loops as graphs (one case per process).

    python3 benchmarks/gpu_graph_debug3.py CASE [FIX ...]

CASE is CELL-DIRS[-2l][-f64] (``rnn-bi``, ``lstm-bi-2l``, ``rnn-uni``); five training steps of a model with
B=64, T=100, D=128, H=256 on CuPy.  Every time loop handed to ``_cuda_rnn._run_loop`` is logged with the depth of
nesting, the thread it runs on and the capture stream's state; a loop entered inside another's capture, or off the
main thread, gets its stack printed, and so does every call of ``bptt._cpu.side_by_side`` (the CPU's two-thread split
of a bidirectional layer).  The first refused capture is printed with its whole traceback.  Then the losses, beside
those of the same steps without graphs, and the median time of a step.  FIX: ``gc`` (no garbage collection during a
capture), ``sync`` (the current stream synchronised before each capture), ``global`` (capture in
cudaStreamCaptureModeGlobal: an unsafe call on this thread fails where it is made), ``nothreads``
(``BPTT_CPU_THREADS=1``: bptt never splits work across threads).  To reproduce what an H200 refused on 2026-11-30,
``threads`` runs a layer's two directions on two threads (``bptt._cpu.side_by_side``) as the backward of a
many-to-one model did then on CuPy, having taken the namespace of its gradient, a list, for NumPy's; ``nolock``
lets two threads run time loops at once (``_cuda_rnn._run`` runs one at a time since 2026-12-04)."""
import os
import sys

case, fixes = sys.argv[1], set(sys.argv[2:])
if "nothreads" in fixes:
    os.environ["BPTT_CPU_THREADS"] = "1"
import gc  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

import cupy  # noqa: E402
import numpy as np  # noqa: E402

from bptt import SGD, Batch, Model, ModelConfig, _cpu, _cuda_rnn  # noqa: E402
from bptt.device import to_device  # noqa: E402

runtime = cupy.cuda.runtime
depth = [0]
events = []


def capture_state():
    st = _cuda_rnn._cache.get(("capture_stream", _cuda_rnn._device()))
    if st is None:
        return "no stream"
    try:
        return "capturing" if runtime.streamIsCapturing(st.ptr) else "idle"
    except Exception as e:  # an invalidated capture raises here
        return f"{type(e).__name__}: {e}"


orig_run_loop = _cuda_rnn._run_loop


def spy(k, arrays, loop):
    ev = f"{arrays[0]:>9} depth {depth[0]} thread {threading.current_thread().name} capture stream {capture_state()}"
    if depth[0] or threading.current_thread() is not threading.main_thread():
        ev += "\n" + "".join(traceback.format_stack(limit=30))
    events.append(ev)
    depth[0] += 1
    try:
        return orig_run_loop(k, arrays, loop)
    finally:
        depth[0] -= 1


_cuda_rnn._run_loop = spy
orig_sbs = _cpu.side_by_side


def sbs(fns):
    events.append("side_by_side called from\n" + "".join(traceback.format_stack(limit=12)))
    return orig_sbs(fns)


_cpu.side_by_side = sbs
import bptt.stack  # noqa: E402

bptt.stack._cpu.side_by_side = sbs

orig_capture = _cuda_rnn._capture


def capture(k, stream, loop):
    if "sync" in fixes:
        cupy.cuda.get_current_stream().synchronize()
    enabled = gc.isenabled()
    if "gc" in fixes:
        gc.disable()
    try:
        return orig_capture(k, stream, loop, mode=runtime.streamCaptureModeGlobal if "global" in fixes else None)
    finally:
        if enabled:
            gc.enable()


_cuda_rnn._capture = capture
if "threads" in fixes:
    bptt.stack._both = lambda xp, fns, rows, cell, H: sbs(fns)
if "nolock" in fixes:  # as before 2026-12-04: loops of two threads at once
    import contextlib

    _cuda_rnn._lock = contextlib.nullcontext()
parts = case.split("-")
cell, bi, two, f64 = parts[0], "bi" in parts, "2l" in parts, "f64" in parts
B, T, D, H = 64, 100, 128, 256
dtype = "float64" if f64 else "float32"


def run(graphs: bool, steps: int):
    _cuda_rnn.settings["graph"] = graphs
    rng = np.random.default_rng(0)
    m = Model(ModelConfig(input_size=D, hidden_size=H, output_size=10, bidirectional=bi, dtype=dtype, cell=cell,
                          num_layers=2 if two else 1), rng=rng)
    m.params = to_device(m.params, "gpu")
    x = cupy.asarray(rng.standard_normal((B, T, D)).astype(dtype))
    y = cupy.asarray(rng.integers(0, 10, B))
    opt = SGD(lr=0.01)
    losses, times = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss, g = m.loss_and_grads(Batch(x=x, y=y), check=False)
        opt.step(m.params, g)
        runtime.deviceSynchronize()
        times.append(time.perf_counter() - t0)
        losses.append(float(loss))
    return losses, 1e3 * statistics.median(times[2:])


label = f"{case} {'+'.join(sorted(fixes)) or 'as is'}"
try:
    losses, ms = run(True, 12)
except Exception as e:
    print(label, "ERROR", "".join(traceback.format_exception(e)))
    losses, ms = [], float("nan")
st = _cuda_rnn.graph_stats
print(f"{label}: captured {st['captured']}, replayed {st['replayed']}, refused {st['failed']}; "
      f"step {ms:.2f} ms; threads alive {threading.active_count()}")
for ev in events[:12]:
    print("  loop:", ev)
if any("side_by_side" in ev for ev in events):
    print("  side_by_side was called", sum("side_by_side" in ev for ev in events), "times")
if st["first_error"]:
    print(label, "first refusal:\n" + st["first_error"])
events.clear()
plain, ms0 = run(False, 12)
same = losses == plain
print(f"{label}: losses {'the same as' if same else 'NOT the same as'} without graphs "
      f"(last {losses[-1] if losses else None} vs {plain[-1]}); step without graphs {ms0:.2f} ms")
