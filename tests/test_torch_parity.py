"""States and gradients equal torch.nn.RNN's (run with pack_padded_sequence) on the same weights."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bptt import Batch, Model, ModelConfig, rnn  # noqa: E402

pytestmark = pytest.mark.usefixtures("cpu_mode")  # both CPU paths: the BLAS's threads, bptt's own split

B, T, D, H = 4, 7, 3, 5


def _torch_rnn(p, activation, dtype):
    net = torch.nn.RNN(D, H, batch_first=True, nonlinearity=activation).to(dtype)
    with torch.no_grad():  # weight_hh = W_s[:H].T, weight_ih = W_s[H:].T (torch multiplies column vectors)
        net.weight_hh_l0.copy_(torch.from_numpy(p["W_s"][:H].T.copy()))
        net.weight_ih_l0.copy_(torch.from_numpy(p["W_s"][H:].T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(p["b_s"]))
        net.bias_hh_l0.zero_()
    return net


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("learn_s0", [False, True])
@pytest.mark.parametrize("lengths", [[7, 3, 1, 5], [7, 5, 3, 1]], ids=["masked", "longest_first"])
def test_states_and_gradients_equal_torch(dtype, tol, activation, learn_s0, lengths):
    rng = np.random.default_rng(7)
    p = rnn.init(D, H, learn_s0=learn_s0, rng=rng, dtype=dtype)
    p["b_s"][:] = rng.normal(0, 0.2, H)
    if learn_s0:
        p["s0"][:] = rng.normal(0, 0.5, H)
    x = rng.standard_normal((B, T, D)).astype(dtype)
    lengths = np.array(lengths)  # longest first: the loops compute only the real rows of each step
    R = rng.standard_normal((B, T, H)).astype(dtype)  # weights on every real state
    Rl = rng.standard_normal((B, H)).astype(dtype)  # and on the final state

    states, cache = rnn.forward(p, x, lengths=lengths, activation=activation)
    real = (np.arange(T)[None, :] < lengths[:, None])[..., None]
    grads, dx = rnn.backward(p, cache, (R * real).astype(dtype), d_last=Rl)

    tdt = torch.float64 if dtype == np.float64 else torch.float32
    net = _torch_rnn(p, activation, tdt)
    tx = torch.from_numpy(x).requires_grad_(True)
    h0 = None
    if learn_s0:
        ts0 = torch.from_numpy(p["s0"].copy()).requires_grad_(True)
        h0 = ts0.expand(1, B, H).contiguous()
    packed = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
    out, hn = net(packed, h0)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
    loss = (out * torch.from_numpy(R)).sum() + (hn[0] * torch.from_numpy(Rl)).sum()
    loss.backward()

    scale = lambda a: max(1.0, float(np.max(np.abs(a))))  # noqa: E731
    np.testing.assert_allclose(states * real, out.detach().numpy(), atol=tol * scale(states))
    np.testing.assert_allclose(states[:, -1], hn[0].detach().numpy(), atol=tol)
    gW = np.concatenate([net.weight_hh_l0.grad.numpy().T, net.weight_ih_l0.grad.numpy().T], 0)
    np.testing.assert_allclose(grads["W_s"], gW, atol=tol * scale(gW))
    np.testing.assert_allclose(grads["b_s"], net.bias_ih_l0.grad.numpy(), atol=tol * scale(grads["b_s"]))
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=tol * scale(dx))
    if learn_s0:
        np.testing.assert_allclose(grads["s0"], ts0.grad.numpy(), atol=tol * scale(grads["s0"]))


def test_model_with_embedding_and_head_equals_torch():
    rng = np.random.default_rng(3)
    V, O = 11, 4
    model = Model(ModelConfig(vocab_size=V, embed_dim=D, hidden_size=H, output_size=O, dtype="float64"), rng=rng)
    ids = rng.integers(1, V, size=(B, T))
    lengths = np.array([2, 7, 4, 6])
    ids[np.arange(T)[None, :] >= lengths[:, None]] = 0
    y = rng.integers(0, O, size=B)
    loss, grads = model.loss_and_grads(Batch(x=ids, y=y, lengths=lengths))

    p = model.params
    emb = torch.nn.Embedding(V, D, padding_idx=0).double()
    net = _torch_rnn(p, "tanh", torch.float64)
    head = torch.nn.Linear(H, O).double()
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(p["E"]))
        head.weight.copy_(torch.from_numpy(p["W_o"].T.copy()))
        head.bias.copy_(torch.from_numpy(p["b_o"]))
    packed = torch.nn.utils.rnn.pack_padded_sequence(emb(torch.from_numpy(ids)), torch.from_numpy(lengths),
                                                     batch_first=True, enforce_sorted=False)
    _, hn = net(packed)
    tl = torch.nn.functional.cross_entropy(head(hn[0]), torch.from_numpy(y))
    tl.backward()
    assert abs(float(loss) - tl.item()) < 1e-12
    np.testing.assert_allclose(grads["E"], emb.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grads["W_o"], head.weight.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(grads["b_o"], head.bias.grad.numpy(), atol=1e-12)
    gW = np.concatenate([net.weight_hh_l0.grad.numpy().T, net.weight_ih_l0.grad.numpy().T], 0)
    np.testing.assert_allclose(grads["W_s"], gW, atol=1e-12)
