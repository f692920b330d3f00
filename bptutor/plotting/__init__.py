"""Plots for the chapters: training curves, decision regions, activations,
computation graphs, optimizer trajectories, loss-surface slices, confusion
matrices and image grids.

Every plot function takes ``ax=None`` (a new figure is made when it is
``None``) and returns the axes it drew on, so a notebook can combine plots in
one figure and a test can inspect the artists. Nothing here calls
``plt.show()``; Jupyter shows a figure when its cell ends.

``loss_surface`` is a pure function (it returns numbers, draws nothing) and
``plot_loss_surface`` draws what it returns.

Where each plot lives:

* :mod:`~bptutor.plotting.training_plots`: ``plot_history``,
  ``predict_classes``, ``plot_decision_boundary``, ``plot_confusion_matrix``,
  ``plot_images`` (what training did);
* :mod:`~bptutor.plotting.layer_plots`: ``plot_activation``, ``plot_weights``
  (what one layer computes);
* :mod:`~bptutor.plotting.graph_plots`: ``draw_graph``, ``value_text`` and the
  colours ``NODE_COLOR``, ``OP_COLOR``, ``HIGHLIGHT_COLOR`` (computation graphs);
* :mod:`~bptutor.plotting.landscape_plots`: ``plot_trajectories``,
  ``random_directions``, ``loss_surface``, ``plot_loss_surface`` (optimizer
  paths and loss-surface slices).

Every public name is importable from ``bptutor.plotting`` itself.
"""
from .graph_plots import HIGHLIGHT_COLOR, MAX_GRAPH_NODES, NODE_COLOR, OP_COLOR, draw_graph, value_text
from .landscape_plots import TRAJECTORY_GRID, loss_surface, plot_loss_surface, plot_trajectories, random_directions
from .layer_plots import plot_activation, plot_weights
from .training_plots import plot_confusion_matrix, plot_decision_boundary, plot_history, plot_images, predict_classes

__all__ = [
    # training_plots
    "plot_history", "predict_classes", "plot_decision_boundary", "plot_confusion_matrix", "plot_images",
    # layer_plots
    "plot_activation", "plot_weights",
    # graph_plots
    "draw_graph", "value_text", "NODE_COLOR", "OP_COLOR", "HIGHLIGHT_COLOR", "MAX_GRAPH_NODES",
    # landscape_plots
    "plot_trajectories", "random_directions", "loss_surface", "plot_loss_surface", "TRAJECTORY_GRID",
]
