"""Tests for bptutor.losses: each loss returns (loss, dout)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bptutor.activations import logsumexp, sigmoid
from bptutor.gradcheck import grad_check
from bptutor.losses import (LOSSES, bce_loss, bce_with_logits_loss, cross_entropy_loss, get_loss,
                            mse_loss)

FAST = settings(max_examples=30, deadline=None)
TIGHT = dict(rtol=1e-10, atol=1e-12)
H_STEP = 2.0 ** -17  # a power of two: p ± h is exact on the dyadic grid below
sizes = st.integers(1, 5)


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_subnormal=False)


def dyadic(shape):
    return arrays(np.float64, shape, elements=st.integers(-16, 16).map(lambda k: k / 8))


def binary(shape):
    return arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0]))


@st.composite
def logits_and_labels(draw, low=-3.0, high=3.0):
    N, C = draw(sizes), draw(st.integers(2, 5))
    Z = draw(arrays(np.float64, (N, C), elements=floats(low, high)))
    labels = np.array(draw(st.lists(st.integers(0, C - 1), min_size=N, max_size=N)))
    return Z, labels


def one_hot(labels, C):
    return np.eye(C)[labels]


# --- hand-worked examples ---------------------------------------------------------------------------

def test_mse_by_hand_for_each_reduction():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = np.array([[0.0, 2.0], [3.0, 6.0]])
    # d = pred - target = [1, 0, 0, -2]; sum d^2 = 1 + 4 = 5 over M = 4 entries
    loss, dout = mse_loss(pred, target)
    assert loss == 1.25                                        # 5 / 4
    assert np.array_equal(dout, [[0.5, 0.0], [0.0, -1.0]])     # 2 d / 4
    loss, dout = mse_loss(pred, target, reduction="sum")
    assert loss == 5.0 and np.array_equal(dout, [[2.0, 0.0], [0.0, -4.0]])   # 2 d
    loss, dout = mse_loss(pred, target, reduction="half_sum")
    assert loss == 2.5 and np.array_equal(dout, [[1.0, 0.0], [0.0, -2.0]])   # d


def test_half_sum_reproduces_the_classic_2_2_2_example():
    # outputs of the step-by-step backprop example (notebook 04) and its targets:
    # E = 1/2 (0.01 - 0.75136507)^2 + 1/2 (0.99 - 0.772928465)^2
    #   = 0.274811083 + 0.023560026 = 0.298371109
    out = np.array([[0.75136507, 0.772928465]])
    loss, dout = mse_loss(out, [[0.01, 0.99]], reduction="half_sum")
    assert loss == pytest.approx(0.298371109, abs=1e-9)
    # dE/do1 = o1 - t1 = 0.74136507
    assert dout[0, 0] == pytest.approx(0.74136507, abs=1e-12)


def test_bce_by_hand():
    p, y = np.array([[0.8], [0.25]]), np.array([[1.0], [0.0]])
    # L = -(log 0.8 + log(1 - 0.25)) / 2 = (0.22314355 + 0.28768207) / 2 = 0.25541281
    loss, dout = bce_loss(p, y)
    assert loss == pytest.approx(0.2554128119, abs=1e-10)
    # dL/dp = (p - y) / (p (1 - p)) / 2: (-0.2)/(0.16)/2 = -0.625; 0.25/0.1875/2 = 2/3
    np.testing.assert_allclose(dout, [[-0.625], [2 / 3]], rtol=1e-12)


def test_bce_with_logits_by_hand():
    z, y = np.array([[0.0], [np.log(3.0)]]), np.array([[1.0], [0.0]])
    # sigma(0) = 1/2, sigma(ln 3) = 3/4: L = (-log 1/2 - log 1/4) / 2 = (ln 2 + 2 ln 2)/2 = 1.5 ln 2
    loss, dout = bce_with_logits_loss(z, y)
    assert loss == pytest.approx(1.5 * np.log(2.0), rel=1e-14)
    # dL/dz = (sigma(z) - y) / 2 = [(1/2 - 1)/2, (3/4 - 0)/2] = [-0.25, 0.375]
    np.testing.assert_allclose(dout, [[-0.25], [0.375]], rtol=1e-14)


def test_cross_entropy_by_hand():
    Z = np.log([[1.0, 3.0], [2.0, 2.0]])
    # row 1: softmax [1/4, 3/4], label 1 -> -log 3/4 = 0.28768207
    # row 2: softmax [1/2, 1/2], label 0 -> -log 1/2 = 0.69314718; mean = 0.49041463
    loss, dout = cross_entropy_loss(Z, np.array([1, 0]))
    assert loss == pytest.approx(0.4904146265, abs=1e-10)
    # dout = (P - Y) / N = ([1/4, -1/4], [-1/2, 1/2]) / 2
    np.testing.assert_allclose(dout, [[0.125, -0.125], [-0.25, 0.25]], rtol=1e-14)
    loss_oh, dout_oh = cross_entropy_loss(Z, [[0, 1], [1, 0]])
    assert loss_oh == loss and np.array_equal(dout_oh, dout)
    # soft labels [1/2, 1/2] on row 1: -(1/2 log 1/4 + 1/2 log 3/4) = 0.83698822; row 2 as before
    loss_soft, _ = cross_entropy_loss(Z, [[0.5, 0.5], [1.0, 0.0]])
    assert loss_soft == pytest.approx((0.8369882167 + 0.6931471806) / 2, abs=1e-10)


def test_registry():
    assert LOSSES == {"mse": mse_loss, "bce": bce_loss, "bce_logits": bce_with_logits_loss,
                      "cross_entropy": cross_entropy_loss}
    assert get_loss("cross_entropy") is cross_entropy_loss


# --- finite differences (float64, rel error < 1e-7) ----------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "half_sum"])
@FAST
@given(data=st.data())
def test_mse_gradient_matches_finite_differences(reduction, data):
    shape = (data.draw(sizes), data.draw(sizes))
    pred, target = data.draw(dyadic(shape)), data.draw(dyadic(shape))
    report = grad_check(lambda p, t: mse_loss(p, t, reduction=reduction), pred, y=target, h=H_STEP)
    assert report.max_rel_error < 1e-7, str(report)


@FAST
@given(data=st.data())
def test_bce_gradient_matches_finite_differences(data):
    shape = (data.draw(sizes), data.draw(st.integers(1, 3)))
    p = data.draw(arrays(np.float64, shape, elements=floats(0.05, 0.95)))
    report = grad_check(bce_loss, p, y=data.draw(binary(shape)))
    assert report.max_rel_error < 1e-7, str(report)


@FAST
@given(data=st.data())
def test_bce_with_logits_gradient_matches_finite_differences(data):
    shape = (data.draw(sizes), data.draw(st.integers(1, 3)))
    z = data.draw(arrays(np.float64, shape, elements=floats(-4, 4)))
    report = grad_check(bce_with_logits_loss, z, y=data.draw(binary(shape)))
    assert report.max_rel_error < 1e-7, str(report)


@FAST
@given(case=logits_and_labels())
def test_cross_entropy_gradient_matches_finite_differences(case):
    Z, labels = case
    report = grad_check(cross_entropy_loss, Z, y=labels)
    assert report.max_rel_error < 1e-7, str(report)


# --- properties ---------------------------------------------------------------------------------------------

@FAST
@given(data=st.data())
def test_bce_from_logits_equals_bce_from_sigmoid_probabilities(data):
    shape = (data.draw(sizes), data.draw(st.integers(1, 3)))
    z = data.draw(arrays(np.float64, shape, elements=floats(-10, 10)))
    y = data.draw(arrays(np.float64, shape, elements=floats(0, 1)))
    loss_z, dz = bce_with_logits_loss(z, y)
    p = sigmoid(z)
    loss_p, dp = bce_loss(p, y)
    assert loss_z == pytest.approx(loss_p, rel=1e-9, abs=1e-12)
    # chain rule through the sigmoid: dL/dz = dL/dp * p (1 - p)
    np.testing.assert_allclose(dz, dp * p * (1 - p), rtol=1e-8, atol=1e-14)


@FAST
@given(case=logits_and_labels(-50, 50), shift=floats(-100, 100))
def test_cross_entropy_properties(case, shift):
    Z, labels = case
    N, C = Z.shape
    loss, dout = cross_entropy_loss(Z, labels)
    rows = np.arange(N)
    # an independent formula: mean over rows of lse(z) - z[label]
    assert loss == pytest.approx(np.mean(logsumexp(Z) - Z[rows, labels]), rel=1e-12, abs=1e-12)
    assert loss >= 0.0
    np.testing.assert_allclose(dout.sum(axis=1), 0.0, atol=1e-15)     # sum_c (p_c - y_c) = 1 - 1
    loss_oh, dout_oh = cross_entropy_loss(Z, one_hot(labels, C))
    assert loss_oh == loss and np.array_equal(dout_oh, dout)
    loss_shift, dout_shift = cross_entropy_loss(Z + shift, labels)    # softmax ignores a shift
    assert loss_shift == pytest.approx(loss, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(dout_shift, dout, atol=1e-12)


@FAST
@given(data=st.data())
def test_mse_reductions_agree_and_vanish_only_at_the_target(data):
    shape = (data.draw(sizes), data.draw(sizes))
    pred, target = data.draw(dyadic(shape)), data.draw(dyadic(shape))
    mean, d_mean = mse_loss(pred, target)
    total, d_sum = mse_loss(pred, target, reduction="sum")
    half, d_half = mse_loss(pred, target, reduction="half_sum")
    assert total == pytest.approx(mean * pred.size, rel=1e-15) and total == 2 * half
    np.testing.assert_allclose(d_sum, d_mean * pred.size, rtol=1e-15)
    assert np.array_equal(d_sum, 2 * d_half)
    assert (mean == 0.0) == np.array_equal(pred, target)


@FAST
@given(data=st.data())
def test_bce_is_symmetric_under_swapping_the_classes(data):
    shape = (data.draw(sizes), 1)
    p = data.draw(arrays(np.float64, shape, elements=floats(0.01, 0.99)))
    y = data.draw(arrays(np.float64, shape, elements=floats(0, 1)))
    loss, dout = bce_loss(p, y)
    loss_swapped, dout_swapped = bce_loss(1 - p, 1 - y)
    assert loss_swapped == pytest.approx(loss, rel=1e-9)
    np.testing.assert_allclose(dout_swapped, -dout, rtol=1e-8)


def test_float32_predictions_give_float32_dout_and_float_loss():
    pred = np.array([[0.2, 0.7]], dtype=np.float32)
    for loss_fn, y in [(mse_loss, [[0.0, 1.0]]), (bce_loss, [[0.0, 1.0]]),
                       (bce_with_logits_loss, [[0.0, 1.0]]), (cross_entropy_loss, [1])]:
        loss, dout = loss_fn(pred, y)
        assert type(loss) is float and dout.dtype == np.float32 and dout.shape == pred.shape


# --- extreme values ------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("error")  # no overflow or log(0) on the way
def test_bce_is_finite_for_probabilities_exactly_0_and_1():
    p = np.array([[0.0], [1.0], [0.0], [1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    loss, dout = bce_loss(p, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dout))
    # two perfect predictions (loss ~ 0) and two certain mistakes (-log eps = 27.63 each)
    assert loss == pytest.approx(2 * -np.log(1e-12) / 4, rel=1e-6)
    assert dout[2, 0] < 0 < dout[3, 0]   # the gradient still points the right way
    loss32, dout32 = bce_loss(p.astype(np.float32), y)
    assert np.isfinite(loss32) and np.all(np.isfinite(dout32))


@pytest.mark.filterwarnings("error")  # no overflow or log(0) on the way
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logit_losses_are_finite_at_1e4(dtype):
    z = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
    loss, dout = bce_with_logits_loss(z, [[1.0], [0.0], [0.0], [1.0]])
    # right with margin 1e4 costs 0; wrong with margin 1e4 costs 1e4: mean (0 + 0 + 1e4 + 1e4)/4
    assert loss == pytest.approx(5e3) and np.all(np.isfinite(dout))
    np.testing.assert_allclose(dout.ravel(), [0.0, 0.0, 0.25, -0.25])
    Z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    loss, dout = cross_entropy_loss(Z, [0, 0])
    # row 1 right by 1e4: 0; row 2 wrong by 2e4 (+ log 2 for the tie): (2e4 + ln 2) / 2
    assert loss == pytest.approx((2e4 + np.log(2.0)) / 2, rel=1e-12) and np.all(np.isfinite(dout))
    np.testing.assert_allclose(dout, [[0, 0, 0], [-0.5, 0.25, 0.25]], atol=1e-7)
    loss, dout = mse_loss(z, np.zeros_like(z))
    assert np.isfinite(loss) and np.all(np.isfinite(dout))


# --- PyTorch parity -----------------------------------------------------------------------------------

def _torch_loss_and_grad(torch, fn, pred, *args):
    pred_t = torch.tensor(pred, requires_grad=True)
    loss_t = fn(pred_t, *args)
    loss_t.backward()
    return loss_t.item(), pred_t.grad.numpy()


def _compare(ours, theirs):
    (loss, dout), (loss_t, dout_t) = ours, theirs
    assert loss == pytest.approx(loss_t, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(dout, dout_t, **TIGHT)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_losses_match_torch_forward_and_backward(seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    N, C = rng.integers(1, 7), rng.integers(2, 5)
    pred, target = rng.normal(size=(N, C)), rng.normal(size=(N, C))
    T = torch.tensor(target)
    _compare(mse_loss(pred, target), _torch_loss_and_grad(torch, F.mse_loss, pred, T))
    _compare(mse_loss(pred, target, "sum"),
             _torch_loss_and_grad(torch, lambda p, t: F.mse_loss(p, t, reduction="sum"), pred, T))
    _compare(mse_loss(pred, target, "half_sum"),
             _torch_loss_and_grad(torch, lambda p, t: 0.5 * F.mse_loss(p, t, reduction="sum"), pred, T))

    p, y_soft = rng.uniform(0.01, 0.99, size=(N, C)), rng.uniform(0, 1, size=(N, C))
    y_bin = rng.integers(0, 2, size=(N, C)).astype(float)
    for y in (y_soft, y_bin):
        _compare(bce_loss(p, y), _torch_loss_and_grad(torch, F.binary_cross_entropy, p, torch.tensor(y)))
    z = rng.normal(scale=5.0, size=(N, C))
    z[0, 0] = 1e4 if N * C > 1 else z[0, 0]
    for y in (y_soft, y_bin):
        _compare(bce_with_logits_loss(z, y),
                 _torch_loss_and_grad(torch, F.binary_cross_entropy_with_logits, z, torch.tensor(y)))

    labels = rng.integers(0, C, size=N)
    probs = rng.dirichlet(np.ones(C), size=N)
    _compare(cross_entropy_loss(z, labels), _torch_loss_and_grad(torch, F.cross_entropy, z, torch.tensor(labels)))
    _compare(cross_entropy_loss(z, one_hot(labels, C)),
             _torch_loss_and_grad(torch, F.cross_entropy, z, torch.tensor(one_hot(labels, C))))
    _compare(cross_entropy_loss(z, probs), _torch_loss_and_grad(torch, F.cross_entropy, z, torch.tensor(probs)))


# --- bad input -------------------------------------------------------------------------------------------------

ONES = np.ones((5, 1))
BAD_INPUTS = [
    (lambda: mse_loss(ONES, np.ones(5)), ValueError,
     r"mse_loss expected target of shape \(5, 1\) \(the shape of pred\), got \(5,\)"),
    (lambda: mse_loss(ONES, ONES, reduction="avg"), ValueError,
     r"mse_loss expected reduction to be one of \['half_sum', 'mean', 'sum'\], got 'avg'"),
    (lambda: mse_loss(ONES, ONES * np.nan), ValueError, r"mse_loss expected target to be finite, got 5 NaN"),
    (lambda: mse_loss(np.ones((0, 2)), np.ones((0, 2))), ValueError,
     r"mse_loss expected pred to be a non-empty array with at least 1 dimension, got shape \(0, 2\)"),
    (lambda: mse_loss(1.0, 1.0), ValueError, r"mse_loss expected pred to be a non-empty array"),
    (lambda: mse_loss("a", ONES), TypeError, r"mse_loss expected pred to be an array of numbers"),
    (lambda: bce_loss(ONES * 1.5, ONES), ValueError, r"bce_loss expected p in \[0, 1\], got values from 1.5 to 1.5"),
    (lambda: bce_loss(ONES * 0.5, ONES * -1), ValueError, r"bce_loss expected y in \[0, 1\], got values from -1 to -1"),
    (lambda: bce_loss(ONES * 0.5, np.ones((1, 5))), ValueError,
     r"bce_loss expected y of shape \(5, 1\) \(the shape of p\), got \(1, 5\)"),
    (lambda: bce_loss(ONES * 0.5, ONES, eps=0.0), ValueError, r"bce_loss expected eps > 0.0, got 0.0"),
    (lambda: bce_with_logits_loss(ONES, ONES * 2), ValueError,
     r"bce_with_logits_loss expected y in \[0, 1\], got values from 2 to 2"),
    (lambda: bce_with_logits_loss(ONES, ONES * np.inf), ValueError,
     r"bce_with_logits_loss expected y to be finite"),
    (lambda: cross_entropy_loss(np.zeros((2, 3)), [0, 3]), ValueError,
     r"cross_entropy_loss expected y in the range 0 to 2, got values from 0 to 3"),
    (lambda: cross_entropy_loss(np.zeros((2, 3)), [-1, 0]), ValueError,
     r"cross_entropy_loss expected y in the range 0 to 2, got values from -1 to 0"),
    (lambda: cross_entropy_loss(np.zeros((2, 3)), [0.5, 1.0]), ValueError,
     r"cross_entropy_loss expected y to be integer class labels, got non-integer values"),
    (lambda: cross_entropy_loss(np.zeros((2, 3)), ["a", "b"]), TypeError,
     r"cross_entropy_loss expected y to be integer class labels, got dtype <U1"),
    (lambda: cross_entropy_loss(np.zeros((2, 3)), [0, 1, 2]), ValueError,
     r"cross_entropy_loss expected y of shape \(2,\), got \(3,\)"),
    (lambda: cross_entropy_loss(np.zeros((2, 3)), [[0], [1]]), ValueError,
     r"cross_entropy_loss expected y of shape \(2,\) \(integer labels\) or \(2, 3\) \(one-hot\), got \(2, 1\)"),
    (lambda: cross_entropy_loss(np.zeros((2, 3)), [[1, 1, 0], [0, 0, 1]]), ValueError,
     r"cross_entropy_loss expected each row of one-hot y to sum to 1, got row sums from 1 to 2"),
    (lambda: cross_entropy_loss(np.zeros((2, 2)), [[2, -1], [0, 1]]), ValueError,
     r"cross_entropy_loss expected one-hot y to be non-negative, got a minimum of -1"),
    (lambda: cross_entropy_loss(np.zeros(3), [0]), ValueError,
     r"cross_entropy_loss expected logits of shape \(N, C\), got \(3,\)"),
    (lambda: cross_entropy_loss(np.zeros((4, 1)), [0, 0, 0, 0]), ValueError,
     r"cross_entropy_loss expected logits with at least 2 columns \(classes\), got shape \(4, 1\); "
     r"for one output unit use bce_with_logits_loss"),
    (lambda: get_loss("hinge"), ValueError, r"get_loss expected name to be one of \[.*\], got 'hinge'"),
    (lambda: get_loss(mse_loss), TypeError, r"get_loss expected name to be a string"),
]


@pytest.mark.parametrize("call, error, message", BAD_INPUTS)
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_non_finite_predictions_give_a_non_finite_loss_not_an_exception():
    # fit() turns a NaN/inf loss into a divergence report; the loss must let it through
    assert np.isnan(mse_loss([[np.nan]], [[0.0]])[0])
    assert np.isinf(mse_loss([[np.inf]], [[0.0]])[0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(cross_entropy_loss([[np.inf, 0.0]], [0])[0])
