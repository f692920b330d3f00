r"""Convolution and max-pooling as functions on NCHW arrays: loops, im2col, col2im (chapter 13).

Shapes are written in letters, as in the maths: ``X`` (N, C, H, W) is a batch
of N images with C channels of H x W pixels; a convolution's weights ``W``
(F, C, kH, kW) hold F filters, each a C x kH x kW block; its output is
(N, F, H_out, W_out) with

.. math:: H_{out} = \left\lfloor \frac{H + 2p - k_H}{s} \right\rfloor + 1, \qquad
          W_{out} = \left\lfloor \frac{W + 2p - k_W}{s} \right\rfloor + 1

for stride :math:`s` and zero padding :math:`p` (rows and columns that do not
fill a whole window are dropped, as in PyTorch).

Two implementations of each pass live here. The **naive** ones
(``conv2d_forward_naive``, ``conv2d_backward_naive``) loop over every output
pixel and are the formulas of the notebook written out; the **vectorized**
ones (``conv2d_forward``, ``conv2d_backward``) lay every window out as a row
of a matrix (:func:`im2col`), so that the convolution becomes chapter 04's
``X @ W`` and its backward chapter 04's ``dX``, ``dW``, ``db``;
:func:`col2im` adds the rows' gradients back onto the image. The functions
follow CS231n's naming, ``forward(...) -> (out, cache)`` and
``backward(dout, cache)``. The layers of :mod:`bptutor.conv` (``Conv2d``,
``MaxPool2d``, ``Flatten``) wrap them with the contract of :mod:`bptutor.layers`.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._checks import as_array, check_finite, check_int, describe
from .layers import check_dout


# --- argument checks ----------------------------------------------------------------------------------------
def _kernel(kernel_size, who: str) -> tuple[int, int]:
    """``kernel_size`` as ``(kH, kW)``: an integer >= 1 or a pair of them."""
    if isinstance(kernel_size, (tuple, list)) and len(kernel_size) == 2:
        return (check_int("kernel_size[0]", kernel_size[0], minimum=1, who=who),
                check_int("kernel_size[1]", kernel_size[1], minimum=1, who=who))
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, numbers.Integral):
        raise TypeError(f"{who} expected kernel_size to be an integer or a pair of integers, "
                        f"got {describe(kernel_size)}")
    k = check_int("kernel_size", kernel_size, minimum=1, who=who)
    return k, k


def _images(X, who: str, channels: int | None = None) -> np.ndarray:
    """``X`` as a float array of shape (N, C, H, W), checked to be finite."""
    X = as_array("X", X, who=who)
    C = "C" if channels is None else channels
    if X.ndim != 4 or (channels is not None and X.shape[1] != channels):
        raise ValueError(f"{who} expected X of shape (N, {C}, H, W), got {X.shape}")
    if 0 in X.shape:
        raise ValueError(f"{who} expected X of shape (N, {C}, H, W) with every size >= 1, got {X.shape}")
    if not np.isfinite(X.sum()):  # one cheap pass; the full check only when something is off
        check_finite("X", X, who=who)
    return X


def _output_size(H: int, W: int, kH: int, kW: int, stride: int, padding: int, who: str) -> tuple[int, int]:
    """``(H_out, W_out)``, raising when the kernel does not fit in the padded input."""
    if H + 2 * padding < kH or W + 2 * padding < kW:
        raise ValueError(f"{who} expected an input at least as large as the kernel {kH}x{kW} after padding "
                         f"{padding}, got H={H}, W={W} (padded {H + 2 * padding}x{W + 2 * padding})")
    return (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1


def _conv_args(X, W, b, stride, padding, who: str):
    """Check the arguments of a functional convolution; return them as arrays and ints."""
    W = as_array("W", W, who=who)
    if W.ndim != 4 or 0 in W.shape:
        raise ValueError(f"{who} expected W of shape (F, C, kH, kW) with every size >= 1, got {W.shape}")
    check_finite("W", W, who=who)
    X = _images(X, who, channels=W.shape[1])
    b = as_array("b", b, who=who)
    if b.shape != (W.shape[0],):
        raise ValueError(f"{who} expected b of shape ({W.shape[0]},) (one bias per filter), got {b.shape}")
    check_finite("b", b, who=who)
    stride = check_int("stride", stride, minimum=1, who=who)
    padding = check_int("padding", padding, minimum=0, who=who)
    _output_size(X.shape[2], X.shape[3], W.shape[2], W.shape[3], stride, padding, who)
    return X, W, b, stride, padding


def _pad(X: np.ndarray, padding: int) -> np.ndarray:
    if padding == 0:
        return X
    return np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


# --- im2col and col2im ----------------------------------------------------------------------------------------
def im2col(X, kH: int, kW: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    r"""Every window of ``X`` laid out as one row of a matrix.

    Row :math:`(n, i, j)` holds the window whose top-left corner is at
    :math:`(i s, j s)` in the padded image :math:`n`, flattened in the order
    (channel, row, column), which is the order of ``W[f].ravel()``:

    .. math:: \text{cols}_{(n,i,j),\,(c,a,b)} = X^{pad}_{n,\,c,\,is+a,\,js+b}

    so that ``cols @ W.reshape(F, -1).T`` is the convolution. It is built
    transposed, one (channel, offset) row at a time: for each of the
    kH x kW offsets one strided copy of the padded images (nine for a 3x3
    kernel), and returned as the transpose of that array (a view).

    Args:
        X: images (N, C, H, W).
        kH, kW: window height and width, >= 1.
        stride: step between windows, >= 1.
        padding: zeros added on each side, >= 0.

    Returns:
        cols: (N * H_out * W_out, C * kH * kW), rows ordered n, then i, then j.
    """
    who = "im2col"
    X = _images(X, who)
    kH, kW = _kernel((kH, kW), who)
    stride = check_int("stride", stride, minimum=1, who=who)
    padding = check_int("padding", padding, minimum=0, who=who)
    _output_size(X.shape[2], X.shape[3], kH, kW, stride, padding, who)
    return _im2col(X, kH, kW, stride, padding)


def _im2col(X: np.ndarray, kH: int, kW: int, stride: int, padding: int) -> np.ndarray:
    return _im2col_t(X, kH, kW, stride, padding).T


def _im2col_t(X: np.ndarray, kH: int, kW: int, stride: int, padding: int) -> np.ndarray:
    """:func:`im2col` transposed, (C*kH*kW, N*H_out*W_out), contiguous.

    Each (channel, offset) row is the padded images seen from that offset: one
    strided copy per offset fills it for all channels at once, reading and writing
    in order (six times faster than reordering a sliding-window view of X into rows).
    """
    N, C, H, W = X.shape
    Xp = _pad(X, padding)
    H_out, W_out = (H + 2 * padding - kH) // stride + 1, (W + 2 * padding - kW) // stride + 1
    cols_t = np.empty((C, kH, kW, N, H_out, W_out), dtype=Xp.dtype)
    for a in range(kH):
        for b in range(kW):
            cols_t[:, a, b] = Xp[:, :, a:a + stride * H_out:stride, b:b + stride * W_out:stride].transpose(1, 0, 2, 3)
    return cols_t.reshape(C * kH * kW, N * H_out * W_out)


def col2im(dcols, X_shape, kH: int, kW: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    r"""The adjoint of :func:`im2col`: add each row's entries back onto the pixels they came from.

    A pixel that sits in several windows collects the sum of their entries,
    which is what the chain rule asks of a value used several times:

    .. math:: dX^{pad}_{n,c,y,x} = \sum_{(i,j,a,b):\ is+a=y,\ js+b=x} \text{dcols}_{(n,i,j),\,(c,a,b)}

    The loop runs over the kH x kW offsets of the window (9 for a 3x3 kernel),
    never over pixels; the padding is cut off at the end.

    Args:
        dcols: (N * H_out * W_out, C * kH * kW), the gradient of :func:`im2col`'s output.
        X_shape: (N, C, H, W), the shape of the images im2col read.
        kH, kW, stride, padding: as given to im2col.

    Returns:
        dX: (N, C, H, W).
    """
    who = "col2im"
    if not (isinstance(X_shape, tuple) and len(X_shape) == 4 and
            all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in X_shape)):
        raise ValueError(f"{who} expected X_shape to be a tuple (N, C, H, W) of positive integers, "
                         f"got {describe(X_shape)}")
    kH, kW = _kernel((kH, kW), who)
    stride = check_int("stride", stride, minimum=1, who=who)
    padding = check_int("padding", padding, minimum=0, who=who)
    N, C, H, W = X_shape
    H_out, W_out = _output_size(H, W, kH, kW, stride, padding, who)
    dcols = as_array("dcols", dcols, who=who)
    expected = (N * H_out * W_out, C * kH * kW)
    if dcols.shape != expected:
        raise ValueError(f"{who} expected dcols of shape {expected}, got {dcols.shape}")
    return _col2im(dcols, X_shape, kH, kW, stride, padding)


def _col2im(dcols: np.ndarray, X_shape, kH: int, kW: int, stride: int, padding: int) -> np.ndarray:
    return _col2im_t(dcols.T, X_shape, kH, kW, stride, padding)


def _col2im_t(dcols_t: np.ndarray, X_shape, kH: int, kW: int, stride: int, padding: int) -> np.ndarray:
    """:func:`col2im` of ``dcols_t.T``: the gradient held as (C*kH*kW, N*H_out*W_out).

    In that layout each (channel, offset) is one contiguous block over
    (N, H_out, W_out), and the image is built as (C, N, H, W), so the nine
    strided additions of a 3x3 kernel read and write memory in order (twice as
    fast as reading the (N*H_out*W_out, C*kH*kW) layout across its rows).
    The result is returned as an (N, C, H, W) view.
    """
    N, C, H, W = X_shape
    Hp, Wp = H + 2 * padding, W + 2 * padding
    H_out, W_out = (Hp - kH) // stride + 1, (Wp - kW) // stride + 1
    d = dcols_t.reshape(C, kH, kW, N, H_out, W_out)
    dXp = np.zeros((C, N, Hp, Wp), dtype=dcols_t.dtype)
    for a in range(kH):
        for b in range(kW):
            dXp[:, :, a:a + stride * H_out:stride, b:b + stride * W_out:stride] += d[:, a, b]
    return dXp[:, :, padding:padding + H, padding:padding + W].transpose(1, 0, 2, 3)


# --- convolution: the loops, then the matrix products ---------------------------------------------------------
def conv2d_forward_naive(X, W, b, stride: int = 1, padding: int = 0):
    r"""Convolution (cross-correlation, as in every deep-learning library) by explicit loops.

    .. math:: \text{out}_{n,f,i,j} = b_f + \sum_{c}\sum_{a=0}^{k_H-1}\sum_{b'=0}^{k_W-1}
              W_{f,c,a,b'}\; X^{pad}_{n,\,c,\,is+a,\,js+b'}

    Args:
        X: images (N, C, H, W).
        W: filters (F, C, kH, kW).
        b: biases (F,).
        stride: step between windows, >= 1.
        padding: zeros added on each side of H and W, >= 0.

    Returns:
        ``(out, cache)``: out (N, F, H_out, W_out); cache ``(X, W, b, stride, padding)``.
    """
    X, W, b, stride, padding = _conv_args(X, W, b, stride, padding, "conv2d_forward_naive")
    N, F = X.shape[0], W.shape[0]
    kH, kW = W.shape[2:]
    Xp = _pad(X, padding)
    H_out, W_out = (Xp.shape[2] - kH) // stride + 1, (Xp.shape[3] - kW) // stride + 1
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(X, W, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = Xp[n, :, i * stride:i * stride + kH, j * stride:j * stride + kW]  # (C, kH, kW)
                    out[n, f, i, j] = np.sum(window * W[f]) + b[f]
    return out, (X, W, b, stride, padding)


def conv2d_backward_naive(dout, cache):
    r"""The backward pass of :func:`conv2d_forward_naive`, by the same loops.

    Each output pixel was ``sum(window * W[f]) + b[f]``, so it sends
    ``dout[n, f, i, j] * W[f]`` back to its window of ``X``, adds
    ``dout[n, f, i, j] * window`` to ``dW[f]`` and ``dout[n, f, i, j]`` to
    ``db[f]``; a pixel in several windows collects every contribution. Summed
    up, this is

    .. math:: dW_{f,c,a,b'} = \sum_{n,i,j} \text{dout}_{n,f,i,j}\, X^{pad}_{n,c,is+a,js+b'}, \qquad
              db_f = \sum_{n,i,j} \text{dout}_{n,f,i,j},

    .. math:: dX^{pad}_{n,c,y,x} = \sum_{f,i,j} \text{dout}_{n,f,i,j}\, W_{f,c,\,y-is,\,x-js}
              \quad\text{(terms with the kernel index inside the kernel)}.

    Args:
        dout: ∂L/∂out (N, F, H_out, W_out).
        cache: from :func:`conv2d_forward_naive` or :func:`conv2d_forward`.

    Returns:
        ``(dX, dW, db)`` with the shapes of X (N, C, H, W), W and b.
    """
    X, W, b, stride, padding = cache[:5]
    Xp = _pad(X, padding)
    N, F = X.shape[0], W.shape[0]
    kH, kW = W.shape[2:]
    H_out, W_out = (Xp.shape[2] - kH) // stride + 1, (Xp.shape[3] - kW) // stride + 1
    dout = check_dout(dout, (N, F, H_out, W_out), who="conv2d_backward_naive")
    dXp, dW, db = np.zeros_like(Xp), np.zeros_like(W), np.zeros_like(b)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = slice(i * stride, i * stride + kH), slice(j * stride, j * stride + kW)
                    dXp[n, :, rows, cols] += dout[n, f, i, j] * W[f]
                    dW[f] += dout[n, f, i, j] * Xp[n, :, rows, cols]
                    db[f] += dout[n, f, i, j]
    dX = dXp[:, :, padding:padding + X.shape[2], padding:padding + X.shape[3]]
    return dX, dW, db


def conv2d_forward(X, W, b, stride: int = 1, padding: int = 0):
    r"""Convolution as one matrix product: windows as rows (:func:`im2col`), filters as columns.

    .. math:: \text{out} = \text{cols}\; W_{col} + b, \qquad
              \text{cols}: (N H_{out} W_{out},\ C k_H k_W), \quad W_{col} = W\text{.reshape}(F, -1)^\top

    the product ``X @ W + b`` of a linear layer (chapter 04) with one "row of X"
    per window. Same arguments and result as :func:`conv2d_forward_naive`.

    Args:
        X: images (N, C, H, W).
        W: filters (F, C, kH, kW).
        b: biases (F,).
        stride: step between windows, >= 1.
        padding: zeros added on each side of H and W, >= 0.

    Returns:
        ``(out, cache)``: out (N, F, H_out, W_out); cache
        ``(X, W, b, stride, padding, cols)``.
    """
    X, W, b, stride, padding = _conv_args(X, W, b, stride, padding, "conv2d_forward")
    return _conv2d_forward(X, W, b, stride, padding)


def _conv2d_forward(X, W, b, stride, padding):
    N, F = X.shape[0], W.shape[0]
    kH, kW = W.shape[2:]
    # the windows held transposed, (C*kH*kW, N*H_out*W_out): cols.T in the notation of the docstrings
    cols_t = _im2col_t(X, kH, kW, stride, padding)
    H_out, W_out = (X.shape[2] + 2 * padding - kH) // stride + 1, (X.shape[3] + 2 * padding - kW) // stride + 1
    out = W.reshape(F, -1) @ cols_t                                  # (F, N*H_out*W_out) = (cols @ W_col).T
    out += b[:, None]
    # (F, N, H, W) -> NCHW as a view: the next layer reads it through its strides, nothing is copied
    return out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3), (X, W, b, stride, padding, cols_t)


def conv2d_backward(dout, cache):
    r"""The backward pass of :func:`conv2d_forward`: chapter 04's linear backward on the windows.

    .. math:: dW_{col} = \text{cols}^\top\, d\text{out}_{mat}, \qquad
              db = \textstyle\sum_{rows} d\text{out}_{mat}, \qquad
              d\text{cols} = d\text{out}_{mat}\, W_{col}^\top, \qquad dX = \text{col2im}(d\text{cols})

    with ``dout_mat`` = dout as (N H_out W_out, F). ``col2im`` adds the
    gradient of every window back onto its pixels; the result equals the full
    convolution of ``dout`` with the flipped kernel that the notebook derives.

    Args:
        dout: ∂L/∂out (N, F, H_out, W_out).
        cache: from :func:`conv2d_forward`.

    Returns:
        ``(dX, dW, db)`` with the shapes of X (N, C, H, W), W (F, C, kH, kW) and b (F,).
    """
    X, W, b, stride, padding, cols = cache
    F = W.shape[0]
    H_out, W_out = (X.shape[2] + 2 * padding - W.shape[2]) // stride + 1, \
        (X.shape[3] + 2 * padding - W.shape[3]) // stride + 1
    dout = check_dout(dout, (X.shape[0], F, H_out, W_out), who="conv2d_backward")
    return _conv2d_backward(dout, cache, input_grad=True)


def _conv2d_backward(dout, cache, input_grad: bool):
    X, W, b, stride, padding, cols_t = cache
    F, C, kH, kW = W.shape
    dout_t = dout.transpose(1, 0, 2, 3).reshape(F, -1)               # dout_mat.T, (F, N*H_out*W_out)
    dW = (dout_t @ cols_t.T).reshape(W.shape)                        # dout_mat.T @ cols, (F, C*kH*kW)
    db = dout_t.sum(axis=1)                                          # b is added at every pixel of every image
    if not input_grad:
        return None, dW, db
    # dcols = dout_mat @ W_mat, held transposed, (C*kH*kW, N*H_out*W_out), the layout col2im reads in order
    dcols_t = W.reshape(F, -1).T @ dout_t
    return _col2im_t(dcols_t, X.shape, kH, kW, stride, padding), dW, db


# --- max-pooling ------------------------------------------------------------------------------------------------
def max_pool2d_forward(X, kernel_size, stride=None):
    r"""Max-pooling: the largest value of each window, channel by channel.

    .. math:: \text{out}_{n,c,i,j} = \max_{0\le a<k_H,\ 0\le b<k_W} X_{n,\,c,\,is+a,\,js+b}

    Ties: when several entries of a window share the maximum, the **first**
    in row-major order (top row first, then left to right) is the one chosen,
    the rule PyTorch's CPU kernel follows; the backward pass sends the whole
    gradient to it alone.

    Args:
        X: images (N, C, H, W).
        kernel_size: window size, an integer or a pair (kH, kW).
        stride: step between windows; None means the kernel size (windows that do not overlap).

    Returns:
        ``(out, cache)``: out (N, C, H_out, W_out); cache ``(X.shape, kernel, stride, argmax)``
        with ``argmax`` (N, C, H_out, W_out) the position of the maximum inside each window.
    """
    who = "max_pool2d_forward"
    kH, kW = _kernel(kernel_size, who)
    stride = kH if stride is None and kH == kW else stride
    if stride is None:
        raise ValueError(f"{who} expected stride for a non-square kernel {kH}x{kW}, got None")
    stride = check_int("stride", stride, minimum=1, who=who)
    X = _images(X, who)
    _output_size(X.shape[2], X.shape[3], kH, kW, stride, 0, who)
    return _max_pool2d_forward(X, kH, kW, stride)


def _max_pool2d_forward(X, kH, kW, stride):
    # One pass per offset (a, b) of the window, over the (N, C, H_out, W_out) grid of window corners:
    # kH*kW vectorized steps (4 for a 2x2 window), never a loop over pixels. A later offset replaces
    # the running maximum only when it is strictly larger, so the first maximum wins a tie.
    H_out, W_out = (X.shape[2] - kH) // stride + 1, (X.shape[3] - kW) // stride + 1
    rows, cols = slice(0, stride * H_out, stride), slice(0, stride * W_out, stride)
    out = X[:, :, rows, cols].copy()                                  # offset (0, 0)
    argmax = np.zeros(out.shape, dtype=np.intp)                       # index a * kW + b of the maximum
    for t in range(1, kH * kW):
        a, b = divmod(t, kW)
        candidate = X[:, :, a:a + stride * H_out:stride, b:b + stride * W_out:stride]
        larger = candidate > out
        np.copyto(out, candidate, where=larger)
        np.copyto(argmax, t, where=larger)
    return out, (X.shape, (kH, kW), stride, argmax)


def max_pool2d_backward(dout, cache):
    r"""The backward pass of max-pooling: a router that sends each gradient to its window's maximum.

    .. math:: dX_{n,c,y,x} = \sum_{i,j} \text{dout}_{n,c,i,j}\;
              [\,(y, x) = \text{the position of the maximum of window } (i, j)\,]

    Every other entry of a window gets zero: a small change to it does not
    change the maximum. Where windows overlap (stride < kernel), a pixel that
    is the maximum of several windows collects all their gradients.

    Args:
        dout: ∂L/∂out (N, C, H_out, W_out).
        cache: from :func:`max_pool2d_forward`.

    Returns:
        dX: (N, C, H, W).
    """
    X_shape, (kH, kW), stride, argmax = cache
    dout = check_dout(dout, argmax.shape, who="max_pool2d_backward")
    return _max_pool2d_backward(dout, cache)


def _max_pool2d_backward(dout, cache):
    (N, C, H, W), (kH, kW), stride, argmax = cache
    H_out, W_out = argmax.shape[2:]
    dX = np.zeros((N, C, H, W), dtype=dout.dtype)
    # offset by offset, as in the forward pass; += so that overlapping windows add up
    for t in range(kH * kW):
        a, b = divmod(t, kW)
        dX[:, :, a:a + stride * H_out:stride, b:b + stride * W_out:stride] += np.where(argmax == t, dout, 0.0)
    return dX
