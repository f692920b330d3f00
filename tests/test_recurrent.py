"""Tests for bptutor.recurrent: the RNN step functions, the RNN layer and (truncated) BPTT, the
read-outs, gradient clipping. The LSTM is tested in test_lstm.py, RTRL in test_rtrl.py."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.engine import Value
from bptutor.gradcheck import numerical_gradient, rel_error
from bptutor.layers import Linear, Parameter, Sequential
from bptutor.optim import Adam
from bptutor.recurrent import (LastStep, RNN, TimeDistributed, bptt_hidden, clip_grad_norm, rnn_step_backward,
                               rnn_step_forward)
from bptutor.sequence_tasks import make_adding_problem
from bptutor.training import fit

FAST = settings(max_examples=25, deadline=None)
ACT = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z}


def random_rnn(D, H, nonlinearity="tanh", bptt_steps=None, seed=0):
    g = np.random.default_rng(seed)
    return RNN.from_arrays(g.normal(size=(D, H)), g.normal(size=(H, H)) / np.sqrt(H), g.normal(size=H),
                           nonlinearity=nonlinearity, bptt_steps=bptt_steps)


def naive_forward(X, h0, W_xh, W_hh, b, nonlinearity="tanh"):
    """The recurrence one step and one sequence at a time, the slowest way there is."""
    N, T, _ = X.shape
    out = np.zeros((N, T, W_hh.shape[0]))
    for n in range(N):
        h = h0[n]
        for t in range(T):
            h = ACT[nonlinearity](X[n, t] @ W_xh + h @ W_hh + b)
            out[n, t] = h
    return out


def truncated_objective(X, h0, W_xh, W_hh, b, R, k, fixed, nonlinearity="tanh"):
    """sum_t R_t . h_t, where h_t is recomputed from the state k steps back held fixed (``fixed`` (N, T, H),
    computed at the unperturbed weights) or from h0 when that is before the start: the function whose exact
    gradient truncated BPTT(k) returns."""
    N, T, _ = X.shape
    total = 0.0
    for t in range(T):
        start = t - k + 1
        h = h0 if start <= 0 else fixed[:, start - 1]
        for s in range(max(start, 0), t + 1):
            h = ACT[nonlinearity](X[:, s] @ W_xh + h @ W_hh + b)
        total += np.sum(R[:, t] * h)
    return total


# --- a small case by hand ----------------------------------------------------------------------------------

def test_rnn_worked_by_hand_linear_two_steps():
    # D = H = 1, f(z) = z, W_xh = 2, W_hh = 0.5, b = 1, x = (1, 3), h0 = 0:
    #   h1 = 2*1 + 0.5*0 + 1 = 3,   h2 = 2*3 + 0.5*3 + 1 = 8.5
    # L = h2, so dH = (0, 1):
    #   dz2 = 1;  dh1 = 0 + dz2 * W_hh = 0.5;  dz1 = 0.5;  dh0 = dz1 * W_hh = 0.25
    #   dW_xh = x1 dz1 + x2 dz2 = 0.5 + 3 = 3.5;  dW_hh = h0 dz1 + h1 dz2 = 0 + 3 = 3
    #   db = 0.5 + 1 = 1.5;  dX = W_xh * (dz1, dz2) = (1, 2)
    rnn = RNN.from_arrays([[2.0]], [[0.5]], [1.0], nonlinearity="linear")
    X = np.array([[[1.0], [3.0]]])
    assert rnn.forward(X).ravel().tolist() == [3.0, 8.5]
    dX = rnn.backward(np.array([[[0.0], [1.0]]]))
    assert dX.ravel().tolist() == [1.0, 2.0]
    assert (rnn.W_xh.grad.item(), rnn.W_hh.grad.item(), rnn.b.grad.item()) == (3.5, 3.0, 1.5)
    assert rnn.dh0.item() == 0.25 and rnn.dH_total.ravel().tolist() == [0.5, 1.0]
    # relu computes the same here: every pre-activation is positive
    relu = RNN.from_arrays([[2.0]], [[0.5]], [1.0], nonlinearity="relu")
    assert relu.forward(X).ravel().tolist() == [3.0, 8.5]


def test_truncation_to_one_step_cuts_the_path_through_w_hh_by_hand():
    # bptt_steps=1: the loss at h2 reaches step 2 only. dz2 = 1, nothing flows on to h1:
    #   dW_xh = x2 dz2 = 3, dW_hh = h1 dz2 = 3, db = 1, dX = (0, 2), dh0 = 0
    rnn = RNN.from_arrays([[2.0]], [[0.5]], [1.0], nonlinearity="linear", bptt_steps=1)
    rnn.forward(np.array([[[1.0], [3.0]]]))
    dX = rnn.backward(np.array([[[0.0], [1.0]]]))
    assert dX.ravel().tolist() == [0.0, 2.0]
    assert (rnn.W_xh.grad.item(), rnn.W_hh.grad.item(), rnn.b.grad.item(), rnn.dh0.item()) == (3.0, 3.0, 1.0, 0.0)


def test_tanh_step_by_hand():
    # x = 1, h_prev = 0, W_xh = 0.5: h = tanh(0.5) = 0.46211716; f'(z) = 1 - h^2 = 0.78644773
    h, cache = rnn_step_forward([[1.0]], [[0.0]], [[0.5]], [[1.0]], [0.0])
    assert h.item() == pytest.approx(0.46211716, abs=1e-8)
    dx, dh_prev, dW_xh, dW_hh, db = rnn_step_backward([[1.0]], cache)
    # dz = 0.78644773;  dx = dz * 0.5;  dh_prev = dz * 1;  dW_xh = 1 * dz;  dW_hh = 0 * dz
    assert dx.item() == pytest.approx(0.39322387, abs=1e-8)
    assert dh_prev.item() == db.item() == dW_xh.item() == pytest.approx(0.78644773, abs=1e-8)
    assert dW_hh.item() == 0.0


# --- the layer agrees with a naive loop, the step functions, finite differences and the Value engine ----------

@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "linear"])
def test_forward_equals_a_naive_loop_and_the_step_functions(nonlinearity):
    g = np.random.default_rng(1)
    rnn = random_rnn(3, 4, nonlinearity, seed=2)
    X, h0, dH = g.normal(size=(2, 5, 3)), g.normal(size=(2, 4)), g.normal(size=(2, 5, 4))
    W = (rnn.W_xh.data, rnn.W_hh.data, rnn.b.data)
    out = rnn.forward(X, h0)
    assert np.allclose(out, naive_forward(X, h0, *W, nonlinearity), atol=1e-12)
    dX = rnn.backward(dH)
    # BPTT with the step functions: the loop a learner writes
    h, caches = h0, []
    for t in range(5):
        h, cache = rnn_step_forward(X[:, t], h, *W, nonlinearity=nonlinearity)
        caches.append(cache)
    dh_next, grads = np.zeros((2, 4)), [np.zeros_like(w) for w in W]
    for t in reversed(range(5)):
        dx, dh_next, *step_grads = rnn_step_backward(dH[:, t] + dh_next, caches[t])
        assert np.allclose(dx, dX[:, t], atol=1e-12)
        for acc, sg in zip(grads, step_grads):
            acc += sg
    assert np.allclose(dh_next, rnn.dh0, atol=1e-12)
    for acc, p in zip(grads, rnn.parameters()):
        assert np.allclose(acc, p.grad, atol=1e-12)


@FAST
@given(N=st.integers(1, 3), T=st.integers(1, 5), D=st.integers(1, 3), H=st.integers(1, 4),
       k=st.one_of(st.none(), st.integers(1, 6)), nonlinearity=st.sampled_from(["tanh", "linear"]),
       seed=st.integers(0, 10_000))
def test_gradients_match_finite_differences(N, T, D, H, k, nonlinearity, seed):
    g = np.random.default_rng(seed)
    rnn = random_rnn(D, H, nonlinearity, k, seed=seed)
    X, h0, R = g.normal(size=(N, T, D)), g.normal(size=(N, H)), g.normal(size=(N, T, H))
    fixed = rnn.forward(X, h0)
    dX = rnn.backward(R)
    kk = T if k is None else k
    W_xh, W_hh, b = rnn.W_xh.data.copy(), rnn.W_hh.data.copy(), rnn.b.data.copy()

    def objective(_):
        return truncated_objective(X, h0, W_xh, W_hh, b, R, kk, fixed, nonlinearity)

    for name, mine, theirs in (("X", dX, X), ("h0", rnn.dh0, h0), ("W_xh", rnn.W_xh.grad, W_xh),
                               ("W_hh", rnn.W_hh.grad, W_hh), ("b", rnn.b.grad, b)):
        numeric = numerical_gradient(objective, theirs, h=1e-6)
        assert rel_error(mine, numeric) < 1e-6 or np.max(np.abs(mine - numeric)) < 1e-8, name


def test_truncation_changes_the_gradient_only_beyond_k_steps():
    # a loss on the last step only: truncated to k, the inputs before step T - k get exactly no gradient
    g = np.random.default_rng(3)
    X, R = g.normal(size=(2, 8, 3)), np.zeros((2, 8, 4))
    R[:, -1] = g.normal(size=(2, 4))
    full, cut = random_rnn(3, 4, seed=4), random_rnn(3, 4, bptt_steps=3, seed=4)
    full.forward(X), cut.forward(X)
    dX_full, dX_cut = full.backward(R), cut.backward(R)
    assert np.array_equal(dX_cut[:, :5], np.zeros((2, 5, 3)))
    assert np.allclose(dX_cut[:, 5:], dX_full[:, 5:], atol=1e-14)
    assert np.abs(dX_full[:, :5]).min() > 0
    # k >= T is full BPTT
    longer = random_rnn(3, 4, bptt_steps=8, seed=4)
    longer.forward(X)
    assert np.array_equal(longer.backward(R), dX_full)


def test_the_same_gradients_from_the_value_engine():
    g = np.random.default_rng(5)
    N, T, D, H = 2, 3, 2, 2
    rnn = random_rnn(D, H, seed=6)
    X, R = g.normal(size=(N, T, D)), g.normal(size=(N, T, H))
    rnn.forward(X)
    dX = rnn.backward(R)
    V = {name: [[Value(float(v)) for v in row] for row in np.atleast_2d(p.data)]
         for name, p in rnn.named_parameters()}
    Xv = [[[Value(float(v)) for v in X[n, t]] for t in range(T)] for n in range(N)]
    loss = Value(0.0)
    for n in range(N):
        h = [Value(0.0) for _ in range(H)]
        for t in range(T):
            h = [(sum((Xv[n][t][i] * V["W_xh"][i][j] for i in range(D)), Value(0.0))
                  + sum((h[i] * V["W_hh"][i][j] for i in range(H)), Value(0.0)) + V["b"][0][j]).tanh()
                 for j in range(H)]
            loss = loss + sum((h[j] * float(R[n, t, j]) for j in range(H)), Value(0.0))
    loss.backward()
    for name, p in rnn.named_parameters():
        engine = np.array([[v.grad for v in row] for row in V[name]]).reshape(p.shape)
        assert np.allclose(engine, p.grad, atol=1e-12), name
    assert np.allclose([[[v.grad for v in Xv[n][t]] for t in range(T)] for n in range(N)], dX, atol=1e-12)


def test_gradients_accumulate_and_input_grad_false_skips_dx():
    g = np.random.default_rng(7)
    rnn = random_rnn(2, 3, seed=8)
    X, R = g.normal(size=(4, 5, 2)), g.normal(size=(4, 5, 3))
    rnn.forward(X)
    dX = rnn.backward(R)
    once = [p.grad.copy() for p in rnn.parameters()]
    assert rnn.backward(R, input_grad=False) is None
    for p, g1 in zip(rnn.parameters(), once):
        assert np.allclose(p.grad, 2 * g1)
    assert dX.shape == X.shape and rnn.dH_total.shape == (4, 5, 3) and rnn.dh0.shape == (4, 3)


def test_float32_in_float32_out_and_close_to_float64():
    g = np.random.default_rng(9)
    X, R = g.normal(size=(3, 6, 2)), g.normal(size=(3, 6, 4))
    r64, r32 = RNN(2, 4, rng=1), RNN(2, 4, rng=1, dtype=np.float32)
    out32 = r32.forward(X.astype(np.float32))
    assert out32.dtype == np.float32 and r32.W_hh.data.dtype == np.float32
    assert np.allclose(out32, r64.forward(X), atol=1e-5)
    dX32 = r32.backward(R.astype(np.float32))
    assert dX32.dtype == np.float32 and r32.W_hh.grad.dtype == np.float32
    assert np.allclose(dX32, r64.backward(R), atol=1e-4)


def test_init_follows_pytorch_and_parameters_are_registered_in_order():
    rnn = RNN(3, 16, rng=0)
    assert [n for n, _ in rnn.named_parameters()] == ["W_xh", "W_hh", "b"]
    assert rnn.W_xh.shape == (3, 16) and rnn.W_hh.shape == (16, 16) and rnn.b.shape == (16,)
    assert np.abs(rnn.W_hh.data).max() <= 0.25 and np.abs(rnn.W_hh.data).max() > 0.2   # U(-1/4, 1/4)
    assert np.all(rnn.b.data == 0) and rnn.num_parameters() == 3 * 16 + 16 * 16 + 16
    assert np.array_equal(RNN(3, 16, rng=0).W_hh.data, rnn.W_hh.data)
    assert not np.array_equal(RNN(3, 16, rng=1).W_hh.data, rnn.W_hh.data)
    assert repr(RNN(2, 3, "relu", bptt_steps=4)) == "RNN(2, 3, nonlinearity='relu', bptt_steps=4)"


def test_bptt_hidden_keeps_one_gradient_per_output_in_reach():
    # linear, W_hh = 2 I, slope 1: the gradient at h_t is sum over outputs s >= t in reach of 2^(s - t)
    T, k = 5, 2
    dH = np.ones((T, 1, 1))
    dZ, dh0, G = bptt_hidden(dH, np.ones((T, 1, 1)), 2.0 * np.eye(1), k)
    # each h_t gets its own output (1) and the next one's, sent back one step (2): 3, except the last
    assert G.ravel().tolist() == [3.0, 3.0, 3.0, 3.0, 1.0]
    assert dh0.item() == 6.0   # outputs 0 and 1 reach h0: (1 * 2) + (2 * 2)


# --- inside a Sequential, trained by fit ----------------------------------------------------------------------

def test_last_step_and_time_distributed_by_hand():
    X = np.arange(12.0).reshape(1, 3, 4)
    last = LastStep()
    assert last.forward(X).tolist() == [[8.0, 9.0, 10.0, 11.0]]
    dX = last.backward(np.ones((1, 4)))
    assert dX[0, :2].sum() == 0 and dX[0, 2].tolist() == [1.0] * 4
    lin = Linear.from_arrays(np.ones((4, 1)), [0.5])
    td = TimeDistributed(lin)
    assert td.forward(X).ravel().tolist() == [6.5, 22.5, 38.5]            # 0+1+2+3 + 0.5, ...
    td.backward(np.ones((1, 3, 1)))
    assert lin.W.grad.ravel().tolist() == [12.0, 15.0, 18.0, 21.0]         # summed over the 3 steps
    assert lin.b.grad.item() == 3.0 and [n for n, _ in td.named_parameters()] == ["module.W", "module.b"]


def test_an_rnn_learns_the_short_adding_problem_with_fit():
    X, y = make_adding_problem(400, 6, rng=0)
    model = Sequential(RNN(2, 16, rng=0), LastStep(), Linear(16, 1, rng=1))
    history = fit(model, "mse", Adam(model.parameters(), lr=0.01), X, y, epochs=60, batch_size=40,
                  progress=False)
    # predicting the mean scores Var(u1 + u2) = 1/6
    assert history.train_loss[0] > 0.1 and history.train_loss[-1] < 0.03


# --- clipping ----------------------------------------------------------------------------------------------------

def test_clip_grad_norm_by_hand():
    a, b = Parameter(np.zeros(1), "a"), Parameter(np.zeros(1), "b")
    a.grad[...], b.grad[...] = 3.0, 4.0                 # norm 5
    assert clip_grad_norm([a, b], 10.0) == 5.0 and (a.grad.item(), b.grad.item()) == (3.0, 4.0)
    assert clip_grad_norm([a, b], 1.0) == 5.0
    assert a.grad.item() == pytest.approx(0.6, rel=1e-6) and b.grad.item() == pytest.approx(0.8, rel=1e-6)
    a.grad[...], b.grad[...] = 3e200, 4e200              # squaring would overflow
    assert clip_grad_norm([a, b], 1.0) == pytest.approx(5e200)
    assert np.hypot(a.grad.item(), b.grad.item()) == pytest.approx(1.0, rel=1e-6)


def test_clip_grad_norm_refuses_non_finite_gradients_and_changes_nothing():
    a, b = Parameter(np.zeros(2), "a"), Parameter(np.zeros(1), "b")
    a.grad[...], b.grad[...] = 100.0, np.nan
    with pytest.raises(ValueError, match=r"clip_grad_norm expected the gradient of b to be finite, got 1 NaN"):
        clip_grad_norm([a, b], 1.0)
    assert a.grad.tolist() == [100.0, 100.0]


# --- PyTorch parity ----------------------------------------------------------------------------------------------

def torch_rnn(rnn, torch):
    """torch.nn.RNN with ``rnn``'s weights: weight_ih = W_xh.T, weight_hh = W_hh.T, bias_ih = b, bias_hh = 0."""
    net = torch.nn.RNN(rnn.input_size, rnn.hidden_size, nonlinearity=rnn.nonlinearity, batch_first=True,
                       dtype=torch.float64)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(rnn.W_xh.data.T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(rnn.W_hh.data.T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(rnn.b.data.copy()))
        net.bias_hh_l0.zero_()
    return net


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("k", [None, 1, 3])
@pytest.mark.parametrize("N, T, D, H", [(3, 7, 4, 5), (1, 1, 2, 3), (5, 12, 1, 8)])
def test_matches_torch_rnn_in_float64(nonlinearity, k, N, T, D, H):
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(N * 100 + T)
    rnn = random_rnn(D, H, nonlinearity, k, seed=T)
    X, h0, R = g.normal(size=(N, T, D)), g.normal(size=(N, H)), g.normal(size=(N, T, H))
    out = rnn.forward(X, h0)
    dX = rnn.backward(R)
    net = torch_rnn(rnn, torch)
    Xt, h0t = torch.tensor(X, requires_grad=True), torch.tensor(h0, requires_grad=True)
    Y, h_last = net(Xt, h0t[None])
    assert np.abs(Y.detach().numpy() - out).max() < 1e-10
    assert np.abs(h_last[0].detach().numpy() - out[:, -1]).max() < 1e-10
    if k is None:
        loss = (Y * torch.from_numpy(R)).sum()
    else:  # BPTT(k) in PyTorch: each output recomputed from the state k steps back, detached
        loss = 0
        for t in range(T):
            start = t - k + 1
            state = h0t if start <= 0 else Y[:, start - 1].detach()
            Ys, _ = net(Xt[:, max(start, 0):t + 1], state[None].contiguous())
            loss = loss + (Ys[:, -1] * torch.from_numpy(R[:, t])).sum()
    loss.backward()
    pairs = [(dX, Xt.grad), (rnn.dh0, h0t.grad), (rnn.W_xh.grad, net.weight_ih_l0.grad.T),
             (rnn.W_hh.grad, net.weight_hh_l0.grad.T), (rnn.b.grad, net.bias_ih_l0.grad),
             (rnn.b.grad, net.bias_hh_l0.grad)]   # two biases in PyTorch, each gets the whole db
    for mine, theirs in pairs:
        assert np.abs(mine - theirs.numpy()).max() < 1e-10


# --- bad input ---------------------------------------------------------------------------------------------------

def _backward_before_forward():
    RNN(2, 3).backward(np.zeros((1, 1, 3)))


BAD = [
    (lambda: RNN(0, 3), ValueError, r"RNN expected input_size >= 1, got 0"),
    (lambda: RNN(2, 2.5), TypeError, r"RNN expected hidden_size to be an integer, got 2.5"),
    (lambda: RNN(2, 3, "sigmoid"), ValueError,
     r"RNN expected nonlinearity to be one of \['linear', 'relu', 'tanh'\], got 'sigmoid'"),
    (lambda: RNN(2, 3, None), TypeError, r"RNN expected nonlinearity to be one of"),
    (lambda: RNN(2, 3, bptt_steps=0), ValueError, r"RNN expected bptt_steps >= 1, got 0"),
    (lambda: RNN(2, 3, bptt_steps=True), TypeError, r"RNN expected bptt_steps to be an integer, got True"),
    (lambda: RNN(2, 3, rng=None), TypeError, r"expected rng to be a numpy.random.Generator"),
    (lambda: RNN(2, 3, dtype=np.int32), TypeError, r"RNN expected dtype to be float32 or float64"),
    (lambda: RNN(2, 3).forward(np.zeros((5, 2))), ValueError, r"RNN\(2, 3\) expected X of shape \(N, T, 2\), got \(5, 2\)"),
    (lambda: RNN(2, 3).forward(np.zeros((5, 4, 3))), ValueError,
     r"RNN\(2, 3\) expected X of shape \(N, T, 2\), got \(5, 4, 3\)"),
    (lambda: RNN(2, 3).forward(np.zeros((5, 0, 2))), ValueError, r"expected X with at least one sequence"),
    (lambda: RNN(2, 3).forward("abc"), TypeError, r"RNN\(2, 3\) expected X to be an array of numbers"),
    (lambda: RNN(2, 3).forward(np.zeros((5, 4, 2)), np.zeros((4, 3))), ValueError,
     r"RNN\(2, 3\) expected h0 of shape \(5, 3\), got \(4, 3\)"),
    (_backward_before_forward, RuntimeError, r"RNN.backward was called before RNN.forward"),
    (lambda: RNN.from_arrays(np.zeros((2, 3)), np.zeros((3, 2)), np.zeros(3)), ValueError,
     r"RNN.from_arrays expected W_hh of shape \(3, 3\), got \(3, 2\)"),
    (lambda: RNN.from_arrays(np.zeros((2, 3)), np.full((3, 3), np.inf), np.zeros(3)), ValueError,
     r"RNN.from_arrays expected W_hh to be finite"),
    (lambda: rnn_step_forward(np.zeros((4, 2)), np.zeros((4, 3)), np.zeros((2, 3)), np.zeros((3, 3)), np.zeros(2)),
     ValueError, r"rnn_step_forward expected b of shape \(3,\), got \(2,\)"),
    (lambda: rnn_step_forward(np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((2, 3)), np.zeros((3, 3)), np.zeros(3)),
     ValueError, r"rnn_step_forward expected x of shape \(N, 2\), got \(4, 3\)"),
    (lambda: rnn_step_backward(np.zeros((4, 3)), None), TypeError,
     r"rnn_step_backward expected the cache returned by rnn_step_forward"),
    (lambda: LastStep().forward(np.zeros((2, 3))), ValueError, r"LastStep\(\) expected X of shape \(N, T, H\)"),
    (lambda: TimeDistributed(np.tanh), TypeError, r"TimeDistributed expected module to be a bptutor Module"),
    (lambda: clip_grad_norm([Parameter(np.zeros(1))], 0.0), ValueError, r"clip_grad_norm expected max_norm > 0.0"),
    (lambda: clip_grad_norm(np.zeros(3), 1.0), TypeError, r"clip_grad_norm expected parameters to be a list of Parameter"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_failed_call_changes_nothing():
    g = np.random.default_rng(10)
    rnn = random_rnn(2, 3, seed=11)
    X, R = g.normal(size=(4, 5, 2)), g.normal(size=(4, 5, 3))
    out = rnn.forward(X)
    with pytest.raises(ValueError):
        rnn.forward(np.zeros((4, 5, 7)))
    with pytest.raises(ValueError):
        rnn.forward(X, h0=np.zeros((1, 3)))
    with pytest.raises(ValueError):
        rnn.backward(np.zeros((4, 5, 2)))            # dout of the wrong shape: nothing accumulated
    with pytest.raises(TypeError):
        rnn.backward(R, input_grad="yes")
    assert all(np.all(p.grad == 0) for p in rnn.parameters()) and rnn.dh0 is None
    dX = rnn.backward(R)                              # the cache is still the first forward's
    fresh = random_rnn(2, 3, seed=11)
    assert np.array_equal(fresh.forward(X), out) and np.array_equal(fresh.backward(R), dX)
