"""Tests for bptutor.ensembles: a hand-worked network, equality with S separate fit runs,
finite differences, independence of the networks, the solved criterion and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.datasets import binary_targets, make_xor, symmetry_patterns
from bptutor.ensembles import Ensemble, EnsembleHistory, train_ensemble
from bptutor.gradcheck import numerical_gradient, rel_error
from bptutor.losses import bce_loss, mse_loss
from bptutor.optim import SGD, Momentum
from bptutor.training import fit

NAMES = ("W1", "b1", "W2", "b2")


def one_net(W1, b1, W2, b2, **kw):
    """An ensemble of one network from the weights of a single network."""
    return Ensemble(np.array(W1, float)[None], np.array(b1, float)[None],
                    np.array(W2, float)[None], np.array(b2, float)[None], **kw)


# --- a network worked by hand ------------------------------------------------------------------------
def test_forward_loss_and_gradients_by_hand():
    # D = H = O = 1, x = 2, target 1; W1 = 0, b1 = 0, W2 = 2, b2 = -1.
    e = one_net([[0.0]], [0.0], [[2.0]], [-1.0])
    X, Y = np.array([[2.0]]), np.array([[1.0]])
    A1, out = e.forward(X)
    # hidden: sigma(2*0 + 0) = 0.5;  output: sigma(2*0.5 - 1) = sigma(0) = 0.5
    np.testing.assert_allclose(A1, [[[0.5]]], atol=1e-16)
    np.testing.assert_allclose(out, [[[0.5]]], atol=1e-16)
    loss, g = e.gradients(X, Y)
    # E = 1/2 (0.5 - 1)^2 = 0.125
    np.testing.assert_allclose(loss, [0.125], atol=1e-16)
    # dE/dout = -0.5;  dZ2 = -0.5 * 0.5 * 0.5 = -0.125
    # dW2 = A1 * dZ2 = 0.5 * -0.125 = -0.0625;  db2 = -0.125
    # dA1 = dZ2 * W2 = -0.25;  dZ1 = -0.25 * 0.5 * 0.5 = -0.0625
    # dW1 = x * dZ1 = 2 * -0.0625 = -0.125;  db1 = -0.0625
    expected = {"W1": [[[-0.125]]], "b1": [[-0.0625]], "W2": [[[-0.0625]]], "b2": [[-0.125]]}
    for k in NAMES:
        np.testing.assert_allclose(g[k], expected[k], atol=1e-16)
    # the other reductions: sum = 2 * half_sum; mean over N*O = 1 entry = sum
    np.testing.assert_allclose(e.loss(X, Y, "sum"), [0.25], atol=1e-16)
    np.testing.assert_allclose(e.loss(X, Y, "mean"), [0.25], atol=1e-16)


def test_one_momentum_step_by_hand():
    e = one_net([[0.0]], [0.0], [[2.0]], [-1.0])
    X, Y = np.array([[2.0]]), np.array([[1.0]])
    h = train_ensemble(e, X, Y, epochs=1, lr=0.1, momentum=0.9)
    # v = 0.9 * 0 - 0.1 * g, theta += v: W2 = 2 + 0.00625, b2 = -1 + 0.0125, W1 = 0.0125, b1 = 0.00625
    np.testing.assert_allclose(e.W2, [[[2.00625]]], atol=1e-15)
    np.testing.assert_allclose(e.b2, [[-0.9875]], atol=1e-15)
    np.testing.assert_allclose(e.W1, [[[0.0125]]], atol=1e-15)
    np.testing.assert_allclose(e.b1, [[0.00625]], atol=1e-15)
    np.testing.assert_allclose(h.loss, [[0.125]], atol=1e-16)  # measured before the update
    assert h.loss.shape == (1, 1) and h.final_loss.shape == (1,)
    assert h.final_loss[0] < 0.125


# --- equal to S separate bptutor runs ---------------------------------------------------------------------
def half_sum(pred, target):
    return mse_loss(pred, target, reduction="half_sum")


def mean_mse(pred, target):
    return mse_loss(pred, target, reduction="mean")


@pytest.mark.parametrize("task, seeds, sizes, scale, lr, momentum, epochs, reduction, hidden, output", [
    ("xor", (0, 7), (2, 2, 1), 1.0, 0.5, 0.9, 300, "half_sum", "sigmoid", "sigmoid"),
    ("symmetry", (3, 11), (6, 2, 1), 0.3, 0.1, 0.9, 150, "half_sum", "sigmoid", "sigmoid"),
    ("xor", (1, 2), (2, 3, 1), 0.5, 0.05, 0.0, 200, "mean", "tanh", "identity"),
])
def test_equals_separate_fit_runs(task, seeds, sizes, scale, lr, momentum, epochs, reduction, hidden, output):
    if task == "xor":
        X, y = make_xor()
    else:
        X, y = symmetry_patterns()
    Y = binary_targets(y)
    loss_fn = half_sum if reduction == "half_sum" else mean_mse
    # One ensemble per seed, stacked into one ensemble of len(seeds) networks.
    parts = [Ensemble.uniform(1, sizes, scale, rng=s, hidden=hidden, output=output) for s in seeds]
    ens = Ensemble(*(np.concatenate([getattr(p, k) for p in parts]) for k in NAMES), hidden=hidden, output=output)
    models = [ens.network(s) for s in range(len(seeds))]
    hist = train_ensemble(ens, X, Y, epochs=epochs, lr=lr, momentum=momentum, reduction=reduction)
    for s, model in enumerate(models):
        opt = Momentum(model.parameters(), lr=lr, momentum=momentum) if momentum else SGD(model.parameters(), lr=lr)
        h = fit(model, loss_fn, opt, X, Y, epochs=epochs, progress=False)
        np.testing.assert_allclose(hist.loss[:, s], h.train_loss, rtol=1e-12, atol=1e-12)
        for k, p in zip(NAMES, model.parameters()):
            np.testing.assert_allclose(getattr(ens, k)[s], p.data, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(hist.final_loss[s], loss_fn(model.forward(X), Y)[0], rtol=1e-12, atol=1e-12)


def test_forward_equals_the_sequential_of_each_network():
    X, _ = symmetry_patterns()
    e = Ensemble.uniform(4, (6, 3, 2), 2.0, rng=5, hidden="tanh")
    _, out = e.forward(X)
    for s in range(4):
        np.testing.assert_allclose(out[s], e.network(s).forward(X), rtol=1e-14, atol=1e-15)


# --- gradients against finite differences ---------------------------------------------------------------
@pytest.mark.parametrize("hidden, output, reduction", [("sigmoid", "sigmoid", "half_sum"),
                                                       ("tanh", "identity", "mean"),
                                                       ("identity", "tanh", "sum")])
def test_gradients_match_finite_differences(hidden, output, reduction):
    g = np.random.default_rng(0)
    X, Y = g.normal(size=(5, 3)), g.uniform(size=(5, 2))
    e = Ensemble.uniform(3, (3, 4, 2), 1.0, rng=1, hidden=hidden, output=output)
    _, grads = e.gradients(X, Y, reduction)
    for k in NAMES:
        numeric = numerical_gradient(lambda _: float(np.sum(e.loss(X, Y, reduction))), getattr(e, k), h=1e-5)
        assert rel_error(grads[k], numeric) < 1e-7, k


# --- properties -----------------------------------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(S=st.integers(1, 4), N=st.integers(1, 5), D=st.integers(1, 3), H=st.integers(1, 3), O=st.integers(1, 2),
       seed=st.integers(0, 2 ** 16), momentum=st.sampled_from([0.0, 0.5, 0.9]))
def test_networks_do_not_interact(S, N, D, H, O, seed, momentum):
    g = np.random.default_rng(seed)
    X, Y = g.normal(size=(N, D)), g.uniform(size=(N, O))
    e = Ensemble.uniform(S, (D, H, O), 1.0, rng=seed)
    alone = [e.select([s]) for s in range(S)]
    h = train_ensemble(e, X, Y, epochs=5, lr=0.3, momentum=momentum)
    for s, a in enumerate(alone):
        ha = train_ensemble(a, X, Y, epochs=5, lr=0.3, momentum=momentum)
        np.testing.assert_allclose(h.loss[:, s], ha.loss[:, 0], rtol=1e-12, atol=1e-13)
        for k in NAMES:
            np.testing.assert_allclose(getattr(e, k)[s], getattr(a, k)[0], rtol=1e-12, atol=1e-13)


def test_uniform_is_seeded_bounded_and_fills_in_order():
    a, b = Ensemble.uniform(5, (6, 2, 1), 0.3, rng=0), Ensemble.uniform(5, (6, 2, 1), 0.3, rng=0)
    for k in NAMES:
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
        assert np.all(np.abs(getattr(a, k)) <= 0.3)
    g = np.random.default_rng(0)
    np.testing.assert_array_equal(a.W1, g.uniform(-0.3, 0.3, size=(5, 6, 2)))
    np.testing.assert_array_equal(a.b1, g.uniform(-0.3, 0.3, size=(5, 2)))
    assert a.sizes == (6, 2, 1) and len(a) == 5
    assert not np.array_equal(a.W1, Ensemble.uniform(5, (6, 2, 1), 0.3, rng=1).W1)


def test_copy_and_select_are_independent():
    e = Ensemble.uniform(3, (2, 2, 1), 1.0, rng=0)
    c, s = e.copy(), e.select(np.array([False, True, True]))
    X, Y = make_xor()[0], binary_targets(make_xor()[1])
    train_ensemble(c, X, Y, epochs=3, lr=0.5)
    np.testing.assert_array_equal(e.W1, Ensemble.uniform(3, (2, 2, 1), 1.0, rng=0).W1)
    np.testing.assert_array_equal(s.W1, e.W1[1:])
    assert len(e.select(2)) == 1 and len(e.select(slice(0, 2))) == 2


def test_solved_at_counts_updates():
    X, Y = np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]])
    # Network 0 is solved from the start: output sigma(20 sigma(10 x - 5) - 10) is ~0 at x=0, ~1 at x=1.
    # Network 1 outputs sigma(0) = 0.5 for both, within 0.5 of neither target, and lr is too small to move it.
    e = Ensemble(np.array([[[10.0]], [[0.0]]]), np.array([[-5.0], [0.0]]),
                 np.array([[[20.0]], [[0.0]]]), np.array([[-10.0], [0.0]]))
    h = train_ensemble(e, X, Y, epochs=3, lr=1e-9)
    np.testing.assert_array_equal(h.solved_at, [0, -1])
    np.testing.assert_array_equal(h.solved, [True, False])
    assert isinstance(h, EnsembleHistory) and h.tol == 0.5


def test_solved_at_is_the_first_sweep_that_meets_the_criterion():
    X, y = make_xor()
    Y = binary_targets(y)
    e = Ensemble.uniform(6, (2, 2, 1), 1.0, rng=3)
    start = e.copy()
    h = train_ensemble(e, X, Y, epochs=3000, lr=0.5, momentum=0.9, tol=0.4)
    s = int(np.flatnonzero(h.solved_at > 0)[0])
    t = int(h.solved_at[s])
    for epochs, solved in ((t - 1, False), (t, True)):
        net = start.select([s])
        train_ensemble(net, X, Y, epochs=epochs, lr=0.5, momentum=0.9)
        assert bool(np.all(np.abs(net.forward(X)[1] - Y) < 0.4)) is solved


# --- bad input ----------------------------------------------------------------------------------------------
def good():
    return dict(W1=np.zeros((2, 3, 4)), b1=np.zeros((2, 4)), W2=np.zeros((2, 4, 1)), b2=np.zeros((2, 1)))


@pytest.mark.parametrize("change, error, match", [
    ({"W1": np.zeros((3, 4))}, ValueError, r"Ensemble expected W1 with 3 dimensions, got shape \(3, 4\)"),
    ({"W1": np.zeros((2, 0, 4))}, ValueError, r"expected W1 of shape \(S, D, H\) with every size >= 1"),
    ({"b1": np.zeros((2, 3))}, ValueError, r"expected b1 of shape \(2, 4\) to match W1 \(2, 3, 4\), got \(2, 3\)"),
    ({"W2": np.zeros((2, 3, 1))}, ValueError, r"expected W2 of shape \(2, 4, O\) to match W1"),
    ({"b2": np.zeros((2, 2))}, ValueError, r"expected b2 of shape \(2, 1\) to match W2"),
    ({"W1": np.full((2, 3, 4), np.nan)}, ValueError, r"expected W1 to be finite"),
    ({"W1": "weights"}, TypeError, r"expected W1 to be an array of numbers"),
    ({"hidden": "softplus"}, ValueError, r"expected hidden to be one of \['identity', 'sigmoid', 'tanh'\], got 'softplus'"),
    ({"output": 3}, TypeError, r"expected output to be one of"),
])
def test_bad_construction(change, error, match):
    args = good()
    args.update(change)
    with pytest.raises(error, match=match):
        Ensemble(**args)


@pytest.mark.parametrize("args, error, match", [
    ((0, (2, 2, 1), 1.0), ValueError, r"Ensemble.uniform expected n_networks >= 1, got 0"),
    ((2, (2, 2), 1.0), TypeError, r"expected sizes to be a tuple \(D, H, O\)"),
    ((2, (2, 0, 1), 1.0), ValueError, r"expected sizes\[1\] >= 1, got 0"),
    ((2, (2, 2, 1), 0.0), ValueError, r"expected scale > 0.0, got 0.0"),
    ((2, (2, 2, 1), 1.0, None), TypeError, r"expected rng to be a numpy.random.Generator"),
])
def test_bad_uniform(args, error, match):
    with pytest.raises(error, match=match):
        Ensemble.uniform(*args)


def test_bad_data_and_training_arguments():
    e = Ensemble(**good())
    X, Y = np.zeros((5, 3)), np.zeros((5, 1))
    cases = [
        (lambda: e.forward(np.zeros((5, 2))), ValueError, r"Ensemble.forward expected X of shape \(N, 3\), got \(5, 2\)"),
        (lambda: e.forward(np.zeros(3)), ValueError, r"expected X with 2 dimensions"),
        (lambda: e.loss(X, np.zeros((4, 1))), ValueError, r"Ensemble.loss expected Y of shape \(5, 1\)"),
        (lambda: e.loss(X, np.zeros(5)), ValueError, r"expected Y with 2 dimensions, got shape \(5,\)"),
        (lambda: e.loss(X, Y, "l1"), ValueError, r"expected reduction to be one of"),
        (lambda: e.gradients(np.full((5, 3), np.inf), Y), ValueError, r"expected X to be finite"),
        (lambda: e.network(2), ValueError, r"expected s < 2 \(the number of networks\), got 2"),
        (lambda: e.select(np.array([False, False])), ValueError, r"pick at least one network"),
        (lambda: train_ensemble("nets", X, Y, epochs=1, lr=0.1), TypeError, r"expected ensemble to be an Ensemble"),
        (lambda: train_ensemble(e, X, Y, epochs=0, lr=0.1), ValueError, r"train_ensemble expected epochs >= 1, got 0"),
        (lambda: train_ensemble(e, X, Y, epochs=1.5, lr=0.1), TypeError, r"expected epochs to be an integer"),
        (lambda: train_ensemble(e, X, Y, epochs=1, lr=0.0), ValueError, r"expected lr > 0.0, got 0.0"),
        (lambda: train_ensemble(e, X, Y, epochs=1, lr=0.1, momentum=1.0), ValueError, r"expected momentum < 1.0"),
        (lambda: train_ensemble(e, X, Y, epochs=1, lr=0.1, tol=0.0), ValueError, r"expected tol > 0.0"),
        (lambda: train_ensemble(e, X, np.full((5, 1), np.nan), epochs=1, lr=0.1), ValueError, r"expected Y to be finite"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


# --- binary cross-entropy ---------------------------------------------------------------------------------
def test_bce_loss_and_gradients_by_hand():
    # The network of the first test: hidden 0.5, output sigma(0) = 0.5, target 1.
    e = one_net([[0.0]], [0.0], [[2.0]], [-1.0])
    X, Y = np.array([[2.0]]), np.array([[1.0]])
    loss, g = e.gradients(X, Y, loss="bce")
    # E = -log 0.5 = ln 2
    np.testing.assert_allclose(loss, [np.log(2.0)], rtol=1e-15)
    # dZ2 = out - y = -0.5 (no sigma'(Z2) = 0.25 factor, unlike the squared error's -0.125)
    # dW2 = A1 * dZ2 = -0.25;  db2 = -0.5;  dA1 = dZ2 * W2 = -1;  dZ1 = -1 * 0.5 * 0.5 = -0.25
    # dW1 = x * dZ1 = -0.5;  db1 = -0.25
    expected = {"W1": [[[-0.5]]], "b1": [[-0.25]], "W2": [[[-0.25]]], "b2": [[-0.5]]}
    for k in NAMES:
        np.testing.assert_allclose(g[k], expected[k], atol=1e-16)
    # one entry: "mean" (divided by N*O = 1) equals "sum"
    np.testing.assert_allclose(e.loss(X, Y, "mean", loss="bce"), [np.log(2.0)], rtol=1e-15)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_bce_gradients_equal_the_layers_backward(reduction):
    # Network s through bptutor's Sequential (Linear, Sigmoid, Linear, Sigmoid) and bce_loss on the
    # probabilities: its backward pass multiplies (p - y)/(p(1-p)) by the sigmoid's slope.
    g = np.random.default_rng(2)
    X, Y = g.normal(size=(3, 2)), g.integers(0, 2, size=(3, 2)).astype(float)   # N*O = 6 entries
    e = Ensemble.uniform(4, (2, 5, 2), 1.5, rng=8)
    losses, grads = e.gradients(X, Y, reduction, loss="bce")
    for s in range(len(e)):
        model = e.network(s)
        value, dout = bce_loss(model.forward(X), Y)           # mean over the 6 entries
        model.zero_grad()
        model.backward(dout)
        to_sum = 6.0 if reduction == "sum" else 1.0
        np.testing.assert_allclose(losses[s], value * to_sum, rtol=1e-12)
        for k, p in zip(NAMES, model.parameters()):
            np.testing.assert_allclose(grads[k][s], p.grad * to_sum, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_bce_gradients_match_finite_differences(reduction):
    g = np.random.default_rng(4)
    X, Y = g.normal(size=(5, 3)), g.uniform(size=(5, 2))
    e = Ensemble.uniform(3, (3, 4, 2), 1.0, rng=6, hidden="tanh")
    _, grads = e.gradients(X, Y, reduction, loss="bce")
    for k in NAMES:
        numeric = numerical_gradient(lambda _: float(np.sum(e.loss(X, Y, reduction, loss="bce"))),
                                     getattr(e, k), h=1e-5)
        # an entry near 6e-4 carries finite-difference noise of ~1e-10, hence 1e-6 rather than 1e-7
        assert rel_error(grads[k], numeric) < 1e-6, k


def test_bce_training_equals_separate_fit_runs():
    X, y = make_xor()
    Y = binary_targets(y)
    ens = Ensemble.uniform(3, (2, 3, 1), 1.0, rng=12)
    models = [ens.network(s) for s in range(3)]
    hist = train_ensemble(ens, X, Y, epochs=300, lr=0.5, momentum=0.5, loss="bce", reduction="mean")
    for s, model in enumerate(models):
        h = fit(model, "bce", Momentum(model.parameters(), lr=0.5, momentum=0.5), X, Y, epochs=300, progress=False)
        np.testing.assert_allclose(hist.loss[:, s], h.train_loss, rtol=1e-10)
        for k, p in zip(NAMES, model.parameters()):
            np.testing.assert_allclose(getattr(ens, k)[s], p.data, rtol=1e-10, atol=1e-12)
    # the loss fell: cross-entropy training did something
    assert np.all(hist.final_loss < hist.loss[0])


def test_bce_is_finite_at_saturated_outputs():
    # logit z = +-800: sigma(z) rounds to 1 or 0 exactly, yet the loss is |z| for the wrong target, 0 for the right
    e = one_net([[0.0]], [0.0], [[0.0]], [800.0])
    X = np.array([[1.0], [2.0]])
    np.testing.assert_allclose(e.loss(X, np.array([[0.0], [1.0]]), loss="bce"), [800.0], rtol=1e-15)
    loss, g = e.gradients(X, np.array([[1.0], [1.0]]), loss="bce")
    assert loss[0] == 0.0 and all(np.all(np.isfinite(v)) for v in g.values())


def test_bce_and_squared_error_share_the_solved_criterion():
    X, y = make_xor()
    Y = binary_targets(y)
    start = Ensemble.uniform(20, (2, 2, 1), 1.0, rng=3)
    for loss in ("squared_error", "bce"):
        nets = start.copy()
        h = train_ensemble(nets, X, Y, epochs=400, lr=0.5, tol=0.4, loss=loss)
        met = np.all(np.abs(nets.forward(X)[1] - Y) < 0.4, axis=(1, 2))
        # a network met now must have been recorded as solved at some sweep <= 400
        assert np.all(h.solved[met]) and np.all(h.solved_at[met] <= 400)


def test_bad_loss_arguments_change_nothing():
    e = Ensemble(**good())
    X, Y = np.zeros((5, 3)), np.zeros((5, 1))
    before = {k: getattr(e, k).copy() for k in NAMES}
    cases = [
        (lambda: e.loss(X, Y, loss="hinge"), ValueError, r"Ensemble.loss expected loss to be one of"),
        (lambda: e.loss(X, Y, loss=None), TypeError, r"expected loss to be one of \['bce', 'squared_error'\], got None"),
        (lambda: e.gradients(X, Y, "half_sum", loss="bce"), ValueError,
         r"expected reduction to be one of \['sum', 'mean'\] for loss='bce', got 'half_sum'"),
        (lambda: train_ensemble(e, X, Y, epochs=1, lr=0.1, reduction="l1"), ValueError,
         r"train_ensemble expected reduction to be one of \['half_sum', 'sum', 'mean'\]"),
        (lambda: train_ensemble(Ensemble(**good(), output="identity"), X, Y, epochs=1, lr=0.1, loss="bce"),
         ValueError, r"expected an ensemble with output='sigmoid' for loss='bce'.*got output='identity'"),
        (lambda: train_ensemble(e, X, Y, epochs=1, lr=0.1, loss="bce", tol=2.0), ValueError, r"expected tol <= 1.0"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    for k in NAMES:
        np.testing.assert_array_equal(getattr(e, k), before[k])


# --- stopping once every network is solved ------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["squared_error", "bce"])
def test_until_all_solved_stops_at_the_last_solve_and_changes_no_count(loss):
    X, y = make_xor()
    Y = binary_targets(y)
    start = Ensemble.uniform(12, (2, 4, 1), 1.0, rng=4)
    full_nets, early_nets = start.copy(), start.copy()
    full = train_ensemble(full_nets, X, Y, epochs=3000, lr=0.5, tol=0.4, loss=loss)
    early = train_ensemble(early_nets, X, Y, epochs=3000, lr=0.5, tol=0.4, loss=loss, until_all_solved=True)
    last = int(full.solved_at.max())
    assert full.solved.all() and 0 < last < 3000          # the case is informative: all solve, not at once
    np.testing.assert_array_equal(early.solved_at, full.solved_at)
    assert early.loss.shape == (last, 12)                  # one row per update made
    np.testing.assert_array_equal(early.loss, full.loss[:last])
    np.testing.assert_array_equal(early.final_loss, full.loss[last])   # the state after `last` updates


def test_until_all_solved_runs_every_epoch_while_one_network_is_stuck():
    X, y = make_xor()
    Y = binary_targets(y)
    start = Ensemble.uniform(40, (2, 2, 1), 1.0, rng=0)
    full = train_ensemble(start.copy(), X, Y, epochs=800, lr=0.5, tol=0.4)
    early = train_ensemble(start.copy(), X, Y, epochs=800, lr=0.5, tol=0.4, until_all_solved=True)
    assert not full.solved.all()
    np.testing.assert_array_equal(early.loss, full.loss)
    np.testing.assert_array_equal(early.final_loss, full.final_loss)


def test_until_all_solved_must_be_a_bool():
    e = Ensemble(**good())
    before = e.W1.copy()
    with pytest.raises(TypeError, match=r"train_ensemble expected until_all_solved to be True or False, got 'yes'"):
        train_ensemble(e, np.zeros((5, 3)), np.zeros((5, 1)), epochs=1, lr=0.1, until_all_solved="yes")
    np.testing.assert_array_equal(e.W1, before)


def test_bce_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(9)
    X, Y = g.normal(size=(6, 3)), g.integers(0, 2, size=(6, 2)).astype(float)
    e = Ensemble.uniform(2, (3, 4, 2), 2.0, rng=10, hidden="tanh")
    losses, grads = e.gradients(X, Y, loss="bce")                       # "sum"
    for s in range(len(e)):
        params = {k: torch.tensor(getattr(e, k)[s], requires_grad=True) for k in NAMES}
        A1 = torch.tanh(torch.from_numpy(X) @ params["W1"] + params["b1"])
        Z2 = A1 @ params["W2"] + params["b2"]
        value = torch.nn.functional.binary_cross_entropy_with_logits(Z2, torch.from_numpy(Y), reduction="sum")
        value.backward()
        np.testing.assert_allclose(losses[s], value.item(), rtol=1e-12)
        for k in NAMES:
            np.testing.assert_allclose(grads[k][s], params[k].grad.numpy(), rtol=1e-10, atol=1e-14)
