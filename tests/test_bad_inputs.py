"""Bad inputs across the public API, the widget builders and the command lines.

Three rules from the reliability issue, checked case by case:

1. every refusal is a ``TypeError``/``ValueError`` (or a named bptutor error)
   raised by bptutor whose message names the argument and what came;
2. a call that fails has changed nothing: parameters, gradients, optimizer
   state (Adam's ``t`` included), the model's mode and caches, files on disk
   are compared before and after (deep copies);
3. no silent wrong values at extreme inputs (the pinned behaviours at the end).
"""
from __future__ import annotations

import copy
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bptutor import activations as act
from bptutor import datasets, gradcheck, init, losses, optim, regularization, training
from bptutor.engine import Value
from bptutor.layers import Linear, Module, Parameter, Sequential
from bptutor.scalar_nn import MLP, Neuron
from bptutor.training import TrainingDiverged, evaluate, fit, predict

ROOT = Path(__file__).resolve().parents[1]


# --- helpers -----------------------------------------------------------------------------------------

def net(sizes=(2, 4, 3), seed=0):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b, rng=seed + i))
        if i < len(sizes) - 2:
            layers.append(act.Tanh())
    return Sequential(*layers)


def state(*objects) -> list:
    """Deep copies of everything a failed call could have changed."""
    out = []
    for obj in objects:
        if isinstance(obj, Module):
            mods, stack = [], [obj]
            while stack:
                m = stack.pop()
                mods.append({k: v for k, v in vars(m).items()  # caches, masks, modes (parameters below)
                             if k not in ("_params", "_modules", "layers")
                             and not isinstance(v, (Parameter, Module, np.random.Generator))})
                stack.extend(sub for _, sub in getattr(m, "_modules", []))
            out.append({"params": [(n, p.data.copy(), copy.deepcopy(p.grad)) for n, p in obj.named_parameters()],
                        "modules": copy.deepcopy(mods)})
        elif isinstance(obj, optim.Optimizer):
            own = {k: v for k, v in vars(obj).items() if k != "params"}
            out.append({"own": copy.deepcopy(own),
                        "params": [(np.array(p.data, copy=True), copy.deepcopy(p.grad)) for p in obj.params]})
        elif isinstance(obj, Path):
            out.append(sorted((str(f.relative_to(obj)), f.read_bytes() if f.is_file() else None)
                              for f in obj.rglob("*")))
        else:
            out.append(copy.deepcopy(obj))
    return out


def same(a, b) -> None:
    np.testing.assert_equal(a, b)  # nested lists/dicts of arrays; NaN equals NaN


def trained(opt_cls, **kw):
    """A model and an optimizer after one good step, so that every state is non-zero (Adam's t = 1)."""
    model = net()
    opt = opt_cls(model.parameters(), **kw)
    for p in model.parameters():
        p.grad[...] = 0.1
    opt.step()
    return model, opt


OPTIMIZERS = [optim.SGD, optim.Momentum, optim.Nesterov, optim.AdaGrad, optim.RMSProp, optim.Adam, optim.AdamW]


# --- 1. optimizers: one bad gradient anywhere, nothing changes -----------------------------------------

def _wrong_shape(ps):
    ps[2].grad = np.ones(ps[2].data.shape[1])          # (3,) for a (4, 3) weight: would broadcast


def _nan_last(ps):
    ps[-1].grad[...] = np.nan


def _strings(ps):
    ps[1].grad = np.array(["a"] * ps[1].data.size).reshape(ps[1].data.shape)


def _none(ps):
    ps[3].grad = None


def _inf_first(ps):
    ps[0].grad[0, 0] = np.inf


BAD_GRADS = {
    "wrong shape": (_wrong_shape, ValueError, r"expected params\[2\]\.grad of shape \(4, 3\).*got \(3,\)"),
    "NaN in the last": (_nan_last, ValueError, r"expected params\[3\]\.grad to be finite, got 3 NaN"),
    "strings": (_strings, TypeError, r"expected params\[1\]\.grad to hold real numbers, got dtype <U1"),
    "None": (_none, TypeError, r"expected params\[3\]\.grad to be an array of shape \(3,\), got None"),
    "inf in the first": (_inf_first, ValueError, r"expected params\[0\]\.grad to be finite, got 1 NaN"),
}


@pytest.mark.parametrize("bad", BAD_GRADS, ids=list(BAD_GRADS))
@pytest.mark.parametrize("opt_cls", OPTIMIZERS, ids=[c.__name__ for c in OPTIMIZERS])
def test_optimizer_step_with_a_bad_gradient_changes_nothing(opt_cls, bad):
    model, opt = trained(opt_cls, lr=0.1)
    spoil, error, message = BAD_GRADS[bad]
    for p in model.parameters():
        p.grad[...] = 0.2
    spoil(model.parameters())
    before = state(model, opt)
    with pytest.raises(error, match=rf"{opt_cls.__name__}\.step {message}"):
        opt.step()
    same(state(model, opt), before)
    if opt_cls is optim.Adam:
        assert opt.t == 1


@pytest.mark.parametrize("opt_cls", [optim.SGD, optim.Adam], ids=["SGD", "Adam"])
def test_optimizer_step_with_a_nan_value_gradient_changes_nothing(opt_cls):
    a, b = Value(1.0), Value(2.0)
    opt = opt_cls([a, b], lr=0.1)
    a.grad, b.grad = 0.5, math.nan
    before = state(opt)
    with pytest.raises(ValueError, match=r"expected params\[1\]\.grad to be finite, got nan"):
        opt.step()
    same(state(opt), before)
    assert (a.data, b.data) == (1.0, 2.0)


def test_optimizer_step_refuses_a_learning_rate_spoiled_after_construction():
    model, opt = trained(optim.Momentum, lr=0.1)
    opt.lr = -1.0
    before = state(model, opt)
    with pytest.raises(ValueError, match=r"Momentum\.step expected lr >= 0.0, got -1.0"):
        opt.step()
    same(state(model, opt), before)


def test_a_subclass_cannot_bypass_the_checks_by_overriding_step():
    with pytest.raises(TypeError, match="overrides Optimizer.step; implement _update"):
        class Sloppy(optim.SGD):  # noqa: F841
            def step(self):
                pass


# --- 2. load_state_dict: one loop checks, one loop writes ---------------------------------------------

def _good_state(model):
    return {name: p.data + 1.0 for name, p in model.named_parameters()}


LOAD_CASES = {
    "a string array in the last entry": (lambda s: s.__setitem__("2.b", np.array(["x", "y", "z"])), TypeError,
                                         r"state\['2\.b'\] to be an array of real numbers, got dtype <U1"),
    "None": (lambda s: s.__setitem__("2.W", None), TypeError, r"state\['2\.W'\] to be an array of numbers, got None"),
    "a string": (lambda s: s.__setitem__("0.b", "zeros"), TypeError, r"state\['0\.b'\].*got 'zeros'"),
    "objects": (lambda s: s.__setitem__("2.b", np.array([None, 1, 2], dtype=object)), TypeError,
                r"state\['2\.b'\].*got dtype object"),
    "a wrong shape": (lambda s: s.__setitem__("2.W", np.ones((3, 4))), ValueError,
                      r"state\['2\.W'\] of shape \(4, 3\), got \(3, 4\)"),
    "NaN": (lambda s: s["2.b"].__setitem__(0, np.nan), ValueError, r"state\['2\.b'\] to be finite, got 1 NaN"),
    "a missing key": (lambda s: s.pop("2.b"), ValueError, r"missing \['2\.b'\], unexpected \[\]"),
    "an extra key": (lambda s: s.__setitem__("3.W", np.ones(2)), ValueError, r"missing \[\], unexpected \['3\.W'\]"),
    "bools": (lambda s: s.__setitem__("2.b", np.array([True, False, True])), TypeError,
              r"state\['2\.b'\].*got dtype bool"),
}


@pytest.mark.parametrize("case", LOAD_CASES, ids=list(LOAD_CASES))
def test_load_state_dict_checks_every_entry_before_writing_any(case):
    model = net()
    bad = _good_state(model)
    spoil, error, message = LOAD_CASES[case]
    spoil(bad)
    before = state(model)
    with pytest.raises(error, match=rf"load_state_dict expected .*{message}|load_state_dict .*{message}"):
        model.load_state_dict(bad)
    same(state(model), before)


def test_load_state_dict_refuses_a_list():
    model = net()
    with pytest.raises(TypeError, match=r"load_state_dict expected state to be a dict .*got list of length 2"):
        model.load_state_dict([1, 2])


# --- 3. fit: everything checked before the first update ----------------------------------------------

def _data(n=40, seed=0):
    X, y = datasets.make_spirals(n, n_classes=3, noise=0.1, rng=seed)
    return X, y


def _fit_case(change):
    X, y = _data()
    Xv, yv = _data(12, seed=1)
    kwargs = dict(X=X, y=y, validation=(Xv, yv), epochs=3, batch_size=8, progress=False)
    change(kwargs)
    return kwargs


def _set(key, value):
    return lambda kw: kw.__setitem__(key, value)


def _last_label(value):
    def change(kw):
        y = kw["y"].copy()
        y[-1] = value
        kw["y"] = y
    return change


def _val(transform):
    def change(kw):
        kw["validation"] = transform(*kw["validation"])
    return change


def _nan_val_x(Xv, yv):
    Xv = Xv.copy()
    Xv[5, 1] = np.nan
    return Xv, yv


FIT_CASES = {
    "label 3 in the last batch": (_last_label(3), ValueError,
                                  r"fit found a problem with the training targets y before training.*"
                                  r"y in the range 0 to 2, got values from 0 to 3"),
    "label -1": (_last_label(-1), ValueError, r"training targets y.*got values from -1 to 2"),
    "validation labels outside the classes": (_val(lambda Xv, yv: (Xv, yv + 5)), ValueError,
                                              r"validation targets y_val before training.*got values from 5 to 7"),
    "validation of another width": (_val(lambda Xv, yv: (np.ones((12, 3)), yv)), ValueError,
                                    r"fit \(validation data\) expected X_val with rows of shape \(2,\) like the "
                                    r"training X, got shape \(12, 3\)"),
    "validation with NaN": (_val(_nan_val_x), ValueError,
                            r"fit \(validation data\) expected X_val to be finite, got 1 NaN or infinite entry"),
    "validation rows mismatch": (_val(lambda Xv, yv: (Xv, yv[:5])), ValueError,
                                 r"fit \(validation data\) expected y_val with 12 rows \(one per row of X_val\), "
                                 r"got shape \(5,\)"),
    "validation not a pair": (_val(lambda Xv, yv: [Xv, yv]), TypeError,
                              r"fit expected validation to be a pair \(X_val, y_val\) or None, got list"),
    "one-hot validation of the wrong width": (_val(lambda Xv, yv: (Xv, np.eye(4)[yv])), ValueError,
                                              r"validation targets y_val.*y of shape \(12,\) \(integer labels\) "
                                              r"or \(12, 3\) \(one-hot\), got \(12, 4\)"),
    "NaN in X": (lambda kw: kw["X"].__setitem__((0, 0), np.nan), ValueError,
                 r"fit expected X to be finite, got 1 NaN or infinite entry"),
    "X of another width": (lambda kw: kw.update(X=np.ones((40, 5)), validation=None), ValueError,
                           r"the model does not accept the training X: Linear\(2, 4\) expected X of shape "
                           r"\(N, 2\), got \(1, 5\)"),
    "y with fewer rows": (lambda kw: kw.__setitem__("y", kw["y"][:10]), ValueError,
                          r"fit expected y with 40 rows \(one per row of X\), got shape \(10,\)"),
    "y of strings": (_set("y", np.array(["a"] * 40)), TypeError, r"fit expected y to be an array of numbers, got dtype <U1"),
    "epochs 0": (_set("epochs", 0), ValueError, r"fit expected epochs >= 1, got 0"),
    "epochs 2.5": (_set("epochs", 2.5), TypeError, r"fit expected epochs to be an integer, got 2\.5"),
    "batch_size 0": (_set("batch_size", 0), ValueError, r"fit expected batch_size >= 1, got 0"),
    "progress 'yes'": (_set("progress", "yes"), TypeError, r"fit expected progress to be True or False, got 'yes'"),
    "callbacks of the wrong kind": (_set("callbacks", [42]), TypeError, r"fit expected callbacks\[0\] to have a method"),
    "plateau_rtol 1": (_set("plateau_rtol", 1.0), ValueError, r"fit expected plateau_rtol < 1.0, got 1.0"),
    "regularizer without penalty": (_set("regularizer", "L2"), TypeError, r"fit expected regularizer to have penalty"),
    "rng None": (_set("rng", None), TypeError, r"expected rng to be a numpy.random.Generator .*got None"),
}


@pytest.mark.parametrize("case", FIT_CASES, ids=list(FIT_CASES))
def test_fit_refuses_before_the_first_update(case):
    change, error, message = FIT_CASES[case]
    model = net()
    opt = optim.Adam(model.parameters(), lr=0.01)
    kwargs = _fit_case(change)
    before = state(model, opt)
    with pytest.raises(error, match=message):
        fit(model, "cross_entropy", opt, **kwargs)
    same(state(model, opt), before)


@pytest.mark.parametrize("loss, message", [
    ("hinge", r"fit expected loss to be one of \[.*\] or a function .*got 'hinge'"),
    (3, r"fit expected loss to be one of \[.*\] or a function .*got 3"),
])
def test_fit_refuses_an_unknown_loss(loss, message):
    model = net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    X, y = _data()
    before = state(model, opt)
    with pytest.raises((ValueError, TypeError), match=message):
        fit(model, loss, opt, X, y, progress=False)
    same(state(model, opt), before)


def test_fit_refuses_an_optimizer_of_another_model():
    model, other = net(), net(seed=5)
    opt = optim.SGD(other.parameters(), lr=0.1)
    X, y = _data()
    before = state(model, other, opt)
    with pytest.raises(ValueError, match=r"fit expected the optimizer to update this model's parameters, but its "
                                         r"params\[0\] is not one of them"):
        fit(model, "cross_entropy", opt, X, y, progress=False)
    same(state(model, other, opt), before)


def test_fit_bce_targets_outside_zero_one_are_found_before_training():
    model = Sequential(Linear(2, 1, rng=0), act.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.1)
    X, y = datasets.make_moons(20, rng=0)
    y = y.reshape(-1, 1).astype(float)
    y[-1] = 2.0
    before = state(model, opt)
    with pytest.raises(ValueError, match=r"training targets y.*bce_loss expected y in \[0, 1\], got values from 0 to 2"):
        fit(model, "bce", opt, X, y, batch_size=4, progress=False)
    same(state(model, opt), before)


def test_a_nan_validation_loss_is_refused_not_recorded():
    """Finite but huge validation inputs overflow the forward pass: the NaN is refused with an explanation."""
    model = net((2, 3))
    opt = optim.SGD(model.parameters(), lr=0.01)
    X, y = _data()
    Xv = np.full((4, 2), 1e308)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged, match=r"fit stopped after epoch 0: the "
                                                  r"validation loss became inf after this epoch") as info:
        fit(model, "cross_entropy", opt, X, y, validation=(Xv, np.zeros(4, dtype=int)), progress=False)
    assert isinstance(info.value, training.ValidationDiverged) and "X_val" in str(info.value)
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_the_probe_forward_leaves_dropout_and_caches_alone():
    """fit's probe of the output width runs in eval mode and puts every attribute back."""
    model = Sequential(Linear(2, 4, rng=0), regularization.Dropout(0.5, rng=3), Linear(4, 3, rng=1))
    model.forward(np.ones((5, 2)))  # caches and a dropout mask from an earlier pass
    rng_state = copy.deepcopy(model[1].rng.bit_generator.state)
    before = state(model)
    X, y = _data()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="training targets y"):
        fit(model, "cross_entropy", opt, X, y + 3, progress=False)
    same(state(model), before)
    assert model[1].rng.bit_generator.state == rng_state and model.training


# --- 4. predict, evaluate, accuracy, confusion matrix, mini-batches --------------------------------------

TRAINING_CASES = [
    (lambda: evaluate(net(), "cross_entropy", np.array([[np.nan, 0.0]]), [0]), ValueError,
     r"evaluate expected X to be finite, got 1 NaN or infinite entry"),
    (lambda: evaluate(net(), "mse", np.ones((2, 2)), np.array([[0, 1, np.inf]] * 2)), ValueError,
     r"evaluate expected y to be finite, got 2 NaN or infinite entries"),
    (lambda: evaluate(net(), "hinge", np.ones((2, 2)), [0, 1]), ValueError, r"evaluate expected loss .*got 'hinge'"),
    (lambda: evaluate("model", "mse", np.ones((2, 2)), [0, 1]), TypeError,
     r"evaluate expected model to be a bptutor Module .*got 'model'"),
    (lambda: predict(net(), np.ones((0, 2))), ValueError, r"predict expected X with at least one row, got shape \(0, 2\)"),
    (lambda: predict(net(), "X"), TypeError, r"predict expected X to be an array of numbers, got 'X'"),
    (lambda: training.accuracy(np.ones((3, 2)), [0, 1]), ValueError,
     r"accuracy expected out and y with the same number of rows .*got shapes \(3, 2\) and \(2,\)"),
    (lambda: training.accuracy(np.ones((2, 2)), [0, 1], threshold="half"), TypeError,
     r"accuracy expected threshold to be a real number, got 'half'"),
    (lambda: training.confusion_matrix([0, 1, 5], [0, 1, 1], 3), ValueError,
     r"confusion_matrix expected y_true in the range 0 to 2, got values from 0 to 5"),
    (lambda: training.confusion_matrix([0, 1], [0, 1], 0), ValueError, r"confusion_matrix expected n_classes >= 1, got 0"),
    (lambda: list(training.iterate_minibatches(np.ones((4, 2)), [0] * 4, batch_size=0)), ValueError,
     r"iterate_minibatches expected batch_size >= 1, got 0"),
    (lambda: list(training.iterate_minibatches(np.ones((4, 2)), [0] * 4, shuffle="yes")), TypeError,
     r"iterate_minibatches expected shuffle to be True or False, got 'yes'"),
    (lambda: list(training.iterate_minibatches(np.ones((4, 2)), [0] * 3)), ValueError,
     r"iterate_minibatches expected y with 4 rows \(one per row of X\), got shape \(3,\)"),
]


# --- 5. layers, activations, losses, gradcheck, init, regularization, datasets, engine --------------------

def _ok():
    return np.ones((2, 3))


API_CASES = TRAINING_CASES + [
    # layers
    (lambda: Linear(0, 3), ValueError, r"Linear expected in_features >= 1, got 0"),
    (lambda: Linear(3, "4"), TypeError, r"Linear expected out_features to be an integer, got '4'"),
    (lambda: Linear(3, 4, init="bogus"), ValueError, r"Linear expected init to be one of \[.*\], got 'bogus'"),
    (lambda: Linear(3, 4, dtype=int), TypeError, r"Linear expected dtype to be float32 or float64, got <class 'int'>"),
    (lambda: Linear(3, 4).forward(np.ones((5, 2))), ValueError, r"Linear\(3, 4\) expected X of shape \(N, 3\), got \(5, 2\)"),
    (lambda: Linear(3, 4).forward("X"), TypeError, r"Linear\(3, 4\) expected X to be an array of numbers, got 'X'"),
    (lambda: Linear.from_arrays(np.ones((2, 3)), np.ones(2)), ValueError,
     r"Linear.from_arrays expected b of shape \(3,\), got \(2,\)"),
    (lambda: Sequential(), ValueError, r"Sequential expected at least one module, got none"),
    (lambda: Sequential([Linear(2, 2)]), TypeError, r"Sequential expected a Module at position 0, got list of length 1"),
    (lambda: Sequential(*[Linear(2, 2)] * 2), ValueError, r"Sequential got the same Linear\(2, 2\) object at positions 0 and 1"),
    (lambda: net()["a"], TypeError, r"Sequential indices must be integers or slices, got 'a'"),
    (lambda: Parameter("abc"), TypeError, r"Parameter expected data to be an array of numbers, got 'abc'"),
    (lambda: Linear(3, 4).backward(np.ones((2, 4))), RuntimeError, r"Linear.backward was called before Linear.forward"),
    # activations
    (lambda: act.sigmoid("x"), TypeError, r"expected x to be an array of numbers, got 'x'"),
    (lambda: act.leaky_relu(np.ones(2), slope=1.0), ValueError, r"leaky_relu expected slope < 1.0, got 1.0"),
    (lambda: act.logsumexp(np.ones((2, 3)), axis=5), ValueError,
     r"logsumexp expected axis in the range -2 to 1 for Z of shape \(2, 3\), got 5"),
    (lambda: act.softmax(np.ones((2, 0))), ValueError, r"softmax expected Z of shape \(N, C\) or \(C,\) with C >= 1, got \(2, 0\)"),
    (lambda: act.log_softmax("Z"), TypeError, r"log_softmax expected Z to be an array of numbers, got 'Z'"),
    (lambda: act.get_activation("gelu"), ValueError, r"get_activation expected name to be one of \[.*\], got 'gelu'"),
    (lambda: act.get_activation(3), TypeError, r"get_activation expected name to be a string, .*got 3"),
    (lambda: act.LeakyReLU(slope=-0.1), ValueError, r"LeakyReLU expected slope >= 0.0, got -0.1"),
    # losses
    (lambda: losses.mse_loss(np.ones((4, 1)), np.ones(4)), ValueError,
     r"mse_loss expected target of shape \(4, 1\) \(the shape of pred\), got \(4,\)"),
    (lambda: losses.mse_loss(_ok(), _ok(), reduction="max"), ValueError,
     r"mse_loss expected reduction to be one of \[.*\], got 'max'"),
    (lambda: losses.mse_loss(_ok(), np.full((2, 3), np.nan)), ValueError, r"mse_loss expected target to be finite, got 6 NaN"),
    (lambda: losses.bce_loss(np.array([0.5, 1.5]), np.array([0.0, 1.0])), ValueError,
     r"bce_loss expected p in \[0, 1\], got values from 0.5 to 1.5"),
    (lambda: losses.bce_loss(np.array([0.5]), np.array([1.0]), eps=0), ValueError, r"bce_loss expected eps > 0.0, got 0.0"),
    (lambda: losses.bce_with_logits_loss(np.zeros(2), np.array([0.0, 2.0])), ValueError,
     r"bce_with_logits_loss expected y in \[0, 1\], got values from 0 to 2"),
    (lambda: losses.cross_entropy_loss(_ok(), [0, 3]), ValueError,
     r"cross_entropy_loss expected y in the range 0 to 2, got values from 0 to 3"),
    (lambda: losses.cross_entropy_loss(np.ones((2, 1)), [0, 0]), ValueError,
     r"cross_entropy_loss expected logits with at least 2 columns \(classes\), got shape \(2, 1\)"),
    (lambda: losses.cross_entropy_loss(_ok(), np.full((2, 3), 0.5)), ValueError,
     r"cross_entropy_loss expected each row of one-hot y to sum to 1, got row sums from 1.5 to 1.5"),
    (lambda: losses.cross_entropy_loss(_ok(), [0.5, 1]), ValueError,
     r"cross_entropy_loss expected y to be integer class labels, got non-integer values"),
    (lambda: losses.get_loss("hinge"), ValueError, r"get_loss expected name to be one of \[.*\], got 'hinge'"),
    # gradcheck
    (lambda: gradcheck.grad_check(lambda x: (float(x.sum()), np.ones(1)), np.ones(3)), ValueError,
     r"grad_check expected the function to return \(loss, gradient\) with the gradient of shape \(3,\), "
     r"got a gradient of shape \(1,\)"),
    (lambda: gradcheck.numerical_gradient(lambda x: 0.0, np.ones(3, dtype=int)), TypeError,
     r"numerical_gradient expected x to be a float numpy array .*got array of shape \(3,\) and dtype int64"),
    (lambda: gradcheck.numerical_gradient(lambda x: 0.0, np.ones(3), h=0), ValueError,
     r"numerical_gradient expected h > 0.0, got 0.0"),
    (lambda: gradcheck.grad_check(Linear(2, 2), np.ones((1, 2)), h=-1), ValueError, r"grad_check expected h > 0.0, got -1.0"),
    (lambda: gradcheck.rel_error(np.ones(2), np.ones(3)), ValueError,
     r"rel_error expected a and b of the same shape, got \(2,\) and \(3,\)"),
    # init
    (lambda: init.standard(0, 3, 0), ValueError, r"standard expected fan_in >= 1, got 0"),
    (lambda: init.xavier_uniform(3, "a", 0), TypeError, r"xavier_uniform expected fan_out to be an integer, got 'a'"),
    (lambda: init.he_normal(3, 3, None), TypeError, r"expected rng to be a numpy.random.Generator .*got None"),
    # regularization
    (lambda: regularization.L2(-1), ValueError, r"L2 expected lam >= 0.0, got -1.0"),
    (lambda: regularization.L1("a"), TypeError, r"L1 expected lam to be a real number, got 'a'"),
    (lambda: regularization.Dropout(p=1.0), ValueError, r"Dropout expected p < 1.0, got 1.0"),
    (lambda: regularization.Dropout(p=-0.1), ValueError, r"Dropout expected p >= 0.0, got -0.1"),
    (lambda: regularization.EarlyStopping(patience=0), ValueError, r"EarlyStopping expected patience >= 1, got 0"),
    (lambda: regularization.weights_only(3), TypeError,
     r"weights_only expected named_params to be a Module or a list of \(name, Parameter\) pairs, got 3"),
    (lambda: regularization.L2(0.1).add_grad("x"), TypeError, r"L2.add_grad expected params to be a Module .*got 'x'"),
    # datasets
    (lambda: datasets.load_digits(123), TypeError, r"load_digits expected path to be a file path \(str or pathlib.Path\), got 123"),
    (lambda: datasets.load_digits(ROOT), ValueError, r"load_digits expected path to be the digits .npz file, got the folder"),
    (lambda: datasets.load_digits(ROOT / "nothing.npz"), FileNotFoundError, r"load_digits could not find path .*nothing.npz"),
    (lambda: datasets.make_moons(0), ValueError, r"make_moons expected n >= 2, got 0"),
    (lambda: datasets.make_xor(noise=-1), ValueError, r"make_xor expected noise >= 0.0, got -1.0"),
    (lambda: datasets.make_spirals(n_classes=1), ValueError, r"make_spirals expected n_classes >= 2, got 1"),
    (lambda: datasets.parity(n_bits=0), ValueError, r"parity expected n_bits >= 1, got 0"),
    (lambda: datasets.train_val_test_split(np.ones((10, 2)), np.arange(10) % 2, val=0.9, test=0.9), ValueError,
     r"train_val_test_split expected val \+ test < 1 .*got 0.9 \+ 0.9"),
    (lambda: datasets.binary_targets([0, 2]), ValueError, r"binary_targets expected y in the range 0 to 1, got values from 0 to 2"),
    (lambda: datasets.to_memmap(np.ones(3), 123), TypeError, r"to_memmap expected path to be a file path .*got 123"),
    (lambda: datasets.digits_memmap(None), TypeError, r"digits_memmap expected path to be a file path .*got None"),
    # engine and scalar networks
    (lambda: Value("a"), TypeError, r"Value expected data to be a real number, got 'a'"),
    (lambda: MLP(2, [0]), ValueError, r"MLP expected nouts\[0\] >= 1, got 0"),
    (lambda: Neuron(0), ValueError, r"Neuron expected nin >= 1, got 0"),
    # optimizers and schedules: constructors
    (lambda: optim.SGD(net().parameters(), lr="fast"), TypeError, r"SGD expected lr to be a real number, got 'fast'"),
    (lambda: optim.SGD(net().parameters(), lr=-1), ValueError, r"SGD expected lr > 0.0, got -1.0"),
    (lambda: optim.Momentum(net().parameters(), momentum=1.0), ValueError, r"Momentum expected momentum < 1.0, got 1.0"),
    (lambda: optim.Adam(net().parameters(), beta1=1.0), ValueError, r"Adam expected beta1 < 1.0, got 1.0"),
    (lambda: optim.Adam(net().parameters(), eps=0), ValueError, r"Adam expected eps > 0.0, got 0.0"),
    (lambda: optim.SGD(net()), TypeError, r"SGD expected params to be a list of Parameter or Value, got a Sequential module"),
    (lambda: optim.SGD([]), ValueError, r"SGD expected params to be a non-empty list .*got an empty list"),
    (lambda: optim.AdaGrad([net()[0].W] * 2), ValueError, r"AdaGrad expected each parameter once, got the same one at params\[0\] and params\[1\]"),
    (lambda: optim.StepLR(optim.SGD(net().parameters()), 0), ValueError, r"StepLR expected step_size >= 1, got 0"),
    (lambda: optim.ExponentialLR(optim.SGD(net().parameters()), 1.5), ValueError, r"ExponentialLR expected gamma <= 1.0, got 1.5"),
    (lambda: optim.CosineLR(optim.SGD(net().parameters(), lr=0.1), 10, lr_min=1.0), ValueError,
     r"CosineLR expected lr_min <= 0.1, got 1.0"),
    (lambda: optim.StepLR("opt", 1), TypeError, r"StepLR expected optimizer to be a bptutor Optimizer, got 'opt'"),
]


@pytest.mark.parametrize("call, error, message", API_CASES, ids=[f"api{i}" for i in range(len(API_CASES))])
def test_public_functions_refuse_bad_input_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("make_bad, message", [
    (lambda: np.ones((2, 5)), r"Linear\(3, 4\) expected dout of shape \(2, 4\), got \(2, 5\)"),
    (lambda: "dout", r"Linear\(3, 4\) expected dout to be an array of numbers, got 'dout'"),
])
def test_a_failed_backward_leaves_the_gradients_alone(make_bad, message):
    layer = Linear(3, 4, rng=0)
    layer.forward(np.ones((2, 3)))
    layer.backward(np.ones((2, 4)))  # gradients from an earlier pass, to be kept
    before = state(layer)
    with pytest.raises((ValueError, TypeError), match=message):
        layer.backward(make_bad())
    same(state(layer), before)


def test_grad_check_with_a_bad_loss_gradient_leaves_the_gradients_alone():
    model = net()
    for p in model.parameters():
        p.grad[...] = 0.5
    before = state(model)
    with pytest.raises(TypeError, match=r"grad_check expected loss_fn to return \(loss, gradient\)"):
        gradcheck.grad_check(model, np.ones((2, 2)), lambda out, y: float(out.sum()), y=np.zeros(2))
    assert [p.grad.tolist() for p in model.parameters()] == [g.tolist() for _, _, g in before[0]["params"]]


def test_to_memmap_into_a_folder_leaves_the_disk_alone(tmp_path):
    (tmp_path / "keep.npy").write_bytes(b"old")
    before = state(tmp_path)
    with pytest.raises(ValueError, match=r"to_memmap expected path to be a file to write, got the folder"):
        datasets.to_memmap(np.ones((3, 2)), tmp_path)
    same(state(tmp_path), before)


# --- 6. widget builders: choices, types and ranges, never clamped ----------------------------------------

pytest.importorskip("ipywidgets")
from bptutor import widgets as W  # noqa: E402

WIDGET_CASES = [
    (W.explore_learning_rate, {"dataset": "bogus"}, ValueError,
     r"explore_learning_rate expected dataset to be one of 'XOR', 'two moons', 'spirals', got 'bogus'"),
    (W.explore_learning_rate, {"optimizer": "adam"}, ValueError,
     r"expected optimizer to be one of 'SGD', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSProp', 'Adam', got 'adam'"),
    (W.explore_learning_rate, {"lr": "fast"}, TypeError, r"explore_learning_rate expected lr to be a real number from 0.0001 to 10, got 'fast'"),
    (W.explore_learning_rate, {"lr": -1}, ValueError, r"expected lr from 0.0001 to 10 \(the control's range\), got -1"),
    (W.explore_learning_rate, {"lr": 1000}, ValueError, r"expected lr from 0.0001 to 10 \(the control's range\), got 1000"),
    (W.explore_learning_rate, {"lr": float("nan")}, ValueError, r"expected lr from 0.0001 to 10 .*got nan"),
    (W.explore_learning_rate, {"epochs": 0}, ValueError, r"expected epochs from 10 to 500 \(the control's range\), got 0"),
    (W.explore_learning_rate, {"epochs": 50.5}, TypeError, r"expected epochs to be an integer from 10 to 500, got 50.5"),
    (W.explore_learning_rate, {"hidden": 16}, TypeError, r"expected hidden to be text such as '16, 16' .*got 16"),
    (W.explore_learning_rate, {"hidden": "16, 0"}, ValueError, r"expected hidden to be text such as '16, 16' .*got '16, 0'"),
    (W.explore_learning_rate, {"seed": -1}, ValueError, r"expected seed from 0 to 10000 .*got -1"),
    (W.explore_optimizers, {"surface": "bowl"}, ValueError,
     r"explore_optimizers expected surface to be one of 'quadratic', 'Rosenbrock', 'network slice', got 'bowl'"),
    (W.explore_optimizers, {"lr": 5.0}, ValueError, r"explore_optimizers expected lr from 0.0001 to 1 .*got 5"),
    (W.explore_optimizers, {"steps": 0}, ValueError, r"expected steps from 10 to 300 .*got 0"),
    (W.explore_optimizers, {"beta1": 1.5}, ValueError, r"expected beta1 from 0 to 0.99 .*got 1.5"),
    (W.explore_optimizers, {"condition": 0.5}, ValueError, r"expected condition from 1 to 1000 .*got 0.5"),
    (W.explore_activation, {"name": "gelu"}, ValueError,
     r"explore_activation expected name to be one of 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'identity', 'step', got 'gelu'"),
    (W.explore_activation, {"name": 3}, TypeError, r"explore_activation expected name to be one of .*got 3 of type int"),
    (W.explore_activation, {"depth": 0}, ValueError, r"expected depth from 1 to 50 .*got 0"),
    (W.explore_activation, {"x": 100.0}, ValueError, r"expected x from -6 to 6 .*got 100"),
    (W.explore_regularization, {"penalty": "L3"}, ValueError,
     r"explore_regularization expected penalty to be one of 'none', 'L2', 'L1', got 'L3'"),
    (W.explore_regularization, {"dropout": 0.9}, ValueError, r"expected dropout from 0 to 0.8 .*got 0.9"),
    (W.explore_regularization, {"lam": 0.0}, ValueError, r"expected lam from 1e-05 to 1 .*got 0"),
    (W.explore_regularization, {"epochs": 0}, ValueError, r"expected epochs from 50 to 1000 .*got 0"),
    (W.explore_loss, {"p": 1.5}, ValueError, r"explore_loss expected p from 0.001 to 0.999 \(the control's range\), got 1.5"),
    (W.explore_loss, {"target": 2}, ValueError, r"explore_loss expected target to be one of 0, 1, got 2"),
    (W.explore_loss, {"target": True}, TypeError, r"explore_loss expected target to be one of 0, 1, got True of type bool"),
    (W.explore_backward, {"expression": "x"}, ValueError, r"explore_backward expected expression to be one of .*got 'x'"),
    (W.explore_backward, {"step": 999}, ValueError, r"explore_backward expected step from 0 to \d+ .*got 999"),
]


@pytest.mark.parametrize("builder, kwargs, error, message", WIDGET_CASES,
                         ids=[f"{b.__name__}-{next(iter(k))}={next(iter(k.values()))!r}" for b, k, _, _ in WIDGET_CASES])
def test_widget_builders_refuse_bad_keywords(builder, kwargs, error, message):
    with pytest.raises(error, match=message):
        builder(**kwargs)


EDGES = [  # (builder, keyword, a limit the builder accepts): the control must hold it unclamped
    (W.explore_loss, "p", 0.001), (W.explore_loss, "p", 0.999),
    (W.explore_activation, "x", -6.0), (W.explore_activation, "x", 6.0), (W.explore_activation, "weight", 4.0),
    (W.explore_activation, "depth", 1), (W.explore_activation, "depth", 50),
    (W.explore_optimizers, "lr", 1e-4), (W.explore_optimizers, "lr", 1.0), (W.explore_optimizers, "beta2", 0.999),
    (W.explore_optimizers, "condition", 1000.0), (W.explore_optimizers, "steps", 10),
]


@pytest.mark.parametrize("builder, keyword, limit", EDGES,
                         ids=[f"{b.__name__}-{k}={v}" for b, k, v in EDGES])
def test_the_limits_the_builders_accept_are_the_controls_own(builder, keyword, limit):
    """If a control's range changes, the builder's check must change with it: this catches a drift."""
    explorer = builder(**{keyword: limit})
    assert getattr(explorer, keyword).value == pytest.approx(limit, rel=1e-12)


# --- 7. command lines: one line, exit status 2, nothing written or overwritten ----------------------------

nbformat = pytest.importorskip("nbformat")
from bptutor import editions  # noqa: E402


@pytest.fixture
def notebooks(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION")])
    nbformat.write(nb, str(src / "01_x.ipynb"))
    (tmp_path / "other.json").write_text('{"a": 1}')
    (tmp_path / "notes.txt").write_text("not a notebook")
    return tmp_path


CLI_CASES = {
    "--out is the source folder": (["notebooks", "--out", "notebooks"], r"it is the source .*notebooks itself"),
    "--out inside the source": (["notebooks", "--out", "notebooks/build"], r"lies inside the source folder"),
    "--out contains the source": (["notebooks", "--out", "."], r"contains the source folder"),
    "--out is the notebook's folder": (["notebooks/01_x.ipynb", "--out", "notebooks"],
                                       r"is the folder \(or above the folder\) of the source .*01_x.ipynb"),
    "--out is the notebook": (["notebooks/01_x.ipynb", "--out", "notebooks/01_x.ipynb"],
                              r"it is the source .*01_x.ipynb itself"),
    "JSON that is not a notebook": (["other.json", "--out", "build"], r"other.json: not a Jupyter notebook"),
    "a text file": (["notes.txt", "--out", "build"], r"notes.txt: not a Jupyter notebook"),
    "a missing source": (["missing", "--out", "build"], r"got 'missing', which does not exist"),
    "--out is a file": (["notebooks", "--out", "notes.txt"], r"expected --out to be a folder, got the file notes.txt"),
}


@pytest.mark.parametrize("case", CLI_CASES, ids=list(CLI_CASES))
def test_editions_command_refuses_with_one_line_and_status_2(notebooks, case, capsys, monkeypatch):
    argv, message = CLI_CASES[case]
    monkeypatch.chdir(notebooks)
    before = state(notebooks)
    assert editions.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err
    assert re.search(message, err), err
    same(state(notebooks), before)


def test_editions_as_a_module_prints_no_traceback(notebooks):
    command = [sys.executable, "-m", "bptutor.editions", "notebooks", "--out", "notebooks"]
    before = state(notebooks)
    done = subprocess.run(command, capture_output=True, text=True, cwd=notebooks)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "it is the source" in done.stderr
    same(state(notebooks), before)


@pytest.mark.parametrize("make", [editions.make_student_notebook, editions.make_instructor_notebook])
def test_writing_an_edition_over_its_own_source_is_refused(notebooks, make):
    src = notebooks / "notebooks" / "01_x.ipynb"
    before = state(notebooks)
    with pytest.raises(ValueError, match=r"it is the source .*01_x.ipynb itself, which would be overwritten"):
        make(src, src)
    same(state(notebooks), before)


def test_build_edition_refuses_an_unknown_edition_and_writes_nothing(notebooks):
    before = state(notebooks)
    with pytest.raises(ValueError, match=r"build_edition expected edition to be one of \['student', 'instructor'\], got 'teacher'"):
        editions.build_edition(notebooks / "notebooks", notebooks / "out", edition="teacher")
    same(state(notebooks), before)


def test_figures_command_refuses_an_unknown_pattern(tmp_path, capsys):
    figures = pytest.importorskip("bptutor.figures")
    with pytest.raises(SystemExit) as info:
        figures.main(["--out", str(tmp_path / "figs"), "--only", "nothing_*"])
    assert info.value.code == 2 and "--only 'nothing_*' matches none of" in capsys.readouterr().err


# --- 8. behaviours kept on purpose, pinned ---------------------------------------------------------------

def test_cross_entropy_keeps_log_s_next_to_a_huge_maximum():
    loss, dout = losses.cross_entropy_loss([[1e16, 1e16]], [0])
    assert loss == pytest.approx(math.log(2), rel=1e-15)
    np.testing.assert_allclose(dout, [[-0.5, 0.5]])
    assert losses.cross_entropy_loss([[1e308, -1e308]], [0]) == (0.0, pytest.approx(np.zeros((1, 2))))
    assert math.copysign(1.0, losses.cross_entropy_loss([[1e308, -1e308]], [0])[0]) == 1.0  # +0.0, not -0.0


def test_log_softmax_of_three_equal_huge_negatives_is_minus_ln_3():
    np.testing.assert_allclose(act.log_softmax(np.full(3, -1e300)), np.full(3, -math.log(3)), rtol=1e-15)
    np.testing.assert_allclose(act.log_softmax(np.array([[1e308, 1e308]])), [[-math.log(2)] * 2], rtol=1e-15)


def test_a_true_loss_beyond_the_float_range_is_inf_but_its_gradient_is_finite():
    with np.errstate(over="ignore"):
        loss, dout = losses.cross_entropy_loss([[1e308, -1e308]], [1])
    assert loss == math.inf and np.all(np.isfinite(dout))


def test_mse_overflows_to_inf_near_1e154_as_documented():
    assert np.isfinite(losses.mse_loss([[1e153]], [[0.0]])[0])
    with np.errstate(over="ignore"):
        loss, dout = losses.mse_loss([[2e154]], [[0.0]])
    assert loss == math.inf and np.isfinite(dout).all()
    assert "1.34" in losses.mse_loss.__doc__


def test_nan_passes_through_a_layer_as_documented():
    """Layers do not scan for NaN (it would cost a pass per batch); fit and evaluate check data up front."""
    out = net().forward(np.array([[np.nan, 0.0], [1.0, 2.0]]))
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
    assert "NaN" in Linear.forward.__doc__


@pytest.mark.parametrize("x", [1e4, -1e4, 1e300, -1e300])
def test_activations_and_their_gradients_stay_finite_at_extremes(x):
    for f in (act.sigmoid, act.sigmoid_grad, act.tanh, act.tanh_grad, act.relu_grad, act.softmax, act.log_softmax):
        assert np.all(np.isfinite(f(np.array([x, 0.0])))), f.__name__
    assert np.isfinite(losses.bce_with_logits_loss(np.array([x]), np.array([1.0]))[0])
