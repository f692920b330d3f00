"""Exercise checks for chapter 08, overfitting and regularization.

* ``check_ridge_fit``: ``ridge_fit(Phi, t, lam) -> w``
* ``check_l2_penalty``: ``l2_penalty(Ws, lam) -> (R, dWs)``
* ``check_dropout_forward``: ``dropout_forward(X, p, rng, training=True) -> out``
* ``check_bias_variance``: ``bias_variance(preds, f) -> (bias2, variance)``
"""
from __future__ import annotations

import numpy as np

from .._checks import check_rng, describe
from ..gradcheck import numerical_gradient
from ..regularization import bias_variance
from ._core import (Case, CheckResult, Mistake, _as_output, _Diagnosed, _exception_hint, _quiet, _summary,
                    check_outputs)


# --- 08 overfitting and regularization -------------------------------------------------------------------
def _ridge(a, *, mask=None, scale=1.0, broadcast=False) -> np.ndarray:
    Phi, t, lam = a["Phi"], a["t"], a["lam"]
    D = np.eye(Phi.shape[1])
    D[0, 0] = 0.0
    if mask is not None:
        D = np.diag(mask(Phi.shape[1]))
    A = Phi.T @ Phi + (scale * lam if broadcast else scale * lam * D)
    return np.linalg.solve(A, Phi.T @ t)


def _ridge_case(g, n: int, m: int, lam: float) -> Case:
    x = np.sort(g.uniform(0.0, 1.0, size=n))
    Phi = x[:, None] ** np.arange(m + 1)  # (n, m+1), first column ones
    return Case({"Phi": Phi, "t": np.sin(2 * np.pi * x) + 0.2 * g.normal(size=n), "lam": lam},
                f"polynomial features of order {m}")


def check_ridge_fit(fn, rng=0) -> CheckResult:
    r"""Exercise (08): regularized least squares that leaves the constant term alone.

    .. math:: (\Phi^\top\Phi + \lambda D)\,\mathbf w = \Phi^\top\mathbf t, \qquad D = \mathrm{diag}(0, 1, \dots, 1)

    The learner writes ``ridge_fit(Phi, t, lam) -> w`` with ``Phi`` (N, M+1)
    whose first column is ones, ``t`` (N,), ``w`` (M+1,). Diagnosed: ``w_0``
    penalised too, no penalty at all, :math:`\lambda/2` or :math:`2\lambda`,
    ``lam`` added to every entry of the matrix, only ``w_0`` penalised.
    """
    g = check_rng(rng)
    cases = [_ridge_case(g, 12, 4, 0.05), _ridge_case(g, 9, 3, 1.0), _ridge_case(g, 20, 6, 0.01)]
    ones = lambda k: np.ones(k)  # noqa: E731
    only_w0 = lambda k: np.eye(k)[0]  # noqa: E731
    mistakes = (
        Mistake("w_0 is penalised too", "lam * np.eye(M + 1) shrinks the constant term as well; set the first "
                "diagonal entry of the penalty matrix to 0.", lambda a, r: {"w": _ridge(a, mask=ones)}),
        Mistake("the penalty is missing", "these are the plain least-squares weights: add lam to the diagonal "
                "of Phi.T @ Phi (all entries but the first).", lambda a, r: {"w": _ridge(a, scale=0.0)}),
        Mistake("lambda/2 instead of lambda", "the gradient of lam/2 * sum w_j^2 is lam * w_j (the 2 of the "
                "square cancels the 1/2): add lam, not lam / 2.", lambda a, r: {"w": _ridge(a, scale=0.5)}),
        Mistake("2 lambda instead of lambda", "the gradient of lam/2 * sum w_j^2 is lam * w_j, not 2 lam w_j: "
                "the 1/2 and the 2 of the square cancel.", lambda a, r: {"w": _ridge(a, scale=2.0)}),
        Mistake("lam added to every entry", "Phi.T @ Phi + lam adds lam to all entries of the matrix; the "
                "penalty belongs on the diagonal: + lam * D with D = np.eye(M + 1), D[0, 0] = 0.",
                lambda a, r: {"w": _ridge(a, broadcast=True)}),
        Mistake("only w_0 is penalised", "the mask is the wrong way round: D = diag(0, 1, ..., 1) penalises "
                "every weight except w_0.", lambda a, r: {"w": _ridge(a, mask=only_w0)}),
    )
    return check_outputs(fn, name="ridge_fit", reference=lambda a: _ridge(a), cases=cases, outputs=("w",),
                         mistakes=mistakes, like={"w": "Phi.shape[1]"},
                         source="the solution of (Phi^T Phi + lam D) w = Phi^T t")


def _l2(a, *, half=True, grad_factor=1.0, kind="l2", first_only=False, unsquared=False, grad="lam*W") -> tuple:
    lam, Ws = a["lam"], a["Ws"]
    if kind == "l1":
        return (lam * sum(np.abs(W).sum() for W in Ws),) + tuple(lam * np.sign(W) for W in Ws)
    terms = [np.sqrt(np.sum(W * W)) if unsquared else np.sum(W * W) for W in (Ws[:1] if first_only else Ws)]
    R = (0.5 if half else 1.0) * lam * sum(terms)
    grads = {"lam*W": [grad_factor * lam * W for W in Ws], "lam": [lam * np.ones_like(W) for W in Ws],
             "W": [W.copy() for W in Ws]}[grad]
    return (R,) + tuple(grads)


def check_l2_penalty(fn, rng=0) -> CheckResult:
    r"""Exercise (08): the L2 penalty and its gradient over a list of weight matrices.

    .. math:: R = \frac{\lambda}{2}\sum_l \lVert W_l\rVert^2, \qquad \frac{\partial R}{\partial W_l} = \lambda W_l

    The learner writes ``l2_penalty(Ws, lam) -> (R, dWs)`` with ``dWs`` a list
    of arrays shaped like ``Ws``. Compared with the formula and with finite
    differences of it. Diagnosed: the 1/2 missing in ``R`` (or in both),
    ``2 lam W``, the L1 penalty, only the first matrix summed, the norm not
    squared, ``lam`` without ``W`` in the gradient, ``W`` without ``lam``.
    """
    g = check_rng(rng)
    cases = [Case({"Ws": [g.normal(size=(3, 4)), g.normal(size=(4, 2))], "lam": 0.1}, "two weight matrices"),
             Case({"Ws": [g.normal(size=(5, 3)), g.normal(size=(3, 1))], "lam": 0.03}, "two weight matrices")]
    outputs = ("R", "dW1", "dW2")

    def call(fn, a):
        raw = fn(a["Ws"], a["lam"])
        if not isinstance(raw, (tuple, list)) or len(raw) != 2:
            raise _Diagnosed(f"l2_penalty should return 2 values (R, dWs), got {describe(raw)}",
                             "end the function with `return R, dWs`, dWs a list with one gradient per matrix.")
        R, dWs = raw
        if not isinstance(dWs, (list, tuple)) or len(dWs) != len(a["Ws"]):
            raise _Diagnosed(f"dWs should be a list of {len(a['Ws'])} arrays (one per weight matrix), got "
                             f"{describe(dWs)}", "build it with a list comprehension: [... for W in Ws].")
        return (R,) + tuple(dWs)

    def numeric(a):
        out = {}
        for i in range(len(a["Ws"])):
            def R_of(W_i, i=i):
                Ws = list(a["Ws"])
                Ws[i] = W_i
                return 0.5 * a["lam"] * sum(np.sum(W * W) for W in Ws)
            out[f"dW{i + 1}"] = numerical_gradient(R_of, a["Ws"][i].copy())
        return out

    def variant(**switches):
        return lambda a, r: dict(zip(outputs, _l2(a, **switches)))

    mistakes = (
        Mistake("the 1/2 is missing in R", "R = lam/2 * sum of squares; its gradient lam * W (which you have) "
                "is the derivative of that, not of lam * sum of squares.", variant(half=False)),
        Mistake("no 1/2 anywhere", "this exercise uses R = lam/2 * sum of squares, whose gradient is lam * W; "
                "you computed lam * sum of squares and its gradient 2 lam W.", variant(half=False, grad_factor=2.0)),
        Mistake("2 lam W instead of lam W", "the 2 from differentiating W^2 cancels the 1/2 in R: dR/dW = lam * W.",
                variant(grad_factor=2.0)),
        Mistake("that is the L1 penalty", "L2 squares the weights: R = lam/2 * sum(W**2), dR/dW = lam * W "
                "(lam * sign(W) belongs to L1).", variant(kind="l1")),
        Mistake("only the first matrix is in R", "sum the squares of every matrix in Ws.", variant(first_only=True)),
        Mistake("the norms are not squared", "R adds the squared entries, sum(W**2), not the norm sqrt(sum(W**2)).",
                variant(unsquared=True)),
        Mistake("the gradient lacks W", "the derivative of lam/2 * w^2 is lam * w: multiply by the weights.",
                variant(grad="lam")),
        Mistake("the gradient lacks lam", "the penalty is scaled by lam, so is its gradient: lam * W.",
                variant(grad="W")),
    )
    return check_outputs(fn, name="l2_penalty", reference=lambda a: _l2(a), cases=cases, outputs=outputs,
                         mistakes=mistakes, numeric=numeric, call=call, like={"dW1": "Ws[0]", "dW2": "Ws[1]"},
                         source="lam/2 * sum of squares and lam * W")


def _shared_mask(zero: np.ndarray):
    """``(message, hint)`` when the dropped entries come in whole rows or whole columns, else None.

    With independent entries, a whole row of 60 (or column of 400) all dropped or all kept has
    probability below 0.7**60, about 5e-10, so a mask that makes *every* row (or column)
    uniform is shared, not drawn per entry.
    """
    rows = zero.all(axis=1) | (~zero).all(axis=1)
    cols = zero.all(axis=0) | (~zero).all(axis=0)
    if zero.any() and (~zero).any() and rows.all():
        return (f"every row is either dropped whole or kept whole ({int(zero.all(axis=1).sum())} of "
                f"{zero.shape[0]} rows all zero)",
                "the mask was drawn per row (one number per example, e.g. rng.random((N, 1))), so an example "
                "loses all its units or none; dropout drops each entry independently: "
                "mask = rng.random(X.shape) >= p.")
    if zero.any() and (~zero).any() and cols.all():
        return (f"every column is either dropped whole or kept whole ({int(zero.all(axis=0).sum())} of "
                f"{zero.shape[1]} columns all zero)",
                "the mask was drawn per unit (one number per column, e.g. rng.random(X.shape[1])), so a unit "
                "is dropped for every example at once; dropout draws a fresh mask entry for every example "
                "and unit: mask = rng.random(X.shape) >= p.")
    return None


def check_dropout_forward(fn, rng=0) -> CheckResult:
    r"""Exercise (08): the forward pass of inverted dropout.

    .. math:: \text{out} = \frac{m \odot X}{1 - p}, \quad m_{ij} \sim \mathrm{Bernoulli}(1 - p)
       \ \text{(training)}, \qquad \text{out} = X \ \text{(evaluation)}

    The learner writes ``dropout_forward(X, p, rng, training=True) -> out``.
    The mask is random, so the check tests what every right answer has on a
    large input: each entry is 0 or :math:`x/(1-p)`, a fraction :math:`p` of
    them 0, a new mask on each call from the same ``rng``, the same mask from
    the same seed, ``X`` itself in evaluation mode and ``X`` not modified.
    Diagnosed: no scaling, scaling by :math:`1-p` or by :math:`1/p`, ``p``
    taken as the keep probability, dropping or scaling in evaluation mode, a
    mask that never changes, ``rng`` not used, ``X`` changed in place, a mask
    drawn per row (whole examples dropped) or per column (a unit dropped for
    the whole batch) instead of per entry.
    """
    name = "dropout_forward"
    g = check_rng(rng)
    if not callable(fn):
        return CheckResult(False, f"expected the function {name} itself, got {describe(fn)}",
                           f"pass the function itself, without calling it: `{name}`, not `{name}(...)`.", name)
    X = g.uniform(0.5, 2.0, size=(400, 60))  # positive, so a dropped entry is exactly the zeros
    seed = int(g.integers(0, 2 ** 31))
    for p in (0.3, 0.6):
        where = f"with p = {p} on X of shape {X.shape}"

        def run(r, training=True):
            given = X.copy()
            out = _as_output(_quiet(fn, given, p, r, training), "out", name)
            if not np.array_equal(given, X):
                raise _Diagnosed(f"{name} changed X in place {where}",
                                 "return a new array (X * mask / (1 - p)); X *= mask changes the caller's data "
                                 "in place.")
            if out.shape != X.shape:
                raise _Diagnosed(f"out has shape {out.shape}, expected {X.shape} (the shape of X) {where}",
                                 "draw one mask entry per entry of X: rng.random(X.shape).")
            return out
        try:
            evaluation = run(np.random.default_rng(seed), training=False)
            first = run(np.random.default_rng(seed))
            again = run(np.random.default_rng(seed))
            r = np.random.default_rng(seed)
            one, two = run(r), run(r)
        except _Diagnosed as d:
            return CheckResult(False, d.message + ("" if where in d.message else f" {where}") + ".", d.diagnosis,
                               name)
        except Exception as exc:
            return CheckResult(False, f"{_summary(exc, name)}\n(called {where})", _exception_hint(exc), name)
        if not np.allclose(evaluation, X):
            if np.allclose(evaluation, X * (1 - p)) or np.allclose(evaluation, X / (1 - p)):
                hint = "in evaluation mode return X unchanged: the 1/(1 - p) scaling while training already " \
                       "keeps the expected output equal to X."
            else:
                hint = "in evaluation mode (training=False) nothing is dropped: return X itself."
            return CheckResult(False, f"with training=False the output differs from X {where}.", hint, name)
        shared = _shared_mask(first == 0)
        if shared:
            return CheckResult(False, f"{shared[0]} {where}.", shared[1], name)
        dropped = float(np.mean(first == 0))
        kept = first != 0
        ratio = first[kept] / X[kept] if kept.any() else np.array([np.nan])
        message = (f"{where}: {dropped:.1%} of the entries are 0 and the kept ones are X times "
                   f"{np.median(ratio):.4g}; expected about {p:.0%} zeros and X times 1/(1 - p) = {1 / (1 - p):.4g}.")
        if not np.allclose(ratio, 1.0 / (1.0 - p)):
            factors = ((1.0, "the kept entries are not scaled: divide by (1 - p) so that the expected output stays "
                        "X (inverted dropout), then evaluation needs no change."),
                       (1.0 - p, "multiplying by (1 - p) is the old test-time rule; inverted dropout divides the "
                        "kept entries by (1 - p) while training."),
                       (1.0 / p, "divide by the keep probability 1 - p, not by the drop probability p."))
            hint = next((h for c, h in factors if np.allclose(ratio, c)), "each kept entry should be x / (1 - p).")
            return CheckResult(False, message, hint, name)
        if abs(dropped - (1 - p)) < 0.02:
            return CheckResult(False, message, "p is the probability of *dropping* a unit: keep an entry when "
                               "rng.random(X.shape) >= p (probability 1 - p).", name)
        if abs(dropped - p) > 0.02:
            return CheckResult(False, message, "each entry should be dropped independently with probability p: "
                               "mask = rng.random(X.shape) >= p.", name)
        if not np.array_equal(first, again):
            return CheckResult(False, f"two calls with generators of the same seed gave different masks {where}.",
                               "draw the mask with the rng passed in (rng.random(X.shape)), not with np.random: "
                               "then a seed makes a run reproducible.", name)
        if np.array_equal(one, two):
            return CheckResult(False, f"two calls with the same generator gave the same mask {where}.",
                               "draw a fresh mask on every call from rng; do not re-seed or cache it.", name)
    return CheckResult(True, "a fraction p dropped, the rest scaled by 1/(1 - p), a fresh reproducible mask from "
                       "rng, X unchanged in evaluation mode: right for p = 0.3 and p = 0.6.", None, name)


def _bias_variance_case(g, D: int, P: int) -> Case:
    x = np.linspace(0.0, 1.0, P)
    f = np.sin(2 * np.pi * x)
    # fits that are off on average (a bias of 0.4 cos 2 pi x) and scatter around that average (sd 0.15)
    preds = f + 0.4 * np.cos(2 * np.pi * x) + 0.15 * g.normal(size=(D, P))
    return Case({"preds": preds, "f": f}, f"preds of shape ({D}, {P}): {D} draws, {P} test points")


def _bv_variant(a, kind):
    preds, f = a["preds"], a["f"]
    mean = preds.mean(axis=0)
    bias2, variance = np.mean((mean - f) ** 2), np.mean((preds - mean) ** 2)
    return {"swapped": (variance, bias2),
            "mse": (np.mean((preds - f) ** 2), variance),
            "unsquared": (np.mean(mean - f), variance),
            "square_last": (np.mean(mean - f) ** 2, variance),
            "ddof1": (bias2, np.mean(preds.var(axis=0, ddof=1))),
            "std": (bias2, np.mean(preds.std(axis=0))),
            "over_points": (bias2, np.mean(preds.var(axis=1)))}[kind]


def check_bias_variance(fn, rng=0) -> CheckResult:
    r"""Exercise (08): squared bias and variance of fits to many draws of the data.

    .. math:: \bar y = \tfrac1D\textstyle\sum_d y_d, \qquad
       \text{bias}^2 = \operatorname{mean}_p(\bar y - f)^2, \qquad
       \text{variance} = \operatorname{mean}_p \tfrac1D\textstyle\sum_d (y_d - \bar y)^2

    The learner writes ``bias_variance(preds, f) -> (bias2, variance)`` with
    ``preds`` (D, P), one row of predictions per draw, and ``f`` (P,).
    Diagnosed: the two swapped, the mean squared error taken for the squared
    bias (squared before averaging over draws), the bias not squared, the
    squared bias averaged over test points before squaring, the variance with
    1/(D - 1), the standard deviation instead of the variance, the variance
    taken across test points instead of across draws.
    """
    g = check_rng(rng)
    cases = [_bias_variance_case(g, 40, 25), _bias_variance_case(g, 300, 7)]
    variant = lambda kind: (lambda a, r: dict(zip(("bias2", "variance"), _bv_variant(a, kind))))  # noqa: E731
    mistakes = (
        Mistake("variance and squared bias are swapped", "the squared bias is about the *average* fit: "
                "(preds.mean(axis=0) - f)**2; the variance is about the scatter of each draw's fit around that "
                "average: (preds - preds.mean(axis=0))**2.", variant("swapped")),
        Mistake("that squared bias is the whole mean squared error", "mean((preds - f)**2) squares before "
                "averaging over the draws, which is bias^2 + variance; average the draws first: "
                "ybar = preds.mean(axis=0), then mean((ybar - f)**2).", variant("mse")),
        Mistake("the bias is not squared", "errors of opposite sign cancel in mean(ybar - f): square each "
                "point's bias, mean((ybar - f)**2).", variant("unsquared")),
        Mistake("the bias is averaged over test points before squaring", "(mean(ybar - f))**2 lets a fit "
                "that is too high here and too low there look unbiased; square at each point, then average: "
                "mean((ybar - f)**2).", variant("square_last")),
        Mistake("the variance divides by D - 1", "with ddof=1 the two parts no longer add up to the mean "
                "squared error over the draws; use the plain average over draws, np.var(preds, axis=0) "
                "(ddof=0).", variant("ddof1")),
        Mistake("that is the standard deviation, not the variance", "variance is the mean *squared* "
                "deviation: np.var(preds, axis=0).mean(), not np.std.", variant("std")),
        Mistake("the variance is taken across test points instead of across draws", "axis=1 measures how "
                "much one fit varies along x; the variance of the method is how much the fit at one x varies "
                "from draw to draw: np.var(preds, axis=0), then the mean over points.", variant("over_points")),
    )

    def call(fn, a):
        raw = fn(a["preds"], a["f"])
        if not isinstance(raw, (tuple, list)) or len(raw) != 2:
            raise _Diagnosed(f"bias_variance should return 2 values (bias2, variance), got {describe(raw)}",
                             "end the function with `return bias2, variance`.")
        return tuple(raw)

    return check_outputs(fn, name="bias_variance", reference=lambda a: bias_variance(a["preds"], a["f"]),
                         cases=cases, outputs=("bias2", "variance"), mistakes=mistakes, call=call,
                         source="mean((ybar - f)**2) and the mean over points of var over draws")
