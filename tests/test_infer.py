"""Model.infer: a long sequence run a chunk of steps at a time, each chunk starting from the state the one
before ended in, gives the outputs of one forward pass over the whole sequence (checked against forward,
float64, 1e-12) while keeping only a chunk's states; bptt predict and evaluate use it."""

import numpy as np
import pytest

from bptt import Model, ModelConfig
from conftest import run


def _model_and_line(kw, same_s0: bool):
    """A float64 model of ``kw`` with learned initial states away from zero (each direction its own unless
    ``same_s0``), and one sequence of 53 steps: ``(model, x [1, 53] or [1, 53, 3], 53)``."""
    cfg = dict(vocab_size=6, hidden_size=5, output_size=4, dtype="float64")
    cfg.update(kw)
    m = Model(ModelConfig(**cfg), rng=np.random.default_rng(0))
    for k in m.params:
        if k.startswith(("s0", "c0")):
            m.params[k][:] = np.random.default_rng(1 if same_s0 else len(k)).standard_normal(m.params[k].shape)
    rng = np.random.default_rng(2)
    T = 53
    x = rng.standard_normal((1, T, 3)) if cfg["vocab_size"] is None else rng.integers(1, 6, (1, T))
    return m, x, T


@pytest.mark.parametrize("kw", [
    dict(cell="rnn"),
    dict(cell="lstm", head="many_to_many", num_layers=2, learn_s0=True),
    dict(cell="gru", loss="mse", output_size=3, learn_s0=True),
    dict(cell="rnn", head="many_to_many", extra_layers=({"kind": "layer_norm", "at": "states"},)),
    dict(cell="lstm", input_size=3, vocab_size=None),
])
def test_a_long_sequence_a_chunk_at_a_time_equals_one_pass(kw, monkeypatch):
    m, x, T = _model_and_line(kw, same_s0=True)
    whole = m.forward(x)[0]
    monkeypatch.setattr(Model, "INFER_CHUNK", 7)
    seen = []
    real_forward = m.forward

    def spy(x, *a, **k):
        seen.append(int(x.shape[1]))
        return real_forward(x, *a, **k)

    monkeypatch.setattr(m, "forward", spy)
    assert m.chunked(x, np.array([T]))
    got = m.infer(x, np.array([T]))
    assert seen == [7] * 7 + [4]  # a chunk at a time
    assert got.shape == whole.shape
    np.testing.assert_allclose(got, whole, rtol=0, atol=1e-12)
    chunked = m.predict(x)
    monkeypatch.setattr(Model, "INFER_CHUNK", 1 << 16)
    np.testing.assert_allclose(chunked, m.predict(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kw", [
    dict(cell="rnn"),
    dict(cell="lstm", head="many_to_many", num_layers=2, learn_s0=True),
    dict(cell="gru", loss="mse", output_size=3, learn_s0=True),
    dict(cell="rnn", head="many_to_many", extra_layers=({"kind": "layer_norm", "at": "states"},)),
    dict(cell="rnn", extra_layers=({"kind": "layer_norm", "at": "states"},)),  # the head reads the real ends
    dict(cell="lstm", num_layers=3, input_size=3, vocab_size=None, learn_s0=True),
])
def test_a_long_sequence_through_both_directions_a_chunk_at_a_time_equals_one_pass(kw, monkeypatch):
    """A bidirectional model: each level's directions a chunk at a time, the reverse one from the last chunk
    back (each chunk starting where the one after it ended), against one forward pass over the whole
    sequence; a spy counts the chunks each direction of each level ran."""
    from bptt import recurrent

    m, x, T = _model_and_line(dict(kw, bidirectional=True), same_s0=False)
    whole = m.forward(x)[0]
    monkeypatch.setattr(Model, "INFER_CHUNK", 7)
    seen = []
    real = recurrent.forward

    def spy(params, part, *a, **k):
        seen.append(int(part.shape[1]))
        return real(params, part, *a, **k)

    monkeypatch.setattr(recurrent, "forward", spy)
    assert m.chunked(x, np.array([T]))
    got = m.infer(x, np.array([T]))
    level = [7] * 7 + [4] + [4] + [7] * 7  # forward, then reverse from the end
    if m.config.head == "many_to_many":  # the top level streamed into the head: forward to where each chunk
        top = [7] * 7 + [4, 4] + [7, 7] * 7  # starts, then from the end each chunk again beside its reverse
    else:
        top = level
    assert seen == level * (m.config.num_layers - 1) + top
    assert got.shape == whole.shape
    np.testing.assert_allclose(got, whole, rtol=0, atol=1e-12)
    chunked = m.predict(x)
    monkeypatch.setattr(Model, "INFER_CHUNK", 1 << 16)
    np.testing.assert_allclose(chunked, m.predict(x), rtol=0, atol=1e-12)


def test_what_is_not_chunked_runs_whole(monkeypatch):
    """Several rows, pads, or a sequence no longer than a chunk: one forward pass, as before."""
    monkeypatch.setattr(Model, "INFER_CHUNK", 7)
    x = np.random.default_rng(1).integers(1, 6, (2, 20))
    for bidirectional in (False, True):
        m = Model(ModelConfig(vocab_size=6, hidden_size=4, dtype="float64", bidirectional=bidirectional),
                  rng=np.random.default_rng(0))
        assert m.chunked(x[:1])
        assert not m.chunked(x) and not m.chunked(x[:1], np.array([15])) and not m.chunked(x[:1, :7])
        assert not m.chunked(x[:1], mask=np.ones((1, 20), bool))
        np.testing.assert_array_equal(m.infer(x), m.forward(x)[0])


def test_predict_and_evaluate_label_a_long_line_a_chunk_at_a_time(tmp_path, capsys, monkeypatch):
    """The command line: a tagger and a classifier label a line longer than a chunk as they label it whole."""
    rng = np.random.default_rng(0)
    lines = ["".join(rng.choice(list("ab"), int(rng.integers(2, 12)))) for _ in range(60)]
    (tmp_path / "tag.tsv").write_text("".join(f"{s}\t{' '.join('x' if c == 'a' else 'y' for c in s)}\n"
                                              for s in lines))
    (tmp_path / "cls.tsv").write_text("".join(f"{s}\t{s.count('a') % 2}\n" for s in lines))
    long = "".join(rng.choice(list("ab"), 301))
    (tmp_path / "long.txt").write_text(long + "\nab\n")
    (tmp_path / "long_cls.tsv").write_text(f"{long}\t{long.count('a') % 2}\nab\t1\n")
    outs = {}
    for task in ("tag", "cls"):
        rc, _, err = run(capsys, "train", "--data", str(tmp_path / f"{task}.tsv"), "--epochs", "2", "--quiet",
                         "--no-bidirectional" if task == "tag" else "--cell=gru", "--out", str(tmp_path / f"{task}.bptt"))
        assert rc == 0, err
        for chunk in (1 << 16, 13):
            monkeypatch.setattr(Model, "INFER_CHUNK", chunk)
            rc, out, err = run(capsys, "predict", "--model", str(tmp_path / f"{task}.bptt"),
                               "--data", str(tmp_path / "long.txt"))
            assert rc == 0, err
            outs[task, chunk] = out
            if task == "cls":
                rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "cls.bptt"), "--json",
                                   "--data", str(tmp_path / "long_cls.tsv"))
                assert rc == 0, err
                outs[task, chunk, "eval"] = out
    assert len(outs["tag", 13].split("\n")[0].split()) == 301
    assert outs["tag", 13] == outs["tag", 1 << 16] and outs["cls", 13] == outs["cls", 1 << 16]
    assert outs["cls", 13, "eval"] == outs["cls", 1 << 16, "eval"]


@pytest.mark.parametrize("kw, kept", [
    (dict(head="many_to_many"), 0),  # a tagger of one level: the top level streamed into the head
    (dict(head="many_to_many", num_layers=2, extra_layers=({"kind": "layer_norm", "at": "input"},)), 64),
    (dict(num_layers=3), 128),  # a classifier: two levels' states at once (the top gives its final states)
    (dict(extra_layers=({"kind": "layer_norm", "at": "states"},)), 0),  # the top's first and last steps alone
])
def test_a_long_line_keeps_what_infer_kept_floats_says_and_no_more(kw, kept, monkeypatch):
    """The peak of what Model.infer allocates for one long line (traced: NumPy reports its arrays to
    tracemalloc) is the kept floats of every step that infer_kept_floats counts, which bptt's memory check
    uses, plus a chunk's work and the outputs: a tagger of one bidirectional level keeps no step's states,
    neither the embedding's output nor the [1, T, 2H] states of both directions."""
    import tracemalloc

    monkeypatch.setattr(Model, "INFER_CHUNK", 1000)
    m = Model(ModelConfig(vocab_size=6, embed_dim=16, hidden_size=32, output_size=3, dtype="float64",
                          bidirectional=True, **kw), rng=np.random.default_rng(0))
    assert m.infer_kept_floats() == kept
    T = 40_000
    x = np.random.default_rng(1).integers(1, 6, (1, T))
    want = m.forward(x)[0]
    tracemalloc.start()
    try:
        got = m.infer(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    outputs = got.nbytes
    extra = peak - outputs - kept * T * 8  # a chunk's work (1000 steps), and what is not a step's
    assert peak >= kept * T * 8 and extra < 8 * 1000 * 64 * 12, (peak, outputs, kept * T * 8)
