r"""Momentum's convergence map: the rate of the heavy ball on a quadratic, measured against theory.

Along one eigen-direction of a quadratic with curvature :math:`\lambda`, heavy-ball
momentum (:class:`bptutor.optim.Momentum`, learning rate :math:`\eta`, momentum
:math:`\mu`) moves the coordinate :math:`x` and the velocity :math:`v` by a 2x2 linear map,

.. math::
    v_t = \mu v_{t-1} - \eta\lambda\, x_{t-1}, \quad x_t = x_{t-1} + v_t
    \quad\Longleftrightarrow\quad
    \begin{pmatrix} x_t \\ v_t \end{pmatrix} =
    \underbrace{\begin{pmatrix} 1 - \eta\lambda & \mu \\ -\eta\lambda & \mu \end{pmatrix}}_{M}
    \begin{pmatrix} x_{t-1} \\ v_{t-1} \end{pmatrix},

so the error shrinks per step by the spectral radius of :math:`M` (Polyak 1964; Goh 2017,
*Why momentum really works*, Distill). The pure functions are :func:`heavy_ball_rate`
(the theory), :func:`measured_heavy_ball_rate` (run the map, fit the tail),
:func:`heavy_ball_errors` and :func:`convergence_map`; :func:`explore_momentum_map`
builds the explorer.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import matplotlib
import numpy as np

from .._checks import check_in_range, check_int, check_option
from ._explorer import Explorer, control_style, log_slider

#: How the slowest direction behaves, by the roots of :math:`z^2 - (1 + \mu - \eta\lambda) z + \mu`.
MAP_KINDS = ("monotone", "oscillating", "alternating", "diverging")
#: What the map's colour shows.
MAP_VIEWS = ("measured rate", "theory", "|measured - theory|")
#: The map's window: :math:`\eta\lambda \in (0, 4]` holds the whole region of convergence,
#: :math:`0 < \eta\lambda < 2(1 + \mu)` for :math:`0 \le \mu < 1`.
MAX_STEP = 4.0


def _rate_inputs(lr, curvature, momentum, who: str) -> tuple:
    """Broadcast and check the three arguments; return ``(eta_lambda, mu)`` as float arrays."""
    values = {}
    for name, value, low, high in (("lr", lr, 0.0, np.inf), ("curvature", curvature, 0.0, np.inf),
                                   ("momentum", momentum, 0.0, 1.0)):
        try:
            A = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{who} expected {name} to be a number or an array of numbers, "
                            f"got {type(value).__name__}") from None
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{who} expected {name} to be finite, got {A[~np.isfinite(A)].ravel()[0]}")
        if np.any(A < low) or np.any(A >= high):
            bad = A[(A < low) | (A >= high)].ravel()[0]
            raise ValueError(f"{who} expected {name} in [{low:g}, {high:g}), got {bad:g}")
        values[name] = A
    try:
        step, mu = np.broadcast_arrays(values["lr"] * values["curvature"], values["momentum"])
    except ValueError:
        raise ValueError(f"{who} expected lr, curvature and momentum to broadcast together, got shapes "
                         f"{values['lr'].shape}, {values['curvature'].shape} and "
                         f"{values['momentum'].shape}") from None
    return step, mu


def heavy_ball_rate(lr, curvature, momentum):
    r"""The heavy ball's rate along a direction of curvature :math:`\lambda`: the spectral radius of :math:`M`.

    The eigenvalues of :math:`M` solve :math:`z^2 - b z + \mu = 0` with
    :math:`b = 1 + \mu - \eta\lambda` (trace) and :math:`\mu` (determinant). With
    :math:`\Delta = b^2 - 4\mu`:

    .. math::
        r = \begin{cases} \sqrt{\mu} & \Delta < 0 \text{ (complex pair, both of modulus } \sqrt\mu) \\
                          \tfrac12\left(|b| + \sqrt{\Delta}\right) & \Delta \ge 0 \end{cases}

    The error shrinks like :math:`r^t` (like :math:`t\, r^t` on the curves :math:`\Delta = 0`);
    :math:`r < 1` exactly when :math:`0 < \eta\lambda < 2(1 + \mu)`.

    Args:
        lr: learning rate :math:`\eta \ge 0`, a number or an array.
        curvature: :math:`\lambda \ge 0`, broadcast against ``lr``.
        momentum: :math:`\mu \in [0, 1)`, broadcast against both.

    Returns:
        the rate :math:`r`, an array of the broadcast shape (a 0-d array for numbers).

    Raises:
        TypeError, ValueError: an argument that is not numeric, not finite, out of its range,
            or shapes that do not broadcast.
    """
    step, mu = _rate_inputs(lr, curvature, momentum, "heavy_ball_rate")
    b = 1.0 + mu - step
    disc = b * b - 4.0 * mu
    return np.where(disc < 0, np.sqrt(mu), 0.5 * (np.abs(b) + np.sqrt(np.abs(disc))))


def _run_heavy_ball(step: np.ndarray, mu: np.ndarray, steps: int) -> np.ndarray:
    """``log |(x_t, v_t)|`` for t = 0..steps from ``x_0 = 1, v_0 = 0``, shape ``(steps + 1, *step.shape)``.

    The state is renormalised every step (its log-size accumulated), so a diverging
    run does not overflow and a converging one does not underflow.
    """
    x, v = np.ones_like(step), np.zeros_like(step)
    logs = np.zeros((steps + 1,) + step.shape)
    for t in range(1, steps + 1):
        v = mu * v - step * x
        x = x + v
        size = np.maximum(np.sqrt(x * x + v * v), 1e-300)   # a state that hit exactly 0 stays 0
        logs[t] = logs[t - 1] + np.log(size)
        x, v = x / size, v / size
    return logs


def measured_heavy_ball_rate(lr, curvature, momentum, steps: int = 400):
    r"""The rate measured by running the heavy ball: the per-step contraction fitted over the tail.

    From :math:`x_0 = 1, v_0 = 0` the map :math:`M` is applied ``steps`` times; a straight
    line is fitted by least squares to :math:`\log \lVert (x_t, v_t) \rVert` over the second
    half, :math:`t \in [\text{steps}/2, \text{steps}]`, and its slope :math:`s` gives
    :math:`\hat r = e^{s}`. The fit over many steps averages out the wobble of a spiralling
    (complex-root) error; a double root's factor :math:`t` biases :math:`\hat r` up by about
    :math:`2\ln 2/\text{steps}`.

    Args:
        lr, curvature, momentum: as in :func:`heavy_ball_rate` (broadcast together).
        steps: number of steps, >= 4.

    Returns:
        the measured rate, an array of the broadcast shape (above 1 where the run diverges).
    """
    steps = check_int("steps", steps, minimum=4, who="measured_heavy_ball_rate")
    step, mu = _rate_inputs(lr, curvature, momentum, "measured_heavy_ball_rate")
    logs = _run_heavy_ball(step, mu, steps)
    t = np.arange(steps // 2, steps + 1, dtype=np.float64)
    tail = logs[steps // 2:]
    centred = (t - t.mean()).reshape((-1,) + (1,) * step.ndim)
    slope = np.sum(centred * (tail - tail.mean(axis=0)), axis=0) / np.sum(centred * centred)
    return np.exp(slope)


def heavy_ball_errors(lr, curvature, momentum, steps: int = 100) -> np.ndarray:
    r"""The error :math:`|x_t|` along a direction, t = 0..steps, from :math:`x_0 = 1, v_0 = 0`.

    The same iteration as :class:`bptutor.optim.Momentum` on :math:`f = \tfrac12\lambda x^2`
    (tested against it). Returns an array ``(steps + 1, *shape)``; entries beyond
    :math:`10^{300}` are ``inf`` (the run diverged).
    """
    steps = check_int("steps", steps, minimum=1, who="heavy_ball_errors")
    step, mu = _rate_inputs(lr, curvature, momentum, "heavy_ball_errors")
    x, v = np.ones_like(step), np.zeros_like(step)
    out = [np.abs(x)]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            v = mu * v - step * x
            x = x + v
            out.append(np.where(np.abs(x) < 1e300, np.abs(x), np.inf))
    return np.array(out)


@dataclass(frozen=True)
class MomentumMap:
    r"""What :func:`convergence_map` returns.

    Attributes:
        eta_lambda: the grid's :math:`\eta\lambda`, shape ``(n,)`` (cell centres in (0, 4)).
        mu: the grid's momenta, shape ``(m,)`` (cell centres in (0, 1)).
        theory, measured: the rates, shape ``(m, n)`` (row i is ``mu[i]``).
        converging: ``theory < 1``, shape ``(m, n)``.
        max_difference: the largest ``|measured - theory|`` where converging.
        worst: ``(eta_lambda, mu)`` where that largest difference is.
        steps: the steps each measured rate ran.
    """

    eta_lambda: np.ndarray
    mu: np.ndarray
    theory: np.ndarray
    measured: np.ndarray
    converging: np.ndarray
    max_difference: float
    worst: tuple
    steps: int


def convergence_map(n_step: int = 120, n_momentum: int = 100, steps: int = 400) -> MomentumMap:
    r"""The heavy ball's rate over a grid of :math:`\eta\lambda \in (0, 4)` and :math:`\mu \in (0, 1)`.

    Both the theory (:func:`heavy_ball_rate`) and the measurement
    (:func:`measured_heavy_ball_rate`) on the same grid of cell centres, and how well
    they agree where the theory says the run converges.

    Args:
        n_step: grid points along :math:`\eta\lambda`, >= 2.
        n_momentum: grid points along :math:`\mu`, >= 2.
        steps: steps of each measured run, >= 4.

    Returns:
        a :class:`MomentumMap`.
    """
    who = "convergence_map"
    n_step = check_int("n_step", n_step, minimum=2, who=who)
    n_momentum = check_int("n_momentum", n_momentum, minimum=2, who=who)
    steps = check_int("steps", steps, minimum=4, who=who)
    return _cached_map(n_step, n_momentum, steps)


@lru_cache(maxsize=4)
def _cached_map(n_step: int, n_momentum: int, steps: int) -> MomentumMap:
    eta_lambda = (np.arange(n_step) + 0.5) * MAX_STEP / n_step
    mu = (np.arange(n_momentum) + 0.5) / n_momentum
    S, U = np.meshgrid(eta_lambda, mu)                        # (m, n) each
    theory = heavy_ball_rate(S, 1.0, U)
    measured = measured_heavy_ball_rate(S, 1.0, U, steps=steps)
    converging = theory < 1
    difference = np.where(converging, np.abs(measured - theory), 0.0)
    i, j = np.unravel_index(np.argmax(difference), difference.shape)
    for array in (eta_lambda, mu, theory, measured, converging):
        array.flags.writeable = False                         # cached: shared by every caller
    return MomentumMap(eta_lambda, mu, theory, measured, converging, float(difference[i, j]),
                       (float(eta_lambda[j]), float(mu[i])), steps)


def classify_direction(step: float, mu: float) -> str:
    r"""How the error along a direction with :math:`\eta\lambda` = ``step`` behaves: a :data:`MAP_KINDS` entry.

    Diverging when :math:`\eta\lambda \ge 2(1 + \mu)` (or :math:`\eta\lambda = 0`, no progress,
    counted as not converging); otherwise by the roots: complex (oscillating, spiralling in),
    real and positive (monotone), real and negative (alternating in sign).
    """
    if not 0 < step < 2 * (1 + mu):
        return "diverging"
    b = 1 + mu - step
    if b * b < 4 * mu:
        return "oscillating"
    return "monotone" if b >= 0 else "alternating"


_VERDICTS = {"monotone": "creeps towards the minimum without overshooting (real positive roots)",
             "oscillating": "spirals in, overshooting and coming back (complex roots, |z| = √μ)",
             "alternating": "flips sign every step (real negative roots)"}


class MomentumMapExplorer(Explorer):
    """The convergence map of heavy-ball momentum; see :func:`explore_momentum_map`."""

    title = "Momentum's convergence map: rate per step over ηλ and μ"
    panels = (1.15, 1.0)
    margins = {"left": 0.07, "right": 0.98, "bottom": 0.27, "top": 0.9, "wspace": 0.25}

    def __init__(self, lr=0.033, momentum=0.67, condition=100.0, view="measured rate"):
        controls = dict(
            lr=widgets.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.01, description="learning rate η",
                                      continuous_update=False, readout_format=".3g", style=control_style()),
            momentum=widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="momentum μ",
                                         continuous_update=False, style=control_style()),
            condition=log_slider("condition κ", condition, 0, 3),
            view=widgets.Dropdown(options=MAP_VIEWS, value=view, description="colour shows",
                                  style=control_style()),
        )
        super().__init__(controls, figsize=(9.0, 4.0))

    _contours = None   # the map's labelled contour lines, removed with their labels before a redraw

    def axes(self) -> list:
        if self._contours is not None:   # a ContourSet takes its label texts along when removed
            self._contours.remove()
            self._contours = None
        return super().axes()

    def compute(self) -> dict:
        eta, mu, kappa = self.lr.value, self.momentum.value, self.condition.value
        curvatures = np.array([1.0, kappa])                   # λ_min = 1 and λ_max = κ
        theory = heavy_ball_rate(eta, curvatures, mu)
        measured = measured_heavy_ball_rate(eta, curvatures, mu)
        slow = int(np.argmax(theory))
        kind = classify_direction(eta * curvatures[slow], mu)
        name = ("flat", "steep")[slow] if kappa > 1 else "only (κ = 1)"
        r = float(theory[slow])
        best_eta = 4 / (np.sqrt(kappa) + 1) ** 2
        best_mu = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
        if kind == "diverging":
            message = (f"{kind}: the steep direction (ηλ = ηκ = {eta * kappa:.3g} ≥ 2(1 + μ) = "
                       f"{2 * (1 + mu):.3g}) grows by {r:.3g} per step")
        else:
            message = (f"{kind}: the slowest is the {name} direction (ηλ = {eta * curvatures[slow]:.3g}), "
                       f"which {_VERDICTS[kind]}; rate {r:.3f} per step, measured {float(measured[slow]):.3f}; "
                       f"best for κ = {kappa:.3g}: η = {best_eta:.3g}, μ = {best_mu:.2f}, rate "
                       f"{np.sqrt(best_mu):.3f}")
        return {"kind": kind, "message": message, "theory": theory, "measured": measured,
                "rate": r, "slowest": slow, "map": convergence_map(), "eta": eta, "mu": mu, "kappa": kappa,
                "errors": heavy_ball_errors(eta, curvatures, mu, steps=100)}

    def draw(self, state: dict) -> None:
        ax_map, ax_err = self.axes()
        grid, view = state["map"], self.view.value
        if view == "|measured - theory|":
            shown = np.where(grid.converging, np.log10(np.abs(grid.measured - grid.theory) + 1e-12), np.nan)
            cmap, vmin, vmax, levels = "magma", -6.0, -1.0, [-4, -3, -2]
        else:
            shown = grid.measured if view == "measured rate" else grid.theory
            cmap, vmin, vmax, levels = "viridis", 0.0, 1.0, [0.5, 0.8, 0.95]
        colours = matplotlib.colormaps[cmap].with_extremes(over="0.75", bad="0.75")
        ax_map.imshow(shown, origin="lower", extent=(0, MAX_STEP, 0, 1), aspect="auto", cmap=colours,
                      vmin=vmin, vmax=vmax, interpolation="nearest")
        self._contours = ax_map.contour(grid.eta_lambda, grid.mu, shown, levels=levels, colors="white",
                                        linewidths=0.6)
        ax_map.clabel(self._contours, fontsize=9, fmt=(lambda v: f"1e{v:.0f}") if view.startswith("|") else "%.2g")
        u = np.linspace(0, 1, 101)
        ax_map.plot(2 * (1 + u), u, "k-", linewidth=1.5, label="ηλ = 2(1 + μ): diverges beyond")
        ax_map.plot((1 - np.sqrt(u)) ** 2, u, "k--", linewidth=1.0, label="ηλ = (1 ± √μ)²: double root")
        ax_map.plot((1 + np.sqrt(u)) ** 2, u, "k--", linewidth=1.0)
        eta, mu, kappa = state["eta"], state["mu"], state["kappa"]
        ends = np.array([eta, eta * kappa])
        ax_map.plot(np.clip(ends, 0, MAX_STEP), [mu, mu], "r-", linewidth=2.0)
        ax_map.plot(np.clip(ends, 0, MAX_STEP), [mu, mu], "ro", markersize=4,
                    label="this quadratic: ηλ from η to ηκ")
        ax_map.set(xlim=(0, MAX_STEP), ylim=(0, 1), xlabel="ηλ (learning rate × curvature)",
                   ylabel="momentum μ", title=f"{view} (grey: diverges)")
        ax_map.legend(loc="upper left", bbox_to_anchor=(-0.08, -0.17), ncol=2, fontsize=9, frameon=False)
        steps = np.arange(state["errors"].shape[0])
        for k, (label, colour) in enumerate((("flat, λ = 1", "C0"), (f"steep, λ = κ = {kappa:.3g}", "C1"))):
            ax_err.semilogy(steps, np.clip(state["errors"][:, k], 1e-16, 1e6), color=colour, label=label)
            ax_err.semilogy(steps, np.clip(state["theory"][k] ** steps, 1e-16, 1e6), ":", color=colour)
        ax_err.set(ylim=(1e-12, 1e4), xlabel="step t", ylabel="|x_t| / |x_0|",
                   title="error per direction (dotted: r^t)")
        ax_err.legend(loc="upper left", bbox_to_anchor=(0.0, -0.17), ncol=2, fontsize=9, frameon=False)


def explore_momentum_map(lr: float = 0.033, momentum: float = 0.67, condition: float = 100.0,
                         view: str = "measured rate") -> MomentumMapExplorer:
    r"""Heavy-ball momentum on :math:`f = \tfrac12(x^2 + \kappa y^2)`, placed on its convergence map.

    Left: the rate per step over :math:`(\eta\lambda, \mu)` (:func:`convergence_map`),
    measured, in theory, or their difference, with the boundaries
    :math:`\eta\lambda = 2(1 + \mu)` and :math:`\eta\lambda = (1 \pm \sqrt\mu)^2`; the quadratic's
    two curvatures 1 and :math:`\kappa` put it on the segment from :math:`\eta` to
    :math:`\eta\kappa` at height :math:`\mu`, and its slower end sets the rate. Right: the
    error along each direction, with :math:`r^t` dotted. ``state`` holds ``kind`` (a
    :data:`MAP_KINDS` entry, for the slowest direction), ``rate``, ``theory`` and
    ``measured`` (per direction) and ``slowest`` (0 flat, 1 steep).

    Raises:
        TypeError, ValueError: a keyword of the wrong type or outside its control's range.
    """
    who = "explore_momentum_map"
    check_in_range("lr", lr, 1e-3, 1.0, who=who)
    check_in_range("momentum", momentum, 0.0, 0.99, who=who)
    check_in_range("condition", condition, 1.0, 1000.0, who=who)
    check_option("view", view, MAP_VIEWS, who=who)
    return MomentumMapExplorer(lr, momentum, condition, view)
