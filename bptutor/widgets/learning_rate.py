r"""Learning rate: train a small MLP and say whether it converged, oscillated or diverged.

The pure compute function is :func:`run_learning_rate_experiment` (with
:func:`classify_run` giving the verdict); :func:`explore_learning_rate` builds
the explorer. :func:`lr_dataset`, :func:`build_mlp` and :data:`OPTIMIZER_LABELS`
are shared with :mod:`bptutor.widgets.optimizer_race`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import ipywidgets as widgets
import numpy as np

from .._checks import check_choice, check_float, check_int, check_rng, describe
from ..activations import get_activation
from ..datasets import make_moons, make_spirals, make_xor
from ..layers import Linear, Sequential
from ..optim import OPTIMIZERS
from ..plotting import plot_decision_boundary
from ..training import TrainingDiverged, accuracy, fit, predict
from ._explorer import Explorer, control_style, log_slider


#: Data sets of the learning-rate explorer: name -> maker of ``(X (N, 2), y (N,))``. Fixed seeds, so
#: every run sees the same points and only the controls change.
LR_DATASETS = {
    "XOR": lambda: make_xor(n_per_cluster=50, noise=0.15, rng=0),
    "two moons": lambda: make_moons(200, noise=0.1, rng=0),
    "spirals": lambda: make_spirals(200, n_classes=2, noise=0.1, rng=0),
}
#: Optimizer labels shown in the controls -> keys of ``bptutor.optim.OPTIMIZERS``.
OPTIMIZER_LABELS = {"SGD": "sgd", "Momentum": "momentum", "Nesterov": "nesterov",
                    "AdaGrad": "adagrad", "RMSProp": "rmsprop", "Adam": "adam"}
#: The verdicts :func:`classify_run` can return.
RUN_KINDS = ("diverged", "oscillating", "converged", "stalled", "too slow")


@lru_cache(maxsize=None)
def lr_dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The data set ``name`` of :data:`LR_DATASETS`, made once and cached (read-only arrays)."""
    check_choice("dataset", name, LR_DATASETS, who="lr_dataset")
    X, y = LR_DATASETS[name]()
    X, y = np.array(X, dtype=np.float64), np.array(y, dtype=np.int64)
    X.flags.writeable = y.flags.writeable = False
    return X, y


def parse_hidden(text) -> tuple[int, ...]:
    """Hidden-layer sizes from text such as ``"16, 16"`` (or a tuple of ints) -> ``(16, 16)``."""
    if isinstance(text, str):
        parts = [p for p in text.replace(",", " ").split()]
        if parts and all(p.isdigit() for p in parts):
            text = tuple(int(p) for p in parts)
    if not (isinstance(text, tuple) and 1 <= len(text) <= 4
            and all(isinstance(h, int) and 1 <= h <= 256 for h in text)):
        raise ValueError(f"expected hidden sizes like '16, 16' (1 to 4 layers of 1 to 256 units), "
                         f"got {describe(text)}")
    return text


def build_mlp(sizes, seed: int, activation: str = "tanh") -> Sequential:
    """``Linear -> activation -> ... -> Linear`` with layer sizes ``sizes`` (inputs first).

    One generator seeded with ``seed`` draws every layer's weights in order, so the
    same seed and sizes give the same initial network.
    """
    rng = check_rng(seed, "seed")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, rng=rng))
        if i < len(sizes) - 2:
            layers.append(get_activation(activation))
    return Sequential(*layers)


class _EpochLosses:
    """A ``fit`` callback keeping each epoch's logs, so a diverged run still has its curve."""

    def __init__(self):
        self.logs: list[dict] = []

    def on_epoch_end(self, model, epoch: int, logs: dict) -> bool:
        self.logs.append(dict(logs))
        return False


@dataclass
class LearningRateRun:
    """What :func:`run_learning_rate_experiment` returns.

    Attributes:
        losses: training loss per epoch, shape ``(E,)``; shorter than ``epochs``
            when the run diverged.
        kind: one of :data:`RUN_KINDS`.
        step: the update at which training diverged, 0-based (``TrainingDiverged.step``:
            the updates applied before it), else None.
        message: one line explaining ``kind``.
        accuracy: training accuracy of the final weights (after a divergence caught
            by ``fit``, the last finite ones).
        model: the trained network.
    """

    losses: np.ndarray
    kind: str
    step: int | None
    message: str
    accuracy: float
    model: Sequential = field(repr=False)


def classify_run(losses, diverged_step: int | None = None,
                 lr: float | None = None) -> tuple[str, int | None, str]:
    r"""Classify a training curve: diverged, oscillating, converged, stalled or too slow.

    ``losses[t]`` is the loss before update ``t`` (full batch). With :math:`L_0` the
    first and :math:`L_E` the last loss:

    * **diverged**: ``fit`` raised ``TrainingDiverged`` at ``diverged_step``; or the
      run ended worse than it began (the median of the last tenth is above
      :math:`L_0`), and the step named is the first whose loss rose above :math:`L_0`.
      With a bounded activation such as tanh the loss of a too-large step does not
      explode to infinity, it thrashes far above where it started;
    * **oscillating**: the loss is still bouncing at the end, as it looks on the log-scale
      plot: over the last fifth of the run it rose on at least a fifth of the steps, by a
      total of more than 0.05 decades (about 12%);
    * **converged**: the last tenth of the run brought less than 2% of the total
      decrease, and the loss fell by more than half;
    * **stalled**: it levelled off like that after falling by half or less
      (too small a network, or a plateau);
    * **too slow**: it is still falling at the end.

    A run that spiked in its second half but is quiet again at the end is not
    oscillating: it gets the verdict of its end (usually *converged*), and the message
    names the spikes and whether the run ended at its lowest loss.

    Args:
        losses: loss per update, shape ``(E,)``, E >= 2 unless ``diverged_step`` is given.
        diverged_step: ``TrainingDiverged.step``, or None.
        lr: the learning rate, quoted in the advice.

    Returns:
        ``(kind, step, message)``: ``step`` is the step of divergence (None unless
        diverged), and the message of a diverged run starts ``"diverged at step k"``.
    """
    L = np.asarray(losses, dtype=np.float64)
    smaller = "" if lr is None else f" (try lr = {lr / 10:.3g})"
    larger = "" if lr is None else f" (try lr = {lr * 10:.3g}, or more epochs)"
    overshoot = f"each update overshoots the minimum by more than it gains{smaller}"
    if diverged_step is not None:
        start = f" from {L[0]:.3g}" if L.size else ""
        return "diverged", diverged_step, (f"diverged at step {diverged_step}: the loss exploded"
                                           f"{start}, because {overshoot}")
    if L.size < 2:
        raise ValueError(f"classify_run expected at least 2 losses, got {L.size}")
    first, last = L[0], L[-1]
    m = max(2, L.size // 10)
    end = np.median(L[-m:])
    if end > first:
        k = int(np.argmax(L > first))
        return "diverged", k, (f"diverged at step {k}: that update pushed the loss above its start "
                               f"{first:.3g} and it ended higher ({end:.3g}): {overshoot}")
    bounce = _bounces(L[-max(5, L.size // 5):], first)
    if bounce.mean() >= 0.2 and _log_rise(L[-max(5, L.size // 5):], first) > 0.05:
        return "oscillating", None, (f"the loss is still bouncing at the end: it went up on "
                                     f"{bounce.mean():.0%} of the last {bounce.size} steps, each "
                                     f"update jumping across the valley instead of down it{smaller}")
    spikes = _spikes(L, first)
    drop = (first - last) / first
    recent = (L[-m] - last) / max(first - last, 1e-300)
    if recent < 0.02 and drop > 0.5:
        why = (f"{spikes}: a learning rate near the largest this run tolerates" if spikes else
               ": steps big enough to make progress, small enough to stay stable")
        return "converged", None, f"the loss fell from {first:.3g} to {last:.3g} and levelled off{why}"
    if recent < 0.02:
        return "stalled", None, (f"the loss fell {drop:.0%} and stopped at {last:.3g}: the network "
                                 f"may be too small for this data, or stuck on a plateau (more "
                                 f"units, another seed){spikes}")
    return "too slow", None, (f"the loss is still falling after {L.size} epochs (down "
                              f"{max(drop, 0):.0%}): each step is too small{larger}{spikes}")


def _log_rise(L: np.ndarray, first: float) -> float:
    """Total climb of ``log10 L`` over ``L`` (rises only), in decades: what a log-scale plot shows."""
    d = np.diff(np.log10(np.maximum(L, 1e-12 * first)))
    return float(np.clip(d, 0.0, None).sum())


def _bounces(L: np.ndarray, first: float) -> np.ndarray:
    """Per step of ``L``: did the loss go up by more than 0.001 decades (round-off near 0 ignored)?"""
    return np.diff(np.log10(np.maximum(L, 1e-12 * first))) > 1e-3


def _spikes(L: np.ndarray, first: float) -> str:
    """A note on spikes in the second half of a run that is quiet at its end, else ``""``."""
    half = L.size // 2
    rise = np.diff(np.log10(np.maximum(L[half:], 1e-12 * first)))
    up = rise > 0.01
    if not up.any():
        return ""
    episodes = int(np.sum(up & ~np.r_[False, up[:-1]]))  # runs of consecutive rising steps
    k = half + int(np.argmax(rise)) + 1
    at_best = L[-1] <= np.min(L) * (1 + 1e-9)
    ended = ("recovered and ended at its lowest loss" if at_best else
             f"settled at {L[-1]:.3g}, above its lowest {np.min(L):.3g}")
    jump = f"x{10 ** rise.max():.3g} in one step"
    if episodes == 1:
        return f" (after a brief spike at step {k}, {jump}, it {ended})"
    return (f" (after a bumpy stretch in the second half, the loss rising {episodes} times, at most "
            f"{jump} at step {k}, it {ended})")


def run_learning_rate_experiment(dataset: str = "two moons", hidden=(16, 16),
                                 optimizer: str = "Momentum", lr: float = 0.1, epochs: int = 200,
                                 seed: int = 0) -> LearningRateRun:
    """Train a tanh MLP full-batch with cross-entropy and classify how training went.

    The same ``seed`` gives the same initial weights whatever the other settings,
    so runs differing in ``lr`` only compare fairly.

    Args:
        dataset: a key of :data:`LR_DATASETS`.
        hidden: hidden-layer sizes, e.g. ``(16, 16)`` or ``"16, 16"``.
        optimizer: a key of :data:`OPTIMIZER_LABELS` (``"SGD"``, ..., ``"Adam"``).
        lr: learning rate > 0.
        epochs: number of full-batch updates, >= 2.
        seed: seed of the initial weights, >= 0.

    Returns:
        a :class:`LearningRateRun`.
    """
    who = "run_learning_rate_experiment"
    X, y = lr_dataset(dataset)
    hidden = parse_hidden(hidden)
    check_choice("optimizer", optimizer, OPTIMIZER_LABELS, who=who)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True, who=who)
    epochs = check_int("epochs", epochs, minimum=2, who=who)
    model = build_mlp((2, *hidden, int(y.max()) + 1), seed)
    opt = OPTIMIZERS[OPTIMIZER_LABELS[optimizer]](model.parameters(), lr=lr)
    record = _EpochLosses()
    diverged_step = None
    try:
        fit(model, "cross_entropy", opt, X, y, epochs=epochs, callbacks=(record,), progress=False,
            rng=seed)
    except TrainingDiverged as exc:
        diverged_step = exc.step
    losses = np.array([logs["train_loss"] for logs in record.logs], dtype=np.float64)
    kind, step, message = classify_run(losses, diverged_step=diverged_step, lr=lr)
    return LearningRateRun(losses, kind, step, message, accuracy(predict(model, X), y), model)


class LearningRateExplorer(Explorer):
    """The learning-rate explorer; see :func:`explore_learning_rate`."""

    title = "Learning rate: too small, just right, too large"
    panels = (1.3, 1.0)

    def __init__(self, dataset="two moons", hidden="16, 16", optimizer="Momentum", lr=0.1,
                 epochs=200, seed=0):
        controls = dict(
            dataset=widgets.Dropdown(options=list(LR_DATASETS), value=dataset,
                                     description="data set", style=control_style()),
            hidden=widgets.Text(value=hidden, description="hidden sizes", continuous_update=False,
                                style=control_style()),
            optimizer=widgets.Dropdown(options=list(OPTIMIZER_LABELS), value=optimizer,
                                       description="optimizer", style=control_style()),
            lr=log_slider("learning rate", lr, -4, 1),
            epochs=widgets.IntSlider(value=epochs, min=10, max=500, step=10, description="epochs",
                                     continuous_update=False, style=control_style()),
            seed=widgets.BoundedIntText(value=seed, min=0, max=10_000, description="seed (weights)",
                                        style=control_style()),
            keep=widgets.Checkbox(value=False, description="keep earlier runs", indent=False),
        )
        controls["lr"].add_class("bptutor-lr")
        self.clear = widgets.Button(description="clear earlier runs")
        self.clear.on_click(self._clear_runs)
        self.previous: list[tuple[str, np.ndarray]] = []  # (label, losses) of earlier runs
        self._last = None
        super().__init__(controls, figsize=(9.0, 3.4), buttons=[self.clear])

    def _clear_runs(self, _button=None) -> None:
        self.previous = []
        self.update()

    def compute(self) -> dict:
        settings = (self.dataset.value, self.hidden.value, self.optimizer.value, self.lr.value,
                    self.epochs.value, self.seed.value)
        run = run_learning_rate_experiment(*settings)
        label = f"{settings[2]} lr={settings[3]:.3g}"
        if not self.keep.value:
            self.previous = []
        elif self._last is not None and self._last[0] != settings:
            self.previous = (self.previous + [self._last[1:]])[-5:]
        self._last = (settings, label, run.losses)
        return {"kind": run.kind, "message": run.message, "step": run.step, "losses": run.losses,
                "accuracy": run.accuracy, "label": label, "run": run,
                "previous": [name for name, _ in self.previous]}

    def draw(self, state: dict) -> None:
        ax_loss, ax_data = self.axes()
        # Full batch: the loss of epoch t is the loss before update t (t = 0, 1, ...).
        for name, losses in self.previous:
            ax_loss.plot(np.arange(losses.size), losses, alpha=0.45, linewidth=1, label=name)
        losses = state["losses"]
        ax_loss.plot(np.arange(losses.size), losses, color="k", linewidth=2, label=state["label"])
        if state["step"] is not None:
            ax_loss.axvline(state["step"], color="crimson", linestyle="--",
                            label=f"diverged (step {state['step']})")
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step (full-batch update)")
        ax_loss.set_ylabel("training loss")
        ax_loss.legend(fontsize=9, loc="best")
        X, y = lr_dataset(self.dataset.value)
        plot_decision_boundary(state["run"].model, X, y, ax=ax_data, resolution=100)
        ax_data.legend().remove()
        when = "after diverging" if state["kind"] == "diverged" else "after training"
        ax_data.set_title(f"{when}: training accuracy {state['accuracy']:.0%}", fontsize=9)


def explore_learning_rate(dataset: str = "two moons", hidden: str = "16, 16",
                          optimizer: str = "Momentum", lr: float = 0.1, epochs: int = 200,
                          seed: int = 0) -> LearningRateExplorer:
    """Train a small MLP at a chosen learning rate; see the loss, the boundary and a verdict.

    Controls: ``dataset``, ``hidden`` (text, e.g. ``"16, 16"``), ``optimizer``, ``lr``
    (log slider from 1e-4 to 10), ``epochs``, ``seed``, ``keep`` (keep up to five
    earlier runs on the loss plot) and the button ``clear``. ``state`` holds
    ``kind`` (see :func:`classify_run`), ``message``, ``step`` (of divergence),
    ``losses`` and ``accuracy``.

    Raises:
        TypeError, ValueError: a keyword of the wrong type, a choice the control does not
            offer, or a value outside the control's range (refused, never clamped),
            naming the keyword, the valid choices or range, and what came.
    """
    # imported here so the builder's checks stay in one place (the module's imports are shared)
    from .._checks import check_in_range, check_option
    who = "explore_learning_rate"
    check_option("dataset", dataset, LR_DATASETS, who=who)
    if not isinstance(hidden, str):
        raise TypeError(f"{who} expected hidden to be text such as '16, 16' (1 to 4 layers of 1 to 256 "
                        f"units), got {describe(hidden)}")
    try:
        parse_hidden(hidden)
    except ValueError:
        raise ValueError(f"{who} expected hidden to be text such as '16, 16' (1 to 4 layers of 1 to 256 "
                         f"units), got {hidden!r}") from None
    check_option("optimizer", optimizer, OPTIMIZER_LABELS, who=who)
    check_in_range("lr", lr, 1e-4, 10.0, who=who)
    check_in_range("epochs", epochs, 10, 500, who=who, integer=True)
    check_in_range("seed", seed, 0, 10_000, who=who, integer=True)
    return LearningRateExplorer(dataset, hidden, optimizer, lr, epochs, seed)
