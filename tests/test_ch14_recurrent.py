"""Tests for bptutor.exercises.ch14_recurrent: the RNN step backward and BPTT checks (14) pass correct
solutions (loops and vectorized, float32), name each injected mistake, and never blame the learner for a
bug of their own input."""
import functools

import numpy as np

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def rnn_step_backward(dh, x, h_prev, W_xh, W_hh, b, mode="ok"):
    z = x @ W_xh + h_prev @ W_hh + b
    h = np.tanh(z)
    slope = {"no_deriv": 1.0, "on_z": 1 - z ** 2, "no_square": 1 - h}.get(mode, 1 - h ** 2)
    dz = dh * slope
    dx = dz @ (W_xh if mode == "dx_W" else W_xh.T)
    dh_prev = dz @ (W_hh if mode == "W_hh" else W_hh.T)
    dW_xh = dz.T @ x if mode == "dW_xh.T" else x.T @ dz
    dW_hh = {"h": h.T @ dz, "dW_hh.T": dz.T @ h_prev}.get(mode, h_prev.T @ dz)
    db = dz if mode == "no_sum" else dz.sum(axis=0)
    grads = (dx, dh_prev, dW_xh, dW_hh, db)
    return tuple(-g for g in grads) if mode == "sign" else grads


def rnn_backward(dH, X, h0, W_xh, W_hh, b, mode="ok"):
    N, T, D = X.shape
    H = W_hh.shape[0]
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(X[:, t] @ W_xh + hs[-1] @ W_hh + b))
    dX = np.zeros_like(X)
    dW_xh, dW_hh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dh_next = np.zeros((N, H))
    steps = range(T) if mode == "forwards" else reversed(range(T))
    for t in steps:
        upstream = dH[:, t] if mode != "last_only" or t == T - 1 else 0.0
        dh = upstream if mode == "no_next" else upstream + dh_next
        dz = dh if mode == "no_deriv" else dh * (1 - hs[t + 1] ** 2)
        prev = np.zeros_like(h0) if (mode == "zeros_h0" and t == 0) else hs[t]
        dX[:, t] = dz @ W_xh.T
        if mode == "assign":
            dW_xh, dW_hh, db = X[:, t].T @ dz, prev.T @ dz, dz.sum(axis=0)
        else:
            dW_xh += X[:, t].T @ dz
            dW_hh += prev.T @ dz
            db += dz.sum(axis=0)
        h_grad = dh
        dh_next = dz @ (W_hh if mode == "W_hh" else W_hh.T)
    dh0 = h_grad if mode == "at_h1" else dh_next
    grads = (dX, dh0, dW_xh, dW_hh, db)
    return tuple(-g for g in grads) if mode == "sign" else grads


def rnn_backward_vectorized(dH, X, h0, W_xh, W_hh, b):
    """Another correct answer: the recursion alone in the loop, the weight gradients as einsums, float32."""
    X, dH, h0 = X.astype(np.float32), dH.astype(np.float32), h0.astype(np.float32)
    T = X.shape[1]
    Hs = np.zeros((X.shape[0], T + 1, h0.shape[1]), dtype=np.float32)
    Hs[:, 0] = h0
    for t in range(T):
        Hs[:, t + 1] = np.tanh(X[:, t] @ W_xh + Hs[:, t] @ W_hh + b)
    dZ = np.zeros_like(dH)
    g = dH[:, -1]
    for t in range(T - 1, -1, -1):
        dZ[:, t] = g * (1 - Hs[:, t + 1] ** 2)
        g = dZ[:, t] @ W_hh.T + (dH[:, t - 1] if t else 0)
    return (np.einsum("nth,dh->ntd", dZ, W_xh), g, np.einsum("ntd,nth->dh", X, dZ),
            np.einsum("nti,ntj->ij", Hs[:, :-1], dZ), dZ.sum(axis=(0, 1)))


CATALOGUE = [
    (ex.check_rnn_step_backward, rnn_step_backward, [
        ({"mode": "no_deriv"}, "forgot the tanh derivative"), ({"mode": "on_z"}, "applied to z instead of h"),
        ({"mode": "no_square"}, "forgot the square"), ({"mode": "W_hh"}, "W_hh used where W_hh.T belongs"),
        ({"mode": "h"}, "h used instead of h_prev in dW_hh"), ({"mode": "dW_hh.T"}, "transposed dW_hh"),
        ({"mode": "dW_xh.T"}, "transposed dW_xh"), ({"mode": "no_sum"}, "db not summed over the batch"),
        ({"mode": "dx_W"}, "only works for square"), ({"mode": "sign"}, "sign flip")]),
    (ex.check_rnn_backward, rnn_backward, [
        ({"mode": "assign"}, "= where += belongs across time"),
        ({"mode": "no_next"}, "forgot the gradient from the next step"),
        ({"mode": "last_only"}, "only the last step's dH used"), ({"mode": "no_deriv"}, "forgot the tanh derivative"),
        ({"mode": "W_hh"}, "W_hh used where W_hh.T belongs"), ({"mode": "forwards"}, "the loop runs forwards in time"),
        ({"mode": "at_h1"}, "dh0 is the gradient at h_1"), ({"mode": "zeros_h0"}, "zeros instead of h0"),
        ({"mode": "sign"}, "sign flip")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


def test_a_vectorized_float32_solution_passes():
    result = ex.check_rnn_backward(rnn_backward_vectorized)
    assert result.passed, str(result)


def test_passing_reports_finite_differences_and_the_inputs_are_seeded():
    result = ex.check_rnn_backward(rnn_backward)
    assert "finite differences agree (largest relative error" in result.message
    wrong = functools.partial(rnn_backward, mode="no_next")
    assert str(ex.check_rnn_backward(wrong)) == str(ex.check_rnn_backward(wrong))
    assert str(ex.check_rnn_backward(wrong, rng=1)) != str(ex.check_rnn_backward(wrong))


def test_a_solution_that_writes_into_its_input_is_named_for_it():
    def mutating(dH, X, h0, W_xh, W_hh, b):
        out = rnn_backward(dH, X, h0, W_xh, W_hh, b)
        W_hh *= 0.0          # in a training loop this would wipe the recurrent weights
        return out
    result = ex.check_rnn_backward(mutating)
    assert not result.passed
    assert "changed its input `W_hh` in place" in str(result)
    assert ex.check_rnn_backward(rnn_backward).passed   # the cases themselves were not touched


def test_an_unwritten_exercise_is_reported_not_raised():
    def unwritten(*args):
        raise NotImplementedError("Exercise: write rnn_step_backward")
    result = ex.check_rnn_step_backward(unwritten)
    assert not result.passed and "not written yet" in result.diagnosis


def test_a_float32_step_passes():
    def step32(dh, x, h_prev, W_xh, W_hh, b):
        args = [np.asarray(a, dtype=np.float32) for a in (dh, x, h_prev, W_xh, W_hh, b)]
        return rnn_step_backward(*args)
    assert ex.check_rnn_step_backward(step32).passed
