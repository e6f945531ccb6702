"""Losses with the output activation ``f_o`` folded in, each returning ``(loss, dlogits)``.

``logits`` are ``[..., C]``; ``mask`` (optional, shape ``logits.shape[:-1]``,
bool) marks the positions that count, so per-step losses ignore pad steps.  The
loss is the mean over counted positions; ``dlogits`` is its exact gradient,
zero at positions that do not count.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from ._xp import namespace, to_numpy


def _weights(xp, mask, lead, dtype, check):
    """Position weights (None = all count) and their count (a device scalar when masked)."""
    if mask is None:
        n = 1
        for s in lead:
            n *= int(s)
        return None, n
    if tuple(mask.shape) != tuple(lead):
        raise ValueError(f"mask must have shape {list(lead)}, got {tuple(mask.shape)}")
    w = xp.astype(xp.asarray(mask), dtype)
    n = xp.sum(w)  # stays on the device: no host round-trip per step
    if check and not bool(n > 0):
        raise ValueError("mask selects no position: the loss would be undefined")
    return w, n


def _targets_in(targets, mask, what: str, lo: float, hi: float):
    """Refuse NaN/inf, or values outside [lo, hi], among the counted targets (``mask`` [...] of the lead axes)."""
    host = np.asarray(to_numpy(targets))
    if host.dtype == np.bool_:
        return
    if not (np.issubdtype(host.dtype, np.integer) or np.issubdtype(host.dtype, np.floating)):
        raise TypeError(f"targets must be numbers ({what}), got dtype {host.dtype}")
    bad = ~np.isfinite(host) | (host < lo) | (host > hi)
    if mask is not None:
        bad &= np.asarray(to_numpy(mask)).astype(bool)[..., None]
    if np.any(bad):
        where = "finite" if np.isinf(lo) and np.isinf(hi) else f"finite and in [{lo:g}, {hi:g}]"
        raise ValueError(f"targets must be {where} ({what}), got {host[bad][0].item()!r}")


def softmax_cross_entropy(logits, targets, mask=None, check: bool = True, class_weights=None):
    """``f_o`` = softmax; targets are class ids of shape ``logits.shape[:-1]``.

    ``check`` validates the class ids (on the host when ``targets`` is a NumPy
    array; on a device it costs a round-trip, which a training loop whose data
    were validated once can skip with ``check=False``).

    ``class_weights`` ``[C]`` (optional, finite, >= 0): each counted position's loss is multiplied by
    the weight of its target class, and the sum is still divided by the number of counted positions
    (as Keras's ``class_weight``; ``torch.nn.CrossEntropyLoss(weight=...)`` divides by the sum of the
    weights instead), so that a batch's mean is a sum over its positions that shards of a batch add
    up exactly, and weights whose mean over the training positions is 1 keep the loss's scale.
    """
    xp = namespace(logits)
    _checks.array_like("logits", logits)
    if len(logits.shape) < 1:
        raise ValueError("logits must have shape [..., C] (one score per class), got a 0-d array")
    lead, C = tuple(logits.shape[:-1]), int(logits.shape[-1])
    _checks.array_like("targets", targets)
    if tuple(targets.shape) != lead:
        raise ValueError(f"targets must have shape {list(lead)} (logits {tuple(logits.shape)}), got {tuple(targets.shape)}")
    w, n = _weights(xp, mask, lead, logits.dtype, check)
    if class_weights is not None:
        _checks.array_like("class_weights", class_weights)
        if tuple(class_weights.shape) != (C,):
            raise ValueError(f"class_weights must have shape [{C}] (one weight per class), got "
                             f"{tuple(class_weights.shape)}")
        if check:
            host_w = np.asarray(to_numpy(class_weights), dtype=np.float64)
            if not (np.all(np.isfinite(host_w)) and np.all(host_w >= 0)):
                raise ValueError(f"class_weights must be finite and >= 0, got {host_w.tolist()}")
    if check:
        host_t = to_numpy(targets)
        if not (np.issubdtype(host_t.dtype, np.integer) or np.issubdtype(host_t.dtype, np.bool_)):
            if not np.issubdtype(host_t.dtype, np.floating):
                raise TypeError(f"targets must be integer class ids, got dtype {host_t.dtype}")
            odd = ~np.isfinite(host_t) | (np.mod(np.where(np.isfinite(host_t), host_t, 0), 1) != 0)
            if mask is not None:
                odd &= to_numpy(mask).astype(bool)
            if np.any(odd):  # a NaN or 0.5 would match no class: a silent zero loss on that row
                raise ValueError(f"targets must be integer class ids, got {float(host_t[odd][0])!r} (dtype {host_t.dtype})")
        out_of_range = (host_t < 0) | (host_t >= C)
        if mask is not None:
            out_of_range &= to_numpy(mask).astype(bool)
        if np.any(out_of_range):
            raise ValueError(f"targets hold a class id outside 0..{C - 1}: {int(host_t[out_of_range][0])}")
    t = xp.asarray(targets)
    z = logits - xp.max(logits, axis=-1, keepdims=True)  # shift for a stable exp
    logsumexp = xp.log(xp.sum(xp.exp(z), axis=-1, keepdims=True))
    logp = z - logsumexp  # log softmax
    onehot = xp.astype(t[..., None] == xp.arange(C)[None, ...], logits.dtype)
    nll = -xp.sum(logp * onehot, axis=-1)  # [...]
    if class_weights is not None:  # each position weighted by its target's class (pads: masked out below)
        cw = xp.sum(onehot * xp.astype(xp.asarray(class_weights), logits.dtype), axis=-1)  # [...]
        w = cw if w is None else w * cw
    if w is not None:
        nll = nll * w
    loss = xp.sum(nll) / n
    d = (xp.exp(logp) - onehot) / n  # d(mean NLL)/dlogits = (softmax - onehot) / n
    if w is not None:
        d = d * w[..., None]
    return loss, d


def sigmoid_binary_cross_entropy(logits, targets, mask=None, check: bool = True):
    """``f_o`` = sigmoid; ``targets`` are 0/1 floats shaped like ``logits``; mean over all outputs."""
    xp = namespace(logits)
    _checks.array_like("targets", targets)
    if tuple(targets.shape) != tuple(logits.shape):
        raise ValueError(f"targets must have shape {tuple(logits.shape)}, got {tuple(targets.shape)}")
    lead, K = tuple(logits.shape[:-1]), int(logits.shape[-1])
    w, n = _weights(xp, mask, lead, logits.dtype, check)
    n = n * K
    if check:
        _targets_in(targets, mask, "a sigmoid output's 0/1 targets", 0.0, 1.0)
    y = xp.astype(xp.asarray(targets), logits.dtype)
    # log(1 + exp(-|z|)) + max(z, 0) - z*y, the stable form of BCE on logits
    per = xp.log1p(xp.exp(-xp.abs(logits))) + xp.maximum(logits, xp.zeros_like(logits)) - logits * y
    p = 0.5 * (xp.tanh(0.5 * logits) + 1.0)  # sigmoid
    d = (p - y) / n  # d(mean BCE)/dlogits
    if w is not None:
        per = per * w[..., None]
        d = d * w[..., None]
    return xp.sum(per) / n, d


def mean_squared_error(pred, targets, mask=None, check: bool = True):
    """``f_o`` = identity; mean of ``(pred - targets)^2`` over all counted outputs."""
    xp = namespace(pred)
    _checks.array_like("targets", targets)
    if tuple(targets.shape) != tuple(pred.shape):
        raise ValueError(f"targets must have shape {tuple(pred.shape)}, got {tuple(targets.shape)}")
    lead, K = tuple(pred.shape[:-1]), int(pred.shape[-1])
    w, n = _weights(xp, mask, lead, pred.dtype, check)
    n = n * K
    if check:
        _targets_in(targets, mask, "regression targets", -np.inf, np.inf)
    diff = pred - xp.astype(xp.asarray(targets), pred.dtype)
    if w is not None:
        diff = diff * w[..., None]
    return xp.sum(diff * diff) / n, 2.0 * diff / n


LOSSES = {
    "softmax": softmax_cross_entropy,
    "sigmoid": sigmoid_binary_cross_entropy,
    "mse": mean_squared_error,
}
