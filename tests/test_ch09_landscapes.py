"""Tests for bptutor.exercises.ch09_landscapes: the chapter 09 checks pass a correct solution and name
each injected mistake."""
import functools

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex
from bptutor.activations import sigmoid


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def logistic_hessian(X, theta, mode="ok"):
    z = X @ theta
    p = sigmoid(z)
    s = {"p": p, "no_weights": np.ones_like(p), "logits": z * (1 - z), "squared": (p * (1 - p)) ** 2}.get(
        mode, p * (1 - p))
    if mode == "XXT":
        return (X @ X.T) * s[None, :] / len(X)
    H = (X * s[:, None]).T @ X
    H = H if mode == "no_1/N" else H / len(X)
    return -H if mode == "sign" else H


def batched_forward(X, W1, b1, W2, b2, mode="ok"):
    if mode == "transposed":
        W1, W2 = W1.transpose(0, 2, 1), W2.transpose(0, 2, 1)
    bias = (lambda b: b) if mode == "bias" else (lambda b: b[:, None, :])
    if mode == "first":
        S = len(W1)
        W1, b1, W2, b2 = W1[:1], b1[:1], W2[:1], b2[:1]
    Z1 = X @ W1 + bias(b1)
    A1 = Z1 if mode == "no_hidden" else sigmoid(Z1)
    Z2 = A1 @ W2 + bias(b2)
    out = Z2 if mode == "no_output" else sigmoid(Z2)
    if mode == "first":
        out = np.repeat(out, S, axis=0)
    return out.transpose(1, 0, 2) if mode == "axes" else out


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_logistic_hessian, logistic_hessian, [
        ({"mode": "no_1/N"}, "missing 1/N"), ({"mode": "p"}, "p where p(1 - p) belongs"),
        ({"mode": "no_weights"}, "the weights p(1 - p) forgotten"), ({"mode": "logits"}, "from the logits"),
        ({"mode": "squared"}, "weights squared"), ({"mode": "XXT"}, "X X^T instead of X^T X"),
        ({"mode": "sign"}, "sign flip")]),
    (ex.check_batched_forward, batched_forward, [
        ({"mode": "no_output"}, "forgot the output sigmoid"), ({"mode": "no_hidden"}, "forgot the hidden sigmoid"),
        ({"mode": "first"}, "network 0's weights"), ({"mode": "axes"}, "network axis not first"),
        ({"mode": "bias"}, "biases not broadcast over the rows"), ({"mode": "transposed"}, "weights transposed")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


def test_logistic_hessian_reports_finite_differences():
    result = ex.check_logistic_hessian(logistic_hessian)
    assert "finite differences agree" in result.message
    wrong = ex.check_logistic_hessian(functools.partial(logistic_hessian, mode="p"))
    assert "(finite differences give" in wrong.message


def test_a_shape_mistake_names_both_shapes():
    result = ex.check_logistic_hessian(functools.partial(logistic_hessian, mode="XXT"))
    # the first input has N = 7 rows and D = 3 parameters
    assert "H has shape (7, 7)" in result.message and "(3, 3)" in result.message
