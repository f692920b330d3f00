"""Exercise checks for chapter 04, the backward pass through layers.

* ``check_linear_backward``: ``linear_backward(dout, X, W) -> (dX, dW, db)``
* ``check_sigmoid_backward``: ``sigmoid_backward(dout, Z) -> dZ``, through the core's
  :func:`~bptutor.exercises.check_activation_backward`
* ``check_two_layer_backward``: ``two_layer_backward(X, T, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)``
"""
from __future__ import annotations

import numpy as np

from .. import activations as act
from .._checks import check_rng
from ..layers import Linear, Sequential
from ..losses import mse_loss
from ._core import Case, CheckResult, Mistake, check_activation_backward, check_outputs, _fd


# --- 04 backward pass ---------------------------------------------------------------------------------------
def _linear_backward_cases(g, sizes) -> list:
    return [Case({"dout": g.normal(size=(n, h)), "X": g.normal(size=(n, d)), "W": g.normal(size=(d, h))},
                 dims={"N": n}) for n, d, h in sizes]


def check_linear_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (04): the backward pass of a linear layer :math:`Y = XW + b`.

    .. math:: dX = dout\,W^\top, \qquad dW = X^\top dout, \qquad db = \textstyle\sum_n dout_{n,:}

    The learner writes ``linear_backward(dout, X, W) -> (dX, dW, db)`` with
    ``dout`` (N, H), ``X`` (N, D), ``W`` (D, H). Diagnosed: transposed ``dW``
    (``dout.T @ X``), ``dout @ W`` for ``dX`` (runs only for square ``W``),
    ``db`` not summed over the batch or summed over the wrong axis, ``db`` or
    ``dW`` divided by N, gradients returned for the wrong parameter, a sign flip.
    """
    g = check_rng(rng)
    cases = _linear_backward_cases(g, [(5, 3, 4), (2, 4, 6), (3, 2, 5)])
    square = _linear_backward_cases(g, [(4, 4, 4)])
    dims_hint = "dout already carries the 1/N of a mean loss, so no further 1/N belongs here."
    mistakes = (
        Mistake("gradients of the wrong parameter", "return (dX, dW, db) in that order: dX has the shape of X, "
                "dW the shape of W.", lambda a, r: {"dX": r["dW"], "dW": r["dX"]}),
        Mistake("transposed dW", "did you compute dout.T @ X instead of X.T @ dout? dW = X.T @ dout: "
                "(D, N) @ (N, H) -> (D, H), the shape of W.", lambda a, r: {"dW": a["dout"].T @ a["X"]}),
        Mistake("dX uses W instead of W.T", "dX = dout @ W.T: (N, H) @ (H, D) -> (N, D). With a square W, "
                "dout @ W runs but gives the wrong numbers.", lambda a, r: {"dX": a["dout"] @ a["W"]}),
        Mistake("db not summed over the batch", "b is added to every row, so every row's gradient counts: "
                "db = dout.sum(axis=0), shape (H,).", lambda a, r: {"db": a["dout"]}),
        Mistake("db summed over the wrong axis", "sum over the rows (the batch), axis=0, to get one number "
                "per unit: shape (H,).", lambda a, r: {"db": a["dout"].sum(axis=1)}),
        Mistake("db averaged instead of summed", dims_hint + " db = dout.sum(axis=0).",
                lambda a, r: {"db": a["dout"].mean(axis=0)}),
        Mistake("dW divided by N", dims_hint + " dW = X.T @ dout.",
                lambda a, r: {"dW": r["dW"] / len(a["X"])}),
        Mistake("sign flip", "a gradient is dL/dtheta itself; the minus sign belongs in the update "
                "theta -= lr * grad.", lambda a, r: {k: -v for k, v in r.items()}),
    )

    def reference(a):
        layer = Linear.from_arrays(a["W"], np.zeros(a["W"].shape[1]))
        layer.forward(a["X"])
        dX = layer.backward(a["dout"])
        return dX, layer.W.grad, layer.b.grad

    def numeric(a):
        a["b"] = np.zeros(a["W"].shape[1])
        return _fd(lambda a: np.sum(a["dout"] * (a["X"] @ a["W"] + a["b"])), a, {"dX": "X", "dW": "W", "db": "b"})

    return check_outputs(fn, name="linear_backward", reference=reference, cases=cases,
                         outputs=("dX", "dW", "db"), mistakes=mistakes, like={"dX": "X", "dW": "W", "db": "b"},
                         square_cases=square, numeric=numeric, source="bptutor.layers.Linear")


def check_sigmoid_backward(fn, rng=0) -> CheckResult:
    """Exercise (04): ``sigmoid_backward(dout, Z) -> dZ``; see :func:`check_activation_backward`."""
    return check_activation_backward(fn, "sigmoid", rng)


def _two_layer_cases(g, sizes) -> list:
    return [Case({"X": g.normal(size=(n, d)), "T": g.uniform(size=(n, c)), "W1": g.normal(size=(d, h)),
                  "b1": g.normal(size=h), "W2": g.normal(size=(h, c)), "b2": g.normal(size=c)}, dims={"N": n})
            for n, d, h, c in sizes]


def _two_layer(a, *, out_deriv=True, hid_deriv=True, W2_T=True, Z1_in_dW2=False) -> dict:
    """The two-layer backward pass written out, with switches for the classic mistakes."""
    Z1 = a["X"] @ a["W1"] + a["b1"]
    H = act.sigmoid(Z1)
    O = act.sigmoid(H @ a["W2"] + a["b2"])
    d_o = (O - a["T"]) * (O * (1 - O) if out_deriv else 1.0)           # (N, C)
    d_h = (d_o @ (a["W2"].T if W2_T else a["W2"])) * (H * (1 - H) if hid_deriv else 1.0)  # (N, H)
    return {"dW1": a["X"].T @ d_h, "db1": d_h.sum(axis=0),
            "dW2": (Z1 if Z1_in_dW2 else H).T @ d_o, "db2": d_o.sum(axis=0)}


def check_two_layer_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (04): backpropagation through a two-layer sigmoid network.

    .. math:: H = \sigma(XW_1 + b_1),\quad O = \sigma(HW_2 + b_2),\quad E = \tfrac12\sum (O - T)^2

    The learner writes ``two_layer_backward(X, T, W1, b1, W2, b2) -> (dW1,
    db1, dW2, db2)`` with ``X`` (N, D), ``T`` (N, C), ``W1`` (D, H), ``W2``
    (H, C). Compared with bptutor's ``Sequential`` of ``Linear`` and
    ``Sigmoid`` layers and with finite differences. Diagnosed: forgotten
    output or hidden sigmoid derivative, ``W2`` where ``W2.T`` belongs (square
    only), ``Z1`` instead of ``H`` in ``dW2``, transposed ``dW1`` or ``dW2``,
    biases not summed over the batch, a sign flip.
    """
    g = check_rng(rng)
    cases = _two_layer_cases(g, [(5, 3, 4, 2), (4, 2, 3, 5)])
    square = _two_layer_cases(g, [(3, 3, 3, 3)])
    deriv = "each sigmoid on the way back multiplies the gradient by its derivative s * (1 - s)"
    mistakes = (
        Mistake("forgot the output sigmoid's derivative", f"{deriv}: delta_o = (O - T) * O * (1 - O).",
                lambda a, r: _two_layer(a, out_deriv=False)),
        Mistake("forgot the hidden sigmoid's derivative", f"{deriv}: delta_h = (delta_o @ W2.T) * H * (1 - H).",
                lambda a, r: _two_layer(a, hid_deriv=False)),
        Mistake("W2 used where W2.T belongs", "the gradient flows back through W2 transposed: "
                "delta_o @ W2.T, (N, C) @ (C, H) -> (N, H).", lambda a, r: _two_layer(a, W2_T=False)),
        Mistake("Z1 used instead of H in dW2",
                "the second layer's input is H = sigmoid(Z1): dW2 = H.T @ delta_o.",
                lambda a, r: _two_layer(a, Z1_in_dW2=True)),
        Mistake("transposed dW2", "dW2 = H.T @ delta_o has the shape of W2, (H, C).",
                lambda a, r: {"dW2": r["dW2"].T}),
        Mistake("transposed dW1", "dW1 = X.T @ delta_h has the shape of W1, (D, H).",
                lambda a, r: {"dW1": r["dW1"].T}),
        Mistake("biases not summed over the batch", "each bias is added to every row: db = delta.sum(axis=0).",
                lambda a, r: {"db1": _deltas(a)[1], "db2": _deltas(a)[0]}),
        Mistake("sign flip", "E = 1/2 sum (O - T)**2, so dE/dO = O - T, not T - O.",
                lambda a, r: {k: -v for k, v in r.items()}),
    )

    def reference(a):
        model = Sequential(Linear.from_arrays(a["W1"], a["b1"]), act.Sigmoid(),
                           Linear.from_arrays(a["W2"], a["b2"]), act.Sigmoid())
        _, dO = mse_loss(model.forward(a["X"]), a["T"], reduction="half_sum")
        model.backward(dO)
        return model[0].W.grad, model[0].b.grad, model[2].W.grad, model[2].b.grad

    def loss(a):
        H = act.sigmoid(a["X"] @ a["W1"] + a["b1"])
        return 0.5 * np.sum((act.sigmoid(H @ a["W2"] + a["b2"]) - a["T"]) ** 2)

    names = {"dW1": "W1", "db1": "b1", "dW2": "W2", "db2": "b2"}
    return check_outputs(fn, name="two_layer_backward", reference=reference, cases=cases, outputs=tuple(names),
                         mistakes=mistakes, like=names, square_cases=square,
                         numeric=lambda a: _fd(loss, a, names), source="bptutor's Linear and Sigmoid layers")


def _deltas(a) -> tuple:
    """``(delta_o, delta_h)`` of the two-layer network: the per-example bias gradients."""
    H = act.sigmoid(a["X"] @ a["W1"] + a["b1"])
    O = act.sigmoid(H @ a["W2"] + a["b2"])
    d_o = (O - a["T"]) * O * (1 - O)
    return d_o, (d_o @ a["W2"].T) * H * (1 - H)
