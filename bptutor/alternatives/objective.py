r"""A network's loss as a function of one vector, and what a gradient estimate costs.

* :class:`Objective`: :math:`L(\theta)` of a model on fixed data, with
  :meth:`~Objective.backprop` (1 forward + 1 backward pass) and
  :meth:`~Objective.jvp` (1 forward pass carrying dual numbers), every pass counted;
* :class:`GradientEstimate` (an estimate and its passes) and
  :class:`CallCounter`, which every estimator returns or uses;
* :func:`cosine_similarity`, :func:`angle_between`, :func:`norm_error`: how
  close an estimate is to the true gradient;
* the estimators that need the network, not only the loss:
  :func:`backprop_gradient` (exact, 2 passes), :func:`forward_mode_gradient`
  (exact, :math:`P` passes), :func:`forward_gradient` (one random direction
  per pass, Baydin et al. 2022);
* :func:`gradient_descent`: plain descent with any of the estimators, its
  passes counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._checks import as_array, check_float, check_int, check_rng, describe
from ..batching import _check_pair
from ..evaluation import _resolve_loss
from ._flat import _check_module, _flat, _split, flat_grad, flat_params
from .forward_mode import dual_forward


class Objective:
    r"""The loss of ``model`` on fixed data as a function of a flat parameter vector, :math:`L(\theta)`.

    Three ways to call it, each counted in ``evaluations`` (forward passes)
    and ``backward_passes``:

    * ``f(theta)`` -> :math:`L(\theta)`: one forward pass;
    * ``f.backprop(theta)`` -> :math:`(L, \nabla L)`: one forward and one backward pass;
    * ``f.jvp(theta, v)`` -> :math:`(L, \nabla L \cdot v)`: one forward pass
      carrying dual numbers (:func:`~bptutor.alternatives.dual_forward`).

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


# --- what an estimate costs ------------------------------------------------------------------------------

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


# --- gradients that need the network ----------------------------------------------------------------------

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
    :math:`\sigma \to 0` of :func:`~bptutor.alternatives.es_gradient`, with the difference quotient
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
