"""SGD (momentum), Adam and clipping against torch.optim on the same gradients."""

import numpy as np
import pytest

from bptt import SGD, Adam, clip_grad_norm

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "adam"])
def test_updates_equal_torch(name):
    rng = np.random.default_rng(0)
    p = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    tp = [torch.tensor(p["a"].copy(), requires_grad=True), torch.tensor(p["b"].copy(), requires_grad=True)]
    if name == "sgd":
        opt, topt = SGD(lr=0.1), torch.optim.SGD(tp, lr=0.1)
    elif name == "sgd_momentum":
        opt, topt = SGD(lr=0.1, momentum=0.9), torch.optim.SGD(tp, lr=0.1, momentum=0.9)
    else:
        opt, topt = Adam(lr=0.01, eps=1e-8), torch.optim.Adam(tp, lr=0.01, eps=1e-8)
    for _ in range(5):
        g = {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
        opt.step(p, g)
        tp[0].grad, tp[1].grad = torch.tensor(g["a"]), torch.tensor(g["b"])
        topt.step()
    # Adam's eps enters after bias correction in torch; the two forms differ by O(eps)
    tol = 1e-6 if name == "adam" else 1e-12
    np.testing.assert_allclose(p["a"], tp[0].detach().numpy(), atol=tol)
    np.testing.assert_allclose(p["b"], tp[1].detach().numpy(), atol=tol)


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "adam"])
def test_weight_decay_equals_torch_on_the_matrices_only(name):
    """Weight decay against torch.optim.AdamW (decoupled) and torch.optim.SGD(weight_decay=) (L2), given
    the matrices in a group with the decay and the vectors (biases, s0) in one without."""
    rng = np.random.default_rng(2)
    p = {"W_s": rng.standard_normal((3, 4)), "b_s": rng.standard_normal(4), "E": rng.standard_normal((5, 2))}
    tp = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in p.items()}
    groups = [{"params": [tp["W_s"], tp["E"]], "weight_decay": 0.3}, {"params": [tp["b_s"]], "weight_decay": 0.0}]
    if name == "sgd":
        opt, topt = SGD(lr=0.1, weight_decay=0.3), torch.optim.SGD(groups, lr=0.1)
    elif name == "sgd_momentum":
        opt, topt = SGD(lr=0.1, momentum=0.9, weight_decay=0.3), torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    else:
        opt, topt = Adam(lr=0.01, weight_decay=0.3), torch.optim.AdamW(groups, lr=0.01, eps=1e-8)
    start = {k: v.copy() for k, v in p.items()}
    for _ in range(6):
        g = {k: rng.standard_normal(v.shape) for k, v in p.items()}
        opt.step(p, g)
        for k in p:
            tp[k].grad = torch.tensor(g[k])
        topt.step()
    tol = 1e-6 if name == "adam" else 1e-12
    for k in p:
        np.testing.assert_allclose(p[k], tp[k].detach().numpy(), atol=tol, err_msg=k)
    # the decay moved the matrices and left the bias: the same steps without it differ there only
    q = {k: v.copy() for k, v in start.items()}
    plain = SGD(lr=0.1) if name == "sgd" else SGD(lr=0.1, momentum=0.9) if name == "sgd_momentum" else Adam(lr=0.01)
    rng = np.random.default_rng(2)
    [rng.standard_normal(v.shape) for v in start.values()]  # the draws of the start values
    for _ in range(6):
        plain.step(q, {k: rng.standard_normal(v.shape) for k, v in q.items()})
    np.testing.assert_array_equal(q["b_s"], p["b_s"])
    assert np.abs(q["W_s"] - p["W_s"]).max() > 1e-3 and np.abs(p["E"]).sum() < np.abs(q["E"]).sum()


@pytest.mark.parametrize("wd", [-0.1, float("nan"), float("inf"), True, "0.1"])
def test_weight_decay_is_refused_unless_a_finite_number_at_least_0(wd):
    from bptt.train import TrainConfig
    with pytest.raises(ValueError, match="weight_decay must be"):
        Adam(lr=0.01, weight_decay=wd)
    with pytest.raises((ValueError, TypeError), match="weight_decay must be"):
        TrainConfig(weight_decay=wd)


def test_clip_grad_norm_equals_torch():
    rng = np.random.default_rng(1)
    g = {"a": rng.standard_normal((3, 4)) * 5, "b": rng.standard_normal(4)}
    clipped, norm = clip_grad_norm(g, 1.0)
    t = [torch.zeros(3, 4, dtype=torch.float64, requires_grad=True), torch.zeros(4, dtype=torch.float64, requires_grad=True)]
    t[0].grad, t[1].grad = torch.tensor(g["a"]), torch.tensor(g["b"])
    tn = torch.nn.utils.clip_grad_norm_(t, 1.0)
    assert abs(float(norm) - tn.item()) < 1e-12
    np.testing.assert_allclose(clipped["a"], t[0].grad.numpy(), rtol=1e-9)
    small, _ = clip_grad_norm(g, 1e6)  # below the limit: unchanged
    np.testing.assert_array_equal(small["a"], g["a"])


def test_frozen_parameters_do_not_move():
    p = {"E": np.ones(3), "W": np.ones(3)}
    Adam(lr=0.1, frozen=("E",)).step(p, {"E": np.ones(3), "W": np.ones(3)})
    assert np.all(p["E"] == 1) and np.all(p["W"] < 1)
