"""Training loop: minibatches (bucketed or exact-length), clipping, early stopping, resume.

The loop is deterministic given ``TrainConfig.seed``: epoch ``e`` draws its
batch order from ``seed`` and ``e``, so a run stopped after any batch and
resumed from its ``.last`` state file ends with the same weights as one that
never stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import _checks, checkpoint
from ._xp import is_numpy, namespace, to_numpy
from .losses import LOSSES
from .batching import batch_indices, pad_sequences
from .model import Batch, Model
from .optim import OPTIMIZERS, clip_grad_norm, global_norm


LR_SCHEDULES = ("constant", "cosine", "cosine-time")


def scheduled_lr(cfg: "TrainConfig", base_lr: float, step: int, steps_per_epoch: int, elapsed: float = 0.0) -> float:
    """The learning rate for update number ``step`` (0-based): ``base_lr`` (the configured rate, as
    lowered by plateau decays) times the warm-up's and the schedule's factors.  The warm-up
    ramps the rate linearly over the first ``warmup`` updates; the cosine schedule runs over
    ``epochs * steps_per_epoch`` updates, where ``max_steps`` and ``max_time`` only stop a run early
    (so a run stopped and resumed follows the same schedule); "cosine-time" runs over ``max_time``
    seconds of training (``elapsed`` so far), or over the epochs if they end first, so that a run given
    a time budget ends at a rate of 0 however fast the machine is (a schedule on the clock: no two
    runs take the same steps, and a resumed run goes on from the fraction of the time its state saved)."""
    warm = min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else 1.0
    if cfg.lr_schedule == "constant":
        return base_lr * warm
    done = step / max(cfg.epochs * steps_per_epoch, 1)
    if cfg.lr_schedule == "cosine-time":
        done = max(done, elapsed / cfg.max_time)
    return base_lr * warm * 0.5 * (1.0 + math.cos(math.pi * min(done, 1.0)))


CURRICULUM_MAX_VOCAB = 1000  # the command line's default curriculum: for sequences of at most this many symbols
CURRICULUM_EPOCHS = 1000  # and its default epochs (a stage's epoch passes over its short sequences only)


def use_curriculum(vocab_size: int, pretrained: bool, lengths, numbers: bool = False) -> bool:
    """The command line's default for ``--curriculum`` on classify and tag data: on for sequences of
    symbols (a vocabulary of at most CURRICULUM_MAX_VOCAB tokens, no pretrained word vectors) whose
    lengths make more than one stage; off for text with a word vocabulary.  Measured: on the tasks of
    ``bptt data make`` and a task of the user's own (benchmarks/lengths.py, own_task.sh) it solved what
    the plain defaults solved, and tasks they failed; on text it was not measured, so it stays off.
    Off for sequences of numbers (``numbers``, ``--inputs numbers``): on the four tasks of
    benchmarks/number_tasks.py (3 seeds, 60 s each; number-defaults.log) the LSTM without it had the
    better validation score on three (thresholded parity 85-92% against 71-77%) and tied on the sum."""
    return not numbers and _symbols(vocab_size, pretrained) and len(curriculum_caps(lengths)) > 1


def _symbols(vocab_size: int, pretrained: bool) -> bool:
    """Whether the data are sequences of symbols (at most CURRICULUM_MAX_VOCAB distinct tokens, no
    pretrained word vectors), not text: the data the command line's data-decided defaults are for."""
    return vocab_size <= CURRICULUM_MAX_VOCAB and not pretrained


def default_cell(task: str, vocab_size: int, pretrained: bool, activation: str = "tanh", numbers: bool = False) -> str:
    """The command line's default ``--cell``: ``"lstm"`` for classify data over at most
    CURRICULUM_MAX_VOCAB symbols without pretrained word vectors (the data the length curriculum is
    for) and for language models, else ``"rnn"``, the tutorial's cell (tag data, text with word vectors,
    and any run that sets ``--activation``, which only the tutorial's cell has).  Measured with the
    defaults otherwise, trained at lengths 1-40 and tested beyond (benchmarks/random_regular.py,
    lengths.py, own_task*.sh): on random automata and on rules joined by AND / OR / XOR the tutorial's
    cell missed tasks that the LSTM learned, and the LSTM generalised where the GRU did not
    (own_task_cells.sh).  Language models: the LSTM (see LM_HIDDEN).  On tag data the tutorial's cell
    did better: addition at 10,000 digits, 100% of sums whole against the LSTM's 0% (99.9% of digits;
    addition-10k-lstm.log), and reverse-string.
    The same on the GPU: the gated cells' fused CUDA loops equal NumPy to 1e-14 in float64
    (benchmarks/results/h200-run4-cells.log).  Regress data (a number per sequence) too: on three tasks of
    benchmarks/regress_tasks.py the LSTM scored R^2 0.85-0.95 at lengths 41-200 (0.93 and 0.95 with the
    curriculum) on the one where the tutorial's cell scored -0.13-0.17, and every run 0.9999-1.0000 on
    the two others (regress-defaults.log).  Sequences of numbers (``numbers``, ``--inputs numbers``): the
    LSTM for every task, tags too: on the four tasks of benchmarks/number_tasks.py (3 seeds) it had the
    better validation score than the tutorial's cell on each, e.g. 90-94% of whole sequences tagged right
    against 83-89% (number-defaults.log).  Classifying, tagging or regressing on text without pretrained
    vectors: TEXT_CELL."""
    if numbers:
        return "lstm" if task != "lm" and activation == "tanh" else "rnn"
    if task == "lm":  # language models: see LM_HIDDEN
        return "lstm" if activation == "tanh" else "rnn"
    if task in ("classify", "tag", "regress") and _plain_text(vocab_size, pretrained) and activation == "tanh":
        return TEXT_CELL
    return ("lstm" if task in ("classify", "regress") and _symbols(vocab_size, pretrained) and activation == "tanh"
            else "rnn")


def _plain_text(vocab_size: int, pretrained: bool) -> bool:
    """Text (more than CURRICULUM_MAX_VOCAB distinct tokens) without pretrained word vectors: the data
    TEXT_CELL and TEXT_DROPOUT were measured on."""
    return vocab_size > CURRICULUM_MAX_VOCAB and not pretrained


TEXT_CELL = "lstm"  # the command line's default --cell for classifying or tagging text without pretrained vectors,
TEXT_DROPOUT = 0.5  # its default --dropout there (else 0), and the LSTM's rate LSTM_SYMBOLIC_LR
# bptt train's defaults on the four sentence corpora of `bptt data fetch`, seeds 0-2, one change at a time
# and then together (bash benchmarks/text_defaults.sh; log benchmarks/results/text-defaults.log; the mean
# of the 12 runs' best validation accuracy decides): the tutorial's cell read as space-separated tokens
# 70.05%; read as words (--tokenize words, now the default for text) 72.92; the LSTM 72.07, the GRU
# 72.17; --dropout 0.3 71.44; words with the LSTM and dropout 0.3 77.38-77.49, 0.5 77.74-77.92, and at
# 0.003 77.87 in fewer epochs (the GRU there 77.78, a tie); these defaults on space-separated tokens
# 74.49.  (--hidden 128 68.83, --embed 64 70.10, --word-dropout 0.3 70.53.)  Test accuracy, reported and
# never used to choose: 66.0% before, 75.6% now (mean of the 12).  Tags of text (space-separated tokens
# still): punctuation restoration and truecasing made from the movie-review sentences (bash
# benchmarks/text_tag_defaults.sh; log benchmarks/results/text-tag-defaults.log; seeds 0-2): the kept
# models' validation accuracy, whole sequences / tokens, the tutorial's cell 5.90 / 85.60% and 51.71 /
# 95.03%, these defaults 6.88 / 87.15% and 58.08 / 95.75% (the GRU 5.97 / 87.04 and 56.69 / 95.62).
# A regression of text (--task regress; the same defaults, TEXT_PATIENCE too) on the four NAME-ratings sets
# (each sentence's mean rating; TASK=regress bash benchmarks/text_defaults.sh; log
# benchmarks/results/text-regress-defaults.log; seeds 0-2; the mean of the 12 runs' best validation loss,
# in units of the targets' variance, decides): the defaults of before (space-separated tokens, the
# tutorial's cell, no dropout, all 200 epochs) 0.724; read as words 0.656; words with the LSTM, dropout
# 0.5, 0.003 and patience 10 0.534 (dropout 0.3 0.545, 0.7 0.535; the GRU 0.532, a tie).  Test R^2,
# reported and never used to choose: 0.247 before, 0.434 now, in 304 s against 1,407 s for the 12 runs.


def default_dropout(task: str, vocab_size: int, pretrained: bool, numbers: bool = False) -> float:
    """The command line's default ``--dropout``: TEXT_DROPOUT for classifying, tagging or regressing on
    text without pretrained vectors (see TEXT_CELL), else 0."""
    return (TEXT_DROPOUT if task in ("classify", "tag", "regress") and not numbers and _plain_text(vocab_size, pretrained)
            else 0.0)


LM_HIDDEN = 256  # the command line's default --hidden for a language model (ModelConfig's 64 elsewhere).
# Measured with the defaults otherwise, 300 s a run on one core, seed 0 (benchmarks/lm_defaults.sh, log
# benchmarks/results/lm-defaults.log), best validation loss in nats per token: Shakespeare by characters,
# the tutorial's cell at H=64 (the defaults before) 1.807, the LSTM at H=64 (lr 0.003) 1.698, the
# tutorial's cell at H=256 1.565, the LSTM at H=256 (lr 0.003) 1.509; Python's standard library by
# characters, 2.130 against the LSTM at H=256's 1.840; Shakespeare by words, 5.293 against 5.066; seed 1,
# 1.778 against 1.507; a small text (200,000 characters), 2.010 against 1.846 (the best epoch kept).  The
# LSTM's rate there is LSTM_SYMBOLIC_LR.


LM_PATIENCE = 10  # the command line's default --patience for a language model given --valid (else none).
# Replayed on the 12 runs behind LM_HIDDEN (python benchmarks/lm_patience.py, which reads
# benchmarks/results/lm-defaults.log; log benchmarks/results/lm-patience.log): stopping after 10 epochs
# without a better validation loss kept a model at most 0.0038 nats worse than the run's best (the
# tutorial's cell at H=64 on Python source, still creeping down; 0.0002 on Shakespeare); 5 the same, 3 up
# to 0.012, 15 and 20 nothing.  The LSTM at H=256 (the default) lost nothing at any of them, and overfits:
# on a small text (200,000 characters) it validated best at epoch 13 and only worse in the 39 epochs after
# it that its 300 s allowed (with no end given it runs 200), and on Shakespeare an epoch takes it about
# 100 s on one core (200 epochs: 5.5 hours).


TEXT_PATIENCE = 10  # the command line's default --patience for classifying, tagging or regressing on text
# given --valid.
# bptt train's defaults on the four sentence corpora of `bptt data fetch`, seeds 0-2, all 200 epochs
# (bash benchmarks/text_patience.sh; log benchmarks/results/text-patience.log): every run overfitted within
# a few epochs (training loss to 1e-5, validation loss from about 0.6 to 2-3), and its best validation
# accuracy came from a late epoch's noise as often as from an early one.  Replayed (python
# benchmarks/text_patience.py): stopping after 10 epochs that are not better ran 17.7 epochs on average
# instead of 200 (11x less time: 94 s against 1,022 s for the 12 runs) and kept models 0.77 points of
# validation accuracy below the runs' best (worst 2.02); 5 the same, 3 0.93, 15 and 20 0.72, 30 0.59 in
# 47 epochs.  On the test files the kept models scored 66.0% against 66.7% (mean of the 12; the
# newspaper editorials lost the most, 54.4% against 57.0%) with a lower test loss (1.43 against 2.39 nats
# on average): less time and better-calibrated models for a little accuracy, which --patience 0 buys back.
# On tags of text (text_tag_defaults.sh, the tutorial's cell, seeds 0-2) patience 10 kept the very models
# that 200 epochs kept, in 18.3 epochs on average (126 s against 1,209 s for the 6 runs).


SYMBOL_PATIENCE = 200  # the command line's default --patience for classifying or tagging symbols (or numbers)
# given --valid: a run that has stopped learning (neither a better validation accuracy nor, at equal accuracy,
# a lower validation loss for 200 epochs) ends instead of running its 1000 epochs.  Replayed exactly from the
# metrics files of 21 runs at 32a5d4b (python benchmarks/patience_replay.py; log
# benchmarks/results/symbol-patience.log: the 8 joined random languages at 1,000 strings, Tomita 1-7 seed 1,
# bounded brackets seeds 0-2 with both cells): every run kept the same model with a patience of 100 or 200,
# while 50 stopped 3 runs before their best (they stalled 88, 92 and 98 epochs and then learned); 200 keeps
# twice the longest stall seen.  A run that reached 100% at epoch 99 and ran 1000 epochs (270 s, its loss
# held above --perfect-loss by weight decay) stops at 299 (73 s), and a new user's noisy tagging of DNA
# (no rule to reach 100%) after 219 epochs instead of 1000, with the same model.


def default_patience(task: str, has_valid: bool, text: bool = False) -> int | None:
    """The command line's default ``--patience``, given validation data: ``LM_PATIENCE`` for a language
    model, ``TEXT_PATIENCE`` for classifying, tagging or regressing on ``text`` (words, not symbols or numbers,
    without the length curriculum), ``SYMBOL_PATIENCE`` for classifying or tagging anything else (which also
    stops at 100%: ``--stop-perfect``); None for a regression of symbols or numbers."""
    if not has_valid:
        return None
    if task == "lm":
        return LM_PATIENCE
    if task in ("classify", "tag", "regress") and text:
        return TEXT_PATIENCE
    return SYMBOL_PATIENCE if task in ("classify", "tag") else None


def default_bidirectional(task: str, text: bool = False, numbers: bool = False) -> bool:
    """The command line's default ``--bidirectional``: on for tags (of text, of symbols and of ``numbers``),
    where a token's tag may depend on the tokens after it; off for everything else.

    Text: measured on punctuation restoration and truecasing made from the movie-review sentences (bash
    benchmarks/text_tag_defaults.sh; log benchmarks/results/text-tag-bidirectional.log; seeds 0-2): the
    kept models' validation token accuracy went from 87.15% to 94.07% (punctuation: above answering "no
    mark" everywhere, 88.7%, which left to right the model could not pass) and from 95.75% to 96.08%; a
    second bidirectional layer tied (95.12% against 95.07% over the six runs) at 1.7 times the time.
    Symbols: on seven tagging tasks of benchmarks/own_tag_tasks.py and addition, trained at lengths 1-40
    (python benchmarks/tag_bidirectional.py --config bi=--bidirectional; log
    benchmarks/results/tag-bidirectional.log; seeds 0-2), both directions tested as well as left to right
    on the four whose tag depends on the tokens before it and on addition at 10,000 digits, and learned the
    three whose tag depends on the tokens after it (100%), which left to right no model can.  Numbers
    (since 2026-12-03): on the five tag tasks of benchmarks/number_tasks.py (same script, --tasks seen-high
    record rising next-up local-max; log benchmarks/results/tag-bidirectional-numbers.log; seeds 0-2) both
    directions scored a little lower on the three whose tag depends on the values before it, in the same
    120 s and half the epochs, and learned the two that read ahead, where left to right every run stayed
    at 0% of whole test sequences: its worst result is the better one.  ``text`` and ``numbers`` are kept
    for the callers, which say why."""
    return task == "tag"


MONITORS = ("accuracy", "token_accuracy", "macro_f1", "loss")  # what ranks a run's epochs on the validation data


def default_monitor(task: str, text: bool = False) -> str:
    """The command line's default ``--monitor``: ``token_accuracy`` for tags of ``text`` (words, without
    the length curriculum), whose whole-sequence accuracy is a few percent and its ranking noise; else
    ``accuracy`` (then the loss; a language model and a regression rank by the loss whatever it says).

    Measured on punctuation restoration and truecasing made from the movie-review sentences (bash
    benchmarks/text_tag_defaults.sh; log benchmarks/results/text-tag-monitor.log; seeds 0-2): with both
    directions (the default there) the kept models' validation token accuracy tied whole sequences'
    (95.10% against 95.07%) in 28% less time; left to right, whole-sentence accuracy (6% on punctuation)
    kept models below always answering "no mark" (87.15% against 88.7%)."""
    return "token_accuracy" if task == "tag" and text else "accuracy"


def is_text(vocab_size: int, pretrained: bool, numbers: bool = False) -> bool:
    """Whether classify or tag data are text (a word vocabulary of more than CURRICULUM_MAX_VOCAB
    tokens, or pretrained word vectors), not sequences of symbols or numbers."""
    return not numbers and not _symbols(vocab_size, pretrained)


def default_hidden(task: str) -> int:
    """The command line's default ``--hidden``: ``LM_HIDDEN`` for a language model, else ModelConfig's."""
    from .model import ModelConfig

    return LM_HIDDEN if task == "lm" else ModelConfig.hidden_size


SMALL_DATA_SEQUENCES_PER_ROW = 64  # the command line's default --batch-size for small training sets of symbols:
SMALL_DATA_MIN_BATCH = 4  # the largest power of two at most n / 64, within [4, 32] (32 from 2,048 sequences on)


def default_batch_size(task: str, n_train: int, vocab_size: int, pretrained: bool, numbers: bool = False) -> int:
    """The command line's default ``--batch-size``: for classify data over at most CURRICULUM_MAX_VOCAB
    symbols (no pretrained word vectors, not numbers) with fewer than 2,048 training sequences, the
    largest power of two at most ``n_train / SMALL_DATA_SEQUENCES_PER_ROW``, and at least
    SMALL_DATA_MIN_BATCH; else ``TrainConfig.batch_size`` (32).

    A small training set in batches of 32 makes few steps an epoch, each the mean over many strings, and the
    models memorised their strings instead of learning the rule. Measured with the defaults otherwise (the
    LSTM at 0.003, the length curriculum; python benchmarks/random_regular.py --n-train N --config
    bK="--batch-size K"; logs benchmarks/results/small-data-batch-*.log, 2026-12-03, seed 0 a language,
    trained at lengths 1-40, tested at 41-200): on the 8 random languages joined by AND / OR / XOR with 1,000
    training strings, batches of 32 reached 87.5% on average and 3 of 8 at >= 99% in up to 600 s a run
    (random-regular-product-1000-lstm-lr0.003*.log), batches of 16 94.6% and 5 of 8, of 8 98.4% and 6 of 8
    (validation 99.0%, the best), of 4 98.2% and 6 of 8 (validation 98.7%), in at most 150 s; on 4 random
    automata with 300 strings, batches of 32 73.2% (1 of 4), of 8 75.8% (1 of 4), of 4 86.9% (2 of 4, the best
    validation too); with 2,000 strings both 16 and 32 learned all 8 joined languages (100% on validation; 16
    in 1.3 times the time), so the rule's 16 there costs time, not accuracy. Seed 1 at 1,000 strings, 150 s
    each: 98.6% and 5 of 8 against 32's 84.7% and 4 of 8 (validation 99.0% against 87.6%;
    small-data-batch-product1000-seed1.log). Tags keep 32: on four own tagging tasks with 500 sequences
    batches of 4 and 32 both learned all four (4 in 0.57 times the time; small-data-batch-own-tag500-*.log), a
    tag file holding a label at every step, and the tag defaults were chosen on addition at 10,000 digits in
    batches of 32. Text, regressions, numbers and language models keep 32: small sets of them were not
    measured."""
    if not small_symbols(task, n_train, vocab_size, pretrained, numbers):
        return TrainConfig.batch_size
    rows = n_train // SMALL_DATA_SEQUENCES_PER_ROW
    size = 1 << max(rows, 1).bit_length() - 1
    return max(SMALL_DATA_MIN_BATCH, min(size, TrainConfig.batch_size))


SMALL_DATA_SEQUENCES = 2048  # classify data of symbols with fewer training sequences are a small training set
SMALL_DATA_WEIGHT_DECAY = 0.1  # the command line's default --weight-decay for the smaller of them ...
WEIGHT_DECAY_SEQUENCES = 1024  # ... those of fewer training sequences than this (default_weight_decay)


def small_symbols(task: str, n_train: int, vocab_size: int, pretrained: bool, numbers: bool = False) -> bool:
    """A small training set of symbols: classify data over at most CURRICULUM_MAX_VOCAB symbols (no
    pretrained word vectors, not numbers) with fewer than SMALL_DATA_SEQUENCES training sequences, where
    the models memorised their strings instead of learning their rule (default_batch_size,
    default_weight_decay)."""
    return task == "classify" and not numbers and _symbols(vocab_size, pretrained) and n_train < SMALL_DATA_SEQUENCES


def default_weight_decay(task: str, n_train: int, vocab_size: int, pretrained: bool, numbers: bool = False) -> float:
    """The command line's default ``--weight-decay``: SMALL_DATA_WEIGHT_DECAY for a small training set of
    symbols (:func:`small_symbols`) of fewer than WEIGHT_DECAY_SEQUENCES sequences (those trained in
    batches of 8 or 4), else 0 (``TrainConfig.weight_decay``).

    Without it such models still memorised their strings: (#c - #d) mod 4 over c/d/x, a new user's task,
    was learned from 1,000, 1,500 or 3,000 strings (100% at lengths 41-200 in 33-44 s, seeds 0 and 1) and
    not from 600 (26.0%, 31.4%; training loss near 0; small-data-cd-mod4-sizes.log).  Measured at lengths
    41-200 after training on 1-40, the defaults otherwise (logs benchmarks/results/small-data-weight-decay-*.log,
    2026-12-03; validation chose, test reported): that task at 600 strings, seeds 0-2, 240 s: without
    29.0% and 0 of 3 learned (validation 54.3%), 0.1 75.7% and 2 of 3 (validation 82.5%, the best), 0.3
    75.2% and 2 of 3 (81.1%), 1 50.6% and 1 of 3 (65.9%); the 8 joined languages of random_regular.py
    at 1,000 strings, 150 s: without 98.4% and 6 of 8, 0.1 and 0.3 100.0% and 8 of 8 (0.3 settled at a
    validation loss near 0.01, above the 1e-4 a perfect run stops at, and ran to the time limit on 7 of
    8; 0.1 on 2); 4 random automata at 300 strings, 120 s: 89.8% and 2 of 4 against 86.9% and 2 of 4
    (validation 91.1% against 88.8%); the four own_class_tasks.py tasks at 500 strings: validation and
    test 100% on all four against validation 99.4-100% and test 99.3-100%, at up to 2.7 times the time
    where the runs stopped soonest (56 s against 21 s).  At 2,000 strings (batches of 16) the 8 joined
    languages reached 100% with and without it, in 607 s against 244 s: a cost only, so from 1,024 on
    (batches of 16 and 32) there is none."""
    if small_symbols(task, n_train, vocab_size, pretrained, numbers) and n_train < WEIGHT_DECAY_SEQUENCES:
        return SMALL_DATA_WEIGHT_DECAY
    return TrainConfig.weight_decay


LSTM_SYMBOLIC_LR = 0.003  # the command line's default --lr for the LSTM it picks for symbolic classify data


def default_lr(cell: str, task: str, vocab_size: int, pretrained: bool) -> float:
    """The command line's default ``--lr``: ``LSTM_SYMBOLIC_LR`` for the LSTM on the data it is the default
    cell for (classify data over at most CURRICULUM_MAX_VOCAB symbols without pretrained word vectors),
    else ``TrainConfig.lr``.  Measured with the defaults otherwise (benchmarks/random_regular.py,
    lengths.py; seed 0 per language): on 8 joined languages trained on 1,000 strings the LSTM reached
    87.5% at lengths 41-200 and learned 3 of 8 with 0.003, against 79.8% and 0 of 8 with 0.001 (every
    language as good or better); with 3,000 strings 8 of 8 random automata and 8 of 8 joined languages
    at 100% (0.001: 8 of 8 and 7 of 8), in fewer epochs.  Language models take it too (the LSTM being their
    default cell, LM_HIDDEN), and so does text (classify, tag or regress data of more than CURRICULUM_MAX_VOCAB
    words, no pretrained vectors: the LSTM with dropout, see TEXT_CELL).  Elsewhere (text with pretrained
    vectors, tags of symbols, other cells) the rate was not measured against 0.001, which stays."""
    if cell == "lstm" and (task == "lm" or task == "classify" and _symbols(vocab_size, pretrained)
                           or task in ("classify", "tag", "regress") and _plain_text(vocab_size, pretrained)):
        return LSTM_SYMBOLIC_LR  # a language model's: see LM_HIDDEN; text's: see TEXT_CELL
    return TrainConfig.lr


def default_chrono(cell: str, task: str, vocab_size: int, pretrained: bool, numbers: bool, lengths) -> int:
    """The command line's default ``--chrono-init``: for the LSTM on classify data of symbols (the data it
    is the default cell for) with at least SMALL_DATA_SEQUENCES training sequences, the longest training
    length N (at least 3), so that its units start with memories spread over 1 to N - 1 steps
    (:func:`bptt.cells.lstm.init`); else 0, a forget bias of 1.  Measured on classify tasks of symbols
    whose rule holds at any length, 3,000 strings of lengths 1-40 tested at 41-200, where the LSTM's
    memory of one early event faded past the training lengths: 2 runs of 55 short of 99% against 8 with a
    forget bias of 1, but one of the 2 a language left unlearned (at chance on validation too, where the
    run says so) that a forget bias of 1 learned; smaller training sets are left as they were
    (docs/defaults.md, "The LSTM's gate biases")."""
    if (cell != "lstm" or task != "classify" or numbers or not _symbols(vocab_size, pretrained)
            or len(lengths) < SMALL_DATA_SEQUENCES):
        return 0
    longest = int(np.max(lengths))
    return longest if longest >= 3 else 0


def curriculum_caps(lengths) -> list[int]:
    """The longest length admitted at each stage of the length curriculum: from a tenth of the
    longest training length (at least the shortest one) up by half each stage, e.g. 1-40 ->
    4, 6, 9, 14, 21, 32, 40."""
    lengths = np.asarray(lengths)
    lo, hi = int(lengths.min()), int(lengths.max())
    caps = [max(lo, math.ceil(hi / 10))]
    while caps[-1] < hi:
        caps.append(min(hi, max(caps[-1] + 1, math.ceil(caps[-1] * 1.5))))
    return caps


def chance_accuracy(data, loss: str = "softmax", output_size: int = 1) -> float | None:
    """What always answering the most common label scores on ``data``: per sequence (classify) or
    per token (tag); for ``loss="sigmoid"`` the most common value of each of the ``output_size``
    outputs, all outputs right; None for a language model and for ``loss="mse"`` (no accuracy)."""
    if loss == "mse":
        return None
    if loss == "sigmoid" and getattr(data, "task", None) in ("classify", "tag"):
        y = np.concatenate([np.asarray(t, dtype=np.float64).reshape(-1, output_size) for t in data.targets]) > 0.5
        return float((y == (y.mean(axis=0) >= 0.5)).all(axis=1).mean())
    if getattr(data, "task", None) == "classify":
        return float(np.bincount(np.asarray(data.targets, dtype=np.int64)).max() / len(data))
    if getattr(data, "task", None) == "tag":
        tags = np.concatenate([np.asarray(t, dtype=np.int64) for t in data.targets])
        return float(np.bincount(tags).max() / tags.size)
    return None


def prior_loss(data, loss: str = "softmax") -> float | None:
    """The cross-entropy of answering every sequence (classify) or token (tag) of ``data`` with its labels'
    frequencies: what a model that learned nothing but them scores on it (nats); None but for softmax."""
    if loss != "softmax" or getattr(data, "task", None) not in ("classify", "tag") or not len(data):
        return None
    y = (np.asarray(data.targets, dtype=np.int64) if data.task == "classify" else
         np.concatenate([np.asarray(t, dtype=np.int64) for t in data.targets]))
    p = np.bincount(y) / y.size
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def memorised(rec: dict, metrics: dict, prior: float | None) -> bool:
    """Whether a model at chance on validation data fits its training data: an epoch's training loss
    below half its validation loss (a model that learned nothing has about the same loss on both) and
    below half ``prior``, the loss of answering with the labels' frequencies (:func:`prior_loss`)."""
    train, valid = rec.get("train_loss"), metrics.get("loss")
    return _fits(train, valid) and prior is not None and train < 0.5 * prior


def _fits(train: float | None, valid: float | None) -> bool:
    """A training loss below half the validation loss: the model fits its training sequences better
    than the validation ones (a model that learned nothing, or the rule, has about the same loss on both)."""
    return train is not None and valid is not None and math.isfinite(train) and train < 0.5 * valid


def fits_training_set(history: list, cfg, model_config) -> tuple | None:
    """``(train loss, validation loss)`` of a run's last epoch when the model has memorised some of its
    training sequences (:func:`_fits`, as :func:`memorised` says of a model at chance), for the hints
    that name ``--weight-decay 0.1``; None otherwise, and where those hints do not apply: a run under
    weight decay already (``cfg`` a :class:`TrainConfig`), or on sequences of numbers (no vocabulary
    in ``model_config``: weight decay lost on the UCR series, benchmarks/results/ucr-cbf.log)."""
    if cfg.weight_decay or model_config.vocab_size is None:
        return None
    recs = [r for r in history if r.get("train_loss") is not None and r.get("valid_loss") is not None]
    if not recs:
        return None
    train, valid = recs[-1]["train_loss"], recs[-1]["valid_loss"]
    return (train, valid) if _fits(train, valid) and math.isfinite(valid) else None


def at_chance(metrics: dict, chance: float) -> bool:
    """Whether an accuracy is no better than ``chance`` (the majority label's share) up to twice
    its standard error (at least 2 points): the model has not learned anything yet."""
    acc = metrics.get("token_accuracy", metrics["accuracy"])
    if acc is None:  # mse: no accuracy
        return False
    n = metrics.get("n_tokens", metrics["n"])
    return acc < chance + max(0.02, 2 * math.sqrt(chance * (1 - chance) / max(n, 1)))


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = "adam"
    # defaults chosen by benchmarks/lengths.py's sweep (benchmarks/results/lengths-sweep-lr-clip.log)
    lr: float = 0.001
    momentum: float = 0.9  # SGD only
    clip: float = 1.0  # global gradient norm; 0 turns clipping off
    batch_size: int = 32
    bucket: bool = True  # near-length buckets; False: exact-length groups (the tutorial's way)
    epochs: int = 200
    max_steps: int | None = None
    max_time: float | None = None  # seconds
    patience: int | None = None  # epochs without a better validation score (None or 0: never)
    plateau: int = 0  # stop after this many epochs without a better validation accuracy in the last curriculum
    # stage (a loss still creeping down does not count, as it does for patience; 0: never)
    seed: int = 0
    frozen: tuple = ()  # parameter names not to train (e.g. ("E",))
    word_dropout: float = 0.0  # training tokens read as <unk> with this probability (a regulariser)
    lr_decay: float = 1.0  # multiply the learning rate by this after an epoch with no better validation score
    dropout: float = 0.0  # dropout on the RNN's input and output connections (not the recurrence)
    lr_schedule: str = "constant"  # or "cosine": lr * (1 + cos(pi * step / total steps)) / 2, down to 0 at the end;
    # "cosine-time": the same over max_time seconds (or the epochs, if they end first)
    warmup: int = 0  # updates over which the rate ramps up linearly from lr / warmup to lr
    curriculum: bool = False  # admit training lengths from the shortest up as the training accuracy saturates
    stop_perfect: int = 3  # stop after this many epochs in a row at 100% validation accuracy (0: never) ...
    perfect_loss: float = 1e-4  # ... each with a validation loss at most this (a margin that carries to long inputs)
    chance_epochs: int = 3  # flag validation accuracy at chance level from this epoch on (0: never; never under
    # class_weights, which trade the most common label's accuracy for the others')
    monitor: str = "accuracy"  # what ranks epochs on validation (the model kept, patience, restarts): "accuracy"
    # (whole sequences) then the loss, "token_accuracy" (tags) then the loss, "macro_f1" (the mean of the
    # classes' F1, of sequences or of a tagger's tokens: rare classes count as much as common ones) then
    # the loss, or "loss"
    weight_decay: float = 0.0  # each matrix (W_s, W_o, E) shrunk by lr * weight_decay a step (adam: AdamW's
    # decoupled decay; sgd: an L2 penalty's gradient); biases, s0 and layer norms are not decayed
    class_weights: tuple | None = None  # a weight per class of a softmax output: each training position's loss
    # times its target class's weight (rare classes weighted up; bptt.train.balanced_class_weights); None: all 1

    def __post_init__(self):
        _checks.plain_numbers(self, ("batch_size", "epochs", "max_steps", "patience", "plateau", "seed", "warmup",
                             "stop_perfect", "chance_epochs"),
                      ("lr", "clip", "momentum", "lr_decay", "word_dropout", "dropout", "perfect_loss", "max_time",
                       "weight_decay"))
        for name in ("lr", "clip", "momentum", "lr_decay", "word_dropout", "dropout", "perfect_loss", "max_time",
                     "weight_decay"):
            v = getattr(self, name)
            if not (v is None and name == "max_time") and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
                raise ValueError(f"{name} must be a number, got {v!r}")
        frozen = (self.frozen,) if isinstance(self.frozen, str) else tuple(self.frozen)  # one name, not its letters
        if not all(isinstance(k, str) for k in frozen):
            raise ValueError(f"frozen must be parameter names (str), got {self.frozen!r}")
        object.__setattr__(self, "frozen", frozen)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer={self.optimizer!r} is not known; choose one of {sorted(OPTIMIZERS)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"weight_decay must be a number >= 0 (0 = off), got {self.weight_decay!r}")
        if not (self.clip >= 0 and math.isfinite(self.clip)):
            raise ValueError(f"clip must be a number >= 0 (0 = off), got {self.clip!r}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        for name in ("batch_size", "epochs"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        v = self.max_steps
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ValueError(f"max_steps must be a positive integer, got {v!r}")
        for name in ("patience", "warmup", "stop_perfect", "chance_epochs", "plateau"):
            v = getattr(self, name)
            if name == "patience" and v is None:  # None, like 0: never
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0 (0 = off), got {v!r}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay!r}")
        if not 0.0 <= self.word_dropout < 1.0:
            raise ValueError(f"word_dropout must be in [0, 1), got {self.word_dropout!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule={self.lr_schedule!r} is not known; choose one of {list(LR_SCHEDULES)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not (self.perfect_loss > 0 and math.isfinite(self.perfect_loss)):
            raise ValueError(f"perfect_loss must be a positive number, got {self.perfect_loss!r}")
        if self.max_time is not None and not self.max_time > 0:
            raise ValueError(f"max_time must be > 0 seconds, got {self.max_time!r}")
        if self.monitor not in MONITORS:
            raise ValueError(f"monitor={self.monitor!r} is not known; choose one of {list(MONITORS)}")
        if self.class_weights is not None:
            cw = self.class_weights
            if isinstance(cw, (str, bytes, dict)) or not hasattr(cw, "__iter__"):
                raise ValueError(f"class_weights must be a sequence of numbers, one per class, got {cw!r}")
            cw = tuple(cw)
            if not cw or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                                 and v >= 0 for v in cw) or not any(v > 0 for v in cw):
                raise ValueError(f"class_weights must be finite numbers >= 0, one per class, not all 0; got {cw!r}")
            object.__setattr__(self, "class_weights", tuple(float(v) for v in cw))
        if self.lr_schedule == "cosine-time" and self.max_time is None:
            raise ValueError("lr_schedule='cosine-time' falls over max_time (--max-time SECONDS), which is not set")


OPTION_NAMES = {"frozen": "--freeze-embeddings", "hidden_size": "--hidden", "embed_dim": "--embed",
                "num_layers": "--layers"}  # the config fields whose option is not their name with dashes


def option_name(field: str) -> str:
    """The command line's option of a config field (``batch_size`` -> ``--batch-size``), for errors
    that the user acts on through the options."""
    return OPTION_NAMES.get(field, "--" + field.replace("_", "-"))


CLASS_WEIGHTS = {"balanced": 1.0, "sqrt": 0.5}  # the command line's --class-weights: the power of balanced's


def balanced_class_weights(data, n_classes: int, power: float = 1.0) -> tuple:
    """Class weights from the training targets (class ids of a SeqData; a tagger's tokens count each):
    ``(N / (K * n_c)) ** power`` for a class seen ``n_c`` times of ``N`` (K classes seen), scaled so
    that their mean over the training positions is 1 (the loss keeps its scale).  ``power`` 1 is
    scikit-learn's "balanced" (each class weighs as much in all as any other), 0.5 its square root
    (halfway, on a log scale, to no weights).  A class never seen gets the largest weight of the others."""
    if not (isinstance(power, numbers.Real) and 0 < power <= 1):
        raise ValueError(f"power must be in (0, 1], got {power!r}")
    ids = np.concatenate([np.asarray(t, dtype=np.int64).reshape(-1) for t in data.targets])
    counts = np.bincount(ids, minlength=n_classes).astype(np.float64)
    if counts.size != n_classes:
        raise ValueError(f"the targets hold class ids up to {counts.size - 1}; the model has {n_classes} classes")
    seen = counts > 0
    w = np.zeros(n_classes)
    w[seen] = (ids.size / (seen.sum() * counts[seen])) ** power
    w *= ids.size / float(np.sum(w * counts))  # the mean weight over the training positions: 1
    w[~seen] = w[seen].max()
    return tuple(float(v) for v in w)


@dataclass
class SeqData:
    """Encoded examples: ``ids`` (list of int arrays [T_i]) and ``targets`` (class ids, or arrays [T_i])."""

    ids: list
    targets: list
    task: str  # "classify" or "tag"

    def __post_init__(self):
        if self.task not in ("classify", "tag"):
            raise ValueError(f"task={self.task!r} is not known; choose 'classify' (one target per sequence) or "
                             f"'tag' (one per step)")
        for name in ("ids", "targets"):
            v = getattr(self, name)
            if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__len__") or not hasattr(v, "__getitem__"):
                raise TypeError(f"{name} must be a list (one entry per sequence), got {type(v).__name__}")
        if len(self.ids) != len(self.targets):
            raise ValueError(f"ids holds {len(self.ids)} sequences but targets {len(self.targets)}: one target "
                             f"per sequence ({'a class id or a vector' if self.task == 'classify' else 'an array [T_i]'})")

    def __len__(self):
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.ids], dtype=np.int64)

    def epoch_batches(self, cfg: "TrainConfig", epoch: int, max_length: int | None = None) -> list:
        """This epoch's minibatches ``(indices, random key, word dropout)``, reproducible from the
        seed and the epoch; with ``max_length`` (a curriculum's stage) only the sequences of at
        most that many steps."""
        lengths = self.lengths
        keep = np.arange(len(lengths)) if max_length is None else np.flatnonzero(lengths <= max_length)
        batches = batch_indices(lengths[keep], cfg.batch_size, mode="bucket" if cfg.bucket else "exact",
                                seed=cfg.seed * 100003 + epoch)
        return [(keep[idx], (cfg.seed, epoch, i), cfg.word_dropout) for i, idx in enumerate(batches)]

    def step_norms(self, model: Model, rows: int = 32) -> list:
        """``|dLoss/ds^t|`` for t = 1..T, the gradient reaching each step's state, on a fixed probe
        batch: the ``rows`` longest training sequences."""
        idx = np.argsort(-self.lengths, kind="stable")[:rows]
        _, _, norms = model.loss_and_grads(self.batch(idx, model), step_norms=True, check=False)
        return [float(v) for v in to_numpy(norms)]

    def check_task(self, model: Model, name: str = "data", verb: str = "learn") -> None:
        """Tag data need a model with an output at every step, classify data one with an output per sequence."""
        head = model.config.head
        if (self.task == "tag") != (head == "many_to_many"):
            raise ValueError(f"{name} is {self.task} data, which a model with head={head!r} cannot {verb} "
                             f"({'many_to_many' if self.task == 'tag' else 'many_to_one'} is needed)")

    def check(self, model: Model, name: str = "data") -> None:
        """Refuse, by name, data that do not fit ``model``: token ids outside its vocabulary, float
        inputs of another size or not finite, class ids outside its outputs, tags of another length
        than their sequence.  (Training steps skip these checks: the data are checked once, here.)"""
        c = model.config
        n = len(self.ids)
        if n == 0:
            raise ValueError(f"{name} holds no sequences")
        if len(self.targets) != n:
            raise ValueError(f"{name} has {n} sequences but {len(self.targets)} targets")
        self.check_task(model, name, "learn")
        seqs = [np.asarray(s) for s in self.ids]
        lengths = np.array([s.shape[0] if s.ndim else 0 for s in seqs])
        if (lengths < 1).any():
            raise ValueError(f"{name}: sequence {int(np.argmax(lengths < 1))} is empty")
        if c.vocab_size is not None:
            flat = np.concatenate([s.reshape(-1) for s in seqs])
            odd = [i for i, s in enumerate(seqs) if s.ndim != 1]
            if odd:
                raise ValueError(f"{name}: sequences must be 1-D token ids [T_i] for a model with a vocabulary, "
                                 f"sequence {odd[0]} has shape {tuple(seqs[odd[0]].shape)}")
            if not np.issubdtype(flat.dtype, np.integer):
                raise TypeError(f"{name}: sequences must be integer token ids for a model with a vocabulary, "
                                f"got dtype {flat.dtype}")
            _in_range(flat, lengths, c.vocab_size, f"{name}: sequence", "token id", "the model's vocabulary")
            _no_pad_id(flat, lengths, c.pad_id, f"{name}: sequence")
        else:
            for i, s in enumerate(seqs):
                if s.ndim != 2 or s.shape[1] != c.input_size or not np.issubdtype(s.dtype, np.floating):
                    raise ValueError(f"{name}: sequence {i} must be floats of shape [T, {c.input_size}], got "
                                     f"{s.dtype} {tuple(s.shape)}")
                if not np.isfinite(s).all():
                    raise ValueError(f"{name}: sequence {i} holds NaN or inf")
        if c.loss != "softmax":
            self._check_vectors(c, lengths, name)
            return
        if self.task == "classify":
            y, counts = np.asarray(self.targets), np.ones(n, dtype=np.int64)
        else:
            tags = [np.asarray(t).reshape(-1) for t in self.targets]
            odd = [i for i, (t, L) in enumerate(zip(tags, lengths)) if len(t) != L]
            if odd:
                i = odd[0]
                raise ValueError(f"{name}: sequence {i} has {lengths[i]} steps but {len(tags[i])} tags")
            y, counts = np.concatenate(tags), lengths
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"{name}: targets must be integer class ids, got dtype {y.dtype}")
        _in_range(y, counts, c.output_size, f"{name}: target of sequence", "class id", "the model's outputs")

    def _check_vectors(self, c, lengths, name: str) -> None:
        """The targets of a sigmoid or mse output: ``output_size`` finite numbers per sequence (classify)
        or per step (tag; ``[T_i, K]``), a scalar each when ``output_size`` is 1; 0 to 1 for a sigmoid."""
        K = c.output_size
        for i, t in enumerate(self.targets):
            try:
                a = np.asarray(t)
            except ValueError:  # ragged nested lists
                raise ValueError(f"{name}: target of sequence {i} is not a rectangular array of numbers") from None
            if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
                raise TypeError(f"{name}: target of sequence {i} must be numbers for loss={c.loss!r}, got {a.dtype}")
            if self.task == "classify":
                ok, want = a.shape in ((K,), ()) if K == 1 else a.shape == (K,), f"[{K}]"
            else:
                L = int(lengths[i])
                ok, want = a.shape in ((L, K), (L,)) if K == 1 else a.shape == (L, K), f"[{L}, {K}] (steps, outputs)"
            if not ok:
                raise ValueError(f"{name}: target of sequence {i} has shape {list(a.shape)}; a model with "
                                 f"loss={c.loss!r} and output_size {K} needs {want}")
            if a.dtype != np.bool_ and not np.isfinite(a).all():
                raise ValueError(f"{name}: target of sequence {i} holds NaN or inf")
            if c.loss == "sigmoid" and ((a < 0) | (a > 1)).any():
                raise ValueError(f"{name}: target of sequence {i} holds {a[(a < 0) | (a > 1)].ravel()[0].item()!r}; "
                                 f"a sigmoid output's targets are 0 to 1")

    def subset(self, idx) -> "SeqData":
        return SeqData([self.ids[i] for i in idx], [self.targets[i] for i in idx], self.task)

    def batch_rows(self, desc) -> int:
        """How many sequences the minibatch ``desc`` holds."""
        return len(desc[0])

    def train_step(self, model: Model, desc, carry=None, frozen=(), dropout=0.0, rng=None, shard=None,
                   class_weights=None):
        """Loss and gradients of one minibatch: ``(loss, grads, carry, n_sequences, n_tokens)``.

        ``shard=(lo, hi)``: only the rows ``lo..hi-1`` of the minibatch, with the word and unit
        dropout drawn for the whole minibatch (so that the shards of N processes together draw
        what one process draws); the loss and gradients are the shard's mean.  ``class_weights``:
        see :meth:`Model.loss_and_grads`."""
        idx, key, p = desc
        b = self.batch(idx, model)  # ids, lengths and targets were checked once (check)
        if p > 0:  # word dropout: each real token is read as <unk> (id 1) with probability p
            T = b.x.shape[1]
            drop = (np.random.default_rng(key).random(b.x.shape) < p) & (np.arange(T)[None, :] < b.lengths[:, None])
            b.x = np.where(drop, 1, b.x)
        if shard is None:
            loss, grads = model.loss_and_grads(b, check=False, frozen=frozen, dropout=dropout, rng=rng,
                                               class_weights=class_weights)
            return loss, grads, None, len(idx), int(b.lengths.sum())
        lo, hi = shard
        masks = shard_masks(model.dropout_masks(b, dropout, rng), lo, hi) if dropout else None
        b = Batch(x=b.x[lo:hi], y=b.y[lo:hi], lengths=b.lengths[lo:hi])
        loss, grads = model.loss_and_grads(b, check=False, frozen=frozen, drop_masks=masks,
                                           class_weights=class_weights)
        return loss, grads, None, hi - lo, int(b.lengths.sum())

    def evaluate(self, model: Model) -> dict:
        return evaluate(model, self)

    def batch(self, idx, model: Model | None = None) -> Batch:
        """The padded minibatch of the sequences ``idx``.  Targets are class ids (int64: ``[B]``, or
        ``[B, T]`` for tags) unless ``model`` has a sigmoid or mse output, whose targets are vectors
        of its ``output_size`` in its float dtype (``[B, K]``, or ``[B, T, K]``; a scalar per sequence
        or step when ``K`` is 1)."""
        x, L = pad_sequences([self.ids[i] for i in idx])
        if model is not None and np.issubdtype(x.dtype, np.floating) and x.dtype != model.config.dtype:
            x = x.astype(model.config.dtype)  # float vectors in the model's dtype, as the targets below
        loss = "softmax" if model is None else model.config.loss
        if loss != "softmax":
            K, dt = model.config.output_size, model.config.dtype
            shape = (K,) if self.task == "classify" else (-1, K)
            ys = [np.asarray(self.targets[i], dtype=dt).reshape(shape) for i in idx]
            y = np.stack(ys) if self.task == "classify" else pad_sequences(ys, length=x.shape[1])[0]
        elif self.task == "classify":
            y = np.array([self.targets[i] for i in idx], dtype=np.int64)
        else:
            y = pad_sequences([self.targets[i] for i in idx], length=x.shape[1])[0]
        return Batch(x=x, y=y, lengths=L)


def _piece(counts, at: int) -> tuple[int, int]:
    """``(piece, offset)`` of entry ``at`` of a concatenation of pieces of ``counts`` entries."""
    ends = np.cumsum(counts)
    piece = int(np.searchsorted(ends, at, side="right"))
    return piece, int(at - (ends[piece - 1] if piece else 0))


def _no_pad_id(flat, counts, pad_id: int, where: str) -> None:
    """Refuse the model's pad id at a real step of ``flat`` (the concatenated sequences): its embedding
    is the fixed zero vector, so a token given that id (ids numbered from 0, or sequences passed with
    their padding) would silently learn nothing."""
    at = np.flatnonzero(flat == pad_id)
    if at.size:
        i, step = _piece(counts, at[0])
        raise ValueError(f"{where} {i} holds token id {pad_id} at step {step}: {_checks.pad_id_text(pad_id)}, "
                         f"and pass each sequence without its padding")


def _in_range(values, counts, size: int, where: str, what: str, of: str) -> None:
    """Refuse a value of ``values`` (the concatenation of pieces of ``counts`` entries) outside 0..size-1,
    naming its piece: "{where} 7 holds {what} 12, outside {of} 0..9"."""
    bad = np.flatnonzero((values < 0) | (values >= size))
    if bad.size:
        piece = _piece(counts, bad[0])[0]
        raise ValueError(f"{where} {piece} holds {what} {int(values[bad[0]])}, outside {of} 0..{size - 1}")


def shard_masks(masks: dict, lo: int, hi: int) -> dict:
    """Rows ``lo..hi-1`` of a minibatch's dropout masks (:meth:`bptt.Model.dropout_masks`)."""
    return {k: ([u[lo:hi] for u in v] if isinstance(v, list) else v[lo:hi]) for k, v in masks.items()}


EVAL_MAX_STEPS = 1 << 19  # rows x padded steps of one evaluation batch: long sequences go a few at a time


def _eval_batches(lengths, batch_size: int, max_steps: int = EVAL_MAX_STEPS) -> list:
    """Indices of evaluation batches, shortest sequences first: at most ``batch_size`` rows and at most
    ``max_steps`` rows x steps (one sequence alone when it is longer), so memory stays bounded."""
    order = np.argsort(lengths, kind="stable")  # similar lengths together: little padding
    batches, start = [], 0
    for i in range(1, len(order) + 1):
        n = i - start
        if i == len(order) or n == batch_size or (n + 1) * int(lengths[order[i]]) > max_steps:
            batches.append(order[start:i])
            start = i
    return batches


def evaluate(model: Model, data: SeqData, batch_size: int = 256, *, part=None, reduce=None,
             n_labels: int | None = None) -> dict:
    """Loss, whole-sequence accuracy, per-token accuracy (tag) and per-example correctness.

    A sigmoid output is right when every one of its outputs is on its target's side of 1/2; a
    regression (``loss="mse"``) has the loss alone (``accuracy`` and ``correct`` None).  A softmax
    output also gives ``confusion`` ``[C, C]``: how many sequences (tag: real steps) of each true
    class (row) got each predicted class (column); :func:`per_class` turns it into precision,
    recall and F1.

    ``part=(k, n)`` evaluates only the batches ``k, k + n, ...`` and ``reduce`` (an allreduce-sum of a
    float64 array, bptt.distributed) adds the parts of all ``n`` processes: the figures equal those
    of one process bit for bit (the per-batch sums are added in the same order).

    ``n_labels`` (softmax only; default the model's ``C`` classes): targets may then be class ids
    ``C .. n_labels - 1``, labels of the evaluated file that the model never saw in training.  They
    count as wrong (the model cannot predict them), ``confusion`` is ``[n_labels, n_labels]`` with
    their rows, and the loss is the mean over the positions of known labels only, ``n_loss`` of them
    (a class the model has no output for has no probability)."""
    if not len(data):
        raise ValueError("data holds no sequences: there is nothing to evaluate")
    data.check_task(model, "data", "score")
    batches = _eval_batches(np.asarray(data.lengths), batch_size)
    loss_name = model.config.loss
    C = model.config.output_size if loss_name == "softmax" else 0
    L = C if n_labels is None else int(n_labels)
    if n_labels is not None and (loss_name != "softmax" or L < C):
        raise ValueError(f"n_labels must be at least the model's {C} classes (softmax outputs), got {n_labels!r}")
    confusion = np.zeros((L, L), dtype=np.float64)  # [true class, predicted class] of counted positions
    correct = np.zeros(len(data), dtype=np.float64)
    sums = np.zeros((len(batches), 4))  # per batch: loss x count, tokens right, tokens, positions in the loss
    for i, idx in enumerate(batches):
        if part is not None and i % part[1] != part[0]:
            continue
        b = data.batch(idx, model)
        logits = model.infer(b.x, b.lengths)  # (a long sequence a chunk of steps at a time)
        host = to_numpy(logits)  # read back once: the hits and the confusion counts both need it
        pred = host.argmax(-1) if C else None
        hits = pred == b.y if C else _hits(host, b.y, loss_name)  # per sequence, or per step of a tagger
        unseen = to_numpy(b.y) >= C if L > C else None  # labels without an output: wrong, and outside the loss
        xp = namespace(logits)
        if data.task == "classify":
            known = None if unseen is None else ~unseen
            n_loss = len(idx) if known is None else int(known.sum())
            if n_loss:
                loss, _ = LOSSES[loss_name](logits, b.y, None if known is None else xp.asarray(known))
                sums[i, 0] = float(loss) * n_loss
            correct[idx] = hits
            sums[i, 3] = n_loss
            if C:
                np.add.at(confusion, (b.y, pred), 1)
        else:
            m = model.loss_mask(b, b.x.shape[1])
            n_tok = int(b.lengths.sum())
            m_host = to_numpy(m)
            m_loss = m_host if unseen is None else m_host & ~unseen
            n_loss = n_tok if unseen is None else int(m_loss.sum())
            if n_loss:
                loss, _ = LOSSES[loss_name](logits, b.y, m if unseen is None else xp.asarray(m_loss))
                sums[i, 0] = float(loss) * n_loss
            hit = hits | ~m_host
            correct[idx] = hit.all(axis=1)
            sums[i, 1:] = int((hit & m_host).sum()), n_tok, n_loss
            if C:
                np.add.at(confusion, (b.y[m_host], pred[m_host]), 1)
    if reduce is not None:
        tot = reduce(np.concatenate([sums.reshape(-1), confusion.reshape(-1), correct]))
        sums, rest = tot[:sums.size].reshape(sums.shape), tot[sums.size:]
        confusion, correct = rest[:confusion.size].reshape(confusion.shape), rest[confusion.size:]
    loss_sum = 0.0
    for v in sums[:, 0]:  # in batch order, as the parts were computed
        loss_sum += float(v)
    tok_right, tok_total, n_loss = int(sums[:, 1].sum()), int(sums[:, 2].sum()), int(sums[:, 3].sum())
    correct = correct > 0.5
    mse = loss_name == "mse"  # a regression: the loss alone, no accuracy
    out = {"n": len(data), "accuracy": None if mse else float(correct.mean()), "correct": None if mse else correct}
    if C:  # softmax: counts of (true class, predicted class), per sequence (classify) or real step (tag)
        out["confusion"] = confusion.astype(np.int64)
    out["loss"] = loss_sum / n_loss if n_loss else float("nan")  # nan: every position's label is unseen
    if L > C:
        out["n_loss"] = n_loss
    if data.task != "classify":
        out["token_accuracy"] = None if mse else tok_right / tok_total
        out["n_tokens"] = tok_total
    return out


def per_class(confusion, names=None) -> dict:
    """Precision, recall and F1 of each class from a confusion matrix ``[true, predicted]``, and their
    macro average over the classes that occur or are predicted.  Precision is None for a class never
    predicted, recall None for a class that never occurs; F1 is then 0 (as scikit-learn's
    ``zero_division=0``).  Returns ``{"classes": {name: {...}}, "macro_f1": ...}``."""
    cm = np.asarray(confusion, dtype=np.int64)
    names = [str(i) for i in range(cm.shape[0])] if names is None else list(names)
    tp, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    classes, f1s = {}, []
    for k, name in enumerate(names):
        p = float(tp[k] / predicted[k]) if predicted[k] else None
        r = float(tp[k] / support[k]) if support[k] else None
        f1 = 2 * p * r / (p + r) if p and r else 0.0
        classes[name] = {"support": int(support[k]), "predicted": int(predicted[k]), "precision": p, "recall": r,
                         "f1": f1}
        if support[k] or predicted[k]:
            f1s.append(f1)
    return {"classes": classes, "macro_f1": float(np.mean(f1s)) if f1s else None}


def _hits(logits, y, loss: str):
    """Right answers of a sigmoid or mse output, per sequence (classify) or per step (tag): every output
    on the target's side of 1/2 (sigmoid); all False for mse (it has no right answer).  (A softmax
    output's are its most likely class, compared in :func:`evaluate`.)"""
    if loss == "sigmoid":
        return ((logits > 0) == (np.asarray(y) > 0.5)).all(axis=-1)
    return np.zeros(logits.shape[:-1], dtype=bool)


def by_length(lengths, correct) -> dict:
    """``{length: {"n": ..., "accuracy": ...}}`` sorted by length."""
    lengths, correct = np.asarray(lengths), np.asarray(correct)
    return {int(L): {"n": int((lengths == L).sum()), "accuracy": float(correct[lengths == L].mean())}
            for L in np.unique(lengths)}


class _Progress:
    def __init__(self, enabled: bool, total: int, epoch: int):
        self.enabled, self.total, self.epoch = enabled, total, epoch
        self.t0 = time.perf_counter()
        self.last = 0.0

    def due(self, done: int) -> bool:
        """Time to redraw (at most 5 times a second): only then is the loss read from the device."""
        return self.enabled and (time.perf_counter() - self.last >= 0.2 or done >= self.total)

    def update(self, done: int, loss: float, seqs: int, tokens: int):
        now = time.perf_counter()
        self.last = now
        el = max(now - self.t0, 1e-9)
        w = 24
        fill = int(w * done / max(self.total, 1))
        sys.stderr.write(f"\repoch {self.epoch} [{'#' * fill}{'.' * (w - fill)}] {done}/{self.total} "
                         f"loss {loss:.4f}  {seqs / el:,.0f} seq/s  {tokens / el:,.0f} tok/s ")
        sys.stderr.flush()

    def close(self):
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


class Diverged(ValueError):
    """The training loss or gradient stopped being finite (a learning rate too large, no clipping).

    ``history`` holds the epochs finished before it (their best model was saved as usual)."""

    def __init__(self, message: str, history: list):
        super().__init__(message)
        self.history = history


def _diverged(cfg, state, what: str, out, before: bool):
    """The error for a run whose ``what`` ("the loss is nan") was found at the current step."""
    lr = float(state["lr"])
    clip = f"a smaller --clip (now {cfg.clip:g})" if cfg.clip else "gradient clipping (--clip 1, the default; now off)"
    kept = (f"the best model of the epochs before it is in {out}" if out and state["best"] is not None
            else "no epoch had finished, so no model was saved")
    where = f"at step {state['step'] + 1}" if before else f"by step {state['step']}"
    weights = "the weights are as they were before that step" if before else "the weights are no longer finite"
    return Diverged(f"training diverged {where} (epoch {state['epoch'] + 1}): {what}, and {weights}. Try a smaller "
                    f"learning rate (--lr, now {lr:g}) or {clip}; {kept}", list(state["history"]))


def _float64(x):
    """A 0-d array (NumPy or CuPy) as float64 on its own device (no host round-trip)."""
    return x.astype("float64") if hasattr(x, "astype") else float(x)


def _score(metrics: dict | None, train_loss: float, monitor: str = "accuracy") -> tuple:
    """Higher is better: the validation ``monitor`` (accuracy of whole sequences, or of tokens), then lower
    loss; the loss alone for ``monitor="loss"``, a language model and a regression; the training loss when
    there is no validation set."""
    if metrics is None:
        return (0.0, -train_loss)
    if "perplexity" in metrics or metrics.get("accuracy") is None or monitor == "loss":
        return (0.0, -metrics["loss"])
    if monitor == "token_accuracy" and metrics.get("token_accuracy") is not None:
        return (metrics["token_accuracy"], -metrics["loss"])
    if monitor == "macro_f1" and metrics.get("confusion") is not None:
        return (per_class(metrics["confusion"])["macro_f1"] or 0.0, -metrics["loss"])
    return (metrics["accuracy"], -metrics["loss"])


def data_digest(data) -> str | None:
    """A SHA-256 of what a run trains or validates on (token ids, lengths, targets; a stream's window
    and settings), so that ``--resume`` can tell other data from the data it was interrupted on; None for
    None, and for an object of the caller's own that has no ``ids`` (a resume cannot check it)."""
    import hashlib

    if data is None:
        return None
    data = getattr(data, "data", data)  # a data-parallel run's shards: the whole data behind them
    h = hashlib.sha256(type(data).__name__.encode())
    if isinstance(data, SeqData):
        parts = [_digest_part(data.ids), data.lengths, _digest_part(data.targets)]
        h.update(data.task.encode())
    elif not hasattr(data, "ids"):  # a validation object of the caller's own (anything with evaluate): no digest
        return None
    else:
        parts = [np.asarray(data.ids, np.int64)]
        h.update(repr([getattr(data, k, None) for k in ("window", "bptt_steps", "stateful", "batch_size")]).encode())
    for a in parts:
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _digest_part(arrays) -> np.ndarray:
    """Token ids or class ids as one int64 array; float inputs or targets as float64 (not cut to
    integers, so that other values of the same shapes digest otherwise)."""
    arrays = [np.asarray(a) for a in arrays]
    if all(np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_ for a in arrays):
        return np.concatenate([a.astype(np.int64).ravel() for a in arrays])
    return np.concatenate([a.astype(np.float64).ravel() for a in arrays])


@contextlib.contextmanager
def _sole_writer(out: str | None):
    """Holds an exclusive lock (``flock``) on a hidden ``.OUT.lock`` beside ``out`` while a run writes
    ``out``: a second run started on the same ``out`` is refused instead of removing the first's
    temporary files and saving over its model.  The lock goes with the process (a killed run
    leaves no lock held); the file is removed at the end."""
    if not out:
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no lock
        yield
        return
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "." + os.path.basename(out) + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, checkpoint.FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise ValueError(f"{out!r} is being written by another bptt train (pid {other or 'unknown'}); "
                             f"wait for it to end or choose another --out") from None
        try:
            os.ftruncate(fd, 0)
            try:
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except OSError as e:  # a full disk: said with the file's name, and the lock goes all the same
                raise OSError(e.errno, e.strerror, path) from None
            yield
        finally:
            try:
                os.unlink(path)  # still locked: no other run can be between this and the close
            except OSError:
                pass
    finally:
        os.close(fd)


def train(model: Model, train_data, valid_data, cfg: TrainConfig, *,
          out: str | None = None, meta: dict | None = None, resume: bool = False, log=print,
          progress: bool | None = None, device: str = "cpu", grad_norms: bool = False, comm=None) -> list:
    """Train ``model`` in place; saves the best model to ``out`` and the resumable state to ``out + '.last'``.

    The model ends with the weights of the model kept (the best on validation, or without validation data
    the lowest training loss: the one saved to ``out``, kept in memory without it), not those of the last
    step, which may be many epochs past it (a patience).

    ``device`` ("cpu" or "gpu") holds the parameters and optimiser state; each
    batch is built on the host and moved there once, and the loss is summed on
    the device, read back only when the progress bar or an epoch line shows it.
    ``train_data`` and ``valid_data`` are :class:`SeqData` (labelled sequences) or
    :class:`bptt.lm.TextStream` (a language model's text): anything with
    ``epoch_batches(cfg, epoch)``, ``train_step(model, batch, carry, frozen, dropout, rng)`` and
    ``evaluate(model)``.  A stateful stream passes each window's final state on
    as ``carry``; it is saved with the resumable state.
    With ``grad_norms=True`` the norms ``|dLoss/ds^t|`` of a fixed probe batch are recorded
    before the first update and after every epoch, in each history entry's ``"grad_norms"``.
    With ``comm`` (a :class:`bptt.distributed.Comm`; ``train_data`` then a
    :class:`bptt.distributed.Sharded`) this is one rank of a data-parallel job: rank 0 alone
    writes files, and every rank takes its stop decisions from rank 0's clock and any rank's
    Ctrl-C, agreed after every step.
    Returns the history: one dict per finished epoch.
    """
    # NumPy's overflow warnings are not shown: a loss or gradient that stops being finite ends the run
    # with an error of its own (Diverged)
    with _sole_writer(out if comm is None or comm.rank == 0 else None), \
            np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _train(model, train_data, valid_data, cfg, out=out, meta=meta, resume=resume, log=log,
                      progress=progress, device=device, grad_norms=grad_norms, comm=comm)


def _train(model, train_data, valid_data, cfg, *, out, meta, resume, log, progress, device, grad_norms, comm):
    from .device import to_device

    if not isinstance(model, Model):
        raise TypeError(f"model must be a bptt.Model, got {type(model).__name__}")
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a bptt.train.TrainConfig, got {type(cfg).__name__}"
                        + (" (TrainConfig(**it) makes one of a dict)" if isinstance(cfg, dict) else ""))
    for name, data, needs in (("train_data", train_data, ("epoch_batches", "train_step", "evaluate")),
                              ("valid_data", valid_data, ("evaluate",))):
        if data is None and name == "valid_data":  # no validation: allowed
            continue
        if not all(hasattr(data, k) for k in needs):  # (None has none of them)
            raise TypeError(f"{name} must be a bptt.train.SeqData (labelled sequences) or a bptt.lm.TextStream "
                            f"(a language model's text), got {type(data).__name__}")
    model.check_frozen(cfg.frozen)  # once: the steps do not check it
    for name, data in (("train_data", train_data), ("valid_data", valid_data)):
        check = getattr(data, "check", None) if data is not None else None
        if check is not None:  # once: the steps skip the checks of what they read
            check(model, name)
    model.to(device)
    if progress is None:
        progress = sys.stderr.isatty()
    opt = OPTIMIZERS[cfg.optimizer](lr=cfg.lr, frozen=cfg.frozen, weight_decay=cfg.weight_decay,
                                    **({"momentum": cfg.momentum} if cfg.optimizer == "sgd" else {}))
    if cfg.curriculum and getattr(train_data, "task", None) not in ("classify", "tag"):  # SeqData, or its shards
        raise ValueError("curriculum: a length curriculum is for classify and tag data, not a language model's text")
    if cfg.monitor == "token_accuracy" and model.config.head != "many_to_many":
        raise ValueError(f"monitor='token_accuracy' ranks the epochs of a tag model (head 'many_to_many'); this "
                         f"model's head is {model.config.head!r}: use 'accuracy' or 'loss'")
    if cfg.monitor == "macro_f1" and model.config.loss != "softmax":
        raise ValueError(f"monitor='macro_f1' ranks by the F1 of the classes of a softmax output; this model's "
                         f"loss is {model.config.loss!r}: use 'accuracy' or 'loss'")
    if cfg.class_weights is not None:
        if model.config.loss != "softmax":
            raise ValueError(f"class_weights weight the classes of a softmax output; this model's loss is "
                             f"{model.config.loss!r}")
        if getattr(train_data, "task", None) not in ("classify", "tag"):
            raise ValueError("class_weights are for classify and tag data, not a language model's text")
        if len(cfg.class_weights) != model.config.output_size:
            raise ValueError(f"class_weights has {len(cfg.class_weights)} weights; the model has "
                             f"{model.config.output_size} classes")
    caps = curriculum_caps(train_data.lengths) if cfg.curriculum else [None]
    chance = (chance_accuracy(valid_data, model.config.loss, model.config.output_size)
              if valid_data is not None else None)
    prior = prior_loss(train_data, model.config.loss) if chance is not None else None
    state = {"epoch": 0, "batch": 0, "step": 0, "elapsed": 0.0, "best": None, "bad_epochs": 0,
             "history": [], "loss_sum": 0.0, "loss_n": 0,
             "lr": cfg.lr,  # the base rate, lowered by plateau decays; the schedule scales it per update
             "stage": 0, "stage_best": -1.0, "stage_bad": 0,  # the curriculum's stage and its progress
             "perfect": 0,  # epochs in a row at 100% validation accuracy
             "initial_norms": None,
             "out_score": None}  # the score of OUT's model when it is not the best finished epoch's (--max-time)
    last_path = out + ".last" if out else None
    writer = comm is None or comm.rank == 0  # in a data-parallel job, rank 0 alone writes
    # the digests of the data: saved with the state (rank 0), compared on --resume (every rank)
    digests = (data_digest(train_data), data_digest(valid_data)) if out and (writer or resume) else (None, None)
    if out and writer:
        for p in (out, last_path, out + ".metrics.csv"):
            for name in checkpoint.remove_stale_temps(p):
                log(f"removed {name!r}, left by a run killed while saving")
    if resume:
        if not last_path or not os.path.exists(last_path):
            raise FileNotFoundError(f"--resume: no saved state {last_path!r} to resume from")
        ck = checkpoint.load(last_path)
        if ck.model.config != model.config:
            saved, now = ck.model.config.to_dict(), model.config.to_dict()
            diff = ", ".join(f"{k} {saved[k]!r} there, {now[k]!r} here" for k in now if saved.get(k) != now[k])
            raise ValueError(f"--resume: {last_path!r} holds a model with another config ({diff}); resume with "
                             f"the options of the run that wrote it, or start afresh without --resume")
        saved_cfg = ck.meta.get("train_config", {})
        if not isinstance(saved_cfg, dict):
            raise ValueError(f"--resume: {last_path!r} has no usable training config")
        for key in ("optimizer", "lr", "momentum", "clip", "batch_size", "bucket", "seed", "word_dropout", "dropout",
                    "lr_schedule", "warmup", "curriculum", "epochs", "lr_decay", "patience", "frozen", "stop_perfect",
                    "perfect_loss", "plateau", "monitor", "class_weights", "weight_decay"):
            now = getattr(cfg, key)
            now = list(now) if key in ("frozen", "class_weights") and now is not None else now
            if key in saved_cfg and saved_cfg[key] != now:
                opt = option_name(key)
                more = (f"; to train its model on past the run's {saved_cfg[key]} epochs, start a new run from its "
                        f"weights with --init {out} instead of --resume" if key == "epochs" and out else "")
                raise ValueError(f"--resume: {opt} was {saved_cfg[key]!r} in the interrupted run, now {now!r}; "
                                 f"resume with the same settings{more}")
        for key, digest, opt_name in zip(("train_digest", "valid_digest"), digests, ("--data", "--valid")):
            if key in ck.meta and ck.meta[key] != digest:
                raise ValueError(f"--resume: {last_path!r} was interrupted on other data than this {opt_name} "
                                 f"(its sequences, vocabulary or labels differ); resume with the files of that "
                                 f"run, or start afresh without --resume")
        problem = _train_state_problem(ck.meta.get("train_state"), len(caps))
        if problem:
            raise ValueError(f"--resume: {last_path!r} has a damaged training state: {problem}")
        model.params = to_device(ck.model.params, device)
        ost = to_device(ck.opt_state or {}, device)
        resumed_carry = ost.pop("carry", None)
        opt.load_state_dict(ost)
        state.update(ck.meta["train_state"])
        log(f"resuming at epoch {state['epoch'] + 1}, batch {state['batch']}, step {state['step']}")

    def save_last():
        if last_path and writer:
            m = dict(meta or {})
            m["train_state"] = state
            m["train_config"] = dataclasses.asdict(cfg)
            m["train_digest"], m["valid_digest"] = digests
            ost = opt.state_dict()
            if carry is not None:
                ost["carry"] = carry  # a stateful stream's state, for an exact resume
            checkpoint.save(last_path, model, meta=m, opt_state=ost)

    kept_params = None  # the weights of the model kept (the one OUT holds), which the model ends with

    def keep_model():
        nonlocal kept_params
        kept_params = {k: v.copy() for k, v in model.params.items()}
        if out and writer:
            checkpoint.save(out, model, meta=meta)

    def write_metrics():
        if not out or not writer:
            return
        keys = ["epoch", "step", "time", "train_loss", "valid_loss", "valid_accuracy", "valid_token_accuracy"]
        body = ",".join(keys) + "\n" + "".join(
            ",".join("" if h.get(k) is None else f"{h[k]:.6g}" if isinstance(h.get(k), float) else str(h[k])
                     for k in keys) + "\n" for h in state["history"])
        checkpoint.atomic_write_bytes(out + ".metrics.csv", lambda f: f.write(body.encode()))

    t_start = time.perf_counter() - state["elapsed"]
    stop_reason, clock_stop, limit = None, False, None  # clock_stop: --max-time ended the run; limit: its option
    carry = resumed_carry if resume else None
    per_token = getattr(train_data, "per_token_loss", False)
    on_host = is_numpy(namespace(*model.params.values()))  # a loss read back costs nothing there

    def train_step(desc, c):
        # dropout masks from a generator keyed on (seed, epoch, batch): a resumed run draws the same ones
        rng = np.random.default_rng([cfg.seed, state["epoch"], state["batch"], 0x6D61736B]) if cfg.dropout else None
        weighted = {} if cfg.class_weights is None else {"class_weights": cfg.class_weights}
        return train_data.train_step(model, desc, c, frozen=cfg.frozen, dropout=cfg.dropout, rng=rng, **weighted)

    if resume and state["batch"] == 0 and (stop_reason := _finished(cfg, state, caps[-1])):
        # killed after its last epoch was saved (while writing the metrics, say): nothing left to train
        log("the interrupted run had finished all but its last writes")
    with _ctrl_c_between_batches() as interrupted:
        if grad_norms and state["initial_norms"] is None:
            state["initial_norms"] = train_data.step_norms(model)  # before the first update
        while state["epoch"] < cfg.epochs and stop_reason is None:
            e = state["epoch"]
            cap = caps[state["stage"]]
            batches = train_data.epoch_batches(cfg, e) if cap is None else train_data.epoch_batches(cfg, e, cap)
            if state["batch"] > len(batches):
                raise ValueError(f"--resume: the saved state is at batch {state['batch']} of epoch {e + 1}, which has "
                                 f"{len(batches)}: it belongs to other data")
            if state["batch"] == 0:
                carry = None  # a stateful stream starts each epoch from s^0
            bar = _Progress(progress, len(batches), e + 1)
            seqs = toks = 0
            # the epoch's loss summed on the device in float64, one batch after another from the sum saved
            # so far, and read back with float() only when shown or saved: a run stopped and resumed adds
            # the same numbers in the same order as one that never stopped (a float32 sum restarted from
            # zero differed in the sixth digit)
            loss_acc = state["loss_sum"]

            def flush():
                state["loss_sum"] = float(loss_acc)
                if not math.isfinite(state["loss_sum"]):  # on a GPU, found here (a check per step would wait for it)
                    raise _diverged(cfg, state, f"the epoch's training loss is {state['loss_sum']}", out, False)

            try:
                while state["batch"] < len(batches):
                    loss, grads, carry, n_seq, n_tok = train_step(batches[state["batch"]], carry)
                    norm = None
                    if cfg.clip:
                        grads, norm = clip_grad_norm(grads, cfg.clip)
                    if on_host:  # a loss or gradient that is not finite stops the run before it reaches the weights
                        lv, nv = float(loss), float(global_norm(grads) if norm is None else norm)
                        if not math.isfinite(lv):
                            raise _diverged(cfg, state, f"the loss is {lv}", out, True)
                        if not math.isfinite(nv):
                            raise _diverged(cfg, state, f"the gradient's norm is {nv}", out, True)
                    opt.lr = scheduled_lr(cfg, float(state["lr"]), state["step"], len(batches), state["elapsed"])
                    opt.step(model.params, grads)
                    state["batch"] += 1
                    state["step"] += 1
                    weight = n_tok if per_token else n_seq
                    loss_acc = loss_acc + _float64(loss) * weight
                    state["loss_n"] += weight
                    seqs += n_seq
                    toks += n_tok
                    if bar.due(state["batch"]):
                        flush()
                        bar.update(state["batch"], state["loss_sum"] / state["loss_n"], seqs, toks)
                    state["elapsed"] = time.perf_counter() - t_start
                    stop_now = interrupted()
                    if comm is not None:  # every rank stops at the same batch, on rank 0's clock
                        state["elapsed"], stop_now = comm.agree(state["elapsed"], stop_now)
                    if stop_now:
                        raise interrupted.error()  # a Ctrl-C during the batch, acted on now that the batch is counted
                    if cfg.max_steps is not None and state["step"] >= cfg.max_steps:
                        stop_reason, limit = f"reached --max-steps {cfg.max_steps}", f"--max-steps {cfg.max_steps}"
                        break
                    if cfg.max_time is not None and state["elapsed"] >= cfg.max_time:
                        stop_reason, clock_stop = f"reached --max-time {cfg.max_time:g}s", True
                        limit = f"--max-time {cfg.max_time:g}"
                        break
            except KeyboardInterrupt:
                bar.close()
                flush()
                save_last()
                log(f"interrupted; state saved to {last_path} (continue with --resume)" if last_path else "interrupted")
                raise
            bar.close()
            flush()
            epoch_done = state["batch"] >= len(batches)
            if not epoch_done and state["loss_n"] == 0:
                break
            train_loss = state["loss_sum"] / max(state["loss_n"], 1)
            vm = valid_data.evaluate(model) if valid_data is not None else None
            rec = {"epoch": e + 1 if epoch_done else e + state["batch"] / len(batches), "step": state["step"],
                   "time": state["elapsed"], "train_loss": train_loss,
                   "valid_loss": vm["loss"] if vm else None, "valid_accuracy": vm["accuracy"] if vm else None,
                   "valid_token_accuracy": vm.get("token_accuracy") if vm else None}
            if grad_norms:
                rec["grad_norms"] = train_data.step_norms(model)
            if cap is not None:
                rec["max_length"] = cap
            score = _score(vm, train_loss, cfg.monitor)
            if cfg.monitor == "macro_f1" and vm is not None and vm.get("confusion") is not None:
                vm["macro_f1"] = score[0]  # shown on the epoch's line: what decides
            if not epoch_done:
                # stopped mid-epoch (--max-steps, --max-time): shown, but not counted, so that a resumed run
                # decides its patience, decays and curriculum exactly as one that never stopped
                note = "  (stopped mid-epoch: not counted)"
                if state["best"] is None:
                    keep_model()  # no epoch finished yet: keep this model meanwhile
                elif (vm is not None and clock_stop
                      and tuple(score) > tuple(state["out_score"] or state["best"])):
                    # the clock's stop is the end of the run: its model, validated better than every finished
                    # epoch's, is the one kept.  (A --max-steps stop, which a run that never stopped can repeat,
                    # keeps its best finished epoch, so that a resumed run writes the same files as that run.)
                    keep_model()
                    state["out_score"] = list(score)  # a resumed run replaces it only with a better model
                    note = "  (stopped mid-epoch by --max-time: not counted, but validated better than every " \
                           "finished epoch, so this model is the one saved)  *"
                log(_epoch_line(rec, vm, cap) + note)
                save_last()
                break
            state["history"].append(rec)
            rec["score"] = list(score)  # how this epoch ranks (restarts compare runs by their best)
            improved = state["best"] is None or tuple(score) > tuple(state["best"])
            kept = improved and (state["out_score"] is None or tuple(score) > tuple(state["out_score"]))
            if improved:
                state["best"], state["bad_epochs"] = list(score), 0
                if kept:
                    keep_model()
                    state["out_score"] = None  # OUT holds the best finished epoch's model again
            else:
                state["bad_epochs"] += 1
                if cfg.lr_decay < 1.0:
                    state["lr"] = float(state["lr"]) * cfg.lr_decay  # no progress on validation: smaller steps
            line = _epoch_line(rec, vm, cap)
            # under a curriculum, only once every length is admitted: a model trained on the short sequences
            # alone is expected to be at chance on the validation file's long ones
            final_stage = cap is None or state["stage"] == len(caps) - 1
            # not under class weights, which trade the most common label's accuracy for the others' on purpose
            watched = chance is not None and final_stage and cfg.class_weights is None
            low = watched and at_chance(vm, chance)
            flag = low and cfg.chance_epochs and e + 1 >= cfg.chance_epochs
            if watched and not low:
                state["beat_chance"] = True  # a later epoch at chance is a relapse, not a model that learned nothing
            if flag:
                line += f"  [at chance level: the most common label alone scores {chance:.1%}]"
            log(line + ("  *" if kept else ""))  # * : the model saved (a better validation score)
            # a model at chance that fits its training sequences has memorised them: said once, when first seen
            # (a model that learned nothing at first may go on to memorise its training set)
            fitted = flag and not state.get("beat_chance") and not state.get("memorised") and memorised(rec, vm, prior)
            if fitted:
                state["memorised"] = state["chance_hint"] = True
                decay = "" if cfg.weight_decay else ", or --weight-decay 0.1"
                log(f"  the model fits its training sequences (train loss {_loss_str(rec['train_loss'])}) but is at "
                    f"chance on the validation ones (loss {_loss_str(vm['loss'])}): it has memorised them rather than "
                    f"learned a rule; more training data helps most (measured: a remainder mod 7 of decimal numbers "
                    f"stayed at chance from 3,000 strings and reached 100% from 20,000){decay}")
            if flag and not state.get("chance_hint"):
                state["chance_hint"] = True
                if state.get("beat_chance"):  # a spike in the loss, as Adam's steps can make once the gradients are tiny
                    log(f"  validation accuracy fell back to chance after epochs above it (a spike in the training "
                        f"loss); the best model stays saved{' in ' + out if out else ''}, and training goes on")
                else:
                    later = (" (a tag that depends on the tokens after it: --bidirectional)"
                             if model.config.head == "many_to_many" and not model.config.bidirectional else "")
                    aids = "--restarts, a smaller --lr" if cfg.curriculum else "--curriculum, --restarts, a smaller --lr"
                    log(f"  the model has learned nothing yet: try {aids}{later}, or look at the gradient through "
                        f"time with --grad-norms PLOT")
            since = _since_best_accuracy(state["history"], rec) if final_stage else None
            waiting = since is not None and since[1] == 1.0 and cfg.stop_perfect and vm is not None
            # an epoch at 100% within --perfect-loss counts towards the stop at 100%: no hint on it (one said
            # "a loss of 9.1e-05, above the 0.0001" two epochs before that stop)
            counting = waiting and vm["accuracy"] == 1.0 and vm["loss"] <= cfg.perfect_loss
            if (since is not None and since[0] >= PLATEAU_HINT_EPOCHS and state.get("plateau_hint") != since[2]
                    and not counting and not 0 < (cfg.patience or 0) <= PLATEAU_HINT_EPOCHS
                    and not 0 < cfg.plateau <= PLATEAU_HINT_EPOCHS):
                state["plateau_hint"] = since[2]  # once per best accuracy
                stalled = (f"first reached 100% at epoch {since[2]}, {since[0]} epochs ago, and the stop at 100% "
                           f"waits for a validation loss of at most {cfg.perfect_loss:g} (--perfect-loss) for "
                           f"{cfg.stop_perfect} epoch(s) in a row (now {vm['loss']:.3g})" if waiting else
                           f"has not passed {since[1]:.2%} (epoch {since[2]}) for {since[0]} epochs")
                fits = None if waiting else fits_training_set(state["history"], cfg, model.config)
                decay = (f"; the model fits its training sequences (loss {_loss_str(fits[0])}) better than the "
                         f"validation ones (loss {_loss_str(fits[1])}): it has memorised some of them, and "
                         f"--weight-decay 0.1 in a new run learned such rules" if fits else "")
                log(f"  validation accuracy {stalled}; the best model is saved{' in ' + out if out else ''}: Ctrl-C "
                    f"stops the run there, --plateau N stops such runs by itself{decay}")
            if cap is not None and state["stage"] < len(caps) - 1:
                _advance_curriculum(model, train_data, cfg, state, cap, caps[state["stage"] + 1], log)
            if model.config.loss == "mse":  # a regression has no accuracy, and a stop on its loss alone cost
                perfect = False  # length generalisation (benchmarks/results/regress-defaults-stop1e-4.log)
            elif vm is not None:
                perfect = vm["accuracy"] == 1.0 and vm["loss"] <= cfg.perfect_loss
            else:  # no validation data: the training loss of the epoch, once every length is admitted
                perfect = train_loss <= cfg.perfect_loss and final_stage
            state["perfect"] = state["perfect"] + 1 if perfect else 0
            state["epoch"] += 1
            state["batch"] = 0
            state["loss_sum"], state["loss_n"] = 0.0, 0
            stop_reason = stop_reason or _finished(cfg, state, caps[-1])
            save_last()
            write_metrics()
            stop_now = interrupted()
            if comm is not None:
                stop_now = comm.agree(0.0, stop_now)[1]
            if stop_now:  # a Ctrl-C during validation or saving: the state just saved is whole
                log(f"interrupted; state saved to {last_path} (continue with --resume)" if last_path else "interrupted")
                raise interrupted.error()
    if resume and state["history"]:
        write_metrics()  # a kill between saving OUT.last and the metrics left them one epoch short
    if stop_reason:
        log(f"stopped: {stop_reason}")
    if grad_norms and state["history"]:
        state["history"][0]["initial_grad_norms"] = state["initial_norms"]
    if limit and state["history"]:  # the run was cut short by the user's limit, not ended by what it learned:
        state["history"][-1]["limit"] = [limit, caps[state["stage"]]]  # the option, and the length cap then
    if kept_params is None and resume and out and os.path.exists(out):  # kept before the resume: OUT's
        try:
            kept_params = checkpoint.load(out).model.params
        except (OSError, ValueError):  # (ModelFileError too) a file damaged since: the model stays as it is
            kept_params = None
        if kept_params is not None and any(
                k not in kept_params or kept_params[k].shape != v.shape for k, v in model.params.items()):
            kept_params = None  # another model's file in its place: not this run's to take weights from
    if kept_params is not None:  # the model ends as the one kept, not as the last step left it
        for k, v in kept_params.items():
            model.params[k][...] = namespace(model.params[k]).asarray(v)
    return state["history"]


PLATEAU_HINT_EPOCHS = 50  # epochs without a better validation accuracy after which a run says it may be stopped


def _since_best_accuracy(history: list, rec: dict):
    """``(epochs since, best accuracy, its epoch)``: how many epochs the epoch ``rec`` (the last of
    ``history``) comes after the best validation accuracy of the run's last curriculum stage (the
    first epoch that reached it); None without validation accuracy.  The run's score also counts a
    lower validation loss as better, so a loss that still creeps down keeps ``--patience`` from
    stopping a run that has stopped learning anything a test would see (a new-user try ran 1000
    epochs, 17 minutes, after reaching its best accuracy in 38): ``--plateau`` and the hint count this."""
    stage = [r for r in history if r.get("max_length") == rec.get("max_length")
             and r.get("valid_accuracy") is not None]
    if not stage or rec.get("valid_accuracy") is None:
        return None
    best = max(stage, key=lambda r: r["valid_accuracy"])  # the first epoch at the best accuracy
    return int(round(rec["epoch"] - best["epoch"])), best["valid_accuracy"], best["epoch"]


def _finished(cfg: TrainConfig, state: dict, last_cap=None) -> str | None:
    """Why a run whose epoch just ended stops now (None: it goes on, while epochs remain).
    ``last_cap``: the curriculum's last length cap (None without a curriculum)."""
    if cfg.patience and state["bad_epochs"] >= cfg.patience:
        return f"no better validation score for {cfg.patience} epoch(s)"
    history = state["history"]
    if cfg.plateau and history and history[-1].get("max_length") == last_cap:  # in the last stage
        since = _since_best_accuracy(history, history[-1])
        if since is not None and since[0] >= cfg.plateau:
            return (f"validation accuracy not above {since[1]:.2%} (epoch {since[2]}) for {since[0]} epochs "
                    f"(--plateau {cfg.plateau})")
    if cfg.stop_perfect and state["perfect"] >= cfg.stop_perfect:
        if state["history"] and state["history"][-1].get("valid_loss") is None:
            return f"a training loss at most {cfg.perfect_loss:g} for {cfg.stop_perfect} epoch(s) in a row (no --valid)"
        return (f"100% validation accuracy with a loss at most {cfg.perfect_loss:g} for {cfg.stop_perfect} "
                f"epoch(s) in a row")
    return None


def _train_state_problem(ts, n_stages: int) -> str | None:
    """What is wrong with a saved training state (None when it can be resumed from)."""
    if not isinstance(ts, dict):
        return "no train_state object"

    def count(k):
        v = ts.get(k)
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    for k in ("epoch", "batch", "step", "bad_epochs", "stage", "stage_bad", "perfect", "loss_n"):
        if k in ts and not count(k):
            return f"{k} = {ts.get(k)!r} is not a count"
    for k in ("epoch", "batch", "step", "history", "lr"):
        if k not in ts:
            return f"no {k!r}"
    for k in ("elapsed", "loss_sum", "stage_best"):
        if k in ts and not number(ts[k]):
            return f"{k} = {ts[k]!r} is not a finite number"
    if not (number(ts["lr"]) and ts["lr"] > 0):
        return f"lr = {ts['lr']!r} is not a positive number"
    if ts.get("stage", 0) >= n_stages:
        return f"curriculum stage {ts['stage']} of {n_stages}"
    for k in ("best", "out_score"):
        v = ts.get(k)
        if v is not None and not (isinstance(v, list) and len(v) == 2 and all(number(x) for x in v)):
            return f"{k} = {v!r} is not a score"
    if not isinstance(ts["history"], list) or not all(isinstance(h, dict) for h in ts["history"]):
        return "history is not a list of epochs"
    norms = ts.get("initial_norms")
    if norms is not None and not (isinstance(norms, list) and all(number(v) for v in norms)):
        return "initial_norms is not a list of numbers"
    return None


@contextlib.contextmanager
def _ctrl_c_between_batches():
    """Yields ``interrupted()``: a Ctrl-C (SIGINT) or a SIGTERM (what ``kill`` and job schedulers
    send) during training is noted and acted on between batches, so the state saved for
    ``--resume`` never holds weights updated by a batch it does not count.  A second signal stops
    at once.  Off the main thread (where no signal arrives) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield _never
        return
    hits = []

    def handler(signum, frame):
        if hits:
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        hits.append(signum)

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # pragma: no cover - signals unavailable here
        yield _never
        return
    def interrupted():
        return bool(hits)

    interrupted.error = lambda: Terminated if hits and hits[0] == signal.SIGTERM else KeyboardInterrupt
    try:
        yield interrupted
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class Terminated(KeyboardInterrupt):
    """A SIGTERM, raised where a Ctrl-C would raise KeyboardInterrupt (so cleanups run the same)."""


def raise_on_sigterm():
    """Make a SIGTERM (``kill``, a job scheduler's notice) raise :class:`Terminated` where a Ctrl-C
    raises KeyboardInterrupt, so a command stops the same way: files being written are removed, and
    training saves its state between batches (:func:`_ctrl_c_between_batches`).  Returns the
    previous handler, to put back; None off the main thread (where no signal arrives) or where
    signals cannot be set."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise Terminated

    try:
        return signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # pragma: no cover - signals unavailable here
        return None


def _never() -> bool:
    return False


_never.error = lambda: KeyboardInterrupt


def _loss_str(v: float) -> str:
    """A loss with 4 decimals, or 3 significant digits below 0.001 (a regression's 2.17e-05, not 0.0000)."""
    return f"{v:.4f}" if not 0 < abs(v) < 1e-3 else f"{v:.3g}"


def _epoch_line(rec: dict, vm: dict | None, cap) -> str:
    e = rec["epoch"]  # a whole epoch as it is; a stop mid-epoch with two decimals (10.04, not 10, nor 1e+02)
    shown = f"{e:d}" if isinstance(e, int) else f"{e:.2f}"
    line = f"epoch {shown}  step {rec['step']}  {rec['time']:.1f}s  train loss {_loss_str(rec['train_loss'])}"
    if vm and "perplexity" in vm:
        line += f"  valid loss {vm['loss']:.4f}  perplexity {vm['perplexity']:.2f}"
        if "bits_per_char" in vm:
            line += f"  {vm['bits_per_char']:.3f} bits/char"
    elif vm:
        line += f"  valid loss {_loss_str(vm['loss'])}"
        if vm.get("accuracy") is not None:  # (mse has none)
            line += f"  acc {vm['accuracy']:.2%}"
        if vm.get("token_accuracy") is not None:
            line += f"  token acc {vm['token_accuracy']:.2%}"
        if vm.get("macro_f1") is not None:
            line += f"  macro F1 {vm['macro_f1']:.2%}"
    if cap is not None:
        line += f"  lengths <= {cap}"
    return line


CURRICULUM_SATURATED = 0.99  # training accuracy at which the curriculum admits longer sequences
CURRICULUM_PATIENCE = 3  # ... or after this many epochs at a stage without a better training accuracy


def _advance_curriculum(model, data, cfg, state, cap, next_cap, log):
    """After an epoch of a curriculum stage: the training accuracy (a regression: R^2) on (up to 1000
    of) the admitted sequences; admit the next stage's lengths once it saturates (reaches 0.99, or
    has not improved for 3 epochs)."""
    keep = np.flatnonzero(data.lengths <= cap)
    rng = np.random.default_rng([cfg.seed, state["epoch"], 0x63757272])
    sample = keep if keep.size <= 1000 else rng.choice(keep, 1000, replace=False)
    part = data.subset(sample)
    m = evaluate(model, part)
    score = m["accuracy"]
    if score is None:  # mse: R^2, the share of the targets' variance explained (saturated at 0.99, too)
        K = model.config.output_size
        y = np.concatenate([np.asarray(t, dtype=np.float64).reshape(-1, K) for t in part.targets])
        score = 1.0 - m["loss"] / max(float(y.var(axis=0).mean()), 1e-300)
    if score > state["stage_best"]:
        state["stage_best"], state["stage_bad"] = score, 0
    else:
        state["stage_bad"] += 1
    if score >= CURRICULUM_SATURATED or state["stage_bad"] >= CURRICULUM_PATIENCE:
        state["stage"] += 1
        state["stage_best"], state["stage_bad"] = -1.0, 0
        what = f"training accuracy {score:.1%}" if m["accuracy"] is not None else f"training R^2 {score:.3f}"
        log(f"  curriculum: {what} on lengths <= {cap}; now admitting lengths <= {next_cap}")
