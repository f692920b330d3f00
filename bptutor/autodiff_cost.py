r"""What a gradient costs on the ``Value`` engine: reverse mode against forward mode, counted and timed.

A graph of :math:`E` edges (operand slots) costs one multiply-add per edge to
differentiate in either direction:

* **reverse mode** (``backward()``): one sweep from the output to the leaves,
  ``child.grad += local * node.grad`` per edge, gives
  :math:`\partial L/\partial\theta_k` for **every** leaf at once;
* **forward mode**: one sweep from the leaves to the output,
  ``tangent[node] += local * tangent[child]`` per edge, gives the derivative
  of :math:`L` along **one** direction; the full gradient of :math:`P`
  parameters needs :math:`P` sweeps (:math:`e_1, \dots, e_P`).

So with one output and :math:`P` inputs, reverse mode is about :math:`P`
times cheaper (Baydin et al., "Automatic differentiation in machine
learning: a survey", JMLR 2018; Griewank & Walther, *Evaluating
Derivatives*, SIAM 2008). The price is memory: the whole graph (every
node's value and local derivatives) is held from the forward pass until the
backward pass has used it, while forward mode can drop each value as soon as
its consumers have read it.

* :func:`graph_cost`: nodes, leaves, edges, forward and backward arithmetic,
  floats held for the backward pass, of one graph;
* :func:`tangent_sweep`: one forward-mode sweep over a built graph;
* :func:`forward_mode_grads`: the gradient by :math:`P` forward-mode passes;
* :func:`median_seconds`: a robust timer (median CPU time of repeats);
* :func:`cached_floats`: the floats a vectorized ``bptutor.layers`` network
  caches in its forward pass for its backward pass.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from statistics import median
from typing import Callable

import numpy as np

from ._checks import check_int, describe
from .engine import Value
from .layers import Module, Sequential


@dataclass(frozen=True)
class GraphCost:
    """Counts for one graph of :class:`~bptutor.engine.Value` s.

    Attributes:
        nodes: Values in the graph, leaves included.
        leaves: Values made by the user (parameters, inputs, constants).
        edges: operand slots over all operations; one backward (or one
            forward-mode) sweep does exactly this many multiply-adds.
        forward_ops: arithmetic of the forward pass: one per operation, except
            a ``linear`` node with :math:`n` weights, which does :math:`n`
            multiply-adds (its weighted sum).
        cached_floats: floats held for the backward pass: each operation's
            value and its local derivatives (one per edge).
    """
    nodes: int
    leaves: int
    edges: int
    forward_ops: int
    cached_floats: int

    @property
    def backward_ops(self) -> int:
        """Multiply-adds of one backward pass: one per edge."""
        return self.edges


def _check_value(out, who: str) -> Value:
    if not isinstance(out, Value):
        raise TypeError(f"{who} expected out to be a bptutor.engine.Value, got {describe(out)}")
    return out


def graph_cost(out: Value) -> GraphCost:
    r"""Count the graph that ``out`` was computed from.

    For a neuron :math:`z = b + \sum_{i=1}^n w_i x_i` (one ``linear`` node) the
    forward pass does :math:`n` multiply-adds and the backward pass
    :math:`2n + 1` (:math:`\partial z/\partial w_i = x_i` **and**
    :math:`\partial z/\partial x_i = w_i` for each product, and 1 for
    :math:`b`): about twice the forward arithmetic.

    Args:
        out: the Value at the end of the graph (e.g. a loss).

    Returns:
        :class:`GraphCost`.
    """
    order = _check_value(out, "graph_cost").topological_order()
    leaves = edges = forward = cached = 0
    for node in order:
        n = len(node.children)
        if not n:
            leaves += 1
            continue
        edges += n
        forward += (n - 1) // 2 if node.op == "linear" else 1
        cached += 1 + n
    return GraphCost(len(order), leaves, edges, forward, cached)


def tangent_sweep(out: Value, tangents: dict) -> tuple[float, int]:
    r"""One forward-mode sweep: the derivative of ``out`` along the direction ``tangents``.

    .. math:: \dot v = \sum_{c \,\in\, \text{children}(v)} \frac{\partial v}{\partial c}\,\dot c,
       \qquad \dot{\text{out}} = \sum_k \frac{\partial\,\text{out}}{\partial \theta_k}\,\dot\theta_k

    visited from the leaves to ``out`` (topological order), using the local
    derivatives the forward pass stored: the same arithmetic a dual number
    :math:`\theta + \dot\theta\varepsilon` would carry through the forward pass.

    Args:
        out: the output Value.
        tangents: ``{leaf: float}``, the direction :math:`\dot\theta`; missing leaves have tangent 0.

    Returns:
        ``(derivative, multiply_adds)``: :math:`\dot{\text{out}}` and the multiply-adds done (the edges).
    """
    who = "tangent_sweep"
    order = _check_value(out, who).topological_order()
    if not isinstance(tangents, dict):
        raise TypeError(f"{who} expected tangents to be a dict {{Value: float}}, got {describe(tangents)}")
    for leaf, t in tangents.items():
        if not isinstance(leaf, Value) or isinstance(t, bool) or not isinstance(t, (int, float)):
            raise TypeError(f"{who} expected tangents to map Values to numbers, got {describe(leaf)}: "
                            f"{describe(t)}")
    dot = dict(tangents)
    get = dot.get
    mults = 0
    for node in order:
        children = node.children
        if children:  # the mirror image of backward(): pull from the children instead of pushing to them
            t = 0.0
            for child, local in zip(children, node.local_grads):
                t += local * get(child, 0.0)
            dot[node] = t
            mults += len(children)
    return float(get(out, 0.0)), mults


def forward_mode_grads(build: Callable[[], Value], params: list) -> tuple[list, int]:
    r"""The gradient of ``build()`` with respect to ``params`` by :math:`P` forward-mode passes.

    Pass :math:`k` evaluates the function again (``build()``) and sweeps the
    tangent :math:`e_k` (1 on parameter :math:`k`, 0 elsewhere) through it, so
    :math:`P` parameters cost :math:`P` forward passes and :math:`P` sweeps,
    where reverse mode needs one of each.

    Args:
        build: a function of no arguments that computes the output Value from ``params``.
        params: the P leaf Values.

    Returns:
        ``(grads, multiply_adds)``: a list of P floats and the multiply-adds of all P sweeps.
    """
    who = "forward_mode_grads"
    if not callable(build):
        raise TypeError(f"{who} expected build to be a function returning a Value, got {describe(build)}")
    params = list(params)
    if not params or not all(isinstance(p, Value) for p in params):
        raise TypeError(f"{who} expected params to be a non-empty list of Values, got {describe(params)}")
    grads, total = [], 0
    for p in params:
        derivative, mults = tangent_sweep(_check_value(build(), who), {p: 1.0})
        grads.append(derivative)
        total += mults
    return grads, total


def median_seconds(fn: Callable[[], object], repeats: int = 5) -> float:
    """The median CPU time of ``repeats`` calls of ``fn()``, in seconds.

    CPU time of this process (``time.process_time``), not wall time: when other
    programs share the cores, a long call waits for its turn more often than a
    short one, and wall time would inflate exactly the long calls being
    compared. The median shrugs off an outlier (a garbage collection, a cold cache).

    Args:
        fn: a function of no arguments. repeats: calls to time, >= 1.

    Returns:
        seconds, a float.
    """
    if not callable(fn):
        raise TypeError(f"median_seconds expected fn to be callable, got {describe(fn)}")
    repeats = check_int("repeats", repeats, minimum=1, who="median_seconds")
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return median(times)


def _floats_in(cache) -> int:
    if isinstance(cache, np.ndarray):
        return int(cache.size)
    if isinstance(cache, (tuple, list)):
        return sum(_floats_in(c) for c in cache)
    return 0  # a shape, a flag: no activations


def cached_floats(model: Module) -> dict:
    """Floats each layer of ``model`` holds from its last forward pass for its backward pass.

    A ``Linear`` caches its input ``X`` (N, D) (for ``dW = X^T dout``); an
    activation caches its output or a mask (N, H). These grow with the batch
    size N, unlike the parameters.

    Args:
        model: a ``Sequential`` (or one layer) after ``forward``.

    Returns:
        ``{"0 Linear": floats, "1 Tanh": floats, ...}`` in layer order.
    """
    if not isinstance(model, Module):
        raise TypeError(f"cached_floats expected model to be a bptutor.layers Module, got {describe(model)}")
    layers = model.layers if isinstance(model, Sequential) else [model]
    return {f"{i} {type(layer).__name__}": _floats_in(getattr(layer, "_cache", None))
            for i, layer in enumerate(layers)}
