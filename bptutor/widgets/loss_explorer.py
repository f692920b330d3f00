r"""Losses: MSE against cross-entropy for one sigmoid prediction, and how hard each pulls.

The pure compute function is :func:`compare_losses`; :func:`explore_loss`
builds the explorer.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from .._checks import check_choice, check_float
from ..losses import bce_loss, mse_loss
from ._explorer import Explorer, control_style


def compare_losses(p: float, target: int = 1) -> dict:
    r"""MSE and cross-entropy of one sigmoid output :math:`p = \sigma(z)`, and their pull on :math:`z`.

    .. math::
        \frac{\partial\,\text{MSE}}{\partial z} = 2(p - y)\,p(1 - p), \qquad
        \frac{\partial\,\text{CE}}{\partial z} = p - y

    The factor :math:`p(1-p)` (the sigmoid's slope) makes MSE's gradient vanish
    when the network is confidently wrong; cross-entropy's :math:`1/(p(1-p))`
    cancels it. Both values come from ``bptutor.losses`` (``dout`` times the slope).

    Returns:
        dict with ``mse``, ``ce``, ``mse_dz``, ``ce_dz``, ``kind`` ("confidently
        wrong", "wrong", "unsure", "right") and ``message``.
    """
    who = "compare_losses"
    p = check_float("p", p, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True, who=who)
    target = check_choice("target", target, (0, 1), who=who)
    P, T = np.array([[p]]), np.array([[float(target)]])
    mse, mse_dp = mse_loss(P, T)
    ce, ce_dp = bce_loss(P, T)
    slope = p * (1.0 - p)  # dp/dz of the sigmoid
    mse_dz, ce_dz = float(mse_dp[0, 0]) * slope, float(ce_dp[0, 0]) * slope
    error = abs(p - target)
    kind = ("confidently wrong" if error > 0.9 else "wrong" if error > 0.5
            else "unsure" if error > 0.1 else "right")
    message = (f"p = {p:.3f} for target {target}: MSE {mse:.3g} pulls the logit by {mse_dz:+.3g}, "
               f"cross-entropy {ce:.3g} by {ce_dz:+.3g}")
    if kind == "confidently wrong":
        message += (f"; the sigmoid's slope p(1−p) = {slope:.2g} has all but erased MSE's gradient, "
                    f"while cross-entropy keeps pushing hard")
    return {"mse": mse, "ce": ce, "mse_dz": mse_dz, "ce_dz": ce_dz, "kind": kind, "message": message}


@lru_cache(maxsize=2)
def _loss_curves(target: int) -> tuple:
    ps = np.linspace(0.001, 0.999, 200)
    rows = [compare_losses(float(p), target) for p in ps]
    return ps, {key: np.array([r[key] for r in rows]) for key in ("mse", "ce", "mse_dz", "ce_dz")}


class LossExplorer(Explorer):
    """The loss explorer; see :func:`explore_loss`."""

    title = "MSE or cross-entropy: what one prediction costs, and how hard it pulls"

    def __init__(self, p=0.3, target=1):
        controls = dict(
            p=widgets.FloatSlider(value=p, min=0.001, max=0.999, step=0.001, readout_format=".3f",
                                  description="prediction p", continuous_update=False, style=control_style()),
            target=widgets.ToggleButtons(options=[0, 1], value=target, description="target y",
                                         style=control_style()),
        )
        super().__init__(controls, figsize=(9.0, 3.2))

    def compute(self) -> dict:
        return compare_losses(self.p.value, self.target.value)

    def draw(self, state: dict) -> None:
        ax_loss, ax_grad = self.axes()
        ps, curves = _loss_curves(self.target.value)
        p = self.p.value
        for ax, keys, ylabel in ((ax_loss, ("mse", "ce"), "loss"),
                                 (ax_grad, ("mse_dz", "ce_dz"), "∂loss/∂z (logit)")):
            for key, name in zip(keys, ("MSE", "cross-entropy")):
                line, = ax.plot(ps, curves[key], label=name)
                ax.plot([p], [state[key]], "o", color=line.get_color())
            ax.axvline(p, color="0.6", linestyle=":", linewidth=1)
            ax.set_xlabel("prediction p")
            ax.set_ylabel(ylabel)
            ax.legend(fontsize=9)
        ax_loss.set_ylim(0, 5)


def explore_loss(p: float = 0.3, target: int = 1) -> LossExplorer:
    """MSE against cross-entropy as one sigmoid prediction ``p`` slides from 0 to 1.

    Controls: ``p`` and ``target`` (0 or 1). ``state`` is :func:`compare_losses`'s result.

    Raises:
        TypeError, ValueError: a keyword of the wrong type, a choice the control does not
            offer, or a value outside the control's range (refused, never clamped),
            naming the keyword, the valid choices or range, and what came.
    """
    # imported here so the builder's checks stay in one place (the module's imports are shared)
    from .._checks import check_in_range, check_option
    who = "explore_loss"
    check_in_range("p", p, 0.001, 0.999, who=who)
    check_option("target", target, (0, 1), who=who)
    return LossExplorer(p, target)
