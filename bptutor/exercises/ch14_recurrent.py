r"""Exercise checks for chapter 14, recurrent networks and backprop through time.

* ``check_rnn_step_backward``: ``rnn_step_backward(dh, x, h_prev, W_xh, W_hh, b) -> (dx, dh_prev, dW_xh, dW_hh, db)``
* ``check_rnn_backward``: ``rnn_backward(dH, X, h0, W_xh, W_hh, b) -> (dX, dh0, dW_xh, dW_hh, db)``

Both are for a tanh RNN, :math:`h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b)`, and
compare with :class:`bptutor.recurrent.RNN` and with finite differences.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_rng
from ..recurrent import RNN, rnn_step_backward, rnn_step_forward
from ._core import Case, CheckResult, Mistake, _fd, check_outputs

#: The comparison's tolerance: loose enough for an answer computed in float32 (whose roundings, about
#: 1e-7 of each term, can cancel to a larger share of a small entry), far tighter than any mistake below.
FLOAT32_RTOL = 1e-4
_STEP_OUTPUTS = ("dx", "dh_prev", "dW_xh", "dW_hh", "db")
_BPTT_OUTPUTS = ("dX", "dh0", "dW_xh", "dW_hh", "db")


# --- one step -------------------------------------------------------------------------------------------------
def _step_cases(g, sizes) -> list:
    return [Case({"dh": g.normal(size=(n, h)), "x": g.normal(size=(n, d)), "h_prev": np.tanh(g.normal(size=(n, h))),
                  "W_xh": g.normal(size=(d, h)) / np.sqrt(d), "W_hh": g.normal(size=(h, h)) / np.sqrt(h),
                  "b": 0.5 * g.normal(size=h)}, dims={"N": n}) for n, d, h in sizes]


def _step(a, *, slope="right", W_hh_T=True, dW_hh_input="h_prev") -> dict:
    """The step's backward pass written out, with switches for the classic mistakes (and dz, for ``db``)."""
    z = a["x"] @ a["W_xh"] + a["h_prev"] @ a["W_hh"] + a["b"]
    h = np.tanh(z)
    factor = {"right": 1 - h * h, "none": 1.0, "on_z": 1 - z * z, "no_square": 1 - h}[slope]
    dz = a["dh"] * factor
    return {"dx": dz @ a["W_xh"].T, "dh_prev": dz @ (a["W_hh"].T if W_hh_T else a["W_hh"]),
            "dW_xh": a["x"].T @ dz, "dW_hh": (a["h_prev"] if dW_hh_input == "h_prev" else h).T @ dz,
            "db": dz.sum(axis=0), "dz": dz}


def check_rnn_step_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (14): the backward pass of one tanh RNN step.

    .. math:: dz = dh \odot (1 - h^2),\quad dx = dz\,W_{xh}^\top,\quad dh_{prev} = dz\,W_{hh}^\top,\quad
        dW_{xh} = x^\top dz,\quad dW_{hh} = h_{prev}^\top dz,\quad db = \textstyle\sum_n dz_{n,:}

    The learner writes ``rnn_step_backward(dh, x, h_prev, W_xh, W_hh, b) -> (dx,
    dh_prev, dW_xh, dW_hh, db)`` with ``dh`` (N, H), ``x`` (N, D), ``h_prev`` (N, H),
    recomputing :math:`h` inside. Diagnosed: the forgotten tanh derivative, the
    derivative applied to :math:`z` or without its square, ``W_hh`` where ``W_hh.T``
    belongs, :math:`h` where :math:`h_{prev}` belongs in ``dW_hh``, a transposed
    ``dW_hh`` or ``dW_xh``, ``db`` not summed over the batch, a sign flip.
    """
    g = check_rng(rng)
    cases = _step_cases(g, [(4, 3, 5), (2, 6, 3), (3, 2, 4)])
    square = _step_cases(g, [(4, 4, 4)])
    deriv = "tanh'(z) = 1 - tanh(z)**2 = 1 - h**2, with h the step's output"
    mistakes = (
        Mistake("forgot the tanh derivative", f"the gradient passes the tanh before it reaches z: dz = dh * (1 - h**2); "
                f"{deriv}.", lambda a, r: _step(a, slope="none")),
        Mistake("the tanh derivative was applied to z instead of h", f"{deriv}, not 1 - z**2.",
                lambda a, r: _step(a, slope="on_z")),
        Mistake("forgot the square in tanh's derivative", f"{deriv}, not 1 - h.",
                lambda a, r: _step(a, slope="no_square")),
        Mistake("W_hh used where W_hh.T belongs", "dh_prev = dz @ W_hh.T: the gradient goes back through the "
                "recurrent weights transposed. W_hh is square, so dz @ W_hh runs, with the wrong numbers.",
                lambda a, r: _step(a, W_hh_T=False)),
        Mistake("h used instead of h_prev in dW_hh", "W_hh multiplies the *previous* state: dW_hh = h_prev.T @ dz.",
                lambda a, r: _step(a, dW_hh_input="h")),
        Mistake("transposed dW_hh", "dW_hh = h_prev.T @ dz, (H, N) @ (N, H); dz.T @ h_prev is its transpose, the "
                "same shape because W_hh is square.", lambda a, r: {"dW_hh": r["dW_hh"].T}),
        Mistake("transposed dW_xh", "dW_xh = x.T @ dz has the shape of W_xh, (D, H).",
                lambda a, r: {"dW_xh": r["dW_xh"].T}),
        Mistake("db not summed over the batch", "b is added to every row: db = dz.sum(axis=0), shape (H,).",
                lambda a, r: {"db": _step(a)["dz"]}),
        Mistake("sign flip", "a gradient is dL/dtheta itself: no minus sign.",
                lambda a, r: {k: -v for k, v in r.items()}),
    )

    def reference(a):
        _, cache = rnn_step_forward(a["x"], a["h_prev"], a["W_xh"], a["W_hh"], a["b"])
        return rnn_step_backward(a["dh"], cache)

    def numeric(a):
        def f(a):
            return np.sum(a["dh"] * np.tanh(a["x"] @ a["W_xh"] + a["h_prev"] @ a["W_hh"] + a["b"]))
        return _fd(f, a, {"dx": "x", "dh_prev": "h_prev", "dW_xh": "W_xh", "dW_hh": "W_hh", "db": "b"})

    return check_outputs(fn, name="rnn_step_backward", reference=reference, cases=cases, outputs=_STEP_OUTPUTS,
                         mistakes=mistakes, like={"dx": "x", "dh_prev": "h_prev", "dW_xh": "W_xh",
                                                  "dW_hh": "W_hh", "db": "b"},
                         square_cases=square, numeric=numeric, rtol=FLOAT32_RTOL,
                         source="bptutor.recurrent.rnn_step_backward")


# --- the BPTT loop ----------------------------------------------------------------------------------------------
def _bptt_cases(g, sizes) -> list:
    return [Case({"dH": g.normal(size=(n, t, h)), "X": g.normal(size=(n, t, d)), "h0": np.tanh(g.normal(size=(n, h))),
                  "W_xh": g.normal(size=(d, h)) / np.sqrt(d), "W_hh": g.normal(size=(h, h)) / np.sqrt(h),
                  "b": 0.5 * g.normal(size=h)}, dims={"N": n, "T": t}) for n, t, d, h in sizes]


def _bptt(a, *, forward_order=False, recursion=True, slope=True, W_hh_T=True, keep="all", h0_in_dW=True,
          dh0="right", outputs="all") -> dict:
    """BPTT written as a learner writes it, with switches for the classic mistakes."""
    X, h0, W_xh, W_hh, b, dH = a["X"], a["h0"], a["W_xh"], a["W_hh"], a["b"], a["dH"]
    N, T, _ = X.shape
    Hs, h = [], h0
    for t in range(T):
        h = np.tanh(X[:, t] @ W_xh + h @ W_hh + b)
        Hs.append(h)
    dX = np.zeros_like(X)
    grads = {"dW_xh": np.zeros_like(W_xh), "dW_hh": np.zeros_like(W_hh), "db": np.zeros_like(b)}
    carry = np.zeros_like(h0)
    order = range(T) if forward_order else range(T - 1, -1, -1)
    for t in order:
        upstream = dH[:, t] if outputs == "all" or t == T - 1 else np.zeros_like(h0)
        dh = upstream + carry if recursion else upstream
        dz = dh * (1 - Hs[t] ** 2) if slope else dh
        prev = Hs[t - 1] if t else (h0 if h0_in_dW else np.zeros_like(h0))
        dX[:, t] = dz @ W_xh.T
        step = {"dW_xh": X[:, t].T @ dz, "dW_hh": prev.T @ dz, "db": dz.sum(axis=0)}
        for k, v in step.items():
            if keep == "all":
                grads[k] += v
            else:          # `=` where `+=` belongs: only the step processed last survives
                grads[k] = v
        last_dh = dh
        carry = dz @ (W_hh.T if W_hh_T else W_hh)
    return {"dX": dX, "dh0": last_dh if dh0 == "at_h1" else carry, **grads}


def check_rnn_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (14): backpropagation through time for a tanh RNN over whole sequences.

    .. math:: g_t = dH_t + dz_{t+1} W_{hh}^\top, \qquad dz_t = g_t \odot (1 - h_t^2), \qquad
        dW_{hh} = \sum_t h_{t-1}^\top dz_t, \quad dh_0 = dz_1 W_{hh}^\top

    The learner writes ``rnn_backward(dH, X, h0, W_xh, W_hh, b) -> (dX, dh0, dW_xh,
    dW_hh, db)`` with ``dH`` (N, T, H) (∂L/∂h_t at every step), ``X`` (N, T, D),
    ``h0`` (N, H). Compared with :class:`bptutor.recurrent.RNN` and finite
    differences. Diagnosed: ``=`` where ``+=`` belongs across time, the gradient from
    the next step forgotten, only the last step's ``dH`` used, the tanh derivative
    forgotten, ``W_hh`` where ``W_hh.T`` belongs, the loop run forwards in time, ``dh0``
    taken before the last product with ``W_hh``, zeros instead of ``h0`` as the first
    step's previous state, a sign flip.
    """
    g = check_rng(rng)
    cases = _bptt_cases(g, [(3, 4, 2, 5), (2, 5, 3, 4), (4, 3, 5, 2)])
    square = _bptt_cases(g, [(3, 3, 3, 3)])
    mistakes = (
        Mistake("= where += belongs across time", "W_xh, W_hh and b are used at every step, so their gradients "
                "add up over the steps: dW_hh += h_prev.T @ dz inside the loop (start from zeros before it).",
                lambda a, r: _bptt(a, keep="last")),
        Mistake("forgot the gradient from the next step", "h_t feeds the output at step t *and* step t+1: "
                "dh = dH[:, t] + dh_next, with dh_next = dz_{t+1} @ W_hh.T carried back from the step after.",
                lambda a, r: _bptt(a, recursion=False)),
        Mistake("only the last step's dH used", "every step has a loss here: add dH[:, t] at every step t, not "
                "only at the last.", lambda a, r: _bptt(a, outputs="last")),
        Mistake("forgot the tanh derivative", "dz = dh * (1 - h_t**2) at every step, before the products with "
                "the weights.", lambda a, r: _bptt(a, slope=False)),
        Mistake("W_hh used where W_hh.T belongs", "dh_next = dz @ W_hh.T: back through the recurrent weights, "
                "transposed. W_hh is square, so dz @ W_hh runs with the wrong numbers.",
                lambda a, r: _bptt(a, W_hh_T=False)),
        Mistake("the loop runs forwards in time", "the gradient at h_t needs dz_{t+1}, so go from the last step "
                "to the first: for t in reversed(range(T)).", lambda a, r: _bptt(a, forward_order=True)),
        Mistake("dh0 is the gradient at h_1, not at h_0", "after the loop, send the first step's dz back once more: "
                "dh0 = dz_1 @ W_hh.T.", lambda a, r: _bptt(a, dh0="at_h1")),
        Mistake("zeros instead of h0 as the first step's previous state", "at the first step the previous state "
                "is h0, so dW_hh += h0.T @ dz_1.", lambda a, r: _bptt(a, h0_in_dW=False)),
        Mistake("sign flip", "a gradient is dL/dtheta itself: no minus sign.",
                lambda a, r: {k: -v for k, v in r.items()}),
    )

    def reference(a):
        rnn = RNN.from_arrays(a["W_xh"], a["W_hh"], a["b"])
        rnn.forward(a["X"], a["h0"])
        dX = rnn.backward(a["dH"])
        return dX, rnn.dh0, rnn.W_xh.grad, rnn.W_hh.grad, rnn.b.grad

    def numeric(a):
        def f(a):
            h, total = a["h0"], 0.0
            for t in range(a["X"].shape[1]):
                h = np.tanh(a["X"][:, t] @ a["W_xh"] + h @ a["W_hh"] + a["b"])
                total += np.sum(a["dH"][:, t] * h)
            return total
        return _fd(f, a, {"dX": "X", "dh0": "h0", "dW_xh": "W_xh", "dW_hh": "W_hh", "db": "b"})

    return check_outputs(fn, name="rnn_backward", reference=reference, cases=cases, outputs=_BPTT_OUTPUTS,
                         mistakes=mistakes, like={"dX": "X", "dh0": "h0", "dW_xh": "W_xh", "dW_hh": "W_hh",
                                                  "db": "b"},
                         square_cases=square, numeric=numeric, rtol=FLOAT32_RTOL, source="bptutor.recurrent.RNN")
