"""The command line's measured defaults, for training in Python.

``ModelConfig()`` and ``TrainConfig()`` are the tutorial's plain setting: its cell, a constant rate
of 0.001, batches of 32, all lengths at once.  ``bptt train`` chooses more from the data (the LSTM and
a length curriculum for sequences of symbols, both directions for tags, smaller batches and weight
decay for small training sets, dropout for text, ...; docs/defaults.md says what each was measured
on).  On 7 regular languages trained at lengths 1-40 and tested at 41-200 the plain setting stayed
near chance on 5 runs of 14 (parity, divisible by 3), where those choices reached 100% on all 14
(benchmarks/python_defaults.py; benchmarks/results/python-defaults.log).  :func:`defaults_for` makes
the same choices for data built in Python::

    model_config, train_config = bptt.defaults_for(train_data)
    model = bptt.Model(model_config, rng=0)
    bptt.train.train(model, train_data, valid_data, train_config)

Change any of them with ``dataclasses.replace``.
"""

from __future__ import annotations

import numbers as _numbers
from typing import NamedTuple

import numpy as np

from . import train as _t
from .model import ModelConfig


class Defaults(NamedTuple):
    """What :func:`defaults_for` chose: the model's config and the training loop's."""

    model: ModelConfig
    train: "_t.TrainConfig"


def _inputs(ids) -> tuple[bool, int]:
    """``(numbers, size)``: whether the sequences are float vectors ``[T_i, D]`` (then ``size`` is D) or
    token ids ``[T_i]`` (then ``size`` is the largest id + 1); refuses, by sequence, what is neither."""
    numbers, size = None, 0
    for i, s in enumerate(ids):
        a = np.asarray(s)
        if a.size == 0:
            raise ValueError(f"train_data: sequence {i} is empty")
        floats = np.issubdtype(a.dtype, np.floating)
        if not (floats and a.ndim == 2 or np.issubdtype(a.dtype, np.integer) and a.ndim == 1):
            raise ValueError(f"train_data: sequence {i} must be integer token ids [T_i] or floats [T_i, D] (a "
                             f"sequence of numbers, D of them a step), got {a.dtype} {tuple(a.shape)}")
        if numbers is not None and floats != numbers:
            raise ValueError(f"train_data: sequence {i} is {'floats' if floats else 'token ids'}, and sequence 0 "
                             f"{'floats' if numbers else 'token ids'}: give one kind")
        numbers = floats
        if floats:
            if size and a.shape[1] != size:
                raise ValueError(f"train_data: sequence {i} has {a.shape[1]} numbers a step, sequence 0 {size}")
            if not np.isfinite(a).all():
                raise ValueError(f"train_data: sequence {i} holds NaN or inf")
            size = a.shape[1]
        else:
            if a.min() < 1:
                raise ValueError(f"train_data: sequence {i} holds the token id {int(a.min())}; ids are at least 1 "
                                 f"(0 is the pad; bptt.data.Vocab gives 1 to the unknown token, 2, 3, ... to the tokens)")
            size = max(size, int(a.max()) + 1)
    return bool(numbers), size


def _loss_of(targets, task: str) -> str:
    """``"softmax"`` for whole class ids, ``"mse"`` for floats; refuses labels that are neither."""
    kinds = set()
    for i, t in enumerate(targets):
        a = np.asarray(t)
        if a.dtype == bool or a.dtype.kind in "USO":
            what = "True/False" if a.dtype == bool else "a name" if a.dtype.kind in "US" else "an object"
            raise TypeError(f"train_data: target {i} is {what} ({t!r}): give class ids 0, 1, ... (bptt.data.Labels "
                            f"makes them of names) or float numbers for a regression")
        kinds.add("int" if np.issubdtype(a.dtype, np.integer) else "float")
    return "softmax" if kinds == {"int"} else "mse"


def _check_targets(train_data, loss: str) -> None:
    for i, (s, t) in enumerate(zip(train_data.ids, train_data.targets)):
        a = np.asarray(t)
        if loss == "softmax" and (not np.issubdtype(a.dtype, np.integer) or a.size and a.min() < 0):
            raise ValueError(f"train_data: target {i} ({t!r}) is not a class id (0, 1, ...)")
        if loss != "softmax" and not np.isfinite(a.astype(np.float64)).all():
            raise ValueError(f"train_data: target {i} holds NaN or inf")
        if train_data.task == "tag" and len(a) != len(s):
            raise ValueError(f"train_data: sequence {i} has {len(s)} steps but {len(a)} tags (a tag data's target "
                             f"is one per step)")


def defaults_for(train_data, *, valid: bool = True, vocab_size: int | None = None, loss: str | None = None,
                 pretrained: bool = False, embed_dim: int | None = None) -> Defaults:
    """``(ModelConfig, TrainConfig)`` as ``bptt train`` chooses them for ``train_data`` by default.

    ``train_data``: a :class:`bptt.train.SeqData` (token ids ``[T_i]`` or float vectors ``[T_i, D]``;
    class ids, or float targets for a regression) or a :class:`bptt.lm.TextStream` (a language model).
    ``valid``: whether the run will be given validation data (it decides the patience, as ``--valid``
    does).  ``vocab_size``: the size of the token vocabulary (default: the largest id + 1, with the
    ids of :class:`bptt.data.Vocab`: 0 the pad, 1 the unknown token).  ``loss``: ``"softmax"`` for class
    ids (the default for integer targets), ``"mse"`` for a regression (the default for float targets),
    ``"sigmoid"`` for several 0/1 labels at once (the classifier's defaults).  ``pretrained``: the
    embedding will hold pretrained word vectors of ``embed_dim`` columns (``--pretrained``).

    The choices, each as the command line makes it for the same data (``bptt.train.default_cell``,
    ``default_lr``, ``use_curriculum``, ``default_chrono``, ``default_batch_size``,
    ``default_weight_decay``, ``default_dropout``, ``default_bidirectional``, ``default_monitor``,
    ``default_patience``, ``default_hidden``; docs/defaults.md).  What the command line does to the data
    themselves is left to the caller: it standardises a regression's targets and the values of sequences
    of numbers (mean 0, variance 1), reads text of more than 1000 distinct space-separated tokens as
    lower-cased words, and gives ``seed`` and time limits.
    """
    from .lm import TextStream

    if isinstance(train_data, TextStream):  # a language model: its text is one stream
        size = int(vocab_size) if vocab_size is not None else int(train_data.ids.max()) + 1
        cell = _t.default_cell("lm", size, pretrained)
        mcfg = ModelConfig(vocab_size=size, output_size=size, hidden_size=_t.default_hidden("lm"), cell=cell,
                           head="many_to_many", embed_dim=embed_dim or ModelConfig.embed_dim)
        tcfg = _t.TrainConfig(lr=_t.default_lr(cell, "lm", size, pretrained),
                              patience=_t.default_patience("lm", valid),
                              dropout=_t.default_dropout("lm", size, pretrained))
        return Defaults(mcfg, tcfg)
    if not isinstance(train_data, _t.SeqData):
        raise TypeError(f"train_data must be a bptt.train.SeqData or a bptt.lm.TextStream, got "
                        f"{type(train_data).__name__}")
    if not len(train_data):
        raise ValueError("train_data holds no sequences")
    numbers, size = _inputs(train_data.ids)
    if loss is None:
        loss = _loss_of(train_data.targets, train_data.task)
    if loss not in ("softmax", "sigmoid", "mse"):
        raise ValueError(f"loss={loss!r} is not known; choose 'softmax', 'sigmoid' or 'mse'")
    _check_targets(train_data, loss)
    per_step = train_data.task == "tag"
    regress = loss == "mse"
    task = "regress" if regress else train_data.task  # what the command line's helpers go by
    if numbers:
        sizes = {"input_size": size}
        kinds = 2  # the command line's vocabulary of a run on numbers: the pad and the unknown token
        if vocab_size is not None:
            raise ValueError(f"vocab_size={vocab_size!r}: the inputs are float vectors (sequences of numbers), "
                             f"which have no vocabulary")
    else:
        if vocab_size is None:
            vocab_size = size
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, _numbers.Integral) or vocab_size < size:
            raise ValueError(f"vocab_size must be an integer above every token id (the largest is {size - 1}), "
                             f"got {vocab_size!r}")
        kinds = int(vocab_size)
        sizes = {"vocab_size": kinds, "embed_dim": embed_dim or ModelConfig.embed_dim}
    targets = [np.asarray(t) for t in train_data.targets]
    if loss == "softmax":
        out_size = max(2, max(int(t.max()) for t in targets if t.size) + 1)
    elif per_step:  # a number (or a vector) at every step: [T_i] or [T_i, K]
        out_size = 1 if targets[0].ndim <= 1 else int(targets[0].shape[1])
    else:
        out_size = int(targets[0].size)
    lengths = train_data.lengths
    n_train = len(train_data)
    text = _t.is_text(kinds, pretrained, numbers)
    cell = _t.default_cell(task, kinds, pretrained, numbers=numbers)
    curriculum = task != "lm" and _t.use_curriculum(kinds, pretrained, lengths, numbers=numbers)
    mcfg = ModelConfig(**sizes, hidden_size=_t.default_hidden(task), output_size=out_size, loss=loss,
                       head="many_to_many" if per_step else "many_to_one", cell=cell,
                       bidirectional=_t.default_bidirectional(task, text, numbers),
                       chrono_init=_t.default_chrono(cell, task, kinds, pretrained, numbers, lengths))
    tcfg = _t.TrainConfig(lr=_t.default_lr(cell, task, kinds, pretrained),
                          batch_size=_t.default_batch_size(task, n_train, kinds, pretrained, numbers),
                          weight_decay=_t.default_weight_decay(task, n_train, kinds, pretrained, numbers),
                          curriculum=curriculum,
                          epochs=_t.CURRICULUM_EPOCHS if curriculum else _t.TrainConfig.epochs,
                          monitor=_t.default_monitor(task, text and not curriculum),
                          patience=_t.default_patience(task, valid, text=text and not curriculum),
                          dropout=_t.default_dropout(task, kinds, pretrained, numbers))
    return Defaults(mcfg, tcfg)
