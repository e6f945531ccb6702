"""bptt on a GPU (CuPy) against torch.nn.RNN on cuDNN, in one process.

    python benchmarks/gpu.py                 # on a machine with an NVIDIA GPU, CuPy and PyTorch
    python benchmarks/gpu.py --cpu --steps 3 # the same script on the CPU path (NumPy vs torch CPU;
                                             # exactness against finite differences)

1. Exactness: states, loss and every gradient of a padded batch computed on
   CuPy equal NumPy's (float64, 1e-10), for each way the CUDA loops can run
   (``persistent`` kernels, ``stepwise`` with cuBLAS or with ``cupy.matmul``,
   and the generic array-API loop ``off``), for several heads and activations,
   with H small enough for the persistent kernels and too large for them.
2. Speed: one training step (forward, softmax head on the final state, BPTT,
   SGD update; tanh, float32) of bptt on CuPy against torch.nn.RNN on cuDNN
   (packed sequences for the variable-length row), interleaved, median.
   bptt computes in full float32 (unless ``CUPY_TF32=1``); cuDNN is timed
   twice: with TF32 off (full float32, the like-for-like baseline of the
   "bptt/torch" ratio) and with PyTorch's default
   (``torch.backends.cudnn.allow_tf32 = True``: TF32 tensor cores).
   "host ms" is how long the bptt step takes to return before the device
   synchronises: when it is close to the total, the step is launch-bound.
   ``--models lstm gru rnn:2 lstm:2:bi ...`` times those models instead
   (CELL[:LAYERS][:bi]) against torch.nn.LSTM / GRU / RNN with the same cell,
   layers and directions, on issue 14's rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

ROWS = [(64, 100, 128, 256), (128, 100, 256, 512), (256, 200, 512, 1024), (1, 1000, 16, 64), (64, 100, 128, 128)]
VARLEN = (128, 100, 256, 512)
CELL_ROWS = [(32, 50, 32, 128), (64, 100, 128, 256), (128, 100, 256, 512)]  # issue 14's rows (and VARLEN)
C = 10
# (BPTT_CUDA_RNN mode, BPTT_CUDA_GEMM, BPTT_CUDA_GRAPH) of each variant
VARIANTS = {"auto": ("auto", "cublas", True), "stepwise": ("stepwise", "cublas", True),
            "stepwise-nograph": ("stepwise", "cublas", False), "stepwise-cupy": ("stepwise", "cupy", False),
            "off": ("off", "cublas", False)}


def _setup(cpu: bool):
    import torch

    if cpu:
        return np, torch, "cpu", (lambda: None)
    import cupy

    from bptt.device import array_module

    xp = array_module("gpu")
    return xp, torch, "cuda", (lambda: (cupy.cuda.runtime.deviceSynchronize(), torch.cuda.synchronize()))


def _use(variant: str):
    from bptt import _cuda_rnn

    _cuda_rnn.settings["mode"], _cuda_rnn.settings["gemm"], _cuda_rnn.settings["graph"] = VARIANTS[variant]


FD_MAX_H = 40  # the CPU path's state size cap: finite differences take two passes per checked entry


def check_exact(xp, *, H=33, head="many_to_many", activation="tanh", learn_s0=True, dtype="float64", seed=0,
                **model_kw):
    """Worst difference between NumPy and ``xp`` (states, loss; gradients relative to their scale).

    On the CPU path (``xp`` is NumPy, so there is nothing to compare NumPy with) the reference is
    central finite differences instead: the worst relative error of every gradient (``gradcheck``)."""
    from bptt import Batch, Model, ModelConfig, gradcheck
    from bptt.device import to_device, to_host

    if xp is np:
        H = min(H, FD_MAX_H)
    rng = np.random.default_rng(seed)
    cfg = ModelConfig(input_size=7, hidden_size=H, output_size=5, learn_s0=learn_s0, head=head,
                      activation=activation, dtype=dtype, **model_kw)
    host = Model(cfg, rng=rng)
    for k in host.params:  # learned initial states (s0, c0; per layer and direction) away from zero
        if k.startswith(("s0", "c0")):
            host.params[k][:] = rng.standard_normal(H)
    x = rng.standard_normal((6, 19, 7)).astype(dtype)
    L = np.array([19, 1, 7, 12, 19, 3])
    y = rng.integers(0, 5, (6, 19) if head == "many_to_many" else (6,))
    if xp is np:
        return max(gradcheck(host, Batch(x=x, y=y, lengths=L), max_entries=30, seed=seed).values())
    lh, gh = host.loss_and_grads(Batch(x=x, y=y, lengths=L))
    oh, ch = host.forward(x, L)
    dev = Model(cfg, to_device(host.params, "cpu" if xp is np else "gpu"))
    ld, gd = dev.loss_and_grads(Batch(x=xp.asarray(x), y=y, lengths=L))
    od, cd = dev.forward(xp.asarray(x), L)
    worst = abs(float(lh) - float(ld))
    # the outputs, every layer's final states, and the top layer's states at every step where the model keeps
    # them (a many-to-one head on a bidirectional stack reads only the final states: no [B, T, 2H] copy)
    if (ch["states"] is None) != (cd["states"] is None):
        raise AssertionError("the GPU model kept the states at every step where NumPy's did not, or the reverse")
    got = to_host({"o": od, "f": cd["final"], "s": cd["states"]} if cd["states"] is not None
                  else {"o": od, "f": cd["final"]})
    for key, want in (("o", oh), ("f", ch["final"]), ("s", ch["states"])):
        if key in got:
            worst = max(worst, float(np.max(np.abs(got[key] - want))))
    return max(worst, _grads_difference(to_host(gd), gh))


def exactness_table(xp, variants) -> bool:
    cases = [dict(H=33), dict(H=33, head="many_to_one", activation="sigmoid", seed=1),
             dict(H=33, activation="relu", learn_s0=False, seed=2), dict(H=1, activation="identity", seed=3),
             dict(H=300, seed=4), dict(H=300, head="many_to_one", seed=5), dict(H=100, seed=6)]
    ok = True
    # on the GPU: CuPy against NumPy; on the CPU path: NumPy against central finite differences
    limit, what = (1e-6, "relative error against finite differences") if xp is np else (1e-10, "difference")
    # the gated cells (fused loops of bptt._cuda_cells, or the generic loop with "off") and a stack
    gated = [dict(H=33, cell="gru", seed=7), dict(H=33, cell="lstm", head="many_to_one", seed=8),
             dict(H=300, cell="lstm", seed=12), dict(H=300, cell="gru", head="many_to_one", seed=13),
             dict(H=20, cell="lstm", num_layers=2, bidirectional=True, seed=9),
             dict(H=20, cell="gru", num_layers=2, bidirectional=True, head="many_to_one", seed=10),
             dict(H=33, num_layers=2, bidirectional=True, seed=11)]
    for i, variant in enumerate(variants):
        _use(variant)
        for case in cases + (gated if variant in ("auto", "stepwise-nograph", "off") else []):
            name = ",".join(f"{k}={v}" for k, v in case.items())
            if xp is np and case.get("H", 33) > FD_MAX_H:
                name = name.replace(f"H={case['H']}", f"H={FD_MAX_H}")  # the size check_exact uses there
            try:
                err = check_exact(xp, **case)
                good = err < limit
                print(f"exactness, float64, padded batch, {variant:>13} {name:<48} worst {what} {err:.2e} "
                      f"({'OK' if good else 'FAIL'} at {limit:g})", flush=True)
            except Exception as e:  # report and go on: the other variants still get checked and timed
                good = False
                print(f"exactness, {variant} {name}: ERROR {type(e).__name__}: {e}", flush=True)
            ok = ok and good
    if xp is not np:
        for variant in [v for v in ("auto", "stepwise-nograph", "off") if v in variants]:
            _use(variant)
            for cell in ("gru", "lstm"):
                for masking in ("right", "anywhere"):
                    for H in (17, 300):
                        try:
                            err = check_layer(xp, cell, H, masking, seed=H)
                            good = err < limit
                            print(f"exactness, float64, layer with s_init, {variant:>13} cell={cell},H={H},"
                                  f"pads={masking:<8} worst difference {err:.2e} ({'OK' if good else 'FAIL'} at "
                                  f"{limit:g})", flush=True)
                        except Exception as e:
                            good = False
                            print(f"exactness, {variant} layer cell={cell},H={H},pads={masking}: ERROR "
                                  f"{type(e).__name__}: {e}", flush=True)
                        ok = ok and good
    return ok


def check_layer(xp, cell, H, masking, seed=0):
    """The recurrent layer alone on CuPy against NumPy: pads at the end or anywhere (``mask``), a
    carried state ``s_init``, losses on every state and on the final one; states, the final state,
    every gradient, dx, and the per-step gradient norms (which take the generic loop)."""
    from bptt import cells, recurrent
    from bptt.device import to_device, to_host

    rng = np.random.default_rng(seed)
    Bm, Tm, Dm = 6, 19, 7
    p = recurrent.init(Dm, H, cell=cell, learn_s0=True, rng=rng, dtype=np.float64)
    for k in p:
        if k != "W_s":
            p[k] = rng.normal(0, 0.5, p[k].shape)
    x = rng.standard_normal((Bm, Tm, Dm))
    if masking == "right":
        mask = np.arange(Tm)[None, :] < np.array([19, 1, 7, 12, 19, 3])[:, None]
    else:
        mask = rng.random((Bm, Tm)) < 0.6
        mask[:, 0] = False  # a pad at the first step of every row
    SW = cells.state_parts(cell) * H  # the carried state's width: [h] or [h, c]
    s_init = rng.standard_normal((Bm, SW))
    dS, dl = rng.standard_normal((Bm, Tm, H)), rng.standard_normal((Bm, H))
    worst = 0.0
    for init in (None, s_init):
        sh, ch = recurrent.forward(p, x, mask=mask, cell=cell, s_init=init)
        gh, dxh, nh = recurrent.backward(p, ch, dS, d_last=dl, step_norms=True)
        pd = to_device(p, "gpu")
        sd, cd = recurrent.forward(pd, xp.asarray(x), mask=xp.asarray(mask), cell=cell,
                                   s_init=None if init is None else xp.asarray(init))
        gd, dxd = recurrent.backward(pd, cd, xp.asarray(dS), d_last=xp.asarray(dl))
        gdn, _, nd = recurrent.backward(pd, cd, xp.asarray(dS), d_last=xp.asarray(dl), step_norms=True)
        host = to_host({"s": sd, "f": recurrent.final_state(cd), "dx": dxd, "n": nd})
        worst = max(worst, float(np.max(np.abs(host["s"] - sh))), float(np.max(np.abs(host["dx"] - dxh))),
                    float(np.max(np.abs(host["f"] - recurrent.final_state(ch)))),
                    float(np.max(np.abs(host["n"] - nh))))
        worst = max(worst, _grads_difference(to_host(gd), gh), _grads_difference(to_host(gdn), gh))
    return worst


def _grads_difference(got: dict, want: dict) -> float:
    """The worst difference of any gradient, relative to its scale (at least 1)."""
    return max(float(np.max(np.abs(v - want[k]))) / max(1.0, float(np.max(np.abs(want[k])))) for k, v in got.items())


def float32_check(xp, variants):
    """float32 on the GPU against float32 NumPy at a benchmark size: the relative error of dW_s."""
    from bptt import Batch, Model, ModelConfig
    from bptt.device import to_device, to_host

    for H in (64, 512):
        rng = np.random.default_rng(H)
        cfg = ModelConfig(input_size=32, hidden_size=H, output_size=C)
        host = Model(cfg, rng=rng)
        x = rng.standard_normal((32, 50, 32)).astype(np.float32)
        L = rng.integers(25, 51, 32)
        y = rng.integers(0, C, 32)
        _, gh = host.loss_and_grads(Batch(x=x, y=y, lengths=L))
        for variant in variants:
            _use(variant)
            dev = Model(cfg, to_device(host.params, "gpu"))
            try:
                _, gd = dev.loss_and_grads(Batch(x=xp.asarray(x), y=y, lengths=L))
            except Exception as e:
                print(f"float32, H={H}, {variant}: ERROR {type(e).__name__}: {e}", flush=True)
                continue
            g = to_host(gd)["W_s"]
            rel = float(np.linalg.norm(g - gh["W_s"]) / np.linalg.norm(gh["W_s"]))
            print(f"float32, H={H}, {variant:>13}: |dW_s - NumPy| / |NumPy| = {rel:.1e}", flush=True)


def time_row(xp, torch, tdev, sync, B, T, D, H, steps, varlen, rng, variants, tf32_modes, cell="rnn",
             num_layers=1, bidirectional=False):
    from bptt import SGD, Batch, Model, ModelConfig
    from bptt.device import to_device

    lengths = None
    if varlen:
        lengths = rng.integers(T // 2, T + 1, size=B)
        lengths[0] = T
    model = Model(ModelConfig(input_size=D, hidden_size=H, output_size=C, cell=cell, num_layers=num_layers,
                              bidirectional=bidirectional), rng=rng)
    plain = cell == "rnn" and num_layers == 1 and not bidirectional
    host_params = {k: v.copy() for k, v in model.params.items()}
    model.params = to_device(model.params, "cpu" if xp is np else "gpu")
    opt = SGD(lr=0.01)
    x_host = rng.standard_normal((B, T, D)).astype(np.float32)
    y_host = rng.integers(0, C, size=B)
    batch = Batch(x=xp.asarray(x_host), y=xp.asarray(y_host), lengths=lengths)

    def bstep():
        loss, grads = model.loss_and_grads(batch, check=False)
        opt.step(model.params, grads)

    net = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](
        D, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=True).to(tdev)
    head = torch.nn.Linear(H * (2 if bidirectional else 1), C).to(tdev)
    if plain:  # the same weights (the gated cells and stacks: torch's own initialisation, same sizes)
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
        hT = hT[0] if cell == "lstm" else hT  # (h, c) for the LSTM: the head reads h
        feat = torch.cat([hT[-2], hT[-1]], dim=1) if bidirectional else hT[-1]  # the last layer's final states
        torch.nn.functional.cross_entropy(head(feat), ty).backward()
        topt.step()

    def timed(fn):
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        sync()
        return time.perf_counter() - t0, t1 - t0

    fns = [(v, bstep) for v in variants] + [(f"torch{'-tf32' if tf else ''}", tstep) for tf in tf32_modes]
    failed = []
    for name, fn in fns:  # warm-up: compilation, cuBLAS/cuDNN handles, the memory pools
        _prepare(name, torch)
        try:
            for _ in range(2):
                fn()
            sync()
        except Exception as e:  # report it; the other variants are still timed
            import traceback

            print(f"  {name} at {B},{T},{D},{H}: ERROR {type(e).__name__}: {e}\n"
                  + "".join(traceback.format_exception(e)[-6:]), flush=True)
            failed.append(name)
    fns = [(name, fn) for name, fn in fns if name not in failed]
    samples = {name: [] for name, _ in fns}  # (total, host) seconds per step
    for i in range(steps):
        for name, fn in fns:
            if name == "off" and i >= max(3, steps // 4):
                continue  # the generic loop is slow on long rows; a few steps are enough
            _prepare(name, torch)
            samples[name].append(timed(fn))
    result = {name: (float("nan"), float("nan")) for name in failed}
    result.update({name: tuple(statistics.median(col) for col in zip(*v)) for name, v in samples.items()})
    return result


def _prepare(name, torch):
    if name.startswith("torch"):
        tf = name.endswith("tf32")
        torch.backends.cudnn.allow_tf32 = tf
        torch.backends.cuda.matmul.allow_tf32 = tf
    else:
        _use(name)


def _model(spec: str):
    """``CELL[:LAYERS][:bi]`` -> (cell, num_layers, bidirectional)."""
    parts = spec.split(":")
    cell = parts[0]
    if cell not in ("rnn", "gru", "lstm"):
        raise SystemExit(f"--models: {spec!r}: the cell must be rnn, gru or lstm")
    rest = parts[1:]
    bi = "bi" in rest
    nums = [p for p in rest if p != "bi"]
    if len(nums) > 1 or (nums and not nums[0].isdigit()):
        raise SystemExit(f"--models: {spec!r} is not CELL[:LAYERS][:bi]")
    return cell, int(nums[0]) if nums else 1, bi


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cpu", action="store_true", help="run on NumPy and torch CPU (no GPU needed)")
    ap.add_argument("--rows", nargs="*", help="rows as B,T,D,H (default: the standard set)")
    ap.add_argument("--variants", nargs="*", choices=list(VARIANTS), help="bptt variants to time (default: all)")
    ap.add_argument("--no-exact", action="store_true", help="skip the exactness checks")
    ap.add_argument("--models", nargs="*", default=["rnn"],
                    help="models to time, as CELL[:LAYERS][:bi]: rnn (the tutorial's one layer, on the standard "
                         "rows), gru, lstm, rnn:2, rnn:1:bi, lstm:2:bi ... (on the gated rows) against "
                         "torch.nn.RNN/GRU/LSTM with the same cell, layers and directions")
    args = ap.parse_args(argv)
    xp, torch, tdev, sync = _setup(args.cpu)
    if args.cpu:
        print("CPU path: NumPy against torch on the CPU (no GPU figures)")
        variants, tf32_modes = ["auto"], [False]
    else:
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(0)
        print(f"GPU: {props['name'].decode()}; CuPy {cupy.__version__}; torch {torch.__version__}, "
              f"cuDNN {torch.backends.cudnn.version()}; array namespace {xp.__name__}", flush=True)
        variants, tf32_modes = args.variants or list(VARIANTS), [False, True]
        if os.environ.get("CUPY_TF32") == "1":
            print("CUPY_TF32=1: bptt's float32 products run on TF32 tensor cores")
    if not args.no_exact:
        exactness_table(xp, variants)
        if not args.cpu:
            float32_check(xp, variants)
    rng = np.random.default_rng(0)
    lines = []
    for spec in args.models:
        cell, num_layers, bi = _model(spec)
        plain = cell == "rnn" and num_layers == 1 and not bi
        rows = ([tuple(int(v) for v in r.split(",")) for r in args.rows] if args.rows
                else ROWS if plain else CELL_ROWS)
        todo = [(r, False) for r in rows] + ([] if args.rows else [(VARLEN, True)])
        vs = variants if plain else [v for v in variants if v in ("auto", "stepwise-nograph", "off")] or ["auto"]
        names = vs + [f"torch{'-tf32' if tf else ''}" for tf in tf32_modes]
        head = (f"{spec:>10} {'B,T,D,H':>21} " + " ".join(f"{n + ' ms':>17}" for n in names)
                + f" {'host ms':>8} {'bptt/torch':>11}" + (f" {'vs tf32':>8}" if len(tf32_modes) > 1 else ""))
        lines.append(head)
        print(head, flush=True)
        for (B, T, D, H), varlen in todo:
            r = time_row(xp, torch, tdev, sync, B, T, D, H, args.steps, varlen, rng, vs, tf32_modes, cell=cell,
                         num_layers=num_layers, bidirectional=bi)
            name = f"{B},{T},{D},{H}" + (" varlen" if varlen else "")
            default = r[vs[0]][0]
            line = (f"{spec:>10} {name:>21} " + " ".join(f"{r[n][0] * 1e3:17.2f}" for n in names)
                    + f" {r[vs[0]][1] * 1e3:8.2f} {default / r['torch'][0]:10.2f}x"
                    + (f" {default / r['torch-tf32'][0]:7.2f}x" if len(tf32_modes) > 1 else ""))
            lines.append(line)
            print(line, flush=True)
    if not args.cpu:
        from bptt._cuda_rnn import graph_stats
        print(f"CUDA graphs: {graph_stats['captured']} captured, {graph_stats['replayed']} replayed, "
              f"{graph_stats['failed']} refused (their loops ran without a graph)")
        if graph_stats["first_error"]:
            print("the first refusal:\n" + graph_stats["first_error"])
    print("\n".join(["", f"summary ({variants[0]} = bptt's default; ratios are bptt / torch):"] + lines))


if __name__ == "__main__":
    main()
