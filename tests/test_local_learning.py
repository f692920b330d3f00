"""Tests for bptutor.local_learning: DFA, node perturbation and forward-forward, checked by hand and by numbers."""
import numpy as np
import pytest

from bptutor.activations import ReLU, Tanh
from bptutor.alternatives import FeedbackAlignment, Objective, cosine_similarity, flat_grad, flat_params, norm_error
from bptutor.gradcheck import numerical_gradient
from bptutor.layers import Linear, Sequential
from bptutor.local_learning import (DirectFeedbackAlignment, ForwardForward, embed_label, ff_layer_loss, goodness,
                                    node_perturbation_gradient)
from bptutor.losses import bce_with_logits_loss


def deep_net(seed=0, D=3, H=(5, 4), C=2):
    sizes = (D,) + H + (C,)
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [Linear(a, b, rng=seed + k), Tanh()]
    return Sequential(*layers[:-1])


def data(N=7, D=3, C=2, seed=1):
    g = np.random.default_rng(seed)
    return g.normal(size=(N, D)), (g.random((N, C)) > 0.5).astype(float)


# --- direct feedback alignment ----------------------------------------------------------------------------------

def test_dfa_update_is_the_formula_written_out():
    model, (X, T) = deep_net(), data()
    dfa = DirectFeedbackAlignment(model, rng=4)
    B1, B2 = dfa.feedback[0], dfa.feedback[2]                  # (C, 5), (C, 4)
    W1, b1, W2, b2, W3, b3 = (p.data for p in model.parameters())
    A1 = np.tanh(X @ W1 + b1)
    A2 = np.tanh(A1 @ W2 + b2)
    e = bce_with_logits_loss(A2 @ W3 + b3, T)[1]              # (N, C): the output error
    d2 = (e @ B2) * (1 - A2 ** 2)                              # straight from the output, times f'
    d1 = (e @ B1) * (1 - A1 ** 2)                              # not via d2: that would be FA
    expected = [X.T @ d1, d1.sum(0), A1.T @ d2, d2.sum(0), A2.T @ e, e.sum(0)]
    model.zero_grad()
    dfa.backward(bce_with_logits_loss(dfa.forward(X), T)[1])
    for ours, p in zip(expected, model.parameters()):
        np.testing.assert_allclose(p.grad, ours, rtol=1e-12, atol=1e-15)
    assert B1.shape == (2, 5) and B2.shape == (2, 4)


def test_with_one_hidden_layer_dfa_is_fa_with_the_same_matrix():
    X, T = data(C=1)
    grads = []
    for wrapper in (FeedbackAlignment, DirectFeedbackAlignment):
        model = deep_net(H=(6,), C=1)
        wrapped = wrapper(model, rng=0)
        if wrapper is DirectFeedbackAlignment:
            wrapped.feedback[0] = fa_B                        # noqa: F821  (set in the first round)
        else:
            fa_B = wrapped.feedback[2]                        # noqa: F841  (1, 6), the same shape in both
        model.zero_grad()
        wrapped.backward(bce_with_logits_loss(wrapped.forward(X), T)[1])
        grads.append(flat_grad(model))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_dfa_angles_last_layer_exact_hidden_not_and_grads_kept():
    model, (X, T) = deep_net(), data()
    dfa = DirectFeedbackAlignment(model, rng=4)
    for p in model.parameters():
        p.grad[...] = 7.0
    angles = dfa.update_angles(X, T, "bce_logits")
    assert angles["4.W"] == pytest.approx(0.0, abs=1e-5) and angles["0.W"] > 5.0
    assert all(np.all(p.grad == 7.0) for p in model.parameters())


def test_dfa_refuses_bad_models_and_dout():
    with pytest.raises(TypeError, match="Sequential"):
        DirectFeedbackAlignment(Linear(2, 3))
    with pytest.raises(ValueError, match="Linear, activation, Linear"):
        DirectFeedbackAlignment(Sequential(Linear(2, 3), Linear(3, 1)))
    with pytest.raises(ValueError, match="scale"):
        DirectFeedbackAlignment(deep_net(), scale=0.0)
    dfa, (X, T) = DirectFeedbackAlignment(deep_net()), data()
    with pytest.raises(RuntimeError, match="before"):
        dfa.backward(np.zeros((7, 2)))
    dfa.forward(X)
    with pytest.raises(ValueError, match="dout"):
        dfa.backward(np.zeros((7, 3)))


# --- node perturbation -------------------------------------------------------------------------------------------

def test_node_perturbation_is_unbiased_and_its_error_falls_like_one_over_root_n():
    model, (X, T) = deep_net(C=1), data(N=5, C=1)
    g = Objective(model, "bce_logits", X, T).backprop(flat_params(model))[1]
    draws = np.random.default_rng(0)
    samples = np.array([node_perturbation_gradient(model, X, T, sigma=1e-4, rng=draws).grad for _ in range(6400)])
    err_small = np.mean([norm_error(s.mean(0), g) for s in samples.reshape(64, 100, -1)])   # 100 draws each
    err_large = np.mean([norm_error(s.mean(0), g) for s in samples.reshape(4, 1600, -1)])   # 1600 draws each
    assert norm_error(samples.mean(0), g) < 0.1               # the mean of 6400 draws is the gradient
    assert 2.5 < err_small / err_large < 6.0                  # 16 times the draws: about 4 times less error
    assert cosine_similarity(samples[0], g) < 0.9             # one draw alone is far off


def test_node_perturbation_costs_two_forward_passes_and_changes_nothing():
    model, (X, T) = deep_net(), data()
    before = flat_params(model)
    est = node_perturbation_gradient(model, X, T, sigma=0.01, rng=3)
    assert (est.evaluations, est.backward_passes, est.grad.shape) == (2, 0, before.shape)
    assert np.array_equal(flat_params(model), before) and not np.any(flat_grad(model))
    again = node_perturbation_gradient(model, X, T, sigma=0.01, rng=3)
    assert np.array_equal(est.grad, again.grad)


def test_node_perturbation_refuses_bad_arguments():
    model, (X, T) = deep_net(), data()
    with pytest.raises(ValueError, match="loss"):
        node_perturbation_gradient(model, X, T, loss="cross_entropy")
    with pytest.raises(ValueError, match="sigma"):
        node_perturbation_gradient(model, X, T, sigma=-1.0)
    with pytest.raises(ValueError, match="y"):
        node_perturbation_gradient(model, X, T[:, :1])


# --- forward-forward ------------------------------------------------------------------------------------------------

def test_goodness_is_the_sum_of_squares_worked_by_hand():
    np.testing.assert_allclose(goodness([[1.0, 2.0], [0.0, -3.0]]), [5.0, 9.0])


def test_ff_layer_loss_by_hand_and_against_finite_differences():
    # one positive example with goodness 1 and one negative with goodness 4, threshold 2:
    # softplus(2 - 1) + softplus(4 - 2) = log(1 + e) + log(1 + e^2)
    loss, dP, dN = ff_layer_loss([[1.0, 0.0]], [[0.0, 2.0]], 2.0)
    assert loss == pytest.approx(np.log1p(np.e) + np.log1p(np.e ** 2), rel=1e-12)
    sig = lambda x: 1 / (1 + np.exp(-x))                      # noqa: E731
    np.testing.assert_allclose(dP, [[-2 * sig(1.0), 0.0]], rtol=1e-12)
    np.testing.assert_allclose(dN, [[0.0, 2 * sig(2.0) * 2.0]], rtol=1e-12)
    g = np.random.default_rng(2)
    P, Nn = g.normal(size=(4, 3)), g.normal(size=(6, 3))
    _, dP, dN = ff_layer_loss(P, Nn, 1.5)
    np.testing.assert_allclose(dP, numerical_gradient(lambda A: ff_layer_loss(A, Nn, 1.5)[0], P.copy()), atol=1e-8)
    np.testing.assert_allclose(dN, numerical_gradient(lambda A: ff_layer_loss(P, A, 1.5)[0], Nn.copy()), atol=1e-8)


def test_ff_layer_loss_is_finite_for_huge_goodness():
    loss, dP, dN = ff_layer_loss([[1e5, 0.0]], [[1e5, 0.0]], 1.0)
    assert np.isfinite(loss) and loss == pytest.approx(1e10 - 1.0, rel=1e-9)
    assert np.all(np.isfinite(dP)) and np.all(np.isfinite(dN))


def test_embed_label_and_its_validation():
    np.testing.assert_array_equal(embed_label([[0.5, 1.0]], [2], 3), [[0.5, 1.0, 0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="labels"):
        embed_label([[0.5, 1.0]], [3], 3)
    with pytest.raises(ValueError, match="labels"):
        embed_label([[0.5, 1.0]], [0, 1], 3)


def test_forward_forward_learns_a_separable_task_and_counts_passes():
    g = np.random.default_rng(0)
    X = g.normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(int)
    ff = ForwardForward(2, (8,), 2, threshold=2.0, rng=1)
    before = np.mean(ff.predict(X) == y)
    for _ in range(300):
        ff.train_step(X, y, 0.3, g)
    assert np.mean(ff.predict(X) == y) > 0.9 > before
    assert ff.forward_passes == 2 + 600 + 2


def test_forward_forward_step_changes_nothing_when_refused():
    ff = ForwardForward(2, (4, 3), 2, rng=0)
    before = [p.data.copy() for p in ff.parameters()]
    with pytest.raises(ValueError, match="labels"):
        ff.train_step(np.zeros((3, 2)), np.array([0, 1, 2]), 0.1, 0)
    with pytest.raises(ValueError, match="lr"):
        ff.train_step(np.zeros((3, 2)), np.array([0, 1, 1]), 0.0, 0)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, ff.parameters()))
    with pytest.raises(TypeError, match="hidden"):
        ForwardForward(2, 4)
