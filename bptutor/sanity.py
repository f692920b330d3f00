r"""Sanity checks practitioners run before trusting a training run.

Three cheap checks catch most broken set-ups before hours are spent:

* **the initial loss**: a classifier that knows nothing predicts about
  :math:`1/C` for each of :math:`C` classes, so its softmax cross-entropy
  starts near :math:`-\ln(1/C) = \ln C` (:func:`chance_loss`);
* **overfitting a tiny batch**: a network with far more weights than
  examples must drive the loss on ten examples to nearly 0;
* **the update-to-weight ratio** of each layer,

  .. math:: r_\ell = \frac{\lVert \Delta W_\ell \rVert_F}{\lVert W_\ell \rVert_F},

  the size of one update against the size of the weights it changes
  (:func:`update_ratio`, recorded during ``fit`` by :class:`UpdateRatios`).
  A rule of thumb, popularised by Karpathy's CS231n notes, says a ratio
  near :math:`10^{-3}` is healthy: far below, the learning rate is probably
  too small; far above, probably too large. It is a heuristic, not a law.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import check_int, describe
from .layers import Module, Parameter


def chance_loss(n_classes: int) -> float:
    r"""The cross-entropy of a uniform guess over ``n_classes`` classes, :math:`\ln C`.

    Args:
        n_classes: :math:`C \ge 2`.

    Returns:
        :math:`\ln C` (0.6931 for 2 classes, 2.3026 for 10).
    """
    return math.log(check_int("n_classes", n_classes, minimum=2, who="chance_loss"))


def update_ratio(before, after) -> float:
    r"""The relative size of one update, :math:`\lVert W_{after} - W_{before}\rVert_F / \lVert W_{before}\rVert_F`.

    The ratio of the two norms (over all entries), not a norm or mean of
    entrywise ratios :math:`\Delta w_{ij}/w_{ij}`, which explode wherever a
    weight is near 0.

    Args:
        before: the weights before the update, any shape.
        after: the weights after it, the same shape.

    Returns:
        the ratio, :math:`\ge 0`; ``inf`` when ``before`` is all zeros and the update is not
        (0 when neither moved).

    Raises:
        TypeError: a non-numeric input.
        ValueError: different shapes, or NaN/infinite entries.
    """
    arrays = []
    for name, A in (("before", before), ("after", after)):
        A = np.asarray(A.data if isinstance(A, Parameter) else A)
        if A.dtype.kind not in "fiu":
            raise TypeError(f"update_ratio expected {name} to be an array of real numbers, got {describe(A)}")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"update_ratio expected {name} to be finite, got NaN or infinite entries")
        arrays.append(A.astype(np.float64))
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"update_ratio expected before and after of the same shape, got "
                         f"{arrays[0].shape} and {arrays[1].shape}")
    step, size = np.linalg.norm(arrays[1] - arrays[0]), np.linalg.norm(arrays[0])
    if size == 0.0:
        return 0.0 if step == 0.0 else math.inf
    return float(step / size)


class UpdateRatios:
    r"""A ``fit`` callback recording each weight matrix's update-to-weight ratio after every epoch.

    Weights are the parameters named ``W`` (biases start at 0, so their ratio
    says little). After epoch :math:`k` it appends :func:`update_ratio` of the
    weights at the end of epoch :math:`k-1` (or when the callback was made) and
    now. With full-batch training an epoch is one update, so this is the ratio
    of every update; with mini-batches it is the ratio of the epoch's summed
    updates.

    Args:
        model: the ``Module`` that ``fit`` trains; make the callback just before ``fit``.

    Attributes:
        ratios: parameter name (``"0.W"``, ``"2.W"``, ...) -> list, one ratio per epoch.
    """

    def __init__(self, model):
        if not isinstance(model, Module):
            raise TypeError(f"UpdateRatios expected model to be a bptutor Module, got {describe(model)}")
        weights = [(name, p) for name, p in model.named_parameters() if name.rsplit(".", 1)[-1] == "W"]
        if not weights:
            raise ValueError("UpdateRatios expected a model with at least one weight matrix named W, "
                             f"got {type(model).__name__} with parameters "
                             f"{[name for name, _ in model.named_parameters()]}")
        self.model = model
        self._weights = weights
        self._last = {name: p.data.copy() for name, p in weights}
        self.ratios = {name: [] for name, _ in weights}

    def on_epoch_end(self, model, epoch: int, logs: dict) -> bool:
        if model is not self.model:
            raise ValueError("UpdateRatios.on_epoch_end expected the model it was made for, got another one")
        for name, p in self._weights:
            self.ratios[name].append(update_ratio(self._last[name], p.data))
            self._last[name] = p.data.copy()
        return False
