r"""Stacked and bidirectional recurrent layers, built from the tutorial's layer (:mod:`bptt.rnn`).

Layer ``k`` reads the states of layer ``k - 1`` (layer 0 reads the input).  A
bidirectional layer runs two of the tutorial's recurrences over the same input:
the forward one from each sequence's first step to its last, the reverse one
from each sequence's **own last real step** back to its first.  Pad steps carry
the state over unchanged in both directions, wherever they are (``mask=``):
the reverse direction is the same recurrence run on the time-reversed batch
with the time-reversed mask, so a right-padded row starts with its pads (which
carry ``s^0``) and then reads its real steps from last to first.  A row's
outputs therefore equal those of the same sequence run alone, without pads,
in both directions; this is what PyTorch gets only with ``pack_padded_sequence``
and Keras's ``Bidirectional`` with masking is reported to get wrong.

Outputs, for ``L`` layers, ``K`` directions (1 or 2) and state size ``H``:

* ``out`` ``[B, T, K*H]``: the top layer's states at every step, the forward
  direction's first, then the reverse direction's (as ``torch.nn.RNN``);
* ``final`` ``[L*K, B, H]``: each layer's and direction's state after it has
  read its whole sequence: the forward state after the last real step, the
  reverse state after the first real step (``h_n`` of ``torch.nn.RNN``).

Parameters are the tutorial's names with the layer (and direction) after them:
``W_s_l0``, ``b_s_l0``, ``s0_l0``, ``W_s_l0_reverse``, ... with
``W_s_lk`` of shape ``[H + D_k, H]`` (``D_0 = D``, ``D_k = K*H`` above).
To and from ``torch.nn.RNN``: ``W_s = [weight_hh^T; weight_ih^T]`` (state rows
first) and ``b_s = bias_ih + bias_hh``.  Every layer may use a gated cell instead of the
tutorial's (``cell="gru"`` or ``"lstm"``, :mod:`bptt.cells`): its parameters take the same
suffixes (``b_hn_l0``, ``c0_l1_reverse``, ...) and its ``final`` entries are the whole
carried state (``[h, c]`` for the LSTM).
"""

from __future__ import annotations

import numpy as np

from . import _checks, _cpu, cells, recurrent
from ._xp import namespace

__all__ = ["init", "forward", "backward", "param_names", "top_final"]



def _suffixes(num_layers: int, bidirectional: bool) -> list[str]:
    """``l0``, ``l0_reverse``, ``l1``, ... in the order of ``final``'s first axis."""
    return [f"l{k}{d}" for k in range(num_layers) for d in (("", "_reverse") if bidirectional else ("",))]


def param_names(num_layers: int, bidirectional: bool, learn_s0: bool = False, cell: str = "rnn") -> list[str]:
    keys = list(recurrent.param_shapes(cell, 1, 1, learn_s0))
    return [f"{k}_{sfx}" for sfx in _suffixes(num_layers, bidirectional) for k in keys]


def param_shapes(input_size: int, hidden_size: int, *, num_layers: int = 1, bidirectional: bool = False,
                 learn_s0: bool = False, cell: str = "rnn") -> dict:
    """Name -> shape of every parameter of the stack."""
    K = 2 if bidirectional else 1
    shapes = {}
    for sfx in _suffixes(num_layers, bidirectional):
        D = input_size if sfx.startswith("l0") else K * hidden_size
        for k, v in recurrent.param_shapes(cell, D, hidden_size, learn_s0).items():
            shapes[f"{k}_{sfx}"] = v
    return shapes


def _check_shape(num_layers, bidirectional):
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    if not isinstance(bidirectional, bool):
        raise ValueError(f"bidirectional must be True or False, got {bidirectional!r}")
    return int(num_layers), 2 if bidirectional else 1


def init(input_size: int, hidden_size: int, *, num_layers: int = 1, bidirectional: bool = False,
         learn_s0: bool = False, cell: str = "rnn", rng: np.random.Generator, dtype=np.float32) -> dict:
    """New parameters for ``num_layers`` layers (two directions each if ``bidirectional``), each
    initialised as :func:`bptt.rnn.init` does; layer ``k > 0`` reads ``K * hidden_size`` inputs."""
    L, K = _check_shape(num_layers, bidirectional)
    params = {}
    for sfx in _suffixes(L, bidirectional):
        D = input_size if sfx.startswith("l0") else K * hidden_size
        for k, v in recurrent.init(D, hidden_size, cell=cell, learn_s0=learn_s0, rng=rng, dtype=dtype).items():
            params[f"{k}_{sfx}"] = v
    return params


def _layer_params(params: dict, sfx: str, cell: str = "rnn") -> dict:
    p = {k: params[f"{k}_{sfx}"] for k in recurrent.param_shapes(cell, 1, 1, True) if f"{k}_{sfx}" in params}
    if "W_s" not in p or "b_s" not in p:
        raise KeyError(f"params has no 'W_s_{sfx}' / 'b_s_{sfx}' (see bptt.stack.init)")
    return p


def forward(params: dict, x, lengths=None, mask=None, *, num_layers: int = 1, bidirectional: bool = False,
            cell: str = "rnn", activation: str = "tanh", s_init=None, drop=None, check: bool = True):
    """Run the stack over a padded batch ``x`` ``[B, T, D]``.

    ``lengths`` ``[B]`` (right padding) or ``mask`` ``[B, T]`` (pads anywhere), as in :func:`bptt.rnn.forward`.
    ``cell``: "rnn" (the tutorial's), "gru" or "lstm" (:mod:`bptt.cells`), the same in every layer.
    ``s_init``: optional ``[L*K, B, S]`` states to start from, in ``final``'s order (overrides ``s0``).
    ``drop``: optional list of ``L - 1`` dropout masks ``[B, T, K*H]`` (scaled by ``1 / (1 - p)``) for the
    connections between layers (never the recurrence).

    Returns ``(out [B, T, K*H], final [L*K, B, S], cache)``; ``S`` is the carried state's width
    (``H``, or ``2H`` for the LSTM's ``[h, c]``).
    """
    L, K = _check_shape(num_layers, bidirectional)
    xp = namespace(x)
    _checks.float_array(xp, "x", x, 3, "[B, T, D]", finite=check)
    B, T = int(x.shape[0]), int(x.shape[1])
    m = _checks.lengths_to_mask(xp, lengths, mask, B, T)  # [T, B] bool or None: checked once here
    rmask = None if m is None else xp.flip(xp.permute_dims(m, (1, 0)), axis=1)  # [B, T], time reversed
    if drop is not None and len(drop) != L - 1:
        raise ValueError(f"drop must hold one mask per connection between layers ({L - 1}), got {len(drop)}")
    if s_init is not None and tuple(s_init.shape)[:2] != (L * K, B):
        raise ValueError(f"s_init must have shape [L*K, B, S] = [{L * K}, {B}, S], got {tuple(s_init.shape)}")
    caches, finals, h = [], [], x
    H_all = _hidden(params, cell)
    for layer in range(L):
        if layer > 0 and drop is not None:
            h = h * drop[layer - 1]  # dropout on the connection from layer k-1 to layer k
        def direction(d, layer=layer, h=h):
            sfx = f"l{layer}" + ("_reverse" if d else "")
            s0 = None if s_init is None else s_init[layer * K + d]
            if d == 0:  # forward: lengths keep the longest-first fast path; a mask goes as it is
                states, c = recurrent.forward(_layer_params(params, sfx, cell), h,
                                              lengths=lengths if mask is None else None, mask=mask, cell=cell,
                                              activation=activation, s_init=s0, check=False)
                return states, recurrent.final_state(c), c  # pads carry: the state after the last real step
            # reverse: the time-reversed batch and mask; flipped back to the original time
            states, c = recurrent.forward(_layer_params(params, sfx, cell), xp.flip(h, axis=1), mask=rmask,
                                          cell=cell, activation=activation, s_init=s0, check=False)
            return xp.flip(states, axis=1), recurrent.final_state(c), c  # reversed: after the first real step

        runs = _both(xp, [lambda d=d: direction(d) for d in range(K)], B, cell, H_all)  # independent
        outs = [r[0] for r in runs]
        finals += [r[1] for r in runs]
        caches += [r[2] for r in runs]
        h = outs[0] if K == 1 else xp.concat(outs, axis=-1)  # [B, T, K*H]
    final = xp.stack(finals, axis=0)
    cache = {"rnn": caches, "L": L, "K": K, "drop": drop, "B": B, "T": T, "H": int(outs[0].shape[-1]),
             "cell": cell}
    return h, final, cache


def backward(params: dict, cache: dict, d_out=None, *, d_final=None, need_dx: bool = True,
             step_norms: bool = False):
    """BPTT through the stack, top layer first.

    ``d_out`` ``[B, T, K*H]``: dLoss/dout; ``d_final`` ``[L*K, B, H]`` (or a list of ``L*K`` entries,
    ``[B, H]`` or None): dLoss/dfinal on the ``h`` part of each final state; either or both.
    Returns ``(grads, dx)``: ``grads`` keyed like ``params``; ``dx`` ``[B, T, D]`` or None; with
    ``step_norms`` also ``[T]``: at each step the norm of dLoss/d(all layers' and directions' states).
    """
    L, K, H = cache["L"], cache["K"], cache["H"]
    if d_out is None and d_final is None:
        raise TypeError("give d_out [B, T, K*H] and/or d_final [L*K, B, H]")
    xp = namespace(d_out, d_final)
    B, T = cache["B"], cache["T"]
    if d_out is not None and tuple(d_out.shape) != (B, T, K * H):
        raise ValueError(f"d_out must have shape [B, T, K*H] = [{B}, {T}, {K * H}], got {tuple(d_out.shape)}")
    if d_final is not None and not isinstance(d_final, list) and tuple(d_final.shape) != (L * K, B, H):
        raise ValueError(f"d_final must have shape [L*K, B, H] = [{L * K}, {B}, {H}], got {tuple(d_final.shape)}")
    grads, dh = {}, d_out  # dh: dLoss/d(this layer's output) [B, T, K*H], None when only finals feed the loss
    sq = None  # the squared step norms, summed over layers and directions
    for layer in reversed(range(L)):
        def direction(d, layer=layer, dh=dh):
            i = layer * K + d
            sfx = f"l{layer}" + ("_reverse" if d else "")
            d_states = None if dh is None else dh[:, :, d * H:(d + 1) * H]
            if d == 1 and d_states is not None:
                d_states = xp.flip(d_states, axis=1)  # into the reverse run's own (reversed) time
            d_last = None if d_final is None else d_final[i]
            if d_states is None and d_last is None:
                return None
            p = _layer_params(params, sfx, cache["cell"])
            return sfx, recurrent.backward(p, cache["rnn"][i], d_states, d_last=d_last,
                                           need_dx=need_dx or layer > 0, step_norms=step_norms)

        dx_layer = None
        for d, run in enumerate(_both(xp, [lambda d=d: direction(d) for d in range(K)], B, cache["cell"], H)):
            if run is None:
                continue
            sfx, res = run
            g, dx = res[0], res[1]
            if step_norms:
                n2 = res[2] * res[2]
                n2 = xp.flip(n2, axis=0) if d == 1 else n2  # the reverse run's steps in the original time
                sq = n2 if sq is None else sq + n2
            for k, v in g.items():
                grads[f"{k}_{sfx}"] = v
            if dx is not None:
                if d == 1:
                    dx = xp.flip(dx, axis=1)  # back to the original time
                dx_layer = dx if dx_layer is None else dx_layer + dx  # both directions read the same input
        if layer > 0 and dx_layer is not None and cache["drop"] is not None:
            dx_layer = dx_layer * cache["drop"][layer - 1]  # backprop through the dropout between layers
        dh = dx_layer
    for name, v in params.items():  # a direction no gradient reached (e.g. only some finals used)
        if name not in grads:
            grads[name] = xp.zeros_like(v)
    if step_norms:
        return grads, (dh if need_dx else None), xp.sqrt(sq)
    return grads, (dh if need_dx else None)


MIN_SIDE_MACS = 1 << 20  # a step's multiply-adds, rows * H * H * G, for the directions to run side by side.
# Below it the two threads mostly wait for each other's turn on the interpreter lock between small NumPy
# calls.  Measured by `python benchmarks/side_by_side_threshold.py` (two runs, log
# benchmarks/results/cpu-side-by-side-threshold.log), a training step at B=32, side by side / one after the
# other: the tutorial's cell at H=128 (0.5M) 1.26 and 1.30; the GRU at H=128 (1.6M) 0.92 and 1.02; the
# tutorial's cell at H=256 and the LSTM at H=128 (2.1M each) 0.81, 0.81 and 0.95, 0.84.


def _both(xp, fns, rows: int, cell: str, H: int):
    """The directions of a layer: side by side on two cores for NumPy (bptt._cpu.side_by_side) when a
    step's products are large enough to gain (``rows * H * H * G`` at least ``MIN_SIDE_MACS``), else one
    after the other, as elsewhere (a GPU runs each direction's loop across its own cores)."""
    if xp is np and rows * cells.step_width(cell, H) ** 2 >= MIN_SIDE_MACS:
        return _cpu.side_by_side(fns)
    return [f() for f in fns]


def _hidden(params: dict, cell: str) -> int:
    """The state size ``H`` of a stack's parameters (``W_s_l0``: ``[H + D, G*H]``)."""
    c = cells.get(cell)
    return int(_layer_params(params, "l0", cell)["W_s"].shape[1]) // (1 if c is None else c.GATES)


def top_final(out, bidirectional: bool):
    """The top layer's ``final`` states side by side, ``[B, K*H]``, read from ``out``: the forward
    direction's state at the last step (pads carried it there) and the reverse direction's at the
    first step.  What a many-to-one head reads."""
    xp = namespace(out)
    if not bidirectional:
        return out[:, -1, :]
    H = int(out.shape[-1]) // 2
    return xp.concat([out[:, -1, :H], out[:, 0, H:]], axis=-1)
