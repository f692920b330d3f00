"""Exercise checks for chapter 01, the forward pass: a neuron, a layer, a two-layer network.

* ``check_neuron``: ``neuron(x, w, b) -> a``
* ``check_layer_forward``: ``layer_forward(X, W, b) -> Z``
* ``check_network_forward``: ``network_forward(X, W1, b1, W2, b2) -> (H, O)``
"""
from __future__ import annotations

import numpy as np

from .. import activations as act
from .._checks import check_rng
from ..layers import Linear
from ._core import Case, CheckResult, Mistake, check_outputs


# --- 01 forward pass -----------------------------------------------------------------------------------
def check_neuron(fn, rng=0) -> CheckResult:
    r"""Exercise (01): one neuron, :math:`a = \sigma(w \cdot x + b)`.

    The learner writes ``neuron(x, w, b) -> a``: ``x`` and ``w`` of shape (D,),
    ``b`` a number, ``a`` one number. Diagnosed: forgotten bias, forgotten
    activation, bias added after the activation, a sign error in the exponent,
    tanh instead of the sigmoid, products not summed.
    """
    g = check_rng(rng)
    cases = [Case({"x": g.normal(size=d), "w": g.normal(size=d), "b": float(g.normal())}) for d in (3, 5, 2)]
    z = lambda a: float(a["w"] @ a["x"] + a["b"])  # noqa: E731 - the weighted sum every variant shares
    mistakes = (
        Mistake("forgot the bias", "add b to the weighted sum before the activation: sigmoid(w @ x + b).",
                lambda a, r: {"a": act.sigmoid(a["w"] @ a["x"])}),
        Mistake("forgot the activation", "w @ x + b is only the weighted sum z; the neuron outputs sigmoid(z).",
                lambda a, r: {"a": z(a)}),
        Mistake("bias added after the activation", "the bias belongs inside: sigmoid(w @ x + b), "
                "not sigmoid(w @ x) + b.", lambda a, r: {"a": act.sigmoid(a["w"] @ a["x"]) + a["b"]}),
        Mistake("sign error in the exponent", "sigmoid(z) = 1 / (1 + exp(-z)), with a minus sign.",
                lambda a, r: {"a": act.sigmoid(-z(a))}),
        Mistake("tanh instead of the sigmoid", "use sigmoid(z) = 1 / (1 + exp(-z)); tanh has range (-1, 1).",
                lambda a, r: {"a": np.tanh(z(a))}),
        Mistake("the products were not summed", "a neuron adds up its weighted inputs into one number: "
                "z = np.dot(w, x) + b (or w @ x + b), not w * x + b.",
                lambda a, r: {"a": act.sigmoid(a["w"] * a["x"] + a["b"])}),
    )
    return check_outputs(fn, name="neuron", reference=lambda a: float(act.sigmoid(z(a))), cases=cases,
                         outputs=("a",), mistakes=mistakes, source="sigmoid(w @ x + b)")


def _layer_cases(g, sizes) -> list:
    return [Case({"X": g.normal(size=(n, d)), "W": g.normal(size=(d, h)), "b": g.normal(size=h)})
            for n, d, h in sizes]


def check_layer_forward(fn, rng=0) -> CheckResult:
    r"""Exercise (01): a layer as a matrix product, :math:`Z = XW + b`.

    The learner writes ``layer_forward(X, W, b) -> Z`` with ``X`` (N, D), ``W``
    (D, H), ``b`` (H,), ``Z`` (N, H). Diagnosed: ``X @ W.T`` or ``W @ X`` (a
    shape that only works for square matrices), forgotten bias, bias added per
    example instead of per unit, transposed output.
    """
    g = check_rng(rng)
    cases = _layer_cases(g, [(5, 3, 4), (2, 6, 3), (1, 3, 2)])
    square = _layer_cases(g, [(4, 4, 4)])
    mistakes = (
        Mistake("W transposed", "Z = X @ W: (N, D) @ (D, H) -> (N, H). W is stored as (inputs, units), so "
                "no transpose is needed (PyTorch stores the transpose; that is where X @ W.T comes from).",
                lambda a, r: {"Z": a["X"] @ a["W"].T + a["b"]}),
        Mistake("operands of @ swapped", "the batch comes first: X @ W, so that each row of X (one example) "
                "meets each column of W (one unit).", lambda a, r: {"Z": a["W"] @ a["X"] + a["b"]}),
        Mistake("forgot the bias", "add b: X @ W + b (numpy adds the (H,) vector to every row).",
                lambda a, r: {"Z": a["X"] @ a["W"]}),
        Mistake("bias added per example instead of per unit", "b has one entry per unit (column): "
                "X @ W + b adds it to every row; b[:, None] adds it down the columns instead.",
                lambda a, r: {"Z": a["X"] @ a["W"] + a["b"][:, None]}),
        Mistake("output transposed", "return Z with one row per example, shape (N, H).",
                lambda a, r: {"Z": r["Z"].T}),
    )
    return check_outputs(fn, name="layer_forward", reference=lambda a: Linear.from_arrays(a["W"], a["b"])(a["X"]),
                         cases=cases, outputs=("Z",), mistakes=mistakes, square_cases=square,
                         source="bptutor.layers.Linear")


def _network_cases(g, sizes) -> list:
    return [Case({"X": g.normal(size=(n, d)), "W1": g.normal(size=(d, h)), "b1": g.normal(size=h),
                  "W2": g.normal(size=(h, c)), "b2": g.normal(size=c)}) for n, d, h, c in sizes]


def check_network_forward(fn, rng=0) -> CheckResult:
    r"""Exercise (01): the forward pass of a two-layer sigmoid network.

    .. math:: H = \sigma(X W_1 + b_1), \qquad O = \sigma(H W_2 + b_2)

    The learner writes ``network_forward(X, W1, b1, W2, b2) -> (H, O)`` with
    ``X`` (N, D), ``W1`` (D, H), ``W2`` (H, C); ``H`` (N, H), ``O`` (N, C).
    Diagnosed: forgotten hidden or output activation, the output layer fed the
    pre-activation instead of ``H``, transposed weights (square-only shapes),
    the two results returned in the wrong order.
    """
    g = check_rng(rng)
    cases = _network_cases(g, [(5, 3, 4, 2), (2, 4, 3, 5)])
    square = _network_cases(g, [(3, 3, 3, 3)])
    s = act.sigmoid
    Z1 = lambda a: a["X"] @ a["W1"] + a["b1"]  # noqa: E731
    mistakes = (
        Mistake("results returned in the wrong order", "return H, O: the hidden activations first.",
                lambda a, r: {"H": r["O"], "O": r["H"]}),
        Mistake("forgot the hidden activation", "H = sigmoid(X @ W1 + b1): without the sigmoid the two layers "
                "collapse into one linear map.", lambda a, r: {"H": Z1(a), "O": s(Z1(a) @ a["W2"] + a["b2"])}),
        Mistake("forgot the output activation", "O = sigmoid(H @ W2 + b2).",
                lambda a, r: {"O": r["H"] @ a["W2"] + a["b2"]}),
        Mistake("the output layer was fed Z1 instead of H", "the second layer's input is the activation "
                "H = sigmoid(Z1), not the weighted sum Z1.", lambda a, r: {"O": s(Z1(a) @ a["W2"] + a["b2"])}),
        Mistake("weights transposed", "each layer computes inputs @ W + b with W of shape (inputs, units): "
                "X @ W1, then H @ W2, with no .T.",
                lambda a, r: {"H": s(a["X"] @ a["W1"].T + a["b1"]),
                              "O": s(s(a["X"] @ a["W1"].T + a["b1"]) @ a["W2"].T + a["b2"])}),
    )

    def reference(a):
        H = s(Z1(a))
        return H, s(H @ a["W2"] + a["b2"])

    return check_outputs(fn, name="network_forward", reference=reference, cases=cases, outputs=("H", "O"),
                         mistakes=mistakes, square_cases=square, source="the sigmoid network's forward pass")
