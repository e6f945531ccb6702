"""NumPy work on several CPU cores, split by bptt instead of inside each BLAS call.

A multi-threaded BLAS splits every matrix product across its threads, and the
threads meet at the end of every product.  The recurrence makes ``T`` small
products per direction (``[B, H] @ [H, H]``), so the cores meet ``2T`` times a
training step; on a shared 2-core machine those meetings were measured to cost
up to 30% of the loop whenever the two cores sat far apart, while one core on
its own ran at an unchanged speed.  The rows of a batch never interact in the
recurrence, so bptt can give each core its own rows for the whole time loop, and
its own block of stacked steps for the large products (the input product, the
sum over steps of dW, dx), with the BLAS at one thread: the cores meet once per
loop.

:func:`parallel` runs the BLAS at one thread inside it, and decides per batch:
when the time loops' products are large enough (``MIN_PART_MACS``) :func:`workers`
is the number of threads the BLAS had (``BPTT_CPU_THREADS`` overrides it;
``BPTT_CPU_THREADS=1`` never splits), else 1: a batch too small to split runs on
one core (``BPTT_BLAS_THREADS=N`` gives the BLAS N threads there instead).  A
multi-threaded BLAS made such steps at most 1.73x faster alone on the machine,
and when anything else held a core (a second training beside it) each of its
meetings waited for the scheduler: 1.1-29x as long a step (``python
benchmarks/blas_threads.py``, log benchmarks/results/cpu-blas-threads.log).  A model's whole training
step runs inside, so that no multi-threaded product wakes the BLAS's own threads
between two loops: OpenBLAS's idle threads spin for about 0.1 s after each
multi-threaded product and take a core from the loops.  The BLAS's thread count
is process-wide, so other threads of the program get a one-thread BLAS while
such a step runs.  Only the main thread splits (OpenBLAS ignores a thread count
set from another thread), and without ``threadpoolctl``, or with a BLAS it
cannot set, nothing is split.
"""

from __future__ import annotations

import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext

import numpy as np

__all__ = ["parallel", "parallel_for", "workers", "ranges", "run", "matmul", "matmul_tn", "side_by_side",
           "keep_freed_memory"]

MIN_SPLIT_FLOPS = 2_000_000  # below this a product runs whole: a hand-off costs ~20 us
MIN_PART_MACS = 1 << 21  # per core and time step, ``rows/n * H * H``, to split.  Measured on 2 cores
# by ``python benchmarks/cpu_split.py`` (medians of 10 rounds, ms, BLAS threads vs split): B=32, H=128
# (0.26M) 3.22 vs 4.18; the word LM (B=32, H=256, 1.05M) 174.2 vs 173.8; B=64, H=256 (2.1M) 32.0 vs
# 28.1; B=128, H=256 47.9 vs 42.7; B=128, H=512 160.8 vs 152.4.

_state = {"depth": 0, "workers": 1, "saved": None, "blas": None, "pool": None, "pool_size": 0, "pid": None}


def _blas_libs():
    """threadpoolctl's controllers of the loaded BLAS libraries (cached), or []."""
    if _state["blas"] is None:
        try:
            from threadpoolctl import ThreadpoolController
            _state["blas"] = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:  # not installed, or a platform it cannot read: split nothing
            _state["blas"] = []
    return _state["blas"]


def _env_count(name: str) -> int | None:
    """A positive integer from the environment variable ``name``, or None when it is not set."""
    env = os.environ.get(name, "").strip()
    if not env:
        return None
    try:
        n = int(env)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {env!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be a positive integer, got {env!r}")
    return n


def _wanted_workers(libs) -> int:
    n = _env_count("BPTT_CPU_THREADS")
    if n is not None:
        return n if libs else 1
    return max((lib.get_num_threads() or 1 for lib in libs), default=1)


def parallel_for(xp, rows: int, width: int):
    """:func:`parallel` for NumPy work; a context that does nothing for other namespaces."""
    return parallel(rows, width) if xp is np else nullcontext()


@contextmanager
def parallel(rows: int, width: int):
    """Run the enclosed NumPy work of a batch of ``rows`` sequences and state size
    ``width`` with a one-thread BLAS, and ``workers()`` threads of bptt's when the
    time loops' products are large enough to gain (see ``MIN_PART_MACS``); otherwise
    on one thread, splitting nothing.

    Re-entrant: the outermost entry decides, sets the BLAS's thread count and
    restores it on exit.  Only the main thread splits: OpenBLAS ignores a thread
    count set from another thread, so there the context does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _state["depth"] == 0:
        libs = _blas_libs()
        n = _wanted_workers(libs)
        if n > 1 and (rows // n) * width * width < MIN_PART_MACS:
            n = 1
        # The BLAS runs one thread inside whether or not bptt splits (see the module's docstring;
        # ``python benchmarks/blas_threads.py``, log benchmarks/results/cpu-blas-threads.log), or
        # BPTT_BLAS_THREADS where bptt does not split.
        blas = 1 if n > 1 else (_env_count("BPTT_BLAS_THREADS") or 1)
        if any((lib.get_num_threads() or 1) != blas for lib in libs):
            _state["saved"] = [(lib, lib.get_num_threads()) for lib in libs]
            for lib in libs:
                lib.set_num_threads(blas)
            if any(lib.get_num_threads() != blas for lib in libs):  # a BLAS that would not follow
                _restore()
                n = 1
        _state["workers"] = n
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        if _state["depth"] == 0:
            _restore()


def _restore():
    for lib, n in _state["saved"] or ():
        lib.set_num_threads(n)
    _state["saved"], _state["workers"] = None, 1


def workers() -> int:
    """How many parts work is split into now: 1 outside :func:`parallel` and off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return 1
    return _state["workers"]


def ranges(n: int, parts: int, min_size: int = 1, weights=None) -> list[tuple[int, int]]:
    """``[0, n)`` cut into at most ``parts`` contiguous ``(lo, hi)``, each at least
    ``min_size`` long (one range when ``n`` is too small to cut): of near-equal size,
    or, given ``weights`` [n] (the work of each row), of near-equal total weight."""
    parts = max(1, min(parts, n // max(1, min_size)))
    if weights is None or parts == 1:
        cuts = [n * k // parts for k in range(parts + 1)]
    else:
        cum = np.cumsum(np.asarray(weights, dtype=np.float64))
        cuts = [0] + [int(np.searchsorted(cum, cum[-1] * k / parts)) + 1 for k in range(1, parts)] + [n]
        for k in range(1, parts):  # in order, and every range at least min_size long
            cuts[k] = min(max(cuts[k], cuts[k - 1] + min_size), n - (parts - k) * min_size)
    return [(cuts[k], cuts[k + 1]) for k in range(parts)]


def _pool(size: int) -> ThreadPoolExecutor:
    pool = _state["pool"]
    if pool is None or _state["pid"] != os.getpid() or _state["pool_size"] < size:
        pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="bptt-cpu")
        _state.update(pool=pool, pool_size=size, pid=os.getpid())
    return pool


def run(fn, spans: list[tuple[int, int]]) -> list:
    """``[fn(lo, hi) for (lo, hi) in spans]``, the first span on this thread and the
    others on bptt's pool at the same time; an exception in any span is raised here."""
    if len(spans) == 1:
        return [fn(*spans[0])]
    # each span in a copy of this thread's context: NumPy's errstate (a context variable) holds there too
    futures = [_pool(len(spans) - 1).submit(contextvars.copy_context().run, fn, lo, hi) for lo, hi in spans[1:]]
    try:
        first = fn(*spans[0])
    finally:
        wait(futures)  # every span has finished, even when this one failed
    return [first] + [f.result() for f in futures]


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for 2-D NumPy arrays, the rows of ``a`` split across :func:`workers`."""
    M, K = a.shape
    N = b.shape[1]
    if out is None:
        out = np.empty((M, N), dtype=np.result_type(a, b))
    n = workers()
    if n == 1 or 2 * M * K * N < MIN_SPLIT_FLOPS:
        return np.matmul(a, b, out=out)

    def part(lo, hi):
        np.matmul(a[lo:hi], b, out=out[lo:hi])

    run(part, ranges(M, n, min_size=8))
    return out


def matmul_tn(a_list, b: np.ndarray):
    """``(concat([a.T for a in a_list]) @ b, b.sum(axis=0))`` for 2-D NumPy arrays ``a``
    [N, I_k] and ``b`` [N, O]: sums over the ``N`` rows, cut into one block per worker
    whose partial results are then added.  (For dW_s and db_s: ``[S_prev, X]^T dA`` and
    the sum of dA, in one pass.)"""
    N, O = b.shape
    starts = np.cumsum([0] + [a.shape[1] for a in a_list])
    n = workers()
    if n > 1 and 2 * N * int(starts[-1]) * O < MIN_SPLIT_FLOPS:
        n = 1

    def part(lo, hi):
        out = np.empty((int(starts[-1]), O), dtype=np.result_type(b, *a_list))
        for a, r0, r1 in zip(a_list, starts[:-1], starts[1:]):
            np.matmul(a[lo:hi].T, b[lo:hi], out=out[r0:r1])
        return out, b[lo:hi].sum(axis=0)

    (out, sums), *rest = run(part, ranges(N, n, min_size=8))
    for p, q in rest:
        out += p
        sums += q
    return out, sums


def _cores() -> int:
    """The threads bptt may use: ``BPTT_CPU_THREADS``, else the BLAS's own thread count (as it was
    before an enclosing :func:`parallel` set it)."""
    libs = _blas_libs()
    if not libs:
        return 1
    if _state["saved"] and _env_count("BPTT_CPU_THREADS") is None:
        return max((n or 1 for _, n in _state["saved"]), default=1)
    return _wanted_workers(libs)


def side_by_side(fns) -> list:
    """``[f() for f in fns]`` for independent NumPy computations (the two directions of a
    bidirectional layer), each on its own thread with a one-thread BLAS, when bptt may use
    several cores; nested work splits nothing meanwhile.  On one core, off the main thread, or
    without a BLAS whose threads can be set, they run one after the other."""
    fns = list(fns)
    if len(fns) < 2 or threading.current_thread() is not threading.main_thread() or _cores() < 2:
        return [f() for f in fns]
    libs = _blas_libs()
    saved = [(lib, lib.get_num_threads()) for lib in libs]
    workers_before = _state["workers"]
    try:
        for lib in libs:
            lib.set_num_threads(1)
        if any(lib.get_num_threads() != 1 for lib in libs):  # a BLAS that would not follow
            return [f() for f in fns]
        _state["workers"] = 1  # each computation runs whole on its thread
        return run(lambda lo, hi: fns[lo](), [(i, i + 1) for i in range(len(fns))])
    finally:
        _state["workers"] = workers_before
        for lib, n in saved:
            lib.set_num_threads(n)


MMAP_THRESHOLD = 32 << 20  # blocks below this come from the heap, not from fresh pages of their own
TRIM_THRESHOLD = 128 << 20  # free memory the heap keeps at its top before it gives it back


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for the next training step instead of giving it back.

    A training step allocates the same arrays, of a few MB each, every time (the states of every step,
    the input products, the gradients).  By default glibc maps each block over 128 KiB to fresh pages
    and unmaps it when freed (or trims the heap's top), so every step pays a page fault per 4 KiB
    touched: on this project's machine a copy of 1.6 MB took 2.1 ms instead of 0.6, and whole
    training runs took 15-20% longer (``bash benchmarks/malloc_ab.sh``, log
    ``benchmarks/results/cpu-malloc.log``).  This sets ``M_MMAP_THRESHOLD`` (32 MiB) and
    ``M_TRIM_THRESHOLD`` (128 MiB); the cost is that up to that much freed memory stays with the
    process.  It changes the whole process, so the command line calls it (it owns the process) and a
    program using the library may.  Nothing is done off Linux, without glibc, or when the user set
    ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` (or ``BPTT_KEEP_FREED_MEMORY=0``).
    Returns whether the settings were made."""
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("BPTT_KEEP_FREED_MEMORY", "").strip() == "0":
        return False
    if any(os.environ.get(v) for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt  # glibc's; absent from musl
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
