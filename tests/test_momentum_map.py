"""Tests of bptutor.widgets.momentum_map: the heavy ball's rate on a quadratic, in theory and measured."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.layers import Parameter
from bptutor.optim import Momentum
from bptutor.widgets import momentum_map as W


@pytest.fixture(scope="module")
def explorers():
    """The explorer, shared by the tests of this module (they reset what they change)."""
    return {"momentum_map": W.explore_momentum_map()}


# --- the theory -----------------------------------------------------------------------------------------

def test_rates_worked_by_hand():
    # mu = 0 is gradient descent: r = |1 - eta lambda|.
    np.testing.assert_allclose(W.heavy_ball_rate([0.3, 1.0, 1.5], 1.0, 0.0), [0.7, 0.0, 0.5], atol=1e-15)
    # eta lambda = 0.3, mu = 0.8: b = 1.5, b² - 4 mu = 2.25 - 3.2 < 0, a complex pair of modulus sqrt(0.8).
    assert W.heavy_ball_rate(0.1, 3.0, 0.8) == pytest.approx(np.sqrt(0.8), rel=1e-15)
    # eta lambda = 0.1, mu = 0.3: b = 1.2, b² - 4 mu = 0.24, r = (1.2 + sqrt(0.24)) / 2 = 0.844949.
    assert W.heavy_ball_rate(0.05, 2.0, 0.3) == pytest.approx((1.2 + np.sqrt(0.24)) / 2, rel=1e-15)
    # eta lambda = 3, mu = 0.25: b = -1.75, b² - 4 mu = 2.0625, r = (1.75 + sqrt(2.0625)) / 2 = 1.593 > 1.
    assert W.heavy_ball_rate(0.5, 6.0, 0.25) == pytest.approx((1.75 + np.sqrt(2.0625)) / 2, rel=1e-15)


def test_polyaks_tuning_gives_the_same_rate_at_both_ends_of_the_spectrum():
    kappa = 100.0
    lr, mu = 4 / (np.sqrt(kappa) + 1) ** 2, ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    rates = W.heavy_ball_rate(lr, np.array([1.0, 10.0, kappa]), mu)
    np.testing.assert_allclose(rates, 9 / 11, rtol=1e-7)   # 1e-7: a double root at both ends


@settings(max_examples=60, deadline=None)
@given(step=st.floats(0.0, 4.5), mu=st.floats(0.0, 0.999))
def test_the_rate_is_the_spectral_radius_of_the_2x2_map(step, mu):
    M = np.array([[1 - step, mu], [-step, mu]])
    expected = np.max(np.abs(np.linalg.eigvals(M)))
    # near a double root the eigenvalues move like the square root of a rounding error
    assert W.heavy_ball_rate(step, 1.0, mu) == pytest.approx(expected, rel=1e-6, abs=1e-7)
    converges = 0 < step < 2 * (1 + mu)
    if abs(step - 2 * (1 + mu)) > 1e-9 and step > 1e-9:
        assert (W.heavy_ball_rate(step, 1.0, mu) < 1) == converges


def test_the_kinds_follow_the_roots():
    assert W.classify_direction(0.1, 0.3) == "monotone"        # b = 1.2 > 0, real roots
    assert W.classify_direction(0.3, 0.8) == "oscillating"     # complex pair
    assert W.classify_direction(2.4, 0.25) == "alternating"    # b = -1.15, b² = 1.32 > 1: negative roots
    assert W.classify_direction(2.6, 0.3) == "diverging"       # at the boundary 2(1 + mu) = 2.6
    assert W.classify_direction(0.0, 0.5) == "diverging"       # no step: never converges


# --- the measurement ------------------------------------------------------------------------------------

def test_the_error_path_is_bptutors_momentum_on_a_one_dimensional_quadratic():
    lr, curvature, mu = 0.07, 9.0, 0.6
    p = Parameter(np.array([1.0]))
    optimizer, path = Momentum([p], lr=lr, momentum=mu), [1.0]
    for _ in range(40):
        p.grad[...] = curvature * p.data        # f = lambda x² / 2
        optimizer.step()
        path.append(abs(p.data[0]))
    np.testing.assert_allclose(W.heavy_ball_errors(lr, curvature, mu, steps=40), path, rtol=1e-12, atol=1e-300)


def test_measured_rates_agree_with_theory_away_from_double_roots():
    steps = np.array([0.3, 0.1, 3.0, 1.0])
    mus = np.array([0.8, 0.3, 0.25, 0.5])
    measured = W.measured_heavy_ball_rate(steps, 1.0, mus, steps=400)
    np.testing.assert_allclose(measured, W.heavy_ball_rate(steps, 1.0, mus), rtol=2e-4)
    assert measured[2] == pytest.approx(1.593, abs=1e-3)     # a diverging run is measured too, without overflow


def test_at_a_double_root_the_measured_rate_carries_the_factor_t():
    # eta lambda = (1 - sqrt(mu))²: the error is (a + b t) r^t, so the fitted rate is above r by about
    # 2 ln 2 / steps (the slope of ln t over the second half), and the excess halves when steps double.
    mu = 0.49
    step = (1 - np.sqrt(mu)) ** 2
    r = W.heavy_ball_rate(step, 1.0, mu)
    excess = [W.measured_heavy_ball_rate(step, 1.0, mu, steps=n) / r - 1 for n in (200, 400, 800)]
    assert all(0.5 * 2 * np.log(2) / n < e < 2 * 2 * np.log(2) / n for e, n in zip(excess, (200, 400, 800)))
    assert excess[0] > 1.8 * excess[1] > 3.2 * excess[2]


def test_the_map_agrees_with_theory_and_its_worst_point_is_a_double_root():
    grid = W.convergence_map(n_step=60, n_momentum=50, steps=400)
    assert grid.theory.shape == grid.measured.shape == (50, 60)
    assert grid.eta_lambda[0] == pytest.approx(4 / 120) and grid.mu[-1] == pytest.approx(0.99)
    assert 1e-4 < grid.max_difference < 0.02
    step, mu = grid.worst
    assert min(abs(step - (1 - np.sqrt(mu)) ** 2), abs(step - (1 + np.sqrt(mu)) ** 2)) < 0.1
    # where theory says it diverges, the measured rate is at least 1 (up to the grid cells on the boundary)
    assert np.mean(grid.measured[~grid.converging] >= 0.999) > 0.99
    longer = W.convergence_map(n_step=60, n_momentum=50, steps=1600)
    assert longer.max_difference < 0.5 * grid.max_difference
    assert W.convergence_map(n_step=60, n_momentum=50, steps=400) is grid    # cached
    with pytest.raises(ValueError):
        grid.theory[0, 0] = 2.0                                                 # and read-only


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": -0.1, "curvature": 1.0, "momentum": 0.5}, ValueError,
     r"heavy_ball_rate expected lr in \[0, inf\), got -0.1"),
    ({"lr": 0.1, "curvature": 1.0, "momentum": 1.0}, ValueError, r"expected momentum in \[0, 1\), got 1"),
    ({"lr": 0.1, "curvature": np.nan, "momentum": 0.5}, ValueError, r"expected curvature to be finite, got nan"),
    ({"lr": "fast", "curvature": 1.0, "momentum": 0.5}, TypeError, r"expected lr to be a number .*got str"),
    ({"lr": [0.1, 0.2], "curvature": [1.0, 2.0, 3.0], "momentum": 0.5}, ValueError,
     r"expected lr, curvature and momentum to broadcast together, got shapes \(2,\), \(3,\) and \(\)"),
])
def test_bad_arguments_are_refused_by_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        W.heavy_ball_rate(**kwargs)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match=r"measured_heavy_ball_rate expected steps >= 4, got 2"):
        W.measured_heavy_ball_rate(0.1, 1.0, 0.5, steps=2)
    with pytest.raises(TypeError, match=r"convergence_map expected n_step to be an integer"):
        W.convergence_map(n_step=10.5)


# --- the explorer -----------------------------------------------------------------------------------------

def test_the_explorer_names_the_slowest_direction_and_its_kind(explorers):
    explorer = explorers["momentum_map"]
    state = explorer.set(lr=0.03, momentum=0.9, condition=100.0)
    # both ends of [0.03, 3] have complex roots: every direction spirals at sqrt(0.9) = 0.949
    assert state["kind"] == "oscillating"
    np.testing.assert_allclose(state["theory"], np.sqrt(0.9), rtol=1e-12)
    assert "rate 0.949 per step" in state["message"]
    state = explorer.set(momentum=0.3)
    # eta kappa = 3 > 2(1 + 0.3) = 2.6: the steep direction grows; b = -1.7, b² - 4 mu = 1.69, r = (1.7 + 1.3)/2
    assert state["kind"] == "diverging" and state["slowest"] == 1
    assert state["message"] == ("diverging: the steep direction (ηλ = ηκ = 3 ≥ 2(1 + μ) = 2.6) grows by "
                                "1.5 per step")
    state = explorer.set(lr=0.01, momentum=0.0)
    # gradient descent, eta = 0.01: the flat direction creeps at 1 - 0.01 = 0.99
    assert state["kind"] == "monotone" and state["slowest"] == 0
    assert state["rate"] == pytest.approx(0.99) and "measured 0.990" in state["message"]
    explorer.set(lr=0.033, momentum=0.67, condition=100.0)


def test_every_view_draws_the_map_and_the_boundaries(explorers):
    explorer = explorers["momentum_map"]
    for view in W.MAP_VIEWS:
        explorer.view.value = view
        ax_map, ax_err = explorer.figure.axes
        assert len(ax_map.images) == 1 and ax_map.get_title() == f"{view} (grey: diverges)"
        boundary = ax_map.lines[0].get_xydata()
        np.testing.assert_allclose(boundary[:, 0], 2 * (1 + boundary[:, 1]))
        assert len(ax_err.lines) == 4        # two directions, each measured and r^t
    explorer.view.value = "measured rate"
    bundle, metadata = explorer._repr_mimebundle_()
    assert bundle["image/png"] and metadata["image/png"]["alt"].startswith(explorer.title)


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": 2.0}, r"explore_momentum_map expected lr from 0.001 to 1 .*got 2"),
    ({"momentum": 1.0}, r"expected momentum from 0 to 0.99 .*got 1"),
    ({"condition": 0.5}, r"expected condition from 1 to 1000 .*got 0.5"),
    ({"view": "rates"}, r"expected view to be one of 'measured rate', 'theory', '\|measured - theory\|', got 'rates'"),
])
def test_the_builder_refuses_values_its_controls_do_not_offer(kwargs, match):
    with pytest.raises(ValueError, match=match):
        W.explore_momentum_map(**kwargs)
