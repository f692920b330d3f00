"""Tests for bptutor.conv_functional: im2col/col2im, the naive and vectorized convolution, max-pooling."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.conv_functional import (col2im, conv2d_backward, conv2d_backward_naive, conv2d_forward,
                                     conv2d_forward_naive, im2col, max_pool2d_backward, max_pool2d_forward)
from bptutor.gradcheck import numerical_gradient

FAST = settings(max_examples=25, deadline=None)
# Dyadic values (multiples of 1/8) and a power-of-two step: a convolution is linear in X and in W, so
# the central difference of sum(R * conv) is then computed without any rounding, and must equal the
# analytic gradient exactly (up to the summation order of the two sides: 1e-12 is generous).
H_STEP = 2.0 ** -10


def dyadic(rng, shape):
    return rng.integers(-16, 17, size=shape) / 8.0


@st.composite
def conv_case(draw):
    """Shapes, stride and padding such that the kernel fits the padded input."""
    N, C, F = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kH, kW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    H = draw(st.integers(max(1, kH - 2 * padding), 7))
    W = draw(st.integers(max(1, kW - 2 * padding), 7))
    seed = draw(st.integers(0, 2 ** 16))
    return (N, C, H, W, F, kH, kW, stride, padding, seed)


def make_conv(case):
    N, C, H, W, F, kH, kW, stride, padding, seed = case
    rng = np.random.default_rng(seed)
    X, Wt, b = dyadic(rng, (N, C, H, W)), dyadic(rng, (F, C, kH, kW)), dyadic(rng, (F,))
    H_out, W_out = (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1
    R = dyadic(rng, (N, F, H_out, W_out))  # L = sum(R * out), so dout = R
    return X, Wt, b, stride, padding, R


# --- a case worked by hand ---------------------------------------------------------------------------------------

def test_conv_worked_by_hand():
    X = np.array([[1.0, 2.0, 0.0],
                  [0.0, 1.0, 3.0],
                  [2.0, 0.0, 1.0]]).reshape(1, 1, 3, 3)
    W = np.array([[1.0, -1.0],
                  [0.0, 2.0]]).reshape(1, 1, 2, 2)
    b = np.array([0.5])
    out, cache = conv2d_forward(X, W, b)
    # each output is the window times the kernel, summed, plus 0.5:
    # top-left     1*1 + 2*(-1) + 0*0 + 1*2 + 0.5 = 1.5
    # top-right    2*1 + 0*(-1) + 1*0 + 3*2 + 0.5 = 8.5
    # bottom-left  0*1 + 1*(-1) + 2*0 + 0*2 + 0.5 = -0.5
    # bottom-right 1*1 + 3*(-1) + 0*0 + 1*2 + 0.5 = 0.5
    assert np.array_equal(out, np.array([[[[1.5, 8.5], [-0.5, 0.5]]]]))
    dout = np.array([[1.0, 0.0], [0.0, 2.0]]).reshape(1, 1, 2, 2)
    dX, dW, db = conv2d_backward(dout, cache)
    # db = sum(dout) = 3
    assert np.array_equal(db, [3.0])
    # dW[a, b] = sum_ij dout[i, j] X[i + a, j + b]: dW[0,0] = 1*1 + 2*1 = 3, dW[0,1] = 1*2 + 2*3 = 8,
    # dW[1,0] = 1*0 + 2*0 = 0, dW[1,1] = 1*1 + 2*1 = 3
    assert np.array_equal(dW, np.array([[[[3.0, 8.0], [0.0, 3.0]]]]))
    # dX: dout[0,0] = 1 stamps W at the top-left, dout[1,1] = 2 stamps 2W at the bottom-right:
    # [[1, -1, 0], [0, 2, 0], [0, 0, 0]] + [[0, 0, 0], [0, 2, -2], [0, 0, 4]]
    assert np.array_equal(dX, np.array([[[[1.0, -1.0, 0.0], [0.0, 4.0, -2.0], [0.0, 0.0, 4.0]]]]))


def test_stride_and_padding_worked_by_hand():
    X = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)   # [[1, 2], [3, 4]]
    W = np.ones((1, 1, 2, 2))
    out, _ = conv2d_forward(X, W, np.zeros(1), stride=2, padding=1)
    # padded: [[0,0,0,0],[0,1,2,0],[0,3,4,0],[0,0,0,0]]; windows at rows/cols 0 and 2, no overlap:
    # each 2x2 window holds exactly one of the pixels, so out = [[1, 2], [3, 4]]
    assert np.array_equal(out, X)


def test_im2col_rows_are_windows_and_col2im_is_its_adjoint():
    X = np.arange(2 * 2 * 4 * 3, dtype=float).reshape(2, 2, 4, 3)
    cols = im2col(X, 2, 2, stride=1, padding=0)
    assert cols.shape == (2 * 3 * 2, 2 * 2 * 2)
    # row (n=1, i=2, j=0) is the window X[1, :, 2:4, 0:2] flattened (channel, row, column)
    assert np.array_equal(cols[1 * 6 + 2 * 2 + 0], X[1, :, 2:4, 0:2].ravel())
    # <im2col(X), D> = <X, col2im(D)> for every X and D: col2im is the transpose of im2col
    rng = np.random.default_rng(0)
    for stride, padding in ((1, 0), (2, 1), (3, 2)):
        Xr = rng.normal(size=(2, 3, 5, 6))
        C = im2col(Xr, 3, 2, stride, padding)
        D = rng.normal(size=C.shape)
        assert np.sum(C * D) == pytest.approx(np.sum(Xr * col2im(D, Xr.shape, 3, 2, stride, padding)), rel=1e-12)


def test_col2im_counts_how_many_windows_hold_each_pixel():
    # a 3x3 kernel over a 4x4 image: the corner pixels are in 1 window, the centre ones in 4
    counts = col2im(np.ones((4, 9)), (1, 1, 4, 4), 3, 3)
    assert np.array_equal(counts[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


# --- naive and vectorized agree; both agree with finite differences --------------------------------------------

@FAST
@given(conv_case())
def test_naive_and_vectorized_agree(case):
    X, W, b, stride, padding, R = make_conv(case)
    out_n, cache_n = conv2d_forward_naive(X, W, b, stride, padding)
    out_v, cache_v = conv2d_forward(X, W, b, stride, padding)
    np.testing.assert_allclose(out_v, out_n, rtol=0, atol=1e-12)
    for g_n, g_v in zip(conv2d_backward_naive(R, cache_n), conv2d_backward(R, cache_v)):
        np.testing.assert_allclose(g_v, g_n, rtol=0, atol=1e-12)


@FAST
@given(conv_case())
def test_conv_gradients_match_finite_differences(case):
    X, W, b, stride, padding, R = make_conv(case)
    _, cache = conv2d_forward(X, W, b, stride, padding)
    dX, dW, db = conv2d_backward(R, cache)

    def loss(_):
        return float(np.sum(R * conv2d_forward(X, W, b, stride, padding)[0]))

    for grad, arg in ((dX, X), (dW, W), (db, b)):
        np.testing.assert_allclose(grad, numerical_gradient(loss, arg, H_STEP), rtol=0, atol=1e-9)


# --- max-pooling ---------------------------------------------------------------------------------------------------

def test_max_pool_worked_by_hand_routes_to_the_maximum():
    X = np.array([[1.0, 5.0, 2.0, 0.0],
                  [3.0, 4.0, 7.0, 1.0],
                  [0.0, 0.0, 6.0, 6.0],
                  [2.0, 0.0, 6.0, 6.0]]).reshape(1, 1, 4, 4)
    out, cache = max_pool2d_forward(X, 2)
    # windows: [[1,5],[3,4]] -> 5, [[2,0],[7,1]] -> 7, [[0,0],[2,0]] -> 2, [[6,6],[6,6]] -> 6 (a four-way tie)
    assert np.array_equal(out, [[[[5.0, 7.0], [2.0, 6.0]]]])
    dX = max_pool2d_backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), cache)
    # each gradient goes to its window's maximum; the tie goes to the first 6, at row 2, column 2
    expected = np.zeros((4, 4))
    expected[0, 1], expected[1, 2], expected[3, 0], expected[2, 2] = 10.0, 20.0, 30.0, 40.0
    assert np.array_equal(dX[0, 0], expected)


def test_overlapping_windows_add_their_gradients():
    X = np.array([[0.0, 9.0, 0.0]]).reshape(1, 1, 1, 3)
    out, cache = max_pool2d_forward(X, (1, 2), stride=1)
    # both windows [0, 9] and [9, 0] have their maximum at the middle pixel, which collects 1 + 2
    assert np.array_equal(out[0, 0, 0], [9.0, 9.0])
    assert np.array_equal(max_pool2d_backward(np.array([[[[1.0, 2.0]]]]), cache)[0, 0, 0], [0.0, 3.0, 0.0])


@st.composite
def pool_case(draw):
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.integers(1, 3)))
    H, W = draw(st.integers(k, 7)), draw(st.integers(k, 7))
    return N, C, H, W, k, stride, draw(st.integers(0, 2 ** 16))


@FAST
@given(pool_case())
def test_max_pool_gradient_matches_finite_differences_without_ties(case):
    N, C, H, W, k, stride, seed = case
    rng = np.random.default_rng(seed)
    # distinct values 1/8 apart: a step of 2^-10 never changes which entry is the maximum
    X = (rng.permutation(N * C * H * W) / 8.0).reshape(N, C, H, W)
    out, cache = max_pool2d_forward(X, k, stride)
    R = rng.normal(size=out.shape)
    dX = max_pool2d_backward(R, cache)
    fd = numerical_gradient(lambda _: float(np.sum(R * max_pool2d_forward(X, k, stride)[0])), X, H_STEP)
    np.testing.assert_allclose(dX, fd, rtol=0, atol=1e-9)


@FAST
@given(pool_case())
def test_max_pool_gradient_is_conserved_and_lands_on_maxima_with_ties(case):
    N, C, H, W, k, stride, seed = case
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(N, C, H, W)).astype(float)  # many ties
    out, cache = max_pool2d_forward(X, k, stride)
    dout = rng.uniform(1.0, 2.0, size=out.shape)
    dX = max_pool2d_backward(dout, cache)
    assert dX.sum() == pytest.approx(dout.sum(), rel=1e-12)  # a router: nothing made, nothing lost
    # the same by loops: the first maximum in row-major order of each window takes that window's gradient
    s = k if stride is None else stride
    expected = np.zeros_like(X)
    for n, c, i, j in np.ndindex(out.shape):
        window = X[n, c, i * s:i * s + k, j * s:j * s + k]
        assert window.max() == out[n, c, i, j]
        a, b = divmod(int(np.flatnonzero(window.ravel() == window.max())[0]), k)
        expected[n, c, i * s + a, j * s + b] += dout[n, c, i, j]
    np.testing.assert_allclose(dX, expected, rtol=1e-15, atol=0)


# --- PyTorch parity --------------------------------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(conv_case())
def test_conv_matches_torch_to_1e_10(case):
    torch = pytest.importorskip("torch")
    X, W, b, stride, padding, R = make_conv(case)
    rng = np.random.default_rng(case[-1])
    X, W, b = X + rng.normal(size=X.shape), W + rng.normal(size=W.shape), b + rng.normal(size=b.shape)
    out, cache = conv2d_forward(X, W, b, stride, padding)
    dX, dW, db = conv2d_backward(R, cache)
    Xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    ref = torch.nn.functional.conv2d(Xt, Wt, bt, stride=stride, padding=padding)
    ref.backward(torch.from_numpy(R))
    for mine, theirs in ((out, ref), (dX, Xt.grad), (dW, Wt.grad), (db, bt.grad)):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=0, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(pool_case(), st.booleans())
def test_max_pool_matches_torch_including_ties(case, ties):
    torch = pytest.importorskip("torch")
    N, C, H, W, k, stride, seed = case
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(N, C, H, W)).astype(float) if ties else rng.normal(size=(N, C, H, W))
    out, cache = max_pool2d_forward(X, k, stride)
    dout = rng.normal(size=out.shape)
    dX = max_pool2d_backward(dout, cache)
    Xt = torch.tensor(X, requires_grad=True)
    ref = torch.nn.functional.max_pool2d(Xt, k, stride)
    ref.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=0, atol=1e-10)


# --- bad input -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, kind, words", [
    (lambda: conv2d_forward(np.zeros((1, 2, 4, 4)), np.zeros((3, 1, 2, 2)), np.zeros(3)), ValueError,
     r"conv2d_forward expected X of shape \(N, 1, H, W\), got \(1, 2, 4, 4\)"),
    (lambda: conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((3, 1, 2, 2)), np.zeros(2)), ValueError,
     r"expected b of shape \(3,\)"),
    (lambda: conv2d_forward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)), np.zeros(1)), ValueError,
     r"at least as large as the kernel 3x3 after padding 0, got H=2, W=2"),
    (lambda: conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), np.zeros(1), stride=1.5), TypeError,
     r"expected stride to be an integer, got 1.5"),
    (lambda: conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), np.zeros(1), padding=-1), ValueError,
     r"expected padding >= 0, got -1"),
    (lambda: conv2d_forward_naive(np.full((1, 1, 4, 4), np.nan), np.zeros((1, 1, 3, 3)), np.zeros(1)), ValueError,
     r"expected X to be finite, got 16 NaN"),
    (lambda: conv2d_forward("image", np.zeros((1, 1, 3, 3)), np.zeros(1)), TypeError,
     r"expected X to be an array of numbers"),
    (lambda: max_pool2d_forward(np.zeros((1, 1, 4, 4)), 0), ValueError, r"expected kernel_size >= 1, got 0"),
    (lambda: max_pool2d_forward(np.zeros((1, 1, 4, 4)), 2.0), TypeError,
     r"expected kernel_size to be an integer or a pair of integers, got 2.0"),
    (lambda: max_pool2d_forward(np.zeros((4, 4)), 2), ValueError,
     r"max_pool2d_forward expected X of shape \(N, C, H, W\), got \(4, 4\)"),
    (lambda: im2col(np.zeros((1, 1, 4, 4)), 5, 5), ValueError, r"im2col expected an input at least as large"),
    (lambda: col2im(np.zeros((4, 5)), (1, 1, 4, 4), 3, 3), ValueError,
     r"col2im expected dcols of shape \(4, 9\), got \(4, 5\)"),
    (lambda: col2im(np.zeros((4, 9)), (1, 1, 4), 3, 3), ValueError, r"col2im expected X_shape to be a tuple"),
])
def test_bad_input_names_the_argument(call, kind, words):
    with pytest.raises(kind, match=words):
        call()


def test_backward_checks_the_shape_of_dout():
    _, cache = conv2d_forward(np.zeros((2, 1, 4, 4)), np.zeros((3, 1, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"conv2d_backward expected dout of shape \(2, 3, 2, 2\), got \(2, 3, 4, 4\)"):
        conv2d_backward(np.zeros((2, 3, 4, 4)), cache)
    _, cache = max_pool2d_forward(np.zeros((2, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"max_pool2d_backward expected dout of shape \(2, 1, 2, 2\)"):
        max_pool2d_backward(np.zeros((2, 1, 4, 4)), cache)


def test_inputs_are_never_modified():
    rng = np.random.default_rng(1)
    X, W, b = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    copies = [a.copy() for a in (X, W, b)]
    out, cache = conv2d_forward(X, W, b, 2, 1)
    dout = rng.normal(size=out.shape)
    dout_copy = dout.copy()
    conv2d_backward(dout, cache)
    conv2d_backward_naive(dout, cache)
    max_pool2d_backward(*(lambda o, c: (np.ones_like(o), c))(*max_pool2d_forward(X, 2)))
    for a, c in zip((X, W, b, dout), copies + [dout_copy]):
        assert np.array_equal(a, c)
