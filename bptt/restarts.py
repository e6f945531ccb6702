"""Restarts: train the same model from N seeds and keep the one that scores best on validation.

A recurrent net's training can stall from one initialisation and succeed from
another (Delétang et al. 2023 report the best of 10 seeds); ``bptt train
--restarts N`` runs seeds ``seed, seed + 1, ...``.  On a machine with at least
two cores per run beyond the first run's two, runs go side by side in separate
processes, each with its share of the cores; otherwise one after another, each
with an equal share of what is left of ``max_time``, stopping as soon as one
reaches 100% validation accuracy.  The winner's files become ``OUT``,
``OUT.last`` and ``OUT.metrics.csv``; the others' are removed.  An interrupt (Ctrl-C,
SIGTERM) stops the runs between batches and keeps the best finished run, or, when none has
finished, the first interrupted run's own files (it can be continued alone with
``--resume --seed S``).  A set killed outright (SIGKILL) leaves each begun run's files
``OUT.runK``; ``--resume --restarts N`` goes on with them (``run_restarts(..., resume=True)``).
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from .model import Model
from .train import Diverged, train

SUFFIXES = ("", ".last", ".metrics.csv")


def run_score(history: list) -> tuple:
    """The best epoch of a run's history, as the training loop ranked its epochs (``"score"``)."""
    return max((tuple(h["score"]) for h in history), default=(float("-inf"), float("-inf")))


def parallel_runs(n: int, cores: int | None = None) -> int:
    """How many runs go side by side: one per two cores, at most ``n``; 1 on a 2- or 3-core machine."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(n, cores // 2))


_STOP = None  # in a worker process of runs side by side: the event that says "start no more runs"


def _init_worker(threads: int, stop) -> None:
    """A worker process of runs side by side: its share of the cores; a SIGTERM stops it as Ctrl-C
    does (a run in training stops between batches and saves its state); ``stop`` set: no new run."""
    from .train import raise_on_sigterm

    global _STOP
    _STOP = stop
    _limit_threads(threads)
    raise_on_sigterm()


def _one_run(k, seed, model, job, tcfg, path, quiet_log, resume=False):
    if _STOP is not None and _STOP.is_set():
        from .train import Terminated

        raise Terminated  # the runs were interrupted before this one began
    def log(line):
        if not quiet_log:
            print(f"[run {k + 1}, seed {seed}] {line}", flush=True)
    try:
        return train(model, job["train_data"], job["valid"], tcfg, out=path, meta=dict(job["meta"], seed=seed),
                     resume=resume, log=log, progress=False if quiet_log else job["progress"], device=job["device"],
                     grad_norms=job["grad_norms"])
    except Diverged as e:  # this seed's run ends here; the others go on, and its finished epochs still count
        print(f"[run {k + 1}, seed {seed}] {e}", flush=True)
        return e.history


def _limit_threads(threads: int):
    os.environ["BPTT_CPU_THREADS"] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass


def run_path(out: str, k: int) -> str:
    """The files of run ``k`` (1, 2, ...) of a set: ``OUT.runK`` (and its ``.last``, ``.metrics.csv``)."""
    return f"{out}.run{k}"


def runs_left(out: str) -> list:
    """The runs ``K`` of a set whose state ``OUT.runK.last`` is there (a set killed outright), in order."""
    folder = os.path.dirname(os.path.abspath(out))
    stem = os.path.basename(run_path(out, ""))
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(int(n[len(stem):-5]) for n in names
                  if n.startswith(stem) and n.endswith(".last") and n[len(stem):-5].isdigit())


MAX_RESTARTS = 1000  # runs of one --restarts (each writes its files; a huge N filled the memory with their names)


def run_restarts(model0: Model, E, tcfg, out: str, n: int, job: dict, log=print, cores: int | None = None,
                 resume: bool = False) -> list:
    """Train ``n`` runs (the first from ``model0``, the others freshly initialised from seeds
    ``tcfg.seed + k``, with the pretrained embedding ``E`` if given); keep the best as ``out``.
    With ``resume`` (a set killed outright, which left its runs' files): each run whose state
    ``OUT.runK.last`` is there goes on from it (a finished one gives back its history at once, as
    ``bptt.train.train`` resumes), and the others start; the set ends as one never stopped would.
    Returns the best run's history."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_RESTARTS:
        raise ValueError(f"n must be a whole number of runs from 1 to {MAX_RESTARTS}, got {n!r}")
    seeds = [tcfg.seed + k for k in range(n)]
    paths = [run_path(out, k + 1) for k in range(n)]
    saved = [resume and os.path.exists(p + ".last") for p in paths]  # the runs that go on from their state

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
        ctx = mp.get_context("spawn")
        stop = ctx.Event()
        with cf.ProcessPoolExecutor(width, mp_context=ctx, initializer=_init_worker, initargs=(threads, stop)) as pool:
            futures = {pool.submit(_one_run, k, seeds[k], model_for(k), job,
                                   dataclasses.replace(tcfg, seed=seeds[k]), paths[k], False, saved[k]): k
                       for k in range(n)}
            try:
                for f in cf.as_completed(futures):
                    histories[futures[f]] = f.result()
            except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM: stop the runs, keep what the finished ones give
                pending = e
                _stop_runs(pool, futures, stop)
                for f, k in futures.items():
                    if k not in histories and not f.cancelled() and f.exception() is None:
                        histories[k] = f.result()  # finished while the others stopped
    else:
        deadline = None if tcfg.max_time is None else time.monotonic() + tcfg.max_time
        log(f"{n} restarts, one after another" + (f", within --max-time {tcfg.max_time:g}s" if deadline else ""))
        for k in range(n):
            budget = None
            if deadline is not None:
                budget = (deadline - time.monotonic()) / (n - k)
                if budget <= 0:
                    break
            log(f"run {k + 1} of {n}: seed {seeds[k]}" + (f", {budget:.0f}s" if budget else "")
                + (f" (going on from {paths[k]}.last)" if saved[k] else ""))
            try:
                histories[k] = _one_run(k, seeds[k], model_for(k), job,
                                        dataclasses.replace(tcfg, seed=seeds[k], max_time=budget), paths[k], True,
                                        saved[k])
            except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM: keep what the finished runs give
                pending = e
                break
            s = run_score(histories[k])
            if not histories[k]:
                log(f"run {k + 1}: no epoch finished")
                continue
            log(f"run {k + 1}: best validation score {s[0]:.2%} accuracy, {-s[1]:.4f} loss" if job["valid"] is not None
                else f"run {k + 1}: best training loss {-s[1]:.4f}")
            if job["valid"] is not None and s[0] >= 1.0:
                log("100% validation accuracy: no more restarts needed")
                break
    if pending is not None:
        _interrupted(pending, seeds, histories, paths, out, log)
    ran = sorted(histories)
    kept = [k for k in ran if os.path.exists(paths[k])]  # a run that diverged in its first epoch saved no model
    if not kept:
        for k in ran:
            for suf in SUFFIXES:
                if os.path.exists(paths[k] + suf):
                    os.remove(paths[k] + suf)
        raise Diverged(f"every run ({len(ran)}) diverged before it finished an epoch: try a smaller learning rate "
                       f"(--lr, now {tcfg.lr:g}) or gradient clipping (--clip)", [])
    best = max(kept, key=lambda k: (run_score(histories[k]), -k))
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


def _stop_runs(pool, futures, stop) -> None:
    """Runs side by side, interrupted: no run starts any more (``stop``, and the futures not yet
    handed to a worker are cancelled), and the running ones get a SIGTERM (each stops between
    batches and saves its state, as on Ctrl-C); then wait for them."""
    import concurrent.futures as cf
    import signal

    stop.set()
    for f in futures:
        f.cancel()
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except OSError:  # already gone
            pass
    cf.wait([f for f in futures if not f.cancelled()])


def _interrupted(e, seeds, histories, paths, out, log):
    """Runs were interrupted.  With no run finished, the first interrupted run's files (its best
    model and its state) become ``out``'s, and it can be continued on its own; otherwise the
    interrupted runs' files are removed and the finished runs' best is kept as usual.  The
    interrupt is raised again afterwards (here when no run finished, else by the caller)."""
    stopped = [k for k in range(len(paths)) if k not in histories
               and any(os.path.exists(paths[k] + suf) for suf in SUFFIXES)]
    keep = stopped[0] if stopped and not histories else None
    for k in stopped:
        for suf in SUFFIXES:
            if os.path.exists(paths[k] + suf):
                if k == keep:
                    os.replace(paths[k] + suf, out + suf)
                else:
                    os.remove(paths[k] + suf)
    if histories:
        log(f"interrupted; keeping the best of the {len(histories)} finished run(s)")
        return
    if keep is not None:
        log(f"interrupted in run {keep + 1}, before any run finished; its state is in {out}.last: continue it "
            f"with --resume --seed {seeds[keep]} (without --restarts)")
    raise e
