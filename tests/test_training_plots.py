"""Tests for bptutor.plotting.training_plots: plot_history, plot_decision_boundary (with predict_classes),
plot_confusion_matrix and plot_images, by the artists they draw."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from _plot_helpers import ax, no_figure_leaks, start_without_figures  # noqa: E402,F401 (fixtures)
from _plot_helpers import legend_texts  # noqa: E402
from bptutor import plotting  # noqa: E402
from bptutor.activations import Sigmoid  # noqa: E402
from bptutor.layers import Linear, Sequential  # noqa: E402
from bptutor.training import History  # noqa: E402


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
