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

    NumPy sorts the rows by index (stable) and adds each index's run with ``add.reduceat``: 1.05-5.4x
    as fast as ``add.at`` here, the most for small vocabularies (1,280 lookups in 4 rows: 157 against
    852 us; ``python benchmarks/scatter_add.py``, log benchmarks/results/cpu-scatter-add.log).  CuPy's ``add.at`` adds
    with atomics, whose order, and so whose float rounding, changes from run to run: a training
    run on the GPU could not be repeated, nor resumed exactly.  On CuPy the rows are sorted by
    index (a deterministic radix sort) and each row's run of values is summed in order by one
    thread per output entry (:func:`sorted_segment_sum`).  Any other namespace uses a one-hot
    matrix product, which the standard allows.
    """
    D = values.shape[-1]
    if is_numpy(xp):
        out = np.zeros((n_rows, D), dtype=values.dtype)
        rows, sums = sorted_segment_sum(np, np.asarray(index), values,
                                        lambda vals, starts, ends: np.add.reduceat(vals, starts, axis=0))
        out[rows] = sums  # each row once
        return out
    if type(values).__module__.startswith("cupy"):
        out = xp.zeros((n_rows, D), dtype=values.dtype)
        rows, sums = sorted_segment_sum(xp, index, values, _cupy_segment_sums)
        out[rows] = sums  # each row once
        return out
    onehot = xp.astype(index[:, None] == xp.arange(n_rows)[None, :], values.dtype)  # [N, V]
    return xp.matmul(xp.permute_dims(onehot, (1, 0)), values)


def sorted_segment_sum(xp, index, values, segment_sums):
    """The scatter-add of :func:`scatter_add_rows` in a fixed order: sort the N rows by index
    (stable), find where each index's run starts and ends, and let ``segment_sums(values_sorted,
    starts, ends)`` -> [U, D] add each run in order.  Returns the U distinct indices and their sums."""
    N, D = values.shape
    if N == 0:
        return index[:0], values[:0, :]
    try:
        order = xp.argsort(index, stable=True)
    except TypeError:  # array_api_compat's CuPy before 1.10; CuPy's argsort is a stable radix sort anyway
        order = xp.argsort(index)
    idx = xp.take(index, order)
    new_run = xp.concat([xp.ones(1, dtype=xp.bool), idx[1:] != idx[:-1]])  # [N]: a run of one index begins
    starts = xp.nonzero(new_run)[0]
    ends = xp.concat([starts[1:], xp.asarray([N], dtype=starts.dtype)])
    return xp.take(idx, starts), segment_sums(xp.take(values, order, axis=0), starts, ends)


_SEGMENT_KERNELS = {}


def _cupy_segment_sums(vals, starts, ends):
    import cupy

    dtype = vals.dtype
    key = (dtype.name, cupy.cuda.Device().id)
    kernel = _SEGMENT_KERNELS.get(key)
    if kernel is None:
        # one thread per output entry (run u, column d) adds the run's values in order: deterministic
        kernel = cupy.ElementwiseKernel(
            "raw T vals, raw I starts, raw I ends, int64 D", "T out",
            "long long u = i / D, d = i % D; T acc = 0;"
            "for (long long k = starts[u]; k < ends[u]; ++k) acc += vals[k * D + d];"
            "out = acc;",
            "bptt_segment_sums")
        _SEGMENT_KERNELS[key] = kernel
    vals = cupy.ascontiguousarray(vals)
    out = cupy.empty((int(starts.shape[0]), int(vals.shape[1])), dtype=dtype)
    kernel(vals, cupy.ascontiguousarray(starts), cupy.ascontiguousarray(ends), int(vals.shape[1]), out)
    return out


def xavier_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))[None, :]
