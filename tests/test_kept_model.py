"""`bptt.train.train` leaves the model as the one it kept (the best on validation, the one saved to
`out`), not as its last step: a Python user's model after a patience stop is the good one."""

import numpy as np

from bptt import Model, ModelConfig, checkpoint
from bptt.train import SeqData, TrainConfig, evaluate, train


def _data(seed, n, shuffled=False):
    rng = np.random.default_rng(seed)
    xs = [rng.integers(2, 4, int(rng.integers(1, 9))) for _ in range(n)]
    ys = [int((x == 3).sum() % 2) for x in xs]
    if shuffled:  # labels no rule gives: validation scores wander from epoch to epoch
        ys = list(rng.permutation(ys))
    return SeqData(xs, ys, "classify")


def _model():
    return Model(ModelConfig(vocab_size=4, embed_dim=4, hidden_size=8, output_size=2), rng=0)


CFG = TrainConfig(epochs=12, lr=0.03, batch_size=16, stop_perfect=0)


def _best(history):
    return max(history, key=lambda h: (h["valid_accuracy"], -h["valid_loss"]))


def test_the_model_ends_with_the_best_epochs_weights_without_out():
    tr, va = _data(0, 200), _data(1, 120, shuffled=True)
    model = _model()
    hist = train(model, tr, va, CFG, log=lambda *_: None, progress=False)
    best = _best(hist)
    assert best is not hist[-1]  # else this test could not tell the two apart
    m = evaluate(model, va)
    assert m["accuracy"] == best["valid_accuracy"]
    assert abs(m["loss"] - best["valid_loss"]) < 1e-6


def test_the_model_ends_as_the_file_saved_to_out_also_after_a_resume(tmp_path):
    tr, va = _data(0, 200), _data(1, 120, shuffled=True)
    out = str(tmp_path / "m.bptt")
    model = _model()
    train(model, tr, va, CFG, out=out, log=lambda *_: None, progress=False)
    saved = checkpoint.load(out).model.params
    for k in saved:
        np.testing.assert_array_equal(model.params[k], saved[k], err_msg=k)
    # stopped after the best epoch, then resumed: the resumed run improves on nothing, and ends as OUT
    hist = train(_model(), tr, va, CFG, log=lambda *_: None, progress=False)
    best_epoch = int(_best(hist)["epoch"])
    out2 = str(tmp_path / "r.bptt")
    steps = int(hist[best_epoch - 1]["step"]) + 3  # a few steps into the epoch after the best
    train(_model(), tr, va, TrainConfig(**{**CFG.__dict__, "max_steps": steps}), out=out2, log=lambda *_: None,
          progress=False)
    resumed = _model()
    train(resumed, tr, va, CFG, out=out2, resume=True, log=lambda *_: None, progress=False)
    for k in saved:
        np.testing.assert_array_equal(resumed.params[k], saved[k], err_msg=k)


def test_a_resume_whose_out_file_was_damaged_since_still_ends_without_an_error(tmp_path):
    tr, va = _data(0, 200), _data(1, 120, shuffled=True)
    hist = train(_model(), tr, va, CFG, log=lambda *_: None, progress=False)
    out = str(tmp_path / "r.bptt")
    steps = int(hist[int(_best(hist)["epoch"]) - 1]["step"]) + 3
    train(_model(), tr, va, TrainConfig(**{**CFG.__dict__, "max_steps": steps}), out=out, log=lambda *_: None,
          progress=False)
    with open(out, "r+b") as f:  # damaged after the stop: the resumed run cannot read its weights back
        f.truncate(100)
    resumed = _model()
    history = train(resumed, tr, va, CFG, out=out, resume=True, log=lambda *_: None, progress=False)
    assert len(history) == CFG.epochs
    last = checkpoint.load(out + ".last").model.params  # it ends as its last step left it
    for k in last:
        np.testing.assert_array_equal(resumed.params[k], last[k], err_msg=k)
