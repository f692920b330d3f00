"""Tests for bptutor.conv: the Conv2d, MaxPool2d and Flatten layers in the contract of bptutor.layers."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.activations import ReLU
from bptutor.conv import Conv2d, Flatten, MaxPool2d, conv2d_forward
from bptutor.gradcheck import grad_check, numerical_gradient
from bptutor.layers import Linear, Sequential
from bptutor.optim import Adam
from bptutor.training import evaluate, fit


def small_cnn(rng=0, dtype=np.float64):
    return Sequential(Conv2d(1, 4, 3, padding=1, rng=rng, dtype=dtype), ReLU(), MaxPool2d(2), Flatten(),
                      Linear(4 * 2 * 2, 3, rng=rng + 1, dtype=dtype))


# --- worked by hand ----------------------------------------------------------------------------------------------

def test_conv2d_layer_worked_by_hand_accumulates_gradients():
    layer = Conv2d.from_arrays(np.array([[[[1.0, -1.0], [0.0, 2.0]]]]), np.array([0.5]))
    X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]]).reshape(1, 1, 3, 3)
    out = layer.forward(X)
    # sum(window * kernel) + 0.5 at each of the four positions (see test_conv_functional)
    assert np.array_equal(out, [[[[1.5, 8.5], [-0.5, 0.5]]]])
    dX = layer.backward(np.ones((1, 1, 2, 2)))
    # dout all ones: db = 4; dW[a, b] = sum of the 2x2 block of X starting at (a, b)
    assert np.array_equal(layer.b.grad, [4.0])
    assert np.array_equal(layer.W.grad[0, 0], [[1 + 2 + 0 + 1, 2 + 0 + 1 + 3], [0 + 1 + 2 + 0, 1 + 3 + 0 + 1]])
    # dX: pixel (y, x) collects W over the windows that hold it; the centre is in all four: 1 - 1 + 0 + 2 = 2
    assert dX[0, 0, 1, 1] == 2.0 and dX[0, 0, 0, 0] == 1.0 and dX[0, 0, 2, 2] == 2.0
    layer.backward(np.ones((1, 1, 2, 2)))
    assert np.array_equal(layer.b.grad, [8.0])  # += : a second backward adds, it does not overwrite


def test_maxpool_and_flatten_layers_by_hand():
    X = np.array([[1.0, 5.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    pool, flat = MaxPool2d(2), Flatten()
    out = flat.forward(pool.forward(X))
    assert out.shape == (1, 1) and out[0, 0] == 5.0
    dX = pool.backward(flat.backward(np.array([[7.0]])))
    assert np.array_equal(dX, [[[[0.0, 7.0], [0.0, 0.0]]]])  # all of it to the 5
    assert pool.parameters() == [] and flat.parameters() == []


def test_flatten_order_is_channels_then_rows():
    X = np.arange(2 * 2 * 2 * 3).reshape(2, 2, 2, 3).astype(float)
    out = Flatten().forward(X)
    assert out.shape == (2, 12) and np.array_equal(out[1], np.arange(12, 24))


# --- gradients: finite differences through a whole network -------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.integers(0, 1000))
def test_cnn_gradients_match_finite_differences(N, stride, padding, seed):
    rng = np.random.default_rng(seed)
    model = Sequential(Conv2d(2, 3, 3, stride=stride, padding=padding, rng=seed), ReLU(), MaxPool2d(2, stride=1),
                       Flatten())
    X = rng.normal(size=(N, 2, 6, 6))
    out = model.forward(X)
    R = rng.normal(size=out.shape)
    model.zero_grad()
    dX = model.backward(R)

    def loss(_):
        return float(np.sum(R * model.forward(X)))

    # a kink (ReLU at 0, a max-pool tie) within 1e-6 of random normals has probability ~0
    np.testing.assert_allclose(dX, numerical_gradient(loss, X, 1e-6), rtol=1e-6, atol=1e-8)
    for p in model.parameters():
        np.testing.assert_allclose(p.grad, numerical_gradient(loss, p.data, 1e-6), rtol=1e-6, atol=1e-8)


def test_grad_check_passes_on_a_cnn_with_a_loss():
    X = np.random.default_rng(3).normal(size=(5, 1, 4, 4))
    report = grad_check(small_cnn(), X, "cross_entropy", np.array([0, 1, 2, 1, 0]))
    assert report.passed, report


def test_input_grad_false_fills_the_same_parameter_gradients():
    rng = np.random.default_rng(0)
    a, b = Conv2d(2, 3, 3, padding=1, rng=1), Conv2d(2, 3, 3, padding=1, rng=1)
    X, dout = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(2, 3, 5, 5))
    a.forward(X), b.forward(X)
    assert a.backward(dout, input_grad=False) is None
    b.backward(dout)
    assert np.array_equal(a.W.grad, b.W.grad) and np.array_equal(a.b.grad, b.b.grad)
    with pytest.raises(TypeError, match=r"Conv2d\(2, 3, 3, padding=1\).backward expected input_grad to be True"):
        a.backward(dout, input_grad=1)


# --- initialization, shapes, dtypes --------------------------------------------------------------------------------

def test_he_initialization_uses_fan_in_of_channels_times_kernel():
    layer = Conv2d(16, 64, 3, rng=0)
    assert layer.W.shape == (64, 16, 3, 3) and layer.b.shape == (64,) and np.all(layer.b.data == 0)
    # 9,216 draws from N(0, 2 / (16 * 9)): the sample std is within 3% of sqrt(2/144) = 0.1179
    assert layer.W.data.std() == pytest.approx(np.sqrt(2 / 144), rel=0.03)
    standard = Conv2d(16, 64, 3, rng=0, init="standard")
    assert np.abs(standard.W.data).max() <= 1 / 12 and np.abs(standard.W.data).max() > 0.08
    assert np.array_equal(Conv2d(2, 3, 3, rng=5).W.data, Conv2d(2, 3, 3, rng=5).W.data)


def test_output_shapes_and_repr():
    layer = Conv2d(3, 5, (3, 2), stride=2, padding=1)
    assert layer.forward(np.zeros((4, 3, 7, 6))).shape == (4, 5, 4, 4)   # (7+2-3)//2+1, (6+2-2)//2+1
    assert layer.output_shape(7, 6) == (4, 4)
    assert repr(layer) == "Conv2d(3, 5, (3, 2), stride=2, padding=1)"
    assert repr(Conv2d(1, 8, 3)) == "Conv2d(1, 8, 3)" and repr(MaxPool2d(2)) == "MaxPool2d(2)"
    assert repr(MaxPool2d(3, stride=1)) == "MaxPool2d(3, stride=1)"
    assert MaxPool2d(2).forward(np.zeros((1, 1, 5, 5))).shape == (1, 1, 2, 2)  # the last row and column drop


def test_float32_layer_computes_in_float32():
    model = small_cnn(dtype=np.float32)
    X = np.random.default_rng(0).normal(size=(3, 1, 4, 4)).astype(np.float32)
    out = model.forward(X)
    dX = model.backward(np.ones_like(out))
    assert out.dtype == np.float32 and dX.dtype == np.float32 and model[0].W.grad.dtype == np.float32


def test_parameters_are_named_like_linear_ones():
    names = [name for name, _ in small_cnn().named_parameters()]
    assert names == ["0.W", "0.b", "4.W", "4.b"]
    assert small_cnn().num_parameters() == 4 * 9 + 4 + 16 * 3 + 3


# --- PyTorch parity of a whole network -----------------------------------------------------------------------------

def test_a_cnn_matches_torch_forward_and_backward():
    torch = pytest.importorskip("torch")
    model = Sequential(Conv2d(2, 3, 3, stride=2, padding=1, rng=0), ReLU(), MaxPool2d(2, stride=1), Flatten(),
                       Linear(3 * 2 * 2, 4, rng=1))
    ref = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, stride=2, padding=1), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2, stride=1), torch.nn.Flatten(), torch.nn.Linear(12, 4)).double()
    with torch.no_grad():
        ref[0].weight.copy_(torch.from_numpy(model[0].W.data))
        ref[0].bias.copy_(torch.from_numpy(model[0].b.data))
        ref[4].weight.copy_(torch.from_numpy(model[4].W.data.T))
        ref[4].bias.copy_(torch.from_numpy(model[4].b.data))
    rng = np.random.default_rng(0)
    X, dout = rng.normal(size=(5, 2, 6, 6)), rng.normal(size=(5, 4))
    Xt = torch.tensor(X, requires_grad=True)
    out_t = ref(Xt)
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(model.forward(X), out_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.backward(dout), Xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(model[0].W.grad, ref[0].weight.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(model[0].b.grad, ref[0].bias.grad.numpy(), rtol=0, atol=1e-10)


# --- training with fit ---------------------------------------------------------------------------------------------

def test_a_cnn_in_sequential_learns_with_fit():
    # class 0: a vertical bar, class 1: a horizontal bar, at random positions, plus noise
    rng = np.random.default_rng(0)
    X = rng.normal(scale=0.1, size=(120, 1, 6, 6))
    y = np.arange(120) % 2
    for n in range(120):
        k = rng.integers(0, 6)
        if y[n] == 0:
            X[n, 0, :, k] += 1.0
        else:
            X[n, 0, k, :] += 1.0
    model = Sequential(Conv2d(1, 4, 3, padding=1, rng=0), ReLU(), MaxPool2d(2), Flatten(), Linear(36, 2, rng=1))
    before = evaluate(model, "cross_entropy", X, y)
    history = fit(model, "cross_entropy", Adam(model.parameters(), lr=1e-2), X, y, epochs=15, batch_size=16,
                  progress=False, rng=0)
    after = evaluate(model, "cross_entropy", X, y)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert after["accuracy"] >= 0.95 > before["accuracy"]
    assert set(history.grad_norms) == {"0", "4"} and all(v > 0 for v in history.grad_norms["0"])


# --- bad input: the message names the argument, and nothing changes ------------------------------------------------

@pytest.mark.parametrize("make, kind, words", [
    (lambda: Conv2d(0, 8, 3), ValueError, r"Conv2d expected in_channels >= 1, got 0"),
    (lambda: Conv2d(1, 8.0, 3), TypeError, r"Conv2d expected out_channels to be an integer, got 8.0"),
    (lambda: Conv2d(1, 8, "3"), TypeError, r"Conv2d expected kernel_size to be an integer or a pair"),
    (lambda: Conv2d(1, 8, (3, 0)), ValueError, r"Conv2d expected kernel_size\[1\] >= 1, got 0"),
    (lambda: Conv2d(1, 8, 3, stride=0), ValueError, r"Conv2d expected stride >= 1, got 0"),
    (lambda: Conv2d(1, 8, 3, stride=1.5), TypeError, r"Conv2d expected stride to be an integer, got 1.5"),
    (lambda: Conv2d(1, 8, 3, padding=-1), ValueError, r"Conv2d expected padding >= 0, got -1"),
    (lambda: Conv2d(1, 8, 3, rng=None), TypeError, r"expected rng to be a numpy.random.Generator"),
    (lambda: Conv2d(1, 8, 3, init="xavier"), ValueError, r"Conv2d expected init to be one of"),
    (lambda: Conv2d(1, 8, 3, dtype=np.int32), TypeError, r"Conv2d expected dtype to be float32 or float64"),
    (lambda: MaxPool2d(0), ValueError, r"MaxPool2d expected kernel_size >= 1, got 0"),
    (lambda: MaxPool2d(2, stride=True), TypeError, r"MaxPool2d expected stride to be an integer, got True"),
    (lambda: MaxPool2d((2, 3)), ValueError, r"MaxPool2d expected stride for a non-square kernel"),
    (lambda: Conv2d.from_arrays(np.zeros((2, 1, 3, 3)), np.zeros(3)), ValueError,
     r"Conv2d.from_arrays expected b of shape \(2,\), got \(3,\)"),
    (lambda: Conv2d.from_arrays(np.full((1, 1, 2, 2), np.inf), np.zeros(1)), ValueError,
     r"Conv2d.from_arrays expected W to be finite"),
])
def test_bad_constructor_arguments(make, kind, words):
    with pytest.raises(kind, match=words):
        make()


@pytest.mark.parametrize("X, kind, words", [
    (np.zeros((5, 2)), ValueError, r"Conv2d\(1, 8, 3\) expected X of shape \(N, 1, H, W\), got \(5, 2\)"),
    (np.zeros((5, 2, 8, 8)), ValueError, r"Conv2d\(1, 8, 3\) expected X of shape \(N, 1, H, W\), got \(5, 2, 8, 8\)"),
    (np.zeros((5, 1, 2, 8)), ValueError, r"Conv2d\(1, 8, 3\) expected an input at least as large as the kernel 3x3 "
                                         r"after padding 0, got H=2, W=8"),
    (np.full((2, 1, 4, 4), np.nan), ValueError, r"Conv2d\(1, 8, 3\) expected X to be finite, got 32 NaN"),
    ([["a"]], TypeError, r"Conv2d\(1, 8, 3\) expected X to be an array of numbers"),
])
def test_a_failed_forward_changes_nothing(X, kind, words):
    layer = Conv2d(1, 8, 3, rng=0)
    good = np.ones((2, 1, 4, 4))
    before = layer.forward(good)
    W = layer.W.data.copy()
    with pytest.raises(kind, match=words):
        layer.forward(X)
    # the cache from the last good forward is still there and still right
    assert np.array_equal(layer.W.data, W)
    dX = layer.backward(np.ones_like(before))
    assert dX.shape == good.shape


def test_a_failed_backward_changes_no_gradient():
    layer = Conv2d(1, 2, 3, rng=0)
    with pytest.raises(RuntimeError, match=r"Conv2d.backward was called before Conv2d.forward"):
        layer.backward(np.ones((1, 2, 2, 2)))
    layer.forward(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"Conv2d\(1, 2, 3\) expected dout of shape \(1, 2, 2, 2\), got \(1, 2, 4, 4\)"):
        layer.backward(np.ones((1, 2, 4, 4)))
    with pytest.raises(ValueError, match=r"MaxPool2d\(2\) expected dout of shape \(1, 1, 1, 1\)"):
        pool = MaxPool2d(2)
        pool.forward(np.ones((1, 1, 2, 2)))
        pool.backward(np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"Flatten\(\) expected X of shape \(N, ...\)"):
        Flatten().forward(np.ones(3))
    assert np.all(layer.W.grad == 0) and np.all(layer.b.grad == 0)


def test_max_pool_rejects_an_image_smaller_than_its_window():
    with pytest.raises(ValueError, match=r"MaxPool2d\(3\) expected an input at least as large as the kernel 3x3"):
        MaxPool2d(3).forward(np.zeros((1, 1, 2, 5)))


def test_the_layer_and_the_function_agree():
    rng = np.random.default_rng(0)
    layer = Conv2d(2, 3, 3, stride=2, padding=1, rng=4)
    X = rng.normal(size=(2, 2, 5, 5))
    out, _ = conv2d_forward(X, layer.W.data, layer.b.data, 2, 1)
    assert np.array_equal(layer.forward(X), out)
