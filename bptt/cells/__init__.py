r"""Gated cells for the recurrent layer (:mod:`bptt.recurrent`): what differs between cells.

A cell is one step forward and that step's backward; everything around it is
shared by :mod:`bptt.recurrent`: the input product of all steps at once, the
time loop, pad steps that carry the whole state over, rows sorted longest first,
the split across CPU cores, the weight gradient as one product over all stacked
steps, learned initial states, carried states, per-step gradient norms.

Every cell keeps the tutorial's layout: one weight matrix ``W_s`` of shape
``[H + D, G*H]`` multiplying ``[s^{t-1}, i^t]`` (state rows first), so the
input part of all steps is one product ``X @ W_s[H:]`` and each step's
recurrence one product ``h^{t-1} @ W_s[:H]``; ``G`` is the number of gate
blocks (columns ``k*H..(k+1)*H-1`` belong to block ``k``).

A cell module has:

* ``GATES`` (``G``), ``STATE_PARTS`` (the carried state is ``[B, STATE_PARTS*H]``:
  ``h``, or ``h`` then ``c``), ``SAVED`` (numbers per unit kept by a step for
  its backward), ``INITIAL`` (names of the learned initial states, one per part),
  ``SAME_GRADIENT`` (whether dLoss/dp equals dLoss/du, so one buffer holds both);
* ``init(D, H, *, learn_s0, rng, dtype) -> params`` and ``param_shapes(D, H, learn_s0)``;
* ``step(xp, u, p, s_prev, params) -> (s_new, saved)``: ``u`` ``[n, G*H]`` the input
  part ``i^t @ W_s[H:] + b_s``, ``p`` ``[n, G*H]`` the state part ``h^{t-1} @ W_s[:H]``;
* ``step_back(xp, g, saved, s_prev, s_new) -> (du, dp, g_direct)``: ``g``
  ``[n, STATE_PARTS*H]`` dLoss/ds^t; returns dLoss/du, dLoss/dp (``None``: equal to
  ``du``) and the part of dLoss/ds^{t-1} that does not pass through ``p``;
* ``hidden_bias_grads(dP) -> dict``: gradients of biases that act on ``p`` (may be empty);
* NumPy's fast path, ``step_numpy(u, a, s_prev, s_new, z, params)`` and
  ``step_back_numpy(g, z, s_prev, s_new, du, dp, g_direct)`` with ``out=`` into the
  layer's buffers, ``SAVED_NUMPY`` numbers per unit in ``z``, and ``HALVED`` (blocks whose
  columns of ``u`` and ``p`` the layer halves beforehand).  ``step_numpy`` may overwrite
  ``u`` (the step's row of the layer's U, which no other step reads) and the backward then
  finds what it left there in ``du``, the same buffer, on entry.

The tutorial's cell ``s^t = f_s([s^{t-1}, i^t] @ W_s + b_s)`` is ``"rnn"``; its layer is
:mod:`bptt.rnn`, with loops (and CUDA kernels) of its own.
"""

from __future__ import annotations

from . import gru, lstm

CELLS = ("rnn", "gru", "lstm")
_MODULES = {"gru": gru, "lstm": lstm}


def get(name: str):
    """The cell module for ``name`` (``None`` for the tutorial's cell, whose layer is bptt.rnn)."""
    if name == "rnn":
        return None
    if name not in _MODULES:
        raise ValueError(f"cell={name!r} is not known; choose one of {list(CELLS)}")
    return _MODULES[name]


def step_width(name: str, hidden_size: int) -> int:
    """``H * sqrt(G)``: the square root of a step's multiply-adds per row, what bptt._cpu.parallel weighs."""
    cell = get(name)
    return int(hidden_size * (1 if cell is None else cell.GATES) ** 0.5)


def state_parts(name: str) -> int:
    """How many [B, H] blocks the carried state has: 2 for the LSTM (h, c), else 1."""
    cell = get(name)
    return 1 if cell is None else cell.STATE_PARTS
