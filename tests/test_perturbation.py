"""Tests for bptutor.alternatives.perturbation: finite differences, SPSA and evolution strategies,
worked by hand, against backprop, unbiased on a quadratic, and their counted loss evaluations."""
import numpy as np
import pytest

from _alternatives_nets import moons_objective, quadratic
from bptutor.alternatives import (CallCounter, backprop_gradient, cosine_similarity, es_gradient,
                                  finite_difference_gradient, norm_error, spsa_gradient)
from bptutor.gradcheck import rel_error


# --- hand-worked examples ----------------------------------------------------------------------------------

def test_spsa_by_hand_on_a_linear_function():
    # L = a . theta is linear, so the difference is exact: (L(t + c d) - L(t - c d)) / 2c = a . d
    a = np.array([1.0, -2.0, 3.0])
    est = spsa_gradient(lambda th: a @ th, np.zeros(3), c=0.1, n_samples=2, rng=0)
    g = np.random.default_rng(0)
    deltas = [2.0 * g.integers(0, 2, size=3) - 1.0 for _ in range(2)]
    expected = np.mean([(a @ d) / d for d in deltas], axis=0)
    assert np.allclose(est.grad, expected, rtol=1e-12)
    assert est.evaluations == 4 and est.backward_passes == 0 and est.passes == 4


def test_es_by_hand_on_a_quadratic():
    # for a quadratic the antithetic difference is exact: (L(t + s e) - L(t - s e)) / 2s = g . e
    f, grad, theta = quadratic(4)
    est = es_gradient(f, theta, sigma=0.3, n_pairs=3, rng=7)
    eps = np.random.default_rng(7).standard_normal((3, 4))
    assert np.allclose(est.grad, np.mean([(grad @ e) * e for e in eps], axis=0), rtol=1e-10)
    assert est.evaluations == 6


# --- estimates against backprop --------------------------------------------------------------------------------

def test_finite_differences_equal_backprop_and_cost_2P():
    model, f = moons_objective()
    bp = backprop_gradient(f)
    f.evaluations = 0
    fd = finite_difference_gradient(f, f.theta0)
    assert rel_error(fd.grad, bp.grad) < 1e-7
    assert fd.evaluations == 2 * f.size == f.evaluations == 2 * 17   # P = 2*4 + 4 + 4 + 1
    assert (bp.evaluations, bp.backward_passes) == (1, 1)


def test_spsa_and_es_are_unbiased_on_a_quadratic():
    f, grad, theta = quadratic(8)
    spsa = spsa_gradient(f, theta, c=1e-3, n_samples=4000, rng=0)
    es = es_gradient(f, theta, sigma=0.1, n_pairs=4000, rng=0)
    assert cosine_similarity(spsa.grad, grad) > 0.9 and cosine_similarity(es.grad, grad) > 0.9
    # one sample is far from the gradient: the error of the mean shrinks like 1/sqrt(n)
    one = spsa_gradient(f, theta, c=1e-3, n_samples=1, rng=0)
    assert norm_error(one.grad, grad) > 3 * norm_error(spsa.grad, grad)
    assert (spsa.evaluations, es.evaluations) == (8000, 8000)


def test_estimators_count_calls_of_a_plain_function():
    counted = CallCounter(lambda th: float(th @ th))
    theta = np.arange(5.0)
    assert finite_difference_gradient(counted, theta).evaluations == 10 == counted.calls
    assert spsa_gradient(counted, theta, n_samples=3).evaluations == 6
    assert es_gradient(counted, theta, n_pairs=4).evaluations == 8
    assert counted.calls == 10 + 6 + 8
    assert np.array_equal(theta, np.arange(5.0))   # never changed


# --- bad inputs -------------------------------------------------------------------------------------------------------

def test_bad_inputs_name_the_argument():
    model, f = moons_objective()
    theta = f.theta0
    with pytest.raises(ValueError, match="finite_difference_gradient expected h > 0.0, got 0.0"):
        finite_difference_gradient(f, theta, h=0)
    with pytest.raises(TypeError, match="finite_difference_gradient expected f to be a function of theta"):
        finite_difference_gradient(3.0, theta)
    with pytest.raises(ValueError, match="spsa_gradient expected theta with 1 dimension"):
        spsa_gradient(f, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="spsa_gradient expected n_samples >= 1, got 0"):
        spsa_gradient(f, theta, n_samples=0)
    with pytest.raises(ValueError, match="spsa_gradient expected c > 0.0, got -1.0"):
        spsa_gradient(f, theta, c=-1.0)
    with pytest.raises(TypeError, match="expected rng to be a numpy.random.Generator"):
        es_gradient(f, theta, rng=None)
    with pytest.raises(ValueError, match="es_gradient expected sigma > 0.0"):
        es_gradient(f, theta, sigma=0.0)
    with pytest.raises(TypeError, match="es_gradient expected f to return a scalar loss"):
        es_gradient(lambda th: th, theta)
