r"""Learning-rate schedules: the rate :math:`\eta_t` after ``t`` epochs (chapter 05).

Each schedule wraps an optimizer of :mod:`bptutor.optim` and sets its ``lr``
once per epoch: call ``step()`` at the end of every epoch, or pass the schedule
to ``fit`` as a callback (``callbacks=[schedule]``). ``lr_at(t)`` is the closed
form, for plotting a schedule without training. :class:`WarmupLR` puts a linear
warm-up in front of any other schedule.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod

from ._checks import check_float, check_int, describe
from .optim import Optimizer

__all__ = ["LRSchedule", "StepLR", "ExponentialLR", "InverseTimeLR", "CosineLR", "WarmupLR"]


class LRSchedule(ABC):
    r"""Base class: sets ``optimizer.lr`` to :math:`\eta_t` after each epoch.

    The initial rate :math:`\eta_0` is the optimizer's ``lr`` when the schedule
    is made. Call ``step()`` once at the end of every epoch (as with PyTorch's
    schedulers); ``epoch`` counts those calls and ``lr_at(t)`` is the closed
    form, handy for plotting a schedule without training.

    Args:
        optimizer: an :class:`Optimizer`.
    """

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} expected optimizer to be a bptutor Optimizer, "
                            f"got {describe(optimizer)}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    @abstractmethod
    def lr_at(self, t: int) -> float:
        """The learning rate after ``t`` epochs (the closed form)."""

    def step(self) -> float:
        """Advance one epoch; set and return the new ``optimizer.lr``."""
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)
        return self.optimizer.lr

    def on_epoch_end(self, model, epoch: int, logs: dict) -> bool:
        """As a ``fit`` callback (``callbacks=[schedule]``): :meth:`step` after every epoch; never stops."""
        self.step()
        return False


class StepLR(LRSchedule):
    r"""Multiply the rate by :math:`\gamma` every ``step_size`` epochs.

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}

    Same as ``torch.optim.lr_scheduler.StepLR``.

    Args:
        optimizer: an :class:`Optimizer`.
        step_size: :math:`s \ge 1` epochs between decays.
        gamma: factor :math:`\gamma \in (0, 1]`.
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size = check_int("step_size", step_size, minimum=1, who="StepLR")
        self.gamma = check_float("gamma", gamma, minimum=0.0, maximum=1.0, strict_min=True,
                                 who="StepLR")

    def lr_at(self, t: int) -> float:
        return self.base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(LRSchedule):
    r"""Multiply the rate by :math:`\gamma` every epoch.

    .. math:: \eta_t = \eta_0\, \gamma^{t}

    Same as ``torch.optim.lr_scheduler.ExponentialLR``.

    Args:
        optimizer: an :class:`Optimizer`.
        gamma: factor :math:`\gamma \in (0, 1]`.
    """

    def __init__(self, optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = check_float("gamma", gamma, minimum=0.0, maximum=1.0, strict_min=True,
                                 who="ExponentialLR")

    def lr_at(self, t: int) -> float:
        return self.base_lr * self.gamma ** t


class InverseTimeLR(LRSchedule):
    r"""The :math:`1/t` decay of stochastic approximation (Robbins & Monro 1951).

    .. math:: \eta_t = \frac{\eta_0}{1 + d\, t}

    :math:`\sum_t \eta_t = \infty` but :math:`\sum_t \eta_t^2 < \infty`: steps
    stay large enough to get anywhere and small enough to average the noise
    of SGD away. PyTorch has no class for it (``LambdaLR`` with this formula).

    Args:
        optimizer: an :class:`Optimizer`.
        decay: :math:`d \ge 0` (``0`` keeps the rate constant).
    """

    def __init__(self, optimizer, decay: float):
        super().__init__(optimizer)
        self.decay = check_float("decay", decay, minimum=0.0, who="InverseTimeLR")

    def lr_at(self, t: int) -> float:
        return self.base_lr / (1.0 + self.decay * t)


class CosineLR(LRSchedule):
    r"""Cosine annealing (Loshchilov & Hutter 2017) from :math:`\eta_0` to :math:`\eta_{min}`.

    .. math:: \eta_t = \eta_{min} + \tfrac12 (\eta_0 - \eta_{min})
              \left(1 + \cos\frac{\pi \min(t, T)}{T}\right)

    After :math:`T` epochs the rate stays at :math:`\eta_{min}`. PyTorch's
    ``CosineAnnealingLR`` agrees for :math:`t \le T` but keeps following the
    cosine afterwards, so its rate climbs back up (a warm restart without the
    restart).

    Args:
        optimizer: an :class:`Optimizer`.
        T_max: :math:`T \ge 1`, epochs to reach the minimum.
        lr_min: :math:`\eta_{min}`, between 0 and the optimizer's ``lr``.
    """

    def __init__(self, optimizer, T_max: int, lr_min: float = 0.0):
        super().__init__(optimizer)
        self.T_max = check_int("T_max", T_max, minimum=1, who="CosineLR")
        self.lr_min = check_float("lr_min", lr_min, minimum=0.0, maximum=self.base_lr,
                                  who="CosineLR")

    def lr_at(self, t: int) -> float:
        t = min(t, self.T_max)
        return self.lr_min + 0.5 * (self.base_lr - self.lr_min) * (1.0 + math.cos(math.pi * t / self.T_max))


class WarmupLR(LRSchedule):
    r"""Linear warm-up for :math:`W` epochs, then another schedule, shifted by :math:`W`.

    .. math:: \eta_t = \begin{cases} \eta_0\, \dfrac{t + 1}{W + 1} & t < W \\[4pt]
              \eta^{\text{after}}_{t - W} & t \ge W \end{cases}

    The rate climbs on a line from :math:`\eta_0/(W+1)` in epoch 0 to
    :math:`\eta_0` in epoch :math:`W`, where ``after`` starts its own clock
    (so ``CosineLR(opt, T_max=E - 1 - W)`` reaches its minimum in the last of
    :math:`E` epochs). It never starts at 0: an epoch at rate 0 would be
    wasted (a step at ``lr = 0`` moves nothing). Making the wrapper
    sets ``optimizer.lr`` to the first warm-up rate. Pass the wrapper, not
    ``after``, to ``fit``. Warm-up keeps the first steps small while the
    weights and an adaptive optimizer's statistics are still far from
    typical (Goyal et al. 2017, *Accurate, Large Minibatch SGD*, used 5
    epochs of linear warm-up). PyTorch: ``SequentialLR([LinearLR(...), after])``.

    Args:
        after: an :class:`LRSchedule` not yet stepped; its optimizer's ``lr`` is :math:`\eta_0`.
        warmup: :math:`W \ge 1` epochs of warm-up.
    """

    def __init__(self, after, warmup: int):
        if not isinstance(after, LRSchedule):
            raise TypeError(f"WarmupLR expected after to be an LRSchedule (e.g. CosineLR(opt, T_max=90)), "
                            f"got {describe(after)}")
        if after.epoch != 0 or after.optimizer.lr != after.base_lr:
            raise ValueError(f"WarmupLR expected after to be a schedule not yet used (epoch 0, optimizer.lr "
                             f"{after.base_lr:g}), got epoch {after.epoch} with optimizer.lr "
                             f"{after.optimizer.lr:g}")
        warmup = check_int("warmup", warmup, minimum=1, who="WarmupLR")
        super().__init__(after.optimizer)
        self.after, self.warmup = after, warmup
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, t: int) -> float:
        if t < self.warmup:
            return self.base_lr * (t + 1) / (self.warmup + 1)
        return self.after.lr_at(t - self.warmup)
