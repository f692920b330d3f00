"""Tests for bptutor.exercises.ch02_losses: the loss checks (02) pass a correct solution and name each
injected mistake."""

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def mse(pred, target, mode="ok"):
    d = pred - target
    M = {"sum": 1, "rows": len(pred)}.get(mode, d.size)
    loss = d ** 2 if mode == "unreduced" else np.sum(d ** 2) / M * (0.5 if mode == "half" else 1)
    grad = {"no2": 1, "sign": -2}.get(mode, 2) * d / M
    return loss, grad

def softmax_ce(Z, y, mode="ok"):
    N = len(y)
    Y = np.eye(Z.shape[1])[y]
    S = Z if mode == "naive" else Z - Z.max(axis=0 if mode == "axis" else 1, keepdims=True)
    E = np.exp(S)
    P = E / E.sum(axis=0 if mode == "axis" else 1, keepdims=True)
    if mode in ("naive", "log_softmax", "axis"):
        logp = np.log(P)
    else:
        logp = S - np.log(E.sum(axis=1, keepdims=True))
    n = {"no_1/N": 1, "NC": N * Z.shape[1]}.get(mode, N)
    loss = -np.sum(logp[np.arange(N), y]) / n * (-1 if mode == "loss_sign" else 1)
    grad = ((P if mode == "no_onehot" else P - Y) / n) * (-1 if mode == "sign" else 1)
    return loss, grad

def logsumexp(Z, mode="ok"):
    if mode == "naive":
        return np.log(np.sum(np.exp(Z), axis=1))
    if mode == "global":
        m = Z.max()
        return m + np.log(np.sum(np.exp(Z - m), axis=1))
    axis = 0 if mode == "axis" else 1
    m = Z.max(axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(Z - m), axis=axis, keepdims=True)) + (0 if mode == "no_add" else m)
    return out if mode == "keepdims" else np.squeeze(out, axis=axis)


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_mse, mse, [
        ({"mode": "unreduced"}, "not reduced"), ({"mode": "sum"}, "missing 1/M"),
        ({"mode": "rows"}, "divided by N instead of N·C"), ({"mode": "no2"}, "missing factor 2"),
        ({"mode": "sign"}, "sign flip"), ({"mode": "half"}, "halved")]),
    (ex.check_softmax_cross_entropy, softmax_ce, [
        ({"mode": "naive"}, "no max subtraction"), ({"mode": "log_softmax"}, "log of the softmax underflows"),
        ({"mode": "no_1/N"}, "missing 1/N"), ({"mode": "NC"}, "divided by N·C"),
        ({"mode": "loss_sign"}, "wrong sign of the loss"), ({"mode": "sign"}, "sign flip in the gradient"),
        ({"mode": "no_onehot"}, "one-hot"), ({"mode": "axis"}, "wrong axis")]),
    (ex.check_logsumexp, logsumexp, [
        ({"mode": "naive"}, "naive formula overflows"), ({"mode": "no_add"}, "not added back"),
        ({"mode": "global"}, "one maximum for the whole array"), ({"mode": "axis"}, "wrong axis"),
        ({"mode": "keepdims"}, "kept axis")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


