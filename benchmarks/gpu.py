"""bptt on a GPU (CuPy) against torch.nn.RNN on cuDNN, in one process.

    python benchmarks/gpu.py                 # on a machine with an NVIDIA GPU, CuPy and PyTorch
    python benchmarks/gpu.py --cpu --steps 3 # the same script on the CPU path (NumPy vs torch CPU)

1. Exactness: states, loss and every gradient of a padded batch computed on
   CuPy equal NumPy's (float64, 1e-10).
2. Speed: one training step (forward, softmax head on the final state, BPTT,
   SGD update; tanh, float32) of bptt on CuPy against torch.nn.RNN on cuDNN
   (packed sequences for the variable-length row), interleaved, median.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

ROWS = [(64, 100, 128, 256), (128, 100, 256, 512), (256, 200, 512, 1024), (1, 1000, 16, 64)]
VARLEN = (128, 100, 256, 512)
C = 10


def _setup(cpu: bool):
    import torch

    if cpu:
        return np, torch, "cpu", (lambda: None)
    import cupy

    from bptt.device import array_module

    xp = array_module("gpu")
    return xp, torch, "cuda", (lambda: (cupy.cuda.runtime.deviceSynchronize(), torch.cuda.synchronize()))


def check_exact(xp) -> float:
    from bptt import Batch, Model, ModelConfig
    from bptt.device import to_device, to_host

    rng = np.random.default_rng(0)
    cfg = ModelConfig(input_size=7, hidden_size=33, output_size=5, learn_s0=True, head="many_to_many", dtype="float64")
    host = Model(cfg, rng=rng)
    host.params["s0"][:] = rng.standard_normal(33)
    x = rng.standard_normal((6, 19, 7))
    L = np.array([19, 1, 7, 12, 19, 3])
    y = rng.integers(0, 5, (6, 19))
    lh, gh = host.loss_and_grads(Batch(x=x, y=y, lengths=L))
    sh = host.forward(x, L)[1]["states"]
    dev = Model(cfg, to_device(host.params, "cpu" if xp is np else "gpu"))
    ld, gd = dev.loss_and_grads(Batch(x=xp.asarray(x), y=y, lengths=L))
    sd = dev.forward(xp.asarray(x), L)[1]["states"]
    worst = abs(float(lh) - float(ld))
    worst = max(worst, float(np.max(np.abs(to_host({"s": sd})["s"] - sh))))
    for k, v in to_host(gd).items():
        worst = max(worst, float(np.max(np.abs(v - gh[k]))) / max(1.0, float(np.max(np.abs(gh[k])))))
    return worst


def time_row(xp, torch, tdev, sync, B, T, D, H, steps, varlen, rng):
    from bptt import SGD, Batch, Model, ModelConfig
    from bptt.device import to_device

    lengths = None
    if varlen:
        lengths = rng.integers(T // 2, T + 1, size=B)
        lengths[0] = T
    model = Model(ModelConfig(input_size=D, hidden_size=H, output_size=C), rng=rng)
    host_params = {k: v.copy() for k, v in model.params.items()}
    model.params = to_device(model.params, "cpu" if xp is np else "gpu")
    opt = SGD(lr=0.01)
    x_host = rng.standard_normal((B, T, D)).astype(np.float32)
    y_host = rng.integers(0, C, size=B)
    batch = Batch(x=xp.asarray(x_host), y=xp.asarray(y_host), lengths=lengths)

    def bstep():
        loss, grads = model.loss_and_grads(batch, check=False)
        opt.step(model.params, grads)

    net = torch.nn.RNN(D, H, batch_first=True).to(tdev)
    head = torch.nn.Linear(H, C).to(tdev)
    with torch.no_grad():
        net.weight_hh_l0.copy_(torch.from_numpy(host_params["W_s"][:H].T.copy()))
        net.weight_ih_l0.copy_(torch.from_numpy(host_params["W_s"][H:].T.copy()))
        net.bias_ih_l0.zero_(), net.bias_hh_l0.zero_()
    topt = torch.optim.SGD(list(net.parameters()) + list(head.parameters()), lr=0.01)
    tx = torch.from_numpy(x_host).to(tdev)
    ty = torch.from_numpy(y_host).to(tdev)
    tL = None if lengths is None else torch.from_numpy(lengths)

    def tstep():
        topt.zero_grad(set_to_none=True)
        inp = tx if tL is None else torch.nn.utils.rnn.pack_padded_sequence(tx, tL, batch_first=True, enforce_sorted=False)
        _, hT = net(inp)
        torch.nn.functional.cross_entropy(head(hT[0]), ty).backward()
        topt.step()

    for _ in range(3):
        bstep(), tstep()
    sync()
    tb, tt = [], []
    for _ in range(steps):
        t0 = time.perf_counter(); bstep(); sync(); tb.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); tstep(); sync(); tt.append(time.perf_counter() - t0)
    return statistics.median(tb), statistics.median(tt)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cpu", action="store_true", help="run on NumPy and torch CPU (no GPU needed)")
    ap.add_argument("--rows", nargs="*", help="rows as B,T,D,H (default: the standard set)")
    args = ap.parse_args(argv)
    xp, torch, tdev, sync = _setup(args.cpu)
    if args.cpu:
        print("CPU path: NumPy against torch on the CPU (no GPU figures)")
    else:
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(0)
        print(f"GPU: {props['name'].decode()}; CuPy {cupy.__version__}; torch {torch.__version__}, "
              f"cuDNN {torch.backends.cudnn.version()}")
    err = check_exact(xp)
    print(f"exactness, float64, padded batch: worst difference {err:.2e} ({'OK' if err < 1e-10 else 'FAIL'} at 1e-10)")
    rows = [tuple(int(v) for v in r.split(",")) for r in args.rows] if args.rows else ROWS
    todo = [(r, False) for r in rows] + ([] if args.rows else [(VARLEN, True)])
    rng = np.random.default_rng(0)
    print(f"{'B,T,D,H':>24} {'bptt ms':>9} {'torch ms':>9} {'bptt/torch':>11}")
    for (B, T, D, H), varlen in todo:
        tb, tt = time_row(xp, torch, tdev, sync, B, T, D, H, args.steps, varlen, rng)
        name = f"{B},{T},{D},{H}" + (" varlen" if varlen else "")
        print(f"{name:>24} {tb * 1e3:9.2f} {tt * 1e3:9.2f} {tb / tt:10.2f}x")


if __name__ == "__main__":
    main()
