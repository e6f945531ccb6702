"""``bptt demo``: the tutorial's claim, end to end.

A recurrent net trained only on additions of 1- to 4-digit numbers adds
100-digit numbers, because it applies the same step (digit pair in, sum digit
out, carry kept in the state) at every position.  A feed-forward net trained on
the same 4-digit additions has one input block per digit position: it cannot
read a 5-digit number at all.
"""

from __future__ import annotations

import os
import time

import numpy as np

from . import checkpoint
from .data import Labels, Vocab, encode
from .data.files import Example
from .feedforward import FeedForwardTagger
from .model import Model, ModelConfig
from .tasks import make
from .train import SeqData, TrainConfig, evaluate, train

TRAIN_DIGITS = (1, 4)
TEST_DIGITS = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 75, 100)


def _examples(rows):
    return [Example(s.split(), t.split(), i + 1) for i, (s, t) in enumerate(rows)]


def run_demo(out_dir="bptt-demo", seed=0, progress=None, n_train=4000, n_test=200, log=print,
             epochs=12) -> dict:
    """Run the demo; returns ``{"rnn": {digits: accuracy}, "feedforward": {digits: accuracy}, ...}``."""
    t0 = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    train_ex = _examples(make("addition", TRAIN_DIGITS, n_train, seed))
    valid_ex = _examples(make("addition", TRAIN_DIGITS, 500, seed + 1))
    # every digit pair and every sum digit occurs in training: fix the vocabulary and labels
    vocab = Vocab(["<pad>", "<unk>"] + [f"{a}{b}" for a in range(10) for b in range(10)])
    labels = Labels([str(d) for d in range(10)])
    train_data = SeqData(*encode(train_ex, vocab, labels, "tag"), "tag")
    valid_data = SeqData(*encode(valid_ex, vocab, labels, "tag"), "tag")
    cfg = ModelConfig(vocab_size=len(vocab), embed_dim=16, hidden_size=32, output_size=10, head="many_to_many")
    model = Model(cfg, rng=np.random.default_rng(seed))
    log(f"bptt demo: training an RNN (H={cfg.hidden_size}) on {n_train} additions of "
        f"{TRAIN_DIGITS[0]}-{TRAIN_DIGITS[1]}-digit numbers (digit pairs in, least significant first)")
    out = os.path.join(out_dir, "addition.bptt")
    meta = {"task": "tag", "tokenizer": "space", "vocab": vocab.tokens, "labels": labels.names,
            "train_lengths": [TRAIN_DIGITS[0] + 1, TRAIN_DIGITS[1] + 1]}
    tcfg = TrainConfig(lr=0.01, clip=5.0, batch_size=32, epochs=epochs, seed=seed, patience=4, stop_perfect=0)
    train(model, train_data, valid_data, tcfg, out=out, meta=meta, log=lambda s: log("  " + s), progress=progress)
    model = checkpoint.load(out).model
    t_train = time.perf_counter() - t0

    # the feed-forward foil: fixed width of 4 digits + 1 carry step
    width = TRAIN_DIGITS[1] + 1
    # it needs more examples than the RNN to learn the carry at each position separately: give it 5x
    ff_rows = make("addition", (TRAIN_DIGITS[1], TRAIN_DIGITS[1]), 5 * n_train, seed)  # leading zeros allowed
    ff_ids, ff_y = encode(_examples(ff_rows), vocab, labels, "tag")
    ff = FeedForwardTagger(width, len(vocab), 10, hidden=256, rng=np.random.default_rng(seed))
    log(f"training a feed-forward net (one input block per digit position, 4 digits + carry) on {len(ff_rows)} "
        f"4-digit additions")
    ff.fit(np.stack(ff_ids), np.stack(ff_y), epochs=20, lr=3e-3, seed=seed)

    log("")
    log(f"{'digits':>7} {'steps':>6} {'RNN':>8} {'feed-forward':>14}")
    rnn_curve, ff_curve = {}, {}
    acc100 = None
    for d in TEST_DIGITS:
        rows = make("addition", (d, d), n_test, seed + 1000 + d)
        ex = _examples(rows)
        data = SeqData(*encode(ex, vocab, labels, "tag"), "tag")
        acc = evaluate(model, data)["accuracy"]
        rnn_curve[d] = acc
        if d <= TRAIN_DIGITS[1]:
            # shorter numbers zero-padded to the net's width of 4 digits
            padded = [addition_example_padded(r, TRAIN_DIGITS[1]) for r in rows]
            ids, y = encode(_examples(padded), vocab, labels, "tag")
            ff_acc = float(np.mean((ff.predict(np.stack(ids)) == np.stack(y)).all(axis=1)))
            ff_curve[d] = ff_acc
            ff_text = f"{ff_acc:>13.1%}"
        else:
            ff_text = "cannot read"
        trained = "  (trained)" if d <= TRAIN_DIGITS[1] else ""
        log(f"{d:>7} {d + 1:>6} {acc:>8.1%} {ff_text:>14}{trained}")
        if d == 100:
            acc100 = acc
    plot = os.path.join(out_dir, "accuracy_by_length.png")
    try:
        from .plots import accuracy_by_length
        accuracy_by_length(plot, {"RNN (bptt)": rnn_curve, "feed-forward (4-digit width)": ff_curve},
                           train_range=TRAIN_DIGITS, xlabel="digits per number",
                           title="Trained on 1-4 digit additions")
        log(f"\nplot: {plot}")
    except RuntimeError as e:
        log(f"\nno plot: {e}")
    log(f"model: {out}")
    log(f"The RNN adds {TEST_DIGITS[-1]}-digit numbers with {acc100:.1%} of sums exactly right after training only on "
        f"{TRAIN_DIGITS[0]}-{TRAIN_DIGITS[1]} digits; the feed-forward net has {width} input positions and cannot read "
        f"a {TRAIN_DIGITS[1] + 1}-digit number.  (training {t_train:.0f}s, total {time.perf_counter() - t0:.0f}s)")
    return {"rnn": rnn_curve, "feedforward": ff_curve, "model": out, "plot": plot}


def addition_example_padded(row, width):
    """Re-encode a (text, target) addition row with zero digit pairs up to ``width`` digits."""
    toks, tags = row[0].split(), row[1].split()
    extra = width - (len(toks) - 1)  # leading zeros: more zero digit pairs, more zero sum digits
    return " ".join(toks + ["00"] * extra), " ".join(tags + ["0"] * extra)
