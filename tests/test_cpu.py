"""bptt._cpu: the work split across cores by bptt instead of inside each BLAS call.

The gradient, padding and PyTorch-parity tests run on both CPU paths (the
``cpu_mode`` fixture); these tests check that the split really happens there,
that the BLAS's thread count is set and restored, and the helpers themselves.
"""

import threading

import numpy as np
import pytest

from bptt import _cpu, rnn

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads():
    return [lib.get_num_threads() for lib in _cpu._blas_libs()]


@pytest.fixture
def controllable():
    if not _cpu._blas_libs():
        pytest.skip("threadpoolctl cannot set this BLAS's thread count")


def test_ranges_cover_the_rows_in_order():
    for n in range(0, 40):
        for parts in (1, 2, 3, 7):
            for min_size in (1, 4, 16):
                spans = _cpu.ranges(n, parts, min_size)
                assert spans[0][0] == 0 and spans[-1][1] == n
                assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
                assert 1 <= len(spans) <= parts
                if len(spans) > 1:
                    assert min(hi - lo for lo, hi in spans) >= min_size
                    assert max(hi - lo for lo, hi in spans) - min(hi - lo for lo, hi in spans) <= 1


def test_weighted_ranges_balance_the_work():
    lengths = np.array([100, 96, 90, 80, 75, 70, 60, 55, 52, 50])  # sorted longest first
    spans = _cpu.ranges(len(lengths), 2, 1, weights=lengths)
    assert spans[0][0] == 0 and spans[-1][1] == len(lengths) and spans[0][1] == spans[1][0]
    work = [lengths[lo:hi].sum() for lo, hi in spans]
    assert abs(work[0] - work[1]) <= lengths.max()  # within one row of an even split
    assert spans[0][1] < len(lengths) // 2 + 1  # the long rows' part has fewer rows
    for min_size in (1, 3, 5):
        spans = _cpu.ranges(10, 3, min_size, weights=[1000] + [1] * 9)
        assert all(hi - lo >= min_size for lo, hi in spans) and spans[-1][1] == 10


def test_run_returns_in_order_and_raises_a_failing_span(controllable, monkeypatch):
    monkeypatch.setenv("BPTT_CPU_THREADS", "3")
    with _cpu.parallel(rows=1 << 20, width=1 << 10):
        assert _cpu.run(lambda lo, hi: (lo, hi), [(0, 2), (2, 5), (5, 9)]) == [(0, 2), (2, 5), (5, 9)]
        finished = []

        def part(lo, hi):
            if lo == 2:
                raise ValueError("span 2..5 failed")
            finished.append(lo)

        with pytest.raises(ValueError, match="span 2..5 failed"):
            _cpu.run(part, [(0, 2), (2, 5), (5, 9)])
        assert sorted(finished) == [0, 5]  # the other spans ran to the end


def test_split_products_equal_numpy(controllable, monkeypatch, rng):
    monkeypatch.setenv("BPTT_CPU_THREADS", "3")
    monkeypatch.setattr(_cpu, "MIN_SPLIT_FLOPS", 0)
    a, b, c = rng.standard_normal((50, 7)), rng.standard_normal((7, 5)), rng.standard_normal((50, 5))
    with _cpu.parallel(rows=1 << 20, width=1 << 10):
        assert _cpu.workers() == 3
        np.testing.assert_allclose(_cpu.matmul(a, b), a @ b, rtol=1e-13)
        out, s = _cpu.matmul_tn([a, c], c)  # [a, c]^T c, stacked
        np.testing.assert_allclose(out, np.concatenate([a.T @ c, c.T @ c]), rtol=1e-13)
        np.testing.assert_allclose(s, c.sum(axis=0), rtol=1e-13)


def test_blas_threads_set_inside_and_restored_after(controllable, monkeypatch):
    monkeypatch.setenv("BPTT_CPU_THREADS", "2")
    before = blas_threads()
    with pytest.raises(RuntimeError):
        with _cpu.parallel(rows=1 << 20, width=1 << 10):
            assert blas_threads() == [1] * len(before) and _cpu.workers() == 2
            with _cpu.parallel(rows=1, width=1):  # nested: the first entry's decision holds
                assert blas_threads() == [1] * len(before) and _cpu.workers() == 2
            raise RuntimeError("a failing step")
    assert blas_threads() == before and _cpu.workers() == 1


def test_small_work_runs_on_one_thread_blas_included(controllable, monkeypatch):
    """A batch too small to split runs on one core: with the BLAS's own threads inside, a second
    process beside it made each small product wait for the scheduler (benchmarks/blas_threads.py)."""
    from threadpoolctl import threadpool_limits

    monkeypatch.setenv("BPTT_CPU_THREADS", "2")
    with threadpool_limits(2, user_api="blas"):  # a BLAS with threads to hold back, on any machine
        before = blas_threads()
        assert max(before) == 2
        with _cpu.parallel(rows=8, width=16):  # 8/2 * 16 * 16 MACs per core and step: too small
            assert _cpu.workers() == 1 and blas_threads() == [1] * len(before)
        assert blas_threads() == before  # and the BLAS is as it was after


def test_blas_threads_setting_gives_the_blas_its_threads_where_bptt_does_not_split(controllable, monkeypatch):
    monkeypatch.setenv("BPTT_CPU_THREADS", "2")
    monkeypatch.setenv("BPTT_BLAS_THREADS", "2")
    before = blas_threads()
    with _cpu.parallel(rows=8, width=16):  # too small to split: the BLAS gets the threads asked for
        assert _cpu.workers() == 1 and blas_threads() == [2] * len(before)
    with _cpu.parallel(rows=1 << 20, width=1 << 10):  # split: bptt's threads, and the BLAS at one
        assert _cpu.workers() == 2 and blas_threads() == [1] * len(before)
    assert blas_threads() == before
    monkeypatch.setenv("BPTT_BLAS_THREADS", "many")
    with pytest.raises(ValueError, match="BPTT_BLAS_THREADS must be a positive integer, got 'many'"):
        with _cpu.parallel(rows=8, width=16):
            pass
    assert blas_threads() == before


def test_other_threads_split_nothing_and_leave_the_blas_alone(controllable, monkeypatch):
    """OpenBLAS ignores a thread count set off the main thread, so only the main thread splits."""
    monkeypatch.setenv("BPTT_CPU_THREADS", "2")
    before, seen = blas_threads(), []

    def user_thread():
        with _cpu.parallel(rows=1 << 20, width=1 << 10):
            seen.append((_cpu.workers(), blas_threads()))

    with _cpu.parallel(rows=1 << 20, width=1 << 10):
        t = threading.Thread(target=user_thread)
        t.start()
        t.join()
        assert _cpu.workers() == 2
    t = threading.Thread(target=user_thread)
    t.start()
    t.join()
    assert seen == [(1, [1] * len(before)), (1, before)]  # inside main's context, then outside
    assert blas_threads() == before


def test_bad_thread_setting_is_refused_by_name(monkeypatch):
    for bad in ("two", "0", "-1"):
        monkeypatch.setenv("BPTT_CPU_THREADS", bad)
        with pytest.raises(ValueError, match=f"BPTT_CPU_THREADS.*{bad!r}"):
            with _cpu.parallel(rows=1 << 20, width=1 << 10):
                pass
    assert _cpu.workers() == 1


def test_split_mode_runs_the_loops_on_several_threads(cpu_mode, monkeypatch, rng):
    """What the cpu_mode fixture's "split" promises: the time loops and the products of
    both passes run on more than one thread, with the BLAS at one thread."""
    threads, blas_inside, n_spans = set(), [], []
    real_run = _cpu.run

    def spy(fn, spans):
        n_spans.append(len(spans))

        def part(lo, hi):
            threads.add(threading.get_ident())
            blas_inside.extend(blas_threads())
            return fn(lo, hi)
        return real_run(part, spans)

    monkeypatch.setattr(_cpu, "run", spy)
    params = rnn.init(3, 4, rng=rng, dtype=np.float64)
    x = rng.standard_normal((5, 6, 3))
    states, cache = rnn.forward(params, x, lengths=np.array([6, 2, 5, 1, 6]))
    rnn.backward(params, cache, np.ones_like(states))
    if cpu_mode == "split":
        # input products, forward loop, backward loop, dW: each cut in 3; this thread runs the
        # first part, the pool the others (its threads may take both, one after the other)
        assert n_spans == [3, 3, 3, 3, 3] and len(threads) >= 2 and set(blas_inside) == {1}
    else:
        assert set(n_spans) == {1} and len(threads) == 1  # "blas": one span each, on this thread


def test_without_a_settable_blas_nothing_is_split(monkeypatch, rng):
    """No threadpoolctl (or a BLAS it cannot set): the BLAS keeps its threads, bptt splits nothing."""
    monkeypatch.setitem(_cpu._state, "blas", [])
    monkeypatch.setenv("BPTT_CPU_THREADS", "4")
    with _cpu.parallel(rows=1 << 20, width=1 << 10):
        assert _cpu.workers() == 1
    params = rnn.init(3, 4, rng=rng, dtype=np.float64)
    states, _ = rnn.forward(params, rng.standard_normal((64, 3, 3)))
    assert states.shape == (64, 3, 4)


def test_the_two_directions_of_a_layer_run_side_by_side(controllable, monkeypatch, rng):
    """A bidirectional layer's directions are independent: with two threads allowed they run at
    once, one per thread, with a one-thread BLAS; the results equal one after the other."""
    from bptt import recurrent, stack

    p = stack.init(3, 4, num_layers=2, bidirectional=True, cell="gru", rng=rng, dtype=np.float64)
    x = rng.standard_normal((5, 6, 3))
    lengths = np.array([6, 2, 5, 1, 6])
    d_out = rng.standard_normal((5, 6, 8))

    def run_once():
        out, fin, cache = stack.forward(p, x, lengths=lengths, num_layers=2, bidirectional=True, cell="gru")
        grads, dx = stack.backward(p, cache, d_out)
        return out, fin, grads, dx

    monkeypatch.setenv("BPTT_CPU_THREADS", "1")
    before = blas_threads()
    alone = run_once()
    seen = []
    real_forward, real_backward = recurrent.forward, recurrent.backward

    def spy(fn):
        def wrapped(*a, **k):
            seen.append((fn.__name__, threading.get_ident(), blas_threads()))
            return fn(*a, **k)
        return wrapped

    monkeypatch.setattr(recurrent, "forward", spy(real_forward))
    monkeypatch.setattr(recurrent, "backward", spy(real_backward))
    monkeypatch.setenv("BPTT_CPU_THREADS", "2")
    small = run_once()  # 5 rows of 4 units: too small to gain from two threads, so one after the other here
    assert len(seen) == 8 and all(t == threading.get_ident() for _, t, _ in seen)
    seen.clear()
    monkeypatch.setattr(stack, "MIN_SIDE_MACS", dict.fromkeys(stack.MIN_SIDE_MACS, 0))  # as a layer large enough to gain
    both = run_once()
    for name in ("forward", "backward"):
        calls = [(t, b) for n, t, b in seen if n == name]
        on_this = [t for t, _ in calls if t == threading.get_ident()]
        assert len(calls) == 4 and len(on_this) == 2, calls  # 2 layers x 2 directions: one of each pair here
        assert all(b == [1] * len(b) for _, b in calls)
    for a, b in zip(small[:2], alone[:2]):
        np.testing.assert_array_equal(a, b)
    assert blas_threads() == before  # restored
    np.testing.assert_allclose(both[0], alone[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(both[1], alone[1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(both[3], alone[3], rtol=0, atol=1e-13)
    for k in alone[2]:
        np.testing.assert_allclose(both[2][k], alone[2][k], rtol=0, atol=1e-12)


def test_keep_freed_memory_sets_mallopt_only_where_it_may():
    """bptt.keep_freed_memory (called by the command line) sets glibc's thresholds on Linux with glibc,
    and does nothing when the user chose malloc's settings or turned it off. Each case in its own process:
    the setting is the whole process's."""
    import os
    import platform
    import subprocess
    import sys

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "BPTT_KEEP"))}
    for env, want in (({}, glibc), ({"BPTT_KEEP_FREED_MEMORY": "0"}, False),
                      ({"MALLOC_TRIM_THRESHOLD_": "1000000"}, False), ({"MALLOC_MMAP_THRESHOLD_": "65536"}, False)):
        r = subprocess.run([sys.executable, "-c", "import bptt; print(bptt.keep_freed_memory())"],
                           env={**clean, **env}, capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.strip() == str(want), (env, r.stdout, r.stderr)
