"""Every command on tiny data, the file formats, and the bad-input paths."""

import json
import os

import numpy as np
import pytest

from bptt import ModelConfig, checkpoint
from bptt.cli import main
from conftest import run


@pytest.fixture
def parity(tmp_path, capsys):
    tr, te = tmp_path / "train.tsv", tmp_path / "test.tsv"
    assert run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "300", "--seed", "1", "--out", str(tr))[0] == 0
    assert run(capsys, "data", "make", "parity", "--lengths", "9-30", "--n", "100", "--seed", "2", "--out", str(te))[0] == 0
    return tr, te


def test_data_make_writes_header_and_is_reproducible(tmp_path, capsys):
    rc, out, _ = run(capsys, "data", "make", "addition", "--lengths", "2-3", "--n", "5", "--seed", "4")
    assert rc == 0
    lines = out.strip().split("\n")
    assert lines[0] == "text\tlabel" and len(lines) == 6
    for line in lines[1:]:
        pairs, digits = line.split("\t")
        pairs, digits = pairs.split(), digits.split()
        a = int("".join(p[0] for p in reversed(pairs)))
        b = int("".join(p[1] for p in reversed(pairs)))
        assert int("".join(reversed(digits))) == a + b  # the target really is the sum
    assert run(capsys, "data", "make", "addition", "--lengths", "2-3", "--n", "5", "--seed", "4")[1] == out
    rc, _, err = run(capsys, "data", "make", "parity", "--lengths", "5-2", "--n", "5")
    assert rc == 2 and "lengths='5-2'" in err and err.startswith("bptt data make: error: ")  # its own command


def test_out_dash_is_standard_output_for_data_and_refused_for_files(tmp_path, capsys, monkeypatch):
    """`--out -` is standard output for bptt data make (it wrote a file named '-'); where the output is
    a file (a model, a plot, an export), '-' is refused by name instead of creating a file '-'."""
    monkeypatch.chdir(tmp_path)
    rc, out, _ = run(capsys, "data", "make", "dyck1", "--lengths", "4", "--n", "6", "--seed", "1", "--out", "-")
    assert rc == 0 and out == run(capsys, "data", "make", "dyck1", "--lengths", "4", "--n", "6", "--seed", "1")[1]
    assert out.startswith("text\tlabel\n") and len(out.splitlines()) == 7 and not os.path.exists("-")
    tr = tmp_path / "t.tsv"
    tr.write_text(out)
    rc, out, err = run(capsys, "train", "--data", str(tr), "--out", "-", "--epochs", "1", "--quiet")
    assert rc == 2 and "--out '-': this output is a file, not standard output" in err and not os.path.exists("-")


def _reference_probs(model_path, tokens):
    """The label probabilities after each step of one sequence, from the weights in a model file, with
    the tutorial's equations written out (embedding, s^t = tanh([s^{t-1}, i^t] W_s + b_s), softmax of
    s^t W_o + b_o), or the LSTM's (torch.nn.LSTM's, on the same [s^{t-1}, i^t] @ W_s + b_s), in float64: [T, O].
    For a bidirectional layer (W_s_l0, W_s_l0_reverse) the reverse recurrence reads the tokens from the
    last back to the first, and the output layer reads [forward s^t, reverse s^t] at each step t."""
    ck = checkpoint.load(model_path)
    p = {k: np.asarray(v, np.float64) for k, v in ck.model.params.items()}
    index = {t: i for i, t in enumerate(ck.meta["vocab"])}
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    inputs = [p["E"][index.get(tok, index["<unk>"])] for tok in tokens]

    def recur(W, b, s0, c0, xs):
        H = W.shape[1] // (4 if ck.model.config.cell == "lstm" else 1)
        s = np.zeros(H) if s0 is None else s0
        c = np.zeros(H) if c0 is None else c0
        states = []
        for i in xs:
            a = np.concatenate([s, i]) @ W + b
            if ck.model.config.cell == "lstm":  # torch.nn.LSTM's gates i, f, g, o, in that order
                c = sig(a[H:2 * H]) * c + sig(a[:H]) * np.tanh(a[2 * H:3 * H])
                s = sig(a[3 * H:]) * np.tanh(c)
            else:
                assert ck.model.config.cell == "rnn"
                s = np.tanh(a)
            states.append(s)
        return states

    if "W_s" in p:  # one layer, one direction: the tutorial's names
        states = recur(p["W_s"], p["b_s"], p.get("s0"), p.get("c0"), inputs)
    else:
        assert ck.model.config.num_layers == 1 and set(k for k in p if k.startswith("W_s")) <= {"W_s_l0", "W_s_l0_reverse"}
        states = recur(p["W_s_l0"], p["b_s_l0"], p.get("s0_l0"), p.get("c0_l0"), inputs)
        if "W_s_l0_reverse" in p:
            back = recur(p["W_s_l0_reverse"], p["b_s_l0_reverse"], p.get("s0_l0_reverse"), p.get("c0_l0_reverse"),
                       inputs[::-1])[::-1]
            states = [np.concatenate([f, r]) for f, r in zip(states, back)]
    out = []
    for s in states:
        z = s @ p["W_o"] + p["b_o"]
        out.append(np.exp(z - z.max()) / np.exp(z - z.max()).sum())
    return np.array(out)


def test_train_evaluate_predict_classify(tmp_path, capsys, parity):
    tr, te = parity
    model = tmp_path / "p.bptt"
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--valid", str(tr), "--task", "classify", "--chars",
                     "--out", str(model), "--epochs", "3", "--hidden", "8", "--quiet", "--plot", str(tmp_path / "c.png"))
    assert rc == 0 and "best model saved" in out and "epoch 3" in out
    assert "cell lstm (" in out and checkpoint.load(model).model.config.cell == "lstm"  # the default for symbols
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "p.bptt.metrics.csv").read_text().count("\n") == 4
    rc, out, _ = run(capsys, "evaluate", "--model", str(model), "--data", str(te), "--json", "--by-length",
                     "--plot", str(tmp_path / "acc.png"))
    res = json.loads(out)  # stdout is one JSON object and nothing else
    # against a forward pass written out here, a step at a time, from the saved weights
    rows = [line.split("\t") for line in te.read_text().splitlines() if line and not line.startswith("text")]
    probs = [_reference_probs(model, list(s))[-1] for s, _ in rows]
    ck = checkpoint.load(model)
    right = [ck.meta["labels"][int(np.argmax(p))] == y for p, (_, y) in zip(probs, rows)]
    assert res["n"] == 100 and res["accuracy"] == pytest.approx(np.mean(right), abs=1e-12)
    assert "token_accuracy" not in res
    for length, v in res["by_length"].items():
        mine = [r for r, (s, _) in zip(right, rows) if len(s) == int(length)]
        assert v["n"] == len(mine) and v["accuracy"] == pytest.approx(np.mean(mine), abs=1e-12)
    assert sum(v["n"] for v in res["by_length"].values()) == 100
    assert (tmp_path / "acc.png").exists()
    # the confusion matrix and per-label figures, against the reference forward's predictions
    names = ck.meta["labels"]
    pred = [names[int(np.argmax(p))] for p in probs]
    cm = [[sum(1 for q, (_, y) in zip(pred, rows) if y == t and q == u) for u in names] for t in names]
    assert res["confusion"] == cm
    for k, name in enumerate(names):
        c = res["per_class"][name]
        assert c["support"] == sum(cm[k]) and c["predicted"] == sum(r[k] for r in cm)
        if c["predicted"]:
            assert c["precision"] == pytest.approx(cm[k][k] / c["predicted"])
        assert c["recall"] == pytest.approx(cm[k][k] / c["support"])
    rc, out, _ = run(capsys, "evaluate", "--model", str(model), "--data", str(te), "--per-class")
    assert rc == 0 and "macro F1" in out and "confusion (rows: true label, columns: predicted)" in out
    table = out.split("\n")
    at = next(i for i, line in enumerate(table) if line.split()[:2] == ["label", "support"])
    assert table[at + 1].split()[:2] == [names[0], str(sum(cm[0]))]  # the table's first label and support
    rc, out, _ = run(capsys, "evaluate", "--model", str(model), "--data", str(te), "--by-length")
    assert "length" in out and "accuracy" in out
    rc, out, _ = run(capsys, "predict", "--model", str(model), "0110", "1")
    labels = [line.split("\t") for line in out.strip().split("\n")]
    assert len(labels) == 2
    for (lab, p), text in zip(labels, ("0110", "1")):
        ref = _reference_probs(model, list(text))[-1]
        assert lab == ck.meta["labels"][int(np.argmax(ref))] and float(p) == pytest.approx(ref.max(), abs=5e-5)
    rc, out, err = run(capsys, "predict", "--model", str(model), "0110", "0120x2")  # '2' and 'x' are unknown
    assert rc == 0 and len(out.strip().split("\n")) == 2  # stdout: the results, one line per text
    assert "text 1" not in err
    assert "note: text 2 '0120x2': 3 token(s) not in the model's vocabulary were read as <unk>: '2', 'x'" in err


def test_evaluate_counts_labels_unseen_in_training_as_wrong(tmp_path, capsys, parity):
    """A test file with a few labels the training file lacked: they are wrong (the model has no output
    for them), the loss is over the other lines, --per-class shows their rows; the figures from the
    weights' equations.  A tagger's unseen tags count per token."""
    tr, _ = parity
    model = tmp_path / "p.bptt"
    run(capsys, "train", "--data", str(tr), "--task", "classify", "--chars", "--out", str(model), "--epochs", "1",
        "--quiet", "--cell", "rnn")
    rows = [("0110", "0"), ("0101", "maybe"), ("111", "1"), ("1", "1"), ("00", "0"), ("10", "2"), ("011", "2")]
    t = tmp_path / "t.tsv"
    t.write_text("".join(f"{s}\t{y}\n" for s, y in rows))
    rc, out, _ = run(capsys, "evaluate", "--model", str(model), "--data", str(t), "--json")
    res = json.loads(out)
    names = checkpoint.load(model).meta["labels"]
    probs = [_reference_probs(model, list(s))[-1] for s, _ in rows]
    known = [(p, names.index(y)) for p, (_, y) in zip(probs, rows) if y in names]
    assert res["n"] == 7 and res["n_loss"] == 4 and res["unseen_labels"] == {"2": 2, "maybe": 1}
    assert res["accuracy"] == pytest.approx(sum(int(np.argmax(p)) == k for p, k in known) / 7, abs=1e-12)
    assert res["loss"] == pytest.approx(np.mean([-np.log(p[k]) for p, k in known]), rel=1e-5)
    assert list(res["per_class"]) == ["0", "1", "2", "maybe"] and res["per_class"]["2"]["recall"] == 0
    assert res["per_class"]["2"]["precision"] is None and np.asarray(res["confusion"])[:, 2:].sum() == 0
    assert np.asarray(res["confusion"]).sum() == 7
    rc, out, _ = run(capsys, "evaluate", "--model", str(model), "--data", str(t), "--per-class")
    assert rc == 0 and ("3 sequence(s) carry labels the model never saw in training, counted as wrong (it cannot "
                        "predict them): '2' (2), 'maybe' (1); the loss is the mean over the other 4") in out
    assert "maybe" in out.split("confusion")[1]
    # a tagger: unseen tags are wrong tokens, outside the loss
    add = tmp_path / "add.tsv"
    run(capsys, "data", "make", "addition", "--lengths", "1-3", "--n", "200", "--out", str(add))
    tagger = tmp_path / "a.bptt"
    run(capsys, "train", "--data", str(add), "--task", "tag", "--out", str(tagger), "--epochs", "1", "--quiet",
        "--cell", "rnn")
    tags = checkpoint.load(tagger).meta["labels"]
    lines = [("37 20 00", "7 5 0"), ("11 00", "2 Z"), ("45 21", "9 3")]
    t2 = tmp_path / "t2.tsv"
    t2.write_text("".join(f"{s}\t{y}\n" for s, y in lines))
    rc, out, _ = run(capsys, "evaluate", "--model", str(tagger), "--data", str(t2), "--json")
    res = json.loads(out)
    hits, nll = [], []
    for s, y in lines:
        p = _reference_probs(tagger, s.split())
        for step, tag in zip(p, y.split()):
            hits.append(tag in tags and int(np.argmax(step)) == tags.index(tag))
            if tag in tags:
                nll.append(-np.log(step[tags.index(tag)]))
    assert res["unseen_labels"] == {"Z": 1} and res["n_loss"] == 6 and not res["per_class"]["Z"]["recall"]
    assert res["token_accuracy"] == pytest.approx(np.mean(hits), abs=1e-12)
    assert res["loss"] == pytest.approx(np.mean(nll), rel=1e-5)
    assert res["accuracy"] <= 2 / 3


def test_a_tagger_of_one_tag_answers_only_that_tag(tmp_path, capsys):
    """A tagger trained on a file of one tag has two output units (a softmax needs two), the second
    naming no label.  Before, predict failed with an IndexError when that unit won, and evaluate with a
    KeyError when the test file held another tag (given the second unit's id).  Here the second unit
    is made to win (its bias raised in the file): predict still answers the one tag, and evaluate
    counts a tag never seen as wrong, reporting no row for the unit.  A classifier's file of one label
    is refused by name."""
    tr = tmp_path / "one.tsv"
    tr.write_text("text\tlabel\n" + "".join(f"{s}\t{' '.join('X' * len(s.split()))}\n"
                                            for s in ("a b", "b a a", "a", "b b a b")))
    model = tmp_path / "one.bptt"
    rc, _, _ = run(capsys, "train", "--data", str(tr), "--task", "tag", "--out", str(model), "--epochs", "2",
                   "--quiet", "--cell", "rnn")
    ck = checkpoint.load(model)
    assert rc == 0 and ck.meta["labels"] == ["X"] and ck.model.config.output_size == 2
    ck.model.params["b_o"][1] = 50.0  # the unit without a label now wins every step
    checkpoint.save(model, ck.model, meta=ck.meta)
    rc, out, err = run(capsys, "predict", "--model", str(model), "a b b a", "b")
    assert rc == 0 and out.splitlines() == ["X X X X", "X"] and "Traceback" not in err
    test = tmp_path / "t.tsv"
    test.write_text("text\tlabel\na b\tX Y\nb\tX\n")
    rc, out, err = run(capsys, "evaluate", "--model", str(model), "--data", str(test), "--json")
    res = json.loads(out)
    assert rc == 0 and res["unseen_labels"] == {"Y": 1} and res["n_loss"] == 2
    assert res["token_accuracy"] == pytest.approx(2 / 3) and res["accuracy"] == pytest.approx(1 / 2)
    assert list(res["per_class"]) == ["X", "Y"] and res["confusion"] == [[2, 0], [1, 0]]
    assert res["loss"] == pytest.approx(0.0, abs=1e-6)  # the one tag has all the probability there is
    other = tmp_path / "o.tsv"
    other.write_text("text\tlabel\na b\tY Z\n")  # most of its tags unseen: the wrong file, named
    rc, out, err = run(capsys, "evaluate", "--model", str(model), "--data", str(other))
    assert rc == 2 and "label 'Y' was not seen in training (known: 'X')" in err
    # a classifier's model file that names one label
    cls = tmp_path / "c.bptt"
    par = tmp_path / "p.tsv"
    par.write_text("".join(f"{s}\t{s.count('1') % 2}\n" for s in ("0", "1", "01", "11", "110", "0111")))
    run(capsys, "train", "--data", str(par), "--task", "classify", "--chars", "--out", str(cls), "--epochs", "1",
        "--quiet", "--cell", "rnn")
    ck = checkpoint.load(cls)
    checkpoint.save(cls, ck.model, meta={**ck.meta, "labels": ["0"]})
    rc, out, err = run(capsys, "predict", "--model", str(cls), "0110")
    assert rc == 2 and not out and "labels has 1 name ('0') but a classifier needs at least 2" in err


def test_tag_task_and_token_accuracy(tmp_path, capsys, monkeypatch):
    import io
    tr = tmp_path / "add.tsv"
    run(capsys, "data", "make", "addition", "--lengths", "1-3", "--n", "200", "--out", str(tr))
    model = tmp_path / "a.bptt"
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--task", "tag", "--out", str(model), "--epochs", "2",
                     "--quiet", "--cell", "rnn")
    assert rc == 0 and "bidirectional (tags of symbols: a tag may depend on the tokens after it" in out
    assert checkpoint.load(model).model.config.bidirectional  # the default for tags of symbols
    rc, out, _ = run(capsys, "evaluate", "--model", str(model), "--data", str(tr), "--json")
    res = json.loads(out)
    names = checkpoint.load(model).meta["labels"]
    rows = [line.split("\t") for line in tr.read_text().splitlines()[1:]]
    hits = [np.equal([names[int(k)] for k in np.argmax(_reference_probs(model, s.split()), -1)], t.split())
            for s, t in rows]
    assert res["accuracy"] == pytest.approx(np.mean([h.all() for h in hits]), abs=1e-12)
    assert res["token_accuracy"] == pytest.approx(np.concatenate(hits).mean(), abs=1e-12)
    monkeypatch.setattr("sys.stdin", io.StringIO("37 20 00\n11 00\n"))
    rc, out, _ = run(capsys, "predict", "--model", str(model))
    lines = out.strip().split("\n")
    assert [len(line.split()) for line in lines] == [3, 2]


def test_predict_reads_stdin_in_batches_line_for_line(tmp_path, capsys, monkeypatch, parity):
    """Lines of many lengths, more than one batch of them, CR LF endings and empty lines: line k of the
    output is line k's label, as the model gives it to that line alone (the weights' equations)."""
    import io
    tr, _ = parity
    model = tmp_path / "m.bptt"
    assert run(capsys, "train", "--data", str(tr), "--out", str(model), "--epochs", "1", "--quiet", "--cell", "lstm",
               "--hidden", "8", "--no-curriculum")[0] == 0
    rng = np.random.default_rng(0)
    lines = ["".join(rng.choice(list("01"), size=n)) for n in rng.integers(1, 60, size=300)]
    lines[5] = lines[77] = ""
    lines[9] = "01x1"  # an unknown character
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("\r\n".join(lines).encode() + b"\r\n")))
    rc, out, err = run(capsys, "predict", "--model", str(model))
    assert rc == 0
    got = out.split("\n")[:-1]
    assert len(got) == len(lines)
    assert "note: 2 empty line(s) (6, 78): an empty line out for each" in err
    assert "note: line 10 '01x1': 1 token(s)" in err
    names = checkpoint.load(model).meta["labels"]
    for text, line in zip(lines, got):
        if not text:
            assert line == ""
            continue
        ref = _reference_probs(model, list(text))[-1]
        lab, p = line.split("\t")
        assert lab == names[int(np.argmax(ref))] and float(p) == pytest.approx(ref.max(), abs=5e-5)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("\r\n".join(lines).encode() + b"\r\n")))
    assert run(capsys, "predict", "--model", str(model), "--data", "-")[1] == out  # - names stdin, as in Unix tools
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"0x1\n" * 15 + b"01\n" + b"xx\n" * 2)))
    rc, out, err = run(capsys, "predict", "--model", str(model))  # a long input: 10 lines' notes, then a count
    assert rc == 0 and len(out.split("\n")) == 19
    assert err.count("note: line") == 10 and "note: line 10 '0x1'" in err and "note: line 11" not in err
    assert "note: 7 more line(s) held tokens not in the model's vocabulary (9 in all), read as <unk>" in err
    for data, message in ((b"01\n\x0010\n", "stdin:2: holds NUL bytes"), (b"01\n1\xff\n", "stdin:2: not valid UTF-8")):
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
        rc, out, err = run(capsys, "predict", "--model", str(model))
        assert rc == 2 and message in err and out == ""
    # --data FILE: the same lines from a file; a file of sequences and labels is sent to `bptt evaluate`
    (tmp_path / "lines.txt").write_bytes("\r\n".join(lines).encode())
    rc, out2, _ = run(capsys, "predict", "--model", str(model), "--data", str(tmp_path / "lines.txt"))
    assert rc == 0 and out2.split("\n")[:-1] == got
    rc, _, err = run(capsys, "predict", "--model", str(model), "--data", str(tr))
    assert rc == 2 and ":1 holds a tab: --data is one sequence per line" in err and "bptt evaluate" in err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(tr.read_bytes())))  # the same on stdin
    rc, out, err = run(capsys, "predict", "--model", str(model))
    assert rc == 2 and "stdin line 1 holds a tab: predict reads one sequence per line" in err and out == ""
    rc, _, err = run(capsys, "predict", "--model", str(model), "--data", str(tmp_path / "lines.txt"), "0110")
    assert rc == 2 and "not both" in err
    # no input: no output, rc 0 as a filter gives, and a note that nothing came
    (tmp_path / "empty.txt").write_bytes(b"")
    rc, out, err = run(capsys, "predict", "--model", str(model), "--data", str(tmp_path / "empty.txt"))
    assert (rc, out) == (0, "") and "empty.txt holds no sequences: nothing to predict" in err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    rc, out, err = run(capsys, "predict", "--model", str(model))
    assert (rc, out) == (0, "") and "stdin holds no sequences" in err


def test_resume_gives_the_same_weights(tmp_path, capsys, parity):
    tr, _ = parity
    common = ["train", "--data", str(tr), "--task", "classify", "--chars", "--epochs", "3", "--hidden", "8",
              "--batch-size", "16", "--quiet", "--no-curriculum", "--seed", "5"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    assert run(capsys, *common, "--out", str(a))[0] == 0
    assert run(capsys, *common, "--out", str(b), "--max-steps", "25")[0] == 0  # stops mid-epoch 2
    assert checkpoint.load(str(b) + ".last").meta["train_state"]["step"] == 25
    rc, out, _ = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0 and "resuming at epoch 2, batch 6, step 25" in out
    pa = checkpoint.load(str(a) + ".last").model.params
    pb = checkpoint.load(str(b) + ".last").model.params
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    # a changed setting is refused
    rc, _, err = run(capsys, *common[:-2], "--seed", "6", "--out", str(b), "--resume")
    assert rc == 2 and "seed was 5" in err


@pytest.mark.parametrize("fmt,content", [
    ("tsv", "0110\t0\n111\t1\n"),
    ("tsv", "label\ttext\n0\t0110\n1\t111\n"),
    ("csv", "text,label\n0110,0\n\"111\",1\n"),
    ("jsonl", '{"text": "0110", "label": 0}\n\n{"text": "111", "label": "1"}\n'),
])
def test_file_formats(tmp_path, fmt, content):
    from bptt.data import read_examples
    p = tmp_path / f"d.{fmt}"
    p.write_text(content)
    ex, skipped = read_examples(p, "classify", tokenizer="chars")
    assert [(e.tokens, e.target) for e in ex] == [(list("0110"), "0"), (list("111"), "1")] and skipped == 0


@pytest.mark.parametrize("content,task,words", [
    ("0110\t0\t9\n", "classify", "d.tsv:1: has 3 column(s), expected 2"),
    ("0110\t0\n\t1\n", "classify", "d.tsv:2: empty sequence"),
    ("0110\t0\n   \t1\n", "classify", "d.tsv:2: empty sequence ('   ': blanks only)"),  # no space tokens
    ("ab\tX Y\n  \tX Y\n", "tag", "d.tsv:2: empty sequence ('  ': blanks only)"),
    ("a b c\tX Y\n", "tag", "d.tsv:1: 2 labels for 3 tokens"),
    ("0110\t\n", "classify", "d.tsv:1: empty label"),
])
def test_bad_lines_named_with_file_and_line(tmp_path, capsys, content, task, words):
    p = tmp_path / "d.tsv"
    p.write_text(content)
    rc, out, err = run(capsys, "train", "--data", str(p), "--task", task, "--out", str(tmp_path / "m.bptt"))
    assert rc == 2 and words in err and "Traceback" not in err


def test_a_file_whose_sequences_are_blanks_is_refused_for_them_and_predict_leaves_blank_lines_out(tmp_path, capsys,
                                                                                                 parity):
    """Blanks are no sequence, whatever the tokenizer: a column of them is not read as the labels (which made
    the error 'empty label' before), and predict answers a line of blanks with an empty line, as an empty line."""
    p = tmp_path / "d.tsv"
    p.write_text("".join(f"   \t{i % 2}\n" for i in range(40)))
    rc, out, err = run(capsys, "train", "--data", str(p), "--out", str(tmp_path / "m.bptt"))
    assert rc == 2 and "d.tsv:1: empty sequence ('   ': blanks only)" in err and "label comes first" not in out, (out, err)
    tr, _ = parity
    m = tmp_path / "p.bptt"
    assert run(capsys, "train", "--data", str(tr), "--out", str(m), "--epochs", "1", "--quiet", "--task", "classify")[0] == 0
    q = tmp_path / "q.txt"
    q.write_text("0110\n  \n\n11\n")
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(q))
    lines = out.split("\n")
    assert rc == 0 and lines[1] == "" and lines[2] == "" and lines[0] and lines[3], (out, err)


def test_skip_bad_counts_and_bad_encoding(tmp_path, capsys):
    p = tmp_path / "d.tsv"
    p.write_text("01\t0\n\t1\n11\t0\n1\t1\nx\ty\tz\n")
    rc, out, _ = run(capsys, "train", "--data", str(p), "--task", "classify", "--chars", "--skip-bad",
                     "--out", str(tmp_path / "m.bptt"), "--epochs", "1", "--quiet")
    assert rc == 0 and "skipped 2 bad line(s)" in out
    p.write_bytes(b"01\t0\n\xff\xfe1\t1\n")
    rc, _, err = run(capsys, "train", "--data", str(p), "--task", "classify", "--out", str(tmp_path / "m.bptt"))
    assert rc == 2 and "d.tsv:2: not valid UTF-8" in err


def test_unknown_label_and_tokens_at_evaluation(tmp_path, capsys, parity):
    tr, _ = parity
    model = tmp_path / "p.bptt"
    run(capsys, "train", "--data", str(tr), "--task", "classify", "--chars", "--out", str(model), "--epochs", "1", "--quiet")
    t = tmp_path / "t.tsv"
    t.write_text("0110\t0\n01x1\t1\n")
    rc, out, _ = run(capsys, "evaluate", "--model", str(model), "--data", str(t))
    assert rc == 0 and "1 token(s) not in the model's vocabulary" in out
    t.write_text("0110\t0\n0101\t7\n0111\t7\n")  # most of the file's labels unknown: a wrong file or model
    rc, _, err = run(capsys, "evaluate", "--model", str(model), "--data", str(t))
    assert rc == 2 and "t.tsv:2: label '7' was not seen in training" in err
    rc, _, err = run(capsys, "evaluate", "--model", str(tr), "--data", str(t))
    assert rc == 2 and "not a bptt model" in err
    rc, _, err = run(capsys, "train", "--data", str(tmp_path / "none.tsv"), "--task", "classify", "--out", str(model))
    assert rc == 2 and "none.tsv: no such file" in err
    rc, _, err = run(capsys, "train", "--data", str(tr), "--task", "classify", "--out", str(model), "--lr", "-1")
    assert rc == 2 and "--lr must be a positive number, got -1" in err


@pytest.mark.parametrize("argv,error", [
    (["train", "--data", "x", "--task", "classify", "--out", "m", "--hiden", "3"],
     "bptt train: error: no option --hiden (did you mean --hidden?)"),
    (["train", "--data", "x", "--out", "m", "--hiden=3", "--epohcs", "2"],
     "bptt train: error: no option --hiden (did you mean --hidden?); no option --epohcs (did you mean --epochs?)"),
    (["embeddings", "--model", "m", "--nearest", "a"], "bptt embeddings: error: no option --nearest (did you mean --near?)"),
    (["data", "make", "parity", "--lengths", "1-3", "--n", "3", "--sead", "1"],
     "bptt data make: error: no option --sead (did you mean --seed?)"),
    (["--verbose"], "bptt: error: no option --verbose\n"),  # nothing near enough: no guess (not --version)
    (["train", "--data", "x", "--out", "m", "extra"], "bptt train: error: unexpected argument 'extra'"),
])
def test_unknown_option_is_refused_by_name(capsys, argv, error):
    """An option a command does not take is named, under that command (argparse said `bptt: error:
    unrecognized arguments` under the top level's usage), with the command's nearest option; nothing runs."""
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and out == "" and error in err and err.count("\n") == 2, err
    assert err.startswith(f"usage: {error.split(':')[0]} ... ({error.split(':')[0]} --help lists its options)")


@pytest.mark.parametrize("argv,near", [
    (["train", "--data", "x", "--out", "m", "--cell", "lstmm"], "'lstm'"),
    (["trian", "--data", "x"], "'train'"),
    (["data", "make", "paritty", "--lengths", "1", "--n", "1"], "'parity'"),
    (["data", "fetch", "shakespear"], "'shakespeare'"),
    (["train", "--data", "x", "--out", "m", "--cell", "zzz"], None),  # nothing near: no guess
])
def test_a_value_not_among_the_choices_names_the_nearest(capsys, argv, near):
    """argparse's `invalid choice: 'lstmm' (choose from ...)` goes on with the nearest choice."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "invalid choice" in err
    assert (f"; did you mean {near}?" in err) if near else "did you mean" not in err, err


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--hidden" in out and "(default: 64)" in out and "--bucket, --no-bucket" in out


def test_parity_generalises_to_longer_sequences(tmp_path, capsys):
    """The README's commands: train with the defaults on lengths 1-20, evaluate on 21-200."""
    tr, va, te = (tmp_path / f for f in ("tr.tsv", "va.tsv", "te.tsv"))
    run(capsys, "data", "make", "parity", "--lengths", "1-20", "--n", "4000", "--seed", "1", "--out", str(tr))
    run(capsys, "data", "make", "parity", "--lengths", "1-20", "--n", "500", "--seed", "2", "--out", str(va))
    run(capsys, "data", "make", "parity", "--lengths", "21-200", "--n", "1000", "--seed", "3", "--out", str(te))
    m = tmp_path / "p.bptt"
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--valid", str(va), "--task", "classify", "--out", str(m),
                     "--quiet")
    assert rc == 0 and "every character as a token" in out and "stopped: 100% validation accuracy" in out
    res = json.loads(run(capsys, "evaluate", "--model", str(m), "--data", str(te), "--json")[1])
    assert res["accuracy"] >= 0.95


def test_the_run_names_the_validation_lengths_and_says_when_they_pass_the_training_ones(tmp_path, capsys, parity):
    """The kept model is chosen on the validation file: the first lines say on which lengths, and whether they
    go past the training ones (lengths 1-8 here)."""
    tr, te = parity
    mixed = tmp_path / "mixed.tsv"
    mixed.write_text("".join(tr.read_text().splitlines(keepends=True)[:6] + te.read_text().splitlines(keepends=True)[1:6]))
    lengths = {}
    for name, path in (("train", tr), ("test", te), ("mixed", mixed)):  # under the header line data make writes
        lengths[name] = [len(line.split("\t")[0]) for line in path.read_text().splitlines()[1:]]
    cases = ((tr, "train", ")"), (te, "test", ", longer than the training ones)"),
             (mixed, "mixed", ", some longer than the training ones)"))
    for path, name, tail in cases:
        rc, out, err = run(capsys, "train", "--data", str(tr), "--valid", str(path), "--out", str(tmp_path / "m.bptt"),
                           "--epochs", "1", "--quiet")
        n, lo, hi = len(lengths[name]), min(lengths[name]), max(lengths[name])
        assert rc == 0 and f"; {n} validation sequences (lengths {lo}-{hi}{tail}" in out, (name, out, err)
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--out", str(tmp_path / "m.bptt"), "--epochs", "1", "--quiet")
    assert rc == 0 and "validation sequences" not in out


def test_demo_adds_100_digit_numbers(tmp_path, capsys):
    from bptt.demo import run_demo
    res = run_demo(out_dir=str(tmp_path), progress=False, log=lambda s: None)
    assert res["rnn"][100] >= 0.99
    assert sorted(res["feedforward"]) == [1, 2, 3, 4] and min(res["feedforward"].values()) > 0.9
    assert res["rnn"][5] >= 0.99  # one digit longer than any it was trained on


def test_the_feed_forward_foil_cannot_read_a_longer_sequence():
    from bptt.feedforward import FeedForwardTagger
    ff = FeedForwardTagger(5, 12, 10, hidden=8, rng=np.random.default_rng(0))
    assert ff.predict(np.ones((3, 5), int)).shape == (3, 5)
    with pytest.raises(ValueError, match="width 5 cannot read sequences of 6 steps"):
        ff.predict(np.ones((3, 6), int))


def test_gpu_without_cupy_says_what_to_install(tmp_path, capsys, parity, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_cupy(name, *a, **k):
        if name == "cupy" or name.startswith("cupy."):
            raise ImportError("No module named 'cupy'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    tr, _ = parity
    rc, _, err = run(capsys, "train", "--data", str(tr), "--task", "classify", "--chars", "--quiet",
                     "--out", str(tmp_path / "m.bptt"), "--device", "gpu")
    assert rc == 2 and "pip install 'bptt[gpu]'" in err


def test_resume_is_exact_with_dropout_word_dropout_lr_decay_and_cosine_schedule(tmp_path, capsys, parity):
    tr, te = parity
    common = ["train", "--data", str(tr), "--valid", str(te), "--task", "classify", "--chars", "--epochs", "4",
              "--hidden", "8", "--batch-size", "16", "--quiet", "--word-dropout", "0.2", "--lr-decay", "0.5", "--lr", "0.01",
              "--dropout", "0.3", "--lr-schedule", "cosine"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    rc, out, _ = run(capsys, *common, "--out", str(a))
    epochs = [line for line in out.splitlines() if line.startswith("epoch")]
    worse = sum(1 for line in epochs if not line.endswith("*"))
    st = checkpoint.load(str(a) + ".last").meta["train_state"]
    assert worse >= 1  # this data makes some epochs no better than the best
    assert st["lr"] == pytest.approx(0.01 * 0.5 ** worse)  # halved after each epoch without progress
    run(capsys, *common, "--out", str(b), "--max-steps", "30")
    run(capsys, *common, "--out", str(b), "--resume")
    pa, pb = (checkpoint.load(str(p) + ".last").model.params for p in (a, b))
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])


def test_word_dropout_reads_some_tokens_as_unknown():
    from bptt.train import SeqData, TrainConfig

    data = SeqData([np.arange(2, 12)] * 8, [0, 1] * 4, "classify")
    seen = []

    class Spy:
        config = ModelConfig(vocab_size=12, embed_dim=2, hidden_size=2, output_size=2)

        def loss_and_grads(self, b, **kw):
            seen.append(b.x.copy())
            return 0.0, {}

    cfg = TrainConfig(batch_size=8, word_dropout=0.3)
    for _ in range(2):
        data.train_step(Spy(), data.epoch_batches(cfg, 0)[0])
    frac = np.mean(seen[0] == 1)
    assert 0.15 < frac < 0.45 and np.array_equal(seen[0], seen[1])  # about p, and reproducible
    assert set(np.unique(seen[0])) <= set(range(1, 12))


def test_cosine_schedule_falls_from_lr_to_zero():
    import math

    from bptt.train import TrainConfig, scheduled_lr

    cfg = TrainConfig(lr=0.1, epochs=4, lr_schedule="cosine")
    lrs = [scheduled_lr(cfg, 0.1, step, 25) for step in range(101)]  # 4 epochs of 25 updates
    assert lrs[0] == 0.1 and lrs[50] == pytest.approx(0.05) and lrs[100] == pytest.approx(0.0, abs=1e-12)
    assert lrs[25] == pytest.approx(0.05 * (1 + math.cos(math.pi / 4)))
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    stopped = TrainConfig(lr=0.1, epochs=4, max_steps=20, lr_schedule="cosine")  # a stop, not a shorter schedule
    assert scheduled_lr(stopped, 0.1, 50, 25) == pytest.approx(0.05)
    assert scheduled_lr(TrainConfig(lr=0.1), 0.025, 60, 25) == 0.025  # constant: the (decayed) base rate
    with pytest.raises(ValueError, match="lr_schedule='linear' is not known"):
        TrainConfig(lr_schedule="linear")


def test_cosine_time_falls_over_max_time_or_the_epochs_whichever_ends_first():
    import math

    from bptt.train import TrainConfig, scheduled_lr

    cfg = TrainConfig(lr=0.1, epochs=4, lr_schedule="cosine-time", max_time=60.0)
    assert scheduled_lr(cfg, 0.1, 0, 25, 0.0) == 0.1
    assert scheduled_lr(cfg, 0.1, 3, 25, 30.0) == pytest.approx(0.05)  # half the time: half the rate
    assert scheduled_lr(cfg, 0.1, 3, 25, 15.0) == pytest.approx(0.05 * (1 + math.cos(math.pi / 4)))
    assert scheduled_lr(cfg, 0.1, 3, 25, 90.0) == pytest.approx(0.0, abs=1e-12)  # past the time: 0, not back up
    assert scheduled_lr(cfg, 0.1, 50, 25, 1.0) == pytest.approx(0.05)  # the epochs half done first
    with pytest.raises(ValueError, match=r"cosine-time' falls over max_time \(--max-time SECONDS\), which is not set"):
        TrainConfig(lr_schedule="cosine-time")


def test_cosine_time_brings_the_rate_to_zero_at_the_max_time_stop(tmp_path, capsys, monkeypatch):
    """On a clock that gives one second a call, --max-time ends the run long before its 200 epochs: with
    cosine-time the rate falls to near 0 by then, where plain cosine, over the epochs, has hardly moved
    (and says so)."""
    import types

    import bptt.train as train_mod
    from bptt import optim

    clock = {"t": 0.0}

    def perf_counter():
        clock["t"] += 1.0
        return clock["t"]

    monkeypatch.setattr(train_mod, "time", types.SimpleNamespace(perf_counter=perf_counter))
    rates = []
    real_step = optim.Adam.step

    def step(self, params, grads):
        rates.append(self.lr)
        return real_step(self, params, grads)

    monkeypatch.setattr(optim.Adam, "step", step)
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be, that is the question. " * 40)
    common = ["train", "--task", "lm", "--data", str(text), "--window", "16", "--hidden", "8", "--lr", "0.01",
              "--max-time", "120", "--out", str(tmp_path / "m.bptt")]
    for schedule in ("cosine-time", "cosine"):
        rates.clear()
        clock["t"] = 0.0
        rc, out, e = run(capsys, *common, "--lr-schedule", schedule)
        assert rc == 0 and "stopped: reached --max-time 120s" in out, e
        assert rates[0] == pytest.approx(0.01) and all(a >= b for a, b in zip(rates, rates[1:])), rates
        if schedule == "cosine-time":
            assert rates[-1] < 0.0005 and "falls over --epochs" not in out, rates
        else:
            assert rates[-1] > 0.009, rates
            assert "the cosine schedule falls over --epochs 200, which --max-time 120s may cut short" in out, out


def test_python_dash_m_bptt_runs_the_command_line(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "p.tsv"
    r = subprocess.run([sys.executable, "-m", "bptt", "data", "make", "parity", "--lengths", "1-3", "--n", "5",
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(out.read_text().splitlines()) == 6  # a header line and 5 examples
    r = subprocess.run([sys.executable, "-m", "bptt", "nonsense"], capture_output=True, text=True)
    assert r.returncode == 2 and "nonsense" in r.stderr


def test_odd_arguments_get_one_line_errors(tmp_path, capsys, parity):
    """The "elsewhere" list of the hostile-input issue: each was a traceback or a silent no-op before."""
    tr, te = parity
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be, that is the question. " * 40)
    lm = tmp_path / "lm.bptt"
    assert run(capsys, "train", "--task", "lm", "--data", str(text), "--out", str(lm), "--epochs", "1", "--hidden", "8",
               "--window", "16", "--quiet")[0] == 0
    for temp in ("inf", "nan", "-1"):
        rc, _, err = run(capsys, "generate", "--model", str(lm), "--prompt", "to", "--temperature", temp)
        assert rc == 2 and "--temperature" in err and "Traceback" not in err
    rc, out, _ = run(capsys, "generate", "--model", str(lm), "--prompt", "to", "--temperature", "1e-310", "--length", "5",
                     "--seed", "1")
    greedy = run(capsys, "generate", "--model", str(lm), "--prompt", "to", "--temperature", "0", "--length", "5")[1]
    assert rc == 0 and out == greedy  # a denormal temperature samples as greedily as 0
    # no --prompt: the text had no line break, so it starts from its most frequent token (was an error)
    rc, out, err = run(capsys, "generate", "--model", str(lm), "--length", "5", "--seed", "1")
    vocab = checkpoint.load(str(lm)).meta["vocab"]
    assert rc == 0 and "\n" not in vocab and out.startswith(vocab[2]) and err == ""
    rc, _, err = run(capsys, "generate", "--model", str(lm), "--length", "-1", "--prompt", "zzzz")
    assert rc == 2 and "--length must be" in err  # the range is checked before the prompt
    for cmd in (["generate", "--model", str(lm), "--seed", "-1"], ["data", "make", "parity", "--lengths", "3",
                                                                    "--n", "2", "--seed", "-5"]):
        with pytest.raises(SystemExit) as e:
            main(cmd)
        assert e.value.code == 2 and "--seed: must be an integer" in capsys.readouterr().err
    rc, _, err = run(capsys, "predict", "--model", str(lm), "to be")
    assert rc == 2 and "bptt generate" in err
    rc, _, err = run(capsys, "train", "--task", "lm", "--data", str(text), "--out", str(tmp_path / "x.bptt"),
                     "--word-dropout", "0.2")
    assert rc == 2 and "--word-dropout is for classify and tag" in err
    for opt in (["--window", "8"], ["--bptt-steps", "4"], ["--no-stateful"], ["--level", "word"]):
        rc, out, err = run(capsys, "train", "--data", str(tr), "--task", "classify", "--epochs", "1", "--quiet",
                           "--out", str(tmp_path / "c.bptt"), *opt)  # were silently ignored
        assert rc == 2 and f"{opt[0]}" in err and "for language models (--task lm) only" in err and out == ""
    bad_valid = tmp_path / "v.tsv"
    bad_valid.write_text("0110\t0\nno label here\n111\t1\n")
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--valid", str(bad_valid), "--task", "classify", "--skip-bad",
                     "--epochs", "1", "--hidden", "4", "--quiet", "--out", str(tmp_path / "m.bptt"))
    assert rc == 0 and f"{bad_valid}: skipped 1 bad line(s)" in out
    rc, _, err = run(capsys, "generate", "--model", str(lm), "--prompt", "to", "--length", str(10**12))
    assert rc == 2 and "--length must be 0..1,000,000" in err  # one step per token: a hang, not a sample
    for args, words in ((["--clip", "nan"], "--clip must be a number >= 0"), (["--momentum", "2"], "--momentum must be in"),
                        (["--min-count", "-1"], "--min-count must be a positive integer"),
                        (["--hidden", "0"], "--hidden must be a positive integer, got 0"),  # said as the options
                        (["--embed", "0"], "--embed must be a positive integer, got 0"),  # (were hidden_size, ...)
                        (["--word-dropout", "1"], "--word-dropout must be in [0, 1), got 1.0"),
                        (["--max-time", "0"], "--max-time must be > 0 seconds, got 0.0"),
                        (["--lr-schedule", "cosine-time"], "--lr-schedule 'cosine-time' falls over max_time (--max-time "
                                                           "SECONDS), which is not set")):  # (was lr_schedule=...)
        rc, out, err = run(capsys, "train", "--data", str(tr), "--task", "classify", "--epochs", "1", "--quiet",
                           "--out", str(tmp_path / "odd.bptt"), *args)
        assert rc == 2 and words in err and not any(ln.startswith("epoch ") for ln in out.splitlines()), (args, err)


def test_a_plot_without_matplotlib_is_refused_before_the_work(tmp_path, capsys, monkeypatch):
    """Without matplotlib (find_spec finds none), --plot (and --grad-norms) are refused before
    training, not after a whole run (which saved its model and then failed on the plot); evaluate too."""
    import importlib.util

    real_find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else
                        real_find(name, *a))
    tr = tmp_path / "t.tsv"
    tr.write_text("".join(f"{s}\t{s.count('1') % 2}\n" for s in ("0", "1", "01", "11", "110", "0111")))
    m = tmp_path / "m.bptt"
    rc, out, err = run(capsys, "train", "--data", str(tr), "--out", str(m), "--epochs", "1", "--quiet", "--chars",
                       "--plot", str(tmp_path / "c.png"))
    assert rc == 2 and "--plot: plotting needs matplotlib: pip install 'bptt[plot]'" in err
    assert not m.exists() and not any(line.startswith("epoch ") for line in out.splitlines())
    monkeypatch.setattr(importlib.util, "find_spec", real_find)
    assert run(capsys, "train", "--data", str(tr), "--out", str(m), "--epochs", "1", "--quiet", "--chars")[0] == 0
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else
                        real_find(name, *a))
    rc, out, err = run(capsys, "evaluate", "--model", str(m), "--data", str(tr), "--plot", str(tmp_path / "e.png"))
    assert rc == 2 and "--plot: plotting needs matplotlib" in err and not out


def test_config_errors_name_options_that_bptt_train_takes():
    """The map from config fields to the options that set them names only options of bptt train."""
    import argparse

    from bptt.cli import OPTION_OF, _subcommand_parser, build_parser

    train, _ = _subcommand_parser(build_parser(), argparse.Namespace(command="train"))
    options = {o for a in train._actions for o in a.option_strings}
    assert set(OPTION_OF.values()) <= options, set(OPTION_OF.values()) - options


def test_data_fetch_takes_several_names(monkeypatch, capsys):
    import bptt.data.fetch as F
    got = []
    monkeypatch.setattr(F, "fetch", lambda name, **kw: got.append(name))
    assert main(["data", "fetch", "movie-reviews", "glove-50d", "movie-reviews"]) == 0
    assert got == ["movie-reviews", "glove-50d"]


def test_labels_that_are_measurements_are_regressed_or_get_a_note(tmp_path, capsys):
    """A new user's regression data (fractions as labels) were silently read as 29 classes; then a note
    said so; since 2026-12-03 such labels make the task regress (the first line says why), and --task
    classify still gets the note."""
    import json as _json

    rng = np.random.default_rng(0)
    rows = ["".join(rng.choice(list("01"), size=n)) for n in rng.integers(1, 11, size=200)]
    data = tmp_path / "reg.tsv"
    data.write_text("text\tlabel\n" + "".join(f"{s}\t{s.count('1') / len(s):.3f}\n" for s in rows))
    rc, out, _ = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "r.bptt"), "--epochs", "1")
    assert rc == 0 and "task regress (" in out and "some with a fraction (0.000, " in out, out
    assert checkpoint.load(str(tmp_path / "r.bptt")).meta["task"] == "regress"
    rc, out, _ = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "r.bptt"), "--epochs", "1",
                     "--task", "classify")
    assert rc == 0 and "labels are numbers (0.000, " in out and "--task regress predicts numbers" in out
    # the same in JSONL, where the labels are JSON numbers, and two outputs a line
    js = tmp_path / "reg.jsonl"
    js.write_text("".join(_json.dumps({"text": s, "label": [s.count("1") / len(s), len(s) / 2]}) + "\n" for s in rows))
    rc, out, err = run(capsys, "train", "--data", str(js), "--out", str(tmp_path / "j.bptt"), "--epochs", "1")
    assert rc == 0 and "task regress (" in out and len(checkpoint.load(str(tmp_path / "j.bptt")).meta["labels"]) == 2, err
    assert "different sets of 2 numbers, some with a fraction" in out, out
    rc, out, err = run(capsys, "train", "--data", str(js), "--out", str(tmp_path / "j.bptt"), "--epochs", "1",
                       "--task", "classify")
    assert rc == 2 and "got list: [" in err and "a number with a fraction: --task regress predicts numbers" in err
    ids = tmp_path / "ids.tsv"  # a label column of ids, one per line
    ids.write_text("text\tlabel\n" + "".join(f"{s}\tid{k}\n" for k, s in enumerate(rows[:50])))
    rc, out, _ = run(capsys, "train", "--data", str(ids), "--out", str(tmp_path / "d.bptt"), "--epochs", "1")
    assert rc == 0 and "each of the 50 sequences has a label of its own" in out
    ints = tmp_path / "ints.tsv"  # class ids written as numbers are classes: no note
    ints.write_text("text\tlabel\n" + "".join(f"{s}\t{s.count('1')}\n" for s in rows))
    rc, out, _ = run(capsys, "train", "--data", str(ints), "--out", str(tmp_path / "i.bptt"), "--epochs", "1")
    assert rc == 0 and "labels are numbers" not in out and "a label of its own" not in out


def test_a_model_file_given_first_gets_the_line_with_its_options(tmp_path, capsys, parity, monkeypatch):
    """A new user's `bptt predict m.bptt lines.txt` got only "required: --model"; the error now gives the
    line that does it (the data file after --data where one is meant), and runs nothing."""
    tr, te = parity
    model = tmp_path / "p.bptt"
    rc, _, err = run(capsys, "train", "--data", str(tr), "--task", "classify", "--epochs", "1", "--quiet",
                     "--out", str(model))
    assert rc == 0, err
    monkeypatch.chdir(tmp_path)
    lines = tmp_path / "lines.txt"
    lines.write_text("0110\n1\n")
    for argv, want in (
            (["evaluate", "p.bptt", str(te)], f"bptt evaluate --model p.bptt --data {te}"),
            (["evaluate", str(te), "p.bptt", "--json"], f"bptt evaluate --model p.bptt --data {te} --json"),
            (["evaluate", "--data", str(te), "p.bptt"], f"bptt evaluate --model p.bptt --data {te}"),
            (["predict", "p.bptt", "lines.txt"], "bptt predict --model p.bptt --data lines.txt"),
            (["predict", "p.bptt", "0110", "1"], "bptt predict --model p.bptt 0110 1"),  # sequences, not files
            (["predict", "p.bptt", "-"], "bptt predict --model p.bptt --data -"),  # stdin
            (["export", "p.bptt", "--out", "p.safetensors"], "bptt export --model p.bptt --out p.safetensors"),
            (["generate", "p.bptt", "--length", "3"], "bptt generate --model p.bptt --length 3")):
        rc, out, err = run(capsys, *argv)
        assert rc == 2 and out == "" and f"error: the model file goes after --model: {want}\n" in err, (argv, err)
    assert not (tmp_path / "p.safetensors").exists()
    # the suggested line does what was meant
    rc, out, err = run(capsys, "predict", "--model", "p.bptt", "--data", "lines.txt")
    assert rc == 0 and len(out.splitlines()) == 2, err
    # a --model given, or no model file among the arguments: argparse's own errors, as before
    rc, _, err = run(capsys, "predict", "--model", "p.bptt", "q.bptt")
    assert rc == 0 or "goes after --model" not in err
    with pytest.raises(SystemExit) as e:
        run(capsys, "predict", "missing.bptt")
    assert e.value.code == 2 and "the following arguments are required: --model" in capsys.readouterr().err


def test_data_files_given_first_to_train_get_the_line_with_their_options(tmp_path, capsys, parity, monkeypatch):
    """A new user's `bptt train train.tsv valid.tsv` got only "required: --data, --out"; the error now gives
    the line that does it (--data, --valid, and an --out named after the data when none is given), and
    trains nothing."""
    tr, te = parity
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.tsv").write_text(tr.read_text())
    (tmp_path / "valid.tsv").write_text(te.read_text())
    for argv, want in (
            (["train", "train.tsv"], "the data file goes after --data: bptt train --data train.tsv --out train.bptt"),
            (["train", "train.tsv", "valid.tsv", "--epochs", "1"],
             "the training file goes after --data and the validation file after --valid: "
             "bptt train --data train.tsv --valid valid.tsv --epochs 1 --out train.bptt"),
            (["train", "--valid", "valid.tsv", "train.tsv", "--out", "m.bptt"],
             "the data file goes after --data: bptt train --valid valid.tsv --data train.tsv --out m.bptt"),
            (["train", "--init", "valid.tsv", "train.tsv", "--out", "m.bptt"],  # an option's value stays its own
             "bptt train --init valid.tsv --data train.tsv --out m.bptt")):
        rc, out, err = run(capsys, *argv)
        assert rc == 2 and out == "" and want in err and "usage: bptt train --data DATA --out OUT" in err, (argv, err)
    assert not list(tmp_path.glob("*.bptt"))
    # the suggested line does what was meant
    rc, out, err = run(capsys, "train", "--data", "train.tsv", "--valid", "valid.tsv", "--epochs", "1", "--out",
                       "train.bptt", "--quiet")
    assert rc == 0 and (tmp_path / "train.bptt").is_file(), err
    # a model file given first to evaluate is found by what it holds, not only by its name's .bptt
    os.rename("train.bptt", "train.model")
    rc, out, err = run(capsys, "evaluate", "train.model", "valid.tsv")
    assert rc == 2 and "the model file goes after --model: bptt evaluate --model train.model --data valid.tsv" in err
    # no file, three files, or --data given: argparse's own errors, as before
    for argv in (["train", "missing.tsv"], ["train", "train.tsv", "valid.tsv", "valid.tsv"],
                 ["train", "--data", "train.tsv", "valid.tsv"]):
        with pytest.raises(SystemExit) as e:
            run(capsys, *argv)
        assert e.value.code == 2 and "goes after" not in capsys.readouterr().err, argv


def test_a_label_first_file_and_a_header_of_other_names_train_and_evaluate_as_the_plain_file(tmp_path, capsys, parity):
    """A new user's table with the label first (no header), or a header `label,sequence`, was read as
    thousands of one-sequence classes and stopped at the first validation label. Now it reads as the same
    examples, says so, and trains the same model; a file too short to tell gets a pointer."""
    tr, te = parity

    def label_first(src, dst, header=None, sep="\t", lines=None):
        rows = [r.split("\t") for r in src.read_text().splitlines()[1:]][:lines]
        dst.write_text("".join(sep.join(x) + "\n" for x in ([header] if header else []) + [[lab, s] for s, lab in rows]))
        return dst

    outs = {}
    for name, data in (("plain", tr), ("first", label_first(tr, tmp_path / "lf.tsv")),
                       ("named", label_first(tr, tmp_path / "named.csv", ["label", "sequence"], ","))):
        rc, out, err = run(capsys, "train", "--data", str(data), "--epochs", "1", "--no-curriculum", "--quiet",
                           "--seed", "3", "--out", str(tmp_path / f"{name}.bptt"))
        assert rc == 0, err
        outs[name] = out
        rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / f"{name}.bptt"), "--data", str(te), "--json")
        assert rc == 0, err
        outs[name, "eval"] = json.loads(out)
    assert "the label comes first" not in outs["plain"] and "reading" not in outs["plain"].split("\n")[0]
    assert (f"reading {tmp_path / 'lf.tsv'}: no header line; column 1 holds 2 different values that repeat, "
            f"and column 2 ") in outs["first"] and "tell column 1 on 100% of the lines" in outs["first"]
    assert (f"reading {tmp_path / 'named.csv'}: its header line names column 2, 'sequence', as the sequences and "
            f"column 1, 'label', as the labels") in outs["named"]
    assert outs["plain", "eval"] == outs["first", "eval"] == outs["named", "eval"]  # the same examples, the same model
    # evaluating a label-first test file: the same figures, and a note on stderr
    rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "first.bptt"), "--json",
                       "--data", str(label_first(te, tmp_path / "te_lf.tsv")))
    assert rc == 0 and json.loads(out) == outs["first", "eval"] and "note: reading" in err and "label comes first" in err
    # too few lines to tell: the error names the columns
    rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "first.bptt"),
                       "--data", str(label_first(te, tmp_path / "few.tsv", lines=4)))
    assert rc == 2 and "was not seen in training" in err and "is the label in column 1?" in err


def test_a_fasttext_file_trains_and_evaluates_as_its_tsv_twin(tmp_path, capsys, parity):
    """A fastText file (__label__NAME, then the text) given with nothing but --data --out was read as
    plain text for a language model; now it is classify data, said on the run's first lines."""
    tr, te = parity

    def fasttext(src, dst):
        rows = [r.split("\t") for r in src.read_text().splitlines()[1:]]
        dst.write_text("".join(f"__label__{lab} {' '.join(s)}\n" for s, lab in rows))  # its characters, spaced
        return dst

    def spaced(src, dst):
        rows = [r.split("\t") for r in src.read_text().splitlines()[1:]]
        dst.write_text("".join(f"{' '.join(s)}\t{lab}\n" for s, lab in rows))
        return dst

    res = {}
    for name, data, test in (("ft", fasttext(tr, tmp_path / "p.train"), fasttext(te, tmp_path / "p.test")),
                             ("tsv", spaced(tr, tmp_path / "p.tsv"), spaced(te, tmp_path / "pt.tsv"))):
        rc, out, err = run(capsys, "train", "--data", str(data), "--valid", str(test), "--epochs", "2",
                           "--no-curriculum", "--quiet", "--seed", "1", "--out", str(tmp_path / f"{name}.bptt"))
        assert rc == 0, err
        res[name, "out"] = out
        rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / f"{name}.bptt"), "--data", str(test), "--json")
        assert rc == 0, err
        res[name] = json.loads(out)
    numbers = tmp_path / "n.train"  # a fastText file of measured values: read as numbers, as a table of them is
    rng = np.random.default_rng(0)
    rows = [rng.uniform(-1, 1, int(rng.integers(2, 9))).round(3) for _ in range(60)]
    numbers.write_text("".join(f"__label__{'pos' if r.sum() > 0 else 'neg'} {' '.join(f'{v:.3f}' for v in r)}\n"
                               for r in rows))
    rc, out, err = run(capsys, "train", "--data", str(numbers), "--epochs", "1", "--quiet", "--hidden", "4",
                       "--out", str(tmp_path / "n.bptt"))
    assert rc == 0 and "reading each step as a number (" in out, err
    assert checkpoint.load(str(tmp_path / "n.bptt")).meta["inputs"] == "numbers"
    lines = res["ft", "out"].splitlines()
    assert lines[0] == f"reading {tmp_path / 'p.train'} as fastText lines: __label__NAME, then the text; --format sets it"
    assert lines[1].startswith(f"task classify ({tmp_path / 'p.train'}: fastText lines")
    assert res["ft"] == res["tsv"] and res["ft"]["n"] == 100


def test_predict_reads_the_sequences_of_a_csv_or_json_file(tmp_path, capsys, parity):
    """`bptt predict --data new.csv` labelled the header line and the raw CSV lines (quotes, commas and the
    label column as tokens); now a CSV file's sequences column, a JSON(L) file's texts and a fastText file's
    texts are labelled, a line out per record, as the same sequences given as arguments are."""
    tr, _ = parity
    m = tmp_path / "p.bptt"
    assert run(capsys, "train", "--data", str(tr), "--task", "classify", "--epochs", "2", "--quiet",
               "--out", str(m))[0] == 0
    seqs = ["0110", "1", "10101"]
    rc, want, err = run(capsys, "predict", "--model", str(m), *seqs)
    assert rc == 0, err
    files = {"one.csv": "text\n" + "".join(f"{s}\n" for s in seqs),
             "bare.csv": "".join(f"{s}\n" for s in seqs),
             "named.csv": "sequence,label\n" + "".join(f"{s},x\n" for s in seqs),
             "first.csv": "id;label;series\n" + "".join(f"{k};x;{s}\n" for k, s in enumerate(seqs)),
             "a.jsonl": "".join(json.dumps({"text": s, "label": 1}) + "\n" for s in seqs),
             "b.json": json.dumps([{"text": s} for s in seqs], indent=1),
             "c.jsonl": "".join(json.dumps({"sequence": s}) + "\n" for s in seqs),  # keys named otherwise
             "d.jsonl": "".join(json.dumps({"id": k, "string": s, "verdict": "x"}) + "\n" for k, s in enumerate(seqs)),
             "e.jsonl": "".join(json.dumps({"bits": s}) + "\n" for s in seqs),  # one key: the sequences
             "u.csv": "bits,verdict\n" + "".join(f"{s},{'yes' if k % 2 else 'no'}\n" for k, s in
                                                  enumerate(seqs * 4)),  # a header in other words (as train reads)
             "ft.txt": "__label__x 0110\n__label__y 1\n__label__a __label__b 10101\n"}  # fastText: the labels left
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(tmp_path / name))
        assert rc == 0 and out == (want * 4 if name == "u.csv" else want) and "<unk>" not in err, (name, out, err)
    (tmp_path / "three.csv").write_text("a,b,c\n1,2,3\n")
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(tmp_path / "three.csv"))
    assert rc == 2 and out == "" and "three.csv:1: 3 columns separated by a comma and no header line naming" in err
    (tmp_path / "f.jsonl").write_text('{"a": "01", "b": "1"}\n')  # which key holds the sequences?
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(tmp_path / "f.jsonl"))
    assert rc == 2 and "f.jsonl:1: needs an object with key 'text' (it has 'a', 'b': --text-col KEY names the key of the sequences)" in err
    # a plain file (or stdin) that opens with a column's name the model cannot read: an empty line out for it,
    # so that line k out is still line k's; a first line of the model's own tokens, or a later one, is labelled
    for name, head in (("h.txt", "Text"), ("h", "Text"), ("r.txt", "review_text")):  # the names a CSV header reads
        (tmp_path / name).write_text(f"{head}\n" + "".join(f"{s}\n" for s in seqs))
        rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(tmp_path / name))
        assert rc == 0 and out == "\n" + want, (name, out)
        assert f"{name} line 1 {head!r} names a column (a header line?)" in err and "<unk>" not in err, err
    (tmp_path / "late.txt").write_text("0110\ntext\n")
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(tmp_path / "late.txt"))
    assert rc == 0 and len(out.splitlines()) == 2 and all(out.splitlines()) and "<unk>" in err, (out, err)
    (tmp_path / "word.txt").write_text("sequence of\n0110\n")  # not a column's name alone: labelled
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(tmp_path / "word.txt"))
    assert rc == 0 and all(out.splitlines()) and "header" not in err, (out, err)


def test_a_new_users_files_with_columns_named_in_their_own_words_train_and_evaluate(tmp_path, capsys):
    """A new user's try of stop 40: a CSV headed 'number,divisible' and JSONL records keyed 'string' and
    'label' were each refused before a step; both now train, evaluate and predict with no options, and each
    command says how it read the file."""
    import random
    r = random.Random(0)
    nums = [format(r.randrange(1, 4096), "b") for _ in range(60)]
    csv_f, jsonl_f = tmp_path / "d.csv", tmp_path / "d.jsonl"
    csv_f.write_text("number,divisible\n" + "".join(f"{s},{'yes' if int(s, 2) % 3 == 0 else 'no'}\n" for s in nums))
    jsonl_f.write_text("".join(json.dumps({"string": s, "label": s.endswith("1")}) + "\n" for s in nums))
    for f, note in ((csv_f, "its first line ('number', 'divisible') is read as the header naming the columns"),
                    (jsonl_f, "its records' keys 'string' and 'label' are read as the sequences and the labels")):
        m = tmp_path / (f.suffix[1:] + ".bptt")
        rc, out, err = run(capsys, "train", "--data", str(f), "--epochs", "2", "--quiet", "--out", str(m))
        assert rc == 0 and f"reading {f}: {note}" in out, (out, err)
        rc, out, err = run(capsys, "evaluate", "--model", str(m), "--data", str(f))
        assert rc == 0 and "n 60 " in out and note in err, (out, err)
        rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(f))
        assert rc == 0 and len(out.splitlines()) == 60, (out, err)
    # a short test file under the same header: too few lines to tell alone, told by the model's labels
    small = tmp_path / "small.csv"
    small.write_text("".join(csv_f.read_text().splitlines(True)[:5]))
    rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "csv.bptt"), "--data", str(small))
    assert rc == 0 and "n 4 " in out and "whose other values are the model's labels" in err, (out, err)
    rc, out, err = run(capsys, "predict", "--model", str(tmp_path / "csv.bptt"), "--data", str(small))
    assert rc == 0 and len(out.splitlines()) == 4, (out, err)
    # a first line of a label the model lacks, in the model's own symbols, is an example of a rare class
    rare = tmp_path / "rare.csv"
    rare.write_text("1001,maybe\n" + "".join(csv_f.read_text().splitlines(True)[1:5]))
    rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "csv.bptt"), "--data", str(rare))
    assert rc == 0 and "n 5 " in out and "never saw in training" in out and "header" not in err, (out, err)


def test_whole_number_labels_learned_as_classes_are_named_so_and_a_number_beyond_them_points_to_regress(
        tmp_path, capsys):
    """A new user's counts (how many a's, 0-30 over 3,000 strings, each count on many lines) are classified, as
    class ids are: the run says that those labels are whole numbers taken as classes, and a test file of longer
    strings, whose counts the model never saw, is refused with --task regress named (it stopped at 'label 44
    was not seen in training', 2026-12-04)."""
    rng = np.random.default_rng(0)

    def write(path, n, lo, hi):
        lines = ["text\tcount"]
        for _ in range(n):
            s = "".join(rng.choice(list("ab"), int(rng.integers(lo, hi + 1))))
            lines.append(f"{s}\t{s.count('a')}")
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    tr, te = write(tmp_path / "tr.tsv", 600, 1, 24), write(tmp_path / "te.tsv", 50, 41, 80)
    rc, out, err = run(capsys, "train", "--data", tr, "--epochs", "1", "--quiet", "--out", str(tmp_path / "m.bptt"))
    assert rc == 0, err
    first = next(line for line in out.splitlines() if line.startswith("task "))
    assert "task classify" in first and "labels are whole numbers (0 to " in first and "--task regress" in first
    rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "m.bptt"), "--data", te)
    assert rc == 2 and "was not seen in training" in err and "learned as classes" in err
    assert "train with --task regress" in err and "(known: '0', '1', '2', '3'," in err  # in their order
    # labels that are words get neither
    (tmp_path / "w.tsv").write_text("".join(f"{'ab' * (i % 7 + 1)}\tw{i % 12}\n" for i in range(120)))
    rc, out, err = run(capsys, "train", "--data", str(tmp_path / "w.tsv"), "--epochs", "1", "--quiet",
                       "--out", str(tmp_path / "w.bptt"))
    assert rc == 0 and "whole numbers" not in out
    (tmp_path / "w2.tsv").write_text("abab\tw99\n" * 3)
    rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "w.bptt"), "--data", str(tmp_path / "w2.tsv"))
    assert rc == 2 and "was not seen in training" in err and "--task regress" not in err


def test_device_gpu_without_cupy_is_refused_before_any_file_is_read(tmp_path, capsys, monkeypatch):
    """--device gpu on a machine without CuPy says what to install before the data are read and summed up
    (it came after the run's first lines, the data read and the model built)."""
    import sys

    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` fails, as where it is not installed
    data = tmp_path / "d.tsv"
    data.write_text("".join(f"{'01' * (i % 5 + 1)}\t{i % 2}\n" for i in range(40)))
    for argv in (["train", "--data", str(data), "--epochs", "1", "--out", str(tmp_path / "m.bptt")],
                 ["evaluate", "--model", str(tmp_path / "missing.bptt"), "--data", str(data)]):
        rc, out, err = run(capsys, *argv, "--device", "gpu")
        assert rc == 2 and out == "" and "needs CuPy" in err and "pip install 'bptt[gpu]'" in err, (argv, out, err)
    assert not (tmp_path / "m.bptt").exists()


@pytest.mark.parametrize("argv", [
    ["train", "--data", "{d}", "--epochs", "1", "--out", "{e}"],
    ["train", "--data", "{d}", "--epochs", "1", "--out", "{m}", "--plot", "{e}"],
    ["evaluate", "--model", "{m}", "--data", "{d}", "--plot", "{e}"],
    ["export", "--model", "{m}", "--out", "{e}"],
    ["embeddings", "--model", "{m}", "--out", "{e}"],
    ["data", "make", "parity", "--n", "3", "--lengths", "1-3", "--out", "{e}"],
    ["demo", "--out-dir", "{e}"],
    ["train", "--data", "{e}", "--out", "{m}"],
    ["train", "--data", "{d}", "--valid", "{e}", "--epochs", "1", "--out", "{m}"],
    ["train", "--data", "{d}", "--init", "{e}", "--epochs", "1", "--out", "{m}"],
    ["train", "--data", "{d}", "--pretrained", "{e}", "--epochs", "1", "--out", "{m}"],
    ["train", "--data", "{d}", "--label-col", "{e}", "--epochs", "1", "--out", "{m}"],
    ["predict", "--model", "{m}", "--data", "{e}"],
    ["evaluate", "--model", "{e}", "--data", "{d}"],
])
@pytest.mark.parametrize("empty", ["", "  "])
def test_a_file_or_column_named_by_an_empty_string_is_refused(tmp_path, capsys, monkeypatch, argv, empty):
    """`--out "$OUT"` with OUT unset: train printed 'best model saved to ' and wrote nothing; data make wrote to
    stdout; an empty --valid, --init or --pretrained was read as not given (a run without its validation file,
    or from scratch).  An empty name is refused by its option, before any work, and nothing is written."""
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "d.tsv"
    d.write_text("".join(f"{'01' * (i % 5 + 1)}\t{i % 2}\n" for i in range(40)))
    m = tmp_path / "m.bptt"
    if argv[0] in ("evaluate", "export", "embeddings"):
        assert run(capsys, "train", "--data", str(d), "--epochs", "1", "--quiet", "--out", str(m))[0] == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    rc, out, err = run(capsys, *[a.format(d=d, m=m, e=empty) for a in argv])
    opt = argv[argv.index("{e}") - 1]
    assert rc == 2 and f"{opt} {empty!r} names no" in err and out == "", (out, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_predict_text_col_names_the_column_and_defaults_to_the_one_training_read(tmp_path, capsys, parity):
    """A CSV or JSON file whose sequences are under a name no rule finds (`body`, beside `id` and `notes`):
    `bptt predict --text-col body` reads it, and so does a model trained with `--text-col body` without
    the option; a plain file or the arguments have no columns, and saying one is refused by name."""
    tr, _ = parity
    seqs = ["0110", "1", "10101"]
    rows = [line.split("\t") for line in tr.read_text().splitlines()[1:]]
    train_csv = tmp_path / "train.csv"
    train_csv.write_text("id,body,label\n" + "".join(f"{k},{s},{y}\n" for k, (s, y) in enumerate(rows)))
    m, m2 = tmp_path / "p.bptt", tmp_path / "q.bptt"
    assert run(capsys, "train", "--data", str(tr), "--task", "classify", "--epochs", "2", "--quiet", "--out", str(m))[0] == 0
    assert run(capsys, "train", "--data", str(train_csv), "--text-col", "body", "--task", "classify", "--epochs", "2",
               "--quiet", "--out", str(m2))[0] == 0
    new = tmp_path / "new.csv"
    new.write_text("id,body,notes\n" + "".join(f"{k},{s},seen on a monday\n" for k, s in enumerate(seqs)))
    (tmp_path / "new.jsonl").write_text("".join(json.dumps({"id": k, "body": s, "notes": "x y"}) + "\n"
                                                for k, s in enumerate(seqs)))
    for model in (m, m2):
        rc, want, _ = run(capsys, "predict", "--model", str(model), *seqs)
        assert rc == 0 and len(want.splitlines()) == 3
        for f in (new, tmp_path / "new.jsonl"):
            rc, out, err = run(capsys, "predict", "--model", str(model), "--data", str(f), "--text-col", "body")
            assert rc == 0 and out == want and "<unk>" not in err, (f, out, err)
    # two columns of bit strings: the model trained with --text-col body reads body, --text-col names the other
    both = tmp_path / "both.csv"
    both.write_text("other,body\n" + "".join(f"{s[::-1] + '1'},{s}\n" for s in seqs))
    rc, out, err = run(capsys, "predict", "--model", str(m2), "--data", str(both))
    assert rc == 0 and out == run(capsys, "predict", "--model", str(m2), *seqs)[1], err
    rc, out, err = run(capsys, "predict", "--model", str(m2), "--data", str(both), "--text-col", "other")
    assert rc == 0 and out == run(capsys, "predict", "--model", str(m2), *[s[::-1] + "1" for s in seqs])[1], err
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(new), "--text-col", "nope")
    assert rc == 2 and out == "" and "new.csv:1: no column named 'nope' (its first line: 'id', 'body', 'notes')" in err
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(tmp_path / "new.jsonl"), "--text-col", "nope")
    assert rc == 2 and out == "" and "new.jsonl:1: needs an object with key 'nope' (it has 'id', 'body', 'notes')" in err
    (tmp_path / "plain.txt").write_text("".join(f"{s}\n" for s in seqs))
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(tmp_path / "plain.txt"), "--text-col", "body")
    assert rc == 2 and "--text-col 'body': " in err and "read one sequence a line" in err
    rc, out, err = run(capsys, "predict", "--model", str(m), "--text-col", "body", "0110")
    assert rc == 2 and "--text-col 'body' names a column of a --data file" in err
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(new), "--text-col", "")
    assert rc == 2 and "--text-col '' names no column" in err


def test_train_names_validation_tokens_the_vocabulary_lacks(tmp_path, capsys, parity):
    """A validation file in other symbols than the training file's trained a run at chance level with nothing
    said; now a line counts the tokens read as <unk>, shows them, and asks when they are most of the file."""
    tr, _ = parity
    other = tmp_path / "other.tsv"
    other.write_text("".join(f"{s}\t{k % 2}\n" for k, s in enumerate(["xyz", "zz", "xy", "y"] * 5)))
    some = tmp_path / "some.tsv"
    some.write_text("".join(f"{s}\t{k % 2}\n" for k, s in enumerate(["0110", "01x", "1111", "0"] * 5)))
    for valid, want in ((other, "note: 40 of the 40 tokens of {} (100.0%) are not in the vocabulary of the training "
                                "file and are read as <unk>: 'x', 'y', 'z'; most of its tokens: is it the validation "
                                "file of these training data?"),
                        (some, "note: 5 of the 60 tokens of {} (8.3%) are not in the vocabulary of the training file "
                               "and are read as <unk>: 'x'\n"),
                        (tr, None)):
        rc, out, err = run(capsys, "train", "--data", str(tr), "--valid", str(valid), "--epochs", "1", "--quiet",
                           "--out", str(tmp_path / "m.bptt"))
        assert rc == 0, err
        if want is None:
            assert "<unk>" not in out
        else:
            assert want.format(valid) in out, out
        if valid != tr:
            rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "m.bptt"), "--data", str(valid))
            share = "(100.0% of the file's 40); most of its tokens: was the model trained on data like these?" \
                if valid == other else "(8.3% of the file's 60)\n"
            assert rc == 0 and f"token(s) not in the model's vocabulary were read as <unk> {share}" in out, out
        for f in tmp_path.glob("m.bptt*"):
            f.unlink()


def test_train_help_groups_its_options(capsys):
    """276 lines of options in one list: now under headings, each option in one of them."""
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    heads = [line[:-1] for line in out.splitlines() if line and not line[0].isspace() and line.endswith(":")]
    assert heads == ["options", "data", "the model", "language models (--task lm)", "optimisation",
                     "how long it trains, and which model it keeps", "the run"], heads
    options = out[out.index("\noptions:"):out.index("\ndata:")]
    assert "--help" in options and "--data" not in options  # the default group holds --help alone
    assert out.rstrip().endswith("example: bptt train --data train.tsv --valid valid.tsv --out model.bptt")


@pytest.mark.parametrize("n", ["0", "1001", "99999999999999999999"])
def test_restarts_out_of_range_are_refused_before_any_run(tmp_path, capsys, parity, n):
    """--restarts 99999999999999999999 listed that many seeds and filled the memory (the CLI fuzz, killed by
    the kernel); now at most 1000, refused by name, and the library's run_restarts refuses it too."""
    tr, _ = parity
    rc, out, err = run(capsys, "train", "--data", str(tr), "--out", str(tmp_path / "m.bptt"), "--restarts", n, "--quiet")
    assert rc == 2 and f"--restarts must be a whole number from 1 to 1000, got {n}" in err
    assert not list(tmp_path.glob("m.bptt*"))
    from bptt.restarts import run_restarts

    with pytest.raises(ValueError, match=rf"n must be a whole number of runs from 1 to 1000, got {n}"):
        run_restarts(None, None, None, str(tmp_path / "m.bptt"), int(n), {})


def test_the_lstm_on_classify_data_of_symbols_starts_with_memories_over_the_training_lengths(tmp_path, capsys, parity):
    """The default --chrono-init: the longest training length for the LSTM on classify data of symbols from
    2,048 training sequences on, said on a line, saved in the model's config; 0 (a forget bias of 1) where
    it was not measured or lost (tags, other cells, fewer sequences, --chrono-init 0); a resumed run keeps
    the interrupted model's, also one from before the option."""
    small, _ = parity  # 300 sequences
    tr = tmp_path / "big.tsv"
    assert run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "2048", "--seed", "1", "--out", str(tr))[0] == 0
    m = tmp_path / "m.bptt"
    rc, out, err = run(capsys, "train", "--data", str(small), "--out", str(m), "--max-steps", "2", "--hidden", "4")
    assert rc == 0 and "gate biases" not in out and checkpoint.load(m).model.config.chrono_init == 0, err
    common = ["train", "--data", str(tr), "--out", str(m), "--max-steps", "2", "--hidden", "4"]
    rc, out, err = run(capsys, *common)
    assert rc == 0 and "LSTM gate biases for memories of up to 8 steps, the longest training length" in out, err
    assert checkpoint.load(m).model.config.chrono_init == 8
    for extra in (["--chrono-init", "0"], ["--cell", "gru"], ["--cell", "rnn"]):
        rc, out, err = run(capsys, *common, *extra)
        assert rc == 0 and "gate biases" not in out and checkpoint.load(m).model.config.chrono_init == 0, (extra, err)
    rc, out, err = run(capsys, *common, "--chrono-init", "30")
    assert rc == 0 and "gate biases" not in out and checkpoint.load(m).model.config.chrono_init == 30, err  # as given
    tags = tmp_path / "tags.tsv"
    tags.write_text("".join(f"{s}\t{' '.join('y' if c == 'a' else 'n' for c in s)}\n" for s in ("ab", "ba", "aab") * 20))
    rc, out, err = run(capsys, "train", "--data", str(tags), "--out", str(m), "--max-steps", "2", "--cell", "lstm")
    assert rc == 0 and checkpoint.load(m).model.config.chrono_init == 0, err
    for bad, said in ((["--cell", "gru", "--chrono-init", "8"], "--chrono-init 8: it sets the LSTM's gate biases, and "
                       "this run trains the gru cell"), (["--chrono-init", "2"], "--chrono-init 2: the number of steps "
                       "must be 0 (a forget bias of 1) or at least 3")):
        rc, out, err = run(capsys, *common, *bad)
        assert rc == 2 and said in err, err
    # a run that ends short of 99% on validation names --chrono-init 0 first (a language that it left unlearned),
    # after the limit that ended it
    va = tmp_path / "va.tsv"
    va.write_text("".join(f"{'01' * k}\t{k % 2}\n{'10' * k}\t{1 - k % 2}\n" for k in range(1, 5)))  # not parity
    rc, out, err = run(capsys, *common, "--valid", str(va), "--max-steps", "70")  # an epoch or more
    assert rc == 0 and "then --chrono-init 0 (a forget bias of 1), the tutorial's cell (--cell rnn)" in out, out
    # a run interrupted with a forget bias of 1 (as every run before the option) resumes as it began
    rc, out, err = run(capsys, *common, "--chrono-init", "0", "--max-steps", "3")
    assert rc == 0, err
    rc, out, err = run(capsys, "train", "--data", str(tr), "--out", str(m), "--hidden", "4", "--max-steps", "5",
                       "--resume")
    assert rc == 0 and "resuming at" in out and "gate biases" not in out, err
    assert checkpoint.load(str(m) + ".last").model.config.chrono_init == 0
