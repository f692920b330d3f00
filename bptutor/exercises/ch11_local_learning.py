r"""Exercise checks for chapter 11, local learning rules.

* ``check_dfa_updates``: ``dfa_updates(X, E, Z1, Z2, W2, W3, B1, B2) -> (dW1, dW2)``
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



def _dfa(a, *, backprop=False, through_layer_2=False, fprime="tanh"):
    """DFA's hidden-layer updates (the reference at the defaults) and the ways to get them wrong."""
    X, E, Z1, Z2, W2, W3, B1, B2 = (a[k] for k in ("X", "E", "Z1", "Z2", "W2", "W3", "B1", "B2"))
    A1, A2 = np.tanh(Z1), np.tanh(Z2)
    deriv = {"tanh": lambda Z, A: 1 - A ** 2, "none": lambda Z, A: 1.0, "of_Z": lambda Z, A: 1 - Z ** 2}[fprime]
    delta2 = (E @ (W3.T if backprop else B2)) * deriv(Z2, A2)            # (N, H2)
    delta1 = ((delta2 @ W2.T) if backprop or through_layer_2 else (E @ B1)) * deriv(Z1, A1)  # (N, H1)
    return X.T @ delta1, A1.T @ delta2


def check_dfa_updates(fn, rng=0) -> CheckResult:
    r"""Exercise (11): the hidden layers' weight updates of direct feedback alignment (Nøkland 2016).

    For a 2-hidden-layer tanh network :math:`A_l = \tanh(Z_l)` with output error :math:`E` (N, C):

    .. math:: \delta_2 = (E B_2) \odot (1 - A_2^2), \quad \delta_1 = (E B_1) \odot (1 - A_1^2), \quad
        dW_2 = A_1^\top \delta_2, \quad dW_1 = X^\top \delta_1

    The learner writes ``dfa_updates(X, E, Z1, Z2, W2, W3, B1, B2) -> (dW1, dW2)`` with ``X`` (N, D),
    ``E`` (N, C), ``Z1`` (N, H1), ``Z2`` (N, H2), ``W2`` (H1, H2), ``W3`` (H2, C), ``B1`` (C, H1),
    ``B2`` (C, H2); all sizes differ. ``W2`` and ``W3`` are given because a network has them, and DFA
    must not use them. Diagnosed: backprop's transposed weights instead of ``B`` (the backprop
    gradient), layer 1's error sent through layer 2 (``delta2 @ W2.T``) instead of straight from
    ``E``, the activation's derivative left out, the derivative taken as ``1 - Z**2`` instead of
    ``1 - tanh(Z)**2``.
    """
    g = check_rng(rng)

    def case(N, D, H1, H2, C):
        return Case({"X": g.normal(size=(N, D)), "E": g.normal(size=(N, C)) / N,
                     "Z1": g.normal(size=(N, H1)), "Z2": g.normal(size=(N, H2)),
                     "W2": g.normal(size=(H1, H2)), "W3": g.normal(size=(H2, C)),
                     "B1": g.normal(size=(C, H1)), "B2": g.normal(size=(C, H2))},
                    "random activities and errors", {"N": N, "D": D, "H1": H1, "H2": H2, "C": C})
    cases = [case(6, 3, 5, 4, 2), case(7, 2, 4, 6, 3), case(5, 4, 3, 5, 1)]

    def variant(**switches):
        return lambda a, r: dict(zip(("dW1", "dW2"), _dfa(a, **switches)))

    mistakes = (
        Mistake("backprop's transposed weights instead of B", "that is backprop: DFA sends the output error "
                "through the fixed random matrices, delta2 = (E @ B2) * (1 - tanh(Z2)**2), never through W3.T or "
                "W2.T.", variant(backprop=True)),
        Mistake("layer 1's error came through layer 2", "in DFA every hidden layer gets the output error "
                "directly: delta1 = (E @ B1) * (1 - tanh(Z1)**2), not delta2 @ W2.T (that is layer-by-layer, "
                "as in backprop and FA).", variant(through_layer_2=True)),
        Mistake("the activation's derivative is missing", "multiply the feedback by f'(Z) = 1 - tanh(Z)**2, "
                "elementwise: delta = (E @ B) * (1 - np.tanh(Z)**2).", variant(fprime="none")),
        Mistake("the derivative was taken of Z, not of tanh(Z)", "tanh'(Z) = 1 - tanh(Z)**2; 1 - Z**2 is the "
                "formula written with the activation A = tanh(Z), so apply it to A.", variant(fprime="of_Z")),
    )
    return check_outputs(fn, name="dfa_updates", reference=lambda a: _dfa(a), cases=cases,
                         outputs=("dW1", "dW2"), mistakes=mistakes, like={"dW1": "W1", "dW2": "W2"},
                         source="bptutor.local_learning.DirectFeedbackAlignment's rule")
