"""Tests of bptutor.batching: iterate_minibatches (full batch, SGD, mini-batches), its shuffling, memmap
streaming that reads only each batch's rows, and bad inputs."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bptutor.batching import iterate_minibatches
from bptutor.datasets import make_moons, make_xor, to_memmap
def test_full_batch_is_the_data_itself_not_a_copy():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    for batch_size in (None, 5, 100):
        batches = list(iterate_minibatches(X, y, batch_size))
        assert len(batches) == 1 and batches[0][0] is X and batches[0][1] is y


def test_minibatches_cover_every_row_once_sorted_within_a_batch():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    batches = list(iterate_minibatches(X, y, batch_size=4, rng=0))
    assert [len(b[1]) for b in batches] == [4, 4, 2]  # the last batch is smaller
    seen = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(np.sort(seen), np.arange(10))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)  # rows and labels stay together
        assert np.all(np.diff(yb) > 0)
    assert not np.array_equal(seen, np.arange(10))  # shuffled across batches


def test_minibatch_order_comes_from_rng():
    X, y = np.zeros((20, 1)), np.arange(20)
    order = lambda rng: np.concatenate([b for _, b in iterate_minibatches(X, y, 3, rng=rng)])
    np.testing.assert_array_equal(order(5), order(np.random.default_rng(5)))
    assert not np.array_equal(order(5), order(6))
    unshuffled = np.concatenate([b for _, b in iterate_minibatches(X, y, 3, shuffle=False)])
    np.testing.assert_array_equal(unshuffled, np.arange(20))


def test_stochastic_batches_are_single_rows():
    X, y = make_xor()
    batches = list(iterate_minibatches(X, y, 1, rng=1))
    assert len(batches) == 4 and all(b[0].shape == (1, 2) for b in batches)


class CountingMemmap(np.memmap):
    """A memmap that records the size of every index it is read with."""
    reads: list = []

    def __getitem__(self, index):
        CountingMemmap.reads.append(np.size(index) if isinstance(index, np.ndarray) else "other")
        return super().__getitem__(index)


def test_memmap_batches_only_read_their_own_rows(tmp_path):
    X, y = make_moons(100, noise=0.1)
    mm = to_memmap(X, tmp_path / "x.npy").view(CountingMemmap)
    CountingMemmap.reads = []
    batches = list(iterate_minibatches(mm, y, batch_size=16, rng=0))
    assert CountingMemmap.reads == [16] * 6 + [4]  # one read per batch, never the whole file
    for Xb, yb in batches:
        assert Xb.flags.writeable and not np.shares_memory(Xb, mm) and Xb.dtype == np.float32  # a copy
    order = np.concatenate([rows for rows, _ in iterate_minibatches(np.arange(100), y, 16, rng=0)])
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X[order].astype(np.float32))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 45), seed=st.integers(0, 1000))
def test_batches_partition_the_rows(n, batch_size, seed):
    y = np.arange(n)
    batches = [b for _, b in iterate_minibatches(np.zeros((n, 3)), y, batch_size, rng=seed)]
    assert len(batches) == math.ceil(n / batch_size)
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), y)
    assert all(len(b) == min(batch_size, n) for b in batches[:-1])


@pytest.mark.parametrize("args, error, message", [
    ((np.zeros((3, 2)), np.zeros(4)), ValueError,
     r"iterate_minibatches expected y with 3 rows \(one per row of X\), got shape \(4,\)"),
    ((np.zeros((3, 2)), np.zeros(3), 0), ValueError, r"iterate_minibatches expected batch_size >= 1, got 0"),
    ((np.zeros((3, 2)), np.zeros(3), 2.0), TypeError, r"expected batch_size to be an integer, got 2.0"),
    ((np.zeros((3, 2)), np.zeros(3), True), TypeError, r"expected batch_size to be an integer, got True"),
    ((np.zeros((3, 2)), np.zeros(3), 2, "yes"), TypeError, r"expected shuffle to be True or False, got 'yes'"),
    ((np.zeros((0, 2)), np.zeros(0)), ValueError, r"expected X with at least one row, got shape \(0, 2\)"),
    (("abc", np.zeros(3)), TypeError, r"expected X to be an array of numbers"),
    ((np.zeros((3, 2)), None), TypeError, r"expected y to be an array, got None"),
])
def test_iterate_minibatches_bad_inputs(args, error, message):
    with pytest.raises(error, match=message):
        list(iterate_minibatches(*args))
