"""`bptt evaluate --by-length`: every length on a row of its own up to 20 lengths, else ranges of a round
width; the rows' counts and figures against the per-length ones (`--json`) and the model's own numbers."""

import json

import numpy as np
import pytest

from bptt.cli import MAX_LENGTH_ROWS, length_groups
from conftest import run


def test_length_groups_hand_written():
    assert length_groups([3, 1, 2], (1, 2)) == ([(1, 1), (2, 2), (3, 3)], 1)
    assert length_groups(range(21, 201), (1, 20)) == ([(a, a + 9) for a in range(21, 201, 10)], 10)
    assert length_groups(range(41, 501), (1, 40)) == ([(a, a + 49) for a in range(41, 491, 50)] + [(491, 500)], 50)
    # the training lengths end inside a range: it is cut there, so no row mixes trained and untrained lengths
    assert length_groups(range(5, 35), (1, 21))[0][:10] == [(5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16),
                                                         (17, 18), (19, 20), (21, 21), (22, 23)]
    assert length_groups([1, 2, 3, 500], (0, 0)) == ([(1, 1), (2, 2), (3, 3), (500, 500)], 1)
    assert length_groups(list(range(1, 30)) + [1000], (0, 0)) == ([(1, 50), (951, 1000)], 50)


@pytest.mark.parametrize("seed", range(20))
def test_length_groups_partition_the_lengths_with_the_smallest_round_width(seed):
    rng = np.random.default_rng(seed)
    ks = sorted(set(rng.integers(1, int(rng.choice([30, 300, 5000])), int(rng.integers(1, 400))).tolist()))
    tr = (1, int(rng.integers(0, 60)))
    groups, width = length_groups(ks, tr)
    owner = [[g for g in groups if g[0] <= k <= g[1]] for k in ks]
    assert all(len(o) == 1 for o in owner)  # every length on exactly one row
    assert all(any(lo <= k <= hi for k in ks) for lo, hi in groups)  # no empty row
    assert all(b[0] > a[1] for a, b in zip(groups, groups[1:]))  # in order, not overlapping
    assert all((hi <= tr[1]) or (lo > tr[1]) for lo, hi in groups)  # trained or not, never both
    if len(ks) <= MAX_LENGTH_ROWS:
        assert width == 1 and groups == [(k, k) for k in ks]
        return
    assert all(hi - lo + 1 <= width for lo, hi in groups)
    assert len(groups) <= MAX_LENGTH_ROWS + 1  # + 1: a range cut where the training lengths end
    rounds = [m * 10 ** e for e in range(19) for m in (1, 2, 5)]
    smaller = rounds[rounds.index(width) - 1]
    assert -(-(ks[-1] - ks[0] + 1) // smaller) > MAX_LENGTH_ROWS  # a smaller round width needs too many rows


def _table(out):
    """The --by-length rows: {span: (n, figure)} and the note above them."""
    lines = out.strip().split("\n")
    at = next(i for i, line in enumerate(lines) if line.split()[:2] == ["length", "n"])
    return {ln.split()[0]: (int(ln.split()[1]), ln.split()[2]) for ln in lines[at + 1:]}, lines[at - 1]


def test_evaluate_groups_many_lengths_and_each_row_sums_the_lengths_it_holds(tmp_path, capsys):
    tr, te, m = tmp_path / "train.tsv", tmp_path / "test.tsv", tmp_path / "m.bptt"
    assert run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "300", "--seed", "1", "--out", str(tr))[0] == 0
    assert run(capsys, "data", "make", "parity", "--lengths", "1-95", "--n", "400", "--seed", "2", "--out", str(te))[0] == 0
    assert run(capsys, "train", "--data", str(tr), "--task", "classify", "--cell", "rnn", "--hidden", "8", "--epochs", "2",
               "--no-curriculum", "--quiet", "--out", str(m))[0] == 0
    rc, out, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(te), "--json", "--by-length")
    per = {int(k): v for k, v in json.loads(out)["by_length"].items()}
    assert rc == 0 and len(per) > MAX_LENGTH_ROWS  # --json keeps every length
    rc, out, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(te), "--by-length")
    rows, note = _table(out)
    assert rc == 0 and note == f"{len(per)} different lengths, grouped by 5 (--json gives each length)"
    assert list(rows)[:3] == ["1-5", "6-8", "9-13"]  # the training lengths 1-8 end a range
    assert out.count("(trained)") == 2
    for span, (n, acc) in rows.items():
        lo, hi = (int(v) for v in (span.split("-") if "-" in span else (span, span)))
        ks = [k for k in per if lo <= k <= hi]
        assert n == sum(per[k]["n"] for k in ks)
        right = sum(per[k]["n"] * per[k]["accuracy"] for k in ks)
        assert acc == f"{right / n:.2%}"
    assert sum(n for n, _ in rows.values()) == 400


def _ck(cell="lstm", task="classify", vocab=6, inputs=None, tr=(1, 40)):
    from types import SimpleNamespace

    meta = {"task": task, "vocab": ["<pad>", "<unk>"] + [str(i) for i in range(vocab - 2)],
            "train_lengths": list(tr) if tr else None}
    if inputs:
        meta["inputs"] = inputs
    return SimpleNamespace(meta=meta, model=SimpleNamespace(config=SimpleNamespace(cell=cell)))


def test_a_gated_classifier_right_within_its_lengths_but_not_past_them_is_pointed_to_the_tutorials_cell():
    from bptt.cli import _longer_hint

    L = np.array([10, 20, 40, 41, 100, 200] * 50)
    right = np.ones(len(L), bool)
    wrong_long = right.copy()
    wrong_long[(L == 200).nonzero()[0][:5]] = False  # 5 of the 150 longer sequences
    note = _longer_hint(_ck(), L, wrong_long)
    assert note.startswith("note: 96.67% right on the 150 sequences longer than the training ones (up to 40), "
                           "against 100.00% within them.") and "--cell rnn" in note and "not on a test file" in note
    assert "on counting rules (balanced brackets of any depth, a^n b^n, a majority) it fell further" in note
    assert _longer_hint(_ck(cell="gru"), L, wrong_long) is not None
    assert _longer_hint(_ck(), L, right) is None  # right everywhere
    assert _longer_hint(_ck(cell="rnn"), L, wrong_long) is None  # already the tutorial's cell
    assert _longer_hint(_ck(task="tag"), L, wrong_long) is None
    assert _longer_hint(_ck(vocab=5000), L, wrong_long) is None  # text, not symbols
    assert _longer_hint(_ck(inputs="numbers"), L, wrong_long) is None
    assert _longer_hint(_ck(tr=None), L, wrong_long) is None  # a model file without its training lengths
    assert _longer_hint(_ck(), L[L <= 40], wrong_long[L <= 40]) is None  # nothing longer than the training
    short_wrong = wrong_long.copy()
    short_wrong[(L == 10).nonzero()[0][:3]] = False  # 98% within the training lengths: not learned there
    assert _longer_hint(_ck(), L, short_wrong) is None
    assert _longer_hint(_ck(), L[L > 40], np.arange(150) % 2 == 0) is None  # none within: 50% is no rule learned
    only_long = _longer_hint(_ck(), L[L > 40], wrong_long[L > 40])
    assert only_long.startswith("note: 96.67% right on the 150 sequences longer than the training ones (up to 40), "
                                "against 100.00% on the 50 nearest to them (length 41). ")
    # none within, right on the nearest longer ones but on few of the rest (a memory that fades past the
    # training lengths, as a new user's "contains abc" LSTM did: 100% at 41-55, 77% over 41-200): a note
    fades = np.array([41 + k % 160 for k in range(1000)])
    faded = fades <= 90
    note = _longer_hint(_ck(), fades, faded)
    assert note is not None and note.startswith(
        f"note: {faded.mean():.2%} right on the 1,000 sequences longer than the training ones (up to 40), against "
        "100.00% on the 105 nearest to them (lengths 41-55). "), note
    assert _longer_hint(_ck(), fades, faded & (np.arange(1000) % 20 != 0)) is None  # 95% on the nearest: no rule


def test_evaluate_prints_the_note_for_an_lstm_classifier_of_symbols(tmp_path, capsys, monkeypatch):
    """The command line shows the note under the accuracy (not in --json), from the evaluation's own
    per-sequence results."""
    import bptt.cli

    tr, te, m = tmp_path / "train.tsv", tmp_path / "test.tsv", tmp_path / "m.bptt"
    assert run(capsys, "data", "make", "parity", "--lengths", "1-8", "--n", "200", "--seed", "1", "--out", str(tr))[0] == 0
    assert run(capsys, "data", "make", "parity", "--lengths", "1-30", "--n", "200", "--seed", "2", "--out", str(te))[0] == 0
    assert run(capsys, "train", "--data", str(tr), "--cell", "lstm", "--hidden", "8", "--epochs", "1", "--quiet",
               "--out", str(m))[0] == 0
    real = bptt.cli.evaluate

    def longer_wrong(model, data, **k):  # the model's results, with the longer sequences' first one made wrong
        res = real(model, data, **k)
        res["correct"] = np.ones(len(data), bool)
        res["correct"][int(np.argmax(data.lengths > 8))] = False
        return res

    monkeypatch.setattr(bptt.cli, "evaluate", longer_wrong)
    rc, out, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(te))
    lines = out.strip().split("\n")
    assert rc == 0 and lines[1].startswith("note: ") and "longer than the training ones (up to 8), against 100.00%" \
        in lines[1], out
    rc, out, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(te), "--json")
    assert rc == 0 and "note" not in out and json.loads(out)
