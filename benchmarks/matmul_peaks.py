"""NumPy's and torch's float32 matrix products on this machine, side by side in one process.

Is torch's LSTM step faster than bptt's because torch multiplies faster?  This times
the same products in both libraries (2 threads each, as ``bench_cpu.py`` runs them):
a 2048^3 product (the peak ``bench_cpu.py`` measures) and one step's recurrent
product of each gated row of ``bench_cpu.py`` (``[B, H] @ [H, 4H]``), alternating
blocks, median of each.

    python benchmarks/matmul_peaks.py
"""

import statistics
import time

import numpy as np


def timed(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    import torch

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"{'M, K, N':>18} {'numpy GFLOP/s':>14} {'torch GFLOP/s':>14}")
    for m, k, n, reps in [(2048, 2048, 2048, 8), (32, 128, 512, 400), (64, 256, 1024, 200), (128, 512, 2048, 50)]:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        c = np.empty((m, n), np.float32)
        ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.empty(m, n)
        nps, tos = [], []
        for _ in range(3):  # alternating blocks
            nps.append(timed(lambda: np.matmul(a, b, out=c), reps))
            tos.append(timed(lambda: torch.mm(ta, tb, out=tc), reps))
        flops = 2 * m * k * n
        print(f"{f'{m}, {k}, {n}':>18} {flops / statistics.median(nps) / 1e9:14.1f} "
              f"{flops / statistics.median(tos) / 1e9:14.1f}")


if __name__ == "__main__":
    main()
