"""Tests for bptutor.exercises.ch10_symmetry: the chapter 10 checks pass a correct solution, name each
injected mistake and explain a broken palindrome detector."""
import functools
import itertools

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def pair_margin(w, mode="ok"):
    values = (0, 1) if mode == "one_way" else (-1, 0, 1)
    sums = [float(np.dot(d, w)) for d in itertools.product(values, repeat=len(w)) if any(d) or mode == "zero"]
    if mode == "no_abs":
        return min(sums)
    if mode == "max":
        return max(abs(s) for s in sums)
    return min(abs(s) for s in sums)


def symmetry_detector(mode="ok"):
    # hidden unit 1: a (1, 2, 4, -4, -2, -1); hidden unit 2 its negative; both biases -a/2
    magnitudes = [1.0, 2.0, 3.0] if mode == "1:2:3" else [1.0, 2.0, 4.0]
    a = 6.0
    w = a * np.array(magnitudes + [-m for m in magnitudes[::-1]])
    if mode == "not_mirrored":
        w[5] = w[0]
    W1 = np.stack([w, w if mode == "same_units" else -w], axis=1)
    b1 = np.full(2, a if mode == "positive_bias" else -a / 2)
    W2 = np.full((2, 1), 10.0 if mode == "positive_W2" else -10.0)
    b2 = np.array([5.0])
    if mode == "shape":
        return W1.T, b1, W2, b2
    if mode == "three":
        return W1, b1, W2
    if mode == "raises":
        raise NotImplementedError
    return W1, b1, W2, b2


CATALOGUE = [
    (ex.check_pair_margin, pair_margin, [
        ({"mode": "one_way"}, "either direction"), ({"mode": "no_abs"}, "forgot the absolute value"),
        ({"mode": "zero"}, "included delta = 0"), ({"mode": "max"}, "largest instead of smallest")]),
    (ex.check_symmetry_detector, symmetry_detector, [
        ({"mode": "1:2:3"}, "delta = x_k - x_(7-k) = [-1, -1, 1]"),
        ({"mode": "not_mirrored"}, "mirrored weights do not cancel"),
        ({"mode": "same_units"}, "switches neither hidden unit on"),
        ({"mode": "positive_bias"}, "make b1 clearly negative"),
        ({"mode": "positive_W2"}, "output weights W2 clearly negative"),
        ({"mode": "shape"}, "W1 (6, 2), b1 (2,), W2 (2, 1), b2 (1,)"),
        ({"mode": "three"}, "return W1, b1, W2, b2"),
        ({"mode": "raises"}, "not written yet")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


def test_pair_margin_known_values():
    # 1:2:4 -> 1 (e.g. delta = (1, 0, 0)); 2:3:4 -> 1 (2 + 3 - 4); 1:2:3 -> 0 (1 + 2 - 3)
    from bptutor.exercises.ch10_symmetry import _differences
    for w, margin in (((1, 2, 4), 1), ((2, 3, 4), 1), ((1, 2, 3), 0)):
        assert np.min(np.abs(_differences(3) @ np.array(w, float))) == margin
    assert _differences(3).shape == (26, 3)


def test_symmetry_detector_pass_message_reports_the_margins():
    result = ex.check_symmetry_detector(symmetry_detector)
    assert "the 8 palindromes give at least" in result.message and "the 56 others at most" in result.message


def test_symmetry_detector_failure_names_a_pattern_and_counts():
    result = ex.check_symmetry_detector(functools.partial(symmetry_detector, mode="1:2:3"))
    # 1 + 2 - 3 = 0 for delta = (-1, -1, +1): x = 001011 and its mirror 110100 look like palindromes
    assert result.message.startswith("2 of 64 outputs")
    assert "pattern 001011 (not a palindrome, target 0)" in result.message


def test_symmetry_detector_refuses_a_bad_tol_and_a_called_function():
    with pytest.raises(ValueError, match="expected tol <= 0.5"):
        ex.check_symmetry_detector(symmetry_detector, tol=0.7)
    result = ex.check_symmetry_detector(symmetry_detector())
    assert not result.passed and "pass the function without calling it" in result.diagnosis
