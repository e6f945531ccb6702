"""`bptt train --inputs numbers`: sequences of values (a number a step, or numbers joined by commas),
read as float vectors standardised by the training file's mean and sd, for classify, tag and regress;
checked against the model's own equations on the standardised inputs and against NumPy."""

import json

import numpy as np
import pytest

from bptt import checkpoint
from conftest import run


def _write(path, rows):
    with open(path, "w") as f:
        for steps, label in rows:
            f.write(" ".join(",".join(f"{v:.3f}" for v in s) if np.ndim(s) else f"{s:.3f}" for s in steps)
                    + "\t" + label + "\n")


def _values(rng, n, lo, hi, d=1, scale=5.0, shift=100.0):
    """Sequences of values far from 0 and 1 (the standardisation has to matter)."""
    out = []
    for _ in range(n):
        x = shift + scale * rng.standard_normal((int(rng.integers(lo, hi + 1)), d))
        out.append(np.round(x if d > 1 else x[:, 0], 3))
    return out


@pytest.fixture(scope="module")
def sums(tmp_path_factory):
    """A regress model of the sum of (x - 100) / 5 over the steps, trained briefly."""
    from bptt.cli import main

    tmp = tmp_path_factory.mktemp("numbers")
    rng = np.random.default_rng(0)
    files = {}
    for name, n, lo, hi in (("train", 300, 1, 8), ("valid", 60, 1, 8), ("test", 40, 1, 12)):
        xs = _values(rng, n, lo, hi)
        _write(tmp / f"{name}.tsv", [(x, f"{((x - 100) / 5).sum():.4f}") for x in xs])
        files[name] = (tmp / f"{name}.tsv", xs)
    rc = main(["train", "--data", str(files["train"][0]), "--valid", str(files["valid"][0]), "--task", "regress",
               "--inputs", "numbers", "--out", str(tmp / "m.bptt"), "--hidden", "16", "--epochs", "30",
               "--no-curriculum", "--quiet", "--seed", "0"])
    assert rc == 0
    return tmp, files


def test_standardised_inputs_are_saved_and_used(sums, capsys):
    tmp, files = sums
    ck = checkpoint.load(str(tmp / "m.bptt"))
    meta, cfg = ck.meta, ck.model.config
    steps = np.concatenate(files["train"][1])
    assert meta["inputs"] == "numbers" and meta["input_size"] == 1 and cfg.vocab_size is None and cfg.input_size == 1
    np.testing.assert_allclose(meta["input_mean"], [steps.mean()], rtol=1e-12)
    np.testing.assert_allclose(meta["input_sd"], [steps.std()], rtol=1e-12)
    assert "E" not in ck.model.params
    # predict: the model's equations on the standardised steps, the target standardisation undone
    xs = files["test"][1]
    rc, out, err = run(capsys, "predict", "--model", str(tmp / "m.bptt"), *[" ".join(map(str, x)) for x in xs])
    assert rc == 0, err
    got = np.array([float(v) for v in out.split()])
    want = []
    for x in xs:
        z = ((x - meta["input_mean"][0]) / meta["input_sd"][0]).astype(np.float32)[None, :, None]
        y = np.asarray(ck.model.predict(z, np.array([len(x)])))[0, 0]
        want.append(y * meta["target_sd"][0] + meta["target_mean"][0])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # evaluate: the errors of those predictions against the file's targets (NumPy)
    rc, out, err = run(capsys, "evaluate", "--model", str(tmp / "m.bptt"), "--data", str(files["test"][0]), "--json")
    assert rc == 0, err
    res = json.loads(out)
    y = np.array([((x - 100) / 5).sum() for x in xs])
    np.testing.assert_allclose(res["mse"], np.mean((np.round(y, 4) - got) ** 2), rtol=1e-3)
    assert res["r2"] > 0.5  # it learned something (a sum of 1-12 values, trained on 1-8)


def test_vectors_of_two_features_classify_and_tag(tmp_path, capsys):
    """Steps of two numbers joined by commas: classify by the sign of the sum of products, and tag each
    step by which of its two numbers is larger."""
    rng = np.random.default_rng(1)
    xs = _values(rng, 200, 1, 6, d=2, scale=1.0, shift=0.0)
    cls = [(x, "pos" if (x[:, 0] * x[:, 1]).sum() > 0 else "neg") for x in xs]
    tag = [(x, " ".join("first" if a > b else "second" for a, b in x)) for x in xs]
    _write(tmp_path / "cls.tsv", cls)
    _write(tmp_path / "tag.tsv", tag)
    for name, task in (("cls", "classify"), ("tag", "tag")):
        rc, out, err = run(capsys, "train", "--data", str(tmp_path / f"{name}.tsv"), "--inputs", "numbers",
                           "--out", str(tmp_path / f"{name}.bptt"), "--epochs", "40", "--no-curriculum", "--seed", "0",
                           "--hidden", "16")
        assert rc == 0, err
        assert f"task {task}" in out and "2 number(s) a step" in out and "--inputs numbers" in out
        rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / f"{name}.bptt"), "--data",
                           str(tmp_path / f"{name}.tsv"), "--json")
        assert rc == 0, err
        res = json.loads(out)
        assert res["accuracy" if task == "classify" else "token_accuracy"] > 0.85, res
    rc, out, err = run(capsys, "predict", "--model", str(tmp_path / "tag.bptt"), "3,1 -1,2 0.5,0.4")
    assert rc == 0 and out.split() == ["first", "second", "first"], out


def test_bad_numbers_and_options_are_named(sums, tmp_path, capsys):
    tmp, files = sums
    tr = str(files["train"][0])
    cases = {"word 5.0 1.0\t1\n": "step 1 is 'word', not a number",
             "1.0 nan\t1\n": "step 2 is 'nan', not a finite number",
             "1.0 3.0,2.0\t1\n": "step 2 holds 2 number(s) where the steps before it hold 1",
             "1,,2\t1\n": "step 1 is '1,,2', not a number",
             # Python's float() reads these; no data file means them as numbers
             "1_000 2.0\t1\n": "step 1 is '1_000', not a number",
             "2.0 \uff11\uff12\t1\n": "step 2 is '\uff11\uff12', not a number",
             "\u0663 2.0\t1\n": "step 1 is '\u0663', not a number",
             "-.5e+3 +2. INF\t1\n": "step 3 is 'INF', not a finite number"}
    for text, match in cases.items():
        bad = tmp_path / "bad.tsv"
        bad.write_text("1.0 2.0\t0\n" + text, encoding="utf-8")
        rc, _, err = run(capsys, "train", "--data", str(bad), "--task", "regress", "--inputs", "numbers",
                         "--out", str(tmp_path / "b.bptt"), "--max-steps", "1")
        assert rc == 2 and f"bad.tsv:2: {match}" in err, (text, err)
    mixed = tmp_path / "mixed.tsv"
    mixed.write_text("1.0 2.0\t0\n1.0,2.0\t1\n")
    rc, _, err = run(capsys, "train", "--data", str(mixed), "--task", "regress", "--inputs", "numbers",
                     "--out", str(tmp_path / "b.bptt"), "--max-steps", "1")
    assert rc == 2 and "mixed.tsv:2: step 1 holds 2 number(s) where line 1 holds 1" in err, err
    for opts, match in ((["--embed", "8"], "--embed"), (["--tokenize", "chars"], "--tokenize"),
                        (["--min-count", "2"], "--min-count"), (["--word-dropout", "0.1"], "--word-dropout"),
                        (["--pretrained", "glove-50d"], "--pretrained"), (["--task", "lm"], "a language model")):
        rc, _, err = run(capsys, "train", "--data", tr, "--inputs", "numbers", "--out", str(tmp_path / "b.bptt"),
                         "--max-steps", "1", *opts)
        assert rc == 2 and match in err, (opts, err)
    assert not (tmp_path / "b.bptt").exists()
    # a model of numbers given steps of another width, or words
    rc, _, err = run(capsys, "predict", "--model", str(tmp / "m.bptt"), "1.0 2.0", "1.0,2.0")
    assert rc == 2 and "text 2: step 1 holds 2 number(s) where the model reads 1" in err, err
    rc, _, err = run(capsys, "predict", "--model", str(tmp / "m.bptt"), "one two")
    assert rc == 2 and "text 1: step 1 is 'one', not a number" in err, err


def test_init_keeps_the_standardisation_and_resume_is_exact(sums, tmp_path, capsys):
    tmp, files = sums
    tr = tmp_path / "other.tsv"
    rng = np.random.default_rng(5)
    _write(tr, [(x, f"{x.sum():.3f}") for x in _values(rng, 80, 1, 5, shift=0.0)])  # another scale
    rc, out, err = run(capsys, "train", "--data", str(tr), "--init", str(tmp / "m.bptt"), "--out",
                       str(tmp_path / "i.bptt"), "--epochs", "2", "--quiet")
    assert rc == 0, err
    a, b = checkpoint.load(str(tmp / "m.bptt")).meta, checkpoint.load(str(tmp_path / "i.bptt")).meta
    assert b["inputs"] == "numbers" and b["input_mean"] == a["input_mean"] and b["input_sd"] == a["input_sd"]
    rc, _, err = run(capsys, "train", "--data", str(tr), "--init", str(tmp / "m.bptt"), "--inputs", "tokens",
                     "--out", str(tmp_path / "j.bptt"))
    assert rc == 2 and "--inputs tokens: the model of --init" in err and "reads numbers" in err
    common = ["train", "--data", str(tr), "--task", "regress", "--inputs", "numbers", "--epochs", "3", "--hidden",
              "8", "--batch-size", "16", "--quiet", "--no-curriculum", "--seed", "3"]
    p, q = tmp_path / "p.bptt", tmp_path / "q.bptt"
    assert run(capsys, *common, "--out", str(p))[0] == 0
    assert run(capsys, *common, "--out", str(q), "--max-steps", "7")[0] == 0  # stops mid-epoch 2
    rc, out, err = run(capsys, *common, "--out", str(q), "--resume")
    assert rc == 0 and "resuming at epoch 2" in out, err
    pp, pq = checkpoint.load(str(p) + ".last").model.params, checkpoint.load(str(q) + ".last").model.params
    for k in pp:
        np.testing.assert_array_equal(pp[k], pq[k])


def test_damaged_standardisation_in_a_model_file_is_named(sums, tmp_path, capsys):
    tmp, files = sums
    ck = checkpoint.load(str(tmp / "m.bptt"))
    for key, value, match in (("input_sd", [0.0], "input_sd is not a list of 1 finite number(s) > 0"),
                              ("input_mean", [1.0, 2.0], "input_mean is not a list of 1"),
                              ("input_size", 3, "input_size"), ("inputs", "pictures", "inputs 'pictures'")):
        path = tmp_path / f"{key}.bptt"
        checkpoint.save(str(path), ck.model, meta={**ck.meta, key: value})
        rc, _, err = run(capsys, "predict", "--model", str(path), "1.0 2.0")
        assert rc == 2 and match in err, (key, err)


def test_measured_steps_are_read_as_numbers_without_inputs(tmp_path, capsys):
    """A new user's noisy sines (3 decimals a step) were read as text: each number split into words at its
    point ('0.285' -> '0 . 285'); since 2026-12-03 steps that are measurements are read as numbers unless
    --inputs tokens or an option of tokens is given, which keep the note that names --inputs numbers."""
    rng = np.random.default_rng(2)
    tr = tmp_path / "t.tsv"
    _write(tr, [(x, f"{x.sum():.2f}") for x in _values(rng, 40, 1, 4, scale=1.0, shift=0.0)])
    rc, out, err = run(capsys, "train", "--data", str(tr), "--out", str(tmp_path / "t.bptt"), "--max-steps", "1")
    assert rc == 0 and "task regress (" in out and "reading each step as a number (" in out, out
    assert "different steps, some with a fraction: measurements); --inputs tokens reads them as symbols" in out
    assert checkpoint.load(str(tmp_path / "t.bptt")).meta["inputs"] == "numbers"
    for given in (["--inputs", "tokens"], ["--tokenize", "space"], ["--min-count", "1"]):
        rc, out, err = run(capsys, "train", "--data", str(tr), "--task", "regress", "--out", str(tmp_path / "u.bptt"),
                           "--max-steps", "1", *given)
        assert rc == 0 and "--inputs numbers reads them as values" in out, (given, out)
        assert checkpoint.load(str(tmp_path / "u.bptt")).meta.get("inputs", "tokens") == "tokens"
    # two numbers a step, joined by commas, tagged: numbers too
    tags = tmp_path / "tags.tsv"
    _write(tags, [(x, " ".join("y" if v[0] > 0 else "n" for v in x)) for x in _values(rng, 40, 2, 5, d=2, shift=0.0)])
    rc, out, err = run(capsys, "train", "--data", str(tags), "--out", str(tmp_path / "g.bptt"), "--max-steps", "1")
    assert rc == 0 and "task tag (" in out and "is 2 numbers joined by commas, " in out, out
    assert checkpoint.load(str(tmp_path / "g.bptt")).meta["input_size"] == 2
    # many whole numbers (word ids, or counts): symbols, with a note that names --inputs numbers
    ints = tmp_path / "many_ints.tsv"
    ints.write_text("".join(f"{k} {k * 7 % 300} {k % 11}\t{'ab'[k % 2]}\n" for k in range(300)))
    rc, out, err = run(capsys, "train", "--data", str(ints), "--out", str(tmp_path / "mi.bptt"), "--max-steps", "1")
    assert rc == 0 and "tokens are whole numbers (" in out and "--inputs numbers reads them as values" in out, out
    # whole numbers (symbols, word ids) and a step that is not a number: tokens, as before
    for name, rows in (("ints", [(f"{k} {k + 3} {k % 7}", "ab"[k % 2]) for k in range(40)]),
                       ("mixed", [(f"{k / 3:.2f} {k / 7:.2f}", "ab"[k % 2]) for k in range(40)] + [("0.5 x", "a")])):
        (tmp_path / f"{name}.tsv").write_text("".join(f"{x}\t{y}\n" for x, y in rows))
        rc, out, err = run(capsys, "train", "--data", str(tmp_path / f"{name}.tsv"), "--out",
                           str(tmp_path / f"{name}.bptt"), "--max-steps", "1")
        assert rc == 0 and "reading each step as a number" not in out, (name, out)


def test_defaults_for_numbers(tmp_path, capsys):
    """The measured defaults (benchmarks/number_defaults.sh): the LSTM for every task, tags too, and no
    length curriculum; the learning rate as for symbols (0.003 for the LSTM's classify data)."""
    rng = np.random.default_rng(3)
    xs = _values(rng, 60, 1, 30, scale=1.0, shift=0.0)
    _write(tmp_path / "c.tsv", [(x, "pos" if x.sum() > 0 else "neg") for x in xs])
    _write(tmp_path / "t.tsv", [(x, " ".join("hi" if v > 0.5 else "lo" for v in x)) for x in xs])
    for name, lr in (("c", "learning rate 0.003"), ("t", None)):
        rc, out, err = run(capsys, "train", "--data", str(tmp_path / f"{name}.tsv"), "--inputs", "numbers",
                           "--out", str(tmp_path / f"{name}.bptt"), "--max-steps", "1")
        assert rc == 0, err
        assert "cell lstm" in out and "data of numbers" in out and "curriculum" not in out, out
        assert (lr in out) if lr else "learning rate" not in out, out
        cfg = checkpoint.load(str(tmp_path / f"{name}.bptt")).model.config
        assert cfg.cell == "lstm" and cfg.input_size == 1


def test_jsonl_lists_of_numbers(tmp_path, capsys):
    """In JSONL the steps may be a list of numbers, or of lists of numbers (D features), as well as text."""
    rows = [{"text": [0.5, -0.25, 1.0], "label": "a"}, {"text": "2 3", "label": "b"},
            {"text": [[0.5, 1.0], [2.0, 3.0]], "label": "a"}]
    bad = tmp_path / "mixed.jsonl"
    bad.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    rc, _, err = run(capsys, "train", "--data", str(bad), "--inputs", "numbers", "--out", str(tmp_path / "m.bptt"),
                     "--max-steps", "1")
    assert rc == 2 and "mixed.jsonl:3: step 1 holds 2 number(s) where line 1 holds 1" in err, err
    ok = tmp_path / "ok.jsonl"
    ok.write_text("\n".join(json.dumps(r) for r in rows[:2]) + "\n")
    rc, out, err = run(capsys, "train", "--data", str(ok), "--inputs", "numbers", "--out", str(tmp_path / "m.bptt"),
                       "--max-steps", "1")
    assert rc == 0 and "1 number(s) a step" in out, err
    np.testing.assert_allclose(checkpoint.load(str(tmp_path / "m.bptt")).meta["input_mean"], [np.mean([.5, -.25, 1, 2, 3])])
    for text in ([True], [[1.0], "x"], [float("inf")]):
        f = tmp_path / "b.jsonl"
        f.write_text(json.dumps({"text": text, "label": "a"}).replace("Infinity", "1e999") + "\n" + json.dumps(rows[1]) + "\n")
        rc, _, err = run(capsys, "train", "--data", str(f), "--inputs", "numbers", "--out", str(tmp_path / "m.bptt"),
                         "--max-steps", "1")
        assert rc == 2 and "b.jsonl:1:" in err and "Traceback" not in err, (text, err)
    # what is wrong is said by step: NaN, Infinity (JSON that Python's json writes), an empty step or sequence
    for raw, said in (('[[0.5, 1.0], [NaN, 2.0]]', "b.jsonl:1: text step 2 holds nan: every number of a step must be finite"),
                      ('[1.0, 2.0, -Infinity]', "b.jsonl:1: text step 3 holds -inf: every number of a step must be finite"),
                      ('[[0.5], []]', "b.jsonl:1: text step 2 is an empty list: a step holds at least one number"),
                      ('[]', "b.jsonl:1: text is an empty list: a sequence needs at least one step")):
        f.write_text('{"text": ' + raw + ', "label": "a"}\n' + json.dumps(rows[1]) + "\n")
        rc, _, err = run(capsys, "train", "--data", str(f), "--inputs", "numbers", "--out", str(tmp_path / "m.bptt"),
                         "--max-steps", "1")
        assert rc == 2 and said in err, (raw, err)


def test_skip_bad_skips_lines_that_are_not_numbers(tmp_path, capsys):
    """--skip-bad counts a line whose steps are not numbers of the file's width as a bad line, in
    training and in evaluation; a file with no good line left is named, for every task."""
    f = tmp_path / "s.tsv"
    f.write_text("1 2\tpos\nx 3\tneg\n1,2 3\tpos\n3 4\tneg\n")
    rc, out, err = run(capsys, "train", "--data", str(f), "--inputs", "numbers", "--skip-bad", "--out",
                       str(tmp_path / "s.bptt"), "--max-steps", "1")
    assert rc == 0 and "skipped 2 bad line(s)" in out and "2 training sequences" in out, (out, err)
    rc, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "s.bptt"), "--data", str(f), "--skip-bad")
    assert rc == 0 and out.startswith("n 2 "), (out, err)
    rc, _, err = run(capsys, "evaluate", "--model", str(tmp_path / "s.bptt"), "--data", str(f))
    assert rc == 2 and "s.tsv:2: step 1 is 'x'" in err
    for task, label in (("classify", "pos"), ("tag", "a b"), ("regress", "1.5")):
        g = tmp_path / f"{task}.tsv"
        g.write_text(f"x 2\t{label}\ny 3\t{label}\n")
        rc, _, err = run(capsys, "train", "--data", str(g), "--inputs", "numbers", "--task", task, "--skip-bad",
                         "--out", str(tmp_path / "t.bptt"), "--max-steps", "1")
        assert rc == 2 and "no usable examples (2 bad lines skipped)" in err, (task, err)


def test_values_too_large_are_named(tmp_path, capsys):
    f = tmp_path / "huge.tsv"
    f.write_text("1e200 1\tpos\n1 2\tneg\n")
    rc, _, err = run(capsys, "train", "--data", str(f), "--inputs", "numbers", "--out", str(tmp_path / "h.bptt"))
    assert rc == 2 and "huge.tsv: the inputs are too large to standardise" in err, err
    g = tmp_path / "ok.tsv"
    g.write_text("1e30 1\tpos\n1 2\tneg\n3 4\tpos\n")
    assert run(capsys, "train", "--data", str(g), "--inputs", "numbers", "--out", str(tmp_path / "o.bptt"),
               "--max-steps", "1")[0] == 0
    h = tmp_path / "far.tsv"
    h.write_text("1 2\tpos\n1e300 1\tneg\n")
    rc, _, err = run(capsys, "evaluate", "--model", str(tmp_path / "o.bptt"), "--data", str(h))
    assert rc == 2 and "far.tsv:2: inputs overflow float32 once standardised" in err and "Warning" not in err, err
    rc, _, err = run(capsys, "predict", "--model", str(tmp_path / "o.bptt"), "1 2", "1e300 1")
    assert rc == 2 and "text 2: inputs overflow float32" in err, err


def test_csv_steps_with_commas_are_quoted(tmp_path, capsys):
    good, bad = tmp_path / "q.csv", tmp_path / "u.csv"
    good.write_text('text,label\n"0.5,1 0.2,2",pos\n"0.1,1 0.3,4",neg\n')
    rc, out, err = run(capsys, "train", "--data", str(good), "--inputs", "numbers", "--out", str(tmp_path / "q.bptt"),
                       "--max-steps", "1")
    assert rc == 0 and "2 number(s) a step" in out, err
    bad.write_text("text,label\n0.5,1 0.2,2,pos\n")
    rc, _, err = run(capsys, "train", "--data", str(bad), "--inputs", "numbers", "--out", str(tmp_path / "u.bptt"))
    assert rc == 2 and "u.csv:2: has 4 column(s)" in err and 'quote a field whose steps hold commas' in err, err


def test_a_number_is_read_as_data_files_write_it_and_as_float_reads_it():
    """bptt.data.files.decimal takes every way Python, NumPy and spreadsheets write a float (equal to
    float()), and refuses what float() alone would take: underscores, other scripts' digits, spaces."""
    from bptt.data.files import decimal

    rng = np.random.default_rng(0)
    for x in np.concatenate([rng.standard_normal(200) * 10.0 ** rng.integers(-30, 30, 200), [0.0, -0.0, 1e308]]):
        for text in (repr(float(x)), f"{x:e}", f"{x:.3f}", f"{x:+.10E}", str(np.float32(x)) if abs(x) < 3e38 else "1", f"{x:g}"):
            assert decimal(text) == float(text), text
    for text in ("5.", ".5", "+1", "-0", "1e5", "1E-5", "007", "nan", "-Infinity", "inf"):
        assert decimal(text) == float(text) or text == "nan", text
    for text in ("1_000", "\uff11", "\u0663", " 1", "1 ", "", "e5", ".", "1e", "0x10", "1,5", "1.5.2", "--1", "in f"):
        with pytest.raises(ValueError):
            decimal(text)


def test_a_series_written_as_a_list_in_one_cell_is_read_a_number_a_step(tmp_path, capsys):
    """A CSV whose sequence cell is a list (`"0.35,-0.31,0.28"`, or pandas' `[0.35, -0.31]`) was read
    character by character (13 symbols: digits, '-', '.', ','). Now each item is a step, read as a number;
    the model keeps the tokenizer, so predict and the exported PyTorch module read lists the same way."""
    import torch

    from bptt.torch_net import load

    rng = np.random.default_rng(3)
    seqs = _values(rng, 200, 2, 12)
    tr = tmp_path / "series.csv"
    tr.write_text("series,label\n" + "".join(
        ('"[' + ", ".join(f"{v:.3f}" for v in s) + ']"' if k % 2 else '"' + ",".join(f"{v:.3f}" for v in s) + '"')
        + f",{'up' if s[-1] > s[0] else 'down'}\n" for k, s in enumerate(seqs)))
    m = tmp_path / "s.bptt"
    rc, out, err = run(capsys, "train", "--data", str(tr), "--out", str(m), "--epochs", "2", "--quiet", "--hidden", "8")
    assert rc == 0, err
    assert "every step of its sequences is a number (the steps separated by commas)" in out
    assert "2-12" in out  # the lengths: one step per item
    ck = checkpoint.load(str(m))
    assert ck.meta["tokenizer"] == "commas" and ck.meta["inputs"] == "numbers" and ck.meta["input_size"] == 1
    texts = ["[100.5, 97.25, 103.0]", "100.5,97.25,103.0", "99"]
    rc, out, err = run(capsys, "predict", "--model", str(m), *texts)
    assert rc == 0, err
    got = [float(line.split("\t")[1]) if line.split("\t")[0] == "up" else 1 - float(line.split("\t")[1])
           for line in out.splitlines()]
    assert got[0] == pytest.approx(got[1], abs=1e-6)  # the two ways of writing a list read the same
    assert run(capsys, "export", "--model", str(m), "--out", str(tmp_path / "s.safetensors"))[0] == 0
    net = load(str(tmp_path / "s.safetensors"))
    with torch.no_grad():
        x, L = net.encode(texts)
        p = net.output(net(x, L)[0]).double().numpy()
    up = ck.meta["labels"].index("up")
    np.testing.assert_allclose(p[:, up], got, rtol=1e-4, atol=1e-5)
    # lists of symbols: the items are the tokens
    sym = tmp_path / "sym.csv"
    sym.write_text("tokens,label\n" + "".join(f"\"{['a', 'b', 'c'][:1 + k % 3]}\",{'xy'[k % 2]}\n" for k in range(40)))
    rc, out, err = run(capsys, "train", "--data", str(sym), "--out", str(tmp_path / "y.bptt"), "--epochs", "1",
                       "--quiet", "--hidden", "4")
    assert rc == 0 and "reading the items of each sequence as tokens (lists written with commas" in out, err
    assert checkpoint.load(str(tmp_path / "y.bptt")).meta["vocab"][2:] == ["a", "b", "c"]
