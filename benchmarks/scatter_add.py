"""The embedding gradient's scatter-add on NumPy: ``np.add.at`` (what bptt used before 2026-11-30)
against ``bptt._xp.scatter_add_rows`` (a stable sort by row, then ``np.add.reduceat`` on each row's
run), in alternating rounds, medians; and the largest difference between the two.

    python benchmarks/scatter_add.py
"""

import statistics
import time

import numpy as np

from bptt._xp import scatter_add_rows

CASES = [  # (vocabulary, lookups = B * T, embedding width): bptt train's default classify model,
    (4, 1280, 32),  # a character LM's batch, a word LM's batch
    (65, 4096, 32),
    (10000, 2048, 64),
]


def add_at(V, index, values):
    out = np.zeros((V, values.shape[1]), values.dtype)
    np.add.at(out, index, values)
    return out


def main():
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}; median us of 15 rounds of 20 calls each way, alternating")
    print(f"{'V':>6s} {'N':>6s} {'D':>4s} {'add.at us':>10s} {'bptt us':>9s} {'faster':>7s} {'max |diff|':>11s}")
    for V, N, D in CASES:
        index = rng.integers(0, V, N)
        values = rng.standard_normal((N, D)).astype(np.float32)
        times = {"at": [], "bptt": []}
        for _ in range(15):
            for name, fn in (("at", lambda: add_at(V, index, values)), ("bptt", lambda: scatter_add_rows(np, V, index, values))):
                t0 = time.perf_counter()
                for _ in range(20):
                    fn()
                times[name].append((time.perf_counter() - t0) / 20 * 1e6)
        a, b = statistics.median(times["at"]), statistics.median(times["bptt"])
        diff = float(np.max(np.abs(add_at(V, index, values) - scatter_add_rows(np, V, index, values))))
        print(f"{V:6d} {N:6d} {D:4d} {a:10.0f} {b:9.0f} {a / b:6.2f}x {diff:11.2e}")


if __name__ == "__main__":
    main()
