"""Optimisers (SGD with momentum, Adam) and gradient clipping by global norm.

An optimiser updates a parameter dict in place from a gradient dict keyed the
same way.  Its state (moments, step count) is a dict of arrays that
:mod:`bptt.checkpoint` saves, so a resumed run continues exactly.
"""

from __future__ import annotations

import math
import numbers

from ._xp import namespace


def _positive_finite(name: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v < math.inf:
        raise ValueError(f"{name} must be a positive finite number, got {v!r}")


def global_norm(grads: dict):
    """sqrt of the sum of squares of every gradient entry (a 0-d device array)."""
    xp = namespace(*grads.values())
    return xp.sqrt(sum(xp.sum(g * g) for g in grads.values()))


def clip_grad_norm(grads: dict, max_norm: float):
    """Scale all gradients by ``min(1, max_norm / global_norm)``; returns ``(grads, norm)``.

    Written without a host round-trip: the scale is computed on the device.
    """
    _positive_finite("max_norm", max_norm)
    xp = namespace(*grads.values())
    norm = global_norm(grads)
    scale = xp.minimum(xp.ones_like(norm), max_norm / (norm + 1e-6))
    return {k: g * scale for k, g in grads.items()}, norm


def decays(p) -> bool:
    """Whether weight decay applies to parameter ``p``: the matrices (``W_s``, ``W_o``, the embedding
    ``E``: two axes or more), not the biases, ``s0``/``c0`` or a layer norm's gain and shift (one axis),
    as is usual (a bias or a gain pulled to 0 regularises nothing)."""
    return len(p.shape) >= 2


class _Optimizer:
    def __init__(self, lr: float, frozen=(), weight_decay: float = 0.0):
        if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        if (isinstance(weight_decay, bool) or not isinstance(weight_decay, numbers.Real)
                or not 0 <= weight_decay < math.inf):
            raise ValueError(f"weight_decay must be a finite number >= 0 (0 = off), got {weight_decay!r}")
        self.lr = float(lr)
        self.frozen = frozenset(frozen)
        self.weight_decay = float(weight_decay)
        self.state: dict = {"t": 0}

    def step(self, params: dict, grads: dict) -> None:
        missing = [k for k in params if k not in grads and k not in self.frozen]
        if missing:
            raise KeyError(f"grads has no entry for parameter(s) {missing}")
        unknown = [k for k in grads if k not in params]
        if unknown:
            raise KeyError(f"grads has entries for no parameter: {unknown}; the parameters are {sorted(params)}")
        for k in params:
            if k in grads and k not in self.frozen and tuple(grads[k].shape) != tuple(params[k].shape):
                raise ValueError(f"grads[{k!r}] has shape {tuple(grads[k].shape)} but params[{k!r}] "
                                 f"has {tuple(params[k].shape)}")
        self.state["t"] = int(self.state["t"]) + 1
        for k in params:
            if k not in self.frozen:
                self._update(k, params, grads[k])

    def state_dict(self) -> dict:
        return dict(self.state)

    def load_state_dict(self, state: dict) -> None:
        self.state = dict(state)
        self.state["t"] = int(self.state.get("t", 0))


class SGD(_Optimizer):
    """``v = momentum * v + g``; ``p -= lr * v`` (plain SGD when momentum is 0).

    ``weight_decay`` wd adds ``wd * p`` to the gradient of each matrix (:func:`decays`) first, an L2
    penalty ``wd / 2 * |p|^2``, as ``torch.optim.SGD(weight_decay=)`` does."""

    def __init__(self, lr: float = 0.1, momentum: float = 0.0, frozen=(), weight_decay: float = 0.0):
        super().__init__(lr, frozen, weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)

    def _update(self, k, params, g):
        if self.weight_decay and decays(params[k]):
            g = g + self.weight_decay * params[k]  # the L2 penalty's gradient
        if self.momentum:
            xp = namespace(g)
            v = self.state.get("v." + k)
            v = g if v is None else self.momentum * v + g
            self.state["v." + k] = xp.asarray(v, copy=True) if v is g else v
            g = v
        params[k] -= self.lr * g


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction.

    ``weight_decay`` wd shrinks each matrix (:func:`decays`) by ``p *= 1 - lr * wd`` before the step,
    decoupled from the moments (AdamW, Loshchilov & Hutter 2019; ``torch.optim.AdamW``)."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, frozen=(),
                 weight_decay: float = 0.0):
        super().__init__(lr, frozen, weight_decay)
        for name, b in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {b!r}")
        _positive_finite("eps", eps)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _update(self, k, params, g):
        xp = namespace(g)
        if self.weight_decay and decays(params[k]):
            params[k] *= 1.0 - self.lr * self.weight_decay  # decoupled weight decay, before the step (AdamW)
        m = self.state.get("m." + k)
        v = self.state.get("v." + k)
        if m is None:
            m, v = xp.zeros_like(g), xp.zeros_like(g)
            self.state["m." + k], self.state["v." + k] = m, v
        # in place: an embedding's moments can be large, and every pass over them counts
        m *= self.beta1
        m += (1.0 - self.beta1) * g  # first moment
        v *= self.beta2
        v += (1.0 - self.beta2) * (g * g)  # second moment
        t = self.state["t"]
        step = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        denom = xp.sqrt(v)
        denom += self.eps
        params[k] -= step * (m / denom)


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
