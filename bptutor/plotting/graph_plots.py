"""Computation graphs of scalar ``Value`` s: :func:`draw_graph`, boxes and op circles, few crossing arrows.

The columns are networkx topological generations; within a column the nodes
are ordered by the barycenter heuristic (``_order_layers``) so that arrows
rarely cross. ``highlight`` lights one node for a step-through of the
backward pass.
"""
from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np

from .._checks import describe
from ..engine import Value
from ._axes import _get_ax

# Value boxes are filled with this colour, the highlighted node with HIGHLIGHT.
NODE_COLOR = "#dbe9f6"
OP_COLOR = "#eeeeee"
HIGHLIGHT_COLOR = "#ffb000"
# A drawn graph with more boxes than this is unreadable (and slow to draw).
MAX_GRAPH_NODES = 300


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
