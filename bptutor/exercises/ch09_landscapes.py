"""Exercise checks for chapter 09, local minima and loss landscapes.

* ``check_logistic_hessian``: ``logistic_hessian(X, theta) -> H``
* ``check_batched_forward``: ``batched_forward(X, W1, b1, W2, b2) -> out``
"""
from __future__ import annotations

import numpy as np

from .. import activations as act
from .._checks import check_rng
from ..ensembles import Ensemble
from ..gradcheck import numerical_gradient
from ._core import Case, CheckResult, Mistake, check_outputs


# --- 09 local minima and loss landscapes ----------------------------------------------------------------
def _logistic_cases(g, sizes) -> list:
    cases = []
    for n, d in sizes:
        X = g.normal(size=(n, d))
        X[:, -1] = 1.0  # the bias as a column of ones
        cases.append(Case({"X": X, "theta": g.normal(size=d)}, dims={"N": n}))
    return cases


def _weighted_gram(X: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``X.T @ diag(s) @ X``, shape (D, D)."""
    return (X * s[:, None]).T @ X


def check_logistic_hessian(fn, rng=0) -> CheckResult:
    r"""Exercise (09): the Hessian of logistic regression's mean cross-entropy.

    .. math:: \nabla^2 L = \frac1N X^\top \operatorname{diag}\big(p(1-p)\big) X, \qquad p = \sigma(X\theta)

    The learner writes ``logistic_hessian(X, theta) -> H`` with ``X`` (N, D)
    (its last column all ones, the bias) and ``theta`` (D,); ``H`` is (D, D).
    Compared with the formula and with finite differences of the gradient
    :math:`X^\top(p - t)/N`. Diagnosed: missing 1/N, :math:`p` where
    :math:`p(1-p)` belongs, the weights :math:`p(1-p)` forgotten, :math:`z(1-z)`
    computed from the logits instead of :math:`p`, the weights squared,
    :math:`X X^\top` (N, N) instead of :math:`X^\top X` (D, D), a sign flip.
    """
    g = check_rng(rng)
    cases = _logistic_cases(g, [(7, 3), (5, 2), (9, 4)])
    square = _logistic_cases(g, [(3, 3)])
    p = lambda a: act.sigmoid(a["X"] @ a["theta"])  # noqa: E731
    N = lambda a: a["X"].shape[0]  # noqa: E731

    def reference(a):
        s = p(a) * (1 - p(a))
        return _weighted_gram(a["X"], s) / N(a)

    def numeric(a):
        # Row i of the Hessian is the gradient of the i-th component of the gradient X^T (p - t) / N.
        X, theta = a["X"], a["theta"].copy()
        rows = [numerical_gradient(lambda th: float((X.T @ act.sigmoid(X @ th))[i]) / len(X), theta)
                for i in range(len(theta))]
        return {"H": np.array(rows)}

    mean_hint = "L is a mean over the N examples, so every term of its Hessian carries the 1/N: "
    mistakes = (
        Mistake("missing 1/N", mean_hint + "H = X.T @ diag(p(1-p)) @ X / N.",
                lambda a, r: {"H": r["H"] * N(a)}),
        Mistake("p where p(1 - p) belongs", "the derivative of p = sigmoid(z) is p (1 - p), not p: "
                "weight row n by p_n (1 - p_n).", lambda a, r: {"H": _weighted_gram(a["X"], p(a)) / N(a)}),
        Mistake("the weights p(1 - p) forgotten", "X.T @ X / N is the Hessian of a linear model's squared "
                "error; logistic regression weights each row by p_n (1 - p_n).",
                lambda a, r: {"H": a["X"].T @ a["X"] / N(a)}),
        Mistake("z (1 - z) from the logits", "take the derivative at the probability p = sigmoid(X @ theta), "
                "not at the logit z = X @ theta.",
                lambda a, r: {"H": _weighted_gram(a["X"], (a["X"] @ a["theta"]) * (1 - a["X"] @ a["theta"])) / N(a)}),
        Mistake("weights squared", "each row enters once with weight p (1 - p), not (p (1 - p))^2.",
                lambda a, r: {"H": _weighted_gram(a["X"], (p(a) * (1 - p(a))) ** 2) / N(a)}),
        Mistake("X X^T instead of X^T X", "the Hessian has one row and one column per parameter: "
                "X.T @ diag(s) @ X is (D, D); X @ diag(s) @ X.T would be (N, N).",
                lambda a, r: {"H": (a["X"] @ a["X"].T) * (p(a) * (1 - p(a)))[None, :] / N(a)}),
        Mistake("sign flip", "the cross-entropy curves upwards: its Hessian is positive semi-definite, "
                "with non-negative diagonal.", lambda a, r: {"H": -r["H"]}),
    )
    return check_outputs(fn, name="logistic_hessian", reference=reference, cases=cases, outputs=("H",),
                         mistakes=mistakes, like={"H": "theta (D,) -> H (D, D)"}, square_cases=square,
                         numeric=numeric, source="the formula X^T diag(p(1-p)) X / N")


def _batched_cases(g, sizes) -> list:
    return [Case({"X": g.normal(size=(n, d)), "W1": g.normal(size=(s, d, h)), "b1": g.normal(size=(s, h)),
                  "W2": g.normal(size=(s, h, o)), "b2": g.normal(size=(s, o))},
                 note=f"S={s} networks, N={n} rows")
            for s, n, d, h, o in sizes]


def check_batched_forward(fn, rng=0) -> CheckResult:
    r"""Exercise (09): the forward pass of S two-layer sigmoid networks at once.

    .. math:: \text{out}_s = \sigma\big(\sigma(X W_{1,s} + b_{1,s})\,W_{2,s} + b_{2,s}\big)

    The learner writes ``batched_forward(X, W1, b1, W2, b2) -> out`` with ``X``
    (N, D), ``W1`` (S, D, H), ``b1`` (S, H), ``W2`` (S, H, O), ``b2`` (S, O) and
    ``out`` (S, N, O); compared with :class:`bptutor.ensembles.Ensemble`.
    Diagnosed: forgotten hidden or output sigmoid, every network given network
    0's weights, the network axis not first (N, S, O), biases added without
    ``[:, None, :]`` (they then line up with the rows, which runs only when N
    equals S), transposed weights (square shapes only).
    """
    g = check_rng(rng)
    cases = _batched_cases(g, [(3, 5, 2, 4, 1), (2, 4, 3, 5, 2), (4, 6, 2, 3, 1)])
    square = _batched_cases(g, [(3, 3, 3, 3, 3)])
    s = act.sigmoid

    def forward(a, hidden=True, output=True, W1=None, W2=None, bias=lambda b: b[:, None, :]):
        W1 = a["W1"] if W1 is None else W1
        W2 = a["W2"] if W2 is None else W2
        Z1 = a["X"] @ W1 + bias(a["b1"])
        A1 = s(Z1) if hidden else Z1
        Z2 = A1 @ W2 + bias(a["b2"])
        return s(Z2) if output else Z2

    mistakes = (
        Mistake("forgot the output sigmoid", "out = sigmoid(A1 @ W2 + b2[:, None, :]).",
                lambda a, r: {"out": forward(a, output=False)}),
        Mistake("forgot the hidden sigmoid", "A1 = sigmoid(X @ W1 + b1[:, None, :]): without it each network "
                "is one linear map followed by a sigmoid.", lambda a, r: {"out": forward(a, hidden=False)}),
        Mistake("every network got network 0's weights", "use the whole stacks W1, b1, W2, b2: X @ W1 with "
                "W1 of shape (S, D, H) computes all S networks at once.",
                lambda a, r: {"out": np.broadcast_to(r["out"][:1], r["out"].shape).copy()}),
        Mistake("network axis not first", "return out with shape (S, N, O): X @ W1 already puts the network "
                "axis first.", lambda a, r: {"out": r["out"].transpose(1, 0, 2)}),
        Mistake("biases not broadcast over the rows", "b1 has shape (S, H): added to (S, N, H) as it is, its "
                "rows line up with the N rows, not with the S networks. Add b1[:, None, :] (S, 1, H).",
                lambda a, r: {"out": forward(a, bias=lambda b: b)}),
        Mistake("weights transposed", "each network computes X @ W1[s] with W1[s] of shape (D, H): no "
                "transpose.", lambda a, r: {"out": forward(a, W1=a["W1"].transpose(0, 2, 1),
                                                            W2=a["W2"].transpose(0, 2, 1))}),
    )

    def reference(a):
        return Ensemble(a["W1"], a["b1"], a["W2"], a["b2"]).forward(a["X"])[1]

    return check_outputs(fn, name="batched_forward", reference=reference, cases=cases, outputs=("out",),
                         mistakes=mistakes, square_cases=square, source="bptutor.ensembles.Ensemble")
