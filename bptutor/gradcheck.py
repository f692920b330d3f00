r"""Gradient checking: compare a backward pass with finite differences.

Backpropagation is easy to get subtly wrong (a transposed ``dW``, a missing
``1/N``, ``=`` where ``+=`` belongs) and the network may still train a bit.
The check: nudge one number :math:`\theta_i` by :math:`\pm h`, watch the loss,

.. math:: \frac{\partial L}{\partial \theta_i} \approx
    \frac{L(\theta + h e_i) - L(\theta - h e_i)}{2h}

(central differences, error :math:`O(h^2)`), and compare with the analytic
gradient through the relative error

.. math:: r = \max_i \frac{|a_i - n_i|}{\max(|a_i| + |n_i|,\ 10^{-12})}

How to read it (float64, :math:`h \approx 10^{-5}`, a loss of order 1):

* :math:`r < 10^{-7}`: great, the gradient is right.
* :math:`10^{-7} \le r < 10^{-4}`: fine for functions with kinks (ReLU, max)
  when a nudge crosses a kink; for smooth functions look closer.
* :math:`10^{-4} \le r < 10^{-2}`: suspicious.
* :math:`r \ge 10^{-2}`: the gradient is wrong.

Two caveats. Finite differences have an absolute error of about
:math:`10^{-11}`–:math:`10^{-10}` (rounding in :math:`L` divided by
:math:`2h`, plus the truncation :math:`h^2 L^{(3)}/6`; the two balance near
:math:`h = (3\varepsilon)^{1/3} \approx 10^{-5}`, which is why
:func:`grad_check` uses that step), so an entry whose true gradient is
itself that small can show a large *relative* error without a bug: the
report prints the analytic and numeric values of the worst entry so you can
tell. And check in float64: float32 rounding
(:math:`\approx 10^{-7}`) divided by :math:`2h` swamps everything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from ._checks import as_array, check_float, check_rng, describe
from .layers import Module
from .losses import LOSSES

#: the denominator floor of :func:`rel_error`: it only stops 0/0.
REL_ERROR_FLOOR = 1e-12

#: (upper bound, verdict) pairs, in increasing order; see the module docstring.
THRESHOLDS = ((1e-7, "great"), (1e-4, "fine if the function has kinks (ReLU), else look closer"),
              (1e-2, "suspicious"), (float("inf"), "wrong"))


def rel_error(a, b) -> float:
    r"""Largest elementwise relative error between two arrays of the same shape.

    .. math:: r = \max_i \frac{|a_i - b_i|}{\max(|a_i| + |b_i|,\ 10^{-12})}

    Symmetric in ``a`` and ``b``; 0 when they are equal (also where both are
    0), at most 1 unless both entries are below the floor :math:`10^{-12}`.

    Args:
        a, b: arrays (or numbers) of the same shape.

    Returns:
        r as a float (0.0 for empty arrays).
    """
    a = as_array("a", a, who="rel_error").astype(np.float64, copy=False)
    b = as_array("b", b, who="rel_error").astype(np.float64, copy=False)
    if a.shape != b.shape:
        raise ValueError(f"rel_error expected a and b of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(_elementwise_rel_error(a, b)))


def _elementwise_rel_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), REL_ERROR_FLOOR)


def _scalar(value, who: str) -> float:
    if isinstance(value, (bool, np.bool_)) or np.size(value) != 1:
        raise TypeError(f"{who} expected f to return a scalar loss, got {describe(value)}")
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise TypeError(f"{who} expected f to return a scalar loss, got {describe(value)}") from None


def numerical_gradient(f: Callable, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    r"""Central-difference gradient of a scalar function, one entry of ``x`` at a time.

    .. math:: g_i = \frac{f(x + h e_i) - f(x - h e_i)}{(x_i + h) - (x_i - h)}

    ``x`` is changed **in place** (so ``f`` may read it through a closure, as
    a model reads its parameters) and every entry is restored afterwards,
    also when ``f`` raises. The denominator is the step actually taken,
    which differs from :math:`2h` by rounding.

    Args:
        f: called as ``f(x)``; returns the loss as a number (or a size-1 array).
        x: float ndarray, any shape; perturbed in place, then restored.
        h: the step, > 0. About :math:`10^{-5}`–:math:`10^{-6}` balances the
            :math:`O(h^2)` truncation error against rounding in float64.

    Returns:
        float64 array of ``x``'s shape.
    """
    who = "numerical_gradient"
    if not callable(f):
        raise TypeError(f"{who} expected f to be callable, got {describe(f)}")
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{who} expected x to be a float numpy array (it is perturbed in place), "
                        f"got {describe(x)}")
    if not x.flags.writeable:
        raise ValueError(f"{who} expected x to be writeable (it is perturbed in place), got a read-only array")
    h = check_float("h", h, minimum=0.0, strict_min=True, who=who)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        old = x[index].copy()
        try:
            x[index] = old + h
            plus, step_up = _scalar(f(x), who), float(x[index])
            x[index] = old - h
            minus, step_down = _scalar(f(x), who), float(x[index])
        finally:
            x[index] = old
        if step_up == step_down:
            raise ValueError(f"{who} expected h large enough to change x{list(index)} = {float(old)!r}, "
                             f"got h = {h!r}: x ± h rounds back to x in {x.dtype}")
        grad[index] = (plus - minus) / (step_up - step_down)
    return grad


class WorstEntry(NamedTuple):
    """The entry with the largest relative error: where to look first."""
    name: str
    index: tuple
    analytic: float
    numeric: float


@dataclass
class GradCheckReport:
    """Result of :func:`grad_check`.

    Attributes:
        max_rel_error: the largest relative error over everything checked.
        worst: ``WorstEntry(name, index, analytic, numeric)`` of that entry.
        errors: name -> largest relative error within that array, e.g.
            ``{"0.W": 3e-10, "0.b": 1e-11, "X": 2e-10}``.
        threshold: ``passed`` means ``max_rel_error < threshold``.
        passed: whether the check passed.
    """
    max_rel_error: float
    worst: WorstEntry
    errors: dict[str, float] = field(default_factory=dict)
    threshold: float = 1e-5
    passed: bool = False

    @property
    def verdict(self) -> str:
        """How to read ``max_rel_error`` (see the thresholds in the module docstring)."""
        return next((text for bound, text in THRESHOLDS if self.max_rel_error < bound), THRESHOLDS[-1][1])

    def __str__(self) -> str:
        status = "passed" if self.passed else "FAILED"
        width = max(len(name) for name in self.errors)
        index = ", ".join(str(i) for i in self.worst.index)
        lines = [f"gradient check {status}: max relative error {self.max_rel_error:.2e} "
                 f"(threshold {self.threshold:.0e}): {self.verdict}"]
        lines += [f"  {name:<{width}}  {err:.2e}" for name, err in self.errors.items()]
        lines.append(f"worst entry: {self.worst.name}[{index}]  analytic {self.worst.analytic:.10g}  "
                     f"numeric {self.worst.numeric:.10g}")
        lines.append("scale: < 1e-7 great; < 1e-4 fine with kinks (ReLU); < 1e-2 suspicious; "
                     ">= 1e-2 wrong")
        return "\n".join(lines)


def _report(pairs: list[tuple[str, np.ndarray, np.ndarray]], threshold: float) -> GradCheckReport:
    errors, worst, max_err = {}, None, -1.0
    for name, analytic, numeric in pairs:
        if analytic.size == 0:
            errors[name] = 0.0
            continue
        err = _elementwise_rel_error(analytic.astype(np.float64), numeric)
        err[np.isnan(err)] = np.inf  # a NaN gradient is as wrong as it gets
        flat = int(np.argmax(err))
        errors[name] = float(err.flat[flat])
        if errors[name] > max_err:
            index = np.unravel_index(flat, err.shape)
            max_err = errors[name]
            worst = WorstEntry(name, tuple(int(i) for i in index), float(analytic[index]),
                               float(numeric[index]))
    return GradCheckReport(max_rel_error=max_err, worst=worst, errors=errors,
                           threshold=threshold, passed=bool(max_err < threshold))


def _loss_callable(loss_fn, y, out_shape: tuple, rng) -> Callable:
    """``out -> (loss, dout)``; without ``loss_fn``, a random linear functional of the output."""
    if loss_fn is None:
        if y is not None:
            raise TypeError("grad_check got y but no loss_fn; pass loss_fn as well, e.g. grad_check("
                            "model, X, 'mse', y)")
        # Weights R drawn at random, so a transposed or permuted gradient cannot hide
        # behind symmetric weights (a plain sum would also give softmax a zero gradient).
        R = check_rng(rng).standard_normal(out_shape)
        return lambda out: (float(np.sum(out * R)), R.copy())
    if isinstance(loss_fn, str):
        if loss_fn not in LOSSES:
            raise ValueError(f"grad_check expected loss_fn to be one of {sorted(LOSSES)} or a callable, "
                             f"got {loss_fn!r}")
        loss_fn = LOSSES[loss_fn]
    if not callable(loss_fn):
        raise TypeError(f"grad_check expected loss_fn to be a callable (pred, y) -> (loss, dout) or one of "
                        f"{sorted(LOSSES)}, got {describe(loss_fn)}")
    return lambda out: loss_fn(out, y)


def _loss_and_grad(result, shape: tuple, what: str) -> tuple[float, np.ndarray]:
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"grad_check expected {what} to return (loss, gradient) with the gradient of shape "
                        f"{shape}, got {describe(result)}")
    if np.shape(result[1]) != shape:
        raise ValueError(f"grad_check expected {what} to return (loss, gradient) with the gradient of shape "
                         f"{shape}, got a gradient of shape {np.shape(result[1])}")
    return _scalar(result[0], "grad_check"), np.asarray(result[1], dtype=np.float64)


def _check_module(module: Module, X: np.ndarray, loss_fn, y, h: float, rng):
    for name, p in module.named_parameters():
        if p.data.dtype != np.float64:
            raise ValueError(f"grad_check expected float64 parameters, got {p.data.dtype} for {name!r}: "
                             "finite differences need float64 (build the model with dtype=np.float64)")
    compute = _loss_callable(loss_fn, y, np.shape(module.forward(X)), rng)

    def loss_at(Xv) -> tuple[float, np.ndarray]:
        out = module.forward(Xv)
        return _loss_and_grad(compute(out), np.shape(out), "loss_fn")

    _, dout = loss_at(X)  # a loss_fn returning a bad gradient raises here, before any .grad changes
    module.zero_grad()
    dX = module.backward(dout)
    pairs = [(name, p.grad.copy(), numerical_gradient(lambda _: loss_at(X)[0], p.data, h))
             for name, p in module.named_parameters()]
    pairs.append(("X", np.asarray(dX), numerical_gradient(lambda Xv: loss_at(Xv)[0], X, h)))
    module.forward(X)  # leave the caches as they were after the analytic pass
    return pairs


def grad_check(target, X, loss_fn=None, y=None, *, h: float = 1e-5, threshold: float = 1e-5,
               rng=0) -> GradCheckReport:
    r"""Compare analytic gradients with :func:`numerical_gradient` for a module or a function.

    For a :class:`~bptutor.layers.Module` (``grad_check(model, X, loss_fn, y)``)
    every parameter and the input are checked: the analytic gradients come
    from ``model.zero_grad(); model.backward(dout)`` (they are left in
    ``.grad``), the numeric ones from perturbing ``p.data`` and ``X``. Without
    ``loss_fn`` the loss is :math:`L = \sum_{n,j} R_{nj}\,\text{out}_{nj}` with
    fixed random :math:`R`, so ``dout = R``. A module that draws random numbers
    in ``forward`` (dropout in training mode) must be put in ``eval()`` first.

    For a function (``grad_check(f, x)`` or ``grad_check(f, x, y=y)``), ``f(x)``
    or ``f(x, y)`` must return ``(loss, gradient)``, as the losses do:
    ``grad_check(mse_loss, pred, y=target)``.

    Args:
        target: a Module, or a callable returning ``(loss, gradient)``.
        X: the input (N, D) of the module, or ``x`` of the function; copied
            to float64, never modified.
        loss_fn: modules only: a name in ``LOSSES`` or ``(pred, y) -> (loss,
            dout)``; None for the random linear loss above.
        y: targets passed to ``loss_fn`` (or to the function).
        h: finite-difference step; 1e-5 balances truncation and rounding
            (about ten times more accurate than 1e-6 on typical networks).
        threshold: ``passed`` means max relative error below it. The default
            1e-5 leaves room for rounding; see the module docstring for the scale.
        rng: seed or Generator for :math:`R`.

    Returns:
        :class:`GradCheckReport`; ``print(report)`` explains it.
    """
    threshold = check_float("threshold", threshold, minimum=0.0, strict_min=True, who="grad_check")
    h = check_float("h", h, minimum=0.0, strict_min=True, who="grad_check")
    X = as_array("X", X, who="grad_check").astype(np.float64, copy=True)
    if X.size == 0:
        raise ValueError(f"grad_check expected a non-empty X, got shape {X.shape}")
    if isinstance(target, Module):
        pairs = _check_module(target, X, loss_fn, y, h, rng)
    elif callable(target):
        if loss_fn is not None:
            raise TypeError("grad_check(f, x) takes no loss_fn: f itself returns (loss, gradient)")
        call = (lambda v: target(v)) if y is None else (lambda v: target(v, y))
        _, analytic = _loss_and_grad(call(X.copy()), X.shape, "the function")
        numeric = numerical_gradient(lambda v: _loss_and_grad(call(v), X.shape, "the function")[0], X, h)
        pairs = [("x", analytic, numeric)]
    else:
        raise TypeError(f"grad_check expected target to be a Module or a callable returning (loss, gradient), "
                        f"got {describe(target)}")
    return _report(pairs, threshold)
