"""The hand-written BPTT against central finite differences in float64."""

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig, rnn
from conftest import central_diff, rel_err

pytestmark = pytest.mark.usefixtures("cpu_mode")  # both CPU paths: the BLAS's threads, bptt's own split

B, T, D, H = 3, 5, 4, 6
TOL = 1e-6

MASKS = {
    "full": dict(),
    "right_padded": dict(lengths=np.array([5, 2, 3])),
    "longest_first": dict(lengths=np.array([5, 3, 1])),  # the loops compute only the real rows
    "pads_start_and_middle": dict(mask=np.array([
        [False, True, True, False, True],
        [True, False, False, True, True],
        [False, False, True, True, False],
    ])),
}


def _setup(rng, learn_s0, T=T):
    p = rnn.init(D, H, learn_s0=learn_s0, rng=rng, dtype=np.float64)
    p["b_s"] = rng.normal(0, 0.3, H)
    if learn_s0:
        p["s0"] = rng.normal(0, 0.5, H)
    x = rng.standard_normal((B, T, D))
    R = rng.standard_normal((B, T, H))  # loss = sum(states * R): a weight on every state
    return p, x, R


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("learn_s0", [False, True])
@pytest.mark.parametrize("masking", list(MASKS))
def test_rnn_layer_matches_finite_differences(rng, activation, learn_s0, masking):
    p, x, R = _setup(rng, learn_s0)
    kw = MASKS[masking]

    def loss():
        states, _ = rnn.forward(p, x, activation=activation, **kw)
        return np.sum(states * R)

    states, cache = rnn.forward(p, x, activation=activation, **kw)
    grads, dx = rnn.backward(p, cache, R)
    num = central_diff(loss, {**p, "x": x})
    for k in p:
        assert rel_err(grads[k], num[k]) < TOL, k
    assert rel_err(dx, num["x"]) < TOL


def test_d_last_equals_d_states_on_final_step(rng):
    p, x, R = _setup(rng, True)
    L = np.array([5, 2, 3])
    states, cache = rnn.forward(p, x, lengths=L)
    dl = rng.standard_normal((B, H))

    def loss():
        st, _ = rnn.forward(p, x, lengths=L)
        return np.sum(st[:, -1] * dl)

    grads, dx = rnn.backward(p, cache, d_last=dl)
    num = central_diff(loss, {**p, "x": x})
    for k in p:
        assert rel_err(grads[k], num[k]) < TOL
    assert rel_err(dx, num["x"]) < TOL


def test_all_length_one_batch(rng):
    p, x, R = _setup(rng, True, T=1)

    def loss():
        return np.sum(rnn.forward(p, x, activation="tanh")[0] * R)

    grads, dx = rnn.backward(p, rnn.forward(p, x)[1], R)
    num = central_diff(loss, {**p, "x": x})
    for k in p:
        assert rel_err(grads[k], num[k]) < TOL
    # one step from a zero/learned state is exactly the tutorial's equation
    s1 = np.tanh(np.concatenate([np.broadcast_to(p["s0"], (B, H)), x[:, 0]], -1) @ p["W_s"] + p["b_s"])
    np.testing.assert_allclose(rnn.forward(p, x)[0][:, 0], s1, rtol=1e-13)


def test_step_matches_forward(rng):
    p, x, _ = _setup(rng, False)
    s = np.zeros((B, H))
    states, _ = rnn.forward(p, x, activation="sigmoid")
    for t in range(T):
        s = rnn.step(p, s, x[:, t], activation="sigmoid")
        np.testing.assert_allclose(states[:, t], s, rtol=1e-12, atol=1e-14)


def test_step_norms_are_norms_of_total_state_gradient(rng):
    p, x, R = _setup(rng, False)
    L = np.array([5, 2, 3])
    _, cache = rnn.forward(p, x, lengths=L)
    g1, dx1, norms = rnn.backward(p, cache, R, step_norms=True)
    # dLoss/ds^t by finite differences: perturb s^t through an additive probe on step t
    for t in range(T):
        probe = np.zeros((B, H))

        def loss():
            # states after step t get a probe added; later steps see it through the recurrence
            st = np.zeros((B, H))
            total = 0.0
            for u in range(T):
                new = np.tanh(np.concatenate([st, x[:, u]], -1) @ p["W_s"] + p["b_s"])
                real = (u < L)[:, None]
                st = np.where(real, new, st)
                if u == t:
                    st = st + probe
                total += np.sum(st * R[:, u])
            return total

        num = central_diff(loss, {"probe": probe})["probe"]
        assert abs(norms[t] - np.linalg.norm(num)) < 1e-6 * max(1.0, np.linalg.norm(num))
    for k in g1:
        np.testing.assert_array_equal(g1[k], rnn.backward(p, cache, R)[0][k])


HEADS = [
    ("many_to_one", "softmax"), ("many_to_one", "sigmoid"), ("many_to_one", "mse"),
    ("many_to_many", "softmax"), ("many_to_many", "sigmoid"), ("many_to_many", "mse"),
]


def _model_and_inputs(rng, embed, **cfg):
    """A float64 model (with an embedding of 7 ids, or float inputs of size D) and inputs x for it."""
    if embed:
        cfg.update(vocab_size=7, embed_dim=D)
        x = rng.integers(1, 7, size=(B, T))
    else:
        cfg.update(input_size=D)
        x = rng.standard_normal((B, T, D))
    return Model(ModelConfig(hidden_size=H, dtype="float64", **cfg), rng=rng), x


@pytest.mark.parametrize("head,loss", HEADS)
@pytest.mark.parametrize("embed", [False, True])
def test_model_gradients_match_finite_differences(rng, head, loss, embed):
    O = 3
    model, x = _model_and_inputs(rng, embed, output_size=O, head=head, loss=loss, learn_s0=True)
    model.params["s0"][:] = rng.normal(0, 0.5, H)
    lengths = np.array([5, 2, 3])
    lead = (B,) if head == "many_to_one" else (B, T)
    if loss == "softmax":
        y = rng.integers(0, O, size=lead)
    elif loss == "sigmoid":
        y = (rng.random(lead + (O,)) < 0.5).astype(np.float64)
    else:
        y = rng.standard_normal(lead + (O,))
    batch = Batch(x=x, y=y, lengths=lengths)
    _, grads = model.loss_and_grads(batch)
    num = central_diff(lambda: model.loss_and_grads(batch)[0], model.params)
    for k in model.params:
        assert rel_err(grads[k], num[k]) < TOL, k


def test_gradcheck_reports_small_errors_and_catches_a_wrong_gradient(rng, monkeypatch):
    from bptt import gradcheck
    import bptt.rnn as R

    model = Model(ModelConfig(input_size=D, hidden_size=H, output_size=2, learn_s0=True), rng=rng)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    batch = Batch(x=x, y=np.array([0, 1, 1]), lengths=np.array([5, 2, 4]))
    report = gradcheck(model, batch, max_entries=None)
    assert set(report) == set(model.params)
    assert max(report.values()) < 1e-6
    real_backward = R.backward

    def wrong(*a, **k):  # drop the recurrent part of the W_s gradient
        out = real_backward(*a, **k)
        out[0]["W_s"][:H] *= 0.5
        return out

    monkeypatch.setattr(R, "backward", wrong)
    bad = gradcheck(model, batch, max_entries=None)
    assert bad["W_s"] > 1e-2 and bad["W_o"] < 1e-6


@pytest.mark.parametrize("head", ["many_to_one", "many_to_many"])
@pytest.mark.parametrize("embed", [False, True])
def test_dropout_gradients_match_finite_differences(rng, head, embed):
    """The thinned network's gradients: the same seeded masks in every evaluation."""
    model, x = _model_and_inputs(rng, embed, output_size=3, head=head)
    y = rng.integers(0, 3, size=(B,) if head == "many_to_one" else (B, T))
    batch = Batch(x=x, y=y, lengths=np.array([5, 2, 3]))
    f = lambda: model.loss_and_grads(batch, dropout=0.4, rng=np.random.default_rng(7))  # noqa: E731
    loss, grads = f()
    assert abs(float(loss) - float(model.loss_and_grads(batch)[0])) > 1e-6  # the masks do change the network
    num = central_diff(lambda: f()[0], model.params)
    for k in model.params:
        assert rel_err(grads[k], num[k]) < TOL, k


def test_dropout_masks_keep_the_expected_fraction_and_scale(rng):
    model = Model(ModelConfig(vocab_size=50, embed_dim=8, hidden_size=16, output_size=2), rng=rng)
    batch = Batch(x=rng.integers(1, 50, size=(64, 30)), y=rng.integers(0, 2, size=64))
    m = model.dropout_masks(batch, 0.25, np.random.default_rng(0))
    assert m["in"].shape == (64, 30, 8) and m["out"].shape == (64, 16)
    assert set(np.unique(m["in"]).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert abs(float((m["in"] == 0).mean()) - 0.25) < 0.01  # 15,360 draws: 0.25 +- 4 standard errors
    with pytest.raises(ValueError, match="dropout must be in"):
        model.dropout_masks(batch, 1.0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        model.loss_and_grads(batch, dropout=0.5)
