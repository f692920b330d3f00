r"""Interactive explorers for the chapters: drag a control, watch backpropagation react.

Each explorer follows the pattern of the jupyter-widgets tutorial:

* a **pure compute function** beside it (numbers in, numbers out, no widgets):
  :func:`run_learning_rate_experiment`, :func:`race_optimizers`,
  :func:`convergence_map`, :func:`activation_profile`, :func:`compare_losses`,
  :func:`run_regularization_experiment`, :func:`backward_trace`,
  :func:`bptt_gradient_profile`;
* a **builder** ``explore_*()`` that *returns* an :class:`Explorer`. Nothing is
  displayed on construction: the last line of a cell shows it, and a test can
  set ``explorer.lr.value = 10`` and read ``explorer.state`` instead.

An :class:`Explorer` has its controls as named attributes (also in
``explorer.controls``), a one-line ``status`` (an ``HTML`` widget), an
``output`` (an ``Output`` widget holding the figure as a PNG) and ``state``, a
dict describing the last result (``state["kind"]`` classifies it). Every change
of a control recomputes and redraws (``explorer.set(lr=1.0, epochs=50)`` changes
several controls with one recompute); an exception never reaches the learner,
it becomes the status line ``Something went wrong: ...`` and
``state["kind"] == "error"``. At default settings an update takes well under
250 ms (``benchmarks/bench_widgets.py`` measures it).

Figures are drawn on one ``matplotlib.figure.Figure`` per explorer, without
pyplot (no figure piles up, nothing is shown twice) and written into the
``Output`` as one PNG, replaced whole, so the picture never flickers.
:func:`bptutor.figures.main` saves the same pictures for static readers.

One module per explorer, in the order the chapters meet them; each holds its pure
compute function, its :class:`Explorer` subclass and its builder:

==============================  =================================================
``_explorer``                   :class:`Explorer`, the PNG and status helpers
``loss_explorer``               MSE against cross-entropy (chapter 2)
``backward_explorer``           the backward pass, one node at a time (chapter 3)
``learning_rate``               converge, oscillate or diverge (chapter 5)
``optimizer_race``              SGD to Adam on a function of two variables (chapter 6)
``momentum_map``                momentum's rate over ηλ and μ, measured and in theory (chapter 6)
``activation_explorer``         the gradient through many layers (chapter 7)
``regularization_explorer``     training against test error (chapter 8)
``bptt_explorer``               the gradient through time of an RNN (chapter 14)
==============================  =================================================

Everything public is re-exported here: ``from bptutor.widgets import explore_loss``.
"""
from __future__ import annotations

from ._explorer import DPI, Explorer, clear_axes, figure_png, status_html
from .loss_explorer import LossExplorer, compare_losses, explore_loss
from .backward_explorer import (EXPRESSIONS, BackwardExplorer, BackwardTrace, backward_trace,
                                describe_step, explore_backward, graph_figsize, node_name)
from .learning_rate import (LR_DATASETS, OPTIMIZER_LABELS, RUN_KINDS, LearningRateExplorer,
                            LearningRateRun, build_mlp, classify_run, explore_learning_rate,
                            lr_dataset, parse_hidden, run_learning_rate_experiment)
from .optimizer_race import (ROSENBROCK, SURFACES, OptimizerExplorer, Race, Surface,
                             explore_optimizers, get_surface, make_optimizer, network_surface,
                             quadratic_surface, race_optimizers)
from .momentum_map import (MAP_KINDS, MAP_VIEWS, MomentumMap, MomentumMapExplorer, classify_direction, convergence_map,
                           explore_momentum_map, heavy_ball_errors, heavy_ball_rate, measured_heavy_ball_rate)
from .activation_explorer import (ACTIVATION_NAMES, ActivationExplorer, activation_profile,
                                  explore_activation)
from .regularization_explorer import (PENALTIES, SINE_NOISE, RegularizationExplorer,
                                      RegularizationRun, explore_regularization, regularization_verdict,
                                      regularized_mlp, run_regularization_experiment, sine_data)
from .bptt_explorer import (BPTT_KINDS, CLIP_OPTIONS, BPTTExplorer, bptt_gradient_profile, explore_bptt,
                            recurrent_weights)

__all__ = [
    # _explorer
    "DPI", "Explorer", "clear_axes", "figure_png", "status_html",
    # loss_explorer
    "LossExplorer", "compare_losses", "explore_loss",
    # backward_explorer
    "EXPRESSIONS", "BackwardExplorer", "BackwardTrace", "backward_trace", "describe_step",
    "explore_backward", "graph_figsize", "node_name",
    # learning_rate
    "LR_DATASETS", "OPTIMIZER_LABELS", "RUN_KINDS", "LearningRateExplorer", "LearningRateRun",
    "build_mlp", "classify_run", "explore_learning_rate", "lr_dataset", "parse_hidden",
    "run_learning_rate_experiment",
    # optimizer_race
    "ROSENBROCK", "SURFACES", "OptimizerExplorer", "Race", "Surface", "explore_optimizers",
    "get_surface", "make_optimizer", "network_surface", "quadratic_surface", "race_optimizers",
    # momentum_map
    "MAP_KINDS", "MAP_VIEWS", "MomentumMap", "MomentumMapExplorer", "classify_direction", "convergence_map",
    "explore_momentum_map",
    "heavy_ball_errors", "heavy_ball_rate", "measured_heavy_ball_rate",
    # activation_explorer
    "ACTIVATION_NAMES", "ActivationExplorer", "activation_profile", "explore_activation",
    # regularization_explorer
    "PENALTIES", "SINE_NOISE", "RegularizationExplorer", "RegularizationRun",
    "explore_regularization", "regularized_mlp", "run_regularization_experiment", "sine_data",
    "regularization_verdict",
    # bptt_explorer
    "BPTT_KINDS", "CLIP_OPTIONS", "BPTTExplorer", "bptt_gradient_profile", "explore_bptt", "recurrent_weights",
]
