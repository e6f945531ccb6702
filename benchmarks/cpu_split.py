"""bptt's own split across cores against the BLAS's threads, in one process.

The numbers behind ``bptt._cpu.MIN_PART_MACS``: one bptt training step (as in
``bench_cpu.py``) timed with ``BPTT_CPU_THREADS=1`` (the BLAS's own threads,
nothing split) and with the split forced on every size, in alternating blocks
(each after 0.15 s of its own untimed steps), for a number of rounds.

    python benchmarks/cpu_split.py                      # the benchmark rows and the README's two LMs
    python benchmarks/cpu_split.py --rounds 12 --rows 64,100,128,256 64,100,128,256,varlen
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.bench_cpu import BLOCK, bptt_step_fn, timed_block, varlen_lengths  # noqa: E402

ROWS = ["32,50,32,128", "64,100,128,256", "64,100,128,256,varlen", "128,100,128,256", "128,100,256,512",
        "lm:char", "lm:word"]
LMS = {  # the README's language models: vocabulary, embedding, hidden, batch, window, dropout
    "char": (84, 32, 512, 64, 64, 0.0),
    "word": (10000, 64, 256, 32, 32, 0.2),
}


def lm_step_fn(name, rng):
    from bptt import Adam, Batch, Model, ModelConfig

    V, E, H, B, W, drop = LMS[name]
    model = Model(ModelConfig(vocab_size=V, embed_dim=E, hidden_size=H, output_size=V, head="many_to_many"), rng=rng)
    opt = Adam(lr=0.001)
    batch = Batch(x=rng.integers(1, V, size=(B, W)), y=rng.integers(1, V, size=(B, W)))
    s = np.zeros((B, H), np.float32)
    drop_rng = np.random.default_rng(1)

    def step():  # as bptt.lm trains: a carried state, the final state returned
        _, grads, _ = model.loss_and_grads(batch, check=False, s_init=s, return_state=True,
                                           dropout=drop, rng=drop_rng)
        opt.step(model.params, grads)

    return step, B * H * H


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--rows", nargs="*", default=ROWS,
                    help="B,T,D,H (append ,varlen for lengths T/2..T) or lm:char / lm:word")
    args = ap.parse_args(argv)
    from bptt import _cpu

    keep, keep_env = _cpu.MIN_PART_MACS, os.environ.get("BPTT_CPU_THREADS")
    _cpu.MIN_PART_MACS = 0  # "split": split whatever the size
    try:
        compare(args.rows, args.rounds)
    finally:  # leave the process as it was
        _cpu.MIN_PART_MACS = keep
        if keep_env is None:
            os.environ.pop("BPTT_CPU_THREADS", None)
        else:
            os.environ["BPTT_CPU_THREADS"] = keep_env


def compare(rows, rounds):
    from bptt import _cpu

    n = _cpu._wanted_workers(_cpu._blas_libs())  # the parts the split makes here
    rng = np.random.default_rng(0)
    print(f"median ms of {rounds} rounds of {BLOCK} steps, split into {n} parts; "
          "'split wins' counts the rounds where it was faster")
    for row in rows:
        if row.startswith("lm:"):
            step, macs = lm_step_fn(row[3:], rng)
        else:
            parts = row.split(",")
            B, T, D, H = (int(v) for v in parts[:4])
            lengths = varlen_lengths(B, T, rng) if parts[4:] == ["varlen"] else None
            step = bptt_step_fn(B, T, D, H, lengths, rng)[0]
            macs = B * H * H
        res = {"1": [], "split": []}
        for _ in range(rounds):
            for mode in res:
                os.environ["BPTT_CPU_THREADS"] = mode if mode == "1" else ""
                res[mode].append(statistics.median(timed_block(step, BLOCK)) * 1e3)
        blas, split = statistics.median(res["1"]), statistics.median(res["split"])
        wins = sum(s < b for b, s in zip(res["1"], res["split"]))
        print(f"{row:>24}  MACs/step/core {macs / n / 1e6:5.2f}M  BLAS threads {blas:8.2f}  split {split:8.2f}"
              f"  split wins {wins}/{rounds}", flush=True)


if __name__ == "__main__":
    main()
