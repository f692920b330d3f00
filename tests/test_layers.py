"""Tests for bptutor.layers: Parameter, Module, Linear, Sequential."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bptutor.activations import ReLU, Sigmoid, Tanh
from bptutor.gradcheck import grad_check
from bptutor.layers import Linear, Module, Parameter, Sequential

FAST = settings(max_examples=30, deadline=None)

# Values on a grid of multiples of 1/8 and a step h that is a power of two:
# then X @ (W ± h) and the loss below are computed *exactly* in float64, the
# finite difference of this (bi)linear map has no error at all, and any
# difference from the analytic gradient is a bug.
H_STEP = 2.0 ** -17
sizes = st.integers(1, 4)


def dyadic(shape):
    return arrays(np.float64, shape, elements=st.integers(-16, 16).map(lambda k: k / 8))


def linear_loss(out, R):
    """L = sum(R * out), so dL/dout = R."""
    return float(np.sum(out * R)), R.copy()


# --- Parameter and Module (the lead's base classes) ------------------------------------------------

def test_parameter_copies_data_keeps_float32_and_zero_grads():
    data = np.array([1.0, 2.0], dtype=np.float32)
    p = Parameter(data, name="W")
    data[0] = 99.0
    assert p.data[0] == 1.0 and p.data.dtype == np.float32
    p.grad += 3.0
    p.zero_grad()
    assert np.all(p.grad == 0) and p.shape == (2,)
    assert repr(p) == "Parameter('W', shape=(2,), dtype=float32)"


def test_state_dict_round_trip_and_checks():
    model = Sequential(Linear(2, 3, rng=0), Tanh(), Linear(3, 1, rng=1))
    state = model.state_dict()
    assert list(state) == ["0.W", "0.b", "2.W", "2.b"]
    model[0].W.data += 1.0
    model.load_state_dict(state)
    assert np.array_equal(model[0].W.data, state["0.W"])
    with pytest.raises(ValueError, match=r"load_state_dict expected state\['0.W'\] of shape \(2, 3\), got \(3, 2\)"):
        model.load_state_dict({**state, "0.W": np.zeros((3, 2))})
    assert model.num_parameters() == 2 * 3 + 3 + 3 + 1


# --- Linear: a hand-worked example ---------------------------------------------------------------------

def test_linear_hand_worked_example():
    W = np.array([[1.0, 0.0, -1.0],
                  [2.0, 1.0, 0.0]])      # (D=2, H=3)
    b = np.array([0.5, -1.0, 0.0])
    layer = Linear.from_arrays(W, b)
    X = np.array([[1.0, 2.0]])           # (N=1, D=2)
    out = layer.forward(X)
    # out = X @ W + b = [1*1 + 2*2 + 0.5, 1*0 + 2*1 - 1, 1*(-1) + 2*0 + 0] = [5.5, 1, -1]
    assert np.array_equal(out, [[5.5, 1.0, -1.0]])

    dout = np.array([[1.0, 2.0, 3.0]])
    dX = layer.backward(dout)
    # dW = X^T dout = [[1*1, 1*2, 1*3], [2*1, 2*2, 2*3]]
    assert np.array_equal(layer.W.grad, [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    # db = sum over rows of dout = [1, 2, 3]
    assert np.array_equal(layer.b.grad, [1.0, 2.0, 3.0])
    # dX = dout W^T = [1*1 + 2*0 + 3*(-1), 1*2 + 2*1 + 3*0] = [-2, 4]
    assert np.array_equal(dX, [[-2.0, 4.0]])

    # A second backward adds: gradients accumulate (+=), dX does not.
    assert np.array_equal(layer.backward(dout), [[-2.0, 4.0]])
    assert np.array_equal(layer.W.grad, [[2.0, 4.0, 6.0], [4.0, 8.0, 12.0]])
    assert np.array_equal(layer.b.grad, [2.0, 4.0, 6.0])
    layer.zero_grad()
    assert not layer.W.grad.any() and not layer.b.grad.any()


def test_linear_parameters_order_names_shapes_and_init():
    layer = Linear(3, 4, rng=0)
    assert [n for n, _ in layer.named_parameters()] == ["W", "b"]
    assert layer.parameters()[0] is layer.W and layer.parameters()[1] is layer.b
    assert layer.W.shape == (3, 4) and layer.b.shape == (4,)
    assert not layer.b.data.any()  # biases start at zero
    assert np.all(np.abs(layer.W.data) <= 1 / np.sqrt(3))  # "standard": U[-1/sqrt(D), 1/sqrt(D)]
    assert np.array_equal(Linear(3, 4, rng=0).W.data, layer.W.data)   # seeded
    assert not np.array_equal(Linear(3, 4, rng=1).W.data, layer.W.data)
    assert not Linear(3, 4, init="zeros").W.data.any()
    assert repr(layer) == "Linear(3, 4)"


def test_linear_float32_in_float32_out():
    layer = Linear(3, 2, rng=0, dtype=np.float32)
    assert layer.W.data.dtype == np.float32 and layer.b.data.dtype == np.float32
    X = np.ones((4, 3), dtype=np.float32)
    out = layer.forward(X)
    assert out.dtype == np.float32
    dX = layer.backward(np.ones((4, 2), dtype=np.float32))
    assert dX.dtype == np.float32 and layer.W.grad.dtype == np.float32
    assert repr(layer) == "Linear(3, 2, dtype=float32)"
    assert Linear.from_arrays(np.ones((2, 2), dtype=np.float32), [0.0, 1.0]).b.data.dtype == np.float32


def test_linear_from_arrays_copies():
    W, b = np.ones((2, 2)), np.zeros(2)
    layer = Linear.from_arrays(W, b)
    W[0, 0] = 5.0
    assert layer.W.data[0, 0] == 1.0


# --- Linear: finite differences, properties ----------------------------------------------------------

@FAST
@given(data=st.data())
def test_linear_gradients_match_finite_differences(data):
    N, D, H = data.draw(sizes), data.draw(sizes), data.draw(sizes)
    layer = Linear.from_arrays(data.draw(dyadic((D, H))), data.draw(dyadic((H,))))
    X, R = data.draw(dyadic((N, D))), data.draw(dyadic((N, H)))
    report = grad_check(layer, X, linear_loss, R, h=H_STEP)
    assert report.max_rel_error < 1e-7, str(report)
    assert list(report.errors) == ["W", "b", "X"]


@FAST
@given(data=st.data())
def test_linear_is_affine_and_gradients_are_linear_in_dout(data):
    N, D, H = data.draw(sizes), data.draw(sizes), data.draw(sizes)
    layer = Linear.from_arrays(data.draw(dyadic((D, H))), data.draw(dyadic((H,))))
    X1, X2 = data.draw(dyadic((N, D))), data.draw(dyadic((N, D)))
    b = layer.b.data
    # f(X1 + X2) - b == (f(X1) - b) + (f(X2) - b): exact on the dyadic grid
    assert np.array_equal(layer(X1 + X2) - b, (layer(X1) - b) + (layer(X2) - b))
    R = data.draw(dyadic((N, H)))
    layer.zero_grad()
    layer.forward(X1)
    dX = layer.backward(R)
    dX2 = layer.backward(2 * R)
    assert np.array_equal(dX2, 2 * dX)
    # grads accumulated R and then 2R: three times the grads of R alone
    assert np.array_equal(layer.W.grad, 3 * (X1.T @ R))
    assert np.array_equal(layer.b.grad, 3 * R.sum(axis=0))


def test_linear_matches_torch_forward_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for N, D, H in [(1, 1, 1), (5, 3, 4), (7, 6, 2)]:
        layer = Linear(D, H, rng=rng, init="xavier_normal")
        layer.b.data[...] = rng.normal(size=H)
        X, dout = rng.normal(size=(N, D)), rng.normal(size=(N, H))
        ref = torch.nn.Linear(D, H).double()
        with torch.no_grad():
            ref.weight.copy_(torch.from_numpy(layer.W.data.T))  # PyTorch stores (out, in)
            ref.bias.copy_(torch.from_numpy(layer.b.data))
        Xt = torch.tensor(X, requires_grad=True)
        out_t = ref(Xt)
        out_t.backward(torch.from_numpy(dout))
        out = layer.forward(X)
        dX = layer.backward(dout)
        np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.W.grad, ref.weight.grad.numpy().T, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.b.grad, ref.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


# --- Sequential ---------------------------------------------------------------------------------------------

def test_sequential_hand_worked_example():
    # 1 input -> Linear(w=2, b=-1) -> ReLU -> Linear(w=3, b=0.5)
    model = Sequential(Linear.from_arrays([[2.0]], [-1.0]), ReLU(), Linear.from_arrays([[3.0]], [0.5]))
    X = np.array([[2.0], [0.25]])
    # row 1: 2*2 - 1 = 3 -> relu 3 -> 3*3 + 0.5 = 9.5
    # row 2: 2*0.25 - 1 = -0.5 -> relu 0 -> 0*3 + 0.5 = 0.5
    assert np.array_equal(model.forward(X), [[9.5], [0.5]])
    dX = model.backward(np.array([[1.0], [1.0]]))
    # second layer: dW2 = sum h*dout = 3*1 + 0*1 = 3, db2 = 2; dh = dout * 3 = [3, 3]
    # relu passes row 1 only: dz = [3, 0]; dW1 = 2*3 + 0.25*0 = 6, db1 = 3; dX = dz * 2 = [6, 0]
    assert np.array_equal(dX, [[6.0], [0.0]])
    assert [float(p.grad[..., 0].sum()) for p in model.parameters()] == [6.0, 3.0, 3.0, 2.0]


def test_sequential_container_behaviour():
    lin1, act, lin2 = Linear(2, 3, rng=0), Tanh(), Linear(3, 1, rng=1)
    model = Sequential(lin1, act, lin2)
    assert len(model) == 3 and model[0] is lin1 and model[-1] is lin2
    assert list(model) == [lin1, act, lin2] and model.layers == [lin1, act, lin2]
    head = model[:2]
    assert isinstance(head, Sequential) and head.layers == [lin1, act]
    assert [n for n, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert model.parameters()[2] is lin2.W
    assert repr(model) == "Sequential(\n  (0): Linear(2, 3)\n  (1): Tanh()\n  (2): Linear(3, 1)\n)"
    nested = Sequential(Sequential(Linear(1, 1)), Sigmoid())
    assert [n for n, _ in nested.named_parameters()] == ["0.0.W", "0.0.b"]
    assert "    (0): Linear(1, 1)" in repr(nested)


def test_sequential_train_eval_propagate_to_every_layer():
    model = Sequential(Linear(2, 2), Sequential(Tanh(), Linear(2, 1)))
    assert model.eval() is model
    assert not model.training and not model[0].training and not model[1][0].training
    model.train()
    assert model[1][1].training and model[1].training


@FAST
@given(data=st.data())
def test_sequential_gradients_match_finite_differences(data):
    # Linear -> ReLU -> Linear on the dyadic grid; biases sit at an odd multiple of
    # 1/128 so no pre-activation is within h of ReLU's kink: the check is exact.
    N, D, H, C = (data.draw(sizes) for _ in range(4))
    first = Linear.from_arrays(data.draw(dyadic((D, H))), data.draw(dyadic((H,))) + 1 / 128)
    second = Linear.from_arrays(data.draw(dyadic((H, C))), data.draw(dyadic((C,))))
    model = Sequential(first, ReLU(), second)
    X, R = data.draw(dyadic((N, D))), data.draw(dyadic((N, C)))
    report = grad_check(model, X, linear_loss, R, h=H_STEP)
    assert report.max_rel_error < 1e-7, str(report)


@FAST
@given(data=st.data())
def test_sequential_backward_equals_layers_backward_in_reverse(data):
    N = data.draw(sizes)
    model = Sequential(Linear(3, 4, rng=0), Tanh(), Linear(4, 2, rng=1))
    X, dout = data.draw(dyadic((N, 3))), data.draw(dyadic((N, 2)))
    out = model.forward(X)
    dX = model.backward(dout)
    h = model[1].forward(model[0].forward(X))
    assert np.array_equal(model[2].forward(h), out)
    assert np.array_equal(model[0].backward(model[1].backward(model[2].backward(dout))), dX)


def test_sequential_matches_torch_forward_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    model = Sequential(Linear(3, 5, rng=2), Tanh(), Linear(5, 2, rng=3), Sigmoid())
    ref = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2),
                              torch.nn.Sigmoid()).double()
    with torch.no_grad():
        for i in (0, 2):
            ref[i].weight.copy_(torch.from_numpy(model[i].W.data.T))
            ref[i].bias.copy_(torch.from_numpy(model[i].b.data))
    X, dout = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    Xt = torch.tensor(X, requires_grad=True)
    out_t = ref(Xt)
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(model.forward(X), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.backward(dout), Xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for i in (0, 2):
        np.testing.assert_allclose(model[i].W.grad, ref[i].weight.grad.numpy().T, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(model[i].b.grad, ref[i].bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_sequential_float32_end_to_end():
    model = Sequential(Linear(2, 3, dtype=np.float32), Tanh(), Linear(3, 1, dtype=np.float32))
    out = model.forward(np.ones((4, 2), dtype=np.float32))
    assert out.dtype == np.float32
    assert model.backward(np.ones((4, 1), dtype=np.float32)).dtype == np.float32


# --- input_grad=False: skipping the gradient of the data ------------------------------------------------

def _grads(model):
    return [p.grad.copy() for p in model.parameters()]


@pytest.mark.parametrize("make", [
    lambda: Linear(3, 4, rng=0),
    lambda: Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1)),
    # parameter-free layers before the first Linear are not run at all; a nested Sequential is reached
    lambda: Sequential(Tanh(), Sequential(Linear(3, 4, rng=0), Sigmoid()), Linear(4, 2, rng=1)),
])
def test_backward_without_input_grad_gives_the_same_parameter_gradients_and_returns_none(make):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 3))
    with_dX, without = make(), make()
    out = with_dX.forward(X)
    assert np.array_equal(without.forward(X), out)
    dout = rng.normal(size=out.shape)
    assert with_dX.backward(dout).shape == X.shape  # the default still returns dX
    assert without.backward(dout, input_grad=False) is None
    for g, h in zip(_grads(with_dX), _grads(without)):
        assert np.array_equal(g, h)  # bit for bit: the same products in the same order
    assert any(np.any(g != 0) for g in _grads(without))


def test_linear_without_input_grad_skips_the_product_with_W():
    # dX = dout @ W.T is the only product that reads W: with a W of the wrong
    # shape it would raise, so returning None shows that it was skipped.
    layer = Linear(3, 4, rng=0)
    layer.forward(np.ones((2, 3)))
    layer.W.data = np.ones((3, 5))
    with pytest.raises(ValueError):
        layer.backward(np.ones((2, 4)))
    layer.zero_grad()
    assert layer.backward(np.ones((2, 4)), input_grad=False) is None
    np.testing.assert_array_equal(layer.W.grad, np.full((3, 4), 2.0))  # X.T @ dout, sums of 2 ones
    np.testing.assert_array_equal(layer.b.grad, np.full(4, 2.0))


# --- bad input -----------------------------------------------------------------------------------------------

def _backward_first(module, dout):
    return module.backward(dout)


BAD_INPUTS = [
    (lambda: Linear(3, 4).forward(np.ones((5, 2))), ValueError,
     r"^Linear\(3, 4\) expected X of shape \(N, 3\), got \(5, 2\)$"),
    (lambda: Linear(3, 4).forward(np.ones(3)), ValueError, r"Linear\(3, 4\) expected X of shape \(N, 3\), got \(3,\)"),
    (lambda: Linear(3, 4).forward("abc"), TypeError, r"Linear\(3, 4\) expected X to be an array of numbers"),
    (lambda: Linear(3, 4).forward([[1, 2], [3]]), TypeError, r"expected X to be an array of numbers"),
    (lambda: Linear(0, 4), ValueError, r"Linear expected in_features >= 1, got 0"),
    (lambda: Linear(3, -1), ValueError, r"Linear expected out_features >= 1, got -1"),
    (lambda: Linear(3.0, 4), TypeError, r"Linear expected in_features to be an integer, got 3.0"),
    (lambda: Linear(True, 4), TypeError, r"Linear expected in_features to be an integer, got True"),
    (lambda: Linear(3, 4, init="glorot"), ValueError, r"Linear expected init to be one of \[.*'standard'.*\], got 'glorot'"),
    (lambda: Linear(3, 4, init=None), TypeError, r"Linear expected init to be one of .*, got None"),
    (lambda: Linear(3, 4, dtype=np.int64), TypeError, r"Linear expected dtype to be float32 or float64"),
    (lambda: Linear(3, 4, dtype="banana"), TypeError, r"Linear expected dtype to be float32 or float64, got 'banana'"),
    (lambda: Linear(3, 4, rng=None), TypeError, r"expected rng to be a numpy.random.Generator or a non-negative integer seed"),
    (lambda: _backward_first(Linear(3, 4), np.ones((2, 4))), RuntimeError,
     r"Linear.backward was called before Linear.forward"),
    (lambda: _linear_after_forward().backward(np.ones((5, 3))), ValueError,
     r"Linear\(3, 4\) expected dout of shape \(5, 4\), got \(5, 3\)"),
    (lambda: _linear_after_forward().backward(np.ones(4)), ValueError,
     r"Linear\(3, 4\) expected dout of shape \(5, 4\), got \(4,\)"),
    (lambda: Linear.from_arrays(np.ones(3), np.ones(3)), ValueError,
     r"Linear.from_arrays expected W with 2 dimensions, got shape \(3,\)"),
    (lambda: Linear.from_arrays(np.ones((2, 3)), np.ones(2)), ValueError,
     r"Linear.from_arrays expected b of shape \(3,\), got \(2,\)"),
    (lambda: Linear.from_arrays(np.ones((0, 3)), np.ones(3)), ValueError,
     r"Linear.from_arrays expected W of shape \(D, H\) with D >= 1 and H >= 1, got \(0, 3\)"),
    (lambda: Linear.from_arrays([[np.nan]], [0.0]), ValueError,
     r"Linear.from_arrays expected W to be finite, got 1 NaN or infinite entry"),
    (lambda: Linear.from_arrays([[1.0]], [np.inf]), ValueError, r"Linear.from_arrays expected b to be finite"),
    (lambda: Sequential(), ValueError, r"Sequential expected at least one module, got none"),
    (lambda: Sequential([Linear(1, 1), Tanh()]), TypeError,
     r"Sequential expected a Module at position 0, got list of length 2 \(pass the layers themselves"),
    (lambda: Sequential(Linear(1, 1), np.tanh), TypeError, r"Sequential expected a Module at position 1, got"),
    (lambda: _shared_twice(), ValueError, r"Sequential got the same Tanh\(\) object at positions 1 and 3"),
    (lambda: Sequential(Linear(1, 1))[1], IndexError, r"Sequential index 1 is out of range for 1 layers"),
    (lambda: Sequential(Linear(1, 1))["0"], TypeError, r"Sequential indices must be integers or slices, got '0'"),
    (lambda: _backward_first(Sequential(Linear(1, 1), Tanh()), np.ones((1, 1))), RuntimeError,
     r"Sequential.backward was called before Sequential.forward"),
    (lambda: _linear_after_forward().backward(np.ones((5, 4)), input_grad=0), TypeError,
     r"^Linear\(3, 4\).backward expected input_grad to be True or False, got 0$"),
    (lambda: _sequential_after_forward().backward(np.ones((5, 2)), input_grad="no"), TypeError,
     r"^Sequential.backward expected input_grad to be True or False, got 'no'$"),
]


def _sequential_after_forward():
    model = Sequential(Linear(3, 2), Tanh())
    model.forward(np.ones((5, 3)))
    return model


def _linear_after_forward():
    layer = Linear(3, 4)
    layer.forward(np.ones((5, 3)))
    return layer


def _shared_twice():
    act = Tanh()
    return Sequential(Linear(1, 2), act, Linear(2, 2), act)


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_failed_forward_keeps_the_previous_cache():
    layer = _linear_after_forward()
    with pytest.raises(ValueError):
        layer.forward(np.ones((2, 2)))
    assert layer.backward(np.ones((5, 4))).shape == (5, 3)


def test_module_subclass_without_forward_and_backward_cannot_be_made():
    class Broken(Module):
        def forward(self, X):
            return X

    # refused when built, naming the missing method, not later in the middle of training
    with pytest.raises(TypeError, match="abstract method.*backward"):
        Broken()
