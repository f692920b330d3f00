"""Tests of bptutor.training: fit (end to end, stopping, divergence, callbacks, bad inputs) and History.

Mini-batches are tested in test_batching.py; predict, evaluate, accuracy and confusion_matrix in
test_evaluation.py."""
import math
import pickle
import time

import numpy as np
import pytest

from bptutor.activations import ReLU, Sigmoid, Tanh
from bptutor.datasets import (binary_targets, load_digits, make_moons, make_noisy_sine, make_xor, to_memmap,
                              train_val_test_split)
from bptutor.layers import Linear, Sequential
from bptutor.losses import cross_entropy_loss
from bptutor.optim import SGD, Adam
from bptutor.regularization import L2, Dropout, EarlyStopping
from bptutor.training import History, TrainingDiverged, evaluate, fit


def mlp(sizes, seed=0, act=Tanh):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b, rng=seed + i))
        if i < len(sizes) - 2:
            layers.append(act())
    return Sequential(*layers)


def params_finite(model):
    return all(np.all(np.isfinite(p.data)) for p in model.parameters())


@pytest.fixture(scope="module")
def moons():
    return make_moons(200, noise=0.1, rng=0)


# --- fit: end to end --------------------------------------------------------------------------------------

def test_fit_solves_xor():
    X, y = make_xor()
    model = Sequential(Linear(2, 4, rng=0), Tanh(), Linear(4, 1, rng=1), Sigmoid())
    history = fit(model, "bce", Adam(model.parameters(), lr=0.05), X, binary_targets(y), epochs=500,
                  progress=False)
    assert history.train_acc[-1] == 1.0
    assert evaluate(model, "bce", X, binary_targets(y))["accuracy"] == 1.0
    assert history.train_loss[-1] < 0.05 < history.train_loss[0]
    assert history.epochs_run == 500 and history.stopped_reason == "completed all 500 epochs"


def test_fit_reaches_97_percent_on_two_moons(moons):
    X, y = moons
    model = mlp((2, 16, 16, 2))
    history = fit(model, "cross_entropy", Adam(model.parameters(), lr=0.02), X, y, epochs=200,
                  batch_size=32, progress=False)
    assert history.train_acc[-1] >= 0.97
    assert evaluate(model, "cross_entropy", X, y)["accuracy"] >= 0.97


def test_fit_reaches_95_percent_test_accuracy_on_the_digits():
    X, y = load_digits()
    (Xtr, ytr), (Xv, yv), (Xte, yte) = train_val_test_split(X / 16.0, y, rng=0)
    model = mlp((64, 64, 10), act=ReLU)
    start = time.perf_counter()
    history = fit(model, "cross_entropy", Adam(model.parameters(), lr=3e-3), Xtr, ytr, epochs=20,
                  batch_size=32, validation=(Xv, yv), progress=False, rng=0)
    seconds = time.perf_counter() - start
    test = evaluate(model, "cross_entropy", Xte, yte)
    print(f"digits: test accuracy {test['accuracy']:.4f} after {seconds:.2f} s of training")
    assert test["accuracy"] >= 0.95
    assert history.val_acc[-1] >= 0.93 and len(history.val_loss) == 20


def test_same_seed_gives_the_same_history(moons):
    X, y = moons

    def run(seed):
        model = Sequential(Linear(2, 16, rng=0), Tanh(), Dropout(0.2, rng=1), Linear(16, 2, rng=2))
        return fit(model, "cross_entropy", Adam(model.parameters(), lr=0.01), X, y, epochs=5, batch_size=16,
                   validation=(X[:50], y[:50]), progress=False, rng=seed)

    first, second = run(3), run(3)
    assert first == second
    assert first.train_loss != run(4).train_loss  # the shuffle does matter


def test_memmap_streaming_gives_the_same_result_as_memory(moons, tmp_path):
    X, y = moons
    X32 = X.astype(np.float32)
    mm = to_memmap(X, tmp_path / "moons.npy")

    def run(data):
        model = mlp((2, 8, 2))
        history = fit(model, "cross_entropy", Adam(model.parameters(), lr=0.01), data, y, epochs=5,
                      batch_size=16, validation=(data, y), progress=False, rng=0)
        return history, model.state_dict()

    (h_mem, s_mem), (h_disk, s_disk) = run(X32), run(mm)
    assert h_mem == h_disk
    for name in s_mem:
        np.testing.assert_array_equal(s_mem[name], s_disk[name])


# --- fit: bookkeeping -----------------------------------------------------------------------------------

def test_epoch_loss_is_the_size_weighted_mean_of_its_batches():
    X, y = make_moons(10, noise=0.1)
    model = mlp((2, 4, 2))
    history = fit(model, "cross_entropy", SGD(model.parameters(), lr=0.1), X, y, epochs=3, batch_size=4,
                  progress=False)
    steps = np.array(history.step_losses).reshape(3, 3)  # batches of 4, 4 and 2 rows
    np.testing.assert_allclose(history.train_loss, steps @ [0.4, 0.4, 0.2], rtol=1e-14)
    assert history.epochs_run == 3 and list(history.grad_norms) == ["0", "2"]
    assert all(len(v) == 3 for v in history.grad_norms.values())


def test_one_full_batch_epoch_matches_the_update_by_hand():
    X, y = make_moons(20, noise=0.1)
    model, reference = mlp((2, 3, 2)), mlp((2, 3, 2))
    lr, lam = 0.5, 0.1
    # by hand: loss + lam/2 ||W||^2, gradient dW + lam W, one SGD step
    out = reference.forward(X)
    data_loss, dout = cross_entropy_loss(out, y)
    reference.backward(dout)
    norms = {k: math.sqrt(sum(np.sum(p.grad ** 2) for p in (reference[int(k)].W, reference[int(k)].b)))
             for k in ("0", "2")}
    penalty = lam / 2 * sum(np.sum(reference[i].W.data ** 2) for i in (0, 2))
    expected = {name: p.data - lr * (p.grad + (lam * p.data if name.endswith("W") else 0))
                for name, p in reference.named_parameters()}
    history = fit(model, "cross_entropy", SGD(model.parameters(), lr=lr), X, y, epochs=1,
                  regularizer=L2(lam), progress=False)
    assert history.train_loss == [pytest.approx(data_loss + penalty, rel=1e-14)]
    assert history.step_losses == [pytest.approx(history.train_loss[0], rel=1e-15)]
    for k in norms:  # the backpropagated gradient, before the penalty's
        assert history.grad_norms[k] == [pytest.approx(norms[k], rel=1e-12)]
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, expected[name], rtol=1e-13, atol=1e-15)


def test_stochastic_fit_makes_one_update_per_row():
    X, y = make_xor()
    model = mlp((2, 4, 2))
    history = fit(model, "cross_entropy", SGD(model.parameters(), lr=0.1), X, y, epochs=3, batch_size=1,
                  progress=False)
    assert len(history.step_losses) == 12 and len(history.train_loss) == 3


def test_regression_history_has_nan_accuracy():
    x, t = make_noisy_sine(10, rng=0)
    model = mlp((1, 8, 1))
    history = fit(model, "mse", Adam(model.parameters(), lr=0.01), x, t, epochs=3, progress=False)
    assert all(math.isnan(a) for a in history.train_acc) and history.train_loss[-1] < history.train_loss[0]


def test_progress_bar_in_a_terminal(capsys):
    X, y = make_xor()
    model = mlp((2, 4, 2))
    fit(model, "cross_entropy", Adam(model.parameters()), X, y, epochs=7, progress=True)
    err = capsys.readouterr().err
    assert "fit" in err and "7/7" in err and "epoch" in err and "train_loss" in err
    fit(model, "cross_entropy", Adam(model.parameters()), X, y, epochs=7, progress=False)
    assert capsys.readouterr().err == ""


def test_fit_restores_the_models_mode():
    X, y = make_xor()
    model = mlp((2, 4, 2)).eval()
    fit(model, "cross_entropy", Adam(model.parameters()), X, y, epochs=2, progress=False)
    assert not model.training


# --- fit: stopping ----------------------------------------------------------------------------------------

def test_loss_threshold_stops_at_the_first_epoch_below_it():
    X, y = make_xor()
    model = mlp((2, 4, 2))
    history = fit(model, "cross_entropy", Adam(model.parameters(), lr=0.05), X, y, epochs=1000,
                  loss_threshold=0.1, progress=False)
    assert history.train_loss[-1] <= 0.1 < min(history.train_loss[:-1])
    assert history.epochs_run == len(history.train_loss) < 1000
    assert history.stopped_reason.startswith(f"loss threshold: the training loss {history.train_loss[-1]:.4g} "
                                             f"reached 0.1 after epoch {history.epochs_run - 1}")


def test_plateau_stops_after_patience_epochs_without_gain(moons):
    X, y = moons
    model = mlp((2, 4, 2))
    # lr so small that the loss moves by far less than 0.1% per epoch: epoch 0 sets the best, then 5 without gain
    history = fit(model, "cross_entropy", SGD(model.parameters(), lr=1e-9), X, y, epochs=100,
                  plateau_patience=5, progress=False)
    assert history.epochs_run == 6
    assert history.stopped_reason.startswith("plateau: the training loss improved by less than 0.10% for 5 epochs")
    # a run that keeps improving is not stopped by the same rule
    model = mlp((2, 4, 2))
    history = fit(model, "cross_entropy", Adam(model.parameters(), lr=0.01), X, y, epochs=20,
                  plateau_patience=5, progress=False)
    assert history.epochs_run == 20 and history.stopped_reason == "completed all 20 epochs"


def test_callbacks_follow_the_protocol_and_can_stop(moons):
    X, y = moons

    class Recorder:
        def __init__(self, stop_at=None):
            self.calls, self.stop_at = [], stop_at

        def on_epoch_end(self, model, epoch, logs):
            self.calls.append((epoch, sorted(logs)))
            return epoch == self.stop_at

    first, second = Recorder(stop_at=2), Recorder()
    model = mlp((2, 4, 2))
    history = fit(model, "cross_entropy", Adam(model.parameters()), X, y, epochs=10,
                  validation=(X, y), callbacks=[first, second], progress=False)
    keys = ["train_acc", "train_loss", "val_acc", "val_loss"]
    assert first.calls == second.calls == [(0, keys), (1, keys), (2, keys)]  # both called, even at the stop
    assert history.epochs_run == 3
    assert history.stopped_reason == "callback: Recorder stopped training after epoch 2"


def test_early_stopping_restores_the_best_weights(moons):
    X, y = moons
    (Xtr, ytr), (Xv, yv), _ = train_val_test_split(X, y, val=0.3, test=0.0, rng=0)
    model = mlp((2, 32, 2))
    stopper = EarlyStopping(patience=3)
    history = fit(model, "cross_entropy", SGD(model.parameters(), lr=5.0), Xtr, ytr, epochs=200,
                  validation=(Xv, yv), callbacks=[stopper], progress=False)
    assert history.stopped_reason.startswith("callback: early stopping: val_loss did not improve for 3 epochs")
    assert history.epochs_run == stopper.best_epoch + 4
    assert evaluate(model, "cross_entropy", Xv, yv)["loss"] == pytest.approx(history.val_loss[stopper.best_epoch])


# --- fit: divergence --------------------------------------------------------------------------------------

def test_huge_learning_rate_raises_training_diverged(moons):
    X, y = moons
    model = mlp((2, 16, 2))
    with pytest.raises(TrainingDiverged) as info:
        fit(model, "cross_entropy", SGD(model.parameters(), lr=1e4), X, y, epochs=50, progress=False)
    exc = info.value
    assert isinstance(exc, RuntimeError)
    assert exc.lr == 1e4 and exc.epoch == 1 and exc.step == 1  # full batch: one step per epoch
    assert not math.isfinite(exc.loss) or exc.loss > 1e3
    message = str(exc)
    assert f"at epoch {exc.epoch}, step {exc.step}" in message
    assert "lr = 10000" in message and "try a smaller learning rate, e.g. lr = 1000" in message
    assert params_finite(model)


def test_divergence_stops_before_the_update_that_saw_nan():
    X, y = make_moons(20, noise=0.1)
    model = mlp((2, 4, 2))
    snapshots = []

    def loss(out, target):  # cross-entropy that turns NaN on its 6th call
        snapshots.append(model.state_dict())
        value, dout = cross_entropy_loss(out, target)
        return (math.nan if len(snapshots) == 6 else value), dout

    with pytest.raises(TrainingDiverged, match=r"at epoch 1, step 5: the loss became nan with learning rate "
                                               r"lr = 0\.1\. The update was not applied") as info:
        fit(model, loss, SGD(model.parameters(), lr=0.1), X, y, epochs=3, batch_size=8, progress=False)
    assert info.value.step == 5 and math.isnan(info.value.loss)
    for name, value in model.state_dict().items():  # the weights the NaN was computed with
        np.testing.assert_array_equal(value, snapshots[-1][name])


def test_non_finite_gradient_is_caught_before_the_update():
    X, y = make_moons(20, noise=0.1)
    model = mlp((2, 4, 2))
    before = model.state_dict()

    def loss(out, target):
        value, dout = cross_entropy_loss(out, target)
        return value, dout * np.inf

    with pytest.raises(TrainingDiverged, match=r"at epoch 0, step 0: the gradient of layer '2' became "
                                               r"(nan|inf) \(loss 0\.\d+\) with learning rate lr = 0\.1"):
        fit(model, loss, SGD(model.parameters(), lr=0.1), X, y, epochs=3, progress=False)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_nan_in_streamed_data_is_blamed_on_the_data(tmp_path):
    X, y = make_moons(20, noise=0.1)
    X[3, 1] = np.nan
    model = mlp((2, 4, 2))
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"fit expected X to be finite, got 1 NaN or infinite entry"):
        fit(model, "cross_entropy", opt, X, y, epochs=1, progress=False)
    mm = to_memmap(X, tmp_path / "bad.npy")  # memmaps are not scanned up front
    with pytest.raises(ValueError, match=r"fit found NaN or infinite values in X in the batch of epoch 0, "
                                         r"step 0: the data, not the learning rate, is the problem"):
        fit(model, "cross_entropy", opt, mm, y, epochs=1, progress=False)


def test_training_diverged_pickles_and_keeps_its_fields():
    exc = pickle.loads(pickle.dumps(TrainingDiverged(2, 17, 0.5, math.inf)))
    assert (exc.epoch, exc.step, exc.lr, exc.loss) == (2, 17, 0.5, math.inf)
    assert "epoch 2, step 17: the loss became inf with learning rate lr = 0.5" in str(exc)
    assert "e.g. lr = 0.05" in str(exc)


# --- fit: bad inputs ----------------------------------------------------------------------------------------

def _bad_fit_calls():
    X, y = make_xor()
    model = mlp((2, 4, 2))
    other = mlp((2, 4, 2))
    opt = SGD(model.parameters())
    ok = dict(model=model, loss="cross_entropy", optimizer=opt, X=X, y=y)
    return [
        (dict(ok, y=y[:3]), ValueError, r"fit expected y with 4 rows \(one per row of X\), got shape \(3,\)"),
        (dict(ok, batch_size=0), ValueError, r"fit expected batch_size >= 1, got 0"),
        (dict(ok, epochs=0), ValueError, r"fit expected epochs >= 1, got 0"),
        (dict(ok, epochs=2.5), TypeError, r"fit expected epochs to be an integer, got 2.5"),
        (dict(ok, loss="hinge"), ValueError, r"fit expected loss to be one of \['bce', 'bce_logits', "
                                             r"'cross_entropy', 'mse'\] or a function \(pred, y\) -> \(loss, "
                                             r"dout\), got 'hinge'"),
        (dict(ok, loss=3), TypeError, r"fit expected loss to be one of .* got 3"),
        (dict(ok, optimizer=SGD(other.parameters())), ValueError,
         r"fit expected the optimizer to update this model's parameters, but its params\[0\] is not one of "
         r"them \(an optimizer made for another model\?\)"),
        (dict(ok, optimizer="adam"), TypeError, r"fit expected optimizer to be an optimizer with step\(\)"),
        (dict(ok, model=lambda X: X), TypeError, r"fit expected model to be a bptutor Module"),
        (dict(ok, validation=X), TypeError, r"fit expected validation to be a pair \(X_val, y_val\) or None"),
        (dict(ok, validation=(X, y[:2])), ValueError,
         r"fit \(validation data\) expected y_val with 4 rows \(one per row of X_val\), got shape \(2,\)"),
        (dict(ok, callbacks=[object()]), TypeError, r"fit expected callbacks\[0\] to have a method "
                                                    r"on_epoch_end\(model, epoch, logs\) -> bool"),
        (dict(ok, callbacks=EarlyStopping()), TypeError, r"fit expected callbacks to be a list"),
        (dict(ok, regularizer=0.1), TypeError, r"fit expected regularizer to have penalty\(params\) and "
                                               r"add_grad\(params\)"),
        (dict(ok, progress="yes"), TypeError, r"fit expected progress to be True or False, got 'yes'"),
        (dict(ok, rng=None), TypeError, r"expected rng to be a numpy.random.Generator"),
        (dict(ok, loss_threshold=float("nan")), ValueError, r"fit expected loss_threshold to be finite, got nan"),
        (dict(ok, plateau_patience=0), ValueError, r"fit expected plateau_patience >= 1, got 0"),
        (dict(ok, plateau_rtol=1.0), ValueError, r"fit expected plateau_rtol < 1.0, got 1.0"),
        (dict(ok, X=np.zeros((0, 2)), y=np.zeros(0)), ValueError, r"fit expected X with at least one row"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_fit_calls())))
def test_fit_refuses_bad_inputs(case):
    kwargs, error, message = _bad_fit_calls()[case]
    kwargs = {"epochs": 1, "progress": False, **kwargs}
    with pytest.raises(error, match=message):
        fit(**kwargs)


def test_history_defaults_are_independent():
    a, b = History(), History()
    a.train_loss.append(1.0)
    assert b.train_loss == [] and b.stopped_reason == ""
