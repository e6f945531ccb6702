"""The layer_norm kind of layer (bptt/layers/layer_norm.py), and a kind of layer made in this file:
a new kind needs its file and its tests, nothing else (ModelConfig.extra_layers, bptt.layers.register)."""

import re
from dataclasses import dataclass

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig, checkpoint, gradcheck
from bptt.layers import LAYERS, register
from bptt.layers.layer_norm import LayerNorm
from test_layers import _central as _numeric, _rel  # central differences in float64


@pytest.mark.parametrize("shape", [(3, 5, 6), (4, 7)])
def test_layer_norm_alone_against_central_differences(shape):
    rng = np.random.default_rng(0)
    ln = LayerNorm(shape[-1], name="ln")
    params = {"ln_g": rng.normal(1, 0.3, shape[-1]), "ln_b": rng.normal(0, 0.3, shape[-1])}
    x = rng.normal(0.5, 2.0, shape)
    w = rng.normal(size=shape)  # the loss sum(w * y) makes dL/dy = w

    def loss():
        return float(np.sum(w * ln.forward(params, x)[0]))

    y, cache = ln.forward(params, x)
    grads, dx = ln.backward(params, cache, w)
    assert _rel(dx, _numeric(loss, x)) < 1e-8
    for k in params:
        assert _rel(grads[k], _numeric(loss, params[k])) < 1e-8
    # and what it computes: each vector at mean 0 and variance 1 before the gain and bias
    xhat = (y - params["ln_b"]) / params["ln_g"]
    np.testing.assert_allclose(xhat.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(xhat.var(-1), 1 / (1 + 1e-5 / x.var(-1)), rtol=1e-10)


def test_layer_norm_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    F = 8
    ln = LayerNorm(F, name="ln", eps=1e-3)
    params = {"ln_g": rng.normal(1, 0.3, F), "ln_b": rng.normal(0, 0.3, F)}
    x, w = rng.normal(size=(4, 6, F)), rng.normal(size=(4, 6, F))
    y, cache = ln.forward(params, x)
    grads, dx = ln.backward(params, cache, w)
    tx = torch.tensor(x, requires_grad=True)
    tg, tb = (torch.tensor(params[k], requires_grad=True) for k in ("ln_g", "ln_b"))
    ty = torch.nn.functional.layer_norm(tx, (F,), tg, tb, eps=1e-3)
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=0, atol=1e-12)
    for mine, theirs in ((dx, tx), (grads["ln_g"], tg), (grads["ln_b"], tb)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=0, atol=1e-10)


def _config(head, **kw):
    extra = ({"kind": "layer_norm", "at": "input"}, {"kind": "layer_norm", "at": "states"},
             {"kind": "layer_norm", "at": "head", "eps": 1e-3})
    return ModelConfig(vocab_size=7, embed_dim=4, hidden_size=5, output_size=3, head=head, dtype="float64",
                       extra_layers=extra, **kw)


def _batch(rng, head, B=4, T=6, pads="end"):
    lengths = np.array([6, 3, 1, 4])[:B]
    x = rng.integers(2, 7, size=(B, T))
    y = rng.integers(0, 3, size=(B, T) if head == "many_to_many" else B)
    if pads == "end":
        x[np.arange(T)[None] >= lengths[:, None]] = 0
        return Batch(x=x, y=y, lengths=lengths)
    mask = np.ones((B, T), bool)
    mask[1, :2] = mask[2, 1:4] = mask[3, 0] = False  # pads at the start and in the middle
    x[~mask] = 0
    return Batch(x=x, y=y, mask=mask)


@pytest.mark.parametrize("head", ["many_to_one", "many_to_many"])
@pytest.mark.parametrize("stack", [dict(), dict(num_layers=2, bidirectional=True, learn_s0=True, cell="lstm")])
@pytest.mark.parametrize("pads", ["end", "anywhere"])
def test_a_model_with_layer_norms_against_central_differences(head, stack, pads):
    rng = np.random.default_rng(2)
    model = Model(_config(head, **stack), rng=rng)
    for k in model.params:  # gains and biases away from 1 and 0, so their gradients are not special
        if k.startswith("layer_norm"):
            model.params[k] = model.params[k] + rng.normal(0, 0.3, model.params[k].shape)
    report = gradcheck(model, _batch(rng, head, pads=pads), max_entries=30)
    assert {k for k in report if k.startswith("layer_norm")} == {
        f"layer_norm_{p}0_{w}" for p in ("input", "states", "head") for w in "gb"}
    assert max(report.values()) < 1e-6, report


@pytest.mark.parametrize("head", ["many_to_one", "many_to_many"])
def test_padding_changes_nothing_with_layer_norms(head):
    """Each sequence of a batch padded to the longest and to the longest + 17 gives what it gives alone."""
    rng = np.random.default_rng(3)
    model = Model(_config(head, num_layers=2, bidirectional=True), rng=rng)
    b = _batch(rng, head)
    for extra in (0, 17):
        x = np.pad(b.x, ((0, 0), (0, extra)))
        probs = model.predict(x, lengths=b.lengths)
        for i, L in enumerate(b.lengths):
            alone = model.predict(b.x[i:i + 1, :L], lengths=np.array([L]))
            got = probs[i] if head == "many_to_one" else probs[i, :L]
            np.testing.assert_allclose(got, alone[0], rtol=0, atol=1e-12)


def test_a_model_file_with_layer_norms_round_trips(tmp_path):
    rng = np.random.default_rng(4)
    model = Model(_config("many_to_one", num_layers=2), rng=rng)
    model.params["layer_norm_states0_g"] = rng.normal(1, 0.3, 5)
    path = tmp_path / "m.bptt"
    checkpoint.save(str(path), model)
    back = checkpoint.load(str(path))
    assert back.model.config == model.config and back.model.config.extra_layers[2] == {
        "kind": "layer_norm", "at": "head", "eps": 1e-3}
    b = _batch(rng, "many_to_one")
    np.testing.assert_array_equal(back.model.predict(b.x, b.lengths), model.predict(b.x, b.lengths))
    # a file whose config names a kind this bptt does not have is refused by name
    import json
    import zipfile
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    import io
    head = json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())
    head["config"]["extra_layers"][0]["kind"] = "no_such_layer"
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(json.dumps(head).encode(), np.uint8))
    members["__meta__.npy"] = buf.getvalue()
    with zipfile.ZipFile(tmp_path / "other.bptt", "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    with pytest.raises(checkpoint.ModelFileError, match="'no_such_layer' is not known"):
        checkpoint.load(str(tmp_path / "other.bptt"))


def test_a_model_without_extra_layers_writes_the_config_it_always_wrote():
    assert "extra_layers" not in ModelConfig(vocab_size=5).to_dict()


def test_bad_extra_layer_specs_are_refused_by_name():
    for bad, words in (([{"kind": "layer_norm", "at": "where"}], "'at' (one of"),
                       ([{"kind": "nope", "at": "states"}], "'nope' is not known"),
                       ([{"kind": "layer_norm", "at": "states", "width": 3}], "no field(s) ['width']"),
                       ([{"kind": "layer_norm", "at": "states", "eps": -1}], "eps must be"),
                       ("layer_norm", "must be a list")):
        with pytest.raises(ValueError, match=re.escape(words)):
            ModelConfig(vocab_size=5, extra_layers=bad)


@pytest.fixture
def projection_kind():
    """A kind of layer that only this file defines: a learned projection that changes the width."""

    @register("test_projection")
    @dataclass(frozen=True)
    class Projection:
        in_features: int
        out: int = 3
        name: str = "p"

        def out_features(self, in_features):
            return self.out

        def param_shapes(self):
            return {f"{self.name}_W": (self.in_features, self.out)}

        def init(self, rng, dtype=np.float32):
            return {f"{self.name}_W": rng.normal(0, 0.5, (self.in_features, self.out)).astype(dtype)}

        def forward(self, params, x, ctx=None):
            return x @ params[f"{self.name}_W"], x

        def backward(self, params, cache, dy, **_):
            W = params[f"{self.name}_W"]
            lead = cache.reshape(-1, self.in_features)
            return {f"{self.name}_W": lead.T @ dy.reshape(-1, self.out)}, dy @ W.T  # dL/dW = x^T dy; backprop into x

    yield Projection
    LAYERS.pop("test_projection")


def test_a_new_kind_of_layer_needs_nothing_but_its_class(projection_kind, tmp_path):
    """Registered in this test alone, it changes the width at "input" and "head", trains (exact
    gradients), is saved and loaded with its fields, without a change anywhere else."""
    rng = np.random.default_rng(5)
    cfg = ModelConfig(vocab_size=7, embed_dim=4, hidden_size=5, output_size=3, dtype="float64", bidirectional=True,
                      extra_layers=({"kind": "test_projection", "at": "input", "out": 6},
                                    {"kind": "test_projection", "at": "head", "out": 2}))
    model = Model(cfg, rng=rng)
    assert cfg.rnn_input_size == 6 and model.params["W_s_l0"].shape == (5 + 6, 5)
    assert model.params["test_projection_input0_W"].shape == (4, 6)
    assert model.params["test_projection_head0_W"].shape == (10, 2) and model.params["W_o"].shape == (2, 3)
    b = _batch(rng, "many_to_one")
    assert max(gradcheck(model, b, max_entries=30).values()) < 1e-6
    checkpoint.save(str(tmp_path / "m.bptt"), model)
    back = checkpoint.load(str(tmp_path / "m.bptt"))
    np.testing.assert_array_equal(back.model.predict(b.x, b.lengths), model.predict(b.x, b.lengths))
    with pytest.raises(ValueError, match="must keep the width"):
        ModelConfig(vocab_size=7, extra_layers=({"kind": "test_projection", "at": "states"},))


def test_the_command_line_adds_layers_by_name(tmp_path, capsys):
    from conftest import run

    tr = tmp_path / "tr.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "80", "--seed", "1", "--out", str(tr))
    out = tmp_path / "m.bptt"
    common = ["train", "--data", str(tr), "--task", "classify", "--epochs", "1", "--hidden", "4", "--no-curriculum",
              "--quiet", "--out", str(out), "--bidirectional"]
    rc, stdout, _ = run(capsys, *common, "--add-layer", "layer_norm@states", "--add-layer", "layer_norm@head:eps=0.001")
    assert rc == 0 and "bidirectional, layer_norm@states, layer_norm@head" in stdout
    assert checkpoint.load(str(out)).model.config.extra_layers == (
        {"kind": "layer_norm", "at": "states"}, {"kind": "layer_norm", "at": "head", "eps": 0.001})
    assert run(capsys, "predict", "--model", str(out), "0110")[0] == 0
    assert run(capsys, "evaluate", "--model", str(out), "--data", str(tr))[0] == 0
    rc, _, err = run(capsys, *common, "--add-layer", "layer_norm@states", "--resume")  # one layer fewer
    assert rc == 2 and "extra_layers" in err
    for bad, words in (("nope@states", "'nope' is not known"), ("layer_norm@states:size=3", "no field(s) ['size']")):
        rc, _, err = run(capsys, *common, "--add-layer", bad)
        assert rc == 2 and words in err


def test_layer_norms_run_on_any_array_namespace():
    """The same loss and gradients through array_api_strict (the code CuPy runs on a GPU) as through NumPy."""
    xs = pytest.importorskip("array_api_strict")
    from bptt._xp import to_numpy

    rng = np.random.default_rng(6)
    cfg = _config("many_to_one", bidirectional=True)
    m = Model(cfg, rng=rng)
    b = _batch(rng, "many_to_one", pads="anywhere")
    loss, grads = m.loss_and_grads(b)
    strict = Model(cfg, {k: xs.asarray(v) for k, v in m.params.items()})
    loss2, grads2 = strict.loss_and_grads(Batch(x=xs.asarray(b.x), y=xs.asarray(b.y), mask=xs.asarray(b.mask)))
    assert abs(float(loss2) - float(loss)) < 1e-12
    for k in grads:
        np.testing.assert_allclose(to_numpy(grads2[k]), grads[k], rtol=0, atol=1e-12)
