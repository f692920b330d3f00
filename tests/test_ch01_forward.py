"""Tests for bptutor.exercises.ch01_forward: the forward-pass checks (01) pass a correct solution and name
each injected mistake."""

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def neuron(x, w, b, bias=True, act=True, after=False, sign=1, tanh=False, no_sum=False):
    z = (w * x if no_sum else w @ x) + (b if bias and not after else 0.0)
    if not act:
        return z
    a = np.tanh(z) if tanh else 1.0 / (1.0 + np.exp(-sign * z))
    return a + b if after else a

def layer_forward(X, W, b, mode="ok"):
    if mode == "W.T":
        return X @ W.T + b
    if mode == "W@X":
        return W @ X + b
    if mode == "no_bias":
        return X @ W
    if mode == "bias_rows":
        return X @ W + b[:, None]
    if mode == "transposed":
        return (X @ W + b).T
    return X @ W + b

def network_forward(X, W1, b1, W2, b2, mode="ok"):
    Z1 = X @ (W1.T if mode == "W.T" else W1) + b1
    H = Z1 if mode == "no_hidden_act" else sig(Z1)
    Z2 = (Z1 if mode == "Z1" else H) @ (W2.T if mode == "W.T" else W2) + b2
    O = Z2 if mode == "no_output_act" else sig(Z2)
    return (O, H) if mode == "swapped" else (H, O)


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_neuron, neuron, [
        ({"bias": False}, "forgot the bias"), ({"act": False}, "forgot the activation"),
        ({"after": True}, "bias added after the activation"), ({"sign": -1}, "sign error in the exponent"),
        ({"tanh": True}, "tanh instead of the sigmoid"), ({"no_sum": True}, "not summed")]),
    (ex.check_layer_forward, layer_forward, [
        ({"mode": "W.T"}, "only works for square"), ({"mode": "W.T"}, "W transposed"),
        ({"mode": "W@X"}, "operands of @ swapped"), ({"mode": "no_bias"}, "forgot the bias"),
        ({"mode": "bias_rows"}, "bias added per example"), ({"mode": "transposed"}, "output transposed")]),
    (ex.check_network_forward, network_forward, [
        ({"mode": "no_hidden_act"}, "forgot the hidden activation"),
        ({"mode": "no_output_act"}, "forgot the output activation"), ({"mode": "Z1"}, "fed Z1 instead of H"),
        ({"mode": "W.T"}, "weights transposed"), ({"mode": "swapped"}, "wrong order")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


