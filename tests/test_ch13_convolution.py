"""Tests for bptutor.exercises.ch13_convolution: the convolution checks (13) pass correct solutions written
in different ways, name each injected mistake, and are seeded."""
import functools

import numpy as np

from _catalogue import catalogue_tests

from bptutor import exercises as ex


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def conv2d_backward_loops(dout, X, W, stride, padding, mode="ok"):
    """Loops over output pixels: each one stamps dout * W onto its window (the notebook's solution)."""
    s = 1 if mode == "no_stride" else stride
    p = padding
    Xp = np.pad(X, ((0, 0), (0, 0), (p, p), (p, p)))
    N, F, H_out, W_out = dout.shape
    kH, kW = W.shape[2:]
    dXp, dW, db = np.zeros_like(Xp), np.zeros_like(W), np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = (n, slice(None), slice(i * s, i * s + kH), slice(j * s, j * s + kW))
                    dXp[window] += dout[n, f, i, j] * W[f]
                    if mode == "dW=" and i == 0 and j == 0 and n > 0:
                        dW[f] = 0.0     # what `dW[f] = ...` per image amounts to
                    dW[f] += dout[n, f, i, j] * Xp[window]
                    db[f] += dout[n, f, i, j]
    dX = dXp if mode == "keep_pad" else dXp[:, :, p:p + X.shape[2], p:p + X.shape[3]]
    if mode == "dW_mean":
        dW = dW / N
    if mode == "db_mean":
        db = db / N
    if mode == "db_batch":
        db = dout.sum(axis=0)
    if mode == "db_pixels":
        db = dout.sum(axis=(2, 3))
    if mode == "sign":
        return -dX, -dW, -db
    return (dW, dX, db) if mode == "swapped" else (dX, dW, db)


def conv2d_backward_full(dout, X, W, stride, padding, mode="ok"):
    """dX as a full convolution of the dilated dout with the flipped kernel; dW as a correlation."""
    N, F, H_out, W_out = dout.shape
    C, kH, kW = W.shape[1:]
    p, s = padding, stride
    Hp, Wp = X.shape[2] + 2 * p, X.shape[3] + 2 * p
    D = np.zeros((N, F, (H_out - 1) * s + 1, (W_out - 1) * s + 1))
    D[:, :, ::s, ::s] = dout                                          # stride: zeros between the entries
    D = np.pad(D, ((0, 0), (0, 0), (kH - 1, kH - 1), (kW - 1, kW - 1)))
    K = W if mode == "no_flip" else W[:, :, ::-1, ::-1]
    dXp = np.zeros((N, C, Hp, Wp))
    for y in range(D.shape[2] - kH + 1):
        for x in range(D.shape[3] - kW + 1):
            dXp[:, :, y, x] = np.einsum("nfab,fcab->nc", D[:, :, y:y + kH, x:x + kW], K)
    Xp = np.pad(X, ((0, 0), (0, 0), (p, p), (p, p)))
    dW = np.zeros_like(W)
    for a in range(kH):
        for b in range(kW):
            patch = Xp[:, :, a:a + s * (H_out - 1) + 1:s, b:b + s * (W_out - 1) + 1:s]   # (N, C, H_out, W_out)
            dW[:, :, a, b] = np.einsum("nfij,ncij->fc", dout, patch)
    return dXp[:, :, p:p + X.shape[2], p:p + X.shape[3]], dW, dout.sum(axis=(0, 2, 3))


def max_pool_backward(dout, X, kernel_size, stride, mode="ok"):
    k, s = kernel_size, (1 if mode == "no_stride" else stride)
    dX = np.zeros_like(X)
    N, C, H_out, W_out = dout.shape
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):
        window = X[n, c, i * s:i * s + k, j * s:j * s + k]
        g = dout[n, c, i, j]
        if mode == "window":
            dX[n, c, i * s:i * s + k, j * s:j * s + k] += g
            continue
        if mode == "mean":
            dX[n, c, i * s:i * s + k, j * s:j * s + k] += g / k ** 2
            continue
        if mode == "all_max":
            dX[n, c, i * s:i * s + k, j * s:j * s + k] += g * (window == window.max())
            continue
        if mode == "last":
            a, b = np.argwhere(window == window.max())[-1]
        else:
            a, b = np.unravel_index(np.argmax(window), window.shape)
        value = 1.0 if mode == "ones" else (-g if mode == "sign" else g)
        if mode == "assign":
            dX[n, c, i * s + a, j * s + b] = value
        else:
            dX[n, c, i * s + a, j * s + b] += value
    return dX


def max_pool_backward_vectorized(dout, X, kernel_size, stride):
    """Another correct solution: a mask of the first maximum per window, built with argmax on windows."""
    from numpy.lib.stride_tricks import sliding_window_view
    k, s = kernel_size, stride
    win = sliding_window_view(X, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    idx = win.reshape(*win.shape[:4], k * k).argmax(axis=-1)
    dX = np.zeros_like(X)
    n, c, i, j = np.indices(idx.shape)
    np.add.at(dX, (n, c, i * s + idx // k, j * s + idx % k), dout)
    return dX


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_conv2d_backward, conv2d_backward_loops, [
        ({"mode": "no_stride"}, "stride forgotten"), ({"mode": "keep_pad"}, "padding not removed from dX"),
        ({"mode": "dW="}, "dW from the last image only"), ({"mode": "dW_mean"}, "dW averaged over the batch"),
        ({"mode": "db_mean"}, "db averaged over the batch"), ({"mode": "db_batch"}, "db summed over the batch only"),
        ({"mode": "db_pixels"}, "db summed over the pixels only"), ({"mode": "swapped"}, "wrong order"),
        ({"mode": "sign"}, "sign flip")]),
    (ex.check_conv2d_backward, conv2d_backward_full, [({"mode": "no_flip"}, "kernel not flipped in dX")]),
    (ex.check_max_pool_backward, max_pool_backward, [
        ({"mode": "window"}, "every entry of the window"), ({"mode": "mean"}, "averaged over the window"),
        ({"mode": "all_max"}, "every tied maximum"), ({"mode": "last"}, "the last maximum"),
        ({"mode": "ones"}, "ones instead of dout"), ({"mode": "no_stride"}, "stride forgotten"),
        ({"mode": "assign"}, "= where += belongs"), ({"mode": "sign"}, "sign flip")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


def test_other_correct_solutions_pass():
    assert ex.check_max_pool_backward(max_pool_backward_vectorized).passed
    # float32 arithmetic inside is accepted too: the tolerance is relative
    result = ex.check_max_pool_backward(lambda d, X, k, s: max_pool_backward(d.astype(np.float32), X, k, s))
    assert result.passed, str(result)


def test_a_pass_reports_finite_differences_and_a_failure_names_the_input():
    ok = ex.check_conv2d_backward(conv2d_backward_loops)
    assert "finite differences agree (largest relative error" in ok.message
    bad = ex.check_conv2d_backward(functools.partial(conv2d_backward_loops, mode="no_stride"))
    # the first input has stride 2, so forgetting it already shows there
    assert "on input 1 of 3 (dout (2, 5, 3, 6), X (2, 3, 7, 10), W (5, 3, 4, 2), stride=2, padding=1)" in bad.message


def test_the_tie_case_is_named_in_the_message():
    bad = ex.check_max_pool_backward(functools.partial(max_pool_backward, mode="all_max"))
    assert "tied maxima" in bad.message


def test_an_unwritten_exercise_says_so():
    def conv2d_backward_loops(dout, X, W, stride, padding):
        raise NotImplementedError("Exercise: write it")
    result = ex.check_conv2d_backward(conv2d_backward_loops)
    assert not result.passed and "not written yet" in result.diagnosis


def test_checks_are_seeded_and_rng_changes_the_inputs():
    wrong = functools.partial(max_pool_backward, mode="mean")
    assert str(ex.check_max_pool_backward(wrong)) == str(ex.check_max_pool_backward(wrong))
    assert str(ex.check_max_pool_backward(wrong, rng=1)) != str(ex.check_max_pool_backward(wrong))
