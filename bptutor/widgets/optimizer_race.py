r"""Optimizer race: SGD to Adam from the same start on a function of two variables.

The pure compute functions are :func:`race_optimizers` and the surfaces it
races on (:func:`quadratic_surface`, :data:`ROSENBROCK`, :func:`network_surface`,
all reachable by name through :func:`get_surface`); :func:`explore_optimizers`
builds the explorer.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from .._checks import check_choice, check_float, check_int
from ..layers import Parameter
from ..losses import cross_entropy_loss
from ..optim import OPTIMIZERS
from ..plotting import loss_surface, plot_trajectories, random_directions
from ..training import fit
from ._explorer import Explorer, control_style, log_slider
from .learning_rate import OPTIMIZER_LABELS, build_mlp, lr_dataset


@dataclass(frozen=True)
class Surface:
    """A function of two variables to race optimizers on.

    Attributes:
        f: ``f(x, y)``, elementwise on arrays (for the contours).
        grad: ``grad(point (2,)) -> (f, g (2,))``, the exact value and gradient.
        start: the common starting point.
        xlim, ylim: the plotted window.
        lr: a learning rate at which the race is interesting.
        levels: contour levels (number or list).
        labels: names of the two axes.
    """

    f: object
    grad: object
    start: tuple
    xlim: tuple
    ylim: tuple
    lr: float
    levels: object = 30
    labels: tuple = ("x", "y")


def quadratic_surface(condition: float) -> Surface:
    r""":math:`f(x, y) = \tfrac12 (x^2 + \kappa y^2)`; curvatures 1 and :math:`\kappa`.

    Plain gradient descent is stable only for :math:`\eta < 2/\kappa` and crawls
    along :math:`x` at rate :math:`1 - \eta`: the larger the condition number
    :math:`\kappa`, the worse both.
    """
    k = check_float("condition", condition, minimum=1.0, who="quadratic_surface")
    return Surface(f=lambda x, y: 0.5 * (x * x + k * y * y),
                   grad=lambda p: (0.5 * (p[0] ** 2 + k * p[1] ** 2), np.array([p[0], k * p[1]])),
                   start=(-4.0, 1.5), xlim=(-5.0, 5.0), ylim=(-2.5, 2.5), lr=0.05,
                   levels=np.geomspace(0.01, 0.5 * (25 + k * 6.25), 15))


def _rosenbrock_grad(p):
    x, y = p
    return ((1 - x) ** 2 + 100 * (y - x * x) ** 2,
            np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]))


ROSENBROCK = Surface(f=lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2, grad=_rosenbrock_grad,
                     start=(-1.2, 1.0), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), lr=2e-3,
                     levels=np.geomspace(0.05, 2000, 18))


def _grid_function(alphas, betas, Z):
    """Bilinear interpolation of ``Z`` (rows follow ``betas``) as an elementwise ``f(x, y)``."""
    def f(x, y):
        x, y = np.clip(x, alphas[0], alphas[-1]), np.clip(y, betas[0], betas[-1])
        i = np.clip(np.searchsorted(alphas, x) - 1, 0, alphas.size - 2)
        j = np.clip(np.searchsorted(betas, y) - 1, 0, betas.size - 2)
        u = (x - alphas[i]) / (alphas[i + 1] - alphas[i])
        v = (y - betas[j]) / (betas[j + 1] - betas[j])
        return ((1 - u) * (1 - v) * Z[j, i] + u * (1 - v) * Z[j, i + 1]
                + (1 - u) * v * Z[j + 1, i] + u * v * Z[j + 1, i + 1])
    return f


@lru_cache(maxsize=1)
def network_surface() -> Surface:
    r"""A 2-D slice through the loss of a small tanh network trained on two moons.

    :math:`f(\alpha, \beta) = L(\theta^* + \alpha d_1 + \beta d_2)` with
    filter-normalised random directions (``plotting.random_directions``); the
    gradient is exact, by backpropagation:
    :math:`\partial f/\partial\alpha = \langle \nabla_\theta L, d_1\rangle`.
    The contours interpolate a 41 x 41 grid of ``plotting.loss_surface``.
    """
    X, y = lr_dataset("two moons")
    model = build_mlp((2, 8, 2), seed=0)
    fit(model, "cross_entropy", OPTIMIZERS["adam"](model.parameters(), lr=0.05), X, y, epochs=150,
        progress=False, rng=0)
    d1, d2 = random_directions(model, rng=1)
    alphas, betas, Z = loss_surface(model, "cross_entropy", X, y, directions=(d1, d2), span=2.0,
                                    resolution=41)
    params = model.parameters()
    theta = [p.data.copy() for p in params]

    def grad(point):
        for p, t, u, v in zip(params, theta, d1, d2):
            p.data[...] = t + point[0] * u + point[1] * v
        model.zero_grad()
        loss, dout = cross_entropy_loss(model.forward(X), y)
        model.backward(dout)
        return loss, np.array([sum(np.sum(p.grad * u) for p, u in zip(params, d))
                               for d in (d1, d2)])

    return Surface(f=_grid_function(alphas, betas, Z), grad=grad, start=(-1.6, 1.5),
                   xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), lr=0.03,
                   levels=np.geomspace(Z.min(), Z.max(), 15),
                   labels=("α (along direction d₁)", "β (along direction d₂)"))


SURFACES = ("quadratic", "Rosenbrock", "network slice")


def get_surface(name: str, condition: float = 10.0) -> Surface:
    """The surface ``name`` of :data:`SURFACES`; ``condition`` is the quadratic's :math:`\\kappa`."""
    check_choice("surface", name, SURFACES, who="get_surface")
    if name == "quadratic":
        return quadratic_surface(condition)
    return ROSENBROCK if name == "Rosenbrock" else network_surface()


def make_optimizer(label: str, params, lr: float, beta1: float, beta2: float):
    """An optimizer by label; ``beta1`` is the momentum μ and Adam's β1, ``beta2`` RMSProp's ρ, Adam's β2."""
    check_choice("optimizer", label, OPTIMIZER_LABELS, who="make_optimizer")
    name = OPTIMIZER_LABELS[label]
    cls = OPTIMIZERS[name]
    if name in ("momentum", "nesterov"):
        return cls(params, lr=lr, momentum=beta1)
    if name == "rmsprop":
        return cls(params, lr=lr, rho=beta2)
    if name == "adam":
        return cls(params, lr=lr, beta1=beta1, beta2=beta2)
    return cls(params, lr=lr)


@dataclass
class Race:
    """What :func:`race_optimizers` returns: per optimizer label, ``paths`` ``(T, 2)``,
    ``values`` ``(T,)`` (f along the path) and ``diverged`` (step or None)."""

    paths: dict
    values: dict
    diverged: dict


def race_optimizers(surface: Surface, labels=tuple(OPTIMIZER_LABELS), lr: float = 0.05,
                    beta1: float = 0.9, beta2: float = 0.99, steps: int = 100) -> Race:
    """Run each optimizer from ``surface.start`` for ``steps`` steps on the exact gradient.

    A path stops when it leaves a box 1000 times larger than the plotted window
    (or turns non-finite); that step is reported as its divergence.
    """
    who = "race_optimizers"
    lr = check_float("lr", lr, minimum=0.0, strict_min=True, who=who)
    steps = check_int("steps", steps, minimum=1, who=who)
    bound = 1000.0 * max(map(abs, surface.xlim + surface.ylim))
    race = Race({}, {}, {})
    for label in labels:
        point = Parameter(np.array(surface.start, dtype=np.float64))
        opt = make_optimizer(label, [point], lr, beta1, beta2)
        path, values, diverged = [point.data.copy()], [], None
        for t in range(1, steps + 1):
            value, g = surface.grad(point.data)
            values.append(value)
            point.grad[...] = g
            opt.step()
            if not np.all(np.isfinite(point.data)) or np.max(np.abs(point.data)) > bound:
                diverged = t
                break
            path.append(point.data.copy())
        if diverged is None:
            values.append(surface.grad(point.data)[0])
        race.paths[label], race.values[label] = np.array(path), np.array(values)
        race.diverged[label] = diverged
    return race


class OptimizerExplorer(Explorer):
    """The optimizer race; see :func:`explore_optimizers`."""

    title = "Optimizer race: six update rules from the same start"
    panels = (1.2, 1.0)

    def __init__(self, surface="quadratic", condition=10.0, optimizers=tuple(OPTIMIZER_LABELS),
                 lr=None, beta1=0.9, beta2=0.99, steps=100):
        lr = get_surface(surface, condition).lr if lr is None else lr
        controls = dict(
            surface=widgets.Dropdown(options=SURFACES, value=surface, description="function",
                                     style=control_style()),
            condition=log_slider("condition κ", condition, 0, 3),
            optimizers=widgets.SelectMultiple(options=list(OPTIMIZER_LABELS),
                                              value=tuple(optimizers), rows=6,
                                              description="optimizers", style=control_style()),
            lr=log_slider("learning rate", lr, -4, 0),
            beta1=widgets.FloatSlider(value=beta1, min=0.0, max=0.99, step=0.01, style=control_style(),
                                      description="β₁ / momentum", continuous_update=False),
            beta2=widgets.FloatSlider(value=beta2, min=0.5, max=0.999, step=0.001, style=control_style(),
                                      description="β₂ / ρ", continuous_update=False,
                                      readout_format=".3f"),
            steps=widgets.IntSlider(value=steps, min=10, max=300, step=10, description="steps",
                                    continuous_update=False, style=control_style()),
        )
        super().__init__(controls, figsize=(9.0, 3.6))

    def _on_change(self, change) -> None:
        if change["owner"] is self.controls["surface"]:
            # A new function gets its own sensible learning rate (one recompute, not two).
            with self.hold():
                self.lr.value = get_surface(change["new"], self.condition.value).lr
        else:
            super()._on_change(change)

    def compute(self) -> dict:
        surface = get_surface(self.surface.value, self.condition.value)
        labels = self.optimizers.value
        if not labels:
            raise ValueError("choose at least one optimizer")
        race = race_optimizers(surface, labels, self.lr.value, self.beta1.value, self.beta2.value,
                               self.steps.value)
        final = {k: (None if race.diverged[k] else float(race.values[k][-1])) for k in labels}
        finished = {k: v for k, v in final.items() if v is not None}
        parts = [f"{k} diverged at step {race.diverged[k]}" for k in labels if race.diverged[k]]
        if finished:
            best = min(finished, key=finished.get)
            ranking = sorted(finished, key=finished.get)
            parts.insert(0, "after {} steps f = ".format(self.steps.value)
                         + ", ".join(f"{finished[k]:.2g} ({k})" for k in ranking))
        else:
            best = None
        if self.surface.value == "quadratic" and "SGD" in labels:
            parts.append(f"plain gradient descent is stable only for lr < 2/κ = "
                         f"{2 / self.condition.value:.3g}")
        kind = ("all finished" if len(finished) == len(labels)
                else "some diverged" if finished else "all diverged")
        return {"kind": kind, "message": "; ".join(parts), "best": best, "final": final,
                "diverged": dict(race.diverged), "race": race, "surface": surface}

    def draw(self, state: dict) -> None:
        ax_path, ax_f = self.axes()
        surface, race = state["surface"], state["race"]
        plot_trajectories(surface.f, race.paths, ax=ax_path, xlim=surface.xlim, ylim=surface.ylim,
                          levels=surface.levels)
        for line in ax_path.lines:
            line.set_markersize(2)
        ax_path.set_xlabel(surface.labels[0])
        ax_path.set_ylabel(surface.labels[1])
        ax_path.legend(fontsize=9, loc="upper right")
        for label, values in race.values.items():
            ax_f.plot(np.arange(values.size), np.clip(values, 1e-12, None), label=label)
        ax_f.set_yscale("log")
        ax_f.set_xlabel("step")
        ax_f.set_ylabel("f")
        ax_f.legend(fontsize=9)


def explore_optimizers(surface: str = "quadratic", condition: float = 10.0, lr: float | None = None,
                       beta1: float = 0.9, beta2: float = 0.99, steps: int = 100) -> OptimizerExplorer:
    """Race SGD, Momentum, Nesterov, AdaGrad, RMSProp and Adam on a function of two variables.

    Controls: ``surface`` (quadratic with condition number ``condition``,
    Rosenbrock, a slice of a network's loss), ``optimizers`` (which ones race),
    ``lr``, ``beta1`` (momentum μ and Adam's β1), ``beta2`` (RMSProp's ρ and Adam's
    β2) and ``steps``. Choosing a function sets ``lr`` to one that suits it.
    ``state`` holds ``final`` (f at the end per optimizer, None when diverged),
    ``diverged`` (step or None) and ``best``.

    Raises:
        TypeError, ValueError: a keyword of the wrong type, a choice the control does not
            offer, or a value outside the control's range (refused, never clamped),
            naming the keyword, the valid choices or range, and what came.
    """
    # imported here so the builder's checks stay in one place (the module's imports are shared)
    from .._checks import check_in_range, check_option
    who = "explore_optimizers"
    check_option("surface", surface, SURFACES, who=who)
    check_in_range("condition", condition, 1.0, 1000.0, who=who)
    if lr is not None:
        check_in_range("lr", lr, 1e-4, 1.0, who=who)
    check_in_range("beta1", beta1, 0.0, 0.99, who=who)
    check_in_range("beta2", beta2, 0.5, 0.999, who=who)
    check_in_range("steps", steps, 10, 300, who=who, integer=True)
    return OptimizerExplorer(surface, condition, tuple(OPTIMIZER_LABELS), lr, beta1, beta2, steps)
