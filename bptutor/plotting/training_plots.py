"""What training did: loss and accuracy per epoch, decision regions, a confusion matrix, example images.

:func:`plot_history` draws a ``bptutor.training.History``;
:func:`plot_decision_boundary` colours the plane by the class
:func:`predict_classes` assigns; :func:`plot_confusion_matrix` and
:func:`plot_images` show a classifier's results on the digits.
"""
from __future__ import annotations

from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from .._checks import as_array, check_choice, check_finite, check_float, check_int, check_labels, check_shape, describe
from ..activations import Sigmoid
from ..layers import Module
from ._axes import _get_ax


# --- training curves ------------------------------------------------------------------------

_HISTORY_FIELDS = {"loss": ("train_loss", "val_loss"), "accuracy": ("train_acc", "val_acc")}


def plot_history(history, ax=None, metric: str = "loss"):
    """Draw a metric per epoch: the training curve and, when recorded, the validation curve.

    Epochs are numbered from 1, so the point at epoch :math:`e` is the value after
    :math:`e` passes over the training set.

    Args:
        history: a ``bptutor.training.History`` (anything with list attributes
            ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``).
        ax: axes to draw on; a new figure when None.
        metric: ``"loss"`` or ``"accuracy"``.

    Returns:
        The axes, with one line labelled ``"train"`` and, when the history has
        validation values, one labelled ``"validation"``.
    """
    check_choice("metric", metric, _HISTORY_FIELDS, who="plot_history")
    train_field, val_field = _HISTORY_FIELDS[metric]
    if not all(hasattr(history, f) for f in (train_field, val_field)):
        raise TypeError(f"plot_history expected history to be a History with {train_field} and "
                        f"{val_field} lists, got {describe(history)}")
    train = np.asarray(getattr(history, train_field), dtype=float)
    val = np.asarray(getattr(history, val_field), dtype=float)
    if train.size == 0:
        raise ValueError(f"plot_history expected history.{train_field} with at least one epoch, "
                         f"got an empty list")
    ax = _get_ax(ax)
    ax.plot(np.arange(1, train.size + 1), train, label="train")
    if val.size:
        ax.plot(np.arange(1, val.size + 1), val, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    return ax


# --- decision regions ---------------------------------------------------------------------------

def predict_classes(model, X, threshold: float | None = None) -> np.ndarray:
    """Class labels a network assigns to the rows of ``X``, computed in eval mode.

    The rule, for outputs of shape ``(N, C)``:

    * :math:`C > 1`: :math:`\\hat y = \\arg\\max_c \\text{out}_{c}` (scores, logits or
      probabilities all give the same argmax);
    * :math:`C = 1`: :math:`\\hat y = [\\text{out} > t]` with :math:`t = 0.5` when the
      network ends in a ``Sigmoid`` layer (outputs are probabilities) and
      :math:`t = 0` otherwise (outputs are logits, and :math:`\\sigma(z) > 0.5
      \\iff z > 0`). This is ``bptutor.evaluation``'s rule for a loss given as a
      function; pass ``threshold`` to override it (e.g. 0.5 for a linear output
      trained with ``"mse"`` onto 0 and 1, as ``bptutor.evaluation.THRESHOLDS`` says).

    The model's train/eval mode is restored afterwards.

    Args:
        model: a ``Module`` whose ``forward`` returns ``(N, C)`` or ``(N,)``.
        X: inputs, shape ``(N, D)``.
        threshold: decision threshold for one output, or None for the rule above.

    Returns:
        Integer labels, shape ``(N,)``.
    """
    was_training = model.training
    model.eval()
    try:
        out = np.asarray(model.forward(X))
    finally:
        model.train(was_training)
    if out.ndim == 1:
        out = out[:, None]  # (N, 1)
    if out.ndim != 2 or out.shape[0] != X.shape[0]:
        raise ValueError(f"predict_classes expected the model's output of shape ({X.shape[0]}, C), "
                         f"got {out.shape}")
    if out.shape[1] > 1:
        return np.argmax(out, axis=1)
    if threshold is None:
        layers = getattr(model, "layers", [model])
        threshold = 0.5 if isinstance(layers[-1], Sigmoid) else 0.0
    return (out[:, 0] > threshold).astype(np.int64)


def plot_decision_boundary(model, X, y, ax=None, resolution: int = 200, padding: float = 0.5,
                           predict: Callable | None = None, threshold: float | None = None):
    """Colour the plane by the class a model predicts there, and draw the data on top.

    The plane is sampled on a ``resolution`` × ``resolution`` grid covering the
    data plus ``padding`` on every side; each grid point gets the class
    ``predict(points)`` returns, or, when ``predict`` is None, the class
    :func:`predict_classes` derives from ``model`` (argmax for several outputs,
    a threshold for one output: see there).

    Args:
        model: a ``Module`` taking ``(M, 2)`` inputs; may be None when ``predict`` is given.
        X: data points, shape ``(N, 2)``.
        y: integer class labels, shape ``(N,)``.
        ax: axes to draw on; a new figure when None.
        resolution: grid points per axis.
        padding: margin around the data, in data units.
        predict: optional callable ``(M, 2) array -> (M,) integer labels``.
        threshold: for a one-output model, the decision threshold; None uses the
            rule of :func:`predict_classes`.

    Returns:
        The axes: one image (``ax.images[0]``, its array holds the predicted class
        of each grid point, ``origin="lower"``) and one scatter per class.
    """
    who = "plot_decision_boundary"
    X = as_array("X", X, ndim=2, who=who)
    check_shape("X", X, ("N", 2), who=who)
    y = check_labels("y", y, n=X.shape[0], who=who)
    resolution = check_int("resolution", resolution, minimum=2, who=who)
    padding = check_float("padding", padding, minimum=0.0, who=who)
    if predict is None:
        if not isinstance(model, Module):
            raise TypeError(f"{who} expected model to be a Module (or a predict callable), "
                            f"got {describe(model)}")
        if threshold is not None:
            threshold = check_float("threshold", threshold, who=who)
        predict = lambda points: predict_classes(model, points, threshold)  # noqa: E731
    elif not callable(predict):
        raise TypeError(f"{who} expected predict to be callable, got {describe(predict)}")

    xs = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    ys = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    XX, YY = np.meshgrid(xs, ys)  # (R, R) each, rows follow y
    grid = np.column_stack([XX.ravel(), YY.ravel()]).astype(X.dtype)  # (R*R, 2)
    labels = np.asarray(predict(grid))
    if labels.shape != (grid.shape[0],):
        raise ValueError(f"{who} expected predict to return labels of shape ({grid.shape[0]},), "
                         f"got {labels.shape}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{who} expected predict to return labels >= 0, got {labels.min()}")
    labels = labels.astype(np.int64).reshape(XX.shape)

    n_classes = int(max(labels.max(), y.max() if y.size else 0)) + 1
    if n_classes <= 10:
        colors = list(plt.get_cmap("tab10").colors[:n_classes])
    else:
        colors = list(plt.get_cmap("viridis")(np.linspace(0, 1, n_classes)))
    ax = _get_ax(ax)
    # Cell centres sit on the grid points, hence the half-cell margin of the extent.
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    ax.imshow(labels, origin="lower", interpolation="nearest", aspect="auto", alpha=0.35,
              cmap=ListedColormap(colors), vmin=-0.5, vmax=n_classes - 0.5,
              extent=(xs[0] - dx / 2, xs[-1] + dx / 2, ys[0] - dy / 2, ys[-1] + dy / 2))
    for c in range(n_classes):
        mask = y == c
        if mask.any():
            ax.scatter(X[mask, 0], X[mask, 1], color=colors[c], edgecolors="k", linewidths=0.5,
                       s=20, label=f"class {c}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", fontsize=9)
    return ax


# --- classification results -------------------------------------------------------------------------

def plot_confusion_matrix(cm, ax=None, labels=None):
    """Draw a confusion matrix as a heat map with the count written in every non-zero cell.

    Row :math:`i` is the true class and column :math:`j` the predicted class
    (the layout of ``bptutor.training.confusion_matrix``), so a perfect classifier
    fills only the diagonal and every mistake is an off-diagonal number. The
    colour scale runs from 0 (white) to the largest entry; integer counts are
    written as integers, fractions with two decimals.

    Args:
        cm: the matrix, shape ``(C, C)``, non-negative (counts or fractions).
        ax: axes to draw on; a new figure when None.
        labels: C names for the classes; ``0 .. C-1`` when None.

    Returns:
        The axes, holding one image (``ax.images[0]``) and one text per non-zero cell.
    """
    who = "plot_confusion_matrix"
    cm = as_array("cm", cm, who=who)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.size == 0:
        raise ValueError(f"{who} expected cm of shape (C, C), got {cm.shape}")
    check_finite("cm", cm, who=who)
    if np.any(cm < 0):
        raise ValueError(f"{who} expected cm to be non-negative, got a minimum of {cm.min():g}")
    C = cm.shape[0]
    labels = [str(c) for c in range(C)] if labels is None else [str(s) for s in labels]
    if len(labels) != C:
        raise ValueError(f"{who} expected {C} labels (one per class), got {len(labels)}")
    ax = _get_ax(ax)
    vmax = float(cm.max()) or 1.0
    ax.imshow(cm, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
    integers = bool(np.all(cm == np.round(cm)))
    for i, j in zip(*np.nonzero(cm)):
        value = cm[i, j]
        ax.text(j, i, f"{value:.0f}" if integers else f"{value:.2f}", ha="center", va="center",
                fontsize=9, color="white" if value > 0.5 * vmax else "black")
    ax.set_xticks(range(C), labels)
    ax.set_yticks(range(C), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax


def plot_images(images, titles=None, axes=None, cmap: str = "gray_r"):
    """Show small grey-scale images side by side, e.g. digits, each with an optional title.

    All images share one colour scale (the smallest to the largest value of all
    of them), so equal ink looks equal from panel to panel.

    Args:
        images: shape ``(K, h, w)``, or ``(K, P)`` with ``P`` a square number
            (each row is reshaped to ``sqrt(P) x sqrt(P)``, as the 8x8 digits' 64 pixels).
        titles: K strings, or None.
        axes: at least K axes (any array or list of them); the ones left over
            are switched off. None: a new figure with up to 8 images per row.
        cmap: a Matplotlib colour map name; ``"gray_r"`` draws ink dark on white.

    Returns:
        The axes as a flat object array; the first K hold one image each.
    """
    who = "plot_images"
    images = as_array("images", images, who=who)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"{who} expected images of shape (K, h, w) or (K, P) with P a square number, "
                             f"got {images.shape}")
        images = images.reshape(images.shape[0], side, side)
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"{who} expected images of shape (K, h, w) or (K, P) with K >= 1, got {images.shape}")
    check_finite("images", images, who=who)
    K = images.shape[0]
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != K:
            raise ValueError(f"{who} expected {K} titles (one per image), got {len(titles)}")
    if axes is None:
        ncols = min(K, 8)
        nrows = -(-K // ncols)
        _, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.5 * nrows), squeeze=False)
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size < K:
        raise ValueError(f"{who} expected at least {K} axes (one per image), got {axes.size}")
    lo, hi = float(images.min()), float(images.max())
    for k, ax in enumerate(axes):
        if k >= K:
            ax.set_axis_off()
            continue
        ax.imshow(images[k], cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1.0, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
    return axes
