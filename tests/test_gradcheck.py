"""Tests for bptutor.gradcheck: numerical_gradient, rel_error, grad_check and its report."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from bptutor.activations import ReLU, Softmax, Tanh
from bptutor.gradcheck import GradCheckReport, WorstEntry, grad_check, numerical_gradient, rel_error
from bptutor.layers import Linear, Sequential
from bptutor.losses import mse_loss

FAST = settings(max_examples=30, deadline=None)


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_subnormal=False)


# --- hand-worked examples ------------------------------------------------------------------------------

def test_numerical_gradient_by_hand():
    x = np.array([1.0, -2.0])
    # f = x1^2 + x2^2 with h = 1/2; central differences are exact for a quadratic:
    # df/dx1 = ((1.5^2 + 4) - (0.5^2 + 4)) / 1 = 2.25 - 0.25 = 2
    # df/dx2 = ((1 + (-1.5)^2) - (1 + (-2.5)^2)) / 1 = 2.25 - 6.25 = -4
    grad = numerical_gradient(lambda v: np.sum(v ** 2), x, h=0.5)
    assert np.array_equal(grad, [2.0, -4.0])
    assert np.array_equal(x, [1.0, -2.0])       # restored


def test_rel_error_by_hand():
    # entry 1 equal -> 0; entry 2: |2 - 2.2| / (2 + 2.2) = 0.2 / 4.2 = 0.047619...
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2, rel=1e-12)
    assert rel_error(0.0, 0.0) == 0.0                      # the floor stops 0/0
    assert rel_error([1e-13], [0.0]) == pytest.approx(0.1)  # 1e-13 / max(1e-13, 1e-12)
    assert rel_error([1.0], [-1.0]) == 1.0                  # opposite signs: the largest error
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_report_text_is_readable():
    report = GradCheckReport(max_rel_error=0.5, worst=WorstEntry("0.W", (1, 0), 0.25, -0.25),
                             errors={"0.W": 0.5, "X": 2e-10}, threshold=1e-5, passed=False)
    assert str(report) == (
        "gradient check FAILED: max relative error 5.00e-01 (threshold 1e-05): wrong\n"
        "  0.W  5.00e-01\n"
        "  X    2.00e-10\n"
        "worst entry: 0.W[1, 0]  analytic 0.25  numeric -0.25\n"
        "scale: < 1e-7 great; < 1e-4 fine with kinks (ReLU); < 1e-2 suspicious; >= 1e-2 wrong")


@pytest.mark.parametrize("error, verdict", [(1e-9, "great"), (1e-6, "fine if the function has kinks"),
                                            (1e-3, "suspicious"), (0.2, "wrong")])
def test_verdicts_follow_the_documented_scale(error, verdict):
    report = GradCheckReport(error, WorstEntry("x", (0,), 1.0, 1.0), {"x": error})
    assert report.verdict.startswith(verdict)


# --- numerical_gradient -----------------------------------------------------------------------------------

@FAST
@given(data=st.data())
def test_numerical_gradient_matches_an_analytic_gradient(data):
    shape = data.draw(array_shapes(max_dims=3, max_side=4))
    x = data.draw(arrays(np.float64, shape, elements=floats(-2, 2)))
    c = data.draw(arrays(np.float64, shape, elements=floats(0.5, 2)))
    before = x.copy()
    # f = sum c * exp(x): gradient c * exp(x) >= 0.5 e^-2, never near 0
    grad = numerical_gradient(lambda v: np.sum(c * np.exp(v)), x, h=1e-5)
    assert rel_error(grad, c * np.exp(x)) < 1e-7
    assert np.array_equal(x, before) and grad.shape == x.shape and grad.dtype == np.float64


@FAST
@given(x=arrays(np.float64, st.integers(1, 6), elements=floats(-10, 10)), fail_at=st.integers(1, 12))
def test_numerical_gradient_restores_every_entry_even_when_f_raises(x, fail_at):
    before = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == fail_at:
            raise ArithmeticError("boom")
        return float(np.sum(v ** 3))

    if fail_at <= 2 * x.size:
        with pytest.raises(ArithmeticError, match="boom"):
            numerical_gradient(f, x)
    else:
        numerical_gradient(f, x)
    assert np.array_equal(x, before)


def test_numerical_gradient_perturbs_in_place_so_closures_see_it():
    W = np.array([[1.0, 2.0]])
    X = np.array([[3.0], [4.0]])
    # L = sum(X @ W) reads W through the closure: dL/dW = column sums of X = [7, 7]
    grad = numerical_gradient(lambda _: float(np.sum(X @ W)), W)
    np.testing.assert_allclose(grad, [[7.0, 7.0]], rtol=1e-9)


def test_numerical_gradient_divides_by_the_step_actually_taken():
    # at 1e8 float64 numbers are 1.49e-8 apart: x ± 1e-7 rounds to x ± 7 spacings, a step of
    # 2.086e-7 instead of 2e-7. f = 2x: dividing by 2h would give 2 * 1.043; the real step gives 2
    x = np.array([1e8])
    assert numerical_gradient(lambda v: 2.0 * v[0], x, h=1e-7)[0] == 2.0


# --- rel_error properties --------------------------------------------------------------------------------

@FAST
@given(a=arrays(np.float64, 5, elements=floats(-1e3, 1e3)), b=arrays(np.float64, 5, elements=floats(-1e3, 1e3)))
def test_rel_error_properties(a, b):
    assert rel_error(a, b) == rel_error(b, a)
    assert rel_error(a, a) == 0.0
    assert 0.0 <= rel_error(a, b)
    if np.all(np.abs(a) + np.abs(b) >= 1e-12):
        assert rel_error(a, b) <= 1.0
    assert rel_error(3.0 * a, 3.0 * b) == pytest.approx(rel_error(a, b), rel=1e-12, abs=1e-300) \
        or np.any(np.abs(a) + np.abs(b) < 1e-12)


# --- grad_check on modules and functions ---------------------------------------------------------------------

def test_grad_check_passes_a_correct_network_and_names_everything():
    rng = np.random.default_rng(0)
    model = Sequential(Linear(3, 4, rng=1), Tanh(), Linear(4, 2, rng=2))
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    X_before, W_before = X.copy(), model[0].W.data.copy()
    report = grad_check(model, X, "mse", y)
    assert report.passed and report.max_rel_error < 1e-7, str(report)
    assert list(report.errors) == ["0.W", "0.b", "2.W", "2.b", "X"]
    assert report.max_rel_error == max(report.errors.values())
    shapes = {**{name: p.shape for name, p in model.named_parameters()}, "X": X.shape}
    assert len(report.worst.index) == len(shapes[report.worst.name])
    assert "gradient check passed" in str(report)
    # inputs and weights untouched; the analytic gradients are left in .grad
    assert np.array_equal(X, X_before) and np.array_equal(model[0].W.data, W_before)
    grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    model.backward(mse_loss(model.forward(X), y)[1])
    assert all(np.array_equal(g, p.grad) for g, p in zip(grads, model.parameters()))


def test_grad_check_default_loss_weights_outputs_at_random():
    # sum(softmax) is constant, so a plain sum would check nothing; the random weights do
    report = grad_check(Softmax(), np.random.default_rng(0).normal(size=(3, 4)))
    assert report.passed and list(report.errors) == ["X"]
    assert abs(report.worst.analytic) > 1e-6


class TransposedLinear(Linear):
    """A classic bug: dW computed as (X^T dout)^T (shapes agree when W is square)."""

    def backward(self, dout):
        X = self._cache
        self.W.grad += (X.T @ dout).T
        self.b.grad += dout.sum(axis=0)
        return dout @ self.W.data.T


class SignFlippedTanh(Tanh):
    def backward(self, dout):
        return -super().backward(dout)


def test_grad_check_finds_a_transposed_dW_and_names_it():
    report = grad_check(TransposedLinear(3, 3, rng=0), np.random.default_rng(1).normal(size=(4, 3)))
    assert not report.passed and report.max_rel_error > 1e-2
    assert report.worst.name == "W" and report.errors["b"] < 1e-7 and report.errors["X"] < 1e-7
    assert "FAILED" in str(report) and "worst entry: W[" in str(report)


def test_grad_check_finds_a_sign_error_in_a_deep_layer():
    model = Sequential(Linear(2, 3, rng=0), SignFlippedTanh(), Linear(3, 1, rng=1))
    report = grad_check(model, np.random.default_rng(2).normal(size=(4, 2)))
    assert not report.passed
    assert report.errors["2.W"] < 1e-7 and report.errors["2.b"] < 1e-7   # above the bug: fine
    assert report.errors["0.W"] == pytest.approx(1.0)                     # below it: every sign wrong


def test_grad_check_finds_a_missing_mean_in_a_loss():
    def mse_without_mean(pred, target):
        return mse_loss(pred, target)[0], 2.0 * (pred - target)   # forgot the 1/M

    pred, target = np.arange(6.0).reshape(3, 2), np.zeros((3, 2))
    report = grad_check(mse_without_mean, pred, y=target)
    # analytic is M = 6 times the numeric one: |6g - g| / (6g + g) = 5/7
    assert report.max_rel_error == pytest.approx(5 / 7, rel=1e-6) and report.worst.name == "x"
    assert grad_check(mse_loss, pred, y=target).passed


def test_grad_check_reports_a_nan_gradient_as_wrong():
    report = grad_check(lambda v: (float(np.sum(v)), np.full_like(v, np.nan)), np.ones(3))
    assert not report.passed and report.max_rel_error == np.inf and report.worst.name == "x"
    assert "max relative error inf (threshold 1e-05): wrong" in str(report)


def test_grad_check_shows_a_kink():
    # ReLU at exactly 0: analytic derivative 0 (the convention), numeric (h - 0)/2h = 1/2
    report = grad_check(ReLU(), np.zeros((1, 1)), lambda out, _: (float(out.sum()), np.ones_like(out)))
    assert report.worst.analytic == 0.0 and report.worst.numeric == pytest.approx(0.5)
    assert report.max_rel_error == pytest.approx(1.0)


@FAST
@given(data=st.data())
def test_grad_check_of_a_function_returning_loss_and_gradient(data):
    shape = data.draw(array_shapes(max_dims=2, max_side=4))
    x = data.draw(arrays(np.float64, shape, elements=floats(-2, 2)))
    report = grad_check(lambda v: (float(np.sum(np.exp(v))), np.exp(v)), x)
    assert report.max_rel_error < 1e-7 and list(report.errors) == ["x"]


# --- bad input -------------------------------------------------------------------------------------------------

def _float32_model():
    return Sequential(Linear(2, 2, dtype=np.float32))


BAD_INPUTS = [
    (lambda: numerical_gradient(lambda v: 0.0, [1.0, 2.0]), TypeError,
     r"numerical_gradient expected x to be a float numpy array \(it is perturbed in place\), got list of length 2"),
    (lambda: numerical_gradient(lambda v: 0.0, np.arange(3)), TypeError,
     r"numerical_gradient expected x to be a float numpy array .*dtype int64"),
    (lambda: numerical_gradient("f", np.ones(2)), TypeError, r"numerical_gradient expected f to be callable, got 'f'"),
    (lambda: numerical_gradient(lambda v: v, np.ones(2)), TypeError,
     r"numerical_gradient expected f to return a scalar loss, got array of shape \(2,\)"),
    (lambda: numerical_gradient(lambda v: "x", np.ones(2)), TypeError,
     r"numerical_gradient expected f to return a scalar loss, got 'x'"),
    (lambda: numerical_gradient(lambda v: 0.0, np.ones(2), h=0.0), ValueError,
     r"numerical_gradient expected h > 0.0, got 0.0"),
    (lambda: numerical_gradient(lambda v: 0.0, np.array([0.0, 1.0]), h=1e-20), ValueError,
     r"numerical_gradient expected h large enough to change x\[1\] = 1.0, got h = 1e-20: "
     r"x ± h rounds back to x in float64"),
    (lambda: numerical_gradient(lambda v: 0.0, np.broadcast_to(np.ones(1), (3,))), ValueError,
     r"numerical_gradient expected x to be writeable"),
    (lambda: rel_error(np.ones(2), np.ones(3)), ValueError,
     r"rel_error expected a and b of the same shape, got \(2,\) and \(3,\)"),
    (lambda: rel_error("a", 1.0), TypeError, r"rel_error expected a to be an array of numbers"),
    (lambda: grad_check(_float32_model(), np.ones((1, 2))), ValueError,
     r"grad_check expected float64 parameters, got float32 for '0.W'"),
    (lambda: grad_check(42, np.ones(2)), TypeError,
     r"grad_check expected target to be a Module or a callable returning \(loss, gradient\), got 42"),
    (lambda: grad_check(Tanh(), np.ones((1, 2)), "hinge", np.ones((1, 2))), ValueError,
     r"grad_check expected loss_fn to be one of \[.*\] or a callable, got 'hinge'"),
    (lambda: grad_check(Tanh(), np.ones((1, 2)), 3.0), TypeError,
     r"grad_check expected loss_fn to be a callable \(pred, y\) -> \(loss, dout\)"),
    (lambda: grad_check(Tanh(), np.ones((1, 2)), y=np.ones((1, 2))), TypeError,
     r"grad_check got y but no loss_fn"),
    (lambda: grad_check(Tanh(), np.ones((1, 2)), lambda out, y: float(out.sum())), TypeError,
     r"grad_check expected loss_fn to return \(loss, gradient\) with the gradient of shape \(1, 2\)"),
    (lambda: grad_check(lambda v: float(v.sum()), np.ones(2)), TypeError,
     r"grad_check expected the function to return \(loss, gradient\) with the gradient of shape \(2,\)"),
    (lambda: grad_check(mse_loss, np.ones(2), "mse"), TypeError, r"grad_check\(f, x\) takes no loss_fn"),
    (lambda: grad_check(Tanh(), np.ones((1, 2)), threshold=0), ValueError,
     r"grad_check expected threshold > 0.0, got 0.0"),
    (lambda: grad_check(Linear(3, 4), np.ones((0, 3))), ValueError,
     r"grad_check expected a non-empty X, got shape \(0, 3\)"),
    (lambda: grad_check(Linear(3, 4), np.ones((5, 2))), ValueError,
     r"Linear\(3, 4\) expected X of shape \(N, 3\), got \(5, 2\)"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
