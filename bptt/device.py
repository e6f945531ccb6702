"""Where arrays live: ``"cpu"`` (NumPy) or ``"gpu"`` (CuPy, an optional extra).

Parameters, optimiser state and each batch are put on the device once; the
layers then run in the array namespace of their inputs.  Besides this module,
only ``bptt._cuda_rnn`` (the recurrent layer's fused CUDA kernels) imports
CuPy, and only when it is handed CuPy arrays.
"""

from __future__ import annotations

import numpy as np

from ._xp import to_numpy

DEVICES = ("cpu", "gpu")


def array_module(device: str):
    """The array namespace of ``device``; a clear error says what to install for ``"gpu"``."""
    if device == "cpu":
        return np
    if device != "gpu":
        raise ValueError(f"device={device!r} is not known; choose one of {list(DEVICES)}")
    try:
        import cupy
    except ImportError:
        raise RuntimeError("device 'gpu' needs CuPy and an NVIDIA GPU: pip install 'bptt[gpu]' "
                           "(CUDA 12; 'bptt[gpu-cuda13]' for CUDA 13)") from None
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError
    except Exception:
        raise RuntimeError("device 'gpu': CuPy is installed but finds no usable NVIDIA GPU") from None
    try:
        from array_api_compat import cupy as xp_cupy  # the standard's names on top of CuPy
        return xp_cupy
    except ImportError:
        return cupy


def to_device(tree: dict, device: str) -> dict:
    """Copy every array of a dict to ``device`` (other values are kept)."""
    xp = array_module(device)
    return {k: (xp.asarray(to_numpy(v)) if hasattr(v, "shape") else v) for k, v in tree.items()}


def to_host(tree: dict) -> dict:
    return {k: (to_numpy(v) if hasattr(v, "shape") else v) for k, v in tree.items()}
