"""Input validation shared by the layers: errors name the argument and the value."""

from __future__ import annotations

import numpy as np

from ._xp import all_finite, dtype_name, is_float, to_numpy


def _shape(a) -> tuple:
    return tuple(int(s) for s in a.shape)


def positive_int(name: str, v) -> int:
    """``v`` as an int when it is a positive integer (NumPy's too, not a bool); else a ValueError naming it."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def plain_numbers(obj, ints: tuple, reals: tuple) -> None:
    """Make NumPy scalars in a frozen dataclass's fields plain ``int`` / ``float`` (``np.int64(10)``,
    as ``x.max() + 1`` gives, is as good a size as ``10``, and model files and resume states are JSON);
    a NumPy bool is left alone, to be refused by the field's own check."""
    for name in ints:
        v = getattr(obj, name)
        if isinstance(v, np.integer) and not isinstance(v, np.bool_):
            object.__setattr__(obj, name, int(v))
    for name in reals:
        v = getattr(obj, name)
        if isinstance(v, (np.integer, np.floating)) and not isinstance(v, np.bool_):
            object.__setattr__(obj, name, float(v) if isinstance(v, np.floating) else int(v))


def as_rng(rng, name: str = "rng"):
    """``rng`` as a ``numpy.random.Generator``: a Generator as it is, or an int seed given to
    ``np.random.default_rng``; anything else is a TypeError naming it."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"{name} must be a numpy.random.Generator or a seed >= 0, got {rng!r}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be a numpy.random.Generator or an int seed, got {type(rng).__name__}")


def pad_id_text(pad_id: int) -> str:
    """Why a pad id at a real step is refused (bptt.train.SeqData.check, bptt.lm.TextStream.check)."""
    return (f"id {pad_id} is the pad, whose embedding stays zero and learns nothing; give the real tokens other "
            f"ids (bptt.data.Vocab gives <pad> 0, <unk> 1 and the tokens 2, 3, ...)")


def array_like(name: str, a):
    if a is None or not hasattr(a, "shape") or not hasattr(a, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(a).__name__}")
    return a


def float_array(xp, name: str, a, ndim: int, dims: str, *, finite: bool = True):
    """Check a floating array of rank ``ndim`` (``dims`` names its axes for the message)."""
    array_like(name, a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have shape {dims} (rank {ndim}), got shape {_shape(a)}")
    if not is_float(xp, a):
        raise TypeError(f"{name} must be float32 or float64, got dtype {dtype_name(a)}")
    if finite and not all_finite(xp, a):
        raise ValueError(f"{name} contains NaN or inf values")
    return a


def same_dtype(name: str, a, ref_name: str, ref):
    if a.dtype != ref.dtype:
        raise TypeError(
            f"{name} has dtype {dtype_name(a)} but {ref_name} has dtype {dtype_name(ref)}; "
            "cast one of them so both match"
        )


def lengths_to_mask(xp, lengths, mask, B: int, T: int):
    """Turn ``lengths`` [B] or ``mask`` [B, T] into a time-major bool mask [T, B].

    Returns ``None`` when every step of every row is real (no masking needed).
    """
    if lengths is not None and mask is not None:
        raise ValueError("give either lengths or mask, not both")
    if lengths is not None:
        host = np.asarray(to_numpy(lengths))
        if host.ndim != 1 or host.shape[0] != B:
            raise ValueError(f"lengths must have shape [B] = [{B}], got shape {tuple(host.shape)}")
        if host.dtype == np.bool_:  # True would read as length 1
            raise TypeError("lengths must be integers, got dtype bool (a mask of real steps? give it as mask=)")
        if not (np.issubdtype(host.dtype, np.integer) or np.issubdtype(host.dtype, np.floating)):
            raise TypeError(f"lengths must be integers, got dtype {host.dtype}")
        if host.size and not np.issubdtype(host.dtype, np.integer):
            if not np.all(np.mod(host, 1) == 0):
                raise TypeError(f"lengths must be integers, got dtype {host.dtype}")
        host = host.astype(np.int64)
        bad = np.flatnonzero((host < 1) | (host > T))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"lengths[{i}] = {int(host[i])} is out of range: each length must be in 1..T = 1..{T}"
            )
        if np.all(host == T):
            return None
        m = np.arange(T)[:, None] < host[None, :]
        return xp.asarray(m)
    if mask is not None:
        host = np.asarray(to_numpy(mask))
        if host.shape != (B, T):
            raise ValueError(f"mask must have shape [B, T] = [{B}, {T}], got shape {tuple(host.shape)}")
        if host.dtype != np.bool_:
            raise TypeError(f"mask must be a bool array (True = real step), got dtype {host.dtype}")
        empty = np.flatnonzero(~host.any(axis=1))
        if empty.size:
            raise ValueError(f"mask row {int(empty[0])} has no real step (all False); drop empty sequences")
        if host.all():
            return None
        return xp.asarray(np.ascontiguousarray(host.T))
    return None

