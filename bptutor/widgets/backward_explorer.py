r"""The backward pass, one node at a time, on the drawn graph of a small expression.

The pure compute function is :func:`backward_trace` (with :func:`describe_step`
putting a step into words); :func:`explore_backward` builds the explorer.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from .._checks import check_choice
from ..engine import Value
from ..plotting import draw_graph
from ._explorer import Explorer, control_style


def _neuron() -> Value:
    """micrograd's neuron: o = tanh(x1·w1 + x2·w2 + b), with b chosen so that n = 0.8814, o = 1/√2."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1.label, x2w2.label = "x1w1", "x2w2"
    s = x1w1 + x2w2
    s.label = "s"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def _squared_error() -> Value:
    """L = (a·b + c)², a = 2, b = −3, c = 10: L = 16, ∂L/∂a = 2·4·b = −24."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d ** 2
    L.label = "L"
    return L


def _reused() -> Value:
    """y = x·x + x at x = 3: x is used three times, its gradient collects 3 + 3 + 1 = 7."""
    x = Value(3.0, label="x")
    xx = x * x
    xx.label = "xx"
    y = xx + x
    y.label = "y"
    return y


def _log_loss() -> Value:
    """L = −log σ(w·x + b) with w = 0.5, x = 2, b = −1: z = 0, σ = 0.5, ∂L/∂z = σ − 1 = −0.5."""
    w, x, b = Value(0.5, label="w"), Value(2.0, label="x"), Value(-1.0, label="b")
    wx = w * x
    wx.label = "wx"
    z = wx + b
    z.label = "z"
    p = z.sigmoid()
    p.label = "p"
    L = -p.log()
    L.label = "L"
    return L


#: Expressions to step through: name -> builder of the output ``Value``.
EXPRESSIONS = {
    "neuron: tanh(x1·w1 + x2·w2 + b)": _neuron,
    "squared error: (a·b + c)²": _squared_error,
    "reused node: x·x + x": _reused,
    "log loss: −log σ(w·x + b)": _log_loss,
}


def node_name(node: Value) -> str:
    """A node's label, or its operation when it has none."""
    return node.label or f"({node.op or 'leaf'})"


@dataclass
class BackwardTrace:
    """What :func:`backward_trace` returns.

    Attributes:
        root: the output ``Value``.
        order: its graph in topological order (leaves first, root last).
        steps: one record per node whose gradient is passed on, in backward order,
            as yielded by ``Value.backward_steps()``.
        grads: ``(len(steps) + 1, len(order))`` array; row ``k`` holds every node's
            gradient after ``k`` steps (row 0: just the seed ∂root/∂root = 1).
    """

    root: Value
    order: list
    steps: list
    grads: np.ndarray


def backward_trace(expression: str) -> BackwardTrace:
    """Build ``expression`` (a key of :data:`EXPRESSIONS`) and record its backward pass step by step.

    Each step is ``Value.backward_steps()``'s record: a node, its gradient
    (the upstream gradient) and, per child, the local derivative and the
    contribution local × upstream that is added (``+=``) to the child's gradient.
    The last row of ``grads`` equals what ``root.backward()`` computes.
    """
    check_choice("expression", expression, EXPRESSIONS, who="backward_trace")
    root = EXPRESSIONS[expression]()
    order = root.topological_order()
    for node in order:
        node.grad = 0.0
    index = {id(node): i for i, node in enumerate(order)}
    grads = np.zeros(len(order))
    grads[index[id(root)]] = 1.0
    rows, steps = [grads.copy()], []
    for record in root.backward_steps():
        if not record.contributions:
            continue  # a leaf: nothing to pass on
        for child, _local, contribution in record.contributions:
            grads[index[id(child)]] += contribution
        steps.append(record)
        rows.append(grads.copy())
    return BackwardTrace(root, order, steps, np.array(rows))


def describe_step(trace: BackwardTrace, k: int) -> tuple[str, str]:
    """``(kind, message)`` for step ``k`` of ``trace`` (0: before the first step)."""
    n = len(trace.steps)
    if k == 0:
        return "start", (f"the forward pass is done (data in each box); the backward pass seeds "
                         f"∂{node_name(trace.root)}/∂{node_name(trace.root)} = 1 and visits {n} "
                         f"nodes from the output back")
    record = trace.steps[k - 1]
    parts = [f"{node_name(child)} gets {local:.4g} × {record.upstream:.4g} = {contribution:.4g}"
             for child, local, contribution in record.contributions]
    message = (f"step {k} of {n}: node {node_name(record.node)} ({record.node.op}) has gradient "
               f"{record.upstream:.4g}; local derivative × upstream gradient: " + "; ".join(parts))
    if k < n:
        return "step", message
    leaves = [f"∂{node_name(trace.root)}/∂{node_name(v)} = {trace.grads[k, i]:.4g}"
              for i, v in enumerate(trace.order) if not v.op]
    return "done", f"{message}. Done: " + ", ".join(leaves)


def graph_figsize(order) -> tuple[float, float]:
    """A figure size (inches) in which ``draw_graph`` keeps the boxes of this graph apart.

    ``draw_graph`` puts a value one column right of its operation, and an operation one
    column right of its latest operand: a value's column is 0 for a leaf, else 2 more
    than its latest child's.
    """
    column = {}
    for node in order:  # leaves first, so children are placed before their parents
        column[id(node)] = 2 + max(column[id(c)] for c in node.children) if node.children else 0
    columns = max(column.values()) + 1
    widest = max(Counter(column.values()).values())
    return max(8.0, 1.45 * columns), max(2.6, 0.6 * widest + 1.2)


@lru_cache(maxsize=None)
def _cached_trace(expression: str) -> BackwardTrace:
    return backward_trace(expression)


class BackwardExplorer(Explorer):
    """The backward-pass stepper; see :func:`explore_backward`."""

    title = "The backward pass, one node at a time"

    def __init__(self, expression=next(iter(EXPRESSIONS)), step=0):
        n = len(_cached_trace(expression).steps)
        controls = dict(
            expression=widgets.Dropdown(options=list(EXPRESSIONS), value=expression,
                                        description="expression", style=control_style(),
                                        layout=widgets.Layout(width="370px")),
            step=widgets.IntSlider(value=step, min=0, max=n, description="step", style=control_style(),
                                   continuous_update=False),
        )
        self.previous_button = widgets.Button(description="◀ previous step")
        self.next_button = widgets.Button(description="next step ▶")
        self.previous_button.on_click(lambda _: self._move(-1))
        self.next_button.on_click(lambda _: self._move(+1))
        super().__init__(controls, figsize=(10.0, 3.6),
                         buttons=[widgets.HBox([self.previous_button, self.next_button])])

    margins = {"left": 0.06, "right": 0.94, "bottom": 0.02, "top": 0.98, "wspace": 0.0}

    def _move(self, delta: int) -> None:
        self.step.value = min(max(self.step.value + delta, 0), self.step.max)

    def _on_change(self, change) -> None:
        if change["owner"] is self.controls["expression"]:
            # A new expression starts again at step 0 (one recompute, not two).
            with self.hold():
                self.step.max = len(_cached_trace(change["new"]).steps)
                self.step.value = 0
        else:
            super()._on_change(change)

    def compute(self) -> dict:
        trace = _cached_trace(self.expression.value)
        k = self.step.value
        kind, message = describe_step(trace, k)
        grads = {node_name(v): float(g) for v, g in zip(trace.order, trace.grads[k])}
        node = trace.steps[k - 1].node if k > 0 else None
        return {"kind": kind, "message": message, "step": k, "steps": len(trace.steps),
                "node": None if node is None else node_name(node), "grads": grads, "trace": trace}

    def draw(self, state: dict) -> None:
        trace = state["trace"]
        for node, grad in zip(trace.order, trace.grads[state["step"]]):
            node.grad = float(grad)  # the boxes show the gradients as they stand after this step
        k = state["step"]
        highlight = trace.steps[k - 1].node if k > 0 else None
        # A graph sets its own size and hides its axes: start from a clean figure.
        self.figure.clear()
        self.figure.set_size_inches(*graph_figsize(trace.order))
        draw_graph(trace.root, ax=self.figure.add_subplot(), highlight=highlight)


def explore_backward(expression: str = next(iter(EXPRESSIONS)), step: int = 0) -> BackwardExplorer:
    """Step through the backward pass of a small expression on its drawn graph.

    Controls: ``expression`` (a key of :data:`EXPRESSIONS`), ``step`` (0 to the
    number of nodes passing a gradient on) and the buttons ``previous_button``,
    ``next_button``. The highlighted node is the one being processed; each box
    shows its data and its gradient so far. ``state`` holds ``step``, ``node``
    and ``grads`` (name -> gradient after this step).

    Raises:
        TypeError, ValueError: a keyword of the wrong type, a choice the control does not
            offer, or a value outside the control's range (refused, never clamped),
            naming the keyword, the valid choices or range, and what came.
    """
    # imported here so the builder's checks stay in one place (the module's imports are shared)
    from .._checks import check_in_range, check_option
    who = "explore_backward"
    check_option("expression", expression, EXPRESSIONS, who=who)
    check_in_range("step", step, 0, len(_cached_trace(expression).steps), who=who, integer=True)
    return BackwardExplorer(expression, step)
