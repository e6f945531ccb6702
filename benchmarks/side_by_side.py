"""The two directions of a bidirectional layer side by side on two threads (bptt._cpu.side_by_side)
against one after the other, in one process: a training step (forward, softmax head on the final
states, BPTT) of one direction, of both side by side, of both one after the other, and of both as
bptt chooses (side by side only when a step's products reach ``bptt.stack.MIN_SIDE_MACS``); the median
of 7 steps after 3 untimed ones, each configuration timed in turn.

    python benchmarks/side_by_side.py
"""

from __future__ import annotations

import statistics
import time
from unittest import mock

import numpy as np

ROWS = [(32, 50, 32, 128), (64, 100, 128, 256)]


def main():
    from bptt import Batch, Model, ModelConfig, _cpu, keep_freed_memory, stack

    print(f"freed memory kept (bptt.keep_freed_memory, as `bptt train` does): {'yes' if keep_freed_memory() else 'no'}")

    rng = np.random.default_rng(0)
    print(f"{'cell':>5} {'B,T,D,H':>16} {'one direction':>14} {'both, side by side':>19} {'both, in turn':>14} "
          f"{'both, as chosen':>16}  ms")
    for B, T, D, H in ROWS:
        for cell in ("rnn", "gru", "lstm"):
            times = {}
            for name, bi, mode in (("uni", False, None), ("side", True, "side"), ("turn", True, "turn"),
                                   ("auto", True, None)):
                m = Model(ModelConfig(input_size=D, hidden_size=H, output_size=10, bidirectional=bi, cell=cell),
                          rng=np.random.default_rng(1))
                b = Batch(x=rng.standard_normal((B, T, D)).astype(np.float32), y=rng.integers(0, 10, B))

                def step():
                    if mode == "turn":  # side_by_side sees one core: the directions run one after the other
                        with mock.patch.object(_cpu, "_cores", lambda: 1):
                            m.loss_and_grads(b, check=False)
                    elif mode == "side":  # every layer counts as large enough to run its directions side by side
                        with mock.patch.object(stack, "MIN_SIDE_MACS", dict.fromkeys(stack.MIN_SIDE_MACS, 0)):
                            m.loss_and_grads(b, check=False)
                    else:
                        m.loss_and_grads(b, check=False)

                for _ in range(3):
                    step()
                ts = []
                for _ in range(7):
                    t0 = time.perf_counter()
                    step()
                    ts.append(time.perf_counter() - t0)
                times[name] = statistics.median(ts) * 1e3
            print(f"{cell:>5} {f'{B},{T},{D},{H}':>16} {times['uni']:14.1f} {times['side']:19.1f} {times['turn']:14.1f} "
                  f"{times['auto']:16.1f}   both / one {times['auto'] / times['uni']:.2f}x")


if __name__ == "__main__":
    main()
