"""Array-namespace helpers.

bptt's layers are written against the array namespace of their inputs (the
Python array API standard), so the same code runs on NumPy, on CuPy on a GPU,
and on ``array_api_strict`` (which CI uses to prove that only the standard is
used).  The few places where the standard has no operation (a scatter-add for
the embedding gradient) use a backend's own fast path when there is one.
"""

from __future__ import annotations

import math

import numpy as np


def namespace(*arrays):
    """The array namespace shared by ``arrays`` (``None`` entries are skipped).

    NumPy arrays (and Python scalars / lists) map to ``numpy``.
    """
    found = None
    for a in arrays:
        if a is None or isinstance(a, (int, float, bool, list, tuple)):
            continue
        if isinstance(a, np.ndarray) or isinstance(a, np.generic):
            ns = np
        elif type(a).__module__.startswith("cupy"):
            ns = _cupy_namespace()
        elif hasattr(a, "__array_namespace__"):
            ns = a.__array_namespace__()
        else:
            ns = np
        if found is None:
            found = ns
        elif ns is not found:
            raise TypeError(
                f"arrays come from different array libraries: {found.__name__} and {ns.__name__}; "
                "put all inputs and parameters on one device first"
            )
    return np if found is None else found


def _cupy_namespace():
    try:  # the array API's names (permute_dims, concat, astype, ...) on top of CuPy
        from array_api_compat import cupy as xp
    except ImportError:
        import cupy as xp
    return xp


def is_numpy(xp) -> bool:
    return xp is np


def is_float(xp, a) -> bool:
    return a.dtype in (xp.float32, xp.float64)


def dtype_name(a) -> str:
    d = a.dtype
    return str(getattr(d, "name", d))


def to_numpy(a) -> np.ndarray:
    """Copy an array from any namespace to a NumPy array on the host."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "get") and type(a).__module__.startswith("cupy"):
        return a.get()
    try:
        return np.asarray(a)
    except Exception:  # array_api_strict and other libraries expose DLPack
        return np.from_dlpack(a)


def all_finite(xp, a) -> bool:
    """No NaN or inf in ``a``.  A sum is one pass with no temporary array, and a NaN or inf
    entry makes it NaN or inf, so a finite sum proves every entry finite; when the sum is not
    finite (a bad entry, or finite entries that overflow it) the entries are checked one by one."""
    if bool(xp.isfinite(xp.sum(a))):
        return True
    return bool(xp.all(xp.isfinite(a)))


def scatter_add_rows(xp, n_rows: int, index, values):
    """``out[index[i]] += values[i]`` for a [N] index and [N, D] values -> [n_rows, D].

    NumPy and CuPy use ``add.at`` (unbuffered, duplicate-safe); any other
    namespace uses a one-hot matrix product, which the standard allows.
    """
    D = values.shape[-1]
    out = xp.zeros((n_rows, D), dtype=values.dtype)
    add = getattr(xp, "add", None)
    if hasattr(add, "at"):
        add.at(out, index, values)
        return out
    onehot = xp.astype(index[:, None] == xp.arange(n_rows)[None, :], values.dtype)  # [N, V]
    return xp.matmul(xp.permute_dims(onehot, (1, 0)), values)


def xavier_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))[None, :]
