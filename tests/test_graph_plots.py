"""Tests for bptutor.plotting.graph_plots: draw_graph's boxes, layout, highlight and arrows that do not cross."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from _plot_helpers import ax, no_figure_leaks, start_without_figures  # noqa: E402,F401 (fixtures)
from bptutor import plotting  # noqa: E402
from bptutor.engine import Value  # noqa: E402


# --- draw_graph --------------------------------------------------------------------------------------

def karpathy_graph():
    """L = (a*b + c) * f with a=2, b=-3, c=10, f=-2, after backward.

    L = (-6 + 10) * -2 = -8; dL/df = d = 4, dL/dd = f = -2, dL/de = dL/dc = -2,
    dL/da = -2 * b = 6, dL/db = -2 * a = -4.
    """
    a, b, c, f = (Value(v, label=s) for v, s in [(2.0, "a"), (-3.0, "b"), (10.0, "c"), (-2.0, "f")])
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    L.backward()
    return locals()


def boxes(ax, gid):
    return [t for t in ax.texts if t.get_gid() == gid]


def box_of(ax, label):
    (text,) = [t for t in boxes(ax, "value") if t.get_text().startswith(f"{label} |")]
    return text


def test_draw_graph_boxes_show_data_and_grad(ax):
    g = karpathy_graph()
    assert plotting.draw_graph(g["L"], ax=ax) is ax
    texts = sorted(t.get_text() for t in boxes(ax, "value"))
    assert texts == sorted([
        "a | data 2.0000 | grad 6.0000", "b | data -3.0000 | grad -4.0000",
        "c | data 10.0000 | grad -2.0000", "f | data -2.0000 | grad 4.0000",
        "e | data -6.0000 | grad -2.0000", "d | data 4.0000 | grad -2.0000",
        "L | data -8.0000 | grad 1.0000"])
    assert sorted(t.get_text() for t in boxes(ax, "op")) == ["*", "*", "+"]
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 6 + 3  # two operands per op, one arrow from each op to its result
    ax.figure.canvas.draw()  # arrows are placed relative to the boxes: they must render


def test_draw_graph_layout_runs_left_to_right(ax):
    g = karpathy_graph()
    plotting.draw_graph(g["L"], ax=ax)
    x = {s: box_of(ax, s).get_position()[0] for s in "abcdefL"}
    assert x["a"] == x["b"] == x["c"] == x["f"]  # leaves form the first generation
    assert x["a"] < x["e"] < x["d"] < x["L"]
    assert x["L"] == max(t.get_position()[0] for t in ax.texts if t.get_gid())
    assert not ax.axison


def test_draw_graph_highlights_one_node(ax):
    g = karpathy_graph()
    plotting.draw_graph(g["L"], ax=ax, highlight=g["d"])
    lit = to_rgba(plotting.HIGHLIGHT_COLOR)
    colors = {t.get_text().split(" |")[0]: t.get_bbox_patch().get_facecolor()
              for t in boxes(ax, "value")}
    assert colors.pop("d") == lit
    assert all(c == to_rgba(plotting.NODE_COLOR) for c in colors.values())
    ops = {t.get_text(): t.get_bbox_patch().get_facecolor() for t in boxes(ax, "op")}
    assert ops["+"] == lit  # d's operation
    lit_arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None
                  and t.arrow_patch.get_edgecolor() == lit]
    assert len(lit_arrows) == 3  # e -> +, c -> +, + -> d


def test_draw_graph_repeated_operand_and_single_leaf():
    x = Value(3.0, label="x")
    y = x * x
    y.backward()
    ax = plotting.draw_graph(y)
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 3  # x -> * twice (x is used twice), * -> y
    assert "x | data 3.0000 | grad 6.0000" in [t.get_text() for t in boxes(ax, "value")]
    ax.figure.canvas.draw()
    ax = plotting.draw_graph(Value(1.5))
    assert [t.get_text() for t in ax.texts] == ["data 1.5000 | grad 0.0000"]


def crossing_arrows(ax) -> list:
    """Pairs of arrows that cross, each taken as the straight segment between its boxes' centres."""
    segments = [(t.anncoords.get_position(), t.xycoords.get_position())
                for t in ax.texts if getattr(t, "arrow_patch", None) is not None]

    def side(a, b, c):  # +1 when a -> b -> c turns left, -1 right, 0 when collinear
        turn = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return (turn > 0) - (turn < 0)

    crossing = []
    for i, (p, q) in enumerate(segments):
        for r, s in segments[i + 1:]:
            # Each segment's ends strictly on either side of the other's line: they cross.
            # Arrows sharing a box touch there; this counts them as not crossing.
            if side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0:
                crossing.append(((p, q), (r, s)))
    return crossing


@pytest.mark.parametrize("bias_first", [False, True])
def test_draw_graph_neuron_has_no_crossing_arrows(ax, bias_first):
    # o = tanh(x1*w1 + x2*w2 + b): two products side by side, a bias joining late. Written either
    # way round, the columns are ordered so that no two of its 14 arrows cross.
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = b + (x2 * w2 + x1 * w1) if bias_first else x1 * w1 + x2 * w2 + b
    plotting.draw_graph(n.tanh(), ax=ax)
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 14  # 4 operands -> *, 2 products -> +, sum and b -> +, n -> tanh, 5 ops -> value
    assert crossing_arrows(ax) == []


def test_crossing_arrows_sees_a_crossing(ax):
    # The check above could not fail if it never saw a crossing: two arrows swapped by hand.
    a, b = ax.text(0, 0, "a"), ax.text(0, 1, "b")
    c, d = ax.text(1, 0, "c"), ax.text(1, 1, "d")
    ax.annotate("", xy=(0, 0.5), xycoords=d, xytext=(1, 0.5), textcoords=a, arrowprops={})
    ax.annotate("", xy=(0, 0.5), xycoords=c, xytext=(1, 0.5), textcoords=b, arrowprops={})
    assert len(crossing_arrows(ax)) == 1


def test_draw_graph_bad_inputs(ax):
    g = karpathy_graph()
    with pytest.raises(TypeError, match=r"draw_graph expected root to be a Value, got 2.0"):
        plotting.draw_graph(2.0, ax=ax)
    with pytest.raises(ValueError, match=r"expected highlight to be a Value in root's graph"):
        plotting.draw_graph(g["L"], ax=ax, highlight=Value(1.0))
    s = Value(0.0)
    for i in range(200):
        s = s + i
    with pytest.raises(ValueError, match=r"at most 300 nodes \(values and ops\), got 601"):
        plotting.draw_graph(s, ax=ax)
    assert len(ax.texts) == 0
