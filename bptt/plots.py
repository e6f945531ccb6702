"""PNG plots (matplotlib is an optional extra: ``pip install bptt[plot]``)."""

from __future__ import annotations

import os


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("plotting needs matplotlib: pip install 'bptt[plot]'") from None
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
