"""Tests for bptutor.exercises.ch04_backward: the backward-pass checks (04) pass a correct solution, name
each injected mistake, report a wrong shape or value in words, and are seeded."""
import functools

import numpy as np
import pytest

from _catalogue import catalogue_tests

from bptutor import exercises as ex


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- learner solutions, each with switches for the mistakes a check must name -------------------------------

def linear_backward(dout, X, W, mode="ok"):
    dX = dout @ W if mode == "W" else dout @ W.T
    dW = dout.T @ X if mode == "dW.T" else X.T @ dout / (len(X) if mode == "dW/N" else 1)
    db = {"no_sum": dout, "axis1": dout.sum(axis=1), "mean": dout.mean(axis=0)}.get(mode, dout.sum(axis=0))
    if mode == "sign":
        return -dX, -dW, -db
    return (dW, dX, db) if mode == "swapped" else (dX, dW, db)

def sigmoid_backward(dout, Z, mode="ok"):
    s = sig(Z)
    if mode == "no_deriv":
        return dout
    if mode == "no_dout":
        return s * (1 - s)
    if mode == "on_input":
        return dout * Z * (1 - Z)
    if mode == "no_1-s":
        return dout * s
    if mode == "matmul":
        return dout @ (s * (1 - s)).T
    return dout * s * (1 - s) * (-1 if mode == "sign" else 1)

def two_layer_backward(X, T, W1, b1, W2, b2, mode="ok"):
    Z1 = X @ W1 + b1
    H = sig(Z1)
    O = sig(H @ W2 + b2)
    d_o = (O - T) * (1 if mode == "no_out_deriv" else O * (1 - O)) * (-1 if mode == "sign" else 1)
    d_h = (d_o @ (W2 if mode == "W2" else W2.T)) * (1 if mode == "no_hid_deriv" else H * (1 - H))
    dW2 = (Z1 if mode == "Z1" else H).T @ d_o
    dW1 = X.T @ d_h
    if mode == "no_sum":
        return dW1, d_h, dW2, d_o
    dW1, dW2 = (dW1.T if mode == "dW1.T" else dW1), (dW2.T if mode == "dW2.T" else dW2)
    return dW1, d_h.sum(axis=0), dW2, d_o.sum(axis=0)


# check, solution, (mistake switch, words the diagnosis must contain), ...
CATALOGUE = [
    (ex.check_linear_backward, linear_backward, [
        ({"mode": "dW.T"}, "transposed dW"), ({"mode": "W"}, "only works for square"),
        ({"mode": "W"}, "dX uses W instead of W.T"), ({"mode": "no_sum"}, "db not summed over the batch"),
        ({"mode": "axis1"}, "wrong axis"), ({"mode": "mean"}, "averaged instead of summed"),
        ({"mode": "dW/N"}, "dW divided by N"), ({"mode": "swapped"}, "wrong parameter"),
        ({"mode": "sign"}, "sign flip")]),
    (ex.check_sigmoid_backward, sigmoid_backward, [
        ({"mode": "no_deriv"}, "forgot the activation derivative"), ({"mode": "no_dout"}, "forgot the upstream"),
        ({"mode": "on_input"}, "applied to Z instead of sigmoid(Z)"), ({"mode": "no_1-s"}, "(1 - s)"),
        ({"mode": "matmul"}, "elementwise"), ({"mode": "sign"}, "sign flip")]),
    (ex.check_two_layer_backward, two_layer_backward, [
        ({"mode": "no_out_deriv"}, "output sigmoid's derivative"),
        ({"mode": "no_hid_deriv"}, "hidden sigmoid's derivative"), ({"mode": "W2"}, "W2 used where W2.T belongs"),
        ({"mode": "W2"}, "only works for square"), ({"mode": "Z1"}, "Z1 used instead of H"),
        ({"mode": "dW1.T"}, "transposed dW1"), ({"mode": "dW2.T"}, "transposed dW2"),
        ({"mode": "no_sum"}, "not summed over the batch"), ({"mode": "sign"}, "sign flip")]),
]

test_a_correct_solution_passes, test_each_injected_mistake_fails_and_is_named = catalogue_tests(CATALOGUE)


# --- messages -----------------------------------------------------------------------------------------------

def test_a_shape_error_names_both_shapes_and_the_likely_product():
    result = ex.check_linear_backward(functools.partial(linear_backward, mode="dW.T"))
    # the first input has N=5, D=3, H=4, so W is (3, 4) and the transposed dW (4, 3)
    assert "dW has shape (4, 3) but W has shape (3, 4)" in result.message
    assert "did you compute dout.T @ X instead of X.T @ dout?" in result.diagnosis


def test_a_value_error_shows_the_worst_entry_and_finite_differences():
    result = ex.check_linear_backward(functools.partial(linear_backward, mode="dW/N"))
    assert "expected" in result.message and "finite differences give" in result.message
    assert "on input 1 of 3 (dout (5, 4), X (5, 3), W (3, 4))" in result.message


def test_gradient_checks_report_finite_differences_when_they_pass():
    result = ex.check_linear_backward(linear_backward)
    assert "finite differences agree (largest relative error" in result.message
    err = float(result.message.split("relative error ")[1].split(")")[0])
    assert err < 1e-6


def test_checks_are_seeded_and_rng_changes_the_inputs():
    wrong = functools.partial(linear_backward, mode="dW/N")
    assert str(ex.check_linear_backward(wrong)) == str(ex.check_linear_backward(wrong))
    assert str(ex.check_linear_backward(wrong, rng=1)) != str(ex.check_linear_backward(wrong))


# --- any depth: deep_backward --------------------------------------------------------------------------------

def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def deep_backward(X, y, Ws, bs, mode="ok"):
    """The delta recursion as a loop, last layer first; ``mode`` plants one classic mistake."""
    As, Zs = [X], []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        Zs.append(As[-1] @ W + b)
        if l < len(Ws) - 1:
            As.append(np.tanh(Zs[-1]))
    P = softmax(Zs[-1])
    Y = np.zeros_like(P)
    Y[np.arange(len(y)), y] = 1.0
    delta = (Y - P if mode == "sign" else P - Y) / (1 if mode == "no_N" else len(X))
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for l in range(len(Ws) - 1, -1, -1):
        dWs[l] = delta.T @ As[l] if mode == "dW.T" else As[l].T @ delta
        dbs[l] = delta if mode == "no_sum" else delta.sum(axis=0)
        if l > 0:
            W = Ws[l - 1] if mode == "own_W" else Ws[l]
            dA = {"W": lambda: delta @ W, "order": lambda: W.T @ delta}.get(mode, lambda: delta @ W.T)()
            slope = {"no_fprime": 1.0, "fprime_Z": 1 - Zs[l - 1] ** 2}.get(mode, 1 - As[l] ** 2)
            delta = dA * slope
    return dWs, dbs


def deep_backward_einsum(X, y, Ws, bs):
    """The same recursion with einsum, in float32, returning tuples: a correct answer written otherwise."""
    X = X.astype(np.float32)
    Ws = [W.astype(np.float32) for W in Ws]
    bs = [b.astype(np.float32) for b in bs]
    As = [X]
    for W, b in zip(Ws[:-1], bs[:-1]):
        As.append(np.tanh(np.einsum("nd,dh->nh", As[-1], W) + b))
    P = softmax(np.einsum("nd,dh->nh", As[-1], Ws[-1]) + bs[-1])
    P[np.arange(len(y)), y] -= 1
    delta = P / len(X)
    dWs, dbs = [], []
    for l in reversed(range(len(Ws))):
        dWs.insert(0, np.einsum("nd,nh->dh", As[l], delta))
        dbs.insert(0, np.einsum("nh->h", delta))
        if l:
            delta = np.einsum("nh,dh->nd", delta, Ws[l]) * (1 - As[l] ** 2)
    return tuple(dWs), tuple(dbs)


def deep_backward_layers(X, y, Ws, bs):
    """Through bptutor's own layers and loss, one Linear (and Tanh) at a time."""
    from bptutor.activations import Tanh
    from bptutor.layers import Linear
    from bptutor.losses import cross_entropy_loss
    mods = []
    for l, (W, b) in enumerate(zip(Ws, bs)):
        mods += [Linear.from_arrays(W, b)] + ([Tanh()] if l < len(Ws) - 1 else [])
    A = X
    for m in mods:
        A = m.forward(A)
    _, d = cross_entropy_loss(A, y)
    for m in reversed(mods):
        d = m.backward(d)
    lin = [m for m in mods if isinstance(m, Linear)]
    return [m.W.grad for m in lin], [m.b.grad for m in lin]


DEEP_CATALOGUE = [
    (ex.check_deep_backward, deep_backward, [
        ({"mode": "no_N"}, "forgot the 1/N"), ({"mode": "sign"}, "Y - P instead of P - Y"),
        ({"mode": "no_fprime"}, "missing f'"), ({"mode": "fprime_Z"}, "f' computed from Z instead of A"),
        ({"mode": "W"}, "transposed W in the recursion"), ({"mode": "W"}, "only works for square"),
        ({"mode": "order"}, "wrong order of multiplication"),
        ({"mode": "own_W"}, "the layer's own W instead of the next layer's"),
        ({"mode": "dW.T"}, "transposed dW"), ({"mode": "no_sum"}, "biases not summed over the batch")]),
]

test_deep_correct_solution_passes, test_deep_injected_mistake_is_named = catalogue_tests(DEEP_CATALOGUE)


@pytest.mark.parametrize("solution", [deep_backward_einsum, deep_backward_layers])
def test_deep_backward_accepts_answers_written_other_ways(solution):
    result = ex.check_deep_backward(solution)
    assert result.passed, str(result)
    assert [line.split(":")[0] for line in result.message.splitlines()] == ["depth 2", "depth 3", "depth 4"]


def test_deep_backward_pass_reports_finite_differences_at_every_depth():
    result = ex.check_deep_backward(deep_backward)
    for line in result.message.splitlines():
        err = float(line.split("relative error ")[1].split(")")[0])
        assert err < 1e-6


def test_deep_backward_refuses_a_wrong_return_structure_and_mutation():
    flat = ex.check_deep_backward(lambda X, y, Ws, bs: deep_backward(X, y, Ws, bs)[0])
    assert not flat.passed and "return dWs, dbs" in flat.diagnosis

    def in_place(X, y, Ws, bs):
        dWs, dbs = deep_backward(X, y, Ws, bs)
        Ws[0] -= 0.1 * dWs[0]                        # an update leaking into the caller's weights
        return dWs, dbs
    mutated = ex.check_deep_backward(in_place)
    assert not mutated.passed and "changed its input `Ws` in place" in mutated.message


def test_deep_backward_names_the_depth_where_it_fails():
    def only_two_layers(X, y, Ws, bs):
        if len(Ws) > 2:                              # a loop written for L = 2 only: the middle layers wrong
            dWs, dbs = deep_backward(X, y, Ws, bs)
            return [dWs[0] * 0] + dWs[1:], dbs
        return deep_backward(X, y, Ws, bs)
    result = ex.check_deep_backward(only_two_layers)
    assert not result.passed and "depth 3, layer sizes 4-5-3-2" in result.message


# --- the softmax Jacobian -------------------------------------------------------------------------------------

def softmax_jacobian(z, mode="ok"):
    e = np.exp(z if mode == "overflow" else z - z.max())
    p = e / e.sum()
    if mode == "logits":
        p = z
    if mode == "diag_only":
        return np.diag(p * (1 - p))
    if mode == "no_diag":
        return -np.outer(p, p)
    if mode == "dot":
        return np.diag(p) - p @ p
    return np.diag(p) + np.outer(p, p) if mode == "plus" else np.diag(p) - np.outer(p, p)


def softmax_jacobian_loops(z):
    """Entry by entry, in float32: a correct answer written another way."""
    z = np.asarray(z, dtype=np.float32)
    e = np.exp(z - z.max())
    p = e / e.sum()
    C = len(z)
    J = np.zeros((C, C), dtype=np.float32)
    for i in range(C):
        for j in range(C):
            J[i, j] = p[i] * ((i == j) - p[j])
    return J


JACOBIAN_CATALOGUE = [
    (ex.check_softmax_jacobian, softmax_jacobian, [
        ({"mode": "plus"}, "+ p p^T instead of - p p^T"), ({"mode": "diag_only"}, "only the diagonal"),
        ({"mode": "no_diag"}, "diag(p) missing"), ({"mode": "dot"}, "p @ p instead of the outer product"),
        ({"mode": "logits"}, "logits used instead of probabilities"), ({"mode": "overflow"}, "softmax overflowed")]),
]

test_jacobian_correct_solution_passes, test_jacobian_injected_mistake_is_named = catalogue_tests(JACOBIAN_CATALOGUE)


def test_softmax_jacobian_accepts_loops_in_float32_and_the_einsum_form():
    assert ex.check_softmax_jacobian(softmax_jacobian_loops).passed
    einsum = lambda z: (lambda p: np.einsum("i,ij->ij", p, np.eye(len(p))) - np.einsum("i,j->ij", p, p))(
        np.exp(z - z.max()) / np.exp(z - z.max()).sum())
    result = ex.check_softmax_jacobian(einsum)
    assert result.passed and "finite differences agree" in result.message


def test_softmax_jacobian_overflow_is_reported_on_the_large_logits():
    import functools
    result = ex.check_softmax_jacobian(functools.partial(softmax_jacobian, mode="overflow"))
    assert "on input 3 of 3" in result.message and "large logits" in result.message
    assert "NaN" in result.message
