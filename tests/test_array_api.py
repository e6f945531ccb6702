"""The whole training path on array_api_strict arrays: proof that bptt uses only the
array API standard (so CuPy works the same way), with results equal to NumPy's."""

import numpy as np
import pytest

xp = pytest.importorskip("array_api_strict")

from bptt import SGD, Adam, Batch, Model, ModelConfig, clip_grad_norm, rnn  # noqa: E402
from bptt.losses import LOSSES  # noqa: E402


def to_strict(tree):
    return {k: xp.asarray(v) for k, v in tree.items()}


def host(a):
    return np.asarray(a)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
def test_rnn_layer_equals_numpy(rng, activation):
    p = rnn.init(3, 5, learn_s0=True, rng=rng, dtype=np.float64)
    p["s0"][:] = rng.standard_normal(5)
    x = rng.standard_normal((4, 6, 3))
    mask = rng.random((4, 6)) < 0.7
    mask[:, 0] = True
    d = rng.standard_normal((4, 6, 5))
    st, c = rnn.forward(p, x, mask=mask, activation=activation)
    g, dx, n = rnn.backward(p, c, d, step_norms=True)
    sts, cs = rnn.forward(to_strict(p), xp.asarray(x), mask=mask, activation=activation)
    assert type(sts).__module__.startswith("array_api_strict")
    gs, dxs, ns = rnn.backward(to_strict(p), cs, xp.asarray(d), step_norms=True)
    np.testing.assert_allclose(host(sts), st, rtol=0, atol=1e-13)
    np.testing.assert_allclose(host(dxs), dx, rtol=0, atol=1e-13)
    np.testing.assert_allclose(host(ns), n, rtol=1e-13)
    for k in g:
        np.testing.assert_allclose(host(gs[k]), g[k], rtol=0, atol=1e-12)


@pytest.mark.parametrize("cfg", [
    dict(input_size=3, head="many_to_one", loss="softmax", learn_s0=True),
    dict(vocab_size=9, embed_dim=3, head="many_to_many", loss="softmax"),
    dict(input_size=3, head="many_to_many", loss="sigmoid"),
    dict(vocab_size=9, embed_dim=3, head="many_to_one", loss="mse"),
    dict(vocab_size=9, embed_dim=3, head="many_to_one", loss="softmax", num_layers=2, bidirectional=True,
         learn_s0=True),
    dict(input_size=3, head="many_to_many", loss="softmax", num_layers=2),
    dict(vocab_size=9, embed_dim=3, head="many_to_one", loss="softmax", cell="gru", bidirectional=True, learn_s0=True),
    dict(input_size=3, head="many_to_many", loss="softmax", cell="lstm", num_layers=2, learn_s0=True),
])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_training_steps_equal_numpy(rng, cfg, opt):
    config = ModelConfig(hidden_size=5, output_size=4, dtype="float64", **cfg)
    a = Model(config, rng=np.random.default_rng(0))
    b = Model(config, to_strict(a.params))
    B, T = 3, 6
    x = rng.integers(1, 9, (B, T)) if config.vocab_size else rng.standard_normal((B, T, 3))
    lead = (B,) if config.head == "many_to_one" else (B, T)
    y = rng.integers(0, 4, lead) if config.loss == "softmax" else rng.random(lead + (4,))
    L = np.array([6, 2, 4])
    oa = SGD(lr=0.1, momentum=0.9) if opt == "sgd" else Adam(lr=0.05)
    ob = SGD(lr=0.1, momentum=0.9) if opt == "sgd" else Adam(lr=0.05)
    for i in range(3):
        drop = lambda: dict(dropout=0.3, rng=np.random.default_rng(i)) if i else {}  # noqa: E731  same masks on both
        la, ga = a.loss_and_grads(Batch(x=x, y=y, lengths=L), **drop())
        lb, gb = b.loss_and_grads(Batch(x=xp.asarray(x), y=xp.asarray(y), lengths=L), **drop())
        assert abs(float(la) - float(lb)) < 1e-12
        ga, na = clip_grad_norm(ga, 0.5)
        gb, nb = clip_grad_norm(gb, 0.5)
        assert abs(float(na) - float(nb)) < 1e-12
        oa.step(a.params, ga)
        ob.step(b.params, gb)
    for k in a.params:
        np.testing.assert_allclose(host(b.params[k]), a.params[k], rtol=0, atol=1e-12)
    pa = a.predict(x, L)
    pb = b.predict(xp.asarray(x), L)
    np.testing.assert_allclose(host(pb), pa, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_equal_numpy(rng, name):
    z = rng.standard_normal((3, 4, 5))
    y = rng.integers(0, 5, (3, 4)) if name == "softmax" else rng.random((3, 4, 5))
    m = rng.random((3, 4)) < 0.6
    m[0, 0] = True
    l, d = LOSSES[name](z, y, m)
    ls, ds = LOSSES[name](xp.asarray(z), xp.asarray(y), xp.asarray(m))
    assert abs(float(l) - float(ls)) < 1e-13
    np.testing.assert_allclose(host(ds), d, rtol=0, atol=1e-14)


def test_mixing_libraries_is_refused(rng):
    p = rnn.init(3, 5, rng=rng, dtype=np.float64)
    with pytest.raises(TypeError, match="different array libraries"):
        rnn.forward(p, xp.asarray(rng.standard_normal((2, 3, 3))))


def _numpy_segment_sums(vals, starts, ends):
    """What the CUDA kernel of bptt._xp._cupy_segment_sums does, one thread per output entry: each
    run of values summed in order, one entry at a time."""
    out = np.zeros((len(starts), vals.shape[1]), dtype=vals.dtype)
    for u, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        for k in range(a, b):
            out[u] += vals[k]
    return out


@pytest.mark.parametrize("N,V,D", [(0, 5, 3), (1, 5, 3), (200, 7, 4), (500, 300, 2)])
def test_the_gpu_scatter_add_sums_each_row_in_order(N, V, D):
    """The embedding gradient's scatter-add on CuPy sorts the lookups by row and sums each row's run
    in order (CuPy's add.at uses atomics, whose rounding changes from run to run).  The sorting and
    the runs, with the CUDA kernel's loop written in NumPy, equal np.add.at bit for bit, in float32,
    on NumPy and on array_api_strict arrays."""
    from bptt._xp import sorted_segment_sum

    rng = np.random.default_rng(N)
    index = rng.integers(0, V, N) if N < 500 else rng.zipf(1.3, N) % V  # a few rows with long runs
    values = rng.standard_normal((N, D)).astype(np.float32)
    want = np.zeros((V, D), np.float32)
    np.add.at(want, index, values)
    rows, sums = sorted_segment_sum(np, index, values, _numpy_segment_sums)
    assert len(set(rows.tolist())) == len(rows) and sums.dtype == np.float32
    got = np.zeros((V, D), np.float32)
    got[rows] = sums
    assert np.array_equal(got, want)

    def strict_sums(vals, starts, ends):
        return xp.asarray(_numpy_segment_sums(np.asarray(vals), np.asarray(starts), np.asarray(ends)))

    rows, sums = sorted_segment_sum(xp, xp.asarray(index), xp.asarray(values), strict_sums)
    got = np.zeros((V, D), np.float32)
    got[np.asarray(rows)] = np.asarray(sums)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("N,V,D", [(0, 5, 3), (1, 5, 3), (1280, 4, 32), (2048, 10000, 8)])
def test_the_cpu_scatter_add_equals_add_at(N, V, D):
    """NumPy's scatter-add (an embedding's gradient) sorts the lookups and sums each row's run with
    add.reduceat: the same sums as np.add.at, exactly on whole numbers, to float32 rounding on others."""
    from bptt._xp import scatter_add_rows

    rng = np.random.default_rng(N)
    index = rng.integers(0, V, N)
    for values in (rng.integers(-50, 50, (N, D)).astype(np.float32), rng.standard_normal((N, D)).astype(np.float32)):
        want = np.zeros((V, D), np.float32)
        np.add.at(want, index, values)
        got = scatter_add_rows(np, V, index, values)
        assert got.shape == (V, D) and got.dtype == np.float32
        if np.all(values == np.round(values)):
            assert np.array_equal(got, want)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_bidirectional_level_splits_its_directions_across_threads_on_numpy_alone(monkeypatch, rng):
    """The two directions of a bidirectional layer may run on two threads for NumPy only: on a GPU they both
    capture CUDA graphs on one stream, and two threads doing so at once break each other's captures (an H200
    refused every bidirectional backward loop on 2026-11-30, when the backward of a many-to-one model took its
    namespace from an empty gradient, NumPy's).  Here array_api_strict stands in for CuPy."""
    from bptt import stack

    calls = []
    real = stack._cpu.side_by_side
    monkeypatch.setattr(stack._cpu, "side_by_side", lambda fns: calls.append(len(fns)) or real(fns))
    B, H = 32, 128  # a step of B * H * H = 2^19 multiply-adds: enough for NumPy to split the directions
    cfg = ModelConfig(input_size=2, hidden_size=H, output_size=3, bidirectional=True, head="many_to_one",
                      dtype="float64")
    m = Model(cfg, rng=rng)
    x = rng.standard_normal((B, 3, 2))
    y = rng.integers(0, 3, B)
    lengths = rng.integers(1, 4, B)
    loss, grads = m.loss_and_grads(Batch(x=x, y=y, lengths=lengths))
    assert calls == [2, 2]  # NumPy: forward and backward side by side (so this test can fail)
    calls.clear()
    strict = Model(cfg, to_strict(m.params))
    loss_s, grads_s = strict.loss_and_grads(Batch(x=xp.asarray(x), y=xp.asarray(y), lengths=lengths))
    assert calls == []
    assert abs(float(loss_s) - float(loss)) < 1e-12
    for k in grads:
        np.testing.assert_allclose(host(grads_s[k]), grads[k], rtol=0, atol=1e-12)


@pytest.mark.parametrize("cfg", [
    dict(vocab_size=9, embed_dim=4, bidirectional=True),
    dict(input_size=3, head="many_to_many", cell="lstm", num_layers=2, bidirectional=True, learn_s0=True),
    dict(vocab_size=9, embed_dim=4),
    dict(vocab_size=9, embed_dim=4, head="many_to_many", bidirectional=True, num_layers=2,
         extra_layers=({"kind": "layer_norm", "at": "input"},)),
])
def test_a_long_line_a_chunk_at_a_time_on_array_api_strict_equals_numpy(rng, cfg, monkeypatch):
    """Model.infer's chunks (both directions level by level, or one direction whole) use the array API alone."""
    monkeypatch.setattr(Model, "INFER_CHUNK", 5)
    config = ModelConfig(hidden_size=5, output_size=4, dtype="float64", **cfg)
    a = Model(config, rng=np.random.default_rng(0))
    b = Model(config, to_strict(a.params))
    x = rng.integers(1, 9, (1, 23)) if config.vocab_size else rng.standard_normal((1, 23, 3))
    assert b.chunked(xp.asarray(x))
    np.testing.assert_allclose(host(b.infer(xp.asarray(x))), a.forward(x)[0], rtol=0, atol=1e-12)
