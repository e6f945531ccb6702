"""The CUDA path's stepwise time loops (``bptt._cuda_rnn``), run on the CPU.

The loops call a small set of kernels (a product and three fused elementwise
steps).  Here those kernels are NumPy functions that do what each CUDA kernel's
comment says, so the loops' own logic (which mask row goes with which
product, the pad-step carry-over of the gradient, the last step into s^0) is
checked against the NumPy reference without a GPU.  The CUDA source itself is
compiled when ``nvcc`` is on the PATH; it runs only on a GPU
(``benchmarks/gpu.py`` checks it against NumPy there).
"""

import shutil
import subprocess
import types

import numpy as np
import pytest

from bptt import _cuda_rnn, rnn
from bptt.activations import get as get_activation

B, T, D, H = 4, 7, 3, 5
MASKS = {
    "none": None,
    "right_padded": np.arange(T)[None, :] < np.array([7, 1, 4, 6])[:, None],
    "pads_anywhere": np.array([
        [False, True, True, False, True, True, False],
        [True, False, False, True, True, False, True],
        [True, True, True, True, True, True, True],
        [False, False, False, False, False, False, True],
    ]),
}


class NumpyKernels:
    """Each method does what the CUDA kernel of the same name does."""

    cp = types.SimpleNamespace(ascontiguousarray=np.ascontiguousarray, zeros=np.zeros, empty=np.empty)
    _blas = object()  # as the cuBLAS product: no transposed copy of W_h is asked for
    _tf32 = False
    can_capture = False  # no CUDA graphs: the loops run step by step

    def matmul(self, A, i, W, out, j):
        np.matmul(A[i], W, out=out[j])

    def matmul_t(self, A, i, W, W_T, out):
        assert W_T is None
        np.matmul(A[i], W.T, out=out)

    def fwd_step(self, S, U, m, t, act):
        f, _ = get_activation(_name(act))
        s = f(np, S[t + 1] + U[t])
        if m is not None:
            s = np.where(m[t][:, None], s, S[t])
        S[t + 1] = s

    def bwd_step(self, g, gp, use_gp, m, dS, t, S, dA, act):
        _, fp = get_activation(_name(act))
        if use_gp:
            g[...] = gp if m is None else np.where(m[t + 1][:, None], gp, g)
        if dS is not None:
            g += dS[:, t]
        d = g * fp(np, S[t + 1])
        dA[t] = d if m is None else np.where(m[t][:, None], d, 0.0)

    def bwd_finish(self, g, gp, m):
        g[...] = gp if m is None else np.where(m[0][:, None], gp, g)


def _name(act):
    return {v: k for k, v in _cuda_rnn.ACTIVATIONS.items()}[act]


@pytest.mark.parametrize("activation", sorted(_cuda_rnn.ACTIVATIONS))
@pytest.mark.parametrize("masking", list(MASKS))
@pytest.mark.parametrize("grads_in", ["d_states", "d_last", "both"])
def test_stepwise_loops_equal_the_numpy_reference(rng, activation, masking, grads_in):
    p = rnn.init(D, H, learn_s0=True, rng=rng, dtype=np.float64)
    p["b_s"], p["s0"] = rng.normal(0, 0.3, H), rng.normal(0, 0.5, H)
    x = rng.standard_normal((B, T, D))
    mask = MASKS[masking]
    d_states = rng.standard_normal((B, T, H)) if grads_in != "d_last" else None
    d_last = rng.standard_normal((B, H)) if grads_in != "d_states" else None
    ref_states, cache = rnn.forward(p, x, mask=mask, activation=activation)
    ref_grads, _ = rnn.backward(p, cache, d_states, d_last=d_last)

    k = NumpyKernels()
    m = None if mask is None else np.ascontiguousarray(mask.T)  # [T, B], as rnn.forward keeps it
    U = x.transpose(1, 0, 2) @ p["W_s"][H:] + p["b_s"]
    S = np.full((T + 1, B, H), np.nan)
    S[0] = p["s0"]
    _cuda_rnn.forward_loop("stepwise", S, U, p["W_s"], m, activation, k=k)
    np.testing.assert_allclose(S[1:].transpose(1, 0, 2), ref_states, rtol=0, atol=1e-12)

    dA = np.full((T, B, H), np.nan)
    g0 = _cuda_rnn.backward_loop("stepwise", S, d_states, d_last, dA, p["W_s"], m, activation, k=k)
    S_prev, X = S[:-1].reshape(T * B, H), x.transpose(1, 0, 2).reshape(T * B, D)
    dA2 = dA.reshape(T * B, H)
    np.testing.assert_allclose(np.concatenate([S_prev.T @ dA2, X.T @ dA2]), ref_grads["W_s"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(dA2.sum(0), ref_grads["b_s"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(g0.sum(0), ref_grads["s0"], rtol=0, atol=1e-12)


def test_plan_leaves_non_cupy_arrays_to_the_generic_loop():
    S = np.zeros((3, 2, 4), np.float32)
    assert _cuda_rnn.plan(S, "tanh") is None


def test_unknown_mode_is_refused_by_name(monkeypatch):
    monkeypatch.setitem(_cuda_rnn.settings, "mode", "fast")
    with pytest.raises(ValueError, match="BPTT_CUDA_RNN='fast'"):
        _cuda_rnn.plan(np.zeros((2, 1, 3)), "tanh")


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on the PATH")
def test_cuda_source_compiles(tmp_path):
    src = tmp_path / "k.cu"
    src.write_text(_cuda_rnn.cuda_source())
    r = subprocess.run(["nvcc", "-arch=sm_90", "-std=c++14", "-cubin", str(src), "-o", str(tmp_path / "k.cubin")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_a_refused_graph_capture_runs_the_loop_and_turns_graphs_off(monkeypatch, capsys):
    """CUDA may refuse to capture a loop (seen on an H200 in bidirectional layers): the loop then runs as it
    is, the capture is ended, and no graph is captured or replayed in this process any more."""
    ended = []

    class Stream:
        def __init__(self, non_blocking=False):
            self.capturing = False

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def begin_capture(self):
            self.capturing = True
            raise RuntimeError("cudaErrorIllegalState")  # as CuPy raises it after the capture began

        def end_capture(self):
            raise RuntimeError("capture invalidated")  # and ending it fails too: the stream stays capturing

        def is_capturing(self):
            return self.capturing

    class K:
        _tf32, can_capture = False, True
        cp = types.SimpleNamespace(cuda=types.SimpleNamespace(
            Stream=Stream, runtime=types.SimpleNamespace(streamEndCapture=lambda ptr: ended.append(ptr))))

        def begin_capture(self, stream):
            pass

        def end_capture(self):
            pass

    for key in [k for k in _cuda_rnn._cache if k[0] == "capture_stream"]:
        monkeypatch.delitem(_cuda_rnn._cache, key)
    monkeypatch.setitem(_cuda_rnn.settings, "graph", True)
    monkeypatch.setitem(_cuda_rnn.graph_stats, "first_error", None)
    monkeypatch.setattr(_cuda_rnn, "_device", lambda: 0)
    Stream.ptr = 7
    ran = []
    _cuda_rnn._run_loop(K(), ("fwd", 1), lambda: ran.append(1))
    assert ran == [1]  # the loop ran, once, outside any capture
    assert ended == [7]  # the capture left open was ended
    assert _cuda_rnn.settings["graph"] is False
    assert "refused" in capsys.readouterr().err
    _cuda_rnn._run_loop(K(), ("fwd", 2), lambda: ran.append(2))
    assert ran == [1, 2]  # no capture tried any more


def test_one_time_loop_runs_at_a_time_whatever_the_thread():
    """The kernels' object, its cuBLAS handles, the capture stream and the graphs are shared: two threads
    running loops at once broke each other's CUDA graph captures and, beside a capture, sent their products
    into it (wrong losses, on an H200).  Loops from several threads run one after the other."""
    import threading
    import time

    class K:
        _tf32, can_capture = False, False

    log = []

    def loop(name):
        log.append(("in", name))
        time.sleep(0.05)  # long enough for the other thread to come in, were it let in
        log.append(("out", name))

    threads = [threading.Thread(target=_cuda_rnn._run, args=(K(), ("fwd", i), lambda i=i: loop(i))) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(log) == 6
    assert all(log[j][0] == "in" and log[j + 1] == ("out", log[j][1]) for j in range(0, 6, 2)), log
