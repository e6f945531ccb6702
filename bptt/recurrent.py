r"""The recurrent layer with any cell: the tutorial's (``"rnn"``), the GRU or the LSTM.

For every cell the layer keeps the tutorial's layout, one weight matrix ``W_s``
``[H + D, G*H]`` multiplying ``[s^{t-1}, i^t]`` (state rows first), and the same
semantics: a pad step carries the whole state over unchanged (for the LSTM both
``h`` and ``c``), so each row's results and gradients equal those of its sequence
run alone.  What the cells share lives here: the input part of all steps as one
product before the loop, the time loop (rows sorted longest first computing only
their real rows, rows split across CPU cores), and BPTT's sum over time steps as
one product over all stacked steps after the backward loop.  What differs is one
step and its backward (:mod:`bptt.cells`).

The tutorial's cell is computed by :mod:`bptt.rnn`, which has loops of its own
(tuned NumPy loops and fused CUDA kernels); this module hands it over unchanged.

Shapes: ``B`` batch, ``T`` steps, ``D`` input size, ``H`` state size, ``G`` gate
blocks, ``S`` the carried state's width (``H``, or ``2H`` for the LSTM's ``[h, c]``).
"""

from __future__ import annotations

import numpy as np

from . import _checks, _cpu, _cuda_cells, cells, rnn
from ._xp import is_numpy, namespace

__all__ = ["init", "param_shapes", "forward", "backward", "final_state"]


def param_shapes(cell: str, input_size: int, hidden_size: int, learn_s0: bool = False) -> dict:
    """Name -> shape of a layer's parameters."""
    c = cells.get(cell)
    D, H = input_size, hidden_size
    if c is None:
        return {"W_s": (H + D, H), "b_s": (H,), **({"s0": (H,)} if learn_s0 else {})}
    return c.param_shapes(D, H, learn_s0)


def init(input_size: int, hidden_size: int, *, cell: str = "rnn", learn_s0: bool = False,
         rng: np.random.Generator, dtype=np.float32, chrono: int = 0) -> dict:
    """New parameters of one layer (see :func:`bptt.rnn.init` and the cells' ``init``); ``chrono`` N: the
    LSTM's gate biases for memories of up to N steps (:func:`bptt.cells.lstm.init`)."""
    c = cells.get(cell)
    if chrono and cell != "lstm":
        raise ValueError(f"chrono={chrono!r} sets the LSTM's gate biases; the {cell} cell has no forget gate "
                         f"of that kind (leave chrono at 0)")
    if c is None:
        return rnn.init(input_size, hidden_size, learn_s0=learn_s0, rng=rng, dtype=dtype)
    D, H = _checks.positive_int("input_size", input_size), _checks.positive_int("hidden_size", hidden_size)
    rng = _checks.as_rng(rng)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return c.init(D, H, learn_s0=learn_s0, rng=rng, dtype=dtype, **({"chrono": chrono} if chrono else {}))


def _check_params(xp, c, cell, params):
    if not isinstance(params, dict) or "W_s" not in params:
        raise TypeError(f"params must be a dict with 'W_s' (see bptt.recurrent.init(cell={cell!r}))")
    W_s = params["W_s"]
    other = sorted(set(params) - set(c.param_shapes(1, 1, learn_s0=True)))
    if other:
        raise TypeError(f"params hold {other}, which a {cell} cell does not have (the parameters of another cell?)")
    _checks.float_array(xp, "params['W_s']", W_s, 2, f"[H + D, {c.GATES}*H]", finite=False)
    G = c.GATES
    if W_s.shape[1] % G:
        raise ValueError(f"params['W_s'] of a {cell} cell must have shape [H + D, {G}*H], got {tuple(W_s.shape)}")
    H = int(W_s.shape[1]) // G
    D = int(W_s.shape[0]) - H
    if D < 1:
        raise ValueError(f"params['W_s'] must have shape [H + D, {G}*H] with D >= 1, got {tuple(W_s.shape)}")
    want = c.param_shapes(D, H, learn_s0=all(k in params for k in c.INITIAL))
    for name, shape in want.items():
        if name not in params:
            raise TypeError(f"params of a {cell} cell need {name!r} {list(shape)}; got keys {sorted(params)}")
        if tuple(params[name].shape) != shape:
            raise ValueError(f"params[{name!r}] must have shape {list(shape)}, got {tuple(params[name].shape)}")
        _checks.same_dtype(f"params[{name!r}]", params[name], "params['W_s']", W_s)
    return H, D


def forward(params: dict, x, lengths=None, mask=None, *, cell: str = "rnn", activation: str = "tanh",
            s_init=None, check: bool = True):
    """Run the layer over a padded batch ``x`` ``[B, T, D]``; returns ``(states [B, T, H], cache)``.

    As :func:`bptt.rnn.forward`: ``lengths`` [B] (right padding) or ``mask`` [B, T]
    (pads anywhere); ``s_init`` ``[B, S]`` a state to start from (overrides the learned
    ``s0``/``c0``; no gradient flows into it).  ``activation`` is the tutorial cell's
    ``f_s``; the gated cells have their own nonlinearities and accept only "tanh".
    The carried state after each sequence is :func:`final_state` (``[B, S]``).
    """
    c = cells.get(cell)
    if c is None:
        states, cache = rnn.forward(params, x, lengths=lengths, mask=mask, activation=activation, s_init=s_init,
                                    check=check)
        cache["cell"] = "rnn"
        return states, cache
    if activation != "tanh":
        raise ValueError(f"activation={activation!r} is for the tutorial's cell; the {cell} cell has its own "
                         f"(give activation='tanh')")
    xp = namespace(x, params.get("W_s") if isinstance(params, dict) else None)
    H, D = _check_params(xp, c, cell, params)
    B, T, m, real_rows, row_work = rnn._batch_layout(xp, x, params["W_s"], D, f"[H + D, {c.GATES}*H]", lengths,
                                                     mask, check)
    SW = c.STATE_PARTS * H
    W_s, b_s = params["W_s"], params["b_s"]
    W_h, W_x = W_s[:H, :], W_s[H:, :]
    with _cpu.parallel_for(xp, B, cells.step_width(cell, H)):
        X, U = rnn._input_products(xp, x, W_x, b_s)  # U: the input part of every step, [T, B, G*H]
        S = xp.empty((T + 1, B, SW), dtype=x.dtype)  # S[t] = the carried state after step t; S[0] = s^0
        S[0, ...] = rnn._initial_state(xp, params, c.INITIAL, s_init, B, SW, x.dtype)
        fast = is_numpy(xp)  # NumPy: the cell's step with out= into these buffers
        Z = xp.empty((T, B, (c.SAVED_NUMPY if fast else c.SAVED) * H), dtype=x.dtype)  # kept for the backward
        W_step = W_h
        if fast:  # sigmoid(a) = (tanh(a / 2) + 1) / 2: the halving done once, on W_s[:H] and all steps'
            # input parts (exact: a product by 0.5 only changes the exponent), not on every step
            half = np.ones(c.GATES * H, dtype=x.dtype)
            for blk in c.HALVED:
                half[blk * H:(blk + 1) * H] = 0.5
            W_step = W_h * half
            U *= half

        def rows_numpy(lo, hi):
            n = hi - lo
            ends, real = rnn._part_steps(T, lo, hi, m, real_rows)
            a = np.empty((n, c.GATES * H), dtype=x.dtype)
            tmp = None if real is None else np.empty((n, SW), dtype=x.dtype)
            for t, k in enumerate(ends):
                prev, nxt = S[t, lo:lo + k], S[t + 1, lo:lo + k]
                np.matmul(prev[:, :H], W_step, out=a[:k])  # h^{t-1} @ W_s[:H]: the step's one product
                out = nxt if real is None else tmp[:k]
                c.step_numpy(U[t, lo:lo + k], a[:k], prev, out, Z[t, lo:lo + k], params)
                if real is not None:
                    np.copyto(nxt, prev)
                    np.copyto(nxt, out, where=real[t])  # pad step: carry the whole state over unchanged
                if k < n:  # sorted lengths: rows k.. are pad steps
                    S[t + 1, lo + k:hi] = S[t, lo + k:hi]

        def rows(lo, hi):
            n = hi - lo
            ends, real = rnn._part_steps(T, lo, hi, m, real_rows)
            for t, k in enumerate(ends):
                prev = S[t, lo:lo + k, :]
                p = xp.matmul(prev[:, :H], W_h)  # h^{t-1} @ W_s[:H]: the step's one product
                s_new, saved = c.step(xp, U[t, lo:lo + k, :], p, prev, params)
                if real is not None:
                    s_new = xp.where(real[t, ...], s_new, prev)  # pad step: carry the whole state over unchanged
                S[t + 1, lo:lo + k, :] = s_new
                Z[t, lo:lo + k, :] = saved
                if k < n:  # sorted lengths: rows k.. are pad steps
                    S[t + 1, lo + k:hi, :] = S[t, lo + k:hi, :]

        fused = not fast and _cuda_cells.plan(S, c)  # CuPy: the fused CUDA loops
        if fused:
            _cuda_cells.forward_loop(cell, c, S, U, Z, W_s, m, params.get(c.CUDA_BIAS) if c.CUDA_BIAS else None)
        else:
            spans = _cpu.ranges(B, _cpu.workers(), rnn.MIN_ROWS, row_work) if is_numpy(xp) else [(0, B)]
            _cpu.run(rows_numpy if fast else rows, spans)
    states = xp.permute_dims(S[1:, :, :H], (1, 0, 2))  # [B, T, H]: the h part after each step
    cache = {"cell": cell, "X": X, "S": S, "U": U, "Z": Z, "mask": m, "shape": (B, T, D, H), "fast": fast, "fused": fused,
             "learn_s0": s_init is None and all(k in params for k in c.INITIAL),
             "real_rows": real_rows, "row_work": row_work, "check": check}
    return states, cache


def final_state(cache):
    """``[B, S]``: the carried state after each sequence (pads carried it to the last step)."""
    return cache["S"][-1, ...]


def backward(params: dict, cache: dict, d_states=None, *, d_last=None, need_dx: bool = True,
             step_norms: bool = False):
    """BPTT through the layer; as :func:`bptt.rnn.backward`.

    ``d_states`` ``[B, T, H]`` and/or ``d_last`` ``[B, H]`` (on the ``h`` part of the
    final state).  Returns ``(grads, dx)`` (and ``[T]`` step norms of dLoss/ds^t, the
    whole carried state, with ``step_norms``).
    """
    rnn._check_cache(cache, "bptt.recurrent.forward")
    cell = cache.get("cell", "rnn")
    c = cells.get(cell)
    if c is None:
        return rnn.backward(params, cache, d_states, d_last=d_last, need_dx=need_dx, step_norms=step_norms)
    X, S, U, Z, m = cache["X"], cache["S"], cache["U"], cache["Z"], cache["mask"]
    B, T, D, H = cache["shape"]
    G, SW = c.GATES, c.STATE_PARTS * H
    xp = namespace(S, d_states, d_last)
    rnn._check_output_grads(d_states, d_last, B, T, H, S, cache.get("check", True))
    W_s = params["W_s"]
    W_hT = xp.permute_dims(W_s[:H, :], (1, 0))
    if is_numpy(xp):
        W_hT = np.ascontiguousarray(W_hT)
    dS = None if d_states is None else xp.permute_dims(d_states, (1, 0, 2))  # [T, B, H] view
    dU = U  # dLoss/d(input part), reusing forward's buffer
    separate = not c.SAME_GRADIENT  # dLoss/dp has a buffer of its own (the GRU's p_n is scaled by r)
    dP = xp.empty_like(U) if separate else U
    real_rows = cache["real_rows"]
    with _cpu.parallel_for(xp, B, cells.step_width(cell, H)):
        def rows(lo, hi):
            n = hi - lo
            ends, real = rnn._part_steps(T, lo, hi, m, real_rows)
            g = xp.zeros((n, SW), dtype=S.dtype)  # dLoss/ds^t arriving from step t+1
            if d_last is not None:
                g[:, :H] = d_last[lo:hi, :]  # the loss on the final state's h
            sq = np.zeros(T, dtype=np.float64) if step_norms else None
            for t in range(T - 1, -1, -1):
                if dS is not None:
                    g[:, :H] = g[:, :H] + dS[t, lo:hi, :]  # the step's own loss on h^t
                if step_norms:
                    sq[t] = float(xp.sum(g * g))
                k = ends[t]
                gk = g[:k, :]
                du, dp, g_prev = c.step_back(xp, gk, Z[t, lo:lo + k, :], S[t, lo:lo + k, :], S[t + 1, lo:lo + k, :])
                dp = du if dp is None else dp
                dh = xp.matmul(dp, W_hT)  # backprop through h^{t-1} @ W_s[:H]
                g_prev = xp.concat([g_prev[:, :H] + dh, g_prev[:, H:]], axis=1) if SW > H else g_prev + dh
                if real is not None:
                    zero = xp.zeros_like(du)
                    du = xp.where(real[t, ...], du, zero)  # a pad step has no cell
                    dp = xp.where(real[t, ...], dp, zero)
                    g_prev = xp.where(real[t, ...], g_prev, gk)  # pad step: s^t = s^{t-1}, the gradient passes unchanged
                dU[t, lo:lo + k, :] = du
                if separate:
                    dP[t, lo:lo + k, :] = dp
                if k < n:  # sorted lengths: rows k.. are pad steps, no gradient into the cell
                    dU[t, lo + k:hi, :] = 0.0
                    if separate:
                        dP[t, lo + k:hi, :] = 0.0
                g[:k, :] = g_prev
            return g, sq

        def rows_numpy(lo, hi):
            n = hi - lo
            ends, real = rnn._part_steps(T, lo, hi, m, real_rows)
            g = np.zeros((n, SW), dtype=S.dtype)  # dLoss/ds^t arriving from step t+1
            if d_last is not None:
                g[:, :H] = d_last[lo:hi]  # the loss on the final state's h
            gd = np.empty_like(g)  # dLoss/ds^{t-1}, built up
            dh = np.empty((n, H), dtype=S.dtype)
            sq = np.zeros(T, dtype=np.float64) if step_norms else None
            for t in range(T - 1, -1, -1):
                if dS is not None:
                    g[:, :H] += dS[t, lo:hi]  # the step's own loss on h^t
                if step_norms:
                    sq[t] = np.vdot(g, g)
                k = ends[t]
                du, dp = dU[t, lo:lo + k], dP[t, lo:lo + k]
                c.step_back_numpy(g[:k], Z[t, lo:lo + k], S[t, lo:lo + k], S[t + 1, lo:lo + k], du, dp, gd[:k])
                np.matmul(dp, W_hT, out=dh[:k])  # backprop through h^{t-1} @ W_s[:H]
                gd[:k, :H] += dh[:k]
                if real is not None:
                    pad = ~real[t, :k, 0]
                    du[pad] = 0.0  # a pad step has no cell
                    if separate:
                        dp[pad] = 0.0
                    np.copyto(g[:k], gd[:k], where=real[t])  # pad step: s^t = s^{t-1}, the gradient passes
                else:
                    g[:k] = gd[:k]
                if k < n:  # sorted lengths: rows k.. are pad steps, no gradient into the cell
                    dU[t, lo + k:hi] = 0.0
                    if separate:
                        dP[t, lo + k:hi] = 0.0
            return g, sq

        if cache.get("fused") and not step_norms:  # CuPy: the fused CUDA loop (it has no step norms)
            g = _cuda_cells.backward_loop(cell, c, S, Z, d_states, d_last, dU, dP, W_s, m)  # dLoss/ds^0 [B, S]
        else:
            spans = _cpu.ranges(B, _cpu.workers(), rnn.MIN_ROWS, cache["row_work"]) if is_numpy(xp) else [(0, B)]
            parts = _cpu.run(rows_numpy if cache["fast"] else rows, spans)
            g = parts[0][0] if len(parts) == 1 else xp.concat([p[0] for p in parts], axis=0)  # dLoss/ds^0 [B, S]

        # BPTT's sum over time steps, as one product over all stacked steps
        dU2 = xp.reshape(dU, (T * B, G * H))
        H_prev = xp.reshape(S[:-1, :, :H], (T * B, H))
        if is_numpy(xp):
            if separate:
                dW_h, _ = _cpu.matmul_tn([H_prev], dP.reshape(T * B, G * H))
                dW_x, db_s = _cpu.matmul_tn([X], dU2)
                dW_s = np.concatenate([dW_h, dW_x], axis=0)
            else:
                dW_s, db_s = _cpu.matmul_tn([H_prev, X], dU2)
        else:
            dP2 = xp.reshape(dP, (T * B, G * H))
            dW_s = xp.concat([xp.matmul(xp.permute_dims(H_prev, (1, 0)), dP2),  # state rows W_s[:H]
                              xp.matmul(xp.permute_dims(X, (1, 0)), dU2)], axis=0)  # input rows W_s[H:]
            db_s = xp.sum(dU2, axis=0)
        grads = {"W_s": dW_s, "b_s": db_s}
        grads.update(c.hidden_bias_grads(xp, xp.reshape(dP, (T * B, G * H)), H))
        for j, name in enumerate(c.INITIAL):  # the learned initial state is shared by the batch
            if name in params:
                grads[name] = (xp.sum(g[:, j * H:(j + 1) * H], axis=0) if cache["learn_s0"]
                               else xp.zeros_like(params[name]))
        dx = None
        if need_dx:
            W_xT = xp.permute_dims(W_s[H:, :], (1, 0))
            dX = _cpu.matmul(dU2, W_xT) if is_numpy(xp) else xp.matmul(dU2, W_xT)  # backprop into the inputs i^t
            dx = xp.permute_dims(xp.reshape(dX, (T, B, D)), (1, 0, 2))
    if step_norms:
        norms = np.sqrt(sum(p[1] for p in parts))
        return grads, dx, xp.asarray(norms, dtype=S.dtype)
    return grads, dx
