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
A layer whose output at a step depends on its input at that step alone says so with a class
attribute ``per_step = True``: :meth:`bptt.Model.infer` then runs a long sequence through it a chunk
of steps at a time instead of whole.
:meth:`bptt.Model.layers` lists a model's.

**A new kind of layer is one new file** in this package (or in a package of your own that names it
under the ``bptt.layers`` entry-point group), holding such a class registered with
``@register("kind")``, and its tests.  A model takes it through ``ModelConfig(extra_layers=...)``:
``({"kind": "layer_norm", "at": "states"},)`` puts one at a point of the chain (see ``POINTS``);
the config, and with it the model file, names the kind and its fields, and loading the file
finds the class by that name.  ``bptt/layers/layer_norm.py`` is one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks, _cpu
from .._xp import is_numpy, namespace, scatter_add_rows, to_numpy, xavier_uniform


def _sizes(layer, *names) -> None:
    """Refuse, by name, a size of ``layer`` that is not a positive integer."""
    for name in names:
        _checks.positive_int(f"{type(layer).__name__}: {name}", getattr(layer, name))


@dataclass(frozen=True)
class Dense:
    """``y = x @ W_o + b_o`` on the last axis: x ``[..., I]`` -> y ``[..., O]``.

    The output activation ``f_o`` of the tutorial is applied by the loss
    (softmax, sigmoid or identity), where it is numerically stable.
    """

    per_step = True  # reads each step on its own (Model.infer runs it a chunk at a time)

    in_features: int
    out_features: int

    def __post_init__(self):
        _sizes(self, "in_features", "out_features")

    def param_shapes(self) -> dict:
        return {"W_o": (self.in_features, self.out_features), "b_o": (self.out_features,)}

    def init(self, rng: np.random.Generator, dtype=np.float32) -> dict:
        return {
            "W_o": xavier_uniform(rng, self.in_features, self.out_features).astype(dtype),
            "b_o": np.zeros(self.out_features, dtype),
        }

    def forward(self, params: dict, x, ctx: dict | None = None):
        _checks.array_like("x", x)
        xp = namespace(x, params["W_o"])
        if len(x.shape) < 1 or x.shape[-1] != self.in_features:
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

    per_step = True  # reads each step on its own (Model.infer runs it a chunk at a time)

    vocab_size: int
    dim: int
    pad_id: int = 0

    def __post_init__(self):
        _sizes(self, "vocab_size", "dim")
        if isinstance(self.pad_id, bool) or not isinstance(self.pad_id, (int, np.integer)):
            raise ValueError(f"pad_id must be an integer, got {self.pad_id!r}")

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
        if 0 in host.shape:
            raise ValueError(f"{name} must hold at least one sequence of at least one step, got shape {tuple(host.shape)}")
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
    first: object = None  # [B] each row's first real step (None: step 0), where the reverse part was read
    last: object = None  # [B] each row's last real step (None: step T-1), where the forward part was read

    def dense(self, like):
        """The same gradient as one array shaped like the level's output ``like`` ``[B, T, K*H]``: each
        part at the step :class:`LastStates` read it from (for a layer between the level and the
        head that reads every step)."""
        xp = namespace(like)
        d = xp.zeros_like(like) if self.states is None else xp.asarray(self.states, copy=True)
        H, T = int(like.shape[-1]) // len(self.parts), int(like.shape[1])
        for k, part in enumerate(self.parts):
            if part is None:
                continue
            at = self.last if k == 0 else self.first
            if at is None:
                d[:, -1 if k == 0 else 0, k * H:(k + 1) * H] += part
            else:  # each row's part at the one step it was read from
                d[:, :, k * H:(k + 1) * H] += _one_hot_steps(xp, at, T, part.dtype) * part[:, None, :]
        return d


@dataclass(frozen=True)
class Dropout:
    """Inverted dropout on one connection: ``y = x * mask``, the mask (already scaled by
    ``1 / (1 - p)``) taken from ``ctx["drop"]`` under ``slot`` (``"in"``, ``"out"`` or
    ``("between", k)``); without masks (``ctx["drop"]`` None: evaluation, or no dropout) ``y = x``.
    Never on the recurrence ``s^{t-1} -> s^t``."""

    per_step = True  # reads each step on its own (Model.infer runs it a chunk at a time)

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


def _one_hot_steps(xp, at, T: int, dtype):
    """``[B, T, 1]``: 1 at step ``at[b]`` of row b, else 0 (a gather or scatter along time that any
    array namespace can do, exactly: the other steps add zeros)."""
    return xp.astype(xp.arange(T)[None, :] == xp.asarray(at)[:, None], dtype)[:, :, None]


@dataclass(frozen=True)
class LastStates:
    """What a many-to-one head reads from the top recurrent level's output ``[B, T, K*H]``: the
    forward direction's state after each row's last real step and, for a bidirectional level, the
    reverse direction's after its first (each direction's state after its whole sequence):
    ``[B, K*H]``.  Pads carry the states, so these are at steps T and 1.  With ``real_ends``
    (a layer at ``"states"`` in between, which sees the two directions of one step side by side)
    they are read at each row's own last and first real steps, so no pad step's state mixes in."""

    hidden_size: int
    bidirectional: bool = False
    real_ends: bool = False

    def param_shapes(self) -> dict:
        return {}

    def init(self, rng: np.random.Generator, dtype=np.float32) -> dict:
        return {}

    @staticmethod
    def _ends(states, ctx):
        """``(first, last)``: each row's first and last real step, [B] int arrays (None: 0 and T-1)."""
        ctx = ctx or {}
        lengths, mask = ctx.get("lengths"), ctx.get("mask")
        B, T = int(states.shape[0]), int(states.shape[1])
        if mask is not None:
            m = np.asarray(to_numpy(mask), bool).reshape(B, T)
            first, last = np.argmax(m, axis=1), T - 1 - np.argmax(m[:, ::-1], axis=1)
        elif lengths is not None:
            first, last = np.zeros(B, np.int64), np.asarray(to_numpy(lengths), np.int64).reshape(B) - 1
        else:
            return None, None
        return (None if not first.any() else first), (None if np.all(last == T - 1) else last)

    def forward(self, params: dict, states, ctx: dict | None = None):
        if states is None:  # the level gave its final states only (``ctx["finals"]``, each [B, S]; h first)
            finals = ctx["finals"]
            xp = namespace(finals[0])
            H = self.hidden_size
            return xp.concat([f[:, :H] for f in finals], axis=-1), (None, None)
        xp = namespace(states)
        H, T = self.hidden_size, int(states.shape[1])
        first, last = self._ends(states, ctx) if self.real_ends else (None, None)
        fwd = states[:, -1, :H] if last is None else \
            xp.sum(states[:, :, :H] * _one_hot_steps(xp, last, T, states.dtype), axis=1)  # each row's last real step
        if not self.bidirectional:
            return fwd, (first, last)
        rev = states[:, 0, H:] if first is None else \
            xp.sum(states[:, :, H:] * _one_hot_steps(xp, first, T, states.dtype), axis=1)  # its first real step
        return xp.concat([fwd, rev], axis=-1), (first, last)

    def backward(self, params: dict, cache, dy, **_):
        H = self.hidden_size
        first, last = cache if cache is not None else (None, None)
        if not self.bidirectional:
            return {}, FinalGrad((dy,), first=first, last=last)  # the final state alone feeds the output
        return {}, FinalGrad((dy[:, :H], dy[:, H:]), first=first, last=last)  # each direction's part back


# ---------------------------------------------------------------------------------------------------
# Kinds of layer a config can add by name (ModelConfig.extra_layers)

#: The points of a model's chain where ``extra_layers`` go, with what they read there:
#: ``"input"``: the recurrence's input ``[B, T, D]`` (after the embedding; the width may change, and
#: the first recurrent level then reads the new width); ``"states"``: the top recurrent level's output
#: ``[B, T, K*H]`` (before a many-to-one head picks each row's final states; the width must stay);
#: ``"head"``: what the output layer reads, ``[B, K*H]`` or ``[B, T, K*H]`` (after ``--dropout``'s
#: mask on it; the width may change, and the output layer reads the new width).
POINTS = ("input", "states", "head")

#: kind -> layer class, filled by :func:`register`
LAYERS: dict = {}


def register(kind: str):
    """Class decorator: make a layer class available to ``ModelConfig(extra_layers=...)`` as ``kind``.

    The class is a frozen dataclass with the layer functions above.  It may declare the fields
    ``in_features`` (filled with the width it reads) and ``name`` (filled with a name unique in the
    model, ``kind`` + its place, to prefix its parameters so that two of a kind do not clash);
    ``out_features(in_features) -> int`` (a method) gives its output's width when that differs.
    Its other fields come from the spec, and are saved in model files (so JSON values only)."""
    if not isinstance(kind, str) or not kind.isidentifier():
        raise ValueError(f"a layer kind must be an identifier, got {kind!r}")

    def deco(cls):
        if LAYERS.get(kind, cls) is not cls:
            raise ValueError(f"layer kind {kind!r} is already registered by {LAYERS[kind].__module__}")
        LAYERS[kind] = cls
        cls.kind = kind
        return cls
    return deco


def _find(kind: str):
    if kind not in LAYERS:  # a plugin package's layer: loaded on first use
        from importlib.metadata import entry_points

        for ep in entry_points(group="bptt.layers"):
            if ep.name == kind:
                ep.load()
    if kind not in LAYERS:
        raise ValueError(f"layer kind {kind!r} is not known; known kinds: {sorted(LAYERS)}")
    return LAYERS[kind]


def build_extra(spec, in_features: int, index: int):
    """The layer an ``extra_layers`` entry describes, reading ``in_features`` wide input, and the
    width it outputs: ``(layer, out_features)``.  ``index`` tells apart layers at one point."""
    import dataclasses

    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str) or spec.get("at") not in POINTS:
        raise ValueError(f"each extra_layers entry is a dict with 'kind' (one of {sorted(LAYERS)}) and 'at' "
                         f"(one of {list(POINTS)}), got {spec!r}")
    cls = _find(spec["kind"])
    names = {f.name for f in dataclasses.fields(cls)}
    fields = {k: v for k, v in spec.items() if k not in ("kind", "at")}
    unknown = sorted(set(fields) - (names - {"in_features", "name"}))
    if unknown:
        raise ValueError(f"layer {spec['kind']!r} has no field(s) {unknown}; its fields: "
                         f"{sorted(names - {'in_features', 'name'})}")
    if "in_features" in names:
        fields["in_features"] = in_features
    if "name" in names:
        fields["name"] = f"{spec['kind']}_{spec['at']}{index}"
    try:
        layer = cls(**fields)
    except (TypeError, ValueError) as e:
        raise ValueError(f"layer {spec['kind']!r}: {e}") from None
    out = layer.out_features(in_features) if hasattr(layer, "out_features") and callable(layer.out_features) \
        else in_features
    if spec["at"] == "states" and out != in_features:
        raise ValueError(f"layer {spec['kind']!r} at 'states' must keep the width {in_features}, gives {out}")
    return layer, out


def _discover():
    """Import every module of this package, so that their ``@register`` runs: a new file is found."""
    import importlib
    import pkgutil

    for m in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{m.name}")


_discover()
