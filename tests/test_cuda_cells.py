"""The gated cells' fused CUDA loops (``bptt._cuda_cells``), run on the CPU.

As in ``test_cuda_loops.py``: the loops call a product and three kernels per
cell; here those kernels are NumPy functions that do what each CUDA kernel's
comment says (with the cell's array-API step as the unit's arithmetic), so the
loops' own logic (which mask row goes with which step, the pad-step carry-over
of both state parts and of the gradient, the direct part of dLoss/ds^{t-1}, the
last step into s^0) is checked against the NumPy reference without a GPU.  The
CUDA source is compiled when ``nvcc`` is on the PATH; its arithmetic runs only
on a GPU (``benchmarks/gpu.py`` checks it against NumPy there, 1e-10 in float64).
"""

import shutil
import subprocess

import numpy as np
import pytest

from bptt import _cuda_cells, _cuda_rnn, cells, recurrent

from test_cuda_loops import MASKS, B, D, H, T, NumpyKernels  # the same batch, padding patterns and products


class NumpyProducts(NumpyKernels):
    """The products of ``_cuda_rnn.CupyKernels`` in NumPy, with the product on leading columns."""

    def matmul_rows(self, A, i, W, out, j):
        K, N = W.shape
        out[j][:, :N] = A[i][:, :K] @ W


class NumpyLaunches:
    """Each method does what the CUDA kernel of the same name does."""

    def __init__(self, cell):
        self.c = cell

    def fwd_step(self, S, U, Z, hb, m, t):
        GH = U.shape[2]
        s_new, saved = self.c.step(np, U[t], Z[t][:, :GH], S[t], {"b_hn": hb})
        S[t + 1] = s_new if m is None else np.where(m[t][:, None], s_new, S[t])
        Z[t] = saved

    def bwd_step(self, g, gd, gp, first, m, dS, t, S, Z, dU, dP):
        H = gp.shape[1]
        if not first:
            sent = gd.copy()
            sent[:, :H] += gp
            g[...] = sent if m is None else np.where(m[t + 1][:, None], sent, g)
        if dS is not None:
            g[:, :H] += dS[:, t]
        du, dp, g_direct = self.c.step_back(np, g, Z[t], S[t], S[t + 1])
        dp = du if dp is None else dp
        real = np.ones((g.shape[0], 1), bool) if m is None else m[t][:, None]
        dU[t] = np.where(real, du, 0.0)
        dP[t] = np.where(real, dp, 0.0)
        gd[...] = g_direct

    def bwd_finish(self, g, gd, gp, m):
        H = gp.shape[1]
        sent = gd.copy()
        sent[:, :H] += gp
        g[...] = sent if m is None else np.where(m[0][:, None], sent, g)


@pytest.mark.parametrize("name", ["gru", "lstm"])
@pytest.mark.parametrize("masking", list(MASKS))
@pytest.mark.parametrize("grads_in", ["d_states", "d_last", "both"])
def test_fused_loops_equal_the_numpy_reference(rng, name, masking, grads_in):
    c = cells.get(name)
    p = recurrent.init(D, H, cell=name, learn_s0=True, rng=rng, dtype=np.float64)
    for k in p:
        if k != "W_s":
            p[k] = rng.normal(0, 0.5, p[k].shape)
    x = rng.standard_normal((B, T, D))
    mask = MASKS[masking]
    d_states = rng.standard_normal((B, T, H)) if grads_in != "d_last" else None
    d_last = rng.standard_normal((B, H)) if grads_in != "d_states" else None
    ref_states, cache = recurrent.forward(p, x, mask=mask, cell=name)
    ref_grads, _ = recurrent.backward(p, cache, d_states, d_last=d_last)

    k, launch = NumpyProducts(), NumpyLaunches(c)
    m = None if mask is None else np.ascontiguousarray(mask.T)  # [T, B], as the layer keeps it
    G, SW = c.GATES, c.STATE_PARTS * H
    U = x.transpose(1, 0, 2) @ p["W_s"][H:] + p["b_s"]
    S = np.full((T + 1, B, SW), np.nan)
    S[0] = np.concatenate([p[n] for n in c.INITIAL])
    Z = np.full((T, B, c.SAVED * H), np.nan)
    hb = p.get(c.CUDA_BIAS) if c.CUDA_BIAS else None
    _cuda_cells.forward_loop(name, c, S, U, Z, p["W_s"], m, hb, k=k, launch=launch)
    np.testing.assert_allclose(S[1:, :, :H].transpose(1, 0, 2), ref_states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(S[-1], recurrent.final_state(cache), rtol=0, atol=1e-12)

    dU = np.full((T, B, G * H), np.nan)
    dP = dU if c.SAME_GRADIENT else np.full_like(dU, np.nan)
    g0 = _cuda_cells.backward_loop(name, c, S, Z, d_states, d_last, dU, dP, p["W_s"], m, k=k, launch=launch)
    H_prev, X = S[:-1, :, :H].reshape(T * B, H), x.transpose(1, 0, 2).reshape(T * B, D)
    dU2, dP2 = dU.reshape(T * B, G * H), dP.reshape(T * B, G * H)
    np.testing.assert_allclose(np.concatenate([H_prev.T @ dP2, X.T @ dU2]), ref_grads["W_s"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(dU2.sum(0), ref_grads["b_s"], rtol=0, atol=1e-12)
    for j, n in enumerate(c.INITIAL):
        np.testing.assert_allclose(g0[:, j * H:(j + 1) * H].sum(0), ref_grads[n], rtol=0, atol=1e-12)
    if c.CUDA_BIAS:
        np.testing.assert_allclose(dP2[:, 2 * H:].sum(0), ref_grads[c.CUDA_BIAS], rtol=0, atol=1e-12)


def test_plan_leaves_numpy_and_mode_off_to_the_generic_loop(monkeypatch):
    S = np.zeros((3, 2, 8), np.float32)
    assert not _cuda_cells.plan(S, cells.get("lstm"))
    monkeypatch.setitem(_cuda_rnn.settings, "mode", "fast")
    with pytest.raises(ValueError, match="BPTT_CUDA_RNN='fast'"):
        _cuda_cells.plan(S, cells.get("gru"))


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on the PATH")
@pytest.mark.parametrize("name", ["gru", "lstm"])
def test_cuda_source_compiles(tmp_path, name):
    src = tmp_path / "k.cu"
    src.write_text(_cuda_cells.cuda_source(name, cells.get(name)))
    r = subprocess.run(["nvcc", "-arch=sm_90", "-std=c++14", "-cubin", str(src), "-o", str(tmp_path / "k.cubin")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    symbols = (tmp_path / "k.cubin").read_bytes()  # the entry points the launches look up by name
    for kind in ("fwd_step", "bwd_step", "bwd_finish"):
        for sfx in ("f32", "f64"):
            assert f"{name}_{kind}_{sfx}\0".encode() in symbols
