r"""Activations: how much gradient survives many layers of one activation.

The pure compute function is :func:`activation_profile`;
:func:`explore_activation` builds the explorer.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .._checks import check_choice, check_float, check_int
from ..activations import get_activation, step, step_grad
from ..plotting import plot_activation
from ._explorer import Explorer, control_style


#: The elementwise activations the explorer offers (softmax acts on rows, so it is absent).
ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "step")


#: What the slope reported at a kink (x = 0) is: a convention, not a derivative.
KINKS = {
    "relu": "ReLU has a kink at 0 and no derivative there: 0 is a convention, the one PyTorch uses; "
            "any value in [0, 1] is a subgradient, the slope being 0 just left of 0 and 1 just right",
    "leaky_relu": "leaky ReLU has a kink at 0 and no derivative there: the slope 0.01 of the left side is "
                  "a convention, the one PyTorch uses; any value in [0.01, 1] is a subgradient",
    "step": "the step jumps at 0 and has no derivative there at all, not even a subgradient: 0 is a "
            "convention, and the slope is 0 on both sides",
}


def activation_profile(name: str, x: float, weight: float = 1.0, depth: int = 10) -> dict:
    r"""How much gradient survives ``depth`` layers whose pre-activations all sit at ``x``.

    Each layer multiplies the gradient by :math:`w\,f'(x)` (a weight of size ``weight``
    times the activation's slope), so after :math:`n` layers it is scaled by
    :math:`(w f'(x))^n`: vanishing below 1, exploding above.

    At a kink (ReLU, leaky ReLU and the step at :math:`x = 0`) the activation has
    no derivative; the slope used there is a convention (PyTorch's: ReLU'(0) = 0,
    leaky ReLU'(0) = the left slope), and the message says so.

    Returns:
        dict with ``f`` (:math:`f(x)`), ``slope`` (:math:`f'(x)`), ``factor``
        (:math:`w f'(x)`), ``chain`` (array of :math:`|w f'(x)|^n`, n = 0..depth),
        ``kind`` ("vanishing", "exploding", "no gradient" or "stable") and ``message``.
    """
    who = "activation_profile"
    check_choice("name", name, ACTIVATION_NAMES, who=who)
    x = check_float("x", x, who=who)
    weight = check_float("weight", weight, minimum=0.0, who=who)
    depth = check_int("depth", depth, minimum=1, who=who)
    if name == "step":
        f, slope = float(step(np.array([x]))[0]), float(step_grad(np.array([x]))[0])
    else:
        layer = get_activation(name)
        f = float(layer.forward(np.array([[x]]))[0, 0])
        slope = float(layer.backward(np.ones((1, 1)))[0, 0])
    factor = weight * slope
    chain = np.abs(factor) ** np.arange(depth + 1)
    total = chain[-1]
    kink = KINKS.get(name) if x == 0.0 else None
    value = f"{name}'({x:.2g}) = {slope:.3g}" + (f" ({kink})" if kink else "")
    head = (f"{value}; with weights of size {weight:.3g} each layer multiplies "
            f"the gradient by {factor:.3g}, so {depth} layers multiply it by {total:.3g}")
    if slope == 0.0 and kink and name != "step":
        kind, why = "no gradient", ("by that convention nothing passes back at exactly 0, although a "
                                    "pre-activation a little above 0 would pass the gradient unchanged")
    elif slope == 0.0:
        kind, why = "no gradient", "a flat activation passes nothing back: the layers below never learn"
    elif total < 1e-2:
        kind, why = "vanishing", "the first layers barely learn (saturation, or weights too small)"
    elif total > 1e2:
        kind, why = "exploding", "the first layers take huge steps (weights too large for this slope)"
    else:
        kind, why = "stable", "the gradient reaches the first layers at a usable size"
    return {"f": f, "slope": slope, "factor": factor, "chain": chain, "kind": kind,
            "message": f"{head}: {why}"}


class ActivationExplorer(Explorer):
    """The activation explorer; see :func:`explore_activation`."""

    title = "Activations: slope and the gradient through many layers"

    def __init__(self, name="sigmoid", x=0.0, weight=1.0, depth=10):
        controls = dict(
            name=widgets.Dropdown(options=ACTIVATION_NAMES, value=name, description="activation",
                                  style=control_style()),
            x=widgets.FloatSlider(value=x, min=-6.0, max=6.0, step=0.1, description="pre-activation x",
                                  continuous_update=False, style=control_style()),
            weight=widgets.FloatSlider(value=weight, min=0.0, max=4.0, step=0.05,
                                       description="weight size w", continuous_update=False,
                                       style=control_style()),
            depth=widgets.IntSlider(value=depth, min=1, max=50, description="layers",
                                    continuous_update=False, style=control_style()),
        )
        super().__init__(controls, figsize=(9.0, 3.2))

    def compute(self) -> dict:
        return activation_profile(self.name.value, self.x.value, self.weight.value, self.depth.value)

    def draw(self, state: dict) -> None:
        ax_f, ax_chain = self.axes()
        plot_activation(self.name.value, ax=ax_f, xlim=(-6.0, 6.0))
        ax_f.plot([self.x.value] * 2, [state["f"], state["slope"]], "o", color="crimson")
        ax_chain.semilogy(np.arange(state["chain"].size), np.clip(state["chain"], 1e-30, None),
                          marker="o", markersize=3)
        for level in (1e-2, 1e2):
            ax_chain.axhline(level, color="0.6", linestyle=":", linewidth=1)
        ax_chain.set_ylim(1e-30, 1e30)
        ax_chain.set_xlabel("layers the gradient has passed")
        ax_chain.set_ylabel("|gradient| scale")
        ax_chain.set_title(state["kind"], fontsize=9)


def explore_activation(name: str = "sigmoid", x: float = 0.0, weight: float = 1.0,
                       depth: int = 10) -> ActivationExplorer:
    """An activation and its derivative, and the gradient's scale after ``depth`` such layers.

    Controls: ``name``, ``x`` (the pre-activation), ``weight`` (typical weight size),
    ``depth``. ``state`` is :func:`activation_profile`'s result.

    Raises:
        TypeError, ValueError: a keyword of the wrong type, a choice the control does not
            offer, or a value outside the control's range (refused, never clamped),
            naming the keyword, the valid choices or range, and what came.
    """
    # imported here so the builder's checks stay in one place (the module's imports are shared)
    from .._checks import check_in_range, check_option
    who = "explore_activation"
    check_option("name", name, ACTIVATION_NAMES, who=who)
    check_in_range("x", x, -6.0, 6.0, who=who)
    check_in_range("weight", weight, 0.0, 4.0, who=who)
    check_in_range("depth", depth, 1, 50, who=who, integer=True)
    return ActivationExplorer(name, x, weight, depth)
