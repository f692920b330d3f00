r"""Real-time recurrent learning (RTRL): the gradient of an RNN in forward mode.

Williams & Zipser (1989). Instead of storing the whole sequence and going
back through it (BPTT), carry forward, for every hidden unit, its derivative
with respect to every parameter, the *sensitivity* :math:`P_t = \partial h_t / \partial\theta`
(an :math:`H \times |\theta|` matrix per sequence). With
:math:`z_t = x_t W_{xh} + h_{t-1} W_{hh} + b` and :math:`h_t = f(z_t)`:

.. math::
    P_t = \operatorname{diag}\big(f'(z_t)\big)\,\Big(\underbrace{\frac{\partial z_t}{\partial \theta}\Big|_{h_{t-1}\ \text{fixed}}}_{\text{immediate}}
          + W_{hh}^\top P_{t-1}\Big), \qquad P_0 = 0, \qquad
    \frac{\partial L}{\partial \theta} = \sum_t \frac{\partial L_t}{\partial h_t}\,P_t

The immediate part is :math:`\partial z_{t,j}/\partial W_{xh}[a, c] = x_{t,a}\,[j = c]`,
:math:`\partial z_{t,j}/\partial W_{hh}[a, c] = h_{t-1,a}\,[j = c]` and
:math:`\partial z_{t,j}/\partial b_c = [j = c]`.

The gradient is the same as BPTT's, to rounding, and it is available at every
step without waiting for the sequence to end (online learning), but the price
is steep: :math:`|\theta| \approx H^2`, so :math:`P_t` holds about :math:`H^3` numbers
per sequence and :math:`W_{hh}^\top P_{t-1}` costs about :math:`H^4` multiply-adds per
step, against BPTT's :math:`H^2` per step and :math:`T H` stored numbers.
:func:`recurrent_costs` counts both.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_int, check_shape, describe
from .recurrent import RNN, _activate, _slope, check_sequences, check_state


def rtrl_gradients(rnn: RNN, X, dH, h0=None) -> dict:
    r"""The gradient of :math:`L` with respect to the RNN's parameters, by forward-mode RTRL.

    ``dH[:, t]`` (∂L/∂h_t) is used at step t, as soon as :math:`h_t` is known, so
    a learner could update the weights online; here the per-step gradients are
    summed over the sequence to compare with BPTT. Neither ``rnn``'s cache nor
    its ``.grad`` is touched.

    Args:
        rnn: a :class:`bptutor.recurrent.RNN` without ``bptt_steps`` (RTRL is exact).
        X: inputs (N, T, D).
        dH: ∂L/∂h_t for every step (N, T, H).
        h0: initial state (N, H) or None (zeros).

    Returns:
        ``{"W_xh": (D, H), "W_hh": (H, H), "b": (H,)}``, float64 arrays.
    """
    who = "rtrl_gradients"
    if not isinstance(rnn, RNN):
        raise TypeError(f"{who} expected rnn to be a bptutor.recurrent.RNN, got {describe(rnn)}")
    if rnn.bptt_steps is not None:
        raise ValueError(f"{who} expected an RNN without bptt_steps (RTRL computes the full gradient), "
                         f"got bptt_steps={rnn.bptt_steps}")
    X = check_sequences(X, rnn.input_size, who).astype(np.float64)
    N, T, D = X.shape
    H = rnn.hidden_size
    dH = as_array("dH", dH, who=who)
    check_shape("dH", dH, (N, T, H), who=who)
    h0 = check_state("h0", h0, N, H, who)
    W_xh, W_hh, b = (p.data.astype(np.float64) for p in (rnn.W_xh, rnn.W_hh, rnn.b))
    n_xh, n_hh = D * H, H * H
    P = np.zeros((N, H, n_xh + n_hh + H))           # sensitivities ∂h_j/∂θ, one row per unit j
    P_xh = P[:, :, :n_xh].reshape(N, H, D, H)       # views into P: [n, j, a, c] = ∂h_j/∂W_xh[a, c]
    P_hh = P[:, :, n_xh:n_xh + n_hh].reshape(N, H, H, H)
    P_b = P[:, :, n_xh + n_hh:]
    grad = np.zeros(P.shape[2])
    units = np.arange(H)
    h = np.zeros((N, H)) if h0 is None else h0.astype(np.float64)
    for t in range(T):
        x = X[:, t]
        h_new = _activate(x @ W_xh + h @ W_hh + b, rnn.nonlinearity)
        P[...] = np.matmul(W_hh.T, P)                # through the recurrence: Σ_i W_hh[i, j] P[i]
        P_xh[:, units, :, units] += x[None]          # immediate: x_a at [j, a, c = j]
        P_hh[:, units, :, units] += h[None]          # immediate: h_{t-1, a} at [j, a, c = j]
        P_b[:, units, units] += 1.0
        P *= _slope(h_new, rnn.nonlinearity)[:, :, None]
        grad += np.einsum("nj,njp->p", dH[:, t], P)  # this step's share of ∂L/∂θ, available now
        h = h_new
    return {"W_xh": grad[:n_xh].reshape(D, H), "W_hh": grad[n_xh:n_xh + n_hh].reshape(H, H),
            "b": grad[n_xh + n_hh:].copy()}


def recurrent_costs(N: int, T: int, D: int, H: int) -> dict:
    r"""Numbers stored and multiply-adds of one gradient of an RNN, by BPTT and by RTRL.

    Leading terms, per the formulas in the module docstring, with :math:`|\theta| = DH + H^2 + H`:

    * BPTT stores the inputs and every hidden state, :math:`NT(D + H)` numbers, and does
      about :math:`3NT(DH + H^2)` multiply-adds (forward, the recursion, the weight gradients
      and dX: one product of each size forward and two back);
    * RTRL stores the sensitivities, :math:`NH|\theta|` numbers, whatever T, and does about
      :math:`NT\,H^2|\theta| \approx NTH^4` multiply-adds (the product :math:`W_{hh}^\top P`).

    Args:
        N, T, D, H: batch, length, inputs and hidden units, each >= 1.

    Returns:
        ``{"bptt_memory", "rtrl_memory", "bptt_madds", "rtrl_madds"}``, integers.
    """
    who = "recurrent_costs"
    N, T, D, H = (check_int(name, v, minimum=1, who=who) for name, v in (("N", N), ("T", T), ("D", D), ("H", H)))
    params = D * H + H * H + H
    return {"bptt_memory": N * T * (D + H), "rtrl_memory": N * H * params,
            "bptt_madds": 3 * N * T * (D * H + H * H),
            "rtrl_madds": N * T * (H * H * params + H * params + D * H + H * H)}
