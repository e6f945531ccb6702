"""The benchmark scripts run (tiny rows, CPU path), so they do not rot; their figures are not asserted."""

import pytest

pytest.importorskip("torch")


def test_gpu_script_runs_on_the_cpu_path(capsys):
    from benchmarks.gpu import main
    main(["--cpu", "--steps", "1", "--rows", "2,5,3,4"])
    out = capsys.readouterr().out
    assert out.count("worst relative error against finite differences") == 7 and "FAIL" not in out, out
    assert "OK at 1e-06" in out and "2,5,3,4" in out


def test_cpu_benchmark_runs(capsys):
    from benchmarks.bench_cpu import main
    main(["--steps", "1", "--rows", "2,5,3,4", "4,6,3,5,2,bi,varlen"])
    out = capsys.readouterr().out
    assert "2,5,3,4" in out and "4,6,3,5 2 layers bi varlen" in out


def test_cpu_split_benchmark_runs(capsys):
    from benchmarks.cpu_split import main
    main(["--rounds", "1", "--rows", "2,5,3,4", "2,5,3,4,varlen"])
    out = capsys.readouterr().out
    assert "2,5,3,4 " in out and "2,5,3,4,varlen" in out and "split wins" in out
