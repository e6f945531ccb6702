r"""The GRU cell, in the formulation of ``torch.nn.GRU``.

With ``a = i^t @ W_s[H:] + b_s`` (the input part) and ``p = h^{t-1} @ W_s[:H]``
(the state part), blocks ``r, z, n`` of ``H`` columns each::

    r = sigmoid(a_r + p_r)
    z = sigmoid(a_z + p_z)
    n = tanh(a_n + r * (p_n + b_hn))
    h^t = (1 - z) * n + z * h^{t-1}

Parameters: ``W_s`` ``[H + D, 3H]``, ``b_s`` ``[3H]``, ``b_hn`` ``[H]`` (the bias
inside ``r * (...)``, which cannot be merged into ``b_s``), optional ``s0`` ``[H]``.

To and from ``torch.nn.GRU`` (gate order r, z, n in both)::

    W_s  = [weight_hh^T ; weight_ih^T]           # state rows first
    b_s  = bias_ih + [bias_hh_r, bias_hh_z, 0]
    b_hn = bias_hh_n
"""

from __future__ import annotations

import numpy as np

from .._xp import orthogonal, xavier_uniform

GATES = 3
STATE_PARTS = 1
SAVED = 4  # r, z, n and p_n + b_hn
SAME_GRADIENT = False  # dLoss/dp differs from dLoss/du: the state part of n is scaled by r
INITIAL = ("s0",)


def param_shapes(D: int, H: int, learn_s0: bool = False) -> dict:
    shapes = {"W_s": (H + D, 3 * H), "b_s": (3 * H,), "b_hn": (H,)}
    if learn_s0:
        shapes["s0"] = (H,)
    return shapes


def init(D: int, H: int, *, learn_s0: bool = False, rng: np.random.Generator, dtype=np.float32) -> dict:
    """State rows orthogonal per gate block, input rows Glorot-uniform per block, biases zero."""
    W_h = np.concatenate([orthogonal(rng, H) for _ in range(GATES)], axis=1)
    W_x = np.concatenate([xavier_uniform(rng, D, H) for _ in range(GATES)], axis=1)
    params = {"W_s": np.concatenate([W_h, W_x], axis=0).astype(dtype), "b_s": np.zeros(3 * H, dtype),
              "b_hn": np.zeros(H, dtype)}
    if learn_s0:
        params["s0"] = np.zeros(H, dtype)
    return params


def _sigmoid(xp, a):
    return 0.5 * (xp.tanh(0.5 * a) + 1.0)  # no overflow for large |a|


def step(xp, u, p, s_prev, params):
    H = int(s_prev.shape[-1])
    rz = _sigmoid(xp, u[:, :2 * H] + p[:, :2 * H])
    r, z = rz[:, :H], rz[:, H:]
    hn = p[:, 2 * H:] + params["b_hn"]  # the state part of n, with its own bias
    n = xp.tanh(u[:, 2 * H:] + r * hn)
    s_new = n + z * (s_prev - n)  # (1 - z) n + z h^{t-1}
    return s_new, xp.concat([r, z, n, hn], axis=1)


def step_back(xp, g, saved, s_prev, s_new):
    H = int(s_prev.shape[-1])
    r, z, n, hn = saved[:, :H], saved[:, H:2 * H], saved[:, 2 * H:3 * H], saved[:, 3 * H:]
    dn = g * (1.0 - z) * (1.0 - n * n)  # through h^t = (1 - z) n + z h, then tanh: dLoss/d(n's pre-activation)
    dz = g * (s_prev - n) * z * (1.0 - z)  # through z * (h - n), then the sigmoid
    dr = dn * hn * r * (1.0 - r)  # through r * (p_n + b_hn), then the sigmoid
    du = xp.concat([dr, dz, dn], axis=1)  # the input part enters every pre-activation directly
    dp = xp.concat([dr, dz, dn * r], axis=1)  # the state part of n is scaled by r
    return du, dp, g * z  # h^{t-1} also reaches h^t directly, through z * h^{t-1}


def hidden_bias_grads(xp, dP, H: int) -> dict:
    return {"b_hn": xp.sum(dP[:, 2 * H:], axis=0)}  # b_hn sits beside p_n


# CuPy's fused loops (bptt._cuda_cells): the same step for one unit j of one row, in CUDA C++.
# ``z`` holds p = h^{t-1} @ W_s[:H] in its first 3H on entry to the forward and the saved r, z, n,
# p_n + b_hn after it; ``hb`` is b_hn.
CUDA_BIAS = "b_hn"
CUDA = r"""
template <typename F> __device__ __forceinline__ void gru_forward(int j, int H, const F* u, F* z, const F* sp,
                                                                  F* sn, const F* hb, bool real) {
    const F r = bptt_sigmoid(u[j] + z[j]), zg = bptt_sigmoid(u[H + j] + z[H + j]);
    const F hn = z[2 * H + j] + hb[j];  // the state part of n, with its own bias
    const F n = bptt_tanh(u[2 * H + j] + r * hn);
    z[j] = r; z[H + j] = zg; z[2 * H + j] = n; z[3 * H + j] = hn;
    sn[j] = real ? n + zg * (sp[j] - n) : sp[j];  // (1 - z) n + z h^{t-1}; a pad step carries h over
}
template <typename F> __device__ __forceinline__ void gru_backward(int j, int H, const F* gs, const F* sp,
                                                                   const F* sn, const F* z, F* du, F* dp, F* gd,
                                                                   bool real) {
    const F r = z[j], zg = z[H + j], n = z[2 * H + j], hn = z[3 * H + j], g = gs[j];
    const F dn = g * (F(1) - zg) * (F(1) - n * n);  // through (1 - z) n, then tanh
    const F dz = g * (sp[j] - n) * zg * (F(1) - zg);  // through z (h - n), then the sigmoid
    const F dr = dn * hn * r * (F(1) - r);  // through r (p_n + b_hn), then the sigmoid
    du[j] = real ? dr : F(0); du[H + j] = real ? dz : F(0); du[2 * H + j] = real ? dn : F(0);
    dp[j] = real ? dr : F(0); dp[H + j] = real ? dz : F(0);
    dp[2 * H + j] = real ? dn * r : F(0);  // the state part of n is scaled by r
    gd[j] = g * zg;  // h^{t-1} reaches h^t through z h^{t-1}
}
"""


# NumPy's fast path: the same step with ``out=`` into the layer's buffers.  bptt.recurrent uses
# it on NumPy arrays; the functions above are the array-API reference, and the tests compare them.
# As the LSTM's, the step keeps its gates r, z, n where its input part was (the step's row of the
# layer's U, contiguous and just read; the backward writes dLoss/du there), and only p_n + b_hn
# in a buffer of its own (``z``, [n, H]).

SAVED_NUMPY = 1  # p_n + b_hn; r, z, n stay in the step's row of U
HALVED = (0, 1)  # the sigmoid blocks r, z: the layer halves their columns of u and p beforehand


def step_numpy(u, a, s_prev, s_new, z, params):
    """``u`` and ``a`` [n, 3H] (the input part and ``p``) come with the blocks r, z halved
    (``HALVED``); writes the gates r, z, n into ``u``, ``s_new`` [n, H] and p_n + b_hn into
    ``z`` [n, H]."""
    H = s_prev.shape[1]
    rz = u[:, :2 * H]
    np.add(rz, a[:, :2 * H], out=rz)  # halved pre-activations of r, z
    np.tanh(rz, out=rz)
    rz *= 0.5  # sigmoid(x) = tanh(x / 2) / 2 + 1 / 2
    rz += 0.5
    r, zg = rz[:, :H], rz[:, H:]
    hn = z
    np.add(a[:, 2 * H:], params["b_hn"], out=hn)  # the state part of n, with its own bias
    n = u[:, 2 * H:]
    rh = np.multiply(r, hn, out=a[:, :H])
    n += rh  # the input part of n plus r (p_n + b_hn)
    np.tanh(n, out=n)
    np.subtract(s_prev, n, out=s_new)
    s_new *= zg
    s_new += n  # (1 - z) n + z h^{t-1}


def step_back_numpy(g, z, s_prev, s_new, du, dp, g_direct):
    """``du`` holds the step's gates r, z, n on entry (:func:`step_numpy`) and dLoss/du on
    return; writes dLoss/dp into ``dp`` and the part of dLoss/ds^{t-1} that skips ``p`` into
    ``g_direct``."""
    H = s_prev.shape[1]
    r, zg, n, hn = du[:, :H], du[:, H:2 * H], du[:, 2 * H:], z
    np.multiply(g, zg, out=g_direct)  # h^{t-1} reaches h^t through z h^{t-1}
    one_minus_z = 1.0 - zg
    dz = np.subtract(s_prev, n, out=dp[:, H:2 * H])  # dp's block z as scratch, filled below
    dz *= g
    dz *= one_minus_z
    zg *= dz  # dz: through z (h - n), then the sigmoid
    dn = n
    np.multiply(n, n, out=dn)
    np.subtract(1.0, dn, out=dn)  # tanh'
    dn *= g
    dn *= one_minus_z  # dn: through (1 - z) n, then tanh
    np.multiply(dn, r, out=dp[:, 2 * H:])  # the state part of n is scaled by r
    np.subtract(1.0, r, out=one_minus_z)
    r *= one_minus_z
    r *= dn
    r *= hn  # dr: through r (p_n + b_hn), then the sigmoid
    dp[:, :2 * H] = du[:, :2 * H]
