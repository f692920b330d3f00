"""Exercise checks for chapter 03, the chain rule on scalar ``Value`` nodes.

* ``check_backward_rule(fn, op)``: ``mul_backward(out)``, ``tanh_backward(out)``, ``max_backward(out)``, ...
  (rules in ``BACKWARD_RULES``)
* ``check_chain_rule``: ``neuron_grad(x, w, b, t) -> (dw, db)``
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .. import activations as act
from .._checks import check_choice, check_rng
from ..engine import Value
from ._core import Case, CheckResult, _Diagnosed, Mistake, check_outputs


# --- 03 chain rule ----------------------------------------------------------------------------------------
class _Rule(NamedTuple):
    """An operation of :class:`~bptutor.engine.Value` and its local derivatives."""
    name: str            # the learner's function, e.g. "mul_backward"
    arity: int
    f: Callable          # forward on floats, f(x, y) (y ignored when unary)
    local: Callable      # (x, y, out) -> local derivative per child
    build: Callable      # (a, b) -> the output Value (b ignored when unary)
    wrong: tuple         # ((label, hint, local), ...): op-specific wrong local derivatives


_SIG = lambda x: float(act.sigmoid(x))  # noqa: E731

#: op -> the backward rule the learner writes in notebook 03.
BACKWARD_RULES = {
    "+": _Rule("add_backward", 2, lambda x, y: x + y, lambda x, y, o: (1.0, 1.0), lambda a, b: a + b, ()),
    "*": _Rule("mul_backward", 2, lambda x, y: x * y, lambda x, y, o: (y, x), lambda a, b: a * b, (
        ("each factor got its own value", "d(a*b)/da = b: each factor's gradient gets the *other* factor, "
         "a.grad += b.data * out.grad.", lambda x, y, o: (x, y)),)),
    "tanh": _Rule("tanh_backward", 1, lambda x, y: np.tanh(x), lambda x, y, o: (1 - o * o,),
                  lambda a, b: a.tanh(), (
        ("the derivative used the input instead of the output", "tanh'(x) = 1 - tanh(x)**2 = 1 - out.data**2, "
         "not 1 - x**2.", lambda x, y, o: (1 - x * x,)),
        ("forgot the square", "tanh'(x) = 1 - out.data**2.", lambda x, y, o: (1 - o,)))),
    "exp": _Rule("exp_backward", 1, lambda x, y: np.exp(x), lambda x, y, o: (o,), lambda a, b: a.exp(), (
        ("used x instead of exp(x)", "d/dx exp(x) = exp(x), which is out.data.", lambda x, y, o: (x,)),)),
    "sigmoid": _Rule("sigmoid_backward", 1, lambda x, y: _SIG(x), lambda x, y, o: (o * (1 - o),),
                     lambda a, b: a.sigmoid(), (
        ("the derivative used the input instead of the output", "sigma'(x) = s * (1 - s) with s = out.data, "
         "not x * (1 - x).", lambda x, y, o: (x * (1 - x),)),
        ("forgot the (1 - s) factor", "sigma'(x) = s * (1 - s) with s = out.data.", lambda x, y, o: (o,)))),
    "relu": _Rule("relu_backward", 1, lambda x, y: max(x, 0.0), lambda x, y, o: (float(x > 0),),
                  lambda a, b: a.relu(), (
        ("the gradient passes for negative inputs", "relu'(x) is 1 where x > 0 and 0 elsewhere: "
         "x.grad += (x.data > 0) * out.grad.", lambda x, y, o: (1.0,)),
        ("multiplied by relu(x) instead of its derivative", "the local derivative is 0 or 1, not out.data.",
         lambda x, y, o: (o,)))),
    "max": _Rule("max_backward", 2, lambda x, y: max(x, y), lambda x, y, o: _max_locals(x, y),
                 lambda a, b: a.max(b), (
        ("sent the gradient to both operands", "max is a router: only the larger operand moved the output, "
         "so only it gets out.grad; the other gets 0.", lambda x, y, o: (1.0, 1.0)),
        ("sent the gradient to the smaller operand", "the winner (the larger data) gets out.grad: "
         "a.grad += (a.data > b.data) * out.grad.", lambda x, y, o: _max_locals(y, x)),
        ("a tie went to one operand only", "when a.data == b.data the engine splits the gradient, "
         "0.5 * out.grad to each (the slope central differences give).",
         lambda x, y, o: (float(x >= y), float(y > x))),
        ("multiplied by the winner's value", "the local derivative of max is 1 for the winner, not its "
         "data.", lambda x, y, o: tuple(loc * o for loc in _max_locals(x, y))))),
}


def _max_locals(x: float, y: float) -> tuple:
    """Local derivatives of max(x, y): 1 to the larger, 0 to the other, halves on a tie (as Value.max)."""
    return (1.0, 0.0) if x > y else (0.0, 1.0) if x < y else (0.5, 0.5)


def _kids(rule: _Rule, a: dict) -> list:
    if rule.arity == 1:
        return ["x"]
    return ["a", "a"] if a["reused"] else ["a", "b"]


def _rule_outcome(rule: _Rule, a: dict, local=None, mode: str = "add") -> tuple:
    """The children's gradients after the backward rule, done right or in a known wrong way."""
    kids = _kids(rule, a)
    x, y = a[kids[0]], a[kids[-1]]
    out = float(rule.f(x, y))
    grads = {k: a[f"{k}.grad"] for k in set(kids)}
    u = a["out.grad"]
    for kid, loc in zip(kids, (local or rule.local)(x, y, out)):
        contribution = {"add": loc * u, "sign": -loc * u, "no_upstream": loc, "out_data": loc * out}
        if mode == "assign":
            grads[kid] = loc * u
        else:
            grads[kid] += contribution[mode]
    return grads["x"] if rule.arity == 1 else (grads["a"], grads[kids[1]])


def _rule_numeric(rule: _Rule, a: dict) -> dict:
    """Expected gradients from central differences of the forward function."""
    kids, h, out = _kids(rule, a), 1e-6, {}
    for k in dict.fromkeys(kids):
        def f(t):
            vals = {kk: (t if kk == k else a[kk]) for kk in kids}
            return rule.f(vals[kids[0]], vals[kids[-1]])
        out[f"{k}.grad"] = a[f"{k}.grad"] + a["out.grad"] * (f(a[k] + h) - f(a[k] - h)) / (2 * h)
    if rule.arity == 2 and a["reused"]:
        out["b.grad"] = out["a.grad"]
    return out


def check_backward_rule(fn, op: str = "*", rng=0) -> CheckResult:
    r"""Exercise (03): the backward rule of one ``Value`` operation.

    The learner writes ``<op>_backward(out)`` (``mul_backward``, ``tanh_backward``,
    ... see :data:`BACKWARD_RULES`): ``out`` is a :class:`~bptutor.engine.Value`
    made by the operation, its operands are ``out.children`` (in order) and the
    function must **add** ``local derivative * out.grad`` to each child's
    ``.grad``::

        def mul_backward(out):
            a, b = out.children
            a.grad += b.data * out.grad
            b.grad += a.data * out.grad

    The check starts the children with non-zero gradients (as if they were
    used elsewhere too), uses an upstream ``out.grad`` other than 1, and for
    binary operations also ``a * a`` (one Value used twice). Diagnosed: ``=``
    where ``+=`` belongs, ``out.data``/``out.grad`` or a child's ``.data`` changed,
    forgotten upstream gradient, ``out.data`` used in
    place of ``out.grad``, a sign flip, and wrong local derivatives of the
    operation (e.g. ``1 - x**2`` for tanh; for ``max``: the gradient sent to
    both operands or to the smaller one, a tie given to one operand, the
    winner's value as its local derivative); finite differences of the
    operation give the expected numbers (at a tie of ``max`` the central
    difference is 1/2, the engine's convention).
    """
    check_choice("op", op, BACKWARD_RULES, who="check_backward_rule")
    rule, g = BACKWARD_RULES[op], check_rng(rng)
    cases = []
    for i, reused in enumerate((False, True, False) if rule.arity == 2 else (False, False, False)):
        scale = (1.0, -1.0, 0.5)[i] if rule.arity == 1 else 1.0  # a negative input for relu
        args = ({"x": scale * float(g.uniform(0.3, 1.5))} if rule.arity == 1 else
                {"a": float(g.normal()), "b": float(g.normal()), "reused": reused})
        if op == "max" and i == 2:  # two Values with equal data: the tie convention
            args["b"] = args["a"]
        args.update({f"{k}.grad": float(g.uniform(-1, 1)) for k in ("x",) if rule.arity == 1})
        if rule.arity == 2:
            args.update({"a.grad": float(g.uniform(-1, 1)), "b.grad": float(g.uniform(-1, 1))})
        args["out.grad"] = float(g.uniform(1.5, 2.5))
        note = f"out = a {op} a, one Value used twice" if reused else "the children already hold gradients"
        if op == "max":
            note = ("out = a.max(a), one Value used twice" if reused else
                    "a tie: a.data == b.data" if args["a"] == args["b"] else note)
        cases.append(Case(args, note))
    outputs = ("x.grad",) if rule.arity == 1 else ("a.grad", "b.grad")

    def call(fn, a):
        nodes = {k: Value(a[k], label=k) for k in dict.fromkeys(_kids(rule, a))}
        for k, node in nodes.items():
            node.grad = a[f"{k}.grad"]
        kids = [nodes[k] for k in _kids(rule, a)]
        out = rule.build(kids[0], kids[-1])
        out.grad = a["out.grad"]
        out_data = out.data
        fn(out)
        if out.data != out_data or out.grad != a["out.grad"]:
            which = "out.data" if out.data != out_data else "out.grad"
            raise _Diagnosed(f"{rule.name} changed {which}",
                             "the backward rule reads out.data and out.grad and only adds to the children's "
                             ".grad; it must not change out itself.")
        for k, node in nodes.items():
            if node.data != a[k]:
                raise _Diagnosed(f"{rule.name} changed {k}.data from {a[k]:.6g} to {node.data:.6g}",
                                 "the backward pass only adds to .grad; .data stays as the forward pass left it.")
        return nodes["x"].grad if rule.arity == 1 else tuple(nodes[k].grad for k in _kids(rule, a))

    def variant(local=None, mode="add"):
        def wrong(a, r):
            res = _rule_outcome(rule, a, local, mode)
            return dict(zip(outputs, res if rule.arity == 2 else (res,)))
        return wrong

    generic = (
        Mistake("`=` where `+=` belongs", "a Value used more than once (or already holding a gradient from "
                "another use) must collect every contribution: child.grad += local * out.grad.",
                variant(mode="assign")),
        Mistake("forgot the upstream gradient", "chain rule: multiply the local derivative by out.grad, the "
                "gradient arriving from above.", variant(mode="no_upstream")),
        Mistake("used out.data instead of out.grad", "the upstream gradient is out.grad; out.data is the "
                "forward value.", variant(mode="out_data")),
        Mistake("sign flip", "add local * out.grad; the minus sign of gradient descent comes later, in the "
                "update.", variant(mode="sign")),
    )
    specific = tuple(Mistake(label, hint, variant(local)) for label, hint, local in rule.wrong)
    return check_outputs(fn, name=rule.name, reference=lambda a: _rule_outcome(rule, a), cases=cases,
                         outputs=outputs,
                         mistakes=specific + generic, numeric=lambda a: _rule_numeric(rule, a), call=call,
                         source="bptutor.engine.Value's backward")


def _neuron_loss(x: float, w: float, b: float, t: float) -> float:
    return float((np.tanh(w * x + b) - t) ** 2)


def check_chain_rule(fn, rng=0) -> CheckResult:
    r"""Exercise (03): the chain rule by hand for one tanh neuron and a squared error.

    .. math:: z = w x + b,\quad y = \tanh z,\quad L = (y - t)^2,\qquad
        \frac{\partial L}{\partial w} = 2(y - t)(1 - y^2)\,x,\quad
        \frac{\partial L}{\partial b} = 2(y - t)(1 - y^2)

    The learner writes ``neuron_grad(x, w, b, t) -> (dw, db)`` for numbers
    ``x, w, b, t``. Compared with the ``Value`` engine and finite differences.
    Diagnosed: forgotten tanh derivative, ``1 - z**2`` instead of ``1 - y**2``,
    missing factor 2, sign flip, forgotten inner derivative ``x``, ``w`` in
    place of ``x``.
    """
    g = check_rng(rng)
    cases = [Case({"x": float(g.normal()), "w": float(g.normal()), "b": float(g.normal()) * 0.5,
                   "t": float(g.uniform(-0.9, 0.9))}) for _ in range(3)]

    def reference(a):
        x, w, b = Value(a["x"]), Value(a["w"]), Value(a["b"])
        L = ((w * x + b).tanh() - a["t"]) ** 2
        L.backward()
        return w.grad, b.grad

    def parts(a):
        z = a["w"] * a["x"] + a["b"]
        return z, np.tanh(z), 2 * (np.tanh(z) - a["t"])

    def chain(a, deriv):
        z, y, e = parts(a)
        return {"dw": e * deriv(z, y) * a["x"], "db": e * deriv(z, y)}

    mistakes = (
        Mistake("forgot the tanh derivative", "between L and z sits tanh: multiply by tanh'(z) = 1 - y**2.",
                lambda a, r: chain(a, lambda z, y: 1.0)),
        Mistake("used z instead of y in tanh'", "tanh'(z) = 1 - tanh(z)**2 = 1 - y**2, not 1 - z**2.",
                lambda a, r: chain(a, lambda z, y: 1 - z * z)),
        Mistake("missing factor 2", "d/dy (y - t)**2 = 2 (y - t).",
                lambda a, r: {"dw": r["dw"] / 2, "db": r["db"] / 2}),
        Mistake("sign flip", "d/dy (y - t)**2 = 2 (y - t), not 2 (t - y).",
                lambda a, r: {"dw": -r["dw"], "db": -r["db"]}),
        Mistake("forgot the inner derivative x", "dz/dw = x: dw = (dL/dz) * x, while dz/db = 1.",
                lambda a, r: {"dw": r["db"]}),
        Mistake("multiplied by w instead of x", "z = w * x + b, so dz/dw = x (and dz/dx = w).",
                lambda a, r: {"dw": r["db"] * a["w"]}),
    )

    def numeric(a):
        h, out = 1e-6, {}
        for k in ("w", "b"):
            plus, minus = dict(a), dict(a)
            plus[k] += h
            minus[k] -= h
            out["d" + k] = (_neuron_loss(**plus) - _neuron_loss(**minus)) / (2 * h)
        return out

    return check_outputs(fn, name="neuron_grad", reference=reference, cases=cases, outputs=("dw", "db"),
                         mistakes=mistakes, numeric=numeric, source="the Value engine")
