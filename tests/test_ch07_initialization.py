"""Tests for bptutor.exercises.ch07_initialization: the initialization checks (07) pass a correct solution, name each
injected mistake and accept other correct ways of writing the solution."""
import functools

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------
def xavier_uniform(fan_in, fan_out, rng, mode="ok"):
    bound = {"ok": np.sqrt(6.0 / (fan_in + fan_out)), "no3": np.sqrt(2.0 / (fan_in + fan_out)),
             "no_sqrt": 6.0 / (fan_in + fan_out), "lecun": np.sqrt(3.0 / fan_in), "he": np.sqrt(6.0 / fan_in),
             "variance": 2.0 / (fan_in + fan_out)}.get(mode, np.sqrt(6.0 / (fan_in + fan_out)))
    if mode == "edges":  # the right range, but every weight at +a or -a: three times the variance
        return bound * np.sign(rng.uniform(-1.0, 1.0, size=(fan_in, fan_out)))
    if mode == "mixture":  # the right range, a third of the columns squeezed: too small a variance
        W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        W[:, : fan_out // 3] *= 0.5
        return W
    if mode == "shifted":  # the right edge, but the mean is off
        return rng.uniform(-bound, bound, size=(fan_in, fan_out)) * 0.9 + 0.1 * bound
    if mode == "float32":
        return rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(np.float32)
    if mode == "transposed_back":  # drawn as (fan_out, fan_in), then transposed: right
        return rng.uniform(-bound, bound, size=(fan_out, fan_in)).T
    if mode == "normal":
        return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))
    if mode == "positive":
        return rng.uniform(0.0, bound, size=(fan_in, fan_out))
    if mode == "transposed":
        return rng.uniform(-bound, bound, size=(fan_out, fan_in))
    if mode == "global":
        return np.random.default_rng().uniform(-bound, bound, size=(fan_in, fan_out))
    if mode == "other_form":  # a right answer written differently
        return bound * (2.0 * rng.random((fan_in, fan_out)) - 1.0)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def leaky_relu_std(fan_in, slope, mode="ok"):
    gain = {"no_square": 1 + slope, "minus": 1 - slope ** 2, "ignored": 1.0}.get(mode, 1 + slope ** 2)
    var = (1.0 if mode == "no2" else 2.0) * (gain if mode == "times" else 1.0 / gain) / fan_in
    return var if mode == "variance" else np.sqrt(var)


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_xavier_uniform, xavier_uniform, [
        ({"mode": "no3"}, "a^2/3"), ({"mode": "no_sqrt"}, "square root"), ({"mode": "lecun"}, "LeCun"),
        ({"mode": "he"}, "He's uniform rule"), ({"mode": "variance"}, "not the bound"),
        ({"mode": "normal"}, "normally distributed"), ({"mode": "positive"}, "U[0, a]"),
        ({"mode": "transposed"}, "shape (fan_in, fan_out)"), ({"mode": "global"}, "rng argument"),
        ({"mode": "edges"}, "3 times the target"), ({"mode": "mixture"}, "not spread evenly"),
        ({"mode": "shifted"}, "average")]),
    (ex.check_leaky_relu_std, leaky_relu_std, [
        ({"mode": "no_square"}, "slope not squared"), ({"mode": "variance"}, "variance instead of standard"),
        ({"mode": "no2"}, "factor 2 is missing"), ({"mode": "ignored"}, "slope is ignored"),
        ({"mode": "minus"}, "1 - a^2"), ({"mode": "times"}, "multiplied instead of divided")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


@pytest.mark.parametrize("mode", ["other_form", "float32", "transposed_back"])
def test_xavier_uniform_accepts_any_correct_way_of_drawing(mode):
    result = ex.check_xavier_uniform(functools.partial(xavier_uniform, mode=mode))
    assert result.passed, str(result)


def test_xavier_uniform_rejects_no_right_answer_over_many_seeds():
    # each statistical test rejects a right answer with probability < 1e-7: none of 100 seeds may fail
    failed = [seed for seed in range(100) if not ex.check_xavier_uniform(xavier_uniform, rng=seed).passed]
    assert failed == []


def test_xavier_uniform_reports_an_exception_with_the_learners_line():
    def broken(fan_in, fan_out, rng):
        return rng.uniform(-1, 1, size=(fan_in, fan_out)) @ np.ones((3, 3))
    result = ex.check_xavier_uniform(broken)
    assert not result.passed and "ValueError" in result.message and "shape" in result.diagnosis


@pytest.mark.parametrize("check", [ex.check_xavier_uniform, ex.check_leaky_relu_std])
def test_an_unwritten_exercise_says_so(check):
    def unwritten(*args, **kwargs):
        raise NotImplementedError
    result = check(unwritten)
    assert not result.passed and "not written yet" in result.diagnosis


@pytest.mark.parametrize("check", [ex.check_xavier_uniform, ex.check_leaky_relu_std])
def test_passing_the_result_instead_of_the_function(check):
    result = check(0.1)
    assert not result.passed and "pass the function itself" in result.diagnosis
