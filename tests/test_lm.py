"""Language models: windows, carried state, truncated BPTT, perplexity, sampling."""

import math

import numpy as np
import pytest

from bptt import Batch, Model, ModelConfig
from bptt.lm import TextStream, generate, unigram_perplexity
from bptt.losses import softmax_cross_entropy
from bptt.train import TrainConfig
from conftest import central_diff, rel_err

pytestmark = pytest.mark.usefixtures("cpu_mode")  # both CPU paths: the BLAS's threads, bptt's own split

V = 7


def _model(rng, dtype="float64", H=6):
    return Model(ModelConfig(vocab_size=V, embed_dim=4, hidden_size=H, output_size=V, head="many_to_many",
                             dtype=dtype), rng=rng)


def test_stateful_windows_continue_each_stream(rng):
    ids = rng.integers(2, V, size=203)
    s = TextStream(ids, window=10, batch_size=4)
    batches = s.epoch_batches(TrainConfig(batch_size=4), 0)
    xs = [s._xy(b) for b in batches]
    L = 202 // 4
    for b in range(4):  # row b of the windows, laid end to end, is stream b
        row = np.concatenate([x[b] for x, _ in xs])
        np.testing.assert_array_equal(row, ids[b * L : b * L + row.size])
        np.testing.assert_array_equal(np.concatenate([y[b] for _, y in xs]), ids[b * L + 1 : b * L + 1 + row.size])


def test_carried_state_equals_one_long_run(rng):
    model = _model(rng)
    x = rng.integers(2, V, size=(3, 12))
    states_long = model.forward(x)[1]["states"]
    _, c1 = model.forward(x[:, :5])
    s = c1["states"][:, -1]
    states_2 = model.forward(x[:, 5:], s_init=s)[1]["states"]
    np.testing.assert_allclose(states_2, states_long[:, 5:], rtol=0, atol=1e-13)


def test_gradient_with_a_carried_state_matches_finite_differences(rng):
    """No gradient flows into the carried state: d loss/d W with s_init held fixed."""
    model = _model(rng)
    x, y = rng.integers(2, V, size=(3, 6)), rng.integers(0, V, size=(3, 6))
    s_init = rng.standard_normal((3, 6))
    b = Batch(x=x, y=y)
    loss, grads, sT = model.loss_and_grads(b, s_init=s_init, return_state=True)
    num = central_diff(lambda: model.loss_and_grads(b, s_init=s_init)[0], model.params)
    for k in model.params:
        assert rel_err(grads[k], num[k]) < 1e-6, k
    np.testing.assert_allclose(sT, model.forward(x, s_init=s_init)[1]["states"][:, -1])


def test_truncated_bptt_uses_the_last_k2_steps_from_the_advanced_state(rng):
    model = _model(rng)
    ids = rng.integers(2, V, size=400)
    s = TextStream(ids, window=8, bptt_steps=3, batch_size=2)
    desc = s.epoch_batches(TrainConfig(batch_size=2), 0)[1]
    carry = rng.standard_normal((2, 6))
    loss, grads, carry2, _, n_tok = s.train_step(model, desc, carry)
    x, y = s._xy(desc)
    # by hand: advance 5 steps from the carry without gradient, then the loss of the last 3 steps
    st = model.forward(x[:, :5], s_init=carry)[1]["states"][:, -1]
    b = Batch(x=x[:, 5:], y=y[:, 5:])
    num = central_diff(lambda: model.loss_and_grads(b, s_init=st)[0], model.params)
    for k in model.params:
        assert rel_err(grads[k], num[k]) < 1e-6, k
    assert n_tok == 6
    np.testing.assert_allclose(carry2, model.forward(x, s_init=carry)[1]["states"][:, -1], atol=1e-13)


def test_evaluation_equals_one_pass_over_each_stream(rng):
    model = _model(rng)
    ids = rng.integers(2, V, size=301)
    s = TextStream(ids, window=16, batch_size=3, bits=True)
    m = s.evaluate(model)
    L = 300 // 3
    total = 0.0
    for b in range(3):  # no windows: each stream in one forward pass
        x, y = ids[b * L : b * L + L][None], ids[b * L + 1 : b * L + L + 1][None]
        loss, _ = softmax_cross_entropy(model.forward(x)[0], y)
        total += float(loss) * L
    assert m["n"] == 300
    assert abs(m["loss"] - total / 300) < 1e-12
    assert abs(m["perplexity"] - math.exp(total / 300)) < 1e-9
    assert abs(m["bits_per_char"] - total / 300 / math.log(2)) < 1e-12


@pytest.mark.parametrize("stateful,n", [(True, 2), (True, 3), (True, 5), (False, 2), (False, 3)])
def test_evaluation_in_parts_adds_up_to_the_whole(rng, stateful, n):
    """What each of n processes evaluates (part=(k, n): its share of the streams, or every n-th chunk
    of independent windows), added by the reduce, equals the whole text's figures; no part is all of it.
    (With 5 parts and 3 streams, two parts are empty.)"""
    model = _model(rng)
    ids = rng.integers(2, V, size=9601 if not stateful else 301)  # 600 windows: chunks of 256, 256, 88
    s = TextStream(ids, window=16, batch_size=3, stateful=stateful)
    whole = s.evaluate(model)
    reduce_calls = []

    def reduce(a):  # the allreduce, seen from one process: records its part's sums (the total is checked below)
        reduce_calls.append(np.array(a))
        return np.array([1.0, 0.0, 1.0])

    for k in range(n):
        s.evaluate(model, part=(k, n), reduce=reduce)
    parts = reduce_calls
    assert len(parts) == n and all(p[2] < whole["n"] for p in parts) and sum(p[2] > 0 for p in parts) >= 2
    total = np.sum(parts, axis=0)
    assert int(total[2]) == whole["n"] and int(total[1]) == round(whole["accuracy"] * whole["n"])
    assert abs(total[0] / total[2] - whole["loss"]) < 1e-12 * whole["loss"]


def test_greedy_generation_follows_the_argmax_and_never_emits_pad_or_unk(rng):
    model = _model(rng)
    model.params["b_o"][:2] = 50.0  # pad and unk would win every argmax if allowed
    prompt = [3, 4, 2]
    out = generate(model, prompt, 8, temperature=0, rng=np.random.default_rng(0))
    seq = list(prompt)
    for k in out:
        logits = model.forward(np.array([seq]))[0][0, -1].copy()
        logits[:2] = -np.inf
        assert k == int(np.argmax(logits)) and k >= 2
        seq.append(k)
    a = generate(model, prompt, 20, temperature=1.0, rng=np.random.default_rng(5))
    b = generate(model, prompt, 20, temperature=1.0, rng=np.random.default_rng(5))
    assert a == b and min(a) >= 2


def test_unigram_perplexity():
    train = np.array([2, 2, 3])
    # add-one counts over V=4: [1, 1, 3, 2] / 7
    want = math.exp(-(math.log(3 / 7) + math.log(2 / 7)) / 2)
    assert abs(unigram_perplexity(np.bincount(train, minlength=4), np.array([2, 3])) - want) < 1e-12


def test_stream_checks():
    with pytest.raises(ValueError, match="too short for one window"):
        TextStream(np.arange(5), window=8)
    with pytest.raises(ValueError, match="bptt_steps must be in 1..window = 1..8"):
        TextStream(np.arange(50), window=8, bptt_steps=9)


@pytest.mark.parametrize("kw, exc, words", [
    ({"length": 10**12}, ValueError, r"length must be an integer 0..1,000,000"),  # before: sampled for ever
    ({"length": 2.5}, ValueError, r"length must be an integer"),
    ({"prompt_ids": []}, ValueError, r"prompt_ids must be a non-empty list of token ids, got \[\]"),
    ({"prompt_ids": "ab"}, ValueError, r"prompt_ids must be a non-empty list of token ids, got 'ab'"),
    ({"prompt_ids": [12]}, ValueError, r"ids holds id 12, outside the vocabulary 0..9"),
    ({"rng": None}, TypeError, r"rng must be a numpy.random.Generator or an int seed, got NoneType"),
    ({"model": "classify"}, ValueError, r"model must be a language model .* got head='many_to_one'"),
])
def test_generate_refuses_bad_arguments_by_name(kw, exc, words):
    from bptt import Model, ModelConfig
    from bptt.lm import generate
    rng = np.random.default_rng(0)
    lm_model = Model(ModelConfig(vocab_size=10, embed_dim=4, hidden_size=8, output_size=10, head="many_to_many"), rng=rng)
    args = {"model": lm_model, "prompt_ids": [3, 4], "length": 5, "rng": np.random.default_rng(1)}
    args.update(kw)
    if args["model"] == "classify":
        args["model"] = Model(ModelConfig(vocab_size=10, embed_dim=4, hidden_size=8, output_size=2), rng=rng)
    with pytest.raises(exc, match=words):
        generate(args.pop("model"), args.pop("prompt_ids"), args.pop("length"), **args)
    assert len(generate(lm_model, [3, 4], 5, rng=np.random.default_rng(1))) == 5


def test_evaluate_refuses_by_length_for_a_language_model(tmp_path, capsys):
    from conftest import run
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be, that is the question\n" * 20)
    model = tmp_path / "lm.bptt"
    assert run(capsys, "train", "--task", "lm", "--data", str(text), "--out", str(model), "--window", "8",
               "--epochs", "1", "--quiet")[0] == 0
    for opt in (["--by-length"], ["--plot", str(tmp_path / "a.png")]):
        rc, out, err = run(capsys, "evaluate", "--model", str(model), "--data", str(text), *opt)
        assert rc == 2 and "are for classify and tag models" in err and out == ""
    assert not (tmp_path / "a.png").exists()


@pytest.mark.parametrize("kw, words", [
    (dict(window="8"), "window must be a positive integer, got '8'"),
    (dict(window=8.5), "window must be a positive integer, got 8.5"),
    (dict(batch_size=0), "batch_size must be a positive integer, got 0"),
    (dict(stateful="no"), "stateful must be True or False, got 'no'"),
    (dict(bptt_steps=2.0), "bptt_steps must be an integer or None, got 2.0"),
])
def test_text_stream_settings_named(kw, words):
    from bptt.lm import TextStream
    with pytest.raises(ValueError, match=words):
        TextStream(np.arange(100) % 5, **kw)
