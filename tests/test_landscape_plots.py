"""Tests for bptutor.plotting.landscape_plots: plot_trajectories, random_directions, loss_surface and
plot_loss_surface."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from _plot_helpers import ax, no_figure_leaks, start_without_figures  # noqa: E402,F401 (fixtures)
from _plot_helpers import contour_sets, legend_texts  # noqa: E402
from bptutor import plotting  # noqa: E402
from bptutor.activations import Tanh  # noqa: E402
from bptutor.layers import Linear, Sequential  # noqa: E402
from bptutor.losses import cross_entropy_loss  # noqa: E402


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
