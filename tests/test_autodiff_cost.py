"""Tests for bptutor.autodiff_cost: graph counts, forward-mode sweeps, the timer and cached floats."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor.activations import Tanh
from bptutor.autodiff_cost import (GraphCost, cached_floats, forward_mode_grads, graph_cost, median_seconds,
                                   tangent_sweep)
from bptutor.engine import Value, linear
from bptutor.layers import Linear, Sequential
from bptutor.scalar_nn import MLP


def test_graph_cost_by_hand():
    # L = (a*b + c)**2: leaves a, b, c; operations *, +, **2 with 2 + 2 + 1 = 5 edges.
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    L = (a * b + c) ** 2
    assert graph_cost(L) == GraphCost(nodes=6, leaves=3, edges=5, forward_ops=3, cached_floats=3 + 5)
    assert graph_cost(L).backward_ops == 5


def test_a_linear_node_does_n_forward_and_2n_plus_1_backward_multiply_adds():
    w = [Value(v) for v in (0.5, -1.0, 2.0)]
    x = [Value(v) for v in (1.0, 3.0, -2.0)]
    z = linear(w, x, Value(0.1))
    cost = graph_cost(z)
    assert (cost.forward_ops, cost.backward_ops) == (3, 7)       # n = 3: w.x forward; x and w back, and b
    assert (cost.nodes, cost.leaves, cost.cached_floats) == (8, 7, 1 + 7)


def test_a_reused_leaf_is_one_node_but_two_edges():
    x = Value(3.0)
    y = x * x + x
    cost = graph_cost(y)
    assert (cost.nodes, cost.leaves, cost.edges) == (3, 1, 4)


def test_tangent_sweep_is_a_directional_derivative():
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    L = (a * b + c) ** 2                      # gradient (-24, 16, 8)
    assert tangent_sweep(L, {a: 1.0}) == (-24.0, 5)
    assert tangent_sweep(L, {b: 1.0})[0] == 16.0
    assert tangent_sweep(L, {a: 1.0, b: 2.0, c: -0.5})[0] == pytest.approx(-24 + 32 - 4)
    assert tangent_sweep(L, {})[0] == 0.0


def test_forward_mode_needs_p_sweeps_for_what_backward_gives_in_one():
    X = np.array([[0.3, -1.2], [1.5, 0.4], [-0.7, 0.9]])
    t = [1.0, -1.0, 1.0]
    model = MLP(2, [4, 3, 1], rng=3)
    params = model.parameters()

    def build():
        total = Value(0.0)
        for x, ti in zip(X.tolist(), t):
            total = total + (1 - ti * model(x)[0]).max(0) + (model(x)[0] - ti) ** 2
        return total

    L = build()
    model.zero_grad()
    L.backward()
    grads, mults = forward_mode_grads(build, params)
    assert grads == pytest.approx([p.grad for p in params], rel=1e-12, abs=1e-14)
    assert mults == len(params) * graph_cost(L).edges            # P sweeps of E multiply-adds each
    assert len(params) == 4 * 3 + 3 * 5 + 4


@settings(max_examples=30, deadline=None)
@given(vals=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3),
       v=st.lists(st.floats(-1, 1, allow_nan=False), min_size=3, max_size=3))
def test_tangent_sweep_equals_gradient_dot_direction(vals, v):
    a, b, c = (Value(x) for x in vals)
    out = (a * b).tanh() + (b - c).max(a) * c.sigmoid() + linear([a, b], [c, c], 0.5).relu()
    out.backward()
    expected = sum(g * d for g, d in zip((a.grad, b.grad, c.grad), v))
    assert tangent_sweep(out, dict(zip((a, b, c), v)))[0] == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_median_seconds_takes_the_median_of_the_calls():
    calls = []
    seconds = median_seconds(lambda: calls.append(sum(range(2000))), repeats=5)
    assert len(calls) == 5 and 0.0 <= seconds < 1.0


def test_cached_floats_grow_with_the_batch_not_the_parameters():
    net = Sequential(Linear(2, 8, rng=0), Tanh(), Linear(8, 1, rng=1))
    net.forward(np.zeros((10, 2)))
    assert cached_floats(net) == {"0 Linear": 20, "1 Tanh": 80, "2 Linear": 80}
    net.forward(np.zeros((30, 2)))
    assert sum(cached_floats(net).values()) == 3 * (20 + 80 + 80)
    assert cached_floats(Linear(3, 2)) == {"0 Linear": 0}         # no forward yet: nothing cached


def test_bad_inputs_are_refused_with_a_clear_message():
    v = Value(1.0)
    with pytest.raises(TypeError, match=r"^graph_cost expected out to be a bptutor.engine.Value, got 1.0$"):
        graph_cost(1.0)
    with pytest.raises(TypeError, match=r"tangent_sweep expected tangents to be a dict"):
        tangent_sweep(v, [v])
    with pytest.raises(TypeError, match=r"tangent_sweep expected tangents to map Values to numbers"):
        tangent_sweep(v, {v: "1"})
    with pytest.raises(TypeError, match=r"forward_mode_grads expected build to be a function"):
        forward_mode_grads(v, [v])
    with pytest.raises(TypeError, match=r"forward_mode_grads expected params to be a non-empty list of Values"):
        forward_mode_grads(lambda: v, [])
    with pytest.raises(TypeError, match=r"forward_mode_grads expected out to be a bptutor.engine.Value, got 2"):
        forward_mode_grads(lambda: 2, [v])
    with pytest.raises(ValueError, match=r"median_seconds expected repeats"):
        median_seconds(lambda: None, repeats=0)
    with pytest.raises(TypeError, match=r"cached_floats expected model to be a bptutor.layers Module"):
        cached_floats([1, 2])
