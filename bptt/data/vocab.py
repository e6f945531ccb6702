"""Vocabularies (tokens with pad and unknown) and label sets, built from training data."""

from __future__ import annotations

from collections import Counter

import numpy as np

from .files import _WHOLE, _clip

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

    def decode(self, ids) -> list:
        """The tokens of ``ids`` (any int array or list), e.g. what ``bptt.lm.generate`` returns."""
        a = np.asarray(ids)
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"ids must be integer token ids, got dtype {a.dtype}")
        bad = (a < 0) | (a >= len(self.tokens))
        if np.any(bad):
            raise ValueError(f"ids hold {int(a[bad].ravel()[0])}, outside this vocabulary's 0..{len(self.tokens) - 1}")
        return [self.tokens[i] for i in a.reshape(-1).tolist()]

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

    def decode(self, class_id) -> str:
        """The label of a class id (e.g. ``model.predict(...).argmax(-1)[i]``)."""
        if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)):
            raise TypeError(f"class_id must be an integer, got {class_id!r}")
        if not 0 <= class_id < len(self.names):
            raise ValueError(f"class_id {int(class_id)} is outside this label set's 0..{len(self.names) - 1}")
        return self.names[int(class_id)]

    def encode(self, label: str, where: str = "") -> int:
        try:
            return self.index[label]
        except KeyError:
            shown = self.names
            if all(_WHOLE.fullmatch(n) for n in shown):  # whole numbers in their order: 0, 1, 2, ... 10
                shown = sorted(shown, key=int)
            more = f", ... ({len(shown):,} in all)" if len(shown) > 20 else ""
            raise ValueError(f"{where}label {_clip(label)!r} was not seen in training (known: "
                             f"{', '.join(repr(_clip(n)) for n in shown[:20])}{more})") from None
