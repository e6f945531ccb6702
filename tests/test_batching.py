import numpy as np
import pytest

from bptt import batch_indices, pad_sequences
from bptt.batching import padding_fraction


def test_pad_sequences():
    x, L = pad_sequences([np.array([1, 2, 3]), np.array([4])], pad_value=0)
    np.testing.assert_array_equal(x, [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(L, [3, 1])
    with pytest.raises(ValueError, match=r"seqs\[1\] is empty"):
        pad_sequences([np.array([1]), np.array([])])
    with pytest.raises(ValueError, match="length=2 is shorter than the longest sequence"):
        pad_sequences([np.array([1, 2, 3])], length=2)


@pytest.mark.parametrize("seqs, kw, error, match", [
    ("abc", {}, TypeError, "seqs must be a list of sequences .* got str"),
    (None, {}, TypeError, "seqs must be a list of sequences .* got NoneType"),
    (["abc", "de"], {}, TypeError, r"seqs\[0\] is a str \('abc'\): pad token ids, not text"),
    ([["a", "b"]], {}, TypeError, r"seqs\[0\] holds <U1 values"),
    ([[1, 2], 3], {}, ValueError, r"seqs\[1\] is a scalar"),
    ([[[1, 2], [3]]], {}, ValueError, r"seqs\[0\] is not a rectangular array"),
    ([[1, 2]], {"length": "9"}, TypeError, "length must be an integer number of steps or None, got '9'"),
    ([[1, 2]], {"dtype": "foo"}, TypeError, "dtype must be a NumPy dtype or None, got 'foo'"),
    ([[1, 2]], {"pad_value": "x"}, TypeError, "pad_value must be a number of dtype int64, got 'x'"),
])
def test_pad_sequences_names_a_bad_argument(seqs, kw, error, match):
    with pytest.raises(error, match=match):
        pad_sequences(seqs, **kw)


def test_pad_sequences_takes_any_iterable_of_numbers():
    x, L = pad_sequences(iter([[1], [2, 3]]), length=np.int64(3))
    np.testing.assert_array_equal(x, [[1, 0, 0], [2, 3, 0]])
    np.testing.assert_array_equal(L, [1, 2])
    x, _ = pad_sequences([[True], [False, True]])
    assert x.dtype == np.bool_


@pytest.mark.parametrize("mode", ["exact", "bucket", "random"])
def test_batches_cover_every_example_once_and_are_reproducible(mode):
    lengths = np.random.default_rng(0).integers(1, 30, size=101)
    a = batch_indices(lengths, 16, mode=mode, seed=5)
    b = batch_indices(lengths, 16, mode=mode, seed=5)
    c = batch_indices(lengths, 16, mode=mode, seed=6)
    assert sorted(np.concatenate(a).tolist()) == list(range(101))
    assert all(len(x) <= 16 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(len(x) == len(y) and np.array_equal(x, y) for x, y in zip(a, c))


def test_bucketing_needs_less_padding_than_random():
    lengths = np.random.default_rng(0).integers(1, 100, size=1000)
    rand = padding_fraction(lengths, batch_indices(lengths, 32, mode="random"))
    buck = padding_fraction(lengths, batch_indices(lengths, 32, mode="bucket"))
    exact = padding_fraction(lengths, batch_indices(lengths, 32, mode="exact"))
    assert exact == 0.0 and buck < 0.05 < rand
