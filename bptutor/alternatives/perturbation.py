r"""Gradient estimates from loss evaluations alone: finite differences, SPSA, evolution strategies.

Each one treats the loss as a black box :math:`L(\theta)` (any function of a
vector (P,), an :class:`~bptutor.alternatives.Objective` say) and counts its
calls:

* :func:`finite_difference_gradient`: central differences, :math:`2P` loss
  evaluations, error :math:`O(h^2)`;
* :func:`spsa_gradient`: simultaneous perturbation (Spall 1992), 2
  evaluations per random :math:`\pm 1` direction, unbiased up to :math:`O(c^2)`
  but noisy;
* :func:`es_gradient`: evolution strategies with antithetic Gaussian
  perturbations (Salimans et al. 2017), the gradient of a smoothed loss.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._checks import check_float, check_int, check_rng
from ..gradcheck import numerical_gradient
from .objective import GradientEstimate, _loss, _start


def finite_difference_gradient(f: Callable, theta, h: float = 1e-5) -> GradientEstimate:
    r"""The gradient by central differences, one coordinate at a time: :math:`2P` evaluations.

    .. math:: \hat g_i = \frac{L(\theta + h e_i) - L(\theta - h e_i)}{2h}
        = g_i + \frac{h^2}{6}\,\partial_i^3 L + O(h^4)

    The truncation error :math:`O(h^2)` and the rounding error
    :math:`\approx \varepsilon |L| / h` balance near :math:`h \approx 10^{-5}`
    in float64 (see :mod:`bptutor.gradcheck`, whose
    :func:`~bptutor.gradcheck.numerical_gradient` does the work).

    Args:
        f: the loss as a function of ``theta`` (an :class:`~bptutor.alternatives.Objective`, say).
        theta: the point, (P,); not changed.
        h: the step, > 0.

    Returns:
        :class:`~bptutor.alternatives.GradientEstimate` with ``evaluations = 2P``.
    """
    who = "finite_difference_gradient"
    counted, theta = _start(f, theta, who)
    h = check_float("h", h, minimum=0.0, strict_min=True, who=who)
    grad = numerical_gradient(counted, theta, h)
    return GradientEstimate(grad, counted.calls, 0, "finite differences")


def _two_sided(counted, theta, step, who: str) -> float:
    """:math:`L(\\theta + s) - L(\\theta - s)`: the 2 evaluations of SPSA and ES."""
    return _loss(counted(theta + step), who) - _loss(counted(theta - step), who)


def spsa_gradient(f: Callable, theta, c: float = 1e-3, n_samples: int = 1, rng=0) -> GradientEstimate:
    r"""Simultaneous perturbation stochastic approximation (Spall 1992): 2 evaluations per sample.

    Move *all* coordinates at once along a random direction :math:`\Delta`
    with independent entries :math:`\pm 1`, and divide one difference by each
    coordinate's share:

    .. math:: \hat g_i = \frac{L(\theta + c\Delta) - L(\theta - c\Delta)}{2c\,\Delta_i}

    By Taylor, the numerator over :math:`2c` is :math:`g\cdot\Delta + O(c^2)`, so
    :math:`\hat g_i = g_i + \sum_{j\ne i} g_j \Delta_j/\Delta_i + O(c^2)`: the
    other coordinates leak in with random signs and average out,
    :math:`\mathbb E\,\hat g = g + O(c^2)`. The price is variance: one sample
    has :math:`\mathbb E\lVert\hat g - g\rVert^2 \approx (P-1)\lVert g\rVert^2`,
    so ``n_samples`` averaged samples have a relative error of about
    :math:`\sqrt{(P-1)/n}`.

    Args:
        f: the loss as a function of ``theta``.
        theta: the point, (P,); not changed.
        c: the perturbation size, > 0.
        n_samples: independent directions averaged, >= 1.
        rng: generator or seed for the directions.

    Returns:
        :class:`~bptutor.alternatives.GradientEstimate` with ``evaluations = 2 n_samples``.
    """
    who = "spsa_gradient"
    counted, theta = _start(f, theta, who)
    c = check_float("c", c, minimum=0.0, strict_min=True, who=who)
    n = check_int("n_samples", n_samples, minimum=1, who=who)
    g = check_rng(rng)
    total = np.zeros_like(theta)
    for _ in range(n):
        delta = 2.0 * g.integers(0, 2, size=theta.size) - 1.0  # (P,) entries -1 or +1
        total += _two_sided(counted, theta, c * delta, who) / (2.0 * c) / delta
    return GradientEstimate(total / n, counted.calls, 0, "SPSA")


def es_gradient(f: Callable, theta, sigma: float = 0.05, n_pairs: int = 1, rng=0) -> GradientEstimate:
    r"""Evolution strategies with antithetic pairs (Salimans et al. 2017): 2 evaluations per pair.

    Perturb with Gaussian noise :math:`\epsilon \sim \mathcal N(0, I)` and
    weigh each direction by how much it helps; a mirrored pair
    :math:`\pm\sigma\epsilon` cancels the constant term:

    .. math:: \hat g = \frac{1}{n}\sum_{k=1}^{n}
        \frac{L(\theta + \sigma\epsilon_k) - L(\theta - \sigma\epsilon_k)}{2\sigma}\,\epsilon_k

    This is an unbiased estimate of the gradient of the *smoothed* loss
    :math:`L_\sigma(\theta) = \mathbb E_\epsilon L(\theta + \sigma\epsilon)`
    (Nesterov & Spokoiny 2017), which equals :math:`\nabla L + O(\sigma^2)`
    for a smooth :math:`L`. With Rademacher instead of Gaussian directions it
    is SPSA. Salimans et al. also rank-transform the differences ("fitness
    shaping"); that is left out here so the estimate stays comparable.

    Args:
        f: the loss as a function of ``theta``.
        theta: the point, (P,); not changed.
        sigma: the noise scale, > 0.
        n_pairs: antithetic pairs averaged, >= 1.
        rng: generator or seed for the noise.

    Returns:
        :class:`~bptutor.alternatives.GradientEstimate` with ``evaluations = 2 n_pairs``.
    """
    who = "es_gradient"
    counted, theta = _start(f, theta, who)
    sigma = check_float("sigma", sigma, minimum=0.0, strict_min=True, who=who)
    n = check_int("n_pairs", n_pairs, minimum=1, who=who)
    g = check_rng(rng)
    total = np.zeros_like(theta)
    for _ in range(n):
        eps = g.standard_normal(theta.size)  # (P,)
        total += _two_sided(counted, theta, sigma * eps, who) / (2.0 * sigma) * eps
    return GradientEstimate(total / n, counted.calls, 0, "ES")
