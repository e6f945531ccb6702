"""Gated cells through the whole tool (ModelConfig cell=, bptt train --cell): the model file keeps
the cell, an interrupted run resumes exactly, a language model carries the LSTM's h and c from
window to window and across a resume, and evaluate / predict / generate read the file."""

import json

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig, checkpoint
from conftest import run


@pytest.mark.parametrize("cell,task", [("gru", "classify"), ("lstm", "tag")])
def test_command_line_trains_resumes_and_reads_a_gated_model(tmp_path, capsys, cell, task):
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    kind = "parity" if task == "classify" else "reverse-string"
    run(capsys, "data", "make", kind, "--lengths", "1-8", "--n", "200", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", kind, "--lengths", "1-8", "--n", "60", "--seed", "2", "--out", str(va))
    common = ["train", "--data", str(tr), "--valid", str(va), "--task", task, "--cell", cell, "--bidirectional",
              "--hidden", "6", "--dropout", "0.1", "--epochs", "3", "--quiet", "--no-curriculum", "--stop-perfect", "0"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    rc, out, err = run(capsys, *common, "--out", str(a))
    assert rc == 0, err
    assert f"{cell.upper()} H=6, bidirectional" in out
    assert run(capsys, *common, "--out", str(b), "--max-steps", "7")[0] == 0
    other = "lstm" if cell == "gru" else "gru"
    rc, _, err = run(capsys, *[other if a == cell else a for a in common], "--out", str(b), "--resume")
    assert rc == 2 and f"another config (cell {cell!r} there, {other!r} here)" in err, err  # the one field named
    assert run(capsys, *common, "--out", str(b), "--resume")[0] == 0
    ca, cb = checkpoint.load(str(a) + ".last"), checkpoint.load(str(b) + ".last")
    assert ca.model.config.cell == cell
    G = 3 if cell == "gru" else 4
    assert ca.model.params["W_s_l0_reverse"].shape == (6 + ca.model.config.embed_dim, G * 6)
    assert ("b_hn_l0" in ca.model.params) == (cell == "gru")
    for k in ca.model.params:
        np.testing.assert_array_equal(ca.model.params[k], cb.model.params[k])
    rc, out, _ = run(capsys, "evaluate", "--model", str(a), "--data", str(va), "--json")
    assert rc == 0 and json.loads(out)["n"] == 60
    rc, out, err = run(capsys, "predict", "--model", str(a), "0110" if task == "classify" else "01==")
    assert rc == 0 and out.strip(), err


@pytest.mark.parametrize("layers", [1, 2])
def test_an_lstm_language_model_carries_h_and_c_and_resumes_exactly(tmp_path, capsys, layers):
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be, that is the question. " * 30)
    common = ["train", "--task", "lm", "--data", str(text), "--cell", "lstm", "--layers", str(layers), "--hidden", "8",
              "--window", "8", "--epochs", "2", "--quiet"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    assert run(capsys, *common, "--out", str(a))[0] == 0
    assert run(capsys, *common, "--out", str(b), "--max-steps", "5")[0] == 0
    carry = checkpoint.load(str(b) + ".last").opt_state["carry"]
    assert carry.shape[-1] == 16 and carry.shape[:-2] == ((2,) if layers == 2 else ())  # [.., streams, h and c]
    assert np.any(carry[..., 8:] != 0)  # c is carried, not only h
    assert run(capsys, *common, "--out", str(b), "--resume")[0] == 0
    pa, pb = checkpoint.load(str(a) + ".last").model.params, checkpoint.load(str(b) + ".last").model.params
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    rc, out, _ = run(capsys, "generate", "--model", str(a), "--prompt", "to be", "--length", "20", "--seed", "1")
    assert rc == 0 and len(out.strip()) >= 20


def test_a_carried_lstm_state_equals_reading_the_text_in_one_piece():
    """Two windows with the state [h, c] carried give the outputs of one window over both."""
    cfg = ModelConfig(vocab_size=9, embed_dim=4, hidden_size=5, output_size=9, head="many_to_many", cell="lstm",
                      num_layers=2, dtype="float64")
    m = Model(cfg, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).integers(1, 9, (3, 10))
    whole, _ = m.forward(x)
    first, c1 = m.forward(x[:, :4])
    second, _ = m.forward(x[:, 4:], s_init=c1["final"])
    assert c1["final"].shape == (2, 3, 10)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=0, atol=1e-13)
    loss, grads, s_T = m.loss_and_grads(Batch(x=x[:, 4:], y=x[:, 4:]), s_init=c1["final"], return_state=True)
    np.testing.assert_allclose(s_T, m.forward(x)[1]["final"], rtol=0, atol=1e-13)


def test_gated_settings_are_refused_by_name(tmp_path, capsys):
    tr = tmp_path / "tr.tsv"
    tr.write_text("0 1\t1\n1 1\t0\n")
    rc, _, err = run(capsys, "train", "--data", str(tr), "--task", "classify", "--cell", "lstm", "--activation", "relu",
                     "--out", str(tmp_path / "m"))
    assert rc == 2 and "--activation 'relu' is the tutorial cell's f_s; the lstm cell" in err
    with pytest.raises(SystemExit):
        run(capsys, "train", "--data", str(tr), "--task", "classify", "--cell", "rnn2", "--out", str(tmp_path / "m"))
    assert "invalid choice: 'rnn2'" in capsys.readouterr().err
    assert not list(tmp_path.glob("m*"))
