"""Exercise checks for chapter 15, deep networks.

* ``check_batchnorm_backward``: ``batchnorm_backward(dout, X, gamma, eps) -> (dX, dgamma, dbeta)``
* ``check_residual_backward``: ``residual_backward(dout, X, W1, b1, W2, b2) -> (dX, dW1, db1, dW2, db2)``
"""
from __future__ import annotations

import numpy as np

from .._checks import check_rng
from ..activations import ReLU
from ..layers import Linear, Sequential
from ..normalization import BatchNorm1d, Residual
from ._core import Case, CheckResult, Mistake, _fd, check_outputs

#: both checks compare at this relative tolerance, so that a float32 solution passes: the batch-norm backward
#: subtracts nearly equal terms, and float32 keeps about 1e-5 of them. Every mistake named below changes the
#: outputs by far more (eps left out shows on the case with eps = 0.5).
F32_RTOL = 1e-4


# --- batch normalization ------------------------------------------------------------------------------------------
def _bn(a, *, axis=0, ddof=0, eps_outside=False, no_eps=False, gamma_in_dx=True, mu_path=True, var_path=True,
        per_n=True, dgamma_from_X=False) -> dict:
    """The batch-norm backward written out, with switches for the classic mistakes."""
    X, dout, gamma, eps = a["X"], a["dout"], a["gamma"], 0.0 if no_eps else a["eps"]
    n = X.shape[axis]
    mu = X.mean(axis=axis, keepdims=True)
    var = ((X - mu) ** 2).sum(axis=axis, keepdims=True) / (n - ddof)
    s = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    X_hat = (X - mu) / s
    dX_hat = dout * gamma if gamma_in_dx else dout
    avg = (lambda A: A.mean(axis=axis, keepdims=True)) if per_n else (lambda A: A.sum(axis=axis, keepdims=True))
    dX = dX_hat - (avg(dX_hat) if mu_path else 0.0) - (X_hat * avg(dX_hat * X_hat) if var_path else 0.0)
    return {"dX": dX / s, "dgamma": np.sum(dout * (X if dgamma_from_X else X_hat), axis=0),
            "dbeta": dout.sum(axis=0)}


def _bn_staged_unbiased(a) -> dict:
    """The node-by-node backward with the unbiased variance 1/(N - 1) in both the forward and its derivative."""
    X, dout, gamma, eps = a["X"], a["dout"], a["gamma"], a["eps"]
    N = X.shape[0]
    xc = X - X.mean(axis=0)
    var = (xc ** 2).sum(axis=0) / (N - 1)
    s = np.sqrt(var + eps)
    X_hat = xc / s
    dX_hat = dout * gamma
    dvar = -0.5 * (dX_hat * xc).sum(axis=0) / s ** 3
    dxc = dX_hat / s + dvar * 2.0 * xc / (N - 1)
    return {"dX": dxc - dxc.mean(axis=0), "dgamma": np.sum(dout * X_hat, axis=0), "dbeta": dout.sum(axis=0)}


def _bn_cases(g, sizes) -> list:
    cases = []
    for n, d, eps in sizes:
        X = g.normal(size=(n, d)) * g.uniform(0.5, 3.0, size=d) + g.normal(size=d)
        note = "a large eps, so where it goes shows" if eps >= 0.1 else ""
        cases.append(Case({"dout": g.normal(size=(n, d)), "X": X, "gamma": g.uniform(0.5, 2.0, size=d),
                           "eps": eps}, note, dims={"N": n}))
    return cases


def check_batchnorm_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (15): the backward pass of batch normalization in training mode (batch statistics).

    .. math::
        dX = \frac{1}{s}\Big(d\hat X - \mathrm{mean}_n(d\hat X) - \hat X\,\mathrm{mean}_n(d\hat X\odot\hat X)\Big),
        \quad d\hat X = \gamma\odot dout,\quad d\gamma = \textstyle\sum_n dout\odot\hat X,
        \quad d\beta = \textstyle\sum_n dout

    with :math:`s = \sqrt{\sigma^2 + \epsilon}` and :math:`\sigma^2` the *biased* batch
    variance. The learner writes ``batchnorm_backward(dout, X, gamma, eps) ->
    (dX, dgamma, dbeta)`` with ``dout``, ``X`` (N, D), ``gamma`` (D,), recomputing
    the forward quantities from ``X``. Compared with
    :class:`bptutor.normalization.BatchNorm1d` and finite differences. Diagnosed:
    :math:`\mu` and :math:`\sigma^2` treated as constants, only one of their
    paths kept, the unbiased variance, a missing 1/N, statistics over the
    features (axis 1) instead of the batch, :math:`\gamma` forgotten in ``dX``,
    ``dgamma`` from ``X`` instead of :math:`\hat X`, ``dgamma``/``dbeta``
    swapped or not summed over the batch, :math:`\epsilon` left out or outside
    the square root, a sign flip.
    """
    g = check_rng(rng)
    cases = _bn_cases(g, [(6, 3, 1e-5), (4, 7, 0.5), (10, 2, 1e-5)])
    mistakes = (
        Mistake("mu and var treated as constants", "x_hat depends on X directly *and* through the batch mean and "
                "variance, which every example moves: dX = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) "
                "/ s, not dx_hat / s.", lambda a, r: _bn(a, mu_path=False, var_path=False)),
        Mistake("the variance path is missing", "you kept the path through the mean (- mean(dx_hat)) but treated "
                "the variance as a constant: add - x_hat * mean(dx_hat * x_hat).",
                lambda a, r: _bn(a, var_path=False)),
        Mistake("the mean path is missing", "you kept the path through the variance but treated the mean as a "
                "constant: subtract mean(dx_hat) too.", lambda a, r: _bn(a, mu_path=False)),
        Mistake("unbiased variance (N - 1) in the normalization", "batch norm normalises with the biased variance "
                "np.var(X, axis=0) = sum((X - mu)**2) / N; the unbiased N - 1 belongs only in the running "
                "variance.", lambda a, r: _bn(a, ddof=1)),
        Mistake("unbiased variance (N - 1) in the normalization", "batch norm normalises with the biased variance "
                "sum((X - mu)**2) / N (and its derivative 2 (x - mu) / N); the unbiased N - 1 belongs only in the "
                "running variance.", lambda a, r: _bn_staged_unbiased(a)),
        Mistake("a missing 1/N", "the mean and the variance are averages over the batch, so their paths carry "
                "a 1/N: subtract the *means* mean(dx_hat) and x_hat * mean(dx_hat * x_hat), not the sums.",
                lambda a, r: _bn(a, per_n=False)),
        Mistake("statistics over the features instead of the batch", "that is layer normalization: batch norm "
                "averages each feature over the examples, axis=0.", lambda a, r: _bn(a, axis=1)),
        Mistake("gamma forgotten in dX", "out = gamma * x_hat + beta, so dx_hat = dout * gamma before the "
                "normalization's backward.", lambda a, r: _bn(a, gamma_in_dx=False)),
        Mistake("dgamma uses X instead of x_hat", "gamma multiplies the normalised x_hat: dgamma = "
                "sum(dout * x_hat, axis=0).", lambda a, r: _bn(a, dgamma_from_X=True)),
        Mistake("dgamma and dbeta swapped", "return (dX, dgamma, dbeta): dgamma = sum(dout * x_hat, axis=0), "
                "dbeta = sum(dout, axis=0).", lambda a, r: {"dgamma": r["dbeta"], "dbeta": r["dgamma"]}),
        Mistake("dgamma and dbeta not summed over the batch", "one gamma and one beta serve every example, so "
                "their gradients sum over the rows: axis=0, shape (D,).",
                lambda a, r: {"dgamma": a["dout"] * _bn_x_hat(a), "dbeta": a["dout"]}),
        Mistake("dbeta not summed over the batch", "beta is added to every row: dbeta = dout.sum(axis=0).",
                lambda a, r: {"dbeta": a["dout"]}),
        Mistake("dgamma not summed over the batch", "gamma scales every row: dgamma = (dout * x_hat).sum(axis=0).",
                lambda a, r: {"dgamma": a["dout"] * _bn_x_hat(a)}),
        Mistake("eps left out", "s = np.sqrt(var + eps): eps keeps the division finite for a constant feature.",
                lambda a, r: _bn(a, no_eps=True)),
        Mistake("eps outside the square root", "s = np.sqrt(var + eps), not np.sqrt(var) + eps (as PyTorch and "
                "the paper do).", lambda a, r: _bn(a, eps_outside=True)),
        Mistake("sign flip", "every gradient here has the sign of dout: no minus sign in front.",
                lambda a, r: {k: -v for k, v in r.items()}),
    )

    def reference(a):
        bn = BatchNorm1d(a["X"].shape[1], eps=a["eps"])
        bn.gamma.data[...] = a["gamma"]
        bn.forward(a["X"])
        dX = bn.backward(a["dout"])
        return dX, bn.gamma.grad, bn.beta.grad

    def forward(a):
        mu = a["X"].mean(axis=0)
        return a["gamma"] * (a["X"] - mu) / np.sqrt(a["X"].var(axis=0) + a["eps"]) + a["beta"]

    def numeric(a):
        a["beta"] = np.zeros_like(a["gamma"])
        return _fd(lambda a: np.sum(a["dout"] * forward(a)), a, {"dX": "X", "dgamma": "gamma", "dbeta": "beta"})

    return check_outputs(fn, name="batchnorm_backward", reference=reference, cases=cases,
                         outputs=("dX", "dgamma", "dbeta"), mistakes=mistakes,
                         like={"dX": "X", "dgamma": "gamma", "dbeta": "gamma"}, numeric=numeric,
                         rtol=F32_RTOL, source="bptutor.normalization.BatchNorm1d")


def _bn_x_hat(a) -> np.ndarray:
    X = a["X"]
    return (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + a["eps"])


# --- a residual block ------------------------------------------------------------------------------------------
def _res(a, *, identity=True, branch=True, relu_deriv=True, W2_T=True, W1_T=True, Z1_in_dW2=False) -> dict:
    """The residual block's backward written out, with switches for the classic mistakes."""
    X, dout, W1, W2 = a["X"], a["dout"], a["W1"], a["W2"]
    Z1 = X @ W1 + a["b1"]                                          # (N, H)
    H = np.maximum(Z1, 0.0)
    dH = dout @ (W2.T if W2_T else W2)                             # (N, H)
    dZ1 = dH * (Z1 > 0) if relu_deriv else dH
    dX = (dout if identity else 0.0) + (dZ1 @ (W1.T if W1_T else W1) if branch else 0.0)
    return {"dX": dX, "dW1": X.T @ dZ1, "db1": dZ1.sum(axis=0), "dW2": (Z1 if Z1_in_dW2 else H).T @ dout,
            "db2": dout.sum(axis=0)}


def _res_cases(g, sizes) -> list:
    return [Case({"dout": g.normal(size=(n, d)), "X": g.normal(size=(n, d)), "W1": g.normal(size=(d, h)),
                  "b1": g.normal(size=h) * 0.5, "W2": g.normal(size=(h, d)), "b2": g.normal(size=d)}, dims={"N": n})
            for n, d, h in sizes]


def check_residual_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (15): the backward of a residual block :math:`X + \mathrm{relu}(XW_1 + b_1)W_2 + b_2`.

    .. math::
        dH = dout\,W_2^\top,\quad dZ_1 = dH\odot[Z_1 > 0],\quad
        dX = \underbrace{dout}_{\text{identity}} + \underbrace{dZ_1 W_1^\top}_{\text{branch}}

    with :math:`dW_2 = H^\top dout`, :math:`db_2 = \sum_n dout`, :math:`dW_1 =
    X^\top dZ_1`, :math:`db_1 = \sum_n dZ_1`. The learner writes
    ``residual_backward(dout, X, W1, b1, W2, b2) -> (dX, dW1, db1, dW2, db2)``
    with ``X``, ``dout`` (N, D), ``W1`` (D, H), ``W2`` (H, D). Compared with
    :class:`bptutor.normalization.Residual` around ``Linear``, ``ReLU``,
    ``Linear`` and with finite differences. Diagnosed: the identity path
    forgotten, the branch forgotten, the ReLU derivative forgotten, ``W2`` or
    ``W1`` where the transpose belongs (square only), ``Z1`` instead of ``H`` in
    ``dW2``, transposed weight gradients, biases not summed, a sign flip.
    """
    g = check_rng(rng)
    cases = _res_cases(g, [(5, 3, 4), (4, 2, 6), (6, 4, 3)])
    square = _res_cases(g, [(4, 4, 4)])
    mistakes = (
        Mistake("the identity path is missing from dX", "out = X + F(X), so X reaches the output twice: directly "
                "(its gradient is dout itself) and through the branch. dX = dout + dZ1 @ W1.T.",
                lambda a, r: _res(a, identity=False)),
        Mistake("the branch is missing from dX", "dX = dout is only the identity path; add the branch's "
                "gradient dZ1 @ W1.T.", lambda a, r: _res(a, branch=False)),
        Mistake("forgot the ReLU derivative", "the branch passes its gradient only where Z1 > 0: "
                "dZ1 = dH * (Z1 > 0).", lambda a, r: _res(a, relu_deriv=False)),
        Mistake("W2 used where W2.T belongs", "dH = dout @ W2.T: (N, D) @ (D, H) -> (N, H).",
                lambda a, r: _res(a, W2_T=False)),
        Mistake("W1 used where W1.T belongs", "the branch's dX = dZ1 @ W1.T: (N, H) @ (H, D) -> (N, D).",
                lambda a, r: _res(a, W1_T=False)),
        Mistake("Z1 used instead of H in dW2", "the second layer's input is H = relu(Z1): dW2 = H.T @ dout.",
                lambda a, r: _res(a, Z1_in_dW2=True)),
        Mistake("transposed dW1", "dW1 = X.T @ dZ1 has the shape of W1, (D, H).", lambda a, r: {"dW1": r["dW1"].T}),
        Mistake("transposed dW2", "dW2 = H.T @ dout has the shape of W2, (H, D).", lambda a, r: {"dW2": r["dW2"].T}),
        Mistake("biases not summed over the batch", "each bias is added to every row: db = delta.sum(axis=0).",
                lambda a, r: {"db1": _res_dZ1(a), "db2": a["dout"]}),
        Mistake("sign flip", "every gradient here has the sign of dout: no minus sign.",
                lambda a, r: {k: -v for k, v in r.items()}),
    )

    def reference(a):
        block = Residual(Sequential(Linear.from_arrays(a["W1"], a["b1"]), ReLU(), Linear.from_arrays(a["W2"], a["b2"])))
        block.forward(a["X"])
        dX = block.backward(a["dout"])
        first, second = block.module[0], block.module[2]
        return dX, first.W.grad, first.b.grad, second.W.grad, second.b.grad

    def loss(a):
        out = a["X"] + np.maximum(a["X"] @ a["W1"] + a["b1"], 0.0) @ a["W2"] + a["b2"]
        return np.sum(a["dout"] * out)

    names = {"dX": "X", "dW1": "W1", "db1": "b1", "dW2": "W2", "db2": "b2"}
    return check_outputs(fn, name="residual_backward", reference=reference, cases=cases, outputs=tuple(names),
                         mistakes=mistakes, like=names, square_cases=square,
                         numeric=lambda a: _fd(loss, a, names), rtol=F32_RTOL, source="bptutor.normalization.Residual")


def _res_dZ1(a) -> np.ndarray:
    Z1 = a["X"] @ a["W1"] + a["b1"]
    return (a["dout"] @ a["W2"].T) * (Z1 > 0)
