r"""Feedback alignment: backprop's backward pass with fixed random matrices in place of :math:`W^\top`.

:class:`FeedbackAlignment` wraps a ``Sequential`` (Lillicrap et al. 2016) and
measures how its updates and weights come to align with backprop's.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_float, check_rng, describe
from ..evaluation import _resolve_loss
from ..layers import Linear, Module, Sequential, require_cache
from .objective import angle_between


class WrappedNetwork(Module):
    """A ``Sequential`` seen through a training rule: its forward pass, layers and parameters (under the
    model's names) are the model's, so ``fit`` and the optimizers work unchanged; a subclass sets
    ``self.model`` and gives ``backward`` its own rule."""

    @property
    def layers(self) -> list:
        return self.model.layers

    def train(self, mode: bool = True) -> "WrappedNetwork":
        self.training = bool(mode)
        self.model.train(mode)
        return self

    def forward(self, X) -> np.ndarray:
        out = self.model.forward(X)
        self._cache = out.shape
        return out


class FeedbackAlignment(WrappedNetwork):
    r"""A ``Sequential`` trained by feedback alignment (Lillicrap, Cownden, Tweed & Akerman 2016).

    Backprop sends the error back through the transposed forward weights;
    feedback alignment uses a fixed random matrix :math:`B_k` of the same
    shape instead, for every ``Linear`` layer after the first:

    .. math:: \text{BP: } \delta_{k-1} = \delta_k W_k^\top, \qquad
        \text{FA: } \delta_{k-1} = \delta_k B_k

    (:math:`\delta_k` the error arriving at layer :math:`k`'s output; activations
    multiply by their derivative as usual). The weight updates are computed
    from them as in backprop, :math:`dW_k = A_{k-1}^\top \delta_k`, so the last
    layer's is exact and the others are not gradients at all. It learns
    anyway: the forward weights come to align with :math:`B_k^\top`, and then
    the updates point within 90° of the gradient (:meth:`update_angles`,
    :meth:`weight_angles`). A synapse needs no knowledge of the weights
    downstream, the "weight transport problem" that makes backprop
    implausible in a brain.

    ``forward`` is the model's; ``backward(dout)`` fills the model's ``.grad``
    with FA's updates; the parameters are the model's, under the same names,
    so the optimizers of ``bptutor.optim`` and ``fit`` work unchanged.

    Args:
        model: a ``Sequential`` with at least two ``Linear`` layers.
        rng: generator or seed for the feedback matrices.
        scale: standard deviation of the entries of :math:`B_k`;
            :math:`1/\sqrt{\text{out}_k}` when None (the size of a standard init).

    Attributes:
        model: the wrapped network. feedback: layer index -> :math:`B_k`, (out_k, in_k).
    """

    def __init__(self, model, rng=0, scale: float | None = None):
        super().__init__()
        who = "FeedbackAlignment"
        if not isinstance(model, Sequential):
            raise TypeError(f"{who} expected model to be a Sequential, got {describe(model)}")
        linear = [i for i, layer in enumerate(model.layers) if isinstance(layer, Linear)]
        if len(linear) < 2:
            raise ValueError(f"{who} expected a model with at least two Linear layers (feedback replaces W^T "
                             f"of every Linear layer after the first), got {len(linear)}")
        if scale is not None:
            scale = check_float("scale", scale, minimum=0.0, strict_min=True, who=who)
        g = check_rng(rng)
        self.model = model
        self._modules = model._modules  # the model's parameters under the model's names, "0.W", ...
        self.feedback: dict[int, np.ndarray] = {}
        for i in linear[1:]:
            layer = model.layers[i]
            std = 1.0 / np.sqrt(layer.out_features) if scale is None else scale
            self.feedback[i] = std * g.standard_normal((layer.out_features, layer.in_features))
        self._cache = None

    def backward(self, dout) -> np.ndarray:
        """Add FA's updates into the parameters' ``.grad``; returns the first layer's ``dX``."""
        require_cache(self)
        for i in reversed(range(len(self.model.layers))):
            dX = self.model.layers[i].backward(dout)       # adds dW, db; dX would use W^T ...
            dout = dout @ self.feedback[i] if i in self.feedback else dX  # ... FA sends delta B instead
        return dout

    def update_angles(self, X, y, loss) -> dict[str, float]:
        """Angles in degrees between FA's update and the gradient on ``(X, y)``: per parameter, and ``"all"``.

        Layers after the last feedback matrix get exact gradients (angle 0);
        an angle below 90° means the FA step still goes downhill. The
        parameters' ``.grad`` are left as they were.
        """
        loss_fn, _ = _resolve_loss(loss, self.model, "FeedbackAlignment.update_angles")
        named = self.named_parameters()
        saved = [p.grad.copy() for _, p in named]
        try:
            self.model.zero_grad()
            dout = loss_fn(self.forward(X), y)[1]
            self.model.backward(dout)
            bp = [p.grad.copy() for _, p in named]
            self.model.zero_grad()
            self.backward(dout)
            fa = [p.grad.copy() for _, p in named]
        finally:
            for (_, p), grad in zip(named, saved):
                p.grad[...] = grad
        angles = {name: angle_between(a, b) for (name, _), a, b in zip(named, fa, bp)}
        angles["all"] = angle_between(np.concatenate([a.ravel() for a in fa]),
                                      np.concatenate([b.ravel() for b in bp]))
        return angles

    def weight_angles(self) -> dict[int, float]:
        r"""Layer index -> the angle in degrees between :math:`W_k^\top` and :math:`B_k` (alignment of the weights)."""
        return {i: angle_between(self.model.layers[i].W.data.T, B) for i, B in self.feedback.items()}

    def __repr__(self) -> str:
        return "FeedbackAlignment(" + repr(self.model).replace("\n", "\n  ") + ")"
