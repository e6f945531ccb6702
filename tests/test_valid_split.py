"""--valid-split: part of the training file held out as validation data, for a user with one file."""

import csv
import json

import numpy as np
import pytest

from bptt import checkpoint
from bptt.cli import UserError, _split_examples
from bptt.data import Example, read_examples
from conftest import run


def _examples(counts: dict) -> list:
    out, line = [], 1
    for label, n in counts.items():
        for _ in range(n):
            out.append(Example([str(line)], label, line))
            line += 1
    rng = np.random.default_rng(1)
    return [out[i] for i in rng.permutation(len(out))]


def test_the_split_holds_out_each_labels_fraction_and_nothing_twice():
    ex = _examples({"a": 500, "b": 100, "c": 7, "d": 1})
    train, valid = _split_examples(ex, 0.2, "classify", 3, "t.tsv")
    count = lambda part, lab: sum(e.target == lab for e in part)  # noqa: E731
    assert [count(valid, lab) for lab in "abcd"] == [100, 20, 1, 0]  # round(0.2 * n); the only "d" stays in training
    assert sorted(e.line for e in train + valid) == list(range(1, 609))  # a partition of the file
    assert [e.line for e in train] == [e.line for e in ex if e in train]  # each part keeps the file's order
    again = _split_examples(ex, 0.2, "classify", 3, "t.tsv")
    assert [e.line for e in again[1]] == [e.line for e in valid]  # --seed decides it: a resumed run gets the same
    other = _split_examples(ex, 0.2, "classify", 4, "t.tsv")
    assert {e.line for e in other[1]} != {e.line for e in valid}
    # tags and numbers: the fraction of all sequences; a label of 2 keeps one in training at any fraction
    train, valid = _split_examples(ex, 0.25, "tag", 3, "t.tsv")
    assert len(valid) == 152 and len(train) == 456
    train, valid = _split_examples(_examples({"a": 2, "b": 2}), 0.9, "classify", 0, "t.tsv")
    assert sorted(e.target for e in train) == ["a", "b"] == sorted(e.target for e in valid)
    with pytest.raises(UserError, match=r"--valid-split 0.1: of t.tsv's 3 sequence\(s\) it holds out none"):
        _split_examples(_examples({"a": 3}), 0.1, "classify", 0, "t.tsv")


@pytest.fixture
def rule(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "d.tsv"
    rows = ["".join(rng.choice(list("ab"), rng.integers(1, 12))) for _ in range(400)]
    path.write_text("".join(f"{s}\t{int(s[0] == s[-1])}\n" for s in rows))
    return path


def test_training_with_a_split_validates_on_the_held_out_sequences_and_resumes_exactly(tmp_path, capsys, rule):
    common = ["train", "--data", str(rule), "--valid-split", "0.25", "--hidden", "8", "--epochs", "3",
              "--batch-size", "16", "--no-curriculum", "--seed", "2"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    rc, out, _ = run(capsys, *common, "--out", str(a))
    assert rc == 0 and "validation: 100 of" in out and "400 sequences held out (--valid-split 0.25, drawn with " \
        "--seed 2, the same fraction of each label's), the rest trained on" in out
    assert "300 training sequences" in out and "100 validation sequences" in out and "no --valid data" not in out
    with open(str(a) + ".metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and all(r["valid_accuracy"] not in ("", None) for r in rows)
    # the held-out sequences are what it validated on: bptt evaluate on them alone gives the kept epoch's accuracy
    ex, _ = read_examples(rule, "classify")
    lines = rule.read_text().splitlines()
    vfile = tmp_path / "held.tsv"
    vfile.write_text("".join(lines[e.line - 1] + "\n" for e in _split_examples(ex, 0.25, "classify", 2, "d")[1]))
    rc, out, _ = run(capsys, "evaluate", "--model", str(a), "--data", str(vfile), "--json")
    got = json.loads(out)
    assert rc == 0 and got["n"] == 100
    assert got["accuracy"] == pytest.approx(max(float(r["valid_accuracy"]) for r in rows), abs=1e-9)
    # stopped and resumed, the run ends where the one that never stopped does (the same split, the same steps)
    assert run(capsys, *common, "--out", str(b), "--max-steps", "25")[0] == 0
    rc, out, _ = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0 and "resuming at epoch 2" in out, out
    pa, pb = checkpoint.load(str(a) + ".last").model.params, checkpoint.load(str(b) + ".last").model.params
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    # another fraction is other training data: refused on resume, as another --data is
    rc, _, err = run(capsys, *common[:4], "0.3", *common[5:], "--out", str(b), "--resume")
    assert rc == 2 and "other data" in err, err


def test_a_language_model_holds_out_the_end_of_its_text(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat. " * 200 + "zzz qqq " * 30)  # z and q only in the last part
    rc, out, _ = run(capsys, "train", "--data", str(text), "--task", "lm", "--level", "char", "--valid-split", "0.05",
                     "--hidden", "8", "--epochs", "1", "--window", "16", "--out", str(tmp_path / "m.bptt"))
    n = len(text.read_text())
    k = round(0.05 * n)
    assert rc == 0 and f"validation: the last {k:,} of {text}'s {n:,} char tokens held out" in out, out
    vocab = checkpoint.load(tmp_path / "m.bptt").meta["vocab"]
    assert "z" not in vocab and "q" not in vocab and "t" in vocab  # the vocabulary is the trained part's
    with open(str(tmp_path / "m.bptt") + ".metrics.csv") as f:
        assert list(csv.DictReader(f))[0]["valid_loss"] not in ("", None)


@pytest.mark.parametrize("args,said", [
    (["--valid-split", "0"], "--valid-split must be a fraction between 0 and 1 (0.1 holds out a tenth), got 0"),
    (["--valid-split", "1"], "got 1"),
    (["--valid-split", "-0.5"], "got -0.5"),
    (["--valid-split", "nan"], "got nan"),
    (["--valid-split", "0.1", "--valid", "X"], "--valid-split 0.1 holds out part of --data as validation data, and "
                                                "--valid 'X' gives a file of its own: give one of them"),
])
def test_bad_splits_are_refused_by_name(tmp_path, capsys, rule, args, said):
    args = [str(rule) if a == "X" else a for a in args]
    said = said.replace("'X'", repr(str(rule)))
    rc, _, err = run(capsys, "train", "--data", str(rule), "--out", str(tmp_path / "m.bptt"), *args)
    assert rc == 2 and said in err, err
    assert not (tmp_path / "m.bptt").exists()


def test_a_split_that_leaves_a_small_set_of_symbols_says_what_it_costs(tmp_path, capsys, rule):
    """Measured (one-file-valid-split.log): at 600 strings the held-out tenth cost a rule the whole file learned."""
    common = ["train", "--data", str(rule), "--epochs", "1", "--hidden", "4", "--out", str(tmp_path / "m.bptt")]
    rc, out, _ = run(capsys, *common, "--valid-split", "0.1")
    assert rc == 0 and "note: --valid-split leaves 360 training sequences of symbols, a small set" in out, out
    rc, out, _ = run(capsys, *common)  # no split: nothing to say
    assert rc == 0 and "note: --valid-split" not in out
    big = tmp_path / "big.tsv"  # 2,048 and more training sequences are no small set
    big.write_text(rule.read_text() * 6)
    rc, out, _ = run(capsys, "train", "--data", str(big), "--epochs", "1", "--hidden", "4", "--valid-split", "0.1",
                     "--out", str(tmp_path / "b.bptt"))
    assert rc == 0 and "2160 training sequences" in out and "note: --valid-split" not in out, out
