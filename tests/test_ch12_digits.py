"""Tests for bptutor.exercises.ch12_digits: the capstone checks (12) pass a correct solution and name each
injected mistake."""

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def confusion_matrix(y_true, y_pred, n_classes, mode="ok"):
    C = int(max(np.max(y_true), np.max(y_pred))) + 1 if mode == "from_labels" else n_classes
    M = np.zeros((C, C))
    if mode == "fancy":
        M[y_true, y_pred] += 1  # the mistake: a repeated pair is written once
        return M
    for t, p in zip(y_true, y_pred):
        if mode == "swapped":
            M[p, t] += 1
        elif mode == "shifted":
            M[t - 1, p - 1] += 1
        else:
            M[t, p] += 1
    if mode == "normalised":
        M = M / np.maximum(M.sum(axis=1, keepdims=True), 1)
    return M


def input_gradient(X, y, W1, b1, W2, b2, mode="ok"):
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0.0)
    logits = A1 @ W2 + b2
    if mode != "naive_softmax":
        logits = logits - logits.max(axis=1, keepdims=True)
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    dlogits = P.copy()
    if mode != "no_y":
        dlogits[np.arange(len(y)), y] -= 1.0
    if mode == "mean":
        dlogits /= len(y)
    dA1 = dlogits @ W2.T
    dZ1 = dA1 if mode == "no_mask" else dA1 * (Z1 > 0)
    if mode == "W1_not_transposed":
        return dZ1 @ W1  # runs only when D == H
    dX = dZ1 @ W1.T
    return -dX if mode == "sign" else dX


def streamed_mean_std(X, batch_size, mode="ok"):
    if mode == "whole":
        A = np.asarray(X)
        return A.mean(axis=0), A.std(axis=0)
    if mode in ("gathered", "copied"):  # reads one batch at a time, but keeps them all
        starts = range(0, len(X), batch_size)
        if mode == "gathered":
            A = np.concatenate([X[s:s + batch_size] for s in starts])
        else:
            A = np.empty(X.shape)
            for s in starts:
                A[s:s + batch_size] = X[s:s + batch_size]
        return A.mean(axis=0), A.std(axis=0)
    if mode == "swapped":
        mean, std = streamed_mean_std(X, batch_size)
        return std, mean
    N = len(X)
    n, s1, s2, means, stds = 0, 0.0, 0.0, [], []
    for start in range(0, N, batch_size):
        B = X[start:start + batch_size]
        if mode == "last":
            n, s1, s2 = len(B), B.sum(axis=0), (B ** 2).sum(axis=0)
        else:
            n, s1, s2 = n + len(B), s1 + B.sum(axis=0), s2 + (B ** 2).sum(axis=0)
        means.append(B.mean(axis=0))
        stds.append(B.std(axis=0))
        if mode == "first":
            break
    mean = s1 / n
    var = s2 / n - mean ** 2
    if mode == "mean_of_means":
        mean = np.mean(means, axis=0)
    if mode == "ddof1":
        var = var * n / (n - 1)
    std = np.mean(stds, axis=0) if mode == "mean_of_stds" else np.sqrt(var)
    return mean, var if mode == "variance" else std


def streamed_row_by_row(X, batch_size):
    """Running totals over single rows: slow, but streaming, so it passes."""
    n, s1, s2 = 0, 0.0, 0.0
    for row in X:
        n, s1, s2 = n + 1, s1 + row, s2 + row * row
    mean = s1 / n
    return mean, np.sqrt(s2 / n - mean * mean)


def streamed_float32_einsum(X, batch_size):
    """A right answer in float32 arithmetic, with einsum for the sums of squares."""
    n, s1, s2 = 0, np.zeros(X.shape[1], np.float32), np.zeros(X.shape[1], np.float32)
    for start in range(0, len(X), batch_size):
        B = np.asarray(X[start:start + batch_size], dtype=np.float32)
        n += B.shape[0]
        s1 += B.sum(axis=0)
        s2 += np.einsum("nd,nd->d", B, B)
    mean = s1 / n
    return mean, np.sqrt(np.maximum(s2 / n - mean * mean, 0))


def streamed_welford(X, batch_size):
    """Chan et al.'s pairwise merge of batch means and squared deviations: another right formula."""
    n, mean, m2 = 0, 0.0, 0.0
    for start in range(0, len(X), batch_size):
        B = X[start:start + batch_size]
        k, b_mean = B.shape[0], B.mean(axis=0)
        delta, total = b_mean - mean, n + k
        mean = mean + delta * k / total
        m2 = m2 + ((B - b_mean) ** 2).sum(axis=0) + delta ** 2 * n * k / total
        n = total
    return mean, np.sqrt(m2 / n)


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_confusion_matrix, confusion_matrix, [
        ({"mode": "swapped"}, "rows and columns swapped"), ({"mode": "fancy"}, "counted once"),
        ({"mode": "from_labels"}, "not from n_classes"), ({"mode": "normalised"}, "rows were normalised"),
        ({"mode": "shifted"}, "shifted by one")]),
    (ex.check_input_gradient, input_gradient, [
        ({"mode": "mean"}, "gradient of the mean loss"), ({"mode": "no_mask"}, "forgot the ReLU derivative"),
        ({"mode": "no_y"}, "targets were not subtracted"), ({"mode": "sign"}, "sign flip"),
        ({"mode": "naive_softmax"}, "NaN or inf"), ({"mode": "W1_not_transposed"}, "only works for square")]),
    (ex.check_streamed_mean_std, streamed_mean_std, [
        ({"mode": "whole"}, "hold one batch at a time"), ({"mode": "mean_of_means"}, "averaged the batch means"),
        ({"mode": "mean_of_stds"}, "averaged the batch standard deviations"),
        ({"mode": "ddof1"}, "divided by N - 1"), ({"mode": "variance"}, "returned the variance"),
        ({"mode": "last"}, "only the last batch"), ({"mode": "first"}, "only the first batch"),
        ({"mode": "gathered"}, "batches were gathered"), ({"mode": "copied"}, "holds the whole data set"),
        ({"mode": "swapped"}, "swapped order")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


def test_input_gradient_agrees_with_finite_differences():
    result = ex.check_input_gradient(input_gradient)
    assert "finite differences" in result.message, str(result)


@pytest.mark.parametrize("solution", [streamed_row_by_row, streamed_float32_einsum, streamed_welford])
def test_streaming_accepts_other_right_answers(solution):
    result = ex.check_streamed_mean_std(solution)
    assert result.passed, str(result)


def test_gathering_single_rows_is_rejected_as_holding_the_data():
    def rows_in_a_list(X, batch_size):
        A = np.array([row for row in X])
        return A.mean(axis=0), A.std(axis=0)
    result = ex.check_streamed_mean_std(rows_in_a_list)
    assert not result.passed and "held" in result.message and "KB" in result.message, str(result)


def test_attribute_access_is_explained():
    result = ex.check_streamed_mean_std(lambda X, batch_size: (X.mean(axis=0), X.std(axis=0)))
    assert not result.passed and "only serves rows" in result.message, str(result)




# --- choosing on validation, testing once ---------------------------------------------------------------
def search_then_test(configs, val_loss, test_accuracy, mode="ok"):
    if mode == "by_test":
        best = max(configs, key=test_accuracy)
        return best, test_accuracy(best)
    if mode == "test_all":                     # tests every configuration "to be informed", chooses on validation
        tests = [test_accuracy(c) for c in configs]
        i = int(np.argmin([val_loss(c) for c in configs]))
        return configs[i], tests[i]
    if mode == "sorted_in_place":
        configs.sort(key=val_loss)
        return configs[0], test_accuracy(configs[0])
    scores = [val_loss(c) for c in (configs[:-1] if mode == "skip_last" else configs)]
    if mode == "max":
        i = int(np.argmax(scores))
    elif mode == "last_tie":
        i = 0
        for j, v in enumerate(scores):
            if v <= scores[i]:
                i = j
    else:
        i = int(np.argmin(scores))
    if mode == "no_test":
        return configs[i], scores[i]
    if mode == "val_as_test":
        test_accuracy(configs[i])
        return configs[i], scores[i]
    if mode == "tested_other":
        return configs[i], test_accuracy(configs[(i + 1) % len(configs)])
    return configs[i], test_accuracy(configs[i])


def search_with_a_loop(configs, val_loss, test_accuracy):
    """Another right answer: a loop keeping the best so far, a strict < for ties, numpy float scores."""
    best, best_loss = None, np.inf
    for config in configs:
        loss = np.float32(val_loss(config))
        if loss < best_loss:
            best, best_loss = config, loss
    return best, np.float64(test_accuracy(best))


def search_with_min(configs, val_loss, test_accuracy):
    best = min(configs, key=val_loss)
    return best, test_accuracy(best)


SEARCH_CATALOGUE = [(ex.check_search_then_test, search_then_test, [
    ({"mode": "by_test"}, "chosen by test accuracy"), ({"mode": "test_all"}, "evaluated for several"),
    ({"mode": "no_test"}, "never evaluated"), ({"mode": "skip_last"}, "not every configuration was scored"),
    ({"mode": "max"}, "highest validation loss"), ({"mode": "last_tie"}, "tie went to the later"),
    ({"mode": "val_as_test"}, "validation loss was returned as the test score"),
    ({"mode": "tested_other"}, "another configuration than the one returned"),
    ({"mode": "sorted_in_place"}, "list of configurations was changed")])]

test_search_right_answer_passes, test_search_mistakes_are_named = catalogue_tests(SEARCH_CATALOGUE)


@pytest.mark.parametrize("solution", [search_with_a_loop, search_with_min])
def test_search_accepts_other_right_answers(solution):
    result = ex.check_search_then_test(solution)
    assert result.passed, str(result)


def test_search_not_written_yet_is_explained():
    def unwritten(configs, val_loss, test_accuracy):
        raise NotImplementedError("Exercise: search_then_test")
    result = ex.check_search_then_test(unwritten)
    assert not result.passed and "not written yet" in result.diagnosis, str(result)
