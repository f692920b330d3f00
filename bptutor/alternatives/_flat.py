"""A network's parameters as one flat vector (P,), in the order of ``model.named_parameters()``.

:class:`~bptutor.alternatives.Objective`, :func:`~bptutor.alternatives.dual_forward`
and the estimators all see a network this way.
"""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_shape, describe
from ..layers import Module


def _check_module(model, who: str) -> Module:
    if not isinstance(model, Module):
        raise TypeError(f"{who} expected model to be a bptutor Module (e.g. a Sequential), got {describe(model)}")
    return model


def flat_params(model) -> np.ndarray:
    """A copy of all of ``model``'s parameters as one float64 vector (P,), in ``named_parameters`` order."""
    params = _check_module(model, "flat_params").parameters()
    return np.concatenate([p.data.ravel() for p in params] or [np.zeros(0)]).astype(np.float64)


def flat_grad(model) -> np.ndarray:
    """A copy of all of ``model``'s gradients ``.grad`` as one float64 vector (P,), in ``named_parameters`` order."""
    params = _check_module(model, "flat_grad").parameters()
    return np.concatenate([p.grad.ravel() for p in params] or [np.zeros(0)]).astype(np.float64)


def _split(theta: np.ndarray, shapes: list) -> list:
    """Cut a flat vector into arrays of the given shapes (views)."""
    out, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        out.append(theta[offset:offset + size].reshape(shape))
        offset += size
    return out


def _flat(name: str, theta, P: int, who: str) -> np.ndarray:
    theta = as_array(name, theta, who=who).astype(np.float64, copy=False)
    check_shape(name, theta, (P,), who=who)
    return theta


def set_flat_params(model, theta) -> None:
    """Copy the flat vector ``theta`` (P,) into ``model``'s parameters (the inverse of :func:`flat_params`)."""
    params = _check_module(model, "set_flat_params").parameters()
    theta = _flat("theta", theta, sum(p.data.size for p in params), "set_flat_params")
    for p, values in zip(params, _split(theta, [p.data.shape for p in params])):
        p.data[...] = values
