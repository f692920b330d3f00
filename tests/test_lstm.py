"""Tests for bptutor.lstm: the LSTM step functions and layer, its (truncated) BPTT, PyTorch parity."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.gradcheck import numerical_gradient, rel_error
from bptutor.lstm import LSTM, lstm_step_backward, lstm_step_forward

FAST = settings(max_examples=20, deadline=None)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def random_lstm(D, H, bptt_steps=None, seed=0):
    g = np.random.default_rng(seed)
    return LSTM.from_arrays(g.normal(size=(D, 4 * H)), g.normal(size=(H, 4 * H)) / np.sqrt(H),
                            g.normal(size=4 * H), bptt_steps=bptt_steps)


def states(X, h0, c0, W_xh, W_hh, b, start_h=None, start_c=None, first=0, last=None):
    """The recurrence written out with numpy, from step ``first`` to ``last`` (inclusive)."""
    H = W_hh.shape[0]
    h, c = (h0, c0) if start_h is None else (start_h, start_c)
    hs, cs = [], []
    for t in range(first, X.shape[1] if last is None else last + 1):
        a = X[:, t] @ W_xh + h @ W_hh + b
        i, f, g, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs, 1), np.stack(cs, 1)


# --- by hand -------------------------------------------------------------------------------------------------

def test_one_step_by_hand():
    # D = H = 1, W_hh = 0, b = 0, W_xh sends x to the cell input g only: i = f = o = sigmoid(0) = 0.5,
    # g = tanh(x). With x = 1, c0 = 0:  c1 = 0.5 * 0 + 0.5 * tanh(1) = 0.38079708,
    # h1 = 0.5 * tanh(0.38079708) = 0.18169974
    W_xh, W_hh, b = np.array([[0.0, 0.0, 1.0, 0.0]]), np.zeros((1, 4)), np.zeros(4)
    h, c, cache = lstm_step_forward([[1.0]], [[0.0]], [[0.0]], W_xh, W_hh, b)
    assert c.item() == pytest.approx(0.38079708, abs=1e-8) and h.item() == pytest.approx(0.18169974, abs=1e-8)
    # dh = 1, dc = 0: the cell's total gradient dc1 = o (1 - tanh^2 c1) = 0.43397041
    #   da_o = tanh(c1) o (1 - o) = 0.36339948 * 0.25 = 0.09084987
    #   da_g = dc1 i (1 - g^2) = 0.09112822;  da_i = dc1 g i (1 - i) = 0.08262733;  da_f = dc1 c0 ... = 0
    #   dc0 = dc1 * f = 0.21698520: the cell-state path
    dx, dh_prev, dc_prev, dW_xh, dW_hh, db = lstm_step_backward([[1.0]], [[0.0]], cache)
    assert db == pytest.approx([0.08262733, 0.0, 0.09112822, 0.09084987], abs=1e-8)
    assert dc_prev.item() == pytest.approx(0.21698520, abs=1e-8)
    assert dx.item() == pytest.approx(0.09112822, abs=1e-8)          # only g reads x
    assert np.array_equal(dW_hh, np.zeros((1, 4))) and np.allclose(dW_xh, db[None])


def test_forward_equals_the_step_functions_and_a_numpy_loop():
    g = np.random.default_rng(0)
    lstm = random_lstm(3, 4, seed=1)
    X, h0, c0 = g.normal(size=(2, 5, 3)), g.normal(size=(2, 4)), g.normal(size=(2, 4))
    W = (lstm.W_xh.data, lstm.W_hh.data, lstm.b.data)
    out = lstm.forward(X, h0, c0)
    assert np.allclose(out, states(X, h0, c0, *W)[0], atol=1e-12)
    dH = g.normal(size=(2, 5, 4))
    dX = lstm.backward(dH)
    h, c, caches = h0, c0, []
    for t in range(5):
        h, c, cache = lstm_step_forward(X[:, t], h, c, *W)
        caches.append(cache)
    dh, dc, grads = np.zeros((2, 4)), np.zeros((2, 4)), [np.zeros_like(w) for w in W]
    for t in reversed(range(5)):
        dx, dh, dc, *step = lstm_step_backward(dH[:, t] + dh, dc, caches[t])
        assert np.allclose(dx, dX[:, t], atol=1e-12)
        for acc, s in zip(grads, step):
            acc += s
    assert np.allclose(dh, lstm.dh0, atol=1e-12) and np.allclose(dc, lstm.dc0, atol=1e-12)
    for acc, p in zip(grads, lstm.parameters()):
        assert np.allclose(acc, p.grad, atol=1e-12)


def test_the_cell_state_path_multiplies_by_the_forget_gate():
    # dL/dc_{t-1} = dL/dc_t * f_t + dL/dh_{t-1} * o_{t-1} * (1 - tanh^2 c_{t-1})
    g = np.random.default_rng(2)
    lstm = random_lstm(2, 3, seed=3)
    X, dH = g.normal(size=(4, 6, 2)), g.normal(size=(4, 6, 3))
    lstm.forward(X)
    lstm.backward(dH)
    H = 3
    A = lstm._cache[3]                                   # (T, N, 4H): the gates i, f, g, o
    F, O = A[..., H:2 * H].transpose(1, 0, 2), A[..., 3 * H:].transpose(1, 0, 2)
    C = lstm._cache[4].transpose(1, 0, 2)
    Gc, Gh = lstm.dC_total, lstm.dH_total
    for t in range(1, 6):
        expected = Gc[:, t] * F[:, t] + Gh[:, t - 1] * O[:, t - 1] * (1 - np.tanh(C[:, t - 1]) ** 2)
        assert np.allclose(Gc[:, t - 1], expected, atol=1e-12)
    assert np.allclose(lstm.dc0, Gc[:, 0] * F[:, 0], atol=1e-12)


@FAST
@given(N=st.integers(1, 3), T=st.integers(1, 5), D=st.integers(1, 3), H=st.integers(1, 3),
       k=st.one_of(st.none(), st.integers(1, 6)), seed=st.integers(0, 10_000))
def test_gradients_match_finite_differences(N, T, D, H, k, seed):
    g = np.random.default_rng(seed)
    lstm = random_lstm(D, H, k, seed)
    X, h0, c0, R = g.normal(size=(N, T, D)), g.normal(size=(N, H)), g.normal(size=(N, H)), g.normal(size=(N, T, H))
    W = [lstm.W_xh.data.copy(), lstm.W_hh.data.copy(), lstm.b.data.copy()]
    fixed_h, fixed_c = states(X, h0, c0, *W)
    lstm.forward(X, h0, c0)
    dX = lstm.backward(R)
    kk = T if k is None else k

    def objective(_):
        # BPTT(k): output t recomputed from the states k steps back, held fixed (or from h0, c0)
        total = 0.0
        for t in range(T):
            start = t - kk + 1
            if start <= 0:
                hs, _ = states(X, h0, c0, *W, first=0, last=t)
            else:
                hs, _ = states(X, h0, c0, *W, start_h=fixed_h[:, start - 1], start_c=fixed_c[:, start - 1],
                               first=start, last=t)
            total += np.sum(R[:, t] * hs[:, -1])
        return total

    for name, mine, theirs in (("X", dX, X), ("h0", lstm.dh0, h0), ("c0", lstm.dc0, c0),
                               ("W_xh", lstm.W_xh.grad, W[0]), ("W_hh", lstm.W_hh.grad, W[1]),
                               ("b", lstm.b.grad, W[2])):
        numeric = numerical_gradient(objective, theirs, h=1e-6)
        assert rel_error(mine, numeric) < 1e-6 or np.max(np.abs(mine - numeric)) < 1e-8, name


def test_init_forget_bias_and_float32():
    lstm = LSTM(2, 5, rng=0)
    assert [n for n, _ in lstm.named_parameters()] == ["W_xh", "W_hh", "b"]
    assert lstm.W_xh.shape == (2, 20) and lstm.W_hh.shape == (5, 20)
    assert lstm.b.data.tolist() == [0.0] * 5 + [1.0] * 5 + [0.0] * 10     # the forget gate starts at 1
    assert np.all(LSTM(2, 5, forget_bias=0.0).b.data == 0)
    X = np.random.default_rng(0).normal(size=(3, 4, 2))
    l32 = LSTM(2, 5, rng=0, dtype=np.float32)
    out = l32.forward(X.astype(np.float32))
    assert out.dtype == np.float32 and np.allclose(out, lstm.forward(X), atol=1e-6)
    assert l32.backward(np.ones((3, 4, 5), np.float32)).dtype == np.float32
    assert repr(LSTM(2, 5, bptt_steps=3)) == "LSTM(2, 5, bptt_steps=3)"


def test_gates_never_overflow():
    lstm = random_lstm(2, 3, seed=4)
    out = lstm.forward(np.full((2, 3, 2), 1e6))
    assert np.all(np.isfinite(out)) and np.all(np.abs(out) <= 1)
    assert np.all(np.isfinite(lstm.backward(np.ones((2, 3, 3)))))


@pytest.mark.parametrize("k", [None, 1, 2, 4])
@pytest.mark.parametrize("N, T, D, H", [(3, 6, 4, 5), (1, 1, 1, 2), (4, 9, 2, 3)])
def test_matches_torch_lstm_in_float64(k, N, T, D, H):
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(N + 10 * T)
    lstm = random_lstm(D, H, k, seed=T)
    X, h0, c0, R = g.normal(size=(N, T, D)), g.normal(size=(N, H)), g.normal(size=(N, H)), g.normal(size=(N, T, H))
    out = lstm.forward(X, h0, c0)
    dX = lstm.backward(R)
    net = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():   # same gate order (i, f, g, o); weight_ih = W_xh.T; two biases summing to b
        net.weight_ih_l0.copy_(torch.from_numpy(lstm.W_xh.data.T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(lstm.W_hh.data.T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(lstm.b.data.copy()))
        net.bias_hh_l0.zero_()
    Xt = torch.tensor(X, requires_grad=True)
    h0t, c0t = torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)
    Y, (hT, cT) = net(Xt, (h0t[None], c0t[None]))
    assert np.abs(Y.detach().numpy() - out).max() < 1e-10
    if k is None:
        loss = (Y * torch.from_numpy(R)).sum()
    else:
        with torch.no_grad():   # every state, to restart from k steps back
            hs, cs, h, c = [], [], h0t[None], c0t[None]
            for t in range(T):
                _, (h, c) = net(Xt[:, t:t + 1], (h, c))
                hs.append(h)
                cs.append(c)
        loss = 0
        for t in range(T):
            start = t - k + 1
            state = (h0t[None], c0t[None]) if start <= 0 else (hs[start - 1], cs[start - 1])
            Ys, _ = net(Xt[:, max(start, 0):t + 1], state)
            loss = loss + (Ys[:, -1] * torch.from_numpy(R[:, t])).sum()
    loss.backward()
    for mine, theirs in [(dX, Xt.grad), (lstm.dh0, h0t.grad), (lstm.dc0, c0t.grad),
                         (lstm.W_xh.grad, net.weight_ih_l0.grad.T), (lstm.W_hh.grad, net.weight_hh_l0.grad.T),
                         (lstm.b.grad, net.bias_ih_l0.grad), (lstm.b.grad, net.bias_hh_l0.grad)]:
        assert np.abs(mine - theirs.numpy()).max() < 1e-10


BAD = [
    (lambda: LSTM(0, 3), ValueError, r"LSTM expected input_size >= 1, got 0"),
    (lambda: LSTM(2, 3, bptt_steps=-1), ValueError, r"LSTM expected bptt_steps >= 1, got -1"),
    (lambda: LSTM(2, 3, forget_bias="1"), TypeError, r"LSTM expected forget_bias to be a real number"),
    (lambda: LSTM(2, 3, forget_bias=np.nan), ValueError, r"LSTM expected forget_bias to be finite"),
    (lambda: LSTM(2, 3).forward(np.zeros((4, 5, 3))), ValueError,
     r"LSTM\(2, 3\) expected X of shape \(N, T, 2\), got \(4, 5, 3\)"),
    (lambda: LSTM(2, 3).forward(np.zeros((4, 5, 2)), None, np.zeros((4, 2))), ValueError,
     r"LSTM\(2, 3\) expected c0 of shape \(4, 3\), got \(4, 2\)"),
    (lambda: LSTM(2, 3).backward(np.zeros((4, 5, 3))), RuntimeError, r"LSTM.backward was called before LSTM.forward"),
    (lambda: LSTM.from_arrays(np.zeros((2, 12)), np.zeros((3, 3)), np.zeros(12)), ValueError,
     r"LSTM.from_arrays expected W_hh of shape \(3, 12\), got \(3, 3\)"),
    (lambda: LSTM.from_arrays(np.zeros((2, 8)), np.zeros((3, 12)), np.zeros(12)), ValueError,
     r"LSTM.from_arrays expected W_xh of shape \(D, 12\), got \(2, 8\)"),
    (lambda: lstm_step_forward(np.zeros((4, 2)), np.zeros((4, 3)), np.zeros((5, 3)), np.zeros((2, 12)),
                               np.zeros((3, 12)), np.zeros(12)), ValueError,
     r"lstm_step_forward expected c_prev of shape \(4, 3\), got \(5, 3\)"),
    (lambda: lstm_step_backward(np.zeros((4, 3)), np.zeros((4, 3)), (1, 2)), TypeError,
     r"lstm_step_backward expected the cache returned by lstm_step_forward"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_failed_call_changes_nothing():
    g = np.random.default_rng(5)
    lstm = random_lstm(2, 3, seed=6)
    X, R = g.normal(size=(4, 5, 2)), g.normal(size=(4, 5, 3))
    out = lstm.forward(X)
    with pytest.raises(ValueError):
        lstm.forward(X, c0=np.zeros((4, 4)))
    with pytest.raises(ValueError):
        lstm.backward(np.zeros((4, 6, 3)))
    assert all(np.all(p.grad == 0) for p in lstm.parameters()) and lstm.dc0 is None
    fresh = random_lstm(2, 3, seed=6)
    assert np.array_equal(fresh.forward(X), out) and np.array_equal(fresh.backward(R), lstm.backward(R))
