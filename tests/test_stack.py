"""Stacked and bidirectional layers (bptt.stack): central finite differences in float64, PyTorch's
nn.RNN(num_layers, bidirectional) with pack_padded_sequence on the same weights, and the padding
semantics in both directions (a padded row equals its sequence run alone, pads anywhere)."""

import itertools

import numpy as np
import pytest

from bptt import stack

B, T, D, H = 4, 6, 3, 5
LENGTHS = np.array([6, 2, 4, 1])
PADS = {
    "none": None,
    "right": np.arange(T)[None, :] < LENGTHS[:, None],
    "start_and_middle": np.array([[False, True, True, False, True, True],
                                  [True, False, False, True, False, True],
                                  [True, True, True, True, True, True],
                                  [False, False, True, False, False, False]]),
}


def _params(L, bi, learn_s0, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    p = stack.init(D, H, num_layers=L, bidirectional=bi, learn_s0=learn_s0, rng=rng, dtype=dtype)
    for k in p:
        if k.startswith(("b_s", "s0")):
            p[k] = (0.3 * rng.standard_normal(p[k].shape)).astype(dtype)
    return p


def _loss(p, x, mask, L, bi, R_out, R_fin, drop=None):
    out, fin, cache = stack.forward(p, x, mask=mask, num_layers=L, bidirectional=bi, drop=drop)
    return float(np.sum(out * R_out) + np.sum(fin * R_fin)), cache


@pytest.mark.parametrize("L,bi,learn_s0,pads", [
    (L, bi, s0, pads) for (L, bi), s0, pads in itertools.product(
        [(1, False), (1, True), (2, False), (2, True), (3, True)], [False, True], list(PADS))
    if not (L == 3 and (s0 or pads == "none"))])
def test_gradients_against_central_differences(L, bi, learn_s0, pads):
    rng = np.random.default_rng(1)
    p = _params(L, bi, learn_s0)
    x = rng.standard_normal((B, T, D))
    mask = PADS[pads]
    K = 2 if bi else 1
    R_out, R_fin = rng.standard_normal((B, T, K * H)), rng.standard_normal((L * K, B, H))
    drop = [(rng.random((B, T, K * H)) > 0.3) / 0.7 for _ in range(L - 1)] if L > 1 else None
    _, cache = _loss(p, x, mask, L, bi, R_out, R_fin, drop)
    grads, dx = stack.backward(p, cache, R_out, d_final=R_fin)
    eps = 1e-6

    def numeric(arr, idx):
        old = arr[idx]
        arr[idx] = old + eps
        lp = _loss(p, x, mask, L, bi, R_out, R_fin, drop)[0]
        arr[idx] = old - eps
        lm = _loss(p, x, mask, L, bi, R_out, R_fin, drop)[0]
        arr[idx] = old
        return (lp - lm) / (2 * eps)

    worst = 0.0
    for name, arr in list(p.items()) + [("x", x)]:
        g = dx if name == "x" else grads[name]
        for idx in itertools.islice(np.ndindex(arr.shape), 0, None, max(1, arr.size // 12)):
            n = numeric(arr, idx)
            worst = max(worst, abs(n - g[idx]) / max(1.0, abs(n)))
    assert worst < 1e-6, worst


def test_each_row_equals_its_sequence_run_alone_in_both_directions():
    """Pads at the end, the start and the middle change nothing: a row's outputs at its real steps
    and its final states equal those of its real steps run alone, in both directions (1e-12)."""
    rng = np.random.default_rng(2)
    p = _params(2, True, True)
    x = rng.standard_normal((B, T, D))
    for name, mask in PADS.items():
        if mask is None:
            continue
        out, fin, _ = stack.forward(p, x, mask=mask, num_layers=2, bidirectional=True)
        for b in range(B):
            real = np.flatnonzero(mask[b])
            alone, fin_alone, _ = stack.forward(p, x[b:b + 1, real], num_layers=2, bidirectional=True)
            np.testing.assert_allclose(out[b, real], alone[0], rtol=0, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(fin[:, b], fin_alone[:, 0], rtol=0, atol=1e-12, err_msg=name)
            if real[0] > 0:  # before its first real step the forward state is s0; the reverse carries its final
                np.testing.assert_allclose(out[b, : real[0], H:], np.broadcast_to(fin[3, b], (real[0], H)),
                                           rtol=0, atol=0)
    lengths_out = stack.forward(p, x, lengths=LENGTHS, num_layers=2, bidirectional=True)
    mask_out = stack.forward(p, x, mask=PADS["right"], num_layers=2, bidirectional=True)
    np.testing.assert_array_equal(lengths_out[0], mask_out[0])
    np.testing.assert_array_equal(stack.top_final(lengths_out[0], True), np.concatenate(
        [lengths_out[1][2], lengths_out[1][3]], axis=-1))


def _torch_pair(torch, p, L, bi, dtype):
    rnn = torch.nn.RNN(D, H, num_layers=L, bidirectional=bi, batch_first=True, dtype=dtype)
    with torch.no_grad():
        for k in range(L):
            for sfx in ([f"l{k}", f"l{k}_reverse"] if bi else [f"l{k}"]):
                W = p[f"W_s_{sfx}"]
                getattr(rnn, f"weight_hh_{sfx}").copy_(torch.tensor(W[:H].T.copy()))
                getattr(rnn, f"weight_ih_{sfx}").copy_(torch.tensor(W[H:].T.copy()))
                getattr(rnn, f"bias_ih_{sfx}").copy_(torch.tensor(p[f"b_s_{sfx}"]))
                getattr(rnn, f"bias_hh_{sfx}").zero_()
    return rnn


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_pytorch_parity_two_layers_bidirectional_packed(dtype, tol):
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    L, bi = 2, True
    p = _params(L, bi, False, seed=3, dtype=dtype)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((B, T, D)).astype(dtype)
    R_out = rng.standard_normal((B, T, 2 * H)).astype(dtype) * (np.arange(T)[None, :, None] < LENGTHS[:, None, None])
    R_fin = rng.standard_normal((2 * L, B, H)).astype(dtype)
    out, fin, cache = stack.forward(p, x, lengths=LENGTHS, num_layers=L, bidirectional=bi)
    grads, dx = stack.backward(p, cache, R_out, d_final=R_fin)

    tdt = torch.float64 if dtype == np.float64 else torch.float32
    net = _torch_pair(torch, p, L, bi, tdt)
    xt = torch.tensor(x, requires_grad=True)
    packed = pack_padded_sequence(xt, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    out_p, h_n = net(packed)
    out_t, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)
    (torch.sum(out_t * torch.tensor(R_out)) + torch.sum(h_n * torch.tensor(R_fin))).backward()

    real = np.arange(T)[None, :] < LENGTHS[:, None]
    scale = lambda a: max(1.0, float(np.max(np.abs(a))))  # noqa: E731
    assert np.max(np.abs(out[real] - out_t.detach().numpy()[real])) < tol
    assert np.max(np.abs(fin - h_n.detach().numpy())) < tol
    assert np.max(np.abs(dx - xt.grad.numpy())) / scale(dx) < tol
    for k in range(L):
        for sfx in (f"l{k}", f"l{k}_reverse"):
            want = np.concatenate([getattr(net, f"weight_hh_{sfx}").grad.numpy().T,
                                   getattr(net, f"weight_ih_{sfx}").grad.numpy().T])
            assert np.max(np.abs(grads[f"W_s_{sfx}"] - want)) / scale(want) < tol, sfx
            want_b = getattr(net, f"bias_ih_{sfx}").grad.numpy()
            assert np.max(np.abs(grads[f"b_s_{sfx}"] - want_b)) / scale(want_b) < tol, sfx


def test_bad_arguments_are_named():
    p = _params(2, True, False)
    x = np.zeros((B, T, D))
    with pytest.raises(ValueError, match="num_layers must be a positive integer, got 0"):
        stack.forward(p, x, num_layers=0)
    with pytest.raises(ValueError, match=r"s_init must have shape \[L\*K, B, S\] = \[4, 4, S\]"):
        stack.forward(p, x, num_layers=2, bidirectional=True, s_init=np.zeros((2, B, H)))
    with pytest.raises(ValueError, match="one mask per connection between layers"):
        stack.forward(p, x, num_layers=2, bidirectional=True, drop=[])
    with pytest.raises(ValueError, match=r"not those of a stack of 3 layer\(s\), bidirectional=True.*missing \['W_s_l2'"):
        stack.forward(p, x, num_layers=3, bidirectional=True)
    with pytest.raises(ValueError, match=r"bidirectional=False, cell='rnn': unknown \['W_s_l0_reverse'"):
        stack.forward(p, x, num_layers=2, bidirectional=False)  # before: an input-size error of layer 1
    with pytest.raises(ValueError, match=r"cell='gru': missing \['b_hn_l0'"):
        stack.forward(p, x, num_layers=2, bidirectional=True, cell="gru")
    with pytest.raises(TypeError, match="params must be a dict of arrays"):
        stack.forward(None, x, num_layers=2, bidirectional=True)
    assert stack.param_names(2, True, learn_s0=True)[:4] == ["W_s_l0", "b_s_l0", "s0_l0", "W_s_l0_reverse"]


def test_a_backward_pass_names_a_cache_it_cannot_use():
    from bptt import recurrent, rnn
    p = rnn.init(D, H, rng=np.random.default_rng(0))
    for f, made_by in ((rnn.backward, "bptt.rnn.forward"), (recurrent.backward, "bptt.recurrent.forward")):
        for cache in (None, {}, {"X": 1}):
            with pytest.raises(TypeError, match=f"cache must be the cache that {made_by} returned"):
                f(p, cache, d_last=np.ones((B, H)))
