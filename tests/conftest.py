import numpy as np
import pytest


def central_diff(f, arrays: dict, eps=1e-6):
    """Numerical gradient of scalar f() w.r.t. every entry of every array in ``arrays`` (in place)."""
    out = {}
    for name, a in arrays.items():
        g = np.zeros_like(a)
        flat, gf = a.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            lp = float(f())
            flat[i] = old - eps
            lm = float(f())
            flat[i] = old
            gf[i] = (lp - lm) / (2 * eps)
        out[name] = g
    return out


def rel_err(a, n):
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return float(np.max(np.abs(a - n))) / max(float(np.max(np.abs(n))), 1e-12)


def run(capsys, *argv):
    """Run the bptt command line in-process: (exit code, stdout, stderr)."""
    from bptt.cli import main

    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(params=["blas", "split"])
def cpu_mode(request, monkeypatch):
    """Run a test on both CPU paths of bptt (bptt._cpu): "blas", the BLAS's own threads
    and nothing split; "split", bptt's own split forced on every size, across 3 workers
    (more than rows in some batches, and more than this machine may have cores)."""
    from bptt import _cpu, rnn

    if request.param == "blas":
        monkeypatch.setenv("BPTT_CPU_THREADS", "1")
    else:
        if not _cpu._blas_libs():
            pytest.skip("threadpoolctl cannot set this BLAS's thread count")
        monkeypatch.setenv("BPTT_CPU_THREADS", "3")
        monkeypatch.setattr(_cpu, "MIN_PART_MACS", 0)
        monkeypatch.setattr(_cpu, "MIN_SPLIT_FLOPS", 0)
        monkeypatch.setattr(rnn, "MIN_ROWS", 1)
    return request.param
