"""`bptt train --init MODEL`: a run that starts from a saved model's weights (fine-tuning, or going on
with other settings), with its task, vocabulary, labels and layers, and a fresh optimiser."""

import re

import numpy as np
import pytest

from bptt import checkpoint
from conftest import run


@pytest.fixture
def trained(tmp_path, capsys):
    """A small parity classifier trained on lengths 1-8, and more data of those lengths to go on with."""
    tr, more = tmp_path / "train.tsv", tmp_path / "more.tsv"
    assert run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "200", "--seed", "1", "--out", str(tr))[0] == 0
    assert run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "96", "--seed", "2", "--out", str(more))[0] == 0
    model = tmp_path / "a.bptt"
    rc, _, err = run(capsys, "train", "--data", str(tr), "--out", str(model), "--hidden", "8", "--epochs", "40",
                     "--no-curriculum", "--quiet", "--seed", "3", "--batch-size", "32")  # (its default, 4, learns
    # the 200 strings to a loss the log's 4 decimals no longer show, which the next test compares)
    assert rc == 0, err
    return model, more


def _epoch_losses(out):
    return [float(v) for v in re.findall(r"train loss (\S+)", out)]


def test_init_starts_from_the_models_weights(tmp_path, capsys, trained):
    model, more = trained
    a = checkpoint.load(str(model))
    rc, out, _ = run(capsys, "evaluate", "--model", str(model), "--data", str(more), "--json")
    assert rc == 0
    loss_a = float(re.search(r'"loss": ([0-9.e-]+)', out).group(1))
    assert loss_a < 0.6  # the model of --init has learned something (chance: ln 2 = 0.69)
    b = tmp_path / "b.bptt"
    # plain SGD at a rate of 1e-9: the weights move by about 1e-9, so the epoch's training loss is the
    # loss of the model of --init on that data, as bptt evaluate computes it
    rc, out, err = run(capsys, "train", "--init", str(model), "--data", str(more), "--out", str(b), "--epochs", "1",
                       "--optimizer", "sgd", "--lr", "1e-9", "--no-curriculum", "--quiet", "--seed", "9")
    assert rc == 0, err
    assert f"starting from the weights of {model}" in out
    assert _epoch_losses(out)[0] == pytest.approx(loss_a, rel=1e-3)
    kept = checkpoint.load(str(b))
    assert kept.model.config == a.model.config
    for key in ("task", "tokenizer", "vocab", "labels"):
        assert kept.meta[key] == a.meta[key]
    for k, v in a.model.params.items():
        np.testing.assert_allclose(kept.model.params[k], v, rtol=0, atol=1e-6)
    # without --init the same command starts from new weights, far from there
    c = tmp_path / "c.bptt"
    rc, out, _ = run(capsys, "train", "--data", str(more), "--out", str(c), "--epochs", "1", "--hidden", "8",
                     "--optimizer", "sgd", "--lr", "1e-9", "--no-curriculum", "--quiet", "--seed", "9")
    assert rc == 0 and abs(_epoch_losses(out)[0] - loss_a) > 0.1


def test_init_then_resume_is_exact(tmp_path, capsys, trained):
    model, more = trained
    common = ["train", "--init", str(model), "--data", str(more), "--epochs", "2", "--batch-size", "16",
              "--no-curriculum", "--quiet", "--seed", "4"]
    a, b = tmp_path / "a2.bptt", tmp_path / "b2.bptt"
    assert run(capsys, *common, "--out", str(a))[0] == 0
    assert run(capsys, *common, "--out", str(b), "--max-steps", "8")[0] == 0  # stops in epoch 2
    rc, out, err = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0 and "resuming at epoch 2" in out, err
    pa, pb = checkpoint.load(str(a) + ".last").model.params, checkpoint.load(str(b) + ".last").model.params
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])


@pytest.mark.parametrize("extra,named", [
    (["--hidden", "16"], "--hidden 16: the model of --init"),
    (["--cell", "gru"], "--cell gru: the model of --init"),
    (["--layers", "2"], "--layers 2: the model of --init"),
    (["--bidirectional"], "--bidirectional: the model of --init"),
    (["--learn-s0"], "--learn-s0: the model of --init"),
    (["--add-layer", "layer_norm@head:eps=0.001"], "--add-layer layer_norm@head:eps=0.001: the model of --init"),
    (["--task", "tag"], "--task tag: the model of --init"),
    (["--tokenize", "space"], "--tokenize space: the model of --init"),
    (["--min-count", "2"], "--min-count 2 and --init"),
    (["--restarts", "2"], "cannot be combined with --restarts"),
    (["--level", "word"], "--level: for language models"),  # a classify model: the language model's options are refused
])
def test_init_refuses_options_that_disagree_with_the_model(tmp_path, capsys, trained, extra, named):
    model, more = trained
    rc, _, err = run(capsys, "train", "--init", str(model), "--data", str(more), "--out", str(tmp_path / "x.bptt"),
                     *extra)
    assert rc == 2 and named in err, err
    assert not (tmp_path / "x.bptt").exists()


def test_init_refuses_what_it_cannot_read(tmp_path, capsys, trained):
    model, more = trained
    out = str(tmp_path / "x.bptt")
    bad = tmp_path / "labels.tsv"
    bad.write_text("0110\tmaybe\n")
    rc, _, err = run(capsys, "train", "--init", str(model), "--data", str(bad), "--out", out)
    assert rc == 2 and "label 'maybe'" in err
    fake = tmp_path / "fake.bptt"
    fake.write_text("not a model\n")
    rc, _, err = run(capsys, "train", "--init", str(fake), "--data", str(more), "--out", out)
    assert rc == 2 and "fake.bptt" in err and "not a bptt model" in err
    rc, _, err = run(capsys, "train", "--init", str(model), "--data", str(more), "--out", str(model))
    assert rc == 2 and "--init" in err and checkpoint.load(str(model))  # the model of --init is left whole


def test_init_language_model_keeps_its_vocabulary(tmp_path, capsys):
    rng = np.random.default_rng(0)
    words = ["the cat sat", "a dog ran", "on the mat", "to the park"]
    t1, t2 = tmp_path / "one.txt", tmp_path / "two.txt"
    t1.write_text("\n".join(rng.choice(words) for _ in range(300)) + "\n")
    t2.write_text("\n".join(rng.choice(words) for _ in range(100)).replace("c", "Z") + "\n")  # Z: unseen
    lm1, lm2 = tmp_path / "lm1.bptt", tmp_path / "lm2.bptt"
    assert run(capsys, "train", "--task", "lm", "--data", str(t1), "--out", str(lm1), "--hidden", "16",
               "--epochs", "8", "--quiet")[0] == 0
    rc, out, err = run(capsys, "train", "--init", str(lm1), "--data", str(t2), "--out", str(lm2), "--epochs", "1",
                       "--window", "16", "--quiet")
    assert rc == 0, err
    n_z = t2.read_text().count("Z")
    assert f"{n_z} token(s) not in the model's vocabulary were read as <unk>" in out
    a, b = checkpoint.load(str(lm1)), checkpoint.load(str(lm2))
    assert b.meta["vocab"] == a.meta["vocab"] and b.meta["level"] == "char" and b.meta["window"] == 16
    rc, _, err = run(capsys, "train", "--init", str(lm1), "--data", str(t2), "--out", str(lm2), "--level", "word")
    assert rc == 2 and "--level word" in err and "char-level" in err


def test_init_on_data_of_another_task_keeps_the_models_and_says_so(tmp_path, capsys, trained):
    """The model's task is kept (a classifier fine-tuned on tag data reads them as it can, or refuses
    them); without --task a note says what the data would be read as on their own, so that a wrong
    model file given as --init is seen.  Data of the model's own task get no note."""
    model, more = trained
    rc, out, _ = run(capsys, "train", "--init", str(model), "--data", str(more), "--out", str(tmp_path / "b.bptt"),
                     "--epochs", "1", "--quiet")
    assert rc == 0 and "read on its own is" not in out
    tags = tmp_path / "tags.tsv"
    tags.write_text("".join(f"{s}\t{' '.join(str(int(c) ^ 1) for c in s)}\n" for s in ("0110", "10", "111", "0")))
    rc, out, err = run(capsys, "train", "--init", str(model), "--data", str(tags), "--out", str(tmp_path / "c.bptt"),
                       "--epochs", "1", "--quiet")
    assert (f"note: {tags} read on its own is tag data (" in out and f"the model of --init {str(model)!r} is a "
            f"classify model, and its task is kept: is it the model meant?" in out), out
