"""Bad input gets a ValueError/TypeError that names the argument and the value."""

import numpy as np
import pytest

from bptt import Batch, Embedding, Model, ModelConfig, rnn

B, T, D, H = 2, 4, 3, 5


@pytest.fixture
def p(rng):
    return rnn.init(D, H, rng=rng, dtype=np.float64)


@pytest.fixture
def x(rng):
    return rng.standard_normal((B, T, D))


@pytest.mark.parametrize("kw,exc,words", [
    (dict(x=np.zeros((B, T))), ValueError, ["x", "[B, T, D]", "(2, 4)"]),
    (dict(x=np.zeros((B, T, D + 1))), ValueError, ["x", "D = 4", "D = 3"]),
    (dict(x=np.zeros((B, T, D), np.int64)), TypeError, ["x", "int64"]),
    (dict(x=np.zeros((B, T, D), np.float32)), TypeError, ["x", "float32", "float64"]),
    (dict(x=np.zeros((0, T, D))), ValueError, ["x", "at least one"]),
    (dict(x=np.zeros((B, 0, D))), ValueError, ["x", "at least one"]),
    (dict(lengths=np.array([0, 2])), ValueError, ["lengths[0] = 0", "1..T = 1..4"]),
    (dict(lengths=np.array([2, 5])), ValueError, ["lengths[1] = 5", "1..4"]),
    (dict(lengths=np.array([2, 3, 4])), ValueError, ["lengths", "[B] = [2]"]),
    (dict(lengths=np.array([1.5, 2.0])), TypeError, ["lengths", "integers"]),
    (dict(lengths=["3", "2"]), TypeError, ["lengths must be integers", "<U1"]),
    (dict(mask=np.array([[True, True, False, False], [False] * 4])), ValueError, ["mask row 1", "no real step"]),
    (dict(mask=np.ones((B, T + 1), bool)), ValueError, ["mask", "[B, T] = [2, 4]", "(2, 5)"]),
    (dict(mask=np.ones((B, T))), TypeError, ["mask", "bool", "float64"]),
    (dict(lengths=np.array([1, 2]), mask=np.ones((B, T), bool)), ValueError, ["lengths or mask"]),
    (dict(activation="softplus"), ValueError, ["activation='softplus'", "tanh"]),
])
def test_forward_rejects(p, x, kw, exc, words):
    kw = dict(kw)
    xx = kw.pop("x", x)
    with pytest.raises(exc) as e:
        rnn.forward(p, xx, **kw)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_forward_rejects_nan_and_inf(p, x, bad):
    x[1, 2, 0] = bad
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        rnn.forward(p, x)


def test_backward_rejects_wrong_gradient_shape_and_dtype(p, x):
    _, cache = rnn.forward(p, x)
    with pytest.raises(ValueError, match=r"d_states must have shape \[B, T, H\] = \[2, 4, 5\]"):
        rnn.backward(p, cache, np.zeros((B, T, H + 1)))
    with pytest.raises(TypeError, match="d_states has dtype float32"):
        rnn.backward(p, cache, np.zeros((B, T, H), np.float32))
    with pytest.raises(ValueError, match="d_last must have shape"):
        rnn.backward(p, cache, d_last=np.zeros((B + 1, H)))
    with pytest.raises(TypeError, match="d_states"):
        rnn.backward(p, cache)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("which", ["d_states", "d_last"])
def test_backward_rejects_nan_upstream_gradients_unless_forward_skipped_checks(p, x, cell, which):
    """A NaN in dLoss/dstates is refused by name (the gradients came back NaN); a forward run with
    check=False (a training loop whose data were checked once) skips this check as well."""
    from bptt import recurrent
    params = p if cell == "rnn" else recurrent.init(D, H, cell=cell, rng=np.random.default_rng(0), dtype=np.float64)
    g = {"d_states": np.zeros((B, T, H)), "d_last": np.zeros((B, H))}
    g[which].flat[3] = np.nan
    _, cache = recurrent.forward(params, x, cell=cell)
    with pytest.raises(ValueError, match=f"{which} holds NaN or inf values"):
        recurrent.backward(params, cache, **g)
    _, cache = recurrent.forward(params, x, cell=cell, check=False)
    grads, _ = recurrent.backward(params, cache, **g)
    assert np.isnan(grads["W_s"]).any()


def test_params_checked(p, x):
    with pytest.raises(ValueError, match=r"params\['b_s'\] must have shape \[H\] = \[5\]"):
        rnn.forward({**p, "b_s": np.zeros(4)}, x)
    with pytest.raises(TypeError, match="params must be a dict"):
        rnn.forward({"W": 1}, x)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        rnn.init(3, 0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed, got str"):
        rnn.init(3, 4, rng="0")
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator or a seed >= 0, got -1"):
        rnn.init(3, 4, rng=-1)


def test_an_int_seed_is_as_good_as_a_generator():
    """rng=0 is np.random.default_rng(0), in the layers and in Model (which raised AttributeError)."""
    from bptt import Model, ModelConfig
    a, b = rnn.init(3, 4, rng=0), rnn.init(3, 4, rng=np.random.default_rng(0))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    cfg = ModelConfig(vocab_size=7, hidden_size=5, output_size=3)
    m, n = Model(cfg, rng=np.int64(3)), Model(cfg, rng=np.random.default_rng(3))
    assert m.params.keys() == n.params.keys() and all(np.array_equal(m.params[k], n.params[k]) for k in m.params)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed, got float"):
        Model(cfg, rng=3.0)


def test_numpy_integers_are_sizes_and_saved_as_plain_ints(tmp_path):
    """vocab_size=ids.max() + 1 is an np.int64: the configs take it (they refused it) as an int, so
    the model file's JSON can hold it; a NumPy bool is still no size."""
    from bptt import Model, ModelConfig, checkpoint
    from bptt.train import TrainConfig
    cfg = ModelConfig(vocab_size=np.int64(10), hidden_size=np.int32(4), output_size=np.uint8(3), num_layers=np.int64(2))
    assert cfg == ModelConfig(vocab_size=10, hidden_size=4, output_size=3, num_layers=2)
    assert type(cfg.vocab_size) is int and type(cfg.num_layers) is int
    checkpoint.save(tmp_path / "m.bptt", Model(cfg, rng=0))
    assert checkpoint.load(tmp_path / "m.bptt").model.config == cfg
    tc = TrainConfig(batch_size=np.int64(8), lr=np.float32(0.5), seed=np.int64(2))
    assert (type(tc.batch_size), type(tc.lr), type(tc.seed)) == (int, float, int) and tc.lr == 0.5
    ln = ModelConfig(vocab_size=10, extra_layers=({"kind": "layer_norm", "at": "states", "eps": np.float32(0.5)},))
    assert type(ln.extra_layers[0]["eps"]) is float  # a field of an extra layer too
    checkpoint.save(tmp_path / "ln.bptt", Model(ln, rng=0))
    assert checkpoint.load(tmp_path / "ln.bptt").model.config == ln
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got np.True_"):
        ModelConfig(vocab_size=10, hidden_size=np.True_)
    for bad in (-1, 1.5, "0", True):
        with pytest.raises(ValueError, match=f"seed must be an integer >= 0, got {bad!r}"):
            TrainConfig(seed=bad)


def test_embedding_ids_checked(rng):
    emb = Embedding(5, 3)
    params = emb.init(rng)
    with pytest.raises(ValueError, match="ids holds id 5, outside the vocabulary 0..4"):
        emb.forward(params, np.array([[1, 5]]))
    with pytest.raises(ValueError, match="ids holds id -1"):
        emb.forward(params, np.array([[-1, 2]]))
    with pytest.raises(TypeError, match="ids must be integer token ids, got dtype float64"):
        emb.forward(params, np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"ids must have shape \[B, T\]"):
        emb.forward(params, np.array([1, 2]))


@pytest.mark.parametrize("kw,words", [
    (dict(hidden_size=0, input_size=3), "hidden_size must be a positive integer, got 0"),
    (dict(hidden_size=4), "give exactly one of input_size"),
    (dict(input_size=3, vocab_size=5), "give exactly one of input_size"),
    (dict(input_size=3, head="one_to_many"), "head='one_to_many' is not known"),
    (dict(input_size=3, loss="hinge"), "loss='hinge' is not known"),
    (dict(input_size=3, dtype="float16"), "dtype='float16'"),
    (dict(input_size=3, activation="gelu"), "activation='gelu' is not known"),
])
def test_model_config_rejects(kw, words):
    with pytest.raises(ValueError) as e:
        ModelConfig(**kw)
    assert words in str(e.value)


def test_model_config_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"unknown model config key\(s\) \['hiden_size'\]"):
        ModelConfig.from_dict({"input_size": 3, "hiden_size": 4})


def test_loss_targets_checked(rng):
    m = Model(ModelConfig(input_size=D, hidden_size=H, output_size=3), rng=rng)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    with pytest.raises(ValueError, match="targets hold a class id outside 0..2"):
        m.loss_and_grads(Batch(x=x, y=np.array([0, 3])))
    with pytest.raises(ValueError, match=r"targets must have shape \[2\]"):
        m.loss_and_grads(Batch(x=x, y=np.array([0, 1, 2])))


@pytest.mark.parametrize("y, words", [
    (np.array([0.0, np.nan]), "integer class ids, got nan"),  # before: a row of zero loss, silently
    (np.array([0.5, 1.0]), "integer class ids, got 0.5"),
    (np.array(["0", "1"]), "integer class ids, got dtype <U1"),
])
def test_class_targets_that_are_not_class_ids_are_refused(rng, y, words):
    m = Model(ModelConfig(input_size=D, hidden_size=H, output_size=3), rng=rng)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    with pytest.raises((ValueError, TypeError), match=words):
        m.loss_and_grads(Batch(x=x, y=y))
    m.loss_and_grads(Batch(x=x, y=np.array([0.0, 2.0])))  # whole numbers in a float array are class ids


@pytest.mark.parametrize("loss, y, words", [
    ("sigmoid", [[0.0, np.nan]], r"finite and in \[0, 1\] \(a sigmoid output's 0/1 targets\), got nan"),
    ("sigmoid", [[0.0, 2.0]], r"finite and in \[0, 1\].*got 2.0"),
    ("mse", [[0.0, np.inf]], r"must be finite \(regression targets\), got inf"),
])
def test_sigmoid_and_regression_targets_checked(loss, y, words):
    from bptt.losses import LOSSES
    with pytest.raises(ValueError, match=words):
        LOSSES[loss](np.zeros((1, 2)), np.array(y))
    assert np.isfinite(float(LOSSES[loss](np.zeros((1, 2)), np.array([[0.0, 1.0]]))[0]))


@pytest.mark.parametrize("x", [[[1, 2, 3]], "abc", None])
def test_model_input_that_is_not_an_array_is_refused_by_name(rng, x):
    m = Model(ModelConfig(vocab_size=10, embed_dim=4, hidden_size=H, output_size=2), rng=rng)
    with pytest.raises(TypeError, match=r"x must be an array \(\[B, T\] token ids\), got (list|str|NoneType)") as e:
        m.predict(x)
    assert ("bptt.pad_sequences(seqs)" in str(e.value)) == isinstance(x, list)  # the way to batch ragged sequences


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_step_refuses_gradients_that_fit_no_parameter(opt):
    import bptt
    o = getattr(bptt, opt)(lr=0.1)
    params = {"W_s": np.zeros((3, 2)), "b_s": np.zeros(2)}
    with pytest.raises(ValueError, match=r"grads\['W_s'\] has shape \(2, 3\) but params\['W_s'\] has \(3, 2\)"):
        o.step(params, {"W_s": np.zeros((2, 3)), "b_s": np.zeros(2)})  # before: a broadcast error, or a silent broadcast
    with pytest.raises(KeyError, match=r"grads has entries for no parameter: \['W_x'\]"):
        o.step(params, {"W_s": np.zeros((3, 2)), "b_s": np.zeros(2), "W_x": np.zeros(1)})  # a misspelt key
    assert not params["W_s"].any()  # nothing was updated


def test_batch_indices_and_gradcheck_arguments_checked(rng):
    from bptt import batch_indices, gradcheck
    with pytest.raises(ValueError, match=r"lengths\[1\] = -2: every sequence needs at least one step"):
        batch_indices([1, -2], 2)
    with pytest.raises(TypeError, match="lengths must be integers, got dtype float64"):
        batch_indices([1.5, 2.0], 2)
    m = Model(ModelConfig(input_size=D, hidden_size=H, output_size=2), rng=rng)
    with pytest.raises(TypeError, match="batch must be a bptt.Batch"):
        gradcheck(m, None)
    b = Batch(x=np.ones((1, 2, D), np.float32), y=np.array([0]))
    for kw, words in ((dict(eps=-1e-6), r"eps must be a number in \(0, 1\).*got -1e-06"),
                      (dict(eps="1e-6"), "eps must be a number in"),
                      (dict(max_entries=0), "max_entries must be a positive integer or None, got 0")):
        with pytest.raises(ValueError, match=words):
            gradcheck(m, b, **kw)
    assert max(gradcheck(m, b, eps=np.float64(1e-6), max_entries=np.int64(5)).values()) < 1e-6  # NumPy numbers


def test_optimizer_arguments_checked():
    from bptt import SGD, Adam, clip_grad_norm
    with pytest.raises(ValueError, match="lr must be a positive number, got -1"):
        SGD(lr=-1)
    with pytest.raises(ValueError, match="momentum must be in"):
        SGD(lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="beta2 must be in"):
        Adam(beta2=1.0)
    for bad in (0, -1.0, float("nan"), float("inf"), "1", None, True):
        with pytest.raises(ValueError, match=rf"max_norm must be a positive finite number, got {bad!r}"):
            clip_grad_norm({"a": np.ones(2)}, bad)
    assert float(clip_grad_norm({"a": np.ones(2)}, np.float32(1.0))[1]) == pytest.approx(2 ** 0.5)
    for bad in (0, -1e-8, float("nan")):
        with pytest.raises(ValueError, match=rf"eps must be a positive finite number, got {bad!r}"):
            Adam(eps=bad)


def test_model_params_that_do_not_match_the_config_are_refused_at_once(rng):
    c = ModelConfig(input_size=D, hidden_size=H, output_size=2)
    good = Model(c, rng=rng).params
    for params, exc, words in (
            ({}, ValueError, r"params do not match the config: missing \['W_o', 'W_s', 'b_o', 'b_s'\]"),
            (dict(good, s0=np.zeros(H, np.float32)), ValueError, r"unknown \['s0'\]"),
            (dict(good, W_o=np.zeros((H + 1, 2), np.float32)), ValueError,
             r"params\['W_o'\] has shape \(6, 2\), the config needs \(5, 2\)"),
            (dict(good, b_o=np.zeros(2)), TypeError, r"params\['b_o'\] has dtype float64, the config says 'float32'"),
            (dict(good, b_o=[0.0, 0.0]), TypeError, r"params\['b_o'\] must be an array, got list"),
            ([1], TypeError, "params must be a dict of arrays, got list")):
        with pytest.raises(exc, match=words):
            Model(c, params)
    Model(c, dict(good))


def test_a_model_too_large_to_initialise_is_refused_before_allocating(rng):
    with pytest.raises(MemoryError, match=r"a model of 1,000,006,000,002 parameters \(hidden_size 1000000.*"
                                          r"needs about [\d,.]+ GiB to initialise, and this machine has"):
        Model(ModelConfig(input_size=3, hidden_size=10**6, output_size=2), rng=rng)


@pytest.mark.parametrize("lengths", [None, np.array([3, 4]), np.array([4, 3])])
def test_targets_that_are_not_an_array_are_refused_by_name(rng, lengths):
    """The same error whether or not a training step sorts the rows by length."""
    m = Model(ModelConfig(input_size=D, hidden_size=H, output_size=2, dtype="float64"), rng=rng)
    with pytest.raises(TypeError, match="targets must be an array, got list"):
        m.loss_and_grads(Batch(x=rng.standard_normal((B, T, D)), y=[0, 1], lengths=lengths))


def test_s_init_of_another_dtype_is_refused_not_cast(p, x):
    with pytest.raises(TypeError, match="s_init has dtype float32 but the parameters are float64"):
        rnn.forward(p, x, s_init=np.zeros((B, H), np.float32))
    states, _ = rnn.forward(p, x, s_init=np.zeros((B, H)))  # the same dtype is fine
    assert states.dtype == np.float64


def test_one_sequence_far_longer_than_the_rest_gets_a_note_with_its_line(tmp_path, capsys):
    """A lost line end joins two lines into one far longer than the rest, and the length curriculum and the
    chrono initialisation scale to it silently: the run names that line."""
    from conftest import run

    data = tmp_path / "d.tsv"
    rows = ["ab\t0", "ba\t1"] * 20
    data.write_text("\n".join(rows[:7] + ["ab" * 60 + "\t1"] + rows[7:]) + "\n")
    common = ["train", "--data", str(data), "--task", "classify", "--out", str(tmp_path / "m.bptt"), "--epochs", "1"]
    rc, out, err = run(capsys, *common)
    assert rc == 0 and f"note: {data}:8 holds a sequence of 120 tokens, more than 10 times the next longest (2)" in out
    data.write_text("\n".join(rows + ["ab" * 9 + "\t1"]) + "\n")  # 18 tokens: 9 times, not far off
    rc, out, err = run(capsys, *common)
    assert rc == 0 and "more than 10 times" not in out
    data.write_text("\n".join(["a\t0", "b\t1"] * 5 + ["ab" * 40 + "\t1"]) + "\n")  # 80 tokens: too few to matter
    rc, out, err = run(capsys, *common)
    assert rc == 0 and "more than 10 times" not in out


def test_a_batch_too_long_for_memory_is_refused_before_training(tmp_path, capsys, monkeypatch):
    """One very long line would make BPTT keep T states per row: refused up front with what to change,
    from an estimate at or above the measured need, instead of the run being killed part way."""
    from bptt import memory
    from conftest import run

    data = tmp_path / "long.tsv"
    data.write_text("0 1 " * 10_000 + "\t1\n" + "1 0\t0\n" * 40)
    out = tmp_path / "m.bptt"
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 40 << 20)  # 40 MiB free
    rc, _, err = run(capsys, "train", "--data", str(data), "--task", "classify", "--out", str(out), "--epochs", "1")
    assert rc == 2 and "20,000 tokens" in err and "GiB for BPTT" in err and "--batch-size" in err, err
    assert not out.exists()
    # the line is named, and one far longer than every other is pointed out as such (a stray or joined line)
    assert f"{data}:1: the longest sequence has 20,000 tokens (the next longest has 2: a line joined" in err, err
    data.write_text("1 0\t0\n" * 40 + "0 1 " * 10_000 + "\t1\n" + "0 1 " * 1_500 + "\t1\n")
    rc, _, err = run(capsys, "train", "--data", str(data), "--task", "classify", "--out", str(out), "--epochs", "1")
    assert rc == 2 and f"{data}:41: the longest sequence has 20,000 tokens: " in err, err  # 3,000 is not far off
    # the estimate: 32 rows x 20,000 steps x (3*64 + 4*32 + 16) floats = 0.8 GiB
    assert memory.step_bytes(64, 32, 2, tag=False) * 32 * 20_000 == 32 * 20_000 * 336 * 4
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 8 << 30)
    rc, _, err = run(capsys, "train", "--data", str(data), "--task", "classify", "--out", str(out), "--epochs", "1",
                     "--quiet", "--no-curriculum")
    assert rc == 0, err


def test_a_sequence_too_long_to_label_in_memory_is_refused_by_predict_and_evaluate(tmp_path, capsys, monkeypatch):
    """A line longer than an evaluation batch goes alone and whole: a 1,000,000-token line took 1.9 GB in
    bptt predict; one too long for the free memory is refused, naming the line, instead of the process
    being killed."""
    from bptt import memory
    from conftest import run

    tr = tmp_path / "tr.tsv"
    tr.write_text("".join(f"{s}\t{' '.join('y' if c == 'a' else 'n' for c in s)}\n"
                          for s in ("ab", "ba", "aab", "bba") * 10))
    model = tmp_path / "m.bptt"
    assert run(capsys, "train", "--data", str(tr), "--out", str(model), "--epochs", "1", "--hidden", "4",
               "--quiet")[0] == 0
    lines = tmp_path / "lines.txt"
    lines.write_text("ab\n" + "ab" * 50_000 + "\nba\n")
    test = tmp_path / "te.tsv"
    test.write_text("ab\ty n\n" + "ab" * 50_000 + "\t" + "y n " * 50_000 + "\n")
    # a one-level bidirectional tagger (the default for tags of symbols), run a chunk of 65,536 steps at a time
    # and streamed (no level's states kept whole): 65,536 x (3 * 2 * 4 + 4 * 32 + 16 + 4 * 2) floats x 4 bytes
    # for a chunk, and for each of the 100,000 steps its id and outputs (16 + 12 * 2 bytes): 47.8 MiB, not in 40
    assert round((65_536 * memory.step_bytes(8, 32, 2, tag=True) + 100_000 * (16 + 12 * 2)) / 2**20, 1) == 47.8
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 40 << 20)
    rc, out, err = run(capsys, "predict", "--model", str(model), "--data", str(lines))
    assert rc == 2 and out == "" and f"{lines} line 2 has 100,000 tokens: labelling a sequence of 100,000 steps " \
        "needs about 47.8 MiB (the states of 65,536 steps at a time, the outputs of every step), and this machine " \
        "has 40.0 MiB free; cut it" in err, err
    rc, out, err = run(capsys, "evaluate", "--model", str(model), "--data", str(test))
    assert rc == 2 and f"{test}:2 has 100,000 tokens: labelling" in err, err
    monkeypatch.setattr(memory, "available_bytes", lambda device="cpu": 8 << 30)  # room for it
    rc, out, err = run(capsys, "predict", "--model", str(model), "--data", str(lines))
    assert rc == 0 and [len(ln.split()) for ln in out.splitlines()] == [2, 100_000, 2], err
    rc, out, err = run(capsys, "evaluate", "--model", str(model), "--data", str(test))
    assert rc == 0 and "n 2" in out, err


def test_running_out_of_memory_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    """Under a ulimit (or with another process holding the memory) NumPy's allocation fails where the
    estimate from the free memory said it would fit: `bptt predict` on a 2,000,000-token line under
    `ulimit -v 2500000` printed a traceback ending in _ArrayMemoryError."""
    import bptt.cli
    from bptt.model import Model
    from conftest import run

    tr = tmp_path / "tr.tsv"
    tr.write_text("ab\t1\nba\t0\n" * 20)

    def no_room(*a, **k):
        raise MemoryError("Unable to allocate 488. MiB for an array with shape (2000001, 1, 64)")

    model = tmp_path / "m.bptt"
    monkeypatch.setattr(bptt.cli, "train", no_room)
    rc, _, err = run(capsys, "train", "--data", str(tr), "--out", str(model), "--epochs", "1", "--hidden", "4")
    assert rc == 1 and err.strip().splitlines()[-1] == (
        "bptt train: error: out of memory: Unable to allocate 488. MiB for an array with shape (2000001, 1, 64); "
        "use a smaller --batch-size or --hidden, or shorter sequences"), err
    monkeypatch.undo()
    assert run(capsys, "train", "--data", str(tr), "--out", str(model), "--epochs", "1", "--hidden", "4",
               "--quiet")[0] == 0
    monkeypatch.setattr(Model, "predict", no_room)
    rc, out, err = run(capsys, "predict", "--model", str(model), "ab", "ba")
    assert rc == 1 and out == "" and "Traceback" not in err and err.strip() == (
        "bptt predict: error: out of memory: Unable to allocate 488. MiB for an array with shape (2000001, 1, 64); "
        "give it shorter sequences, or fewer at a time"), err


def test_evaluation_takes_long_sequences_a_few_at_a_time():
    from bptt.train import _eval_batches
    L = np.array([5, 3, 1_000_000, 2, 600_000, 7] + [10] * 600)
    batches = _eval_batches(L, 256)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(L)))
    assert all(len(b) <= 256 and (len(b) == 1 or len(b) * L[b].max() <= 1 << 19) for b in batches)
    assert [len(b) for b in batches][-2:] == [1, 1]


def test_a_model_too_large_for_memory_is_refused_before_anything_is_allocated(tmp_path, capsys):
    """--hidden 200000 would need 40 billion weights (plus gradients and Adam's moments): refused with the
    size and what to change, on the real free memory of this machine, before any array is made (it used
    to end in a MemoryError traceback inside the orthogonal initialisation)."""
    import tracemalloc

    from conftest import run

    data = tmp_path / "p.tsv"
    data.write_text("0 1\t1\n1 1\t0\n" * 20)
    for extra in (["--task", "classify", "--hidden", "200000"],
                  ["--task", "classify", "--hidden", "60000", "--cell", "lstm"],
                  ["--task", "lm", "--hidden", "20000", "--layers", "16"]):
        tracemalloc.start()
        rc, _, err = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "m.bptt"), *extra)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert rc == 2 and "parameters; its weights, gradients and optimiser state need about" in err, err
        assert f"--hidden {extra[extra.index('--hidden') + 1]}" in err and "use a smaller --hidden" in err
        assert peak < 50 << 20  # nothing of the model's size was allocated
        assert not list(tmp_path.glob("m.bptt*"))


def test_loss_and_grads_arguments_named(rng):
    m = Model(ModelConfig(vocab_size=6, hidden_size=4, output_size=2), rng=rng)
    b = Batch(x=np.array([[1, 2, 3], [2, 3, 0]]), y=np.array([0, 1]), lengths=np.array([3, 2]))
    with pytest.raises(TypeError, match="batch must be a bptt.Batch .* got tuple"):
        m.loss_and_grads((b.x, b.y))
    with pytest.raises(ValueError, match=r"frozen names \['W_x'\], which are not parameters of this model"):
        m.loss_and_grads(b, frozen=("W_x",))  # a typo used to freeze nothing, silently
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\) \(a number\), got 'a'"):
        m.loss_and_grads(b, dropout="a", rng=rng)
    assert "E" not in m.loss_and_grads(b, frozen="E")[1]  # one name given as a str: not its letters
    assert np.isfinite(float(m.loss_and_grads(b, dropout=np.float32(0.2), rng=rng)[0]))


def test_layer_sizes_and_inputs_named(rng):
    from bptt import Dense, softmax_cross_entropy
    for make, words in ((lambda: Embedding(0, 3), "Embedding: vocab_size must be a positive integer, got 0"),
                        (lambda: Embedding("5", 3), "Embedding: vocab_size must be a positive integer, got '5'"),
                        (lambda: Dense(3, 0), "Dense: out_features must be a positive integer, got 0")):
        with pytest.raises(ValueError, match=words):
            make()
    d = Dense(3, 2)
    with pytest.raises(TypeError, match="x must be an array, got list"):
        d.forward(d.init(rng), [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="logits must have shape"):
        softmax_cross_entropy(np.float32(1.0), np.array(0))


def test_bool_lengths_are_refused_not_read_as_ones(rng):
    m = Model(ModelConfig(vocab_size=6, hidden_size=4, output_size=2), rng=rng)
    with pytest.raises(TypeError, match=r"lengths must be integers, got dtype bool \(a mask of real steps\?"):
        m.predict(np.array([[1, 2, 3], [2, 3, 0]]), lengths=np.array([True, True]))


@pytest.mark.parametrize("shape", [(2, 0), (0, 3)])
def test_empty_token_ids_are_refused_naming_the_ids_and_their_shape(shape):
    """Named by the ids the user gave, not by the embedded array they would have become."""
    m = Model(ModelConfig(vocab_size=5, embed_dim=4, hidden_size=8, output_size=2), rng=0)
    with pytest.raises(ValueError, match=rf"ids must hold at least one sequence of at least one step, got shape \({shape[0]}, {shape[1]}\)"):
        m.predict(np.zeros(shape, dtype=np.int64))


def test_seqdata_with_another_count_of_targets_than_sequences_is_refused_when_built():
    from bptt.train import SeqData, evaluate

    with pytest.raises(ValueError, match="ids holds 2 sequences but targets 1"):
        SeqData([np.array([1, 2]), np.array([3])], [0], "classify")
    m = Model(ModelConfig(vocab_size=5, embed_dim=4, hidden_size=8, output_size=2), rng=0)
    with pytest.raises(ValueError, match="data is tag data, which a model with head='many_to_one' cannot score"):
        evaluate(m, SeqData([np.array([1, 2])], [np.array([0, 1])], "tag"))
    m = Model(ModelConfig(vocab_size=5, embed_dim=4, hidden_size=8, output_size=2, head="many_to_many"), rng=0)
    with pytest.raises(ValueError, match="data is classify data, which a model with head='many_to_many' cannot score"):
        evaluate(m, SeqData([np.array([1, 2])], [1], "classify"))
