r"""Loss functions. Each returns ``(loss, dout)``.

``loss`` is a Python float and ``dout`` = :math:`\partial L / \partial \text{pred}`
has the shape (and float dtype) of the prediction, ready for
``model.backward(dout)``. The arithmetic is done in float64 whatever the input
dtype, so a float32 model still gets an accurate loss.

Reductions, stated once here and again in each docstring: every loss is a
**mean** — over all entries for ``mse_loss``, ``bce_loss`` and
``bce_with_logits_loss`` (as PyTorch's ``reduction="mean"``), and over the
``N`` rows for ``cross_entropy_loss`` (each row's loss already sums over its
classes). Because of the mean, ``dout`` carries a factor ``1/N`` (or
``1/(N·C)``); forgetting it is a classic bug that makes the learning rate
depend on the batch size.

Predictions are not checked for finiteness: a diverging model gives a NaN or
inf loss, which ``fit`` turns into an explanation. Targets are checked.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_choice, check_finite, check_float, check_labels, describe
from .activations import sigmoid

#: accepted values of ``mse_loss(..., reduction=...)``.
MSE_REDUCTIONS = ("mean", "sum", "half_sum")


def _prediction(name: str, pred, who: str) -> np.ndarray:
    pred = as_array(name, pred, who=who)
    if pred.ndim == 0 or pred.size == 0:
        raise ValueError(f"{who} expected {name} to be a non-empty array with at least 1 dimension, "
                         f"got shape {pred.shape}")
    return pred


def _target_like(name: str, y, pred_name: str, pred: np.ndarray, who: str) -> np.ndarray:
    """Targets of exactly the prediction's shape: broadcasting (N, 1) against (N,) would
    silently build an (N, N) loss, so we refuse it."""
    y = as_array(name, y, who=who)
    if y.shape != pred.shape:
        raise ValueError(f"{who} expected {name} of shape {pred.shape} (the shape of {pred_name}), "
                         f"got {y.shape}")
    check_finite(name, y, who=who)
    return y.astype(np.float64, copy=False)


def _check_unit_interval(name: str, A: np.ndarray, who: str) -> None:
    # NaN compares False both ways, so a NaN prediction passes here and shows up in the loss.
    if np.any(A < 0) or np.any(A > 1):
        raise ValueError(f"{who} expected {name} in [0, 1], got values from {np.nanmin(A):.6g} "
                         f"to {np.nanmax(A):.6g}")


def mse_loss(pred, target, reduction: str = "mean") -> tuple[float, np.ndarray]:
    r"""Mean squared error (or its sum, or half its sum).

    With :math:`d = \text{pred} - \text{target}` over all :math:`M = N \cdot C` entries:

    .. math::
        \text{mean: } L = \frac{1}{M}\sum d^2,\ \ \frac{\partial L}{\partial \text{pred}} = \frac{2d}{M};
        \quad \text{sum: } L = \sum d^2,\ \ 2d;
        \quad \text{half\_sum: } L = \tfrac12 \sum d^2,\ \ d

    ``"half_sum"`` is :math:`E = \tfrac12\sum (t - o)^2` of Rumelhart, Hinton &
    Williams (1986) and of the classic step-by-step example (notebook 04):
    the 1/2 cancels the 2 of the derivative.

    Overflow, kept on purpose: the loss squares the difference, so once
    :math:`|d|` exceeds about :math:`1.34 \times 10^{154}` (the square root of
    the largest float) the loss is ``inf`` (numpy warns of the overflow) while
    ``dout`` stays finite. That is the true value rounded, not an error:
    ``fit`` reports such a loss as divergence with advice, which is what a
    prediction that far off means.

    Args:
        pred: predictions, any shape, e.g. (N, C).
        target: same shape as ``pred`` (no broadcasting).
        reduction: ``"mean"`` (default, over all entries, as PyTorch),
            ``"sum"`` or ``"half_sum"``.

    Returns:
        (loss, dout): a float and an array of ``pred``'s shape and dtype.
    """
    who = "mse_loss"
    check_choice("reduction", reduction, MSE_REDUCTIONS, who=who)
    pred = _prediction("pred", pred, who)
    target = _target_like("target", target, "pred", pred, who)
    d = pred.astype(np.float64) - target
    if reduction == "mean":
        loss, dout = np.mean(d * d), 2.0 * d / d.size
    elif reduction == "sum":
        loss, dout = np.sum(d * d), 2.0 * d
    else:
        loss, dout = 0.5 * np.sum(d * d), d
    return float(loss), dout.astype(pred.dtype, copy=False)


def bce_loss(p, y, eps: float = 1e-12) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy from probabilities, mean over all entries.

    .. math::
        L = -\frac{1}{M}\sum \big[y \log p + (1 - y)\log(1 - p)\big], \qquad
        \frac{\partial L}{\partial p} = \frac{1}{M}\,\frac{p - y}{p\,(1 - p)}

    ``p`` is clipped to :math:`[\epsilon, 1 - \epsilon]` before the logs and the
    division, so ``p`` exactly 0 or 1 gives a finite loss (at most
    :math:`-\log\epsilon \approx 27.6`) and a finite, steep gradient. When
    ``p`` comes from a sigmoid, :func:`bce_with_logits_loss` on the logits is
    more accurate and its gradient is the simple :math:`(\sigma(z) - y)/M`.

    Args:
        p: predicted probabilities in [0, 1], any shape, e.g. (N, 1).
        y: targets in [0, 1] (0/1 labels or soft targets), same shape as ``p``.
        eps: clipping margin, in (0, 0.5); computed in float64.

    Returns:
        (loss, dout): a float and an array of ``p``'s shape and dtype.
    """
    who = "bce_loss"
    eps = check_float("eps", eps, minimum=0.0, maximum=0.5, strict_min=True, strict_max=True, who=who)
    p = _prediction("p", p, who)
    _check_unit_interval("p", p, who)
    y = _target_like("y", y, "p", p, who)
    _check_unit_interval("y", y, who)
    q = np.clip(p.astype(np.float64), eps, 1.0 - eps)
    M = q.size
    loss = -np.sum(y * np.log(q) + (1.0 - y) * np.log1p(-q)) / M
    dout = (q - y) / (q * (1.0 - q)) / M
    return float(loss), dout.astype(p.dtype, copy=False)


def bce_with_logits_loss(z, y) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy of :math:`\sigma(z)`, computed from the logits ``z``; mean over all entries.

    .. math::
        L = \frac{1}{M}\sum \big[\max(z, 0) - z\,y + \log(1 + e^{-|z|})\big], \qquad
        \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{M}

    The first form equals :math:`-[y\log\sigma(z) + (1-y)\log(1-\sigma(z))]`
    but never takes the log of a probability that has rounded to 0, so it is
    finite for any finite ``z`` (even :math:`|z| = 10^4`).

    Args:
        z: logits, any shape, e.g. (N, 1).
        y: targets in [0, 1], same shape as ``z``.

    Returns:
        (loss, dout): a float and an array of ``z``'s shape and dtype.
    """
    who = "bce_with_logits_loss"
    z = _prediction("z", z, who)
    y = _target_like("y", y, "z", z, who)
    _check_unit_interval("y", y, who)
    z64 = z.astype(np.float64)
    M = z64.size
    loss = np.sum(np.maximum(z64, 0.0) - z64 * y + np.log1p(np.exp(-np.abs(z64)))) / M
    dout = (sigmoid(z64) - y) / M
    return float(loss), dout.astype(z.dtype, copy=False)


def _class_targets(y, N: int, C: int, who: str) -> np.ndarray:
    """Integer labels (N,) or a distribution per row (N, C), returned as Y (N, C) float64."""
    shape = np.shape(y)
    if len(shape) == 1:
        labels = check_labels("y", y, n_classes=C, n=N, who=who)
        Y = np.zeros((N, C))
        Y[np.arange(N), labels] = 1.0
        return Y
    if len(shape) != 2 or shape != (N, C):
        raise ValueError(f"{who} expected y of shape ({N},) (integer labels) or ({N}, {C}) (one-hot), "
                         f"got {tuple(shape)}")
    Y = as_array("y", y, who=who).astype(np.float64, copy=False)
    check_finite("y", Y, who=who)
    if np.any(Y < 0):
        raise ValueError(f"{who} expected one-hot y to be non-negative, got a minimum of {Y.min():.6g}")
    sums = Y.sum(axis=1)
    if not np.allclose(sums, 1.0, rtol=0.0, atol=1e-6):
        raise ValueError(f"{who} expected each row of one-hot y to sum to 1, got row sums from "
                         f"{sums.min():.6g} to {sums.max():.6g}")
    return Y


def cross_entropy_loss(logits, y) -> tuple[float, np.ndarray]:
    r"""Softmax cross-entropy from logits, mean over the N rows (softmax fused in).

    With :math:`P = \operatorname{softmax}(Z)` row-wise and targets :math:`Y` (one-hot rows):

    .. math::
        L = -\frac{1}{N}\sum_{n}\sum_{c} Y_{nc}\,\log P_{nc}, \qquad
        \frac{\partial L}{\partial Z} = \frac{P - Y}{N}

    :math:`\log P` is computed as :math:`(Z - m) - \log S` with :math:`m` the
    row maximum and :math:`S = \sum_c e^{Z_c - m}`, as in
    :func:`~bptutor.activations.log_softmax`: ``[[1e16, 1e16]]`` with label 0
    gives :math:`\ln 2` (``Z - lse(Z)`` would round it to 0). The loss is
    finite for finite logits unless the true loss itself exceeds the float
    range (a target class more than about :math:`1.8\times10^{308}` below the
    maximum gives ``inf``); ``dout`` is always finite for finite logits.

    When is the fused gradient :math:`P - Y` valid? Only when (1) the softmax
    is applied to these logits inside the loss, so the model's last layer must
    be linear, *not* a ``Softmax`` layer (that would apply softmax twice), and
    (2) every row of :math:`Y` sums to 1 — one-hot, or any probability
    distribution (label smoothing). The derivation uses
    :math:`\sum_c Y_{nc} = 1`; with other rows the true gradient is
    :math:`P \sum_c Y_{nc} - Y`, so such ``y`` is refused.

    Args:
        logits: Z, unnormalised scores (N, C), C >= 2.
        y: integer class labels (N,) in 0..C-1, or one-hot / probability rows (N, C).

    Returns:
        (loss, dout): a float and dout (N, C) in ``logits``' dtype.
    """
    who = "cross_entropy_loss"
    Z = as_array("logits", logits, who=who)
    if Z.ndim != 2 or Z.shape[0] == 0:
        raise ValueError(f"{who} expected logits of shape (N, C), got {Z.shape}")
    N, C = Z.shape
    if C < 2:
        raise ValueError(f"{who} expected logits with at least 2 columns (classes), got shape {Z.shape}; "
                         "for one output unit use bce_with_logits_loss")
    Y = _class_targets(y, N, C, who)
    Z64 = Z.astype(np.float64)
    # log_softmax(Z64) and softmax(Z64) step by step, sharing their first three steps:
    with np.errstate(over="ignore", invalid="ignore"):
        m = np.max(Z64, axis=-1, keepdims=True)     # (N, 1) row maxima
        shifted = Z64 - m                           # (N, C), <= 0; -inf only beyond the float range
        E = np.exp(shifted)                         # (N, C)
        S = np.sum(E, axis=-1, keepdims=True)       # (N, 1), in [1, C]
        log_P = shifted - np.log(S)                 # (Z - m) - log S: keeps log S next to a huge m
        # a class with zero target weight contributes 0 even where log P = -inf (0 * -inf would be NaN)
        loss = -np.sum(np.where(Y > 0, Y * log_P, 0.0)) / N
        dout = (E / S - Y) / N                      # P = E / S
    return float(loss) + 0.0, dout.astype(Z.dtype, copy=False)  # + 0.0: a perfect fit is 0.0, not -0.0


#: name -> loss function ``(pred, y) -> (loss, dout)``; ``fit`` accepts these names.
LOSSES = {
    "mse": mse_loss,
    "bce": bce_loss,
    "bce_logits": bce_with_logits_loss,
    "cross_entropy": cross_entropy_loss,
}


def get_loss(name: str):
    """The loss function called ``name`` in :data:`LOSSES`."""
    if not isinstance(name, str):
        raise TypeError(f"get_loss expected name to be a string, one of {sorted(LOSSES)}, got {describe(name)}")
    return LOSSES[check_choice("name", name, LOSSES, who="get_loss")]
