r"""Scalar reverse-mode automatic differentiation: the ``Value`` class.

A ``Value`` holds one number (``data``), the derivative of some output with
respect to it (``grad``), and how it was made: the operation ``op`` and its
operands ``children``, in operand order. Each operation also stores its *local
derivatives* ``local_grads``, one float per child, computed in the forward pass:

.. math:: \text{local}_i = \frac{\partial\,\text{node}}{\partial\,\text{child}_i}

so the backward pass is the chain rule, one line per edge of the graph::

    child.grad += local * node.grad        # local derivative × upstream gradient

Operations: ``+ - * /`` with Values or numbers on either side, ``**`` with a
constant exponent, unary ``-``, ``exp``, ``log``, ``tanh``, ``sigmoid``,
``relu``, ``max`` (a tie splits the gradient in halves), and :func:`linear` (a neuron's weighted sum as one node). An
operation's forward value and its local derivatives sit together in one
method, as in micrograd. Unlike micrograd, nodes hold no closures, the
topological sort is iterative (a chain of a million nodes needs no recursion),
and children keep their order (``a - b`` has children ``(a, b)``).
``topological_order()`` lists a graph from its leaves to its output, and
``backward_steps()`` runs the backward pass one node at a time, for drawings
that step through it.

Leaves and non-leaves. A *leaf* is a Value made by the user (``op == ""``);
every other Value is the result of an operation. ``backward()`` behaves like
PyTorch: a leaf's ``grad`` **accumulates** over calls (call ``zero_grad`` or set
``grad = 0`` between training steps), while every non-leaf's ``grad`` is reset
to 0 at the start of each call, so intermediate gradients are never counted
twice. Each call adds its total to a leaf in one addition, so two
``backward()`` calls leave every leaf with exactly twice the gradient of one.

Numbers. ``data`` is a Python float; a plain number in an expression
(``2 * v``, ``v + 1``) becomes a constant leaf. ``tanh`` and ``sigmoid`` are
finite, with finite local derivatives, for any input (``sigmoid`` uses two
branches so it never takes ``exp`` of a large positive number). ``exp``
overflows to ``inf`` above :math:`x \approx 709.78` (the largest float64 is
about :math:`e^{709.78}`), and so can ``**``; ``log`` refuses ``x <= 0``.
"""
from __future__ import annotations

import math
import numbers
from operator import mul as _mul
from typing import Iterator, NamedTuple

from ._checks import describe

_INF = math.inf
_BIG_INT = 2 ** 1000  # ints beyond this may not fit in a float (max ~1.8e308 ~ 2**1024)
_exp = math.exp
_tanh = math.tanh
_new = object.__new__
# Local derivatives shared by every node of an operation whose derivatives are constants.
_ADD_LOCALS = (1.0, 1.0)
_SUB_LOCALS = (1.0, -1.0)
_NEG_LOCALS = (-1.0,)
_RELU_ON = (1.0,)
_RELU_OFF = (0.0,)
_MAX_FIRST, _MAX_SECOND, _MAX_TIE = (1.0, 0.0), (0.0, 1.0), (0.5, 0.5)


def _node(data: float, children: tuple, local_grads: tuple, op: str) -> "Value":
    """Make the result of an operation without the constructor's checks (its inputs are Values)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.op = op
    out.children = children
    out.local_grads = local_grads
    return out


def _as_value(other, who: str, name: str = "other") -> "Value":
    """A number used in an expression (``v + 1``) as a constant leaf; anything else is refused."""
    if type(other) is float and other == other:  # the common cases, checked cheapest first
        return _node(other, (), (), "")
    if type(other) is int and -_BIG_INT < other < _BIG_INT:
        return _node(float(other), (), (), "")
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return Value(other)
    raise TypeError(f"{who} expected {name} to be a Value or a real number, got {describe(other)}")


def _power(x: float, k: float) -> float:
    """``x ** k`` for floats, with overflow and ``0 ** negative`` giving ±inf instead of raising."""
    try:
        return x ** k
    except (OverflowError, ZeroDivisionError):
        # |x**k| is too large for a float; negative only for x < 0 (or -0.0) and an odd integer k.
        odd = float(k).is_integer() and int(k) % 2 == 1
        return math.copysign(_INF, x) if odd else _INF


class BackwardStep(NamedTuple):
    """One node's share of the backward pass, as yielded by :meth:`Value.backward_steps`.

    Attributes:
        node: the Value whose gradient is passed on.
        upstream: its gradient ``node.grad`` (complete: every use of it is already counted).
        contributions: ``[(child, local, local * upstream), ...]`` in operand order;
            empty for a leaf.
    """

    node: "Value"
    upstream: float
    contributions: list


class Value:
    """A scalar that remembers how it was computed, so its gradient can be found.

    Args:
        data: a real number (int, float, numpy scalar; not bool), stored as a float.
            ``±inf`` is allowed, NaN is not.
        label: a name shown when the graph is drawn, e.g. ``"w1"``.
        _children: the operands, for Values built by an operation (internal).
        _op: the operation's name, for Values built by an operation (internal).
        _local_grads: one local derivative per child (internal).

    Attributes:
        data: float, the value.
        grad: float, the derivative of the output of the last ``backward()`` with
            respect to this value (accumulated across calls for leaves).
        label: str, free text for drawings.
        op: str, ``""`` for a leaf, else ``"+"``, ``"-"``, ``"*"``, ``"/"``,
            ``"**2"`` (``f"**{k}"``), ``"neg"``, ``"exp"``, ``"log"``, ``"tanh"``,
            ``"sigmoid"``, ``"relu"``, ``"max"``, or ``"linear"`` (see :func:`linear`).
        children: tuple of Values, the operands in operand order (``(a, a)`` for ``a * a``).
        local_grads: tuple of floats, ∂(this)/∂(child) for each child.
    """

    __slots__ = ("data", "grad", "label", "op", "children", "local_grads")
    # Makes numpy scalars defer to Value: ``np.float64(2.0) * v`` calls ``v.__rmul__``.
    __array_ufunc__ = None

    def __init__(self, data, label: str = "", _children: tuple = (), _op: str = "",
                 _local_grads: tuple = ()):
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"Value expected data to be a real number, got {describe(data)}")
        try:
            data = float(data)
        except OverflowError:
            raise ValueError(f"Value expected data to fit in a float, got {describe(data)}") from None
        if data != data:
            raise ValueError("Value expected data to be a real number (finite or ±inf), got nan")
        if not isinstance(label, str):
            raise TypeError(f"Value expected label to be a str, got {describe(label)}")
        if not isinstance(_op, str):
            raise TypeError(f"Value expected _op to be a str, got {describe(_op)}")
        _children, _local_grads = tuple(_children), tuple(_local_grads)
        if not all(isinstance(c, Value) for c in _children):
            raise TypeError("Value expected _children to be Values, got "
                            f"{[type(c).__name__ for c in _children]}")
        if len(_local_grads) != len(_children) or bool(_children) != bool(_op):
            raise ValueError(f"Value expected one local gradient per child and an _op exactly when there "
                             f"are children, got {len(_children)} children, {len(_local_grads)} local "
                             f"gradients and _op {_op!r}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self.op = _op
        self.children = _children
        self.local_grads = tuple(float(g) for g in _local_grads)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # --- arithmetic: forward value and local derivatives side by side ---------------------------
    def __add__(self, other) -> Value:
        r""":math:`a + b`; :math:`\partial/\partial a = 1`, :math:`\partial/\partial b = 1`."""
        if type(other) is not Value:
            other = _as_value(other, "Value +")
        return _node(self.data + other.data, (self, other), _ADD_LOCALS, "+")

    def __radd__(self, other) -> Value:
        return _as_value(other, "Value +") + self

    def __sub__(self, other) -> Value:
        r""":math:`a - b`; :math:`\partial/\partial a = 1`, :math:`\partial/\partial b = -1`."""
        if type(other) is not Value:
            other = _as_value(other, "Value -")
        return _node(self.data - other.data, (self, other), _SUB_LOCALS, "-")

    def __rsub__(self, other) -> Value:
        return _as_value(other, "Value -") - self

    def __mul__(self, other) -> Value:
        r""":math:`a b`; :math:`\partial/\partial a = b`, :math:`\partial/\partial b = a`."""
        if type(other) is not Value:
            other = _as_value(other, "Value *")
        a, b = self.data, other.data
        return _node(a * b, (self, other), (b, a), "*")

    def __rmul__(self, other) -> Value:
        return _as_value(other, "Value *") * self

    def __truediv__(self, other) -> Value:
        r""":math:`a / b`; :math:`\partial/\partial a = 1/b`, :math:`\partial/\partial b = -a/b^2`."""
        if type(other) is not Value:
            other = _as_value(other, "Value /")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"Value / divides by zero: the denominator is {b} (numerator {a})")
        out = a / b
        # -a/b**2 written as -(a/b)/b: b*b could underflow to 0 for tiny b.
        return _node(out, (self, other), (1.0 / b, -out / b), "/")

    def __rtruediv__(self, other) -> Value:
        return _as_value(other, "Value /") / self

    def __pow__(self, k) -> Value:
        r""":math:`x^k` for a constant ``k``; :math:`\partial/\partial x = k x^{k-1}`.

        Raises:
            TypeError: ``k`` is a Value (write ``(k * x.log()).exp()`` for :math:`x^k = e^{k \ln x}`).
            ValueError: ``k`` is not finite, or ``x < 0`` and ``k`` is not an integer.
        """
        if isinstance(k, Value):
            raise TypeError(f"Value ** expected a constant exponent (int or float), got {k!r}; "
                            "for a variable exponent write (k * x.log()).exp()")
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            raise TypeError(f"Value ** expected a constant exponent (int or float), got {describe(k)}")
        k = int(k) if isinstance(k, numbers.Integral) else float(k)  # numpy scalars -> Python numbers
        if not math.isfinite(k):
            raise ValueError(f"Value ** expected a finite exponent, got {k}")
        x = self.data
        if x < 0 and not float(k).is_integer():
            raise ValueError(f"Value ** {k} expected a non-negative base for a non-integer exponent, got {x}")
        if x == 0 and k < 0:
            raise ZeroDivisionError(f"Value ** {k} divides by zero: the base is {x}")
        # The local derivative may still be infinite: d/dx x**0.5 at x = 0.
        local = k * _power(x, k - 1) if k != 0 else 0.0
        return _node(_power(x, k), (self,), (float(local),), f"**{k}")

    def __rpow__(self, other):
        raise TypeError(f"number ** Value is not supported (got {describe(other)} ** {self!r}); "
                        "write (v * math.log(c)).exp() for c ** v")

    def __neg__(self) -> Value:
        r""":math:`-x`; :math:`\partial/\partial x = -1`."""
        return _node(-self.data, (self,), _NEG_LOCALS, "neg")

    # --- functions ---------------------------------------------------------------------------------
    def exp(self) -> Value:
        r""":math:`e^x`; :math:`\partial/\partial x = e^x`.

        Overflows to ``inf`` (value and local derivative) above :math:`x \approx 709.78`.
        """
        try:
            out = _exp(self.data)
        except OverflowError:
            out = _INF
        return _node(out, (self,), (out,), "exp")

    def log(self) -> Value:
        r""":math:`\ln x`; :math:`\partial/\partial x = 1/x`.

        Raises:
            ValueError: ``x <= 0``, where the logarithm is not a real number.
        """
        x = self.data
        if x <= 0.0:
            raise ValueError(f"Value.log expected a positive value, got {x}")
        return _node(math.log(x), (self,), (1.0 / x,), "log")

    def tanh(self) -> Value:
        r""":math:`\tanh x`; :math:`\partial/\partial x = 1 - \tanh^2 x` (0 for large :math:`|x|`)."""
        t = _tanh(self.data)
        return _node(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self) -> Value:
        r""":math:`\sigma(x) = 1/(1 + e^{-x})`; :math:`\partial/\partial x = \sigma(x)(1 - \sigma(x))`.

        Two branches, so ``exp`` only ever sees :math:`-|x| \le 0` and cannot overflow:
        :math:`\sigma(x) = 1/(1 + e^{-x})` for :math:`x \ge 0`, :math:`e^{x}/(1 + e^{x})` otherwise.
        """
        x = self.data
        if x >= 0.0:
            s = 1.0 / (1.0 + _exp(-x))
        else:
            e = _exp(x)
            s = e / (1.0 + e)
        return _node(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self) -> Value:
        r""":math:`\max(0, x)`; :math:`\partial/\partial x = 1` for :math:`x > 0`, else 0.

        At the kink :math:`x = 0` the derivative is taken as 0, as in PyTorch.
        """
        x = self.data
        if x > 0.0:
            return _node(x, (self,), _RELU_ON, "relu")
        return _node(0.0, (self,), _RELU_OFF, "relu")

    def max(self, other) -> Value:
        r""":math:`\max(a, b)`; the larger operand gets local derivative 1, the other 0.

        A tie :math:`a = b` gives each :math:`\tfrac12` (the central difference's slope, and
        ``torch.maximum``'s rule), so ``a.max(a)`` hands ``a`` its whole gradient, once.
        """
        if type(other) is not Value:
            other = _as_value(other, "Value.max")
        a, b = self.data, other.data
        local = _MAX_FIRST if a > b else _MAX_SECOND if a < b else _MAX_TIE
        return _node(a if a >= b else b, (self, other), local, "max")

    # --- the backward pass ---------------------------------------------------------------------------
    def topological_order(self) -> list:
        """Every Value this one depends on, each once, operands before results.

        The list runs from the leaves towards ``self``: it starts with a leaf (the
        first operand's first operand's ...) and ends with ``self``. It is the
        post-order of a depth-first search that visits children in operand order,
        the same order as micrograd's recursive ``build_topo``, but computed with an
        explicit stack: the depth of the graph is limited by memory, not by
        Python's recursion limit, and time and memory are linear in the number of
        nodes and edges.
        """
        order = []
        visited = set()
        stack = [self]
        finishing = []  # nodes whose children are being listed; None on `stack` marks where one ends
        push, pop = stack.append, stack.pop
        while stack:
            node = pop()
            if node is None:  # every child of the innermost open node is listed: list the node
                order.append(finishing.pop())
                continue
            if node in visited:  # pushed twice (two parents) and listed already
                continue
            visited.add(node)
            finishing.append(node)
            push(None)
            # Reversed, so the first operand is popped (and listed) first.
            for child in reversed(node.children):
                if child not in visited:
                    push(child)
        return order

    def _start_backward(self) -> tuple[list, list]:
        """Topological order and the leaves' earlier gradients, set aside.

        Non-leaf gradients are zeroed; a leaf with a gradient from earlier calls is
        zeroed too and its old value returned, to be added back by
        :func:`_finish_backward` (so each call adds its total once, as PyTorch does).
        Then ∂self/∂self = 1 is seeded.
        """
        order = self.topological_order()
        earlier = []
        for node in order:
            if node.op:
                node.grad = 0.0
            elif node.grad:
                earlier.append((node, node.grad))
                node.grad = 0.0
        self.grad += 1.0
        return order, earlier

    def backward(self) -> None:
        r"""Fill in ``v.grad`` = :math:`\partial\,\text{self}/\partial v` for every ``v`` in the graph.

        Visits nodes from ``self`` back to the leaves (reverse topological order), so
        a node's gradient is complete before it is passed on, and adds
        ``local * node.grad`` to each child's gradient.

        Repeated calls follow PyTorch: non-leaf gradients restart from 0, and each
        leaf adds this call's total :math:`\partial\,\text{self}/\partial v` to the
        ``grad`` it already had, in one addition, so two calls give exactly twice
        the gradient of one. Set leaf gradients to 0 (``zero_grad``) between steps.
        """
        order, earlier = self._start_backward()
        for node in reversed(order):
            children = node.children
            if children:  # half the nodes are often leaves: skip them cheaply
                g = node.grad
                for child, local in zip(children, node.local_grads):
                    child.grad += local * g
        _finish_backward(earlier)

    def backward_steps(self) -> Iterator[BackwardStep]:
        """The backward pass one node at a time: the same arithmetic as :meth:`backward`.

        On the first ``next()``, non-leaf gradients are zeroed and ``self.grad`` is
        seeded with 1. Then, for each node in reverse topological order, the
        contributions ``local * node.grad`` are added to its children **before** the
        node's :class:`BackwardStep` is yielded, so a drawing made at that moment
        shows the step's effect. Leaves are yielded too, with no contributions.

        While stepping, a leaf shows this pass's sum so far; a gradient it had from
        an earlier pass is added back when the generator finishes (or is closed),
        which leaves exactly the gradients ``backward()`` would.
        """
        order, earlier = self._start_backward()
        try:
            for node in reversed(order):
                g = node.grad
                contributions = []
                for child, local in zip(node.children, node.local_grads):
                    contribution = local * g
                    child.grad += contribution
                    contributions.append((child, local, contribution))
                yield BackwardStep(node, g, contributions)
        finally:
            _finish_backward(earlier)


def _finish_backward(earlier: list) -> None:
    """Add each leaf's gradient from earlier passes back: old + this pass's total."""
    for leaf, old in earlier:
        leaf.grad = old + leaf.grad


def linear(weights, inputs, bias) -> Value:
    r"""A neuron's weighted sum as one node: :math:`z = b + \sum_{i=1}^{n} w_i x_i`.

    The result equals the chain ``b + w[0]*x[0] + w[1]*x[1] + ...`` up to
    rounding (Python's ``sum``, compensated from Python 3.12 on), but the graph
    holds one node instead of :math:`2n`, so building it and running backward
    over it is several times faster; :mod:`bptutor.scalar_nn` uses it for every
    neuron. Its local derivatives are

    .. math:: \frac{\partial z}{\partial w_i} = x_i, \qquad
              \frac{\partial z}{\partial x_i} = w_i, \qquad
              \frac{\partial z}{\partial b} = 1.

    Args:
        weights: list of :math:`n \ge 1` Values or numbers.
        inputs: list of :math:`n` Values or numbers.
        bias: a Value or a number.

    Returns:
        A Value with ``op == "linear"`` and children ``(w_1, ..., w_n, x_1, ..., x_n, b)``
        (numbers become constant leaves).
    """
    for name, seq in (("weights", weights), ("inputs", inputs)):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__"):
            raise TypeError(f"linear expected {name} to be a list of Values or numbers, got {describe(seq)}")
    if len(weights) == 0:
        raise ValueError("linear expected at least one weight, got an empty list")
    if len(weights) != len(inputs):
        raise ValueError(f"linear expected inputs of length {len(weights)} (one per weight), "
                         f"got {len(inputs)}")
    weights = [w if type(w) is Value else _as_value(w, "linear", f"weights[{i}]")
               for i, w in enumerate(weights)]
    inputs = [x if type(x) is Value else _as_value(x, "linear", f"inputs[{i}]")
              for i, x in enumerate(inputs)]
    return _linear(weights, inputs, bias if type(bias) is Value else _as_value(bias, "linear", "bias"))


def _linear(weights: list, inputs: list, bias: Value) -> Value:
    """:func:`linear` without checks, for callers that pass lists of Values."""
    w = [v.data for v in weights]
    x = [v.data for v in inputs]
    return _node(sum(map(_mul, w, x), bias.data), (*weights, *inputs, bias), (*x, *w, 1.0), "linear")
