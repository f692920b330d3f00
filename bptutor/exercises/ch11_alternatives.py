r"""Exercise checks for chapter 11, alternatives to backprop.

* ``check_central_differences``: ``central_differences(f, theta, h) -> grad``
* ``check_spsa_estimate``: ``spsa_estimate(f, theta, c, delta) -> g_hat``
* ``check_oja_step``: ``oja_step(w, x, lr) -> w``
"""
from __future__ import annotations

import numpy as np

from .._checks import check_rng
from ..alternatives import oja_update
from ._core import Case, CheckResult, Mistake, _Diagnosed, check_outputs


# --- 11 alternatives to backprop ---------------------------------------------------------------------------
def _smooth_function(g, P: int):
    """A smooth, non-quadratic f(theta) (its odd derivatives do not vanish, so one-sided and central
    differences differ clearly): 1/2 theta^T A theta + sum(a * sin(theta)) + exp(b . theta) / 4."""
    Q = g.normal(size=(P, P))
    A, a, b = Q @ Q.T / P, g.normal(size=P), g.normal(size=P) / P

    def f(theta):
        return float(0.5 * theta @ A @ theta + a @ np.sin(theta) + 0.25 * np.exp(b @ theta))
    return f


def _differences(a, *, one_sided=False, divide=2.0, all_at_once=False, keep_nudge=False, sign=1.0):
    """Central differences (the reference) and the ways to get them wrong."""
    f, x, h = a["f"], np.array(a["theta"], dtype=np.float64), a["h"]
    grad = np.zeros_like(x)
    for i in range(x.size):
        e = np.ones_like(x) if all_at_once else np.eye(x.size)[i]
        if keep_nudge:  # theta[i] += h; f; theta[i] -= 2h; f; and theta[i] is never put back
            x[i] += h
            up = f(x)
            x[i] -= 2 * h
            down = f(x)
        else:
            up, down = f(x + h * e), (f(x) if one_sided else f(x - h * e))
        grad[i] = sign * (up - down) / ((1.0 if one_sided else divide) * h)
    return grad


def check_central_differences(fn, rng=0) -> CheckResult:
    r"""Exercise (11): the gradient of a function of a vector by central differences.

    .. math:: g_i = \frac{f(\theta + h e_i) - f(\theta - h e_i)}{2h}, \qquad i = 1, \dots, P

    The learner writes ``central_differences(f, theta, h) -> grad`` with
    ``theta`` and ``grad`` of shape (P,), leaving ``theta`` as it was. The
    functions are smooth but not quadratic and ``h`` is large (1e-3), so a
    one-sided difference is visibly wrong. Diagnosed: a one-sided (forward)
    difference, division by ``h`` instead of ``2h``, every coordinate nudged at
    once, a nudge never undone (on a copy, or ``theta`` itself left changed),
    a sign error.
    """
    g = check_rng(rng)
    cases = [Case({"f": _smooth_function(g, P), "theta": g.normal(size=P), "h": 1e-3},
                  "a smooth non-quadratic f", {"P": P}) for P in (5, 3, 8)]

    def call(fn, a):
        theta = a["theta"]
        given = theta.copy()
        raw = fn(a["f"], theta, a["h"])
        if not np.array_equal(theta, given):
            raise _Diagnosed("central_differences left theta changed",
                             "a nudge was not undone: after evaluating f at theta[i] + h and theta[i] - h, "
                             "put theta[i] back to its old value (or nudge a copy: x = theta.copy()).")
        return raw

    def variant(**switches):
        return lambda a, r: {"grad": _differences(a, **switches)}

    mistakes = (
        Mistake("one-sided difference", "(f(theta + h e_i) - f(theta)) / h has an error of order h; the "
                "central difference (f(theta + h e_i) - f(theta - h e_i)) / (2h) cancels it, leaving h**2.",
                variant(one_sided=True)),
        Mistake("divided by h instead of 2h", "the two points theta + h e_i and theta - h e_i are 2h apart: "
                "divide the difference by 2 * h.", variant(divide=1.0)),
        Mistake("every coordinate nudged at once", "nudge one coordinate at a time: e_i is the i-th unit "
                "vector (np.eye(P)[i]), not a vector of ones; adding h to all of theta gives the same number "
                "for every i.", variant(all_at_once=True)),
        Mistake("a nudge was not undone", "after theta[i] += h and theta[i] -= 2 * h, put theta[i] back "
                "(theta[i] += h), or later coordinates are evaluated at a shifted point.",
                variant(keep_nudge=True)),
        Mistake("sign error", "f(theta + h e_i) comes first: (f(plus) - f(minus)) / (2h).", variant(sign=-1.0)),
    )
    return check_outputs(fn, name="central_differences", reference=lambda a: _differences(a), cases=cases,
                         outputs=("grad",), mistakes=mistakes, like={"grad": "theta"}, call=call,
                         source="central differences")


def _spsa(a, *, one_sided=False, divide=2.0, no_delta_in_step=False, scalar=False, sign=1.0):
    f, theta, c, delta = a["f"], a["theta"], a["c"], a["delta"]
    step = c * (np.ones_like(delta) if no_delta_in_step else delta)
    up, down = f(theta + step), (f(theta) if one_sided else f(theta - step))
    slope = sign * (up - down) / ((1.0 if one_sided else divide) * c)
    return np.float64(slope) if scalar else slope / delta


def check_spsa_estimate(fn, rng=0) -> CheckResult:
    r"""Exercise (11): one SPSA gradient estimate for a given random direction (Spall 1992).

    .. math:: \hat g_i = \frac{f(\theta + c\Delta) - f(\theta - c\Delta)}{2c\,\Delta_i}

    The learner writes ``spsa_estimate(f, theta, c, delta) -> g_hat`` with
    ``theta``, ``delta`` (entries :math:`\pm 1`) and ``g_hat`` of shape (P,),
    using two evaluations of ``f`` (multiplying by :math:`\Delta_i` equals
    dividing, since :math:`\Delta_i = \pm 1`). Diagnosed: a one-sided difference,
    division by ``c`` instead of ``2c``, the perturbation without
    :math:`\Delta`, the scalar difference quotient returned instead of a vector,
    a sign error.
    """
    g = check_rng(rng)
    cases = [Case({"f": _smooth_function(g, P), "theta": g.normal(size=P), "c": 0.1,
                   "delta": 2.0 * g.integers(0, 2, size=P) - 1.0}, "a smooth non-quadratic f", {"P": P})
             for P in (6, 4, 9)]
    for case in cases:  # a delta of all equal signs would hide the perturbation-without-delta mistake
        case.args["delta"][:2] = (1.0, -1.0)

    def variant(**switches):
        return lambda a, r: {"g_hat": _spsa(a, **switches)}

    mistakes = (
        Mistake("one-sided difference", "evaluate at both theta + c * delta and theta - c * delta: the central "
                "difference cancels the error of order c.", variant(one_sided=True)),
        Mistake("divided by c instead of 2c", "theta + c delta and theta - c delta are 2c apart along delta: "
                "divide by 2 * c.", variant(divide=1.0)),
        Mistake("the perturbation is missing delta", "move all coordinates along the random direction: "
                "theta + c * delta, not theta + c.", variant(no_delta_in_step=True)),
        Mistake("returned one number", "the difference quotient is the slope along delta, one number; the "
                "estimate of coordinate i divides it by delta[i], giving a vector of shape (P,).",
                variant(scalar=True)),
        Mistake("sign error", "f(theta + c delta) comes first: (f(plus) - f(minus)) / (2c).", variant(sign=-1.0)),
    )
    return check_outputs(fn, name="spsa_estimate", reference=lambda a: _spsa(a), cases=cases,
                         outputs=("g_hat",), mistakes=mistakes, like={"g_hat": "theta"},
                         source="bptutor.alternatives.spsa_gradient's formula")


def _oja(a, *, decay="y*y", normalise=False, sign=1.0):
    w, x, lr = a["w"], a["x"], a["lr"]
    y = w @ x
    if normalise:
        v = w + lr * y * x
        return v / np.linalg.norm(v)
    shrink = {"y*y": y * y * w, "y": y * w, "none": 0.0 * w}[decay]
    return w + sign * lr * (y * x - shrink)


def check_oja_step(fn, rng=0) -> CheckResult:
    r"""Exercise (11): one update of Oja's rule (Oja 1982).

    .. math:: y = w\cdot x, \qquad w \leftarrow w + \eta\, y\,(x - y\,w)

    The learner writes ``oja_step(w, x, lr) -> w`` with ``w`` and ``x`` of
    shape (D,). The weights given are not of length 1, so the decay term
    shows. Diagnosed: plain Hebb (no decay), a decay :math:`y\,w` instead of
    :math:`y^2 w`, Hebb followed by an exact normalisation (Oja's rule is its
    first-order form), a sign error.
    """
    g = check_rng(rng)
    cases = [Case({"w": g.normal(size=D) * 1.5, "x": g.normal(size=D) * 2.0, "lr": lr}, "weights not of length 1")
             for D, lr in ((3, 0.1), (5, 0.05), (2, 0.2))]

    def variant(**switches):
        return lambda a, r: {"w": _oja(a, **switches)}

    mistakes = (
        Mistake("plain Hebb, no decay", "Hebb's w + lr * y * x grows without bound; Oja subtracts lr * y**2 * w: "
                "w + lr * y * (x - y * w).", variant(decay="none")),
        Mistake("the decay is y * w, not y**2 * w", "the forgetting term is y times y * w: "
                "w + lr * y * (x - y * w).", variant(decay="y")),
        Mistake("normalised Hebb instead of Oja", "dividing w + lr * y * x by its norm is the rule Oja's "
                "approximates; keep only its first-order term: w + lr * y * (x - y * w).",
                variant(normalise=True)),
        Mistake("sign error", "Hebbian learning strengthens weights whose input and output agree: "
                "w + lr * y * (x - y * w), with a plus.", variant(sign=-1.0)),
    )
    return check_outputs(fn, name="oja_step", reference=lambda a: oja_update(a["w"], a["x"], a["lr"]),
                         cases=cases, outputs=("w",), mistakes=mistakes, like={"w": "w"},
                         source="bptutor.alternatives.oja_update")
