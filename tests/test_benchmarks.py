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
