"""Vectorized layers: Parameter, Module, Linear, Sequential.

Every layer follows one contract, the one a learner derives by hand:

* ``forward(X)`` computes the output and keeps what backward needs in a cache;
* ``backward(dout)`` takes the upstream gradient ``dout`` = ∂L/∂out (same
  shape as the output), **adds** ∂L/∂θ into each parameter's ``.grad`` and
  returns ``dX`` = ∂L/∂X, which has the shape of ``X``.

``Linear`` and ``Sequential`` also take ``backward(dout, input_grad=False)``,
which fills the parameters' gradients the same way but skips ``dX`` and
returns None, like PyTorch when X does not require a gradient (the data fed
to the first layer never needs one; ``fit`` uses it).

Gradients accumulate (``+=``) so that a parameter used twice collects both
contributions; call ``zero_grad()`` before each new backward pass.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ._checks import as_array, check_choice, check_finite, check_int, check_shape, describe


class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    Args:
        data: the initial values, any shape; stored as float64 unless it is
            float32 already.
        name: a label used in error and gradient-check reports.

    Attributes:
        data: ndarray, the values (updated in place by optimizers).
        grad: ndarray of ``data``'s shape, ∂L/∂data, accumulated by backward.
    """

    __slots__ = ("data", "grad", "name")

    def __init__(self, data, name: str = ""):
        self.data = as_array("data", data, who="Parameter").copy()
        self.grad = np.zeros_like(self.data)
        self.name = name

    @property
    def shape(self) -> tuple:
        return self.data.shape

    def zero_grad(self) -> None:
        self.grad[...] = 0.0

    def __repr__(self) -> str:
        label = f"{self.name!r}, " if self.name else ""
        return f"Parameter({label}shape={self.data.shape}, dtype={self.data.dtype})"


class Module(ABC):
    """Base class of every layer and network.

    A subclass implements ``forward(X)`` and ``backward(dout)`` and lists its
    own parameters in ``_params`` (name, Parameter) and its sub-modules in
    ``_modules`` (name, Module); ``parameters()`` walks both in order.
    """

    def __init__(self):
        self.training = True
        self._params: list[tuple[str, Parameter]] = []
        self._modules: list[tuple[str, "Module"]] = []

    # --- the two methods a layer implements -------------------------------
    @abstractmethod
    def forward(self, X):
        """Compute the output from ``X`` and keep what ``backward`` needs."""

    @abstractmethod
    def backward(self, dout):
        """Add ∂L/∂θ into each parameter's ``.grad`` and return ``dX``."""

    def __call__(self, X):
        return self.forward(X)

    # --- parameters -----------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> list[tuple[str, Parameter]]:
        """``[(name, Parameter), ...]`` in a fixed order, names like ``"0.W"``."""
        out = [(f"{prefix}{name}", p) for name, p in self._params]
        for mname, module in self._modules:
            out.extend(module.named_parameters(prefix=f"{prefix}{mname}."))
        return out

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        # The same parameters as parameters(), reached without building their names (fit calls this every step).
        for _, p in self._params:
            p.zero_grad()
        for _, module in self._modules:
            module.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter's values, by name (for early stopping and checkpoints)."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Copy values from ``state`` into the parameters: every entry is checked before any is written.

        One loop checks every entry (the names are exactly those of
        ``named_parameters()``, each value is a real numeric array, not
        ``None``, strings or objects, of the parameter's shape, all finite);
        a second loop writes. So a bad fourth entry raises before the first
        parameter has changed.

        Args:
            state: ``{name: array}`` as returned by :meth:`state_dict`.

        Raises:
            TypeError: ``state`` is not a dict, or an entry is not an array of real numbers.
            ValueError: missing or unexpected names, a wrong shape, NaN or infinity.
        """
        who = "load_state_dict"
        named = self.named_parameters()
        names = [n for n, _ in named]
        if not isinstance(state, dict):
            raise TypeError(f"{who} expected state to be a dict with keys {names}, got {describe(state)}")
        missing = [n for n in names if n not in state]
        extra = [k for k in state if k not in names]
        if missing or extra:
            raise ValueError(f"{who} expected state with keys {names}, got {sorted(map(str, state))} "
                             f"(missing {missing}, unexpected {extra})")
        values = []
        for name, p in named:  # check everything ...
            value = state[name]
            if value is None or isinstance(value, (str, bytes)):
                raise TypeError(f"{who} expected state[{name!r}] to be an array of numbers, got {describe(value)}")
            A = np.asarray(value) if not isinstance(value, np.ndarray) else value
            if A.dtype == bool or not (np.issubdtype(A.dtype, np.integer) or np.issubdtype(A.dtype, np.floating)):
                raise TypeError(f"{who} expected state[{name!r}] to be an array of real numbers, got dtype {A.dtype}")
            if A.shape != p.data.shape:
                raise ValueError(f"{who} expected state[{name!r}] of shape {p.data.shape}, got {A.shape}")
            check_finite(f"state[{name!r}]", A, who=who)
            values.append(A)
        for (_, p), A in zip(named, values):  # ... then write
            p.data[...] = A

    # --- modes ------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active); returns self."""
        self.training = bool(mode)
        for _, module in self._modules:
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def num_parameters(self) -> int:
        return int(sum(p.data.size for p in self.parameters()))


def _check_features(name: str, value, who: str = "") -> int:
    return check_int(name, value, minimum=1, who=who)


def require_cache(module: Module):
    """Return ``module._cache``, raising ``RuntimeError`` when ``backward`` comes before ``forward``."""
    cache = module._cache
    if cache is None:
        name = type(module).__name__
        raise RuntimeError(f"{name}.backward was called before {name}.forward: the backward pass "
                           "needs what the forward pass cached, so call forward(X) first")
    return cache


def check_dout(dout, shape: tuple, who: str) -> np.ndarray:
    """``dout`` as a float array, checked to have the shape of the output it is the gradient of."""
    dout = as_array("dout", dout, who=who)
    check_shape("dout", dout, shape, who=who)
    return dout


def _check_input_grad(input_grad, module: Module) -> None:
    if not isinstance(input_grad, bool):
        who = type(module).__name__ if isinstance(module, Sequential) else repr(module)
        raise TypeError(f"{who}.backward expected input_grad to be True or False, got {describe(input_grad)}")


def _check_dtype(dtype, who: str) -> np.dtype:
    try:
        dt = np.dtype(dtype)
        ok = dt == np.float32 or dt == np.float64
    except TypeError:
        ok = False
    if dtype is None or not ok:
        raise TypeError(f"{who} expected dtype to be float32 or float64, got {describe(dtype)}")
    return dt


class Linear(Module):
    r"""Fully connected (affine) layer, :math:`Y = XW + b`.

    .. math::
        Y = XW + b, \qquad
        \frac{\partial L}{\partial W} = X^\top\, dout, \qquad
        \frac{\partial L}{\partial b} = \sum_{n} dout_{n,:}, \qquad
        \frac{\partial L}{\partial X} = dout\, W^\top

    Shapes: ``X`` (N, D), ``W`` (D, H), ``b`` (H,), ``Y`` and ``dout`` (N, H).
    ``W`` is stored as (in, out) so the forward pass reads like the maths,
    ``X @ W`` (PyTorch stores the transpose).

    Args:
        in_features: D, the number of inputs, >= 1.
        out_features: H, the number of units, >= 1.
        rng: ``numpy.random.Generator`` or integer seed for the weights.
        init: initializer name, a key of ``bptutor.init.INITIALIZERS``; the
            bias always starts at zero.
        dtype: ``np.float64`` (default) or ``np.float32``. A float32 layer
            fed float32 ``X`` computes and returns float32.

    Attributes:
        W: Parameter (D, H), registered first; b: Parameter (H,), registered second.
    """

    def __init__(self, in_features: int, out_features: int, rng=0, init: str = "standard",
                 dtype=np.float64):
        super().__init__()
        # Imported here: init.py is a sibling module and layers.py is imported first.
        from .init import INITIALIZERS

        self.in_features = _check_features("in_features", in_features, who="Linear")
        self.out_features = _check_features("out_features", out_features, who="Linear")
        if not isinstance(init, str):
            raise TypeError(f"Linear expected init to be one of {sorted(INITIALIZERS)}, got {describe(init)}")
        check_choice("init", init, INITIALIZERS, who="Linear")
        dtype = _check_dtype(dtype, "Linear")
        W = INITIALIZERS[init](self.in_features, self.out_features, rng)  # (D, H)
        self.W = Parameter(np.asarray(W, dtype=dtype), name="W")
        self.b = Parameter(np.zeros(self.out_features, dtype=dtype), name="b")
        self._params = [("W", self.W), ("b", self.b)]
        self._cache = None

    @classmethod
    def from_arrays(cls, W, b) -> "Linear":
        """A layer with the given weights, for examples worked by hand.

        Args:
            W: weights (D, H). Its dtype (float32 or float64) is the layer's.
            b: bias (H,).

        Returns:
            a ``Linear(D, H)`` holding copies of ``W`` and ``b``.
        """
        who = "Linear.from_arrays"
        W = as_array("W", W, ndim=2, who=who)
        if 0 in W.shape:
            raise ValueError(f"{who} expected W of shape (D, H) with D >= 1 and H >= 1, got {W.shape}")
        b = as_array("b", b, who=who)
        check_shape("b", b, (W.shape[1],), who=who)
        check_finite("W", W, who=who)
        check_finite("b", b, who=who)
        layer = cls(W.shape[0], W.shape[1], init="zeros", dtype=W.dtype)
        layer.W.data[...] = W
        layer.b.data[...] = b
        return layer

    def forward(self, X) -> np.ndarray:
        """``Y = X @ W + b``: X (N, D) -> Y (N, H); caches X for the backward pass.

        NaN and infinity in ``X`` pass through (the rows they are in come out
        NaN or inf) without an error, on purpose: scanning every batch would
        cost a pass over the data in every layer, and a diverging run must
        reach the loss, where ``fit`` explains it. ``fit`` and ``evaluate``
        check their in-memory data for NaN once, up front.
        """
        X = as_array("X", X, who=repr(self))
        check_shape("X", X, ("N", self.in_features), who=repr(self))
        self._cache = X
        return X @ self.W.data + self.b.data  # (N, H)

    def backward(self, dout, input_grad: bool = True) -> np.ndarray | None:
        """Add ``dW``, ``db`` into ``W.grad``, ``b.grad``; return ``dX`` (N, D).

        Args:
            dout: ∂L/∂Y (N, H).
            input_grad: False skips ``dX`` (a third of the layer's products)
                and returns None, like PyTorch when X does not require a
                gradient: the first layer's input is data, nobody reads its
                gradient.

        Returns:
            ``dX`` (N, D), or None when ``input_grad`` is False.
        """
        X = require_cache(self)
        dout = check_dout(dout, (X.shape[0], self.out_features), who=repr(self))
        _check_input_grad(input_grad, self)
        self.W.grad += X.T @ dout          # (D, N) @ (N, H) -> (D, H)
        self.b.grad += dout.sum(axis=0)    # b is added to every row, so its gradient sums them
        if not input_grad:
            return None
        return dout @ self.W.data.T        # (N, H) @ (H, D) -> (N, D)

    def __repr__(self) -> str:
        extra = ", dtype=float32" if self.W.data.dtype == np.float32 else ""
        return f"Linear({self.in_features}, {self.out_features}{extra})"


class Sequential(Module):
    r"""A chain of modules: forward runs them in order, backward in reverse.

    .. math:: f = f_K \circ \dots \circ f_1, \qquad
        dX = J_{f_1}^\top \cdots J_{f_K}^\top\, dout

    Parameters are named by position, ``"0.W"``, ``"0.b"``, ``"2.W"``, ...;
    ``train()``/``eval()`` reach every layer. ``model[i]`` is the i-th layer,
    ``model[a:b]`` a new Sequential sharing those layers, ``len(model)`` the
    number of layers.

    Args:
        *modules: the layers, at least one, each a distinct ``Module``
            object (a layer keeps one forward cache, so the same object cannot
            sit at two positions).
    """

    def __init__(self, *modules: Module):
        super().__init__()
        if not modules:
            raise ValueError("Sequential expected at least one module, got none")
        seen: dict[int, int] = {}
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                hint = " (pass the layers themselves: Sequential(*layers))" \
                    if isinstance(module, (list, tuple)) else ""
                raise TypeError(f"Sequential expected a Module at position {i}, got {describe(module)}{hint}")
            if id(module) in seen:
                raise ValueError(f"Sequential got the same {module!r} object at positions {seen[id(module)]} "
                                 f"and {i}; a layer keeps one forward cache, so create one instance per position")
            seen[id(module)] = i
        self.layers: list[Module] = list(modules)
        self._modules = [(str(i), module) for i, module in enumerate(self.layers)]
        self._cache = None

    def forward(self, X) -> np.ndarray:
        for module in self.layers:
            X = module.forward(X)
        self._cache = True  # marks that backward may run
        return X

    def backward(self, dout, input_grad: bool = True) -> np.ndarray | None:
        """Run every layer's backward in reverse order; return ``dX``, the shape of the input.

        Args:
            dout: ∂L/∂out, the shape of the last output.
            input_grad: False stops at the first layer with parameters (a
                ``Linear`` or ``Sequential`` there skips its ``dX``; the
                parameter-free layers before it are not run) and returns None,
                like PyTorch when X does not require a gradient. Every
                parameter's ``.grad`` is the same either way.

        Returns:
            ``dX``, or None when ``input_grad`` is False.
        """
        require_cache(self)
        _check_input_grad(input_grad, self)
        if input_grad:
            for module in reversed(self.layers):
                dout = module.backward(dout)
            return dout
        first = next((i for i, module in enumerate(self.layers) if module.parameters()), 0)
        for module in reversed(self.layers[first + 1:]):
            dout = module.backward(dout)
        module = self.layers[first]
        if isinstance(module, (Linear, Sequential)):
            module.backward(dout, input_grad=False)
        else:
            module.backward(dout)  # a layer without the option still adds its parameters' gradients
        return None

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Sequential indices must be integers or slices, got {describe(index)}")
        if not -len(self.layers) <= index < len(self.layers):
            raise IndexError(f"Sequential index {index} is out of range for {len(self.layers)} layers")
        return self.layers[index]

    def __repr__(self) -> str:
        lines = [f"  ({i}): {module!r}".replace("\n", "\n  ") for i, module in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
