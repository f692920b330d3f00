r"""Alternatives to backpropagation: other ways to get a gradient, or to learn without one.

Backpropagation gives the whole gradient :math:`\nabla L(\theta)` of a network
with :math:`P` parameters for one forward and one backward pass, a small
constant times the cost of evaluating :math:`L` whatever :math:`P` is (the
"cheap gradient principle", Griewank & Walther 2008). Chapter 11 measures it
against the alternatives in this package, on the same network:

* :func:`finite_difference_gradient`: central differences, :math:`2P` loss
  evaluations, error :math:`O(h^2)`;
* :func:`spsa_gradient`: simultaneous perturbation (Spall 1992), 2
  evaluations per random :math:`\pm 1` direction, unbiased up to :math:`O(c^2)`
  but noisy;
* :func:`es_gradient`: evolution strategies with antithetic Gaussian
  perturbations (Salimans et al. 2017), the gradient of a smoothed loss;
* :class:`Dual`, :func:`dual_forward`, :func:`forward_mode_gradient`:
  forward-mode differentiation with dual numbers (Wengert 1964), one exact
  directional derivative per forward pass, so the full gradient costs
  :math:`P` passes; :func:`forward_gradient` uses one random direction
  instead (Baydin et al. 2022);
* :class:`FeedbackAlignment`: backprop's backward pass with fixed random
  matrices in place of :math:`W^\top` (Lillicrap et al. 2016);
* :func:`hebb_update`, :func:`oja_update`, :func:`oja`: Hebbian learning,
  which follows no loss at all; Oja's (1982) rule finds the top principal
  component.

A network becomes a function of one flat vector :math:`\theta` (P,) through
:class:`Objective`, in the order of ``model.named_parameters()``. Every
evaluation sets :math:`\theta` into the model and restores the model's
parameters and gradients afterwards, also when it raises, so estimating a
gradient never changes the model. Every estimator returns a
:class:`GradientEstimate`: the estimate and the passes through the network it

Where each one lives:

* :mod:`~bptutor.alternatives.objective`: ``Objective``, ``GradientEstimate``,
  ``CallCounter``; ``cosine_similarity``, ``angle_between``, ``norm_error``;
  the estimators that need the network (``backprop_gradient``,
  ``forward_mode_gradient``, ``forward_gradient``); ``gradient_descent`` with
  any estimator (``DescentTrace``);
* :mod:`~bptutor.alternatives.perturbation`: estimates from loss evaluations
  alone (``finite_difference_gradient``, ``spsa_gradient``, ``es_gradient``);
* :mod:`~bptutor.alternatives.forward_mode`: dual numbers (``Dual``,
  ``dual_forward``, ``DUAL_ACTIVATIONS``);
* :mod:`~bptutor.alternatives.feedback_alignment`: ``FeedbackAlignment``;
* :mod:`~bptutor.alternatives.hebbian`: ``hebb_update``, ``oja_update``,
  ``oja``, ``OjaResult``;
* ``_flat``: ``flat_params``, ``flat_grad``, ``set_flat_params`` (a network's
  parameters as one vector).

Every public name is importable from ``bptutor.alternatives`` itself.
"""
from ._flat import flat_grad, flat_params, set_flat_params
from .feedback_alignment import FeedbackAlignment
from .forward_mode import DUAL_ACTIVATIONS, Dual, dual_forward
from .hebbian import OjaResult, hebb_update, oja, oja_update
from .objective import (CallCounter, DescentTrace, GradientEstimate, Objective, angle_between, backprop_gradient,
                        cosine_similarity, forward_gradient, forward_mode_gradient, gradient_descent, norm_error)
from .perturbation import es_gradient, finite_difference_gradient, spsa_gradient

__all__ = [
    # objective
    "Objective", "GradientEstimate", "CallCounter", "cosine_similarity", "angle_between", "norm_error",
    "backprop_gradient", "forward_mode_gradient", "forward_gradient", "DescentTrace", "gradient_descent",
    # perturbation
    "finite_difference_gradient", "spsa_gradient", "es_gradient",
    # forward_mode
    "Dual", "DUAL_ACTIVATIONS", "dual_forward",
    # feedback_alignment
    "FeedbackAlignment",
    # hebbian
    "hebb_update", "oja_update", "OjaResult", "oja",
    # _flat
    "flat_params", "flat_grad", "set_flat_params",
]
