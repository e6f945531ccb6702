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
