"""The model as a list of layers (bptt.layers, bptt.stack.Recurrent): each layer's forward/backward
pair on its own against central finite differences in float64, the layer list a config builds, and
the parameters each layer owns (together exactly the model's, as in its model files)."""

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig, stack
from bptt.layers import Dense, Dropout, Embedding, FinalGrad, LastStates

B, T, D, H = 3, 5, 2, 4
MASK = np.array([[True, False, True, True, False],  # pads at the start, the middle and the end
                 [False, True, True, True, True],
                 [True, True, True, True, True]])


def _central(f, arr, eps=1e-6):
    g = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        lp = f()
        arr[idx] = old - eps
        lm = f()
        arr[idx] = old
        g[idx] = (lp - lm) / (2 * eps)
    return g


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("through", ["states", "finals", "both"])
def test_a_recurrent_level_alone_against_central_differences(cell, bidirectional, through):
    """The level's output, or each direction's final h (what a many-to-one head reads, sent back as
    a FinalGrad), or both; pads anywhere; a level > 0 with learned initial states."""
    rng = np.random.default_rng(3)
    level = stack.Recurrent(D, H, level=1, bidirectional=bidirectional, cell=cell, learn_s0=True)
    params = level.init(rng, np.float64)
    for k in params:
        params[k] = params[k] + 0.2 * rng.standard_normal(params[k].shape)  # b_s, s0 off zero
    assert {k: v.shape for k, v in params.items()} == level.param_shapes()
    assert all(k.endswith(("_l1", "_l1_reverse")) for k in params)
    K = level.directions
    x = rng.standard_normal((B, T, D))
    R = rng.standard_normal((B, T, K * H))
    F = [rng.standard_normal((B, H)) for _ in range(K)]
    ctx = {"mask": MASK}

    def loss():
        y, cache = level.forward(params, x, ctx)
        total = 0.0
        if through in ("states", "both"):
            total += float(np.sum(y * R))
        if through in ("finals", "both"):
            total += sum(float(np.sum(f[:, :H] * w)) for f, w in zip(cache["finals"], F))
        return total

    y, cache = level.forward(params, x, ctx)
    dy = R if through == "states" else FinalGrad(tuple(F), R if through == "both" else None)
    grads, dx = level.backward(params, cache, dy)
    assert set(grads) == set(params)
    for k in params:
        assert _rel(grads[k], _central(loss, params[k])) < 1e-6, k
    assert _rel(dx, _central(loss, x)) < 1e-6


def test_last_states_dropout_and_dense_against_central_differences():
    rng = np.random.default_rng(4)
    states = rng.standard_normal((B, T, 2 * H))
    last = LastStates(H, bidirectional=True)
    y, c = last.forward({}, states)
    np.testing.assert_array_equal(y, np.concatenate([states[:, -1, :H], states[:, 0, H:]], axis=1))
    W = rng.standard_normal(y.shape)
    _, back = last.backward({}, c, W)
    assert isinstance(back, FinalGrad) and back.states is None
    np.testing.assert_array_equal(np.concatenate(back.parts, axis=1), W)
    mask = (rng.random((B, T, 2 * H)) > 0.5) / 0.5
    drop = Dropout(("between", 1))
    ctx = {"drop": {"between": [None, mask]}}
    y, c = drop.forward({}, states, ctx)
    np.testing.assert_array_equal(y, states * mask)
    R = rng.standard_normal(states.shape)
    np.testing.assert_allclose(drop.backward({}, c, R)[1], _central(lambda: float(np.sum(drop.forward({}, states, ctx)[0] * R)), states), rtol=1e-7, atol=1e-9)
    assert drop.forward({}, states, {"drop": None})[0] is states  # no masks: evaluation
    dense = Dense(2 * H, 3)
    p = dense.init(rng, np.float64)
    R = rng.standard_normal((B, T, 3))
    y, c = dense.forward(p, states)
    g, dx = dense.backward(p, c, R)
    for k in p:
        assert _rel(g[k], _central(lambda: float(np.sum(dense.forward(p, states)[0] * R)), p[k])) < 1e-6
    assert _rel(dx, _central(lambda: float(np.sum(dense.forward(p, states)[0] * R)), states)) < 1e-6


@pytest.mark.parametrize("kw,kinds", [
    (dict(vocab_size=9), ["Embedding", "Dropout", "Recurrent", "LastStates", "Dropout", "Dense"]),
    (dict(input_size=3, num_layers=3, bidirectional=True, head="many_to_many", cell="gru"),
     ["Dropout", "Recurrent", "Dropout", "Recurrent", "Dropout", "Recurrent", "Dropout", "Dense"]),
])
def test_a_config_builds_its_layers_and_each_owns_its_parameters(kw, kinds):
    config = ModelConfig(hidden_size=H, **kw)
    model = Model(config, rng=np.random.default_rng(0))
    assert [type(layer).__name__ for layer in model.layers] == kinds
    levels = [layer for layer in model.layers if isinstance(layer, stack.Recurrent)]
    assert [lv.level for lv in levels] == list(range(config.num_layers))
    assert levels[0].plain == (not config.stacked)
    owned = [name for layer in model.layers for name in layer.param_shapes()]
    assert len(owned) == len(set(owned)), "two layers own one name"
    assert {n: model.params[n].shape for n in owned} == {n: v.shape for n, v in model.params.items()}
    assert config.param_shapes() == {n: v.shape for n, v in model.params.items()}
    if config.vocab_size:
        assert isinstance(model.layers[0], Embedding) and list(model.layers[0].param_shapes()) == ["E"]


def test_running_the_layers_by_hand_gives_the_models_loss_and_gradients():
    """The model is its layers: chaining each layer's forward, then each backward in reverse by hand,
    gives Model.loss_and_grads's loss and gradients (a 2-level bidirectional LSTM, right padding)."""
    rng = np.random.default_rng(5)
    model = Model(ModelConfig(vocab_size=7, embed_dim=D, hidden_size=H, num_layers=2, bidirectional=True,
                              cell="lstm", dtype="float64"), rng=rng)
    x = rng.integers(1, 7, (B, T))
    lengths, y = np.array([5, 2, 4]), np.array([0, 1, 1])
    loss, grads = model.loss_and_grads(Batch(x=x, y=y, lengths=lengths))
    h, caches, ctx = x, [], {"lengths": lengths}
    for layer in model.layers:
        h, c = layer.forward(model.params, h, ctx)
        caches.append(c)
    z = h - h.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert abs(float(-np.mean(np.log(p[np.arange(B), y]))) - float(loss)) < 1e-12
    dy, by_hand = (p - np.eye(2)[y]) / B, {}
    for layer, c in zip(reversed(model.layers), reversed(caches)):
        g, dy = layer.backward(model.params, c, dy)
        by_hand.update(g)
    assert set(by_hand) == set(grads)
    for k in grads:
        np.testing.assert_allclose(by_hand[k], grads[k], rtol=1e-12, atol=1e-14, err_msg=k)
