"""A training step of small models with the BLAS at its own threads inside the step (what bptt did
before 2026-11-30) against bptt's one-thread BLAS (what ``bptt._cpu.parallel`` does now), alone on
the machine and with a second process running the same steps beside it, in one run.

    python benchmarks/blas_threads.py               # every row, alone, then two processes at once
    python benchmarks/blas_threads.py --steps 60

A row is a model that ``bptt train`` builds by default or one of ``bench_cpu.py``'s small rows, a
batch of 32 sequences (lengths drawn, sorted longest first), Adam and clipping.  Each variant runs
``--steps`` steps (the first 8 untimed) and reports the median.  "BLAS threads" hides the BLAS from
bptt (``bptt._cpu._blas_libs`` returns none), so the step runs with the BLAS's thread count as the
process started; "bptt" is the library as it is.  The two processes of the "pair" start together and
run the rows and variants in the same order, so each mostly runs beside the same variant in the other
(both are reported, from each process).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

ROWS = {  # name: (config keywords, T, many-to-many)
    "lstm classify H=64 (bptt train's default)": (dict(vocab_size=4, embed_dim=32, hidden_size=64, output_size=2,
                                                       cell="lstm"), 40, False),
    "rnn tag H=64 (bptt train's default)": (dict(vocab_size=4, embed_dim=32, hidden_size=64, output_size=3,
                                                 head="many_to_many"), 40, True),
    "rnn classify H=128": (dict(vocab_size=20, embed_dim=32, hidden_size=128, output_size=2), 50, False),
    "gru classify H=128": (dict(vocab_size=20, embed_dim=32, hidden_size=128, output_size=2, cell="gru"), 50, False),
    "rnn classify H=256": (dict(vocab_size=20, embed_dim=64, hidden_size=256, output_size=2), 50, False),
}


def step_ms(kw, T, tag, steps, blas_hidden):
    from bptt import Adam, Batch, Model, ModelConfig, _cpu, clip_grad_norm

    saved = _cpu._state["blas"]
    if blas_hidden:
        _cpu._state["blas"] = []  # bptt sees no BLAS: it leaves its thread count alone (as before)
    try:
        rng = np.random.default_rng(0)
        m = Model(ModelConfig(**kw), rng=rng)
        opt = Adam(lr=1e-3)
        B = 32
        lengths = np.sort(rng.integers(1, T + 1, B))[::-1].copy()
        lengths[0] = T
        batch = Batch(x=rng.integers(2, kw["vocab_size"], (B, T)), y=rng.integers(0, 2, (B, T) if tag else B),
                      lengths=lengths)
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            _, grads = m.loss_and_grads(batch, check=False)
            grads, _ = clip_grad_norm(grads, 1.0)
            opt.step(m.params, grads)
            times.append(time.perf_counter() - t0)
        return 1000 * float(np.median(times[8:]))
    finally:
        _cpu._state["blas"] = saved


def worker(args):
    from threadpoolctl import threadpool_info

    if args.tag == "alone":
        print(f"# numpy {np.__version__}; cores {os.cpu_count()}; BLAS "
              + ", ".join(f"{i['internal_api']} {i['version']} threads={i['num_threads']}"
                          for i in threadpool_info() if i["user_api"] == "blas"), flush=True)
    for name, (kw, T, tag) in ROWS.items():
        old = step_ms(kw, T, tag, args.steps, True)
        new = step_ms(kw, T, tag, args.steps, False)
        print(f"{args.tag:6s} {name:42s} {old:9.2f} {new:9.2f} {old / new:8.2f}x", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tag", default="alone", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    me = [sys.executable, os.path.abspath(__file__), "--worker", "--steps", str(args.steps)]
    print(f"{'':6s} {'row (B=32)':42s} {'BLAS thr':>9s} {'bptt':>9s} {'bptt is':>9s}   (median ms per step)", flush=True)
    subprocess.run(me + ["--tag", "alone"], check=True)
    pair = [subprocess.Popen(me + ["--tag", f"pair{k}"]) for k in (1, 2)]
    for p in pair:
        p.wait()


if __name__ == "__main__":
    main()
