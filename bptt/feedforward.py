"""The tutorial's foil: a feed-forward net on a fixed-length input.

An MLP reads the one-hot tokens of all ``width`` positions concatenated and
predicts a class at every position.  Its input layer has one weight block per
position, so it cannot take a longer sequence at all; a shorter one can only
be padded to its width (for numbers: leading zeros).
"""

from __future__ import annotations

import numpy as np

from .layers import Dense
from .losses import softmax_cross_entropy
from .optim import Adam


class FeedForwardTagger:
    def __init__(self, width: int, vocab_size: int, n_classes: int, hidden: int = 128, *, rng: np.random.Generator):
        self.width, self.V, self.C = width, vocab_size, n_classes
        self.l1 = Dense(width * vocab_size, hidden)
        self.l2 = Dense(hidden, width * n_classes)
        p1, p2 = self.l1.init(rng, np.float32), self.l2.init(rng, np.float32)
        self.params = {"W_1": p1["W_o"], "b_1": p1["b_o"], "W_2": p2["W_o"], "b_2": p2["b_o"]}

    def _onehot(self, ids):
        ids = np.asarray(ids)
        if ids.shape[1] != self.width:
            raise ValueError(f"a feed-forward net of width {self.width} cannot read sequences of {ids.shape[1]} steps")
        x = np.zeros((ids.shape[0], self.width, self.V), np.float32)
        np.put_along_axis(x, ids[..., None], 1.0, axis=-1)
        return x.reshape(ids.shape[0], -1)

    def _forward(self, ids):
        p = self.params
        x = self._onehot(ids)
        a, c1 = self.l1.forward({"W_o": p["W_1"], "b_o": p["b_1"]}, x)
        h = np.tanh(a)
        z, c2 = self.l2.forward({"W_o": p["W_2"], "b_o": p["b_2"]}, h)
        return z.reshape(-1, self.width, self.C), (c1, c2, h)

    def fit(self, ids, y, *, epochs=30, batch_size=64, lr=3e-3, seed=0):
        opt = Adam(lr=lr)
        rng = np.random.default_rng(seed)
        p = self.params
        for _ in range(epochs):
            order = rng.permutation(len(ids))
            for i in range(0, len(ids), batch_size):
                b = order[i : i + batch_size]
                logits, (c1, c2, h) = self._forward(ids[b])
                _, dz = softmax_cross_entropy(logits, y[b])
                g2, dh = self.l2.backward({"W_o": p["W_2"], "b_o": p["b_2"]}, c2, dz.reshape(len(b), -1))
                da = dh * (1 - h * h)  # backprop through tanh
                g1, _ = self.l1.backward({"W_o": p["W_1"], "b_o": p["b_1"]}, c1, da)
                opt.step(p, {"W_1": g1["W_o"], "b_1": g1["b_o"], "W_2": g2["W_o"], "b_2": g2["b_o"]})

    def predict(self, ids):
        return self._forward(ids)[0].argmax(-1)
