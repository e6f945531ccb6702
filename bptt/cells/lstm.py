r"""The LSTM cell, in the formulation of ``torch.nn.LSTM``.

The carried state is ``[h, c]`` (``[B, 2H]``, ``h`` first); the layer outputs ``h``.
With ``a = i^t @ W_s[H:] + b_s + h^{t-1} @ W_s[:H]``, blocks ``i, f, g, o``::

    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c^t = f * c^{t-1} + i * g
    h^t = o * tanh(c^t)

Parameters: ``W_s`` ``[H + D, 4H]``, ``b_s`` ``[4H]`` (the forget block starts
at 1, as Jozefowicz et al. 2015 advise, or with ``chrono`` as Tallec & Ollivier 2018 do), optional
``s0`` ``[H]`` and ``c0`` ``[H]``.

To and from ``torch.nn.LSTM`` (gate order i, f, g, o in both)::

    W_s = [weight_hh^T ; weight_ih^T]           # state rows first
    b_s = bias_ih + bias_hh
"""

from __future__ import annotations

import numpy as np

from .._xp import orthogonal, xavier_uniform

GATES = 4
STATE_PARTS = 2
SAVED = 4  # i, f, g, o (tanh(c^t) is recomputed from the state)
SAME_GRADIENT = True  # dLoss/dp is dLoss/du: both parts enter every pre-activation alike
INITIAL = ("s0", "c0")


def param_shapes(D: int, H: int, learn_s0: bool = False) -> dict:
    shapes = {"W_s": (H + D, 4 * H), "b_s": (4 * H,)}
    if learn_s0:
        shapes["s0"] = (H,)
        shapes["c0"] = (H,)
    return shapes


def init(D: int, H: int, *, learn_s0: bool = False, rng: np.random.Generator, dtype=np.float32,
         chrono: int = 0) -> dict:
    """State rows orthogonal per gate block, input rows Glorot-uniform per block, forget bias 1.

    ``chrono`` N >= 3: the chrono initialisation of Tallec & Ollivier (2018, "Can recurrent neural
    networks warp time?") instead, for memories of up to about N steps: each unit's forget bias drawn as
    ``log(u)``, ``u ~ U(1, N - 1)``, its input gate's bias the negative of it (so a unit forgets over
    ``u`` steps, spread from 1 to N - 1, where a forget bias of 1 makes every unit forget within a few).
    Setting the forget biases alone, input biases 0, was measured too and gained less
    (docs/defaults.md, "The LSTM's gate biases")."""
    W_h = np.concatenate([orthogonal(rng, H) for _ in range(GATES)], axis=1)
    W_x = np.concatenate([xavier_uniform(rng, D, H) for _ in range(GATES)], axis=1)
    b_s = np.zeros(4 * H, dtype)
    b_s[H:2 * H] = 1.0
    if chrono:
        if isinstance(chrono, bool) or not isinstance(chrono, (int, np.integer)) or chrono < 3:
            raise ValueError(f"chrono must be 0 (forget bias 1) or a number of steps N >= 3, got {chrono!r}")
        b_f = np.log(rng.uniform(1.0, chrono - 1.0, H))  # log(u): a unit's forget gate near 1 - 1/u
        b_s[H:2 * H] = b_f
        b_s[:H] = -b_f  # the input gate's bias: -log(u)
    params = {"W_s": np.concatenate([W_h, W_x], axis=0).astype(dtype), "b_s": b_s}
    if learn_s0:
        params["s0"] = np.zeros(H, dtype)
        params["c0"] = np.zeros(H, dtype)
    return params


def _sigmoid(xp, a):
    return 0.5 * (xp.tanh(0.5 * a) + 1.0)  # no overflow for large |a|


def step(xp, u, p, s_prev, params):
    H = int(s_prev.shape[-1]) // 2
    a = u + p
    ifo = _sigmoid(xp, xp.concat([a[:, :2 * H], a[:, 3 * H:]], axis=1))
    i, f, o = ifo[:, :H], ifo[:, H:2 * H], ifo[:, 2 * H:]
    g = xp.tanh(a[:, 2 * H:3 * H])
    c = f * s_prev[:, H:] + i * g  # c^t = f c^{t-1} + i g
    h = o * xp.tanh(c)  # h^t = o tanh(c^t)
    return xp.concat([h, c], axis=1), xp.concat([i, f, g, o], axis=1)


def step_back(xp, gs, saved, s_prev, s_new):
    H = int(s_prev.shape[-1]) // 2
    i, f, g, o = saved[:, :H], saved[:, H:2 * H], saved[:, 2 * H:3 * H], saved[:, 3 * H:]
    gh, gc = gs[:, :H], gs[:, H:]
    tc = xp.tanh(s_new[:, H:])
    dc = gc + gh * o * (1.0 - tc * tc)  # total dLoss/dc^t: carried from t+1 plus through h^t = o tanh(c^t)
    da = xp.concat([
        dc * g * i * (1.0 - i),  # through i * g, then the sigmoid
        dc * s_prev[:, H:] * f * (1.0 - f),  # through f * c^{t-1}, then the sigmoid
        dc * i * (1.0 - g * g),  # through i * g, then tanh
        gh * tc * o * (1.0 - o),  # through o * tanh(c^t), then the sigmoid
    ], axis=1)
    g_direct = xp.concat([xp.zeros_like(gh), dc * f], axis=1)  # c^{t-1} reaches c^t through f * c^{t-1}
    return da, None, g_direct


def hidden_bias_grads(xp, dP, H: int) -> dict:
    return {}  # every bias is in b_s


# CuPy's fused loops (bptt._cuda_cells): the same step for one unit j of one row, in CUDA C++.
# ``z`` holds p = h^{t-1} @ W_s[:H] on entry to the forward and the saved i, f, g, o after it.
CUDA_BIAS = None  # no bias of its own beside b_s
CUDA = r"""
template <typename F> __device__ __forceinline__ void lstm_forward(int j, int H, const F* u, F* z, const F* sp,
                                                                   F* sn, const F* hb, bool real) {
    const F i = bptt_sigmoid(z[j] + u[j]), f = bptt_sigmoid(z[H + j] + u[H + j]);
    const F g = bptt_tanh(z[2 * H + j] + u[2 * H + j]), o = bptt_sigmoid(z[3 * H + j] + u[3 * H + j]);
    z[j] = i; z[H + j] = f; z[2 * H + j] = g; z[3 * H + j] = o;
    const F c = f * sp[H + j] + i * g;  // c^t = f c^{t-1} + i g
    sn[j] = real ? o * bptt_tanh(c) : sp[j];  // h^t = o tanh(c^t); a pad step carries h and c over
    sn[H + j] = real ? c : sp[H + j];
}
// gs: dLoss/ds^t = [dh, dc]; writes dLoss/d(pre-activation) into du (dp is du) and the part of
// dLoss/ds^{t-1} that skips the product into gd
template <typename F> __device__ __forceinline__ void lstm_backward(int j, int H, const F* gs, const F* sp,
                                                                    const F* sn, const F* z, F* du, F* dp, F* gd,
                                                                    bool real) {
    const F i = z[j], f = z[H + j], g = z[2 * H + j], o = z[3 * H + j];
    const F gh = gs[j], tc = bptt_tanh(sn[H + j]);
    const F dc = gs[H + j] + gh * o * (F(1) - tc * tc);  // carried from t+1 plus through h^t = o tanh(c^t)
    du[j] = real ? dc * g * i * (F(1) - i) : F(0);  // through i g, then the sigmoid
    du[H + j] = real ? dc * sp[H + j] * f * (F(1) - f) : F(0);  // through f c^{t-1}, then the sigmoid
    du[2 * H + j] = real ? dc * i * (F(1) - g * g) : F(0);  // through i g, then tanh
    du[3 * H + j] = real ? gh * tc * o * (F(1) - o) : F(0);  // through o tanh(c^t), then the sigmoid
    gd[j] = F(0);
    gd[H + j] = dc * f;  // c^{t-1} reaches c^t through f c^{t-1}
}
"""


# NumPy's fast path: the same step with ``out=`` into the layer's buffers.  bptt.recurrent uses it
# on NumPy arrays; the functions above are the array-API reference, and the tests compare the two.
# The gates are kept where the step's input part was (the layer's U, whose row of step t is read
# by that step only, and which the backward reuses for dLoss/d(pre-activation)): contiguous rows
# that the step has just read, where a separate buffer would be written cold and strided.  Only
# tanh(c^t) needs a buffer of its own (``z``, [n, H]).

SAVED_NUMPY = 1  # tanh(c^t); i, f, g, o stay in the step's row of U
HALVED = (0, 1, 3)  # the sigmoid blocks i, f, o: the layer halves their columns of u and p beforehand
_AFFINE = {}  # (H, dtype) -> (scale, shift) turning tanh into sigmoid on the blocks i, f, o


def _affine(H, dtype):
    key = (H, dtype)
    if key not in _AFFINE:
        scale = np.ones(4 * H, dtype)
        scale[:2 * H] = scale[3 * H:] = 0.5
        _AFFINE[key] = scale, np.where(scale == 0.5, 0.5, 0.0).astype(dtype)
    return _AFFINE[key]


def step_numpy(u, a, s_prev, s_new, z, params):
    """``u`` and ``a`` [n, 4H] (the input part and ``p``) come with the blocks i, f, o halved
    (``HALVED``); writes the gates i, f, g, o into ``u``, ``s_new`` [n, 2H] and tanh(c^t) into
    ``z`` [n, H]; ``a`` is scratch."""
    H = s_prev.shape[1] // 2
    np.add(u, a, out=u)  # the pre-activations (halved on i, f, o)
    np.tanh(u, out=u)
    scale, shift = _affine(H, u.dtype)
    u *= scale  # sigmoid(x) = tanh(x / 2) / 2 + 1 / 2 on i, f, o; tanh as it is on g
    u += shift
    i, f, g, o = u[:, :H], u[:, H:2 * H], u[:, 2 * H:3 * H], u[:, 3 * H:]
    c = s_new[:, H:]
    np.multiply(f, s_prev[:, H:], out=c)  # f c^{t-1}
    ig = np.multiply(i, g, out=a[:, :H])
    c += ig  # + i g
    np.tanh(c, out=z)
    np.multiply(o, z, out=s_new[:, :H])  # h^t = o tanh(c^t)


def step_back_numpy(gs, z, s_prev, s_new, du, dp, g_direct):
    """``du`` (``dp`` is ``du``: the LSTM's state and input parts enter alike) holds the step's
    gates on entry (:func:`step_numpy`) and dLoss/d(pre-activation) on return; writes the part of
    dLoss/ds^{t-1} that skips ``p`` into ``g_direct`` [n, 2H]."""
    H = s_prev.shape[1] // 2
    n = du.shape[0]
    i, f, g, o = du[:, :H], du[:, H:2 * H], du[:, 2 * H:3 * H], du[:, 3 * H:]
    tc = z
    gh, gc = gs[:, :H], gs[:, H:]
    dc = g_direct[:, H:]  # dLoss/dc^t first, then times f
    np.multiply(tc, tc, out=dc)
    np.subtract(1.0, dc, out=dc)  # tanh'(c^t)
    dc *= o
    dc *= gh
    dc += gc  # total dLoss/dc^t: carried from t+1 plus through h^t = o tanh(c^t)
    d = 1.0 - du
    d *= du  # sigmoid' = s (1 - s) on i, f, o
    dg = d[:, 2 * H:3 * H]
    np.multiply(g, g, out=dg)
    np.subtract(1.0, dg, out=dg)  # tanh' = 1 - g^2 on g
    d[:, :H] *= g  # i: through i g
    d[:, H:2 * H] *= s_prev[:, H:]  # f: through f c^{t-1}
    d[:, 2 * H:3 * H] *= i  # g: through i g
    np.multiply(d[:, 3 * H:], tc, out=du[:, 3 * H:])  # o: through o tanh(c^t) (o is read no more)
    du[:, 3 * H:] *= gh
    cf = np.multiply(dc, f, out=d[:, 3 * H:])  # c^{t-1} reaches c^t through f c^{t-1} (before f is overwritten)
    np.multiply(d.reshape(n, 4, H)[:, :3], dc[:, None, :], out=du.reshape(n, 4, H)[:, :3])  # times dLoss/dc^t
    np.copyto(dc, cf)
    g_direct[:, :H] = 0.0
