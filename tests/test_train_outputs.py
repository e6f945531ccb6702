"""bptt.train.train and evaluate with every output of ModelConfig: sigmoid (0/1 targets, one or more
per sequence or step) and mse (a regression), not only softmax class ids.

Before, train() assumed class ids: it died in its chance-level check on vector targets, and
SeqData cut float targets to int64 (0.37 -> 0), so a regression learned to answer 0."""

import numpy as np
import pytest

from bptt import Model, ModelConfig
from bptt.train import SeqData, TrainConfig, chance_accuracy, data_digest, evaluate, train


def _sums(n, lo, hi, seed):
    """Sequences of floats in [-1, 1], each labelled with its sum / 10 (many-to-one regression)."""
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1, 1, (int(rng.integers(lo, hi + 1)), 1)).astype(np.float32) for _ in range(n)]
    return SeqData(xs, [np.array([x.sum() / 10], np.float32) for x in xs], "classify")


def _sum_model(seed=0):
    return Model(ModelConfig(input_size=1, hidden_size=8, output_size=1, loss="mse", activation="identity"),
                 rng=np.random.default_rng(seed))


def test_a_regression_trains_on_its_float_targets():
    tr, va = _sums(600, 1, 10, 1), _sums(200, 1, 10, 2)
    y = np.array([t[0] for t in va.targets], np.float64)
    variance = float(y.var())  # the mse of answering the mean
    model = _sum_model()
    hist = train(model, tr, va, TrainConfig(epochs=15, lr=0.01), log=lambda *_: None, progress=False)
    m = evaluate(model, va)
    assert m["accuracy"] is None and m["correct"] is None  # a regression has no accuracy
    assert m["loss"] < 0.05 * variance, (m["loss"], variance)
    # the model ends as the one kept: the epoch of the lowest validation loss (a regression has no accuracy)
    assert hist[-1]["valid_accuracy"] is None and min(h["valid_loss"] for h in hist) == pytest.approx(m["loss"])
    # the loss is the mean squared error of the model's own outputs, each sequence run alone
    alone = [float(model.predict(x[None])[0, 0]) for x in va.ids]
    assert m["loss"] == pytest.approx(np.mean((np.array(alone) - y) ** 2), rel=1e-5)


def test_a_batch_keeps_float_targets_and_scalars_become_one_output():
    model = _sum_model()
    data = SeqData([np.zeros((2, 1), np.float32)] * 3, [0.37, np.float32(-2.5), np.array([1.25])], "classify")
    data.check(model)
    y = data.batch([0, 1, 2], model).y
    assert y.dtype == np.float32 and y.shape == (3, 1)
    np.testing.assert_array_equal(y[:, 0], np.array([0.37, -2.5, 1.25], np.float32))


def test_float64_sequences_train_a_float32_model_as_their_float32_copies():
    """np.random gives float64; a float32 model reads such data in its own dtype (it raised a dtype
    error that named neither the data nor the fix), exactly as if the user had cast it."""
    tr, va = _sums(64, 1, 6, 1), _sums(16, 1, 6, 2)
    wide = SeqData([x.astype(np.float64) for x in tr.ids], tr.targets, "classify")
    runs = []
    for data in (tr, wide):
        model = _sum_model()
        train(model, data, va, TrainConfig(epochs=2, lr=0.01), log=lambda *_: None, progress=False)
        runs.append(model.params)
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert wide.batch([0, 1], _sum_model()).x.dtype == np.float32


def test_token_ids_of_the_wrong_rank_are_named_by_shape():
    model = Model(ModelConfig(vocab_size=5, embed_dim=2, hidden_size=4, output_size=2), rng=np.random.default_rng(0))
    data = SeqData([np.array([2, 3]), np.array([[2, 3, 4]])], [0, 1], "classify")
    with pytest.raises(ValueError, match=r"train_data: sequences must be 1-D token ids \[T_i\] .* sequence 1 has "
                                         r"shape \(1, 3\)"):
        train(model, data, None, TrainConfig(epochs=1), log=lambda *_: None, progress=False)


def test_sigmoid_outputs_train_and_score_every_output():
    rng = np.random.default_rng(0)

    def which(n, lo, hi):  # 4 outputs: which of the tokens 2..5 the sequence holds
        ids = [rng.integers(2, 8, int(rng.integers(lo, hi + 1))) for _ in range(n)]
        return SeqData(ids, [np.array([(s == k).any() for k in range(2, 6)], np.float32) for s in ids], "classify")

    tr, va = which(800, 1, 8), which(200, 1, 8)
    model = Model(ModelConfig(vocab_size=8, embed_dim=8, hidden_size=24, output_size=4, loss="sigmoid", cell="gru"),
                  rng=np.random.default_rng(1))
    train(model, tr, va, TrainConfig(epochs=12, lr=0.01), log=lambda *_: None, progress=False)
    m = evaluate(model, va)
    # right = every one of the 4 outputs on its target's side of 1/2, from predict's probabilities
    right = [bool(((model.predict(s[None])[0] > 0.5) == (t > 0.5)).all()) for s, t in zip(va.ids, va.targets)]
    np.testing.assert_array_equal(m["correct"], right)
    assert m["accuracy"] == pytest.approx(np.mean(right)) and m["accuracy"] > 0.9


def test_tag_regression_counts_real_steps_only():
    rng = np.random.default_rng(3)
    ids = [rng.integers(2, 4, int(L)) for L in rng.integers(1, 9, 30)]
    data = SeqData(ids, [np.cumsum(s == 3).astype(np.float32) / 4 for s in ids], "tag")  # [T_i]: one output
    model = Model(ModelConfig(vocab_size=4, embed_dim=4, hidden_size=8, output_size=1, loss="mse",
                              head="many_to_many"), rng=np.random.default_rng(0))
    train(model, data, data, TrainConfig(epochs=2), log=lambda *_: None, progress=False)
    m = evaluate(model, data)
    assert m["token_accuracy"] is None and m["n_tokens"] == sum(len(s) for s in ids)
    err = np.concatenate([model.predict(s[None])[0, :, 0] - t for s, t in zip(ids, data.targets)])
    assert m["loss"] == pytest.approx(float(np.mean(err.astype(np.float64) ** 2)), rel=1e-5)


def test_mse_curriculum_advances_on_the_loss():
    lines = []
    train(_sum_model(), _sums(300, 1, 20, 4), _sums(50, 1, 20, 5), TrainConfig(epochs=12, curriculum=True),
          log=lines.append, progress=False)
    assert any(line.startswith("  curriculum: training R^2") for line in lines), lines


def test_chance_accuracy_of_sigmoid_targets_is_the_majority_of_each_output():
    d = SeqData([np.array([2])] * 4, [np.array(t, np.float32) for t in ([1, 0], [1, 1], [0, 0], [1, 0])], "classify")
    assert chance_accuracy(d, "sigmoid", 2) == 0.5  # always [1, 0]: rows 0 and 3
    assert chance_accuracy(d, "mse", 2) is None


@pytest.mark.parametrize("loss, K, targets, match", [
    ("mse", 1, [np.array([1.0, 2.0])], r"target of sequence 0 has shape \[2\].*output_size 1 needs \[1\]"),
    ("mse", 2, [0.5], r"target of sequence 0 has shape \[\].*needs \[2\]"),
    ("mse", 1, [float("nan")], "target of sequence 0 holds NaN or inf"),
    ("sigmoid", 2, [np.array([1.0, 2.0])], "holds 2.0; a sigmoid output's targets are 0 to 1"),
    ("sigmoid", 1, ["yes"], "must be numbers for loss='sigmoid'"),
])
def test_vector_targets_that_do_not_fit_are_refused_by_name(loss, K, targets, match):
    model = Model(ModelConfig(vocab_size=4, embed_dim=2, hidden_size=4, output_size=K, loss=loss),
                  rng=np.random.default_rng(0))
    data = SeqData([np.array([2, 3])], targets, "classify")
    with pytest.raises((ValueError, TypeError), match=match):
        train(model, data, None, TrainConfig(epochs=1), log=lambda *_: None, progress=False)


def test_tag_targets_of_another_length_are_refused():
    model = Model(ModelConfig(vocab_size=4, embed_dim=2, hidden_size=4, output_size=2, loss="sigmoid",
                              head="many_to_many"), rng=np.random.default_rng(0))
    data = SeqData([np.array([2, 3, 2])], [np.zeros((2, 2))], "tag")
    with pytest.raises(ValueError, match=r"has shape \[2, 2\].*needs \[3, 2\] \(steps, outputs\)"):
        data.check(model, "train_data")
    ragged = SeqData([np.array([2, 3])], [[[0, 1], [1]]], "tag")
    with pytest.raises(ValueError, match="target of sequence 0 is not a rectangular array of numbers"):
        ragged.check(model, "train_data")


def test_resume_digest_tells_float_data_apart():
    a = SeqData([np.array([[0.25], [0.5]], np.float32)], [np.array([0.1], np.float32)], "classify")
    b = SeqData([np.array([[0.75], [0.5]], np.float32)], [np.array([0.1], np.float32)], "classify")
    c = SeqData([np.array([[0.25], [0.5]], np.float32)], [np.array([0.3], np.float32)], "classify")
    assert len({data_digest(a), data_digest(b), data_digest(c)}) == 3  # (cut to int64 they were all one)


@pytest.mark.parametrize("call, err, match", [
    (lambda m, d: train(m, [([2, 3], 1)], None, TrainConfig(epochs=1)), TypeError,
     "train_data must be a bptt.train.SeqData .* got list"),
    (lambda m, d: train(m, d, d, {"epochs": 1}), TypeError, r"cfg must be a bptt.train.TrainConfig, got dict \(TrainConfig"),
    (lambda m, d: train(m, d, "valid.tsv", TrainConfig(epochs=1)), TypeError, "valid_data must be .* got str"),
    (lambda m, d: train(m.params, d, None, TrainConfig(epochs=1)), TypeError, "model must be a bptt.Model, got dict"),
    (lambda m, d: SeqData([np.array([2, 3])], [1], "classification"), ValueError, "task='classification' is not known"),
    (lambda m, d: SeqData("abc", [1], "classify"), TypeError, "ids must be a list .* got str"),
    (lambda m, d: evaluate(m, SeqData([], [], "classify")), ValueError, "data holds no sequences"),
])
def test_library_training_calls_that_cannot_work_are_refused_by_name(call, err, match):
    model = Model(ModelConfig(vocab_size=4, embed_dim=2, hidden_size=4, output_size=2), rng=np.random.default_rng(0))
    with pytest.raises(err, match=match):
        call(model, SeqData([np.array([2, 3])], [1], "classify"))


def test_vocab_and_labels_decode_what_they_encode():
    from bptt.data import Labels, Vocab

    v = Vocab.build([list("hello world")])
    ids = v.encode(list("low") + ["?"])
    assert v.decode(ids) == ["l", "o", "w", "<unk>"] and v.decode([]) == []
    assert "".join(v.decode(v.encode(list("hello")))) == "hello"
    with pytest.raises(ValueError, match=r"ids hold 99, outside this vocabulary's 0\.\.9"):
        v.decode([2, 99])
    with pytest.raises(TypeError, match="ids must be integer token ids, got dtype float64"):
        v.decode([2.0])
    labels = Labels.build(["pos", "neg", "pos"])
    assert [labels.decode(labels.encode(x)) for x in ("neg", "pos")] == ["neg", "pos"]
    assert labels.decode(np.int64(1)) == "pos"
    with pytest.raises(ValueError, match=r"class_id 2 is outside this label set's 0\.\.1"):
        labels.decode(2)


def test_per_class_figures_match_their_definitions():
    from bptt.train import per_class

    pc = per_class([[5, 1, 0], [2, 2, 0], [0, 0, 0]], ["a", "b", "c"])
    a, b, c = (pc["classes"][k] for k in "abc")
    assert (a["support"], a["predicted"], b["support"], b["predicted"]) == (6, 7, 4, 3)
    assert a["precision"] == pytest.approx(5 / 7) and a["recall"] == pytest.approx(5 / 6)
    assert a["f1"] == pytest.approx(10 / 13) and b["f1"] == pytest.approx(4 / 7)
    assert c == {"support": 0, "predicted": 0, "precision": None, "recall": None, "f1": 0.0}
    assert pc["macro_f1"] == pytest.approx((10 / 13 + 4 / 7) / 2)  # c neither occurs nor is predicted
    never = per_class([[3, 0], [2, 0]])  # class 1 occurs but is never predicted: precision None, F1 0, counted
    assert never["classes"]["1"]["precision"] is None and never["classes"]["1"]["f1"] == 0.0
    assert never["macro_f1"] == pytest.approx((2 * 0.6 * 1.0 / 1.6) / 2)


def test_tag_confusion_counts_real_steps_of_each_sequence_alone():
    rng = np.random.default_rng(5)
    ids = [rng.integers(2, 6, int(L)) for L in rng.integers(1, 12, 40)]
    tags = [(s % 3).astype(np.int64) for s in ids]
    model = Model(ModelConfig(vocab_size=6, embed_dim=4, hidden_size=8, output_size=3, head="many_to_many"),
                  rng=np.random.default_rng(2))
    m = evaluate(model, SeqData(ids, tags, "tag"))
    want = np.zeros((3, 3), np.int64)
    for s, t in zip(ids, tags):
        np.add.at(want, (t, model.predict(s[None])[0].argmax(-1)), 1)
    np.testing.assert_array_equal(m["confusion"], want)
    assert m["confusion"].sum() == sum(len(s) for s in ids)
    assert np.trace(want) / want.sum() == pytest.approx(m["token_accuracy"])


def test_the_pad_id_at_a_real_step_is_refused():
    """Token id 0 is the embedding's pad row, fixed at zero: a sequence numbered from 0, or passed with
    its padding, would silently learn nothing from that token."""
    from bptt.lm import TextStream

    model = Model(ModelConfig(vocab_size=4, embed_dim=2, hidden_size=4, output_size=2), rng=np.random.default_rng(0))
    data = SeqData([np.array([1, 2]), np.array([2, 3, 0, 0])], [0, 1], "classify")  # the second one padded
    with pytest.raises(ValueError, match="train_data: sequence 1 holds token id 0 at step 2: id 0 is the pad"):
        train(model, data, None, TrainConfig(epochs=1), log=lambda *_: None, progress=False)
    lm = Model(ModelConfig(vocab_size=4, embed_dim=2, hidden_size=4, output_size=4, head="many_to_many"),
               rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"train_data holds token id 0 \(at position 3\): id 0 is the pad"):
        train(lm, TextStream(np.array([1, 2, 3, 0] * 10), window=4), None, TrainConfig(epochs=1),
              log=lambda *_: None, progress=False)


def test_a_model_trained_in_python_is_read_by_the_command_line(tmp_path, capsys):
    from bptt.data import Labels, Vocab
    from conftest import run

    v, lab = Vocab.build([list("01")]), Labels.build(["even", "odd"])
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("01"), int(rng.integers(1, 6)))) for _ in range(200)]
    data = SeqData([v.encode(list(s)) for s in seqs], [lab.encode(["even", "odd"][s.count("1") % 2]) for s in seqs],
                   "classify")
    model = Model(ModelConfig(vocab_size=len(v), embed_dim=4, hidden_size=8, output_size=2), rng=rng)
    path = str(tmp_path / "py.bptt")
    train(model, data, None, TrainConfig(epochs=2), out=path, log=lambda *_: None, progress=False)
    rc, _, err = run(capsys, "predict", "--model", path, "0110")
    assert rc == 2 and "has no 'task'" in err and "meta={'task': 'classify', 'tag' or 'lm'" in err
    train(model, data, None, TrainConfig(epochs=2), out=path, log=lambda *_: None, progress=False,
          meta={"task": "classify", "vocab": v.tokens, "labels": lab.names, "tokenizer": "chars"})
    rc, out, _ = run(capsys, "predict", "--model", path, "0110", "1")
    from bptt import checkpoint
    p = checkpoint.load(path).model.predict(np.array([v.encode(list("0110"))]))[0]  # the best epoch's, as saved
    assert rc == 0 and out.split("\n")[0].split("\t")[0] == lab.names[int(np.argmax(p))]


def test_the_pad_id_refused_is_the_models_own():
    model = Model(ModelConfig(vocab_size=5, embed_dim=2, hidden_size=3, output_size=2, pad_id=4),
                  rng=np.random.default_rng(0))
    SeqData([np.array([0, 1, 2])], [1], "classify").check(model, "train_data")  # 0 is a token of this model
    with pytest.raises(ValueError, match="sequence 0 holds token id 4 at step 2: id 4 is the pad"):
        SeqData([np.array([0, 1, 4])], [1], "classify").check(model, "train_data")
