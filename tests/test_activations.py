"""Tests for bptutor.activations: functions, derivatives, layers, registry."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from bptutor.activations import (ACTIVATIONS, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh,
                                 get_activation, leaky_relu, leaky_relu_grad, log_softmax, logsumexp,
                                 relu, relu_grad, sigmoid, sigmoid_grad, softmax, step, step_grad, tanh,
                                 tanh_grad)
from bptutor.gradcheck import grad_check

FAST = settings(max_examples=30, deadline=None)
TIGHT = dict(rtol=1e-10, atol=1e-12)
matrix_shapes = array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5)


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_subnormal=False)


def away_from_kink(low=-3.0, high=3.0):
    """Values in [low, high] at least 0.1 from ReLU's kink at 0."""
    return floats(0.1, high).flatmap(lambda v: st.sampled_from([v, -v]).filter(lambda w: w >= low))


def weights():
    """Upstream weights R with |R| in [0.5, 2]: no gradient entry vanishes by accident."""
    return floats(0.5, 2.0).flatmap(lambda v: st.sampled_from([v, -v]))


def projection(out, R):
    return float(np.sum(out * R)), R.copy()


def nll(A, labels):
    """Negative log-likelihood of probabilities A (N, C): L = -sum log A[n, label_n]."""
    rows = np.arange(len(labels))
    dA = np.zeros_like(A)
    dA[rows, labels] = -1.0 / A[rows, labels]
    return float(-np.sum(np.log(A[rows, labels]))), dA


# --- hand-worked examples -------------------------------------------------------------------------

def test_sigmoid_and_tanh_by_hand():
    ln3, ln2 = np.log(3.0), np.log(2.0)
    # sigmoid(0) = 1/(1+1) = 1/2; sigmoid(ln 3) = 1/(1 + 1/3) = 3/4; sigmoid(-ln 3) = 1/4
    np.testing.assert_allclose(sigmoid([0.0, ln3, -ln3]), [0.5, 0.75, 0.25], rtol=1e-15)
    # sigma' = sigma (1 - sigma): 1/2*1/2 = 1/4; 3/4*1/4 = 3/16
    np.testing.assert_allclose(sigmoid_grad([0.0, ln3]), [0.25, 0.1875], rtol=1e-15)
    # tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 1.5/2.5 = 0.6; tanh' = 1 - 0.36 = 0.64
    np.testing.assert_allclose(tanh([ln2]), [0.6], rtol=1e-15)
    np.testing.assert_allclose(tanh_grad([ln2]), [0.64], rtol=1e-14)
    layer = Sigmoid()
    assert np.allclose(layer.forward([[ln3]]), 0.75)
    # dX = dout * A (1 - A) = 2 * 3/4 * 1/4 = 0.375
    assert np.allclose(layer.backward([[2.0]]), 0.375, rtol=1e-15)
    layer = Tanh()
    layer.forward([[ln2]])
    # dX = dout * (1 - 0.6^2) = 10 * 0.64 = 6.4
    assert np.allclose(layer.backward([[10.0]]), 6.4, rtol=1e-14)


def test_relu_family_and_step_by_hand():
    x = np.array([-2.0, 0.0, 3.0])
    assert np.array_equal(relu(x), [0.0, 0.0, 3.0])
    assert np.array_equal(relu_grad(x), [0.0, 0.0, 1.0])          # 0 at the kink, as PyTorch
    # leaky, slope 0.1: -2 * 0.1 = -0.2; 0 -> 0; 3 -> 3; slopes 0.1, 0.1, 1
    assert np.allclose(leaky_relu(x, slope=0.1), [-0.2, 0.0, 3.0])
    assert np.allclose(leaky_relu_grad(x, slope=0.1), [0.1, 0.1, 1.0])
    assert np.array_equal(step(x), [0.0, 0.0, 1.0])
    assert np.array_equal(step_grad(x), [0.0, 0.0, 0.0])          # no gradient ever flows
    layer = ReLU()
    assert np.array_equal(layer.forward([[-2.0, 3.0]]), [[0.0, 3.0]])
    assert np.array_equal(layer.backward([[5.0, 7.0]]), [[0.0, 7.0]])
    layer = LeakyReLU(slope=0.25)
    assert np.array_equal(layer.forward([[-2.0, 3.0]]), [[-0.5, 3.0]])  # -2 * 0.25 = -0.5
    assert np.array_equal(layer.backward([[4.0, 7.0]]), [[1.0, 7.0]])   # 4 * 0.25 = 1
    assert repr(layer) == "LeakyReLU(slope=0.25)"
    layer = Identity()
    assert np.array_equal(layer.forward([[1.5]]), [[1.5]]) and np.array_equal(layer.backward([[2.0]]), [[2.0]])


def test_softmax_family_by_hand():
    Z = np.log([[1.0, 2.0, 5.0]])
    # exp -> [1, 2, 5], sum 8: softmax = [1/8, 2/8, 5/8] = [0.125, 0.25, 0.625]
    np.testing.assert_allclose(softmax(Z), [[0.125, 0.25, 0.625]], rtol=1e-15)
    # logsumexp = log 8; log_softmax = log([1/8, 1/4, 5/8])
    np.testing.assert_allclose(logsumexp(Z), [np.log(8.0)], rtol=1e-15)
    np.testing.assert_allclose(log_softmax(Z), np.log([[0.125, 0.25, 0.625]]), rtol=1e-15)
    layer = Softmax()
    layer.forward(Z)
    # dX = A * (dout - sum(dout * A)) with dout = [1, 0, 0]: sum = 1/8
    # = [1/8 * 7/8, 1/4 * (-1/8), 5/8 * (-1/8)] = [0.109375, -0.03125, -0.078125]
    np.testing.assert_allclose(layer.backward([[1.0, 0.0, 0.0]]), [[0.109375, -0.03125, -0.078125]],
                               rtol=1e-15)
    # logsumexp over axis 0 of [[0, 0], [log 3, 0]] = [log(1 + 3), log 2]
    np.testing.assert_allclose(logsumexp([[0.0, 0.0], [np.log(3.0), 0.0]], axis=0), np.log([4.0, 2.0]))


# --- finite differences (float64, rel error < 1e-7) ---------------------------------------------------

SMOOTH = [(Sigmoid, floats(-3, 3)), (Tanh, floats(-3, 3)), (Identity, floats(-3, 3)),
          (ReLU, away_from_kink()), (LeakyReLU, away_from_kink())]


@pytest.mark.parametrize("cls, values", SMOOTH, ids=lambda v: getattr(v, "__name__", ""))
@FAST
@given(data=st.data())
def test_elementwise_gradients_match_finite_differences(cls, values, data):
    shape = data.draw(matrix_shapes)
    X = data.draw(arrays(np.float64, shape, elements=values))
    R = data.draw(arrays(np.float64, shape, elements=weights()))
    report = grad_check(cls(), X, projection, R)
    assert report.max_rel_error < 1e-7, str(report)


@FAST
@given(data=st.data())
def test_softmax_gradient_matches_finite_differences(data):
    N, C = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 5))
    X = data.draw(arrays(np.float64, (N, C), elements=floats(-3, 3)))
    labels = np.array(data.draw(st.lists(st.integers(0, C - 1), min_size=N, max_size=N)))
    report = grad_check(Softmax(), X, nll, labels)
    assert report.max_rel_error < 1e-7, str(report)
    # and through a random weighting of all outputs (the default loss)
    assert grad_check(Softmax(), X).max_rel_error < 1e-5


# --- properties -----------------------------------------------------------------------------------------

@FAST
@given(Z=arrays(np.float64, matrix_shapes, elements=floats(-50, 50)),
       shift=floats(-100, 100))
def test_softmax_rows_are_distributions_and_shift_invariant(Z, shift):
    P = softmax(Z)
    assert np.all(P >= 0) and np.allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(softmax(Z + shift), P, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(log_softmax(Z + shift), log_softmax(Z), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.exp(log_softmax(Z)), P, rtol=1e-12, atol=1e-15)
    lse = logsumexp(Z)
    assert np.all(lse >= Z.max(axis=1) - 1e-12)
    assert np.all(lse <= Z.max(axis=1) + np.log(Z.shape[1]) + 1e-12)
    np.testing.assert_allclose(logsumexp(Z + shift), lse + shift, rtol=1e-12, atol=1e-9)


@FAST
@given(x=arrays(np.float64, array_shapes(max_dims=3, max_side=4), elements=floats(-30, 30)))
def test_elementwise_identities(x):
    s = sigmoid(x)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(sigmoid(-x), 1.0 - s, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tanh(x), 2.0 * sigmoid(2.0 * x) - 1.0, rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(relu(x) - relu(-x), x)
    np.testing.assert_array_equal(leaky_relu(x, 0.2), np.maximum(x, 0.2 * x))
    np.testing.assert_allclose(sigmoid_grad(x), s * (1 - s), rtol=1e-7, atol=1e-15)
    np.testing.assert_allclose(tanh_grad(x), 1 - np.tanh(x) ** 2, rtol=1e-12, atol=1e-15)


DERIVATIVES = [(Sigmoid(), sigmoid_grad), (Tanh(), tanh_grad), (ReLU(), relu_grad),
               (LeakyReLU(), leaky_relu_grad)]


@pytest.mark.parametrize("layer, derivative", DERIVATIVES, ids=lambda v: type(v).__name__)
@FAST
@given(X=arrays(np.float64, matrix_shapes, elements=floats(-20, 20)))
def test_layer_backward_of_ones_is_the_derivative(layer, derivative, X):
    layer.forward(X)
    np.testing.assert_allclose(layer.backward(np.ones_like(X)), derivative(X), rtol=1e-9, atol=1e-15)


def test_registry_and_get_activation():
    assert list(ACTIVATIONS) == ["sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity"]
    for name, cls in ACTIVATIONS.items():
        layer = get_activation(name)
        assert type(layer) is cls and layer is not get_activation(name)
        assert layer.parameters() == []
    assert get_activation("leaky_relu").slope == 0.01


def test_float32_stays_float32():
    x = np.linspace(-3, 3, 7, dtype=np.float32).reshape(1, 7)
    for fn in (sigmoid, tanh, relu, leaky_relu, softmax, log_softmax, sigmoid_grad, tanh_grad,
               relu_grad, leaky_relu_grad, step, step_grad, logsumexp):
        assert fn(x).dtype == np.float32, fn.__name__
    for cls in ACTIVATIONS.values():
        layer = cls()
        assert layer.forward(x).dtype == np.float32
        assert layer.backward(np.ones_like(x)).dtype == np.float32, cls.__name__


# --- extreme values ------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("error")  # no overflow on the way either
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outputs_and_gradients_are_finite_at_1e4(dtype):
    X = np.array([[-1e4, -1e3, 0.0, 1e3, 1e4]], dtype=dtype)
    for fn in (sigmoid, sigmoid_grad, tanh, tanh_grad, softmax, log_softmax, logsumexp):
        assert np.all(np.isfinite(fn(X))), fn.__name__
    np.testing.assert_array_equal(sigmoid(X), [[0.0, 0.0, 0.5, 1.0, 1.0]])
    np.testing.assert_allclose(logsumexp(X), [1e4], rtol=1e-15)
    assert log_softmax(X)[0, 0] == -2e4 and log_softmax(X)[0, -1] == 0.0
    np.testing.assert_array_equal(softmax(X), [[0, 0, 0, 0, 1]])
    for cls in ACTIVATIONS.values():
        layer = cls()
        assert np.all(np.isfinite(layer.forward(X)))
        assert np.all(np.isfinite(layer.backward(np.ones_like(X)))), cls.__name__
    # two equal huge logits: exactly one half each, no inf - inf
    np.testing.assert_array_equal(softmax([[1e4, 1e4]]), [[0.5, 0.5]])
    np.testing.assert_allclose(logsumexp([[1e4, 1e4]]), [1e4 + np.log(2.0)], rtol=1e-15)


def test_sigmoid_keeps_relative_precision_in_the_tails():
    # sigma(-40) = e^-40 / (1 + e^-40) ~ 4.25e-18: the naive 1/(1+e^40) is fine here,
    # but 1 - sigma(40) would round to 0; sigmoid_grad uses sigma(x) sigma(-x)
    np.testing.assert_allclose(sigmoid(-40.0), np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-15)
    np.testing.assert_allclose(sigmoid_grad(40.0), np.exp(-40.0), rtol=1e-14)


# --- PyTorch parity ---------------------------------------------------------------------------------------

def _torch_reference(torch, name):
    F = torch.nn.functional
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "leaky_relu": lambda t: F.leaky_relu(t, 0.01), "softmax": lambda t: torch.softmax(t, dim=1),
            "identity": lambda t: t * 1.0}[name]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_layers_match_torch_forward_and_backward(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X = rng.normal(scale=3.0, size=(6, 5))
    X[0] = [1e4, -1e4, 30.0, -30.0, 0.5]  # saturated entries too
    dout = rng.normal(size=X.shape)
    Xt = torch.tensor(X, requires_grad=True)
    out_t = _torch_reference(torch, name)(Xt)
    out_t.backward(torch.from_numpy(dout))
    layer = get_activation(name)
    np.testing.assert_allclose(layer.forward(X), out_t.detach().numpy(), **TIGHT)
    np.testing.assert_allclose(layer.backward(dout), Xt.grad.numpy(), **TIGHT)


def test_functions_and_derivatives_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    X = rng.normal(scale=4.0, size=(5, 4))
    Xt = torch.tensor(X, requires_grad=True)
    pairs = [(sigmoid, sigmoid_grad, torch.sigmoid), (tanh, tanh_grad, torch.tanh),
             (relu, relu_grad, torch.relu),
             (leaky_relu, leaky_relu_grad, lambda t: torch.nn.functional.leaky_relu(t, 0.01))]
    for fn, grad_fn, ref in pairs:
        Xt.grad = None
        out = ref(Xt)
        out.sum().backward()
        np.testing.assert_allclose(fn(X), out.detach().numpy(), **TIGHT)
        np.testing.assert_allclose(grad_fn(X), Xt.grad.numpy(), **TIGHT)
    Zt = torch.tensor(X)
    np.testing.assert_allclose(softmax(X), torch.softmax(Zt, 1).numpy(), **TIGHT)
    np.testing.assert_allclose(log_softmax(X), torch.log_softmax(Zt, 1).numpy(), **TIGHT)
    np.testing.assert_allclose(logsumexp(X), torch.logsumexp(Zt, 1).numpy(), **TIGHT)
    np.testing.assert_allclose(logsumexp(X, axis=0), torch.logsumexp(Zt, 0).numpy(), **TIGHT)


# --- bad input -----------------------------------------------------------------------------------------------

def _after_forward(layer, X):
    layer.forward(X)
    return layer


BAD_INPUTS = [
    (lambda: sigmoid("a"), TypeError, r"sigmoid expected x to be an array of numbers, got 'a'"),
    (lambda: tanh(None), TypeError, r"tanh expected x to be an array of numbers, got None"),
    (lambda: relu([1 + 2j]), TypeError, r"relu expected x to be real, got dtype complex128"),
    (lambda: leaky_relu([1.0], slope=-0.1), ValueError, r"leaky_relu expected slope >= 0.0, got -0.1"),
    (lambda: leaky_relu_grad([1.0], slope=1.0), ValueError, r"leaky_relu_grad expected slope < 1.0, got 1.0"),
    (lambda: LeakyReLU(slope="big"), TypeError, r"LeakyReLU expected slope to be a real number, got 'big'"),
    (lambda: LeakyReLU(slope=np.nan), ValueError, r"LeakyReLU expected slope to be finite, got nan"),
    (lambda: softmax(3.0), ValueError, r"softmax expected Z of shape \(N, C\) or \(C,\) with C >= 1, got \(\)"),
    (lambda: log_softmax(np.ones((2, 0))), ValueError, r"log_softmax expected Z of shape \(N, C\) .* got \(2, 0\)"),
    (lambda: logsumexp(np.ones((2, 3)), axis=2), ValueError,
     r"logsumexp expected axis in the range -2 to 1 for Z of shape \(2, 3\), got 2"),
    (lambda: logsumexp(np.ones((2, 3)), axis=1.0), TypeError, r"logsumexp expected axis to be an integer, got 1.0"),
    (lambda: logsumexp(1.0), ValueError, r"logsumexp expected Z with at least 1 dimension, got a scalar"),
    (lambda: logsumexp(np.ones((3, 0))), ValueError, r"logsumexp expected at least one entry along axis -1"),
    (lambda: Softmax().forward(np.ones(3)), ValueError, r"Softmax\(\) expected X with 2 dimensions, got shape \(3,\)"),
    (lambda: Tanh().forward("x"), TypeError, r"Tanh\(\) expected X to be an array of numbers"),
    (lambda: Sigmoid().backward(np.ones((2, 2))), RuntimeError, r"Sigmoid.backward was called before Sigmoid.forward"),
    (lambda: Identity().backward(np.ones((2, 2))), RuntimeError, r"Identity.backward was called before"),
    (lambda: _after_forward(Tanh(), np.ones((5, 3))).backward(np.ones((3, 5))), ValueError,
     r"Tanh\(\) expected dout of shape \(5, 3\), got \(3, 5\)"),
    (lambda: _after_forward(ReLU(), np.ones((2, 2))).backward(np.ones(4)), ValueError,
     r"ReLU\(\) expected dout of shape \(2, 2\), got \(4,\)"),
    (lambda: _after_forward(Softmax(), np.ones((2, 3))).backward("g"), TypeError,
     r"Softmax\(\) expected dout to be an array of numbers"),
    (lambda: _after_forward(Identity(), np.ones((2, 3))).backward(np.ones((2, 2))), ValueError,
     r"Identity\(\) expected dout of shape \(2, 3\), got \(2, 2\)"),
    (lambda: get_activation("tanhh"), ValueError,
     r"get_activation expected name to be one of \['identity', 'leaky_relu', 'relu', 'sigmoid', 'softmax', "
     r"'tanh'\], got 'tanhh'"),
    (lambda: get_activation(Tanh), TypeError, r"get_activation expected name to be a string"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_non_finite_inputs_pass_through_without_exceptions():
    # a diverging run must reach the loss (and fit's explanation), not die in an activation
    assert np.isnan(sigmoid([np.nan])[0]) and sigmoid([np.inf])[0] == 1.0
    with np.errstate(invalid="ignore"):  # inf - inf inside softmax
        assert np.isnan(softmax([[np.inf, 0.0]])[0, 0])
