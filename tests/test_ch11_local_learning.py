"""Tests for bptutor.exercises.ch11_local_learning: the forward-forward check passes correct solutions written
several ways and names each injected mistake."""
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


CATALOGUE = [
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
    for solution in (ff_layer_loss_einsum_float32, ff_layer_loss_loops):
        result = ex.check_ff_layer_loss(solution)
        assert result.passed, str(result)


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
