"""Exercise checks for chapter 05, the training loop.

* ``check_sgd_step``: ``sgd_step(params, lr)`` (in place)
* ``check_training_loop``: ``train(model, X, y, lr, epochs, batch_size) -> losses``
* ``check_warmup_cosine``: ``warmup_cosine_lr(t, base_lr, warmup, epochs, lr_min) -> lr``
"""
from __future__ import annotations

import math

import numpy as np

from .. import activations as act
from .._checks import check_rng
from ..layers import Linear, Parameter, Sequential
from ..losses import mse_loss
from ..optim import SGD, CosineLR, WarmupLR
from ._core import Case, CheckResult, _Diagnosed, Mistake, check_outputs


# --- 05 training loop ---------------------------------------------------------------------------------------
_PARAM_NAMES = ("W1", "b1", "W2")


def check_sgd_step(fn, rng=0) -> CheckResult:
    r"""Exercise (05): one gradient-descent update, :math:`\theta \leftarrow \theta - \eta\,g`, in place.

    The learner writes ``sgd_step(params, lr)``: ``params`` is a list of
    :class:`~bptutor.layers.Parameter` (``p.data``, ``p.grad``); the function
    changes every ``p.data`` and returns nothing (``model.parameters()`` can be
    passed straight in). It must not change ``p.grad``. Compared with
    :class:`bptutor.optim.SGD`. Diagnosed: sign error, forgotten learning
    rate, the update computed into a copy and never stored, only the first
    parameter updated (a ``return`` inside the loop), ``p.grad`` changed, the
    list ``params`` changed. Every ``p.data`` is the documented in-place update
    and is compared with the right new value; nothing else may change.
    """
    g = check_rng(rng)
    cases = []
    for lr, shapes in ((0.1, ((3, 4), (4,), (4, 2))), (0.5, ((2, 5), (5,), (5, 3)))):
        args = {k: g.normal(size=s) for k, s in zip(_PARAM_NAMES, shapes)}
        args.update({f"d{k}": g.normal(size=s) for k, s in zip(_PARAM_NAMES, shapes)})
        args["lr"] = lr
        cases.append(Case(args))

    def params(a):
        ps = [Parameter(a[k], name=k) for k in _PARAM_NAMES]
        for p in ps:
            p.grad = a[f"d{p.name}"].copy()
        return ps

    def reference(a):
        ps = params(a)
        SGD(ps, lr=a["lr"]).step()
        return tuple(p.data for p in ps)

    def call(fn, a):
        ps = params(a)
        handed = list(ps)
        fn(handed, a["lr"])
        if len(handed) != len(ps) or any(p is not q for p, q in zip(handed, ps)):
            raise _Diagnosed("sgd_step changed the list params itself (added, removed or replaced items)",
                             "loop over the list and change each parameter's .data; the list, and the "
                             "Parameter objects in it, stay as they are (the model holds the same objects).")
        for p in ps:
            if np.shape(p.grad) != a[f"d{p.name}"].shape or not np.array_equal(p.grad, a[f"d{p.name}"]):
                raise _Diagnosed(f"sgd_step changed {p.name}.grad",
                                 "the gradient was changed: the update reads the gradient and changes only "
                                 "p.data; the gradient is reset by zero_grad() before the next backward pass.")
        return tuple(p.data for p in ps)

    def each(f):
        return lambda a, r: {k: f(a[k], a[f"d{k}"], a["lr"]) for k in _PARAM_NAMES}

    mistakes = (
        Mistake("sign error", "step against the gradient, which points uphill: p.data -= lr * p.grad.",
                each(lambda x, dx, lr: x + lr * dx)),
        Mistake("forgot the learning rate", "scale the step: p.data -= lr * p.grad.",
                each(lambda x, dx, lr: x - dx)),
        Mistake("only the first parameter was updated", "is the `return` inside the for loop? The loop must "
                "visit every parameter.", lambda a, r: {k: a[k] for k in _PARAM_NAMES[1:]}),
        Mistake("the update was computed but never stored", "`theta = p.data - lr * p.grad` makes a new array "
                "under a local name that the model never sees; change the parameter itself: "
                "p.data -= lr * p.grad.", each(lambda x, dx, lr: x)),
    )
    return check_outputs(fn, name="sgd_step", reference=reference, cases=cases, outputs=_PARAM_NAMES,
                         mistakes=mistakes, call=call, source="bptutor.optim.SGD")


def _sgd(model, lr: float, sign: float = 1.0) -> None:
    for p in model.parameters():
        p.data -= sign * lr * p.grad


def _train(a, *, zero_grad=True, sign=1.0, update=True, epoch_loss="mean") -> tuple:
    """The reference training loop, with switches for the classic mistakes."""
    model, X, y, lr, B = a["model"], a["X"], a["y"], a["lr"], a["batch_size"]
    losses = []
    for _ in range(a["epochs"]):
        batch = []
        for start in range(0, len(X), B):
            if zero_grad:
                model.zero_grad()
            loss, dout = mse_loss(model.forward(X[start:start + B]), y[start:start + B])
            model.backward(dout)
            if update and sign == 1.0:
                SGD(model.parameters(), lr=lr).step()
            elif update:
                _sgd(model, lr, sign)
            batch.append(loss)
        reduce = {"mean": np.mean, "sum": np.sum, "last": lambda b: b[-1], "last/n": lambda b: b[-1] / len(b)}
        losses.extend(batch if epoch_loss == "batch" else [reduce[epoch_loss](batch)])
    return (np.array(losses),) + tuple(p.data for p in model.parameters())


def _training_case(g, seed: int, n: int, epochs: int, batch_size: int, lr: float) -> Case:
    model = Sequential(Linear(3, 4, rng=seed), act.Tanh(), Linear(4, 2, rng=seed + 1))
    return Case({"model": model, "X": g.normal(size=(n, 3)), "y": g.normal(size=(n, 2)), "lr": lr,
                 "epochs": epochs, "batch_size": batch_size},
                f"a fresh Linear(3, 4), Tanh, Linear(4, 2) model, {n // batch_size} batches per epoch")


def check_training_loop(fn, rng=0) -> CheckResult:
    r"""Exercise (05): a mini-batch training loop with plain gradient descent and MSE.

    The learner writes ``train(model, X, y, lr, epochs, batch_size) -> losses``:
    for each epoch, for each batch ``X[i:i + batch_size]`` in order (no
    shuffling): ``model.zero_grad()``, forward, ``bptutor.losses.mse_loss``,
    ``model.backward(dout)``, then ``p.data -= lr * p.grad`` for every
    parameter; ``losses`` holds one number per epoch, the mean of its batch
    losses. The check compares the losses and the trained weights with the
    reference loop. Diagnosed: gradients never zeroed (they accumulate), the
    epoch loss overwritten (``=`` where ``+=`` belongs) or summed, one loss
    per batch, a sign error, parameters never updated, ``X`` or ``y`` changed in
    place (e.g. shuffled: the loop reads batches in order; only ``model`` is
    updated in place).
    """
    g = check_rng(rng)
    cases = [_training_case(g, 0, 12, 3, 4, 0.1), _training_case(g, 5, 10, 2, 5, 0.3)]
    outputs = ("losses", "W1", "b1", "W2", "b2")

    def variant(**switches):
        return lambda a, r: dict(zip(outputs, _train(a, **switches)))

    def call(fn, a):
        losses = fn(a["model"], a["X"], a["y"], a["lr"], a["epochs"], a["batch_size"])
        if losses is None:
            raise _Diagnosed("train returned None", "did you forget `return losses` at the end?")
        return (losses,) + tuple(p.data for p in a["model"].parameters())

    mistakes = (
        Mistake("gradients are never zeroed", "backward adds into .grad (+=), so without model.zero_grad() "
                "before each backward pass every step uses the sum of all earlier gradients.",
                variant(zero_grad=False)),
        Mistake("the epoch loss counts only the last batch", "`epoch_loss = loss` overwrites; accumulate with "
                "`epoch_loss += loss` over the batches, then divide by the number of batches.",
                variant(epoch_loss="last")),
        Mistake("the epoch loss counts only the last batch", "`epoch_loss = loss` overwrites; accumulate with "
                "`epoch_loss += loss` over the batches, then divide by the number of batches.",
                variant(epoch_loss="last/n")),
        Mistake("the epoch loss is a sum, not a mean", "divide the summed batch losses by the number of batches.",
                variant(epoch_loss="sum")),
        Mistake("one loss per batch instead of per epoch", "append once per epoch, after the batch loop: the "
                "mean of that epoch's batch losses.", variant(epoch_loss="batch")),
        Mistake("sign error in the update", "step against the gradient: p.data -= lr * p.grad.",
                variant(sign=-1.0)),
        Mistake("the parameters never changed", "per batch: zero_grad, forward, loss, backward, and then "
                "update every parameter with p.data -= lr * p.grad (an update before backward, or after a "
                "zero_grad, moves nothing).", variant(update=False)),
    )
    return check_outputs(fn, name="train", reference=lambda a: _train(a), cases=cases, outputs=outputs,
                         mistakes=mistakes, call=call, source="the reference loop (bptutor.optim.SGD)",
                         inplace=("model",))


# --- 05 learning-rate schedules -------------------------------------------------------------------------
def _cosine(a, t, T, amplitude=None, floor=None):
    """floor + amplitude (1 + cos(π t / T)) / 2 (by default lr_min and base_lr - lr_min), as every variant below."""
    floor = a["lr_min"] if floor is None else floor
    amplitude = a["base_lr"] - a["lr_min"] if amplitude is None else amplitude
    return floor + 0.5 * amplitude * (1.0 + math.cos(math.pi * t / T))


def _schedule(a, warm, cool) -> dict:
    """Rates for t = 0..epochs-1: ``warm(t)`` during the warm-up, ``cool(t)`` after it."""
    W = a["warmup"]
    return {"lrs": np.array([warm(t) if t < W else cool(t) for t in range(a["epochs"])])}


def check_warmup_cosine(fn, rng=0) -> CheckResult:
    r"""Exercise (05): linear warm-up, then cosine annealing, as a function of the epoch.

    .. math:: \eta_t = \begin{cases} \eta_0\, \dfrac{t+1}{W+1} & t < W \\[4pt]
              \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\Big(1 + \cos\dfrac{\pi (t - W)}{E - 1 - W}\Big)
              & W \le t \le E - 1 \end{cases}

    The learner writes ``warmup_cosine_lr(t, base_lr, warmup, epochs, lr_min) -> lr``,
    the rate of epoch ``t`` (0-based) in a run of ``epochs`` epochs: the last
    epoch runs at ``lr_min``. The check calls it for every ``t`` and compares
    the whole schedule with :class:`bptutor.optim.WarmupLR` around
    :class:`~bptutor.optim.CosineLR`. Diagnosed: the warm-up starting at the
    full rate, starting at 0, or reaching the full rate one epoch early; the
    cosine spanning all epochs (warm-up included), its clock not shifted by
    the warm-up, skipping its first epoch, not reaching the minimum in the
    last epoch (min at epoch ``epochs``); decaying to 0 instead of ``lr_min``,
    or swinging by ``base_lr`` instead of ``base_lr - lr_min``.
    """
    g = check_rng(rng)
    cases = [Case({"base_lr": round(float(g.uniform(0.2, 1.0)), 3), "warmup": 3, "epochs": 12,
                   "lr_min": 0.01}, "3 warm-up epochs of 12, lr_min 0.01"),
             Case({"base_lr": 0.1, "warmup": 1, "epochs": 6, "lr_min": 0.0},
                  "1 warm-up epoch of 6, lr_min 0")]

    def reference(a):
        opt = SGD([Parameter(np.zeros(1))], lr=a["base_lr"])
        sched = WarmupLR(CosineLR(opt, T_max=a["epochs"] - 1 - a["warmup"], lr_min=a["lr_min"]), a["warmup"])
        return np.array([sched.lr_at(t) for t in range(a["epochs"])])

    def call(fn, a):
        rates = []
        for t in range(a["epochs"]):
            lr = fn(t, a["base_lr"], a["warmup"], a["epochs"], a["lr_min"])
            if lr is None:
                raise _Diagnosed(f"warmup_cosine_lr returned None for t = {t}",
                                 "did you forget `return` in one of the branches?")
            rates.append(float(lr))
        return np.array(rates)

    def lin(a):
        return lambda t: a["base_lr"] * (t + 1) / (a["warmup"] + 1)

    def cos(a, shift=0, T=None, **kw):
        T = a["epochs"] - 1 - a["warmup"] if T is None else T
        return lambda t: _cosine(a, t - a["warmup"] + shift, T, **kw)

    mistakes = (
        Mistake("the warm-up starts at the full rate", "during the warm-up the rate climbs from base_lr / (W + 1) "
                "in epoch 0: base_lr * (t + 1) / (warmup + 1).",
                lambda a, r: _schedule(a, lambda t: a["base_lr"], cos(a))),
        Mistake("the warm-up starts at 0", "base_lr * t / warmup gives epoch 0 a rate of 0: a wasted epoch, and "
                "an optimizer refuses lr = 0. Count from t + 1: base_lr * (t + 1) / (warmup + 1).",
                lambda a, r: _schedule(a, lambda t: a["base_lr"] * t / a["warmup"], cos(a))),
        Mistake("the warm-up reaches the full rate one epoch early", "base_lr * (t + 1) / warmup is already "
                "base_lr at t = warmup - 1, and the cosine repeats it at t = warmup: divide by warmup + 1.",
                lambda a, r: _schedule(a, lambda t: a["base_lr"] * (t + 1) / a["warmup"], cos(a))),
        Mistake("the cosine spans all epochs, warm-up included", "the cosine starts after the warm-up: its "
                "clock is t - warmup and it lasts epochs - 1 - warmup epochs.",
                lambda a, r: _schedule(a, lin(a), cos(a, shift=a["warmup"], T=a["epochs"] - 1))),
        Mistake("the cosine's clock does not start after the warm-up", "use t - warmup inside the cosine, so "
                "that epoch warmup runs at the full rate.", lambda a, r: _schedule(a, lin(a), cos(a, shift=a["warmup"]))),
        Mistake("the cosine skips its first epoch (off by one)", "at t = warmup the cosine's clock is 0 and the "
                "rate is base_lr: use t - warmup, not t - warmup + 1.", lambda a, r: _schedule(a, lin(a), cos(a, 1))),
        Mistake("the cosine does not reach lr_min in the last epoch", "the last epoch is t = epochs - 1, so the "
                "cosine lasts epochs - 1 - warmup epochs, not epochs - warmup.",
                lambda a, r: _schedule(a, lin(a), cos(a, T=a["epochs"] - a["warmup"]))),
        Mistake("the cosine decays to 0, not to lr_min", "add lr_min and swing by base_lr - lr_min: "
                "lr_min + (base_lr - lr_min) (1 + cos(...)) / 2.",
                lambda a, r: _schedule(a, lin(a), cos(a, amplitude=a["base_lr"], floor=0.0))),
        Mistake("the cosine swings by base_lr, not base_lr - lr_min", "it must start at base_lr: "
                "lr_min + (base_lr - lr_min) (1 + cos(...)) / 2.",
                lambda a, r: _schedule(a, lin(a), cos(a, amplitude=a["base_lr"]))),
    )
    return check_outputs(fn, name="warmup_cosine_lr", reference=reference, cases=cases, outputs=("lrs",),
                         mistakes=mistakes, call=call, source="bptutor.optim.WarmupLR(CosineLR(...))")
