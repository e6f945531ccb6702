"""Why two directions side by side on two cores do not halve the time at B=32, H=128 (issue 13's small
row): one direction's forward loop (``s = tanh(s @ W_h + u_t)``, three NumPy calls a step, as
bptt.rnn's CPU loop) timed on one thread, then two such loops on two threads at once, then the same
two as one loop of batched ``np.matmul`` on ``[2, B, H]``; and, for comparison, large products and
tanh on large arrays, where two threads hold the interpreter lock seldom.  The BLAS runs one thread
throughout (as bptt's loops do).

    python benchmarks/gil_probe.py
"""

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

B, T, H, REPS = 32, 50, 128, 200


def main():
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((H, H)) * 0.05).astype(np.float32)
    W2 = (rng.standard_normal((2, H, H)) * 0.05).astype(np.float32)
    U = rng.standard_normal((T, B, H)).astype(np.float32)
    U2 = rng.standard_normal((T, 2, B, H)).astype(np.float32)

    def loop(S):
        for t in range(T):
            a = S[t + 1]
            np.matmul(S[t], W, out=a)
            a += U[t]
            np.tanh(a, out=a)

    def loop2(S2):  # both directions in one loop: one batched product a step
        for t in range(T):
            a = S2[t + 1]
            np.matmul(S2[t], W2, out=a)
            a += U2[t]
            np.tanh(a, out=a)

    Sa, Sb = np.zeros((T + 1, B, H), np.float32), np.zeros((T + 1, B, H), np.float32)
    S2 = np.zeros((T + 1, 2, B, H), np.float32)
    ex = ThreadPoolExecutor(2)

    def many(f, S):
        for _ in range(REPS):
            f(S)

    def both(f, a, b):
        fa, fb = ex.submit(f, a), ex.submit(f, b)
        fa.result()
        fb.result()

    def per_step(fn):
        fn()  # warm
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) / REPS / T * 1e6

    with threadpool_limits(1):
        for rep in range(3):
            one = per_step(lambda: many(loop, Sa))
            seq = per_step(lambda: (many(loop, Sa), many(loop, Sb)))
            two = per_step(lambda: both(lambda S: many(loop, S), Sa, Sb))
            bat = per_step(lambda: many(loop2, S2))
            print(f"round {rep + 1}: us a step: one direction {one:.1f}; two one after the other {seq:.1f}; "
                  f"two threads at once {two:.1f}; one batched loop of both {bat:.1f}")
        W512 = rng.random((512, 512)).astype(np.float32) / 512

        def products(pair):  # written in place: no allocation
            a, out = pair
            for _ in range(100):
                np.matmul(a, W512, out=out)

        def tanhs(v):
            for _ in range(100):
                np.tanh(v, out=v)

        pairs = [(rng.random((512, 512)).astype(np.float32), np.empty((512, 512), np.float32)) for _ in range(2)]
        vectors = [rng.random(4096 * 64).astype(np.float32) for _ in range(2)]
        for name, f, args in (("512x512 products", products, pairs), ("tanh of 262,144 floats", tanhs, vectors)):
            f(args[0])
            t0 = time.perf_counter()
            f(args[0])
            t1 = time.perf_counter()
            both(f, *args)
            t2 = time.perf_counter()
            print(f"{name}: two threads at once take {(t2 - t1) / (t1 - t0):.2f}x the time of one thread alone")


if __name__ == "__main__":
    main()
