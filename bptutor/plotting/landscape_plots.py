"""Where optimizers go: paths over a function of two variables, and 2-D slices of a network's loss.

:func:`plot_trajectories` draws optimizer paths over the contours of
:math:`f(x, y)`. :func:`loss_surface` is a pure function (it returns numbers,
draws nothing) that evaluates the loss on a plane through the weights along
two :func:`random_directions`, and :func:`plot_loss_surface` draws what it
returns.
"""
from __future__ import annotations

import numbers
from typing import Callable, Mapping

import numpy as np

from .._checks import as_array, check_choice, check_float, check_int, check_rng, check_shape, describe
from ..layers import Module, Parameter
from ..losses import LOSSES
from ._axes import _get_ax

# Grid points per axis for the contour of f in plot_trajectories.
TRAJECTORY_GRID = 200


# --- optimizer trajectories ---------------------------------------------------------------------

def _trajectory(name, T) -> np.ndarray:
    A = as_array(f"trajectories[{name!r}]", T, ndim=2, who="plot_trajectories")
    check_shape(f"trajectories[{name!r}]", A, ("T", 2), who="plot_trajectories")
    if A.shape[0] == 0:
        raise ValueError(f"plot_trajectories expected trajectories[{name!r}] of shape (T, 2) with "
                         f"T >= 1, got {A.shape}")
    return A


def _limits(name: str, lim, values: np.ndarray) -> tuple[float, float]:
    """``lim`` checked, or the range of the finite ``values`` plus 10% on each side."""
    if lim is not None:
        if not (isinstance(lim, (tuple, list)) and len(lim) == 2):
            raise TypeError(f"plot_trajectories expected {name} to be a pair (low, high), "
                            f"got {describe(lim)}")
        low = check_float(f"{name}[0]", lim[0], who="plot_trajectories")
        return low, check_float(f"{name}[1]", lim[1], minimum=low, strict_min=True,
                                who="plot_trajectories")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError(f"plot_trajectories expected finite points to choose {name} from, got none; "
                         f"pass {name}=(low, high)")
    low, high = float(finite.min()), float(finite.max())
    margin = 0.1 * (high - low) or 1.0
    return low - margin, high + margin


def plot_trajectories(f: Callable, trajectories: Mapping, ax=None, xlim=None, ylim=None,
                      levels=30):
    """Draw the contours of a function of two variables and optimizer paths across them.

    A diverging path may hold huge or non-finite points; the automatic limits use
    the finite ones only, so pass ``xlim``/``ylim`` to frame the interesting part.

    Args:
        f: ``f(x, y)`` working elementwise on numpy arrays (it is called once on two
            ``(200, 200)`` grids), e.g. ``lambda x, y: x**2 + 10 * y**2``.
        trajectories: ``{name: points}`` with points of shape ``(T, 2)``, one row per
            step (the start first).
        ax: axes to draw on; a new figure when None.
        xlim, ylim: ``(low, high)``, or None for the paths' range plus 10%.
        levels: number of contour levels, or the levels themselves (passed to
            ``ax.contour``).

    Returns:
        The axes: one contour set and, per trajectory, one line with markers
        labelled with its name (in dict order), and a legend.
    """
    if not callable(f):
        raise TypeError(f"plot_trajectories expected f to be callable f(x, y), got {describe(f)}")
    if not isinstance(trajectories, Mapping) or not trajectories:
        raise TypeError(f"plot_trajectories expected trajectories to be a non-empty dict name -> "
                        f"(T, 2) array, got {describe(trajectories)}")
    paths = {str(name): _trajectory(name, T) for name, T in trajectories.items()}
    points = np.concatenate(list(paths.values()))  # (sum of T, 2)
    x_lim = _limits("xlim", xlim, points[:, 0])
    y_lim = _limits("ylim", ylim, points[:, 1])

    XX, YY = np.meshgrid(np.linspace(*x_lim, TRAJECTORY_GRID), np.linspace(*y_lim, TRAJECTORY_GRID))
    Z = np.asarray(f(XX, YY), dtype=float)
    if Z.shape != XX.shape:
        raise ValueError(f"plot_trajectories expected f(x, y) on ({TRAJECTORY_GRID}, {TRAJECTORY_GRID}) "
                         f"grids to return that shape (f must work elementwise on arrays), got {Z.shape}")
    if isinstance(levels, numbers.Integral):
        check_int("levels", levels, minimum=1, who="plot_trajectories")
    ax = _get_ax(ax)
    ax.contour(XX, YY, np.ma.masked_invalid(Z), levels=levels, cmap="viridis", linewidths=0.8)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], marker="o", markersize=3, linewidth=1.2, label=name)
    ax.set_xlim(*x_lim)
    ax.set_ylim(*y_lim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    return ax


# --- loss surfaces --------------------------------------------------------------------------------

def random_directions(model: Module, rng=0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Two random, filter-normalised directions in a network's parameter space.

    The idea is from Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss
    Landscape of Neural Nets" (NeurIPS 2018): a random direction :math:`d` is
    rescaled filter by filter so that each filter of :math:`d` has the norm of
    the same filter of the weights,

    .. math:: d_{:,j} \\leftarrow \\frac{d_{:,j}}{\\lVert d_{:,j}\\rVert}\\,\\lVert W_{:,j}\\rVert,

    so a step of 1 along :math:`d` changes every unit's weights by as much as
    they are large, and plots of different networks are comparable. For a
    ``Linear`` layer a filter is a column of ``W`` (the incoming weights of one
    unit). Biases and other 1-D parameters get direction 0, as in the paper's
    experiments.

    Args:
        model: a ``Module``.
        rng: ``np.random.Generator`` or seed.

    Returns:
        ``(d1, d2)``, each a list of arrays shaped like ``model.parameters()``.
    """
    if not isinstance(model, Module):
        raise TypeError(f"random_directions expected model to be a Module, got {describe(model)}")
    rng = check_rng(rng)
    directions = ([], [])
    for d_list in directions:
        for p in model.parameters():
            W = p.data.astype(np.float64)
            if W.ndim < 2:
                d_list.append(np.zeros_like(W))
                continue
            d = rng.standard_normal(W.shape)
            # Norms over every axis but the last: one norm per unit (column).
            axes = tuple(range(W.ndim - 1))
            d_norm = np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
            d_list.append(d / np.maximum(d_norm, 1e-12) * np.sqrt(np.sum(W * W, axis=axes,
                                                                          keepdims=True)))
    return directions


def _check_directions(directions, params: list[Parameter]) -> tuple[list, list]:
    if not (isinstance(directions, (tuple, list)) and len(directions) == 2):
        raise TypeError(f"loss_surface expected directions to be a pair (d1, d2), "
                        f"got {describe(directions)}")
    checked = ([], [])
    for k, (d_list, out) in enumerate(zip(directions, checked)):
        if not (isinstance(d_list, (tuple, list)) and len(d_list) == len(params)):
            raise ValueError(f"loss_surface expected directions[{k}] to be a list of {len(params)} "
                             f"arrays (one per parameter), got {describe(d_list)}")
        for i, (d, p) in enumerate(zip(d_list, params)):
            d = as_array(f"directions[{k}][{i}]", d, who="loss_surface", dtype=np.float64)
            if d.shape != p.data.shape:
                raise ValueError(f"loss_surface expected directions[{k}][{i}] of shape "
                                 f"{p.data.shape}, got {d.shape}")
            out.append(d)
    return checked


def _loss_callable(loss_fn) -> Callable:
    if isinstance(loss_fn, str):
        return LOSSES[check_choice("loss_fn", loss_fn, LOSSES, who="loss_surface")]
    if not callable(loss_fn):
        raise TypeError(f"loss_surface expected loss_fn to be a name in {sorted(LOSSES)} or a "
                        f"callable (pred, y) -> (loss, dout), got {describe(loss_fn)}")
    return loss_fn


def loss_surface(model: Module, loss_fn, X, y, directions=None, rng=0, span: float = 1.0,
                 resolution: int = 41):
    """The loss on a 2-D slice through a network's weights :math:`\\theta`.

    .. math:: Z_{ij} = L\\bigl(\\theta + \\alpha_j d_1 + \\beta_i d_2\\bigr)

    with :math:`\\alpha, \\beta` from :math:`-\\text{span}` to :math:`\\text{span}`;
    the centre :math:`(0, 0)` is the model as it is. The model runs in eval mode;
    its weights and mode are restored afterwards, even when the loss raises.

    Args:
        model: a ``Module``.
        loss_fn: a name in ``bptutor.losses.LOSSES`` or a callable
            ``(pred, y) -> (loss, dout)`` (a callable returning the loss alone works too).
        X: inputs, shape ``(N, D)``.
        y: targets, as ``loss_fn`` expects them.
        directions: ``(d1, d2)``, each a list of arrays shaped like
            ``model.parameters()``; None draws them with :func:`random_directions`.
        rng: generator or seed for the random directions (unused when given).
        span: the largest :math:`|\\alpha|` and :math:`|\\beta|`.
        resolution: grid points per axis; when odd, the middle one is exactly 0.

    Returns:
        ``(alphas, betas, Z)``: shapes ``(resolution,)``, ``(resolution,)`` and
        ``(resolution, resolution)``, rows of ``Z`` following ``betas`` as
        ``ax.contour(alphas, betas, Z)`` expects.
    """
    if not isinstance(model, Module):
        raise TypeError(f"loss_surface expected model to be a Module, got {describe(model)}")
    compute_loss = _loss_callable(loss_fn)
    X = as_array("X", X, ndim=2, who="loss_surface")
    span = check_float("span", span, minimum=0.0, strict_min=True, who="loss_surface")
    resolution = check_int("resolution", resolution, minimum=2, who="loss_surface")
    params = model.parameters()
    d1, d2 = (random_directions(model, rng) if directions is None
              else _check_directions(directions, params))

    alphas = span * np.linspace(-1.0, 1.0, resolution)
    if resolution % 2:
        alphas[resolution // 2] = 0.0  # so that Z's centre is the model's own loss, exactly
    betas = alphas.copy()
    theta = [p.data.copy() for p in params]
    was_training = model.training
    Z = np.empty((resolution, resolution))
    model.eval()
    try:
        for i, beta in enumerate(betas):
            for j, alpha in enumerate(alphas):
                for p, t, u, v in zip(params, theta, d1, d2):
                    p.data[...] = t + alpha * u + beta * v
                result = compute_loss(model.forward(X), y)
                Z[i, j] = result[0] if isinstance(result, tuple) else result
    finally:
        for p, t in zip(params, theta):
            p.data[...] = t
        model.train(was_training)
    return alphas, betas, Z


def plot_loss_surface(model: Module, loss_fn, X, y, ax=None, directions=None, rng=0,
                      span: float = 1.0, resolution: int = 41, levels=30):
    """Contour plot of :func:`loss_surface`, with the model's own weights marked at (0, 0).

    Args:
        model, loss_fn, X, y, directions, rng, span, resolution: as for :func:`loss_surface`.
        ax: axes to draw on; a new figure when None.
        levels: number of contour levels or the levels themselves.

    Returns:
        The axes: one contour set and one marker line at :math:`(0, 0)` labelled
        ``"θ (trained weights)"``.
    """
    alphas, betas, Z = loss_surface(model, loss_fn, X, y, directions=directions, rng=rng,
                                    span=span, resolution=resolution)
    ax = _get_ax(ax)
    contours = ax.contour(alphas, betas, np.ma.masked_invalid(Z), levels=levels, cmap="viridis",
                          linewidths=0.8)
    ax.clabel(contours, inline=True, fontsize=9, fmt="%.3g")
    ax.plot([0.0], [0.0], marker="*", markersize=12, color="crimson", linestyle="none",
            label="θ (trained weights)")
    ax.set_xlabel(r"$\alpha$ (direction $d_1$)")
    ax.set_ylabel(r"$\beta$ (direction $d_2$)")
    ax.legend(loc="upper right", fontsize=9)
    return ax
