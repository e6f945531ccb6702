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
