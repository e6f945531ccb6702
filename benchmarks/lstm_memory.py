"""Memory a gated layer keeps from its forward for BPTT, and its peak through the backward.

    python benchmarks/lstm_memory.py                       # the LSTM and the GRU at 64, 100, 128, 256
    python benchmarks/lstm_memory.py --rows 64,64,32,512   # B,T,D,H

Measured with tracemalloc (NumPy reports its array buffers to it), float32, one layer's
``bptt.recurrent.forward`` then ``backward`` with a loss on the final state.
"""

import argparse
import tracemalloc

import numpy as np

import bptt
from bptt import recurrent


def measure(cell, B, T, D, H):
    rng = np.random.default_rng(0)
    p = recurrent.init(D, H, cell=cell, rng=rng)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    dy = rng.standard_normal((B, H)).astype(np.float32)
    tracemalloc.start()
    _, cache = recurrent.forward(p, x, cell=cell)
    held = tracemalloc.get_traced_memory()[0]
    recurrent.backward(p, cache, d_last=dy)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return held, peak


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", nargs="+", default=["64,100,128,256"], help="B,T,D,H")
    ap.add_argument("--cells", nargs="+", default=["lstm", "gru"])
    args = ap.parse_args(argv)
    print(f"bptt from {bptt.__file__}")
    for row in args.rows:
        B, T, D, H = (int(v) for v in row.split(","))
        for cell in args.cells:
            held, peak = measure(cell, B, T, D, H)
            print(f"{cell:5s} {row:>16s}  forward cache held {held / 1e6:7.1f} MB  peak through the backward {peak / 1e6:7.1f} MB")


if __name__ == "__main__":
    main()
