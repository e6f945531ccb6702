r"""Fused CUDA loops for the gated cells (GRU, LSTM) when the layer's arrays are CuPy's.

:mod:`bptt.recurrent` stays the one implementation of the algorithm; on CuPy
arrays it hands only its two time loops to this module.  Per step, as the
tutorial cell's ``stepwise`` loop (:mod:`bptt._cuda_rnn`):

* forward: one cuBLAS product ``h^{t-1} @ W_s[:H]`` written into the step's
  saved values ``Z[t]``, then one kernel that runs the cell for every unit of
  every row (its gates, the new state) and carries the whole state over on a
  pad step;
* backward: one kernel that forms dLoss/ds^t (what step t+1 sent back, or on a
  pad step the gradient passed on unchanged, plus the step's own loss), runs
  the cell's backward into dLoss/d(pre-activation) and the part of
  dLoss/ds^{t-1} that skips the product, then one cuBLAS product
  ``dp^t @ W_s[:H]^T``.

The ``2 T`` launches of each loop are captured once as a CUDA graph and replayed
(``_cuda_rnn._run``).  A cell brings its step as CUDA C++ (its module's ``CUDA``:
``<cell>_forward`` and ``<cell>_backward`` for one unit of one row, and
``CUDA_BIAS``, the name of a bias of its own, or None); this module wraps it in
the loops' kernels.  ``BPTT_CUDA_RNN=off`` (or ``BPTT_CUDA_GEMM=cupy``) leaves
the cells to the generic array-API loop of :mod:`bptt.recurrent`, which is also
used for per-step gradient norms.

Shapes: ``T`` steps, ``B`` rows, ``H`` units, ``G`` gate blocks, ``P`` state parts
(``S`` [T+1, B, P*H]), ``Z`` [T, B, SAVED*H], ``U`` [T, B, G*H].
"""

from __future__ import annotations

import numpy as np

from . import _cuda_rnn

_PRELUDE = r"""
__device__ __forceinline__ float bptt_tanh(float a) { return tanhf(a); }
__device__ __forceinline__ double bptt_tanh(double a) { return tanh(a); }
template <typename F> __device__ __forceinline__ F bptt_sigmoid(F a) { return F(0.5) * (bptt_tanh(F(0.5) * a) + F(1)); }
"""

# CELL, NG (gate blocks), NP (state parts), NZ (saved values per unit) are replaced per cell
_LOOPS = r"""
// forward at step t, after Z[t][:, :NG*H] = h^{t-1} @ W_s[:H]: the cell's step on unit j of row b
// (a pad step carries the whole state over)
template <typename F> __device__ void CELL_fwd_step(F* Snext, const F* Sprev, const F* U, F* Z, const F* hb,
                                                    const bool* m, int has_mask, int B, int H) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < B * H; i += gridDim.x * blockDim.x) {
        const int b = i / H, j = i - (i / H) * H;
        CELL_forward<F>(j, H, U + (size_t)b * NG * H, Z + (size_t)b * NZ * H, Sprev + (size_t)b * NP * H,
                        Snext + (size_t)b * NP * H, hb, !has_mask || m[b]);
    }
}

// backward at step t (t = T-1 .. 0):
//   g = (m[t+1] ? gd + [gp, 0] : g) + [dS[:, t], 0]   total dLoss/ds^t: from a real step t+1 its direct part
//                                                      gd plus gp = dp^{t+1} @ W_s[:H]^T; a pad step passed g on
//   dU[t], dP[t], gd = the cell's backward at step t   (zero dU, dP on a pad step)
template <typename F> __device__ void CELL_bwd_step(F* g, F* gd, const F* gp, int first, const bool* m_next,
                                                    const bool* m_t, int has_mask, const F* dS, int has_dS,
                                                    int t, int T, const F* Sprev, const F* Snext, const F* Z,
                                                    F* dU, F* dP, int B, int H) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < B * H; i += gridDim.x * blockDim.x) {
        const int b = i / H, j = i - (i / H) * H;
        F* gr = g + (size_t)b * NP * H;
        F* gdr = gd + (size_t)b * NP * H;
        if (!first && (!has_mask || m_next[b])) {
            gr[j] = gdr[j] + gp[(size_t)b * H + j];
            for (int q = 1; q < NP; ++q) gr[q * H + j] = gdr[q * H + j];
        }
        if (has_dS) gr[j] += dS[((size_t)b * T + t) * H + j];
        CELL_backward<F>(j, H, gr, Sprev + (size_t)b * NP * H, Snext + (size_t)b * NP * H, Z + (size_t)b * NZ * H,
                         dU + (size_t)b * NG * H, dP + (size_t)b * NG * H, gdr, !has_mask || m_t[b]);
    }
}

// after the last backward step: g = dLoss/ds^0 (a pad step at t = 0 passes g on)
template <typename F> __device__ void CELL_bwd_finish(F* g, const F* gd, const F* gp, const bool* m0, int has_mask,
                                                      int B, int H) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < B * H; i += gridDim.x * blockDim.x) {
        const int b = i / H, j = i - (i / H) * H;
        if (has_mask && !m0[b]) continue;
        F* gr = g + (size_t)b * NP * H;
        const F* gdr = gd + (size_t)b * NP * H;
        gr[j] = gdr[j] + gp[(size_t)b * H + j];
        for (int q = 1; q < NP; ++q) gr[q * H + j] = gdr[q * H + j];
    }
}
"""

_WRAPPERS = r"""
extern "C" {
__global__ void CELL_fwd_step_SFX(F* Snext, const F* Sprev, const F* U, F* Z, const F* hb, const bool* m,
                                  int has_mask, int B, int H)
{ CELL_fwd_step<F>(Snext, Sprev, U, Z, hb, m, has_mask, B, H); }
__global__ void CELL_bwd_step_SFX(F* g, F* gd, const F* gp, int first, const bool* m_next, const bool* m_t,
                                  int has_mask, const F* dS, int has_dS, int t, int T, const F* Sprev,
                                  const F* Snext, const F* Z, F* dU, F* dP, int B, int H)
{ CELL_bwd_step<F>(g, gd, gp, first, m_next, m_t, has_mask, dS, has_dS, t, T, Sprev, Snext, Z, dU, dP, B, H); }
__global__ void CELL_bwd_finish_SFX(F* g, const F* gd, const F* gp, const bool* m0, int has_mask, int B, int H)
{ CELL_bwd_finish<F>(g, gd, gp, m0, has_mask, B, H); }
}
"""


def cuda_source(name: str, cell) -> str:
    """The fused loops' CUDA C++ for one cell (``name``, its module ``cell``), float32 and float64."""
    loops = (_LOOPS.replace("CELL", name).replace("NG", str(cell.GATES)).replace("NP", str(cell.STATE_PARTS))
             .replace("NZ", str(cell.SAVED)))
    wrappers = "".join(_WRAPPERS.replace("CELL", name).replace("SFX", s).replace("F*", f"{F}*").replace("<F>", f"<{F}>")
                       for F, s in (("float", "f32"), ("double", "f64")))
    return _PRELUDE + cell.CUDA + loops + wrappers


def plan(S, cell) -> bool:
    """Whether the fused loops run for states ``S`` [T+1, B, P*H] of ``cell`` (a module of
    :mod:`bptt.cells`); False leaves them to the generic loop."""
    mode = _cuda_rnn.settings["mode"]
    if mode not in _cuda_rnn.MODES:
        raise ValueError(f"BPTT_CUDA_RNN={mode!r} is not known; choose one of {list(_cuda_rnn.MODES)}")
    return (mode != "off" and _cuda_rnn.is_cupy(S) and getattr(cell, "CUDA", None) is not None
            and S.dtype.name in ("float32", "float64") and _cuda_rnn.settings["gemm"] == "cublas")


_cache: dict = {}


def _kernel(name: str, cell, kind: str, dtype):
    key = (name, kind, dtype.name, _cuda_rnn._device())
    if key not in _cache:
        mkey = ("module", name, _cuda_rnn._device())
        if mkey not in _cache:
            import cupy

            _cache[mkey] = cupy.RawModule(code=cuda_source(name, cell), options=("--std=c++14",))
        _cache[key] = _cache[mkey].get_function(f"{name}_{kind}_{'f32' if dtype.name == 'float32' else 'f64'}")
    return _cache[key]


class CellLaunches:
    """The cell's three kernels on CuPy arrays, launched at raw addresses of step ``t``'s rows
    (as :class:`bptt._cuda_rnn.CupyKernels` does: making a view costs the host more)."""

    def __init__(self, name: str, cell, k):
        self.name, self.cell, self.k = name, cell, k

    def _launch(self, kind, n, args):
        _kernel(self.name, self.cell, kind, self.k.dtype)((_cuda_rnn._grid(n),), (256,), args)

    def fwd_step(self, S, U, Z, hb, m, t):
        k = self.k
        B, H = S.shape[1], U.shape[2] // self.cell.GATES
        self._launch("fwd_step", B * H, (k._row(S, t + 1), k._row(S, t), k._row(U, t), k._row(Z, t),
                                         k._opt(hb)[0], *k._m(m, t), np.int32(B), np.int32(H)))

    def bwd_step(self, g, gd, gp, first, m, dS, t, S, Z, dU, dP):
        k = self.k
        T, B = Z.shape[0], Z.shape[1]
        H = dU.shape[2] // self.cell.GATES
        m_next, has = k._m(m, t if first else t + 1)
        m_t, _ = k._m(m, t)
        self._launch("bwd_step", B * H, (g, gd, gp, np.int32(first), m_next, m_t, has, *k._opt(dS), np.int32(t),
                                         np.int32(T), k._row(S, t), k._row(S, t + 1), k._row(Z, t), k._row(dU, t),
                                         k._row(dP, t), np.int32(B), np.int32(H)))

    def bwd_finish(self, g, gd, gp, m):
        k = self.k
        B, H = gp.shape
        self._launch("bwd_finish", B * H, (g, gd, gp, *k._m(m, 0), np.int32(B), np.int32(H)))


def forward_loop(name: str, cell, S, U, Z, W_s, m, hb, k=None, launch=None):
    """Fill ``S[1:]`` from ``S[0]`` and ``U`` [T, B, G*H] (``i^t @ W_s[H:] + b_s``), and ``Z``.

    ``m`` [T, B] bool or None; ``hb`` the cell's own bias (``CUDA_BIAS``) or None."""
    k = k or _cuda_rnn.kernels_for(S)
    launch = launch or CellLaunches(name, cell, k)
    T, B, GH = U.shape
    H = GH // cell.GATES
    W_h = k.cp.ascontiguousarray(W_s[:H])  # rows 0..H-1 of a C-contiguous W_s: no copy
    m, hb = _cuda_rnn._contiguous(k, m), _cuda_rnn._contiguous(k, hb)

    def loop():
        for t in range(T):
            k.matmul_rows(S, t, W_h, Z, t)  # h^{t-1} @ W_s[:H] (the h part of S[t]), written into Z[t]
            launch.fwd_step(S, U, Z, hb, m, t)  # the cell on every unit, or the state carried over on a pad step

    _cuda_rnn._run(k, ("cell-fwd", name, S, U, Z, W_h, m, hb), loop)


def backward_loop(name: str, cell, S, Z, d_states, d_last, dU, dP, W_s, m, k=None, launch=None):
    """Fill ``dU`` (and ``dP``; the same array when the cell's ``SAME_GRADIENT``) [T, B, G*H] with
    dLoss/d(input part) (and dLoss/d(state part)); return dLoss/ds^0 [B, P*H].

    ``d_states`` is batch-major [B, T, H] (or None), ``d_last`` [B, H] (or None)."""
    k = k or _cuda_rnn.kernels_for(S)
    launch = launch or CellLaunches(name, cell, k)
    T, B, GH = dU.shape
    H = GH // cell.GATES
    SW = int(S.shape[2])
    W_h = k.cp.ascontiguousarray(W_s[:H])
    dS, m = _cuda_rnn._contiguous(k, d_states), _cuda_rnn._contiguous(k, m)
    g = k.cp.zeros((B, SW), dtype=S.dtype)  # dLoss/ds^t
    if d_last is not None:
        g[:, :H] = d_last  # the loss on the final state's h
    gd = k.cp.zeros((B, SW), dtype=S.dtype)  # the part of dLoss/ds^t that skipped the product
    gp = k.cp.zeros((B, H), dtype=S.dtype)  # the part through it: dp^{t+1} @ W_s[:H]^T

    def loop():
        for t in range(T - 1, -1, -1):
            launch.bwd_step(g, gd, gp, t == T - 1, m, dS, t, S, Z, dU, dP)  # g = dLoss/ds^t; the cell's backward
            k.matmul_t(dP, t, W_h, None, gp)  # backprop through h^{t-1} @ W_s[:H]
        launch.bwd_finish(g, gd, gp, m)  # g = dLoss/ds^0

    _cuda_rnn._run(k, ("cell-bwd", name, S, Z, dS, dU, dP, W_h, m, g, gd, gp), loop)
    return g
