"""Exercise checks for chapter 07, activations and initialization.

* ``check_xavier_uniform``: ``xavier_uniform(fan_in, fan_out, rng) -> W``
* ``check_leaky_relu_std``: ``leaky_relu_std(fan_in, slope) -> std``
"""
from __future__ import annotations

import numpy as np

from .._checks import check_rng, describe
from ._core import (Case, CheckResult, Mistake, _as_output, _Diagnosed, _exception_hint, _quiet, _summary,
                    check_outputs)


# --- 07 activations and initialization -------------------------------------------------------------------
def _sampler_call(fn, name: str, args: tuple):
    """Call a learner's random sampler; a returned non-array is a _Diagnosed complaint."""
    out = _quiet(fn, *args)
    return _as_output(out, "W", name)


def _sample_problem(fn, name: str, fan_in: int, fan_out: int, seed: int):
    """Shape, reproducibility and use of ``rng`` of ``fn(fan_in, fan_out, rng)``; None when all is well."""
    W = _sampler_call(fn, name, (fan_in, fan_out, np.random.default_rng(seed)))
    if W.shape == (fan_out, fan_in):
        return W, ("W is transposed", f"return shape (fan_in, fan_out) = ({fan_in}, {fan_out}), the layout of "
                   "Linear.W (X @ W); you returned (fan_out, fan_in).")
    if W.shape != (fan_in, fan_out):
        return W, (f"W has shape {W.shape}", f"return an array of shape (fan_in, fan_out) = ({fan_in}, {fan_out}).")
    again = _sampler_call(fn, name, (fan_in, fan_out, np.random.default_rng(seed)))
    if not np.array_equal(W, again):
        return W, ("the generator passed in is not used", "draw with the rng argument (rng.uniform(...)), not "
                   "with np.random.uniform or a new generator: the same rng must give the same weights.")
    return W, None


def check_xavier_uniform(fn, rng=0) -> CheckResult:
    r"""Exercise (07): Glorot & Bengio's uniform rule.

    .. math:: W_{ij} \sim U[-a, a], \qquad a = \sqrt{\frac{6}{n_{in} + n_{out}}}
       \quad\Big(\mathrm{Var}(W) = \frac{a^2}{3} = \frac{2}{n_{in} + n_{out}}\Big)

    The learner writes ``xavier_uniform(fan_in, fan_out, rng) -> W`` of shape
    ``(fan_in, fan_out)``. The weights are random, so the check draws many of
    them (non-square fans) and tests what any right answer has: the shape,
    the same weights from the same seed, a symmetric range whose edge
    (``max |W|``) is :math:`a`, and no values beyond it; then the mean (0), the
    variance (:math:`a^2/3`) and the distribution (Kolmogorov-Smirnov against
    :math:`U[-a, a]`), each at a threshold a right answer crosses with
    probability below :math:`10^{-7}`. Diagnosed: transposed
    shape, ``rng`` not used, a normal instead of a uniform distribution,
    ``U[0, a]`` instead of ``U[-a, a]``, and the bounds of the usual wrong
    formulas: the 3 of :math:`a^2/3` forgotten, the square root forgotten,
    fan_in or fan_out alone (LeCun's or He's uniform rule), and a right range
    with the wrong spread (values only at :math:`\pm a`, a triangle, a
    shifted mean).
    """
    name = "xavier_uniform"
    g = check_rng(rng)
    cases = [(300, 120), (64, 500)]  # fans chosen so that the wrong bounds differ
    seeds = [int(s) for s in g.integers(0, 2 ** 31, size=len(cases))]
    if not callable(fn):
        return CheckResult(False, f"expected the function {name} itself, got {describe(fn)}",
                           f"pass the function itself, without calling it: `{name}`, not `{name}(...)`.", name)
    for i, ((fi, fo), seed) in enumerate(zip(cases, seeds)):
        where = f"for fan_in={fi}, fan_out={fo}"
        try:
            W, problem = _sample_problem(fn, name, fi, fo, seed)
        except _Diagnosed as d:
            return CheckResult(False, f"{d.message} {where}.", d.diagnosis, name)
        except Exception as exc:
            return CheckResult(False, f"{_summary(exc, name)}\n(called {where})", _exception_hint(exc), name)
        if problem:
            return CheckResult(False, f"{problem[0]} {where}.", problem[1], name)
        a = np.sqrt(6.0 / (fi + fo))
        low, high, edge = float(W.min()), float(W.max()), float(np.max(np.abs(W)))
        message = (f"{where} the weights range from {low:.4g} to {high:.4g} (variance {W.var():.4g}); "
                   f"U[-a, a] with a = sqrt(6 / (fan_in + fan_out)) = {a:.4g} has variance {a * a / 3:.4g}.")
        if not np.all(np.isfinite(W)):
            return CheckResult(False, f"W contains NaN or inf {where}.", None, name)
        if low >= 0.0:
            return CheckResult(False, message, "all weights are >= 0: the range is symmetric about zero, "
                               "U[-a, a] (rng.uniform(-a, a, size=...)), not U[0, a].", name)
        kurtosis = float(np.mean((W - W.mean()) ** 4) / W.var() ** 2)
        if kurtosis > 2.4:  # a uniform distribution has 1.8, a normal one 3
            return CheckResult(False, message, "these weights look normally distributed (a long tail, no hard "
                               "edge): Xavier's rule here is uniform, rng.uniform(-a, a, size=(fan_in, fan_out)).",
                               name)
        # max |W| of thousands of uniform samples is within a fraction of a percent of the bound
        candidates = (
            (a, None),
            (np.sqrt(2.0 / (fi + fo)), "a = sqrt(2 / (fan_in + fan_out)) makes Var(W) = a^2/3, a third of the "
             "target: solve a^2 / 3 = 2 / (fan_in + fan_out) for a, giving a = sqrt(6 / (fan_in + fan_out))."),
            (6.0 / (fi + fo), "a = 6 / (fan_in + fan_out) is the square of the bound: take its square root."),
            (2.0 / (fi + fo), "2 / (fan_in + fan_out) is the variance, not the bound: a = sqrt(3 * variance)."),
            (np.sqrt(3.0 / fi), "a = sqrt(3 / fan_in) is LeCun's rule (Var = 1 / fan_in): Xavier averages both "
             "fans, a = sqrt(6 / (fan_in + fan_out))."),
            (np.sqrt(6.0 / fi), "a = sqrt(6 / fan_in) is He's uniform rule, for ReLU: Xavier uses "
             "fan_in + fan_out in the denominator."),
            (np.sqrt(3.0 / fo), "a = sqrt(3 / fan_out) uses fan_out alone: Xavier averages both fans, "
             "a = sqrt(6 / (fan_in + fan_out))."),
            (np.sqrt(6.0 / fo), "a = sqrt(6 / fan_out) uses fan_out alone: the denominator is fan_in + fan_out."),
            (np.sqrt(12.0 / (fi + fo)), "a = sqrt(12 / (fan_in + fan_out)) gives twice the variance: the variance "
             "of U[-a, a] is a^2/3."),
        )
        matched = next((c for c in candidates if abs(edge - c[0]) <= 0.01 * c[0]), None)
        if matched is not None and matched[1] is not None:
            return CheckResult(False, message, matched[1], name)
        if matched is None:
            return CheckResult(False, message, "the largest |W| should be close to a = sqrt(6 / (fan_in + "
                               f"fan_out)) = {a:.4g}, and the weights centred on 0; print a and compare.", name)
        problem = _uniform_problem(W.ravel(), a)
        if problem:
            return CheckResult(False, message, problem, name)
    return CheckResult(True, "the shape, the range [-a, a] with a = sqrt(6 / (fan_in + fan_out)), the mean 0, "
                       "the variance 2 / (fan_in + fan_out), the uniform shape of the distribution and the "
                       "reproducibility from rng are right on 2 non-square layers.", None, name)


#: how many standard errors a statistic may stray before the check rejects: with z = 6 a right
#: answer is rejected with probability about 2e-9 per test (normal approximation).
Z_REJECT = 6.0
#: Kolmogorov-Smirnov threshold on sqrt(n) * D: P(reject | right) <= 2 exp(-2 * 3^2), about 3e-8.
KS_REJECT = 3.0


def _uniform_problem(w: np.ndarray, a: float) -> str | None:
    """Test a sample ``w`` against U[-a, a]: its mean, its variance and its distribution (KS).

    Each test has a false-rejection rate below 1e-7 for a right answer, and each detects the
    wrong answers whose range looks right (values only at the edges, a triangle, a mixture).
    """
    n = w.size
    var = a * a / 3.0                        # Var of U[-a, a]
    mu4 = a ** 4 / 5.0                       # E[w^4] of U[-a, a]
    mean, sample_var = float(w.mean()), float(w.var())
    if abs(mean) > Z_REJECT * np.sqrt(var / n):
        return (f"the weights average {mean:.3g}, where U[-a, a] averages 0 (at this sample size a right "
                f"answer averages within {Z_REJECT * np.sqrt(var / n):.2g} of 0): draw symmetrically about 0, "
                "rng.uniform(-a, a, size=...).")
    if abs(sample_var - var) > Z_REJECT * np.sqrt((mu4 - var * var) / n):
        return (f"Var(W) is {sample_var:.4g}, {sample_var / var:.3g} times the target 2 / (fan_in + fan_out) "
                f"= {var:.4g}, although the largest |W| is right: the values are not spread evenly over "
                "[-a, a] (too many near the edges if the variance is too large, near 0 if too small). Draw "
                "every entry from one uniform distribution: rng.uniform(-a, a, size=(fan_in, fan_out)).")
    u = np.sort(w)
    cdf = np.clip((u + a) / (2.0 * a), 0.0, 1.0)
    i = np.arange(1, n + 1)
    ks = float(max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n)))
    if np.sqrt(n) * ks > KS_REJECT:
        return (f"the mean, variance and range are right, but the histogram is not flat: the largest gap "
                f"between your empirical distribution and U[-a, a] is {ks:.3g} (a right answer stays below "
                f"{KS_REJECT / np.sqrt(n):.2g} here). Draw every entry from rng.uniform(-a, a, ...).")
    return None


def check_leaky_relu_std(fn, rng=0) -> CheckResult:
    r"""Exercise (07): the He-style weight scale for leaky ReLU (He et al. 2015).

    .. math:: \sigma_w = \sqrt{\frac{2}{(1 + a^2)\, n_{in}}}

    The learner writes ``leaky_relu_std(fan_in, slope) -> std``. Diagnosed: the
    slope not squared, the variance returned instead of the standard
    deviation, the factor 2 forgotten, the slope ignored (plain He), a minus
    sign, ``1 + a^2`` multiplied instead of divided.
    """
    g = check_rng(rng)
    fans = [int(f) for f in g.integers(20, 500, size=4)]
    cases = [Case({"fan_in": fans[0], "slope": 0.3}, "slope 0.3"), Case({"fan_in": fans[1], "slope": 0.0},
             "slope 0: plain ReLU, He's rule"), Case({"fan_in": fans[2], "slope": 1.0}, "slope 1: no activation"),
             Case({"fan_in": fans[3], "slope": 0.01}, "slope 0.01")]
    right = lambda n, a: np.sqrt(2.0 / ((1.0 + a * a) * n))  # noqa: E731
    mistakes = (
        Mistake("slope not squared", "the negative half contributes a^2 E[z^2] / 2 (the output a z is squared): "
                "use 1 + slope**2.", lambda a, r: {"std": np.sqrt(2.0 / ((1.0 + a["slope"]) * a["fan_in"]))}),
        Mistake("variance instead of standard deviation", "2 / ((1 + a^2) fan_in) is Var(w); return its square "
                "root.", lambda a, r: {"std": 2.0 / ((1.0 + a["slope"] ** 2) * a["fan_in"])}),
        Mistake("the factor 2 is missing", "E[f(z)^2] = (1 + a^2)/2 Var(z), so Var(w) = 2 / ((1 + a^2) fan_in): "
                "the 2 comes from the 1/2.",
                lambda a, r: {"std": np.sqrt(1.0 / ((1.0 + a["slope"] ** 2) * a["fan_in"]))}),
        Mistake("the slope is ignored", "sqrt(2 / fan_in) is He's rule for ReLU (slope 0); the leaky part adds "
                "a^2/2 to the gain: divide by 1 + slope**2.", lambda a, r: {"std": np.sqrt(2.0 / a["fan_in"])}),
        Mistake("1 - a^2 instead of 1 + a^2", "the negative half adds to the second moment: 1 + slope**2.",
                lambda a, r: {"std": np.sqrt(2.0 / ((1.0 - a["slope"] ** 2) * a["fan_in"]))}),
        Mistake("1 + a^2 multiplied instead of divided", "a larger gain needs smaller weights: "
                "sqrt(2 / ((1 + slope**2) * fan_in)).",
                lambda a, r: {"std": np.sqrt(2.0 * (1.0 + a["slope"] ** 2) / a["fan_in"])}),
    )
    return check_outputs(fn, name="leaky_relu_std", reference=lambda a: right(a["fan_in"], a["slope"]),
                         cases=cases, outputs=("std",), mistakes=mistakes,
                         source="sqrt(2 / ((1 + slope^2) fan_in))")
