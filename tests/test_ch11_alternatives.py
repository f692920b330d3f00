"""Tests for bptutor.exercises.ch11_alternatives: the checks of chapter 11 pass a correct solution and name
each injected mistake."""
import functools

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def central_differences(f, theta, h, mode="ok"):
    x = theta if mode in ("in_place", "in_place_ok") else theta.copy()
    grad = np.zeros_like(theta)
    for i in range(theta.size):
        if mode == "all_at_once":
            grad[i] = (f(x + h) - f(x - h)) / (2 * h)
            continue
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        if mode not in ("keep_nudge", "in_place"):
            x[i] = old
        if mode == "one_sided":
            x[i] = old
            down = f(x)
            grad[i] = (up - down) / h
            continue
        grad[i] = {"sign": -1.0}.get(mode, 1.0) * (up - down) / ((1 if mode == "h" else 2) * h)
    return grad


def spsa_estimate(f, theta, c, delta, mode="ok"):
    step = c * (1.0 if mode == "no_delta" else delta)
    up = f(theta + step)
    down = f(theta) if mode == "one_sided" else f(theta - step)
    slope = (up - down) / ((2 if mode not in ("c", "one_sided") else 1) * c)
    if mode == "scalar":
        return slope
    return {"sign": -1.0}.get(mode, 1.0) * slope * delta   # times delta = divided by delta, as delta = +-1


def oja_step(w, x, lr, mode="ok"):
    y = w @ x
    if mode == "normalise":
        v = w + lr * y * x
        return v / np.linalg.norm(v)
    decay = {"hebb": 0.0, "y": y}.get(mode, y * y)
    return w + {"sign": -1.0}.get(mode, 1.0) * lr * (y * x - decay * w)


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_central_differences, central_differences, [
        ({"mode": "one_sided"}, "one-sided difference"), ({"mode": "h"}, "divided by h instead of 2h"),
        ({"mode": "all_at_once"}, "every coordinate nudged at once"),
        ({"mode": "keep_nudge"}, "a nudge was not undone"), ({"mode": "in_place"}, "a nudge was not undone"),
        ({"mode": "sign"}, "sign error")]),
    (ex.check_spsa_estimate, spsa_estimate, [
        ({"mode": "one_sided"}, "one-sided difference"), ({"mode": "c"}, "divided by c instead of 2c"),
        ({"mode": "no_delta"}, "missing delta"), ({"mode": "scalar"}, "returned one number"),
        ({"mode": "sign"}, "sign error")]),
    (ex.check_oja_step, oja_step, [
        ({"mode": "hebb"}, "plain Hebb"), ({"mode": "y"}, "the decay is y * w"),
        ({"mode": "normalise"}, "normalised Hebb"), ({"mode": "sign"}, "sign error")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


def test_restoring_theta_in_place_is_fine():
    assert ex.check_central_differences(functools.partial(central_differences, mode="in_place_ok")).passed


def test_an_unfinished_exercise_is_reported_not_raised():
    def oja_step(w, x, lr):
        raise NotImplementedError
    result = ex.check_oja_step(oja_step)
    assert not result.passed and "not written yet" in result.diagnosis
