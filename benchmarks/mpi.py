"""Data-parallel scaling on MPI: updates per second of the README's character-level language model
with 1 process on one core against N processes with one core each, in one run; and, from the
measured allreduce time on this machine's loopback, the efficiency on paper at 8 and 64 processes
on 10 and 100 Gb/s networks.

    python benchmarks/mpi.py                  # 1 vs 2 processes (this 2-core machine), 40 timed steps
    python benchmarks/mpi.py --procs 1 2 4 --steps 60

Each configuration is started with ``mpiexec -n N`` (one BLAS thread, BPTT_CPU_THREADS=1 per
process) and runs this file's ``--worker`` part: it reads the Shakespeare corpus (``bptt data
fetch shakespeare``), builds the README's model (H=512, batch 64, window 64), takes 5 untimed
and ``--steps`` timed training steps of the global batch (bptt.distributed.Sharded), and reports
rank 0's updates per second and the time of the allreduce of the gradient's size.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve()


def worker(args):
    from bptt import Adam, Model, ModelConfig, clip_grad_norm, distributed, keep_freed_memory
    from bptt.data import Vocab
    from bptt.lm import TextStream, read_text
    from bptt.train import TrainConfig

    keep_freed_memory()  # as `bptt train` does

    comm = distributed.from_environment()
    rank, size = (comm.rank, comm.size) if comm else (0, 1)
    text = read_text(pathlib.Path(args.data) / "train.txt")
    vocab = Vocab.build([list(text)])
    data = TextStream(vocab.encode(list(text)), window=64, batch_size=64, bits=True)
    cfg = ModelConfig(vocab_size=len(vocab), embed_dim=32, hidden_size=args.hidden, output_size=len(vocab),
                      head="many_to_many")
    model = Model(cfg, rng=np.random.default_rng(0))
    opt = Adam(lr=0.001)
    tcfg = TrainConfig(batch_size=64)
    batches = data.epoch_batches(tcfg, 0)
    step_data = distributed.Sharded(data, comm) if comm else data
    carry = None

    def step(i):
        nonlocal carry
        loss, grads, carry, _, _ = step_data.train_step(model, batches[i % len(batches)], carry)
        grads, _ = clip_grad_norm(grads, 5.0)
        opt.step(model.params, grads)

    for i in range(5):
        step(i)
    t0 = time.perf_counter()
    for i in range(5, 5 + args.steps):
        step(i)
    elapsed = time.perf_counter() - t0
    n_grad = sum(v.size for v in model.params.values())
    ar = None
    if comm:  # the allreduce alone, of the gradient's size (float32) plus the few scalars and the carry
        buf = np.ones(n_grad + 4 + 64 * args.hidden, np.float32)
        for _ in range(3):
            comm.allreduce_sum(buf)
        t1 = time.perf_counter()
        for _ in range(20):
            comm.allreduce_sum(buf)
        ar = (time.perf_counter() - t1) / 20
    if rank == 0:
        print(json.dumps({"procs": size, "updates_per_s": args.steps / elapsed, "step_s": elapsed / args.steps,
                          "grad_floats": n_grad, "allreduce_s": ar, "buffer_bytes": 4 * (n_grad + 4 + 64 * args.hidden)}))


def launch(n, args):
    mpiexec = next((str(p) for p in (pathlib.Path(sys.executable).parent / "mpiexec",) if p.exists()),
                   shutil.which("mpiexec"))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "BPTT_CPU_THREADS": "1"}
    cmd = [mpiexec, "-n", str(n), sys.executable, str(HERE), "--worker", "--steps", str(args.steps),
           "--hidden", str(args.hidden), "--data", args.data]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def on_paper(one_step_s, grad_bytes, procs, gbit):
    """Efficiency of N processes with a ring allreduce on a network of ``gbit`` Gb/s: each step
    computes 1/N of the global batch (its time one_step_s / N) and moves 2 (N - 1) / N of the
    gradient's bytes through each link (latency not counted: 2 (N - 1) messages of ~10 us)."""
    compute = one_step_s / procs
    comm = 2 * (procs - 1) / procs * grad_bytes / (gbit * 1e9 / 8) + 2 * (procs - 1) * 10e-6
    return compute / (compute + comm)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--data", default=os.path.join(os.environ.get("BPTT_DATA", os.path.expanduser("~/.cache/bptt")),
                                                   "shakespeare"))
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    import mpi4py

    print(f"mpi4py {mpi4py.__version__}; numpy {np.__version__}; cores={os.cpu_count()}; H={args.hidden}, batch 64, "
          f"window 64, {args.steps} timed steps; one BLAS thread per process")
    rows = [launch(n, args) for n in args.procs]
    base = rows[0]["updates_per_s"] / rows[0]["procs"] if rows[0]["procs"] == 1 else None
    print(f"{'processes':>9} {'updates/s':>10} {'s/step':>8} {'speed-up':>9} {'allreduce ms':>13} {'MB':>6}")
    for r in rows:
        up = f"{r['updates_per_s'] / base:8.2f}x" if base else "        -"
        ar = f"{r['allreduce_s'] * 1e3:13.2f}" if r["allreduce_s"] else f"{'-':>13}"
        print(f"{r['procs']:>9} {r['updates_per_s']:10.2f} {r['step_s']:8.3f} {up} {ar} {r['buffer_bytes'] / 1e6:6.2f}")
    multi = [r for r in rows if r["allreduce_s"]]
    if base and multi:
        r = multi[0]
        loop_gbit = 8 * r["buffer_bytes"] / r["allreduce_s"] / 1e9
        print(f"loopback allreduce of {r['buffer_bytes'] / 1e6:.2f} MB among {r['procs']}: {r['allreduce_s'] * 1e3:.2f} ms "
              f"({loop_gbit:.1f} Gb/s of buffer per second)")
        one = rows[0]["step_s"]
        print(f"on paper (ring allreduce, 10 us per message; one process's step {one:.3f} s split N ways, the "
              f"global batch of 64 fixed):")
        for gbit in (10, 100):
            eff = ", ".join(f"{n} processes {on_paper(one, r['buffer_bytes'], n, gbit):.0%}" for n in (8, 64))
            print(f"  {gbit:>3} Gb/s: {eff}")


if __name__ == "__main__":
    main()
