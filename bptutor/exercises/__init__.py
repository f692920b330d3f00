r"""Exercise checks: run the learner's function, compare it, and say what is wrong.

Each check calls the learner's function on a few seeded random inputs with
**non-square** shapes (a transposed matrix cannot hide behind a square one),
compares every output with bptutor's reference implementation and, where the
outputs are gradients, with finite differences
(:func:`bptutor.gradcheck.numerical_gradient`). It returns a
:class:`CheckResult`, shown in a notebook as a green or red box, and it never
raises: an exception in the learner's code becomes a summary (type, message,
the learner's line).

When an output is wrong, the check *diagnoses* it: it computes a catalogue of
known-wrong variants from the reference (:class:`Mistake`: a transposed
``dW``, a missing ``1/N``, a sign flip, a forgotten activation derivative,
``=`` where ``+=`` belongs, ...) and names the variant the learner's output
equals, with a hint. Failing that, it looks for a sign flip, a constant factor
or a transpose, and a function that fails only on non-square shapes is re-run
on square ones to find the matrix used the wrong way round.

The checks, by chapter, and what the learner writes (each check's docstring
lists the mistakes it names):

* 01 ``check_neuron``: ``neuron(x, w, b) -> a``
* 01 ``check_layer_forward``: ``layer_forward(X, W, b) -> Z``
* 01 ``check_network_forward``: ``network_forward(X, W1, b1, W2, b2) -> (H, O)``
* 02 ``check_mse``: ``mse(pred, target) -> (loss, dpred)``
* 02 ``check_softmax_cross_entropy``: ``softmax_cross_entropy(logits, y) -> (loss, dlogits)``
* 02 ``check_logsumexp``: ``logsumexp(Z) -> lse``
* 03 ``check_backward_rule(fn, op)``: ``mul_backward(out)``, ``tanh_backward(out)``, ``max_backward(out)``, ...
* 03 ``check_chain_rule``: ``neuron_grad(x, w, b, t) -> (dw, db)``
* 04 ``check_linear_backward``: ``linear_backward(dout, X, W) -> (dX, dW, db)``
* 04 ``check_sigmoid_backward``: ``sigmoid_backward(dout, Z) -> dZ``
* 04 ``check_two_layer_backward``: ``two_layer_backward(X, T, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)``
* 04 ``check_deep_backward``: ``deep_backward(X, y, Ws, bs) -> (dWs, dbs)``
* 04 ``check_softmax_jacobian``: ``softmax_jacobian(z) -> J``
* 05 ``check_sgd_step``: ``sgd_step(params, lr)`` (in place)
* 05 ``check_training_loop``: ``train(model, X, y, lr, epochs, batch_size) -> losses``
* 05 ``check_warmup_cosine``: ``warmup_cosine_lr(t, base_lr, warmup, epochs, lr_min) -> lr``
* 06 ``check_momentum_step``: ``momentum_step(theta, grad, v, lr, momentum) -> (theta, v)``
* 06 ``check_adam_step``: ``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps) -> (theta, m, v)``
* 06 ``check_momentum_rate``: ``momentum_rate(lr, curvature, momentum) -> rate``
* 07 ``check_xavier_uniform``: ``xavier_uniform(fan_in, fan_out, rng) -> W``
* 07 ``check_leaky_relu_std``: ``leaky_relu_std(fan_in, slope) -> std``
* 08 ``check_ridge_fit``: ``ridge_fit(Phi, t, lam) -> w``
* 08 ``check_l2_penalty``: ``l2_penalty(Ws, lam) -> (R, dWs)``
* 08 ``check_dropout_forward``: ``dropout_forward(X, p, rng, training=True) -> out``
* 08 ``check_bias_variance``: ``bias_variance(preds, f) -> (bias2, variance)``
* 09 ``check_logistic_hessian``: ``logistic_hessian(X, theta) -> H``
* 09 ``check_batched_forward``: ``batched_forward(X, W1, b1, W2, b2) -> out``
* 10 ``check_pair_margin``: ``pair_margin(w) -> margin``
* 10 ``check_symmetry_detector``: ``symmetry_detector() -> (W1, b1, W2, b2)``
* 11 ``check_central_differences``: ``central_differences(f, theta, h) -> grad``
* 11 ``check_spsa_estimate``: ``spsa_estimate(f, theta, c, delta) -> g_hat``
* 11 ``check_oja_step``: ``oja_step(w, x, lr) -> w``
* 11 ``check_dfa_updates``: ``dfa_updates(X, E, Z1, Z2, W2, W3, B1, B2) -> (dW1, dW2)``
* 11 ``check_ff_layer_loss``: ``ff_layer_loss(H_pos, H_neg, threshold) -> (loss, dH_pos, dH_neg)``
* 12 ``check_confusion_matrix``: ``confusion_matrix(y_true, y_pred, n_classes) -> M``
* 12 ``check_input_gradient``: ``input_gradient(X, y, W1, b1, W2, b2) -> dX``
* 12 ``check_streamed_mean_std``: ``streamed_mean_std(X, batch_size) -> (mean, std)``
* 12 ``check_search_then_test``: ``search_then_test(configs, val_loss, test_accuracy) -> (best, test_score)``
* 13 ``check_conv2d_backward``: ``conv2d_backward_loops(dout, X, W, stride, padding) -> (dX, dW, db)``
* 13 ``check_max_pool_backward``: ``max_pool_backward(dout, X, kernel_size, stride) -> dX``
* 14 ``check_rnn_step_backward``: ``rnn_step_backward(dh, x, h_prev, W_xh, W_hh, b) -> (dx, dh_prev, dW_xh, dW_hh, db)``
* 14 ``check_rnn_backward``: ``rnn_backward(dH, X, h0, W_xh, W_hh, b) -> (dX, dh0, dW_xh, dW_hh, db)``
* 15 ``check_batchnorm_backward``: ``batchnorm_backward(dout, X, gamma, eps) -> (dX, dgamma, dbeta)``
* 15 ``check_residual_backward``: ``residual_backward(dout, X, W1, b1, W2, b2) -> (dX, dW1, db1, dW2, db2)``

Unwritten exercises in the student edition: :func:`yours_or_reference` (a later
cell calls bptutor's reference while the learner's function still raises
``NotImplementedError``) and :func:`if_written` (a cell that needs the learner's
code is skipped with a "not written yet" note), so "Run All" reaches the end.

Building blocks for later chapters: :func:`check_outputs` (the engine: any
reference, cases and catalogue of :class:`Mistake`), :func:`check_gradient`
(a gradient against finite differences alone) and
:func:`check_activation_backward` (sigmoid, tanh, relu, leaky_relu). Every
check takes ``rng`` (seed or Generator) for its inputs; the default 0 makes a
re-run print the same message.

Layout: :mod:`._core` holds the machinery (results, cases, mistakes, the
running and diagnosing engine, exception summaries), :mod:`._compare` the
comparisons it uses (tolerances that follow float32, inputs changed in place,
swapped outputs, the generic diagnosis); each chapter's checks
live in their own module, ``chNN_<topic>.py``, named for the chapter they
belong to: ``ch01_forward``, ``ch02_losses``, ``ch03_autograd``,
``ch04_backward``, ``ch05_training``, ``ch06_optimizers``. Import checks from
the package, ``from bptutor.exercises import check_linear_backward``, never
from the chapter modules, so they can move.

Adding a chapter's checks:

1. write ``bptutor/exercises/chNN_<topic>.py`` with a docstring listing its
   checks; build them on ``check_outputs``, ``Case`` and ``Mistake`` from
   ``._core`` (see ``ch04_backward.py`` for a full example);
2. import its public names below and add them to ``__all__``, and add a line
   for each check to the list above;
3. put its tests in ``tests/test_chNN_<topic>.py`` (the test-file-per-module
   rule); the core's tests stay in ``tests/test_exercises.py``.
"""
from ._core import (ACTIVATION_BACKWARDS, ATOL, RTOL, Case, CheckResult, Mistake, check_activation_backward,
                    check_gradient, check_outputs)
from ._unsolved import NOT_WRITTEN, if_written, yours_or_reference
from .ch01_forward import check_layer_forward, check_network_forward, check_neuron
from .ch02_losses import check_logsumexp, check_mse, check_softmax_cross_entropy
from .ch03_autograd import BACKWARD_RULES, check_backward_rule, check_chain_rule
from .ch04_backward import check_linear_backward, check_sigmoid_backward, check_two_layer_backward
from .ch04_backward import check_deep_backward, check_softmax_jacobian
from .ch05_training import check_sgd_step, check_training_loop
from .ch05_training import check_warmup_cosine
from .ch06_optimizers import check_adam_step, check_momentum_step
from .ch06_optimizers import check_momentum_rate
from .ch07_initialization import check_leaky_relu_std, check_xavier_uniform
from .ch08_regularization import check_dropout_forward, check_l2_penalty, check_ridge_fit
from .ch08_regularization import check_bias_variance
from .ch09_landscapes import check_batched_forward, check_logistic_hessian
from .ch10_symmetry import check_pair_margin, check_symmetry_detector
from .ch11_alternatives import check_central_differences, check_oja_step, check_spsa_estimate
from .ch11_local_learning import check_dfa_updates, check_ff_layer_loss
from .ch12_digits import check_confusion_matrix, check_input_gradient, check_streamed_mean_std
from .ch12_digits import check_search_then_test
from .ch13_convolution import check_conv2d_backward, check_max_pool_backward
from .ch14_recurrent import check_rnn_backward, check_rnn_step_backward
from .ch15_deep import check_batchnorm_backward, check_residual_backward

__all__ = [
    # core: results, building blocks for checks
    "RTOL", "ATOL", "CheckResult", "Mistake", "Case", "check_outputs", "check_gradient",
    "ACTIVATION_BACKWARDS", "check_activation_backward",
    # the student edition: cells that use an unwritten exercise keep "Run All" going
    "NOT_WRITTEN", "if_written", "yours_or_reference",
    # 01 forward pass
    "check_neuron", "check_layer_forward", "check_network_forward",
    # 02 loss functions
    "check_mse", "check_softmax_cross_entropy", "check_logsumexp",
    # 03 chain rule
    "BACKWARD_RULES", "check_backward_rule", "check_chain_rule",
    # 04 backward pass
    "check_linear_backward", "check_sigmoid_backward", "check_two_layer_backward",
    "check_deep_backward", "check_softmax_jacobian",
    # 05 training loop
    "check_sgd_step", "check_training_loop",
    "check_warmup_cosine",
    # 06 gradient descent variants
    "check_momentum_step", "check_adam_step",
    "check_momentum_rate",
    # 07 activations and initialization
    "check_xavier_uniform", "check_leaky_relu_std",
    # 08 overfitting and regularization
    "check_ridge_fit", "check_l2_penalty", "check_dropout_forward",
    "check_bias_variance",
    # 09 local minima and loss landscapes
    "check_logistic_hessian", "check_batched_forward",
    # 10 backprop in 1986
    "check_pair_margin", "check_symmetry_detector",
    # 11 alternatives to backprop
    "check_central_differences", "check_spsa_estimate", "check_oja_step",
    "check_dfa_updates", "check_ff_layer_loss",
    # 12 capstone: digits
    "check_confusion_matrix", "check_input_gradient", "check_streamed_mean_std",
    "check_search_then_test",
    # 13 convolutional networks
    "check_conv2d_backward", "check_max_pool_backward",
    # 14 recurrent networks
    "check_rnn_step_backward", "check_rnn_backward",
    # 15 deep networks
    "check_batchnorm_backward", "check_residual_backward",
]
