r"""The tutorial's recurrent layer, forward and BPTT backward, as pure functions.

The state update concatenates the previous state and the input and multiplies
by **one** weight matrix (row vectors, state first)::

    s^0 = 0                       (or a learned vector s0)
    s^t = f_s([s^{t-1}, i^t] @ W_s + b_s)     if step t is real
    s^t = s^{t-1}                              if step t is a pad

with ``W_s`` of shape ``[H + D, H]``: rows ``0..H-1`` multiply the previous
state, rows ``H..H+D-1`` the input.  Because ``[s, i] @ W_s = s @ W_s[:H] + i @
W_s[H:]``, the input part of every time step is computed in one matrix product
before the loop, and only the recurrence loops over time.

Backpropagation through time treats the unrolled network as a feed-forward net
whose layers share weights, and *adds together* the gradients of the copies.
That sum over time steps is computed as one matrix product over all stacked
steps, ``[S_prev, X]^T @ dA``, after the backward loop.

Shapes: ``B`` batch, ``T`` time steps, ``D`` input size, ``H`` state size.
Arrays may come from any array-API namespace (NumPy, CuPy, array_api_strict).
On CuPy arrays the two time loops run as fused CUDA kernels
(:mod:`bptt._cuda_rnn`); everything around them is this module's code.  On NumPy
arrays a large enough batch is split across CPU cores by rows for the whole time
loop (:mod:`bptt._cpu`), and when ``lengths`` are sorted longest first (or a mask
has the real rows of every step first, as the reversed batch of a bidirectional layer
has) the loops compute only the real rows of each step.
"""

from __future__ import annotations

import numpy as np

from . import _checks, _cpu, _cuda_rnn
from ._xp import all_finite, is_numpy, namespace, orthogonal, to_numpy, xavier_uniform
from .activations import get as get_activation

__all__ = ["init", "forward", "backward", "step"]


def init(
    input_size: int,
    hidden_size: int,
    *,
    learn_s0: bool = False,
    rng: np.random.Generator,
    dtype=np.float32,
) -> dict:
    """New parameters ``{"W_s": [H + D, H], "b_s": [H]}`` (+ ``"s0": [H]`` if ``learn_s0``).

    Initialisation: the state rows ``W_s[:H]`` are a random orthogonal matrix
    (gradients neither grow nor shrink through the linear part of a step), the
    input rows ``W_s[H:]`` are Glorot-uniform, ``b_s`` and ``s0`` start at zero.
    """
    D, H = _checks.positive_int("input_size", input_size), _checks.positive_int("hidden_size", hidden_size)
    rng = _checks.as_rng(rng)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    W_s = np.concatenate([orthogonal(rng, H), xavier_uniform(rng, D, H)], axis=0)
    params = {"W_s": W_s.astype(dtype), "b_s": np.zeros(H, dtype)}
    if learn_s0:
        params["s0"] = np.zeros(H, dtype)
    return params


def _check_params(xp, params, D_expected=None):
    if not isinstance(params, dict) or "W_s" not in params or "b_s" not in params:
        raise TypeError("params must be a dict with 'W_s' and 'b_s' (see bptt.rnn.init)")
    W_s, b_s = params["W_s"], params["b_s"]
    _checks.float_array(xp, "params['W_s']", W_s, 2, "[H + D, H]", finite=False)
    H = int(W_s.shape[1])
    if W_s.shape[0] <= H:
        raise ValueError(f"params['W_s'] must have shape [H + D, H] with D >= 1, got {tuple(W_s.shape)}")
    if tuple(b_s.shape) != (H,):
        raise ValueError(f"params['b_s'] must have shape [H] = [{H}], got {tuple(b_s.shape)}")
    _checks.same_dtype("params['b_s']", b_s, "params['W_s']", W_s)
    if "s0" in params:
        if tuple(params["s0"].shape) != (H,):
            raise ValueError(f"params['s0'] must have shape [H] = [{H}], got {tuple(params['s0'].shape)}")
        _checks.same_dtype("params['s0']", params["s0"], "params['W_s']", W_s)
    return H, int(W_s.shape[0]) - H


def step(params: dict, s_prev, i_t, activation: str = "tanh"):
    """One time step of the tutorial's equation: ``f_s([s_prev, i_t] @ W_s + b_s)``.

    ``s_prev``: [B, H], ``i_t``: [B, D] -> [B, H].  Written literally (with the
    concatenation) as a readable reference; :func:`forward` is the fast path.
    """
    xp = namespace(s_prev, i_t, params["W_s"])
    f, _ = get_activation(activation)
    return f(xp, xp.matmul(xp.concat([s_prev, i_t], axis=-1), params["W_s"]) + params["b_s"])


def forward(params: dict, x, lengths=None, mask=None, activation: str = "tanh", s_init=None,
            check: bool = True):
    """Run the recurrence over a padded batch.

    Args:
        params: ``{"W_s": [H + D, H], "b_s": [H], optional "s0": [H]}``.
        x: inputs ``[B, T, D]`` (float32/float64, the dtype of ``W_s``).
        lengths: optional ``[B]`` ints in ``1..T``: row ``b`` is real for steps
            ``< lengths[b]`` and padded after (right padding).
        mask: optional ``[B, T]`` bool, True on real steps; pads may be anywhere.
        activation: ``f_s``: "tanh" (default), "relu", "sigmoid" or "identity".
        s_init: optional ``[B, H]`` state to start from (e.g. carried over from
            the previous window of a long text); overrides ``s0``.  No gradient
            flows into it.
        check: refuse NaN/inf in ``x`` (a host round-trip on a GPU; a training
            loop whose data were checked once passes False).

    Returns:
        ``(states, cache)``: ``states`` is ``[B, T, H]``, the state after each
        step; on a pad step the state is carried over unchanged, so
        ``states[:, -1]`` is each sequence's final state ``s^T``.
    """
    xp = namespace(x, params.get("W_s"))
    f, _ = get_activation(activation)
    H, D = _check_params(xp, params)
    B, T, m, real_rows, row_work = _batch_layout(xp, x, params["W_s"], D, "[H + D, H]", lengths, mask, check)
    W_s, b_s = params["W_s"], params["b_s"]
    W_h, W_x = W_s[:H, :], W_s[H:, :]
    with _cpu.parallel_for(xp, B, H):  # NumPy: each core may take its own rows / steps (bptt._cpu)
        X, U = _input_products(xp, x, W_x, b_s)  # U: the input part of every step, [T, B, H]

        S = xp.empty((T + 1, B, H), dtype=x.dtype)  # S[t] = s^t, time-major; S[0] = s^0
        S[0, ...] = _initial_state(xp, params, ("s0",), s_init, B, H, x.dtype)

        fused = None if is_numpy(xp) else _cuda_rnn.plan(S, activation)  # CuPy: fused CUDA kernels
        if is_numpy(xp):
            _forward_loop_numpy(S, U, W_h, m, activation, real_rows, row_work)
        elif fused is not None:
            _cuda_rnn.forward_loop(fused, S, U, W_s, m, activation)
        else:
            for t in range(T):
                s = f(xp, U[t, ...] + xp.matmul(S[t, ...], W_h))  # s^t = f_s(s^{t-1} W_h + i^t W_x + b_s)
                if m is not None:
                    s = xp.where(m[t, :, None], s, S[t, ...])  # pad step: carry s^{t-1} over unchanged
                S[t + 1, ...] = s

    states = xp.permute_dims(S[1:, ...], (1, 0, 2))  # [B, T, H] view of the time-major store
    cache = {
        "X": X, "S": S, "mask": m, "activation": activation,
        "work": U,  # no longer needed: backward reuses its memory for dA
        "shape": (B, T, D, H), "learn_s0": "s0" in params and s_init is None, "fused": fused,
        "real_rows": real_rows, "row_work": row_work,
        "check": check,  # backward checks dLoss/dstates for NaN too, as forward checked x
    }
    return states, cache


def _initial_state(xp, params, names, s_init, B, SW, dtype):
    """``[B, S]``: ``s_init`` (checked), else the learned initial states ``names`` side by side
    (``s0``, and ``c0`` for the LSTM) for every row, else zeros."""
    if s_init is not None:
        _checks.float_array(xp, "s_init", s_init, 2, "[B, S]")
        if tuple(s_init.shape) != (B, SW):
            raise ValueError(f"s_init must have shape [B, S] = [{B}, {SW}] (the carried state), "
                             f"got {tuple(s_init.shape)}")
        if s_init.dtype != dtype:
            raise TypeError(f"s_init has dtype {s_init.dtype} but the parameters are {dtype}; "
                            f"convert it (it is not cast silently)")
        return s_init
    if all(k in params for k in names):
        return xp.broadcast_to(xp.concat([params[k] for k in names], axis=0), (B, SW))
    return xp.zeros((B, SW), dtype=dtype)


MIN_ROWS = 16  # the fewest batch rows worth a core of their own in the time loops


def _batch_layout(xp, x, W_s, D, W_shape, lengths, mask, check):
    """Check ``x`` [B, T, D] against ``W_s`` (of shape ``W_shape``, for the message) and turn
    ``lengths`` / ``mask`` into the loops' layout: ``(B, T, m, real_rows, row_work)`` with ``m``
    [T, B] bool or None, and, for NumPy lengths sorted longest first (or a mask whose real rows
    at each step are rows 0..k-1), ``real_rows`` [T] (the real rows of step t are
    0..real_rows[t]-1) and ``row_work`` (each row's real steps, to share rows by)."""
    _checks.float_array(xp, "x", x, 3, "[B, T, D]", finite=check)
    B, T, Dx = (int(s) for s in x.shape)
    if Dx != D:
        raise ValueError(f"x has input size D = {Dx} but params['W_s'] expects D = {D} "
                         f"(shape {W_shape} = {tuple(W_s.shape)})")
    if B == 0 or T == 0:
        raise ValueError(f"x must hold at least one sequence of at least one step, got shape {(B, T, Dx)}")
    _checks.same_dtype("x", x, "params['W_s']", W_s)
    m = _checks.lengths_to_mask(xp, lengths, mask, B, T)  # [T, B] bool or None
    real_rows, row_work = None, None
    if is_numpy(xp) and m is not None and lengths is not None:
        L = np.asarray(to_numpy(lengths)).astype(np.int64)  # checked by lengths_to_mask
        if np.all(L[:-1] >= L[1:]):  # longest first: the real rows of step t are 0..real_rows[t]-1
            real_rows, row_work = (L[None, :] > np.arange(T)[:, None]).sum(axis=1), L
    elif is_numpy(xp) and m is not None:
        k = m.sum(axis=1)  # [T]: the real rows of each step
        if np.array_equal(m, np.arange(B)[None, :] < k[:, None]):  # each step's real rows are 0..k[t]-1
            # (the time-reversed batch of a bidirectional layer, rows longest first, is such a mask:
            # its pads come first, and the longest rows start first): the same fast path
            real_rows, row_work = k, m.sum(axis=0)
    return B, T, m, real_rows, row_work


def _input_products(xp, x, W_x, b_s):
    """``X`` [T*B, D], the inputs time-major, and ``U = X @ W_x + b_s`` [T, B, W], the input part
    of every step: one product (NumPy: one per block of steps when split across cores)."""
    B, T, D = (int(v) for v in x.shape)
    if is_numpy(xp):
        X, U = _input_products_numpy(x, W_x, b_s)
    else:
        X = xp.reshape(xp.permute_dims(x, (1, 0, 2)), (T * B, D))  # time-major copy [T*B, D]
        U = xp.matmul(X, W_x)  # the input part of every step at once: [T*B, W]
        U += b_s
    return X, xp.reshape(U, (T, B, int(W_x.shape[1])))


def _input_products_numpy(x, W_x, b_s):
    B, T, D = x.shape
    X = np.empty((T, B, D), dtype=x.dtype)
    U = np.empty((T * B, W_x.shape[1]), dtype=x.dtype)

    def steps(lo, hi):
        X[lo:hi] = np.permute_dims(x[:, lo:hi], (1, 0, 2))  # time-major copy
        u = U[lo * B:hi * B]
        np.matmul(X[lo:hi].reshape(-1, D), W_x, out=u)
        u += b_s

    _cpu.run(steps, _cpu.ranges(T, _cpu.workers()))
    return X.reshape(T * B, D), U


def _part_steps(T, lo, hi, m, real_rows):
    """What the loops compute for the rows ``lo..hi-1`` of the batch: ``ends``, step t
    computes the part's rows ``0..ends[t]-1`` (the rest are pad steps of lengths sorted
    longest first), and ``real`` [T, n, 1], the mask's real steps (None: no mask to apply)."""
    n = hi - lo
    ends = [n] * T if real_rows is None else np.clip(real_rows - lo, 0, n).tolist()
    real = None if m is None or real_rows is not None else m[:, lo:hi, None]
    return ends, real


def _forward_loop_numpy(S, U, W_h, m, activation, real_rows=None, row_work=None):
    """The generic loop with NumPy's ``out=`` (no step allocates for tanh), the rows of
    the batch split across cores: rows never interact, so each core runs all T steps
    of its own rows and the cores meet once, at the end.

    ``real_rows`` [T] (lengths sorted longest first, as ``pack_padded_sequence`` does):
    step t computes only rows ``0..real_rows[t]-1`` and copies the pad rows' states
    over, instead of computing every row and masking; the cores then share the rows by
    their lengths (``row_work``)."""
    f, _ = get_activation(activation)
    T, B, _ = U.shape

    def rows(lo, hi):
        n = hi - lo
        Sp, Up = S[:, lo:hi], U[:, lo:hi]  # this part's rows, at every step
        ends, real = _part_steps(T, lo, hi, m, real_rows)
        pad = None if real is None else ~real
        for t, k in enumerate(ends):
            nxt, prev, u = Sp[t + 1], Sp[t], Up[t]
            if k < n:  # sorted lengths: rows k.. are pad steps; carry s^{t-1} over, compute the rest
                nxt[k:] = prev[k:]
                nxt, prev, u = nxt[:k], prev[:k], u[:k]
            np.matmul(prev, W_h, out=nxt)  # s^{t-1} @ W_s[:H]
            nxt += u  # + i^t @ W_s[H:] + b_s
            if activation == "tanh":
                np.tanh(nxt, out=nxt)
            else:
                nxt[...] = f(np, nxt)
            if pad is not None:
                np.copyto(nxt, prev, where=pad[t])  # pad steps: carry s^{t-1} over unchanged

    _cpu.run(rows, _cpu.ranges(B, _cpu.workers(), MIN_ROWS, row_work))


def _check_cache(cache, made_by: str) -> None:
    """A backward pass needs the cache its forward pass returned: anything else is named."""
    if not isinstance(cache, dict) or not {"X", "S", "shape"} <= set(cache):
        got = type(cache).__name__ if not isinstance(cache, dict) else f"a dict with keys {sorted(cache)[:8]}"
        raise TypeError(f"cache must be the cache that {made_by} returned, got {got}")


def backward(params: dict, cache: dict, d_states=None, *, d_last=None, need_dx: bool = True,
             step_norms: bool = False):
    """Backpropagation through time.

    Args:
        params: the parameters given to :func:`forward`.
        cache: the cache :func:`forward` returned.
        d_states: ``[B, T, H]``, dLoss/dstates (zero where a step has no loss).
        d_last: ``[B, H]``, dLoss/ds^T for the final states only (a many-to-one
            head); give it instead of, or as well as, ``d_states``.
        need_dx: also compute ``dx`` (skip it when ``x`` is data, not a layer output).
        step_norms: also return ``[T]``: the norm of the total gradient
            dLoss/ds^t at every step, over the batch (vanishing/exploding gradients).

    Returns:
        ``(grads, dx)`` or ``(grads, dx, norms)``: ``grads`` keyed like ``params``
        (``W_s`` [H + D, H], ``b_s`` [H], ``s0`` [H]); ``dx`` is ``[B, T, D]`` or None.
    """
    _check_cache(cache, "bptt.rnn.forward")
    X, S = cache["X"], cache["S"]
    B, T, D, H = cache["shape"]
    xp = namespace(S, d_states, d_last)
    _check_output_grads(d_states, d_last, B, T, H, S, cache.get("check", True))
    W_s = params["W_s"]
    with _cpu.parallel_for(xp, B, H):  # NumPy: each core may take its own rows / steps (bptt._cpu)
        g, dA, norms = _bptt_loop(xp, W_s, cache, d_states, d_last, step_norms)

        # BPTT's "add together the corresponding derivatives": the sum over steps of
        # [s^{t-1}, i^t]^T da^t is one matrix product over all stacked steps.
        dA2 = xp.reshape(dA, (T * B, H))
        S_prev = xp.reshape(S[:-1, ...], (T * B, H))
        if is_numpy(xp):  # the same products, the stacked steps cut into one block per core
            dW_s, db_s = _cpu.matmul_tn([S_prev, X], dA2)
        else:
            dW_s = xp.concat([
                xp.matmul(xp.permute_dims(S_prev, (1, 0)), dA2),  # state rows W_s[:H]
                xp.matmul(xp.permute_dims(X, (1, 0)), dA2),  # input rows W_s[H:]
            ], axis=0)
            db_s = xp.sum(dA2, axis=0)
        grads = {"W_s": dW_s, "b_s": db_s}  # b_s: summed over steps and batch
        if "s0" in params:
            grads["s0"] = xp.sum(g, axis=0) if cache["learn_s0"] else xp.zeros_like(params["s0"])  # s^0 is shared by the batch
        dx = None
        if need_dx:
            W_xT = xp.permute_dims(W_s[H:, :], (1, 0))
            dX = _cpu.matmul(dA2, W_xT) if is_numpy(xp) else xp.matmul(dA2, W_xT)  # backprop into the inputs i^t
            dx = xp.permute_dims(xp.reshape(dX, (T, B, D)), (1, 0, 2))  # [B, T, D]
    if step_norms:
        return grads, dx, norms
    return grads, dx


def _check_output_grads(d_states, d_last, B, T, H, S, finite: bool = True):
    """``d_states`` [B, T, H] and/or ``d_last`` [B, H], of the states' dtype, and with ``finite``
    (the forward's ``check``) free of NaN and inf."""
    if d_states is None and d_last is None:
        raise TypeError("give d_states [B, T, H] and/or d_last [B, H]")
    for name, a, dims, shape in (("d_states", d_states, "[B, T, H]", (B, T, H)), ("d_last", d_last, "[B, H]", (B, H))):
        if a is not None:
            _checks.array_like(name, a)
            if tuple(a.shape) != shape:
                raise ValueError(f"{name} must have shape {dims} = {list(shape)}, got {tuple(a.shape)}")
            _checks.same_dtype(name, a, "states", S)
            if finite and not all_finite(namespace(a), a):
                raise ValueError(f"{name} holds NaN or inf values (a diverged loss upstream?)")


def _bptt_loop(xp, W_s, cache, d_states, d_last, step_norms):
    """The loop from step T down to 1: ``(g, dA, norms)`` with ``g`` [B, H] = dLoss/ds^0,
    ``dA`` [T, B, H] = dLoss/d(pre-activation) at every step, and the step norms (or None)."""
    S, m = cache["S"], cache["mask"]
    B, T, D, H = cache["shape"]
    _, f_prime = get_activation(cache["activation"])
    dS = None if d_states is None else xp.permute_dims(d_states, (1, 0, 2))  # [T, B, H] view
    dA = cache["work"]  # reuses forward's buffer of the input products
    fused = None if step_norms else cache["fused"]  # the CUDA loops have no step norms
    if fused is not None:
        return _cuda_rnn.backward_loop(fused, S, d_states, d_last, dA, W_s, m, cache["activation"]), dA, None
    if is_numpy(xp):
        W_hT = np.ascontiguousarray(W_s[:H, :].T)  # row-major W_s[:H]^T: the step's product ran 15% faster
        g, norms = _backward_loop_numpy(S, dS, d_last, dA, W_hT, m, cache["activation"], step_norms,
                                        cache["real_rows"], cache["row_work"])
        return g, dA, norms

    W_hT = xp.permute_dims(W_s[:H, :], (1, 0))
    norms = xp.empty((T,), dtype=S.dtype) if step_norms else None
    g = xp.zeros((B, H), dtype=S.dtype)  # dLoss/ds^t arriving from step t+1
    if d_last is not None:
        g = g + d_last  # the loss on the final state s^T
    for t in range(T - 1, -1, -1):
        if dS is not None:
            g = g + dS[t, ...]  # total gradient on s^t: its own loss plus what flows back from t+1
        if step_norms:
            norms[t] = xp.sqrt(xp.sum(g * g))
        da = g * f_prime(xp, S[t + 1, ...])  # backprop through the f_s nonlinearity
        if m is not None:
            da = xp.where(m[t, :, None], da, xp.zeros_like(da))  # a pad step has no f_s
        dA[t, ...] = da
        g_prev = xp.matmul(da, W_hT)  # backprop through s^{t-1} @ W_s[:H]
        if m is not None:
            g_prev = xp.where(m[t, :, None], g_prev, g)  # pad step: s^t = s^{t-1}, gradient passes unchanged
        g = g_prev
    return g, dA, norms


def _backward_loop_numpy(S, dS, d_last, dA, W_hT, m, activation, step_norms, real_rows=None, row_work=None):
    """The generic backward loop with NumPy's ``out=`` (no step allocates for tanh), the
    rows of the batch split across cores and, given ``real_rows``, only the real rows of
    each step computed, as in the forward loop.  Returns ``(g, norms)``."""
    T, B, H = dA.shape
    _, f_prime = get_activation(activation)

    def rows(lo, hi):
        n = hi - lo
        Sp, dAp = S[:, lo:hi], dA[:, lo:hi]  # this part's rows, at every step
        dSp = None if dS is None else dS[:, lo:hi]
        ends, real = _part_steps(T, lo, hi, m, real_rows)
        pad = None if real is None else ~real
        g = np.zeros((n, H), dtype=S.dtype) if d_last is None else d_last[lo:hi].copy()
        tmp = np.empty_like(g)
        sq = np.zeros(T, dtype=np.float64) if step_norms else None  # this part's share of |g|^2
        if activation == "tanh":  # tanh'(a^t) = 1 - (s^t)^2 of every step at once, in the buffer that becomes
            np.multiply(Sp[1:], Sp[1:], out=dAp)  # dA: two NumPy calls in all instead of two per step (a
            np.subtract(1.0, dAp, out=dAp)  # step is a few small calls, each with the interpreter's cost)
        for t in range(T - 1, -1, -1):
            if dSp is not None:
                g += dSp[t]  # total gradient on s^t: its own loss plus what flows back from t+1
            if step_norms:
                sq[t] = np.vdot(g, g)
            k, s, da = ends[t], Sp[t + 1], dAp[t]
            g_r = g
            if k < n:  # sorted lengths: rows k.. are pad steps, with no f_s; their rows keep g
                da[k:] = 0.0
                s, da, g_r = s[:k], da[:k], g[:k]
            if activation == "tanh":
                np.multiply(g_r, da, out=da)  # backprop through tanh (da held tanh'(a^t), above)
            else:
                np.multiply(g_r, f_prime(np, s), out=da)  # backprop through the f_s nonlinearity
            if real is None:
                np.matmul(da, W_hT, out=g_r)  # backprop through s^{t-1} @ W_s[:H]
            else:
                da[pad[t, :, 0]] = 0.0  # a pad step has no f_s
                np.matmul(da, W_hT, out=tmp)  # backprop through s^{t-1} @ W_s[:H]
                np.copyto(g, tmp, where=real[t])  # pad rows keep g: the gradient passes unchanged
        return g, sq

    parts = _cpu.run(rows, _cpu.ranges(B, _cpu.workers(), MIN_ROWS, row_work))
    g = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts], axis=0)
    norms = None
    if step_norms:
        norms = np.sqrt(sum(p[1] for p in parts)).astype(S.dtype)
    return g, norms
