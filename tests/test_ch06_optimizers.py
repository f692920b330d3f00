"""Tests for bptutor.exercises.ch06_optimizers: the optimizer checks (06) pass a correct solution and name
each injected mistake."""

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def momentum_step(theta, grad, v, lr, momentum, mode="ok"):
    new_v = (1.0 if mode == "no_mu" else momentum) * v - lr * grad
    if mode == "no_carry":
        new_v = -lr * grad
    move = v if mode == "old_v" else new_v
    if mode == "inplace":
        theta += new_v
        return theta, new_v
    return theta + {"sign": -1.0, "lr_twice": lr}.get(mode, 1.0) * move, new_v

def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps, mode="ok"):
    if mode == "swap":
        beta1, beta2 = beta2, beta1
    t = t + {"t+1": 1, "t-1": -1}.get(mode, 0)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * (grad if mode == "no_square" else grad ** 2)
    m_hat = m if mode in ("no_correction", "only_v") else m / (1 - beta1 ** t)
    v_hat = v if mode in ("no_correction", "only_m") else v / (1 - beta2 ** t)
    if mode == "eps_inside":
        denom = np.sqrt(v_hat + eps)
    else:
        denom = (v_hat if mode == "no_sqrt" else np.sqrt(v_hat)) + eps
    step = lr * m_hat / denom
    return (theta + step if mode == "sign" else theta - step), m, v


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_momentum_step, momentum_step, [
        ({"mode": "sign"}, "sign error"), ({"mode": "no_carry"}, "not carried over"),
        ({"mode": "no_mu"}, "forgot the momentum factor"), ({"mode": "old_v"}, "old velocity"),
        ({"mode": "lr_twice"}, "learning rate applied twice"), ({"mode": "inplace"}, "theta changed in place")]),
    (ex.check_adam_step, adam_step, [
        ({"mode": "no_correction"}, "no bias correction"), ({"mode": "only_m"}, "bias correction only on m"),
        ({"mode": "only_v"}, "bias correction only on v"), ({"mode": "eps_inside"}, "eps inside the square root"),
        ({"mode": "swap"}, "beta1 and beta2 swapped"), ({"mode": "no_square"}, "not squared"),
        ({"mode": "no_sqrt"}, "forgot the square root"), ({"mode": "sign"}, "sign error"),
        ({"mode": "t+1"}, "off by one"), ({"mode": "t-1"}, "off by one")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


