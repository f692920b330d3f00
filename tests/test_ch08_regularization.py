"""Tests for bptutor.exercises.ch08_regularization: the regularization checks (08) pass a correct solution, name each
injected mistake and accept other correct ways of writing the solution."""

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------
def ridge_fit(Phi, t, lam, mode="ok"):
    k = Phi.shape[1]
    right = np.diag([0.0] + [1.0] * (k - 1))
    D = {"all": np.eye(k), "w0": np.diag(np.eye(k)[0]), "none": np.zeros((k, k))}.get(mode, right)
    scale = {"half": 0.5, "double": 2.0}.get(mode, 1.0)
    A = Phi.T @ Phi + (lam if mode == "broadcast" else scale * lam * D)
    return np.linalg.solve(A, Phi.T @ t)


def l2_penalty(Ws, lam, mode="ok"):
    if mode == "l1":
        return lam * sum(np.abs(W).sum() for W in Ws), [lam * np.sign(W) for W in Ws]
    squares = [np.sqrt(np.sum(W ** 2)) if mode == "unsquared" else np.sum(W ** 2) for W in Ws]
    R = (1.0 if mode in ("no_half", "no_half_both") else 0.5) * lam * (squares[0] if mode == "first" else sum(squares))
    factor = 2.0 if mode in ("double", "no_half_both") else 1.0
    dWs = [lam * np.ones_like(W) if mode == "no_W" else W if mode == "no_lam" else factor * lam * W for W in Ws]
    if mode == "array":
        return R, np.concatenate([dW.ravel() for dW in dWs])
    return R, dWs


def dropout_forward(X, p, rng, training=True, mode="ok"):
    if not training and mode not in ("eval_drop", "eval_scale"):
        return X
    if mode == "eval_scale" and not training:
        return X * (1 - p)
    if mode == "fixed":
        rng = np.random.default_rng(0)
    if mode == "global":
        rng = np.random.default_rng()
    if mode in ("per_row", "per_column"):
        shape = (X.shape[0], 1) if mode == "per_row" else (X.shape[1],)
        return X * (rng.random(shape) >= p) / (1 - p)
    keep = rng.random(X.shape) < p if mode == "keep_p" else rng.random(X.shape) >= p
    if mode == "inplace":
        X *= keep / (1 - p)
        return X
    scale = {"no_scale": 1.0, "times": 1 - p, "by_p": 1 / p}.get(mode, 1 / (1 - p))
    return X * keep * scale


def bias_variance(preds, f, mode="ok"):
    ybar = preds.mean(axis=0)
    bias2, var = np.mean((ybar - f) ** 2), np.mean(np.var(preds, axis=0))
    return {"swapped": (var, bias2), "mse": (np.mean((preds - f) ** 2), var),
            "unsquared": (np.mean(ybar - f), var), "square_last": (np.mean(ybar - f) ** 2, var),
            "ddof1": (bias2, np.mean(np.var(preds, axis=0, ddof=1))), "std": (bias2, np.mean(np.std(preds, axis=0))),
            "over_points": (bias2, np.mean(np.var(preds, axis=1)))}.get(mode, (bias2, var))


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_ridge_fit, ridge_fit, [
        ({"mode": "all"}, "w_0 is penalised too"), ({"mode": "none"}, "penalty is missing"),
        ({"mode": "half"}, "lambda/2"), ({"mode": "double"}, "2 lambda"),
        ({"mode": "broadcast"}, "added to every entry"), ({"mode": "w0"}, "only w_0")]),
    (ex.check_l2_penalty, l2_penalty, [
        ({"mode": "no_half"}, "1/2 is missing in R"), ({"mode": "no_half_both"}, "no 1/2 anywhere"),
        ({"mode": "double"}, "2 lam W"), ({"mode": "l1"}, "L1 penalty"), ({"mode": "first"}, "only the first"),
        ({"mode": "unsquared"}, "not squared"), ({"mode": "no_W"}, "lacks W"), ({"mode": "no_lam"}, "lacks lam"),
        ({"mode": "array"}, "list comprehension")]),
    (ex.check_dropout_forward, dropout_forward, [
        ({"mode": "no_scale"}, "not scaled"), ({"mode": "times"}, "old test-time rule"),
        ({"mode": "by_p"}, "not by the drop probability"), ({"mode": "keep_p"}, "probability of *dropping*"),
        ({"mode": "eval_drop"}, "nothing is dropped"), ({"mode": "eval_scale"}, "return X unchanged"),
        ({"mode": "fixed"}, "fresh mask"), ({"mode": "global"}, "not with np.random"),
        ({"mode": "inplace"}, "in place"), ({"mode": "per_row"}, "drawn per row"),
        ({"mode": "per_column"}, "drawn per unit")]),
    (ex.check_bias_variance, bias_variance, [
        ({"mode": "swapped"}, "swapped"), ({"mode": "mse"}, "whole mean squared error"),
        ({"mode": "unsquared"}, "not squared"), ({"mode": "square_last"}, "before squaring"),
        ({"mode": "ddof1"}, "D - 1"), ({"mode": "std"}, "standard deviation"),
        ({"mode": "over_points"}, "across test points")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


def test_ridge_fit_accepts_lstsq_on_the_augmented_system():
    def augmented(Phi, t, lam):
        k = Phi.shape[1]
        root = np.sqrt(lam) * np.eye(k)[1:]          # no row for w_0: it is not penalised
        w, *_ = np.linalg.lstsq(np.vstack([Phi, root]), np.concatenate([t, np.zeros(k - 1)]), rcond=None)
        return w
    assert ex.check_ridge_fit(augmented).passed


def test_l2_penalty_reports_finite_differences_when_it_passes():
    result = ex.check_l2_penalty(l2_penalty)
    assert "finite differences agree" in result.message


@pytest.mark.parametrize("written", ["float32", "loops", "where"])
def test_dropout_accepts_other_right_answers(written):
    def dropout(X, p, rng, training=True):
        if not training:
            return X
        U = rng.random(X.shape)
        if written == "float32":
            return (X.astype(np.float32) * (U >= p)) / np.float32(1 - p)
        if written == "where":
            return np.where(U < 1 - p, X / (1 - p), 0.0)
        out = np.zeros_like(X)
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                if U[i, j] >= p:
                    out[i, j] = X[i, j] / (1 - p)
        return out
    result = ex.check_dropout_forward(dropout)
    assert result.passed, str(result)


def test_dropout_accepts_a_binomial_mask():
    def binomial(X, p, rng, training=True):
        return X * rng.binomial(1, 1 - p, size=X.shape) / (1 - p) if training else X
    assert ex.check_dropout_forward(binomial).passed


@pytest.mark.parametrize("written", ["float32", "loops", "einsum", "mse_minus_variance"])
def test_bias_variance_accepts_other_right_answers(written):
    def bv(preds, f):
        D, P = preds.shape
        if written == "float32":
            preds, f = preds.astype(np.float32), f.astype(np.float32)
        if written == "loops":
            bias2 = variance = 0.0
            for p in range(P):
                ybar = sum(preds[d, p] for d in range(D)) / D
                bias2 += (ybar - f[p]) ** 2 / P
                variance += sum((preds[d, p] - ybar) ** 2 for d in range(D)) / (D * P)
            return bias2, variance
        ybar = np.einsum("dp->p", preds) / D
        bias2 = np.einsum("p,p->", ybar - f, ybar - f) / P
        if written == "mse_minus_variance":       # the identity: mean squared error = bias^2 + variance
            return bias2, np.mean((preds - f) ** 2) - bias2
        dev = preds - ybar
        return bias2, np.einsum("dp,dp->", dev, dev) / (D * P)
    result = ex.check_bias_variance(bv)
    assert result.passed, str(result)


def test_bias_variance_refuses_changing_preds_in_place():
    def centring(preds, f):
        ybar = preds.mean(axis=0)
        preds -= ybar                               # the learner's array, changed
        return float(np.mean((ybar - f) ** 2)), float(np.mean(preds ** 2))
    result = ex.check_bias_variance(centring)
    assert not result.passed and "preds" in result.message


@pytest.mark.parametrize("check", [ex.check_ridge_fit, ex.check_l2_penalty, ex.check_dropout_forward,
                                   ex.check_bias_variance])
def test_an_unwritten_exercise_says_so(check):
    def unwritten(*args, **kwargs):
        raise NotImplementedError
    result = check(unwritten)
    assert not result.passed and "not written yet" in result.diagnosis
