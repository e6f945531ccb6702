"""A run whose loss or gradient stops being finite ends with one clear error (Diverged), before the
bad step reaches the weights, with the best model of the finished epochs kept; restarts skip it.
Weights that are not finite, and data that do not fit the model, are refused by name before any step."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from bptt import Model, ModelConfig, checkpoint
from bptt.data import Example, Labels, Vocab, encode
from bptt.tasks import make
from bptt.train import Diverged, SeqData, TrainConfig, train


def _setup(seed=0):
    rows = make("parity", (1, 10), 64, 3)
    ex = [Example(list(s), t, i + 1) for i, (s, t) in enumerate(rows)]
    vocab, labels = Vocab.build(e.tokens for e in ex), Labels.build(e.target for e in ex)
    data = SeqData(*encode(ex, vocab, labels, "classify"), "classify")
    model = Model(ModelConfig(vocab_size=len(vocab), embed_dim=4, hidden_size=8, output_size=len(labels)),
                  rng=np.random.default_rng(seed))
    return data, model


def _poison(data, at_call, what):
    """Make the ``at_call``-th training step (1-based) return a NaN loss or an inf gradient."""
    inner, calls = data.train_step, [0]

    def step(*a, **k):
        loss, grads, carry, n, t = inner(*a, **k)
        calls[0] += 1
        if calls[0] == at_call:
            if what == "loss":
                loss = loss * np.nan
            else:
                grads = dict(grads, W_o=grads["W_o"] * np.inf)
        return loss, grads, carry, n, t

    data.train_step = step


@pytest.mark.parametrize("what, clip, message", [("loss", 5.0, "the loss is nan"),
                                                 ("grad", 5.0, "the gradient's norm is inf"),
                                                 ("grad", 0.0, "the gradient's norm is inf")])
def test_a_bad_step_stops_the_run_before_it_reaches_the_weights(tmp_path, what, clip, message):
    cfg = TrainConfig(lr=0.05, clip=clip, batch_size=16, epochs=5)  # 4 batches an epoch
    data, model = _setup()
    _poison(data, 6, what)  # epoch 2, batch 2
    out = str(tmp_path / "m.bptt")
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning on the way
        with pytest.raises(Diverged, match=rf"at step 6 \(epoch 2\): {message}, and the weights are as they were"):
            train(model, data, data, cfg, out=out, log=lines.append, progress=False)
    # the weights are those after 5 updates, exactly
    data2, model2 = _setup()  # (its state file holds them: the model itself ends as the one kept, epoch 1's)
    out2 = str(tmp_path / "m2.bptt")
    train(model2, data2, data2, TrainConfig(lr=0.05, clip=clip, batch_size=16, epochs=5, max_steps=5),
          out=out2, log=lambda s: None, progress=False)
    after5 = checkpoint.load(out2 + ".last").model.params
    for k in model.params:
        np.testing.assert_array_equal(model.params[k], after5[k], err_msg=k)
    # epoch 1's model (the best so far) and state were saved, and are whole
    data3, model3 = _setup()
    train(model3, data3, data3, TrainConfig(lr=0.05, clip=clip, batch_size=16, epochs=1), log=lambda s: None,
          progress=False)
    saved = checkpoint.load(out).model.params
    for k in saved:
        np.testing.assert_array_equal(saved[k], model3.params[k], err_msg=k)
    assert checkpoint.load(out + ".last").meta["train_state"]["epoch"] == 1


def test_found_by_the_epoch_sum_where_a_step_is_not_read_back(monkeypatch, tmp_path):
    """On a GPU the loss is not read back every step: the epoch's sum finds it when shown."""
    import bptt.train as T
    monkeypatch.setattr(T, "is_numpy", lambda xp: False)
    data, model = _setup()
    _poison(data, 2, "loss")
    with pytest.raises(Diverged, match=r"by step 4 \(epoch 1\): the epoch's training loss is nan, and the "
                                       r"weights are no longer finite.*no epoch had finished"):
        train(model, data, None, TrainConfig(lr=0.05, batch_size=16, epochs=2), out=str(tmp_path / "m.bptt"),
              log=lambda s: None, progress=False)


def _cli(tmp_path, *extra):
    for name, seed in (("tr.tsv", 0), ("va.tsv", 1)):
        subprocess.run([sys.executable, "-m", "bptt", "data", "make", "parity", "--lengths", "1-12", "--n", "80",
                        "--seed", str(seed), "--out", str(tmp_path / name)], check=True, capture_output=True)
    return subprocess.run([sys.executable, "-m", "bptt", "train", "--data", "tr.tsv", "--valid", "va.tsv", "--out",
                           "m.bptt", "--cell", "rnn", "--activation", "relu", "--lr", "1e30", "--optimizer", "sgd",
                           "--clip", "0", "--epochs", "2", "--no-curriculum", *extra],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_the_command_line_says_so_in_one_line(tmp_path):
    r = _cli(tmp_path)
    assert r.returncode == 2
    assert "bptt train: error: training diverged at step" in r.stderr
    assert "--lr, now 1e+30" in r.stderr and "--clip 1, the default; now off" in r.stderr
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["tr.tsv", "va.tsv"]  # nothing half-made left


def test_restarts_that_all_diverge_leave_no_files(tmp_path):
    r = _cli(tmp_path, "--restarts", "2")
    assert r.returncode == 2
    assert "every run (2) diverged before it finished an epoch" in r.stderr
    assert r.stdout.count("no epoch finished") == 2
    assert sorted(os.listdir(tmp_path)) == ["tr.tsv", "va.tsv"]


@pytest.mark.parametrize("config, name", [
    (dict(vocab_size=5, embed_dim=3, hidden_size=4, output_size=2), "E"),
    (dict(vocab_size=5, embed_dim=3, hidden_size=4, output_size=2, num_layers=2), "W_s_l0"),
    (dict(input_size=2, hidden_size=4, output_size=2, cell="lstm"), "W_o"),
])
def test_a_model_whose_weights_are_not_finite_is_named_not_its_input(config, name):
    """Before, NaN weights gave "x contains NaN or inf values" (blaming the caller's data) or NaN outputs."""
    from bptt import Batch
    m = Model(ModelConfig(**config), rng=np.random.default_rng(0))
    m.params[name].flat[0] = np.inf
    x = np.ones((2, 3), int) if "vocab_size" in config else np.ones((2, 3, 2), np.float32)
    for call in (lambda: m.forward(x), lambda: m.predict(x), lambda: m.loss_and_grads(Batch(x=x, y=np.array([0, 1])))):
        with pytest.raises(ValueError, match=rf"params \['{name}'\] hold NaN or inf"):
            call()
    m.params[name].flat[0] = 0.0
    m.forward(x)


def _vocab_model(head="many_to_one", out=2, **kw):
    return Model(ModelConfig(vocab_size=5, hidden_size=4, output_size=out, head=head, **kw),
                 rng=np.random.default_rng(0))


_ONE = [np.array([1, 2, 3])] * 4


@pytest.mark.parametrize("make, error, match", [
    # targets outside the outputs used to train silently: with the steps' checks off, no class matched them
    (lambda: (_vocab_model(), SeqData(_ONE, np.full(4, 5), "classify")), ValueError,
     r"train_data: target of sequence 0 holds class id 5, outside the model's outputs 0..1"),
    (lambda: (_vocab_model(), SeqData(_ONE, np.array([0, 1, 0, -1]), "classify")), ValueError,
     r"target of sequence 3 holds class id -1"),
    (lambda: (_vocab_model(), SeqData(_ONE, np.full(4, 0.5), "classify")), TypeError,
     r"targets must be integer class ids, got dtype float64"),
    (lambda: (_vocab_model(), SeqData(_ONE[:3] + [np.array([1, 9])], np.zeros(4, int), "classify")), ValueError,
     r"train_data: sequence 3 holds token id 9, outside the model's vocabulary 0..4"),
    (lambda: (_vocab_model(), SeqData(_ONE, [np.array([0, 1, 1])] * 4, "tag")), ValueError,
     r"train_data is tag data, which a model with head='many_to_one' cannot learn"),
    (lambda: (_vocab_model("many_to_many"), SeqData(_ONE, [np.array([0, 1, 1])] * 3 + [np.array([0, 1])], "tag")),
     ValueError, r"train_data: sequence 3 has 3 steps but 2 tags"),
    (lambda: (_vocab_model("many_to_many"), SeqData(_ONE, [np.array([0, 1, 1])] * 3 + [np.array([0, 1, 2])], "tag")),
     ValueError, r"target of sequence 3 holds class id 2"),
    (lambda: (Model(ModelConfig(input_size=2, hidden_size=4, output_size=2), rng=np.random.default_rng(0)),
              SeqData([np.ones((3, 2), np.float32)] * 3 + [np.full((3, 2), np.nan, np.float32)], np.zeros(4, int),
                      "classify")), ValueError, r"train_data: sequence 3 holds NaN or inf"),
])
def test_train_refuses_data_that_do_not_fit_the_model(make, error, match):
    model, data = make()
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(error, match=match):
        train(model, data, None, TrainConfig(epochs=1), log=lambda s: None, progress=False)
    assert all(np.array_equal(before[k], model.params[k]) for k in before)


@pytest.mark.parametrize("bad", [7, -1])
def test_a_text_with_ids_outside_the_model_is_refused(bad):
    """An id that only appears as a target used to train silently (its row matched no class)."""
    from bptt.lm import TextStream
    ids = np.array([1, 2, 3, 4] * 25 + [bad])
    model = _vocab_model("many_to_many", out=5)
    with pytest.raises(ValueError, match=rf"valid_data holds token id {bad} \(at position 100\), outside 0..4"):
        train(model, TextStream(ids[:100], window=8), TextStream(ids, window=8), TrainConfig(epochs=1),
              log=lambda s: None, progress=False)
    with pytest.raises(TypeError, match="ids must be integer token ids, got dtype float64"):
        TextStream(np.ones(30), window=4)


def test_train_config_and_frozen_names_are_checked():
    with pytest.raises(ValueError, match="lr must be a number, got '0.1'"):
        TrainConfig(lr="0.1")
    assert TrainConfig(frozen="E").frozen == ("E",)  # one name, not its letters
    with pytest.raises(ValueError, match=r"frozen must be parameter names \(str\)"):
        TrainConfig(frozen=[1])
    data, model = _setup()
    with pytest.raises(ValueError, match=r"frozen names \['W_x'\], which are not parameters of this model"):
        train(model, data, None, TrainConfig(frozen=("W_x",)), log=lambda s: None, progress=False)
