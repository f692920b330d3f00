r"""Measuring a model: ``predict``, ``evaluate``, ``accuracy`` and ``confusion_matrix``.

:func:`predict` runs the model in eval mode (dropout off), ``EVAL_CHUNK``
rows at a time; :func:`evaluate` adds the loss and the accuracy, and
:func:`bptutor.training.fit` calls it on the validation data after every
epoch.

Accuracy (:func:`accuracy`), by the number C of output columns:

* C > 1: the predicted class is :math:`\arg\max_c \text{out}_{nc}` (logits,
  scores or probabilities give the same argmax), compared with integer labels
  ``(N,)`` or with the argmax of one-hot / probability rows ``(N, C)``;
* C = 1: the prediction is :math:`[\text{out} > t]`, compared with 0/1 targets
  ``(N,)`` or ``(N, 1)``. ``fit`` and ``evaluate`` take :math:`t` from the
  loss: 0.5 for ``"bce"`` (probabilities) and ``"mse"`` (a regression onto 0
  and 1), 0 for ``"bce_logits"`` (logits: :math:`\sigma(z) > 0.5 \iff z > 0`);
  for a loss given as a function, 0.5 when the model ends in a ``Sigmoid``
  layer and 0 otherwise;
* targets that are not class labels (a regression such as the noisy sine):
  accuracy is NaN.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import as_array, check_float, check_int, check_labels, describe
from .activations import Sigmoid
from .batching import _check_data_finite, _check_pair
from .layers import Module
from .losses import LOSSES

#: rows per forward pass in :func:`predict` and :func:`evaluate` (bounds memory on large inputs).
EVAL_CHUNK = 4096
#: decision threshold of a one-output model, per loss name (see the module docstring).
THRESHOLDS = {"bce": 0.5, "mse": 0.5, "bce_logits": 0.0, "cross_entropy": 0.0}


# --- accuracy ----------------------------------------------------------------------------------------

def _target_kind(y) -> str:
    """``"labels"`` (integer classes (N,)), ``"binary"`` (0/1, (N,) or (N, 1)), ``"rows"``
    (one-hot or probability rows (N, C)) or ``"values"`` (regression)."""
    y = np.asarray(y)
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool) or y.size == 0:
        return "values"
    if y.ndim == 2 and y.shape[1] > 1:
        rows_ok = np.all(y >= 0) and np.allclose(y.sum(axis=1), 1.0, rtol=0.0, atol=1e-6)
        return "rows" if rows_ok else "values"
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        if np.all((y == 0) | (y == 1)):
            return "binary"
        if y.ndim == 1 and np.all(y >= 0) and np.all(y == np.round(y)):
            return "labels"
    return "values"


def _correct(out: np.ndarray, y: np.ndarray, kind: str, threshold: float) -> float:
    """Number of correctly classified rows, or NaN when ``kind``/shapes are not a classification."""
    out = out.reshape(out.shape[0], -1)  # (N, C)
    C = out.shape[1]
    if C > 1 and y.ndim == 1 and kind in ("labels", "binary"):
        return float(np.count_nonzero(out.argmax(axis=1) == y))
    if C > 1 and kind == "rows" and y.shape[1] == C:
        return float(np.count_nonzero(out.argmax(axis=1) == y.argmax(axis=1)))
    if C == 1 and kind == "binary":
        return float(np.count_nonzero((out[:, 0] > threshold) == (y.reshape(-1) == 1)))
    return math.nan


def accuracy(out, y, threshold: float = 0.5) -> float:
    """Fraction of rows classified correctly (rules in the module docstring).

    Args:
        out: model outputs (N, C), or (N,) for one output.
        y: integer labels (N,), 0/1 targets (N,) or (N, 1), or one-hot rows (N, C).
        threshold: decision threshold for one output column.

    Returns:
        a float in [0, 1], or NaN when ``y`` is not a classification target for ``out``.
    """
    who = "accuracy"
    out = as_array("out", out, who=who)
    y = np.asarray(y)
    if out.ndim == 0 or y.ndim == 0 or out.shape[0] != y.shape[0] or out.shape[0] == 0:
        raise ValueError(f"{who} expected out and y with the same number of rows (at least 1), "
                         f"got shapes {out.shape} and {y.shape}")
    threshold = check_float("threshold", threshold, who=who)
    return _correct(out, y, _target_kind(y), threshold) / out.shape[0]


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    r"""Counts of (true class, predicted class) pairs: :math:`M_{ij} = \#\{n : y_n = i,\ \hat y_n = j\}`.

    Row :math:`i` is how the examples of class :math:`i` were classified, so the
    row sums are the class sizes, the diagonal holds the correct answers,
    :math:`\operatorname{tr} M / N` is the accuracy and :math:`M_{ii} / \sum_j M_{ij}`
    the accuracy on class :math:`i` (its recall). A class absent from both
    arguments still gets its (zero) row and column, so matrices of different
    data sets line up.

    Args:
        y_true: integer labels (N,) in 0..n_classes-1.
        y_pred: predicted labels (N,) in 0..n_classes-1 (e.g. ``out.argmax(axis=1)``).
        n_classes: C, >= 1.

    Returns:
        int64 array (C, C).
    """
    who = "confusion_matrix"
    C = check_int("n_classes", n_classes, minimum=1, who=who)
    y_true = check_labels("y_true", y_true, n_classes=C, who=who)
    y_pred = check_labels("y_pred", y_pred, n_classes=C, n=y_true.shape[0], who=who)
    # each pair (i, j) gets the single index C*i + j; bincount counts repeats, which
    # M[y_true, y_pred] += 1 would not (fancy-index assignment writes a repeated index once)
    return np.bincount(C * y_true + y_pred, minlength=C * C).reshape(C, C).astype(np.int64)


# --- resolving arguments -----------------------------------------------------------------------------

def _resolve_loss(loss, model, who: str) -> tuple:
    """``(loss function, one-output threshold)`` from a name in ``LOSSES`` or a callable."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"{who} expected loss to be one of {sorted(LOSSES)} or a function "
                             f"(pred, y) -> (loss, dout), got {loss!r}")
        return LOSSES[loss], THRESHOLDS.get(loss, 0.0)
    if not callable(loss):
        raise TypeError(f"{who} expected loss to be one of {sorted(LOSSES)} or a function "
                        f"(pred, y) -> (loss, dout), got {describe(loss)}")
    layers = getattr(model, "layers", [model])
    return loss, 0.5 if layers and isinstance(layers[-1], Sigmoid) else 0.0


def _check_model(model, who: str) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{who} expected model to be a bptutor Module (e.g. a Sequential), got {describe(model)}")


# --- predict and evaluate ----------------------------------------------------------------------------

def predict(model, X) -> np.ndarray:
    """The model's output on ``X``, computed in eval mode (dropout off), ``EVAL_CHUNK`` rows at a time.

    The model's train/eval mode is restored afterwards.

    Args:
        model: a ``Module``.
        X: inputs (N, D), an array or ``np.memmap``.

    Returns:
        the output, e.g. (N, C).
    """
    who = "predict"
    _check_model(model, who)
    if not isinstance(X, np.ndarray):
        X = as_array("X", X, who=who)
    if X.ndim == 0 or X.shape[0] == 0:
        raise ValueError(f"{who} expected X with at least one row, got shape {X.shape}")
    was_training = model.training
    model.eval()
    try:
        outs = [np.array(model.forward(X[i:i + EVAL_CHUNK]))
                for i in range(0, X.shape[0], EVAL_CHUNK)]
    finally:
        model.train(was_training)
    return outs[0] if len(outs) == 1 else np.concatenate(outs)


def evaluate(model, loss, X, y) -> dict:
    """Loss and accuracy of ``model`` on ``(X, y)`` in eval mode, without any penalty.

    Args:
        model: a ``Module``.
        loss: a name in ``bptutor.losses.LOSSES`` or a function ``(pred, y) -> (loss, dout)``.
        X: inputs (N, D), an array or ``np.memmap``.
        y: targets matching the loss (labels (N,), or the output's shape).

    Returns:
        ``{"loss": float, "accuracy": float}`` (accuracy NaN for regression targets;
        the threshold rule is in the module docstring).

    Raises:
        ValueError: in-memory ``X`` or ``y`` holds NaN or infinity (a NaN loss
            and an accuracy of such data would mean nothing); memmaps are not scanned.
    """
    who = "evaluate"
    _check_model(model, who)
    loss_fn, threshold = _resolve_loss(loss, model, who)
    X, y = _check_pair(X, y, who)
    _check_data_finite(X, y, who)
    return _evaluate(model, loss_fn, threshold, _target_kind(y), X, y)


def _evaluate(model, loss_fn, threshold: float, kind: str, X, y) -> dict:
    """:func:`evaluate` without argument checks (``fit`` calls it after every epoch)."""
    out = predict(model, X)
    return {"loss": float(loss_fn(out, y)[0]), "accuracy": _correct(out, y, kind, threshold) / out.shape[0]}
