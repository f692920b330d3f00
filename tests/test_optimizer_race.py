"""Tests of bptutor.widgets.optimizer_race: optimizers racing on functions of two variables."""
from __future__ import annotations

import numpy as np
import pytest

from bptutor.widgets import optimizer_race as W


@pytest.fixture(scope="module")
def explorers():
    """The explorer, shared by the tests of this module (they reset what they change)."""
    return {"optimizers": W.explore_optimizers()}


def test_plain_gradient_descent_on_the_quadratic_matches_the_closed_form():
    # f = (x² + κy²)/2, gradient (x, κy): x_t = (1 − η)^t x_0 and y_t = (1 − ηκ)^t y_0.
    surface = W.quadratic_surface(10.0)
    race = W.race_optimizers(surface, ("SGD",), lr=0.05, steps=30)
    t = np.arange(31)
    expected = np.column_stack([-4.0 * 0.95 ** t, 1.5 * 0.5 ** t])
    np.testing.assert_allclose(race.paths["SGD"], expected, rtol=1e-12)
    np.testing.assert_allclose(race.values["SGD"], 0.5 * (expected[:, 0] ** 2 + 10 * expected[:, 1] ** 2))
    assert race.diverged["SGD"] is None


def test_gradient_descent_diverges_above_two_over_kappa(explorers):
    explorer = explorers["optimizers"]
    state = explorer.set(condition=100.0, lr=0.05)  # 0.05 > 2/100
    # |1 − 0.05·100| = 4: y grows 4-fold a step, from 1.5 past the bound 5000 at step 6 (1.5·4^6 = 6144).
    assert state["diverged"]["SGD"] == 6
    assert state["kind"] == "some diverged"
    assert "SGD diverged at step 6" in state["message"]
    assert "stable only for lr < 2/κ = 0.02" in state["message"]
    state = explorer.set(condition=100.0, lr=0.01)
    assert state["diverged"]["SGD"] is None and state["kind"] == "all finished"
    assert state["final"]["SGD"] < 0.5 * (16 + 100 * 1.5 ** 2)
    explorer.set(condition=10.0, lr=0.05)


def test_momentum_beats_plain_descent_on_an_ill_conditioned_quadratic():
    race = W.race_optimizers(W.quadratic_surface(50.0), ("SGD", "Momentum", "Adam"), lr=0.03,
                             beta1=0.9, steps=100)
    assert race.values["Momentum"][-1] < 1e-2 * race.values["SGD"][-1]


def test_choosing_a_function_sets_its_learning_rate_in_one_update(explorers):
    explorer = explorers["optimizers"]
    calls = []
    original = explorer.compute
    explorer.compute = lambda: calls.append(1) or original()
    try:
        explorer.surface.value = "Rosenbrock"
        assert calls == [1] and explorer.lr.value == pytest.approx(W.ROSENBROCK.lr)
        assert explorer.state["kind"] in ("all finished", "some diverged")
    finally:
        del explorer.compute
        explorer.surface.value = "quadratic"
    assert explorer.lr.value == pytest.approx(0.05)


@pytest.mark.parametrize("surface", ["Rosenbrock", "network slice", "quadratic"])
def test_surface_gradients_match_finite_differences(surface):
    s = W.get_surface(surface, 7.0)
    point, h = np.array([0.3, -0.4]), 1e-6
    value, grad = s.grad(point)
    numeric = [(s.grad(point + h * e)[0] - s.grad(point - h * e)[0]) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    if surface != "network slice":  # the contours of the network slice interpolate a grid
        assert s.f(point[0], point[1]) == pytest.approx(value)


def test_network_slice_contours_interpolate_the_exact_loss():
    s = W.network_surface()
    exact = lambda *point: s.grad(np.array(point))[0]  # noqa: E731
    for point in ([0.0, 0.0], [1.0, -1.0], [-0.3, 1.7]):  # grid points (spacing 0.1): exact
        assert s.f(np.array(point[0]), np.array(point[1])) == pytest.approx(exact(*point), rel=1e-9)
    for point in ([0.55, 0.35], [-1.25, 0.05]):  # between grid points: close
        assert s.f(np.array(point[0]), np.array(point[1])) == pytest.approx(exact(*point), rel=0.2)


def test_no_optimizer_chosen_is_a_message(explorers):
    explorer = explorers["optimizers"]
    explorer.optimizers.value = ()
    assert explorer.state == {"kind": "error", "message": "ValueError: choose at least one optimizer",
                              "seconds": explorer.state["seconds"]}
    explorer.optimizers.value = tuple(W.OPTIMIZER_LABELS)
    assert explorer.state["kind"] == "all finished"
