"""Vocabularies (tokens with pad and unknown) and label sets, built from training data."""

from __future__ import annotations

from collections import Counter

import numpy as np

PAD, UNK = "<pad>", "<unk>"


class Vocab:
    """Token <-> id; id 0 is ``<pad>``, id 1 is ``<unk>`` (any token not seen in training)."""

    def __init__(self, tokens):
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNK!r}; got {tokens[:2]!r}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary tokens must be unique")
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}

    @classmethod
    def build(cls, sequences, min_count: int = 1) -> "Vocab":
        counts = Counter(t for s in sequences for t in s)
        kept = sorted((t for t, c in counts.items() if c >= min_count and t not in (PAD, UNK)),
                      key=lambda t: (-counts[t], t))
        return cls([PAD, UNK] + kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens) -> np.ndarray:
        return np.array([self.index.get(t, 1) for t in tokens], dtype=np.int64)

    def n_unknown(self, tokens) -> int:
        return sum(1 for t in tokens if t not in self.index)


class Labels:
    """Label <-> class id, sorted for a stable order."""

    def __init__(self, names):
        self.names = list(names)
        self.index = {n: i for i, n in enumerate(self.names)}

    @classmethod
    def build(cls, targets) -> "Labels":
        return cls(sorted(set(targets)))

    def __len__(self) -> int:
        return len(self.names)

    def encode(self, label: str, where: str = "") -> int:
        try:
            return self.index[label]
        except KeyError:
            raise ValueError(f"{where}label {label!r} was not seen in training (known: {self.names[:20]})") from None
