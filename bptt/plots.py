"""PNG plots (matplotlib is an optional extra: ``pip install bptt[plot]``)."""

from __future__ import annotations

import os

import numpy as np


NEEDS_MATPLOTLIB = "plotting needs matplotlib: pip install 'bptt[plot]'"


def missing() -> str | None:
    """Why no plot can be written (matplotlib is not installed), or None; cheap, for a command to
    ask before its work rather than after it."""
    import importlib.util

    return NEEDS_MATPLOTLIB if importlib.util.find_spec("matplotlib") is None else None


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError(NEEDS_MATPLOTLIB) from None
    return plt


def _save(fig, path):
    from .checkpoint import atomic_write_bytes

    atomic_write_bytes(path, lambda f: fig.savefig(f, format="png", dpi=120, bbox_inches="tight"))


def accuracy_by_length(path, curves: dict, train_range=None, xlabel="sequence length", title=None) -> str:
    """Accuracy against length, one line per ``{name: {length: accuracy}}``, training lengths shaded."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    if train_range is not None:
        ax.axvspan(train_range[0] - 0.5, train_range[1] + 0.5, color="tab:green", alpha=0.15,
                   label=f"training lengths {train_range[0]}-{train_range[1]}")
    for name, pts in curves.items():
        xs = sorted(pts)
        ax.plot(xs, [100 * pts[x] for x in xs], marker="o", ms=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("whole-sequence accuracy (%)")
    ax.set_ylim(-2, 102)
    if max((max(p) for p in curves.values() if p), default=1) > 30:
        ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    if title:
        ax.set_title(title)
    _save(fig, path)
    plt.close(fig)
    return os.fspath(path)


def training_curves(path, history: list) -> str:
    """Loss and validation accuracy per epoch from a training history."""
    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    ep = [h["epoch"] for h in history]
    a1.plot(ep, [h["train_loss"] for h in history], label="train")
    if any(h.get("valid_loss") is not None for h in history):
        a1.plot(ep, [h["valid_loss"] for h in history], label="valid")
        a2.plot(ep, [100 * h["valid_accuracy"] for h in history], label="valid accuracy")
    a1.set_xlabel("epoch"), a1.set_ylabel("loss"), a1.legend(), a1.grid(alpha=0.3)
    a2.set_xlabel("epoch"), a2.set_ylabel("accuracy (%)"), a2.grid(alpha=0.3)
    _save(fig, path)
    plt.close(fig)
    return os.fspath(path)


def gradient_norms(path, history: list, curves: int = 5) -> str:
    """``|dLoss/ds^t|`` against the step t, before training and after a few epochs (the first,
    the last and evenly spaced ones between), from a history recorded with ``grad_norms=True``."""
    plt = _pyplot()
    pts = [("before training", history[0].get("initial_grad_norms"))] if history else []
    rec = [h for h in history if h.get("grad_norms") is not None]
    if rec:
        picks = sorted(set(int(round(i)) for i in np.linspace(0, len(rec) - 1, min(curves - 1, len(rec)))))
        pts += [(f"after epoch {rec[i]['epoch']:.3g}", rec[i]["grad_norms"]) for i in picks]
    pts = [(name, v) for name, v in pts if v]
    if not pts:
        raise RuntimeError("no gradient norms were recorded (train with grad_norms=True)")
    fig, ax = plt.subplots(figsize=(7, 4))
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(pts)))
    for (name, v), c in zip(pts, colors):
        ax.plot(np.arange(1, len(v) + 1), np.maximum(v, 1e-30), label=name, color=c)
    ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel("|dLoss/ds^t| (probe batch)")
    ax.set_title("Gradient reaching each step's state: flat = it flows, falling to the left = it vanishes")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
    return os.fspath(path)
