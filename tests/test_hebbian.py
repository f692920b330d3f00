"""Tests for bptutor.alternatives.hebbian: Hebb's and Oja's updates by hand, Oja's rule finding the top
principal component, Hebb's rule growing without bound."""
import numpy as np
import pytest

from bptutor.alternatives import cosine_similarity, hebb_update, oja, oja_update
def test_hebb_and_oja_updates_by_hand():
    w, x = np.array([1.0, 0.0]), np.array([1.0, 1.0])
    # y = w.x = 1; Hebb: w + 0.5 * 1 * (1, 1) = (1.5, 0.5)
    assert hebb_update(w, x, 0.5).tolist() == [1.5, 0.5]
    # Oja: w + 0.5 * 1 * ((1, 1) - 1 * (1, 0)) = (1, 0.5)
    assert oja_update(w, x, 0.5).tolist() == [1.0, 0.5]
    assert w.tolist() == [1.0, 0.0]   # new arrays, w unchanged


def test_oja_converges_to_the_top_principal_component():
    g = np.random.default_rng(0)
    X = g.multivariate_normal([2.0, -1.0, 0.5], [[3.0, 1.0, 0.2], [1.0, 1.0, 0.1], [0.2, 0.1, 0.5]], size=400)
    result = oja(X, lr=0.01, epochs=5, rng=1)
    top = np.linalg.eigh(np.cov(X.T))[1][:, -1]
    assert abs(cosine_similarity(result.w, top)) > 0.99
    assert np.linalg.norm(result.w) == pytest.approx(1.0, abs=0.02)
    assert result.path.shape == (5 * 400 + 1, 3)
    assert np.array_equal(result.path[-1], result.w)
    # without centring it finds the top eigenvector of E[x x^T], pulled towards the mean
    raw = oja(X, lr=0.01, epochs=5, rng=1, center=False).w
    assert abs(cosine_similarity(raw, top)) < abs(cosine_similarity(result.w, top))


def test_hebb_alone_grows_without_bound():
    X = np.random.default_rng(0).normal(size=(200, 2)) * [2.0, 0.5]
    w = np.array([0.6, 0.8])
    for x in X:
        w = hebb_update(w, x, 0.01)
    assert np.linalg.norm(w) > 2.0


def test_bad_inputs_hebbian():
    with pytest.raises(ValueError, match=r"oja_update expected x of shape \(2,\), got \(3,\)"):
        oja_update(np.ones(2), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="hebb_update expected lr > 0.0, got 0.0"):
        hebb_update(np.ones(2), np.ones(2), 0.0)
    with pytest.raises(ValueError, match="oja_update expected w with 1 dimension"):
        oja_update(np.ones((2, 1)), np.ones(2), 0.1)
    with pytest.raises(ValueError, match="oja expected a non-zero w0"):
        oja(np.ones((4, 2)), w0=np.zeros(2))
    with pytest.raises(ValueError, match=r"oja expected w0 of shape \(2,\), got \(3,\)"):
        oja(np.ones((4, 2)), w0=np.ones(3))
    with pytest.raises(ValueError, match="oja expected epochs >= 1, got 0"):
        oja(np.ones((4, 2)), epochs=0)
    with pytest.raises(ValueError, match="oja expected X with 2 dimensions"):
        oja(np.ones(4))
