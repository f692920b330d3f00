"""Tests for bptutor.sequence_tasks: the adding and recall problems."""
import numpy as np
import pytest

from bptutor.sequence_tasks import make_adding_problem, make_recall_problem


def test_adding_problem_marks_one_step_in_each_half_and_adds_them():
    X, y = make_adding_problem(500, 9, rng=0)                  # halves: steps 0-3 and 4-8
    assert X.shape == (500, 9, 2) and y.shape == (500, 1)
    markers = X[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2) and set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers[:, :4].sum(axis=1) == 1) and np.all(markers[:, 4:].sum(axis=1) == 1)
    assert np.allclose(y[:, 0], (X[:, :, 0] * markers).sum(axis=1))
    assert X[:, :, 0].min() >= 0 and X[:, :, 0].max() < 1
    # the baseline: predicting the mean 1 scores Var(u1 + u2) = 1/6
    big_X, big_y = make_adding_problem(20_000, 10, rng=1)
    assert np.mean((big_y - 1.0) ** 2) == pytest.approx(1 / 6, rel=0.03)


def test_recall_problem_marks_one_step_in_the_first_half():
    X, y = make_recall_problem(500, 10, rng=0)
    markers = X[:, :, 1]
    assert np.all(markers.sum(axis=1) == 1) and np.all(markers[:, 5:] == 0)
    assert set(np.argmax(markers, axis=1)) == {0, 1, 2, 3, 4}
    assert np.allclose(y[:, 0], (X[:, :, 0] * markers).sum(axis=1))
    _, big_y = make_recall_problem(20_000, 10, rng=1)
    assert np.mean((big_y - 0.5) ** 2) == pytest.approx(1 / 12, rel=0.03)


def test_seeded():
    assert np.array_equal(make_adding_problem(5, 6, rng=3)[0], make_adding_problem(5, 6, rng=3)[0])
    assert not np.array_equal(make_adding_problem(5, 6, rng=3)[0], make_adding_problem(5, 6, rng=4)[0])


@pytest.mark.parametrize("call, error, message", [
    (lambda: make_adding_problem(0, 5), ValueError, r"make_adding_problem expected n >= 1, got 0"),
    (lambda: make_adding_problem(3, 1), ValueError, r"make_adding_problem expected T >= 2, got 1"),
    (lambda: make_recall_problem(3, 4.0), TypeError, r"make_recall_problem expected T to be an integer, got 4.0"),
    (lambda: make_recall_problem(3, 4, rng=None), TypeError, r"expected rng to be a numpy.random.Generator"),
])
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
