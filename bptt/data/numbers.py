"""Sequences of numbers (``bptt train --inputs numbers``): each step a number, or ``D`` numbers joined
by commas (``0.5,1.2 0.7,-0.3``: two steps of two features), read as float vectors ``[T_i, D]``
instead of tokens.  The model reads them standardised by the training file's mean and standard
deviation of each feature (saved in the model file as ``input_mean`` / ``input_sd``)."""

from __future__ import annotations

import math

import numpy as np

from .files import DataError, decimal

__all__ = ["steps", "vectors", "usable", "standardisation", "standardise"]


def steps(tokens, where: str, size: int | None = None, sized_by: str = "the model reads") -> np.ndarray:
    """``tokens`` (one per step) as a float64 array ``[T, D]``; ``size``: the D every step must have
    (None: the first step's), which ``sized_by`` names.  DataError names ``where``, the step and the token."""
    rows = []
    for t, tok in enumerate(tokens, 1):
        parts = tok.split(",")
        try:
            row = [decimal(p) for p in parts]
        except ValueError:
            raise DataError(f"{where}: step {t} is {tok[:40]!r}, not a number (--inputs numbers: each step a number, "
                            f"or numbers joined by commas)") from None
        if not all(math.isfinite(v) for v in row):
            raise DataError(f"{where}: step {t} is {tok[:40]!r}, not a finite number")
        if size is None:
            size = len(row)
        if len(row) != size:
            raise DataError(f"{where}: step {t} holds {len(row)} number(s) where the steps before it hold {size}"
                            if t > 1 else f"{where}: step 1 holds {len(row)} number(s) where {sized_by} {size}")
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(rows), size or 0)


def vectors(examples, path: str, size: int | None = None) -> list:
    """The examples' tokens as arrays ``[T_i, D]``, the same D for all (``size``, or the first step's)."""
    out, sized_by = [], "the model reads"
    for ex in examples:
        a = steps(ex.tokens, f"{path}:{ex.line}", size, sized_by)
        if size is None and len(a):
            size, sized_by = a.shape[1], f"line {ex.line} holds"
        out.append(a)
    return out


def usable(examples, path: str, size: int | None = None) -> tuple[list, int]:
    """``(kept, n_dropped)``: the examples whose steps read as numbers of one width (``size``, or the first
    such example's), for ``--skip-bad``."""
    kept = []
    for ex in examples:
        try:
            a = steps(ex.tokens, f"{path}:{ex.line}", size)
        except DataError:
            continue
        size = a.shape[1] if size is None and len(a) else size
        kept.append(ex)
    return kept, len(examples) - len(kept)


def standardisation(seqs, path: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The mean and standard deviation of each feature over every step of ``seqs`` (a feature that never
    varies gets 1, so that it is only shifted)."""
    allsteps = np.concatenate(seqs, axis=0)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below, by name
        mean, sd = allsteps.mean(axis=0), allsteps.std(axis=0)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
        raise DataError(f"{path + ': ' if path else ''}the inputs are too large to standardise in float64 (their sum "
                        f"or square overflows; largest magnitude {np.abs(allsteps).max():.3g})")
    return mean, np.where(sd > 0, sd, 1.0)


def standardise(seqs, mean, sd, dtype, where=None) -> list:
    """``(x - mean) / sd`` of each sequence, in ``dtype``; ``where``: names for the sequences in errors."""
    mean, sd = np.asarray(mean, np.float64), np.asarray(sd, np.float64)
    out = []
    for k, a in enumerate(seqs):
        with np.errstate(over="ignore"):  # an overflow is refused below, by name
            z = ((a - mean) / sd).astype(dtype)
        if not np.all(np.isfinite(z)):
            raise DataError(f"{where[k] + ': ' if where else ''}inputs overflow {np.dtype(dtype).name} once standardised (values up to "
                            f"{np.abs(a).max():.3g} against a standard deviation of {sd.min():.3g})")
        out.append(z)
    return out
