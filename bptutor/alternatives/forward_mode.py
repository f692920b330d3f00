r"""Forward-mode differentiation with dual numbers: :class:`Dual` and :func:`dual_forward`.

A dual number :math:`a + \dot a\,\varepsilon` (:math:`\varepsilon^2 = 0`) carries
a value and its derivative along one direction through every operation
(Wengert 1964). :func:`dual_forward` passes a whole network's output and its
directional derivative :math:`J_\theta \hat y\, v` through one forward pass;
:meth:`bptutor.alternatives.Objective.jvp` ends the chain at the loss, and
:func:`~bptutor.alternatives.forward_mode_gradient` and
:func:`~bptutor.alternatives.forward_gradient` build gradients from it.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_float
from ..activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, sigmoid, softmax
from ..layers import Linear, Sequential
from ._flat import _check_module, _flat, _split, flat_params


class Dual:
    r"""Dual numbers :math:`a + \dot a\,\varepsilon` with :math:`\varepsilon^2 = 0`, elementwise over arrays.

    Taylor's theorem stops after the first term,
    :math:`f(a + \dot a\varepsilon) = f(a) + f'(a)\,\dot a\,\varepsilon`, so carrying
    the pair (value, tangent) through every operation computes a directional
    derivative alongside the value: forward-mode differentiation (Wengert
    1964). Products follow the product rule, matrices included:
    :math:`(A + \dot A\varepsilon)(B + \dot B\varepsilon) = AB + (\dot A B + A\dot B)\varepsilon`.

    Args:
        value: array (or number). tangent: same shape, zeros (a constant) when omitted.

    Supported: ``+ - * / @`` with Duals, arrays or numbers on either side,
    ``**`` a constant, and ``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``,
    ``leaky_relu``, ``softmax`` (rows), ``sum``.
    """

    __slots__ = ("value", "tangent")
    __array_priority__ = 1000  # an ndarray on the left defers to Dual's reflected operators

    def __init__(self, value, tangent=None):
        self.value = as_array("value", value, who="Dual")
        if tangent is None:
            self.tangent = np.zeros_like(self.value)
        else:
            self.tangent = as_array("tangent", tangent, who="Dual")
            if self.tangent.shape != self.value.shape:
                raise ValueError(f"Dual expected tangent of shape {self.value.shape} (the shape of value), "
                                 f"got {self.tangent.shape}")

    @staticmethod
    def _lift(other) -> "Dual":
        return other if isinstance(other, Dual) else Dual(other)

    def __add__(self, other):
        o = self._lift(other)
        return Dual(self.value + o.value, self.tangent + o.tangent)

    __radd__ = __add__

    def __neg__(self):
        return Dual(-self.value, -self.tangent)

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return self._lift(other) - self

    def __mul__(self, other):
        o = self._lift(other)
        return Dual(self.value * o.value, self.tangent * o.value + self.value * o.tangent)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._lift(other)
        return Dual(self.value / o.value,
                           (self.tangent * o.value - self.value * o.tangent) / (o.value * o.value))

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __pow__(self, k):
        k = check_float("k", k, who="Dual.__pow__")
        return Dual(self.value ** k, k * self.value ** (k - 1) * self.tangent)

    def __matmul__(self, other):
        o = self._lift(other)
        return Dual(self.value @ o.value, self.tangent @ o.value + self.value @ o.tangent)

    def __rmatmul__(self, other):
        return self._lift(other) @ self

    def exp(self):
        e = np.exp(self.value)
        return Dual(e, e * self.tangent)

    def log(self):
        return Dual(np.log(self.value), self.tangent / self.value)

    def tanh(self):
        t = np.tanh(self.value)
        return Dual(t, (1.0 - t * t) * self.tangent)

    def sigmoid(self):
        s = sigmoid(self.value)
        return Dual(s, s * (1.0 - s) * self.tangent)

    def relu(self):
        mask = self.value > 0  # slope 0 at the kink, as bptutor's ReLU layer
        return Dual(np.where(mask, self.value, 0.0), np.where(mask, self.tangent, 0.0))

    def leaky_relu(self, slope: float = 0.01):
        mask = self.value > 0
        return Dual(np.where(mask, self.value, slope * self.value), np.where(mask, 1.0, slope) * self.tangent)

    def softmax(self):
        r"""Row-wise softmax: :math:`\dot s = s \odot (\dot z - \sum_j s_j \dot z_j)`."""
        s = softmax(self.value)
        return Dual(s, s * (self.tangent - np.sum(s * self.tangent, axis=-1, keepdims=True)))

    def sum(self):
        return Dual(np.sum(self.value), np.sum(self.tangent))

    def __repr__(self) -> str:
        return f"Dual(value={self.value!r}, tangent={self.tangent!r})"


#: activation layer class -> how a Dual passes through it.
DUAL_ACTIVATIONS = {
    Sigmoid: lambda layer, A: A.sigmoid(),
    Tanh: lambda layer, A: A.tanh(),
    ReLU: lambda layer, A: A.relu(),
    LeakyReLU: lambda layer, A: A.leaky_relu(layer.slope),
    Softmax: lambda layer, A: A.softmax(),
    Identity: lambda layer, A: A,
}


def _dual_through(layer, A: Dual, pairs) -> Dual:
    if isinstance(layer, Sequential):
        for sub in layer.layers:
            A = _dual_through(sub, A, pairs)
        return A
    if isinstance(layer, Linear):
        (W, dW), (b, db) = next(pairs), next(pairs)
        return A @ Dual(W, dW) + Dual(b, db)  # (N, D) @ (D, H) + (H,) -> (N, H)
    if type(layer) in DUAL_ACTIVATIONS:
        return DUAL_ACTIVATIONS[type(layer)](layer, A)
    names = ["Linear", "Sequential"] + [cls.__name__ for cls in DUAL_ACTIVATIONS]
    raise TypeError(f"dual_forward supports the layers {names}, got {layer!r}")


def dual_forward(model, X, v, theta=None) -> Dual:
    r"""The model's output and its directional derivative along ``v``, in one forward pass.

    Every parameter :math:`\theta_k` becomes the dual number
    :math:`\theta_k + v_k\varepsilon` and the input the constant :math:`X`;
    the output's tangent is :math:`J_\theta\hat y\, v`, a Jacobian-vector
    product (JVP). The model itself is not touched.

    Args:
        model: a ``Sequential`` (or single layer) of ``Linear`` and the
            activations in :data:`DUAL_ACTIVATIONS`.
        X: inputs (N, D).
        v: the direction, flat (P,) in ``named_parameters`` order.
        theta: parameter values, flat (P,); the model's own when None.

    Returns:
        :class:`Dual` with the output (N, C) and its tangent (N, C).
    """
    who = "dual_forward"
    params = _check_module(model, who).parameters()
    P = sum(p.data.size for p in params)
    theta = flat_params(model) if theta is None else _flat("theta", theta, P, who)
    v = _flat("v", v, P, who)
    shapes = [p.data.shape for p in params]
    pairs = iter(zip(_split(theta, shapes), _split(v, shapes)))
    return _dual_through(model, Dual(as_array("X", X, ndim=2, who=who)), pairs)
