"""Tests for bptutor.alternatives.feedback_alignment: with B = W^T it is backprop, its last layer is
exact, and it learns two moons while its weights align with the feedback matrices."""
import numpy as np
import pytest

from _alternatives_nets import moons_objective, small_net
from bptutor.activations import Sigmoid, Tanh
from bptutor.alternatives import FeedbackAlignment, Objective, flat_grad
from bptutor.datasets import binary_targets, make_moons
from bptutor.layers import Linear, Sequential
from bptutor.optim import SGD
from bptutor.training import fit
def test_feedback_alignment_with_B_equal_to_W_transposed_is_backprop():
    X, y = make_moons(20, rng=0)
    model = Sequential(Linear(2, 5, rng=1), Tanh(), Linear(5, 4, rng=2), Sigmoid(), Linear(4, 2, rng=3))
    fa = FeedbackAlignment(model, rng=0)
    assert sorted(fa.feedback) == [2, 4] and fa.feedback[2].shape == (4, 5)
    f = Objective(model, "cross_entropy", X, y)
    bp = f.backprop(f.theta0)[1]
    for i in fa.feedback:
        fa.feedback[i] = model[i].W.data.T.copy()
    model.zero_grad()
    from bptutor.losses import cross_entropy_loss
    fa.backward(cross_entropy_loss(fa.forward(X), y)[1])
    assert np.allclose(flat_grad(model), bp, rtol=1e-12, atol=1e-15)


def test_feedback_alignment_last_layer_exact_hidden_layers_not():
    model, f = moons_objective(H=6)
    fa = FeedbackAlignment(model, rng=4)
    angles = fa.update_angles(f.X, f.y, "bce_logits")
    assert angles["2.W"] == pytest.approx(0.0, abs=1e-5) and angles["2.b"] == pytest.approx(0.0, abs=1e-5)
    assert angles["0.W"] > 10                       # a random B: far from the gradient
    assert set(angles) == {"0.W", "0.b", "2.W", "2.b", "all"}
    assert np.all(flat_grad(model) == 0)           # update_angles leaves .grad alone
    assert [n for n, _ in fa.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]


def test_feedback_alignment_learns_and_aligns():
    X, y = make_moons(100, noise=0.1, rng=0)
    t = binary_targets(y)
    model = small_net(H=8)
    fa = FeedbackAlignment(model, rng=3)
    start = fa.update_angles(X, t, "bce_logits")["0.W"]
    start_weights = fa.weight_angles()[2]
    history = fit(fa, "bce_logits", SGD(fa.parameters(), lr=1.0), X, t, epochs=600, progress=False)
    end = fa.update_angles(X, t, "bce_logits")["0.W"]
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]
    assert history.train_acc[-1] > 0.95
    assert end < 60 < start and end < 90
    assert fa.weight_angles()[2] < start_weights - 20   # W2^T turned towards B


def test_bad_inputs_feedback_alignment():
    with pytest.raises(TypeError, match="FeedbackAlignment expected model to be a Sequential"):
        FeedbackAlignment(Linear(2, 3))
    with pytest.raises(ValueError, match="FeedbackAlignment expected a model with at least two Linear layers"):
        FeedbackAlignment(Sequential(Linear(2, 3), Tanh()))
    with pytest.raises(ValueError, match="FeedbackAlignment expected scale > 0.0, got -1.0"):
        FeedbackAlignment(small_net(), scale=-1.0)
    with pytest.raises(RuntimeError, match="FeedbackAlignment.backward was called before FeedbackAlignment.forward"):
        FeedbackAlignment(small_net()).backward(np.zeros((1, 1)))
