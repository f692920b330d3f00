"""Tests for bptutor.exercises.ch05_training: the training-loop checks (05) pass a correct solution and name
each injected mistake."""

import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex
from bptutor.losses import mse_loss


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def sgd_step(params, lr, mode="ok"):
    for p in params:
        if mode == "copy":
            theta = p.data
            theta = theta - lr * p.grad  # noqa: F841 - the mistake: a new array under a local name
        elif mode == "grad":
            p.grad *= lr
            p.data -= p.grad
        else:
            p.data -= {"sign": -lr, "no_lr": 1.0}.get(mode, lr) * p.grad
        if mode == "first":
            return

def train(model, X, y, lr, epochs, batch_size, mode="ok"):
    losses = []
    for _ in range(epochs):
        total, batches = 0.0, []
        for start in range(0, len(X), batch_size):
            if mode != "no_zero_grad":
                model.zero_grad()
            loss, dout = mse_loss(model.forward(X[start:start + batch_size]), y[start:start + batch_size])
            if mode != "no_update":
                model.backward(dout)
            for p in model.parameters():
                p.data -= (-lr if mode == "sign" else lr) * p.grad
            total = loss if mode == "assign" else total + loss
            batches.append(loss)
        if mode == "per_batch":
            losses.extend(batches)
        else:
            losses.append(total if mode == "sum" else total / len(batches))
    return None if mode == "no_return" else losses


def warmup_cosine_lr(t, base_lr, warmup, epochs, lr_min, mode="ok"):
    import math
    if t < warmup:
        if mode == "full":
            return base_lr
        if mode == "from_zero":
            return base_lr * t / warmup
        return base_lr * (t + 1) / (warmup if mode == "early" else warmup + 1)
    T = epochs - 1 - warmup
    clock = t - warmup
    if mode == "all_epochs":
        clock, T = t, epochs - 1
    elif mode == "no_shift":
        clock = t
    elif mode == "skip_first":
        clock = t - warmup + 1
    elif mode == "no_min":
        T = epochs - warmup
    low, swing = lr_min, base_lr - lr_min
    if mode == "to_zero":
        low, swing = 0.0, base_lr
    elif mode == "swing":
        swing = base_lr
    return low + 0.5 * swing * (1 + math.cos(math.pi * clock / T))


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_sgd_step, sgd_step, [
        ({"mode": "sign"}, "sign error"), ({"mode": "no_lr"}, "forgot the learning rate"),
        ({"mode": "copy"}, "never stored"), ({"mode": "first"}, "only the first parameter"),
        ({"mode": "grad"}, "gradient was changed")]),
    (ex.check_training_loop, train, [
        ({"mode": "no_zero_grad"}, "never zeroed"), ({"mode": "assign"}, "only the last batch"),
        ({"mode": "sum"}, "a sum, not a mean"), ({"mode": "per_batch"}, "one loss per batch"),
        ({"mode": "sign"}, "sign error"), ({"mode": "no_update"}, "never changed"),
        ({"mode": "no_return"}, "forget `return losses`")]),
    (ex.check_warmup_cosine, warmup_cosine_lr, [
        ({"mode": "full"}, "starts at the full rate"), ({"mode": "from_zero"}, "starts at 0"),
        ({"mode": "early"}, "one epoch early"), ({"mode": "all_epochs"}, "spans all epochs"),
        ({"mode": "no_shift"}, "does not start after the warm-up"), ({"mode": "skip_first"}, "skips its first"),
        ({"mode": "no_min"}, "does not reach lr_min"), ({"mode": "to_zero"}, "decays to 0"),
        ({"mode": "swing"}, "swings by base_lr")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)




def test_data_shuffled_in_place_or_a_changed_params_list_is_refused():
    import numpy as np

    def shuffling_train(model, X, y, lr, epochs, batch_size):
        order = np.random.default_rng(0).permutation(len(X))
        X[...], y[...] = X[order], y[order]  # shuffles the caller's data: only model may change
        return train(model, X, y, lr, epochs, batch_size)

    result = ex.check_training_loop(shuffling_train)
    assert not result.passed and "train changed its input `X` in place" in result.message, str(result)

    def popping_step(params, lr):
        while params:
            p = params.pop()
            p.data -= lr * p.grad

    result = ex.check_sgd_step(popping_step)
    assert not result.passed and "sgd_step changed the list params itself" in result.message
    # the documented in-place update of p.data, written with a slice assignment, passes
    assert ex.check_sgd_step(lambda params, lr: [p.data.__setitem__(..., p.data - lr * p.grad)
                                                 for p in params] and None).passed


def test_warmup_cosine_written_other_ways_passes():
    import numpy as np

    def as_float32(t, base_lr, warmup, epochs, lr_min):
        return np.float32(warmup_cosine_lr(t, base_lr, warmup, epochs, lr_min))

    def by_interpolation(t, base_lr, warmup, epochs, lr_min):
        # the warm-up as np.interp on the line through (-1, 0) and (warmup, base_lr); the cosine as a mix
        if t < warmup:
            return float(np.interp(t, [-1, warmup], [0.0, base_lr]))
        frac = (1 - np.cos(np.pi * (t - warmup) / (epochs - 1 - warmup))) / 2   # 0 -> 1
        return (1 - frac) * base_lr + frac * lr_min

    assert ex.check_warmup_cosine(as_float32).passed
    assert ex.check_warmup_cosine(by_interpolation).passed
    assert ex.check_warmup_cosine(lambda t, *rest: None).diagnosis is not None
