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


def _integral(values) -> bool:
    """Whether every target is a whole class id (ints, or an integer array): a classifier's targets."""
    for v in values:
        a = np.asarray(v)
        if not np.issubdtype(a.dtype, np.integer) or isinstance(v, bool):
            return False
    return True


def _steps_are_vectors(ids) -> bool:
    """Whether the inputs are float vectors ``[T_i, D]`` (sequences of numbers), not token ids ``[T_i]``."""
    first = np.asarray(ids[0])
    return first.ndim == 2 or np.issubdtype(first.dtype, np.floating)


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
    if loss is None:
        loss = "softmax" if _integral(train_data.targets) else "mse"
    if loss not in ("softmax", "sigmoid", "mse"):
        raise ValueError(f"loss={loss!r} is not known; choose 'softmax', 'sigmoid' or 'mse'")
    per_step = train_data.task == "tag"
    regress = loss == "mse"
    task = "regress" if regress else train_data.task  # what the command line's helpers go by
    numbers = _steps_are_vectors(train_data.ids)
    if numbers:
        sizes = {"input_size": int(np.asarray(train_data.ids[0]).reshape(len(train_data.ids[0]), -1).shape[1])}
        kinds = 2  # the command line's vocabulary of a run on numbers: the pad and the unknown token
        if vocab_size is not None:
            raise ValueError(f"vocab_size={vocab_size!r}: the inputs are float vectors (sequences of numbers), "
                             f"which have no vocabulary")
    else:
        if vocab_size is None:
            vocab_size = max(int(np.max(s)) for s in train_data.ids if len(s)) + 1
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, _numbers.Integral) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2 (the pad id 0 and the tokens), got {vocab_size!r}")
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
