r"""Regularization: a network with 960 weights fits 12 noisy points, with L2, L1 or dropout.

The pure compute function is :func:`run_regularization_experiment`;
:func:`explore_regularization` builds the explorer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from .._checks import check_choice, check_float, check_int, check_rng
from ..activations import get_activation
from ..datasets import make_noisy_sine
from ..layers import Linear, Sequential
from ..losses import mse_loss
from ..optim import OPTIMIZERS
from ..regularization import L1, L2, Dropout
from ..training import fit
from ._explorer import Explorer, control_style, log_slider


#: Noise of the sine data; a perfect model's test MSE is about its square.
SINE_NOISE = 0.3
PENALTIES = {"none": None, "L2": L2, "L1": L1}


@lru_cache(maxsize=1)
def sine_data() -> tuple:
    """12 noisy training points of :math:`\\sin 2\\pi x` and 200 test points (fixed seeds)."""
    x, t = make_noisy_sine(12, noise=SINE_NOISE, rng=0)
    x_test, t_test = make_noisy_sine(200, noise=SINE_NOISE, rng=1)
    arrays = tuple(np.asarray(a, dtype=np.float64).reshape(-1, 1) for a in (x, t, x_test, t_test))
    for a in arrays:
        a.flags.writeable = False
    return arrays


@dataclass
class RegularizationRun:
    """What :func:`run_regularization_experiment` returns.

    Attributes:
        train_loss, test_loss: per epoch, shape ``(E,)`` (training loss includes the penalty).
        train_mse, test_mse: of the final model in eval mode (no dropout, no penalty).
        weights: every weight matrix entry, flattened, shape ``(P,)``.
        kind: "overfitting", "underfitting" or "good fit"; message: one line why.
        model: the trained network.
    """

    train_loss: np.ndarray
    test_loss: np.ndarray
    train_mse: float
    test_mse: float
    weights: np.ndarray
    kind: str
    message: str
    model: Sequential = field(repr=False)


def regularized_mlp(dropout: float, seed: int, hidden: int = 30) -> Sequential:
    """``1 -> hidden -> hidden -> 1`` tanh network, with dropout after each hidden layer when > 0."""
    rng = check_rng(seed, "seed")
    layers = [Linear(1, hidden, rng=rng), get_activation("tanh")]
    if dropout > 0:
        layers.append(Dropout(dropout, rng=rng))
    layers += [Linear(hidden, hidden, rng=rng), get_activation("tanh")]
    if dropout > 0:
        layers.append(Dropout(dropout, rng=rng))
    layers.append(Linear(hidden, 1, rng=rng))
    return Sequential(*layers)


def run_regularization_experiment(penalty: str = "none", lam: float = 1e-2, dropout: float = 0.0,
                                  epochs: int = 200, seed: int = 0) -> RegularizationRun:
    """Fit a 1-30-30-1 tanh network (960 weights) to 12 noisy sine points with Adam, full batch.

    Args:
        penalty: ``"none"``, ``"L2"`` or ``"L1"`` (on weights, not biases).
        lam: penalty strength :math:`\\lambda \\ge 0`.
        dropout: drop probability after each hidden layer, in [0, 1).
        epochs: full-batch Adam steps (lr 0.02).
        seed: seed of the weights and dropout masks.
    """
    who = "run_regularization_experiment"
    check_choice("penalty", penalty, PENALTIES, who=who)
    lam = check_float("lam", lam, minimum=0.0, who=who)
    dropout = check_float("dropout", dropout, minimum=0.0, maximum=1.0, strict_max=True, who=who)
    epochs = check_int("epochs", epochs, minimum=1, who=who)
    x, t, x_test, t_test = sine_data()
    model = regularized_mlp(dropout, seed)
    regularizer = None if PENALTIES[penalty] is None else PENALTIES[penalty](lam)
    history = fit(model, "mse", OPTIMIZERS["adam"](model.parameters(), lr=0.02), x, t, epochs=epochs,
                  validation=(x_test, t_test), regularizer=regularizer, progress=False, rng=seed)
    model.eval()
    train_mse = mse_loss(model.forward(x), t)[0]
    test_mse = mse_loss(model.forward(x_test), t_test)[0]
    weights = np.concatenate([p.data.ravel() for name, p in model.named_parameters()
                              if name.endswith("W")])
    kind, message = regularization_verdict(train_mse, test_mse, penalty, dropout)
    return RegularizationRun(np.asarray(history.train_loss), np.asarray(history.val_loss), train_mse,
                             test_mse, weights, kind, message, model)


#: A test MSE within this factor of the noise variance counts as close to the noise level.
CLOSE = 1.25
#: A training MSE below this fraction of the noise variance means the noise itself is being fitted.
BELOW = 0.75


def regularization_verdict(train_mse: float, test_mse: float, penalty: str = "none",
                           dropout: float = 0.0) -> tuple[str, str]:
    r"""Name a run from its errors against the noise variance :math:`s^2` (no model can beat it on test data).

    * **good fit**: test MSE :math:`\le 1.25\,s^2`;
    * **overfitting**: test MSE above that while the training MSE is below :math:`0.75\,s^2`
      (the training points are fitted more closely than their noise allows);
    * **underfitting**: both above the noise level.

    The advice names only what this run can change: the penalty when there is one, the
    dropout rate when it is on, and otherwise the training time or (for overfitting) adding
    a penalty.

    Returns:
        ``(kind, message)``.
    """
    noise = SINE_NOISE ** 2
    numbers = (f"train MSE {train_mse:.3g}, test MSE {test_mse:.3g} ({train_mse / noise:.2g} and "
               f"{test_mse / noise:.2g} times the noise level {noise:.2g}, the true sine's test error)")
    has_penalty, has_dropout = penalty != "none", dropout > 0
    if test_mse <= CLOSE * noise:
        kind = "good fit"
        why = "the test error is close to the noise level, the best any model can do"
        if train_mse < 0.5 * noise:
            why += " (though a training error far below the noise level shows it has begun to fit the noise)"
    elif train_mse < BELOW * noise:
        kind = "overfitting"
        fixes = [f for f, on in (("strengthen the penalty (larger λ)", has_penalty),
                                 ("raise the dropout rate", has_dropout)) if on]
        why = ("it fits the training points more closely than their noise allows, and the test error pays: "
               + (" or ".join(fixes) if fixes else "add a penalty (L2 or L1) or dropout"))
    else:
        kind = "underfitting"
        fixes = [f for f, on in (("weaken the penalty (smaller λ)", has_penalty),
                                 ("lower the dropout rate", has_dropout)) if on]
        why = ("the model does not follow the sine even on the training points, so both errors are above "
               "the noise level: " + (" or ".join(fixes) if fixes else "train for more epochs (nothing "
                                      "here holds the model back)"))
    return kind, f"{numbers}: {why}"


class RegularizationExplorer(Explorer):
    """The regularization explorer; see :func:`explore_regularization`."""

    title = "Regularization: training error against test error"
    panels = (1.0, 1.0, 1.0)

    def __init__(self, penalty="none", lam=1e-2, dropout=0.0, epochs=200, seed=0):
        controls = dict(
            penalty=widgets.Dropdown(options=list(PENALTIES), value=penalty, description="penalty",
                                     style=control_style()),
            lam=log_slider("strength λ", lam, -5, 0),
            dropout=widgets.FloatSlider(value=dropout, min=0.0, max=0.8, step=0.05,
                                        description="dropout p", continuous_update=False,
                                        style=control_style()),
            epochs=widgets.IntSlider(value=epochs, min=50, max=1000, step=50, description="epochs",
                                     continuous_update=False, style=control_style()),
            seed=widgets.BoundedIntText(value=seed, min=0, max=10_000, description="seed",
                                        style=control_style()),
        )
        super().__init__(controls, figsize=(9.6, 3.2))

    def compute(self) -> dict:
        # λ means nothing without a penalty: grey its slider out so that moving it is not mistaken for an effect
        self.lam.disabled = self.penalty.value == "none"
        run = run_regularization_experiment(self.penalty.value, self.lam.value, self.dropout.value,
                                            self.epochs.value, self.seed.value)
        return {"kind": run.kind, "message": run.message, "train_mse": run.train_mse,
                "test_mse": run.test_mse, "weights": run.weights, "run": run}

    def draw(self, state: dict) -> None:
        ax_curve, ax_fit, ax_hist = self.axes()
        run = state["run"]
        epochs = np.arange(1, run.train_loss.size + 1)
        ax_curve.semilogy(epochs, run.train_loss, label="training")
        ax_curve.semilogy(epochs, run.test_loss, label="test")
        ax_curve.set_xlabel("epoch")
        ax_curve.set_ylabel("MSE")
        ax_curve.legend(fontsize=9)
        x, t, _, _ = sine_data()
        grid = np.linspace(0.0, 1.0, 200)[:, None]
        ax_fit.plot(grid, np.sin(2 * np.pi * grid), color="0.6", linestyle="--", label="sin 2πx")
        ax_fit.plot(grid, run.model.forward(grid), color="crimson", label="network")
        ax_fit.scatter(x, t, s=14, color="k", zorder=3, label="training points")
        ax_fit.set_ylim(-2.0, 2.0)
        ax_fit.legend(fontsize=9)
        ax_hist.hist(run.weights, bins=40, color="steelblue")
        ax_hist.set_xlabel("weight value")
        ax_hist.set_title(f"mean |W| = {np.mean(np.abs(run.weights)):.3g}", fontsize=9)


def explore_regularization(penalty: str = "none", lam: float = 1e-2, dropout: float = 0.0,
                           epochs: int = 200, seed: int = 0) -> RegularizationExplorer:
    """A network with 960 weights fits 12 noisy points; see what L2, L1 and dropout change.

    Controls: ``penalty``, ``lam``, ``dropout``, ``epochs``, ``seed``. Shows training
    and test error per epoch, the fitted curve and the weight histogram. ``state``
    holds ``kind``, ``train_mse``, ``test_mse`` and ``weights``.

    Raises:
        TypeError, ValueError: a keyword of the wrong type, a choice the control does not
            offer, or a value outside the control's range (refused, never clamped),
            naming the keyword, the valid choices or range, and what came.
    """
    # imported here so the builder's checks stay in one place (the module's imports are shared)
    from .._checks import check_in_range, check_option
    who = "explore_regularization"
    check_option("penalty", penalty, PENALTIES, who=who)
    check_in_range("lam", lam, 1e-5, 1.0, who=who)
    check_in_range("dropout", dropout, 0.0, 0.8, who=who)
    check_in_range("epochs", epochs, 50, 1000, who=who, integer=True)
    check_in_range("seed", seed, 0, 10_000, who=who, integer=True)
    return RegularizationExplorer(penalty, lam, dropout, epochs, seed)
