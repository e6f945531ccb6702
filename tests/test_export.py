"""`bptt export` and bptt/torch_net.py: a model leaves bptt as a safetensors file that PyTorch's own
layers run.  Checked against bptt's forward pass (float64 1e-10, float32 1e-5), read back with the
`safetensors` package (an independent reader of the format), and refused by name where PyTorch's
layers cannot express the model or a file is damaged."""

import itertools
import json
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

from bptt import Model, ModelConfig, checkpoint  # noqa: E402
from bptt.export import torch_tensors, write_torch  # noqa: E402
from bptt.torch_net import load, read_safetensors  # noqa: E402
from conftest import run  # noqa: E402

V, D, H, O = 9, 4, 5, 3
LENGTHS = np.array([7, 3, 1, 5])  # rows of different lengths: packed in PyTorch, padded in bptt


def _seed(*key) -> int:
    """A seed of its own for each case, the same in every run (Python's hash() of a str is not)."""
    return zlib.crc32(repr(key).encode())


def _model(rng, cell="rnn", L=1, bi=False, head="many_to_one", learn_s0=False, vocab=True, dtype="float64",
           activation="tanh", loss="softmax"):
    cfg = ModelConfig(hidden_size=H, output_size=O, vocab_size=V if vocab else None, input_size=None if vocab else D,
                      embed_dim=D, cell=cell, num_layers=L, bidirectional=bi, head=head, learn_s0=learn_s0,
                      dtype=dtype, activation=activation, loss=loss)
    m = Model(cfg, rng=rng)
    for v in m.params.values():  # no parameter left at 0 or 1, where a wrong mapping would not show
        v += (0.3 * rng.standard_normal(v.shape)).astype(v.dtype)
    return m


def _inputs(rng, vocab, dtype="float64"):
    B, T = len(LENGTHS), int(LENGTHS.max()) + 2  # two pad steps past the longest row too
    if vocab:
        x = rng.integers(1, V, (B, T))
        x[np.arange(T)[None, :] >= LENGTHS[:, None]] = 0  # pad id at the pads
    else:
        x = rng.standard_normal((B, T, D)).astype(dtype)
    return x


def _torch_out(path, x, lengths, state=None):
    net = load(path)
    with torch.no_grad():
        y, state = net(torch.from_numpy(x), torch.from_numpy(lengths) if lengths is not None else None, state)
    return net, y.numpy(), state


def _real(y, head, lengths):
    return y if head == "many_to_one" else np.concatenate([y[i, :n] for i, n in enumerate(lengths)])


@pytest.mark.parametrize("cell,L,bi", [(c, L, bi) for c in ("rnn", "gru", "lstm") for L in (1, 2) for bi in (False, True)])
def test_torch_module_gives_bptt_outputs(tmp_path, cell, L, bi):
    """Every cell x 1-2 layers x one or two directions x head x learned s0 x ids or floats, rows of
    different lengths: the exported module's outputs equal bptt's at every real step (float64, 1e-10)."""
    rng = np.random.default_rng(_seed(cell, L, bi))
    for head, learn_s0, vocab in itertools.product(("many_to_one", "many_to_many"), (False, True), (True, False)):
        m = _model(rng, cell, L, bi, head, learn_s0, vocab)
        x = _inputs(rng, vocab)
        want, _ = m.forward(x, lengths=LENGTHS)
        path = tmp_path / "m.safetensors"
        write_torch(path, m, {"vocab": ["<pad>", "<unk>"] + list("abcdefg")})
        _, got, _ = _torch_out(path, x, LENGTHS)
        err = np.abs(_real(got, head, LENGTHS) - _real(want, head, LENGTHS)).max()
        assert err < 1e-10, (head, learn_s0, vocab, err)


def test_relu_float32_and_full_rows(tmp_path):
    """The tutorial's cell with relu, in float32 (1e-5), and rows all of full length (no packing)."""
    rng = np.random.default_rng(5)
    m = _model(rng, "rnn", 2, True, "many_to_many", True, True, dtype="float32", activation="relu")
    x = _inputs(rng, True)
    write_torch(tmp_path / "m.safetensors", m)
    want, _ = m.forward(x, lengths=LENGTHS)
    net, got, _ = _torch_out(tmp_path / "m.safetensors", x, LENGTHS)
    assert net.out.weight.dtype == torch.float32
    assert np.abs(_real(got, "many_to_many", LENGTHS) - _real(want, "many_to_many", LENGTHS)).max() < 1e-5
    full = rng.integers(1, V, (3, 6))
    want, _ = m.forward(full)
    _, got, _ = _torch_out(tmp_path / "m.safetensors", full, None)
    assert np.abs(got - want).max() < 1e-5


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_carried_state_of_a_language_model(tmp_path, cell):
    """A stateful language model reads its text in windows, carrying the state: the module's state
    out of one window, given to the next, gives bptt's outputs with s_init."""
    rng = np.random.default_rng(7)
    m = _model(rng, cell, 2, False, "many_to_many", False, True)
    x1, x2 = rng.integers(1, V, (3, 5)), rng.integers(1, V, (3, 5))
    y1, c1 = m.forward(x1)
    y2, _ = m.forward(x2, s_init=c1["final"])
    write_torch(tmp_path / "lm.safetensors", m)
    net, got1, state = _torch_out(tmp_path / "lm.safetensors", x1, None)
    _, got2, _ = _torch_out(tmp_path / "lm.safetensors", x2, None, state)
    assert np.abs(got1 - y1).max() < 1e-10 and np.abs(got2 - y2).max() < 1e-10


NORMS = [({"kind": "layer_norm", "at": "input"},), ({"kind": "layer_norm", "at": "states"},),
         ({"kind": "layer_norm", "at": "head", "eps": 0.01},),
         ({"kind": "layer_norm", "at": "states"}, {"kind": "layer_norm", "at": "input"},
          {"kind": "layer_norm", "at": "states", "eps": 0.001}, {"kind": "layer_norm", "at": "head"})]


def _normed_model(rng, cell, bi, head, extra, dtype):
    cfg = ModelConfig(hidden_size=H, output_size=O, vocab_size=V, embed_dim=D, cell=cell, num_layers=2,
                      bidirectional=bi, head=head, dtype=dtype, extra_layers=extra)
    m = Model(cfg, rng=rng)
    for v in m.params.values():  # gains away from 1 and biases away from 0, where a wrong mapping shows
        v += (0.3 * rng.standard_normal(v.shape)).astype(v.dtype)
    return m


@pytest.mark.parametrize("cell,bi", [("rnn", False), ("rnn", True), ("lstm", True), ("gru", False)])
def test_layer_norm_exports_to_torch_and_onnx(tmp_path, cell, bi):
    """Layers of kind layer_norm at the input, at the states (read by a many-to-one head at each row's real
    ends, both directions normalised together), at the head, and several at once: the PyTorch module
    equals bptt at every real step (float64, 1e-10) and so does ONNX Runtime (float32, 1e-5)."""
    rng = np.random.default_rng(_seed("norm", cell, bi))
    for head, extra in itertools.product(("many_to_one", "many_to_many"), NORMS):
        m = _normed_model(rng, cell, bi, head, extra, "float64")
        x = _inputs(rng, True)
        want, _ = m.forward(x, lengths=LENGTHS)
        write_torch(tmp_path / "m.safetensors", m)
        net, got, _ = _torch_out(tmp_path / "m.safetensors", x, LENGTHS)
        assert sorted(net.norms) == sorted(k[:-2] for k in m.params if k.startswith("layer_norm_") and
                                           k.endswith("_g")), list(net.norms)
        err = np.abs(_real(got, head, LENGTHS) - _real(want, head, LENGTHS)).max()
        assert err < 1e-10, (head, extra, err)
        if head == "many_to_one":  # rows all of full length: no packing in PyTorch
            full = rng.integers(1, V, (3, 6))
            assert np.abs(_torch_out(tmp_path / "m.safetensors", full, None)[1] - m.forward(full)[0]).max() < 1e-10
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from bptt.export import write_onnx

    for head, extra in itertools.product(("many_to_one", "many_to_many"), NORMS):
        m = _normed_model(rng, cell, bi, head, extra, "float32")
        x = _inputs(rng, True)
        want, _ = m.forward(x, lengths=LENGTHS)
        write_onnx(tmp_path / "m.onnx", m)
        got = _onnx_out(tmp_path / "m.onnx", x, LENGTHS)
        err = np.abs(_real(got, head, LENGTHS) - _real(want, head, LENGTHS)).max()
        assert err < 1e-5, (head, extra, err)


def test_file_is_standard_safetensors(tmp_path):
    """The `safetensors` package reads the file: the tensors in PyTorch's names and shapes, and the
    config and metadata as JSON strings."""
    rng = np.random.default_rng(1)
    m = _model(rng, "gru", 2, True, "many_to_one", True, True)
    meta = {"task": "classify", "vocab": ["<pad>", "<unk>", "é", "b"], "labels": ["x", "y", "z"]}
    path = tmp_path / "m.safetensors"
    written = write_torch(path, m, meta)
    got = safetensors_numpy.load_file(str(path))
    assert sorted(got) == sorted(written)
    for k, v in written.items():
        np.testing.assert_array_equal(got[k], v)
    assert got["rnn.weight_hh_l1_reverse"].shape == (3 * H, H) and got["rnn.weight_ih_l1"].shape == (3 * H, 2 * H)
    np.testing.assert_array_equal(got["rnn.weight_ih_l0"], m.params["W_s_l0"][H:].T)  # the documented mapping
    np.testing.assert_array_equal(got["rnn.bias_hh_l0"][2 * H:], m.params["b_hn_l0"])
    np.testing.assert_array_equal(got["s0"][1], m.params["s0_l0_reverse"])
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        md = f.metadata()
    assert json.loads(md["bptt_meta"]) == meta and json.loads(md["bptt_config"]) == m.config.to_dict()


def test_refused_by_name(monkeypatch):
    from dataclasses import dataclass

    from bptt import layers

    rng = np.random.default_rng(2)
    with pytest.raises(ValueError, match="activation='sigmoid'"):
        torch_tensors(_model(rng, activation="sigmoid"))

    @dataclass(frozen=True)
    class Scale:  # an added layer of a kind that neither PyTorch's module nor the ONNX graph has
        in_features: int

        def param_shapes(self):
            return {}

        def init(self, rng, dtype=np.float32):
            return {}

        def forward(self, params, x, ctx=None):
            return 2.0 * x, {}

        def backward(self, params, cache, dy, **_):
            return {}, 2.0 * dy

    monkeypatch.setitem(layers.LAYERS, "scale", Scale)
    cfg = ModelConfig(hidden_size=H, vocab_size=V, extra_layers=({"kind": "layer_norm", "at": "states"},
                                                                 {"kind": "scale", "at": "head"}))
    with pytest.raises(ValueError, match=r"a kind that does not export \(scale@head\)"):
        torch_tensors(Model(cfg, rng=rng))
    with pytest.raises(ValueError, match="not one that a Net has"):
        from bptt.torch_net import Net
        Net(cfg.to_dict())
    with pytest.raises(TypeError, match="bptt.Model"):
        torch_tensors({"W_s": np.zeros((3, 3))})


def test_damaged_files_are_refused(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "m.safetensors"
    write_torch(path, _model(rng))
    blob = path.read_bytes()
    cases = {"empty": b"", "short": blob[:5], "truncated": blob[:-7], "huge header": (1 << 40).to_bytes(8, "little"),
             "not json": (4).to_bytes(8, "little") + b"{{{{", "a list": (2).to_bytes(8, "little") + b"[]"}
    head = json.loads(blob[8:8 + int.from_bytes(blob[:8], "little")])
    name = next(k for k in head if k != "__metadata__")
    for what, change in (("int dtype", {"dtype": "I64"}), ("offsets", {"data_offsets": [0, 10**12]}),
                         ("shape", {"shape": [10**6, 10**6]}), ("negative", {"shape": [-1, 4]})):
        h = dict(head, **{name: dict(head[name], **change)})
        hb = json.dumps(h).encode()
        cases[what] = len(hb).to_bytes(8, "little") + hb + blob[8 + int.from_bytes(blob[:8], "little"):]
    for what, data in cases.items():
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(data)
        with pytest.raises(ValueError):
            read_safetensors(bad)
            raise AssertionError(what)
    other = tmp_path / "other.safetensors"
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(3, np.float32)}, str(other), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="not one that bptt export wrote"):
        load(other)


def test_english_tokenizer_is_bptts():
    from bptt.data import files
    from bptt.torch_net import _ENGLISH

    assert _ENGLISH.pattern == files._ENGLISH.pattern


def test_words_tokenizer_is_bptts():
    """torch_net carries its own copy of the "words" tokenizer (it needs PyTorch alone): the same tokens."""
    import random
    import string

    from bptt.data import tokenize
    from bptt.torch_net import Net

    class Meta:
        meta = {"tokenizer": "words"}

    r = random.Random(1)
    chars = string.printable + "''``n't" + "éüßİıçñøæœ Привет मिर् 我。ﬁＡ١٢\u0301\u0308\U00011000_'"
    for _ in range(2000):
        t = "".join(r.choice(chars) for _ in range(r.randint(0, 40)))
        assert Net.tokens(Meta(), t) == tokenize(t, "words"), t


def test_cli_export_and_predict_in_torch(tmp_path, capsys):
    """`bptt export` of a model file; the module's encode + output give what `bptt predict` prints,
    for a classifier and for a regression (numbers in the data's units) with a layer_norm added."""
    rng = np.random.default_rng(4)
    vocab = ["<pad>", "<unk>", "a", "b", "c"]
    texts = ["abca", "b", "ccab", "aq"]  # q is unknown: <unk> in both
    for task, loss, meta in (("classify", "softmax", {"labels": ["neg", "pos", "mid"]}),
                             ("regress", "mse", {"labels": ["y0", "y1", "y2"], "target_mean": [1.0, -2.0, 0.5],
                                                 "target_sd": [2.0, 0.5, 3.0]})):
        extra = ({"kind": "layer_norm", "at": "states"},) if task == "regress" else ()  # --add-layer's
        cfg = ModelConfig(hidden_size=H, output_size=O, vocab_size=len(vocab), embed_dim=D, cell="lstm", loss=loss,
                          extra_layers=extra)
        m = Model(cfg, rng=rng)
        model = tmp_path / f"{task}.bptt"
        checkpoint.save(model, m, meta={"task": task, "vocab": vocab, "tokenizer": "chars", **meta})
        out = tmp_path / f"{task}.safetensors"
        rc, so, err = run(capsys, "export", "--model", str(model), "--out", str(out))
        assert rc == 0 and "wrote" in so and "load(" in so, err
        net = load(out)
        ids, lengths = net.encode(texts)
        with torch.no_grad():
            got = net.output(net(ids, lengths)[0]).numpy()
        for bad in ("abc", [], ["ab", 3]):
            with pytest.raises(ValueError, match="non-empty list of strings"):
                net.encode(bad)
        with pytest.raises(ValueError, match=r"text 1 \(''\) has no tokens"):
            net.encode(["ab", ""])
        rc, so, err = run(capsys, "predict", "--model", str(model), *texts)
        assert rc == 0, err
        lines = so.strip().splitlines()
        if task == "classify":
            assert [ln.split("\t")[0] for ln in lines] == [meta["labels"][i] for i in got.argmax(1)]
            np.testing.assert_allclose([float(ln.split("\t")[1]) for ln in lines], got.max(1), atol=1e-4)
        else:
            np.testing.assert_allclose([[float(v) for v in ln.split()] for ln in lines], got, rtol=1e-4, atol=1e-4)


def test_cli_refusals(tmp_path, capsys):
    rng = np.random.default_rng(6)
    model = tmp_path / "m.bptt"
    checkpoint.save(model, _model(rng, activation="identity", dtype="float32"), meta={})
    data = tmp_path / "notes.txt"
    data.write_text("mine\n")
    for argv, match in (([str(model), str(tmp_path / "x.safetensors")], "activation='identity'"),
                        ([str(model), str(data)], "not a file that bptt export wrote"),
                        ([str(model), str(tmp_path / "y.bptt")], "name it .safetensors"),
                        ([str(model), str(model)], "bptt model file"),
                        ([str(data), str(tmp_path / "x.safetensors")], "not a bptt model"),
                        ([str(tmp_path / "none.bptt"), str(tmp_path / "x.safetensors")], "does not exist"),
                        ([str(model), str(tmp_path)], "folder")):
        rc, so, err = run(capsys, "export", "--model", argv[0], "--out", argv[1])
        assert rc == 2 and match in err, (argv, err)
    assert data.read_text() == "mine\n" and not (tmp_path / "x.safetensors").exists()


# ---- ONNX -------------------------------------------------------------------------------------------

def _onnx_out(path, x, lengths):
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x, "lengths": lengths.astype(np.int64)})[0]


@pytest.mark.parametrize("cell,L,bi", [(c, L, bi) for c in ("rnn", "gru", "lstm") for L in (1, 2) for bi in (False, True)])
def test_onnx_graph_gives_bptt_outputs(tmp_path, cell, L, bi):
    """The same combinations in ONNX Runtime (ONNX's gate orders, sequence_lens in both directions,
    learned s0 broadcast to the batch): bptt's outputs at every real step, float32 1e-5."""
    pytest.importorskip("onnx")
    from bptt.export import write_onnx

    rng = np.random.default_rng(_seed("onnx", cell, L, bi))
    for head, learn_s0, vocab in itertools.product(("many_to_one", "many_to_many"), (False, True), (True, False)):
        m = _model(rng, cell, L, bi, head, learn_s0, vocab, dtype="float32")
        x = _inputs(rng, vocab, "float32")
        want, _ = m.forward(x, lengths=LENGTHS)
        write_onnx(tmp_path / "m.onnx", m)
        got = _onnx_out(tmp_path / "m.onnx", x, LENGTHS)
        err = np.abs(_real(got, head, LENGTHS) - _real(want, head, LENGTHS)).max()
        assert err < 1e-5, (head, learn_s0, vocab, err)


def test_onnx_relu_float64_and_metadata(tmp_path):
    """relu in ONNX's activations; a float64 model written in float32 (ONNX Runtime's recurrent
    operators have no float64) stays within float32's rounding; config and metadata ride along."""
    onnx = pytest.importorskip("onnx")
    from bptt.export import write_onnx

    rng = np.random.default_rng(8)
    m = _model(rng, "rnn", 2, True, "many_to_one", True, True, dtype="float64", activation="relu")
    x = _inputs(rng, True)
    want, _ = m.forward(x, lengths=LENGTHS)
    meta = {"task": "classify", "vocab": ["<pad>", "<unk>", "ü"], "labels": ["a", "b", "c"]}
    write_onnx(tmp_path / "m.onnx", m, meta)
    got = _onnx_out(tmp_path / "m.onnx", x, LENGTHS)
    assert got.dtype == np.float32 and np.abs(got - want).max() < 1e-5
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert props["format"] == "bptt-torch" and json.loads(props["bptt_meta"]) == meta
    assert json.loads(props["bptt_config"]) == m.config.to_dict()


def test_cli_onnx(tmp_path, capsys, monkeypatch):
    pytest.importorskip("onnx")
    onnx = pytest.importorskip("onnx")
    rng = np.random.default_rng(9)
    model = tmp_path / "m.bptt"
    m = _model(rng, "gru", 1, True, "many_to_many", False, True, dtype="float32")
    checkpoint.save(model, m, meta={})
    out = tmp_path / "m.onnx"
    rc, so, err = run(capsys, "export", "--model", str(model), "--out", str(out))  # the format from the name
    assert rc == 0 and "ONNX graph" in so, err
    x = _inputs(rng, True, "float32")
    want, _ = m.forward(x, lengths=LENGTHS)
    got = _onnx_out(out, x, LENGTHS)
    assert np.abs(_real(got, "many_to_many", LENGTHS) - _real(want, "many_to_many", LENGTHS)).max() < 1e-5
    assert run(capsys, "export", "--model", str(model), "--out", str(out))[0] == 0  # an earlier export is replaced
    foreign = tmp_path / "foreign.onnx"
    g = onnx.helper.make_graph([onnx.helper.make_node("Identity", ["a"], ["b"])], "g",
                               [onnx.helper.make_tensor_value_info("a", onnx.TensorProto.FLOAT, [1])],
                               [onnx.helper.make_tensor_value_info("b", onnx.TensorProto.FLOAT, [1])])
    foreign.write_bytes(onnx.helper.make_model(g).SerializeToString())
    before = foreign.read_bytes()
    for argv, match in (([str(foreign)], "not a file that bptt export wrote"),
                        ([str(tmp_path / "m.safetensors"), "--format", "onnx"], "name it .onnx"),
                        ([str(out), "--format", "torch"], "name it .safetensors")):
        rc, so, err = run(capsys, "export", "--model", str(model), "--out", *argv)
        assert rc == 2 and match in err, (argv, err)
    assert foreign.read_bytes() == before
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # as where the onnx package is not installed
    rc, so, err = run(capsys, "export", "--model", str(model), "--out", str(tmp_path / "n.onnx"))
    assert rc == 2 and "pip install 'bptt[onnx]'" in err and not (tmp_path / "n.onnx").exists()


def test_a_model_of_numbers_encodes_its_steps(tmp_path, capsys):
    """A model trained with --inputs numbers: Net.encode reads the steps as bptt predict does
    (standardised by the model file's input_mean / input_sd), and gives the same numbers."""
    rng = np.random.default_rng(11)
    tr = tmp_path / "t.tsv"
    with open(tr, "w") as f:
        for _ in range(40):
            x = rng.normal(50, 10, (int(rng.integers(1, 5)), 2))
            f.write(" ".join(f"{a:.2f},{b:.2f}" for a, b in x) + f"\t{x.sum():.2f}\n")
    model, out = tmp_path / "n.bptt", tmp_path / "n.safetensors"
    assert run(capsys, "train", "--data", str(tr), "--task", "regress", "--inputs", "numbers", "--out", str(model),
               "--epochs", "2", "--quiet")[0] == 0
    assert run(capsys, "export", "--model", str(model), "--out", str(out))[0] == 0
    net = load(out)
    texts = ["41.5,60.25 55,48.5", "70,30"]
    x, lengths = net.encode(texts)
    assert x.shape == (2, 2, 2) and x.dtype == torch.float32
    with torch.no_grad():
        got = net.output(net(x, lengths)[0]).numpy()[:, 0]
    rc, so, err = run(capsys, "predict", "--model", str(model), *texts)
    assert rc == 0, err
    np.testing.assert_allclose([float(v) for v in so.split()], got, rtol=1e-4)
    for bad in (["1,2,3"], ["a,b"], [""], ["1_000,2"], ["nan,1"], ["\uff11,2"]):  # float() reads the last three
        with pytest.raises(ValueError, match="text 0"):
            net.encode(bad)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("learn_s0", [False, True])
def test_onnx_language_model_carries_its_state(tmp_path, cell, learn_s0):
    """A language model's graph takes h0 (c0) and gives h_n (c_n): two windows read one after the other
    equal bptt's forward with s_init; a learned s0 is in the metadata, for the first window."""
    pytest.importorskip("onnx")
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from bptt.export import write_onnx

    rng = np.random.default_rng(12)
    m = _model(rng, cell, 2, False, "many_to_many", learn_s0, True, dtype="float32")
    x1, x2 = rng.integers(1, V, (3, 6)), rng.integers(1, V, (3, 6))
    y1, c1 = m.forward(x1)
    y2, _ = m.forward(x2, s_init=c1["final"])
    path = tmp_path / "lm.onnx"
    write_onnx(path, m, {"task": "lm"})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    parts = ["h", "c"] if cell == "lstm" else ["h"]
    assert [i.name for i in sess.get_inputs()] == ["x", "lengths"] + [f"{p}0" for p in parts]
    assert [o.name for o in sess.get_outputs()] == ["logits"] + [f"{p}_n" for p in parts]
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    if learn_s0:
        first = {k: np.array(v, np.float32)[:, None, :].repeat(3, 1) for k, v in
                 json.loads(props["bptt_initial_state"]).items()}
        np.testing.assert_array_equal(first["h0"][1, 0], m.params["s0_l1"])
    else:
        assert "bptt_initial_state" not in props
        first = {f"{p}0": np.zeros((2, 3, H), np.float32) for p in parts}
    lengths = np.full(3, 6, np.int64)
    out1 = sess.run(None, {"x": x1, "lengths": lengths, **first})
    out2 = sess.run(None, {"x": x2, "lengths": lengths, **{f"{p}0": out1[1 + i] for i, p in enumerate(parts)}})
    assert np.abs(out1[0] - y1).max() < 1e-5 and np.abs(out2[0] - y2).max() < 1e-5
    write_onnx(path, m, {"task": "tag"})  # not a language model: no state in or out
    assert [i.name for i in ort.InferenceSession(str(path)).get_inputs()] == ["x", "lengths"]


def test_bptt_never_imports_torch_or_onnx():
    """PyTorch and onnx are no runtime dependency: importing bptt (bptt.export included) and exporting a
    model to safetensors loads neither."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, tempfile, os; import bptt; from bptt import export; "
            "m = bptt.Model(bptt.ModelConfig(vocab_size=5, hidden_size=3), rng=0); "
            "export.write_torch(os.path.join(tempfile.mkdtemp(), 'm.safetensors'), m); "
            "print(sorted(k for k in ('torch', 'onnx', 'onnxruntime', 'safetensors') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
