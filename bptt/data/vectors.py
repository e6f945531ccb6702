"""Word vectors in the GloVe / word2vec text formats, and nearest neighbours by cosine.

The text format is one word per line followed by its numbers, separated by
spaces; word2vec's variant starts with a line ``"<count> <dim>"``.
"""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from .files import GZIP_MAGIC, DataError, holds_whitespace


def read_vectors(path, *, words: set | None = None, limit: int | None = None):
    """Read a vectors file; returns ``(word_list, matrix [N, dim] float32)``.

    ``words`` keeps only those words (the rest are skipped while reading);
    ``limit`` stops after that many lines (vector files list frequent words first).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such vectors file")
    out_words, rows, dim, header = [], [], None, False
    with open(path, "rb") as probe:
        gz = probe.read(2) == GZIP_MAGIC
    opener = gzip.open if gz else open  # a gzip-compressed file is read as it streams, a line at a time
    try:
        with opener(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8").rstrip("\n").rstrip("\r")
                except UnicodeDecodeError:
                    hint = " (a binary word2vec file? bptt reads the text format)" if header else ""
                    raise DataError(f"{path}:{n}: not valid UTF-8{hint}") from None
                parts = line.rstrip(" ").split(" ")
                if n == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    header = True
                    continue  # word2vec header "<count> <dim>"
                if len(parts) < 2:
                    if not line.strip():
                        continue
                    raise DataError(f"{path}:{n}: expected a word followed by numbers")
                if dim is None:
                    dim = len(parts) - 1
                elif len(parts) - 1 < dim:
                    raise DataError(f"{path}:{n}: {len(parts) - 1} numbers, but the first vector has {dim}")
                elif len(parts) - 1 > dim:  # a word with spaces in it (GloVe 840B has some): the last dim are numbers
                    parts = [" ".join(parts[:len(parts) - dim])] + parts[len(parts) - dim:]
                if words is None or parts[0] in words:
                    try:
                        rows.append(np.array(parts[1:], dtype=np.float32))
                    except ValueError:
                        raise DataError(f"{path}:{n}: not a number among the values of {parts[0]!r}") from None
                    out_words.append(parts[0])
                if limit is not None and n >= limit:
                    break
    except (OSError, EOFError, zlib.error) as e:  # a damaged or truncated gzip file
        raise DataError(f"{path}: cannot be read as {'gzip-compressed ' if gz else ''}text ({e})") from None
    if dim is None:
        raise DataError(f"{path}: no vectors in the file")
    M = np.stack(rows) if rows else np.zeros((0, dim), np.float32)
    if not np.all(np.isfinite(M)):
        raise DataError(f"{path}: holds NaN or inf values")
    return out_words, M


def write_vectors(path, words, matrix) -> None:
    """Write GloVe text format atomically."""
    from ..checkpoint import atomic_write_bytes

    bad = [w for w in words if holds_whitespace(w)]
    if bad:  # it would read back as other words, or break a line in two
        raise ValueError(f"words holding whitespace cannot be written in the text format: {bad[:5]!r}")

    def write(f):
        for w, row in zip(words, np.asarray(matrix)):
            f.write((w + " " + " ".join(f"{v:.6g}" for v in row) + "\n").encode("utf-8"))

    atomic_write_bytes(path, write)


def nearest(matrix, words, word: str, k: int = 10, skip=()):
    """The ``k`` words whose vectors have the highest cosine similarity to ``word``'s."""
    index = {w: i for i, w in enumerate(words)}
    if word not in index:
        raise ValueError(f"word {word!r} is not in the vocabulary")
    M = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(M, axis=1)
    norms[norms == 0] = 1.0
    sims = (M @ M[index[word]]) / (norms * norms[index[word]])
    order = [i for i in np.argsort(-sims) if words[i] != word and words[i] not in skip]
    return [(words[i], float(sims[i])) for i in order[:k]]
