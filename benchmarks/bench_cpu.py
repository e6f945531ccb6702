"""One training step of bptt against torch.nn.RNN (GRU, LSTM) on the CPU, in one process.

A step is: forward over the batch, a softmax head on the final state, the loss,
BPTT backward, and an SGD update; tanh, float32.  The two libraries are timed in
alternating blocks (5 bptt steps, 5 torch steps, a peak sample, ...) and the
medians compared.  Each block starts with at least 0.15 s of untimed steps of
its own library, so that every timed step follows a step of the same library,
as in a training loop, and nothing the other library left running (OpenBLAS's
idle threads spin for about 0.1 s after a multi-threaded product) is charged to
it.  (Alternating single steps, as this script did before, charged bptt's
spinning OpenBLAS threads to torch's next step: 1.4-2.7x on torch's times.)

    python benchmarks/bench_cpu.py            # all rows, 30 steps each
    python benchmarks/bench_cpu.py --steps 50 --rows 32,50,32,128
    python benchmarks/bench_cpu.py --rows 64,100,128,256,2 64,100,128,256,1,bi 64,100,128,256,2,bi,varlen
                                              # B,T,D,H[,layers[,bi][,varlen]]: stacked, bidirectional
    python benchmarks/bench_cpu.py --rows 64,100,128,256,gru 64,100,128,256,lstm,varlen
                                              # ...[,gru|lstm]: a gated cell against torch.nn.GRU / nn.LSTM
    python benchmarks/bench_cpu.py --set gated   # the gated cells' rows only

It also measures the machine's float32 matrix-product peak with the same
thread count, between the blocks, and reports which fraction of it bptt
reaches on each row (the target is on the largest), which fraction torch's step
would reach if it did the same FLOPs, and the ceiling that peak puts on bptt's
speed-up (torch's time over the FLOPs' time at the peak): torch's fused LSTM
(oneDNN) can run past NumPy's own matmul peak, and then no NumPy step can beat
it by 1.2x.  The bptt step passes
``check=False`` as ``bptt.train`` does (its data are checked once, not per step).
torch is a benchmark/test dependency only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

C = 10  # classes of the softmax head
ROWS = [(32, 50, 32, 128), (64, 100, 128, 256), (128, 100, 256, 512), (1, 1000, 16, 64)]
VARLEN = (64, 100, 128, 256)
# (B, T, D, H, layers, bidirectional, variable lengths): torch.nn.RNN(num_layers, bidirectional), packed
STACKED = [(64, 100, 128, 256, 2, False, False), (64, 100, 128, 256, 1, True, False), (64, 100, 128, 256, 2, True, True)]
# the gated cells against torch.nn.GRU / nn.LSTM: (B, T, D, H, variable lengths) for each cell
GATED = [(32, 50, 32, 128, False), (64, 100, 128, 256, False), (128, 100, 256, 512, False), (64, 100, 128, 256, True)]
BLOCK = 5  # timed steps in a row of one library
SETTLE = 0.15  # s of untimed steps before a block: OpenBLAS's idle threads spin for 2^28 cycles
# (~0.1 s) after a multi-threaded product, and would take a core from whatever runs next


def bptt_step_fn(B, T, D, H, lengths, rng, layers=1, bi=False, cell="rnn"):
    from bptt import Batch, Model, ModelConfig, SGD

    model = Model(ModelConfig(input_size=D, hidden_size=H, output_size=C, num_layers=layers, bidirectional=bi,
                              cell=cell), rng=rng)
    opt = SGD(lr=0.01)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    y = rng.integers(0, C, size=B)
    batch = Batch(x=x, y=y, lengths=lengths)

    def step():  # as bptt.train does it: the data were checked once, so check=False
        loss, grads = model.loss_and_grads(batch, check=False)
        opt.step(model.params, grads)
        return loss

    return step, model, batch


def torch_step_fn(B, T, D, H, lengths, model, batch, layers=1, bi=False, cell="rnn"):
    import torch

    kw = {"nonlinearity": "tanh"} if cell == "rnn" else {}
    Net = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell]
    net = Net(D, H, num_layers=layers, bidirectional=bi, batch_first=True, **kw)
    K = 2 if bi else 1
    head = torch.nn.Linear(K * H, C)
    p = model.params
    stacked = layers > 1 or bi
    with torch.no_grad():  # the same weights: weight_hh = W_s[:H].T, weight_ih = W_s[H:].T
        for k in range(layers):
            for sfx in ([f"l{k}", f"l{k}_reverse"] if bi else [f"l{k}"]):
                name = (lambda n: f"{n}_{sfx}") if stacked else (lambda n: n)
                W, b = p[name("W_s")], p[name("b_s")]
                getattr(net, f"weight_hh_{sfx}").copy_(torch.from_numpy(W[:H].T.copy()))
                getattr(net, f"weight_ih_{sfx}").copy_(torch.from_numpy(W[H:].T.copy()))
                getattr(net, f"bias_ih_{sfx}").copy_(torch.from_numpy(b))
                getattr(net, f"bias_hh_{sfx}").zero_()
                if cell == "gru":
                    getattr(net, f"bias_hh_{sfx}")[2 * H:] = torch.from_numpy(p[name("b_hn")])
        head.weight.copy_(torch.from_numpy(p["W_o"].T.copy()))
        head.bias.copy_(torch.from_numpy(p["b_o"]))
    opt = torch.optim.SGD(list(net.parameters()) + list(head.parameters()), lr=0.01)
    x = torch.from_numpy(batch.x)
    y = torch.from_numpy(np.asarray(batch.y))
    L = None if lengths is None else torch.from_numpy(np.asarray(lengths))

    def step():
        opt.zero_grad(set_to_none=True)
        if L is None:
            _, hT = net(x)
        else:
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, L, batch_first=True, enforce_sorted=False)
            _, hT = net(packed)
        if cell == "lstm":
            hT = hT[0]  # (h_n, c_n): the head reads h
        top = hT[-K:].permute(1, 0, 2).reshape(hT.shape[1], K * H)  # the top layer's final states, both directions
        loss = torch.nn.functional.cross_entropy(head(top), y)
        loss.backward()
        opt.step()
        return loss

    return step


class MatmulPeak:
    """The float32 matrix-product rate of this machine: a 2048^3 numpy matmul, timed once
    after each pair of blocks, so that it is measured under the same conditions
    (a shared machine's load comes and goes); the median of all samples is the peak."""

    def __init__(self, n=2048):
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((n, n)).astype(np.float32)
        self.b = rng.standard_normal((n, n)).astype(np.float32)
        self.c = np.empty((n, n), np.float32)
        self.flops = 2 * n**3
        self.samples = []
        np.matmul(self.a, self.b, out=self.c)  # warm-up, not a sample

    def sample(self):
        t0 = time.perf_counter()
        np.matmul(self.a, self.b, out=self.c)
        self.samples.append(self.flops / (time.perf_counter() - t0))

    def rate(self, since=0):
        return statistics.median(self.samples[since:])


def step_flops(B, T, D, H, layers=1, bi=False, gates=1):
    # per layer and direction: forward: input projection 2TBDH + recurrence 2TBH^2; backward: 2TBH^2
    # through W_s[:H], dW_s = [S_prev, X]^T dA: 2TB(H+D)H, and dx 2TBDH above the first layer (its
    # inputs are data); a gated cell's products are ``gates`` times wider
    K = 2 if bi else 1
    total = 0
    for k in range(layers):
        Din = D if k == 0 else K * H
        total += K * 2 * T * B * H * (2 * Din + 3 * H + (Din if k > 0 else 0))
    return total * gates


def timed_block(step, k):
    """Untimed steps for at least SETTLE seconds (at least one), then ``k`` timed steps:
    each timed step follows a step of the same library, as in its own training loop."""
    settle_until = time.perf_counter() + SETTLE
    step()
    while time.perf_counter() < settle_until:
        step()
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def varlen_lengths(B, T, rng):
    """The variable-length row's lengths: uniform in T/2..T, the first T (so the batch has T steps)."""
    lengths = rng.integers(T // 2, T + 1, size=B)
    lengths[0] = T
    return lengths


def run_row(B, T, D, H, steps, varlen, rng, peak, layers=1, bi=False, cell="rnn"):
    lengths = varlen_lengths(B, T, rng) if varlen else None
    bstep, model, batch = bptt_step_fn(B, T, D, H, lengths, rng, layers, bi, cell)
    tstep = torch_step_fn(B, T, D, H, lengths, model, batch, layers, bi, cell)
    tb, tt = [], []
    while len(tb) < steps:  # blocks of BLOCK timed steps of one library, then of the other
        tb += timed_block(bstep, min(BLOCK, steps - len(tb)))
        tt += timed_block(tstep, min(BLOCK, steps - len(tt)))
        peak.sample()
    return statistics.median(tb), statistics.median(tt)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30, help="timed steps per row (median reported)")
    ap.add_argument("--rows", nargs="*", default=None, help="rows as B,T,D,H (default: the standard set)")
    ap.add_argument("--set", choices=["all", "rnn", "gated"], default="all",
                    help="the standard rows: all, the tutorial's cell only, or the gated cells only")
    args = ap.parse_args(argv)
    import torch

    def parse(r):
        parts = r.split(",")
        nums = [int(v) for v in parts if v.isdigit()]
        cell = "gru" if "gru" in parts else "lstm" if "lstm" in parts else "rnn"
        return (*nums[:4], nums[4] if len(nums) > 4 else 1, "bi" in parts, "varlen" in parts, cell)

    rnn_rows = [(*r, 1, False, False, "rnn") for r in ROWS] + [(*VARLEN, 1, False, True, "rnn")] + [
        (*r, "rnn") for r in STACKED]
    gated_rows = [(B, T, D, H, 1, False, v, cell) for cell in ("gru", "lstm") for B, T, D, H, v in GATED]
    todo = ([parse(r) for r in args.rows] if args.rows else
            {"all": rnn_rows + gated_rows, "rnn": rnn_rows, "gated": gated_rows}[args.set])
    threads = torch.get_num_threads()
    from bptt import keep_freed_memory

    kept = keep_freed_memory()  # as `bptt train` does; the process is shared, so torch gets it too
    print(f"torch {torch.__version__} threads={threads}; numpy {np.__version__}; cores={os.cpu_count()}; "
          f"freed memory kept (bptt.keep_freed_memory): {'yes' if kept else 'no'}")
    rng = np.random.default_rng(0)
    peak = MatmulPeak()
    for _ in range(4):
        peak.sample()
    print(f"{'B,T,D,H':>27} {'bptt ms':>9} {'torch ms':>9} {'speed-up':>9} {'bptt GFLOP/s':>13} {'of peak':>8} "
          f"{'peak GFLOP/s':>12} {'torch of peak':>13} {'ceiling':>8}")
    for B, T, D, H, layers, bi, varlen, cell in todo:
        since = len(peak.samples)
        tb, tt = run_row(B, T, D, H, args.steps, varlen, rng, peak, layers, bi, cell)
        flops = step_flops(B, T, D, H, layers, bi, {"rnn": 1, "gru": 3, "lstm": 4}[cell])
        rate = flops / tb
        name = ((f"{cell} " if cell != "rnn" else "") + f"{B},{T},{D},{H}" + (f" {layers} layers" if layers > 1 else "")
                + (" bi" if bi else "") + (" varlen" if varlen else ""))
        row_peak = peak.rate(since)  # measured between this row's blocks
        print(f"{name:>27} {tb * 1e3:9.2f} {tt * 1e3:9.2f} {tt / tb:8.2f}x {rate / 1e9:13.1f} {rate / row_peak:7.0%}"
              f" {row_peak / 1e9:12.1f} {flops / tt / row_peak:13.0%} {tt * row_peak / flops:7.2f}x")
    print(f"float32 matmul peak (2048^3 numpy matmul between blocks, median of {len(peak.samples)}): "
          f"{peak.rate() / 1e9:.1f} GFLOP/s; 'of peak' divides by the median measured during that row")
    print("'torch of peak': torch's step, counted in the same FLOPs, against that peak; 'ceiling': the most a step"
          " could beat torch by if all its FLOPs ran at that peak and nothing else took time (torch ms / (FLOPs / peak))")


if __name__ == "__main__":
    main()
