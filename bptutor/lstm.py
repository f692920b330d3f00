r"""The long short-term memory (LSTM) layer: a recurrence whose cell state carries the gradient.

Hochreiter & Schmidhuber (1997), with the forget gate of Gers, Schmidhuber &
Cummins (2000), in PyTorch's form and gate order (input, forget, cell, output):

.. math::
    a_t &= x_t W_{xh} + h_{t-1} W_{hh} + b = [a^i, a^f, a^g, a^o] \quad (N, 4H) \\
    i_t &= \sigma(a^i), \quad f_t = \sigma(a^f), \quad g_t = \tanh(a^g), \quad o_t = \sigma(a^o) \\
    c_t &= f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)

Why it helps: along the cell state, one step back multiplies the gradient by
the forget gate only,

.. math:: \frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t)
    \quad\Rightarrow\quad \frac{\partial L}{\partial c_{t-1}} \mathrel{+}= \frac{\partial L}{\partial c_t} \odot f_t,

with no weight matrix and no squashing derivative in between: while the
network keeps :math:`f_t` near 1 the gradient passes many steps unchanged,
where a vanilla RNN's shrinks by a factor of about the spectral radius of
:math:`W_{hh}` per step.

Shapes: ``X`` (N, T, D), ``W_xh`` (D, 4H), ``W_hh`` (H, 4H), ``b`` (4H,), with the
four gates' columns in the order i, f, g, o. PyTorch's ``weight_ih_l0`` is
``W_xh.T``, ``weight_hh_l0`` is ``W_hh.T`` and ``bias_ih_l0 + bias_hh_l0`` is ``b``.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import as_array, check_finite, check_float, check_int, check_rng, check_shape, describe
from .layers import Module, Parameter, check_dout, require_cache
from .recurrent import check_bptt_steps, check_dtype, check_sequences, check_state


def _gate_constants(H: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    r"""``(scale, shift)`` (4H,) such that the gates are :math:`\tanh(a \cdot s) \cdot s + \text{shift}`.

    :math:`\sigma(a) = \tfrac12 + \tfrac12\tanh(a/2)` (never overflows), so with
    :math:`s = \tfrac12` and shift :math:`\tfrac12` on the i, f, o columns and :math:`s = 1`,
    shift 0 on the g columns, one ``tanh`` over the whole contiguous row computes all four
    gates (elementwise work on column slices is several times slower in numpy).
    """
    scale = np.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H:3 * H] = 1.0
    shift = np.full(4 * H, 0.5, dtype=dtype)
    shift[2 * H:3 * H] = 0.0
    return scale, shift


def _gates(A: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Pre-activations (..., 4H) -> gate values in place: sigmoid on i, f, o and tanh on g."""
    A *= scale
    np.tanh(A, out=A)
    A *= scale
    A += shift
    return A


def lstm_step_forward(x, h_prev, c_prev, W_xh, W_hh, b):
    r"""One LSTM step (see the module docstring for the formulas).

    Args:
        x: (N, D); h_prev: (N, H); c_prev: (N, H);
        W_xh: (D, 4H); W_hh: (H, 4H); b: (4H,), gates in the order i, f, g, o.

    Returns:
        ``(h, c, cache)``: the new hidden and cell states (N, H) and what
        :func:`lstm_step_backward` needs.
    """
    who = "lstm_step_forward"
    W_hh = as_array("W_hh", W_hh, ndim=2, who=who)
    H = W_hh.shape[0]
    check_shape("W_hh", W_hh, (H, 4 * H), who=who)
    W_xh = as_array("W_xh", W_xh, ndim=2, who=who)
    check_shape("W_xh", W_xh, ("D", 4 * H), who=who)
    b = as_array("b", b, who=who)
    check_shape("b", b, (4 * H,), who=who)
    x = as_array("x", x, who=who)
    check_shape("x", x, ("N", W_xh.shape[0]), who=who)
    h_prev = as_array("h_prev", h_prev, who=who)
    check_shape("h_prev", h_prev, (x.shape[0], H), who=who)
    c_prev = as_array("c_prev", c_prev, who=who)
    check_shape("c_prev", c_prev, (x.shape[0], H), who=who)
    A = x @ W_xh + h_prev @ W_hh + b
    gates = _gates(A, *_gate_constants(H, A.dtype))    # (N, 4H): i, f, g, o
    i, f, g, o = np.split(gates, 4, axis=1)
    c = f * c_prev + i * g
    tc = np.tanh(c)
    return o * tc, c, (x, h_prev, c_prev, W_xh, W_hh, gates, tc)


def lstm_step_backward(dh, dc, cache):
    r"""Backward pass of :func:`lstm_step_forward`.

    .. math::
        dc_t^{\text{tot}} &= dc + dh \odot o \odot (1 - \tanh^2 c_t), \qquad
        dc_{prev} = dc_t^{\text{tot}} \odot f \\
        da^i &= dc^{\text{tot}} \odot g \odot i(1-i), \quad
        da^f = dc^{\text{tot}} \odot c_{prev} \odot f(1-f), \quad
        da^g = dc^{\text{tot}} \odot i \odot (1-g^2), \quad
        da^o = dh \odot \tanh c_t \odot o(1-o)

    and then, as for any affine map, :math:`dx = da\,W_{xh}^\top`,
    :math:`dh_{prev} = da\,W_{hh}^\top`, :math:`dW_{xh} = x^\top da`,
    :math:`dW_{hh} = h_{prev}^\top da`, :math:`db = \sum_n da`.

    Args:
        dh: ∂L/∂h_t (N, H); dc: ∂L/∂c_t (N, H) from the next step (zeros at the last).
        cache: from :func:`lstm_step_forward`.

    Returns:
        ``(dx, dh_prev, dc_prev, dW_xh, dW_hh, db)``.
    """
    if not (isinstance(cache, tuple) and len(cache) == 7):
        raise TypeError(f"lstm_step_backward expected the cache returned by lstm_step_forward, "
                        f"got {describe(cache)}")
    x, h_prev, c_prev, W_xh, W_hh, gates, tc = cache
    dh = check_dout(dh, tc.shape, who="lstm_step_backward")
    dc = as_array("dc", dc, who="lstm_step_backward")
    check_shape("dc", dc, tc.shape, who="lstm_step_backward")
    i, f, g, o = np.split(gates, 4, axis=1)
    dct = dc + dh * o * (1.0 - tc * tc)
    da = np.concatenate([dct * g * i * (1 - i), dct * c_prev * f * (1 - f), dct * i * (1 - g * g),
                         dh * tc * o * (1 - o)], axis=1)               # (N, 4H)
    return da @ W_xh.T, da @ W_hh.T, dct * f, x.T @ da, h_prev.T @ da, da.sum(axis=0)


class LSTM(Module):
    r"""An LSTM layer over whole sequences, trained by backprop through time.

    The interface of :class:`bptutor.recurrent.RNN`: ``forward(X, h0=None, c0=None)``
    returns every hidden state (N, T, H); ``backward(dH)`` takes the gradient at
    every hidden state, adds into the parameters' ``.grad`` and returns dX; the
    input products and the weight gradients are one matrix product over all steps.

    Args:
        input_size: D >= 1.
        hidden_size: H >= 1.
        bptt_steps: None (full BPTT) or k >= 1: each step's output sends its
            gradient back through at most k steps (as in ``RNN``).
        forget_bias: added to the forget gate's bias at initialization. 1.0
            (the default) starts every cell remembering (:math:`f \approx 0.73`),
            as Gers et al. (2000) and Jozefowicz, Zaremba & Sutskever (2015)
            recommend; PyTorch starts at 0.
        rng: generator or seed; weights from :math:`U(-1/\sqrt H, 1/\sqrt H)` as in PyTorch.
        dtype: float64 (default) or float32.

    Attributes:
        W_xh (D, 4H), W_hh (H, 4H), b (4H,): Parameters, registered in that order.
        dh0, dc0: ∂L/∂h_0 and ∂L/∂c_0 (N, H) after ``backward``.
        dH_total, dC_total: ∂L/∂h_t and ∂L/∂c_t through every path (N, T, H) after ``backward``.
    """

    def __init__(self, input_size: int, hidden_size: int, bptt_steps: int | None = None,
                 forget_bias: float = 1.0, rng=0, dtype=np.float64):
        super().__init__()
        who = "LSTM"
        D = check_int("input_size", input_size, minimum=1, who=who)
        H = check_int("hidden_size", hidden_size, minimum=1, who=who)
        self.bptt_steps = check_bptt_steps(bptt_steps, who)
        forget_bias = check_float("forget_bias", forget_bias, who=who)
        dtype = check_dtype(dtype, who)
        rng = check_rng(rng)
        self.input_size, self.hidden_size = D, H
        bound = 1.0 / math.sqrt(H)
        self.W_xh = Parameter(rng.uniform(-bound, bound, size=(D, 4 * H)).astype(dtype), name="W_xh")
        self.W_hh = Parameter(rng.uniform(-bound, bound, size=(H, 4 * H)).astype(dtype), name="W_hh")
        b = np.zeros(4 * H, dtype=dtype)
        b[H:2 * H] = forget_bias
        self.b = Parameter(b, name="b")
        self._params = [("W_xh", self.W_xh), ("W_hh", self.W_hh), ("b", self.b)]
        self._cache = None
        self.dh0 = self.dc0 = self.dH_total = self.dC_total = None

    @classmethod
    def from_arrays(cls, W_xh, W_hh, b, bptt_steps: int | None = None) -> "LSTM":
        """A layer holding copies of ``W_xh`` (D, 4H), ``W_hh`` (H, 4H), ``b`` (4H,)."""
        who = "LSTM.from_arrays"
        W_hh = as_array("W_hh", W_hh, ndim=2, who=who)
        H = W_hh.shape[0]
        if H == 0:
            raise ValueError(f"{who} expected W_hh of shape (H, 4H) with H >= 1, got {W_hh.shape}")
        check_shape("W_hh", W_hh, (H, 4 * H), who=who)
        W_xh = as_array("W_xh", W_xh, ndim=2, who=who)
        check_shape("W_xh", W_xh, ("D", 4 * H), who=who)
        if W_xh.shape[0] == 0:
            raise ValueError(f"{who} expected W_xh of shape (D, {4 * H}) with D >= 1, got {W_xh.shape}")
        b = as_array("b", b, who=who)
        check_shape("b", b, (4 * H,), who=who)
        for name, A in (("W_xh", W_xh), ("W_hh", W_hh), ("b", b)):
            check_finite(name, A, who=who)
        layer = cls(W_xh.shape[0], H, bptt_steps, rng=0, dtype=W_xh.dtype)
        layer.W_xh.data[...], layer.W_hh.data[...], layer.b.data[...] = W_xh, W_hh, b
        return layer

    def forward(self, X, h0=None, c0=None) -> np.ndarray:
        """All hidden states: X (N, T, D), h0 and c0 (N, H) or None (zeros) -> (N, T, H)."""
        who = repr(self)
        X = check_sequences(X, self.input_size, who)
        N, T, D = X.shape
        H = self.hidden_size
        h0 = check_state("h0", h0, N, H, who)
        c0 = check_state("c0", c0, N, H, who)
        dtype = np.result_type(X.dtype, self.W_xh.data.dtype)
        X_tm = np.ascontiguousarray(X.transpose(1, 0, 2), dtype=dtype)      # (T, N, D)
        A = (X_tm.reshape(T * N, D) @ self.W_xh.data).reshape(T, N, 4 * H)  # x_t W_xh for every step at once
        A += self.b.data
        h0 = np.zeros((N, H), dtype=dtype) if h0 is None else h0.astype(dtype)
        c0 = np.zeros((N, H), dtype=dtype) if c0 is None else c0.astype(dtype)
        Hs = np.empty((T, N, H), dtype=dtype)
        Cs = np.empty((T, N, H), dtype=dtype)
        h, c, W_hh = h0, c0, self.W_hh.data
        scale, shift = _gate_constants(H, dtype)
        for t in range(T):
            a = A[t]
            a += h @ W_hh
            _gates(a, scale, shift)                  # A[t] now holds i, f, g, o
            c = np.multiply(a[:, H:2 * H], c, out=Cs[t])
            c += a[:, :H] * a[:, 2 * H:3 * H]        # c_t = f c_{t-1} + i g
            h = np.tanh(c, out=Hs[t])
            h *= a[:, 3 * H:]                        # h_t = o tanh(c_t)
        self._cache = (X_tm, h0, c0, A, Cs, Hs)
        return np.ascontiguousarray(Hs.transpose(1, 0, 2))

    def backward(self, dH, input_grad: bool = True) -> np.ndarray | None:
        """BPTT through the LSTM: add into the parameters' ``.grad``; return dX (N, T, D).

        Args:
            dH: ∂L/∂h_t for every step (N, T, H).
            input_grad: False skips dX and returns None.
        """
        X_tm, h0, c0, A, Cs, Hs = require_cache(self)
        T, N, H = Hs.shape
        who = repr(self)
        dH = check_dout(dH, (N, T, H), who=who)
        if not isinstance(input_grad, bool):
            raise TypeError(f"{who}.backward expected input_grad to be True or False, got {describe(input_grad)}")
        dH = dH.transpose(1, 0, 2).astype(Hs.dtype, copy=False)           # (T, N, H)
        dA, dh0, dc0, Gh, Gc = self._through_time(dH, A, Cs, c0)
        dA2 = dA.reshape(T * N, 4 * H)
        H_prev = np.concatenate([h0[None], Hs[:-1]]).reshape(T * N, H)
        self.W_xh.grad += X_tm.reshape(T * N, -1).T @ dA2
        self.W_hh.grad += H_prev.T @ dA2
        self.b.grad += dA2.sum(axis=0)
        self.dh0, self.dc0 = dh0, dc0
        self.dH_total, self.dC_total = Gh.transpose(1, 0, 2), Gc.transpose(1, 0, 2)
        if not input_grad:
            return None
        return np.ascontiguousarray((dA2 @ self.W_xh.data.T).reshape(T, N, -1).transpose(1, 0, 2))

    def _through_time(self, dH, A, Cs, c0):
        """The backward recursion over time; returns dA (T, N, 4H), dh0, dc0 and the totals at h_t, c_t.

        Truncated to k steps, a gradient is kept per output still in reach (an (m, N, H)
        stack, as in :func:`bptutor.recurrent.bptt_hidden`).
        """
        T, N, H = dH.shape
        k = self.bptt_steps
        W_hhT = self.W_hh.data.T
        I, F, G, O = (A[..., j * H:(j + 1) * H] for j in range(4))
        TC = np.tanh(Cs)
        C_prev = np.concatenate([c0[None], Cs[:-1]])
        # every step's local derivatives at once, before the loop: da = [dc, dc, dc, dh] * LOCAL
        LOCAL = np.concatenate([G * I * (1 - I), C_prev * F * (1 - F), I * (1 - G * G), TC * O * (1 - O)], axis=-1)
        dTC = O * (1 - TC * TC)                       # ∂h_t/∂c_t
        dA = np.empty_like(A)
        Gh, Gc = np.empty_like(Cs), np.empty_like(Cs)
        if k is None or k >= T:
            gh, gc = dH[T - 1], np.zeros_like(dH[0])
            for t in range(T - 1, -1, -1):
                Gh[t] = gh
                dct = np.multiply(gh, dTC[t], out=Gc[t])
                dct += gc                             # the cell's total gradient
                da = np.multiply(np.concatenate([dct, dct, dct, gh], axis=-1), LOCAL[t], out=dA[t])
                gh = da @ W_hhT
                gc = dct * F[t]                       # the cell-state path: dc_{t-1} = dc_t * f_t
                if t:
                    gh += dH[t - 1]
            return dA, gh, gc, Gh, Gc
        gh, gc = dH[T - 1][None], np.zeros((1, N, H), dtype=dH.dtype)   # (m, N, H): one row per output in reach
        for t in range(T - 1, -1, -1):
            dct = gc + gh * dTC[t]
            da = np.concatenate([dct, dct, dct, gh], axis=-1) * LOCAL[t]   # (m, N, 4H)
            np.sum(da, axis=0, out=dA[t])
            np.sum(gh, axis=0, out=Gh[t])
            np.sum(dct, axis=0, out=Gc[t])
            if t == 0:
                return dA, dA[0] @ W_hhT, Gc[0] * F[0], Gh, Gc
            # outputs t .. t+k-2 may pass through step t-1 too; output t+k-1 has used up its k steps
            gh = np.concatenate([dH[t - 1][None], da[:k - 1] @ W_hhT])
            gc = np.concatenate([np.zeros((1, N, H), dtype=dH.dtype), dct[:k - 1] * F[t]])
        raise AssertionError("unreachable")

    def __repr__(self) -> str:
        extra = "" if self.bptt_steps is None else f", bptt_steps={self.bptt_steps}"
        extra += ", dtype=float32" if self.W_xh.data.dtype == np.float32 else ""
        return f"LSTM({self.input_size}, {self.hidden_size}{extra})"
