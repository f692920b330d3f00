"""Tests for bptutor.exercises.ch04_backward: the backward-pass checks (04) pass a correct solution, name
each injected mistake, report a wrong shape or value in words, and are seeded."""
import functools

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def linear_backward(dout, X, W, mode="ok"):
    dX = dout @ W if mode == "W" else dout @ W.T
    dW = dout.T @ X if mode == "dW.T" else X.T @ dout / (len(X) if mode == "dW/N" else 1)
    db = {"no_sum": dout, "axis1": dout.sum(axis=1), "mean": dout.mean(axis=0)}.get(mode, dout.sum(axis=0))
    if mode == "sign":
        return -dX, -dW, -db
    return (dW, dX, db) if mode == "swapped" else (dX, dW, db)

def sigmoid_backward(dout, Z, mode="ok"):
    s = sig(Z)
    if mode == "no_deriv":
        return dout
    if mode == "no_dout":
        return s * (1 - s)
    if mode == "on_input":
        return dout * Z * (1 - Z)
    if mode == "no_1-s":
        return dout * s
    if mode == "matmul":
        return dout @ (s * (1 - s)).T
    return dout * s * (1 - s) * (-1 if mode == "sign" else 1)

def two_layer_backward(X, T, W1, b1, W2, b2, mode="ok"):
    Z1 = X @ W1 + b1
    H = sig(Z1)
    O = sig(H @ W2 + b2)
    d_o = (O - T) * (1 if mode == "no_out_deriv" else O * (1 - O)) * (-1 if mode == "sign" else 1)
    d_h = (d_o @ (W2 if mode == "W2" else W2.T)) * (1 if mode == "no_hid_deriv" else H * (1 - H))
    dW2 = (Z1 if mode == "Z1" else H).T @ d_o
    dW1 = X.T @ d_h
    if mode == "no_sum":
        return dW1, d_h, dW2, d_o
    dW1, dW2 = (dW1.T if mode == "dW1.T" else dW1), (dW2.T if mode == "dW2.T" else dW2)
    return dW1, d_h.sum(axis=0), dW2, d_o.sum(axis=0)


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_linear_backward, linear_backward, [
        ({"mode": "dW.T"}, "transposed dW"), ({"mode": "W"}, "only works for square"),
        ({"mode": "W"}, "dX uses W instead of W.T"), ({"mode": "no_sum"}, "db not summed over the batch"),
        ({"mode": "axis1"}, "wrong axis"), ({"mode": "mean"}, "averaged instead of summed"),
        ({"mode": "dW/N"}, "dW divided by N"), ({"mode": "swapped"}, "wrong parameter"),
        ({"mode": "sign"}, "sign flip")]),
    (ex.check_sigmoid_backward, sigmoid_backward, [
        ({"mode": "no_deriv"}, "forgot the activation derivative"), ({"mode": "no_dout"}, "forgot the upstream"),
        ({"mode": "on_input"}, "applied to Z instead of sigmoid(Z)"), ({"mode": "no_1-s"}, "(1 - s)"),
        ({"mode": "matmul"}, "elementwise"), ({"mode": "sign"}, "sign flip")]),
    (ex.check_two_layer_backward, two_layer_backward, [
        ({"mode": "no_out_deriv"}, "output sigmoid's derivative"),
        ({"mode": "no_hid_deriv"}, "hidden sigmoid's derivative"), ({"mode": "W2"}, "W2 used where W2.T belongs"),
        ({"mode": "W2"}, "only works for square"), ({"mode": "Z1"}, "Z1 used instead of H"),
        ({"mode": "dW1.T"}, "transposed dW1"), ({"mode": "dW2.T"}, "transposed dW2"),
        ({"mode": "no_sum"}, "not summed over the batch"), ({"mode": "sign"}, "sign flip")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


# --- messages -----------------------------------------------------------------------------------------------

def test_a_shape_error_names_both_shapes_and_the_likely_product():
    result = ex.check_linear_backward(functools.partial(linear_backward, mode="dW.T"))
    # the first input has N=5, D=3, H=4, so W is (3, 4) and the transposed dW (4, 3)
    assert "dW has shape (4, 3) but W has shape (3, 4)" in result.message
    assert "did you compute dout.T @ X instead of X.T @ dout?" in result.diagnosis


def test_a_value_error_shows_the_worst_entry_and_finite_differences():
    result = ex.check_linear_backward(functools.partial(linear_backward, mode="dW/N"))
    assert "expected" in result.message and "finite differences give" in result.message
    assert "on input 1 of 3 (dout (5, 4), X (5, 3), W (3, 4))" in result.message


def test_gradient_checks_report_finite_differences_when_they_pass():
    result = ex.check_linear_backward(linear_backward)
    assert "finite differences agree (largest relative error" in result.message
    err = float(result.message.split("relative error ")[1].split(")")[0])
    assert err < 1e-6


def test_checks_are_seeded_and_rng_changes_the_inputs():
    wrong = functools.partial(linear_backward, mode="dW/N")
    assert str(ex.check_linear_backward(wrong)) == str(ex.check_linear_backward(wrong))
    assert str(ex.check_linear_backward(wrong, rng=1)) != str(ex.check_linear_backward(wrong))
