"""Plots for the chapters: training curves, decision regions, activations,
computation graphs, optimizer trajectories, loss-surface slices, confusion
matrices and image grids.

Every plot function takes ``ax=None`` (a new figure is made when it is
``None``) and returns the axes it drew on, so a notebook can combine plots in
one figure and a test can inspect the artists. Nothing here calls
``plt.show()``; Jupyter shows a figure when its cell ends.

``loss_surface`` is a pure function (it returns numbers, draws nothing) and
``plot_loss_surface`` draws what it returns.
"""
from __future__ import annotations

import numbers
from collections import Counter
from typing import Callable, Mapping

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from matplotlib.colors import ListedColormap

from ._checks import (as_array, check_choice, check_finite, check_float, check_int, check_labels,
                      check_rng, check_shape, describe)
from .activations import ACTIVATIONS, Sigmoid, get_activation, step, step_grad
from .engine import Value
from .layers import Module, Parameter
from .losses import LOSSES

# Value boxes are filled with this colour, the highlighted node with HIGHLIGHT.
NODE_COLOR = "#dbe9f6"
OP_COLOR = "#eeeeee"
HIGHLIGHT_COLOR = "#ffb000"
# A drawn graph with more boxes than this is unreadable (and slow to draw).
MAX_GRAPH_NODES = 300
# Grid points per axis for the contour of f in plot_trajectories.
TRAJECTORY_GRID = 200


def _get_ax(ax, figsize=None):
    """Return ``ax``, or the axes of a new figure when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# --- training curves ------------------------------------------------------------------------

_HISTORY_FIELDS = {"loss": ("train_loss", "val_loss"), "accuracy": ("train_acc", "val_acc")}


def plot_history(history, ax=None, metric: str = "loss"):
    """Draw a metric per epoch: the training curve and, when recorded, the validation curve.

    Epochs are numbered from 1, so the point at epoch :math:`e` is the value after
    :math:`e` passes over the training set.

    Args:
        history: a ``bptutor.training.History`` (anything with list attributes
            ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc``).
        ax: axes to draw on; a new figure when None.
        metric: ``"loss"`` or ``"accuracy"``.

    Returns:
        The axes, with one line labelled ``"train"`` and, when the history has
        validation values, one labelled ``"validation"``.
    """
    check_choice("metric", metric, _HISTORY_FIELDS, who="plot_history")
    train_field, val_field = _HISTORY_FIELDS[metric]
    if not all(hasattr(history, f) for f in (train_field, val_field)):
        raise TypeError(f"plot_history expected history to be a History with {train_field} and "
                        f"{val_field} lists, got {describe(history)}")
    train = np.asarray(getattr(history, train_field), dtype=float)
    val = np.asarray(getattr(history, val_field), dtype=float)
    if train.size == 0:
        raise ValueError(f"plot_history expected history.{train_field} with at least one epoch, "
                         f"got an empty list")
    ax = _get_ax(ax)
    ax.plot(np.arange(1, train.size + 1), train, label="train")
    if val.size:
        ax.plot(np.arange(1, val.size + 1), val, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    return ax


# --- decision regions ---------------------------------------------------------------------------

def predict_classes(model, X, threshold: float | None = None) -> np.ndarray:
    """Class labels a network assigns to the rows of ``X``, computed in eval mode.

    The rule, for outputs of shape ``(N, C)``:

    * :math:`C > 1`: :math:`\\hat y = \\arg\\max_c \\text{out}_{c}` (scores, logits or
      probabilities all give the same argmax);
    * :math:`C = 1`: :math:`\\hat y = [\\text{out} > t]` with :math:`t = 0.5` when the
      network ends in a ``Sigmoid`` layer (outputs are probabilities) and
      :math:`t = 0` otherwise (outputs are logits, and :math:`\\sigma(z) > 0.5
      \\iff z > 0`). This is ``bptutor.training``'s rule for a loss given as a
      function; pass ``threshold`` to override it (e.g. 0.5 for a linear output
      trained with ``"mse"`` onto 0 and 1, as ``training.THRESHOLDS`` says).

    The model's train/eval mode is restored afterwards.

    Args:
        model: a ``Module`` whose ``forward`` returns ``(N, C)`` or ``(N,)``.
        X: inputs, shape ``(N, D)``.
        threshold: decision threshold for one output, or None for the rule above.

    Returns:
        Integer labels, shape ``(N,)``.
    """
    was_training = model.training
    model.eval()
    try:
        out = np.asarray(model.forward(X))
    finally:
        model.train(was_training)
    if out.ndim == 1:
        out = out[:, None]  # (N, 1)
    if out.ndim != 2 or out.shape[0] != X.shape[0]:
        raise ValueError(f"predict_classes expected the model's output of shape ({X.shape[0]}, C), "
                         f"got {out.shape}")
    if out.shape[1] > 1:
        return np.argmax(out, axis=1)
    if threshold is None:
        layers = getattr(model, "layers", [model])
        threshold = 0.5 if isinstance(layers[-1], Sigmoid) else 0.0
    return (out[:, 0] > threshold).astype(np.int64)


def plot_decision_boundary(model, X, y, ax=None, resolution: int = 200, padding: float = 0.5,
                           predict: Callable | None = None, threshold: float | None = None):
    """Colour the plane by the class a model predicts there, and draw the data on top.

    The plane is sampled on a ``resolution`` × ``resolution`` grid covering the
    data plus ``padding`` on every side; each grid point gets the class
    ``predict(points)`` returns, or, when ``predict`` is None, the class
    :func:`predict_classes` derives from ``model`` (argmax for several outputs,
    a threshold for one output: see there).

    Args:
        model: a ``Module`` taking ``(M, 2)`` inputs; may be None when ``predict`` is given.
        X: data points, shape ``(N, 2)``.
        y: integer class labels, shape ``(N,)``.
        ax: axes to draw on; a new figure when None.
        resolution: grid points per axis.
        padding: margin around the data, in data units.
        predict: optional callable ``(M, 2) array -> (M,) integer labels``.
        threshold: for a one-output model, the decision threshold; None uses the
            rule of :func:`predict_classes`.

    Returns:
        The axes: one image (``ax.images[0]``, its array holds the predicted class
        of each grid point, ``origin="lower"``) and one scatter per class.
    """
    who = "plot_decision_boundary"
    X = as_array("X", X, ndim=2, who=who)
    check_shape("X", X, ("N", 2), who=who)
    y = check_labels("y", y, n=X.shape[0], who=who)
    resolution = check_int("resolution", resolution, minimum=2, who=who)
    padding = check_float("padding", padding, minimum=0.0, who=who)
    if predict is None:
        if not isinstance(model, Module):
            raise TypeError(f"{who} expected model to be a Module (or a predict callable), "
                            f"got {describe(model)}")
        if threshold is not None:
            threshold = check_float("threshold", threshold, who=who)
        predict = lambda points: predict_classes(model, points, threshold)  # noqa: E731
    elif not callable(predict):
        raise TypeError(f"{who} expected predict to be callable, got {describe(predict)}")

    xs = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    ys = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    XX, YY = np.meshgrid(xs, ys)  # (R, R) each, rows follow y
    grid = np.column_stack([XX.ravel(), YY.ravel()]).astype(X.dtype)  # (R*R, 2)
    labels = np.asarray(predict(grid))
    if labels.shape != (grid.shape[0],):
        raise ValueError(f"{who} expected predict to return labels of shape ({grid.shape[0]},), "
                         f"got {labels.shape}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{who} expected predict to return labels >= 0, got {labels.min()}")
    labels = labels.astype(np.int64).reshape(XX.shape)

    n_classes = int(max(labels.max(), y.max() if y.size else 0)) + 1
    if n_classes <= 10:
        colors = list(plt.get_cmap("tab10").colors[:n_classes])
    else:
        colors = list(plt.get_cmap("viridis")(np.linspace(0, 1, n_classes)))
    ax = _get_ax(ax)
    # Cell centres sit on the grid points, hence the half-cell margin of the extent.
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    ax.imshow(labels, origin="lower", interpolation="nearest", aspect="auto", alpha=0.35,
              cmap=ListedColormap(colors), vmin=-0.5, vmax=n_classes - 0.5,
              extent=(xs[0] - dx / 2, xs[-1] + dx / 2, ys[0] - dy / 2, ys[-1] + dy / 2))
    for c in range(n_classes):
        mask = y == c
        if mask.any():
            ax.scatter(X[mask, 0], X[mask, 1], color=colors[c], edgecolors="k", linewidths=0.5,
                       s=20, label=f"class {c}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", fontsize=9)
    return ax


# --- activations ------------------------------------------------------------------------------

def _activation_names() -> list[str]:
    # softmax maps a whole row to a row, so it has no curve of one variable to draw.
    return sorted(name for name in ACTIVATIONS if name != "softmax") + ["step"]


def plot_activation(name: str, ax=None, xlim: tuple = (-5.0, 5.0)):
    """Draw an activation function :math:`f(x)` and its derivative :math:`f'(x)`.

    The derivative is what backpropagation multiplies by: ``module.backward`` with
    an upstream gradient of ones returns :math:`f'(x)` elementwise, so the
    dashed curve is exactly what the layer passes back. ``"step"`` (the
    perceptron's threshold) has derivative 0 wherever it exists: it passes no
    gradient at all.

    Args:
        name: a key of ``bptutor.activations.ACTIVATIONS`` other than ``"softmax"``
            (which acts on whole rows), or ``"step"``.
        ax: axes to draw on; a new figure when None.
        xlim: the range of :math:`x`.

    Returns:
        The axes, with two lines: ``f(x)`` (solid) and ``f'(x)`` (dashed).
    """
    names = _activation_names()
    if name == "softmax":
        raise ValueError("plot_activation expected an elementwise activation, got 'softmax' (it maps "
                         f"a whole row to probabilities; over (x, 0) it equals sigmoid(x)); "
                         f"choose one of {names}")
    check_choice("name", name, names, who="plot_activation")
    if not (isinstance(xlim, (tuple, list)) and len(xlim) == 2):
        raise TypeError(f"plot_activation expected xlim to be a pair (low, high), got {describe(xlim)}")
    low = check_float("xlim[0]", xlim[0], who="plot_activation")
    high = check_float("xlim[1]", xlim[1], minimum=low, strict_min=True, who="plot_activation")

    x = np.linspace(low, high, 1001)
    if name == "step":
        f, df = step(x), step_grad(x)
    else:
        module = get_activation(name)
        f = np.asarray(module.forward(x[:, None]))  # (1001, 1)
        df = np.asarray(module.backward(np.ones_like(f)))[:, 0]
        f = f[:, 0]
    ax = _get_ax(ax)
    ax.plot(x, f, label=f"{name}(x)")
    ax.plot(x, df, linestyle="--", label=f"{name}'(x)")
    ax.set_xlabel("x")
    ax.set_title(name)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


# --- computation graphs ---------------------------------------------------------------------------

def value_text(node: Value) -> str:
    """The text of a node's box, micrograd style: ``"label | data 2.0000 | grad -3.0000"``."""
    body = f"data {node.data:.4f} | grad {node.grad:.4f}"
    return f"{node.label} | {body}" if node.label else body


def _graph(root: Value):
    """A networkx DAG of value nodes ``i`` and op nodes ``("op", i)``, edges child -> op -> value.

    Returns the graph, the values in topological order, and the edge multiplicities
    (``x * x`` uses ``x`` twice, drawn as two arrows).
    """
    order = root.topological_order()
    index = {id(v): i for i, v in enumerate(order)}
    G = nx.DiGraph()
    edges = Counter()
    for i, v in enumerate(order):
        G.add_node(i)
        if v.op:
            G.add_node(("op", i))
            G.add_edge(("op", i), i)
            for child in v.children:
                edges[(index[id(child)], ("op", i))] += 1
    G.add_edges_from(edges)
    for layer, nodes in enumerate(nx.topological_generations(G)):
        for n in nodes:
            G.nodes[n]["layer"] = layer
    return G, order, edges


def _heights(layers) -> dict:
    """Each node's height in its column: its rank, centred on 0 as ``multipartite_layout`` does."""
    return {n: i - (len(layer) - 1) / 2 for layer in layers for i, n in enumerate(layer)}


def _crossings(G, heights: dict) -> int:
    """How many pairs of edges of ``G``, drawn straight from column to column, cross.

    Edges sharing an end do not count; an edge may span several columns. Two
    segments cross when each one's ends lie strictly on either side of the other's line.
    """
    if G.number_of_edges() < 2:
        return 0
    x0, y0, x1, y1 = np.array([(G.nodes[u]["layer"], heights[u], G.nodes[v]["layer"], heights[v])
                               for u, v in G.edges], dtype=np.float64).T  # each (E,)
    dx, dy = x1 - x0, y1 - y0

    def side(x, y):  # (E, E): sign of edge i's turn towards the point (x[j], y[j])
        return np.sign(dx[:, None] * (y[None, :] - y0[:, None]) - dy[:, None] * (x[None, :] - x0[:, None]))

    straddles = side(x0, y0) * side(x1, y1) < 0  # edge j's ends lie on either side of edge i's line
    return int(np.count_nonzero(np.triu(straddles & straddles.T, k=1)))


def _order_layers(G, sweeps: int = 4) -> list[list]:
    """The nodes of each column of ``G`` (attribute ``"layer"``), bottom to top, with few crossings.

    The barycenter heuristic of Sugiyama, Tagawa and Toda (1981): sweeping left to
    right, each node moves to the mean height of its operands (which may sit several
    columns back, like a bias added late); sweeping right to left, to the mean height
    of what uses it. ``sorted`` is stable, so ties keep their previous order and the
    result depends only on the graph. Of the orders seen, the one with the fewest
    crossings wins (the first one on a tie).

    Args:
        G: a DAG whose nodes carry their column in ``"layer"``, as made by ``_graph``.
        sweeps: pairs of sweeps (right, then left).

    Returns:
        One list of nodes per column, in column order.
    """
    layers = [[] for _ in range(1 + max(d["layer"] for _, d in G.nodes(data=True)))]
    for n, d in G.nodes(data=True):  # in the order the nodes were added: deterministic
        layers[d["layer"]].append(n)
    heights = _heights(layers)
    best, fewest = [list(layer) for layer in layers], _crossings(G, heights)
    for sweep in range(2 * sweeps):
        if fewest == 0:
            break
        rightwards = sweep % 2 == 0
        neighbours = G.predecessors if rightwards else G.successors
        for k in (range(1, len(layers)) if rightwards else range(len(layers) - 2, -1, -1)):
            layers[k].sort(key=lambda n: np.mean([heights[m] for m in neighbours(n)]))
            heights.update(_heights([layers[k]]))
        crossings = _crossings(G, heights)
        if crossings < fewest:
            best, fewest = [list(layer) for layer in layers], crossings
    return best


def draw_graph(root: Value, ax=None, highlight: Value | None = None):
    """Draw the computation graph of a scalar ``Value``: inputs on the left, ``root`` on the right.

    Each value is a box ``label | data | grad``; each operation is a circle holding
    its op (``+``, ``*``, ``tanh``...) between its operands and its result. Columns
    are networkx topological generations (a node sits one column right of the
    latest thing it depends on); within a column the nodes are ordered so that
    arrows do not cross (see ``_order_layers``), as ``networkx.multipartite_layout``
    would space them.

    For a step-through of the backward pass, ``highlight`` names the node being
    processed: its box, its op circle and the arrows from its operands are drawn
    in ``HIGHLIGHT_COLOR``.

    Args:
        root: the output ``Value`` (usually the loss).
        ax: axes to draw on; a new figure, sized to the graph, when None.
        highlight: a ``Value`` of the graph, or None.

    Returns:
        The axes. ``ax.texts`` holds the boxes (``gid`` ``"value"``, in topological
        order) and circles (``gid`` ``"op"``); every arrow is an annotation with an
        ``arrow_patch``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph expected root to be a Value, got {describe(root)}")
    G, order, edges = _graph(root)
    if G.number_of_nodes() > MAX_GRAPH_NODES:
        raise ValueError(f"draw_graph expected a graph of at most {MAX_GRAPH_NODES} nodes (values and "
                         f"ops), got {G.number_of_nodes()}; draw a smaller expression")
    focus = None
    if highlight is not None:
        focus = next((i for i, v in enumerate(order) if v is highlight), None)
        if focus is None:
            raise ValueError(f"draw_graph expected highlight to be a Value in root's graph, "
                             f"got {describe(highlight)}")

    layers = _order_layers(G)
    heights = _heights(layers)
    pos = {n: (float(G.nodes[n]["layer"]), heights[n]) for n in G.nodes}
    n_layers = len(layers)
    widest = max(len(layer) for layer in layers)
    ax = _get_ax(ax, figsize=(max(4.0, 2.4 * n_layers), max(2.0, 0.8 * widest + 1.0)))

    artists = {}
    for n in G.nodes:
        is_op = isinstance(n, tuple)
        v = order[n[1]] if is_op else order[n]
        lit = focus is not None and (n == focus or n == ("op", focus))
        face = HIGHLIGHT_COLOR if lit else (OP_COLOR if is_op else NODE_COLOR)
        artists[n] = ax.text(*pos[n], v.op if is_op else value_text(v), ha="center", va="center",
                             fontsize=9, zorder=3, gid="op" if is_op else "value",
                             bbox=dict(boxstyle="circle,pad=0.3" if is_op else "round,pad=0.4",
                                       facecolor=face, edgecolor="k",
                                       linewidth=2.0 if lit else 0.8))
    for (src, dst), count in edges.items():
        _arrows(ax, artists[src], artists[dst], count, focus is not None and dst == ("op", focus))
    for n in G.nodes:
        if isinstance(n, tuple):
            _arrows(ax, artists[n], artists[n[1]], 1, focus is not None and n == ("op", focus))

    xs = np.array([p[0] for p in pos.values()])
    ys = np.array([p[1] for p in pos.values()])
    # Boxes extend beyond their centres: leave half a column and half a row of margin.
    step_x = (xs.max() - xs.min()) / max(n_layers - 1, 1) or 1.0
    step_y = (ys.max() - ys.min()) / max(widest - 1, 1) or 1.0
    ax.set_xlim(xs.min() - 0.6 * step_x, xs.max() + 0.6 * step_x)
    ax.set_ylim(ys.min() - 0.6 * step_y, ys.max() + 0.6 * step_y)
    ax.set_axis_off()
    return ax


def _arrows(ax, src, dst, count: int, lit: bool) -> None:
    """``count`` arrows from the right edge of text ``src`` to the left edge of text ``dst``."""
    for k in range(count):
        # A repeated operand (x * x) gets arrows bent apart so both stay visible.
        rad = 0.0 if count == 1 else 0.3 * (k - (count - 1) / 2)
        ax.annotate("", xy=(0.0, 0.5), xycoords=dst, xytext=(1.0, 0.5), textcoords=src, zorder=2,
                    arrowprops=dict(arrowstyle="-|>", shrinkA=5, shrinkB=5,
                                    connectionstyle=f"arc3,rad={rad}",
                                    color=HIGHLIGHT_COLOR if lit else "0.3",
                                    linewidth=2.0 if lit else 1.0))


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


# --- weights ----------------------------------------------------------------------------------------

def plot_weights(W, ax=None):
    """Heat map of a weight matrix, red for positive, blue for negative, white for 0.

    The colour scale is symmetric, :math:`[-\\max|W|, \\max|W|]`, so equal colours
    mean equal magnitudes and 0 is always white. Row :math:`i`, column :math:`j`
    shows :math:`W_{ij}`, the weight from input :math:`i` to unit :math:`j`.

    Args:
        W: weights, shape ``(D, H)``, a 1-D vector (shown as one row) or a ``Parameter``.
        ax: axes to draw on; a new figure when None.

    Returns:
        The axes, holding one image (``ax.images[0]``) and a colour bar.
    """
    if isinstance(W, Parameter):
        W = W.data
    W = as_array("W", W, who="plot_weights")
    if W.ndim == 1:
        W = W[None, :]  # (1, H)
    if W.ndim != 2 or W.size == 0:
        raise ValueError(f"plot_weights expected W of shape (D, H) or (H,), got {W.shape}")
    check_finite("W", W, who="plot_weights")
    vmax = float(np.abs(W).max()) or 1.0
    ax = _get_ax(ax)
    image = ax.imshow(W, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.figure.colorbar(image, ax=ax)
    ax.set_xlabel("unit $j$")
    ax.set_ylabel("input $i$")
    return ax


# --- classification results -------------------------------------------------------------------------

def plot_confusion_matrix(cm, ax=None, labels=None):
    """Draw a confusion matrix as a heat map with the count written in every non-zero cell.

    Row :math:`i` is the true class and column :math:`j` the predicted class
    (the layout of ``bptutor.training.confusion_matrix``), so a perfect classifier
    fills only the diagonal and every mistake is an off-diagonal number. The
    colour scale runs from 0 (white) to the largest entry; integer counts are
    written as integers, fractions with two decimals.

    Args:
        cm: the matrix, shape ``(C, C)``, non-negative (counts or fractions).
        ax: axes to draw on; a new figure when None.
        labels: C names for the classes; ``0 .. C-1`` when None.

    Returns:
        The axes, holding one image (``ax.images[0]``) and one text per non-zero cell.
    """
    who = "plot_confusion_matrix"
    cm = as_array("cm", cm, who=who)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.size == 0:
        raise ValueError(f"{who} expected cm of shape (C, C), got {cm.shape}")
    check_finite("cm", cm, who=who)
    if np.any(cm < 0):
        raise ValueError(f"{who} expected cm to be non-negative, got a minimum of {cm.min():g}")
    C = cm.shape[0]
    labels = [str(c) for c in range(C)] if labels is None else [str(s) for s in labels]
    if len(labels) != C:
        raise ValueError(f"{who} expected {C} labels (one per class), got {len(labels)}")
    ax = _get_ax(ax)
    vmax = float(cm.max()) or 1.0
    ax.imshow(cm, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
    integers = bool(np.all(cm == np.round(cm)))
    for i, j in zip(*np.nonzero(cm)):
        value = cm[i, j]
        ax.text(j, i, f"{value:.0f}" if integers else f"{value:.2f}", ha="center", va="center",
                fontsize=9, color="white" if value > 0.5 * vmax else "black")
    ax.set_xticks(range(C), labels)
    ax.set_yticks(range(C), labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax


def plot_images(images, titles=None, axes=None, cmap: str = "gray_r"):
    """Show small grey-scale images side by side, e.g. digits, each with an optional title.

    All images share one colour scale (the smallest to the largest value of all
    of them), so equal ink looks equal from panel to panel.

    Args:
        images: shape ``(K, h, w)``, or ``(K, P)`` with ``P`` a square number
            (each row is reshaped to ``sqrt(P) x sqrt(P)``, as the 8x8 digits' 64 pixels).
        titles: K strings, or None.
        axes: at least K axes (any array or list of them); the ones left over
            are switched off. None: a new figure with up to 8 images per row.
        cmap: a Matplotlib colour map name; ``"gray_r"`` draws ink dark on white.

    Returns:
        The axes as a flat object array; the first K hold one image each.
    """
    who = "plot_images"
    images = as_array("images", images, who=who)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"{who} expected images of shape (K, h, w) or (K, P) with P a square number, "
                             f"got {images.shape}")
        images = images.reshape(images.shape[0], side, side)
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"{who} expected images of shape (K, h, w) or (K, P) with K >= 1, got {images.shape}")
    check_finite("images", images, who=who)
    K = images.shape[0]
    if titles is not None:
        titles = [str(t) for t in titles]
        if len(titles) != K:
            raise ValueError(f"{who} expected {K} titles (one per image), got {len(titles)}")
    if axes is None:
        ncols = min(K, 8)
        nrows = -(-K // ncols)
        _, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.5 * nrows), squeeze=False)
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size < K:
        raise ValueError(f"{who} expected at least {K} axes (one per image), got {axes.size}")
    lo, hi = float(images.min()), float(images.max())
    for k, ax in enumerate(axes):
        if k >= K:
            ax.set_axis_off()
            continue
        ax.imshow(images[k], cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1.0, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
    return axes
