"""A bidirectional layer's training step against the same layer in one direction, in one process:
the two models' steps timed in alternating blocks (3 untimed steps, then 5 timed ones, 40 blocks
each), and the medians compared.  Issue 13's target: at most 1.3x on a row too small to split rows
across cores.  A step is forward, a softmax head on the final states, BPTT backward (no update).

    python benchmarks/bi_vs_one.py                       # 32,50,32,128 for each cell
    python benchmarks/bi_vs_one.py --rows 64,100,128,256 --cells rnn
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main(argv=None):
    from bptt import Batch, Model, ModelConfig, keep_freed_memory

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", nargs="*", default=["32,50,32,128"], help="B,T,D,H")
    ap.add_argument("--cells", nargs="*", default=["rnn", "gru", "lstm"])
    ap.add_argument("--blocks", type=int, default=40)
    args = ap.parse_args(argv)
    kept = keep_freed_memory()
    print(f"freed memory kept (as `bptt train` does): {'yes' if kept else 'no'}; {args.blocks} blocks of 5 steps")
    for row in args.rows:
        B, T, D, H = (int(v) for v in row.split(","))
        for cell in args.cells:
            rng = np.random.default_rng(0)
            batch = Batch(x=rng.standard_normal((B, T, D)).astype(np.float32), y=rng.integers(0, 10, B))
            models = {bi: Model(ModelConfig(input_size=D, hidden_size=H, output_size=10, bidirectional=bi, cell=cell),
                                rng=np.random.default_rng(1)) for bi in (False, True)}
            times = {False: [], True: []}
            for _ in range(args.blocks):
                for bi, m in models.items():
                    for _ in range(3):
                        m.loss_and_grads(batch, check=False)
                    for _ in range(5):
                        t0 = time.perf_counter()
                        m.loss_and_grads(batch, check=False)
                        times[bi].append(time.perf_counter() - t0)
            one, both = (statistics.median(times[bi]) * 1e3 for bi in (False, True))
            print(f"{cell:>5} {row:>16}  one direction {one:7.2f} ms  bidirectional {both:7.2f} ms  "
                  f"ratio {both / one:.2f}x")


if __name__ == "__main__":
    main()
