"""`bptt.defaults_for`: the command line's data-decided defaults for data built in Python.

The reference is `bptt train` itself: the same data written to files and trained one step with no
option but the data's, whose model file and state file hold what it chose."""

import dataclasses

import numpy as np
import pytest

import bptt
from bptt import Model, ModelConfig, checkpoint
from bptt.cli import main
from bptt.data import Labels, Vocab
from bptt.lm import TextStream
from bptt.train import SeqData, TrainConfig, evaluate, train

MODEL_FIELDS = ("cell", "hidden_size", "output_size", "vocab_size", "input_size", "head", "loss", "bidirectional",
                "chrono_init", "num_layers", "embed_dim")
TRAIN_FIELDS = ("lr", "batch_size", "weight_decay", "curriculum", "epochs", "monitor", "patience", "dropout", "clip",
                "optimizer", "stop_perfect", "perfect_loss", "lr_schedule")


def _write(path, rows):
    with open(path, "w") as f:
        for seq, target in rows:
            f.write(" ".join(seq) + "\t" + (" ".join(target) if isinstance(target, list) else target) + "\n")


def _symbols(rng, n, lo, hi, alphabet="abc"):
    """Classify rows over ``alphabet``: 1 when the count of a's is odd."""
    rows = []
    for _ in range(n):
        s = list(rng.choice(list(alphabet), int(rng.integers(lo, hi + 1))))
        rows.append((s, str(s.count("a") % 2)))
    return rows


def _words(rng, n):
    """Sentences over 1,500 made-up lower-case words (text: more than 1000 distinct), labelled by a word."""
    vocab = [f"w{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)}" for i in range(1500)]
    rows = []
    for _ in range(n):
        s = list(rng.choice(vocab, int(rng.integers(3, 12))))
        rows.append((s, "pos" if vocab[0] in s or len(s) % 2 else "neg"))
    return rows


def _numbers(rng, n):
    rows = []
    for _ in range(n):
        x = rng.standard_normal(int(rng.integers(2, 20)))
        rows.append(([f"{v:.3f}" for v in x], "up" if x[-1] > x[0] else "down"))
    return rows


def _regress(rng, n):
    rows = []
    for _ in range(n):
        s = list(rng.choice(list("ab"), int(rng.integers(1, 15))))
        rows.append((s, f"{s.count('a') / len(s):.4f}"))
    return rows


def _tags(rng, n):
    rows = []
    for _ in range(n):
        s = list(rng.choice(list("xyz"), int(rng.integers(1, 20))))
        rows.append((s, ["1" if a == b else "0" for a, b in zip(s, s[1:] + ["."])]))
    return rows


def _step_numbers(rng, n):
    rows = []
    for _ in range(n):
        s = list(rng.choice(list("ab"), int(rng.integers(1, 12))))
        rows.append((s, [f"{(s[:i + 1].count('a')) / 4:.2f}" for i in range(len(s))]))
    return rows


def _seqdata(rows, task, regress=False, numbers=False):
    """The rows as bptt train encodes them: token ids of Vocab.build (0 the pad, 1 <unk>), class ids of
    Labels.build, or floats."""
    if numbers:
        ids = [np.array([[float(v)] for v in s], dtype=np.float32) for s, _ in rows]
    else:
        vocab = Vocab.build(s for s, _ in rows)
        ids = [vocab.encode(s) for s, _ in rows]
    if regress:
        targets = [np.array([float(v) for v in t], np.float32) if isinstance(t, list) else float(t) for _, t in rows]
    else:
        labels = Labels.build(t for _, t in rows for t in (t if isinstance(t, list) else [t]))
        targets = [np.array([labels.index[v] for v in t]) if isinstance(t, list) else labels.index[t] for _, t in rows]
    return SeqData(ids, targets, task)


CASES = {  # name: (rows of training data, task of the SeqData, regression?, numbers?, options for bptt train)
    "symbols-3000": (lambda r: _symbols(r, 3000, 1, 40), "classify", False, False, []),
    "symbols-1500": (lambda r: _symbols(r, 1500, 1, 40), "classify", False, False, []),
    "symbols-600": (lambda r: _symbols(r, 600, 1, 40, "ab"), "classify", False, False, []),
    "symbols-no-valid": (lambda r: _symbols(r, 300, 1, 10), "classify", False, False, ["no-valid"]),
    "short-symbols": (lambda r: _symbols(r, 200, 1, 2), "classify", False, False, []),
    "text": (lambda r: _words(r, 2500), "classify", False, False, ["--tokenize", "space"]),
    "numbers": (lambda r: _numbers(r, 400), "classify", False, True, ["--inputs", "numbers"]),
    "regress": (lambda r: _regress(r, 300), "classify", True, False, ["--task", "regress"]),
    "tags": (lambda r: _tags(r, 300), "tag", False, False, []),
    "step-regress": (lambda r: _step_numbers(r, 300), "tag", True, False, ["--task", "regress"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_defaults_for_chooses_what_bptt_train_chooses(tmp_path, name):
    make, task, regress, numbers, opts = CASES[name]
    rng = np.random.default_rng(7)
    rows = make(rng)
    _write(tmp_path / "train.tsv", rows)
    valid = "no-valid" not in opts
    opts = [o for o in opts if o != "no-valid"]
    if valid:
        _write(tmp_path / "valid.tsv", make(rng)[:50])
        opts += ["--valid", str(tmp_path / "valid.tsv")]
    out = tmp_path / "m.bptt"
    assert main(["train", "--data", str(tmp_path / "train.tsv"), "--out", str(out), "--max-steps", "1", "--quiet",
                 *opts]) == 0
    cli_model = checkpoint.load(str(out)).model.config
    cli_train = checkpoint.load(str(out) + ".last").meta["train_config"]

    model_cfg, train_cfg = bptt.defaults_for(_seqdata(rows, task, regress, numbers), valid=valid)
    for f in MODEL_FIELDS:
        assert getattr(model_cfg, f) == getattr(cli_model, f), f
    for f in TRAIN_FIELDS:
        assert getattr(train_cfg, f) == cli_train[f], f


def test_defaults_for_a_language_model_chooses_what_bptt_train_chooses(tmp_path):
    rng = np.random.default_rng(3)
    text = "".join(rng.choice(list("abcdefgh \n"), 6000))
    (tmp_path / "t.txt").write_text(text)
    (tmp_path / "v.txt").write_text(text[:1000])
    out = tmp_path / "lm.bptt"
    assert main(["train", "--task", "lm", "--data", str(tmp_path / "t.txt"), "--valid", str(tmp_path / "v.txt"),
                 "--out", str(out), "--max-steps", "1", "--quiet"]) == 0
    ck = checkpoint.load(str(out))
    cli_train = checkpoint.load(str(out) + ".last").meta["train_config"]
    vocab = Vocab(ck.meta["vocab"])
    model_cfg, train_cfg = bptt.defaults_for(TextStream(vocab.encode(list(text))), vocab_size=len(vocab))
    for f in MODEL_FIELDS:
        assert getattr(model_cfg, f) == getattr(ck.model.config, f), f
    for f in TRAIN_FIELDS:
        assert getattr(train_cfg, f) == cli_train[f], f


def _parity(rng, n, lo, hi):
    xs = [rng.integers(2, 4, int(rng.integers(lo, hi + 1))) for _ in range(n)]
    return SeqData(xs, [int((x == 3).sum() % 2) for x in xs], "classify")


def test_defaults_for_learns_parity_past_its_training_lengths():
    """Parity of lengths 1-40, tested at 41-120: the plain ModelConfig() / TrainConfig() stay near chance
    there (benchmarks/python_defaults.py); the command line's defaults learn it."""
    rng = np.random.default_rng(0)
    tr, va, te = _parity(rng, 3000, 1, 40), _parity(rng, 300, 1, 40), _parity(rng, 300, 41, 120)
    model_cfg, train_cfg = bptt.defaults_for(tr)
    assert (model_cfg.cell, train_cfg.curriculum) == ("lstm", True)
    model = Model(model_cfg, rng=0)
    train(model, tr, va, dataclasses.replace(train_cfg, max_time=120), log=lambda *a, **k: None)
    assert evaluate(model, te)["accuracy"] >= 0.99


BAD = [  # (ids, targets, task, keyword arguments, the error's words)
    ([np.array([], int)] * 2, [0, 1], "classify", {}, "sequence 0 is empty"),
    ([np.array([2, 3])] * 2, [True, False], "classify", {}, "target 0 is True/False"),
    ([np.array([2, 3])], ["pos"], "classify", {}, "target 0 is a name .'pos'."),
    ([np.array([-2, 3])], [0], "classify", {}, "the token id -2; ids are at least 1"),
    ([np.array([0, 3])], [0], "classify", {}, "the token id 0"),
    ([np.array([2, 3])], [float("nan")], "classify", {}, "target 0 holds NaN or inf"),
    ([np.array([0.5, 0.3])], [1], "classify", {}, r"sequence 0 must be integer token ids .* got float64 \(2,\)"),
    ([np.array([2, 3])], [-1], "classify", {}, r"target 0 \(-1\) is not a class id"),
    ([np.array([2, 3])], [1.5], "classify", {"loss": "softmax"}, r"target 0 \(1.5\) is not a class id"),
    ([np.array([2, 3])], [np.array([0, 1, 1])], "tag", {}, "sequence 0 has 2 steps but 3 tags"),
    ([np.array([[0.5], [np.nan]])], [1], "classify", {}, "sequence 0 holds NaN or inf"),
    ([np.array([[0.5]]), np.array([2])], [1, 0], "classify", {}, "sequence 1 is token ids, and sequence 0 floats"),
    ([np.array([[0.5]]), np.array([[2.0, 1.0]])], [1, 0], "classify", {}, "sequence 1 has 2 numbers a step"),
    ([np.array([2, 7])], [1], "classify", {"vocab_size": 5}, "above every token id .the largest is 7., got 5"),
    ([np.array([2, 7])], [1], "classify", {"vocab_size": 9.5}, "got 9.5"),
    ([np.zeros((3, 2), np.float32)], [1], "classify", {"vocab_size": 10}, "vocab_size=10: the inputs are float"),
    ([np.array([2, 3])], [1], "classify", {"loss": "hinge"}, "loss='hinge' is not known"),
]


@pytest.mark.parametrize("ids, targets, task, kw, words", BAD)
def test_defaults_for_refuses_data_it_cannot_read_by_name(ids, targets, task, kw, words):
    with pytest.raises((ValueError, TypeError), match=words):
        bptt.defaults_for(SeqData(ids, targets, task), **kw)


def test_defaults_for_refuses_what_is_not_data():
    with pytest.raises(TypeError, match="train_data must be"):
        bptt.defaults_for([[2, 3]])
    with pytest.raises(ValueError, match="holds no sequences"):
        bptt.defaults_for(SeqData([], [], "classify"))
    floats = SeqData([np.zeros((3, 2), np.float32)], [1], "classify")
    assert bptt.defaults_for(floats).model.input_size == 2
    assert bptt.defaults_for(SeqData([[2, 3], [3]], [0, 1], "classify")).model.vocab_size == 4  # lists of ids


def test_defaults_for_keeps_the_plain_configs_as_the_library_defaults():
    """The library's own defaults stay the tutorial's setting; defaults_for is asked for."""
    assert ModelConfig.cell == "rnn" and TrainConfig().curriculum is False
