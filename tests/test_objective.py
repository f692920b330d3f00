"""Tests for bptutor.alternatives.objective: the flat-vector Objective and its counted passes, the
quality measures of an estimate, the estimators that need the network, and gradient descent with any estimate."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _alternatives_nets import FAST, moons_objective, small_net
from bptutor.activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from bptutor.alternatives import (CallCounter, GradientEstimate, Objective, angle_between, backprop_gradient,
                                  cosine_similarity, es_gradient, finite_difference_gradient, flat_grad, flat_params,
                                  forward_gradient, forward_mode_gradient, gradient_descent, norm_error,
                                  set_flat_params, spsa_gradient)
from bptutor.datasets import binary_targets, make_moons
from bptutor.gradcheck import rel_error
from bptutor.layers import Linear, Sequential


# --- hand-worked examples ----------------------------------------------------------------------------------

def test_flat_params_order_and_round_trip():
    model = Sequential(Linear.from_arrays([[1.0, 2.0]], [3.0, 4.0]), Tanh(), Linear.from_arrays([[5.0], [6.0]], [7.0]))
    # named_parameters order: 0.W (1, 2), 0.b (2,), 2.W (2, 1), 2.b (1,)
    assert np.array_equal(flat_params(model), [1, 2, 3, 4, 5, 6, 7])
    set_flat_params(model, np.arange(7.0) * 10)
    assert np.array_equal(model[2].W.data, [[40.0], [50.0]])
    assert np.array_equal(flat_params(model), np.arange(7.0) * 10)
    model[0].W.grad[...] = 1.0
    assert np.array_equal(flat_grad(model), [1, 1, 0, 0, 0, 0, 0])


def test_cosine_angle_and_norm_error_by_hand():
    assert cosine_similarity([1.0, 0.0], [1.0, 1.0]) == pytest.approx(1 / np.sqrt(2), rel=1e-15)
    assert angle_between([1.0, 0.0], [1.0, 1.0]) == pytest.approx(45.0, rel=1e-12)
    assert angle_between([1.0, 0.0], [-3.0, 0.0]) == pytest.approx(180.0)
    # |(3, 4) - (3, 0)| / |(3, 0)| = 4 / 3
    assert norm_error([3.0, 4.0], [3.0, 0.0]) == pytest.approx(4 / 3, rel=1e-15)


def test_gradient_descent_by_hand():
    # L = |theta|^2 / 2, gradient theta: each step multiplies theta by (1 - lr) = 0.75
    f = lambda th: 0.5 * th @ th  # noqa: E731
    trace = gradient_descent(f, np.array([2.0, -4.0]), lambda th: GradientEstimate(th.copy(), 3, 1), 0.25, 2)
    assert trace.theta.tolist() == [1.125, -2.25]                     # (2, -4) * 0.75^2
    assert trace.losses.tolist() == [10.0, 5.625, 3.1640625]          # 20/2, 11.25/2, 6.328125/2
    assert trace.passes.tolist() == [0, 4, 8]


# --- estimates against backprop --------------------------------------------------------------------------------

def test_forward_mode_is_exact_and_costs_P():
    model, f = moons_objective()
    bp = backprop_gradient(f)
    f.evaluations = 0
    fm = forward_mode_gradient(f)
    assert rel_error(fm.grad, bp.grad) < 1e-10
    assert fm.evaluations == f.size == f.evaluations and fm.backward_passes == 0


@pytest.mark.parametrize("act", [Sigmoid, Tanh, ReLU, LeakyReLU, Identity])
def test_jvp_equals_backprop_inner_product(act):
    X, y = make_moons(30, noise=0.2, rng=1)
    model = Sequential(Linear(2, 5, rng=3), act(), Linear(5, 3, rng=4), Tanh(), Linear(3, 2, rng=5))
    f = Objective(model, "cross_entropy", X, y)
    v = np.random.default_rng(0).normal(size=f.size)
    loss, grad = f.backprop(f.theta0)
    loss_j, dot = f.jvp(f.theta0, v)
    assert loss_j == pytest.approx(loss, rel=1e-14)
    assert dot == pytest.approx(grad @ v, rel=1e-10)


@FAST
@given(H=st.integers(1, 6), N=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_jvp_matches_finite_differences_on_random_networks(H, N, seed):
    g = np.random.default_rng(seed)
    X, t = g.normal(size=(N, 3)), g.normal(size=(N, 2))
    model = Sequential(Linear(3, H, rng=seed), Tanh(), Linear(H, 2, rng=seed + 1))
    f = Objective(model, "mse", X, t)
    theta, v = f.theta0 + g.normal(size=f.size), g.normal(size=f.size)
    h = 1e-5
    numeric = (f(theta + h * v) - f(theta - h * v)) / (2 * h)
    assert f.jvp(theta, v)[1] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_forward_gradient_is_unbiased_and_costs_one_pass_per_sample():
    model, f = moons_objective()
    bp = backprop_gradient(f)
    f.evaluations = 0
    est = forward_gradient(f, n_samples=800, rng=0)
    assert cosine_similarity(est.grad, bp.grad) > 0.9
    assert est.evaluations == 800 == f.evaluations


# --- the model is left as it was ---------------------------------------------------------------------------------

def test_estimators_leave_parameters_and_gradients_unchanged():
    model, f = moons_objective()
    for p in model.parameters():
        p.grad[...] = 0.5
    before = flat_params(model)
    other = before + 1.0
    backprop_gradient(f, other)
    finite_difference_gradient(f, other)
    forward_mode_gradient(f, other)
    spsa_gradient(f, other, n_samples=2)
    es_gradient(f, other, n_pairs=2)
    assert np.array_equal(flat_params(model), before)
    assert np.all(flat_grad(model) == 0.5)


def test_parameters_restored_when_the_loss_raises():
    X, y = make_moons(10, rng=0)
    model = small_net()
    calls = []

    def bad_loss(pred, target):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("boom")
        return float(np.mean(pred)), np.full(pred.shape, 1 / pred.size)

    f = Objective(model, bad_loss, X, binary_targets(y))
    before = flat_params(model)
    f(before)  # the first call works
    with pytest.raises(RuntimeError, match="boom"):
        finite_difference_gradient(f, before + 3.0)
    with pytest.raises(RuntimeError, match="boom"):
        f.backprop(before - 2.0)
    assert np.array_equal(flat_params(model), before)


# --- bad inputs -------------------------------------------------------------------------------------------------------

def test_bad_inputs_name_the_argument():
    model, f = moons_objective()
    theta = f.theta0
    with pytest.raises(TypeError, match="Objective expected model to be a bptutor Module"):
        Objective("net", "mse", f.X, f.y)
    with pytest.raises(ValueError, match="Objective expected loss to be one of"):
        Objective(model, "hinge", f.X, f.y)
    with pytest.raises(ValueError, match=r"Objective expected y with 40 rows"):
        Objective(model, "mse", f.X, f.y[:3])
    with pytest.raises(ValueError, match=r"Objective\(P=17\) expected theta of shape \(17,\), got \(3,\)"):
        f(np.zeros(3))
    with pytest.raises(ValueError, match=r"expected v of shape \(17,\)"):
        f.jvp(theta, np.zeros(2))
    with pytest.raises(ValueError, match=r"set_flat_params expected theta of shape \(17,\), got \(16,\)"):
        set_flat_params(model, np.zeros(16))
    with pytest.raises(TypeError, match="forward_mode_gradient expected objective to be a bptutor.alternatives"):
        forward_mode_gradient(lambda th: 0.0)
    with pytest.raises(ValueError, match="forward_gradient expected n_samples >= 1"):
        forward_gradient(f, n_samples=0)
    with pytest.raises(ValueError, match="cosine_similarity expected two non-zero vectors"):
        cosine_similarity([0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="cosine_similarity expected a and b of the same size, got 2 and 3"):
        cosine_similarity([1.0, 0.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="norm_error expected a non-zero reference vector"):
        norm_error([1.0], [0.0])
    with pytest.raises(TypeError, match="gradient_descent expected estimate\\(theta\\) to return a GradientEstimate"):
        gradient_descent(f, theta, lambda th: th, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="gradient_descent expected lr > 0.0"):
        gradient_descent(f, theta, lambda th: backprop_gradient(f, th), lr=0.0, steps=1)
    with pytest.raises(TypeError, match="CallCounter expected f to be callable"):
        CallCounter(None)
