"""Padding changes nothing: a padded batch equals each sequence run alone."""

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig, batch_indices, pad_sequences

pytestmark = pytest.mark.usefixtures("cpu_mode")  # both CPU paths: the BLAS's threads, bptt's own split

H, D, O = 6, 3, 3


def _model(rng, head):
    return Model(ModelConfig(input_size=D, hidden_size=H, output_size=O, head=head, learn_s0=True,
                             dtype="float64"), rng=rng)


def _seqs(rng, lengths):
    return [rng.standard_normal((L, D)) for L in lengths]


@pytest.mark.parametrize("head", ["many_to_one", "many_to_many"])
@pytest.mark.parametrize("extra", [0, 17])
def test_padded_batch_equals_sequences_alone(rng, head, extra):
    model = _model(rng, head)
    model.params["s0"][:] = rng.normal(0, 0.5, H)
    lengths = [4, 1, 9, 6, 9]
    seqs = _seqs(rng, lengths)
    ys = [rng.integers(0, O) if head == "many_to_one" else rng.integers(0, O, size=L) for L in lengths]
    x, L = pad_sequences(seqs, length=max(lengths) + extra)
    y = np.array(ys) if head == "many_to_one" else pad_sequences(ys, length=x.shape[1])[0]
    states = model.forward(x, L)[1]["states"]
    loss, grads = model.loss_and_grads(Batch(x=x, y=y, lengths=L))

    # each sequence alone, unpadded; the batch loss is the mean over examples (or over real steps)
    weights = np.ones(len(seqs)) / len(seqs) if head == "many_to_one" else np.array(lengths) / sum(lengths)
    total_loss, total = 0.0, {k: np.zeros_like(v) for k, v in grads.items()}
    for i, (s, yi) in enumerate(zip(seqs, ys)):
        st_alone = model.forward(s[None], None)[1]["states"][0]
        np.testing.assert_allclose(states[i, -1], st_alone[-1], rtol=0, atol=1e-12)  # final state s^T
        np.testing.assert_allclose(states[i, : lengths[i]], st_alone, rtol=0, atol=1e-12)
        li, gi = model.loss_and_grads(Batch(x=s[None], y=np.array([yi]) if head == "many_to_one" else yi[None]))
        total_loss += weights[i] * li
        for k in total:
            total[k] += weights[i] * gi[k]
    assert abs(loss - total_loss) < 1e-12
    for k in grads:
        np.testing.assert_allclose(grads[k], total[k], rtol=0, atol=1e-12)


def test_bucketed_and_padded_epoch_give_the_same_gradient(rng):
    """Summed over one epoch, exact-length groups, buckets and one padded batch agree."""
    model = _model(rng, "many_to_one")
    lengths = rng.integers(1, 12, size=40)
    seqs = _seqs(rng, lengths)
    y = rng.integers(0, O, size=40)

    def epoch_grad(batches):
        total = None
        for b in batches:
            x, L = pad_sequences([seqs[i] for i in b])
            _, g = model.loss_and_grads(Batch(x=x, y=y[b], lengths=L))
            g = {k: v * len(b) for k, v in g.items()}  # undo the per-batch mean
            total = g if total is None else {k: total[k] + g[k] for k in g}
        return total

    full = epoch_grad([np.arange(40)])
    for mode in ("exact", "bucket", "random"):
        batches = batch_indices(lengths, 8, mode=mode, seed=3)
        if mode == "exact":
            assert all(len(set(lengths[b])) == 1 for b in batches)
        got = epoch_grad(batches)
        for k in full:
            np.testing.assert_allclose(got[k], full[k], rtol=0, atol=1e-11)


def test_mask_with_leading_pads_equals_trimmed_sequence(rng):
    model = _model(rng, "many_to_one")
    s = rng.standard_normal((5, D))
    x = np.concatenate([np.zeros((3, D)), s[:2], np.zeros((2, D)), s[2:]])[None]
    mask = np.array([[False] * 3 + [True] * 2 + [False] * 2 + [True] * 3])
    a = model.forward(x, mask=mask)[1]["states"][0, -1]
    b = model.forward(s[None])[1]["states"][0, -1]
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)


def test_training_step_sorts_rows_longest_first_and_undoes_it(rng, monkeypatch):
    """loss_and_grads hands the loops the rows longest first (they then compute only the
    real rows of each step) and returns the final states in the batch's own order."""
    from bptt import rnn

    seen = []
    real_loop = rnn._forward_loop_numpy

    def spy(S, U, W_h, m, activation, real_rows=None, row_work=None):
        seen.append(None if row_work is None else list(row_work))
        return real_loop(S, U, W_h, m, activation, real_rows, row_work)

    monkeypatch.setattr(rnn, "_forward_loop_numpy", spy)
    model = _model(rng, "many_to_one")
    lengths = [4, 1, 9, 6, 9]
    x, L = pad_sequences(_seqs(rng, lengths))
    y = rng.integers(0, O, size=len(lengths))
    s_init = rng.standard_normal((len(lengths), H))
    _, _, s_T = model.loss_and_grads(Batch(x=x, y=y, lengths=L), s_init=s_init, return_state=True)
    assert seen == [[9, 9, 6, 4, 1]]
    expect = model.forward(x, L, s_init=s_init)[1]["states"][:, -1]  # the rows as given, masked
    assert seen[-1] is None
    np.testing.assert_allclose(s_T, expect, rtol=0, atol=1e-12)
