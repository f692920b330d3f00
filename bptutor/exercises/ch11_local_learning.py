r"""Exercise checks for chapter 11, local learning rules.

* ``check_ff_layer_loss``: ``ff_layer_loss(H_pos, H_neg, threshold) -> (loss, dH_pos, dH_neg)``
"""
from __future__ import annotations

import numpy as np

from .._checks import check_rng
from ..gradcheck import numerical_gradient
from ..local_learning import ff_layer_loss
from ._core import Case, CheckResult, Mistake, check_outputs


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _ff(a, *, good="sum_sq", neg_sign=1.0, factor=2.0, mean=True, weight=True, grad_sign=1.0):
    """Forward-forward's layer loss (the reference when every switch is at its default) and its mistakes."""
    P, N, th = a["H_pos"], a["H_neg"], a["threshold"]
    G = {"sum_sq": lambda H: np.sum(H * H, axis=1), "sum": lambda H: np.sum(H, axis=1),
         "mean_sq": lambda H: np.mean(H * H, axis=1)}[good]
    dG = {"sum_sq": lambda H: factor * H, "sum": lambda H: np.ones_like(H), "mean_sq": lambda H: factor * H / H.shape[1]}[good]
    over_pos, over_neg = th - G(P), neg_sign * (G(N) - th)
    loss = np.mean(_softplus(over_pos)) + np.mean(_softplus(over_neg))
    w_pos = _sigmoid(over_pos) if weight else np.ones(len(P))
    w_neg = _sigmoid(over_neg) if weight else np.ones(len(N))
    n_pos, n_neg = (len(P), len(N)) if mean else (1, 1)
    dP = -grad_sign * w_pos[:, None] * dG(P) / n_pos
    dN = grad_sign * neg_sign * w_neg[:, None] * dG(N) / n_neg
    if not mean:
        loss = np.sum(_softplus(over_pos)) + np.sum(_softplus(over_neg))
    return float(loss), dP, dN


def check_ff_layer_loss(fn, rng=0) -> CheckResult:
    r"""Exercise (11): forward-forward's local loss of one layer and its gradient (Hinton 2022).

    .. math:: G_n = \sum_j H_{nj}^2, \quad
        L = \frac1{N_+}\sum_n \operatorname{softplus}(\theta - G^+_n) + \frac1{N_-}\sum_n \operatorname{softplus}(G^-_n - \theta),

    .. math:: \frac{\partial L}{\partial H^+_n} = -\frac{2\sigma(\theta - G^+_n)}{N_+} H^+_n, \qquad
        \frac{\partial L}{\partial H^-_n} = \frac{2\sigma(G^-_n - \theta)}{N_-} H^-_n

    The learner writes ``ff_layer_loss(H_pos, H_neg, threshold) -> (loss, dH_pos, dH_neg)``
    with ``H_pos`` (N+, H), ``H_neg`` (N-, H) non-negative (ReLU activities)
    and N+ != N-. Diagnosed: goodness as the sum of the activities, or as the
    mean of their squares; the negative term with the positive term's sign (both
    pushed up); the factor 2 of the square's derivative left out; sums over
    examples instead of means; the softplus's derivative :math:`\sigma` left out;
    the gradient's sign flipped (the direction to *move*, not the gradient).
    """
    g = check_rng(rng)
    cases = [Case({"H_pos": np.abs(g.normal(size=(Np, H))), "H_neg": np.abs(g.normal(size=(Nn, H))),
                   "threshold": th}, "ReLU activities, goodness near the threshold", {"N+": Np, "N-": Nn, "H": H})
             for Np, Nn, H, th in ((5, 3, 4, 3.0), (4, 6, 3, 2.5), (3, 2, 6, 5.0))]

    def variant(**switches):
        return lambda a, r: dict(zip(("loss", "dH_pos", "dH_neg"), _ff(a, **switches)))

    mistakes = (
        Mistake("goodness as the sum of the activities", "goodness is the sum of the *squared* activities, "
                "np.sum(H**2, axis=1), not np.sum(H, axis=1).", variant(good="sum")),
        Mistake("goodness as the mean of the squares", "this chapter's goodness (Hinton 2022) is the sum over "
                "the units, np.sum(H**2, axis=1); the mean divides by H and moves the threshold.",
                variant(good="mean_sq")),
        Mistake("the negative term has the wrong sign", "negative data should get LOW goodness: its term is "
                "softplus(G_neg - threshold), not softplus(threshold - G_neg).", variant(neg_sign=-1.0)),
        Mistake("the factor 2 is missing", "the derivative of G = sum(H**2) with respect to H is 2 * H.",
                variant(factor=1.0)),
        Mistake("summed over examples instead of averaged", "each term is a mean over its own examples: "
                "divide by len(H_pos) and by len(H_neg).", variant(mean=False)),
        Mistake("the softplus's derivative is missing", "d softplus(x)/dx = sigmoid(x): weight each example's "
                "2 * H by sigmoid(threshold - G_pos) (positive) or sigmoid(G_neg - threshold) (negative).",
                variant(weight=False)),
        Mistake("the gradient's sign is flipped", "return the gradient of the loss (the optimizer subtracts "
                "it): dH_pos = -2 sigmoid(threshold - G_pos) H_pos / N+, dH_neg = +2 sigmoid(G_neg - threshold) "
                "H_neg / N-.", variant(grad_sign=-1.0)),
    )

    def numeric(a):
        P, N, th = a["H_pos"].copy(), a["H_neg"].copy(), a["threshold"]
        return {"dH_pos": numerical_gradient(lambda A: ff_layer_loss(A, a["H_neg"], th)[0], P),
                "dH_neg": numerical_gradient(lambda A: ff_layer_loss(a["H_pos"], A, th)[0], N)}

    return check_outputs(fn, name="ff_layer_loss", reference=lambda a: ff_layer_loss(**a), cases=cases,
                         outputs=("loss", "dH_pos", "dH_neg"), mistakes=mistakes,
                         like={"dH_pos": "H_pos", "dH_neg": "H_neg"}, numeric=numeric,
                         source="bptutor.local_learning.ff_layer_loss")
