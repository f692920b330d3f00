"""Tests for bptutor.rtrl: real-time recurrent learning gives BPTT's gradient, at its own cost."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.lstm import LSTM
from bptutor.recurrent import RNN
from bptutor.rtrl import recurrent_costs, rtrl_gradients


def test_rtrl_by_hand_linear_two_steps():
    # the example of test_recurrent: W_xh = 2, W_hh = 0.5, b = 1, x = (1, 3), L = h2.
    # Sensitivities forward: dh1/dW_xh = x1 = 1, dh1/dW_hh = h0 = 0, dh1/db = 1;
    # dh2/dW_xh = x2 + W_hh * 1 = 3.5, dh2/dW_hh = h1 + W_hh * 0 = 3, dh2/db = 1 + 0.5 = 1.5
    rnn = RNN.from_arrays([[2.0]], [[0.5]], [1.0], nonlinearity="linear")
    grads = rtrl_gradients(rnn, np.array([[[1.0], [3.0]]]), np.array([[[0.0], [1.0]]]))
    assert (grads["W_xh"].item(), grads["W_hh"].item(), grads["b"].item()) == (3.5, 3.0, 1.5)


@settings(max_examples=20, deadline=None)
@given(N=st.integers(1, 3), T=st.integers(1, 6), D=st.integers(1, 3), H=st.integers(1, 4),
       nonlinearity=st.sampled_from(["tanh", "relu", "linear"]), with_h0=st.booleans(), seed=st.integers(0, 10_000))
def test_rtrl_equals_bptt(N, T, D, H, nonlinearity, with_h0, seed):
    g = np.random.default_rng(seed)
    rnn = RNN(D, H, nonlinearity, rng=seed)
    rnn.b.data[...] = g.normal(size=H)
    X, dH = g.normal(size=(N, T, D)), g.normal(size=(N, T, H))
    h0 = g.normal(size=(N, H)) if with_h0 else None
    grads = rtrl_gradients(rnn, X, dH, h0)
    assert all(np.all(p.grad == 0) for p in rnn.parameters()) and rnn._cache is None   # untouched
    rnn.forward(X, h0)
    rnn.backward(dH)
    for name, p in rnn.named_parameters():
        assert grads[name].shape == p.shape
        assert np.allclose(grads[name], p.grad, rtol=1e-10, atol=1e-12), name


def test_costs_by_hand_and_their_growth():
    # N=1, T=50, D=16, H=64: |theta| = 16*64 + 64*64 + 64 = 5184
    c = recurrent_costs(1, 50, 16, 64)
    assert c["bptt_memory"] == 50 * (16 + 64) == 4000
    assert c["rtrl_memory"] == 64 * 5184 == 331_776
    assert c["bptt_madds"] == 3 * 50 * (16 * 64 + 64 * 64)
    assert c["rtrl_madds"] == 50 * (64 * 64 * 5184 + 64 * 5184 + 16 * 64 + 64 * 64)
    # doubling H: RTRL's memory grows about 8x (H^3), its work about 16x (H^4); BPTT's memory stays linear in T
    # (with one input, so that H^2 dominates |theta|)
    c1, d = recurrent_costs(1, 50, 1, 64), recurrent_costs(1, 50, 1, 128)
    assert 7.8 < d["rtrl_memory"] / c1["rtrl_memory"] < 8.0 and 15.5 < d["rtrl_madds"] / c1["rtrl_madds"] < 16.0
    assert recurrent_costs(1, 100, 16, 64)["rtrl_memory"] == c["rtrl_memory"]
    assert recurrent_costs(1, 100, 16, 64)["bptt_memory"] == 2 * c["bptt_memory"]


@pytest.mark.parametrize("call, error, message", [
    (lambda: rtrl_gradients(LSTM(2, 3), np.zeros((1, 2, 2)), np.zeros((1, 2, 3))), TypeError,
     r"rtrl_gradients expected rnn to be a bptutor.recurrent.RNN, got LSTM\(2, 3\)"),
    (lambda: rtrl_gradients(RNN(2, 3, bptt_steps=2), np.zeros((1, 2, 2)), np.zeros((1, 2, 3))), ValueError,
     r"rtrl_gradients expected an RNN without bptt_steps"),
    (lambda: rtrl_gradients(RNN(2, 3), np.zeros((1, 2, 2)), np.zeros((1, 3, 3))), ValueError,
     r"rtrl_gradients expected dH of shape \(1, 2, 3\), got \(1, 3, 3\)"),
    (lambda: rtrl_gradients(RNN(2, 3), np.zeros((1, 2, 4)), np.zeros((1, 2, 3))), ValueError,
     r"rtrl_gradients expected X of shape \(N, T, 2\), got \(1, 2, 4\)"),
    (lambda: rtrl_gradients(RNN(2, 3), np.zeros((1, 2, 2)), np.zeros((1, 2, 3)), np.zeros((2, 3))), ValueError,
     r"rtrl_gradients expected h0 of shape \(1, 3\), got \(2, 3\)"),
    (lambda: recurrent_costs(1, 0, 2, 3), ValueError, r"recurrent_costs expected T >= 1, got 0"),
    (lambda: recurrent_costs(1, 2, 2.0, 3), TypeError, r"recurrent_costs expected D to be an integer, got 2.0"),
])
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
