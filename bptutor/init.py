"""Weight initializers: where gradient descent starts.

Every initializer has the signature ``f(fan_in, fan_out, rng) -> W`` with ``W``
of shape ``(fan_in, fan_out)``, the layout of ``Linear.W`` (``X @ W + b``).
``fan_in`` is the number of inputs feeding each unit, ``fan_out`` the number
of units. The random generator is passed in (a ``numpy.random.Generator`` or
an integer seed); there is no global seed anywhere.

Why the scale matters: with ``x`` of unit variance, a unit's pre-activation
``z = Σ_i x_i W_i`` has variance ``fan_in · Var(W)``. Keeping that near one in
every layer (and the backward signal near one too) is what the Xavier/Glorot
and He rules do; ``zeros`` shows why *some* randomness is needed at all: every
hidden unit then computes the same thing and receives the same gradient, so
the symmetry between them never breaks.

Biases are not initialised here: ``Linear`` sets them to zero.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_int, check_rng


def _fans(fan_in, fan_out, who: str) -> tuple[int, int]:
    return (check_int("fan_in", fan_in, minimum=1, who=who),
            check_int("fan_out", fan_out, minimum=1, who=who))


def standard(fan_in: int, fan_out: int, rng) -> np.ndarray:
    r"""The common uniform heuristic that Glorot & Bengio (2010, eq. 1) call "standard".

    .. math:: W_{ij} \sim U\left[-\tfrac{1}{\sqrt{n_{in}}},\ \tfrac{1}{\sqrt{n_{in}}}\right],
       \qquad \operatorname{Var}(W) = \tfrac{1}{3 n_{in}}

    This is also PyTorch's default for ``nn.Linear`` weights (``kaiming_uniform_`` with
    ``a = sqrt(5)`` gives exactly this bound). It is *not* the rule of LeCun, Bottou, Orr &
    Müller (1998, "Efficient BackProp", §4.6), who recommend a standard deviation of
    :math:`1/\sqrt{n_{in}}`, that is :math:`\operatorname{Var}(W) = 1/n_{in}`, three times
    this variance (as a uniform distribution: :math:`U[-\sqrt{3/n_{in}}, \sqrt{3/n_{in}}]`).

    Args:
        fan_in: number of inputs per unit (``D``), >= 1.
        fan_out: number of units (``H``), >= 1.
        rng: ``numpy.random.Generator`` or non-negative integer seed.

    Returns:
        W: float64 array of shape ``(fan_in, fan_out)``.
    """
    fan_in, fan_out = _fans(fan_in, fan_out, "standard")
    rng = check_rng(rng)
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def xavier_uniform(fan_in: int, fan_out: int, rng) -> np.ndarray:
    r"""Glorot & Bengio (2010) uniform rule, for tanh/sigmoid networks.

    .. math:: W_{ij} \sim U[-a, a],\quad a = \sqrt{\tfrac{6}{n_{in} + n_{out}}},
       \qquad \operatorname{Var}(W) = \tfrac{2}{n_{in} + n_{out}}

    The variance compromises between keeping forward activations
    (``n_in Var(W) = 1``) and backward gradients (``n_out Var(W) = 1``) at scale.

    Args:
        fan_in: number of inputs per unit, >= 1.
        fan_out: number of units, >= 1.
        rng: ``numpy.random.Generator`` or non-negative integer seed.

    Returns:
        W: float64 array of shape ``(fan_in, fan_out)``.
    """
    fan_in, fan_out = _fans(fan_in, fan_out, "xavier_uniform")
    rng = check_rng(rng)
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def xavier_normal(fan_in: int, fan_out: int, rng) -> np.ndarray:
    r"""Glorot & Bengio (2010) normal rule: same variance as :func:`xavier_uniform`.

    .. math:: W_{ij} \sim \mathcal{N}\left(0,\ \sigma^2\right),\quad
       \sigma = \sqrt{\tfrac{2}{n_{in} + n_{out}}}

    Args:
        fan_in: number of inputs per unit, >= 1.
        fan_out: number of units, >= 1.
        rng: ``numpy.random.Generator`` or non-negative integer seed.

    Returns:
        W: float64 array of shape ``(fan_in, fan_out)``.
    """
    fan_in, fan_out = _fans(fan_in, fan_out, "xavier_normal")
    rng = check_rng(rng)
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=(fan_in, fan_out))


def he_normal(fan_in: int, fan_out: int, rng) -> np.ndarray:
    r"""He et al. (2015) normal rule, for ReLU networks.

    .. math:: W_{ij} \sim \mathcal{N}\left(0,\ \sigma^2\right),\quad
       \sigma = \sqrt{\tfrac{2}{n_{in}}}

    ReLU zeroes half of its inputs on average, halving the second moment;
    the factor 2 restores it (PyTorch: ``kaiming_normal_(mode="fan_in",
    nonlinearity="relu")``).

    Args:
        fan_in: number of inputs per unit, >= 1.
        fan_out: number of units, >= 1.
        rng: ``numpy.random.Generator`` or non-negative integer seed.

    Returns:
        W: float64 array of shape ``(fan_in, fan_out)``.
    """
    fan_in, fan_out = _fans(fan_in, fan_out, "he_normal")
    rng = check_rng(rng)
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def zeros(fan_in: int, fan_out: int, rng) -> np.ndarray:
    r"""All zeros: :math:`W = 0`. A teaching device, not a recipe.

    With zero weights every hidden unit computes the same output and gets the
    same gradient, so after any number of steps all hidden units stay equal:
    the symmetry never breaks. ``rng`` is accepted (and checked) only so every
    initializer has the same signature.

    Args:
        fan_in: number of inputs per unit, >= 1.
        fan_out: number of units, >= 1.
        rng: ignored apart from its check.

    Returns:
        W: float64 zeros of shape ``(fan_in, fan_out)``.
    """
    fan_in, fan_out = _fans(fan_in, fan_out, "zeros")
    check_rng(rng)
    return np.zeros((fan_in, fan_out))


#: name -> initializer, used by ``Linear(..., init=name)``.
INITIALIZERS = {
    "standard": standard,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_normal": he_normal,
    "zeros": zeros,
}
