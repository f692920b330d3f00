"""Exercise checks for chapter 06, gradient descent variants.

* ``check_momentum_step``: ``momentum_step(theta, grad, v, lr, momentum) -> (theta, v)``
* ``check_adam_step``: ``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps) -> (theta, m, v)``
* ``check_momentum_rate``: ``momentum_rate(lr, curvature, momentum) -> rate``
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._checks import check_rng
from ..layers import Parameter
from ..optim import Adam, Momentum
from ._core import Case, CheckResult, _changed, _Diagnosed, Mistake, _mutation, check_outputs, _unpack


# --- 06 gradient descent variants ------------------------------------------------------------------------
def _quadratic_case(g, d: int, **hyper) -> Case:
    """A convex quadratic f = 1/2 theta^T A theta - c^T theta with gradient A theta - c."""
    Q = g.normal(size=(d, d))
    return Case({"theta0": g.normal(size=d), "A": Q @ Q.T / d + np.eye(d), "c": g.normal(size=d), **hyper},
                "steps on the quadratic 1/2 theta^T A theta - c^T theta, gradient A theta - c")


def _path(a, step: Callable, state: tuple) -> np.ndarray:
    """Run ``theta, *state = step(theta, grad, t, *state)`` and collect theta after each step."""
    theta, rows = a["theta0"].copy(), []
    for t in range(1, a["steps"] + 1):
        theta, *state = step(theta, a["A"] @ theta - a["c"], t, *state)
        rows.append(np.array(theta))  # a float32 answer stays float32: its tolerance follows
    return np.array(rows)


def _optimizer_path(a, optimizer: Callable) -> np.ndarray:
    p = Parameter(a["theta0"])
    opt, rows = optimizer([p]), []
    for _ in range(a["steps"]):
        p.grad[...] = a["A"] @ p.data - a["c"]
        opt.step()
        rows.append(p.data.copy())
    return np.array(rows)


def _learner_step(fn, name: str, names: tuple, extra: Callable):
    """Wrap a pure optimizer step: hand it copies, refuse in-place changes to any input, check shapes.

    ``names`` are the outputs, ``("theta", *state names)``; the state goes in under the same names.
    """
    def step(theta, grad, t, *state):
        given = {"theta": theta, "grad": grad, **dict(zip(names[1:], state))}
        handed = {k: np.array(v, copy=True) for k, v in given.items()}
        raw = fn(handed["theta"], handed["grad"], *[handed[k] for k in names[1:]], *extra(t))
        for key in given:
            what = _changed(given[key], handed[key])
            if what:
                raise _mutation(name, key, what, (
                    f"`{key}` changed in place. {name} returns new arrays: write `{key} = ...` (a new array) "
                    f"rather than `{key} -= ...`, `{key} *= ...` or `{key}[...] = ...`. An in-place update "
                    "changes the caller's array too: a path recorded as a list of the same array shows one "
                    "point, and two state arrays that happen to be one object (m and v made by "
                    "`[np.zeros(d)] * 2`) overwrite each other."))
        out = _unpack(raw, names, name)
        for k, v in out.items():
            if v.shape != theta.shape:
                raise _Diagnosed(f"{name} returned {k} of shape {v.shape}, expected {theta.shape} "
                                 "(the shape of theta)")
        return tuple(out.values())
    return step


def _momentum(a, *, sign=1.0, mu=None, old_v=False, lr_twice=False) -> np.ndarray:
    lr, mu = a["lr"], a["momentum"] if mu is None else mu

    def step(theta, grad, t, v):
        new_v = mu * v - lr * grad
        move = v if old_v else new_v
        return theta + sign * (lr if lr_twice else 1.0) * move, new_v
    return _path(a, step, (np.zeros_like(a["theta0"]),))


def check_momentum_step(fn, rng=0) -> CheckResult:
    r"""Exercise (06): one heavy-ball momentum step.

    .. math:: v \leftarrow \mu v - \eta g, \qquad \theta \leftarrow \theta + v


    The learner writes ``momentum_step(theta, grad, v, lr, momentum) ->
    (theta, v)``, returning new arrays (``theta`` is not changed in place).
    The check runs several steps on a quadratic, feeding the returned ``v``
    back, and compares the path of ``theta`` with
    :class:`bptutor.optim.Momentum` (any consistent sign convention for ``v``
    passes). Diagnosed: sign error, forgotten momentum factor on ``v``, the
    velocity not carried over (plain gradient descent), ``theta`` moved with the
    old velocity, the learning rate applied twice, ``theta``, ``grad`` or ``v``
    changed in place.
    """
    g = check_rng(rng)
    cases = [_quadratic_case(g, 3, lr=0.1, momentum=0.9, steps=6),
             _quadratic_case(g, 2, lr=0.05, momentum=0.5, steps=5)]

    def call(fn, a):
        return _path(a, _learner_step(fn, "momentum_step", ("theta", "v"), lambda t: (a["lr"], a["momentum"])),
                     (np.zeros_like(a["theta0"]),))

    mistakes = (
        Mistake("sign error", "v = momentum * v - lr * grad already points downhill: theta = theta + v.",
                lambda a, r: {"theta_path": _momentum(a, sign=-1.0)}),
        Mistake("the velocity is not carried over", "v must remember past steps: v = momentum * v - lr * grad "
                "uses the v passed in (without it, this is plain gradient descent).",
                lambda a, r: {"theta_path": _momentum(a, mu=0.0)}),
        Mistake("forgot the momentum factor on v", "decay the old velocity: v = momentum * v - lr * grad.",
                lambda a, r: {"theta_path": _momentum(a, mu=1.0)}),
        Mistake("theta moved with the old velocity", "update v first, then theta = theta + v with the new v.",
                lambda a, r: {"theta_path": _momentum(a, old_v=True)}),
        Mistake("learning rate applied twice", "lr is already inside v: theta = theta + v, not theta + lr * v.",
                lambda a, r: {"theta_path": _momentum(a, lr_twice=True)}),
    )
    ref = lambda a: _optimizer_path(a, lambda ps: Momentum(ps, lr=a["lr"], momentum=a["momentum"]))  # noqa: E731
    return check_outputs(fn, name="momentum_step", reference=ref, cases=cases, outputs=("theta_path",),
                         mistakes=mistakes, call=call, source="bptutor.optim.Momentum")


def _adam(a, *, correct_m=True, correct_v=True, eps_inside=False, swap=False, square=True, root=True,
          sign=1.0, t_shift=0) -> np.ndarray:
    b1, b2 = (a["beta2"], a["beta1"]) if swap else (a["beta1"], a["beta2"])

    def step(theta, grad, t, m, v):
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * (grad * grad if square else grad)
        m_hat = m / (1 - b1 ** (t + t_shift)) if correct_m else m
        v_hat = v / (1 - b2 ** (t + t_shift)) if correct_v else v
        denom = np.sqrt(v_hat + a["eps"]) if eps_inside else (np.sqrt(v_hat) if root else v_hat) + a["eps"]
        return theta - sign * a["lr"] * m_hat / denom, m, v
    zeros = np.zeros_like(a["theta0"])
    return _path(a, step, (zeros, zeros))


def check_adam_step(fn, rng=0) -> CheckResult:
    r"""Exercise (06): one Adam step with bias correction.

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \eta\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    The learner writes ``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)
    -> (theta, m, v)`` with ``t`` the step number starting at 1, returning new
    arrays. The check runs several steps on a quadratic (with a large
    ``eps = 1e-3`` so that its placement shows) and compares the path of
    ``theta`` with :class:`bptutor.optim.Adam`. Diagnosed: no bias correction
    (or only on m, or only on v), ``eps`` inside the square root, ``beta1`` and
    ``beta2`` swapped, the gradient not squared, the square root forgotten, a
    sign error, the step counted from 0 or 2, ``theta``, ``grad``, ``m`` or
    ``v`` changed in place (the state is returned, never updated in place).
    """
    g = check_rng(rng)
    hyper = {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-3}
    cases = [_quadratic_case(g, 3, steps=5, **hyper), _quadratic_case(g, 2, steps=4, **{**hyper, "beta1": 0.8})]

    def call(fn, a):
        zeros = np.zeros_like(a["theta0"])
        extra = lambda t: (t, a["lr"], a["beta1"], a["beta2"], a["eps"])  # noqa: E731
        return _path(a, _learner_step(fn, "adam_step", ("theta", "m", "v"), extra), (zeros, zeros))

    def variant(**switches):
        return lambda a, r: {"theta_path": _adam(a, **switches)}

    correction = "divide each moment by (1 - beta**t): m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t)"
    mistakes = (
        Mistake("no bias correction", f"{correction}; m and v start at zero, so without it the first steps "
                "have the wrong size.",
                variant(correct_m=False, correct_v=False)),
        Mistake("bias correction only on m", correction + ".", variant(correct_v=False)),
        Mistake("bias correction only on v", correction + ".", variant(correct_m=False)),
        Mistake("eps inside the square root", "eps is added after the root: m_hat / (np.sqrt(v_hat) + eps).",
                variant(eps_inside=True)),
        Mistake("beta1 and beta2 swapped", "beta1 (0.9) averages the gradient m, beta2 (0.999) its square v.",
                variant(swap=True)),
        Mistake("the gradient was not squared in v", "v averages grad**2 (elementwise).", variant(square=False)),
        Mistake("forgot the square root", "divide by np.sqrt(v_hat) + eps: the root brings v back to the "
                "gradient's scale.", variant(root=False)),
        Mistake("sign error", "step against the gradient: theta - lr * m_hat / (...).", variant(sign=-1.0)),
        Mistake("the step count is off by one", "t is the number of this step, starting at 1: use "
                "beta**t as given, without adding or subtracting 1.", variant(t_shift=1)),
        Mistake("the step count is off by one", "t is the number of this step, starting at 1: use "
                "beta**t as given, without adding or subtracting 1.", variant(t_shift=-1)),
    )

    def ref(a):
        return _optimizer_path(a, lambda ps: Adam(ps, lr=a["lr"], beta1=a["beta1"], beta2=a["beta2"],
                                                  eps=a["eps"]))

    return check_outputs(fn, name="adam_step", reference=ref, cases=cases, outputs=("theta_path",),
                         mistakes=mistakes, call=call, source="bptutor.optim.Adam")


def _rate_of(M: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(M))))


def _matrix(a, *, h=None, velocity_sign=-1.0, old_v=False) -> np.ndarray:
    """The heavy ball's 2x2 map on (x, v) along one direction, or a wrong version of it."""
    h = a["lr"] * a["curvature"] if h is None else h
    mu = a["momentum"]
    if old_v:   # x moved with the old velocity: x_t = x_(t-1) + v_(t-1)
        return np.array([[1.0, 1.0], [velocity_sign * h, mu]])
    return np.array([[1.0 + velocity_sign * h, mu], [velocity_sign * h, mu]])


def _complex_pair_only(roots: np.ndarray, value: float) -> float:
    """``value`` where the roots are a complex pair; elsewhere the mistake does not apply (it raises)."""
    if not np.any(roots.imag):
        raise ValueError("real roots: mu and sqrt(mu) play no part")
    return value


def check_momentum_rate(fn, rng=0) -> CheckResult:
    r"""Exercise (06): the heavy ball's rate per step along one direction of a quadratic.

    .. math::
        \begin{pmatrix} x_t \\ v_t \end{pmatrix} =
        \begin{pmatrix} 1 - \eta\lambda & \mu \\ -\eta\lambda & \mu \end{pmatrix}
        \begin{pmatrix} x_{t-1} \\ v_{t-1} \end{pmatrix}, \qquad
        r = \max |\text{eigenvalue}|

    The learner writes ``momentum_rate(lr, curvature, momentum) -> rate`` (numbers in, a
    number out): the spectral radius of the 2x2 map, by ``np.linalg.eigvals`` or by the roots
    of :math:`z^2 - (1 + \mu - \eta\lambda) z + \mu` (the transposed matrix has the same
    eigenvalues and passes). The reference is
    :func:`bptutor.widgets.momentum_map.heavy_ball_rate`. Three settings cover the three kinds of
    roots: complex (spiralling), real positive (creeping), real negative (diverging here).
    Diagnosed: the largest real part instead of the largest modulus, the smallest modulus
    instead of the largest, the determinant :math:`\mu` instead of :math:`\sqrt\mu` for a complex
    pair, the curvature left out (:math:`\eta` for :math:`\eta\lambda`), momentum left out
    (gradient descent's :math:`|1 - \eta\lambda|`), the velocity's sign flipped in the
    matrix, ``x`` moved with the old velocity (the matrix of exercise 1's mistake).
    """
    from ..widgets.momentum_map import heavy_ball_rate   # the widgets import the optimizers: import late

    check_rng(rng)   # the three settings are fixed: they are chosen so that every mistake shows
    cases = [Case({"lr": 0.1, "curvature": 3.0, "momentum": 0.8}, "eta*lambda = 0.3, mu = 0.8: complex roots"),
             Case({"lr": 0.05, "curvature": 2.0, "momentum": 0.3}, "eta*lambda = 0.1, mu = 0.3: real positive roots"),
             Case({"lr": 0.5, "curvature": 6.0, "momentum": 0.25},
                  "eta*lambda = 3, mu = 0.25: real negative roots, past the boundary 2(1 + mu)")]

    def eig(a):
        return np.linalg.eigvals(_matrix(a))

    def call(fn, a):
        out = fn(a["lr"], a["curvature"], a["momentum"])
        value = np.asarray(out)
        if value.size != 1:
            raise _Diagnosed(f"momentum_rate returned an array of shape {value.shape}, expected one number",
                             "return the largest modulus as one number: np.max(np.abs(np.linalg.eigvals(M))).")
        if np.iscomplexobj(value):
            raise _Diagnosed(f"momentum_rate returned the complex number {complex(value.ravel()[0]):.4g}",
                             "the rate is the largest *modulus*, a real number: np.max(np.abs(eigenvalues)).")
        return value.reshape(())

    mistakes = (
        Mistake("the largest real part, not the largest modulus", "a complex pair a ± ib shrinks by "
                "|a ± ib| = sqrt(a² + b²) per step, and a negative root by its size: take np.abs before the max.",
                lambda a, r: {"rate": np.max(eig(a).real)}),
        Mistake("the smallest modulus, not the largest", "the slowest mode sets the rate: after a few steps "
                "only the eigenvalue of largest modulus is left, so take np.max(np.abs(...)).",
                lambda a, r: {"rate": np.min(np.abs(eig(a)))}),
        Mistake("mu instead of sqrt(mu) for a complex pair", "the two complex roots multiply to mu (the "
                "determinant) and have the same modulus, so each has modulus sqrt(mu).",
                lambda a, r: {"rate": _complex_pair_only(eig(a), a["momentum"])}),
        Mistake("the curvature is left out", "the gradient along the direction is lambda * x, so the matrix "
                "holds lr * curvature wherever the step enters.",
                lambda a, r: {"rate": _rate_of(_matrix(a, h=a["lr"]))}),
        Mistake("momentum left out: gradient descent's rate |1 - lr * curvature|", "with momentum the state is "
                "(x, v), and the 2x2 matrix [[1 - lr*curvature, momentum], [-lr*curvature, momentum]] has it.",
                lambda a, r: {"rate": abs(1 - a["lr"] * a["curvature"])}),
        Mistake("the velocity's sign is flipped in the matrix", "v = momentum * v - lr * grad: the entries "
                "holding lr * curvature are negative, [[1 - lr*curvature, momentum], [-lr*curvature, momentum]].",
                lambda a, r: {"rate": _rate_of(_matrix(a, velocity_sign=1.0))}),
        Mistake("x moved with the old velocity", "x_t = x_(t-1) + v_t uses the new velocity, so the first row "
                "is the second row plus (1, 0): [[1 - lr*curvature, momentum], [-lr*curvature, momentum]].",
                lambda a, r: {"rate": _rate_of(_matrix(a, old_v=True))}),
    )
    return check_outputs(fn, name="momentum_rate", reference=lambda a: heavy_ball_rate(
        a["lr"], a["curvature"], a["momentum"]), cases=cases, outputs=("rate",), mistakes=mistakes, call=call,
        source="bptutor.widgets.momentum_map.heavy_ball_rate")
