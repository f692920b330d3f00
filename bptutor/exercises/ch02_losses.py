"""Exercise checks for chapter 02, loss functions and their gradients.

* ``check_mse``: ``mse(pred, target) -> (loss, dpred)``
* ``check_softmax_cross_entropy``: ``softmax_cross_entropy(logits, y) -> (loss, dlogits)``
* ``check_logsumexp``: ``logsumexp(Z) -> lse``
"""
from __future__ import annotations

import numpy as np

from .. import activations as act
from .._checks import check_rng
from ..losses import cross_entropy_loss, mse_loss
from ._core import Case, CheckResult, Mistake, check_outputs, _fd


# --- 02 loss functions -----------------------------------------------------------------------------------
def check_mse(fn, rng=0) -> CheckResult:
    r"""Exercise (02): mean squared error and its gradient.

    .. math:: L = \frac{1}{M}\sum (p - t)^2, \qquad \frac{\partial L}{\partial p} = \frac{2(p - t)}{M}

    over all :math:`M = N \cdot C` entries. The learner writes ``mse(pred,
    target) -> (loss, dpred)``, ``loss`` a number, ``dpred`` of ``pred``'s
    shape (N, C). Diagnosed: loss not reduced, sum instead of mean (missing
    1/M), mean over the rows only (1/N), missing factor 2, sign flip, halved loss.
    """
    g = check_rng(rng)
    cases = []
    for n, c in ((5, 3), (4, 2), (3, 6)):
        cases.append(Case({"pred": g.normal(size=(n, c)), "target": g.normal(size=(n, c))},
                          dims={"N": n, "M = N·C": n * c}))
    d = lambda a: a["pred"] - a["target"]  # noqa: E731
    M = lambda a: a["pred"].size  # noqa: E731
    N = lambda a: len(a["pred"])  # noqa: E731
    mean_hint = ("the mean divides by M = N·C = pred.size, the number of entries, and so does its "
                 "gradient: 2 * (pred - target) / M.")
    mistakes = (
        Mistake("the loss was not reduced to one number", "average the squared errors: "
                "np.mean((pred - target) ** 2).", lambda a, r: {"loss": d(a) ** 2}),
        Mistake("sum instead of mean (missing 1/M)", mean_hint,
                lambda a, r: {"loss": np.sum(d(a) ** 2), "dpred": 2 * d(a)}),
        Mistake("divided by N instead of N·C", "divide by every entry's count, M = N·C = pred.size, not "
                "only by N = len(pred).",
                lambda a, r: {"loss": np.sum(d(a) ** 2) / N(a), "dpred": 2 * d(a) / N(a)}),
        Mistake("missing factor 2 in the gradient", "d/dp (p - t)^2 = 2 (p - t).",
                lambda a, r: {"dpred": d(a) / M(a)}),
        Mistake("sign flip in the gradient", "differentiate with respect to pred: 2 * (pred - target) / M; "
                "2 * (target - pred) / M is the gradient with respect to target.",
                lambda a, r: {"dpred": -r["dpred"]}),
        Mistake("the loss is halved", "that is the 1/2 sum (t - o)^2 convention of notebook 04; here the "
                "loss is the plain mean of the squared errors.", lambda a, r: {"loss": r["loss"] / 2}),
    )
    numeric = lambda a: _fd(lambda a: mse_loss(a["pred"], a["target"])[0], a, {"dpred": "pred"})  # noqa: E731
    return check_outputs(fn, name="mse", reference=lambda a: mse_loss(a["pred"], a["target"]), cases=cases,
                         outputs=("loss", "dpred"), mistakes=mistakes, numeric=numeric,
                         source="bptutor.losses.mse_loss")


def _ce_case(g, n: int, c: int, scale: float = 1.0, note: str = "") -> Case:
    return Case({"logits": g.normal(size=(n, c)) * scale, "y": g.integers(0, c, size=n)}, note,
                {"N": n, "C": c, "N·C": n * c})


def check_softmax_cross_entropy(fn, rng=0) -> CheckResult:
    r"""Exercise (02): softmax cross-entropy from logits and its gradient :math:`(P - Y)/N`.

    .. math:: L = -\frac{1}{N}\sum_n \log P_{n, y_n}, \qquad
        \frac{\partial L}{\partial Z} = \frac{P - Y}{N}, \qquad P = \operatorname{softmax}(Z)

    The learner writes ``softmax_cross_entropy(logits, y) -> (loss, dlogits)``
    with ``logits`` (N, C), integer labels ``y`` (N,). Diagnosed: no
    max-subtraction (overflow at large logits), ``log(softmax)`` underflow,
    missing 1/N, dividing by N·C, wrong sign of the loss or the gradient,
    forgotten one-hot subtraction, softmax over the wrong axis.
    """
    g = check_rng(rng)
    cases = [_ce_case(g, 5, 3), _ce_case(g, 4, 6), _ce_case(g, 4, 3, 1000.0, "large logits (about ±1000)")]

    def parts(a, axis=1):
        Z, y = a["logits"], a["y"]
        N = len(Z)
        Y = np.zeros_like(Z)
        Y[np.arange(N), y] = 1.0
        E = np.exp(Z - Z.max(axis=axis, keepdims=True))
        return E / E.sum(axis=axis, keepdims=True), Y, N

    def naive(a, r):
        Z, y = a["logits"], a["y"]
        E = np.exp(Z)
        P = E / E.sum(axis=1, keepdims=True)
        _, Y, N = parts(a)
        return {"loss": -np.mean(np.log(P[np.arange(N), y])), "dlogits": (P - Y) / N}

    def log_of_softmax(a, r):
        P, Y, N = parts(a)
        return {"loss": -np.mean(np.log(P[np.arange(N), a["y"]]))}

    def wrong_axis(a, r):
        P, Y, N = parts(a, axis=0)
        return {"loss": -np.mean(np.log(P[np.arange(N), a["y"]])), "dlogits": (P - Y) / N}

    mistakes = (
        Mistake("no max subtraction (overflow)", "exp(1000) is inf in float64. Subtract each row's maximum "
                "before exp: softmax(z) = softmax(z - max z) mathematically, and every exponent is then <= 0.",
                naive),
        Mistake("log of the softmax underflows", "a probability that rounds to 0 gives log(0) = -inf. Compute "
                "log-probabilities directly: Z - logsumexp(Z) (bptutor.activations.log_softmax).",
                log_of_softmax),
        Mistake("missing 1/N", "the loss is the mean over the N examples: divide the sum by N, and the "
                "gradient too: (P - Y) / N.", lambda a, r: {"loss": r["loss"] * len(a["y"]),
                                                             "dlogits": r["dlogits"] * len(a["y"])}),
        Mistake("divided by N·C", "each row's loss already sums over its C classes; average over the N rows "
                "only.", lambda a, r: {"loss": r["loss"] / a["logits"].shape[1],
                                       "dlogits": r["dlogits"] / a["logits"].shape[1]}),
        Mistake("wrong sign of the loss", "L = -mean(log p_y): log of a probability is negative, the minus "
                "sign makes the loss positive.", lambda a, r: {"loss": -r["loss"]}),
        Mistake("sign flip in the gradient", "dL/dz = (p - y) / N: the probabilities minus the one-hot "
                "targets.", lambda a, r: {"dlogits": -r["dlogits"]}),
        Mistake("forgot to subtract the one-hot targets", "the gradient is (P - Y) / N, with Y[n, y[n]] = 1.",
                lambda a, r: {"dlogits": parts(a)[0] / len(a["y"])}),
        Mistake("softmax over the wrong axis", "normalise each row (one example's C scores): sum over "
                "axis=1 with keepdims=True.", wrong_axis),
    )

    def numeric(a):
        return _fd(lambda a: cross_entropy_loss(a["logits"], a["y"])[0], a, {"dlogits": "logits"})

    return check_outputs(fn, name="softmax_cross_entropy",
                         reference=lambda a: cross_entropy_loss(a["logits"], a["y"]), cases=cases,
                         outputs=("loss", "dlogits"), mistakes=mistakes, numeric=numeric,
                         source="bptutor.losses.cross_entropy_loss")


def check_logsumexp(fn, rng=0) -> CheckResult:
    r"""Exercise (02): a stable row-wise log-sum-exp, :math:`m + \log\sum_j e^{z_j - m}`.

    The learner writes ``logsumexp(Z) -> (N,)`` for ``Z`` (N, C), one number
    per row. Diagnosed: the naive formula (overflow to inf, underflow to
    -inf), the maximum not added back, one maximum for the whole array, the
    wrong axis, an (N, 1) result.
    """
    g = check_rng(rng)
    # The naive formula overflows in rows 0 and 3; one global maximum underflows rows 1 and 2.
    mixed = g.normal(size=(4, 3)) + np.array([[1000.0], [0.0], [5.0], [1200.0]])
    cases = [Case({"Z": g.normal(size=(5, 3))}), Case({"Z": g.normal(size=(3, 6)) * 3}),
             Case({"Z": g.normal(size=(4, 3)) + 1000.0}, "large values (about 1000)"),
             Case({"Z": g.normal(size=(4, 3)) - 1000.0}, "very negative values (about -1000)"),
             Case({"Z": mixed}, "rows on very different scales (1000, 0, 5, 1200)")]
    row_max = lambda Z: Z.max(axis=1, keepdims=True)  # noqa: E731
    mistakes = (
        Mistake("the naive formula overflows", "factor out each row's maximum m: "
                "lse(z) = m + log(sum(exp(z - m))), so the largest exponent is exp(0) = 1.",
                lambda a, r: {"lse": np.log(np.sum(np.exp(a["Z"]), axis=1))}),
        Mistake("the maximum was not added back", "log(sum(exp(z - m))) is lse(z) - m: add m back.",
                lambda a, r: {"lse": np.log(np.sum(np.exp(a["Z"] - row_max(a["Z"])), axis=1))}),
        Mistake("one maximum for the whole array", "use each row's own maximum, Z.max(axis=1, keepdims=True); "
                "a row far below the global maximum underflows to log(0) = -inf.",
                lambda a, r: {"lse": a["Z"].max() + np.log(np.sum(np.exp(a["Z"] - a["Z"].max()), axis=1))}),
        Mistake("reduced over the wrong axis", "one number per row: reduce over axis=1 (the C columns).",
                lambda a, r: {"lse": act.logsumexp(a["Z"], axis=0)}),
        Mistake("the kept axis was not removed", "return shape (N,): use keepdims=True only inside, then "
                "take [:, 0] (or np.squeeze(..., axis=1)).", lambda a, r: {"lse": r["lse"][:, None]}),
    )
    return check_outputs(fn, name="logsumexp", reference=lambda a: act.logsumexp(a["Z"], axis=1), cases=cases,
                         outputs=("lse",), mistakes=mistakes, source="bptutor.activations.logsumexp")
