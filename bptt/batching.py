"""Padding and batching of variable-length sequences.

The tutorial gives two ways to train on sequences of different lengths:

* group the training set by length so every minibatch holds sequences of one
  length (``mode="exact"``), or
* pad every sequence to one length and let the RNN carry its state over
  unchanged on pad steps (``lengths`` given to :func:`bptt.rnn.forward`).

``mode="bucket"`` sits between them: sequences are sorted by length and cut
into batches of neighbours, so each batch needs little padding.  Every mode
shuffles reproducibly from a seed.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

MODES = ("exact", "bucket", "random")


def pad_sequences(seqs, *, pad_value=0, dtype=None, length: int | None = None):
    """Stack sequences of different lengths into one right-padded array.

    Args:
        seqs: a list of arrays ``[T_i]`` (token ids) or ``[T_i, D]`` (vectors).
        pad_value: the value written on pad steps.
        dtype: the result's dtype (default: that of the first sequence).
        length: pad to this many steps (default: the longest sequence).

    Returns:
        ``(x, lengths)``: ``x`` is ``[B, T]`` or ``[B, T, D]``, ``lengths`` ``[B]`` int64.
    """
    if isinstance(seqs, (str, bytes, dict)) or not hasattr(seqs, "__iter__"):
        raise TypeError(f"seqs must be a list of sequences (arrays [T_i] or [T_i, D]), got {type(seqs).__name__}")
    seqs = list(seqs)
    if not seqs:
        raise ValueError("seqs is empty: nothing to pad")
    arrays = []
    for i, s in enumerate(seqs):
        if isinstance(s, (str, bytes)):
            raise TypeError(f"seqs[{i}] is a {type(s).__name__} ({s[:20]!r}): pad token ids, not text "
                            f"(bptt.data.Vocab turns tokens into ids)")
        try:
            a = np.asarray(s)
        except ValueError as e:  # ragged nested lists
            raise ValueError(f"seqs[{i}] is not a rectangular array: {e}") from None
        if a.ndim == 0:
            raise ValueError(f"seqs[{i}] is a scalar ({a!r}): each sequence needs a time axis, [T_i] or [T_i, D]")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            raise TypeError(f"seqs[{i}] holds {a.dtype} values: pad numbers (token ids or vectors), not text "
                            f"or objects (bptt.data.Vocab turns tokens into ids)")
        arrays.append(a)
    seqs = arrays
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(f"seqs[{int(empty[0])}] is empty: every sequence needs at least one step")
    tail = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if s.shape[1:] != tail:
            raise ValueError(f"seqs[{i}] has step shape {s.shape[1:]} but seqs[0] has {tail}")
    if length is None:
        T = int(lengths.max())
    elif isinstance(length, bool) or not isinstance(length, (int, np.integer)):
        raise TypeError(f"length must be an integer number of steps or None, got {length!r}")
    else:
        T = int(length)
    if T < lengths.max():
        raise ValueError(f"length={T} is shorter than the longest sequence ({int(lengths.max())} steps)")
    try:
        dtype = seqs[0].dtype if dtype is None else np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a NumPy dtype or None, got {dtype!r}") from None
    try:
        x = np.full((len(seqs), T) + tail, pad_value, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(f"pad_value must be a number of dtype {dtype}, got {pad_value!r}") from None
    for i, s in enumerate(seqs):
        x[i, : s.shape[0]] = s
    return x, lengths


def batch_indices(lengths, batch_size: int, *, mode: str = "bucket", seed: int | None = 0,
                  shuffle: bool = True) -> list[np.ndarray]:
    """Split example indices into minibatches.

    Args:
        lengths: ``[N]`` sequence lengths.
        batch_size: at most this many examples per batch.
        mode: ``"exact"`` (every batch holds one length only), ``"bucket"``
            (sorted by length, batches of neighbours: least padding) or
            ``"random"`` (any lengths together, padded).
        seed: shuffles examples and batch order reproducibly (``shuffle=False`` keeps order).

    Returns:
        a list of index arrays; together they cover every example exactly once.
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be 1-D, got shape {lengths.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if lengths.size and not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths must be integers, got dtype {lengths.dtype}")
    bad = np.flatnonzero(lengths < 1)
    if bad.size:
        raise ValueError(f"lengths[{int(bad[0])}] = {int(lengths[bad[0]])}: every sequence needs at least one step")
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not known; choose one of {list(MODES)}")
    n = lengths.shape[0]
    rng = np.random.default_rng(seed)
    order = rng.permutation(n) if shuffle else np.arange(n)
    if mode == "random":
        batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    elif mode == "bucket":
        srt = order[np.argsort(lengths[order], kind="stable")]  # by length, ties in shuffled order
        batches = [srt[i : i + batch_size] for i in range(0, n, batch_size)]
    else:
        groups = defaultdict(list)
        for i in order:
            groups[int(lengths[i])].append(int(i))
        batches = []
        for L in sorted(groups):
            g = np.asarray(groups[L], dtype=np.int64)
            batches += [g[i : i + batch_size] for i in range(0, g.shape[0], batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def padding_fraction(lengths, batches) -> float:
    """Share of pad steps over all steps when ``batches`` are each padded to their longest."""
    lengths = np.asarray(lengths)
    real = sum(int(lengths[b].sum()) for b in batches)
    total = sum(int(lengths[b].max()) * len(b) for b in batches)
    return 1.0 - real / total if total else 0.0
