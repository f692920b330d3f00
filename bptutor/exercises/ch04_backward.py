"""Exercise checks for chapter 04, the backward pass through layers.

* ``check_linear_backward``: ``linear_backward(dout, X, W) -> (dX, dW, db)``
* ``check_sigmoid_backward``: ``sigmoid_backward(dout, Z) -> dZ``, through the core's
  :func:`~bptutor.exercises.check_activation_backward`
* ``check_two_layer_backward``: ``two_layer_backward(X, T, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)``
* ``check_deep_backward``: ``deep_backward(X, y, Ws, bs) -> (dWs, dbs)``, any depth, softmax cross-entropy
* ``check_softmax_jacobian``: ``softmax_jacobian(z) -> J``, one example's (C, C) Jacobian
"""
from __future__ import annotations

import numpy as np

from .. import activations as act
from .._checks import check_rng, describe
from ..gradcheck import numerical_gradient
from ..layers import Linear, Sequential
from ..losses import cross_entropy_loss, mse_loss
from ._compare import _Diagnosed
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


# --- any depth: the delta recursion, with softmax cross-entropy at the output --------------------------------
def _deep(a, *, per_N=True, sign=1.0, fprime="A", W_T=True, product="delta @ W.T", own_W=False,
          dW_T=False, db_sum=True) -> dict:
    """The depth-L backward pass written out, with switches for the classic mistakes.

    Hidden layers are tanh, the last layer is linear and feeds a mean softmax cross-entropy.
    Returns ``{"dW1": ..., "db1": ..., ..., "dWL": ..., "dbL": ...}``.
    """
    Ws, bs, X, y = a["Ws"], a["bs"], a["X"], a["y"]
    N, L = len(X), len(Ws)
    As, Zs = [X], []                                   # As[l] is the input of layer l (0-based)
    for l in range(L):
        Zs.append(As[l] @ Ws[l] + bs[l])               # (N, H_l)
        if l < L - 1:
            As.append(np.tanh(Zs[l]))
    P = act.softmax(Zs[-1])                            # (N, C)
    Y = np.eye(P.shape[1])[y]                          # (N, C) one-hot
    delta = sign * (P - Y) / (N if per_N else 1)       # dL/dZ of the last layer
    out = {}
    for l in reversed(range(L)):
        out[f"dW{l + 1}"] = delta.T @ As[l] if dW_T else As[l].T @ delta
        out[f"db{l + 1}"] = delta.sum(axis=0) if db_sum else delta
        if l == 0:
            break
        W = Ws[l - 1] if own_W else Ws[l]
        if product == "W.T @ delta":
            dA = W.T @ delta
        else:
            dA = delta @ (W.T if W_T else W)            # (N, H_{l-1})
        slope = {"A": 1 - As[l] ** 2, "Z": 1 - Zs[l - 1] ** 2, "none": 1.0}[fprime]
        delta = dA * slope
    return out


def _deep_loss(a) -> float:
    A = a["X"]
    for l, (W, b) in enumerate(zip(a["Ws"], a["bs"])):
        Z = A @ W + b
        A = np.tanh(Z) if l < len(a["Ws"]) - 1 else Z
    return cross_entropy_loss(A, a["y"])[0]


def _deep_cases(g, N: int, sizes: tuple, n: int) -> list:
    return [Case({"X": g.normal(size=(N, sizes[0])), "y": g.integers(0, sizes[-1], size=N),
                  "Ws": [g.normal(size=(i, o)) for i, o in zip(sizes, sizes[1:])],
                  "bs": [g.normal(size=o) * 0.5 for o in sizes[1:]]},
                 note=f"depth {len(sizes) - 1}, layer sizes {'-'.join(map(str, sizes))}", dims={"N": N})
            for _ in range(n)]


_DEEP_MISTAKES = (
    Mistake("forgot the 1/N of the mean loss", "the loss is the mean over the N examples, so the output "
            "delta is (P - Y) / N; every gradient below inherits that factor.", lambda a, r: _deep(a, per_N=False)),
    Mistake("Y - P instead of P - Y", "for softmax with cross-entropy dL/dZ = (P - Y) / N: probability minus "
            "target. The minus sign of gradient descent belongs in the update.", lambda a, r: _deep(a, sign=-1.0)),
    Mistake("missing f' in the recursion", "each hidden layer multiplies by its activation's slope: "
            "delta_l = (delta_{l+1} @ W_{l+1}.T) * f'(Z_l), with f'(Z) = 1 - tanh(Z)**2 = 1 - A**2.",
            lambda a, r: _deep(a, fprime="none")),
    Mistake("f' computed from Z instead of A", "for tanh, f'(Z) = 1 - tanh(Z)**2 = 1 - A**2; 1 - Z**2 applies "
            "the formula to the pre-activation.", lambda a, r: _deep(a, fprime="Z")),
    Mistake("transposed W in the recursion", "the error flows back through W transposed: delta_{l+1} @ W_{l+1}.T, "
            "(N, H_{l+1}) @ (H_{l+1}, H_l) -> (N, H_l).", lambda a, r: _deep(a, W_T=False)),
    Mistake("wrong order of multiplication", "rows are examples, so the example index stays on the left: "
            "delta_{l+1} @ W_{l+1}.T, not W_{l+1}.T @ delta_{l+1}.", lambda a, r: _deep(a, product="W.T @ delta")),
    Mistake("the layer's own W instead of the next layer's", "delta_l comes from delta_{l+1} through the weights "
            "that delta_{l+1}'s layer uses, W_{l+1}: an off-by-one in the loop index.",
            lambda a, r: _deep(a, own_W=True)),
    Mistake("transposed dW", "dW_l = A_{l-1}.T @ delta_l has the shape of W_l, (H_{l-1}, H_l).",
            lambda a, r: _deep(a, dW_T=True)),
    Mistake("biases not summed over the batch", "each bias is added to every row: db_l = delta_l.sum(axis=0).",
            lambda a, r: _deep(a, db_sum=False)),
)


def check_deep_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (04): the backward pass of a network of any depth, as a loop over layers.

    .. math::
        \delta^{(L)} = \tfrac1N (P - Y), \qquad
        \delta^{(l)} = \big(\delta^{(l+1)} W^{(l+1)\top}\big) \odot f'(Z^{(l)}), \qquad
        dW^{(l)} = A^{(l-1)\top} \delta^{(l)}, \quad db^{(l)} = \textstyle\sum_n \delta^{(l)}_{n,:}

    The learner writes ``deep_backward(X, y, Ws, bs) -> (dWs, dbs)``: ``X`` (N, D),
    integer labels ``y`` (N,), lists of L weights ``Ws[l]`` (H_l, H_{l+1}) and biases
    ``bs[l]`` (H_{l+1},); tanh hidden layers, a linear last layer and the mean softmax
    cross-entropy. Run at depths 2, 3 and 4, compared with bptutor's ``Sequential``
    and finite differences. Diagnosed: a forgotten 1/N, ``Y - P``, a missing or
    misapplied ``f'``, ``W`` where ``W.T`` belongs, ``W.T @ delta`` for
    ``delta @ W.T``, the layer's own ``W`` (off by one), transposed ``dW``,
    unsummed biases.
    """
    g = check_rng(rng)
    plans = ((2, 5, (3, 4, 2)), (3, 6, (4, 5, 3, 2)), (4, 7, (3, 5, 4, 6, 2)))
    verdicts = []
    for L, N, sizes in plans:
        outputs = tuple(k for l in range(1, L + 1) for k in (f"dW{l}", f"db{l}"))
        like = {k: k[1:] for k in outputs}

        def call(fn, a, outputs=outputs, L=L):
            raw = fn(a["X"], a["y"], a["Ws"], a["bs"])
            if (not isinstance(raw, (tuple, list)) or len(raw) != 2
                    or any(not isinstance(part, (tuple, list)) or len(part) != L for part in raw)):
                raise _Diagnosed(f"deep_backward should return (dWs, dbs), two lists of {L} arrays, "
                                 f"got {describe(raw)}", "end the function with `return dWs, dbs`, each a "
                                 "list with one array per layer, first layer first.")
            return tuple(x for pair in zip(*raw) for x in pair)

        def reference(a, L=L):
            mods = []
            for l, (W, b) in enumerate(zip(a["Ws"], a["bs"])):
                mods += [Linear.from_arrays(W, b)] + ([act.Tanh()] if l < L - 1 else [])
            model = Sequential(*mods)
            _, dZ = cross_entropy_loss(model.forward(a["X"]), a["y"])
            model.backward(dZ)
            return tuple(p.grad for p in model.parameters())

        def numeric(a, L=L):
            fd = {}
            for l in range(L):
                fd[f"dW{l + 1}"] = numerical_gradient(lambda _: _deep_loss(a), a["Ws"][l], 1e-5)
                fd[f"db{l + 1}"] = numerical_gradient(lambda _: _deep_loss(a), a["bs"][l], 1e-5)
            return fd

        square = _deep_cases(g, 4, (4,) * (L + 1), 1)
        result = check_outputs(fn, name="deep_backward", reference=reference, cases=_deep_cases(g, N, sizes, 2),
                               outputs=outputs, mistakes=_DEEP_MISTAKES, like=like, square_cases=square,
                               numeric=numeric, call=call, source="bptutor's Sequential")
        if not result.passed:
            return result
        verdicts.append(f"depth {L}: {result.message}")
    return CheckResult(True, "\n".join(verdicts), None, "deep_backward")


# --- the softmax Jacobian -----------------------------------------------------------------------------------
def _naive_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z)                                      # overflows past z of about 709
    return e / e.sum()


_JACOBIAN_MISTAKES = (
    Mistake("+ p p^T instead of - p p^T", "dp_i/dz_j = p_i (delta_ij - p_j): the off-diagonal entries are "
            "-p_i p_j, negative (raising one logit lowers every other probability). J = diag(p) - np.outer(p, p).",
            lambda a, r: {"J": np.diag(act.softmax(a["z"])) + np.outer(act.softmax(a["z"]), act.softmax(a["z"]))}),
    Mistake("only the diagonal", "p_i depends on every logit through the normalising sum, so J has off-diagonal "
            "entries -p_i p_j as well as the diagonal p_i (1 - p_i).",
            lambda a, r: {"J": np.diag(act.softmax(a["z"]) * (1 - act.softmax(a["z"])))}),
    Mistake("diag(p) missing", "the diagonal gets p_i from differentiating e^{z_i} itself: J = diag(p) - p p^T.",
            lambda a, r: {"J": -np.outer(act.softmax(a["z"]), act.softmax(a["z"]))}),
    Mistake("p @ p instead of the outer product", "for a 1-D p, p @ p (and p.T @ p) is the number sum p_i^2; "
            "the outer product is np.outer(p, p), shape (C, C).",
            lambda a, r: {"J": np.diag(act.softmax(a["z"])) - act.softmax(a["z"]) @ act.softmax(a["z"])}),
    Mistake("logits used instead of probabilities", "the formula is in terms of p = softmax(z), not z: "
            "J = diag(p) - np.outer(p, p).", lambda a, r: {"J": np.diag(a["z"]) - np.outer(a["z"], a["z"])}),
    Mistake("softmax overflowed", "np.exp of a logit above about 709 is inf; subtract the largest logit first "
            "(it cancels), or use bptutor.activations.softmax.",
            lambda a, r: {"J": np.diag(_naive_softmax(a["z"])) - np.outer(_naive_softmax(a["z"]),
                                                                           _naive_softmax(a["z"]))}),
)


def check_softmax_jacobian(fn, rng=0) -> CheckResult:
    r"""Exercise (04): the Jacobian of the softmax of one example's logits.

    .. math:: J_{ij} = \frac{\partial p_i}{\partial z_j} = p_i(\delta_{ij} - p_j), \qquad
              J = \operatorname{diag}(p) - p\,p^\top, \qquad p = \operatorname{softmax}(z)

    The learner writes ``softmax_jacobian(z) -> J`` with ``z`` (C,) and ``J`` (C, C).
    Compared with the formula and with central differences of
    :func:`bptutor.activations.softmax`, on ordinary and on large (about ±1000)
    logits. Diagnosed: ``+ p p^T``, only the diagonal, ``diag(p)`` missing,
    ``p @ p`` for the outer product, the logits used for ``p``, an overflowing softmax.
    """
    g = check_rng(rng)
    cases = [Case({"z": g.normal(size=4)}), Case({"z": g.normal(size=3) * 2}),
             Case({"z": g.normal(size=5) * 1000}, note="large logits (about ±1000)")]

    def reference(a):
        p = act.softmax(a["z"])
        return np.diag(p) - np.outer(p, p)

    def numeric(a, h=1e-6):
        z = a["z"]
        return {"J": np.stack([(act.softmax(z + h * e) - act.softmax(z - h * e)) / (2 * h)
                               for e in np.eye(len(z))], axis=1)}

    return check_outputs(fn, name="softmax_jacobian", reference=reference, cases=cases, outputs=("J",),
                         mistakes=_JACOBIAN_MISTAKES, numeric=numeric,
                         source="diag(p) - outer(p, p) with bptutor.activations.softmax")
