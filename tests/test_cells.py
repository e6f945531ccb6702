"""Gated cells (bptt.cells, bptt.recurrent): the GRU and the LSTM against central finite
differences in float64, against torch.nn.GRU / torch.nn.LSTM (2 layers, bidirectional,
pack_padded_sequence) on the same weights, and the padding semantics (a padded row equals its
sequence run alone, with pads anywhere, in both directions, h and c carried)."""

import itertools

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig, cells, gradcheck, recurrent, stack

B, T, D, H = 4, 6, 3, 4
LENGTHS = np.array([6, 2, 4, 1])
PADS = {
    "right": np.arange(T)[None, :] < LENGTHS[:, None],
    "start_and_middle": np.array([[False, True, True, False, True, True],
                                  [True, False, False, True, False, True],
                                  [True, True, True, True, True, True],
                                  [False, False, True, False, False, False]]),
}
CELLS = ["gru", "lstm"]


def _params(cell, L, bi, learn_s0, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    p = stack.init(D, H, num_layers=L, bidirectional=bi, learn_s0=learn_s0, cell=cell, rng=rng, dtype=dtype)
    for k in p:
        if not k.startswith("W_s"):  # biases and initial states away from zero, so that each one matters
            p[k] = (p[k] + 0.3 * rng.standard_normal(p[k].shape)).astype(dtype)
    return p


def _loss(p, x, mask, cell, L, bi, R_out, R_fin):
    out, fin, cache = stack.forward(p, x, mask=mask, num_layers=L, bidirectional=bi, cell=cell)
    return float(np.sum(out * R_out) + np.sum(fin[..., :H] * R_fin)), cache


@pytest.mark.parametrize("cell,L,bi,learn_s0,pads", list(itertools.product(
    CELLS, [1, 2], [False, True], [False, True], list(PADS))))
def test_gradients_against_central_differences(cell, L, bi, learn_s0, pads):
    rng = np.random.default_rng(1)
    p = _params(cell, L, bi, learn_s0)
    x = rng.standard_normal((B, T, D))
    mask = PADS[pads]
    K = 2 if bi else 1
    R_out, R_fin = rng.standard_normal((B, T, K * H)), rng.standard_normal((L * K, B, H))
    _, cache = _loss(p, x, mask, cell, L, bi, R_out, R_fin)
    grads, dx = stack.backward(p, cache, R_out, d_final=R_fin)
    assert sorted(grads) == sorted(p)
    eps = 1e-6

    def numeric(arr, idx):
        old = arr[idx]
        arr[idx] = old + eps
        lp = _loss(p, x, mask, cell, L, bi, R_out, R_fin)[0]
        arr[idx] = old - eps
        lm = _loss(p, x, mask, cell, L, bi, R_out, R_fin)[0]
        arr[idx] = old
        return (lp - lm) / (2 * eps)

    for name, arr in list(p.items()) + [("x", x)]:
        g = dx if name == "x" else grads[name]
        idx = list(itertools.islice(np.ndindex(arr.shape), 0, None, max(1, arr.size // 10)))
        num = np.array([numeric(arr, i) for i in idx])
        ana = np.array([g[i] for i in idx])
        assert np.max(np.abs(num - ana)) <= 1e-6 * max(1.0, np.max(np.abs(num))), name


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("head,bi,L", [("many_to_one", True, 2), ("many_to_many", True, 1),
                                       ("many_to_one", False, 1), ("many_to_many", False, 2)])
def test_model_gradients_against_central_differences(cell, head, bi, L):
    """The whole model (embedding, gated stack, head) through bptt.gradcheck, with learned
    initial states and dropout between layers off (gradcheck needs a deterministic loss)."""
    cfg = ModelConfig(vocab_size=7, embed_dim=3, hidden_size=4, output_size=3, head=head, cell=cell,
                      num_layers=L, bidirectional=bi, learn_s0=True, dtype="float64")
    m = Model(cfg, rng=np.random.default_rng(2))
    for k in m.params:
        if k.startswith(("s0", "c0", "b_")):
            m.params[k] = m.params[k] + 0.2 * np.random.default_rng(3).standard_normal(m.params[k].shape)
    rng = np.random.default_rng(4)
    x = rng.integers(1, 7, (B, T))
    y = rng.integers(0, 3, (B,) if head == "many_to_one" else (B, T))
    report = gradcheck(m, Batch(x=x, y=y, lengths=LENGTHS), max_entries=25)
    assert max(report.values()) < 1e-6, report


def _torch_net(torch, cell, p, L, bi, dtype):
    net = (torch.nn.GRU if cell == "gru" else torch.nn.LSTM)(D, H, num_layers=L, bidirectional=bi,
                                                            batch_first=True, dtype=dtype)
    with torch.no_grad():  # the mapping documented in bptt.cells.gru / bptt.cells.lstm
        for k in range(L):
            for sfx in ([f"l{k}", f"l{k}_reverse"] if bi else [f"l{k}"]):
                W = p[f"W_s_{sfx}"]
                getattr(net, f"weight_hh_{sfx}").copy_(torch.tensor(W[:H].T.copy()))
                getattr(net, f"weight_ih_{sfx}").copy_(torch.tensor(W[H:].T.copy()))
                getattr(net, f"bias_ih_{sfx}").copy_(torch.tensor(p[f"b_s_{sfx}"]))
                b_hh = np.zeros_like(p[f"b_s_{sfx}"])
                if cell == "gru":
                    b_hh[2 * H:] = p[f"b_hn_{sfx}"]
                getattr(net, f"bias_hh_{sfx}").copy_(torch.tensor(b_hh))
    return net


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_pytorch_parity_two_layers_bidirectional_packed(cpu_mode, cell, dtype, tol):
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    L, bi = 2, True
    p = _params(cell, L, bi, False, seed=3, dtype=dtype)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((B, T, D)).astype(dtype)
    real = np.arange(T)[None, :] < LENGTHS[:, None]
    R_out = rng.standard_normal((B, T, 2 * H)).astype(dtype) * real[..., None]
    R_h = rng.standard_normal((2 * L, B, H)).astype(dtype)
    out, fin, cache = stack.forward(p, x, lengths=LENGTHS, num_layers=L, bidirectional=bi, cell=cell)
    grads, dx = stack.backward(p, cache, R_out, d_final=R_h)

    tdt = torch.float64 if dtype == np.float64 else torch.float32
    net = _torch_net(torch, cell, p, L, bi, tdt)
    xt = torch.tensor(x, requires_grad=True)
    packed = pack_padded_sequence(xt, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    out_p, h_n = net(packed)
    c_n = None
    if cell == "lstm":
        h_n, c_n = h_n
    out_t, _ = pad_packed_sequence(out_p, batch_first=True, total_length=T)
    (torch.sum(out_t * torch.tensor(R_out)) + torch.sum(h_n * torch.tensor(R_h))).backward()

    def close(a, b, what):
        assert np.max(np.abs(a - b)) <= tol * max(1.0, float(np.max(np.abs(b)))), what

    close(out[real], out_t.detach().numpy()[real], "outputs")
    close(fin[..., :H], h_n.detach().numpy(), "h_n")
    if cell == "lstm":
        close(fin[..., H:], c_n.detach().numpy(), "c_n")
    close(dx, xt.grad.numpy(), "dx")
    for k in range(L):
        for sfx in (f"l{k}", f"l{k}_reverse"):
            want_W = np.concatenate([getattr(net, f"weight_hh_{sfx}").grad.numpy().T,
                                     getattr(net, f"weight_ih_{sfx}").grad.numpy().T])
            close(grads[f"W_s_{sfx}"], want_W, f"W_s_{sfx}")
            g_ih, g_hh = getattr(net, f"bias_ih_{sfx}").grad.numpy(), getattr(net, f"bias_hh_{sfx}").grad.numpy()
            close(grads[f"b_s_{sfx}"], g_ih, f"b_s_{sfx}")
            if cell == "gru":
                close(grads[f"b_hn_{sfx}"], g_hh[2 * H:], f"b_hn_{sfx}")
            else:
                close(grads[f"b_s_{sfx}"], g_hh, f"b_s_{sfx} (hh)")


@pytest.mark.parametrize("cell", CELLS)
def test_each_row_equals_its_sequence_run_alone(cpu_mode, cell):
    """Padded to the longest, to the longest + 17, and with pads at the start and in the middle:
    each row's outputs, final h and c, and its share of the gradients equal its sequence run alone."""
    rng = np.random.default_rng(5)
    p = _params(cell, 2, True, True)
    x = rng.standard_normal((B, T + 17, D))
    masks = {"right": np.arange(T + 17)[None] < LENGTHS[:, None],
             "right+17": np.arange(T + 17)[None] < (LENGTHS + 17)[:, None],
             "start_and_middle": np.concatenate([PADS["start_and_middle"], np.zeros((B, 17), bool)], axis=1)}
    for name, mask in masks.items():
        out, fin, cache = stack.forward(p, x, mask=mask, num_layers=2, bidirectional=True, cell=cell)
        d_out = rng.standard_normal(out.shape) * mask[..., None]
        grads, dx = stack.backward(p, cache, d_out)
        total = {k: np.zeros_like(v) for k, v in p.items()}
        for b in range(B):
            real = np.flatnonzero(mask[b])
            alone, fin_alone, c1 = stack.forward(p, x[b:b + 1, real], num_layers=2, bidirectional=True, cell=cell)
            np.testing.assert_allclose(out[b, real], alone[0], rtol=0, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(fin[:, b], fin_alone[:, 0], rtol=0, atol=1e-12, err_msg=name)
            g1, dx1 = stack.backward(p, c1, d_out[b:b + 1, real])
            np.testing.assert_allclose(dx[b, real], dx1[0], rtol=0, atol=1e-12, err_msg=name)
            assert np.all(dx[b, ~mask[b]] == 0), name  # a pad step's input reaches nothing
            for k in total:
                total[k] += g1[k]
        for k in total:  # the batch's gradient is the sum of its rows' gradients
            np.testing.assert_allclose(grads[k], total[k], rtol=0, atol=1e-11, err_msg=f"{name} {k}")


@pytest.mark.parametrize("cell", ["rnn"] + CELLS)
@pytest.mark.parametrize("side", ["right", "left"])
def test_fast_paths_and_mask_path_agree(cpu_mode, cell, side):
    """Rows whose real steps at each step are rows 0..k-1 (lengths sorted longest first, that mask,
    or pads first with the longest rows first, as in a bidirectional layer's reversed batch) take
    the loops that compute only the real rows of each step; they give what the general masked
    loop gives on the same rows in an order that is not of that form."""
    rng = np.random.default_rng(6)
    p = recurrent.init(D, H, cell=cell, learn_s0=True, rng=rng, dtype=np.float64)
    x = rng.standard_normal((B, T, D))
    mask = PADS["right"] if side == "right" else PADS["right"][:, ::-1]
    d = rng.standard_normal((B, T, H)) * mask[..., None]
    d_last = rng.standard_normal((B, H))
    longest = np.argsort(-LENGTHS, kind="stable")
    mixed = np.array([1, 0, 3, 2])  # real rows of a step not 0..k-1
    calls = [(longest, {"mask": mask[longest]}, True), (mixed, {"mask": mask[mixed]}, False)]
    if side == "right":
        calls.append((longest, {"lengths": LENGTHS[longest]}, True))
    runs = []
    for order, kw, fast in calls:
        st, c = recurrent.forward(p, x[order], cell=cell, **kw)
        assert (c["real_rows"] is not None) == fast, kw
        g, dx, n = recurrent.backward(p, c, d[order], d_last=d_last[order], step_norms=True)
        back = np.argsort(order)
        runs.append((st[back], recurrent.final_state(c)[back], g, dx[back], n))
    for run in runs[1:]:
        for a, b in zip(runs[0], run):
            if isinstance(a, dict):
                for k in a:
                    np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-13)
            else:
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)


@pytest.mark.parametrize("cell", CELLS)
def test_step_norms_are_the_norms_of_the_state_gradients(cell):
    """step_norms[t] = |dLoss/ds^t| over the batch, s^t the whole carried state: checked against
    finite differences of the loss with respect to a perturbation added to s^t."""
    rng = np.random.default_rng(7)
    p = recurrent.init(D, H, cell=cell, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 4, D))
    d = rng.standard_normal((2, 4, H))
    st, c = recurrent.forward(p, x, cell=cell)
    _, _, norms = recurrent.backward(p, c, d, step_norms=True)
    SW = cells.state_parts(cell) * H
    for t in range(4):  # run steps t+1.. from a perturbed s^t; the loss counts the outputs from step t on
        s_t = recurrent.final_state(recurrent.forward(p, x[:, :t + 1], cell=cell)[1])

        def loss(s):
            later = recurrent.forward(p, x[:, t + 1:], cell=cell, s_init=s)[0] if t < 3 else None
            own = np.sum(s[:, :H] * d[:, t])
            return own + (0.0 if later is None else float(np.sum(later * d[:, t + 1:])))

        g = np.zeros((2, SW))
        for i in np.ndindex(g.shape):
            e = np.zeros((2, SW))
            e[i] = 1e-6
            g[i] = (loss(s_t + e) - loss(s_t - e)) / 2e-6
        assert abs(np.linalg.norm(g) - norms[t]) < 1e-6 * max(1.0, norms[t])


def test_lstm_forget_bias_starts_at_one_and_gates_are_torch_ordered():
    p = recurrent.init(3, 5, cell="lstm", rng=np.random.default_rng(0))
    np.testing.assert_array_equal(p["b_s"], np.r_[np.zeros(5), np.ones(5), np.zeros(10)].astype(np.float32))
    assert p["W_s"].shape == (8, 20) and p["W_s"].dtype == np.float32
    g = recurrent.init(3, 5, cell="gru", learn_s0=True, rng=np.random.default_rng(0))
    assert {k: v.shape for k, v in g.items()} == {"W_s": (8, 15), "b_s": (15,), "b_hn": (5,), "s0": (5,)}


def test_lstm_chrono_init_spreads_the_forget_biases_over_the_memory_lengths():
    """chrono=N: forget biases log(u), u ~ U(1, N - 1), the input gate's their negatives (Tallec & Ollivier
    2018), the other biases 0 and the weights the same draws as with a forget bias of 1; a stacked
    bidirectional model passes it to every level and direction; refused for other cells and N < 3."""
    H = 512
    p = recurrent.init(3, H, cell="lstm", rng=np.random.default_rng(0), chrono=40, dtype=np.float64)
    q = recurrent.init(3, H, cell="lstm", rng=np.random.default_rng(0), dtype=np.float64)
    np.testing.assert_array_equal(p["W_s"], q["W_s"])
    b_i, b_f, rest = p["b_s"][:H], p["b_s"][H:2 * H], p["b_s"][2 * H:]
    u = np.exp(b_f)  # U(1, 39): mean 20, sd 38 / sqrt(12) = 11 (0.5 for the mean of H = 512)
    assert u.min() >= 1 and u.max() <= 39 and abs(u.mean() - 20) < 2.5 and 9 < u.std() < 13
    np.testing.assert_array_equal(b_i, -b_f)
    assert not rest.any()
    m = Model(ModelConfig(vocab_size=5, hidden_size=6, cell="lstm", num_layers=2, bidirectional=True,
                          chrono_init=10), rng=np.random.default_rng(1))
    forget = [v[6:12] for k, v in m.params.items() if k.startswith("b_s")]
    assert len(forget) == 4 and all(0 <= f.min() and f.max() <= np.log(9) + 1e-6 and f.std() > 0 for f in forget)
    for bad in (dict(cell="gru", chrono=40), dict(cell="lstm", chrono=2)):
        with pytest.raises(ValueError, match="chrono"):
            recurrent.init(3, 5, rng=np.random.default_rng(0), **bad)
    for bad in (dict(cell="rnn", chrono_init=40), dict(cell="lstm", chrono_init=2), dict(cell="lstm", chrono_init=True),
                dict(cell="lstm", chrono_init=-3)):
        with pytest.raises(ValueError, match="chrono_init"):
            ModelConfig(vocab_size=5, **bad)
    assert "chrono_init" not in ModelConfig(vocab_size=5, cell="lstm").to_dict()  # files as an earlier bptt wrote
    cfg = ModelConfig(vocab_size=5, cell="lstm", chrono_init=40)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_bad_arguments_are_named():
    rng = np.random.default_rng(0)
    p = recurrent.init(3, 4, cell="gru", rng=rng)
    x = np.zeros((2, 5, 3), np.float32)
    with pytest.raises(ValueError, match="cell='xyz' is not known"):
        recurrent.forward(p, x, cell="xyz")
    with pytest.raises(ValueError, match="activation='relu' is for the tutorial's cell"):
        recurrent.forward(p, x, cell="gru", activation="relu")
    with pytest.raises(TypeError, match="need 'b_hn'"):
        recurrent.forward({k: v for k, v in p.items() if k != "b_hn"}, x, cell="gru")
    with pytest.raises(TypeError, match=r"params hold \['b_hn'\], which a lstm cell does not have"):
        recurrent.forward(p, x, cell="lstm")
    with pytest.raises(ValueError, match=r"W_s'\] of a gru cell must have shape \[H \+ D, 3\*H\]"):
        recurrent.forward({**p, "W_s": np.zeros((7, 10), np.float32)}, x, cell="gru")
    with pytest.raises(ValueError, match="x has input size D = 2"):
        recurrent.forward(p, np.zeros((2, 5, 2), np.float32), cell="gru")
    lp = recurrent.init(3, 4, cell="lstm", rng=rng)
    with pytest.raises(ValueError, match=r"s_init must have shape \[B, S\] = \[2, 8\]"):
        recurrent.forward(lp, x, cell="lstm", s_init=np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="cell='transformer' is not known"):
        ModelConfig(input_size=3, cell="transformer")
    with pytest.raises(ValueError, match="activation='relu' is the tutorial cell's f_s; the lstm cell"):
        ModelConfig(input_size=3, cell="lstm", activation="relu")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_forward_keeps_the_gates_in_the_input_products(cell):
    """What a gated cell's NumPy forward keeps for BPTT: the inputs X [T*B, D], U [T, B, G*H]
    (which holds the gates after the step), the states S [T+1, B, S] and one [T, B, H] buffer
    (the LSTM's tanh(c^t), the GRU's p_n + b_hn), counted by tracemalloc: a separate gate
    buffer, as before 2026-12-01, held 4 T B H (LSTM) or 3 T B H (GRU) more."""
    from benchmarks.lstm_memory import measure

    B, T, D, H = 16, 40, 24, 64
    G, SW = (4, 2 * H) if cell == "lstm" else (3, H)
    measure(cell, B, T, D, H)  # the first call imports what the layer imports lazily
    held, _ = measure(cell, B, T, D, H)
    want = 4 * (T * B * D + T * B * G * H + (T + 1) * B * SW + T * B * H)
    assert want <= held < want + 4 * T * B * H // 2, (held, want)
