"""Tests for bptutor.normalization: BatchNorm1d, LayerNorm and Residual.

Small cases worked by hand, finite differences in float64 over drawn shapes, the
compact batch-norm backward against a node-by-node one, PyTorch parity, and bad
input refused with the state left as it was.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.activations import ReLU, Tanh
from bptutor.gradcheck import numerical_gradient
from bptutor.layers import Linear, Sequential
from bptutor.normalization import BatchNorm1d, LayerNorm, Residual
from bptutor.optim import SGD
from bptutor.training import fit, predict


# --- by hand ---------------------------------------------------------------------------------------------------

def test_batchnorm_forward_by_hand():
    # column 0: 1, 2, 3 -> mean 2, biased variance (1 + 0 + 1)/3 = 2/3, unbiased 1
    # column 1: 4, 4, 10 -> mean 6, biased variance (4 + 4 + 16)/3 = 8, unbiased 12
    X = np.array([[1.0, 4.0], [2.0, 4.0], [3.0, 10.0]])
    bn = BatchNorm1d(2, eps=1e-5)
    bn.gamma.data[...] = [2.0, 1.0]
    bn.beta.data[...] = [0.5, -1.0]
    out = bn.forward(X)
    s0, s1 = np.sqrt(2 / 3 + 1e-5), np.sqrt(8 + 1e-5)
    expected = np.array([[2 * -1 / s0 + 0.5, -2 / s1 - 1], [0.5, -2 / s1 - 1], [2 * 1 / s0 + 0.5, 4 / s1 - 1]])
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    # running: 0.9 * 0 + 0.1 * mean; 0.9 * 1 + 0.1 * unbiased variance
    np.testing.assert_allclose(bn.running_mean, [0.2, 0.6], rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, [0.9 + 0.1 * 1.0, 0.9 + 0.1 * 12.0], rtol=1e-14)
    assert bn.num_batches_tracked == 1


def test_batchnorm_eval_uses_running_statistics_and_changes_nothing():
    bn = BatchNorm1d(2, eps=0.0 + 1e-5)
    bn.running_mean[...] = [1.0, -2.0]
    bn.running_var[...] = [4.0, 0.25]
    bn.eval()
    X = np.array([[3.0, -2.0]])   # N = 1 is fine in eval mode
    out = bn.forward(X)
    np.testing.assert_allclose(out, [[2.0 / np.sqrt(4 + 1e-5), 0.0]], rtol=1e-14)
    dX = bn.backward(np.array([[1.0, 1.0]]))
    np.testing.assert_allclose(dX, [[1 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]], rtol=1e-14)
    assert bn.running_mean.tolist() == [1.0, -2.0] and bn.num_batches_tracked == 0


def test_batchnorm_backward_by_hand_on_two_examples():
    # N = 2, one feature, x = (0, 2): mu = 1, var = 1, x_hat = (-1, 1) (eps tiny). With dout = (1, 0):
    # dbeta = 1, dgamma = -1, dX = (1/(2s)) (2 dout - sum dout - x_hat sum(dout x_hat))
    #                            = (0.5 (2 - 1 - 1), 0.5 (0 - 1 + 1)) = 0
    bn = BatchNorm1d(1, eps=1e-12)
    bn.forward(np.array([[0.0], [2.0]]))
    dX = bn.backward(np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(dX, 0.0, atol=1e-10)   # with two points, x_hat = +-1 whatever x is
    assert bn.beta.grad.tolist() == [1.0]
    np.testing.assert_allclose(bn.gamma.grad, [-1.0], rtol=1e-10)


def test_layernorm_forward_by_hand():
    X = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])   # row means 2 and 2; variances 2/3 and 8
    ln = LayerNorm(3)
    out = ln.forward(X)
    s0, s1 = np.sqrt(2 / 3 + 1e-5), np.sqrt(8 + 1e-5)
    np.testing.assert_allclose(out, [[-1 / s0, 0, 1 / s0], [-2 / s1, -2 / s1, 4 / s1]], rtol=1e-14)
    ln.eval()
    np.testing.assert_array_equal(ln.forward(X), out)      # no running statistics: the same in eval mode


def test_residual_forward_and_gradient_is_identity_plus_branch():
    rng = np.random.default_rng(0)
    branch = Sequential(Linear(4, 6, rng=1), Tanh(), Linear(6, 4, rng=2))
    res = Residual(branch)
    X, dout = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    np.testing.assert_allclose(res.forward(X), X + branch.forward(X), rtol=1e-15)
    res.zero_grad()
    dX = res.backward(dout)
    grads = [p.grad.copy() for p in res.parameters()]
    branch.zero_grad()
    branch.forward(X)
    np.testing.assert_allclose(dX, dout + branch.backward(dout), rtol=1e-14)
    for g, p in zip(grads, branch.parameters()):
        np.testing.assert_array_equal(g, p.grad)
    assert [n for n, _ in Sequential(Linear(4, 4), res).named_parameters()][2:] == \
        ["1.module.0.W", "1.module.0.b", "1.module.2.W", "1.module.2.b"]


def test_residual_with_a_zero_branch_passes_the_gradient_unchanged():
    res = Residual(Linear(3, 3, init="zeros"))
    dout = np.arange(6.0).reshape(2, 3)
    res.forward(np.ones((2, 3)))
    np.testing.assert_array_equal(res.backward(dout), dout)


# --- finite differences ---------------------------------------------------------------------------------------

def _fd_check(layer, X, dout, h=1e-6):
    layer.zero_grad()
    layer.forward(X)
    dX = layer.backward(dout)
    loss = lambda: float(np.sum(dout * layer.forward(X)))   # noqa: E731
    # relative error, or an absolute one where the gradient is ~0 (N = 2: x_hat is +-1 whatever X is)
    np.testing.assert_allclose(dX, numerical_gradient(lambda _: loss(), X, h), rtol=1e-6, atol=1e-8)
    for p in layer.parameters():
        np.testing.assert_allclose(p.grad, numerical_gradient(lambda _: loss(), p.data, h), rtol=1e-6, atol=1e-8)


shapes = st.tuples(st.integers(2, 7), st.integers(1, 5), st.integers(0, 10_000))


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_batchnorm_gradients_match_finite_differences(shape):
    N, D, seed = shape
    g = np.random.default_rng(seed)
    bn = BatchNorm1d(D, momentum=0.0)    # momentum 0: the repeated forward passes leave the statistics alone
    bn.gamma.data[...] = g.normal(size=D)
    bn.beta.data[...] = g.normal(size=D)
    _fd_check(bn, g.normal(size=(N, D)) * g.uniform(0.5, 3, size=D), g.normal(size=(N, D)))


@settings(max_examples=15, deadline=None)
@given(shapes)
def test_batchnorm_eval_gradients_match_finite_differences(shape):
    N, D, seed = shape
    g = np.random.default_rng(seed)
    bn = BatchNorm1d(D)
    bn.running_mean[...] = g.normal(size=D)
    bn.running_var[...] = g.uniform(0.1, 3, size=D)
    bn.gamma.data[...] = g.normal(size=D)
    bn.eval()
    _fd_check(bn, g.normal(size=(N, D)), g.normal(size=(N, D)))


@settings(max_examples=25, deadline=None)
@given(st.tuples(st.integers(1, 6), st.integers(2, 7), st.integers(0, 10_000)))
def test_layernorm_gradients_match_finite_differences(shape):
    N, D, seed = shape
    g = np.random.default_rng(seed)
    ln = LayerNorm(D)
    ln.gamma.data[...] = g.normal(size=D)
    ln.beta.data[...] = g.normal(size=D)
    _fd_check(ln, g.normal(size=(N, D)) * 2, g.normal(size=(N, D)))


@settings(max_examples=15, deadline=None)
@given(shapes)
def test_residual_block_with_batchnorm_matches_finite_differences(shape):
    N, D, seed = shape
    g = np.random.default_rng(seed)
    block = Residual(Sequential(Linear(D, D, rng=seed), BatchNorm1d(D, momentum=0.0), Tanh(),
                                Linear(D, D, rng=seed + 1)))
    _fd_check(block, g.normal(size=(N, D)), g.normal(size=(N, D)))


# --- the compact formula against the graph, node by node ----------------------------------------------------------

def naive_batchnorm_backward(dout, X, gamma, eps):
    """Backward through the staged graph mu -> xc -> var -> s -> inv -> x_hat -> y, one node at a time."""
    N = X.shape[0]
    mu = X.mean(axis=0)
    xc = X - mu
    var = (xc ** 2).mean(axis=0)
    s = np.sqrt(var + eps)
    inv = 1.0 / s
    x_hat = xc * inv
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    dinv = (dx_hat * xc).sum(axis=0)
    dxc = dx_hat * inv
    ds = -dinv / s ** 2
    dvar = ds * 0.5 / s
    dxc += 2.0 * xc / N * dvar
    dmu = -dxc.sum(axis=0)
    dX = dxc + dmu / N
    return dX, dgamma, dbeta


@settings(max_examples=25, deadline=None)
@given(shapes)
def test_compact_backward_equals_the_node_by_node_backward(shape):
    N, D, seed = shape
    g = np.random.default_rng(seed)
    X, dout, gamma = g.normal(size=(N, D)) * 3 + 1, g.normal(size=(N, D)), g.normal(size=D)
    bn = BatchNorm1d(D)
    bn.gamma.data[...] = gamma
    bn.forward(X)
    dX = bn.backward(dout)
    naive = naive_batchnorm_backward(dout, X, gamma, 1e-5)
    np.testing.assert_allclose(dX, naive[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bn.gamma.grad, naive[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bn.beta.grad, naive[2], rtol=1e-14)


def test_batchnorm_dx_sums_to_zero_and_is_orthogonal_to_x_hat():
    # the mu path removes the mean of dX, the sigma path its component along x_hat
    # (exactly so as eps -> 0: sum x_hat^2 = N var / (var + eps))
    g = np.random.default_rng(3)
    bn = BatchNorm1d(4, eps=1e-12)
    X_hat = (bn.forward(g.normal(size=(9, 4))) - bn.beta.data) / bn.gamma.data
    dX = bn.backward(g.normal(size=(9, 4)))
    np.testing.assert_allclose(dX.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose((dX * X_hat).sum(axis=0), 0.0, atol=1e-9)


def test_gradients_accumulate_with_plus_equals():
    g = np.random.default_rng(4)
    for layer in (BatchNorm1d(3, momentum=0.0), LayerNorm(3)):
        X, dout = g.normal(size=(4, 3)), g.normal(size=(4, 3))
        layer.forward(X)
        layer.backward(dout)
        once = [p.grad.copy() for p in layer.parameters()]
        layer.backward(dout)
        for p, g1 in zip(layer.parameters(), once):
            np.testing.assert_allclose(p.grad, 2 * g1, rtol=1e-15)


# --- PyTorch parity ------------------------------------------------------------------------------------------------

def _torch_pair(torch, D, momentum, eps, seed):
    g = np.random.default_rng(seed)
    ours = BatchNorm1d(D, momentum=momentum, eps=eps)
    theirs = torch.nn.BatchNorm1d(D, momentum=momentum, eps=eps).double()
    gamma, beta = g.normal(size=D), g.normal(size=D)
    ours.gamma.data[...], ours.beta.data[...] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    return ours, theirs, g


@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3), (1.0, 1e-5), (0.0, 1e-2)])
def test_batchnorm_matches_pytorch_in_train_and_eval_over_several_steps(momentum, eps):
    torch = pytest.importorskip("torch")
    D = 5
    ours, theirs, g = _torch_pair(torch, D, momentum, eps, seed=int(momentum * 10))
    for step, N in enumerate([8, 3, 2, 16, 5]):
        X = g.normal(size=(N, D)) * g.uniform(0.2, 4, size=D) + g.normal(size=D)
        dout = g.normal(size=(N, D))
        ours.zero_grad()
        out = ours.forward(X)
        dX = ours.backward(dout)
        Xt = torch.tensor(X, requires_grad=True)
        theirs.zero_grad()
        outt = theirs(Xt)
        outt.backward(torch.tensor(dout))
        np.testing.assert_allclose(out, outt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.beta.grad, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-10)
        assert ours.num_batches_tracked == int(theirs.num_batches_tracked) == step + 1
    ours.eval()
    theirs.eval()
    X, dout = g.normal(size=(4, D)), g.normal(size=(4, D))
    ours.zero_grad()
    out = ours.forward(X)
    dX = ours.backward(dout)
    Xt = torch.tensor(X, requires_grad=True)
    theirs.zero_grad()
    outt = theirs(Xt)
    outt.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, outt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-10)


def test_layernorm_matches_pytorch():
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(7)
    for N, D, eps in [(6, 4, 1e-5), (1, 7, 1e-3), (3, 1, 1e-5)]:
        ours = LayerNorm(D, eps=eps)
        theirs = torch.nn.LayerNorm(D, eps=eps).double()
        gamma, beta = g.normal(size=D), g.normal(size=D)
        ours.gamma.data[...], ours.beta.data[...] = gamma, beta
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(gamma))
            theirs.bias.copy_(torch.tensor(beta))
        X, dout = g.normal(size=(N, D)) * 3, g.normal(size=(N, D))
        out = ours.forward(X)
        dX = ours.backward(dout)
        Xt = torch.tensor(X, requires_grad=True)
        outt = theirs(Xt)
        outt.backward(torch.tensor(dout))
        np.testing.assert_allclose(out, outt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.beta.grad, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_pytorch_refuses_a_batch_of_one_in_training_as_we_do():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        torch.nn.BatchNorm1d(3).double()(torch.zeros(1, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="more than 1 example per feature in training mode"):
        BatchNorm1d(3).forward(np.zeros((1, 3)))


# --- in networks -----------------------------------------------------------------------------------------------------

def test_fit_trains_a_batchnorm_residual_network_and_predict_uses_eval_mode():
    g = np.random.default_rng(0)
    X = g.normal(size=(64, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    model = Sequential(Linear(3, 8, rng=1), BatchNorm1d(8), ReLU(),
                       Residual(Sequential(Linear(8, 8, rng=2), LayerNorm(8), ReLU())), Linear(8, 2, rng=3))
    hist = fit(model, "cross_entropy", SGD(model.parameters(), lr=0.1), X, y, epochs=40, batch_size=16,
               progress=False)
    assert hist.train_loss[-1] < 0.6 * hist.train_loss[0]
    assert model.training and model[1].num_batches_tracked == 40 * 4
    out = predict(model, X[:1])    # a single example: fine in eval mode, and eval used the running statistics
    bn = model[1]
    expected = bn.gamma.data * (model[0].forward(X[:1]) - bn.running_mean) / np.sqrt(bn.running_var + bn.eps) \
        + bn.beta.data
    model.eval()
    np.testing.assert_allclose(model[1].forward(model[0].forward(X[:1])), expected, rtol=1e-12)
    np.testing.assert_allclose(out, model.forward(X[:1]), rtol=1e-12)
    assert "1" in hist.grad_norms and "3.module.0" in hist.grad_norms and "3.module.1" in hist.grad_norms


def test_train_and_eval_reach_the_layers_inside_a_residual():
    bn = BatchNorm1d(2)
    model = Sequential(Residual(Sequential(Linear(2, 2), bn)))
    model.eval()
    assert not bn.training
    model.train()
    assert bn.training


def test_float32_layers_compute_in_float32():
    X = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    for layer in (BatchNorm1d(3, dtype=np.float32), LayerNorm(3, dtype=np.float32)):
        out = layer.forward(X)
        assert out.dtype == np.float32 and layer.backward(np.ones_like(out)).dtype == np.float32


def test_extreme_values_stay_finite():
    X = np.array([[1e200, -3e250], [-2e200, 1e-300], [5e199, 4e250]])
    for layer in (BatchNorm1d(2), LayerNorm(2)):
        out = layer.forward(X)
        dX = layer.backward(np.ones_like(out))
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(dX))
    bn = BatchNorm1d(2)
    out = bn.forward(X)
    # each column normalised: mean 0, and its variance 1 (eps is negligible next to 1e400)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.1 * X.mean(axis=0), rtol=1e-12)


# --- bad input ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, words", [
    ({"num_features": 0}, ValueError, "num_features >= 1"),
    ({"num_features": 2.5}, TypeError, "num_features to be an integer"),
    ({"num_features": 3, "momentum": 1.5}, ValueError, "momentum <= 1.0"),
    ({"num_features": 3, "momentum": -0.1}, ValueError, "momentum >= 0.0"),
    ({"num_features": 3, "momentum": None}, TypeError, "cumulative average"),
    ({"num_features": 3, "momentum": "0.1"}, TypeError, "momentum to be a real number"),
    ({"num_features": 3, "eps": 0.0}, ValueError, "eps > 0.0"),
    ({"num_features": 3, "eps": float("nan")}, ValueError, "eps to be finite"),
    ({"num_features": 3, "dtype": np.int32}, TypeError, "float32 or float64"),
])
def test_batchnorm_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        BatchNorm1d(**kwargs)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"num_features": -1}, ValueError, "num_features >= 1"), ({"num_features": 3, "eps": -1e-5}, ValueError, "eps > 0"),
])
def test_layernorm_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        LayerNorm(**kwargs)


def _state(bn):
    return bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked, bn._cache


@pytest.mark.parametrize("X, words", [
    (np.zeros((1, 3)), r"more than 1 example per feature in training mode, got X of shape \(1, 3\)"),
    (np.zeros((5, 2)), r"BatchNorm1d\(3\) expected X of shape \(N, 3\), got \(5, 2\)"),
    (np.zeros(3), r"expected X of shape \(N, 3\), got \(3,\)"),
    (np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 2.0]]), "1 NaN or infinite entries"),
    ("abc", "array of numbers"),
])
def test_a_refused_batch_leaves_the_running_statistics_untouched(X, words):
    bn = BatchNorm1d(3)
    bn.forward(np.arange(12.0).reshape(4, 3))
    before = _state(bn)
    with pytest.raises((ValueError, TypeError), match=words):
        bn.forward(X)
    after = _state(bn)
    for a, b in zip(before[:2], after[:2]):
        np.testing.assert_array_equal(a, b)
    assert before[2] == after[2] and before[3] is after[3]


def test_backward_before_forward_and_wrong_dout_are_refused():
    for layer in (BatchNorm1d(3), LayerNorm(3), Residual(Linear(3, 3))):
        with pytest.raises(RuntimeError, match="before"):
            layer.backward(np.zeros((2, 3)))
        layer.forward(np.ones((2, 3)) + np.eye(2, 3))
        with pytest.raises(ValueError, match=r"expected dout of shape \(2, 3\), got \(3, 2\)"):
            layer.backward(np.zeros((3, 2)))


def test_residual_refuses_a_branch_that_changes_the_shape():
    with pytest.raises(TypeError, match="Residual expected module to be a bptutor Module"):
        Residual(lambda X: X)
    with pytest.raises(ValueError, match="mapping 3 features to 4"):
        Residual(Sequential(Linear(3, 4), ReLU()))

    class Halve(Tanh):
        def forward(self, X):
            return super().forward(X)[:, :1]
    res = Residual(Halve())
    with pytest.raises(ValueError, match=r"expected module to return the shape of X, \(2, 3\), got \(2, 1\)"):
        res.forward(np.zeros((2, 3)))
    assert res._cache is None


def test_reprs():
    assert repr(BatchNorm1d(4)) == "BatchNorm1d(4)"
    assert repr(BatchNorm1d(4, momentum=0.2, eps=1e-3)) == "BatchNorm1d(4, momentum=0.2, eps=0.001)"
    assert repr(LayerNorm(2)) == "LayerNorm(2)"
    assert repr(Residual(Linear(2, 2))) == "Residual(Linear(2, 2))"
