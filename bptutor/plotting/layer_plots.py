"""What one layer computes: an activation function and its derivative, a weight matrix as a heat map."""
from __future__ import annotations

import numpy as np

from .._checks import as_array, check_choice, check_finite, check_float, describe
from ..activations import ACTIVATIONS, get_activation, step, step_grad
from ..layers import Parameter
from ._axes import _get_ax


# --- activations ------------------------------------------------------------------------------

def _activation_names() -> list[str]:
    # softmax maps a whole row to a row, so it has no curve of one variable to draw.
    return sorted(name for name in ACTIVATIONS if name != "softmax") + ["step"]


def plot_activation(name: str, ax=None, xlim: tuple = (-5.0, 5.0)):
    """Draw an activation function :math:`f(x)` and its derivative :math:`f'(x)`.

    The derivative is what backpropagation multiplies by: ``module.backward`` with
    an upstream gradient of ones returns :math:`f'(x)` elementwise, so the
    dashed curve is exactly what the layer passes back. ``"step"`` (the
    perceptron's threshold) has derivative 0 wherever it exists: it passes no
    gradient at all.

    Args:
        name: a key of ``bptutor.activations.ACTIVATIONS`` other than ``"softmax"``
            (which acts on whole rows), or ``"step"``.
        ax: axes to draw on; a new figure when None.
        xlim: the range of :math:`x`.

    Returns:
        The axes, with two lines: ``f(x)`` (solid) and ``f'(x)`` (dashed).
    """
    names = _activation_names()
    if name == "softmax":
        raise ValueError("plot_activation expected an elementwise activation, got 'softmax' (it maps "
                         f"a whole row to probabilities; over (x, 0) it equals sigmoid(x)); "
                         f"choose one of {names}")
    check_choice("name", name, names, who="plot_activation")
    if not (isinstance(xlim, (tuple, list)) and len(xlim) == 2):
        raise TypeError(f"plot_activation expected xlim to be a pair (low, high), got {describe(xlim)}")
    low = check_float("xlim[0]", xlim[0], who="plot_activation")
    high = check_float("xlim[1]", xlim[1], minimum=low, strict_min=True, who="plot_activation")

    x = np.linspace(low, high, 1001)
    if name == "step":
        f, df = step(x), step_grad(x)
    else:
        module = get_activation(name)
        f = np.asarray(module.forward(x[:, None]))  # (1001, 1)
        df = np.asarray(module.backward(np.ones_like(f)))[:, 0]
        f = f[:, 0]
    ax = _get_ax(ax)
    ax.plot(x, f, label=f"{name}(x)")
    ax.plot(x, df, linestyle="--", label=f"{name}'(x)")
    ax.set_xlabel("x")
    ax.set_title(name)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


# --- weights ----------------------------------------------------------------------------------------

def plot_weights(W, ax=None):
    """Heat map of a weight matrix, red for positive, blue for negative, white for 0.

    The colour scale is symmetric, :math:`[-\\max|W|, \\max|W|]`, so equal colours
    mean equal magnitudes and 0 is always white. Row :math:`i`, column :math:`j`
    shows :math:`W_{ij}`, the weight from input :math:`i` to unit :math:`j`.

    Args:
        W: weights, shape ``(D, H)``, a 1-D vector (shown as one row) or a ``Parameter``.
        ax: axes to draw on; a new figure when None.

    Returns:
        The axes, holding one image (``ax.images[0]``) and a colour bar.
    """
    if isinstance(W, Parameter):
        W = W.data
    W = as_array("W", W, who="plot_weights")
    if W.ndim == 1:
        W = W[None, :]  # (1, H)
    if W.ndim != 2 or W.size == 0:
        raise ValueError(f"plot_weights expected W of shape (D, H) or (H,), got {W.shape}")
    check_finite("W", W, who="plot_weights")
    vmax = float(np.abs(W).max()) or 1.0
    ax = _get_ax(ax)
    image = ax.imshow(W, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.figure.colorbar(image, ax=ax)
    ax.set_xlabel("unit $j$")
    ax.set_ylabel("input $i$")
    return ax
