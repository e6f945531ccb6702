"""Data files, vocabularies and encoding into padded id batches."""

from __future__ import annotations

import numpy as np

from .files import FORMATS, TASKS, TOKENIZERS, DataError, Example, detect_format, detect_task, detect_tokenizer, read_examples, tokenize, write_examples
from .vocab import PAD, UNK, Labels, Vocab

__all__ = ["FORMATS", "TASKS", "TOKENIZERS", "DataError", "Example", "read_examples", "detect_format", "detect_task", "detect_tokenizer", "write_examples", "tokenize",
           "Vocab", "Labels", "PAD", "UNK", "encode"]


def encode(examples, vocab: Vocab, labels: Labels, task: str, path: str = ""):
    """Examples -> ``(ids, targets)``: lists of int64 arrays ``[T_i]`` and class ids (int or ``[T_i]``),
    or for ``regress`` float64 arrays ``[K]`` (``labels`` unused)."""
    ids, targets = [], []
    for ex in examples:
        ids.append(vocab.encode(ex.tokens))
        where = f"{path}:{ex.line}: " if path else ""
        if task == "regress":  # the numbers as they are (the command line standardises them)
            targets.append(np.array(ex.target, dtype=np.float64))
        elif task == "classify":
            targets.append(labels.encode(ex.target, where))
        else:
            targets.append(np.array([labels.encode(t, where) for t in ex.target], dtype=np.int64))
    return ids, targets
