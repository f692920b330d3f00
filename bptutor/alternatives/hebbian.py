r"""Hebbian learning, which follows no loss at all: Hebb's rule, and Oja's rule for the top principal component.

:func:`hebb_update` strengthens a weight when input and output are active
together and grows without bound; :func:`oja_update` adds a decay that keeps
:math:`\lVert w\rVert \to 1`, and :func:`oja` runs it over a data set.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import as_array, check_float, check_int, check_rng, check_shape


def _hebbian_args(w, x, lr, who: str) -> tuple:
    w = as_array("w", w, ndim=1, who=who)
    x = as_array("x", x, who=who)
    check_shape("x", x, w.shape, who=who)
    return w, x, check_float("lr", lr, minimum=0.0, strict_min=True, who=who)


def hebb_update(w, x, lr: float) -> np.ndarray:
    r"""Hebb's rule for a linear neuron :math:`y = w\cdot x`: :math:`w \leftarrow w + \eta\, y\, x`.

    "Cells that fire together wire together" (after Hebb 1949). On average
    :math:`\Delta w = \eta\, C w` with :math:`C = \mathbb E[x x^\top]`, so
    :math:`w` turns towards the top eigenvector of :math:`C` but its length
    grows without bound.

    Args:
        w: weights (D,). x: one input (D,). lr: :math:`\eta` > 0.

    Returns:
        the new weights, a new array (D,).
    """
    w, x, lr = _hebbian_args(w, x, lr, "hebb_update")
    return w + lr * (w @ x) * x


def oja_update(w, x, lr: float) -> np.ndarray:
    r"""Oja's rule (Oja 1982): Hebb's rule with a decay that keeps :math:`\lVert w\rVert \to 1`.

    .. math:: y = w\cdot x, \qquad w \leftarrow w + \eta\, y\,(x - y\, w)

    It is the first-order term of Hebb's rule followed by normalising
    :math:`w` to length 1. On average :math:`\Delta w = \eta\,(Cw - (w^\top C w)\,w)`,
    whose stable fixed points are :math:`\pm` the unit eigenvector of the largest
    eigenvalue of :math:`C = \mathbb E[x x^\top]`: the neuron learns the top principal
    component of zero-mean data, with purely local information (its input, its output, its weight).

    Args:
        w: weights (D,). x: one input (D,). lr: :math:`\eta` > 0.

    Returns:
        the new weights, a new array (D,).
    """
    w, x, lr = _hebbian_args(w, x, lr, "oja_update")
    y = w @ x
    return w + lr * y * (x - y * w)


@dataclass
class OjaResult:
    """What :func:`oja` learned: ``w`` (D,) and ``path`` (T + 1, D), the weights before and after every update."""
    w: np.ndarray
    path: np.ndarray


def oja(X, lr: float = 0.01, epochs: int = 10, rng=0, w0=None, center: bool = True) -> OjaResult:
    """Run :func:`oja_update` over the rows of ``X``, shuffled anew every epoch.

    Args:
        X: data (N, D), one example per row.
        lr: :math:`\\eta` > 0; a constant rate leaves a jitter of order
            :math:`\\eta` around the eigenvector.
        epochs: passes over the data, >= 1.
        rng: generator or seed for the shuffling and the start.
        w0: the starting weights (D,), non-zero; a random unit vector when None.
        center: subtract the mean of ``X`` first, so that the eigenvector found
            is the covariance's (the top principal component).

    Returns:
        :class:`OjaResult` with ``path`` of shape (epochs N + 1, D).
    """
    who = "oja"
    X = as_array("X", X, ndim=2, who=who)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{who} expected X of shape (N, D) with N >= 1 and D >= 1, got {X.shape}")
    lr = check_float("lr", lr, minimum=0.0, strict_min=True, who=who)
    epochs = check_int("epochs", epochs, minimum=1, who=who)
    g = check_rng(rng)
    if center:
        X = X - X.mean(axis=0)
    if w0 is None:
        w = g.standard_normal(X.shape[1])
        w /= np.linalg.norm(w)
    else:
        w = as_array("w0", w0, who=who).astype(np.float64)
        check_shape("w0", w, (X.shape[1],), who=who)
        if not np.any(w):
            raise ValueError(f"{who} expected a non-zero w0 (y = w.x stays 0 from a zero start), got all zeros")
    path = [w.copy()]
    for _ in range(epochs):
        for n in g.permutation(X.shape[0]):
            w = oja_update(w, X[n], lr)
            path.append(w)
    return OjaResult(w, np.array(path))
