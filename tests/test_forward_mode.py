"""Tests for bptutor.alternatives.forward_mode: dual numbers worked by hand, each elementwise derivative,
softmax, and dual_forward through a network against finite differences."""
import numpy as np
import pytest

from bptutor.activations import Sigmoid, Softmax
from bptutor.alternatives import Dual, dual_forward, flat_params, set_flat_params
from bptutor.layers import Linear, Sequential
from bptutor.regularization import Dropout
def test_dual_numbers_by_hand():
    # f(x) = x * x + 3 x at x = 2 with tangent 1: value 4 + 6 = 10, derivative 2x + 3 = 7
    x = Dual(2.0, 1.0)
    out = x * x + 3 * x
    assert (float(out.value), float(out.tangent)) == (10.0, 7.0)
    # 1 / x: value 0.5, derivative -1/x^2 = -0.25; x ** 3: 8 and 3 x^2 = 12; 5 - x: 3 and -1
    assert float((1 / x).tangent) == -0.25 and float((x ** 3).tangent) == 12.0
    assert (float((5 - x).value), float((5 - x).tangent)) == (3.0, -1.0)
    # product rule for matrices: (A + dA e)(B + dB e) = AB + (dA B + A dB) e
    A, dA = np.array([[1.0, 2.0]]), np.array([[0.0, 1.0]])
    B, dB = np.array([[3.0], [4.0]]), np.array([[1.0], [0.0]])
    M = Dual(A, dA) @ Dual(B, dB)
    assert M.value.tolist() == [[11.0]]          # 1*3 + 2*4
    assert M.tangent.tolist() == [[5.0]]         # dA B = 4, A dB = 1
    assert (np.ones((1, 1)) @ Dual(A, dA)).tangent.tolist() == [[0.0, 1.0]]  # a constant on the left


@pytest.mark.parametrize("method, derivative", [
    ("exp", np.exp), ("log", lambda x: 1 / x), ("tanh", lambda x: 1 - np.tanh(x) ** 2),
    ("sigmoid", lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2), ("relu", lambda x: (x > 0) * 1.0),
    ("leaky_relu", lambda x: np.where(x > 0, 1.0, 0.01))])
def test_dual_elementwise_derivatives(method, derivative):
    x = np.array([0.3, 1.7, 2.5]) * np.array([1, -1, 1]) if method != "log" else np.array([0.3, 1.7, 2.5])
    v = np.array([1.0, -2.0, 0.5])
    out = getattr(Dual(x, v), method)()
    assert np.allclose(out.tangent, derivative(x) * v, rtol=1e-12)


def test_dual_softmax_matches_finite_differences():
    g = np.random.default_rng(0)
    Z, V = g.normal(size=(3, 4)), g.normal(size=(3, 4))
    h = 1e-6
    from bptutor.activations import softmax
    numeric = (softmax(Z + h * V) - softmax(Z - h * V)) / (2 * h)
    assert np.allclose(Dual(Z, V).softmax().tangent, numeric, atol=1e-9)


def test_dual_forward_through_softmax_and_nested_sequential():
    X = np.random.default_rng(0).normal(size=(5, 3))
    model = Sequential(Sequential(Linear(3, 4, rng=0), Sigmoid()), Linear(4, 3, rng=1), Softmax())
    theta, v = flat_params(model), np.random.default_rng(1).normal(size=model.num_parameters())
    h = 1e-6
    out = []
    for sign in (1, -1):
        set_flat_params(model, theta + sign * h * v)
        out.append(model.forward(X))
    set_flat_params(model, theta)
    dual = dual_forward(model, X, v)
    assert np.allclose(dual.value, model.forward(X), rtol=1e-14)
    assert np.allclose(dual.tangent, (out[0] - out[1]) / (2 * h), atol=1e-9)


def test_bad_inputs_name_the_argument():
    with pytest.raises(TypeError, match=r"dual_forward supports the layers \['Linear', 'Sequential', 'Sigmoid'"):
        dual_forward(Sequential(Linear(2, 3), Dropout(0.5)), np.zeros((1, 2)), np.zeros(9))
    with pytest.raises(ValueError, match=r"Dual expected tangent of shape \(2,\) \(the shape of value\), got \(3,\)"):
        Dual(np.zeros(2), np.zeros(3))
