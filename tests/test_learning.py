"""A small model learns a task a feed-forward net of fixed width could not."""

import numpy as np

from bptt import Adam, Batch, Model, ModelConfig, batch_indices, clip_grad_norm, pad_sequences


def test_learns_whether_a_sequence_contains_a_token():
    rng = np.random.default_rng(0)
    V, target = 6, 5

    def make(n, lo, hi):
        seqs, ys = [], []
        for _ in range(n):
            s = rng.integers(1, V - 1, size=rng.integers(lo, hi + 1))
            if rng.random() < 0.5:
                s[rng.integers(len(s))] = target
            seqs.append(s)
            ys.append(int(target in s))
        return seqs, np.array(ys)

    seqs, y = make(600, 1, 12)
    model = Model(ModelConfig(vocab_size=V, embed_dim=8, hidden_size=16, output_size=2), rng=rng)
    opt = Adam(lr=0.02)
    lengths = np.array([len(s) for s in seqs])
    for epoch in range(15):
        for b in batch_indices(lengths, 32, mode="bucket", seed=epoch):
            x, L = pad_sequences([seqs[i] for i in b])
            _, g = model.loss_and_grads(Batch(x=x, y=y[b], lengths=L))
            g, _ = clip_grad_norm(g, 5.0)
            opt.step(model.params, g)
    test_seqs, ty = make(300, 1, 12)
    x, L = pad_sequences(test_seqs)
    acc = np.mean(model.predict(x, L).argmax(-1) == ty)
    assert acc == 1.0
