"""Tests for bptutor.exercises.ch11_local_learning: the DFA and forward-forward checks pass correct solutions
written several ways and name each injected mistake."""
import numpy as np

from _catalogue import catalogue_tests

from bptutor import exercises as ex


def ff_layer_loss(H_pos, H_neg, threshold, mode="ok"):
    def goodness(H):
        if mode == "sum":
            return H.sum(axis=1)
        if mode == "mean_sq":
            return (H ** 2).mean(axis=1)
        return (H ** 2).sum(axis=1)
    sign_neg = -1.0 if mode == "neg_sign" else 1.0
    x_pos, x_neg = threshold - goodness(H_pos), sign_neg * (goodness(H_neg) - threshold)
    reduce = np.sum if mode == "no_mean" else np.mean
    loss = reduce(np.log1p(np.exp(x_pos))) + reduce(np.log1p(np.exp(x_neg)))
    s_pos, s_neg = 1 / (1 + np.exp(-x_pos)), 1 / (1 + np.exp(-x_neg))
    if mode == "no_sigmoid":
        s_pos, s_neg = np.ones_like(s_pos), np.ones_like(s_neg)
    two = 1.0 if mode == "no_two" else 2.0
    d_pos = {"sum": np.ones_like(H_pos), "mean_sq": two * H_pos / H_pos.shape[1]}.get(mode, two * H_pos)
    d_neg = {"sum": np.ones_like(H_neg), "mean_sq": two * H_neg / H_neg.shape[1]}.get(mode, two * H_neg)
    n_pos, n_neg = (1, 1) if mode == "no_mean" else (len(H_pos), len(H_neg))
    flip = -1.0 if mode == "flip" else 1.0
    return loss, flip * -s_pos[:, None] * d_pos / n_pos, flip * sign_neg * s_neg[:, None] * d_neg / n_neg


def ff_layer_loss_einsum_float32(H_pos, H_neg, threshold):
    P, N = H_pos.astype(np.float32), H_neg.astype(np.float32)
    g_pos, g_neg = np.einsum("nh,nh->n", P, P), np.einsum("nh,nh->n", N, N)
    s_pos = 1 / (1 + np.exp(g_pos - threshold))              # sigmoid(threshold - G+)
    s_neg = 1 / (1 + np.exp(threshold - g_neg))              # sigmoid(G- - threshold)
    loss = np.mean(np.logaddexp(0, threshold - g_pos)) + np.mean(np.logaddexp(0, g_neg - threshold))
    return float(loss), -2 * s_pos[:, None] * P / len(P), 2 * s_neg[:, None] * N / len(N)


def ff_layer_loss_loops(H_pos, H_neg, threshold):
    loss, dP, dN = 0.0, np.zeros_like(H_pos), np.zeros_like(H_neg)
    for n in range(len(H_pos)):
        G = sum(h * h for h in H_pos[n])
        loss += np.log(1 + np.exp(threshold - G)) / len(H_pos)
        for j in range(H_pos.shape[1]):
            dP[n, j] = -2 * H_pos[n, j] / (1 + np.exp(G - threshold)) / len(H_pos)
    for n in range(len(H_neg)):
        G = sum(h * h for h in H_neg[n])
        loss += np.log(1 + np.exp(G - threshold)) / len(H_neg)
        for j in range(H_neg.shape[1]):
            dN[n, j] = 2 * H_neg[n, j] / (1 + np.exp(threshold - G)) / len(H_neg)
    return loss, dP, dN


def dfa_updates(X, E, Z1, Z2, W2, W3, B1, B2, mode="ok"):
    A1, A2 = np.tanh(Z1), np.tanh(Z2)
    d1_act = 1.0 if mode == "no_fprime" else (1 - Z1 ** 2 if mode == "of_Z" else 1 - A1 ** 2)
    d2_act = 1.0 if mode == "no_fprime" else (1 - Z2 ** 2 if mode == "of_Z" else 1 - A2 ** 2)
    delta2 = (E @ (W3.T if mode == "backprop" else B2)) * d2_act
    delta1 = (delta2 @ W2.T if mode in ("backprop", "through_2") else E @ B1) * d1_act
    return X.T @ delta1, A1.T @ delta2


def dfa_updates_einsum_float32(X, E, Z1, Z2, W2, W3, B1, B2):
    X, E, Z1, Z2, B1, B2 = (a.astype(np.float32) for a in (X, E, Z1, Z2, B1, B2))
    delta1 = np.einsum("nc,ch->nh", E, B1) / np.cosh(Z1) ** 2           # tanh' = 1 / cosh^2
    delta2 = np.einsum("nc,ch->nh", E, B2) / np.cosh(Z2) ** 2
    return np.einsum("nd,nh->dh", X, delta1), np.einsum("nh,nk->hk", np.tanh(Z1), delta2)


def dfa_updates_loops(X, E, Z1, Z2, W2, W3, B1, B2):
    dW1, dW2 = np.zeros((X.shape[1], Z1.shape[1])), np.zeros((Z1.shape[1], Z2.shape[1]))
    for n in range(len(X)):
        d1 = (E[n] @ B1) * (1 - np.tanh(Z1[n]) ** 2)
        d2 = (E[n] @ B2) * (1 - np.tanh(Z2[n]) ** 2)
        dW1 += np.outer(X[n], d1)
        dW2 += np.outer(np.tanh(Z1[n]), d2)
    return dW1, dW2


CATALOGUE = [
    (ex.check_dfa_updates, dfa_updates, [
        ({"mode": "backprop"}, "backprop's transposed weights instead of B"),
        ({"mode": "through_2"}, "layer 1's error came through layer 2"),
        ({"mode": "no_fprime"}, "the activation's derivative is missing"),
        ({"mode": "of_Z"}, "the derivative was taken of Z, not of tanh(Z)")]),
    (ex.check_ff_layer_loss, ff_layer_loss, [
        ({"mode": "sum"}, "goodness as the sum of the activities"),
        ({"mode": "mean_sq"}, "goodness as the mean of the squares"),
        ({"mode": "neg_sign"}, "the negative term has the wrong sign"),
        ({"mode": "no_two"}, "the factor 2 is missing"),
        ({"mode": "no_mean"}, "summed over examples instead of averaged"),
        ({"mode": "no_sigmoid"}, "the softplus's derivative is missing"),
        ({"mode": "flip"}, "the gradient's sign is flipped")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


def test_other_correct_ways_pass():
    for check, solution in ((ex.check_ff_layer_loss, ff_layer_loss_einsum_float32),
                            (ex.check_ff_layer_loss, ff_layer_loss_loops),
                            (ex.check_dfa_updates, dfa_updates_einsum_float32),
                            (ex.check_dfa_updates, dfa_updates_loops)):
        result = check(solution)
        assert result.passed, str(result)


def test_dfa_check_agrees_with_the_package():
    """The check's reference is the rule DirectFeedbackAlignment applies to a real network."""
    from bptutor.activations import Tanh
    from bptutor.layers import Linear, Sequential
    from bptutor.local_learning import DirectFeedbackAlignment
    g = np.random.default_rng(5)
    net = Sequential(Linear(3, 5, rng=1), Tanh(), Linear(5, 4, rng=2), Tanh(), Linear(4, 2, rng=3))
    dfa = DirectFeedbackAlignment(net, rng=4)
    X, E = g.normal(size=(6, 3)), g.normal(size=(6, 2))
    W1, b1, W2, b2, W3, _ = (p.data for p in net.parameters())
    Z1 = X @ W1 + b1
    Z2 = np.tanh(Z1) @ W2 + b2
    dfa.forward(X)
    net.zero_grad()
    dfa.backward(E)
    dW1, dW2 = dfa_updates(X, E, Z1, Z2, W2, W3, dfa.feedback[0], dfa.feedback[2])
    np.testing.assert_allclose(dW1, net.layers[0].W.grad, rtol=1e-12)
    np.testing.assert_allclose(dW2, net.layers[2].W.grad, rtol=1e-12)


def test_changing_the_inputs_in_place_is_caught():
    def ff_layer_loss_in_place(H_pos, H_neg, threshold):
        out = ff_layer_loss(H_pos, H_neg, threshold)
        H_pos *= 0.0
        return out
    result = ex.check_ff_layer_loss(ff_layer_loss_in_place)
    assert not result.passed and "H_pos" in str(result)


def test_an_unfinished_exercise_is_reported_not_raised():
    def ff_layer_loss(H_pos, H_neg, threshold):
        raise NotImplementedError
    result = ex.check_ff_layer_loss(ff_layer_loss)
    assert not result.passed and "not written yet" in result.diagnosis
