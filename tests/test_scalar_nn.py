"""Tests for bptutor.scalar_nn: Neuron, Layer and MLP made of Values."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.engine import Value
from bptutor.gradcheck import numerical_gradient
from bptutor.optim import SGD
from bptutor.scalar_nn import ACTIVATIONS, MLP, Layer, Neuron

FAST = settings(max_examples=20, deadline=None)


def set_weights(neuron, w, b):
    for p, v in zip(neuron.w, w):
        p.data = float(v)
    neuron.b.data = float(b)


def squared_error(outputs, targets):
    """L = sum_k (y_k - t_k)^2 over one example's outputs."""
    return sum(((y - t) ** 2 for y, t in zip(outputs, targets)), Value(0.0))


def vector_rel_error(a, b):
    """||a - b|| / (||a|| + ||b||): one number for a whole gradient, so that an entry that
    is tiny by accident (a saturated unit) cannot turn float rounding into a large ratio."""
    a, b = np.asarray(a), np.asarray(b)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


# --- hand-worked examples -------------------------------------------------------------------------

def test_neuron_by_hand():
    n = Neuron(2, activation="tanh", rng=0)
    set_weights(n, [-3.0, 1.0], 6.0 + math.atanh(1 / math.sqrt(2)))
    x = [Value(2.0), Value(0.0)]
    o = n(x)
    # z = b + w1 x1 + w2 x2 = 6.8814 - 6 + 0 = 0.8814; o = tanh(z) = 1/sqrt(2)
    assert o.data == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    o.backward()
    # do/dz = 1 - o^2 = 0.5; dz/dw_i = x_i, dz/dx_i = w_i, dz/db = 1
    assert [p.grad for p in n.parameters()] == pytest.approx([1.0, 0.0, 0.5])   # 2*.5, 0*.5, .5
    assert [v.grad for v in x] == pytest.approx([-1.5, 0.5])                     # -3*.5, 1*.5
    assert o.op == "tanh" and o.children[0].op == "linear"


def test_two_layer_mlp_by_hand():
    # y = w2 tanh(w1 x + b1) + b2 with w1 = 0.5, b1 = 0, w2 = 2, b2 = 1 and x = 2 ln 2
    model = MLP(1, [1, 1], activation="tanh", rng=0)
    set_weights(model.layers[0].neurons[0], [0.5], 0.0)
    set_weights(model.layers[1].neurons[0], [2.0], 1.0)
    x = 2 * math.log(2.0)
    (y,) = model([x])
    # z1 = ln 2, h = tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 0.6, y = 2 * 0.6 + 1 = 2.2
    assert y.data == pytest.approx(2.2, rel=1e-15)
    y.backward()
    # dy/dw2 = h = 0.6, dy/db2 = 1; dy/dz1 = w2 (1 - h^2) = 2 * 0.64 = 1.28;
    # dy/dw1 = 1.28 x = 2.56 ln 2, dy/db1 = 1.28
    w1, b1, w2, b2 = model.parameters()
    assert (w2.grad, b2.grad) == pytest.approx((0.6, 1.0), rel=1e-14)
    assert (w1.grad, b1.grad) == pytest.approx((2.56 * math.log(2.0), 1.28), rel=1e-14)


def test_activations_registry_by_hand():
    x = [math.log(3.0)]
    expected = {"tanh": 0.8, "sigmoid": 0.75, "relu": math.log(3.0), "identity": math.log(3.0)}
    # tanh(ln 3) = (3 - 1/3)/(3 + 1/3) = 0.8; sigmoid(ln 3) = 1/(1 + 1/3) = 0.75
    assert sorted(ACTIVATIONS) == sorted(expected)
    for name, value in expected.items():
        n = Neuron(1, activation=name)
        set_weights(n, [1.0], 0.0)
        assert n(x).data == pytest.approx(value, rel=1e-15), name
    n = Neuron(1, activation="relu")
    set_weights(n, [-1.0], 0.0)
    assert n(x).data == 0.0


# --- initialisation, parameters, zero_grad ---------------------------------------------------------

def test_weights_are_uniform_draws_from_the_rng_in_build_order():
    model = MLP(2, [3, 1], rng=5)
    rng = np.random.default_rng(5)
    expected = [rng.uniform(-1, 1, 2) for _ in range(3)] + [rng.uniform(-1, 1, 3)]
    neurons = model.layers[0].neurons + model.layers[1].neurons
    for n, w in zip(neurons, expected):
        assert [p.data for p in n.w] == w.tolist()
        assert n.b.data == 0.0
    assert [p.data for p in MLP(2, [3, 1], rng=5).parameters()] == [p.data for p in model.parameters()]
    assert [p.data for p in MLP(2, [3, 1], rng=6).parameters()] != [p.data for p in model.parameters()]
    # A Generator is shared, not copied: two neurons built from it differ.
    g = np.random.default_rng(0)
    assert [p.data for p in Neuron(3, rng=g).w] != [p.data for p in Neuron(3, rng=g).w]


def test_parameters_order_and_labels():
    model = MLP(2, [3, 1])
    params = model.parameters()
    assert len(params) == 3 * (2 + 1) + (3 + 1)
    assert [p.label for p in params[:3]] == ["w1", "w2", "b"]            # neuron 0 of layer 0
    assert params[:3] == model.layers[0].neurons[0].parameters()
    assert params[-4:] == model.layers[1].neurons[0].parameters()        # the output neuron
    assert all(p.op == "" for p in params) and len(set(map(id, params))) == len(params)
    assert model.layers[0].parameters() == params[:9]


def test_zero_grad_and_accumulation():
    model = MLP(2, [4, 1], rng=1)
    for module in (model, model.layers[0], model.layers[0].neurons[0]):
        (y,) = model([0.5, -1.0])
        y.backward()
        assert any(p.grad != 0.0 for p in module.parameters())
        module.zero_grad()
        assert all(p.grad == 0.0 for p in module.parameters())
    model.zero_grad()
    (y,) = model([0.5, -1.0])
    y.backward()
    once = [p.grad for p in model.parameters()]
    (y,) = model([0.5, -1.0])
    y.backward()  # without zero_grad the leaves accumulate: exactly twice
    assert [p.grad for p in model.parameters()] == [2 * g for g in once]


def test_outputs_are_lists_and_the_last_layer_is_linear():
    model = MLP(2, [4, 1], activation="tanh", rng=0)
    out = model([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1 and out[0].op == "linear"
    assert [layer.activation for layer in model.layers] == ["tanh", "identity"]
    assert len(Layer(2, 1)([1.0, 2.0])) == 1 and len(MLP(2, [3])([1.0, 2.0])) == 3
    assert isinstance(Neuron(2)(np.array([1.0, 2.0])), Value)  # any sequence of numbers
    assert repr(model) == "MLP(2, [4, 1], activation='tanh')"


def test_inputs_are_shared_leaves_with_gradients():
    model = MLP(2, [3, 1], rng=2)
    (y,) = model([0.3, -0.7])
    order = y.topological_order()
    inputs = [v for v in order if v.label in ("x1", "x2")]
    assert [v.label for v in inputs] == ["x1", "x2"]  # one leaf per input, used by all 3 neurons
    first = model.layers[0].neurons
    # y = linear(v1..v3, h1..h3, b); h_j = tanh(linear(w_j1, w_j2, x1, x2, b_j)): the same x1, x2
    hidden = y.children[3:6]
    assert all(h.op == "tanh" and h.children[0].children[2:4] == tuple(inputs) for h in hidden)
    y.backward()
    # dy/dx1 = sum_j v_j (1 - h_j^2) w_j1, with v the output weights, h the hidden outputs
    (out,) = model.layers[1].neurons
    h = [math.tanh(sum(w.data * x for w, x in zip(n.w, [0.3, -0.7])) + n.b.data) for n in first]
    expected = sum(v.data * (1 - hj ** 2) * n.w[0].data for v, hj, n in zip(out.w, h, first))
    assert inputs[0].grad == pytest.approx(expected, rel=1e-13)


# --- training ---------------------------------------------------------------------------------------

def test_sgd_on_xor_decreases_the_loss():
    X = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    t = [-1.0, 1.0, 1.0, -1.0]                   # XOR with ±1 coding
    model = MLP(2, [8, 1], activation="tanh", rng=0)
    opt = SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        loss = sum((squared_error(model(x), [ti]) for x, ti in zip(X, t)), Value(0.0)) * 0.25
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.1 * losses[0]
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:]))  # small steps: never up
    preds = [model(x)[0].data for x in X]
    assert [math.copysign(1.0, p) for p in preds] == t


# --- finite differences (hypothesis) ------------------------------------------------------------------

@FAST
@given(seed=st.integers(0, 2 ** 16), activation=st.sampled_from(["tanh", "sigmoid"]),
       x=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3))
def test_mlp_gradient_matches_finite_differences(seed, activation, x):
    model = MLP(3, [4, 2], activation=activation, rng=seed)
    params = model.parameters()
    targets = [0.5, -0.25]
    loss = squared_error(model(x), targets)
    loss.backward()
    theta = np.array([p.data for p in params])

    def f(theta):
        for p, v in zip(params, theta):
            p.data = float(v)
        return squared_error(model(x), targets).data

    numeric = numerical_gradient(f, theta)
    assert vector_rel_error([p.grad for p in params], numeric) < 1e-7


# --- PyTorch parity -----------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_mlp_gradient_matches_pytorch(activation):
    torch = pytest.importorskip("torch")
    model = MLP(3, [5, 4, 2], activation=activation, rng=3)
    X = np.random.default_rng(4).normal(size=(6, 3))
    T = np.random.default_rng(5).normal(size=(6, 2))
    loss = sum((squared_error(model(list(x)), list(t)) for x, t in zip(X, T)), Value(0.0))
    loss.backward()

    Ws = [torch.tensor([[p.data for p in n.w] for n in layer.neurons], dtype=torch.float64,
                       requires_grad=True) for layer in model.layers]          # (nout, nin)
    bs = [torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
          for layer in model.layers]                                           # (nout,)
    f = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[activation]
    H = torch.tensor(X, dtype=torch.float64)
    for i, (W, b) in enumerate(zip(Ws, bs)):
        H = H @ W.T + b                                                       # (N, nout)
        if i < len(Ws) - 1:
            H = f(H)
    ref = ((H - torch.tensor(T)) ** 2).sum()
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), rel=1e-10)
    for layer, W, b in zip(model.layers, Ws, bs):
        for j, n in enumerate(layer.neurons):
            assert [p.grad for p in n.w] == pytest.approx(W.grad[j].tolist(), rel=1e-10, abs=1e-12)
            assert n.b.grad == pytest.approx(b.grad[j].item(), rel=1e-10, abs=1e-12)


# --- bad input ------------------------------------------------------------------------------------------

def test_bad_inputs_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match=r"^Neuron expected nin >= 1, got 0$"):
        Neuron(0)
    with pytest.raises(TypeError, match=r"^Neuron expected nin to be an integer, got 2.5$"):
        Neuron(2.5)
    with pytest.raises(TypeError, match=r"^Neuron expected nin to be an integer, got True$"):
        Neuron(True)
    with pytest.raises(ValueError, match=r"Neuron expected activation to be one of \['identity', 'relu', "
                                         r"'sigmoid', 'tanh'\], got 'softmax'"):
        Neuron(2, activation="softmax")
    with pytest.raises(TypeError, match=r"expected rng to be a numpy.random.Generator or a non-negative "
                                        r"integer seed, got None"):
        Neuron(2, rng=None)
    with pytest.raises(ValueError, match=r"^Neuron\(3\) expected x of length 3, got 2$"):
        Neuron(3)([1.0, 2.0])
    with pytest.raises(TypeError, match=r"^Neuron\(2\) expected x to be a list of numbers or Values, got 'ab'$"):
        Neuron(2)("ab")
    with pytest.raises(TypeError, match=r"^Neuron\(2\) expected x to be a list of numbers or Values, got 3.0$"):
        Neuron(2)(3.0)
    with pytest.raises(TypeError, match=r"^Neuron\(2\) expected x\[1\] to be a real number or a Value, got 'a'$"):
        Neuron(2)([1.0, "a"])
    with pytest.raises(ValueError, match=r"^Neuron\(2\) expected x\[0\] to be a number other than NaN, got nan$"):
        Neuron(2)([math.nan, 1.0])
    with pytest.raises(ValueError, match=r"^Layer\(2, 3\) expected x of length 2, got 1$"):
        Layer(2, 3)([1.0])
    with pytest.raises(ValueError, match=r"^Layer expected nout >= 1, got 0$"):
        Layer(2, 0)
    with pytest.raises(ValueError, match=r"^MLP\(2, \[16, 1\]\) expected x of length 2, got 3$"):
        MLP(2, [16, 1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^MLP expected nouts to hold at least one layer size, got an empty list$"):
        MLP(2, [])
    with pytest.raises(TypeError, match=r"^MLP expected nouts to be a list of layer sizes, got 3$"):
        MLP(2, 3)
    with pytest.raises(ValueError, match=r"^MLP expected nouts\[1\] >= 1, got 0$"):
        MLP(2, [3, 0])
    with pytest.raises(ValueError, match=r"^MLP expected nin >= 1, got -1$"):
        MLP(-1, [3])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "identity"])
def test_to_sequential_gives_the_same_outputs_and_gradients(activation):
    mlp = MLP(3, [4, 5, 2], activation, rng=7)
    biases = iter(np.random.default_rng(3).uniform(-0.5, 0.5, 11).tolist())
    for p in mlp.parameters():                    # non-zero biases, so a dropped bias would show
        if p.label == "b":
            p.data = next(biases)
    seq = mlp.to_sequential()
    X = np.random.default_rng(1).normal(size=(6, 3))
    C = np.random.default_rng(2).normal(size=(6, 2))   # L = sum(C * out): dL/dout = C
    out = seq.forward(X)
    seq.backward(C)
    loss = Value(0.0)
    for x, c in zip(X.tolist(), C.tolist()):
        y = mlp(x)
        loss = loss + y[0] * c[0] + y[1] * c[1]
    np.testing.assert_allclose(out, [[v.data for v in mlp(x)] for x in X.tolist()], rtol=1e-12, atol=1e-12)
    loss.backward()
    flat = np.concatenate([np.column_stack([layer.W.grad.T, layer.b.grad]).ravel()
                           for layer in seq.layers if hasattr(layer, "W")])
    np.testing.assert_allclose(flat, [p.grad for p in mlp.parameters()], rtol=1e-10, atol=1e-12)
    assert len([m for m in seq.layers if hasattr(m, "W")]) == 3
    assert len(seq.layers) == (3 if activation == "identity" else 5)
