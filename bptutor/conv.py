r"""Convolutional layers on NCHW arrays: Conv2d, MaxPool2d, Flatten (chapter 13).

Each follows the contract of :mod:`bptutor.layers`: ``forward(X)`` computes the
output and caches what the backward pass needs; ``backward(dout)`` unpacks
that cache, **adds** ``+=`` each parameter's gradient into its ``.grad`` and
returns ``dX`` with the shape of ``X``. So they go into a ``Sequential`` and
train with ``bptutor.training.fit``::

    model = Sequential(Conv2d(1, 8, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(8 * 4 * 4, 10))

Shapes in letters: ``X`` (N, C, H, W), ``W`` (F, C, kH, kW), ``b`` (F,). The
arithmetic lives in :mod:`bptutor.conv_functional` (the naive loops, ``im2col``
and ``col2im``, the ``(out, cache)`` / ``backward(dout, cache)`` functions);
its names are re-exported here, so ``from bptutor.conv import im2col`` works.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_finite, check_int, check_rng, describe
from .conv_functional import (_conv2d_backward, _conv2d_forward, _images, _kernel, _max_pool2d_backward,
                              _max_pool2d_forward, _output_size, col2im, conv2d_backward, conv2d_backward_naive,
                              conv2d_forward, conv2d_forward_naive, im2col, max_pool2d_backward,
                              max_pool2d_forward)
from .layers import Module, Parameter, check_dout, require_cache

__all__ = ["Conv2d", "MaxPool2d", "Flatten", "im2col", "col2im", "conv2d_forward", "conv2d_backward",
           "conv2d_forward_naive", "conv2d_backward_naive", "max_pool2d_forward", "max_pool2d_backward"]


# --- the layers ---------------------------------------------------------------------------------------------------
def _check_input_grad(input_grad, who: str) -> None:
    if not isinstance(input_grad, bool):
        raise TypeError(f"{who}.backward expected input_grad to be True or False, got {describe(input_grad)}")


class Conv2d(Module):
    r"""A 2-D convolution layer: F filters slid over the image, :math:`\text{out} = W \star X + b`.

    .. math:: \text{out}_{n,f,i,j} = b_f + \sum_{c,a,b'} W_{f,c,a,b'}\, X^{pad}_{n,\,c,\,is+a,\,js+b'}

    Shapes: ``X`` (N, C_in, H, W) -> out (N, C_out, H_out, W_out). Each filter
    has ``C_in * kH * kW`` weights, shared by every position of every image:
    that weight sharing is why a convolution needs far fewer parameters than a
    dense layer with the same input and output.

    Initialization: He/Kaiming normal, :math:`W \sim \mathcal N(0, 2/\text{fan\_in})`
    with :math:`\text{fan\_in} = C_{in} k_H k_W`, the inputs feeding one output
    pixel (the right scale in front of a ReLU, chapter 07); ``init="standard"``
    gives :math:`U[\pm 1/\sqrt{\text{fan\_in}}]`, which is PyTorch's default.
    The bias starts at zero.

    Args:
        in_channels: C_in, >= 1.
        out_channels: C_out (F), the number of filters, >= 1.
        kernel_size: an integer k (a k x k window) or a pair (kH, kW).
        stride: step between windows, >= 1.
        padding: zeros added on each side of H and W, >= 0.
        rng: ``numpy.random.Generator`` or integer seed for the weights.
        init: ``"he_normal"`` (default), ``"standard"`` or ``"zeros"``.
        dtype: ``np.float64`` (default) or ``np.float32``.

    Attributes:
        W: Parameter (C_out, C_in, kH, kW), registered first; b: Parameter (C_out,).
    """

    INITS = ("he_normal", "standard", "zeros")

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride: int = 1, padding: int = 0,
                 rng=0, init: str = "he_normal", dtype=np.float64):
        super().__init__()
        who = "Conv2d"
        self.in_channels = check_int("in_channels", in_channels, minimum=1, who=who)
        self.out_channels = check_int("out_channels", out_channels, minimum=1, who=who)
        self.kernel_size = _kernel(kernel_size, who)
        self.stride = check_int("stride", stride, minimum=1, who=who)
        self.padding = check_int("padding", padding, minimum=0, who=who)
        if not isinstance(init, str) or init not in self.INITS:
            raise ValueError(f"{who} expected init to be one of {list(self.INITS)}, got {describe(init)}")
        try:
            dt = np.dtype(dtype)
        except TypeError:
            dt = None
        if dtype is None or dt not in (np.float32, np.float64):
            raise TypeError(f"{who} expected dtype to be float32 or float64, got {describe(dtype)}")
        rng = check_rng(rng)
        kH, kW = self.kernel_size
        shape = (self.out_channels, self.in_channels, kH, kW)
        fan_in = self.in_channels * kH * kW
        if init == "he_normal":
            W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
        elif init == "standard":
            W = rng.uniform(-1.0 / np.sqrt(fan_in), 1.0 / np.sqrt(fan_in), size=shape)
        else:
            W = np.zeros(shape)
        self.W = Parameter(W.astype(dt), name="W")
        self.b = Parameter(np.zeros(self.out_channels, dtype=dt), name="b")
        self._params = [("W", self.W), ("b", self.b)]
        self._cache = None

    @classmethod
    def from_arrays(cls, W, b, stride: int = 1, padding: int = 0) -> "Conv2d":
        """A layer holding copies of ``W`` (F, C, kH, kW) and ``b`` (F,), for examples worked by hand."""
        who = "Conv2d.from_arrays"
        W = as_array("W", W, who=who)
        if W.ndim != 4 or 0 in W.shape:
            raise ValueError(f"{who} expected W of shape (F, C, kH, kW) with every size >= 1, got {W.shape}")
        check_finite("W", W, who=who)
        b = as_array("b", b, who=who)
        if b.shape != (W.shape[0],):
            raise ValueError(f"{who} expected b of shape ({W.shape[0]},), got {b.shape}")
        check_finite("b", b, who=who)
        layer = cls(W.shape[1], W.shape[0], tuple(W.shape[2:]), stride, padding, init="zeros", dtype=W.dtype)
        layer.W.data[...] = W
        layer.b.data[...] = b
        return layer

    def output_shape(self, H: int, W: int) -> tuple[int, int]:
        """``(H_out, W_out)`` for an input of H x W pixels."""
        return _output_size(check_int("H", H, minimum=1, who=repr(self)), check_int("W", W, minimum=1, who=repr(self)),
                            *self.kernel_size, self.stride, self.padding, repr(self))

    def forward(self, X) -> np.ndarray:
        """out (N, C_out, H_out, W_out) from X (N, C_in, H, W); caches the windows for backward."""
        who = repr(self)
        X = _images(X, who, channels=self.in_channels)
        _output_size(X.shape[2], X.shape[3], *self.kernel_size, self.stride, self.padding, who)
        out, self._cache = _conv2d_forward(X, self.W.data, self.b.data, self.stride, self.padding)
        return out

    def backward(self, dout, input_grad: bool = True) -> np.ndarray | None:
        """Add ``dW``, ``db`` into ``W.grad``, ``b.grad``; return ``dX`` (N, C_in, H, W).

        Args:
            dout: ∂L/∂out (N, C_out, H_out, W_out).
            input_grad: False skips ``dX`` (the col2im half of the work) and
                returns None, for a first layer whose input is data.
        """
        cache = require_cache(self)
        X = cache[0]
        who = repr(self)
        _check_input_grad(input_grad, who)
        dout = check_dout(dout, (X.shape[0], self.out_channels, *self.output_shape(*X.shape[2:])), who=who)
        dX, dW, db = _conv2d_backward(dout, cache, input_grad)
        self.W.grad += dW
        self.b.grad += db
        return dX

    def __repr__(self) -> str:
        kH, kW = self.kernel_size
        k = str(kH) if kH == kW else f"({kH}, {kW})"
        extra = (f", stride={self.stride}" if self.stride != 1 else "") + \
            (f", padding={self.padding}" if self.padding else "")
        return f"Conv2d({self.in_channels}, {self.out_channels}, {k}{extra})"


class MaxPool2d(Module):
    r"""Max-pooling over k x k windows, channel by channel; no parameters.

    .. math:: \text{out}_{n,c,i,j} = \max_{a,b} X_{n,\,c,\,is+a,\,js+b}

    The backward pass routes each gradient to the maximum of its window and
    gives the other entries zero. Ties go to the first maximum in row-major
    order, as in PyTorch. See :func:`max_pool2d_forward`.

    Args:
        kernel_size: an integer k or a pair (kH, kW).
        stride: step between windows, >= 1; None (default) means the kernel
            size, so the windows tile the image without overlapping.
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        who = "MaxPool2d"
        self.kernel_size = _kernel(kernel_size, who)
        if stride is None:
            if self.kernel_size[0] != self.kernel_size[1]:
                raise ValueError(f"{who} expected stride for a non-square kernel {self.kernel_size}, got None")
            stride = self.kernel_size[0]
        self.stride = check_int("stride", stride, minimum=1, who=who)
        self._cache = None

    def forward(self, X) -> np.ndarray:
        """out (N, C, H_out, W_out) from X (N, C, H, W); caches where each maximum was."""
        who = repr(self)
        X = _images(X, who)
        _output_size(X.shape[2], X.shape[3], *self.kernel_size, self.stride, 0, who)
        out, self._cache = _max_pool2d_forward(X, *self.kernel_size, self.stride)
        return out

    def backward(self, dout) -> np.ndarray:
        """dX (N, C, H, W): each entry of ``dout`` sent to its window's maximum."""
        cache = require_cache(self)
        dout = check_dout(dout, cache[3].shape, who=repr(self))
        return _max_pool2d_backward(dout, cache)

    def __repr__(self) -> str:
        kH, kW = self.kernel_size
        k = str(kH) if kH == kW else f"({kH}, {kW})"
        return f"MaxPool2d({k}" + (f", stride={self.stride}" if self.stride != kH else "") + ")"


class Flatten(Module):
    r"""(N, C, H, W) -> (N, C·H·W): the bridge from convolutional to dense layers.

    Row n is image n's channels one after another, each read row by row (numpy's
    C order, the same as ``torch.flatten(x, 1)``). The backward pass only
    reshapes: flattening moves no numbers, so it changes no gradient.
    """

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, X) -> np.ndarray:
        """(N, D) with D the product of X's other dimensions."""
        X = as_array("X", X, who=repr(self))
        if X.ndim < 2:
            raise ValueError(f"{self!r} expected X of shape (N, ...) with at least 2 dimensions, got {X.shape}")
        self._cache = X.shape
        return X.reshape(X.shape[0], -1)

    def backward(self, dout) -> np.ndarray:
        """dout (N, D) reshaped back to the input's shape."""
        shape = require_cache(self)
        dout = check_dout(dout, (shape[0], int(np.prod(shape[1:]))), who=repr(self))
        return dout.reshape(shape)

    def __repr__(self) -> str:
        return "Flatten()"
