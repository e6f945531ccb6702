"""How much memory BPTT needs, checked before training starts.

The backward pass needs the state of every step of every sequence in a batch,
so one batch of long sequences can need more memory than the machine has.
Rather than let the operating system kill the run (or the GPU fail) part way
through an epoch, ``bptt train`` estimates the largest batch's need from its
rows and padded length and refuses a run that cannot fit, saying what to change.
"""

from __future__ import annotations

import os


def size(nbytes: float) -> str:
    """A size as a person reads it: ``1.9 GiB`` from 0.1 GiB up, else ``48.0 MiB`` (so a small need or a
    nearly full machine is not told as ``0.0 GiB``)."""
    if nbytes >= 0.1 * 2**30:
        return f"{nbytes / 2**30:,.1f} GiB"
    return f"{nbytes / 2**20:,.1f} MiB"


def step_bytes(hidden: int, embed: int, outputs: int, tag: bool, itemsize: int = 4) -> int:
    """Bytes that one row x one step of a training batch takes (forward caches, gradients, inputs).

    Measured with tracemalloc at H 64-256, D 32-64 (224-372 floats per step for 3H + 4D + 16, or
    + 4 outputs for a tag head); the formula is at or above every measurement."""
    floats = 3 * hidden + 4 * embed + 16 + (4 * outputs if tag else 0)
    return floats * itemsize


def available_bytes(device: str = "cpu") -> int | None:
    """Memory that a run can still take: MemAvailable (Linux), the physical memory elsewhere, or the
    GPU's free memory; None when it cannot be read."""
    if device == "gpu":
        try:
            import cupy

            return int(cupy.cuda.runtime.memGetInfo()[0])
        except Exception:
            return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def batch_problem(rows: int, steps: int, hidden: int, embed: int, outputs: int, tag: bool, *,
                  itemsize: int = 4, device: str = "cpu", available: int | None = None) -> str | None:
    """Why a training batch of ``rows`` sequences padded to ``steps`` cannot fit (None when it can)."""
    need = rows * steps * step_bytes(hidden, embed, outputs, tag, itemsize)
    short = _short_of(need, device, available)
    return short and (f"a training batch of {rows} sequence(s) of {steps:,} steps needs about {size(need)} "
                      f"for BPTT (the state of every step is kept for the backward pass), and {short}")


def sequence_problem(steps: int, hidden: int, embed: int, outputs: int, tag: bool, *, itemsize: int = 4,
                     device: str = "cpu", available: int | None = None, chunk: int | None = None,
                     kept: int = 0) -> str | None:
    """Why labelling one sequence of ``steps`` steps cannot fit (None when it can): a sequence longer than
    an evaluation batch's steps goes alone, and the forward pass keeps the state of each of its steps.
    The training formula, at or above it: a 1,000,000-token line took 1.9 GB of resident memory in
    ``bptt predict`` (a bidirectional tagger, H 64), against 2.1 GB from :func:`step_bytes`.  ``chunk``: the
    model runs it that many steps at a time (:meth:`bptt.Model.infer`), so only a chunk's states are kept,
    and every step's token id and, for a tag head, its outputs (logits and float64 probabilities); ``kept``
    floats of every step besides (a bidirectional model's level outputs, :meth:`bptt.Model.infer`)."""
    if chunk is not None and steps > chunk:
        need = chunk * step_bytes(hidden, embed, outputs, tag, itemsize) + steps * (
            16 + ((itemsize + 8) * outputs if tag else 0) + kept * itemsize)
        what = (f"the states of {chunk:,} steps at a time{', the outputs of every step' if tag else ''}"
                f"{' and the states of one level' if kept else ''}")
    else:
        need, what = steps * step_bytes(hidden, embed, outputs, tag, itemsize), "the state of every step is kept"
    short = _short_of(need, device, available)
    return short and (f"labelling a sequence of {steps:,} steps needs about {size(need)} ({what}), "
                      f"and {short}")


def model_problem(n_params: int, hidden: int, *, itemsize: int = 4, device: str = "cpu",
                  available: int | None = None) -> str | None:
    """Why a model of ``n_params`` parameters and state size ``hidden`` cannot be trained here (None when
    it can): its weights, their gradients and Adam's two moments, plus the float64 work of the
    orthogonal initialisation of an ``[H, H]`` block (a QR decomposition, about three ``H x H`` arrays)."""
    need = 4 * n_params * itemsize + 3 * hidden * hidden * 8
    short = _short_of(need, device, available)
    return short and (f"the model has {n_params:,} parameters; its weights, gradients and optimiser state need "
                      f"about {size(need)}, and {short}")


def _short_of(need: int, device: str, available: int | None) -> str | None:
    """``"this machine has N GiB free"`` when ``need`` bytes exceed 80% of the free memory (``available``,
    else what :func:`available_bytes` reads), else None (also when the free memory cannot be read)."""
    free = available_bytes(device) if available is None else available
    if free is None or need <= 0.8 * free:
        return None
    return f"{'the GPU' if device == 'gpu' else 'this machine'} has {size(free)} free"
