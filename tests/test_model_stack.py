"""The model with stacked and bidirectional layers (ModelConfig num_layers / bidirectional, bptt train
--layers / --bidirectional): central differences through the whole model for every head, padding and
learned s0; a model file of release 0.1.0 still loads and predicts as it did; the command line trains,
resumes, evaluates, predicts and carries a stacked language model's state exactly."""

import json
import pathlib

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig, checkpoint, gradcheck
from conftest import run

DATA = pathlib.Path(__file__).parent / "data"


@pytest.mark.parametrize("layers,bi", [(1, True), (2, False), (2, True), (3, True)])
@pytest.mark.parametrize("head", ["many_to_one", "many_to_many"])
@pytest.mark.parametrize("pads", ["right", "start_and_middle"])
def test_model_gradients_against_central_differences(layers, bi, head, pads):
    rng = np.random.default_rng(layers * 10 + bi)
    m = Model(ModelConfig(vocab_size=9, embed_dim=3, hidden_size=4, output_size=3, num_layers=layers,
                          bidirectional=bi, head=head, learn_s0=True, dtype="float64"), rng=rng)
    for k, v in m.params.items():
        if k.startswith(("b_s", "s0")):
            m.params[k] = 0.3 * rng.standard_normal(v.shape)
    x = rng.integers(1, 9, (4, 6))
    y = rng.integers(0, 3, (4, 6)) if head == "many_to_many" else rng.integers(0, 3, 4)
    if pads == "right":
        batch = Batch(x=x, y=y, lengths=np.array([6, 2, 5, 1]))
    else:
        mask = np.array([[0, 1, 1, 0, 1, 1], [1, 0, 0, 1, 0, 1], [1] * 6, [0, 0, 1, 0, 0, 0]], bool)
        batch = Batch(x=x, y=y, mask=mask)
    report = gradcheck(m, batch, max_entries=40)
    assert max(report.values()) < 1e-6, report
    assert set(report) == set(m.params)


def test_a_model_file_of_release_0_1_0_still_loads_and_predicts_the_same():
    want = json.loads((DATA / "release-0.1.0-parity.json").read_text())
    ck = checkpoint.load(DATA / "release-0.1.0-parity.bptt")
    assert ck.model.config.num_layers == 1 and not ck.model.config.bidirectional
    assert sorted(ck.model.params) == ["E", "W_o", "W_s", "b_o", "b_s", "s0"]  # the tutorial's names
    p = ck.model.predict(np.array(want["x"]), lengths=np.array(want["lengths"]))
    np.testing.assert_allclose(p, want["probs"], rtol=0, atol=1e-7)


def test_command_line_with_a_bidirectional_stack(tmp_path, capsys):
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "200", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "60", "--seed", "2", "--out", str(va))
    common = ["train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--layers", "2", "--bidirectional",
              "--hidden", "6", "--dropout", "0.1", "--epochs", "3", "--quiet", "--no-curriculum", "--stop-perfect", "0",
              "--cell", "rnn"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    rc, out, _ = run(capsys, *common, "--out", str(a))
    assert rc == 0 and "H=6 x 2 layers, bidirectional" in out
    assert run(capsys, *common, "--out", str(b), "--max-steps", "10")[0] == 0
    assert run(capsys, *common, "--out", str(b), "--resume")[0] == 0
    pa, pb = checkpoint.load(str(a) + ".last").model.params, checkpoint.load(str(b) + ".last").model.params
    assert "W_s_l1_reverse" in pa and pa["W_s_l1"].shape == (6 + 12, 6) and pa["W_o"].shape == (12, 2)
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    rc, out, _ = run(capsys, "evaluate", "--model", str(a), "--data", str(va), "--json")
    assert rc == 0 and json.loads(out)["n"] == 60
    rc, out, _ = run(capsys, "predict", "--model", str(a), "0110")
    assert rc == 0 and out.split("\t")[0] in ("0", "1")


def test_a_stacked_language_model_carries_its_state_and_resumes_exactly(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be, that is the question. " * 30)
    common = ["train", "--task", "lm", "--data", str(text), "--layers", "2", "--hidden", "8", "--window", "8",
              "--epochs", "2", "--quiet", "--cell", "rnn"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    assert run(capsys, *common, "--out", str(a))[0] == 0
    assert run(capsys, *common, "--out", str(b), "--max-steps", "5")[0] == 0
    carry = checkpoint.load(str(b) + ".last").opt_state["carry"]
    assert carry.shape[0] == 2 and carry.shape[2] == 8  # [layers, streams, H]
    assert run(capsys, *common, "--out", str(b), "--resume")[0] == 0
    pa, pb = checkpoint.load(str(a) + ".last").model.params, checkpoint.load(str(b) + ".last").model.params
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    rc, out, _ = run(capsys, "generate", "--model", str(a), "--prompt", "to be", "--length", "20", "--seed", "1")
    assert rc == 0 and len(out.strip()) >= 20
    rc, _, err = run(capsys, "train", "--task", "lm", "--data", str(text), "--bidirectional", "--out", str(tmp_path / "c"))
    assert rc == 2 and "--bidirectional is for classify and tag models" in err


def test_bad_layer_settings_are_refused_by_name(tmp_path, capsys):
    with pytest.raises(ValueError, match="num_layers must be an integer 1..16, got 0"):
        ModelConfig(input_size=2, num_layers=0)
    with pytest.raises(ValueError, match="bidirectional must be True or False"):
        ModelConfig(input_size=2, bidirectional="yes")
    tr = tmp_path / "tr.tsv"
    tr.write_text("0 1\t1\n1 1\t0\n")
    rc, _, err = run(capsys, "train", "--data", str(tr), "--task", "classify", "--layers", "0", "--out", str(tmp_path / "m"))
    assert rc == 2 and "--layers must be an integer 1..16, got 0" in err
