"""Tests for bptutor.exercises.ch15_deep: the deep-network checks (15) pass a correct solution, name each
injected mistake, accept other correct ways of writing it, and are seeded."""
import functools

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def batchnorm_backward(dout, X, gamma, eps, mode="ok"):
    axis = 1 if mode == "axis1" else 0
    N = X.shape[axis]
    mu = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, keepdims=True, ddof=1 if mode == "unbiased" else 0)
    s = {"no_eps": np.sqrt(var), "eps_out": np.sqrt(var) + eps}.get(mode, np.sqrt(var + eps))
    X_hat = (X - mu) / s
    dX_hat = dout if mode == "no_gamma" else dout * gamma
    k = 1.0 if mode == "no_1/N" else 1.0 / N
    mean_term = 0.0 if mode in ("constants", "no_mu_path") else k * dX_hat.sum(axis=axis, keepdims=True)
    var_term = 0.0 if mode in ("constants", "no_var_path") else X_hat * k * (dX_hat * X_hat).sum(axis=axis,
                                                                                               keepdims=True)
    dX = (dX_hat - mean_term - var_term) / s
    dgamma = dout * (X if mode == "dgamma_X" else X_hat)
    dbeta = dout
    if mode not in ("no_sum", "no_sum_beta"):
        dbeta = dbeta.sum(axis=0)
    if mode not in ("no_sum", "no_sum_gamma"):
        dgamma = dgamma.sum(axis=0)
    if mode == "sign":
        return -dX, -dgamma, -dbeta
    return (dX, dbeta, dgamma) if mode == "swapped" else (dX, dgamma, dbeta)


def batchnorm_backward_staged_unbiased(dout, X, gamma, eps):
    """The node-by-node backward, consistently with 1/(N - 1): a mistake the check must name too."""
    N = X.shape[0]
    xc = X - X.mean(axis=0)
    var = (xc ** 2).sum(axis=0) / (N - 1)
    s = np.sqrt(var + eps)
    dX_hat = dout * gamma
    dvar = -0.5 * (dX_hat * xc).sum(axis=0) / s ** 3
    dxc = dX_hat / s + dvar * 2 * xc / (N - 1)
    return dxc - dxc.mean(axis=0), (dout * xc / s).sum(axis=0), dout.sum(axis=0)


def residual_backward(dout, X, W1, b1, W2, b2, mode="ok"):
    Z1 = X @ W1 + b1
    H = np.maximum(Z1, 0)
    dW2 = (Z1 if mode == "Z1" else H).T @ dout
    dH = dout @ (W2 if mode == "W2" else W2.T)
    dZ1 = dH if mode == "no_relu" else dH * (Z1 > 0)
    dW1 = X.T @ dZ1
    branch = dZ1 @ (W1 if mode == "W1" else W1.T)
    dX = {"no_identity": branch, "no_branch": dout}.get(mode, dout + branch)
    db1, db2 = (dZ1, dout) if mode == "no_sum" else (dZ1.sum(axis=0), dout.sum(axis=0))
    dW1, dW2 = (dW1.T if mode == "dW1.T" else dW1), (dW2.T if mode == "dW2.T" else dW2)
    if mode == "sign":
        return -dX, -dW1, -db1, -dW2, -db2
    return dX, dW1, db1, dW2, db2


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_batchnorm_backward, batchnorm_backward, [
        ({"mode": "constants"}, "mu and var treated as constants"),
        ({"mode": "no_var_path"}, "variance path is missing"), ({"mode": "no_mu_path"}, "mean path is missing"),
        ({"mode": "unbiased"}, "unbiased variance"), ({"mode": "no_1/N"}, "missing 1/N"),
        ({"mode": "axis1"}, "over the features instead of the batch"), ({"mode": "no_gamma"}, "gamma forgotten"),
        ({"mode": "dgamma_X"}, "dgamma uses X instead of x_hat"), ({"mode": "swapped"}, "dgamma and dbeta swapped"),
        ({"mode": "no_sum"}, "dgamma and dbeta not summed"), ({"mode": "no_sum_beta"}, "dbeta not summed"),
        ({"mode": "no_sum_gamma"}, "dgamma not summed"), ({"mode": "no_eps"}, "eps left out"),
        ({"mode": "eps_out"}, "eps outside the square root"), ({"mode": "sign"}, "sign flip")]),
    (ex.check_residual_backward, residual_backward, [
        ({"mode": "no_identity"}, "identity path is missing"), ({"mode": "no_branch"}, "branch is missing"),
        ({"mode": "no_relu"}, "ReLU derivative"), ({"mode": "W2"}, "W2 used where W2.T belongs"),
        ({"mode": "W2"}, "only works for square"), ({"mode": "W1"}, "W1 used where W1.T belongs"),
        ({"mode": "Z1"}, "Z1 used instead of H"), ({"mode": "dW1.T"}, "transposed dW1"),
        ({"mode": "dW2.T"}, "transposed dW2"), ({"mode": "no_sum"}, "not summed over the batch"),
        ({"mode": "sign"}, "sign flip")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


# --- other right answers pass, other wrong ones are named ----------------------------------------------------

def test_the_staged_unbiased_backward_is_named_as_the_unbiased_variance():
    result = ex.check_batchnorm_backward(batchnorm_backward_staged_unbiased)
    assert not result.passed and "unbiased variance" in result.diagnosis


def test_batchnorm_accepts_the_node_by_node_backward_and_float32():
    def staged(dout, X, gamma, eps):
        N = X.shape[0]
        xc = X - X.mean(axis=0)
        var = (xc ** 2).mean(axis=0)
        inv = 1 / np.sqrt(var + eps)
        dX_hat = dout * gamma
        dvar = (dX_hat * xc).sum(axis=0) * -0.5 * inv ** 3
        dmu = -(dX_hat * inv).sum(axis=0) - 2 * dvar * xc.mean(axis=0)
        return dX_hat * inv + dvar * 2 * xc / N + dmu / N, (dout * xc * inv).sum(axis=0), dout.sum(axis=0)
    assert ex.check_batchnorm_backward(staged).passed


@pytest.mark.parametrize("seed", range(6))
def test_float32_solutions_pass(seed):
    def bn32(dout, X, gamma, eps):
        return batchnorm_backward(dout.astype(np.float32), X.astype(np.float32), gamma.astype(np.float32),
                                  np.float32(eps))

    def res32(*args):
        return residual_backward(*[np.asarray(a, dtype=np.float32) for a in args])
    assert ex.check_batchnorm_backward(bn32, rng=seed).passed
    assert ex.check_residual_backward(res32, rng=seed).passed


def test_residual_accepts_the_branch_computed_through_bptutor_layers():
    from bptutor.activations import ReLU
    from bptutor.layers import Linear, Sequential

    def with_layers(dout, X, W1, b1, W2, b2):
        branch = Sequential(Linear.from_arrays(W1, b1), ReLU(), Linear.from_arrays(W2, b2))
        branch.forward(X)
        dX = dout + branch.backward(dout)
        return dX, branch[0].W.grad, branch[0].b.grad, branch[2].W.grad, branch[2].b.grad
    assert ex.check_residual_backward(with_layers).passed


def test_a_passing_check_reports_finite_differences():
    for check, solution in ((ex.check_batchnorm_backward, batchnorm_backward),
                            (ex.check_residual_backward, residual_backward)):
        result = check(solution)
        assert "finite differences agree" in result.message
        assert float(result.message.split("relative error ")[1].split(")")[0]) < 1e-6


def test_a_wrong_value_shows_the_worst_entry_and_finite_differences():
    result = ex.check_batchnorm_backward(functools.partial(batchnorm_backward, mode="constants"))
    assert "dX[" in result.message and "finite differences give" in result.message
    assert "on input 1 of 3 (dout (6, 3), X (6, 3), gamma (3,), eps=1e-05)" in result.message


@pytest.mark.parametrize("check", [ex.check_batchnorm_backward, ex.check_residual_backward])
def test_an_unwritten_exercise_says_so(check):
    def unwritten(*args):
        raise NotImplementedError("Exercise: write it")
    result = check(unwritten)
    assert not result.passed and "not written yet" in result.diagnosis


def test_checks_are_seeded_and_rng_changes_the_inputs():
    wrong = functools.partial(batchnorm_backward, mode="no_1/N")
    assert str(ex.check_batchnorm_backward(wrong)) == str(ex.check_batchnorm_backward(wrong))
    assert str(ex.check_batchnorm_backward(wrong, rng=1)) != str(ex.check_batchnorm_backward(wrong))
