r"""Regularization: weight penalties, dropout and early stopping.

* :class:`L2` and :class:`L1` add a penalty :math:`R(\theta)` to the loss and
  its gradient :math:`\partial R/\partial\theta` to each ``.grad``. This is
  where weight decay lives (the optimizers have no hidden flag for it).
  Passed a Module, they penalise **weights only**: parameters whose name ends
  in ``W`` (see :func:`weights_only`); biases are left alone, since a bias
  only shifts a unit and shrinking it does not make the function smoother.
* :class:`Dropout` is a layer (a :class:`~bptutor.layers.Module`) that
  zeroes random units while training.
* :class:`EarlyStopping` is a callback for :func:`bptutor.training.fit` that
  stops when the validation loss stops improving and restores the best weights.
* :func:`bias_variance` splits the error of a model fitted to many draws of
  the data into squared bias and variance: what the remedies above trade.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_float, check_int, check_rng, describe
from .layers import Module, Parameter, check_dout, require_cache


# --- weight penalties ---------------------------------------------------------------
def weights_only(named_params) -> list:
    """The weight matrices among named parameters: names whose last component is ``"W"``.

    Biases (``"b"``) are *not* selected, so by default they are not penalised.

    Args:
        named_params: a Module, or a list of ``(name, Parameter)`` pairs as
            returned by ``model.named_parameters()`` (names like ``"0.W"``).

    Returns:
        list of the selected Parameters, in order.
    """
    if isinstance(named_params, Module):
        named_params = named_params.named_parameters()
    if isinstance(named_params, (str, bytes)) or not hasattr(named_params, "__iter__"):
        raise TypeError("weights_only expected named_params to be a Module or a list of (name, Parameter) "
                        f"pairs, got {describe(named_params)}")
    out = []
    for i, item in enumerate(named_params):
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise TypeError("weights_only expected named_params to be a Module or a list of "
                            f"(name, Parameter) pairs, got {describe(item)} at position {i}")
        name, p = item
        if name.split(".")[-1] == "W":
            out.append(p)
    return out


def _penalised(params, who: str) -> list:
    """A Module gives its weights only; a list of parameters is used as given."""
    if isinstance(params, Module):
        return weights_only(params)
    if isinstance(params, (Parameter, str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{who} expected params to be a Module or a list of Parameter or Value, "
                        f"got {describe(params)}")
    params = list(params)
    for i, p in enumerate(params):
        if not (hasattr(p, "data") and hasattr(p, "grad")):
            raise TypeError(f"{who} expected params to be a Module or a list of Parameter or Value, "
                            f"got {type(p).__name__} at params[{i}]")
    return params


class Penalty:
    """Base class of :class:`L2` and :class:`L1`: holds :math:`\\lambda` (``lam``).

    Subclasses implement ``penalty(params) -> float`` and ``add_grad(params)``.
    """

    def __init__(self, lam: float):
        self.lam = check_float("lam", lam, minimum=0.0, who=type(self).__name__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lam={self.lam:g})"


class L2(Penalty):
    r"""L2 penalty ("weight decay"): pulls every weight towards zero in proportion to its size.

    .. math:: R(\theta) = \frac{\lambda}{2} \sum_i \theta_i^2, \qquad
              \frac{\partial R}{\partial \theta_i} = \lambda\, \theta_i

    With plain SGD, adding this gradient gives
    :math:`\theta \leftarrow (1 - \eta\lambda)\theta - \eta g`: the weights
    decay by a factor each step, hence the name. (With Adam the two are not
    the same; that difference is what AdamW is about.)

    Args:
        lam: :math:`\lambda \ge 0`.
    """

    def penalty(self, params) -> float:
        """:math:`R(\\theta)` summed over ``params`` (a Module: its weights only)."""
        params = _penalised(params, "L2.penalty")
        return float(sum(0.5 * self.lam * np.sum(np.square(p.data)) for p in params))

    def add_grad(self, params) -> None:
        """Add :math:`\\lambda\\theta` into each ``.grad`` (after backward, before the step)."""
        for p in _penalised(params, "L2.add_grad"):
            p.grad += self.lam * p.data


class L1(Penalty):
    r"""L1 penalty: pulls every weight towards zero by a constant amount, favouring sparse weights.

    .. math:: R(\theta) = \lambda \sum_i |\theta_i|, \qquad
              \frac{\partial R}{\partial \theta_i} = \lambda\, \mathrm{sign}(\theta_i)

    :math:`|\theta|` has a kink at 0; we use the subgradient
    :math:`\mathrm{sign}(0) = 0` (as ``numpy.sign`` and PyTorch do).

    Args:
        lam: :math:`\lambda \ge 0`.
    """

    def penalty(self, params) -> float:
        """:math:`R(\\theta)` summed over ``params`` (a Module: its weights only)."""
        params = _penalised(params, "L1.penalty")
        return float(sum(self.lam * np.sum(np.abs(p.data)) for p in params))

    def add_grad(self, params) -> None:
        """Add :math:`\\lambda\\,\\mathrm{sign}(\\theta)` into each ``.grad``."""
        for p in _penalised(params, "L1.add_grad"):
            p.grad += self.lam * np.sign(p.data)


# --- dropout --------------------------------------------------------------------------
class Dropout(Module):
    r"""Inverted dropout (Srivastava et al. 2014): drop each unit with probability ``p``.

    In training mode, with a fresh mask :math:`m_{ij} \sim \mathrm{Bernoulli}(1-p)`,

    .. math:: \text{out} = \frac{m \odot X}{1 - p}, \qquad
              dX = \frac{m \odot \text{dout}}{1 - p}

    Scaling the kept units by :math:`1/(1-p)` keeps :math:`E[\text{out}] = X`,
    so in eval mode (``model.eval()``) the layer is simply the identity and
    needs no rescaling at test time. Backward uses the mask of the last
    forward pass, the same units that were dropped.

    Args:
        p: drop probability in [0, 1) (``p = 0`` keeps everything).
        rng: ``numpy.random.Generator`` or non-negative integer seed; each
            training forward pass draws a new mask from it.

    Attributes:
        mask: the scaled mask :math:`m/(1-p)` of the last training forward
            pass, shape of ``X``; ``None`` after an eval forward pass.
    """

    def __init__(self, p: float = 0.5, rng=0):
        super().__init__()
        self.p = check_float("p", p, minimum=0.0, maximum=1.0, strict_max=True, who="Dropout")
        self.rng = check_rng(rng)
        self.mask = None
        self._cache = None  # the last input's shape; None until the first forward pass

    def forward(self, X):
        """Drop (training) or pass through (eval).

        Args:
            X: input (N, D), or any shape.

        Returns:
            out: same shape and dtype as ``X``.
        """
        X = as_array("X", X, who=repr(self))
        self._cache = X.shape
        if not self.training:
            self.mask = None
            return X
        keep = self.rng.random(X.shape) >= self.p      # each unit kept with probability 1 - p
        self.mask = (keep / (1.0 - self.p)).astype(X.dtype)
        return X * self.mask

    def backward(self, dout):
        """Route the gradient through the units kept in the last forward pass.

        Args:
            dout: upstream gradient, the shape of the last ``X``.

        Returns:
            dX: same shape, ``dout * mask`` (``dout`` itself after an eval forward).
        """
        shape = require_cache(self)
        dout = check_dout(dout, shape, who=repr(self))
        return dout if self.mask is None else dout * self.mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"


# --- early stopping ------------------------------------------------------------------------
class EarlyStopping:
    r"""Stop training when the validation loss stops improving; restore the best weights.

    A callback for :func:`bptutor.training.fit` (``callbacks=[EarlyStopping()]``).
    The protocol: after every epoch fit calls

    ``on_epoch_end(model, epoch, logs) -> bool``

    with ``epoch`` the 0-based index of the finished epoch and ``logs`` a dict
    of that epoch's numbers; the callback watches ``logs["val_loss"]``, or
    ``logs["train_loss"]`` when there is no validation loss (missing or
    ``None``). An epoch *improves* when

    .. math:: \text{loss} < \text{best\_loss} - \text{min\_delta}

    and then its weights are copied (``model.state_dict()``). After
    ``patience`` epochs in a row without improvement it returns ``True``
    (stop) and, if ``restore_best``, loads the best weights back with
    ``model.load_state_dict``. Seeing ``epoch == 0`` starts a new run, so one
    instance can be reused.

    Args:
        patience: non-improving epochs tolerated, >= 1.
        min_delta: how much lower than the best a loss must be to count, >= 0.
        restore_best: load the best epoch's weights when stopping.

    Attributes:
        best_epoch, best_loss, best_state: the best epoch so far, its loss and
            weights (``best_state`` is None when ``restore_best`` is False).
        wait: non-improving epochs since the best.
        stopped_epoch: the epoch at which it stopped, or None.
        stop_reason: a sentence for ``History.stopped_reason`` ("" until it stops).
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, restore_best: bool = True):
        self.patience = check_int("patience", patience, minimum=1, who="EarlyStopping")
        self.min_delta = check_float("min_delta", min_delta, minimum=0.0, who="EarlyStopping")
        if not isinstance(restore_best, bool):
            raise TypeError(f"EarlyStopping expected restore_best to be True or False, "
                            f"got {describe(restore_best)}")
        self.restore_best = restore_best
        self.reset()

    def reset(self) -> None:
        """Forget the previous run."""
        self.best_epoch = None
        self.best_loss = np.inf
        self.best_state = None
        self.wait = 0
        self.stopped_epoch = None
        self.stop_reason = ""

    @staticmethod
    def _monitored(logs) -> tuple[str, float]:
        if not isinstance(logs, dict):
            raise TypeError(f"EarlyStopping expected logs to be a dict, got {describe(logs)}")
        for key in ("val_loss", "train_loss"):
            if logs.get(key) is not None:
                return key, float(logs[key])
        raise KeyError(f"EarlyStopping expected logs to contain 'val_loss' or 'train_loss', "
                       f"got keys {sorted(logs)}")

    def on_epoch_end(self, model, epoch: int, logs: dict) -> bool:
        """Record epoch ``epoch``'s loss; return True when training should stop."""
        epoch = check_int("epoch", epoch, minimum=0, who="EarlyStopping")
        key, loss = self._monitored(logs)
        if epoch == 0:
            self.reset()
        if loss < self.best_loss - self.min_delta:
            self.best_epoch, self.best_loss, self.wait = epoch, loss, 0
            if self.restore_best:
                self.best_state = model.state_dict()
            return False
        self.wait += 1
        if self.wait < self.patience:
            return False
        self.stopped_epoch = epoch
        self.stop_reason = (f"early stopping: {key} did not improve for {self.wait} epochs after "
                            f"epoch {self.best_epoch} (best {self.best_loss:.4g})")
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)
            self.stop_reason += f"; restored the weights of epoch {self.best_epoch}"
        return True

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta:g}, "
                f"restore_best={self.restore_best})")


# --- bias and variance -----------------------------------------------------------------------
def bias_variance(preds, f) -> tuple[float, float]:
    r"""Squared bias and variance of predictions fitted to :math:`D` independent draws of the data.

    With :math:`y_d(x_p)` the prediction at test input :math:`x_p` of the model
    fitted to draw :math:`d`, :math:`\bar y(x_p) = \frac1D\sum_d y_d(x_p)` and
    :math:`f` the noise-free target,

    .. math::
        \text{bias}^2 = \frac1P\sum_p \big(\bar y(x_p) - f(x_p)\big)^2, \qquad
        \text{variance} = \frac1P\sum_p \frac1D\sum_d \big(y_d(x_p) - \bar y(x_p)\big)^2 .

    With the :math:`1/D` average the two add up *exactly* to the mean of
    :math:`(y_d - f)^2` over draws and points; the expected squared error on
    noisy targets :math:`t = f + \varepsilon` adds the noise :math:`\sigma^2`.

    Args:
        preds: (D, P) predictions, one row per draw of the training data.
        f: (P,) the noise-free function at the P test inputs.

    Returns:
        ``(bias2, variance)``, two floats.
    """
    preds = as_array("preds", preds, ndim=2, who="bias_variance")
    f = as_array("f", f, ndim=1, who="bias_variance")
    if f.shape[0] != preds.shape[1]:
        raise ValueError(f"bias_variance expected f of shape ({preds.shape[1]},) (one value per column of "
                         f"preds), got {f.shape}")
    mean = preds.mean(axis=0)                              # (P,) the average fit
    return float(np.mean((mean - f) ** 2)), float(np.mean((preds - mean) ** 2))
