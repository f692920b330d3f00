r"""The training loop: ``fit``, the ``History`` it records, and how it detects divergence.

One update of gradient descent on a mini-batch :math:`B` is

.. math:: \theta \leftarrow \theta - \eta\, \nabla_\theta \Big[\frac{1}{|B|}\sum_{n \in B} \ell(f_\theta(x_n), y_n) + R(\theta)\Big]

(the optimizer decides the exact form of the step); an *epoch* is one pass
over the shuffled training set. :func:`fit` runs epochs and records what
happened in a :class:`History`.

Divergence: before applying an update, :func:`fit` checks the batch loss
:math:`L` (data loss plus penalty). It raises :class:`TrainingDiverged`
*without* applying the update, so the parameters keep their last finite
values and no NaN reaches the learner, when

* :math:`L` is NaN or infinite, or a layer's gradient is;
* :math:`L > 1000 \cdot \max(L_0, 1)` with :math:`L_0` the first batch loss
  of the run (``DIVERGENCE_FACTOR`` = 1000): a loss a thousand times worse
  than at the start means each step overshoots and the error grows. The floor
  of 1 keeps a nearly perfect start (:math:`L_0 = 10^{-4}`, say, when training
  continues) from turning ordinary batch-to-batch noise into an alarm.

Its neighbours, whose names this module re-exports so that
``from bptutor.training import ...`` finds them all:

* :mod:`bptutor.batching`: :func:`iterate_minibatches`, the epoch dealt into
  mini-batches (streamed from an ``np.memmap``);
* :mod:`bptutor.evaluation`: :func:`predict`, :func:`evaluate`,
  :func:`accuracy` (its rules, by the number of output columns, are in that
  module's docstring), :func:`confusion_matrix`, ``EVAL_CHUNK`` and
  ``THRESHOLDS``.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from ._progress import tqdm  # tqdm, leaving its final state in a saved notebook

from ._checks import check_float, check_int, check_rng, describe
from .batching import _batches, _check_batch_size, _check_data_finite, _check_pair, iterate_minibatches
from .evaluation import (EVAL_CHUNK, THRESHOLDS, _check_model, _correct, _evaluate, _resolve_loss, _target_kind,
                         accuracy, confusion_matrix, evaluate, predict)
from .layers import Sequential

__all__ = ["DIVERGENCE_FACTOR", "EVAL_CHUNK", "THRESHOLDS", "TrainingDiverged", "ValidationDiverged", "History",
           "iterate_minibatches", "accuracy", "confusion_matrix", "predict", "evaluate", "fit"]

#: a batch loss above this multiple of the run's first batch loss counts as divergence.
DIVERGENCE_FACTOR = 1e3


class TrainingDiverged(RuntimeError):
    """Training blew up: the loss turned NaN/infinite or exploded, or a gradient did.

    Raised by :func:`fit` before the offending update is applied, so the model's
    parameters are the last finite ones.

    Attributes:
        epoch: 0-based epoch in which it happened (as in callbacks).
        step: 0-based index of the update in the whole run (updates applied before it).
        lr: the optimizer's learning rate at that moment.
        loss: the batch loss that triggered it (may be ``nan`` or ``inf``).
        reason: what was seen, in words.
    """

    def __init__(self, epoch: int, step: int, lr: float, loss: float, reason: str = ""):
        self.epoch, self.step, self.lr, self.loss, self.reason = epoch, step, lr, loss, reason
        what = reason or f"the loss became {loss:.4g}"
        super().__init__(
            f"training diverged at epoch {epoch}, step {step}: {what} with learning rate lr = {lr:g}. "
            f"The update was not applied, so the parameters keep their last finite values. "
            f"Each step overshoots the minimum by more than it gains: try a smaller learning rate, "
            f"e.g. lr = {lr / 10:g}.")

    def __reduce__(self):
        return (type(self), (self.epoch, self.step, self.lr, self.loss, self.reason))


class ValidationDiverged(TrainingDiverged):
    """The validation loss after an epoch was NaN or infinite; :func:`fit` refuses to record it.

    Unlike its parent, the epoch's updates *were* applied (the training
    losses were finite and the parameters are); the attributes are the same.
    """

    def __init__(self, epoch: int, step: int, lr: float, loss: float, reason: str = ""):
        self.epoch, self.step, self.lr, self.loss, self.reason = epoch, step, lr, loss, reason
        RuntimeError.__init__(
            self, f"fit stopped after epoch {epoch}: {reason or f'the validation loss became {loss}'}. "
                  f"This epoch's updates are kept (its training losses and the parameters are finite). The model's "
                  f"outputs on X_val overflow: X_val may be on a far larger scale than the training X, or the "
                  f"weights have grown too large; try a smaller learning rate, e.g. lr = {lr / 10:g}.")


@dataclass
class History:
    """What :func:`fit` recorded, one entry per epoch unless said otherwise.

    Attributes:
        train_loss: mean batch loss of the epoch, each measured before its
            update, including the regularizer's penalty.
        train_acc: mean batch accuracy of the epoch (NaN for regression targets).
        val_loss, val_acc: on ``validation`` after the epoch, in eval mode,
            without penalty; empty without validation data.
        grad_norms: layer name (``"0"``, ``"2"``, ... as in ``named_parameters``)
            -> mean over the epoch's updates of :math:`\\lVert\\nabla_\\theta L\\rVert_2`
            over that layer's parameters (the backpropagated gradient, before the penalty).
        step_losses: every batch loss of the run, in order.
        epochs_run: number of epochs completed.
        stopped_reason: why training ended, a sentence beginning with
            ``"completed"``, ``"loss threshold"``, ``"plateau"`` or ``"callback"``.
    """

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    grad_norms: dict = field(default_factory=dict)
    step_losses: list = field(default_factory=list)
    epochs_run: int = 0
    stopped_reason: str = ""


# --- fit ------------------------------------------------------------------------------------------------

def _layer_groups(model) -> dict:
    """Layer name -> its parameters; ``"0.W"`` and ``"0.b"`` form layer ``"0"``."""
    groups: dict = {}
    for name, p in model.named_parameters():
        layer = name.rpartition(".")[0] or type(model).__name__
        groups.setdefault(layer, []).append(p)
    return groups


def _check_optimizer(optimizer, model, who: str) -> None:
    lr = getattr(optimizer, "lr", None)
    if not (callable(getattr(optimizer, "step", None)) and isinstance(lr, numbers.Real)
            and not isinstance(lr, bool)):
        raise TypeError(f"{who} expected optimizer to be an optimizer with step() and a float lr "
                        f"(e.g. bptutor.optim.SGD(model.parameters())), got {describe(optimizer)}")
    own = {id(p) for p in model.parameters()}
    foreign = [i for i, p in enumerate(getattr(optimizer, "params", ())) if id(p) not in own]
    if foreign:
        raise ValueError(f"{who} expected the optimizer to update this model's parameters, but its "
                         f"params[{foreign[0]}] is not one of them (an optimizer made for another model?); "
                         f"create it with model.parameters()")


def _check_validation(validation, X, who: str):
    """``(X_val, y_val)`` checked as arrays whose rows have the shape of ``X``'s, all finite; or None."""
    if validation is None:
        return None
    if not (isinstance(validation, tuple) and len(validation) == 2):
        raise TypeError(f"{who} expected validation to be a pair (X_val, y_val) or None, got {describe(validation)}")
    X_val, y_val = _check_pair(*validation, who=f"{who} (validation data)", xname="X_val", yname="y_val")
    if X_val.shape[1:] != X.shape[1:]:
        raise ValueError(f"{who} (validation data) expected X_val with rows of shape {X.shape[1:]} like "
                         f"the training X, got shape {X_val.shape}")
    _check_data_finite(X_val, y_val, f"{who} (validation data)", names=("X_val", "y_val"))
    return X_val, y_val


def _modules(model) -> list:
    """``model`` and every module inside it, depth first."""
    out, stack = [], [model]
    while stack:
        module = stack.pop()
        out.append(module)
        stack.extend(m for _, m in reversed(getattr(module, "_modules", [])))
    return out


def _output_shape(model, X) -> tuple:
    """The shape of one row of the model's output, from a forward pass on ``X[:1]`` in eval mode.

    Every module's attributes (caches, dropout masks, the train/eval flag) are
    put back afterwards, so the probe leaves the model exactly as it was.
    """
    saved = [(m, dict(vars(m))) for m in _modules(model)]
    try:
        model.eval()
        out = np.asarray(model.forward(np.asarray(X[:1])))
    finally:
        for m, attrs in saved:
            vars(m).clear()
            vars(m).update(attrs)
    return out.shape[1:]


def _check_targets(loss_name, loss_fn, out_shape: tuple, y, who: str, yname: str) -> None:
    """Run a named loss's own target checks on all of ``y`` (against a zero prediction), before training.

    Labels outside the classes, a wrong width or targets outside [0, 1] are
    then found before the first update, not in the batch that holds them.
    A loss given as a function is not probed (its checks are its own).
    """
    if loss_name is None:
        return
    y = np.asarray(y)
    with np.errstate(all="ignore"):
        try:
            loss_fn(np.zeros((y.shape[0],) + tuple(out_shape)), y)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{who} found a problem with {yname} before training, for the model's output "
                            f"of {(y.shape[0],) + tuple(out_shape)}: {exc}") from None


def _check_callbacks(callbacks, who: str) -> tuple:
    if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(f"{who} expected callbacks to be a list of objects with on_epoch_end(model, "
                        f"epoch, logs), got {describe(callbacks)}")
    callbacks = tuple(callbacks)
    for i, cb in enumerate(callbacks):
        if not callable(getattr(cb, "on_epoch_end", None)):
            raise TypeError(f"{who} expected callbacks[{i}] to have a method on_epoch_end(model, epoch, "
                            f"logs) -> bool, got {describe(cb)}")
    return callbacks


def _check_regularizer(regularizer, who: str):
    if regularizer is not None and not (callable(getattr(regularizer, "penalty", None))
                                        and callable(getattr(regularizer, "add_grad", None))):
        raise TypeError(f"{who} expected regularizer to have penalty(params) and add_grad(params) "
                        f"(e.g. bptutor.regularization.L2(1e-4)), got {describe(regularizer)}")
    return regularizer


class _Loop:
    """The state of one ``fit`` call that its epochs share."""

    def __init__(self, model, loss_fn, optimizer, regularizer, threshold, kind):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.regularizer, self.threshold, self.kind = regularizer, threshold, kind
        self.groups = _layer_groups(model)
        # nobody reads the gradient of the data, so a Sequential skips its first layer's dX
        self.skip_input_grad = isinstance(model, Sequential)
        self.step = 0
        self.first = None  # the run's first batch loss
        self.limit = None  # loss above which the run counts as diverged, set by the first batch

    def check_loss(self, value: float, epoch: int, Xb, yb) -> None:
        """Raise before the update when the batch loss is non-finite or has exploded."""
        lr = self.optimizer.lr
        if not math.isfinite(value):
            for name, A in (("X", Xb), ("y", yb)):
                A = np.asarray(A)
                if np.issubdtype(A.dtype, np.floating) and not np.all(np.isfinite(A)):
                    raise ValueError(f"fit found NaN or infinite values in {name} in the batch of epoch {epoch}, "
                                     f"step {self.step}: the data, not the learning rate, is the problem")
            raise TrainingDiverged(epoch, self.step, lr, value, f"the loss became {value}")
        if self.limit is None:
            self.first = value
            self.limit = DIVERGENCE_FACTOR * max(value, 1.0)
        elif value > self.limit:
            raise TrainingDiverged(epoch, self.step, lr, value,
                                   f"the loss exploded to {value:.4g}, above {self.limit:.4g} "
                                   f"({DIVERGENCE_FACTOR:g} x the first batch loss {self.first:.4g}, "
                                   f"counted as at least 1)")

    def grad_norms(self, epoch: int, value: float) -> list:
        """Per-layer gradient norms; raise before the update when one is not finite."""
        norms = [math.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in params))
                 for params in self.groups.values()]
        # report the layer nearest the loss: that is where a non-finite gradient starts
        for name, norm in reversed(list(zip(self.groups, norms))):
            if not math.isfinite(norm):
                raise TrainingDiverged(epoch, self.step, self.optimizer.lr, value,
                                       f"the gradient of layer {name!r} became {norm} (loss {value:.4g})")
        return norms

    def epoch(self, epoch: int, batches, history: History) -> tuple[float, float]:
        """One pass over ``batches``; returns the epoch's mean loss and accuracy."""
        model, reg = self.model, self.regularizer
        loss_sum = correct = 0.0
        seen = n_steps = 0
        norm_sums = np.zeros(len(self.groups))
        # numpy's overflow warnings are silenced: the checks find non-finite values
        # themselves and explain them in one TrainingDiverged message.
        with np.errstate(over="ignore", invalid="ignore"):
            for Xb, yb in batches:
                model.zero_grad()
                out = model.forward(Xb)
                value, dout = self.loss_fn(out, yb)
                value = float(value) + (reg.penalty(model) if reg is not None else 0.0)
                self.check_loss(value, epoch, Xb, yb)
                if self.skip_input_grad:
                    model.backward(dout, input_grad=False)
                else:
                    model.backward(dout)
                norm_sums += self.grad_norms(epoch, value)
                if reg is not None:
                    reg.add_grad(model)
                self.optimizer.step()
                n = out.shape[0]
                loss_sum += value * n
                correct += _correct(out, yb, self.kind, self.threshold)
                seen += n
                n_steps += 1
                self.step += 1
                history.step_losses.append(value)
        for name, total in zip(self.groups, norm_sums):
            history.grad_norms[name].append(float(total / n_steps))
        return loss_sum / seen, correct / seen


def _plateau(loss: float, state: dict, patience, rtol: float):
    """Update the best loss; return a reason once ``patience`` epochs brought no relative gain of ``rtol``."""
    best = state["best"]
    if best is None or loss < best - rtol * abs(best):
        state["best"], state["wait"] = loss, 0
        return None
    state["wait"] += 1
    if patience is not None and state["wait"] >= patience:
        return (f"plateau: the training loss improved by less than {rtol:.2%} for {patience} epochs "
                f"(best {state['best']:.4g})")
    return None


def _callbacks_stop(callbacks, model, epoch: int, logs: dict):
    """Call every callback (all of them, even after one says stop); return the first stop reason."""
    reason = None
    for cb in callbacks:
        if cb.on_epoch_end(model, epoch, dict(logs)) and reason is None:
            said = getattr(cb, "stop_reason", "")
            reason = "callback: " + (said if isinstance(said, str) and said
                                     else f"{type(cb).__name__} stopped training after epoch {epoch}")
    return reason


def fit(model, loss, optimizer, X, y, *, epochs: int = 100, batch_size: int | None = None,
        validation=None, callbacks=(), progress: bool = True, rng=0, loss_threshold: float | None = None,
        plateau_patience: int | None = None, plateau_rtol: float = 1e-3, regularizer=None) -> History:
    r"""Train ``model`` by mini-batch gradient descent and record what happened.

    Each step: zero the gradients, forward, loss (plus ``regularizer.penalty``),
    divergence check, backward, gradient norms, ``regularizer.add_grad``,
    ``optimizer.step()``. After each epoch: validation (eval mode), callbacks,
    then the stopping rules. The data are never copied as a whole; with an
    ``np.memmap`` only one mini-batch at a time is in memory.

    Stopping (the reason goes to ``History.stopped_reason``):

    * a callback's ``on_epoch_end(model, epoch, logs)`` returned True
      (``epoch`` 0-based; ``logs`` has ``train_loss``, ``train_acc`` and, with
      validation, ``val_loss``, ``val_acc``);
    * ``loss_threshold``: the epoch's training loss is :math:`\le` it;
    * ``plateau_patience``: the training loss has not fallen below
      :math:`L_\text{best} - \text{plateau\_rtol}\,|L_\text{best}|` for that many epochs;
    * otherwise all ``epochs`` ran.

    Args:
        model: a ``Module`` (e.g. ``Sequential``); left in the train/eval mode it came in.
        loss: a name in ``bptutor.losses.LOSSES`` or a function ``(pred, y) -> (loss, dout)``
            whose loss is a mean over the batch.
        optimizer: e.g. ``Adam(model.parameters(), lr=1e-3)``; must hold this model's parameters.
        X: inputs (N, D), an array or ``np.memmap``.
        y: targets with N rows (integer labels (N,), or the output's shape).
        epochs: maximum number of epochs, >= 1.
        batch_size: None (full batch), 1 (stochastic) or k (mini-batch).
        validation: ``(X_val, y_val)`` or None.
        callbacks: objects with ``on_epoch_end(model, epoch, logs) -> bool``, e.g. ``EarlyStopping``.
        progress: show a ``tqdm`` bar (a widget in Jupyter, text in a terminal).
        rng: generator or seed for the shuffling.
        loss_threshold: stop once the training loss is at most this, or None.
        plateau_patience: epochs without relative improvement ``plateau_rtol`` before stopping, or None.
        plateau_rtol: relative improvement that counts, in [0, 1).
        regularizer: e.g. ``L2(1e-4)``: ``penalty(model)`` is added to the loss and
            ``add_grad(model)`` to the gradients (weights only), or None.

    Returns:
        a :class:`History`.

    Raises:
        TrainingDiverged: the loss or a gradient turned non-finite, or the loss
            exceeded 1000 x max(first batch loss, 1); raised before that update.
            (numpy's overflow warnings are silenced during the steps: this
            one message explains them.)
        ValidationDiverged: (a ``TrainingDiverged``) the validation loss after
            an epoch is NaN or infinite: it is refused, not recorded. That
            epoch's updates stay applied (the parameters are finite; the model
            that gave the NaN is there to inspect).
        ValueError, TypeError: any bad argument, all found before the first
            update, so a failed call changes nothing: in-memory ``X``, ``y``,
            ``X_val`` or ``y_val`` holding NaN or infinity; validation rows of
            another width than ``X``'s; for a loss given by name, any target
            of the whole training set or of the validation data that the loss
            refuses (a label outside the classes, a wrong width), checked
            against the output of one probe forward pass in eval mode. A
            streamed (memmap) batch with NaN is found when its loss is not finite.
    """
    who = "fit"
    _check_model(model, who)
    loss_fn, threshold = _resolve_loss(loss, model, who)
    _check_optimizer(optimizer, model, who)
    X, y = _check_pair(X, y, who)
    _check_data_finite(X, y, who)
    epochs = check_int("epochs", epochs, minimum=1, who=who)
    batch_size = _check_batch_size(batch_size, who)
    validation = _check_validation(validation, X, who)
    callbacks = _check_callbacks(callbacks, who)
    if not isinstance(progress, bool):
        raise TypeError(f"{who} expected progress to be True or False, got {describe(progress)}")
    rng = check_rng(rng)
    if loss_threshold is not None:
        loss_threshold = check_float("loss_threshold", loss_threshold, who=who)
    if plateau_patience is not None:
        plateau_patience = check_int("plateau_patience", plateau_patience, minimum=1, who=who)
    plateau_rtol = check_float("plateau_rtol", plateau_rtol, minimum=0.0, maximum=1.0, strict_max=True, who=who)
    regularizer = _check_regularizer(regularizer, who)
    # every target is checked against the model's output before the first update (one probe row)
    loss_name = loss if isinstance(loss, str) else None
    try:
        out_shape = _output_shape(model, X)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{who}: the model does not accept the training X: {exc}") from None
    _check_targets(loss_name, loss_fn, out_shape, y, who, "the training targets y")
    if validation is not None:
        _check_targets(loss_name, loss_fn, out_shape, validation[1], who, "the validation targets y_val")

    loop = _Loop(model, loss_fn, optimizer, regularizer, threshold, _target_kind(y))
    val_kind = None if validation is None else _target_kind(validation[1])
    history = History(grad_norms={name: [] for name in loop.groups})
    plateau = {"best": None, "wait": 0}
    was_training = model.training
    bar = tqdm(range(epochs), desc="fit", unit="epoch", disable=not progress, leave=True)
    try:
        model.train()
        for epoch in bar:
            train_loss, train_acc = loop.epoch(epoch, _batches(X, y, batch_size, True, rng), history)
            logs = {"train_loss": train_loss, "train_acc": train_acc}
            history.train_loss.append(train_loss)
            history.train_acc.append(train_acc)
            if validation is not None:
                scores = _evaluate(model, loss_fn, threshold, val_kind, *validation)
                if not math.isfinite(scores["loss"]):
                    raise ValidationDiverged(epoch, loop.step, optimizer.lr, scores["loss"],
                                           f"the validation loss became {scores['loss']} after this epoch "
                                           f"(the training loss was {train_loss:.4g})")
                logs["val_loss"], logs["val_acc"] = scores["loss"], scores["accuracy"]
                history.val_loss.append(logs["val_loss"])
                history.val_acc.append(logs["val_acc"])
            history.epochs_run = epoch + 1
            if progress:
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if not math.isnan(v)}, refresh=False)
            reason = _callbacks_stop(callbacks, model, epoch, logs)
            if reason is None and loss_threshold is not None and train_loss <= loss_threshold:
                reason = (f"loss threshold: the training loss {train_loss:.4g} reached "
                          f"{loss_threshold:g} after epoch {epoch}")
            if reason is None:
                reason = _plateau(train_loss, plateau, plateau_patience, plateau_rtol)
            if reason is not None:
                history.stopped_reason = reason
                break
        else:
            history.stopped_reason = f"completed all {epochs} epochs"
    finally:
        bar.close()
        model.train(was_training)
    return history
