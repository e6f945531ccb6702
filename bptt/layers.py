"""The layers a model is made of (:class:`bptt.Model` runs them as a list, in order): ``Embedding``
(token ids -> vectors), ``Dropout`` (on a connection between layers, never the recurrence),
:class:`bptt.stack.Recurrent` (one level of recurrence, one direction or both), ``LastStates``
(what a many-to-one head reads: each direction's state after its whole sequence) and ``Dense``
(the tutorial's output ``s^T @ W_o + b_o``).

A layer is a frozen dataclass holding only its configuration, with pure functions
``param_shapes() -> {name: shape}``, ``init(rng, dtype) -> params``,
``forward(params, x, ctx=None) -> (y, cache)`` and ``backward(params, cache, dy) -> (grads, dx)``;
``grads`` is keyed like the layer's own entries of ``params`` (each layer owns its names: ``E``;
``W_s_l0``, ...; ``W_o``, ``b_o``), and ``ctx`` is what the whole batch shares (``lengths`` or
``mask``, ``s_init``, ``check``, the dropout masks ``drop``).  No layer keeps state between calls.
A new kind of layer is one such class; :meth:`bptt.Model.layers` lists a model's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks, _cpu
from ._xp import is_numpy, namespace, scatter_add_rows, to_numpy, xavier_uniform


@dataclass(frozen=True)
class Dense:
    """``y = x @ W_o + b_o`` on the last axis: x ``[..., I]`` -> y ``[..., O]``.

    The output activation ``f_o`` of the tutorial is applied by the loss
    (softmax, sigmoid or identity), where it is numerically stable.
    """

    in_features: int
    out_features: int

    def param_shapes(self) -> dict:
        return {"W_o": (self.in_features, self.out_features), "b_o": (self.out_features,)}

    def init(self, rng: np.random.Generator, dtype=np.float32) -> dict:
        return {
            "W_o": xavier_uniform(rng, self.in_features, self.out_features).astype(dtype),
            "b_o": np.zeros(self.out_features, dtype),
        }

    def forward(self, params: dict, x, ctx: dict | None = None):
        xp = namespace(x, params["W_o"])
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x must have shape [..., {self.in_features}], got {tuple(x.shape)}")
        _checks.same_dtype("x", x, "params['W_o']", params["W_o"])
        lead = tuple(x.shape[:-1])
        x2 = xp.reshape(x, (-1, self.in_features))  # [N, I]
        y = (_cpu.matmul(x2, params["W_o"]) if is_numpy(xp) else xp.matmul(x2, params["W_o"])) + params["b_o"]
        return xp.reshape(y, lead + (self.out_features,)), {"x2": x2, "lead": lead}

    def backward(self, params: dict, cache: dict, dy, **_):
        xp = namespace(dy, params["W_o"])
        dy2 = xp.reshape(dy, (-1, self.out_features))  # [N, O]
        W_oT = xp.permute_dims(params["W_o"], (1, 0))
        if is_numpy(xp):  # the same products, split across cores (bptt._cpu)
            dW_o, db_o = _cpu.matmul_tn([cache["x2"]], dy2)  # dL/dW_o = x^T dy; dL/db_o = sum of dy
            dx = _cpu.matmul(dy2, W_oT)  # backprop into x
        else:
            dW_o = xp.matmul(xp.permute_dims(cache["x2"], (1, 0)), dy2)  # dL/dW_o = x^T dy, summed over rows
            db_o = xp.sum(dy2, axis=0)  # dL/db_o = sum of dy
            dx = xp.matmul(dy2, W_oT)  # backprop into x
        grads = {"W_o": dW_o, "b_o": db_o}
        return grads, xp.reshape(dx, cache["lead"] + (self.in_features,))


@dataclass(frozen=True)
class Embedding:
    """Token ids ``[B, T]`` -> vectors ``[B, T, D]`` by row lookup in ``E``: ``[V, D]``.

    Row ``pad_id`` is the pad vector: it starts at zero and gets no gradient.
    """

    vocab_size: int
    dim: int
    pad_id: int = 0

    def param_shapes(self) -> dict:
        return {"E": (self.vocab_size, self.dim)}

    def init(self, rng: np.random.Generator, dtype=np.float32) -> dict:
        E = rng.normal(0.0, 1.0 / np.sqrt(self.dim), size=(self.vocab_size, self.dim))
        if 0 <= self.pad_id < self.vocab_size:
            E[self.pad_id] = 0.0
        return {"E": E.astype(dtype)}

    def check_ids(self, ids, name: str = "ids"):
        host = to_numpy(ids)
        if host.ndim != 2:
            raise ValueError(f"{name} must have shape [B, T], got shape {tuple(host.shape)}")
        if host.size and not np.issubdtype(host.dtype, np.integer):
            raise TypeError(f"{name} must be integer token ids, got dtype {host.dtype}")
        if host.size:
            lo, hi = int(host.min()), int(host.max())
            if lo < 0 or hi >= self.vocab_size:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"{name} holds id {bad}, outside the vocabulary 0..{self.vocab_size - 1}"
                )

    def forward(self, params: dict, ids, ctx: dict | None = None):
        E = params["E"]
        xp = namespace(E)
        self.check_ids(ids)
        B, T = (int(s) for s in ids.shape)
        flat = xp.reshape(xp.asarray(ids), (B * T,))
        x = xp.reshape(xp.take(E, flat, axis=0), (B, T, self.dim))  # row lookup
        return x, {"flat": flat, "shape": (B, T)}

    def backward(self, params: dict, cache: dict, dx, **_):
        E = params["E"]
        xp = namespace(E, dx)
        B, T = cache["shape"]
        dx2 = xp.reshape(dx, (B * T, self.dim))
        dE = scatter_add_rows(xp, self.vocab_size, cache["flat"], dx2)  # each lookup adds its gradient to its row
        if 0 <= self.pad_id < self.vocab_size:
            dE[self.pad_id, ...] = 0.0  # the pad vector stays fixed
        return {"E": dE}, None


@dataclass(frozen=True)
class FinalGrad:
    """The gradient a recurrent level receives from a many-to-one head: dLoss/d(each direction's
    final ``h``) ``[B, H]`` (None where none flows), and optionally dLoss/d(its output) ``[B, T, K*H]``."""

    parts: tuple
    states: object = None


@dataclass(frozen=True)
class Dropout:
    """Inverted dropout on one connection: ``y = x * mask``, the mask (already scaled by
    ``1 / (1 - p)``) taken from ``ctx["drop"]`` under ``slot`` (``"in"``, ``"out"`` or
    ``("between", k)``); without masks (``ctx["drop"]`` None: evaluation, or no dropout) ``y = x``.
    Never on the recurrence ``s^{t-1} -> s^t``."""

    slot: object

    def param_shapes(self) -> dict:
        return {}

    def init(self, rng: np.random.Generator, dtype=np.float32) -> dict:
        return {}

    def _mask(self, ctx):
        drop = (ctx or {}).get("drop")
        if drop is None:
            return None
        if isinstance(self.slot, tuple):  # ("between", k): the k-th connection between recurrent levels
            masks = drop.get(self.slot[0])
            return None if masks is None else masks[self.slot[1]]
        return drop.get(self.slot)

    def forward(self, params: dict, x, ctx: dict | None = None):
        m = self._mask(ctx)
        return (x if m is None else x * m), m  # dropout on the connection

    def backward(self, params: dict, cache, dy, **_):
        return {}, (dy if cache is None or dy is None else dy * cache)  # backprop through the dropout mask


@dataclass(frozen=True)
class LastStates:
    """What a many-to-one head reads from the top recurrent level's output ``[B, T, K*H]``: the
    forward direction's state after each row's last real step (pads carried it to step T) and,
    for a bidirectional level, the reverse direction's after its first (at step 1): ``[B, K*H]``."""

    hidden_size: int
    bidirectional: bool = False

    def param_shapes(self) -> dict:
        return {}

    def init(self, rng: np.random.Generator, dtype=np.float32) -> dict:
        return {}

    def forward(self, params: dict, states, ctx: dict | None = None):
        xp = namespace(states)
        H = self.hidden_size
        if not self.bidirectional:
            return states[:, -1, :], None
        return xp.concat([states[:, -1, :H], states[:, 0, H:]], axis=-1), None

    def backward(self, params: dict, cache, dy, **_):
        H = self.hidden_size
        if not self.bidirectional:
            return {}, FinalGrad((dy,))  # the final state alone feeds the output
        return {}, FinalGrad((dy[:, :H], dy[:, H:]))  # each direction's part back to its final state
