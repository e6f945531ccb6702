"""Check a model's hand-written BPTT gradients against central finite differences.

    from bptt import gradcheck
    report = gradcheck(model, batch)          # {"W_s": 3e-10, "b_s": 1e-10, ...}

Everything is recomputed in float64.  The error of each parameter is the
largest absolute difference between the analytic and the numerical gradient,
divided by the largest magnitude of the numerical gradient (a norm-wise
relative error, which stays meaningful when single entries are near zero).
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from ._xp import to_numpy
from .model import Batch, Model


def _as64(batch: Batch) -> Batch:
    x = to_numpy(batch.x)
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    y = None if batch.y is None else to_numpy(batch.y)
    if y is not None and np.issubdtype(y.dtype, np.floating):
        y = y.astype(np.float64)
    return Batch(x=x, y=y, lengths=batch.lengths, mask=batch.mask)


def gradcheck(model: Model, batch: Batch, *, eps: float = 1e-6, max_entries: int | None = 200,
              seed: int = 0) -> dict:
    """Worst relative error per parameter of ``model.loss_and_grads`` against central differences.

    ``max_entries`` caps the entries checked per parameter (chosen at random
    from ``seed``); ``None`` checks every entry.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bptt.Model, got {type(model).__name__}")
    if not isinstance(batch, Batch):
        raise TypeError(f"batch must be a bptt.Batch (x, y, lengths or mask), got {type(batch).__name__}")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < 1:
        raise ValueError(f"eps must be a number in (0, 1) (a central difference's step), got {eps!r}")
    if max_entries is not None and (isinstance(max_entries, bool) or not isinstance(max_entries, numbers.Integral)
                                    or max_entries < 1):
        raise ValueError(f"max_entries must be a positive integer or None, got {max_entries!r}")
    config = dataclasses.replace(model.config, dtype="float64")
    params = {k: to_numpy(v).astype(np.float64) for k, v in model.params.items()}
    m = Model(config, params)
    b = _as64(batch)
    _, grads = m.loss_and_grads(b)
    rng = np.random.default_rng(seed)
    report = {}
    for name, p in params.items():
        flat = p.reshape(-1)
        idx = np.arange(flat.size)
        if max_entries is not None and flat.size > max_entries:
            idx = rng.choice(flat.size, size=max_entries, replace=False)
        num = np.empty(idx.size)
        for j, i in enumerate(idx):
            old = flat[i]
            flat[i] = old + eps
            lp = float(m.loss_and_grads(b)[0])
            flat[i] = old - eps
            lm = float(m.loss_and_grads(b)[0])
            flat[i] = old
            num[j] = (lp - lm) / (2 * eps)  # central difference
        ana = grads[name].reshape(-1)[idx]
        scale = max(float(np.max(np.abs(num))), 1e-12)
        report[name] = float(np.max(np.abs(ana - num))) / scale
    return report
