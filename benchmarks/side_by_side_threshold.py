"""The threshold bptt.stack.MIN_SIDE_MACS: a bidirectional layer's training step with its two directions side by
side on two threads against one after the other, in alternating blocks (12 blocks of 5 timed steps each way,
after 2 untimed), medians; B=32, T=50, D=32, around the threshold.

    python benchmarks/side_by_side_threshold.py
"""

import statistics
import time
from unittest import mock

import numpy as np

import bptt
from bptt import Batch, Model, ModelConfig, stack

bptt.keep_freed_memory()  # as `bptt train` does
rng = np.random.default_rng(0)
for cell, B, H in (("rnn", 4, 32), ("rnn", 8, 64), ("rnn", 32, 64), ("lstm", 8, 32), ("lstm", 32, 64), ("gru", 32, 64),
                   ("rnn", 32, 128), ("gru", 32, 128), ("rnn", 32, 256), ("lstm", 32, 128)):
    m = Model(ModelConfig(input_size=32, hidden_size=H, output_size=10, bidirectional=True, cell=cell), rng=np.random.default_rng(1))
    b = Batch(x=rng.standard_normal((B, 50, 32)).astype(np.float32), y=rng.integers(0, 10, B))
    res = {"side": [], "turn": []}
    for block in range(12):
        for mode in ("side", "turn"):
            ctx = mock.patch.object(stack, "MIN_SIDE_MACS", dict.fromkeys(stack.MIN_SIDE_MACS, 0 if mode == "side" else 1 << 60))
            with ctx:
                for _ in range(2): m.loss_and_grads(b, check=False)
                for _ in range(5):
                    t0 = time.perf_counter(); m.loss_and_grads(b, check=False); res[mode].append(time.perf_counter() - t0)
    s, t = statistics.median(res["side"]) * 1e3, statistics.median(res["turn"]) * 1e3
    print(f"{cell} B={B} H={H} macs/step={B*bptt.cells.step_width(cell,H)**2/1e6:.2f}M: side by side {s:.2f} ms, in turn {t:.2f} ms, ratio {s/t:.2f}")

# The criterion of issue 13 on its small row: both directions (as bptt runs them) against one direction.
for cell in ("rnn", "gru", "lstm"):
    B, T, D, H = 32, 50, 32, 128
    models = {bi: Model(ModelConfig(input_size=D, hidden_size=H, output_size=10, bidirectional=bi, cell=cell),
                        rng=np.random.default_rng(1)) for bi in (False, True)}
    b = Batch(x=rng.standard_normal((B, T, D)).astype(np.float32), y=rng.integers(0, 10, B))
    res = {False: [], True: []}
    for block in range(12):
        for bi, m in models.items():
            for _ in range(2):
                m.loss_and_grads(b, check=False)
            for _ in range(5):
                t0 = time.perf_counter()
                m.loss_and_grads(b, check=False)
                res[bi].append(time.perf_counter() - t0)
    one, both = (statistics.median(res[bi]) * 1e3 for bi in (False, True))
    print(f"{cell} {B},{T},{D},{H}: one direction {one:.2f} ms, both {both:.2f} ms, both / one {both / one:.2f}x")
