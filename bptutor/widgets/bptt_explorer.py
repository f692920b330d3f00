r"""Backprop through time: how the gradient shrinks or grows on its way back through the steps.

The pure compute function is :func:`bptt_gradient_profile` (with
:func:`recurrent_weights` making a :math:`W_{hh}` of a chosen spectral radius);
:func:`explore_bptt` builds the explorer.
"""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .._checks import check_choice, check_float, check_int, check_rng, describe
from ..recurrent import NONLINEARITIES, RNN, clip_grad_norm
from ._explorer import Explorer, control_style

#: Gradient-clipping choices of the explorer: label -> the largest norm allowed (None: no clipping).
CLIP_OPTIONS = {"off": None, "at 0.1": 0.1, "at 1": 1.0, "at 10": 10.0}
#: The verdicts of :func:`bptt_gradient_profile`.
BPTT_KINDS = ("vanishing", "stable", "exploding", "clipped")
#: Sizes of the network and batch the explorer measures (fixed: the controls are the point).
HIDDEN, INPUTS, BATCH = 32, 4, 16
#: The gradient reaching step 1 counts as vanished below this fraction of the last step's, exploded above its inverse.
THRESHOLD = 1e-3
#: Steps nearest the loss left out of the fitted rate: the first few steps back are a transient.
SKIP = 5


def recurrent_weights(H: int, spectral_radius: float, rng=0) -> np.ndarray:
    r"""A random :math:`W_{hh}` (H, H) with Gaussian entries, rescaled to the given spectral radius.

    .. math:: W_{hh} = \rho\,\frac{A}{\max_i |\lambda_i(A)|}, \qquad A_{ij} \sim \mathcal N(0, 1)

    Args:
        H: size >= 1.
        spectral_radius: :math:`\rho > 0`, the largest absolute eigenvalue of the result.
        rng: generator or seed.
    """
    who = "recurrent_weights"
    H = check_int("H", H, minimum=1, who=who)
    rho = check_float("spectral_radius", spectral_radius, minimum=0.0, strict_min=True, who=who)
    A = check_rng(rng).normal(size=(H, H))
    return A * (rho / np.max(np.abs(np.linalg.eigvals(A))))


def bptt_gradient_profile(T: int = 50, spectral_radius: float = 0.9, nonlinearity: str = "tanh",
                          clip: float | None = None, seed: int = 0) -> dict:
    r"""Run an RNN over T steps, put a loss on the last state only, and measure :math:`\|\partial L/\partial h_t\|`.

    The network has H = 32 units, 4 inputs and a batch of 16 standard-normal
    sequences; :math:`W_{hh}` comes from :func:`recurrent_weights`, :math:`W_{xh}` has
    :math:`\mathcal N(0, 1/4)` entries, :math:`b = 0`. The loss is :math:`L = \sum_n r_n \cdot h_T`
    with random :math:`r_n`. Going back one step multiplies the gradient by
    :math:`\operatorname{diag}(f'(z_t))\,W_{hh}^\top`, so it changes by a roughly constant
    factor per step, fitted here as the ``rate``: in the linear case the rate is the
    spectral radius :math:`\rho`; tanh and relu, whose slopes are at most 1, lower it to
    about :math:`\rho\sqrt{\langle f'^2\rangle}` (a mean-field estimate, reported as ``estimate``).

    Clipping (:func:`bptutor.recurrent.clip_grad_norm`) rescales the whole parameter
    gradient to norm ``clip`` when it is larger: it bounds the update but leaves the
    per-step shape, and so a vanished gradient, as it was.

    Args:
        T: sequence length, 2 to 1000.
        spectral_radius: :math:`\rho` of :math:`W_{hh}`, > 0.
        nonlinearity: ``"tanh"``, ``"relu"`` or ``"linear"``.
        clip: largest gradient norm allowed, > 0, or None (no clipping).
        seed: seed of the weights and inputs, >= 0.

    Returns:
        dict with ``norms`` ((T,), :math:`\|\partial L/\partial h_t\|` over the batch, divided by the
        last step's; ``norms[0]`` is step 1), ``rate`` (fitted factor per step), ``estimate``,
        ``contributions`` ((T,), the norm of each step's share :math:`h_{t-1}^\top dz_t` of
        :math:`\partial L/\partial W_{hh}`, after clipping), ``grad_norm`` (the parameters'
        gradient norm before clipping) and ``clipped_norm`` (after), ``kind`` (one of
        :data:`BPTT_KINDS`) and ``message``.
    """
    who = "bptt_gradient_profile"
    T = check_int("T", T, minimum=2, who=who)
    if T > 1000:
        raise ValueError(f"{who} expected T <= 1000, got {T}")
    rho = check_float("spectral_radius", spectral_radius, minimum=0.0, strict_min=True, who=who)
    if not isinstance(nonlinearity, str):
        raise TypeError(f"{who} expected nonlinearity to be one of {list(NONLINEARITIES)}, got {describe(nonlinearity)}")
    check_choice("nonlinearity", nonlinearity, NONLINEARITIES, who=who)
    if clip is not None:
        clip = check_float("clip", clip, minimum=0.0, strict_min=True, who=who)
    rng = check_rng(check_int("seed", seed, minimum=0, who=who), "seed")

    W_hh = recurrent_weights(HIDDEN, rho, rng)
    rnn = RNN.from_arrays(rng.normal(size=(INPUTS, HIDDEN)) / np.sqrt(INPUTS), W_hh, np.zeros(HIDDEN),
                          nonlinearity=nonlinearity)
    X = rng.normal(size=(BATCH, T, INPUTS))
    dH = np.zeros((BATCH, T, HIDDEN))
    dH[:, -1] = rng.normal(size=(BATCH, HIDDEN))
    with np.errstate(over="ignore", invalid="ignore"):
        Hs = rnn.forward(X)
        rnn.backward(dH)
        per_step = np.linalg.norm(rnn.dH_total, axis=(0, 2))            # (T,)
    if not np.all(np.isfinite(per_step)):
        raise ValueError(f"the gradient overflowed float64 over {T} steps at spectral radius {rho:g}: "
                         "shorten the sequence or lower the radius")
    norms = per_step / per_step[-1]
    back = np.arange(T)[::-1]                                             # steps back from the loss
    fit = back >= min(SKIP, T - 2)
    with np.errstate(divide="ignore"):
        logs = np.log(np.maximum(norms[fit], 1e-300))
    rate = float(np.exp(np.polyfit(back[fit], logs, 1)[0]))
    slope = 1.0 - Hs ** 2 if nonlinearity == "tanh" else (Hs > 0) * 1.0 if nonlinearity == "relu" else 1.0
    estimate = float(rho * np.sqrt(np.mean(np.square(slope))))

    # each step's share of dW_hh: h_{t-1}^T dz_t with dz_t = dL/dh_t * f'(z_t)
    dZ = rnn.dH_total * slope
    H_prev = np.concatenate([np.zeros((BATCH, 1, HIDDEN)), Hs[:, :-1]], axis=1)
    contributions = np.linalg.norm(np.einsum("nti,ntj->tij", H_prev, dZ), axis=(1, 2))
    params = rnn.parameters()
    grad_norm = clip_grad_norm(params, clip) if clip is not None else float(
        np.sqrt(sum(np.sum(p.grad ** 2) for p in params)))
    factor = 1.0 if clip is None or grad_norm <= clip else clip / (grad_norm + 1e-6)
    clipped_norm = grad_norm * factor
    contributions = contributions * factor

    first = norms[0]
    where = (f"the gradient reaching step 1 is {first:.2g} of the last step's" if first < 1 else
             f"the gradient reaching step 1 is {first:.2g} times the last step's")
    theory = (f"(the spectral radius is {rho:g})" if nonlinearity == "linear" else
              f"(spectral radius {rho:g}, lowered by {nonlinearity}'s slopes to about {estimate:.2f})")
    per = f"each step back multiplies it by {rate:.3g} {theory}"
    scaled = clip is not None and grad_norm > clip
    clip_note = "" if not scaled else f"; clipping at {clip:g} scaled the update from norm {grad_norm:.3g} to {clip:g}"
    if first < THRESHOLD:
        kind = "vanishing"
        if clip is None:
            tail = ": the first steps barely learn"
        elif scaled:
            tail = (f"; clipping at {clip:g} scales every step's share alike, so it cannot bring the "
                    "early steps back")
        else:
            tail = (f"; clipping at {clip:g} does nothing here (the gradient's norm is {grad_norm:.3g}), "
                    "and it could not bring the early steps back anyway")
        message = f"vanishing: {where}; {per}{tail}"
    elif first > 1 / THRESHOLD and scaled:
        kind = "clipped"
        message = (f"clipped: {where}, growing by {rate:.3g} per step {theory}; clipping scaled the whole "
                   f"gradient from norm {grad_norm:.3g} down to {clip:g}: the update stays bounded and "
                   "points the same way")
    elif first > 1 / THRESHOLD:
        kind = "exploding"
        message = (f"exploding: {where}; {per}, and one update would have norm {grad_norm:.3g}: clip the "
                   "gradient or lower the radius")
    else:
        kind = "stable"
        message = f"stable: {where}; {per}: every step still gets a usable gradient{clip_note}"
    return {"norms": norms, "rate": rate, "estimate": estimate, "contributions": contributions,
            "grad_norm": grad_norm, "clipped_norm": clipped_norm, "kind": kind, "message": message}


class BPTTExplorer(Explorer):
    """The backprop-through-time explorer; see :func:`explore_bptt`."""

    title = "Backprop through time: the gradient on its way back"

    def __init__(self, T=50, spectral_radius=0.9, nonlinearity="tanh", clip="off", seed=0):
        controls = dict(
            T=widgets.IntSlider(value=T, min=2, max=200, description="sequence length T",
                                continuous_update=False, style=control_style()),
            spectral_radius=widgets.FloatSlider(value=spectral_radius, min=0.1, max=3.0, step=0.05,
                                                description="spectral radius ρ", continuous_update=False,
                                                style=control_style()),
            nonlinearity=widgets.Dropdown(options=NONLINEARITIES, value=nonlinearity,
                                          description="nonlinearity", style=control_style()),
            clip=widgets.Dropdown(options=list(CLIP_OPTIONS), value=clip, description="clip gradient",
                                  style=control_style()),
            seed=widgets.BoundedIntText(value=seed, min=0, max=10_000, description="seed (weights)",
                                        style=control_style()),
        )
        super().__init__(controls, figsize=(9.0, 3.3))

    def compute(self) -> dict:
        return bptt_gradient_profile(self.T.value, self.spectral_radius.value, self.nonlinearity.value,
                                     CLIP_OPTIONS[self.clip.value], self.seed.value)

    def draw(self, state: dict) -> None:
        ax_h, ax_w = self.axes()
        T = state["norms"].size
        steps = np.arange(1, T + 1)
        rho = self.spectral_radius.value
        ax_h.semilogy(steps, state["norms"], color="k", linewidth=2, label="measured")
        ax_h.semilogy(steps, state["rate"] ** (T - steps), color="C1", linestyle="--",
                      label=f"fitted {state['rate']:.3g} per step")
        with np.errstate(over="ignore", under="ignore"):
            ax_h.semilogy(steps, np.float64(rho) ** (T - steps), color="0.5", linestyle=":",
                          label=f"ρ^(T−t), ρ = {rho:g}")
        ax_h.set_xlabel("step t")
        ax_h.set_ylabel("‖∂L/∂h_t‖ / ‖∂L/∂h_T‖")
        lo, hi = np.min(state["norms"]), np.max(state["norms"])
        ax_h.set_ylim(max(lo, 1e-300) / 10, hi * 10)
        ax_h.legend(fontsize=9, loc="best")
        ax_h.set_title(state["kind"], fontsize=9)
        shares = state["contributions"]
        some = shares > 0            # step 1's share is 0: h_0 = 0 multiplies it
        ax_w.semilogy(steps[some], shares[some], color="C0")
        ax_w.set_xlabel("step t")
        ax_w.set_ylabel("‖step t's share of ∂L/∂W_hh‖")
        ax_w.set_title(f"update norm {state['clipped_norm']:.3g}"
                       + (f" (clipped from {state['grad_norm']:.3g})" if state["clipped_norm"] < state["grad_norm"]
                          else ""), fontsize=9)


def explore_bptt(T: int = 50, spectral_radius: float = 0.9, nonlinearity: str = "tanh",
                 clip: str = "off", seed: int = 0) -> BPTTExplorer:
    """The gradient through time of an RNN: vanishing, exploding, clipped or stable.

    Controls: ``T`` (2 to 200), ``spectral_radius`` (0.1 to 3), ``nonlinearity``
    (``"tanh"``, ``"relu"``, ``"linear"``), ``clip`` (a key of :data:`CLIP_OPTIONS`) and
    ``seed``. ``state`` is :func:`bptt_gradient_profile`'s result.

    Raises:
        TypeError, ValueError: an argument the controls cannot take (checked before anything is built).
    """
    who = "explore_bptt"
    T = check_int("T", T, minimum=2, who=who)
    if T > 200:
        raise ValueError(f"{who} expected T <= 200 (the slider's range), got {T}")
    rho = check_float("spectral_radius", spectral_radius, minimum=0.1, maximum=3.0, who=who)
    if not isinstance(nonlinearity, str):
        raise TypeError(f"{who} expected nonlinearity to be one of {list(NONLINEARITIES)}, got {describe(nonlinearity)}")
    check_choice("nonlinearity", nonlinearity, NONLINEARITIES, who=who)
    if not isinstance(clip, str):
        raise TypeError(f"{who} expected clip to be one of {list(CLIP_OPTIONS)}, got {describe(clip)}")
    check_choice("clip", clip, CLIP_OPTIONS, who=who)
    seed = check_int("seed", seed, minimum=0, who=who)
    if seed > 10_000:
        raise ValueError(f"{who} expected seed <= 10000 (the control's range), got {seed}")
    return BPTTExplorer(T, rho, nonlinearity, clip, seed)
