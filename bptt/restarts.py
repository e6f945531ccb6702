"""Restarts: train the same model from N seeds and keep the one that scores best on validation.

A recurrent net's training can stall from one initialisation and succeed from
another (Delétang et al. 2023 report the best of 10 seeds); ``bptt train
--restarts N`` runs seeds ``seed, seed + 1, ...``.  On a machine with at least
two cores per run beyond the first run's two, runs go side by side in separate
processes, each with its share of the cores; otherwise one after another, each
with an equal share of what is left of ``max_time``, stopping as soon as one
reaches 100% validation accuracy.  The winner's files become ``OUT``,
``OUT.last`` and ``OUT.metrics.csv``; the others' are removed.  An interrupt (Ctrl-C,
SIGTERM) of runs one after another keeps the best finished run, or the first run's own
files when none has finished (it can be continued alone with ``--resume --seed S``).
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from .model import Model
from .train import train

SUFFIXES = ("", ".last", ".metrics.csv")


def run_score(history: list) -> tuple:
    """The best epoch of a run's history, as the training loop ranked its epochs (``"score"``)."""
    return max((tuple(h["score"]) for h in history), default=(float("-inf"), float("-inf")))


def parallel_runs(n: int, cores: int | None = None) -> int:
    """How many runs go side by side: one per two cores, at most ``n``; 1 on a 2- or 3-core machine."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(n, cores // 2))


def _one_run(k, seed, model, job, tcfg, path, quiet_log):
    def log(line):
        if not quiet_log:
            print(f"[run {k + 1}, seed {seed}] {line}", flush=True)
    history = train(model, job["train_data"], job["valid"], tcfg, out=path, meta=dict(job["meta"], seed=seed),
                    log=log, progress=False if quiet_log else job["progress"], device=job["device"],
                    grad_norms=job["grad_norms"])
    return history


def _limit_threads(threads: int):
    os.environ["BPTT_CPU_THREADS"] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass


def run_restarts(model0: Model, E, tcfg, out: str, n: int, job: dict, log=print, cores: int | None = None) -> list:
    """Train ``n`` runs (the first from ``model0``, the others freshly initialised from seeds
    ``tcfg.seed + k``, with the pretrained embedding ``E`` if given); keep the best as ``out``.
    Returns the best run's history."""
    seeds = [tcfg.seed + k for k in range(n)]
    paths = [f"{out}.run{k + 1}" for k in range(n)]

    def model_for(k):
        if k == 0:
            return model0
        m = Model(model0.config, rng=np.random.default_rng(seeds[k]))
        if E is not None:
            m.params["E"] = E.astype(model0.config.dtype)
        return m

    width = parallel_runs(n, cores)
    histories, pending = {}, None
    if width > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        threads = max(1, (cores or os.cpu_count() or 1) // width)
        log(f"{n} restarts, {width} side by side ({threads} core(s) each)")
        with cf.ProcessPoolExecutor(width, mp_context=mp.get_context("spawn"), initializer=_limit_threads,
                                    initargs=(threads,)) as pool:
            futures = {pool.submit(_one_run, k, seeds[k], model_for(k), job,
                                   dataclasses.replace(tcfg, seed=seeds[k]), paths[k], False): k for k in range(n)}
            for f in cf.as_completed(futures):
                histories[futures[f]] = f.result()
    else:
        deadline = None if tcfg.max_time is None else time.monotonic() + tcfg.max_time
        log(f"{n} restarts, one after another" + (f", within --max-time {tcfg.max_time:g}s" if deadline else ""))
        for k in range(n):
            budget = None
            if deadline is not None:
                budget = (deadline - time.monotonic()) / (n - k)
                if budget <= 0:
                    break
            log(f"run {k + 1} of {n}: seed {seeds[k]}" + (f", {budget:.0f}s" if budget else ""))
            try:
                histories[k] = _one_run(k, seeds[k], model_for(k), job,
                                        dataclasses.replace(tcfg, seed=seeds[k], max_time=budget), paths[k], True)
            except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM: keep what the finished runs give
                _interrupted(e, k, seeds[k], histories, paths, out, log)
                pending = e
                break
            s = run_score(histories[k])
            log(f"run {k + 1}: best validation score {s[0]:.2%} accuracy, {-s[1]:.4f} loss" if job["valid"] is not None
                else f"run {k + 1}: best training loss {-s[1]:.4f}")
            if job["valid"] is not None and s[0] >= 1.0:
                log("100% validation accuracy: no more restarts needed")
                break
    ran = sorted(histories)
    best = max(ran, key=lambda k: (run_score(histories[k]), -k))
    for k in ran:
        for suf in SUFFIXES:
            src = paths[k] + suf
            if not os.path.exists(src):
                continue
            if k == best:
                os.replace(src, out + suf)
            else:
                os.remove(src)
    log(f"kept run {best + 1} (seed {seeds[best]}) of {len(ran)}")
    if pending is not None:
        raise pending  # the command ends as an interrupted one does (status 130 or 143)
    return histories[best]


def _interrupted(e, k, seed, histories, paths, out, log):
    """Run ``k`` was interrupted.  With no run finished, its files (its best model and its state)
    become ``out``'s, and it can be continued on its own; otherwise they are removed and the
    finished runs' best is kept as usual.  Either way the interrupt is raised again afterwards."""
    if not histories:
        for suf in SUFFIXES:
            if os.path.exists(paths[k] + suf):
                os.replace(paths[k] + suf, out + suf)
        log(f"interrupted in run {k + 1}, before any run finished; its state is in {out}.last: continue it "
            f"with --resume --seed {seed} (without --restarts)")
        raise e
    for suf in SUFFIXES:
        if os.path.exists(paths[k] + suf):
            os.remove(paths[k] + suf)
    log(f"interrupted in run {k + 1}; keeping the best of the {len(histories)} finished run(s)")
