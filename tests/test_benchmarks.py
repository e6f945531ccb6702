"""The benchmark scripts run (tiny rows, CPU path), so they do not rot; their figures are not asserted."""

import pytest

pytest.importorskip("torch")


def test_gpu_script_runs_on_the_cpu_path(capsys):
    from benchmarks.gpu import main
    main(["--cpu", "--steps", "1", "--rows", "2,5,3,4"])
    out = capsys.readouterr().out
    # 7 cases of the tutorial's cell, 6 of the gated cells and a bidirectional stack
    assert out.count("worst relative error against finite differences") == 14 and "FAIL" not in out, out
    assert "OK at 1e-06" in out and "2,5,3,4" in out


def test_gpu_scripts_device_comparison_runs_every_case_on_another_namespace(monkeypatch):
    """The GPU run compares NumPy with the device's arrays; array_api_strict stands in for CuPy here, so that a
    case the comparison itself cannot read (a many-to-one bidirectional stack keeps no states at every step:
    on an H200, 2026-12-04, it stopped with a TypeError) is found without a GPU."""
    xs = pytest.importorskip("array_api_strict")
    import numpy as np

    import bptt.device
    from benchmarks import gpu

    monkeypatch.setattr(bptt.device, "to_device", lambda tree, dev: {k: xs.asarray(v) for k, v in tree.items()})
    cases = [dict(H=20, cell="gru", num_layers=2, bidirectional=True, head="many_to_one", seed=10),
             dict(H=20, cell="lstm", num_layers=2, bidirectional=True, seed=9), dict(H=5, head="many_to_one")]
    for case in cases:
        assert gpu.check_exact(xs, **case) < 1e-12, case
    # and it finds a difference: the device's copy of one weight changed
    monkeypatch.setattr(bptt.device, "to_device", lambda tree, dev: {
        k: xs.asarray(v + (0.01 if k == "W_o" else 0.0)) for k, v in tree.items()})
    assert gpu.check_exact(xs, **cases[0]) > 1e-4
    assert np.isfinite(gpu.check_exact(xs, **cases[1]))


def test_cpu_benchmark_runs(capsys):
    from benchmarks.bench_cpu import main
    main(["--steps", "1", "--rows", "2,5,3,4", "4,6,3,5,2,bi,varlen", "3,4,2,3,gru", "3,4,2,3,lstm,bi,varlen"])
    out = capsys.readouterr().out
    assert "2,5,3,4" in out and "4,6,3,5 2 layers bi varlen" in out
    assert "gru 3,4,2,3" in out and "lstm 3,4,2,3 bi varlen" in out


def test_cpu_split_benchmark_runs(capsys):
    from benchmarks.cpu_split import main
    main(["--rounds", "1", "--rows", "2,5,3,4", "2,5,3,4,varlen"])
    out = capsys.readouterr().out
    assert "2,5,3,4 " in out and "2,5,3,4,varlen" in out and "split wins" in out


def test_mpi_benchmark_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("mpi4py")
    import sys

    from benchmarks import mpi
    (tmp_path / "train.txt").write_text("to be or not to be, that is the question. " * 200)
    monkeypatch.setattr(sys, "argv", ["mpi.py", "--procs", "1", "2", "--steps", "2", "--hidden", "8",
                                      "--data", str(tmp_path)])
    mpi.main()
    out = capsys.readouterr().out
    assert "updates/s" in out and "on paper" in out and "64 processes" in out


def test_bidirectional_against_one_direction_runs(capsys):
    from benchmarks.bi_vs_one import main
    main(["--rows", "3,4,2,5", "--blocks", "1"])
    out = capsys.readouterr().out
    assert out.count("ratio") == 3 and "lstm" in out and "3,4,2,5" in out


def test_own_tag_tasks_write_the_tags_their_rules_give(tmp_path):
    """The data behind benchmarks/results/tag-bidirectional.log: each task's files, checked line by line
    against its rule written out again here (the three whose tag depends on the tokens after it too)."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "own_tag_tasks.py"
    rules = {
        "next-same": lambda s: ["y" if i + 1 < len(s) and s[i + 1] == s[i] else "n" for i in range(len(s))],
        "next-token": lambda s: [s[i + 1] if i + 1 < len(s) else "-" for i in range(len(s))],
        "suffix-parity": lambda s: [str(s[i:].count("1") % 2) for i in range(len(s))],
        "prefix-parity": lambda s: [str(s[:i + 1].count("1") % 2) for i in range(len(s))],
    }
    for task, rule in rules.items():
        subprocess.run([sys.executable, str(script), task, "3"], cwd=tmp_path, check=True)
        for split, (lo, hi), n in (("train", (1, 40), 4000), ("test", (41, 200), 500)):
            lines = (tmp_path / task / f"{split}.tsv").read_text().splitlines()
            assert lines[0] == "text\tlabel" and len(lines) == n + 1
            for line in lines[1:]:
                text, tags = line.split("\t")
                s = text.split()
                assert lo <= len(s) <= hi and tags.split() == rule(s), (task, line)


def test_own_class_tasks_validate_on_longer_strings_with_the_same_training_strings(tmp_path):
    """VALID=41-80 TEST=81-200 (benchmarks/results/validate-on-longer.log): the validation and test strings
    at those lengths, labelled by the rule written out again here, and the training strings those of the
    default lengths."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "own_class_tasks.py"
    env = dict(os.environ, N_TRAIN="200")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    subprocess.run([sys.executable, str(script), "sorted", "4"], cwd=tmp_path / "a", check=True, env=env)
    subprocess.run([sys.executable, str(script), "sorted", "4"], cwd=tmp_path / "b", check=True,
                   env=dict(env, VALID="41-80", TEST="81-200"))
    a, b = tmp_path / "a" / "sorted", tmp_path / "b" / "sorted"
    assert (a / "train.tsv").read_text() == (b / "train.tsv").read_text()
    for split, (lo, hi), n in (("train", (1, 40), 200), ("valid", (41, 80), 500), ("test", (81, 200), 1000)):
        lines = (b / f"{split}.tsv").read_text().splitlines()
        assert len(lines) == n
        for line in lines:
            s, label = line.split("\t")
            assert lo <= len(s) <= hi and label == ("sorted" if list(s) == sorted(s) else "unsorted"), (split, line)
        labels = [line.split("\t")[1] for line in lines]
        assert 0.35 < labels.count("sorted") / n < 0.65, split


def test_kept_over_time_scores_each_kept_model_as_evaluate_does(tmp_path, capsys):
    """benchmarks/kept_over_time.py: one line per model the run kept (the epoch lines marked *), and the
    last one's test accuracy is that of the model file the run left, scored by bptt evaluate."""
    import importlib.util
    import re
    from pathlib import Path

    from conftest import run

    tr, va, te = (tmp_path / f for f in ("tr.tsv", "va.tsv", "te.tsv"))
    for path, lengths, n, seed in ((tr, "1-8", 200, 1), (va, "1-8", 60, 2), (te, "9-30", 80, 3)):
        assert run(capsys, "data", "make", "parity", "--lengths", lengths, "--n", str(n), "--seed", str(seed),
                   "--out", str(path))[0] == 0
    spec = importlib.util.spec_from_file_location(
        "kept_over_time", Path(__file__).resolve().parent.parent / "benchmarks" / "kept_over_time.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    m = tmp_path / "m.bptt"
    mod.main([str(tmp_path / "snap"), str(te), "--", "--data", str(tr), "--valid", str(va), "--out", str(m),
              "--epochs", "6", "--quiet", "--task", "classify"])
    out = capsys.readouterr().out
    starred = [line for line in out.splitlines() if line.startswith("epoch") and line.endswith("*")]
    kept = re.findall(r"kept at epoch +(\S+) .* test ([0-9.]+)%", out)
    assert starred and len(kept) == len(starred), out
    assert [k[0] for k in kept] == [line.split()[1] for line in starred]
    rc, ev, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(te))
    assert rc == 0 and f"accuracy {kept[-1][1]}%" in ev, (kept[-1], ev)
    assert not list((tmp_path / "snap").iterdir())  # the copies are removed once scored
