"""Tests for bptutor.optim: hand-worked steps, torch parity, quadratic theory, schedules, bad input."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bptutor.engine import Value
from bptutor.activations import Tanh
from bptutor.layers import Parameter, Sequential
from bptutor.optim import (OPTIMIZERS, SGD, AdaGrad, Adam, AdamW, CosineLR, ExponentialLR,  # schedules: re-exported
                           InverseTimeLR, Momentum, Nesterov, RMSProp, StepLR)


class Scalar:
    """The duck type of engine.Value that optimizers rely on: float data and grad."""

    def __init__(self, data):
        self.data, self.grad = float(data), 0.0


def run(opt, param, grads):
    """Feed the gradients one step at a time; return the parameter after each step."""
    out = []
    for g in grads:
        param.grad[...] = g
        opt.step()
        out.append(param.data.copy())
    return out


# --- each rule by hand --------------------------------------------------------------
def test_sgd_by_hand():
    p = Parameter([1.0, -2.0])
    th1, th2 = run(SGD([p], lr=0.1), p, [[0.5, 1.0]] * 2)
    # θ1 = [1, -2] - 0.1 [0.5, 1] = [0.95, -2.1];  θ2 = [0.95, -2.1] - [0.05, 0.1] = [0.9, -2.2]
    np.testing.assert_allclose(th1, [0.95, -2.1], atol=1e-15)
    np.testing.assert_allclose(th2, [0.9, -2.2], atol=1e-15)


def test_momentum_by_hand():
    p = Parameter([1.0, -2.0])
    th = run(Momentum([p], lr=0.1, momentum=0.9), p, [[1.0, -2.0]] * 3)
    # v1 = -0.1 g = [-0.1, 0.2]                          θ1 = [0.9, -1.8]
    # v2 = 0.9 v1 - 0.1 g = [-0.09-0.1, 0.18+0.2] = [-0.19, 0.38]   θ2 = [0.71, -1.42]
    # v3 = 0.9 v2 - 0.1 g = [-0.171-0.1, 0.342+0.2] = [-0.271, 0.542] θ3 = [0.439, -0.878]
    np.testing.assert_allclose(th, [[0.9, -1.8], [0.71, -1.42], [0.439, -0.878]], atol=1e-14)


def test_nesterov_by_hand():
    p = Parameter([1.0, -2.0])
    th = run(Nesterov([p], lr=0.1, momentum=0.9), p, [[1.0, -2.0]] * 2)
    # v1 = [-0.1, 0.2];   θ1 = θ0 + 0.9 v1 - 0.1 g = [1-0.09-0.1, -2+0.18+0.2] = [0.81, -1.62]
    # v2 = [-0.19, 0.38]; θ2 = θ1 + 0.9 v2 - 0.1 g = [0.81-0.171-0.1, -1.62+0.342+0.2] = [0.539, -1.078]
    np.testing.assert_allclose(th, [[0.81, -1.62], [0.539, -1.078]], atol=1e-14)


def test_adagrad_by_hand():
    p = Parameter([1.0, 1.0])
    th = run(AdaGrad([p], lr=0.1), p, [[3.0, -4.0], [4.0, 3.0], [0.0, 0.0]])
    # G1 = [9, 16];  step 0.1 [3/3, -4/4] = [0.1, -0.1]          θ1 = [0.9, 1.1]
    # G2 = [25, 25]; step 0.1 [4/5, 3/5] = [0.08, 0.06]          θ2 = [0.82, 1.04]
    # g3 = 0: G unchanged and no step                            θ3 = θ2
    np.testing.assert_allclose(th, [[0.9, 1.1], [0.82, 1.04], [0.82, 1.04]], atol=1e-9)


def test_rmsprop_by_hand():
    p = Parameter([1.0, 1.0])
    th = run(RMSProp([p], lr=0.1, rho=0.75), p, [[2.0, -1.0], [2.0, 1.0]])
    # s1 = 0.25 [4, 1] = [1, 0.25]; sqrt = [1, 0.5]; step 0.1 [2/1, -1/0.5] = [0.2, -0.2]   θ1 = [0.8, 1.2]
    # s2 = 0.75 s1 + 0.25 [4, 1] = [7/4, 7/16]; sqrt = [√7/2, √7/4]
    # step 0.1 [2/(√7/2), 1/(√7/4)] = [0.4/√7, 0.4/√7] = 0.15118578920 each
    np.testing.assert_allclose(th[0], [0.8, 1.2], atol=1e-9)
    np.testing.assert_allclose(th[1], [0.8 - 0.4 / math.sqrt(7), 1.2 - 0.4 / math.sqrt(7)], atol=1e-9)
    np.testing.assert_allclose(th[1], [0.6488142108, 1.0488142108], atol=1e-9)


def test_adam_by_hand():
    p = Parameter([1.0, 1.0])
    opt = Adam([p], lr=0.1)
    th = run(opt, p, [[2.0, -0.5], [1.0, -0.5]])
    # t=1: m = 0.1 g, v = 0.001 g^2; m_hat = g, v_hat = g^2 -> step 0.1 g/|g| = 0.1 sign(g)
    #      θ1 = [1 - 0.1, 1 + 0.1] = [0.9, 1.1]
    # t=2: m = 0.9 [0.2, -0.05] + 0.1 [1, -0.5] = [0.28, -0.095];  m_hat = m/0.19 = [1.4736842, -0.5]
    #      v = 0.999 [0.004, 0.00025] + 0.001 [1, 0.25] = [0.004996, 0.00049975]
    #      v_hat = v/0.001999 = [2.4992496, 0.25];  sqrt = [1.5809015, 0.5]
    #      θ2 = [0.9 - 0.1 (1.4736842/1.5809015), 1.1 + 0.1 (0.5/0.5)] = [0.8067820, 1.2]
    np.testing.assert_allclose(th[0], [0.9, 1.1], atol=1e-8)
    np.testing.assert_allclose(th[1], [0.8067820, 1.2], atol=1e-7)
    assert opt.t == 2
    np.testing.assert_allclose(opt.m[0], [0.28, -0.095], atol=1e-15)


def test_adamw_by_hand():
    p = Parameter([1.0, -2.0])
    opt = AdamW([p], lr=0.1, weight_decay=0.5)
    th = run(opt, p, [[2.0, -0.5], [1.0, -0.5]])
    # t=1: shrink by 1 - 0.1 * 0.5 = 0.95 -> [0.95, -1.9]; then Adam's first step 0.1 sign(g) -> [0.85, -1.8]
    # t=2: shrink -> [0.8075, -1.71]; Adam's second step is the one of test_adam_by_hand,
    #      [-0.1 (1.4736842/1.5809015), +0.1] = [-0.0932180, 0.1] -> [0.7142820, -1.61]
    np.testing.assert_allclose(th[0], [0.85, -1.8], atol=1e-8)
    np.testing.assert_allclose(th[1], [0.7142820, -1.61], atol=1e-7)
    # the decay never enters the moments: they are Adam's, from the gradients alone
    np.testing.assert_allclose(opt.m[0], [0.28, -0.095], atol=1e-15)


def test_adamw_without_decay_is_adam_and_decay_is_not_an_l2_penalty():
    rng = np.random.default_rng(3)
    starts = rng.normal(size=(2, 5))
    grads = rng.normal(size=(6, 5)) * np.array([1e-3, 1e-2, 1.0, 10.0, 100.0])   # gradient scales differ
    a, w0, w, l2 = (Parameter(starts[0]) for _ in range(4))
    opts = Adam([a], lr=0.05), AdamW([w0], lr=0.05, weight_decay=0.0), AdamW([w], lr=0.05, weight_decay=2.0), \
        Adam([l2], lr=0.05)
    for g in grads:
        for q, opt in zip((a, w0, w, l2), opts):
            q.grad[...] = g + (2.0 * q.data if opt is opts[3] else 0.0)   # L2 penalty: lam * theta in the gradient
            opt.step()
    assert np.array_equal(w0.data, a.data)
    # decoupled: AdamW's moments are Adam's; the L2 penalty's are not
    assert np.array_equal(opts[2].m[0], opts[0].m[0]) and np.array_equal(opts[2].v[0], opts[0].v[0])
    assert not np.allclose(opts[3].m[0], opts[0].m[0])
    assert not np.allclose(l2.data, w.data, atol=1e-2)


def test_adamw_decays_every_weight_alike_where_l2_under_adam_does_not():
    # zero data gradient: AdamW shrinks each weight by exactly (1 - lr lam)^t, whatever its size;
    # an L2 penalty under Adam feeds g = lam theta through m / sqrt(v), a step of about lr per weight
    start = np.array([0.5, 1.0, 100.0])
    w, l2 = Parameter(start), Parameter(start)
    adamw, adam = AdamW([w], lr=0.01, weight_decay=0.1), Adam([l2], lr=0.01)
    for _ in range(10):
        w.grad[...] = 0.0
        l2.grad[...] = 0.1 * l2.data
        adamw.step()
        adam.step()
    np.testing.assert_allclose(w.data / start, (1 - 0.01 * 0.1) ** 10, rtol=1e-12)
    # the L2 penalty under Adam moves every weight by ~lr per step, 0.1 in 10 steps, whatever its size
    np.testing.assert_allclose(start - l2.data, [0.1, 0.1, 0.1], rtol=0.01)
    # so relative to its size the smallest weight lost 20%, the largest 0.1%; AdamW took 1% from each


def test_adamw_decays_only_the_chosen_parameters():
    W, b = Parameter([[1.0, 2.0]]), Parameter([3.0])
    opt = AdamW([W, b], lr=0.1, weight_decay=1.0, decay=[W])
    W.grad[...], b.grad[...] = 0.0, 0.0
    opt.step()
    np.testing.assert_allclose(W.data, [[0.9, 1.8]])
    np.testing.assert_allclose(b.data, [3.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_equals_the_textbook_formula_bit_for_bit(dtype):
    # step() works in place in scratch arrays; it must still be exactly the formula
    # written with fresh arrays, the same operations in the same order.
    rng = np.random.default_rng(0)
    params = [Parameter(rng.normal(size=(32, 16)).astype(dtype)), Parameter(rng.normal(size=16).astype(dtype)),
              Scalar(0.5)]
    lr, beta1, beta2, eps = 0.01, 0.8, 0.99, 1e-6
    opt = Adam(params, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    theta = [np.array(p.data, copy=True) for p in params]
    m = [np.zeros_like(th) for th in theta]
    v = [np.zeros_like(th) for th in theta]
    for t in range(1, 8):
        for i, p in enumerate(params):
            g = rng.normal(size=np.shape(theta[i])) * 10.0 ** rng.integers(-4, 3)
            if isinstance(p, Scalar):
                p.grad = float(g)
            else:
                p.grad[...] = g
                g = p.grad
            m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = beta2 * v[i] + (1.0 - beta2) * g ** 2
            m_hat = m[i] / (1.0 - beta1 ** t)
            v_hat = v[i] / (1.0 - beta2 ** t)
            theta[i] = theta[i] + -lr * m_hat / (np.sqrt(v_hat) + eps)
        grads = [np.array(p.grad, copy=True) for p in params]
        opt.step()
        for i, p in enumerate(params):
            assert np.array_equal(p.data, theta[i]), (t, i)
            assert np.asarray(p.data).dtype == theta[i].dtype
            assert np.array_equal(opt.m[i], m[i]) and np.array_equal(opt.v[i], v[i])
            assert np.array_equal(p.grad, grads[i])  # the gradient is read, never overwritten
    assert params[0].data.dtype == dtype


def test_defaults_are_the_papers():
    p = [Parameter([0.0])]
    adam = Adam(p)
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps) == (1e-3, 0.9, 0.999, 1e-8)
    rms = RMSProp(p)
    assert (rms.lr, rms.rho, rms.eps) == (1e-3, 0.9, 1e-8)
    assert Momentum(p).momentum == 0.9 and AdaGrad(p).eps == 1e-8
    assert list(OPTIMIZERS) == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
    adamw = AdamW(p)
    assert (adamw.lr, adamw.weight_decay, adamw.decayed) == (1e-3, 1e-2, p)   # torch.optim.AdamW's defaults
    assert OPTIMIZERS["adam"] is Adam


def test_heavy_ball_differs_from_torch_form_when_lr_changes():
    p = Parameter([0.0])
    opt = Momentum([p], lr=1.0, momentum=0.5)
    p.grad[...] = 1.0
    opt.step()                      # v = -1, θ = -1
    opt.lr = 0.5
    opt.step()                      # v = 0.5 (-1) - 0.5 (1) = -1, θ = -2
    assert p.data[0] == -2.0


def test_torch_momentum_form_rescales_old_velocity():
    # torch's b = μ b + g, θ -= lr b gives b = 1.5, θ = -1 - 0.5 (1.5) = -1.75, not our -2 (see above)
    torch = pytest.importorskip("torch")
    t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([t], lr=1.0, momentum=0.5)
    t.grad = torch.ones(1, dtype=torch.float64)
    topt.step()
    topt.param_groups[0]["lr"] = 0.5
    topt.step()
    assert t.item() == -1.75


# --- scalar Values, mixed lists, float32 -------------------------------------------------
CONFIGS = [(SGD, {"lr": 0.1}), (Momentum, {"lr": 0.05, "momentum": 0.8}),
           (Nesterov, {"lr": 0.05, "momentum": 0.8}), (AdaGrad, {"lr": 0.3}),
           (RMSProp, {"lr": 0.05, "rho": 0.8}), (Adam, {"lr": 0.1}), (AdamW, {"lr": 0.1, "weight_decay": 0.5})]


def grad_fn(theta):
    """Gradient of f(θ) = Σ θ^4/4 - θ^2/2 + 0.3 θ, a non-quadratic test function."""
    return theta ** 3 - theta + 0.3


@pytest.mark.parametrize("cls, kwargs", CONFIGS)
def test_scalars_and_arrays_follow_the_same_rule(cls, kwargs):
    # one optimizer over [Scalar, Parameter(2,)] must give the same numbers as one over a Parameter(3,)
    start = np.array([0.7, -1.2, 2.0])
    s, q = Scalar(start[0]), Parameter(start[1:])
    ref = Parameter(start)
    mixed, single = cls([s, q], **kwargs), cls([ref], **kwargs)
    for _ in range(5):
        mixed.zero_grad()
        assert s.grad == 0.0 and not q.grad.any()
        s.grad, q.grad[...] = grad_fn(s.data), grad_fn(q.data)
        ref.grad[...] = grad_fn(ref.data)
        mixed.step()
        single.step()
        assert isinstance(s.data, float)
    np.testing.assert_allclose([s.data, *q.data], ref.data, rtol=0, atol=1e-15)
    assert not np.allclose(ref.data, start)


def test_engine_value_by_hand():
    x = Value(3.0)
    opt = SGD([x], lr=0.25)
    x.grad = 2.0
    opt.step()                     # 3 - 0.25 * 2 = 2.5
    assert x.data == 2.5 and isinstance(x.data, float)
    opt.zero_grad()
    assert x.grad == 0.0


@pytest.mark.parametrize("cls, kwargs", CONFIGS)
def test_engine_values_and_parameters_train_together(cls, kwargs):
    # f = (x - 1)^2 + (y + 2)^2 with x a scalar Value (gradient from backward) and y a Parameter
    if cls is AdamW:      # a weak decay: the minimum moves only slightly towards 0
        kwargs = {**kwargs, "weight_decay": 0.01}
    x, y = Value(0.3), Parameter([0.5, -0.5])
    opt = cls([x, y], **kwargs)
    start = abs(x.data - 1) + np.abs(y.data + 2).sum()
    for _ in range(200):
        opt.zero_grad()
        ((x - 1.0) ** 2).backward()
        y.grad[...] = 2 * (y.data + 2)
        opt.step()
    assert abs(x.data - 1) + np.abs(y.data + 2).sum() < 0.2 * start


@pytest.mark.parametrize("cls, kwargs", CONFIGS)
def test_float32_stays_float32_and_updates_in_place(cls, kwargs):
    p = Parameter(np.array([[0.5, -1.0]], dtype=np.float32))
    data = p.data
    opt = cls([p], **kwargs)
    p.grad[...] = grad_fn(p.data)
    opt.step()
    assert p.data is data and p.data.dtype == np.float32
    assert not np.allclose(p.data, [[0.5, -1.0]])


# --- parity with torch.optim ------------------------------------------------------------------
TORCH_CONFIGS = [
    (SGD, {"lr": 0.1}, "SGD", {"lr": 0.1}),
    (Momentum, {"lr": 0.05, "momentum": 0.8}, "SGD", {"lr": 0.05, "momentum": 0.8}),
    (Nesterov, {"lr": 0.05, "momentum": 0.8}, "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    (AdaGrad, {"lr": 0.3, "eps": 1e-8}, "Adagrad", {"lr": 0.3, "eps": 1e-8}),
    (RMSProp, {"lr": 0.05, "rho": 0.8}, "RMSprop", {"lr": 0.05, "alpha": 0.8, "eps": 1e-8}),
    (Adam, {"lr": 0.1}, "Adam", {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8}),
    (AdamW, {"lr": 0.1, "weight_decay": 0.3}, "AdamW",
     {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.3}),
]


@pytest.mark.parametrize("cls, kwargs, torch_name, torch_kwargs", TORCH_CONFIGS)
def test_torch_parity(cls, kwargs, torch_name, torch_kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    starts = [rng.normal(size=(3, 4)), rng.normal(size=(5,))]
    ours = [Parameter(a) for a in starts]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in starts]
    opt = cls(ours, **kwargs)
    topt = getattr(torch.optim, torch_name)(theirs, **torch_kwargs)
    for _ in range(8):
        for p, t in zip(ours, theirs):
            p.grad[...] = grad_fn(p.data)
            t.grad = torch.from_numpy(grad_fn(t.detach().numpy()))
        opt.step()
        topt.step()
    for p, t, a in zip(ours, theirs, starts):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=1e-10)
        assert not np.allclose(p.data, a)


def test_torch_parity_adamw_with_an_undecayed_group():
    # decay=[W] is torch's two parameter groups, the bias's with weight_decay=0
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    starts = [rng.normal(size=(3, 4)), rng.normal(size=(4,))]
    ours = [Parameter(a) for a in starts]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in starts]
    opt = AdamW(ours, lr=0.05, weight_decay=0.8, decay=[ours[0]])
    topt = torch.optim.AdamW([{"params": [theirs[0]], "weight_decay": 0.8},
                              {"params": [theirs[1]], "weight_decay": 0.0}], lr=0.05)
    for _ in range(8):
        for p, t in zip(ours, theirs):
            p.grad[...] = grad_fn(p.data)
            t.grad = torch.from_numpy(grad_fn(t.detach().numpy()))
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=0, atol=1e-10)


def test_adamw_refuses_a_shrink_factor_below_zero_at_step_and_changes_nothing():
    p = Parameter([1.0, 2.0])
    opt = AdamW([p], lr=0.1, weight_decay=5.0)
    opt.lr = 0.5                                  # as a learner or a schedule might
    p.grad[...] = 1.0
    with pytest.raises(ValueError, match=r"^AdamW\.step expected lr \* weight_decay < 1 .*got 0\.5 \* 5 = 2\.5$"):
        opt.step()
    assert np.array_equal(p.data, [1.0, 2.0]) and opt.t == 0 and not opt.m[0].any()


# --- theory on an ill-conditioned quadratic f = 1/2 x^T A x, eigenvalues 1 and L = 100 -----------
def quadratic():
    c, s = np.cos(0.3), np.sin(0.3)
    Q = np.array([[c, -s], [s, c]])      # rotated, so the two coordinates are coupled
    return Q @ np.diag([1.0, 100.0]) @ Q.T


def descend(opt, p, A, steps):
    norms = [np.linalg.norm(p.data)]
    for _ in range(steps):
        p.grad[...] = A @ p.data
        opt.step()
        norms.append(np.linalg.norm(p.data))
    return np.array(norms)


def test_gradient_descent_threshold_is_2_over_L():
    # x_{k+1} = (I - ηA) x_k contracts iff |1 - ηλ| < 1 for every eigenvalue, i.e. η < 2/L = 0.02
    A = quadratic()
    p = Parameter([1.0, 1.0])
    below = descend(SGD([p], lr=0.99 * 2 / 100), p, A, 2000)     # |1 - 1.98| = 0.98 per step
    assert below[-1] < 1e-12 * below[0]
    p = Parameter([1.0, 1.0])
    above = descend(SGD([p], lr=1.01 * 2 / 100), p, A, 500)      # |1 - 2.02| = 1.02 per step
    assert above[-1] > 1e3 * above[0]
    # and the growth rate is the predicted 1.02
    assert (above[-1] / above[-101]) ** (1 / 100) == pytest.approx(1.02, abs=1e-3)


def test_heavy_ball_rate_matches_theory():
    A, m, L = quadratic(), 1.0, 100.0
    kappa = L / m
    lr = 4 / (math.sqrt(L) + math.sqrt(m)) ** 2                            # 4/121
    mu = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2             # (9/11)^2
    theory = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)               # 9/11 = 0.818
    p = Parameter([1.0, 1.0])
    norms = descend(Momentum([p], lr=lr, momentum=mu), p, A, 150)
    # per-step rate measured between steps 50 and 150 (the double roots add a factor (a + bk) -> +1 %)
    measured = (norms[150] / norms[50]) ** (1 / 100)
    assert measured == pytest.approx(theory, abs=0.02)
    # far better than the best gradient descent can do, (κ-1)/(κ+1) = 99/101 = 0.980
    p = Parameter([1.0, 1.0])
    gd = descend(SGD([p], lr=2 / (m + L)), p, A, 150)
    gd_rate = (gd[150] / gd[50]) ** (1 / 100)
    assert gd_rate == pytest.approx(99 / 101, abs=0.005)
    assert measured < gd_rate - 0.1


# --- properties ---------------------------------------------------------------------------
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                    elements=st.floats(-1e3, 1e3))


@settings(max_examples=40, deadline=None)
@given(arrays, st.data(), st.floats(1e-4, 10.0))
def test_sgd_step_property(theta, data, lr):
    g = data.draw(hnp.arrays(np.float64, theta.shape, elements=st.floats(-1e3, 1e3)))
    p = Parameter(theta)
    p.grad[...] = g
    SGD([p], lr=lr).step()
    np.testing.assert_array_equal(p.data, theta - lr * g)


@settings(max_examples=40, deadline=None)
@given(arrays, st.data(), st.floats(1e-4, 1.0))
def test_adam_first_step_is_lr_sign_g(theta, data, lr):
    g = data.draw(hnp.arrays(np.float64, theta.shape, elements=st.floats(-1e3, 1e3)))
    p = Parameter(theta)
    p.grad[...] = g
    Adam([p], lr=lr).step()
    step = theta - p.data
    rounding = 1e-15 * (1 + np.abs(theta))           # θ - θ_new loses digits when |θ| >> lr
    assert np.all(np.abs(step) <= lr + rounding)
    np.testing.assert_allclose(step, lr * g / (np.abs(g) + 1e-8), rtol=1e-12, atol=rounding.max())


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=1, max_size=6), st.sampled_from(CONFIGS))
def test_zero_gradient_leaves_parameters_alone(values, config):
    cls, kwargs = config
    if cls is AdamW:      # decay shrinks weights with no gradient at all: that is its job
        kwargs = {**kwargs, "weight_decay": 0.0}
    p = Parameter(values)
    opt = cls([p], **kwargs)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(p.data, values)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=3, max_size=3), st.floats(1e-3, 1.0))
def test_momentum_zero_is_sgd(grads, lr):
    a, b = Parameter([1.0]), Parameter([1.0])
    heavy, plain = Momentum([a], lr=lr, momentum=0.0), SGD([b], lr=lr)
    for g in grads:
        a.grad[...] = g
        b.grad[...] = g
        heavy.step()
        plain.step()
    np.testing.assert_allclose(a.data, b.data, rtol=1e-15, atol=1e-12)


# --- bad input ------------------------------------------------------------------------------
def good():
    return [Parameter([1.0, 2.0])]


@pytest.mark.parametrize("make, error, match", [
    (lambda: SGD([], lr=0.1), ValueError, r"^SGD expected params to be a non-empty list of Parameter or Value, got an empty list$"),
    (lambda: Adam([1.0]), TypeError, r"^Adam expected params to be a list of Parameter or Value, got float at params\[0\]$"),
    (lambda: SGD(good() + [np.zeros(2)]), TypeError, r"got ndarray at params\[1\]"),
    (lambda: SGD(Sequential(Tanh())), TypeError, r"got a Sequential module; pass model.parameters\(\)"),
    (lambda: SGD(Parameter([1.0])), TypeError, r"^SGD expected params to be a list of Parameter or Value, got Parameter"),
    (lambda: SGD(3), TypeError, r"got 3$"),
    (lambda: Momentum(2 * good()), ValueError, r"^Momentum expected each parameter once, got the same one at params\[0\] and params\[1\]$"),
    (lambda: SGD(good(), lr=0), ValueError, r"^SGD expected lr > 0.0, got 0.0$"),
    (lambda: Adam(good(), lr=-1e-3), ValueError, r"^Adam expected lr > 0.0, got -0.001$"),
    (lambda: SGD(good(), lr="0.1"), TypeError, r"^SGD expected lr to be a real number, got '0.1'$"),
    (lambda: SGD(good(), lr=float("nan")), ValueError, r"^SGD expected lr to be finite, got nan$"),
    (lambda: Momentum(good(), momentum=1.0), ValueError, r"^Momentum expected momentum < 1.0, got 1.0$"),
    (lambda: Nesterov(good(), momentum=-0.1), ValueError, r"^Nesterov expected momentum >= 0.0, got -0.1$"),
    (lambda: RMSProp(good(), rho=1.0), ValueError, r"^RMSProp expected rho < 1.0, got 1.0$"),
    (lambda: Adam(good(), beta1=1.0), ValueError, r"^Adam expected beta1 < 1.0, got 1.0$"),
    (lambda: Adam(good(), beta2=-0.5), ValueError, r"^Adam expected beta2 >= 0.0, got -0.5$"),
    (lambda: AdaGrad(good(), eps=0.0), ValueError, r"^AdaGrad expected eps > 0.0, got 0.0$"),
    (lambda: AdamW(good(), weight_decay=-0.1), ValueError, r"^AdamW expected weight_decay >= 0.0, got -0.1$"),
    (lambda: AdamW(good(), lr=0.1, weight_decay=10.0), ValueError,
     r"^AdamW expected lr \* weight_decay < 1 \(a shrink factor 1 - lr \* weight_decay in \(0, 1\]\), got 0.1 \* 10 = 1$"),
    (lambda: AdamW(good(), decay=[Parameter([0.0])]), ValueError,
     r"^AdamW expected decay to hold parameters from params, got Parameter at decay\[0\] that is not in params$"),
    (lambda: AdamW(good(), decay="W"), TypeError, r"^AdamW expected decay to be None or a list of parameters from params, got 'W'$"),
    (lambda: StepLR(SGD(good()), step_size=0), ValueError, r"^StepLR expected step_size >= 1, got 0$"),
    (lambda: StepLR(SGD(good()), step_size=2, gamma=1.5), ValueError, r"^StepLR expected gamma <= 1.0, got 1.5$"),
    (lambda: ExponentialLR(SGD(good()), gamma=0.0), ValueError, r"^ExponentialLR expected gamma > 0.0, got 0.0$"),
    (lambda: InverseTimeLR(SGD(good()), decay=-1), ValueError, r"^InverseTimeLR expected decay >= 0.0, got -1.0$"),
    (lambda: CosineLR(SGD(good()), T_max=0), ValueError, r"^CosineLR expected T_max >= 1, got 0$"),
    (lambda: CosineLR(SGD(good(), lr=0.1), T_max=5, lr_min=0.5), ValueError, r"^CosineLR expected lr_min <= 0.1, got 0.5$"),
    (lambda: StepLR("sgd", step_size=1), TypeError, r"^StepLR expected optimizer to be a bptutor Optimizer, got 'sgd'$"),
])
def test_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()
