"""`bptt train --task regress`: one number (or several) per sequence, learned under standardised targets,
evaluated and predicted in the data's units; checked against the model's own equations and NumPy."""

import json
import re

import numpy as np
import pytest

from bptt import checkpoint
from bptt.data import Vocab, tokenize
from conftest import run


def _fraction_file(path, n, lo, hi, seed, k=1):
    """Strings over a/b labelled with the fraction of a's (and, with k=2, also 10 x the fraction of b's + 3)."""
    rng = np.random.default_rng(seed)
    rows = []
    with open(path, "w") as f:
        for _ in range(n):
            s = "".join(rng.choice(list("ab"), int(rng.integers(lo, hi + 1))))
            y = [s.count("a") / len(s)] + ([10 * s.count("b") / len(s) + 3] if k == 2 else [])
            y = [float(f"{v:.6f}") for v in y]  # the numbers as the file holds them
            rows.append((s, y))
            f.write(s + "\t" + " ".join(f"{v:.6f}" for v in y) + "\n")
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A regress model of the fraction of a's, trained on lengths 1-10."""
    from bptt.cli import main

    tmp = tmp_path_factory.mktemp("regress")
    tr, va, te = tmp / "train.tsv", tmp / "valid.tsv", tmp / "test.tsv"
    rows = _fraction_file(tr, 400, 1, 10, 1)
    _fraction_file(va, 100, 1, 10, 2)
    test_rows = _fraction_file(te, 60, 1, 12, 3)
    rc = main(["train", "--data", str(tr), "--valid", str(va), "--task", "regress", "--out", str(tmp / "m.bptt"),
               "--hidden", "16", "--epochs", "60", "--no-curriculum", "--quiet", "--seed", "0"])
    assert rc == 0
    return tmp, rows, test_rows


def _model_numbers(path, texts):
    """The model file's numbers for ``texts``, each run alone through the library: output * sd + mean."""
    ck = checkpoint.load(str(path))
    vocab = Vocab(ck.meta["vocab"])
    out = []
    for t in texts:
        ids = vocab.encode(tokenize(t, ck.meta["tokenizer"]))[None]
        z = np.asarray(ck.model.predict(ids), dtype=np.float64)[0]
        out.append(z * np.array(ck.meta["target_sd"]) + np.array(ck.meta["target_mean"]))
    return np.array(out)


def test_the_targets_are_standardised_by_the_training_files_mean_and_sd(trained):
    tmp, rows, _ = trained
    ck = checkpoint.load(str(tmp / "m.bptt"))
    y = np.array([r[1][0] for r in rows])
    assert ck.meta["task"] == "regress" and ck.model.config.loss == "mse" and ck.model.config.output_size == 1
    assert ck.meta["target_mean"] == pytest.approx([y.mean()], rel=1e-12)
    assert ck.meta["target_sd"] == pytest.approx([y.std()], rel=1e-12)


def test_evaluate_gives_errors_in_the_datas_units_of_the_models_own_numbers(trained, capsys):
    tmp, _, test_rows = trained
    rc, out, _ = run(capsys, "evaluate", "--model", str(tmp / "m.bptt"), "--data", str(tmp / "test.tsv"), "--json",
                     "--by-length")
    assert rc == 0
    res = json.loads(out)
    y = np.array([r[1] for r in test_rows])
    pred = _model_numbers(tmp / "m.bptt", [r[0] for r in test_rows])
    err = pred - y
    assert res["n"] == len(y)
    assert res["mse"] == pytest.approx(float((err ** 2).mean()), rel=1e-5)
    assert res["mae"] == pytest.approx(float(np.abs(err).mean()), rel=1e-5)
    assert res["r2"] == pytest.approx(1 - float((err ** 2).sum()) / float(((y - y.mean()) ** 2).sum()), rel=1e-5)
    assert res["r2"] > 0.9, res  # it learned the fraction (answering the mean scores 0)
    L = np.array([len(r[0]) for r in test_rows])
    for n, v in res["by_length"].items():
        assert v["n"] == int((L == int(n)).sum())
        assert v["rmse"] == pytest.approx(float(np.sqrt((err[L == int(n)] ** 2).mean())), rel=1e-4)
    rc, out, _ = run(capsys, "evaluate", "--model", str(tmp / "m.bptt"), "--data", str(tmp / "test.tsv"))
    assert rc == 0 and re.match(r"n 60  mse \S+  rmse \S+  mae \S+  r2 0\.9", out), out


def test_predict_prints_the_models_numbers_line_for_line(trained, capsys, monkeypatch):
    tmp, _, test_rows = trained
    texts = [r[0] for r in test_rows[:7]]
    rc, out, _ = run(capsys, "predict", "--model", str(tmp / "m.bptt"), *texts)
    assert rc == 0
    got = np.array([float(v) for v in out.split()])
    np.testing.assert_allclose(got, _model_numbers(tmp / "m.bptt", texts)[:, 0], rtol=1e-5, atol=1e-6)


def test_several_numbers_per_line_are_several_outputs(tmp_path, capsys):
    tr = tmp_path / "two.tsv"
    rows = _fraction_file(tr, 120, 1, 8, 4, k=2)
    m = tmp_path / "two.bptt"
    rc, out, err = run(capsys, "train", "--data", str(tr), "--task", "regress", "--out", str(m), "--hidden", "8",
                       "--epochs", "3", "--no-curriculum", "--quiet")
    assert rc == 0, err
    ck = checkpoint.load(str(m))
    y = np.array([r[1] for r in rows])
    assert ck.model.config.output_size == 2 and ck.meta["labels"] == ["label1", "label2"]
    assert ck.meta["target_mean"] == pytest.approx(y.mean(axis=0).tolist(), rel=1e-12)
    rc, out, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(tr), "--json")
    res = json.loads(out)
    assert set(res["per_output"]) == {"label1", "label2"}
    pred = _model_numbers(m, [r[0] for r in rows])
    for k, name in enumerate(("label1", "label2")):
        assert res["per_output"][name]["mse"] == pytest.approx(float(((pred[:, k] - y[:, k]) ** 2).mean()), rel=1e-5)
    rc, out, _ = run(capsys, "predict", "--model", str(m), "aab")
    assert len(out.split()) == 2


@pytest.mark.parametrize("lines, words", [
    (["ab\t0.5", "b\tlots"], ["two.tsv:2: label 'lots' is not a number"]),
    (["ab\t0.5", "b\tnan"], ["two.tsv:2: label 'nan' is not a finite number"]),
    (["ab\t0.5", "b\t1_000"], ["two.tsv:2: label '1_000' is not a number"]),  # float() reads it
    (["ab\t0.5", "b\t\uff11"], ["two.tsv:2: label '\uff11' is not a number"]),  # a full-width 1
    (["ab\t0.5", "b\t1 2"], ["two.tsv:2: 2 number(s) where line 1 has 1"]),
    (["ab\t0.5", "b\t0.5", "a\t0.5"], ["two.tsv: every target is 0.5: there is nothing to learn"]),
    (["ab\t1e400", "b\t0.5"], ["two.tsv:1: label '1e400' is not a finite number (use"]),
    (["ab\t1e300", "b\t-1e300"], ["two.tsv: the targets are too large to standardise"]),
    (["ab\t1.7e308", "b\t1.7e308"], ["two.tsv: the targets are too large to standardise"]),
])
def test_regress_data_that_cannot_be_learned_is_named(tmp_path, capsys, lines, words):
    f = tmp_path / "two.tsv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rc, _, err = run(capsys, "train", "--data", str(f), "--task", "regress", "--out", str(tmp_path / "m.bptt"))
    assert rc == 2 and "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_jsonl_numbers_are_targets_and_other_values_are_named(tmp_path, capsys):
    good = [{"text": "ab" * (i % 5 + 1), "label": i / 7} for i in range(20)]
    f = tmp_path / "d.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in good) + "\n")
    rc, _, err = run(capsys, "train", "--data", str(f), "--task", "regress", "--out", str(tmp_path / "m.bptt"),
                     "--epochs", "1", "--hidden", "4", "--quiet")
    assert rc == 0, err
    assert checkpoint.load(str(tmp_path / "m.bptt")).meta["target_mean"] == pytest.approx(
        [np.mean([r["label"] for r in good])])
    f.write_text("\n".join(json.dumps(r) for r in good + [{"text": "ab", "label": True}]) + "\n")
    rc, _, err = run(capsys, "train", "--data", str(f), "--task", "regress", "--out", str(tmp_path / "n.bptt"))
    assert rc == 2 and "d.jsonl:21: label must be a finite number or a list of them (regress), got bool" in err
    f.write_text("\n".join([json.dumps(r) for r in good] + ['{"text": "ab", "label": 1' + "0" * 400 + "}"]) + "\n")
    rc, _, err = run(capsys, "train", "--data", str(f), "--task", "regress", "--out", str(tmp_path / "n.bptt"))
    assert rc == 2 and "d.jsonl:21: label must be a finite number" in err and "Traceback" not in err  # it overflowed


def test_options_for_labels_are_refused_for_a_regress_model(trained, capsys, tmp_path):
    tmp, _, _ = trained
    rc, _, err = run(capsys, "evaluate", "--model", str(tmp / "m.bptt"), "--data", str(tmp / "test.tsv"),
                     "--per-class")
    assert rc == 2 and "is a regress model" in err
    two = tmp_path / "two.tsv"
    two.write_text("ab\t0.5 1\nb\t0.25 2\n")
    rc, _, err = run(capsys, "evaluate", "--model", str(tmp / "m.bptt"), "--data", str(two))
    assert rc == 2 and "2 number(s) per line where the model" in err and "has 1" in err


def test_init_keeps_the_models_standardisation(trained, capsys, tmp_path):
    tmp, _, _ = trained
    more = tmp_path / "more.tsv"
    _fraction_file(more, 50, 1, 10, 9)
    b = tmp_path / "b.bptt"
    rc, out, err = run(capsys, "train", "--init", str(tmp / "m.bptt"), "--data", str(more), "--out", str(b),
                       "--epochs", "1", "--quiet")
    assert rc == 0, err
    a, b = checkpoint.load(str(tmp / "m.bptt")), checkpoint.load(str(b))
    assert (b.meta["target_mean"], b.meta["target_sd"]) == (a.meta["target_mean"], a.meta["target_sd"])


@pytest.mark.parametrize("change, words", [
    (lambda m: m.pop("target_sd"), "target_sd is not a list of 1 finite number(s) > 0"),
    (lambda m: m.update(target_sd=[0.0]), "target_sd is not a list of 1 finite number(s) > 0"),
    (lambda m: m.update(target_mean=["0.5"]), "target_mean is not a list of 1 finite number(s)"),
    (lambda m: m.update(labels=["a", "b"]), "a regress model needs an mse head"),
])
def test_a_regress_model_file_with_bad_metadata_is_refused_by_name(trained, capsys, tmp_path, change, words):
    tmp, _, _ = trained
    ck = checkpoint.load(str(tmp / "m.bptt"))
    meta = dict(ck.meta)
    change(meta)
    bad = tmp_path / "bad.bptt"
    checkpoint.save(str(bad), ck.model, meta=meta)
    rc, _, err = run(capsys, "predict", "--model", str(bad), "ab")
    assert rc == 2 and words in err, err


def test_symbols_get_the_lstm_and_the_curriculum_by_default(tmp_path, capsys):
    """As for classify data: measured on benchmarks/regress_tasks.py (results/regress-defaults.log)."""
    tr = tmp_path / "t.tsv"
    _fraction_file(tr, 60, 1, 20, 5)
    rc, out, err = run(capsys, "train", "--data", str(tr), "--task", "regress", "--out", str(tmp_path / "m.bptt"),
                       "--epochs", "1", "--hidden", "4", "--quiet")
    assert rc == 0, err
    assert "cell lstm (regress data over 2 distinct tokens" in out and "length curriculum on" in out
    assert checkpoint.load(str(tmp_path / "m.bptt")).model.config.cell == "lstm"
    assert "targets standardised by their mean and sd" in out
    assert "a regression has no accuracy to stop at: it runs all its epochs" in out


def test_a_regression_without_validation_data_runs_all_its_epochs(tmp_path, capsys):
    """Without --valid a classifier stops at a training loss of --perfect-loss; a regression does not (a stop on
    its loss alone cost length generalisation, regress-defaults-stop1e-4.log), even with a loose --perfect-loss."""
    tr = tmp_path / "t.tsv"
    _fraction_file(tr, 40, 1, 6, 7)
    rc, out, err = run(capsys, "train", "--data", str(tr), "--task", "regress", "--out", str(tmp_path / "m.bptt"),
                       "--epochs", "6", "--hidden", "4", "--no-curriculum", "--perfect-loss", "100", "--quiet")
    assert rc == 0, err
    assert len(re.findall(r"^epoch \d+ ", out, flags=re.M)) == 6 and "stopped:" not in out


def test_numbers_as_tokens_are_named(tmp_path, capsys):
    """Sequences of measured values (0.52 -0.16 ...) read as symbols (--inputs tokens; without it they are
    read as numbers since 2026-12-03): the run says so, once, and not for sequences of digits or of a few
    values."""
    rng = np.random.default_rng(0)
    floats, digits = tmp_path / "floats.tsv", tmp_path / "digits.tsv"
    with open(floats, "w") as f, open(digits, "w") as g:
        for _ in range(60):
            xs = np.round(rng.uniform(-1, 1, int(rng.integers(1, 6))), 2)
            f.write(" ".join(str(v) for v in xs) + f"\t{xs.sum():.2f}\n")
            g.write(" ".join(str(int(rng.integers(0, 10))) for _ in xs) + f"\t{len(xs) % 2}\n")
    rc, so, err = run(capsys, "train", "--data", str(floats), "--task", "regress", "--out", str(tmp_path / "f.bptt"),
                      "--max-steps", "1", "--inputs", "tokens")
    assert rc == 0, err
    notes = [ln for ln in so.splitlines() if "tokens are numbers" in ln]
    assert len(notes) == 1 and "read as <unk>" in notes[0] and "--inputs numbers reads them as values" in notes[0], so
    rc, so, err = run(capsys, "train", "--data", str(digits), "--out", str(tmp_path / "d.bptt"), "--max-steps", "1")
    assert rc == 0 and "tokens are numbers" not in so, so


def _wave_file(path, n, lo, hi, seed):
    """Sampled sine waves of random frequency and phase, each step labelled with the next sample (3 decimals):
    a forecast at every step, as a new user writes one."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        T, f, ph = int(rng.integers(lo, hi + 1)), rng.uniform(0.2, 0.6), rng.uniform(0, 6.3)
        v = [float(f"{np.sin(f * t + ph):.3f}") for t in range(T + 1)]
        rows.append((v[:-1], v[1:]))
    path.write_text("".join(" ".join(f"{x:.3f}" for x in a) + "\t" + " ".join(f"{x:.3f}" for x in b) + "\n"
                            for a, b in rows))
    return rows


def test_a_number_at_every_step_is_a_regression_at_every_step(tmp_path, capsys):
    """A forecasting file (each step labelled with the next value) was read as tags, each value a class
    of its own (2,002 classes, 0% accuracy). Now it is a regression at every step: found from the data,
    left to right, evaluated and predicted in the data's units, and exported; the figures are checked
    against PyTorch's LSTM on the exported weights, each sequence run alone."""
    import torch

    from bptt.torch_net import load

    tr, va, te = tmp_path / "train.tsv", tmp_path / "valid.tsv", tmp_path / "test.tsv"
    _wave_file(tr, 300, 1, 12, 0)
    _wave_file(va, 60, 1, 12, 1)
    rows = _wave_file(te, 40, 13, 30, 2)
    m = tmp_path / "w.bptt"
    rc, out, err = run(capsys, "train", "--data", str(tr), "--valid", str(va), "--out", str(m), "--hidden", "16",
                       "--epochs", "3", "--quiet", "--seed", "0")
    assert rc == 0, err
    assert re.search(r"task regress \(.*: one number per token on every line, [\d,]+ different ones, some with a "
                     r"fraction \(.*\): measurements, a regression at every step\)", out), out
    assert "left to right (a regression at every step" in out and "a number at every step;" in out
    ck = checkpoint.load(str(m))
    assert ck.meta["task"] == "regress" and ck.model.config.head == "many_to_many"
    assert not ck.model.config.bidirectional and ck.model.config.output_size == 1
    # the exported network, PyTorch's own LSTM, on each test sequence alone
    assert run(capsys, "export", "--model", str(m), "--out", str(tmp_path / "w.safetensors"))[0] == 0
    net = load(str(tmp_path / "w.safetensors"))
    ref = []
    with torch.no_grad():
        for a, _ in rows:
            x, L = net.encode([" ".join(f"{v:.3f}" for v in a)])
            ref.append(net.output(net(x, L)[0])[0, :, 0].double().numpy())
    y = np.concatenate([b for _, b in rows])
    err_ref = np.concatenate(ref) - y
    rc, out, err = run(capsys, "evaluate", "--model", str(m), "--data", str(te), "--json", "--by-length")
    assert rc == 0, err
    res = json.loads(out)
    assert res["n"] == 40 and res["n_steps"] == y.size
    assert res["mse"] == pytest.approx(float((err_ref ** 2).mean()), rel=1e-4)
    assert res["mae"] == pytest.approx(float(np.abs(err_ref).mean()), rel=1e-4)
    assert res["r2"] == pytest.approx(1 - float((err_ref ** 2).sum()) / float(((y - y.mean()) ** 2).sum()), rel=1e-4)
    lens = np.array([len(a) for a, _ in rows])
    for k, v in res["by_length"].items():
        e = np.concatenate([r - b for r, (a, b) in zip(ref, rows) if len(a) == int(k)])
        assert v["n"] == int((lens == int(k)).sum()) and v["mse"] == pytest.approx(float((e ** 2).mean()), rel=1e-4)
    # predict: a number for each step of each line, line for line
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(" ".join(f"{v:.3f}" for v in a) + "\n" for a, _ in rows[:5]))
    rc, out, err = run(capsys, "predict", "--model", str(m), "--data", str(lines))
    assert rc == 0, err
    got = [np.array(line.split(), dtype=float) for line in out.splitlines()]
    assert [g.size for g in got] == [len(a) for a, _ in rows[:5]]
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5)
    # a line with another count of numbers than tokens is named, in validation data and at evaluate
    bad = tmp_path / "bad.tsv"
    bad.write_text("0.1 0.2 0.3\t0.2 0.3 0.4\n0.5 0.6\t0.6\n")
    rc, _, err = run(capsys, "evaluate", "--model", str(m), "--data", str(bad))
    assert rc == 2 and f"{bad}:2: 1 number(s) for 2 token(s)" in err and "one number per token" in err
    rc, _, err = run(capsys, "train", "--data", str(tr), "--valid", str(bad), "--out", str(tmp_path / "x.bptt"),
                     "--epochs", "1", "--quiet")
    assert rc == 2 and f"{bad}:2: 1 number(s) for 2 token(s)" in err
    # --bidirectional reads both ways; --task tag still reads the values as tags
    rc, out, err = run(capsys, "train", "--data", str(tr), "--out", str(tmp_path / "b.bptt"), "--hidden", "8",
                       "--epochs", "1", "--quiet", "--bidirectional")
    assert rc == 0 and checkpoint.load(str(tmp_path / "b.bptt")).model.config.bidirectional, err
    rc, out, err = run(capsys, "train", "--data", str(tr), "--task", "tag", "--out", str(tmp_path / "t.bptt"),
                       "--hidden", "8", "--epochs", "1", "--quiet")
    assert rc == 0 and checkpoint.load(str(tmp_path / "t.bptt")).meta["task"] == "tag", err


def test_whole_numbers_at_every_step_stay_tags_and_k_outputs_stay_outputs(tmp_path):
    from bptt.data.files import detect_task, per_step, read_examples

    tags = tmp_path / "tags.tsv"  # counts of a's so far: whole numbers, classes at every step
    tags.write_text("".join(f"{'ab' * k}\t{' '.join(str((j + 2) // 2) for j in range(2 * k))}\n"
                            for k in range(1, 15)).replace("ab", "a b "))
    assert detect_task(tags)[0] == "tag"
    two = tmp_path / "two.tsv"  # two numbers per line for sequences of other lengths: two outputs
    two.write_text("".join(f"{'a ' * k}\t{k / 3:.4f} {k / 7:.4f}\n" for k in range(1, 20)))
    ex, _ = read_examples(two, "regress")
    assert detect_task(two)[0] == "regress" and not per_step(ex)
    steps = tmp_path / "steps.tsv"  # as many numbers as tokens, lengths that differ: a number at every step
    steps.write_text("".join(f"{'a ' * k}\t{' '.join(f'{j / 3:.3f}' for j in range(k))}\n" for k in range(1, 20)))
    ex, _ = read_examples(steps, "regress")
    assert per_step(ex) and detect_task(steps)[0] == "regress"


def test_whole_number_quantities_are_regressed_and_a_growing_target_gets_the_linear_cell_named(tmp_path, capsys):
    """Digit sums (whole numbers, 13 lines a value) were read as classes and the run stopped at the first
    validation sum not seen in training; they are a regression now, and since the sums grow with the
    length, the run names the tutorial's cell with a linear state, which carries them past the training
    lengths (benchmarks/results/regress-digit-sum.log)."""
    rng = np.random.default_rng(0)
    digits = ["".join(rng.choice(list("0123456789"), int(rng.integers(1, 16)))) for _ in range(200)]
    tr = tmp_path / "sums.tsv"
    tr.write_text("".join(f"{d}\t{sum(map(int, d))}\n" for d in digits))
    m = tmp_path / "s.bptt"
    rc, out, err = run(capsys, "train", "--data", str(tr), "--valid", str(tr), "--out", str(m), "--epochs", "1",
                       "--quiet", "--hidden", "8")
    assert rc == 0, err
    first = out.splitlines()[0]
    assert re.match(rf"task regress \({re.escape(str(tr))}: the labels are \d+ different whole numbers \(0, 1, 2, \.\.\.\) "
                    rf"for 200 sequences, [\d.]+ a value: quantities, not classes\)", first), first
    assert "note: the targets grow with the sequences' length (correlation 0.9" in out
    assert "--cell rnn --activation identity" in out
    assert checkpoint.load(str(m)).meta["task"] == "regress"
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--out", str(m), "--epochs", "1", "--quiet", "--hidden", "8",
                     "--cell", "rnn", "--activation", "identity")
    assert rc == 0 and "targets grow" not in out
    frac = tmp_path / "frac.tsv"  # a fraction does not grow with the length: no note
    _fraction_file(frac, 100, 1, 10, 4)
    rc, out, _ = run(capsys, "train", "--data", str(frac), "--out", str(m), "--epochs", "1", "--quiet", "--hidden", "8")
    assert rc == 0 and "task regress" in out and "targets grow" not in out
    rc, out, _ = run(capsys, "train", "--data", str(tr), "--task", "classify", "--out", str(m), "--epochs", "1",
                     "--quiet", "--hidden", "8")  # as classes, when asked: the note that names regress
    assert rc == 0 and "each value is a class of its own" in out and "--task regress predicts numbers" in out


def test_by_length_groups_many_lengths_with_each_rows_rmse_from_the_models_numbers(trained, capsys):
    """More than 20 lengths: rows of a range of lengths, each row's rmse over the sequences it holds, from
    the model's own numbers (not from the per-length figures)."""
    tmp, _, _ = trained
    rows = _fraction_file(tmp / "long.tsv", 150, 1, 45, 4)
    rc, out, _ = run(capsys, "evaluate", "--model", str(tmp / "m.bptt"), "--data", str(tmp / "long.tsv"), "--by-length")
    assert rc == 0
    lines = out.strip().split("\n")
    at = next(i for i, line in enumerate(lines) if line.split()[:3] == ["length", "n", "rmse"])
    assert re.fullmatch(r"\d+ different lengths, grouped by 5 \(--json gives each length\)", lines[at - 1])
    err = _model_numbers(tmp / "m.bptt", [r[0] for r in rows])[:, 0] - np.array([r[1][0] for r in rows])
    L = np.array([len(r[0]) for r in rows])
    spans = []
    for line in lines[at + 1:]:
        span, n, rmse = line.split()[:3]
        lo, hi = (int(v) for v in span.split("-"))
        spans.append((lo, hi))
        at_span = (L >= lo) & (L <= hi)
        assert int(n) == at_span.sum()
        assert float(rmse) == pytest.approx(float(np.sqrt((err[at_span] ** 2).mean())), rel=1e-3)
        assert line.endswith("(trained)") == (hi <= 10)  # trained on lengths 1-10
    assert spans[:3] == [(1, 5), (6, 10), (11, 15)]
