"""Tests for bptutor.regularization: penalties, Dropout, EarlyStopping."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bptutor.gradcheck import numerical_gradient, rel_error
from bptutor.layers import Linear, Module, Parameter, Sequential
from bptutor.optim import SGD
from bptutor.regularization import L1, L2, Dropout, EarlyStopping, weights_only


class Scalar:
    """The duck type of engine.Value: float data and grad."""

    def __init__(self, data):
        self.data, self.grad = float(data), 0.0


class Affine(Module):
    """A minimal layer with a weight "W" and a bias "b" (independent of Linear)."""

    def __init__(self, W, b):
        super().__init__()
        self.W, self.b = Parameter(W, "W"), Parameter(b, "b")
        self._params = [("W", self.W), ("b", self.b)]

    def forward(self, X):
        self._X = X
        return X @ self.W.data + self.b.data

    def backward(self, dout):
        self.W.grad += self._X.T @ dout
        self.b.grad += dout.sum(axis=0)
        return dout @ self.W.data.T


class Net(Module):
    """Affine -> Dropout -> Affine, registered as sub-modules "0", "1", "2"."""

    def __init__(self):
        super().__init__()
        self.first = Affine([[1.0, -2.0], [3.0, 0.0]], [5.0, -5.0])
        self.drop = Dropout(0.5, rng=0)
        self.last = Affine([[0.5], [-0.5]], [7.0])
        self._modules = [("0", self.first), ("1", self.drop), ("2", self.last)]

    def forward(self, X):
        return self.last(self.drop(self.first(X)))

    def backward(self, dout):
        return self.first.backward(self.drop.backward(self.last.backward(dout)))


# --- penalties ------------------------------------------------------------------------
def test_l2_by_hand():
    W, v = Parameter([[1.0, -2.0], [3.0, 0.0]]), Parameter([0.5])
    reg = L2(0.1)
    # 0.1/2 (1 + 4 + 9 + 0) + 0.1/2 (0.25) = 0.7 + 0.0125
    assert reg.penalty([W, v]) == pytest.approx(0.7125, abs=1e-15)
    W.grad[...] = 1.0
    reg.add_grad([W, v])
    # grad += 0.1 θ, on top of what backward left there
    np.testing.assert_allclose(W.grad, [[1.1, 0.8], [1.3, 1.0]], atol=1e-15)
    np.testing.assert_allclose(v.grad, [0.05], atol=1e-15)


def test_l1_by_hand():
    W = Parameter([[1.0, -2.0], [3.0, 0.0]])
    reg = L1(0.1)
    # 0.1 (1 + 2 + 3 + 0) = 0.6
    assert reg.penalty([W]) == pytest.approx(0.6, abs=1e-15)
    reg.add_grad([W])
    # 0.1 sign(θ), with sign(0) = 0
    np.testing.assert_array_equal(W.grad, [[0.1, -0.1], [0.1, 0.0]])


def test_module_penalises_weights_only():
    net = Net()
    assert weights_only(net) == [net.first.W, net.last.W]
    assert weights_only(net.named_parameters()) == [net.first.W, net.last.W]
    # L2 weights: 0.5 (1 + 4 + 9 + 0 + 0.25 + 0.25) = 7.25; biases (25 + 25 + 49) left out
    assert L2(1.0).penalty(net) == pytest.approx(7.25)
    # L1 weights: 1 + 2 + 3 + 0 + 0.5 + 0.5 = 7
    assert L1(1.0).penalty(net) == pytest.approx(7.0)
    L2(1.0).add_grad(net)
    assert not net.first.b.grad.any() and not net.last.b.grad.any()
    np.testing.assert_array_equal(net.first.W.grad, net.first.W.data)
    # an explicit list is used as given, biases included
    assert L2(1.0).penalty(net.parameters()) == pytest.approx(7.25 + 0.5 * 99)


def test_weights_only_matches_last_name_component():
    p, q, r = Parameter([1.0]), Parameter([2.0]), Parameter([3.0])
    assert weights_only([("W", p), ("layer.bW", q), ("3.W", r)]) == [p, r]


def test_weights_only_on_a_sequential():
    model = Sequential(Linear(2, 3), Dropout(0.5), Linear(3, 1))
    assert weights_only(model) == [model[0].W, model[2].W]


def test_penalties_on_scalar_values():
    xs = [Scalar(2.0), Scalar(-3.0)]
    assert L2(0.5).penalty(xs) == pytest.approx(0.25 * (4 + 9))
    assert L1(0.5).penalty(xs) == pytest.approx(0.5 * 5)
    L1(0.5).add_grad(xs)
    L2(0.5).add_grad(xs)
    # 0.5 sign + 0.5 θ: [0.5 + 1, -0.5 - 1.5]
    assert [x.grad for x in xs] == [1.5, -2.0]


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4),
                  elements=st.floats(0.01, 5.0) | st.floats(-5.0, -0.01)),  # away from L1's kink
       st.floats(0.01, 3.0), st.sampled_from([L1, L2]))
def test_penalty_gradient_matches_finite_differences(theta, lam, cls):
    p = Parameter(theta)
    reg = cls(lam)
    reg.add_grad([p])
    numeric = numerical_gradient(lambda _: reg.penalty([p]), p.data)
    assert rel_error(p.grad, numeric) < 1e-7


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10)), st.floats(0, 3.0))
def test_penalty_properties(theta, lam):
    p = Parameter(theta)
    # L2 is half the squared norm, L1 the absolute sum; both scale linearly in lambda
    assert L2(lam).penalty([p]) == pytest.approx(lam / 2 * np.dot(theta, theta), rel=1e-12, abs=1e-300)
    assert L1(lam).penalty([p]) == pytest.approx(lam * np.abs(theta).sum(), rel=1e-12, abs=1e-300)
    assert L2(2 * lam).penalty([p]) == pytest.approx(2 * L2(lam).penalty([p]), rel=1e-12, abs=1e-300)


def test_torch_parity_l2_is_sgd_weight_decay():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 4))
    ours, theirs = Parameter(start), torch.tensor(start, requires_grad=True)
    opt = SGD([ours], lr=0.1)
    topt = torch.optim.SGD([theirs], lr=0.1, weight_decay=0.3)
    reg = L2(0.3)
    for _ in range(5):
        opt.zero_grad()
        ours.grad[...] = np.sin(ours.data)
        reg.add_grad([ours])
        theirs.grad = torch.sin(theirs.detach())
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=0, atol=1e-10)


def test_torch_parity_l1_gradient():
    torch = pytest.importorskip("torch")
    theta = np.array([[1.5, -0.2, 0.0], [-3.0, 0.7, 2.0]])
    t = torch.tensor(theta, requires_grad=True)
    loss = 0.4 * t.abs().sum()
    loss.backward()
    p = Parameter(theta)
    L1(0.4).add_grad([p])
    np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=0, atol=1e-15)
    assert L1(0.4).penalty([p]) == pytest.approx(loss.item(), abs=1e-12)


# --- dropout -----------------------------------------------------------------------------
def test_dropout_by_hand():
    drop = Dropout(p=0.5, rng=0)
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    keep = np.random.default_rng(0).random((1, 4)) >= 0.5        # the mask the layer draws
    out = drop(X)
    # kept units doubled (1/(1 - 0.5) = 2), dropped units 0
    np.testing.assert_array_equal(out, np.where(keep, 2 * X, 0.0))
    np.testing.assert_array_equal(drop.backward(np.ones((1, 4))), np.where(keep, 2.0, 0.0))


def test_dropout_statistics_preserve_the_mean():
    drop = Dropout(p=0.3, rng=1)
    X = np.ones((1000, 200))
    out = drop(X)
    # each entry is 0 (prob 0.3) or 1/0.7; mean 1, std of the mean sqrt(0.3/0.7)/sqrt(2e5) = 0.0015
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert np.mean(out == 0) == pytest.approx(0.3, abs=0.01)
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-15)
    # a new mask on every training forward pass
    assert not np.array_equal(drop(X), out)


def test_dropout_eval_is_identity_and_follows_parent_mode():
    net = Net()
    X = np.arange(6.0).reshape(2, 3)
    net.eval()
    assert net.drop.training is False
    np.testing.assert_array_equal(net.drop(X), X)
    dout = np.full((2, 3), 3.0)
    np.testing.assert_array_equal(net.drop.backward(dout), dout)
    assert net.drop.mask is None
    net.train()
    assert np.any(net.drop(X) != X)


def test_dropout_backward_uses_the_forward_mask():
    drop = Dropout(p=0.4, rng=3)
    X = np.random.default_rng(0).normal(size=(8, 5))
    out = drop(X)
    dout = np.random.default_rng(1).normal(size=(8, 5))
    dX = drop.backward(dout)
    np.testing.assert_array_equal(dX == 0, out == 0)
    np.testing.assert_allclose(dX, dout * drop.mask, rtol=0, atol=0)
    np.testing.assert_allclose(dX[out != 0], dout[out != 0] / 0.6, rtol=1e-15)


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=st.floats(-5, 5)),
       st.floats(0.0, 0.9), st.integers(0, 1000))
def test_dropout_finite_differences_with_fixed_mask(X, p, seed):
    weights = np.random.default_rng(seed).normal(size=X.shape)
    # a fresh layer with the same seed draws the same mask, so f is a fixed linear function of X
    f = lambda X: float(np.sum(weights * Dropout(p, rng=seed).forward(X)))
    drop = Dropout(p, rng=seed)
    drop.forward(X)
    dX = drop.backward(weights)
    numeric = numerical_gradient(f, X)
    assert rel_error(dX, numeric) < 1e-7 or np.allclose(dX, numeric, atol=1e-9)
    # every output is either dropped or scaled by exactly 1/(1-p)
    out = Dropout(p, rng=seed).forward(X)
    assert np.all((out == 0) | np.isclose(out, X / (1 - p), rtol=1e-15, atol=0))


def test_dropout_p0_keeps_everything_and_float32_stays_float32():
    X = np.ones((3, 4), dtype=np.float32)
    out = Dropout(0.0)(X)
    np.testing.assert_array_equal(out, X)
    assert Dropout(0.5)(X).dtype == np.float32


@pytest.mark.parametrize("make, error, match", [
    (lambda: Dropout(1.0), ValueError, r"^Dropout expected p < 1.0, got 1.0$"),
    (lambda: Dropout(-0.1), ValueError, r"^Dropout expected p >= 0.0, got -0.1$"),
    (lambda: Dropout("0.5"), TypeError, r"^Dropout expected p to be a real number, got '0.5'$"),
    (lambda: Dropout(0.5, rng=None), TypeError, r"expected rng to be a numpy.random.Generator"),
    (lambda: Dropout(0.5).backward(np.ones(3)), RuntimeError,
     r"^Dropout.backward was called before Dropout.forward"),
    (lambda: L2(-1.0), ValueError, r"^L2 expected lam >= 0.0, got -1.0$"),
    (lambda: L1("a"), TypeError, r"^L1 expected lam to be a real number, got 'a'$"),
    (lambda: L2(0.1).penalty(Parameter([1.0])), TypeError,
     r"^L2.penalty expected params to be a Module or a list of Parameter or Value, got Parameter"),
    (lambda: L1(0.1).add_grad([np.ones(2)]), TypeError, r"^L1.add_grad expected params .* got ndarray at params\[0\]$"),
    (lambda: weights_only([Parameter([1.0])]), TypeError,
     r"^weights_only expected named_params to be a Module or a list of \(name, Parameter\) pairs"),
])
def test_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_dropout_backward_shape_mismatch():
    drop = Dropout(0.5)
    drop(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^Dropout\(p=0.5\) expected dout of shape \(2, 3\), got \(3, 2\)$"):
        drop.backward(np.ones((3, 2)))


# --- early stopping ---------------------------------------------------------------------------
def run_epochs(stopper, model, losses, key="val_loss"):
    """A fit-like loop: at epoch e the weights are set to e, then the callback sees the loss."""
    for epoch, loss in enumerate(losses):
        model.first.W.data[...] = epoch
        if stopper.on_epoch_end(model, epoch, {"train_loss": 99.0, key: loss}):
            return epoch
    return None


LOSSES = [1.0, 0.8, 0.7, 0.72, 0.69, 0.71, 0.70, 0.75, 0.6]


def test_early_stopping_stops_and_restores():
    net, stopper = Net(), EarlyStopping(patience=3)
    # best 0.69 at epoch 4; epochs 5, 6, 7 do not beat it -> stop after epoch 7
    assert run_epochs(stopper, net, LOSSES) == 7
    assert (stopper.best_epoch, stopper.best_loss, stopper.stopped_epoch) == (4, 0.69, 7)
    np.testing.assert_array_equal(net.first.W.data, 4.0)         # epoch 4's weights are back
    np.testing.assert_array_equal(net.last.W.data, [[0.5], [-0.5]])
    assert stopper.stop_reason == ("early stopping: val_loss did not improve for 3 epochs after "
                                   "epoch 4 (best 0.69); restored the weights of epoch 4")


def test_early_stopping_min_delta():
    net, stopper = Net(), EarlyStopping(patience=3, min_delta=0.02)
    # improvement needs loss < best - 0.02: 1.0 (e0), 0.8 (e1), 0.7 (e2); 0.72, 0.69 (> 0.68), 0.71 do not
    assert run_epochs(stopper, net, LOSSES) == 5
    assert stopper.best_epoch == 2
    np.testing.assert_array_equal(net.first.W.data, 2.0)


def test_early_stopping_without_restore_and_train_loss_fallback():
    net, stopper = Net(), EarlyStopping(patience=2, restore_best=False)
    # no val_loss key (None) -> watches train_loss: best 0.7 at epoch 2, stops after epoch 4
    logs = [{"train_loss": v, "val_loss": None} for v in [1.0, 0.8, 0.7, 0.75, 0.71, 0.1]]
    stops = [stopper.on_epoch_end(net, e, log) for e, log in enumerate(logs[:5])]
    assert stops == [False, False, False, False, True]
    assert stopper.best_state is None and stopper.best_epoch == 2
    assert "train_loss" in stopper.stop_reason and "restored" not in stopper.stop_reason


def test_early_stopping_patience_not_reached_and_reuse():
    net, stopper = Net(), EarlyStopping(patience=5)
    assert run_epochs(stopper, net, LOSSES) is None       # at most 3 bad epochs in a row
    assert stopper.best_epoch == 8 and stopper.wait == 0
    # epoch 0 starts a new run: the old best (0.6) is forgotten
    assert run_epochs(stopper, net, [2.0, 1.9]) is None
    assert (stopper.best_epoch, stopper.best_loss) == (1, 1.9)
    np.testing.assert_array_equal(stopper.best_state["0.W"], 1.0)


@pytest.mark.parametrize("make, error, match", [
    (lambda: EarlyStopping(patience=0), ValueError, r"^EarlyStopping expected patience >= 1, got 0$"),
    (lambda: EarlyStopping(min_delta=-0.1), ValueError, r"^EarlyStopping expected min_delta >= 0.0, got -0.1$"),
    (lambda: EarlyStopping(restore_best="yes"), TypeError,
     r"^EarlyStopping expected restore_best to be True or False, got 'yes'$"),
    (lambda: EarlyStopping().on_epoch_end(Net(), 0, {"val_acc": 0.9}), KeyError,
     r"EarlyStopping expected logs to contain 'val_loss' or 'train_loss', got keys \['val_acc'\]"),
    (lambda: EarlyStopping().on_epoch_end(Net(), 0, 0.5), TypeError,
     r"^EarlyStopping expected logs to be a dict, got 0.5$"),
    (lambda: EarlyStopping().on_epoch_end(Net(), -1, {"val_loss": 0.5}), ValueError,
     r"^EarlyStopping expected epoch >= 0, got -1$"),
])
def test_early_stopping_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


# --- bias and variance -----------------------------------------------------------------------------------------
def test_bias_variance_by_hand():
    from bptutor.regularization import bias_variance
    # two draws, two points; f = [0, 1]. ybar = [1, 2]: bias^2 = mean([1, 1]) = 1;
    # deviations [[-1, 0.5], [1, -0.5]]: variance = mean([1, 0.25, 1, 0.25]) = 0.625
    bias2, var = bias_variance([[0.0, 2.5], [2.0, 1.5]], [0.0, 1.0])
    assert (bias2, var) == (1.0, 0.625)


def test_bias_variance_adds_up_to_the_mean_squared_error():
    from bptutor.regularization import bias_variance
    rng = np.random.default_rng(4)
    f = rng.normal(size=9)
    preds = f + 0.3 + rng.normal(size=(50, 9))
    bias2, var = bias_variance(preds, f)
    assert np.isclose(bias2 + var, np.mean((preds - f) ** 2), rtol=1e-12)
    assert 0.02 < bias2 < 0.3 and 0.7 < var < 1.3        # bias 0.3 (plus sampling), variance 1


@pytest.mark.parametrize("preds, f, error, match", [
    (np.zeros(3), np.zeros(3), ValueError, r"^bias_variance expected preds"),
    (np.zeros((4, 3)), np.zeros(4), ValueError, r"^bias_variance expected f of shape \(3,\) .*got \(4,\)$"),
    ("x", np.zeros(3), TypeError, r"^bias_variance expected preds to be an array of numbers"),
])
def test_bias_variance_bad_input(preds, f, error, match):
    from bptutor.regularization import bias_variance
    with pytest.raises(error, match=match):
        bias_variance(preds, f)
