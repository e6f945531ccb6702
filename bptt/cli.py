"""The ``bptt`` command line: train, evaluate, predict, make data, and the demo."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from . import __version__, checkpoint
from .data import DataError, Labels, Vocab, encode, read_examples, tokenize, write_examples
from .model import Model, ModelConfig
from .train import SeqData, TrainConfig, by_length, evaluate, train


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, exit code 2."""


HELP_FMT = type("HelpFormatter", (argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter), {})


def _add_data_opts(p):
    p.add_argument("--chars", action="store_true", help="the sequence is characters, not space-separated tokens")
    p.add_argument("--format", choices=["tsv", "csv", "jsonl"], default=None,
                   help="file format (default: from the file extension; .tsv/.txt = tab-separated)")
    p.add_argument("--text-col", default="text", help="name of the sequence column (header line / JSONL key)")
    p.add_argument("--label-col", default="label", help="name of the target column")
    p.add_argument("--skip-bad", action="store_true", help="skip and count bad lines instead of stopping")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="bptt", description="Recurrent neural networks trained by backpropagation through time.",
                                 formatter_class=HELP_FMT)
    ap.add_argument("--version", action="version", version=f"bptt {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model on a data file", formatter_class=HELP_FMT,
                       description="Train an RNN (embedding -> RNN -> output) on a TSV/CSV/JSONL file.")
    t.add_argument("--data", required=True, help="training file")
    t.add_argument("--valid", help="validation file (early stopping and the best model are chosen on it)")
    t.add_argument("--task", choices=["classify", "tag"], required=True,
                   help="classify: one label from the final state; tag: one label per token")
    t.add_argument("--out", required=True, help="where to save the best model (.bptt)")
    _add_data_opts(t)
    d = ModelConfig(input_size=1)
    t.add_argument("--hidden", type=int, default=d.hidden_size, help="state size H")
    t.add_argument("--embed", type=int, default=d.embed_dim, help="embedding size D")
    t.add_argument("--activation", choices=["tanh", "relu", "sigmoid", "identity"], default=d.activation, help="f_s")
    t.add_argument("--learn-s0", action="store_true", help="learn the initial state s0 (default: zeros)")
    tc = TrainConfig()
    t.add_argument("--optimizer", choices=["sgd", "adam"], default=tc.optimizer)
    t.add_argument("--lr", type=float, default=tc.lr, help="learning rate")
    t.add_argument("--momentum", type=float, default=tc.momentum, help="SGD momentum")
    t.add_argument("--clip", type=float, default=tc.clip, help="clip gradients to this global norm (0: off)")
    t.add_argument("--batch-size", type=int, default=tc.batch_size)
    t.add_argument("--bucket", action=argparse.BooleanOptionalAction, default=tc.bucket,
                   help="batches of near-equal length (--no-bucket: exact-length groups)")
    t.add_argument("--epochs", type=int, default=tc.epochs)
    t.add_argument("--max-steps", type=int, default=None, help="stop after this many updates")
    t.add_argument("--max-time", type=float, default=None, metavar="SECONDS", help="stop after this wall time, keeping the best model")
    t.add_argument("--patience", type=int, default=None, help="stop after this many epochs without a better validation score")
    t.add_argument("--seed", type=int, default=tc.seed)
    t.add_argument("--resume", action="store_true", help="continue the interrupted run saved in OUT.last")
    t.add_argument("--plot", help="write the loss/accuracy curves to this PNG")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--device", choices=["cpu", "gpu"], default="cpu", help="gpu needs pip install 'bptt[gpu]'")

    e = sub.add_parser("evaluate", help="score a model on a data file", formatter_class=HELP_FMT)
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--by-length", action="store_true", help="accuracy per sequence length")
    e.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    e.add_argument("--plot", help="write accuracy against length to this PNG (training lengths shaded)")
    e.add_argument("--format", choices=["tsv", "csv", "jsonl"], default=None)
    e.add_argument("--text-col", default="text")
    e.add_argument("--label-col", default="label")
    e.add_argument("--skip-bad", action="store_true")
    e.add_argument("--device", choices=["cpu", "gpu"], default="cpu")

    p = sub.add_parser("predict", help="label new sequences", formatter_class=HELP_FMT)
    p.add_argument("--model", required=True)
    p.add_argument("text", nargs="*", help="sequences to label (default: one per line on stdin)")

    dm = sub.add_parser("data", help="make data files", formatter_class=HELP_FMT)
    dsub = dm.add_subparsers(dest="data_command", metavar="ACTION")
    mk = dsub.add_parser("make", help="write a task's examples (addition, parity, divisible3)", formatter_class=HELP_FMT)
    from .tasks import TASKS
    mk.add_argument("task", choices=sorted(TASKS))
    mk.add_argument("--lengths", required=True, help="A-B: digits (addition) or bits per example")
    mk.add_argument("--n", type=int, required=True, help="number of examples")
    mk.add_argument("--seed", type=int, default=0)
    mk.add_argument("--out", help="file to write (default: stdout)")

    dd = sub.add_parser("demo", help="the tutorial's claim: train on short additions, add 100-digit numbers",
                        formatter_class=HELP_FMT)
    dd.add_argument("--out-dir", default="bptt-demo", help="where the model and the plot go")
    dd.add_argument("--seed", type=int, default=0)
    dd.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def _read(path, task, args, **kw):
    try:
        examples, skipped = read_examples(path, task, chars=kw.get("chars", getattr(args, "chars", False)),
                                          fmt=args.format, text_col=args.text_col, label_col=args.label_col,
                                          skip_bad=args.skip_bad)
    except DataError as e:
        raise UserError(str(e)) from None
    return examples, skipped


def _encode(examples, vocab, labels, task, path):
    try:
        ids, targets = encode(examples, vocab, labels, task, path)
    except ValueError as e:
        raise UserError(str(e)) from None
    return SeqData(ids, targets, task)


def cmd_train(args, out=print) -> int:
    try:
        tcfg = TrainConfig(optimizer=args.optimizer, lr=args.lr, momentum=args.momentum, clip=args.clip,
                           batch_size=args.batch_size, bucket=args.bucket, epochs=args.epochs,
                           max_steps=args.max_steps, max_time=args.max_time, patience=args.patience, seed=args.seed)
    except ValueError as e:
        raise UserError(str(e)) from None
    examples, skipped = _read(args.data, args.task, args)
    if skipped:
        out(f"{args.data}: skipped {skipped} bad line(s)")
    vocab = Vocab.build(ex.tokens for ex in examples)
    labels = Labels.build(t for ex in examples for t in ([ex.target] if args.task == "classify" else ex.target))
    if args.task == "classify" and len(labels) < 2:
        raise UserError(f"{args.data}: classify needs at least 2 different labels, found {labels.names}")
    data = _encode(examples, vocab, labels, args.task, args.data)
    valid = None
    if args.valid:
        vex, vskipped = _read(args.valid, args.task, args)
        valid = _encode(vex, vocab, labels, args.task, args.valid)
    try:
        cfg = ModelConfig(vocab_size=len(vocab), embed_dim=args.embed, hidden_size=args.hidden,
                          output_size=max(len(labels), 2), activation=args.activation, learn_s0=args.learn_s0,
                          head="many_to_one" if args.task == "classify" else "many_to_many")
    except ValueError as e:
        raise UserError(str(e)) from None
    L = data.lengths
    meta = {"task": args.task, "chars": args.chars, "vocab": vocab.tokens, "labels": labels.names,
            "train_lengths": [int(L.min()), int(L.max())], "bptt_version": __version__}
    model = Model(cfg, rng=np.random.default_rng(args.seed))
    out(f"{len(data)} training sequences (lengths {L.min()}-{L.max()}), vocabulary {len(vocab)}, "
        f"{len(labels)} labels; H={cfg.hidden_size}, D={cfg.embed_dim}, {sum(v.size for v in model.params.values()):,} parameters")
    try:
        history = train(model, data, valid, tcfg, out=args.out, meta=meta, resume=args.resume, log=out,
                        progress=None if not args.quiet else False, device=args.device)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        raise UserError(str(e)) from None
    out(f"best model saved to {args.out}")
    if args.plot and history:
        from .plots import training_curves
        try:
            out(f"curves written to {training_curves(args.plot, history)}")
        except RuntimeError as e:
            raise UserError(str(e)) from None
    return 0


def _load(path):
    try:
        ck = checkpoint.load(path)
    except (FileNotFoundError, ValueError) as e:
        raise UserError(str(e)) from None
    for key in ("task", "vocab", "labels"):
        if key not in ck.meta:
            raise UserError(f"model file {path!r} has no {key!r}: it was not saved by 'bptt train'")
    return ck


def cmd_evaluate(args, out=print) -> int:
    ck = _load(args.model)
    task, meta = ck.meta["task"], ck.meta
    vocab, labels = Vocab(meta["vocab"]), Labels(meta["labels"])
    examples, skipped = _read(args.data, task, args, chars=meta.get("chars", False))
    data = _encode(examples, vocab, labels, task, args.data)
    n_unk = sum(vocab.n_unknown(ex.tokens) for ex in examples)
    try:
        ck.model.to(args.device)
    except (RuntimeError, ValueError) as e:
        raise UserError(str(e)) from None
    m = evaluate(ck.model, data)
    res = {"n": m["n"], "loss": m["loss"], "accuracy": m["accuracy"]}
    if task == "tag":
        res["token_accuracy"] = m["token_accuracy"]
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
    if n_unk:
        out(f"{n_unk} token(s) not in the model's vocabulary were read as <unk>")
    if args.by_length:
        tr = meta.get("train_lengths") or [0, 0]
        out(f"{'length':>7} {'n':>6} {'accuracy':>9}")
        for k, v in bl.items():
            out(f"{k:>7} {v['n']:>6} {v['accuracy']:>9.2%}" + ("  (trained)" if tr[0] <= k <= tr[1] else ""))
    if args.plot:
        out(f"plot written to {res['plot']}")
    return 0


def cmd_predict(args, out=print) -> int:
    ck = _load(args.model)
    meta = ck.meta
    vocab, labels = Vocab(meta["vocab"]), Labels(meta["labels"])
    texts = args.text if args.text else [line.rstrip("\n") for line in sys.stdin]
    for text in texts:
        tokens = tokenize(text, meta.get("chars", False))
        if not tokens:
            raise UserError(f"cannot label an empty sequence: {text!r}")
        ids = vocab.encode(tokens)[None, :]
        prob = np.asarray(ck.model.predict(ids))[0]
        if meta["task"] == "classify":
            k = int(prob.argmax())
            out(f"{labels.names[k]}\t{prob[k]:.4f}")
        else:
            out(" ".join(labels.names[int(k)] for k in prob.argmax(-1)))
    return 0


def cmd_data_make(args, out=print) -> int:
    from .tasks import make, parse_lengths

    try:
        rows = make(args.task, parse_lengths(args.lengths), args.n, args.seed)
    except ValueError as e:
        raise UserError(str(e)) from None
    if args.out:
        write_examples(args.out, rows)
        out(f"wrote {len(rows)} {args.task} examples to {args.out}")
    else:
        out("text\tlabel")
        for s, t in rows:
            out(f"{s}\t{t}")
    return 0


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.command is None:
        ap.print_help()
        return 0
    try:
        if args.command == "train":
            return cmd_train(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "predict":
            return cmd_predict(args)
        if args.command == "data":
            if args.data_command == "make":
                return cmd_data_make(args)
            ap.parse_args(["data", "--help"])
        if args.command == "demo":
            from .demo import run_demo
            run_demo(out_dir=args.out_dir, seed=args.seed, progress=None if not args.quiet else False)
            return 0
    except UserError as e:
        print(f"bptt {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
