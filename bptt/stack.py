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

from dataclasses import dataclass

import numpy as np

from . import _checks, _cpu, cells, recurrent
from ._xp import namespace
from .layers import FinalGrad, LastStates

__all__ = ["Recurrent", "levels", "init", "forward", "backward", "param_names", "top_final"]



def _suffixes(num_layers: int, bidirectional: bool) -> list[str]:
    """``l0``, ``l0_reverse``, ``l1``, ... in the order of ``final``'s first axis."""
    return [f"l{k}{d}" for k in range(num_layers) for d in (("", "_reverse") if bidirectional else ("",))]


def param_names(num_layers: int, bidirectional: bool, learn_s0: bool = False, cell: str = "rnn") -> list[str]:
    keys = list(recurrent.param_shapes(cell, 1, 1, learn_s0))
    return [f"{k}_{sfx}" for sfx in _suffixes(num_layers, bidirectional) for k in keys]


def param_shapes(input_size: int, hidden_size: int, *, num_layers: int = 1, bidirectional: bool = False,
                 learn_s0: bool = False, cell: str = "rnn") -> dict:
    """Name -> shape of every parameter of the stack."""
    shapes = {}
    for level in levels(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, cell=cell,
                        learn_s0=learn_s0):
        shapes.update(level.param_shapes())
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
    params = {}
    for level in levels(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, cell=cell,
                        learn_s0=learn_s0):
        params.update(level.init(rng, dtype))
    return params


def _layer_params(params: dict, sfx: str, cell: str = "rnn") -> dict:
    p = {k: params[f"{k}_{sfx}"] for k in recurrent.param_shapes(cell, 1, 1, True) if f"{k}_{sfx}" in params}
    if "W_s" not in p or "b_s" not in p:
        raise KeyError(f"params has no 'W_s_{sfx}' / 'b_s_{sfx}' (see bptt.stack.init)")
    return p


@dataclass(frozen=True)
class Recurrent:
    """One level of a stack as a layer of a model (:mod:`bptt.layers`): the recurrence in one
    direction, or in both side by side, over ``[B, T, D]`` -> ``[B, T, K*H]``.

    ``level`` k names its parameters ``W_s_lk``, ``W_s_lk_reverse``, ...; ``plain=True`` (one
    direction, level 0) keeps the tutorial's own names ``W_s``, ``b_s``, ``s0`` of a one-layer model.
    ``forward(params, x, ctx)`` reads ``lengths``/``mask``, ``s_init`` (``[B, S]`` for a plain layer,
    else ``[L*K, B, S]``, of which it takes its own ``K`` entries) and ``check`` from ``ctx``; the
    cache holds ``finals``: each direction's state after it has read its whole sequence.
    ``backward(params, cache, dy)`` takes dLoss/dy ``[B, T, K*H]``, or a :class:`bptt.layers.FinalGrad`
    (dLoss/d(each direction's final ``h``), what a many-to-one head sends back, with or without dLoss/dy).
    """

    input_size: int
    hidden_size: int
    level: int = 0
    bidirectional: bool = False
    cell: str = "rnn"
    activation: str = "tanh"
    learn_s0: bool = False
    plain: bool = False
    chrono: int = 0  # the LSTM's gate biases at init (bptt.cells.lstm.init); 0: forget bias 1

    def __post_init__(self):
        if self.plain and (self.level or self.bidirectional):
            raise ValueError("plain (the tutorial's unsuffixed names) is for level 0 in one direction")

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _suffix(self, d: int) -> str:
        return "" if self.plain else f"_l{self.level}" + ("_reverse" if d else "")

    def _params(self, params: dict, d: int) -> dict:
        if self.plain:
            keys = recurrent.param_shapes(self.cell, 1, 1, True)
            p = {k: params[k] for k in keys if k in params}
            if "W_s" not in p or "b_s" not in p:
                raise KeyError("params has no 'W_s' / 'b_s' (see bptt.recurrent.init)")
            return p
        return _layer_params(params, self._suffix(d)[1:], self.cell)

    def param_shapes(self) -> dict:
        return {f"{k}{self._suffix(d)}": v for d in range(self.directions)
                for k, v in recurrent.param_shapes(self.cell, self.input_size, self.hidden_size,
                                                   self.learn_s0).items()}

    def init(self, rng: np.random.Generator, dtype=np.float32) -> dict:
        """Each direction initialised as :func:`bptt.recurrent.init` does, the forward one first."""
        params = {}
        for d in range(self.directions):
            for k, v in recurrent.init(self.input_size, self.hidden_size, cell=self.cell, learn_s0=self.learn_s0,
                                       rng=rng, dtype=dtype, chrono=self.chrono).items():
                params[f"{k}{self._suffix(d)}"] = v
        return params

    def forward(self, params: dict, x, ctx: dict | None = None):
        ctx = ctx or {}
        lengths, mask, s_init, check = ctx.get("lengths"), ctx.get("mask"), ctx.get("s_init"), ctx.get("check", True)
        if self.plain:
            states, c = recurrent.forward(self._params(params, 0), x, lengths=lengths, mask=mask, cell=self.cell,
                                          activation=self.activation, s_init=s_init, check=check)
            return states, {"runs": [c], "finals": [recurrent.final_state(c)], "B": int(x.shape[0])}
        xp = namespace(x)
        K = self.directions
        B, T = int(x.shape[0]), int(x.shape[1])
        rmask = None
        if K == 2:  # the reverse direction reads the time-reversed batch with the time-reversed mask
            m = _checks.lengths_to_mask(xp, lengths, mask, B, T)  # [T, B] bool or None
            rmask = None if m is None else xp.flip(xp.permute_dims(m, (1, 0)), axis=1)  # [B, T], time reversed

        def direction(d):
            s0 = None if s_init is None else s_init[self.level * K + d]
            if d == 0:  # forward: lengths keep the longest-first fast path; a mask goes as it is
                states, c = recurrent.forward(self._params(params, 0), x, lengths=lengths if mask is None else None,
                                              mask=mask, cell=self.cell, activation=self.activation, s_init=s0,
                                              check=False)
                return states, recurrent.final_state(c), c  # pads carry: the state after the last real step
            states, c = recurrent.forward(self._params(params, 1), xp.flip(x, axis=1), mask=rmask, cell=self.cell,
                                          activation=self.activation, s_init=s0, check=False)
            return xp.flip(states, axis=1), recurrent.final_state(c), c  # reversed: after the first real step

        runs = _both(xp, [lambda d=d: direction(d) for d in range(K)], B, self.cell, self.hidden_size)  # independent
        if K == 1:
            y = runs[0][0]  # [B, T, H] (a view of the run's states)
        elif ctx.get("finals_only"):
            y = None  # only a many-to-one head reads this level, at its final states: no [B, T, 2H] copy
        else:
            y = xp.concat([r[0] for r in runs], axis=-1)  # [B, T, K*H]
        return y, {"runs": [r[2] for r in runs], "finals": [r[1] for r in runs], "B": B}

    def backward(self, params: dict, cache: dict, dy, *, need_dx: bool = True, step_norms: bool = False):
        """``(grads, dx)``, and with ``step_norms`` a third item: per direction, the ``[T]`` norms of
        dLoss/ds^t in the original time (None for a direction no gradient reached)."""
        d_out, d_lasts = (dy.states, dy.parts) if isinstance(dy, FinalGrad) else (dy, (None,) * self.directions)
        K, H = self.directions, self.hidden_size
        # the namespace of the gradient and of the weights it meets (an error if they differ): it decides whether
        # the directions may run on two threads (NumPy alone), so it is never taken from an empty gradient
        xp = namespace(*(v for v in (d_out,) + tuple(d_lasts) if v is not None), *self._params(params, 0).values())

        def direction(d):
            d_states, d_last = None, d_lasts[d]
            if d_out is not None:
                d_states = d_out if K == 1 else d_out[:, :, d * H:(d + 1) * H]
                if d == 1:
                    d_states = xp.flip(d_states, axis=1)  # into the reverse run's own (reversed) time
            if d_states is None and d_last is None:
                return None
            return recurrent.backward(self._params(params, d), cache["runs"][d], d_states, d_last=d_last,
                                      need_dx=need_dx, step_norms=step_norms)

        grads, dx, norms = {}, None, []
        for d, res in enumerate(_both(xp, [lambda d=d: direction(d) for d in range(K)], cache["B"], self.cell, H)):
            if res is None:
                for k, v in self._params(params, d).items():  # no gradient reached this direction
                    grads[f"{k}{self._suffix(d)}"] = xp.zeros_like(v)
                norms.append(None)
                continue
            for k, v in res[0].items():
                grads[f"{k}{self._suffix(d)}"] = v
            dxd = res[1]
            if dxd is not None:
                if d == 1:
                    dxd = xp.flip(dxd, axis=1)  # back to the original time
                dx = dxd if dx is None else dx + dxd  # both directions read the same input
            if step_norms:
                norms.append(xp.flip(res[2], axis=0) if d == 1 else res[2])  # the reverse run's steps in original time
        if step_norms:
            return grads, dx, norms
        return grads, dx


def levels(input_size: int, hidden_size: int, *, num_layers: int = 1, bidirectional: bool = False,
           cell: str = "rnn", activation: str = "tanh", learn_s0: bool = False, plain: bool = False,
           chrono: int = 0) -> list:
    """The :class:`Recurrent` levels of a stack: level k > 0 reads ``K * hidden_size`` inputs."""
    L, K = _check_shape(num_layers, bidirectional)
    return [Recurrent(input_size if k == 0 else K * hidden_size, hidden_size, k, bidirectional, cell, activation,
                      learn_s0, plain, chrono) for k in range(L)]


def combine_norms(norms: list):
    """``[T]`` step norms of every level and direction (a list of ``[T]`` arrays or None) as one:
    the norm of dLoss/d(all their states) at each step."""
    norms = [n for n in norms if n is not None]
    if len(norms) == 1:
        return norms[0]
    xp = namespace(norms[0])
    sq = None
    for n in norms:
        sq = n * n if sq is None else sq + n * n
    return xp.sqrt(sq)


def check_batch(xp, x, lengths, mask, s_init, runs: int, check: bool = True) -> tuple:
    """``(B, T)`` of a stack's input ``x`` ``[B, T, D]``, once its shape (and, with ``check``, its values),
    its ``lengths`` or ``mask``, and ``s_init`` (``[runs, B, S]``, ``runs = L*K``) are checked: the
    stack's levels then run with ``check=False``."""
    _checks.float_array(xp, "x", x, 3, "[B, T, D]", finite=check)
    B, T = int(x.shape[0]), int(x.shape[1])
    _checks.lengths_to_mask(xp, lengths, mask, B, T)
    if s_init is not None and tuple(getattr(s_init, "shape", ()))[:2] != (runs, B):
        raise ValueError(f"s_init must have shape [L*K, B, S] = [{runs}, {B}, S], got "
                         f"{tuple(getattr(s_init, 'shape', ()))}")
    return B, T


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
    _check_names(params, L, bidirectional, cell)
    xp = namespace(x)
    B, T = check_batch(xp, x, lengths, mask, s_init, L * K, check)
    if drop is not None and len(drop) != L - 1:
        raise ValueError(f"drop must hold one mask per connection between layers ({L - 1}), got {len(drop)}")
    lv = levels(int(x.shape[-1]), _hidden(params, cell), num_layers=L, bidirectional=bidirectional, cell=cell,
                activation=activation)
    ctx = {"lengths": lengths, "mask": mask, "s_init": s_init, "check": False}
    caches, h = [], x
    for k, level in enumerate(lv):
        if k > 0 and drop is not None:
            h = h * drop[k - 1]  # dropout on the connection from layer k-1 to layer k
        h, c = level.forward(params, h, ctx)
        caches.append(c)
    final = xp.stack([f for c in caches for f in c["finals"]], axis=0)
    return h, final, {"levels": lv, "caches": caches, "drop": drop, "B": B, "T": T}


def _check_names(params, L: int, bidirectional: bool, cell: str) -> None:
    """Refuse, by name, parameters that are not those of a stack of ``L`` layers, ``bidirectional`` and
    ``cell`` (another stack's, or a one-layer model's)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays (see bptt.stack.init), got {type(params).__name__}")
    cells.get(cell)  # an unknown cell is named
    optional = set(param_names(L, bidirectional, learn_s0=True, cell=cell)) - set(param_names(L, bidirectional,
                                                                                              cell=cell))
    need = set(param_names(L, bidirectional, cell=cell))
    missing, extra = sorted(need - set(params)), sorted(set(params) - need - optional)
    if missing or extra:
        what = f"a stack of {L} layer(s), bidirectional={bidirectional}, cell={cell!r}"
        raise ValueError(f"params are not those of {what}: " + "; ".join(
            part for part in (f"missing {missing[:6]}" if missing else "", f"unknown {extra[:6]}" if extra else "")
            if part) + " (give the num_layers, bidirectional and cell they were made with)")


def backward(params: dict, cache: dict, d_out=None, *, d_final=None, need_dx: bool = True,
             step_norms: bool = False):
    """BPTT through the stack, top layer first.

    ``d_out`` ``[B, T, K*H]``: dLoss/dout; ``d_final`` ``[L*K, B, H]`` (or a list of ``L*K`` entries,
    ``[B, H]`` or None): dLoss/dfinal on the ``h`` part of each final state; either or both.
    Returns ``(grads, dx)``: ``grads`` keyed like ``params``; ``dx`` ``[B, T, D]`` or None; with
    ``step_norms`` also ``[T]``: at each step the norm of dLoss/d(all layers' and directions' states).
    """
    lv = cache["levels"]
    L, K, H = len(lv), lv[0].directions, lv[0].hidden_size
    if d_out is None and d_final is None:
        raise TypeError("give d_out [B, T, K*H] and/or d_final [L*K, B, H]")
    xp = namespace(d_out, d_final)
    B, T = cache["B"], cache["T"]
    if d_out is not None and tuple(d_out.shape) != (B, T, K * H):
        raise ValueError(f"d_out must have shape [B, T, K*H] = [{B}, {T}, {K * H}], got {tuple(d_out.shape)}")
    if d_final is not None and not isinstance(d_final, list) and tuple(d_final.shape) != (L * K, B, H):
        raise ValueError(f"d_final must have shape [L*K, B, H] = [{L * K}, {B}, {H}], got {tuple(d_final.shape)}")
    grads, dh, norms = {}, d_out, []  # dh: dLoss/d(this level's output) [B, T, K*H]
    for k in reversed(range(L)):
        parts = None if d_final is None else [d_final[k * K + d] for d in range(K)]
        if parts is not None and all(p is None for p in parts):
            parts = None
        if dh is None and parts is None:  # nothing reaches this level (its gradients are zeros, below)
            continue
        res = lv[k].backward(params, cache["caches"][k], dh if parts is None else FinalGrad(tuple(parts), dh),
                             need_dx=need_dx or k > 0, step_norms=step_norms)
        grads.update(res[0])
        if step_norms:
            norms += res[2]
        dx_level = res[1]
        if k > 0 and dx_level is not None and cache["drop"] is not None:
            dx_level = dx_level * cache["drop"][k - 1]  # backprop through the dropout between layers
        dh = dx_level
    for name, v in params.items():  # a direction no gradient reached (e.g. only some finals used)
        if name not in grads:
            grads[name] = xp.zeros_like(v)
    if step_norms:
        return grads, (dh if need_dx else None), combine_norms(norms)
    return grads, (dh if need_dx else None)


MIN_SIDE_MACS = {"rnn": 1 << 19, "gru": 1 << 20, "lstm": 1 << 20}  # a step's multiply-adds, rows * H * H * G,
# for the directions to run side by side, per cell.  Below it the two threads mostly wait for each other's turn
# on the interpreter lock between small NumPy calls; a gated cell makes more such calls per multiply-add.
# Measured by `python benchmarks/side_by_side_threshold.py` (log benchmarks/results/cpu-side-by-side-threshold.log,
# the runs since the BLAS runs one thread inside a step), a training step at B=32 unless given, side by side /
# one after the other: the tutorial's cell at B=4, H=32 1.25; B=8, H=64 1.62; H=64 (0.13M) 1.12; H=128 (0.5M)
# 0.74 and 0.65; H=256 (2.1M) 0.57 and 0.60; the LSTM at B=8, H=32 1.27; H=64 (0.5M) 1.06; H=128 (2.1M) 0.74
# and 0.66; the GRU at H=64 (0.4M) 1.18; H=128 (1.6M) 0.90 and 0.80.


def _both(xp, fns, rows: int, cell: str, H: int):
    """The directions of a layer: side by side on two cores for NumPy (bptt._cpu.side_by_side) when a
    step's products are large enough to gain (``rows * H * H * G`` at least ``MIN_SIDE_MACS[cell]``), else
    one after the other, as elsewhere (a GPU runs each direction's loop across its own cores)."""
    if xp is np and rows * cells.step_width(cell, H) ** 2 >= MIN_SIDE_MACS[cell]:
        return _cpu.side_by_side(fns)
    return [f() for f in fns]


def _hidden(params: dict, cell: str) -> int:
    """The state size ``H`` of a stack's parameters (``W_s_l0``: ``[H + D, G*H]``)."""
    c = cells.get(cell)
    return int(_layer_params(params, "l0", cell)["W_s"].shape[1]) // (1 if c is None else c.GATES)


def top_final(out, bidirectional: bool):
    """The top layer's ``final`` states side by side, ``[B, K*H]``, read from ``out``: the forward
    direction's state at the last step (pads carried it there) and the reverse direction's at the
    first step.  What a many-to-one head reads (:class:`bptt.layers.LastStates`)."""
    K = 2 if bidirectional else 1
    return LastStates(int(out.shape[-1]) // K, bidirectional).forward({}, out)[0]
