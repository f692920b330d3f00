r"""Neuron, Layer and MLP built from scalar :class:`~bptutor.engine.Value` objects.

A neuron computes a weighted sum of its inputs plus a bias and applies an
activation :math:`f`:

.. math:: y = f\Big(b + \sum_{i=1}^{n} w_i x_i\Big)

A layer is a list of neurons that read the same inputs; an MLP is a list of
layers, each reading the previous layer's outputs. Every weight and bias is a
leaf ``Value``, so ``loss.backward()`` fills in their ``grad`` and an optimizer
from :mod:`bptutor.optim` (or ``p.data -= lr * p.grad``) can train them.

The graph of a neuron is two nodes: the weighted sum
:math:`z = b + \sum_i w_i x_i` as one :func:`~bptutor.engine.linear` node
(children :math:`w_1 \dots w_n, x_1 \dots x_n, b`, local derivatives
:math:`x_i, w_i, 1`), then the activation (none for ``"identity"``).
micrograd builds the same sum from :math:`2n` ``*`` and ``+`` nodes; the
numbers are the same up to rounding, and the short graph is several times
faster to build and to differentiate. Numbers given as input become leaves
labelled ``"x1"``, ``"x2"``... once per call, shared by every neuron, so
their ``grad`` is :math:`\partial L/\partial x_i`.

Initialisation follows micrograd: weights uniform in :math:`[-1, 1]`, biases 0.
Each neuron draws its :math:`n` weights with one ``rng.uniform(-1, 1, n)`` call,
in the order the neurons are built (layer by layer, neuron by neuron), so a
seed fixes every weight.

Parameter order (what ``parameters()`` returns): for each neuron, its weights
:math:`w_1 \dots w_n` then its bias :math:`b`; for a layer, its neurons in
order; for an MLP, its layers from input to output.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from . import activations as _act
from ._checks import check_choice, check_int, check_rng, describe
from .engine import Value, _linear
from .layers import Linear, Sequential


def _identity(v: Value) -> Value:
    return v


#: Activations a neuron can apply: name -> function of a Value.
ACTIVATIONS = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "identity": _identity,
}


#: activation name -> the vectorized layer of :mod:`bptutor.activations` (for :meth:`MLP.to_sequential`).
_LAYER_ACTIVATIONS = {"tanh": _act.Tanh, "relu": _act.ReLU, "sigmoid": _act.Sigmoid}


def _as_inputs(x, nin: int, who: str) -> list:
    """``x`` as a list of ``nin`` Values; numbers become leaves labelled ``"x1"``, ``"x2"``, ...

    Converting once per call (not once per neuron) lets every neuron of a layer
    share one leaf per input, so ``x[i].grad`` collects ∂L/∂x_i from all of them.
    """
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(f"{who} expected x to be a list of numbers or Values, got {describe(x)}")
    if len(x) != nin:
        raise ValueError(f"{who} expected x of length {nin}, got {len(x)}")
    out = []
    for i, xi in enumerate(x):
        if isinstance(xi, Value):
            out.append(xi)
            continue
        try:
            out.append(Value(xi, label=f"x{i + 1}"))
        except TypeError:
            raise TypeError(f"{who} expected x[{i}] to be a real number or a Value, "
                            f"got {describe(xi)}") from None
        except ValueError:
            raise ValueError(f"{who} expected x[{i}] to be a number other than NaN, "
                             f"got {describe(xi)}") from None
    return out


class _ScalarModule(ABC):
    """What Neuron, Layer and MLP share: ``parameters()`` (defined by each) and ``zero_grad()``."""

    @abstractmethod
    def parameters(self) -> list:
        """Every trainable Value, in a fixed order."""

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0: leaves accumulate across ``backward()`` calls."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(_ScalarModule):
    r"""One unit: :math:`y = f(b + \sum_i w_i x_i)`.

    Args:
        nin: number of inputs :math:`n` (>= 1).
        activation: a key of :data:`ACTIVATIONS` (``"tanh"``, ``"relu"``,
            ``"sigmoid"``, ``"identity"``).
        rng: ``numpy.random.Generator`` or integer seed for the weights.

    Attributes:
        w: list of ``nin`` Values (labels ``"w1"``, ``"w2"``, ...), uniform in [-1, 1].
        b: the bias Value (label ``"b"``), 0.
    """

    def __init__(self, nin: int, activation: str = "tanh", rng=0):
        self.nin = check_int("nin", nin, minimum=1, who="Neuron")
        self.activation = check_choice("activation", activation, ACTIVATIONS, who="Neuron")
        rng = check_rng(rng)
        weights = rng.uniform(-1.0, 1.0, self.nin)
        self.w = [Value(float(wi), label=f"w{i + 1}") for i, wi in enumerate(weights)]
        self.b = Value(0.0, label="b")
        self._f = ACTIVATIONS[activation]
        self._who = f"Neuron({self.nin})"  # how error messages name this neuron

    def __call__(self, x) -> Value:
        """The neuron's output for ``x``, a list of ``nin`` numbers or Values."""
        return self._forward(_as_inputs(x, self.nin, self._who))

    def _forward(self, x: list) -> Value:
        # One node for b + w1 x1 + ... + wn xn (see engine.linear), then the activation.
        return self._f(_linear(self.w, x, self.b))

    def parameters(self) -> list:
        """``[w1, ..., wn, b]``."""
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(_ScalarModule):
    """``nout`` neurons reading the same ``nin`` inputs.

    Args:
        nin: inputs per neuron (>= 1).
        nout: number of neurons (>= 1).
        activation: a key of :data:`ACTIVATIONS`.
        rng: ``numpy.random.Generator`` or integer seed, shared by the neurons in order.
    """

    def __init__(self, nin: int, nout: int, activation: str = "tanh", rng=0):
        self.nin = check_int("nin", nin, minimum=1, who="Layer")
        self.nout = check_int("nout", nout, minimum=1, who="Layer")
        self.activation = check_choice("activation", activation, ACTIVATIONS, who="Layer")
        rng = check_rng(rng)
        self.neurons = [Neuron(self.nin, activation, rng) for _ in range(self.nout)]
        self._who = f"Layer({self.nin}, {self.nout})"

    def __call__(self, x) -> list:
        """A list of ``nout`` Values (a list even when ``nout == 1``)."""
        return self._forward(_as_inputs(x, self.nin, self._who))

    def _forward(self, x) -> list:
        return [n._forward(x) for n in self.neurons]

    def parameters(self) -> list:
        """Each neuron's ``[w1, ..., wn, b]``, neuron by neuron."""
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(_ScalarModule):
    """A multilayer perceptron: layers of sizes ``nouts``; the last layer is linear.

    Args:
        nin: number of inputs (>= 1).
        nouts: list of layer sizes, e.g. ``[16, 16, 1]``; each >= 1.
        activation: a key of :data:`ACTIVATIONS` for every layer but the last,
            which uses ``"identity"`` (so the output can be any real number, a
            regression value or a logit).
        rng: ``numpy.random.Generator`` or integer seed (default 0).

    Calling the MLP returns a list of ``nouts[-1]`` Values (a list even for one output).
    """

    def __init__(self, nin: int, nouts: list, activation: str = "tanh", rng=0):
        self.nin = check_int("nin", nin, minimum=1, who="MLP")
        if isinstance(nouts, (str, bytes)) or not hasattr(nouts, "__len__"):
            raise TypeError(f"MLP expected nouts to be a list of layer sizes, got {describe(nouts)}")
        if len(nouts) == 0:
            raise ValueError("MLP expected nouts to hold at least one layer size, got an empty list")
        sizes = [self.nin] + [check_int(f"nouts[{i}]", n, minimum=1, who="MLP") for i, n in enumerate(nouts)]
        self.activation = check_choice("activation", activation, ACTIVATIONS, who="MLP")
        rng = check_rng(rng)
        last = len(sizes) - 2
        self.layers = [Layer(sizes[i], sizes[i + 1], "identity" if i == last else activation, rng)
                       for i in range(len(sizes) - 1)]
        self._who = f"MLP({self.nin}, {sizes[1:]})"

    def __call__(self, x) -> list:
        """The outputs (a list of Values) for one input ``x`` of length ``nin``."""
        x = _as_inputs(x, self.nin, self._who)
        for layer in self.layers:
            x = layer._forward(x)
        return x

    def parameters(self) -> list:
        """Every layer's parameters, from the input layer to the output layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def to_sequential(self):
        r"""The same network as a vectorized ``bptutor.layers.Sequential``, holding copies of the weights.

        Layer :math:`l`'s neuron :math:`j` becomes column :math:`j` of ``Linear.W``
        (shape ``(nin, nout)``) and entry :math:`j` of ``Linear.b``, so
        ``seq.forward(X)[n]`` equals ``[v.data for v in mlp(X[n])]`` up to
        rounding, and the same loss gives the same gradients: the check of one
        implementation against the other in notebook 03.

        Returns:
            ``Sequential(Linear, activation, ..., Linear)`` mapping ``(N, nin)`` to ``(N, nouts[-1])``.
        """
        modules = []
        for layer in self.layers:
            W = [[w.data for w in n.w] for n in layer.neurons]                   # (nout, nin)
            modules.append(Linear.from_arrays(np.array(W).T, [n.b.data for n in layer.neurons]))
            if layer.activation != "identity":
                modules.append(_LAYER_ACTIVATIONS[layer.activation]())
        return Sequential(*modules)

    def __repr__(self) -> str:
        return f"MLP({self.nin}, {[layer.nout for layer in self.layers]}, activation={self.activation!r})"
