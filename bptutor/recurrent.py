r"""A vanilla recurrent network and backpropagation through time (chapter 14).

One step of a recurrent layer reads an input :math:`x_t` and the previous
hidden state :math:`h_{t-1}`, with the *same* weights at every step:

.. math::
    z_t = x_t W_{xh} + h_{t-1} W_{hh} + b, \qquad h_t = f(z_t)

Unrolled over :math:`T` steps this is a deep network whose layers share their
weights, so its backward pass is ordinary backprop on the unrolled graph,
*backpropagation through time* (BPTT). Going from the last step to the first,
the gradient at :math:`h_t` collects what the output at step :math:`t` sends
and what step :math:`t+1` sends back:

.. math::
    \frac{\partial L}{\partial h_t} = \frac{\partial L_t}{\partial h_t}
        + \Big(\frac{\partial L}{\partial h_{t+1}} \odot f'(z_{t+1})\Big) W_{hh}^\top,
    \qquad
    \frac{\partial L}{\partial W_{hh}} = \sum_t h_{t-1}^\top \Big(\frac{\partial L}{\partial h_t} \odot f'(z_t)\Big)

and the shared weights **add up** the contributions of every step.

Here: :func:`rnn_step_forward` / :func:`rnn_step_backward` (one step, the
``(out, cache)`` pair a learner writes), :class:`RNN` (the layer, with
truncated BPTT), :class:`LastStep` and :class:`TimeDistributed` (to put a
``Linear`` read-out after it in a ``Sequential``) and :func:`clip_grad_norm`.
The LSTM is in :mod:`bptutor.lstm`, real-time recurrent learning in
:mod:`bptutor.rtrl`, tasks whose memory length we choose in
:mod:`bptutor.sequence_tasks`.

Shapes: ``X`` (N, T, D), hidden states (N, T, H), ``W_xh`` (D, H),
``W_hh`` (H, H), ``b`` (H,). ``W`` is stored as (in, out), so PyTorch's
``weight_ih_l0`` is ``W_xh.T`` and ``weight_hh_l0`` is ``W_hh.T``; PyTorch has
two biases, ``bias_ih_l0 + bias_hh_l0`` is our ``b``.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import as_array, check_choice, check_finite, check_float, check_int, check_rng, check_shape, describe
from .layers import Module, Parameter, check_dout, require_cache

#: The nonlinearities an :class:`RNN` offers: PyTorch's ``nn.RNN`` offers the first two; ``"linear"``
#: (no nonlinearity, :math:`f(z) = z`) is the case the theory of vanishing gradients solves exactly.
NONLINEARITIES = ("tanh", "relu", "linear")


# --- small checks shared with lstm.py and rtrl.py ---------------------------------------------------------
def check_nonlinearity(nonlinearity, who: str) -> str:
    if not isinstance(nonlinearity, str):
        raise TypeError(f"{who} expected nonlinearity to be one of {list(NONLINEARITIES)}, "
                        f"got {describe(nonlinearity)}")
    return check_choice("nonlinearity", nonlinearity, NONLINEARITIES, who=who)


def check_bptt_steps(bptt_steps, who: str) -> int | None:
    if bptt_steps is None:
        return None
    return check_int("bptt_steps", bptt_steps, minimum=1, who=who)


def check_dtype(dtype, who: str) -> np.dtype:
    try:
        dt = np.dtype(dtype)
        ok = dtype is not None and dt in (np.float32, np.float64)
    except TypeError:
        ok = False
    if not ok:
        raise TypeError(f"{who} expected dtype to be float32 or float64, got {describe(dtype)}")
    return dt


def check_sequences(X, D: int, who: str) -> np.ndarray:
    """``X`` as a float array of shape (N, T, D) with N, T >= 1."""
    X = as_array("X", X, who=who)
    check_shape("X", X, ("N", "T", D), who=who)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{who} expected X with at least one sequence (N >= 1) of at least one step "
                         f"(T >= 1), got shape {X.shape}")
    return X


def check_state(name: str, state, N: int, H: int, who: str) -> np.ndarray | None:
    """An initial state (N, H), or None."""
    if state is None:
        return None
    state = as_array(name, state, who=who)
    check_shape(name, state, (N, H), who=who)
    return state


def _activate(Z: np.ndarray, nonlinearity: str) -> np.ndarray:
    """``f(Z)`` in place (tanh, relu or linear); returns Z."""
    if nonlinearity == "tanh":
        return np.tanh(Z, out=Z)
    if nonlinearity == "relu":
        return np.maximum(Z, 0, out=Z)
    return Z


def _slope(Hs: np.ndarray, nonlinearity: str) -> np.ndarray:
    """``f'(z)`` from the outputs ``h = f(z)``: :math:`1 - h^2` for tanh, :math:`[h > 0]` for relu, 1 for linear."""
    if nonlinearity == "tanh":
        return 1.0 - Hs * Hs
    if nonlinearity == "relu":
        return (Hs > 0).astype(Hs.dtype)
    return np.ones_like(Hs)


# --- one step, as a learner writes it ---------------------------------------------------------------------
def rnn_step_forward(x, h_prev, W_xh, W_hh, b, nonlinearity: str = "tanh"):
    r"""One step of a vanilla RNN, :math:`h = f(x W_{xh} + h_{prev} W_{hh} + b)`.

    Args:
        x: inputs of this step (N, D).
        h_prev: previous hidden state (N, H).
        W_xh: input-to-hidden weights (D, H).
        W_hh: hidden-to-hidden weights (H, H).
        b: bias (H,).
        nonlinearity: ``"tanh"``, ``"relu"`` or ``"linear"``.

    Returns:
        ``(h, cache)``: the new hidden state (N, H) and what :func:`rnn_step_backward` needs.
    """
    who = "rnn_step_forward"
    check_nonlinearity(nonlinearity, who)
    W_xh = as_array("W_xh", W_xh, ndim=2, who=who)
    D, H = W_xh.shape
    W_hh = as_array("W_hh", W_hh, who=who)
    check_shape("W_hh", W_hh, (H, H), who=who)
    b = as_array("b", b, who=who)
    check_shape("b", b, (H,), who=who)
    x = as_array("x", x, who=who)
    check_shape("x", x, ("N", D), who=who)
    h_prev = as_array("h_prev", h_prev, who=who)
    check_shape("h_prev", h_prev, (x.shape[0], H), who=who)
    h = _activate(x @ W_xh + h_prev @ W_hh + b, nonlinearity)  # (N, H)
    return h, (x, h_prev, W_xh, W_hh, h, nonlinearity)


def rnn_step_backward(dh, cache):
    r"""Backward pass of :func:`rnn_step_forward`.

    .. math::
        dz = dh \odot f'(z), \quad dx = dz\,W_{xh}^\top, \quad dh_{prev} = dz\,W_{hh}^\top, \quad
        dW_{xh} = x^\top dz, \quad dW_{hh} = h_{prev}^\top dz, \quad db = \textstyle\sum_n dz_{n,:}

    with :math:`f'(z) = 1 - h^2` for tanh, :math:`[h > 0]` for relu (both read off the output) and 1 for linear.

    Args:
        dh: ∂L/∂h (N, H), everything that reaches this step's output.
        cache: from :func:`rnn_step_forward`.

    Returns:
        ``(dx, dh_prev, dW_xh, dW_hh, db)`` with the shapes of ``x``, ``h_prev``, ``W_xh``, ``W_hh``, ``b``.
    """
    if not (isinstance(cache, tuple) and len(cache) == 6):
        raise TypeError(f"rnn_step_backward expected the cache returned by rnn_step_forward, got {describe(cache)}")
    x, h_prev, W_xh, W_hh, h, nonlinearity = cache
    dh = check_dout(dh, h.shape, who="rnn_step_backward")
    dz = dh * _slope(h, nonlinearity)  # (N, H)
    return dz @ W_xh.T, dz @ W_hh.T, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0)


# --- the layer ----------------------------------------------------------------------------------------------
def bptt_hidden(dH, slope, W_hh, bptt_steps):
    r"""The backward recursion of BPTT: :math:`dz_t = \partial L/\partial h_t \odot f'(z_t)` for every step.

    Untruncated, :math:`g_t = dH_t + dz_{t+1} W_{hh}^\top` (the gradient at :math:`h_t`)
    and :math:`dz_t = g_t \odot f'(z_t)`, from :math:`t = T-1` down to 0. Truncated to
    :math:`k` steps, the gradient of the output at step :math:`t` passes back through
    steps :math:`t, t-1, \dots, t-k+1` only (Williams & Peng 1990's BPTT(k)): it reaches
    :math:`h_{t-k}`, which enters :math:`dW_{hh}`, and no further. The recursion then keeps
    one gradient per output still in reach, at most :math:`k` (an (m, N, H) stack), so it
    costs :math:`k` times the untruncated one.

    Args:
        dH: ∂L/∂h_t from the outputs, time-major (T, N, H).
        slope: :math:`f'(z_t)`, (T, N, H).
        W_hh: (H, H).
        bptt_steps: k, or None for full BPTT.

    Returns:
        ``(dZ, dh0, G)``: dZ (T, N, H), the gradient at the initial state (N, H), and
        G (T, N, H), the total gradient at each :math:`h_t` (through every path in reach).
    """
    T = dH.shape[0]
    dZ = np.empty_like(slope)
    G = np.empty_like(slope)
    W_hhT = W_hh.T
    if bptt_steps is None or bptt_steps >= T:
        g = dH[T - 1]
        for t in range(T - 1, -1, -1):
            G[t] = g
            np.multiply(g, slope[t], out=dZ[t])
            g = dZ[t] @ W_hhT          # (N, H): what step t sends back to h_{t-1}
            if t:
                g += dH[t - 1]
        return dZ, g, G
    k = bptt_steps
    ages = dH[T - 1][None]            # (m, N, H): ages[j] comes from the output at step t + j
    for t in range(T - 1, -1, -1):
        np.sum(ages, axis=0, out=G[t])
        np.multiply(G[t], slope[t], out=dZ[t])
        if t == 0:
            break
        # outputs t .. t+k-2 may pass through step t-1 too; output t+k-1 has used up its k steps
        sent = (ages[:k - 1] * slope[t]) @ W_hhT
        ages = np.concatenate([dH[t - 1][None], sent])
    return dZ, dZ[0] @ W_hhT, G


class RNN(Module):
    r"""A vanilla (Elman) recurrent layer over whole sequences, trained by BPTT.

    .. math:: h_t = f(x_t W_{xh} + h_{t-1} W_{hh} + b), \qquad t = 1, \dots, T, \qquad h_0 \text{ given (default 0)}

    ``forward`` returns every hidden state; ``backward`` takes the gradient at
    every hidden state (zeros where a step has no loss) and runs BPTT (see
    :func:`bptt_hidden`). The inputs' product :math:`X W_{xh}` is one matrix
    product over all steps, and so are :math:`dW_{xh}`, :math:`dW_{hh}` and
    :math:`dX` in the backward pass: only the recursion through :math:`W_{hh}`
    is a loop over time.

    Args:
        input_size: D >= 1.
        hidden_size: H >= 1.
        nonlinearity: ``"tanh"``, ``"relu"`` or ``"linear"`` (:math:`f(z) = z`).
        bptt_steps: None (full BPTT) or k >= 1: the gradient of each step's
            output flows back through at most k steps.
        rng: generator or seed. Weights are drawn from
            :math:`U(-1/\sqrt H, 1/\sqrt H)` as PyTorch does, ``W_xh`` first; ``b`` starts at 0.
        dtype: float64 (default) or float32.

    Attributes:
        W_xh: Parameter (D, H); W_hh: Parameter (H, H); b: Parameter (H,), registered in that order.
        dh0: ∂L/∂h_0 (N, H) after ``backward``.
        dH_total: ∂L/∂h_t through every path (N, T, H) after ``backward``: the
            gradient that flows back through time, for measuring how it vanishes.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bptt_steps: int | None = None, rng=0, dtype=np.float64):
        super().__init__()
        who = "RNN"
        D = check_int("input_size", input_size, minimum=1, who=who)
        H = check_int("hidden_size", hidden_size, minimum=1, who=who)
        self.nonlinearity = check_nonlinearity(nonlinearity, who)
        self.bptt_steps = check_bptt_steps(bptt_steps, who)
        dtype = check_dtype(dtype, who)
        rng = check_rng(rng)
        self.input_size, self.hidden_size = D, H
        bound = 1.0 / math.sqrt(H)
        self.W_xh = Parameter(rng.uniform(-bound, bound, size=(D, H)).astype(dtype), name="W_xh")
        self.W_hh = Parameter(rng.uniform(-bound, bound, size=(H, H)).astype(dtype), name="W_hh")
        self.b = Parameter(np.zeros(H, dtype=dtype), name="b")
        self._params = [("W_xh", self.W_xh), ("W_hh", self.W_hh), ("b", self.b)]
        self._cache = None
        self.dh0 = None
        self.dH_total = None

    @classmethod
    def from_arrays(cls, W_xh, W_hh, b, nonlinearity: str = "tanh", bptt_steps: int | None = None) -> "RNN":
        """A layer holding copies of the given weights (examples by hand, PyTorch parity).

        Args:
            W_xh: (D, H); its dtype (float32 or float64) is the layer's.
            W_hh: (H, H).
            b: (H,).
        """
        who = "RNN.from_arrays"
        W_xh = as_array("W_xh", W_xh, ndim=2, who=who)
        if 0 in W_xh.shape:
            raise ValueError(f"{who} expected W_xh of shape (D, H) with D >= 1 and H >= 1, got {W_xh.shape}")
        D, H = W_xh.shape
        W_hh = as_array("W_hh", W_hh, who=who)
        check_shape("W_hh", W_hh, (H, H), who=who)
        b = as_array("b", b, who=who)
        check_shape("b", b, (H,), who=who)
        for name, A in (("W_xh", W_xh), ("W_hh", W_hh), ("b", b)):
            check_finite(name, A, who=who)
        layer = cls(D, H, nonlinearity, bptt_steps, rng=0, dtype=W_xh.dtype)
        layer.W_xh.data[...], layer.W_hh.data[...], layer.b.data[...] = W_xh, W_hh, b
        return layer

    def forward(self, X, h0=None) -> np.ndarray:
        """All hidden states: X (N, T, D), h0 (N, H) or None (zeros) -> (N, T, H)."""
        who = repr(self)
        X = check_sequences(X, self.input_size, who)
        N, T, D = X.shape
        H = self.hidden_size
        h0 = check_state("h0", h0, N, H, who)
        dtype = np.result_type(X.dtype, self.W_xh.data.dtype)
        X_tm = np.ascontiguousarray(X.transpose(1, 0, 2), dtype=dtype)   # (T, N, D), time-major
        Hs = (X_tm.reshape(T * N, D) @ self.W_xh.data).reshape(T, N, H)  # every step's x_t W_xh at once
        Hs += self.b.data
        h0 = np.zeros((N, H), dtype=dtype) if h0 is None else h0.astype(dtype)  # a copy: the cache owns it
        h, W_hh = h0, self.W_hh.data
        for t in range(T):
            z = Hs[t]
            z += h @ W_hh
            h = _activate(z, self.nonlinearity)       # written in place: Hs[t] is now h_t
        self._cache = (X_tm, h0, Hs)
        return np.ascontiguousarray(Hs.transpose(1, 0, 2))            # (N, T, H)

    def backward(self, dH, input_grad: bool = True) -> np.ndarray | None:
        """Run BPTT: add into ``W_xh.grad``, ``W_hh.grad``, ``b.grad``; return dX (N, T, D).

        Args:
            dH: ∂L/∂h_t for every step (N, T, H), zeros where a step has no loss.
            input_grad: False skips dX (returns None), as ``Linear.backward`` does.

        Returns:
            dX (N, T, D), or None. ``self.dh0`` (N, H) and ``self.dH_total`` (N, T, H) are set too.
        """
        X_tm, h0, Hs = require_cache(self)
        T, N, H = Hs.shape
        who = repr(self)
        dH = check_dout(dH, (N, T, H), who=who)
        if not isinstance(input_grad, bool):
            raise TypeError(f"{who}.backward expected input_grad to be True or False, got {describe(input_grad)}")
        dH_tm = dH.transpose(1, 0, 2).astype(Hs.dtype, copy=False)      # (T, N, H), a view
        dZ, dh0, G = bptt_hidden(dH_tm, _slope(Hs, self.nonlinearity), self.W_hh.data, self.bptt_steps)
        dZ2 = dZ.reshape(T * N, H)
        H_prev = np.concatenate([h0[None], Hs[:-1]]).reshape(T * N, H)  # h_{t-1} for every step
        self.W_xh.grad += X_tm.reshape(T * N, -1).T @ dZ2               # one product over all steps
        self.W_hh.grad += H_prev.T @ dZ2
        self.b.grad += dZ2.sum(axis=0)
        self.dh0 = dh0
        self.dH_total = G.transpose(1, 0, 2)
        if not input_grad:
            return None
        return np.ascontiguousarray((dZ2 @ self.W_xh.data.T).reshape(T, N, -1).transpose(1, 0, 2))

    def __repr__(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        extra += "" if self.bptt_steps is None else f", bptt_steps={self.bptt_steps}"
        extra += ", dtype=float32" if self.W_xh.data.dtype == np.float32 else ""
        return f"RNN({self.input_size}, {self.hidden_size}{extra})"


# --- read-outs: a recurrent layer inside a Sequential -----------------------------------------------------
class LastStep(Module):
    r"""Keep only the last step of a sequence: (N, T, H) -> (N, H), for many-to-one tasks.

    .. math:: \text{out} = h_T, \qquad \frac{\partial L}{\partial h_t} = \begin{cases} dout & t = T \\ 0 & t < T \end{cases}
    """

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, X) -> np.ndarray:
        X = as_array("X", X, who="LastStep()")
        check_shape("X", X, ("N", "T", "H"), who="LastStep()")
        if X.shape[1] == 0:
            raise ValueError(f"LastStep() expected X with at least one step, got shape {X.shape}")
        self._cache = (X.shape, X.dtype)
        return X[:, -1].copy()

    def backward(self, dout) -> np.ndarray:
        shape, dtype = require_cache(self)
        dout = check_dout(dout, (shape[0], shape[2]), who="LastStep()")
        dX = np.zeros(shape, dtype=np.result_type(dtype, dout.dtype))
        dX[:, -1] = dout
        return dX

    def __repr__(self) -> str:
        return "LastStep()"


class TimeDistributed(Module):
    r"""Apply a module to every step of a sequence: (N, T, H) -> (N, T, C), for many-to-many tasks.

    The steps are stacked into one batch of N T rows, so ``TimeDistributed(Linear(H, C))``
    is one matrix product, and its weight gradient sums over the steps, as a shared
    weight's must:

    .. math:: y_t = g(h_t)\ \forall t, \qquad \frac{\partial L}{\partial \theta_g} = \sum_t \frac{\partial L}{\partial y_t}\frac{\partial y_t}{\partial \theta_g}

    Args:
        module: a ``Module`` taking (M, H) and returning (M, C), e.g. ``Linear(H, C)``.
    """

    def __init__(self, module: Module):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"TimeDistributed expected module to be a bptutor Module, got {describe(module)}")
        self.module = module
        self._modules = [("module", module)]
        self._cache = None

    def forward(self, X) -> np.ndarray:
        X = as_array("X", X, who=repr(self))
        check_shape("X", X, ("N", "T", "H"), who=repr(self))
        N, T = X.shape[:2]
        out = self.module.forward(X.reshape(N * T, -1))
        self._cache = (N, T, out.shape[1:])
        return out.reshape(N, T, *out.shape[1:])

    def backward(self, dout) -> np.ndarray:
        N, T, rest = require_cache(self)
        dout = check_dout(dout, (N, T, *rest), who=repr(self))
        dX = self.module.backward(dout.reshape(N * T, *rest))
        return dX.reshape(N, T, *dX.shape[1:])

    def __repr__(self) -> str:
        return f"TimeDistributed({self.module!r})"


# --- gradient clipping ------------------------------------------------------------------------------------
def clip_grad_norm(parameters, max_norm: float) -> float:
    r"""Rescale the gradients in place so that their joint norm is at most ``max_norm``.

    .. math:: \|g\| = \sqrt{\textstyle\sum_p \|g_p\|^2}, \qquad
        g_p \leftarrow g_p \cdot \min\Big(1, \frac{\text{max\_norm}}{\|g\|}\Big)

    Pascanu, Mikolov & Bengio (2013) proposed it against exploding gradients in
    RNNs: the step keeps its direction and loses its size. It cannot help a
    vanishing gradient, which is already small. Like PyTorch's
    ``clip_grad_norm_`` (which adds 1e-6 to the denominator).

    Args:
        parameters: a list of ``Parameter`` (e.g. ``model.parameters()``).
        max_norm: the largest norm allowed, > 0.

    Returns:
        the joint norm *before* clipping (a float, possibly larger than any float32).

    Raises:
        ValueError: a gradient holds NaN or infinity (nothing is changed).
    """
    who = "clip_grad_norm"
    params = list(parameters) if isinstance(parameters, (list, tuple)) else None
    if params is None or not all(isinstance(p, Parameter) for p in params):
        raise TypeError(f"{who} expected parameters to be a list of Parameter, got {describe(parameters)}")
    max_norm = check_float("max_norm", max_norm, minimum=0.0, strict_min=True, who=who)
    for p in params:
        check_finite(f"the gradient of {p.name or 'a parameter'}", p.grad, who=who)
    # scaled by the largest entry first, so that squaring a huge gradient cannot overflow
    scale = max((float(np.max(np.abs(p.grad))) for p in params if p.grad.size), default=0.0)
    if scale == 0.0:
        return 0.0
    total = scale * math.sqrt(sum(float(np.sum((p.grad / scale) ** 2)) for p in params))
    factor = max_norm / (total + 1e-6)
    if factor < 1.0:
        for p in params:
            p.grad *= factor
    return total
