"""Layer normalisation (Ba, Kiros and Hinton 2016) of each step's vector, as a kind of layer that a
model takes by name: ``ModelConfig(extra_layers=({"kind": "layer_norm", "at": "states"},))``.

This file is the whole of it (with ``tests/test_layer_norm.py``): nothing else in bptt names it.
It normalises the last axis of what it reads, ``[..., F]``, at every step on its own, so a pad
step's vector never mixes with a real one (padding changes nothing, as everywhere in bptt).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._xp import namespace
from . import register


@register("layer_norm")
@dataclass(frozen=True)
class LayerNorm:
    """``y = (x - mean(x)) / sqrt(var(x) + eps) * g + b`` over the last axis: x ``[..., F]`` -> y ``[..., F]``.

    ``g`` (starts at 1) and ``b`` (starts at 0) are ``[F]``, named ``{name}_g`` and ``{name}_b``;
    ``eps`` is added to the (biased) variance, as ``torch.nn.LayerNorm`` does.
    """

    per_step = True  # normalises each step on its own (Model.infer runs it a chunk at a time)

    in_features: int
    name: str = "layer_norm"
    eps: float = 1e-5

    def __post_init__(self):
        if not isinstance(self.eps, (int, float)) or isinstance(self.eps, bool) or not 0 < self.eps < 1:
            raise ValueError(f"eps must be a number in (0, 1), got {self.eps!r}")

    def param_shapes(self) -> dict:
        return {f"{self.name}_g": (self.in_features,), f"{self.name}_b": (self.in_features,)}

    def init(self, rng: np.random.Generator, dtype=np.float32) -> dict:
        return {f"{self.name}_g": np.ones(self.in_features, dtype), f"{self.name}_b": np.zeros(self.in_features, dtype)}

    def forward(self, params: dict, x, ctx: dict | None = None):
        g, b = params[f"{self.name}_g"], params[f"{self.name}_b"]
        xp = namespace(x, g)
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x must have shape [..., {self.in_features}], got {tuple(x.shape)}")
        mu = xp.mean(x, axis=-1, keepdims=True)
        xc = x - mu
        inv = 1.0 / xp.sqrt(xp.mean(xc * xc, axis=-1, keepdims=True) + self.eps)  # 1 / sigma (a Python float keeps x.dtype)
        xhat = xc * inv
        return xhat * g + b, {"xhat": xhat, "inv": inv}

    def backward(self, params: dict, cache: dict, dy, **_):
        g = params[f"{self.name}_g"]
        xp = namespace(dy, g)
        xhat, inv = cache["xhat"], cache["inv"]
        lead = tuple(range(dy.ndim - 1))
        dg = xp.sum(dy * xhat, axis=lead)  # dL/dg: summed over every row and step
        db = xp.sum(dy, axis=lead)  # dL/db
        dxhat = dy * g  # backprop through the gain
        # backprop through the normalisation: dx = (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) / sigma
        dx = inv * (dxhat - xp.mean(dxhat, axis=-1, keepdims=True)
                    - xhat * xp.mean(dxhat * xhat, axis=-1, keepdims=True))
        return {f"{self.name}_g": dg, f"{self.name}_b": db}, dx
