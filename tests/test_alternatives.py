"""Tests for bptutor.alternatives: gradient estimates against backprop, their exact costs,
dual numbers, feedback alignment, Hebb's and Oja's rules, and bad inputs."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from bptutor.alternatives import (CallCounter, Dual, FeedbackAlignment, GradientEstimate, Objective, angle_between,
                                  backprop_gradient, cosine_similarity, dual_forward, es_gradient,
                                  finite_difference_gradient, flat_grad, flat_params, forward_gradient,
                                  forward_mode_gradient, gradient_descent, hebb_update, norm_error, oja, oja_update,
                                  set_flat_params, spsa_gradient)
from bptutor.datasets import binary_targets, make_moons
from bptutor.gradcheck import rel_error
from bptutor.layers import Linear, Sequential
from bptutor.optim import SGD
from bptutor.regularization import Dropout
from bptutor.training import fit

FAST = settings(max_examples=15, deadline=None)


def small_net(H=4, act=Tanh, C=1, seed=1):
    return Sequential(Linear(2, H, rng=seed), act(), Linear(H, C, rng=seed + 1))


def moons_objective(H=4, N=40):
    X, y = make_moons(N, noise=0.1, rng=0)
    model = small_net(H)
    return model, Objective(model, "bce_logits", X, binary_targets(y))


def quadratic(P=6, seed=0):
    """f = 1/2 theta^T A theta - c^T theta, gradient A theta - c, at a random point."""
    g = np.random.default_rng(seed)
    Q = g.normal(size=(P, P))
    A, c, theta = Q @ Q.T / P + np.eye(P), g.normal(size=P), g.normal(size=P)
    return (lambda th: 0.5 * th @ A @ th - c @ th), A @ theta - c, theta


# --- hand-worked examples ----------------------------------------------------------------------------------

def test_flat_params_order_and_round_trip():
    model = Sequential(Linear.from_arrays([[1.0, 2.0]], [3.0, 4.0]), Tanh(), Linear.from_arrays([[5.0], [6.0]], [7.0]))
    # named_parameters order: 0.W (1, 2), 0.b (2,), 2.W (2, 1), 2.b (1,)
    assert np.array_equal(flat_params(model), [1, 2, 3, 4, 5, 6, 7])
    set_flat_params(model, np.arange(7.0) * 10)
    assert np.array_equal(model[2].W.data, [[40.0], [50.0]])
    assert np.array_equal(flat_params(model), np.arange(7.0) * 10)
    model[0].W.grad[...] = 1.0
    assert np.array_equal(flat_grad(model), [1, 1, 0, 0, 0, 0, 0])


def test_dual_numbers_by_hand():
    # f(x) = x * x + 3 x at x = 2 with tangent 1: value 4 + 6 = 10, derivative 2x + 3 = 7
    x = Dual(2.0, 1.0)
    out = x * x + 3 * x
    assert (float(out.value), float(out.tangent)) == (10.0, 7.0)
    # 1 / x: value 0.5, derivative -1/x^2 = -0.25; x ** 3: 8 and 3 x^2 = 12; 5 - x: 3 and -1
    assert float((1 / x).tangent) == -0.25 and float((x ** 3).tangent) == 12.0
    assert (float((5 - x).value), float((5 - x).tangent)) == (3.0, -1.0)
    # product rule for matrices: (A + dA e)(B + dB e) = AB + (dA B + A dB) e
    A, dA = np.array([[1.0, 2.0]]), np.array([[0.0, 1.0]])
    B, dB = np.array([[3.0], [4.0]]), np.array([[1.0], [0.0]])
    M = Dual(A, dA) @ Dual(B, dB)
    assert M.value.tolist() == [[11.0]]          # 1*3 + 2*4
    assert M.tangent.tolist() == [[5.0]]         # dA B = 4, A dB = 1
    assert (np.ones((1, 1)) @ Dual(A, dA)).tangent.tolist() == [[0.0, 1.0]]  # a constant on the left


@pytest.mark.parametrize("method, derivative", [
    ("exp", np.exp), ("log", lambda x: 1 / x), ("tanh", lambda x: 1 - np.tanh(x) ** 2),
    ("sigmoid", lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2), ("relu", lambda x: (x > 0) * 1.0),
    ("leaky_relu", lambda x: np.where(x > 0, 1.0, 0.01))])
def test_dual_elementwise_derivatives(method, derivative):
    x = np.array([0.3, 1.7, 2.5]) * np.array([1, -1, 1]) if method != "log" else np.array([0.3, 1.7, 2.5])
    v = np.array([1.0, -2.0, 0.5])
    out = getattr(Dual(x, v), method)()
    assert np.allclose(out.tangent, derivative(x) * v, rtol=1e-12)


def test_dual_softmax_matches_finite_differences():
    g = np.random.default_rng(0)
    Z, V = g.normal(size=(3, 4)), g.normal(size=(3, 4))
    h = 1e-6
    from bptutor.activations import softmax
    numeric = (softmax(Z + h * V) - softmax(Z - h * V)) / (2 * h)
    assert np.allclose(Dual(Z, V).softmax().tangent, numeric, atol=1e-9)


def test_cosine_angle_and_norm_error_by_hand():
    assert cosine_similarity([1.0, 0.0], [1.0, 1.0]) == pytest.approx(1 / np.sqrt(2), rel=1e-15)
    assert angle_between([1.0, 0.0], [1.0, 1.0]) == pytest.approx(45.0, rel=1e-12)
    assert angle_between([1.0, 0.0], [-3.0, 0.0]) == pytest.approx(180.0)
    # |(3, 4) - (3, 0)| / |(3, 0)| = 4 / 3
    assert norm_error([3.0, 4.0], [3.0, 0.0]) == pytest.approx(4 / 3, rel=1e-15)


def test_spsa_by_hand_on_a_linear_function():
    # L = a . theta is linear, so the difference is exact: (L(t + c d) - L(t - c d)) / 2c = a . d
    a = np.array([1.0, -2.0, 3.0])
    est = spsa_gradient(lambda th: a @ th, np.zeros(3), c=0.1, n_samples=2, rng=0)
    g = np.random.default_rng(0)
    deltas = [2.0 * g.integers(0, 2, size=3) - 1.0 for _ in range(2)]
    expected = np.mean([(a @ d) / d for d in deltas], axis=0)
    assert np.allclose(est.grad, expected, rtol=1e-12)
    assert est.evaluations == 4 and est.backward_passes == 0 and est.passes == 4


def test_es_by_hand_on_a_quadratic():
    # for a quadratic the antithetic difference is exact: (L(t + s e) - L(t - s e)) / 2s = g . e
    f, grad, theta = quadratic(4)
    est = es_gradient(f, theta, sigma=0.3, n_pairs=3, rng=7)
    eps = np.random.default_rng(7).standard_normal((3, 4))
    assert np.allclose(est.grad, np.mean([(grad @ e) * e for e in eps], axis=0), rtol=1e-10)
    assert est.evaluations == 6


def test_hebb_and_oja_updates_by_hand():
    w, x = np.array([1.0, 0.0]), np.array([1.0, 1.0])
    # y = w.x = 1; Hebb: w + 0.5 * 1 * (1, 1) = (1.5, 0.5)
    assert hebb_update(w, x, 0.5).tolist() == [1.5, 0.5]
    # Oja: w + 0.5 * 1 * ((1, 1) - 1 * (1, 0)) = (1, 0.5)
    assert oja_update(w, x, 0.5).tolist() == [1.0, 0.5]
    assert w.tolist() == [1.0, 0.0]   # new arrays, w unchanged


def test_gradient_descent_by_hand():
    # L = |theta|^2 / 2, gradient theta: each step multiplies theta by (1 - lr) = 0.75
    f = lambda th: 0.5 * th @ th  # noqa: E731
    trace = gradient_descent(f, np.array([2.0, -4.0]), lambda th: GradientEstimate(th.copy(), 3, 1), 0.25, 2)
    assert trace.theta.tolist() == [1.125, -2.25]                     # (2, -4) * 0.75^2
    assert trace.losses.tolist() == [10.0, 5.625, 3.1640625]          # 20/2, 11.25/2, 6.328125/2
    assert trace.passes.tolist() == [0, 4, 8]


# --- estimates against backprop --------------------------------------------------------------------------------

def test_finite_differences_equal_backprop_and_cost_2P():
    model, f = moons_objective()
    bp = backprop_gradient(f)
    f.evaluations = 0
    fd = finite_difference_gradient(f, f.theta0)
    assert rel_error(fd.grad, bp.grad) < 1e-7
    assert fd.evaluations == 2 * f.size == f.evaluations == 2 * 17   # P = 2*4 + 4 + 4 + 1
    assert (bp.evaluations, bp.backward_passes) == (1, 1)


def test_forward_mode_is_exact_and_costs_P():
    model, f = moons_objective()
    bp = backprop_gradient(f)
    f.evaluations = 0
    fm = forward_mode_gradient(f)
    assert rel_error(fm.grad, bp.grad) < 1e-10
    assert fm.evaluations == f.size == f.evaluations and fm.backward_passes == 0


@pytest.mark.parametrize("act", [Sigmoid, Tanh, ReLU, LeakyReLU, Identity])
def test_jvp_equals_backprop_inner_product(act):
    X, y = make_moons(30, noise=0.2, rng=1)
    model = Sequential(Linear(2, 5, rng=3), act(), Linear(5, 3, rng=4), Tanh(), Linear(3, 2, rng=5))
    f = Objective(model, "cross_entropy", X, y)
    v = np.random.default_rng(0).normal(size=f.size)
    loss, grad = f.backprop(f.theta0)
    loss_j, dot = f.jvp(f.theta0, v)
    assert loss_j == pytest.approx(loss, rel=1e-14)
    assert dot == pytest.approx(grad @ v, rel=1e-10)


def test_dual_forward_through_softmax_and_nested_sequential():
    X = np.random.default_rng(0).normal(size=(5, 3))
    model = Sequential(Sequential(Linear(3, 4, rng=0), Sigmoid()), Linear(4, 3, rng=1), Softmax())
    theta, v = flat_params(model), np.random.default_rng(1).normal(size=model.num_parameters())
    h = 1e-6
    out = []
    for sign in (1, -1):
        set_flat_params(model, theta + sign * h * v)
        out.append(model.forward(X))
    set_flat_params(model, theta)
    dual = dual_forward(model, X, v)
    assert np.allclose(dual.value, model.forward(X), rtol=1e-14)
    assert np.allclose(dual.tangent, (out[0] - out[1]) / (2 * h), atol=1e-9)


@FAST
@given(H=st.integers(1, 6), N=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_jvp_matches_finite_differences_on_random_networks(H, N, seed):
    g = np.random.default_rng(seed)
    X, t = g.normal(size=(N, 3)), g.normal(size=(N, 2))
    model = Sequential(Linear(3, H, rng=seed), Tanh(), Linear(H, 2, rng=seed + 1))
    f = Objective(model, "mse", X, t)
    theta, v = f.theta0 + g.normal(size=f.size), g.normal(size=f.size)
    h = 1e-5
    numeric = (f(theta + h * v) - f(theta - h * v)) / (2 * h)
    assert f.jvp(theta, v)[1] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_spsa_and_es_are_unbiased_on_a_quadratic():
    f, grad, theta = quadratic(8)
    spsa = spsa_gradient(f, theta, c=1e-3, n_samples=4000, rng=0)
    es = es_gradient(f, theta, sigma=0.1, n_pairs=4000, rng=0)
    assert cosine_similarity(spsa.grad, grad) > 0.9 and cosine_similarity(es.grad, grad) > 0.9
    # one sample is far from the gradient: the error of the mean shrinks like 1/sqrt(n)
    one = spsa_gradient(f, theta, c=1e-3, n_samples=1, rng=0)
    assert norm_error(one.grad, grad) > 3 * norm_error(spsa.grad, grad)
    assert (spsa.evaluations, es.evaluations) == (8000, 8000)


def test_forward_gradient_is_unbiased_and_costs_one_pass_per_sample():
    model, f = moons_objective()
    bp = backprop_gradient(f)
    f.evaluations = 0
    est = forward_gradient(f, n_samples=800, rng=0)
    assert cosine_similarity(est.grad, bp.grad) > 0.9
    assert est.evaluations == 800 == f.evaluations


def test_estimators_count_calls_of_a_plain_function():
    counted = CallCounter(lambda th: float(th @ th))
    theta = np.arange(5.0)
    assert finite_difference_gradient(counted, theta).evaluations == 10 == counted.calls
    assert spsa_gradient(counted, theta, n_samples=3).evaluations == 6
    assert es_gradient(counted, theta, n_pairs=4).evaluations == 8
    assert counted.calls == 10 + 6 + 8
    assert np.array_equal(theta, np.arange(5.0))   # never changed


# --- the model is left as it was ---------------------------------------------------------------------------------

def test_estimators_leave_parameters_and_gradients_unchanged():
    model, f = moons_objective()
    for p in model.parameters():
        p.grad[...] = 0.5
    before = flat_params(model)
    other = before + 1.0
    backprop_gradient(f, other)
    finite_difference_gradient(f, other)
    forward_mode_gradient(f, other)
    spsa_gradient(f, other, n_samples=2)
    es_gradient(f, other, n_pairs=2)
    assert np.array_equal(flat_params(model), before)
    assert np.all(flat_grad(model) == 0.5)


def test_parameters_restored_when_the_loss_raises():
    X, y = make_moons(10, rng=0)
    model = small_net()
    calls = []

    def bad_loss(pred, target):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("boom")
        return float(np.mean(pred)), np.full(pred.shape, 1 / pred.size)

    f = Objective(model, bad_loss, X, binary_targets(y))
    before = flat_params(model)
    f(before)  # the first call works
    with pytest.raises(RuntimeError, match="boom"):
        finite_difference_gradient(f, before + 3.0)
    with pytest.raises(RuntimeError, match="boom"):
        f.backprop(before - 2.0)
    assert np.array_equal(flat_params(model), before)


# --- feedback alignment -------------------------------------------------------------------------------------------

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


# --- Oja ------------------------------------------------------------------------------------------------------------

def test_oja_converges_to_the_top_principal_component():
    g = np.random.default_rng(0)
    X = g.multivariate_normal([2.0, -1.0, 0.5], [[3.0, 1.0, 0.2], [1.0, 1.0, 0.1], [0.2, 0.1, 0.5]], size=400)
    result = oja(X, lr=0.01, epochs=5, rng=1)
    top = np.linalg.eigh(np.cov(X.T))[1][:, -1]
    assert abs(cosine_similarity(result.w, top)) > 0.99
    assert np.linalg.norm(result.w) == pytest.approx(1.0, abs=0.02)
    assert result.path.shape == (5 * 400 + 1, 3)
    assert np.array_equal(result.path[-1], result.w)
    # without centring it finds the top eigenvector of E[x x^T], pulled towards the mean
    raw = oja(X, lr=0.01, epochs=5, rng=1, center=False).w
    assert abs(cosine_similarity(raw, top)) < abs(cosine_similarity(result.w, top))


def test_hebb_alone_grows_without_bound():
    X = np.random.default_rng(0).normal(size=(200, 2)) * [2.0, 0.5]
    w = np.array([0.6, 0.8])
    for x in X:
        w = hebb_update(w, x, 0.01)
    assert np.linalg.norm(w) > 2.0


# --- bad inputs -------------------------------------------------------------------------------------------------------

def test_bad_inputs_name_the_argument():
    model, f = moons_objective()
    theta = f.theta0
    with pytest.raises(TypeError, match="Objective expected model to be a bptutor Module"):
        Objective("net", "mse", f.X, f.y)
    with pytest.raises(ValueError, match="Objective expected loss to be one of"):
        Objective(model, "hinge", f.X, f.y)
    with pytest.raises(ValueError, match=r"Objective expected y with 40 rows"):
        Objective(model, "mse", f.X, f.y[:3])
    with pytest.raises(ValueError, match=r"Objective\(P=17\) expected theta of shape \(17,\), got \(3,\)"):
        f(np.zeros(3))
    with pytest.raises(ValueError, match=r"expected v of shape \(17,\)"):
        f.jvp(theta, np.zeros(2))
    with pytest.raises(ValueError, match=r"set_flat_params expected theta of shape \(17,\), got \(16,\)"):
        set_flat_params(model, np.zeros(16))
    with pytest.raises(ValueError, match="finite_difference_gradient expected h > 0.0, got 0.0"):
        finite_difference_gradient(f, theta, h=0)
    with pytest.raises(TypeError, match="finite_difference_gradient expected f to be a function of theta"):
        finite_difference_gradient(3.0, theta)
    with pytest.raises(ValueError, match="spsa_gradient expected theta with 1 dimension"):
        spsa_gradient(f, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="spsa_gradient expected n_samples >= 1, got 0"):
        spsa_gradient(f, theta, n_samples=0)
    with pytest.raises(ValueError, match="spsa_gradient expected c > 0.0, got -1.0"):
        spsa_gradient(f, theta, c=-1.0)
    with pytest.raises(TypeError, match="expected rng to be a numpy.random.Generator"):
        es_gradient(f, theta, rng=None)
    with pytest.raises(ValueError, match="es_gradient expected sigma > 0.0"):
        es_gradient(f, theta, sigma=0.0)
    with pytest.raises(TypeError, match="es_gradient expected f to return a scalar loss"):
        es_gradient(lambda th: th, theta)
    with pytest.raises(TypeError, match="forward_mode_gradient expected objective to be a bptutor.alternatives"):
        forward_mode_gradient(lambda th: 0.0)
    with pytest.raises(ValueError, match="forward_gradient expected n_samples >= 1"):
        forward_gradient(f, n_samples=0)
    with pytest.raises(TypeError, match=r"dual_forward supports the layers \['Linear', 'Sequential', 'Sigmoid'"):
        dual_forward(Sequential(Linear(2, 3), Dropout(0.5)), np.zeros((1, 2)), np.zeros(9))
    with pytest.raises(ValueError, match=r"Dual expected tangent of shape \(2,\) \(the shape of value\), got \(3,\)"):
        Dual(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="cosine_similarity expected two non-zero vectors"):
        cosine_similarity([0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="cosine_similarity expected a and b of the same size, got 2 and 3"):
        cosine_similarity([1.0, 0.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="norm_error expected a non-zero reference vector"):
        norm_error([1.0], [0.0])
    with pytest.raises(TypeError, match="gradient_descent expected estimate\\(theta\\) to return a GradientEstimate"):
        gradient_descent(f, theta, lambda th: th, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="gradient_descent expected lr > 0.0"):
        gradient_descent(f, theta, lambda th: backprop_gradient(f, th), lr=0.0, steps=1)
    with pytest.raises(TypeError, match="CallCounter expected f to be callable"):
        CallCounter(None)


def test_bad_inputs_feedback_alignment_and_hebbian():
    with pytest.raises(TypeError, match="FeedbackAlignment expected model to be a Sequential"):
        FeedbackAlignment(Linear(2, 3))
    with pytest.raises(ValueError, match="FeedbackAlignment expected a model with at least two Linear layers"):
        FeedbackAlignment(Sequential(Linear(2, 3), Tanh()))
    with pytest.raises(ValueError, match="FeedbackAlignment expected scale > 0.0, got -1.0"):
        FeedbackAlignment(small_net(), scale=-1.0)
    with pytest.raises(RuntimeError, match="FeedbackAlignment.backward was called before FeedbackAlignment.forward"):
        FeedbackAlignment(small_net()).backward(np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"oja_update expected x of shape \(2,\), got \(3,\)"):
        oja_update(np.ones(2), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="hebb_update expected lr > 0.0, got 0.0"):
        hebb_update(np.ones(2), np.ones(2), 0.0)
    with pytest.raises(ValueError, match="oja_update expected w with 1 dimension"):
        oja_update(np.ones((2, 1)), np.ones(2), 0.1)
    with pytest.raises(ValueError, match="oja expected a non-zero w0"):
        oja(np.ones((4, 2)), w0=np.zeros(2))
    with pytest.raises(ValueError, match=r"oja expected w0 of shape \(2,\), got \(3,\)"):
        oja(np.ones((4, 2)), w0=np.ones(3))
    with pytest.raises(ValueError, match="oja expected epochs >= 1, got 0"):
        oja(np.ones((4, 2)), epochs=0)
    with pytest.raises(ValueError, match="oja expected X with 2 dimensions"):
        oja(np.ones(4))
