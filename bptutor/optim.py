r"""Optimizers (SGD to Adam and AdamW), in order of increasing complexity, and, re-exported from :mod:`bptutor.schedules`, the learning-rate schedules.

Every optimizer updates a list of parameters in place from their gradients:

* vectorized :class:`bptutor.layers.Parameter` (ndarray ``data`` and ``grad``), or
* scalar :class:`bptutor.engine.Value` (float ``data`` and ``grad``),

mixed freely. Per-parameter state (velocities, running averages) is created in
``__init__`` with the parameter's shape (a 0-d array for a ``Value``), so one
formula serves both kinds. The learning rate is the public attribute ``lr``;
the schedules of :mod:`bptutor.schedules` set it once per epoch (pass one
to ``fit`` as a callback).

Notation: :math:`\theta` a parameter, :math:`g = \partial L/\partial\theta`
its gradient (``.grad``), :math:`\eta` the learning rate (``lr``), :math:`t`
the step count starting at 1. Squares, roots and divisions are elementwise.

Weight decay is no hidden flag: an L2 penalty on the loss is added by
:mod:`bptutor.regularization`; decoupled weight decay, which is not the same
thing under Adam, is its own optimizer, :class:`AdamW`.
"""
from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod

import numpy as np

from ._checks import check_float, describe
from .layers import Module, Parameter


# --- parameters of either kind ---------------------------------------------------
def _is_scalar_param(p) -> bool:
    """A ``Value``-like object: real-number ``data`` and ``grad`` attributes."""
    real = (numbers.Real,)
    return (hasattr(p, "data") and hasattr(p, "grad")
            and isinstance(p.data, real) and not isinstance(p.data, bool)
            and isinstance(p.grad, real) and not isinstance(p.grad, bool))


def _check_params(params, who: str) -> list:
    """Return ``params`` as a list, refusing anything but Parameters and Values.

    Raises:
        TypeError: ``params`` is not a list of Parameter/Value (a Module gets a hint).
        ValueError: ``params`` is empty or holds one parameter twice.
    """
    if isinstance(params, Module):
        raise TypeError(f"{who} expected params to be a list of Parameter or Value, got a "
                        f"{type(params).__name__} module; pass model.parameters()")
    if isinstance(params, (Parameter, str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{who} expected params to be a list of Parameter or Value, "
                        f"got {describe(params)}")
    params = list(params)
    if not params:
        raise ValueError(f"{who} expected params to be a non-empty list of Parameter or Value, "
                         "got an empty list")
    for i, p in enumerate(params):
        if not (isinstance(p, Parameter) or _is_scalar_param(p)):
            raise TypeError(f"{who} expected params to be a list of Parameter or Value, "
                            f"got {type(p).__name__} at params[{i}]")
    seen = {}
    for i, p in enumerate(params):
        if id(p) in seen:
            raise ValueError(f"{who} expected each parameter once, got the same one at "
                             f"params[{seen[id(p)]}] and params[{i}]")
        seen[id(p)] = i
    return params


def _zeros_like(p) -> np.ndarray:
    """State with the parameter's shape and dtype (0-d float64 for a Value)."""
    return np.zeros_like(p.data) if isinstance(p.data, np.ndarray) else np.zeros(())


def _apply(p, delta) -> None:
    """``θ ← θ + Δ``; in place for an ndarray, rebinding the float for a Value."""
    if isinstance(p.data, np.ndarray):
        p.data += delta
    else:
        p.data = float(p.data + delta)


def _check_lr(lr, who: str) -> float:
    return check_float("lr", lr, minimum=0.0, strict_min=True, who=who)


def _check_unit(name: str, value, who: str) -> float:
    """A decay rate or momentum coefficient in [0, 1)."""
    return check_float(name, value, minimum=0.0, maximum=1.0, strict_max=True, who=who)


def _check_eps(eps, who: str) -> float:
    return check_float("eps", eps, minimum=0.0, strict_min=True, who=who)


# --- optimizers ---------------------------------------------------------------------
class Optimizer(ABC):
    """Base class: holds ``params`` and ``lr``; subclasses implement ``_update``.

    ``step()`` is the same for every optimizer and is the only public way to
    update: it first checks the gradient of *every* parameter (see
    :meth:`check_grads`) and only then calls the subclass's ``_update``, so a
    bad gradient on the last parameter raises before the first one, or any
    state (velocities, moments, Adam's ``t``), has changed. A subclass never
    overrides ``step``.

    Args:
        params: list of ``Parameter`` and/or ``Value`` (e.g. ``model.parameters()``).
        lr: learning rate :math:`\\eta > 0`.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in vars(cls):
            raise TypeError(f"{cls.__name__} overrides Optimizer.step; implement _update instead, so that "
                            "step() checks every gradient before anything changes")

    def __init__(self, params, lr: float):
        who = type(self).__name__
        self.params = _check_params(params, who)
        self.lr = _check_lr(lr, who)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero (call before each backward pass)."""
        for p in self.params:
            if isinstance(p.grad, np.ndarray):
                p.grad[...] = 0.0
            else:
                p.grad = 0.0

    def check_grads(self) -> None:
        """Raise unless every parameter's ``.grad`` can be applied as it is; changes nothing.

        For a ``Parameter``: an ndarray of exactly the parameter's shape (no
        broadcasting: a (4,) gradient for a (3, 4) weight is refused, not
        added to every row), of a real numeric dtype, all finite. For a
        ``Value``: a finite real number. The learning rate must still be a
        finite number, positive or zero (a schedule may end at 0, as
        ``CosineLR`` does by default, and a step at rate 0 moves nothing).

        Raises:
            TypeError: a gradient of the wrong kind or dtype.
            ValueError: a wrong shape, NaN or infinity, or a bad ``lr``.
        """
        who = f"{type(self).__name__}.step"
        check_float("lr", self.lr, minimum=0.0, who=who)
        for i, p in enumerate(self.params):
            g, name = p.grad, f"params[{i}].grad"
            if isinstance(p.data, np.ndarray):
                if not isinstance(g, np.ndarray):
                    raise TypeError(f"{who} expected {name} to be an array of shape {p.data.shape}, "
                                    f"got {describe(g)}")
                if g.shape != p.data.shape:
                    raise ValueError(f"{who} expected {name} of shape {p.data.shape} (the parameter's "
                                     f"shape; gradients are not broadcast), got {g.shape}")
                if g.dtype.kind not in "fiu":  # float, signed or unsigned integer
                    raise TypeError(f"{who} expected {name} to hold real numbers, got dtype {g.dtype}")
                # a finite sum means every entry is finite (NaN or inf would make it NaN or inf);
                # only when it is not (or the sum of finite entries overflowed) is every entry scanned
                if not math.isfinite(np.add.reduce(g, axis=None)) and not np.isfinite(g).all():
                    bad = int(g.size - np.count_nonzero(np.isfinite(g)))
                    raise ValueError(f"{who} expected {name} to be finite, got {bad} NaN or infinite "
                                     f"entr{'y' if bad == 1 else 'ies'}; no parameter was changed")
            else:
                if isinstance(g, bool) or not isinstance(g, numbers.Real):
                    raise TypeError(f"{who} expected {name} to be a real number, got {describe(g)}")
                if not math.isfinite(g):
                    raise ValueError(f"{who} expected {name} to be finite, got {g}; no parameter was changed")

    def step(self) -> None:
        """Update every parameter in place from its ``.grad``: all gradients are checked first.

        Raises:
            TypeError, ValueError: from :meth:`check_grads`; then nothing has changed.
        """
        self.check_grads()
        self._update()

    @abstractmethod
    def _update(self) -> None:
        """The optimizer's rule, applied to gradients that :meth:`check_grads` accepted."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr:g})"


class SGD(Optimizer):
    r"""Plain (stochastic) gradient descent.

    .. math:: \theta \leftarrow \theta - \eta\, g

    Same as ``torch.optim.SGD(params, lr)`` with its defaults (no momentum).

    Args:
        params: list of ``Parameter`` and/or ``Value``.
        lr: learning rate :math:`\eta > 0`.
    """

    def __init__(self, params, lr: float = 0.01):
        super().__init__(params, lr)

    def _update(self) -> None:
        for p in self.params:
            _apply(p, -self.lr * p.grad)


class Momentum(Optimizer):
    r"""Heavy-ball momentum (Polyak 1964): a velocity that remembers past steps.

    .. math::
        v \leftarrow \mu v - \eta\, g, \qquad \theta \leftarrow \theta + v

    with :math:`v_0 = 0`. On a quadratic with curvatures in :math:`[m, L]`
    the best constants are :math:`\eta = 4/(\sqrt L + \sqrt m)^2`,
    :math:`\mu = \big((\sqrt\kappa - 1)/(\sqrt\kappa + 1)\big)^2`,
    :math:`\kappa = L/m`, giving the rate :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`
    per step instead of gradient descent's :math:`(\kappa-1)/(\kappa+1)`.

    PyTorch (``SGD(momentum=μ)``) keeps :math:`b \leftarrow \mu b + g`,
    :math:`\theta \leftarrow \theta - \eta b`: with a constant :math:`\eta`
    this is the same sequence (:math:`v = -\eta b`); when a schedule changes
    :math:`\eta`, torch rescales the whole past velocity at once, the heavy
    ball only new contributions.

    Args:
        params: list of ``Parameter`` and/or ``Value``.
        lr: learning rate :math:`\eta > 0`.
        momentum: :math:`\mu \in [0, 1)`.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(params, lr)
        self.momentum = _check_unit("momentum", momentum, type(self).__name__)
        self.velocity = [_zeros_like(p) for p in self.params]

    def _update(self) -> None:
        for p, v in zip(self.params, self.velocity):
            v *= self.momentum
            v -= self.lr * p.grad
            _apply(p, v)


class Nesterov(Momentum):
    r"""Nesterov's accelerated gradient, in the "look-ahead" form of Sutskever et al. (2013).

    Nesterov evaluates the gradient at the look-ahead point
    :math:`\theta + \mu v`. Storing that point as the parameter (so the
    gradient we are given is the one needed) turns the rule into

    .. math::
        v \leftarrow \mu v - \eta\, g, \qquad
        \theta \leftarrow \theta + \mu v - \eta\, g

    (the new :math:`v` on the right): a heavy-ball step plus one more
    momentum step, the "correction" that damps overshooting.

    PyTorch (``SGD(momentum=μ, nesterov=True)``) writes
    :math:`b \leftarrow \mu b + g`, :math:`\theta \leftarrow \theta - \eta(g + \mu b)`,
    the same sequence for a constant :math:`\eta` (:math:`v = -\eta b`).

    Args:
        params: list of ``Parameter`` and/or ``Value``.
        lr: learning rate :math:`\eta > 0`.
        momentum: :math:`\mu \in [0, 1)`.
    """

    # the same state and arguments as Momentum; only the step differs

    def _update(self) -> None:
        for p, v in zip(self.params, self.velocity):
            v *= self.momentum
            v -= self.lr * p.grad
            _apply(p, self.momentum * v - self.lr * p.grad)


class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi, Hazan & Singer 2011): per-coordinate steps shrink with the gradients seen.

    .. math::
        G \leftarrow G + g^2, \qquad
        \theta \leftarrow \theta - \frac{\eta}{\sqrt{G} + \epsilon}\, g

    with :math:`G_0 = 0`. Coordinates with large past gradients take small
    steps; :math:`G` only grows, so the effective rate only falls.

    PyTorch's ``Adagrad`` has the same formula (:math:`\epsilon` outside the
    square root) with ``eps=1e-10`` by default (ours ``1e-8``) and extra
    ``lr_decay`` / ``initial_accumulator_value`` options left at 0. Some texts
    put :math:`\epsilon` inside the root, :math:`\sqrt{G + \epsilon}`, and
    Keras starts :math:`G` at 0.1 (``initial_accumulator_value``): both
    change the first steps noticeably.

    Args:
        params: list of ``Parameter`` and/or ``Value``.
        lr: learning rate :math:`\eta > 0`.
        eps: :math:`\epsilon > 0`, keeps the division finite when :math:`G = 0`.
    """

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-8):
        super().__init__(params, lr)
        self.eps = _check_eps(eps, type(self).__name__)
        self.sum_sq = [_zeros_like(p) for p in self.params]

    def _update(self) -> None:
        for p, G in zip(self.params, self.sum_sq):
            G += np.square(p.grad)
            _apply(p, -self.lr * p.grad / (np.sqrt(G) + self.eps))


class RMSProp(Optimizer):
    r"""RMSProp (Hinton, Coursera lecture 6e, 2012): AdaGrad with a forgetting average.

    .. math::
        s \leftarrow \rho\, s + (1 - \rho)\, g^2, \qquad
        \theta \leftarrow \theta - \frac{\eta}{\sqrt{s} + \epsilon}\, g

    with :math:`s_0 = 0`. Dividing by the running RMS of the gradient makes
    the step size roughly :math:`\eta` in every coordinate, whatever the
    gradient's scale, without AdaGrad's ever-shrinking rate.

    PyTorch's ``RMSprop`` has the same formula with :math:`\rho` called
    ``alpha`` and defaulting to 0.99 (the lecture's 0.9 here), ``lr=1e-2``
    and ``eps=1e-8`` outside the root. Some libraries put :math:`\epsilon`
    inside the root, :math:`\sqrt{s + \epsilon}`; compare with care.

    Args:
        params: list of ``Parameter`` and/or ``Value``.
        lr: learning rate :math:`\eta > 0`.
        rho: decay of the running average, :math:`\rho \in [0, 1)`.
        eps: :math:`\epsilon > 0`.
    """

    def __init__(self, params, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(params, lr)
        who = type(self).__name__
        self.rho = _check_unit("rho", rho, who)
        self.eps = _check_eps(eps, who)
        self.mean_sq = [_zeros_like(p) for p in self.params]

    def _update(self) -> None:
        for p, s in zip(self.params, self.mean_sq):
            s *= self.rho
            s += (1.0 - self.rho) * np.square(p.grad)
            _apply(p, -self.lr * p.grad / (np.sqrt(s) + self.eps))


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015): momentum on the gradient, RMSProp on its square, bias-corrected.

    .. math::
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2, \\
        \hat m &= \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad
        \theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`m_0 = v_0 = 0`. Both averages start at zero and are biased
    towards it; dividing by :math:`1 - \beta^t` removes that bias, so the first
    step is about :math:`\eta\,\mathrm{sign}(g)`.

    PyTorch's ``Adam`` (``amsgrad=False``, no weight decay) computes the same
    formula (it folds the corrections into the step size, equal up to
    rounding). The paper's "efficient version" instead puts :math:`\epsilon`
    next to :math:`\sqrt{v}` before correction, a slightly different
    :math:`\hat\epsilon`.

    Args:
        params: list of ``Parameter`` and/or ``Value``.
        lr: learning rate :math:`\eta > 0`.
        beta1: decay of the first moment, :math:`\beta_1 \in [0, 1)`.
        beta2: decay of the second moment, :math:`\beta_2 \in [0, 1)`.
        eps: :math:`\epsilon > 0`.
    """

    def __init__(self, params, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        super().__init__(params, lr)
        who = type(self).__name__
        self.beta1 = _check_unit("beta1", beta1, who)
        self.beta2 = _check_unit("beta2", beta2, who)
        self.eps = _check_eps(eps, who)
        self.t = 0
        self.m = [_zeros_like(p) for p in self.params]
        self.v = [_zeros_like(p) for p in self.params]
        # working space for step(), so that it allocates no parameter-sized temporaries
        self._scratch = [(_zeros_like(p), _zeros_like(p)) for p in self.params]

    def _update(self) -> None:
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t  # bias corrections
        c2 = 1.0 - self.beta2 ** self.t
        for p, m, v, (step, denom) in zip(self.params, self.m, self.v, self._scratch):
            # The docstring's formula operation by operation, each written into an existing
            # array (out=) instead of a new one: the results are the same bit for bit.
            g = p.grad
            m *= self.beta1
            m += np.multiply(1.0 - self.beta1, g, out=step)   # (1 - β1) g
            v *= self.beta2
            np.square(g, out=denom)
            v += np.multiply(1.0 - self.beta2, denom, out=denom)  # (1 - β2) g²
            m_hat = np.divide(m, c1, out=step)
            v_hat = np.divide(v, c2, out=denom)
            denom = np.add(np.sqrt(v_hat, out=denom), self.eps, out=denom)  # sqrt(v_hat) + eps
            step = np.multiply(-self.lr, m_hat, out=step)
            _apply(p, np.divide(step, denom, out=step))  # -lr m_hat / (sqrt(v_hat) + eps)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019), in PyTorch's form.

    .. math::
        \theta \leftarrow (1 - \eta\lambda)\,\theta, \quad\text{then Adam's step:}\quad
        \theta \leftarrow \theta - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`m, v` built from the gradient :math:`g` alone. Since Adam's
    step does not depend on :math:`\theta`, this is exactly
    :math:`\theta \leftarrow \theta - \eta\big(\hat m/(\sqrt{\hat v}+\epsilon) + \lambda\theta\big)`:
    every decayed weight shrinks by the same factor :math:`1 - \eta\lambda`
    per step. An L2 penalty under :class:`Adam` instead adds
    :math:`\lambda\theta` to :math:`g`, so the decay passes through
    :math:`m` and :math:`v` and is divided by :math:`\sqrt{\hat v}`: weights
    with large gradients are barely decayed.

    Same as ``torch.optim.AdamW(params, lr, betas=(beta1, beta2), eps,
    weight_decay)`` (which also multiplies by ``1 - lr * weight_decay`` first).
    The paper's Algorithm 2 multiplies :math:`\lambda\theta` by the schedule
    multiplier :math:`\eta_t` rather than by the learning rate
    :math:`\alpha`; for a constant rate its :math:`\lambda` is our
    :math:`\eta\lambda`.

    Args:
        params: list of ``Parameter`` and/or ``Value``.
        lr: learning rate :math:`\eta > 0`.
        beta1, beta2, eps: as for :class:`Adam`.
        weight_decay: :math:`\lambda \ge 0`, with :math:`\eta\lambda < 1`.
        decay: the parameters to decay, a sub-list of ``params`` (e.g.
            ``regularization.weights_only(model)`` to leave biases alone);
            ``None`` decays them all, as torch does for one parameter group.
    """

    def __init__(self, params, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 1e-2, decay=None):
        who = type(self).__name__
        params = _check_params(params, who)
        weight_decay = check_float("weight_decay", weight_decay, minimum=0.0, who=who)
        if decay is None:
            decayed = list(params)
        else:
            ids = {id(p): i for i, p in enumerate(params)}
            if isinstance(decay, (Parameter, str, bytes)) or not hasattr(decay, "__iter__"):
                raise TypeError(f"{who} expected decay to be None or a list of parameters from params, "
                                f"got {describe(decay)}")
            decayed = list(decay)
            for i, p in enumerate(decayed):
                if id(p) not in ids:
                    raise ValueError(f"{who} expected decay to hold parameters from params, got "
                                     f"{type(p).__name__} at decay[{i}] that is not in params")
            if len({id(p) for p in decayed}) != len(decayed):
                raise ValueError(f"{who} expected each parameter in decay once, got a repeat")
        super().__init__(params, lr, beta1, beta2, eps)
        self.weight_decay = weight_decay
        ids = {id(p): i for i, p in enumerate(self.params)}
        self.decay_index = [ids[id(p)] for p in decayed]  # positions in params of the decayed ones
        self._check_shrink(who)

    @property
    def decayed(self) -> list:
        """The parameters that weight decay shrinks (all of ``params`` unless ``decay`` was given)."""
        return [self.params[i] for i in self.decay_index]

    def _check_shrink(self, who: str) -> None:
        if self.lr * self.weight_decay >= 1.0:
            raise ValueError(f"{who} expected lr * weight_decay < 1 (a shrink factor 1 - lr * weight_decay "
                             f"in (0, 1]), got {self.lr:g} * {self.weight_decay:g} = "
                             f"{self.lr * self.weight_decay:g}")

    def check_grads(self) -> None:
        """As :meth:`Optimizer.check_grads`, and the shrink factor must stay positive."""
        super().check_grads()
        self._check_shrink(f"{type(self).__name__}.step")

    def _update(self) -> None:
        shrink = 1.0 - self.lr * self.weight_decay  # decoupled: applied to θ, never seen by m or v
        for p in self.decayed:
            if isinstance(p.data, np.ndarray):
                p.data *= shrink
            else:
                p.data = float(p.data * shrink)
        super()._update()

    def __repr__(self) -> str:
        return (f"AdamW({len(self.params)} parameters, lr={self.lr:g}, weight_decay={self.weight_decay:g}, "
                f"{len(self.decayed)} decayed)")


#: name -> optimizer class.
OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


_SCHEDULES = ("LRSchedule", "StepLR", "ExponentialLR", "InverseTimeLR", "CosineLR", "WarmupLR")


def __getattr__(name: str):
    """The learning-rate schedules live in :mod:`bptutor.schedules`; they import from here as before."""
    if name in _SCHEDULES:
        from . import schedules
        return getattr(schedules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
