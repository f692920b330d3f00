"""Tests for bptutor.sanity: chance loss, update-to-weight ratios, the fit callback."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bptutor.activations import Tanh
from bptutor.layers import Linear, Parameter, Sequential
from bptutor.losses import cross_entropy_loss
from bptutor.optim import SGD
from bptutor.sanity import UpdateRatios, chance_loss, update_ratio
from bptutor.training import fit


def test_chance_loss_is_the_cross_entropy_of_a_uniform_guess():
    assert chance_loss(2) == pytest.approx(0.6931472, abs=1e-7)
    assert chance_loss(10) == pytest.approx(2.3025851, abs=1e-7)
    # all-zero logits: softmax 1/C everywhere, so the loss is ln C whatever the labels
    loss, _ = cross_entropy_loss(np.zeros((4, 3)), np.array([0, 2, 1, 1]))
    assert loss == pytest.approx(chance_loss(3), rel=1e-12)


def test_update_ratio_by_hand():
    before = np.array([[3.0, 0.0], [0.0, 4.0]])          # norm 5
    after = before + np.array([[0.0, 0.03], [0.04, 0.0]])  # step norm 0.05
    assert update_ratio(before, after) == pytest.approx(0.01, rel=1e-12)
    # a ratio of norms, not the mean of entrywise ratios (which would divide by the zeros)
    assert update_ratio(Parameter(before), after.astype(np.float32)) == pytest.approx(0.01, rel=1e-6)


def test_update_ratio_zero_weights():
    assert update_ratio(np.zeros(3), np.zeros(3)) == 0.0
    assert update_ratio(np.zeros(3), np.ones(3)) == math.inf


@pytest.mark.parametrize("call, exc, message", [
    (lambda: update_ratio(np.ones(3), np.ones(4)), ValueError, r"same shape, got \(3,\) and \(4,\)"),
    (lambda: update_ratio(np.array([1.0, np.nan]), np.ones(2)), ValueError, r"before to be finite"),
    (lambda: update_ratio(np.ones(2), np.array(["a", "b"])), TypeError, r"after to be an array of real"),
    (lambda: chance_loss(1), ValueError, r"chance_loss expected n_classes >= 2, got 1"),
    (lambda: UpdateRatios("net"), TypeError, r"UpdateRatios expected model to be a bptutor Module"),
    (lambda: UpdateRatios(Sequential(Tanh())), ValueError, r"at least one weight matrix"),
])
def test_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_update_ratios_during_full_batch_sgd_equal_lr_times_grad_over_w():
    model = Sequential(Linear(2, 5, rng=0), Tanh(), Linear(5, 3, rng=1))
    X = np.random.default_rng(0).normal(size=(12, 2))
    y = np.arange(12) % 3
    W0 = model[2].W.data.copy()
    # the first update of full-batch SGD is -lr * dW at the starting weights
    model.zero_grad()
    model.backward(cross_entropy_loss(model.forward(X), y)[1])
    expected = 0.3 * np.linalg.norm(model[2].W.grad) / np.linalg.norm(W0)
    monitor = UpdateRatios(model)
    fit(model, "cross_entropy", SGD(model.parameters(), lr=0.3), X, y, epochs=3, callbacks=[monitor],
        progress=False)
    assert list(monitor.ratios) == ["0.W", "2.W"]
    assert [len(r) for r in monitor.ratios.values()] == [3, 3]
    assert monitor.ratios["2.W"][0] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="the model it was made for"):
        monitor.on_epoch_end(Sequential(Linear(2, 5)), 3, {})
    assert len(monitor.ratios["0.W"]) == 3


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, (3, 4), elements=st.floats(-10, 10)),
       hnp.arrays(np.float64, (3, 4), elements=st.floats(-1, 1)),
       st.floats(1e-3, 1e3))
def test_update_ratio_is_scale_free_and_symmetric_in_sign(W, dW, c):
    if np.linalg.norm(W) < 1e-6:
        return
    r = update_ratio(W, W + dW)
    # scaling weights and update together leaves the ratio; flipping the update's sign too
    assert update_ratio(c * W, c * (W + dW)) == pytest.approx(r, rel=1e-9, abs=1e-12)
    assert update_ratio(W, W - dW) == pytest.approx(r, rel=1e-9, abs=1e-12)
    assert r == pytest.approx(np.sqrt((dW ** 2).sum() / (W ** 2).sum()), rel=1e-9, abs=1e-12)
