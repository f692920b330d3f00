r"""Activation functions: the functions, their derivatives, and layers built on them.

Three forms of each activation, so a notebook can use whichever it derives:

* a function, ``sigmoid(x)``, applied elementwise (``softmax`` row-wise);
* its derivative, ``sigmoid_grad(x)`` = :math:`\sigma'(x)`, elementwise;
* a layer, ``Sigmoid()``, a :class:`~bptutor.layers.Module` whose
  ``backward(dout)`` returns ``dout * f'(x)``.

``ACTIVATIONS`` maps names to layer classes and ``get_activation(name)`` builds
one, so configuration is a string and never a ``getattr`` on one.

Numerical stability (inputs of size 1e4 give finite outputs and gradients):
``sigmoid`` uses two branches so it never evaluates ``exp`` of a large positive
number; ``softmax`` and ``log_softmax`` subtract the row maximum first;
``logsumexp`` factors the maximum out. Non-finite inputs are passed through
(they give NaN or inf, never an exception) so that a diverging training run
shows up as a non-finite loss, which ``fit`` reports with advice.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_choice, check_float, check_int, describe
from .layers import Module, check_dout, require_cache


def _slope(slope, who: str) -> float:
    # slope >= 1 would make the negative side steeper than the positive one.
    return check_float("slope", slope, minimum=0.0, maximum=1.0, strict_max=True, who=who)


# --- functions ----------------------------------------------------------------------------------

def sigmoid(x) -> np.ndarray:
    r"""The logistic function, computed in two branches so it never overflows.

    .. math:: \sigma(x) = \frac{1}{1 + e^{-x}} = \frac{e^{x}}{1 + e^{x}}

    With :math:`e = e^{-|x|} \in (0, 1]` the first form is used for
    :math:`x \ge 0` and the second for :math:`x < 0`; ``exp`` of a large
    positive number (``inf`` past 709 in float64) is never evaluated.

    Args:
        x: array of any shape.

    Returns:
        array of ``x``'s shape (and float dtype), values in [0, 1].
    """
    x = as_array("x", x, who="sigmoid")
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x) -> np.ndarray:
    r"""Derivative of the sigmoid, :math:`\sigma'(x) = \sigma(x)\,(1 - \sigma(x)) = \sigma(x)\,\sigma(-x)`.

    :math:`1 - \sigma(x)` is computed as :math:`\sigma(-x)`, which keeps full
    relative precision for large :math:`x` instead of rounding to 0.

    Args:
        x: array of any shape (the pre-activation, not :math:`\sigma(x)`).

    Returns:
        array of ``x``'s shape, values in [0, 1/4].
    """
    x = as_array("x", x, who="sigmoid_grad")
    return sigmoid(x) * sigmoid(-x)


def tanh(x) -> np.ndarray:
    r"""Hyperbolic tangent, :math:`\tanh x = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}` (numpy's stable version).

    Args:
        x: array of any shape.

    Returns:
        array of ``x``'s shape, values in [-1, 1].
    """
    return np.tanh(as_array("x", x, who="tanh"))


def tanh_grad(x) -> np.ndarray:
    r"""Derivative of tanh, :math:`\tanh'(x) = 1 - \tanh^2 x`.

    Args:
        x: array of any shape (the pre-activation).

    Returns:
        array of ``x``'s shape, values in [0, 1].
    """
    t = np.tanh(as_array("x", x, who="tanh_grad"))
    return 1.0 - t * t


def relu(x) -> np.ndarray:
    r"""Rectified linear unit, :math:`\operatorname{relu}(x) = \max(x, 0)`.

    Args:
        x: array of any shape.

    Returns:
        array of ``x``'s shape.
    """
    x = as_array("x", x, who="relu")
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def relu_grad(x) -> np.ndarray:
    r"""Derivative of ReLU: :math:`1` where :math:`x > 0`, else :math:`0`.

    At the kink :math:`x = 0` the derivative does not exist; like PyTorch we
    use 0 there (any value in [0, 1] is a valid subgradient).

    Args:
        x: array of any shape (the pre-activation).

    Returns:
        array of 0.0 and 1.0 of ``x``'s shape.
    """
    x = as_array("x", x, who="relu_grad")
    return (x > 0).astype(x.dtype)


def leaky_relu(x, slope: float = 0.01) -> np.ndarray:
    r"""Leaky ReLU: :math:`x` for :math:`x > 0`, else :math:`a x` with slope :math:`a`.

    Args:
        x: array of any shape.
        slope: :math:`a`, the slope for negative inputs, in [0, 1).

    Returns:
        array of ``x``'s shape.
    """
    x = as_array("x", x, who="leaky_relu")
    slope = _slope(slope, "leaky_relu")
    return np.where(x > 0, x, slope * x).astype(x.dtype, copy=False)


def leaky_relu_grad(x, slope: float = 0.01) -> np.ndarray:
    r"""Derivative of leaky ReLU: :math:`1` where :math:`x > 0`, else :math:`a` (also at 0).

    Args:
        x: array of any shape (the pre-activation).
        slope: :math:`a`, in [0, 1).

    Returns:
        array of ``x``'s shape.
    """
    x = as_array("x", x, who="leaky_relu_grad")
    slope = _slope(slope, "leaky_relu_grad")
    return np.where(x > 0, 1.0, slope).astype(x.dtype)


def step(x) -> np.ndarray:
    r"""Heaviside step, the perceptron's threshold: :math:`1` where :math:`x > 0`, else :math:`0`.

    Args:
        x: array of any shape.

    Returns:
        array of 0.0 and 1.0 of ``x``'s shape.
    """
    x = as_array("x", x, who="step")
    return (x > 0).astype(x.dtype)


def step_grad(x) -> np.ndarray:
    r"""Derivative of the step: :math:`0` everywhere it exists (undefined at 0; 0 is returned).

    This is why backpropagation needs differentiable activations: a network of
    step units passes back no gradient at all, so no weight ever changes.

    Args:
        x: array of any shape.

    Returns:
        zeros of ``x``'s shape.
    """
    x = as_array("x", x, who="step_grad")
    return np.zeros_like(x)


def _check_axis(Z: np.ndarray, axis, who: str) -> int:
    axis = check_int("axis", axis, who=who)
    if not -Z.ndim <= axis < Z.ndim:
        raise ValueError(f"{who} expected axis in the range {-Z.ndim} to {Z.ndim - 1} for Z of "
                         f"shape {Z.shape}, got {axis}")
    if Z.shape[axis] == 0:
        raise ValueError(f"{who} expected at least one entry along axis {axis}, got Z of shape {Z.shape}")
    return axis


def _logsumexp_keepdims(Z: np.ndarray, axis: int) -> np.ndarray:
    # Factoring out the maximum m makes the largest exponent exp(0) = 1: no
    # overflow, and the sum is at least 1, so its log is finite too.
    m = np.max(Z, axis=axis, keepdims=True)
    return m + np.log(np.sum(np.exp(Z - m), axis=axis, keepdims=True))


def logsumexp(Z, axis: int = -1) -> np.ndarray:
    r"""Log-sum-exp along ``axis``, computed without overflow.

    .. math:: \operatorname{lse}(z) = \log \sum_j e^{z_j} = m + \log \sum_j e^{z_j - m},
       \qquad m = \max_j z_j

    Args:
        Z: array with at least one dimension, e.g. logits ``(N, C)``.
        axis: the axis summed over (default: the last).

    Returns:
        array of ``Z``'s shape without ``axis``, e.g. ``(N,)``.
    """
    Z = as_array("Z", Z, who="logsumexp")
    if Z.ndim == 0:
        raise ValueError("logsumexp expected Z with at least 1 dimension, got a scalar")
    axis = _check_axis(Z, axis, "logsumexp")
    return np.squeeze(_logsumexp_keepdims(Z, axis), axis=axis)


def _rows(Z, who: str) -> np.ndarray:
    Z = as_array("Z", Z, who=who)
    if Z.ndim == 0 or Z.shape[-1] == 0:
        raise ValueError(f"{who} expected Z of shape (N, C) or (C,) with C >= 1, got {Z.shape}")
    return Z


def softmax(Z) -> np.ndarray:
    r"""Softmax over the last axis (each row of ``Z`` becomes a probability distribution).

    .. math:: \operatorname{softmax}(z)_j = \frac{e^{z_j - m}}{\sum_k e^{z_k - m}},
       \qquad m = \max_k z_k

    Subtracting the row maximum changes nothing mathematically (it cancels
    between numerator and denominator) but keeps every exponent <= 0.

    Args:
        Z: logits, ``(N, C)`` (or ``(C,)`` for a single row).

    Returns:
        array of ``Z``'s shape; each row is non-negative and sums to 1.
    """
    Z = _rows(Z, "softmax")
    E = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
    return E / np.sum(E, axis=-1, keepdims=True)


def log_softmax(Z) -> np.ndarray:
    r"""Logarithm of the softmax over the last axis, without forming the softmax.

    .. math:: \log \operatorname{softmax}(z)_j = z_j - \operatorname{lse}(z)

    computed as :math:`(z_j - m) - \log \sum_k e^{z_k - m}` with :math:`m = \max_k z_k`.
    ``np.log(softmax(Z))`` would give ``-inf`` once a probability underflows
    to 0; and ``Z - lse(Z)`` would lose the small term :math:`\log S`
    next to a huge :math:`m` (three entries of :math:`-10^{300}` would give 0,
    not :math:`-\ln 3`). Subtracting :math:`m` first keeps it.

    Finite whenever the true value is representable: an entry more than
    about :math:`1.8 \times 10^{308}` below its row's maximum gives ``-inf``
    (its exact log-probability is beyond the float range). Non-finite inputs
    pass through as NaN or inf, as in every function here.

    Args:
        Z: logits, ``(N, C)`` (or ``(C,)``).

    Returns:
        array of ``Z``'s shape, every entry <= 0.
    """
    Z = _rows(Z, "log_softmax")
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = Z - np.max(Z, axis=-1, keepdims=True)  # every entry <= 0, the maximum exactly 0
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


# --- layers -----------------------------------------------------------------------------------------

class _Elementwise(Module):
    """Shared plumbing of the activation layers: input check, cache, dout check."""

    def __init__(self):
        super().__init__()
        self._cache = None

    def _input(self, X) -> np.ndarray:
        return as_array("X", X, who=repr(self))

    def _upstream(self, dout, shape) -> np.ndarray:
        return check_dout(dout, shape, who=repr(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(_Elementwise):
    r"""Sigmoid layer, :math:`A = \sigma(X)`; backward :math:`dX = dout \odot A (1 - A)`.

    The cache holds the output :math:`A`: the derivative is cheaper from it
    than from :math:`X` (no second ``exp``).
    """

    def forward(self, X) -> np.ndarray:
        A = sigmoid(self._input(X))
        self._cache = A
        return A

    def backward(self, dout) -> np.ndarray:
        A = require_cache(self)
        dout = self._upstream(dout, A.shape)
        return dout * A * (1.0 - A)


class Tanh(_Elementwise):
    r"""Tanh layer, :math:`A = \tanh X`; backward :math:`dX = dout \odot (1 - A^2)` from the cached output."""

    def forward(self, X) -> np.ndarray:
        A = np.tanh(self._input(X))
        self._cache = A
        return A

    def backward(self, dout) -> np.ndarray:
        A = require_cache(self)
        dout = self._upstream(dout, A.shape)
        return dout * (1.0 - A * A)


_UINT_OF = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def _where_or_zero(mask: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``np.where(mask, A, 0)`` for a float ``A``, bit for bit, in one branch-free pass.

    ``np.where`` tests the mask element by element; when the mask follows the
    signs of random pre-activations the processor mispredicts half of those
    tests, and a (256, 1024) batch takes ten times as long as one arithmetic
    pass. Here each element's bits are ANDed with all ones (kept) or all zeros
    (+0.0), which selects exactly the same values, NaN and infinity included.
    """
    uint = _UINT_OF[A.dtype]
    keep = mask.astype(uint)
    np.negative(keep, out=keep)  # 1 -> all ones (unsigned wrap-around), 0 -> 0
    return np.bitwise_and(A.view(uint), keep).view(A.dtype)


class ReLU(_Elementwise):
    r"""ReLU layer, :math:`A = \max(X, 0)`; backward passes ``dout`` where :math:`X > 0` and 0 elsewhere.

    The cache is the boolean mask :math:`X > 0` (derivative 0 at the kink, as in PyTorch).
    Both passes are ``np.where(mask, ·, 0)``, computed by :func:`_where_or_zero`.
    """

    def forward(self, X) -> np.ndarray:
        X = self._input(X)
        mask = X > 0
        self._cache = mask
        return _where_or_zero(mask, X)

    def backward(self, dout) -> np.ndarray:
        mask = require_cache(self)
        dout = self._upstream(dout, mask.shape)
        return _where_or_zero(mask, dout)


class LeakyReLU(_Elementwise):
    r"""Leaky ReLU layer: :math:`A = X` where :math:`X > 0`, else :math:`a X`.

    Args:
        slope: :math:`a`, the slope for negative inputs, in [0, 1).
    """

    def __init__(self, slope: float = 0.01):
        super().__init__()
        self.slope = _slope(slope, "LeakyReLU")

    def forward(self, X) -> np.ndarray:
        X = self._input(X)
        mask = X > 0
        self._cache = mask
        return np.where(mask, X, self.slope * X).astype(X.dtype, copy=False)

    def backward(self, dout) -> np.ndarray:
        mask = require_cache(self)
        dout = self._upstream(dout, mask.shape)
        return np.where(mask, dout, self.slope * dout).astype(dout.dtype, copy=False)

    def __repr__(self) -> str:
        return f"LeakyReLU(slope={self.slope})"


class Softmax(_Elementwise):
    r"""Row-wise softmax layer, :math:`A = \operatorname{softmax}(X)` for ``X`` of shape ``(N, C)``.

    The Jacobian of one row is :math:`\partial a_i / \partial x_j = a_i(\delta_{ij} - a_j)`,
    so without forming it,

    .. math:: dX = A \odot \left(dout - \textstyle\sum_j dout_{:,j} A_{:,j}\right)

    For classification prefer logits + :func:`bptutor.losses.cross_entropy_loss`,
    which fuses this with the loss into the simpler gradient :math:`(A - Y)/N`.
    """

    def _input(self, X) -> np.ndarray:
        return as_array("X", X, ndim=2, who=repr(self))

    def forward(self, X) -> np.ndarray:
        A = softmax(self._input(X))
        self._cache = A
        return A

    def backward(self, dout) -> np.ndarray:
        A = require_cache(self)
        dout = self._upstream(dout, A.shape)
        return A * (dout - np.sum(dout * A, axis=1, keepdims=True))


class Identity(_Elementwise):
    r"""The identity, :math:`A = X`, :math:`dX = dout`: a linear output layer for regression."""

    def forward(self, X) -> np.ndarray:
        X = self._input(X)
        self._cache = X.shape
        return X

    def backward(self, dout) -> np.ndarray:
        shape = require_cache(self)
        return self._upstream(dout, shape)


#: name -> activation layer class; ``get_activation(name)`` builds one.
ACTIVATIONS = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
    "identity": Identity,
}


def get_activation(name: str) -> Module:
    """A new activation layer by name, e.g. ``get_activation("tanh")`` -> ``Tanh()``.

    Args:
        name: a key of :data:`ACTIVATIONS`.

    Returns:
        a new instance (default arguments, e.g. ``LeakyReLU(slope=0.01)``).
    """
    if not isinstance(name, str):
        raise TypeError(f"get_activation expected name to be a string, one of {sorted(ACTIVATIONS)}, "
                        f"got {describe(name)}")
    return ACTIVATIONS[check_choice("name", name, ACTIVATIONS, who="get_activation")]()
