"""Class weights (``class_weights=``, ``--class-weights``): each position's loss times its target
class's weight, divided by the count of positions.  Checked against central differences (float64),
against PyTorch's ``cross_entropy(weight=...)`` (per position, as bptt sums them), for padding
invariance, for the split of a batch into shards, and end to end on the command line."""

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig
from bptt.losses import softmax_cross_entropy
from bptt.train import SeqData, TrainConfig, balanced_class_weights, train
from conftest import central_diff, run

C = 4
W = np.array([0.5, 3.0, 1.0, 0.0])  # one class weighted 0: its positions teach nothing


@pytest.mark.parametrize("masked", [False, True])
def test_weighted_loss_gradient_equals_central_differences_and_torch(masked):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((3, 5, C))
    t = rng.integers(0, C, (3, 5))
    mask = (np.arange(5)[None, :] < np.array([5, 2, 4])[:, None]) if masked else None
    loss, d = softmax_cross_entropy(logits, t, mask, class_weights=W)
    g = central_diff(lambda: softmax_cross_entropy(logits, t, mask, class_weights=W)[0], {"logits": logits})["logits"]
    np.testing.assert_allclose(d, g, rtol=1e-6, atol=1e-9)
    # torch: the weighted per-position losses (reduction="none"), summed over the counted positions / their count
    tl = torch.tensor(logits, requires_grad=True)
    per = torch.nn.functional.cross_entropy(tl.reshape(-1, C), torch.from_numpy(t.reshape(-1)),
                                            weight=torch.from_numpy(W), reduction="none")
    m = torch.ones(15, dtype=torch.float64) if mask is None else torch.from_numpy(mask.reshape(-1).astype(float))
    ref = (per * m).sum() / m.sum()
    ref.backward()
    assert abs(float(loss) - ref.item()) < 1e-12
    np.testing.assert_allclose(d, tl.grad.numpy(), atol=1e-12)
    # all weights 1: the plain loss
    np.testing.assert_allclose(softmax_cross_entropy(logits, t, mask, class_weights=np.ones(C))[1],
                               softmax_cross_entropy(logits, t, mask)[1], atol=1e-15)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("head", ["many_to_one", "many_to_many"])
def test_a_model_trained_with_class_weights_has_exact_gradients_that_pads_do_not_change(cell, head):
    rng = np.random.default_rng(1)
    m = Model(ModelConfig(vocab_size=9, embed_dim=3, hidden_size=4, output_size=C, cell=cell, head=head,
                          bidirectional=head == "many_to_many", dtype="float64"), rng=rng)
    L = np.array([5, 2, 4])
    x = rng.integers(2, 9, (3, 5)) * (np.arange(5)[None, :] < L[:, None])
    y = rng.integers(0, C, (3, 5) if head == "many_to_many" else (3,))
    b = Batch(x=x, y=y, lengths=L)
    loss, grads = m.loss_and_grads(b, class_weights=W)
    for k in ("W_o", "b_o", "E"):
        g = central_diff(lambda: m.loss_and_grads(b, class_weights=W)[0], {k: m.params[k]})[k]
        np.testing.assert_allclose(grads[k], g, rtol=1e-6, atol=1e-9, err_msg=k)
    # padded to the longest + 17: the same loss and gradients
    x17 = np.pad(x, ((0, 0), (0, 17)))
    y17 = np.pad(y, ((0, 0), (0, 17))) if head == "many_to_many" else y
    loss17, grads17 = m.loss_and_grads(Batch(x=x17, y=y17, lengths=L), class_weights=W)
    assert abs(float(loss) - float(loss17)) < 1e-12
    for k in grads:
        np.testing.assert_allclose(grads[k], grads17[k], atol=1e-12, err_msg=k)
    # shards of the batch, each its mean times its count, add up to the batch's mean (bptt.distributed)
    count = (lambda lo, hi: int(L[lo:hi].sum())) if head == "many_to_many" else (lambda lo, hi: hi - lo)
    parts = [(m.loss_and_grads(Batch(x=x[lo:hi], y=y[lo:hi], lengths=L[lo:hi]), class_weights=W), count(lo, hi))
             for lo, hi in ((0, 1), (1, 3))]
    total = sum(c for _, c in parts)
    assert abs(sum(float(p[0]) * c for p, c in parts) / total - float(loss)) < 1e-12
    for k in grads:
        np.testing.assert_allclose(sum(p[1][k] * c for p, c in parts) / total, grads[k], atol=1e-12, err_msg=k)


def test_balanced_weights_and_their_square_root():
    data = SeqData([np.array([2, 3])] * 10, [0] * 6 + [1] * 3 + [2], "classify")
    w = np.array(balanced_class_weights(data, 4))
    np.testing.assert_allclose(w[:3], 10 / (3 * np.array([6, 3, 1])))  # scikit-learn's "balanced": mean 1 already
    assert w[3] == w[:3].max()  # a class never seen: the largest weight
    s = np.array(balanced_class_weights(data, 4, power=0.5))
    r = np.sqrt(10 / (3 * np.array([6, 3, 1])))
    np.testing.assert_allclose(s[:3], r * 10 / np.sum(r * [6, 3, 1]))  # the square root, scaled to a mean of 1
    np.testing.assert_allclose(np.sum(s[:3] * [6, 3, 1]) / 10, 1.0)
    tags = SeqData([np.array([2, 3, 4])] * 2, [np.array([0, 0, 1]), np.array([0, 0, 0])], "tag")  # tokens count
    np.testing.assert_allclose(balanced_class_weights(tags, 2), [6 / (2 * 5), 6 / (2 * 1)])
    with pytest.raises(ValueError, match="power must be in"):
        balanced_class_weights(data, 4, power=2)


@pytest.mark.parametrize("bad", [(1.0, float("nan")), (1.0, -1.0), (0.0, 0.0), (), "ab", 3])
def test_bad_class_weights_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="class_weights"):
        TrainConfig(class_weights=bad)


def test_train_refuses_weights_that_do_not_fit_the_model():
    m = Model(ModelConfig(vocab_size=5, embed_dim=2, hidden_size=3, output_size=2), rng=0)
    data = SeqData([np.array([2, 3])] * 4, [0, 1, 0, 1], "classify")
    with pytest.raises(ValueError, match="class_weights has 3 weights; the model has 2 classes"):
        train(m, data, None, TrainConfig(epochs=1, class_weights=(1, 1, 1)), log=lambda s: None, progress=False)
    mse = Model(ModelConfig(vocab_size=5, embed_dim=2, hidden_size=3, output_size=1, loss="mse"), rng=0)
    with pytest.raises(ValueError, match="softmax output"):
        mse.loss_and_grads(Batch(x=np.array([[2, 3]]), y=np.array([[0.5]]), lengths=np.array([2])), class_weights=[1.0])


def _tag_file(path, rows, seed):
    r = np.random.default_rng(seed)
    lines = []
    for _ in range(rows):
        toks = [f"w{int(r.integers(30))}" for _ in range(int(r.integers(2, 7)))]
        tags = ["rare" if t in ("w1", "w2") else "common" for t in toks]
        lines.append(" ".join(toks) + "\t" + " ".join(tags))
    path.write_text("\n".join(lines) + "\n")


def test_class_weights_on_the_command_line(tmp_path, capsys):
    from bptt import checkpoint
    tr, va = tmp_path / "tr.tsv", tmp_path / "va.tsv"
    _tag_file(tr, 120, 0)
    _tag_file(va, 30, 1)
    common = ["train", "--data", str(tr), "--valid", str(va), "--task", "tag", "--hidden", "4", "--epochs", "3",
              "--quiet"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    rc, o, e = run(capsys, *common, "--class-weights", "balanced", "--out", str(a))
    assert rc == 0, e
    assert "class weights (balanced, from the training tokens): 'rare' " in o, o
    assert "at chance level" not in o, o  # weights trade the common label's accuracy for the rare one's
    saved = checkpoint.load(str(a) + ".last").meta["train_config"]["class_weights"]
    n_rare = sum(t == "rare" for line in tr.read_text().splitlines() for t in line.split("\t")[1].split())
    n = sum(len(line.split("\t")[1].split()) for line in tr.read_text().splitlines())
    labels = checkpoint.load(str(a)).meta["labels"]
    assert saved[labels.index("rare")] == pytest.approx(n / (2 * n_rare))
    # stopped and resumed without the option: the run's weights are kept, and the end is the same
    assert run(capsys, *common, "--class-weights", "balanced", "--out", str(b), "--max-steps", "5")[0] == 0
    rc, _, e = run(capsys, *common, "--out", str(b), "--resume")
    assert rc == 0, e
    pa, pb = checkpoint.load(str(a)).model.params, checkpoint.load(str(b)).model.params
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    rc, _, e = run(capsys, *common, "--out", str(tmp_path / "c.bptt"))  # no weights: another model
    assert rc == 0 and not np.array_equal(checkpoint.load(str(tmp_path / "c.bptt")).model.params["W_o"], pa["W_o"])
    assert run(capsys, *common, "--class-weights", "balanced", "--out", str(b), "--max-steps", "5")[0] == 0
    rc, _, e = run(capsys, *common, "--class-weights", "sqrt", "--out", str(b), "--resume")
    assert rc == 2 and "--class-weights was" in e, e
    rc, _, e = run(capsys, "train", "--data", str(tr), "--task", "regress", "--class-weights", "balanced", "--out",
                   str(tmp_path / "r.bptt"))
    assert rc == 2 and "--class-weights balanced: weighs the labels of classify and tag data" in e, e


def test_no_chance_flag_under_class_weights():
    """The chance flag compares with the most common label's accuracy, which class weights trade away on
    purpose: a model whose common class weighs 0 answers the rare one everywhere, unflagged."""
    m = Model(ModelConfig(vocab_size=6, embed_dim=2, hidden_size=3, output_size=2), rng=0)
    r = np.random.default_rng(0)
    xs = [r.integers(2, 6, int(r.integers(1, 5))) for _ in range(200)]
    ys = [int(i % 20 == 0) for i in range(200)]  # 95% class 0
    data = SeqData(xs, ys, "classify")
    for weights in (None, (0.0, 1.0)):  # unweighted it learns the common class: flagged; weighted, not
        log = []
        train(m, data, data, TrainConfig(epochs=4, lr=0.05, class_weights=weights, chance_epochs=1),
              log=log.append, progress=False)
        assert any("at chance level" in line for line in log) == (weights is None), log


@pytest.mark.parametrize("damaged", [5, ["a", 1.0], [-1.0, 1.0]])
def test_a_resume_whose_saved_class_weights_are_damaged_is_refused_by_name(tmp_path, capsys, damaged):
    from bptt import checkpoint
    tr = tmp_path / "tr.tsv"
    _tag_file(tr, 60, 0)
    common = ["train", "--data", str(tr), "--task", "tag", "--hidden", "4", "--epochs", "3", "--quiet",
              "--out", str(tmp_path / "m.bptt")]
    assert run(capsys, *common, "--class-weights", "sqrt", "--max-steps", "2")[0] == 0
    last = str(tmp_path / "m.bptt.last")
    ck = checkpoint.load(last)
    ck.meta["train_config"]["class_weights"] = damaged
    checkpoint.save(last, ck.model, meta=ck.meta, opt_state=ck.opt_state)
    rc, _, e = run(capsys, *common, "--resume")
    assert rc == 2 and "class weights are damaged" in e, e
