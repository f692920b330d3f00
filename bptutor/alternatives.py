r"""Alternatives to backpropagation: other ways to get a gradient, or to learn without one.

Backpropagation gives the whole gradient :math:`\nabla L(\theta)` of a network
with :math:`P` parameters for one forward and one backward pass, a small
constant times the cost of evaluating :math:`L` whatever :math:`P` is (the
"cheap gradient principle", Griewank & Walther 2008). Chapter 11 measures it
against the alternatives in this module, on the same network:

* :func:`finite_difference_gradient`: central differences, :math:`2P` loss
  evaluations, error :math:`O(h^2)`;
* :func:`spsa_gradient`: simultaneous perturbation (Spall 1992), 2
  evaluations per random :math:`\pm 1` direction, unbiased up to :math:`O(c^2)`
  but noisy;
* :func:`es_gradient`: evolution strategies with antithetic Gaussian
  perturbations (Salimans et al. 2017), the gradient of a smoothed loss;
* :class:`Dual`, :func:`dual_forward`, :func:`forward_mode_gradient`:
  forward-mode differentiation with dual numbers (Wengert 1964), one exact
  directional derivative per forward pass, so the full gradient costs
  :math:`P` passes; :func:`forward_gradient` uses one random direction
  instead (Baydin et al. 2022);
* :class:`FeedbackAlignment`: backprop's backward pass with fixed random
  matrices in place of :math:`W^\top` (Lillicrap et al. 2016);
* :func:`hebb_update`, :func:`oja_update`, :func:`oja`: Hebbian learning,
  which follows no loss at all; Oja's (1982) rule finds the top principal
  component.

A network becomes a function of one flat vector :math:`\theta` (P,) through
:class:`Objective`, in the order of ``model.named_parameters()``. Every
evaluation sets :math:`\theta` into the model and restores the model's
parameters and gradients afterwards, also when it raises, so estimating a
gradient never changes the model. Every estimator returns a
:class:`GradientEstimate`: the estimate and the passes through the network it
used, counted as they happen.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._checks import as_array, check_float, check_int, check_rng, check_shape, describe
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, sigmoid, softmax
from .gradcheck import numerical_gradient
from .layers import Linear, Module, Sequential, require_cache
from .training import _check_pair, _resolve_loss


# --- a network as a function of one vector -------------------------------------------------------------

def _check_module(model, who: str) -> Module:
    if not isinstance(model, Module):
        raise TypeError(f"{who} expected model to be a bptutor Module (e.g. a Sequential), got {describe(model)}")
    return model


def flat_params(model) -> np.ndarray:
    """A copy of all of ``model``'s parameters as one float64 vector (P,), in ``named_parameters`` order."""
    params = _check_module(model, "flat_params").parameters()
    return np.concatenate([p.data.ravel() for p in params] or [np.zeros(0)]).astype(np.float64)


def flat_grad(model) -> np.ndarray:
    """A copy of all of ``model``'s gradients ``.grad`` as one float64 vector (P,), in ``named_parameters`` order."""
    params = _check_module(model, "flat_grad").parameters()
    return np.concatenate([p.grad.ravel() for p in params] or [np.zeros(0)]).astype(np.float64)


def _split(theta: np.ndarray, shapes: list) -> list:
    """Cut a flat vector into arrays of the given shapes (views)."""
    out, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        out.append(theta[offset:offset + size].reshape(shape))
        offset += size
    return out


def _flat(name: str, theta, P: int, who: str) -> np.ndarray:
    theta = as_array(name, theta, who=who).astype(np.float64, copy=False)
    check_shape(name, theta, (P,), who=who)
    return theta


def set_flat_params(model, theta) -> None:
    """Copy the flat vector ``theta`` (P,) into ``model``'s parameters (the inverse of :func:`flat_params`)."""
    params = _check_module(model, "set_flat_params").parameters()
    theta = _flat("theta", theta, sum(p.data.size for p in params), "set_flat_params")
    for p, values in zip(params, _split(theta, [p.data.shape for p in params])):
        p.data[...] = values


class Objective:
    r"""The loss of ``model`` on fixed data as a function of a flat parameter vector, :math:`L(\theta)`.

    Three ways to call it, each counted in ``evaluations`` (forward passes)
    and ``backward_passes``:

    * ``f(theta)`` -> :math:`L(\theta)`: one forward pass;
    * ``f.backprop(theta)`` -> :math:`(L, \nabla L)`: one forward and one backward pass;
    * ``f.jvp(theta, v)`` -> :math:`(L, \nabla L \cdot v)`: one forward pass
      carrying dual numbers (:func:`dual_forward`).

    The model's parameters and gradients are restored after every call, also
    when it raises. The model should draw no random numbers in its forward
    pass (no dropout in training mode), or :math:`L` is not a function of :math:`\theta`.

    Args:
        model: a bptutor ``Module``, e.g. ``Sequential(Linear(2, 8), Tanh(), Linear(8, 1))``.
        loss: a name in ``bptutor.losses.LOSSES`` or a function ``(pred, y) -> (loss, dout)``.
        X: inputs (N, D). y: targets for the loss.

    Attributes:
        theta0: the model's parameters when the objective was made, (P,).
        size: P. evaluations, backward_passes: counters, settable to 0.
    """

    def __init__(self, model, loss, X, y):
        who = "Objective"
        self.model = _check_module(model, who)
        self.loss_fn, _ = _resolve_loss(loss, model, who)
        self.X, self.y = _check_pair(X, y, who)
        self._params = model.parameters()
        self._shapes = [p.data.shape for p in self._params]
        self.size = int(sum(p.data.size for p in self._params))
        self.theta0 = flat_params(model)
        self.evaluations = 0
        self.backward_passes = 0

    def _theta(self, theta, name: str = "theta") -> np.ndarray:
        return _flat(name, theta, self.size, f"Objective(P={self.size})")

    def _with(self, theta, compute: Callable, grads: bool = False):
        """Run ``compute()`` with ``theta`` in the model; put the old parameters (and gradients) back."""
        theta = self._theta(theta)
        saved = [p.data.copy() for p in self._params]
        saved_grads = [p.grad.copy() for p in self._params] if grads else []
        try:
            for p, values in zip(self._params, _split(theta, self._shapes)):
                p.data[...] = values
            return compute()
        finally:
            for p, data in zip(self._params, saved):
                p.data[...] = data
            for p, grad in zip(self._params, saved_grads):
                p.grad[...] = grad

    def __call__(self, theta) -> float:
        def compute():
            self.evaluations += 1
            return float(self.loss_fn(self.model.forward(self.X), self.y)[0])
        return self._with(theta, compute)

    def backprop(self, theta) -> tuple[float, np.ndarray]:
        """:math:`(L(\\theta), \\nabla L(\\theta))` by backpropagation; the gradient is (P,)."""
        def compute():
            self.evaluations += 1
            self.model.zero_grad()
            value, dout = self.loss_fn(self.model.forward(self.X), self.y)
            self.backward_passes += 1
            self.model.backward(dout)
            return float(value), flat_grad(self.model)
        return self._with(theta, compute, grads=True)

    def jvp(self, theta, v) -> tuple[float, float]:
        r""":math:`(L(\theta), \nabla L(\theta)\cdot v)` in one forward pass with dual numbers.

        The network's output comes out as a dual number :math:`(\hat y, \dot{\hat y})`;
        the last link of the chain is the loss's own derivative,
        :math:`\dot L = \sum \frac{\partial L}{\partial \hat y} \odot \dot{\hat y}`.
        """
        theta, v = self._theta(theta), self._theta(v, "v")
        self.evaluations += 1
        out = dual_forward(self.model, self.X, v, theta)
        value, dout = self.loss_fn(out.value, self.y)
        return float(value), float(np.sum(dout * out.tangent))

    def __repr__(self) -> str:
        return f"Objective(P={self.size}, N={self.X.shape[0]})"


# --- how good is an estimate ------------------------------------------------------------------------------

def _pair(a, b, who: str) -> tuple[np.ndarray, np.ndarray]:
    a = as_array("a", a, who=who).astype(np.float64, copy=False).ravel()
    b = as_array("b", b, who=who).astype(np.float64, copy=False).ravel()
    if a.shape != b.shape:
        raise ValueError(f"{who} expected a and b of the same size, got {a.size} and {b.size}")
    return a, b


def cosine_similarity(a, b) -> float:
    r""":math:`\cos\angle(a, b) = \frac{a\cdot b}{\lVert a\rVert\,\lVert b\rVert}`, in [-1, 1]; arrays are flattened."""
    a, b = _pair(a, b, "cosine_similarity")
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if norms == 0:
        raise ValueError("cosine_similarity expected two non-zero vectors (a zero vector has no direction), "
                         f"got norms {np.linalg.norm(a):g} and {np.linalg.norm(b):g}")
    return float(np.clip(a @ b / norms, -1.0, 1.0))


def angle_between(a, b) -> float:
    """The angle between two non-zero vectors in degrees, in [0, 180]; 90 means unrelated directions."""
    return float(np.degrees(np.arccos(cosine_similarity(a, b))))


def norm_error(estimate, reference) -> float:
    r"""Relative error of a whole vector, :math:`\lVert \hat g - g\rVert / \lVert g\rVert`.

    Unlike :func:`bptutor.gradcheck.rel_error` (the worst entry, symmetric in
    its arguments) this measures the estimate against the reference as a
    vector: 0 is exact, 1 is as far off as the zero vector.
    """
    e, r = _pair(estimate, reference, "norm_error")
    scale = np.linalg.norm(r)
    if scale == 0:
        raise ValueError("norm_error expected a non-zero reference vector, got the zero vector")
    return float(np.linalg.norm(e - r) / scale)


# --- gradient estimates from loss evaluations -------------------------------------------------------------

@dataclass(frozen=True)
class GradientEstimate:
    """A gradient estimate and what it cost.

    Attributes:
        grad: the estimate, (P,).
        evaluations: forward passes used: loss evaluations, or forward passes
            carrying a tangent (forward mode).
        backward_passes: backward passes used (1 for backprop, else 0).
        method: a short name for tables.
    """
    grad: np.ndarray
    evaluations: int
    backward_passes: int = 0
    method: str = ""

    @property
    def passes(self) -> int:
        """All passes through the network, forward and backward."""
        return self.evaluations + self.backward_passes


class CallCounter:
    """A function that counts its calls: ``g = CallCounter(f); g(x); g.calls`` is 1."""

    def __init__(self, f: Callable):
        if not callable(f):
            raise TypeError(f"CallCounter expected f to be callable, got {describe(f)}")
        self.f, self.calls = f, 0

    def __call__(self, *args):
        self.calls += 1
        return self.f(*args)


def _start(f, theta, who: str) -> tuple[CallCounter, np.ndarray]:
    if not callable(f):
        raise TypeError(f"{who} expected f to be a function of theta returning the loss, got {describe(f)}")
    theta = as_array("theta", theta, ndim=1, who=who).astype(np.float64)  # a copy: theta is never changed
    if theta.size == 0:
        raise ValueError(f"{who} expected theta with at least one entry, got shape (0,)")
    return CallCounter(f), theta


def _loss(value, who: str) -> float:
    if isinstance(value, (bool, np.bool_)) or np.size(value) != 1:
        raise TypeError(f"{who} expected f to return a scalar loss, got {describe(value)}")
    return float(np.asarray(value, dtype=np.float64).reshape(()))


def finite_difference_gradient(f: Callable, theta, h: float = 1e-5) -> GradientEstimate:
    r"""The gradient by central differences, one coordinate at a time: :math:`2P` evaluations.

    .. math:: \hat g_i = \frac{L(\theta + h e_i) - L(\theta - h e_i)}{2h}
        = g_i + \frac{h^2}{6}\,\partial_i^3 L + O(h^4)

    The truncation error :math:`O(h^2)` and the rounding error
    :math:`\approx \varepsilon |L| / h` balance near :math:`h \approx 10^{-5}`
    in float64 (see :mod:`bptutor.gradcheck`, whose
    :func:`~bptutor.gradcheck.numerical_gradient` does the work).

    Args:
        f: the loss as a function of ``theta`` (an :class:`Objective`, say).
        theta: the point, (P,); not changed.
        h: the step, > 0.

    Returns:
        :class:`GradientEstimate` with ``evaluations = 2P``.
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
        :class:`GradientEstimate` with ``evaluations = 2 n_samples``.
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
        :class:`GradientEstimate` with ``evaluations = 2 n_pairs``.
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


# --- forward mode: dual numbers -------------------------------------------------------------------------------

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


def _objective(objective, theta, who: str) -> np.ndarray:
    if not isinstance(objective, Objective):
        raise TypeError(f"{who} expected objective to be a bptutor.alternatives.Objective (it needs the "
                        f"network, not only the loss), got {describe(objective)}")
    return objective.theta0 if theta is None else objective._theta(theta)


def backprop_gradient(objective: Objective, theta=None) -> GradientEstimate:
    """The exact gradient by backpropagation: 1 forward and 1 backward pass.

    Args:
        objective: an :class:`Objective`. theta: the point (P,), ``objective.theta0`` when None.
    """
    theta = _objective(objective, theta, "backprop_gradient")
    return GradientEstimate(objective.backprop(theta)[1], 1, 1, "backprop")


def forward_mode_gradient(objective: Objective, theta=None) -> GradientEstimate:
    r"""The exact gradient by forward mode: one JVP per coordinate, :math:`P` passes.

    .. math:: g_i = \nabla L\cdot e_i, \qquad i = 1, \dots, P

    Exact to rounding like backprop, but :math:`P` times the passes: forward
    mode pays per *input* (parameter) and reverse mode per *output* (one
    loss), which is why networks are trained in reverse mode.

    Args:
        objective: an :class:`Objective`. theta: the point (P,), ``objective.theta0`` when None.
    """
    theta = _objective(objective, theta, "forward_mode_gradient")
    basis = np.zeros(objective.size)
    grad = np.zeros(objective.size)
    for i in range(objective.size):
        basis[i] = 1.0
        grad[i] = objective.jvp(theta, basis)[1]
        basis[i] = 0.0
    return GradientEstimate(grad, objective.size, 0, "forward mode")


def forward_gradient(objective: Objective, theta=None, n_samples: int = 1, rng=0) -> GradientEstimate:
    r"""The "forward gradient" (Baydin et al. 2022): one JVP along a random direction per sample.

    .. math:: \hat g = \frac1n\sum_{k=1}^n (\nabla L\cdot v_k)\, v_k, \qquad v_k \sim \mathcal N(0, I)

    Unbiased, since :math:`\mathbb E[v v^\top] = I`; it is the limit
    :math:`\sigma \to 0` of :func:`es_gradient`, with the difference quotient
    replaced by an exact directional derivative.

    Args:
        objective: an :class:`Objective`. theta: the point (P,), ``objective.theta0`` when None.
        n_samples: directions averaged, >= 1. rng: generator or seed.
    """
    who = "forward_gradient"
    theta = _objective(objective, theta, who)
    n = check_int("n_samples", n_samples, minimum=1, who=who)
    g = check_rng(rng)
    total = np.zeros(objective.size)
    for _ in range(n):
        v = g.standard_normal(objective.size)  # (P,)
        total += objective.jvp(theta, v)[1] * v
    return GradientEstimate(total / n, n, 0, "forward gradient")


# --- training with an estimate -------------------------------------------------------------------------------

@dataclass
class DescentTrace:
    """What :func:`gradient_descent` did.

    Attributes:
        theta: the final parameters (P,).
        losses: :math:`L(\\theta_t)` for t = 0..steps (measured for the record; not counted in ``passes``).
        passes: passes spent on gradient estimates before :math:`\\theta_t`, (steps + 1,), starting at 0.
    """
    theta: np.ndarray
    losses: np.ndarray
    passes: np.ndarray


def gradient_descent(f: Callable, theta0, estimate: Callable, lr: float, steps: int) -> DescentTrace:
    r"""Plain gradient descent :math:`\theta_{t+1} = \theta_t - \eta\,\hat g(\theta_t)` with any estimator.

    Args:
        f: the loss, for the record of :math:`L(\theta_t)` (if it is an
            :class:`Objective`, these calls show in its counters too).
        theta0: the start (P,); not changed.
        estimate: ``theta -> GradientEstimate``, e.g.
            ``lambda th: spsa_gradient(f, th, c=1e-3, rng=g)`` with a generator ``g``
            created once, so each step draws new directions.
        lr: :math:`\eta` > 0. steps: the number of updates, >= 0.

    Returns:
        :class:`DescentTrace`.
    """
    who = "gradient_descent"
    _, theta = _start(f, theta0, who)
    if not callable(estimate):
        raise TypeError(f"{who} expected estimate to be a function theta -> GradientEstimate, got {describe(estimate)}")
    lr = check_float("lr", lr, minimum=0.0, strict_min=True, who=who)
    steps = check_int("steps", steps, minimum=0, who=who)
    losses, passes = [_loss(f(theta), who)], [0]
    for _ in range(steps):
        est = estimate(theta)
        if not isinstance(est, GradientEstimate) or np.shape(est.grad) != theta.shape:
            raise TypeError(f"{who} expected estimate(theta) to return a GradientEstimate with grad of shape "
                            f"{theta.shape}, got {describe(est)}")
        theta = theta - lr * est.grad
        losses.append(_loss(f(theta), who))
        passes.append(passes[-1] + est.passes)
    return DescentTrace(theta, np.array(losses), np.array(passes))


# --- feedback alignment ----------------------------------------------------------------------------------------

class FeedbackAlignment(Module):
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

    @property
    def layers(self) -> list:
        return self.model.layers

    def train(self, mode: bool = True) -> "FeedbackAlignment":
        self.training = bool(mode)
        self.model.train(mode)
        return self

    def forward(self, X) -> np.ndarray:
        out = self.model.forward(X)
        self._cache = True
        return out

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


# --- Hebbian learning ----------------------------------------------------------------------------------------------

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
