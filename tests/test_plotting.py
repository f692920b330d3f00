"""Tests for bptutor.plotting: the artists each plot function draws, under Agg."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

from bptutor import plotting  # noqa: E402
from bptutor.activations import Sigmoid, Tanh  # noqa: E402
from bptutor.engine import Value  # noqa: E402
from bptutor.layers import Linear, Parameter, Sequential  # noqa: E402
from bptutor.losses import cross_entropy_loss  # noqa: E402
from bptutor.training import History  # noqa: E402


@pytest.fixture(autouse=True)
def no_figure_leaks():
    assert plt.get_fignums() == [], "a previous test left a figure open"
    yield
    plt.close("all")


@pytest.fixture
def ax():
    return plt.subplots()[1]


def contour_sets(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def make_history(train_loss, val_loss=(), train_acc=(), val_acc=()):
    history = History()
    history.train_loss, history.val_loss = list(train_loss), list(val_loss)
    history.train_acc, history.val_acc = list(train_acc), list(val_acc)
    return history


# --- plot_history ------------------------------------------------------------------------------

def test_plot_history_draws_train_and_validation_curves(ax):
    history = make_history([0.9, 0.5, 0.3], [1.0, 0.7, 0.6])
    assert plotting.plot_history(history, ax=ax) is ax
    train, val = ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])  # epochs count from 1
    np.testing.assert_array_equal(train.get_ydata(), [0.9, 0.5, 0.3])
    np.testing.assert_array_equal(val.get_ydata(), [1.0, 0.7, 0.6])
    assert legend_texts(ax) == ["train", "validation"]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"


def test_plot_history_accuracy_without_validation_makes_its_own_figure():
    history = make_history([0.9, 0.5], train_acc=[0.5, 0.75])
    ax = plotting.plot_history(history, metric="accuracy")
    assert ax.figure.number in plt.get_fignums()
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), [0.5, 0.75])
    assert legend_texts(ax) == ["train"]


def test_plot_history_bad_inputs(ax):
    history = make_history([0.5])
    with pytest.raises(ValueError, match=r"plot_history expected metric to be one of "
                                         r"\['accuracy', 'loss'\], got 'acc'"):
        plotting.plot_history(history, ax=ax, metric="acc")
    with pytest.raises(ValueError, match=r"expected history.train_acc with at least one epoch"):
        plotting.plot_history(history, ax=ax, metric="accuracy")
    with pytest.raises(TypeError, match=r"plot_history expected history to be a History .* got list of length 1"):
        plotting.plot_history([0.5], ax=ax)
    assert ax.get_lines() == []


# --- plot_decision_boundary ------------------------------------------------------------------------

def pixel_at(ax, x, y):
    """The image value drawn at data point (x, y), found through the image's extent."""
    image = ax.images[0]
    A = image.get_array()
    left, right, bottom, top = image.get_extent()
    col = int((x - left) / (right - left) * A.shape[1])
    row = int((y - bottom) / (top - bottom) * A.shape[0])  # origin="lower": row 0 at the bottom
    return A[row, col]


def test_decision_boundary_regions_match_argmax_of_three_classes(ax):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(40, 2))
    W = np.array([[2.0, -1.0, 0.0], [0.5, 1.0, -2.0]])
    b = np.array([0.0, 0.3, -0.2])
    model = Sequential(Linear.from_arrays(W, b))
    y = np.argmax(X @ W + b, axis=1)
    assert plotting.plot_decision_boundary(model, X, y, ax=ax, resolution=120) is ax
    assert ax.images[0].get_array().shape == (120, 120)
    # Sample points (not only grid points) well inside the plotted box: the class drawn
    # under each one is the model's prediction there, up to the one-cell boundary band.
    P = rng.uniform(-2.3, 2.3, size=(300, 2))
    scores = P @ W + b
    top2 = np.sort(scores, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 0.2  # skip points within a cell of a boundary
    expected = np.argmax(scores, axis=1)
    drawn = np.array([pixel_at(ax, px, py) for px, py in P])
    np.testing.assert_array_equal(drawn[clear], expected[clear])
    assert set(np.unique(drawn)) == {0, 1, 2}
    scatters = [c for c in ax.collections if c.get_offsets().shape[1] == 2]
    assert len(scatters) == 3
    assert legend_texts(ax) == ["class 0", "class 1", "class 2"]


def test_decision_boundary_single_output_thresholds():
    X = np.array([[-2.0, -1.0], [2.0, 1.0], [0.0, 0.5]])
    y = np.array([0, 1, 1])
    # Logits z = x1 - 1: class 1 iff z > 0 iff x1 > 1. (A 0.5 threshold would say x1 > 1.5.)
    logits = Sequential(Linear.from_arrays(np.array([[1.0], [0.0]]), np.array([-1.0])))
    ax = plotting.plot_decision_boundary(logits, X, y)
    assert pixel_at(ax, 1.25, 0.0) == 1 and pixel_at(ax, 0.75, 0.0) == 0
    # Probabilities sigmoid(x1 - 1): the threshold is 0.5, again x1 > 1.
    probs = Sequential(Linear.from_arrays(np.array([[1.0], [0.0]]), np.array([-1.0])), Sigmoid())
    probs.train()
    ax = plotting.plot_decision_boundary(probs, X, y)
    assert pixel_at(ax, 1.25, 0.0) == 1 and pixel_at(ax, 0.75, 0.0) == 0
    assert probs.training, "the model's mode must be restored"
    # An explicit threshold wins: a linear output trained with MSE onto 0/1 uses 0.5,
    # so z = x1 - 1 > 0.5 iff x1 > 1.5.
    ax = plotting.plot_decision_boundary(logits, X, y, threshold=0.5)
    assert pixel_at(ax, 1.25, 0.0) == 0 and pixel_at(ax, 1.75, 0.0) == 1


def test_decision_boundary_with_predict_callable(ax):
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    plotting.plot_decision_boundary(None, X, [0, 1], ax=ax, resolution=50, padding=1.0,
                                    predict=lambda P: (P[:, 0] + P[:, 1] > 0).astype(int))
    A = ax.images[0].get_array()
    grid = np.linspace(-2, 2, 50)
    np.testing.assert_array_equal(A, (grid[None, :] + grid[:, None] > 0).astype(int))


def test_decision_boundary_bad_inputs(ax):
    model = Sequential(Linear.from_arrays(np.eye(2), np.zeros(2)))
    with pytest.raises(ValueError, match=r"plot_decision_boundary expected X of shape \(N, 2\), "
                                         r"got \(5, 3\)"):
        plotting.plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5, int), ax=ax)
    with pytest.raises(ValueError, match=r"expected y of shape \(5,\), got \(4,\)"):
        plotting.plot_decision_boundary(model, np.zeros((5, 2)), np.zeros(4, int), ax=ax)
    with pytest.raises(TypeError, match=r"expected model to be a Module \(or a predict callable\)"):
        plotting.plot_decision_boundary("net", np.zeros((5, 2)), np.zeros(5, int), ax=ax)
    with pytest.raises(ValueError, match=r"expected predict to return labels of shape \(4,\), "
                                         r"got \(4, 1\)"):
        plotting.plot_decision_boundary(None, np.zeros((5, 2)), np.zeros(5, int), ax=ax,
                                        resolution=2, predict=lambda P: np.zeros((len(P), 1)))
    with pytest.raises(ValueError, match=r"expected resolution >= 2, got 1"):
        plotting.plot_decision_boundary(model, np.zeros((5, 2)), np.zeros(5, int), ax=ax,
                                        resolution=1)


# --- plot_activation -------------------------------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


REFERENCE = {  # closed forms, written independently of bptutor.activations
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    "identity": (lambda x: x, np.ones_like),
    "step": (lambda x: (x > 0) * 1.0, np.zeros_like),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_plot_activation_draws_function_and_derivative(name, ax):
    assert plotting.plot_activation(name, ax=ax) is ax
    f_line, df_line = ax.get_lines()
    x = f_line.get_xdata()
    assert x[0] == -5 and x[-1] == 5
    away = np.abs(x) > 1e-9  # relu, step, leaky_relu have a kink or jump at 0
    f, df = REFERENCE[name]
    np.testing.assert_allclose(f_line.get_ydata()[away], f(x)[away], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(df_line.get_ydata()[away], df(x)[away], rtol=1e-12, atol=1e-15)
    assert df_line.get_linestyle() == "--"
    assert legend_texts(ax) == [f"{name}(x)", f"{name}'(x)"]


def test_plot_activation_names_cover_the_registry_and_bad_names(ax):
    from bptutor.activations import ACTIVATIONS
    assert set(REFERENCE) == (set(ACTIVATIONS) - {"softmax"}) | {"step"}
    with pytest.raises(ValueError, match=r"plot_activation expected name to be one of "
                                         r"\[.*'relu'.*'step'.*\], got 'gelu'"):
        plotting.plot_activation("gelu", ax=ax)
    with pytest.raises(ValueError, match=r"expected an elementwise activation, got 'softmax'"):
        plotting.plot_activation("softmax", ax=ax)
    with pytest.raises(ValueError, match=r"expected xlim\[1\] > 1.0, got 1.0"):
        plotting.plot_activation("tanh", ax=ax, xlim=(1, 1))
    plotting.plot_activation("tanh", ax=ax, xlim=(-10, 10))
    assert ax.get_lines()[0].get_xdata()[-1] == 10


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


# --- plot_trajectories -----------------------------------------------------------------------------

def quadratic(x, y):
    return x ** 2 + 10 * y ** 2


def test_plot_trajectories_draws_contours_and_one_line_per_path(ax):
    sgd = np.array([[-1.5, 0.8], [-1.2, -0.6], [-0.9, 0.4], [-0.7, -0.3]])
    adam = np.array([[-1.5, 0.8], [-1.0, 0.5], [-0.5, 0.2]])
    out = plotting.plot_trajectories(quadratic, {"sgd": sgd, "adam": adam}, ax=ax,
                                     xlim=(-2, 2), ylim=(-1, 1), levels=[1, 2, 5, 10])
    assert out is ax
    (cs,) = contour_sets(ax)
    np.testing.assert_array_equal(cs.levels, [1, 2, 5, 10])
    # The grid corners hold the largest value, 2**2 + 10 * 1**2 = 14 (x and y swapped: 41).
    assert cs.zmax == pytest.approx(14.0) and cs.zmin == pytest.approx(0.0, abs=1e-3)
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[0].get_xydata(), sgd)
    np.testing.assert_array_equal(lines[1].get_xydata(), adam)
    assert all(line.get_marker() == "o" for line in lines)
    assert legend_texts(ax) == ["sgd", "adam"]
    assert ax.get_xlim() == (-2, 2) and ax.get_ylim() == (-1, 1)


def test_plot_trajectories_automatic_limits_skip_non_finite_points():
    diverged = np.array([[0.0, 0.0], [1.0, -2.0], [np.inf, np.nan]])
    ax = plotting.plot_trajectories(quadratic, {"too large": diverged}, levels=5)
    # Finite range x in [0, 1], y in [-2, 0], plus 10% each side.
    assert ax.get_xlim() == pytest.approx((-0.1, 1.1))
    assert ax.get_ylim() == pytest.approx((-2.2, 0.2))
    assert len(contour_sets(ax)) == 1


def test_plot_trajectories_bad_inputs(ax):
    good = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"plot_trajectories expected trajectories\['sgd'\] of shape "
                                         r"\(T, 2\), got \(5, 3\)"):
        plotting.plot_trajectories(quadratic, {"sgd": np.zeros((5, 3))}, ax=ax)
    with pytest.raises(ValueError, match=r"expected trajectories\['adam'\] with 2 dimensions, "
                                         r"got shape \(4,\)"):
        plotting.plot_trajectories(quadratic, {"sgd": good, "adam": np.zeros(4)}, ax=ax)
    with pytest.raises(TypeError, match=r"expected trajectories to be a non-empty dict"):
        plotting.plot_trajectories(quadratic, [good], ax=ax)
    with pytest.raises(ValueError, match=r"f\(x, y\) on \(200, 200\) grids to return that shape "
                                         r"\(f must work elementwise on arrays\), got \(\)"):
        plotting.plot_trajectories(lambda x, y: 1.0, {"sgd": good}, ax=ax)
    with pytest.raises(ValueError, match=r"expected xlim\[1\] > 1.0, got 0.0"):
        plotting.plot_trajectories(quadratic, {"sgd": good}, ax=ax, xlim=(1, 0))
    assert ax.get_lines() == []


# --- loss_surface and plot_loss_surface ------------------------------------------------------------

@pytest.fixture
def problem():
    rng = np.random.default_rng(1)
    model = Sequential(Linear(2, 4, rng=0), Tanh(), Linear(4, 3, rng=1))
    X = rng.normal(size=(20, 2))
    y = rng.integers(0, 3, size=20)
    return model, X, y


def test_loss_surface_centre_is_the_models_loss_and_weights_are_restored(problem):
    model, X, y = problem
    params = model.parameters()
    before = [p.data.copy() for p in params]
    model.train()
    alphas, betas, Z = plotting.loss_surface(model, "cross_entropy", X, y, resolution=11, span=2.0)
    assert alphas.shape == betas.shape == (11,) and Z.shape == (11, 11)
    assert alphas[0] == -2.0 and alphas[-1] == 2.0 and alphas[5] == 0.0
    assert Z[5, 5] == cross_entropy_loss(model.forward(X), y)[0]  # exactly
    assert model.parameters()[0] is params[0] and model.training
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)
    assert np.ptp(Z) > 0.1  # the slice really moves the weights


def test_loss_surface_follows_the_given_directions(problem):
    model, X, y = problem
    d1, d2 = plotting.random_directions(model, rng=3)
    alphas, betas, Z = plotting.loss_surface(model, cross_entropy_loss, X, y,
                                             directions=(d1, d2), resolution=5)
    params = model.parameters()
    theta = [p.data.copy() for p in params]
    for i, j in [(0, 4), (1, 3), (4, 0)]:  # off the diagonal: swapping alpha and beta fails
        for p, t, u, v in zip(params, theta, d1, d2):
            p.data[...] = t + alphas[j] * u + betas[i] * v
        assert Z[i, j] == pytest.approx(cross_entropy_loss(model.forward(X), y)[0], rel=1e-12)
    for p, t in zip(params, theta):
        p.data[...] = t
    # The seed decides the directions: the same seed gives the same surface.
    again = plotting.loss_surface(model, "cross_entropy", X, y, rng=3, resolution=5)[2]
    np.testing.assert_array_equal(again, Z)


def test_random_directions_are_filter_normalised(problem):
    model, _, _ = problem
    d1, d2 = plotting.random_directions(model, rng=0)
    for p, u, v in zip(model.parameters(), d1, d2):
        assert u.shape == v.shape == p.data.shape
        if p.data.ndim == 1:  # biases are not perturbed
            assert not u.any() and not v.any()
        else:  # each unit's column has the norm of that unit's weights
            np.testing.assert_allclose(np.linalg.norm(u, axis=0), np.linalg.norm(p.data, axis=0),
                                       rtol=1e-12)
            assert not np.allclose(u, v) and not np.allclose(u, p.data)
    e1, _ = plotting.random_directions(model, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(e1[0], d1[0])


def test_loss_surface_restores_weights_when_the_loss_raises(problem):
    model, X, y = problem
    before = [p.data.copy() for p in model.parameters()]
    calls = []

    def failing_loss(pred, target):
        calls.append(1)
        if len(calls) == 7:
            raise FloatingPointError("boom")
        return cross_entropy_loss(pred, target)

    model.train()
    with pytest.raises(FloatingPointError, match="boom"):
        plotting.loss_surface(model, failing_loss, X, y, resolution=5)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)
    assert model.training


def test_loss_surface_bad_inputs(problem):
    model, X, y = problem
    d1, d2 = plotting.random_directions(model, rng=0)
    bad = [d1[0], np.zeros(3)] + d1[2:]
    with pytest.raises(ValueError, match=r"loss_surface expected directions\[1\]\[1\] of shape "
                                         r"\(4,\), got \(3,\)"):
        plotting.loss_surface(model, "cross_entropy", X, y, directions=(d1, bad))
    with pytest.raises(ValueError, match=r"expected directions\[0\] to be a list of 4 arrays"):
        plotting.loss_surface(model, "cross_entropy", X, y, directions=(d1[:2], d2))
    with pytest.raises(ValueError, match=r"loss_surface expected loss_fn to be one of .*got 'hinge'"):
        plotting.loss_surface(model, "hinge", X, y)
    with pytest.raises(TypeError, match=r"loss_surface expected model to be a Module"):
        plotting.loss_surface(lambda X: X, "mse", X, y)
    with pytest.raises(ValueError, match=r"loss_surface expected span > 0.0, got 0.0"):
        plotting.loss_surface(model, "cross_entropy", X, y, span=0)
    with pytest.raises(TypeError, match=r"expected rng to be a numpy.random.Generator"):
        plotting.loss_surface(model, "cross_entropy", X, y, rng=None)


def test_plot_loss_surface_draws_contours_and_marks_the_weights(problem, ax):
    model, X, y = problem
    out = plotting.plot_loss_surface(model, "cross_entropy", X, y, ax=ax, resolution=9, levels=6)
    assert out is ax
    (cs,) = contour_sets(ax)
    Z = plotting.loss_surface(model, "cross_entropy", X, y, resolution=9)[2]
    assert cs.zmin == pytest.approx(Z.min()) and cs.zmax == pytest.approx(Z.max())
    (marker,) = ax.get_lines()
    np.testing.assert_array_equal(marker.get_xydata(), [[0.0, 0.0]])
    assert marker.get_marker() == "*"
    assert legend_texts(ax) == ["θ (trained weights)"]
    assert len(cs.labelTexts) > 0


# --- plot_weights ------------------------------------------------------------------------------------

def test_plot_weights_diverging_heat_map_centred_on_zero(ax):
    W = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    assert plotting.plot_weights(W, ax=ax) is ax
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), W)
    assert image.norm.vmin == -3.0 and image.norm.vmax == 3.0
    assert image.get_cmap().name == "RdBu_r"
    # 0 maps to the middle of the colormap, white-ish
    assert image.norm(0.0) == 0.5
    assert len(ax.figure.axes) == 2  # the heat map and its colour bar


def test_plot_weights_vectors_parameters_and_bad_inputs():
    ax = plotting.plot_weights(Parameter(np.array([0.5, -0.25])))
    np.testing.assert_array_equal(ax.images[0].get_array(), [[0.5, -0.25]])
    ax = plotting.plot_weights(np.zeros((2, 2)))
    assert ax.images[0].norm.vmax == 1.0  # all zeros: a scale of +-1, not a division by 0
    with pytest.raises(ValueError, match=r"plot_weights expected W of shape \(D, H\) or \(H,\), "
                                         r"got \(2, 2, 2\)"):
        plotting.plot_weights(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"plot_weights expected W to be finite, got 1 NaN"):
        plotting.plot_weights(np.array([[0.0, np.nan]]))


# --- plot_confusion_matrix and plot_images ----------------------------------------------------------

def test_plot_confusion_matrix_writes_each_nonzero_count_in_its_cell(ax):
    cm = np.array([[5, 1, 0], [0, 4, 0], [2, 0, 3]])
    assert plotting.plot_confusion_matrix(cm, ax=ax, labels=["a", "b", "c"]) is ax
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), cm)
    assert image.norm.vmin == 0.0 and image.norm.vmax == 5.0 and image.get_cmap().name == "Blues"
    # one text per non-zero cell, at (x = predicted column, y = true row)
    cells = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert cells == {((0, 0), "5"), ((1, 0), "1"), ((1, 1), "4"), ((0, 2), "2"), ((2, 2), "3")}
    # white on dark cells (above half the maximum), black on light ones
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["5"] == colours["4"] == colours["3"] == "white" and colours["1"] == colours["2"] == "black"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"


def test_plot_confusion_matrix_fractions_default_labels_and_bad_inputs():
    ax = plotting.plot_confusion_matrix(np.array([[0.75, 0.25], [0.0, 1.0]]))
    assert sorted(t.get_text() for t in ax.texts) == ["0.25", "0.75", "1.00"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1"]
    with pytest.raises(ValueError, match=r"plot_confusion_matrix expected cm of shape \(C, C\), got \(2, 3\)"):
        plotting.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"plot_confusion_matrix expected 2 labels \(one per class\), got 3"):
        plotting.plot_confusion_matrix(np.eye(2), labels="abc")
    with pytest.raises(ValueError, match=r"plot_confusion_matrix expected cm to be non-negative"):
        plotting.plot_confusion_matrix(-np.eye(2))


def test_plot_images_reshapes_rows_to_squares_and_switches_off_spare_axes():
    images = np.arange(3 * 16, dtype=float).reshape(3, 16)  # three 4x4 images as rows of 16 pixels
    given = plt.subplots(1, 4)[1]
    axes = plotting.plot_images(images, ["one", "two", "three"], axes=given)
    assert list(axes) == list(given)
    for k, ax in enumerate(axes[:3]):
        (image,) = ax.images
        np.testing.assert_array_equal(image.get_array(), images[k].reshape(4, 4))
        assert image.norm.vmin == 0.0 and image.norm.vmax == 47.0  # one scale for all panels
        assert ax.get_title() == ["one", "two", "three"][k] and list(ax.get_xticks()) == []
    assert len(axes[3].images) == 0 and not axes[3].axison


def test_plot_images_makes_a_grid_of_at_most_8_columns_and_refuses_bad_inputs():
    axes = plotting.plot_images(np.zeros((10, 2, 3)))
    assert axes.size == 16 and len(axes[0].figure.axes) == 16  # 2 rows of 8
    assert sum(len(ax.images) for ax in axes) == 10 and axes[0].get_title() == ""
    with pytest.raises(ValueError, match=r"plot_images expected images of shape \(K, h, w\) or \(K, P\) "
                                         r"with P a square number, got \(2, 5\)"):
        plotting.plot_images(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"plot_images expected 2 titles \(one per image\), got 1"):
        plotting.plot_images(np.zeros((2, 4)), ["x"])
    with pytest.raises(ValueError, match=r"plot_images expected at least 3 axes \(one per image\), got 2"):
        plotting.plot_images(np.zeros((3, 4)), axes=plt.subplots(1, 2)[1])
