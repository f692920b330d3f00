"""Tests of bptutor.widgets.backward_explorer: the backward pass, one node at a time."""
from __future__ import annotations

import numpy as np
import pytest

from bptutor.engine import Value
from bptutor.widgets import backward_explorer as W


@pytest.fixture(scope="module")
def explorers():
    """The explorer, shared by the tests of this module (they reset what they change)."""
    return {"backward": W.explore_backward()}


@pytest.mark.parametrize("expression", W.EXPRESSIONS)
def test_backward_trace_ends_with_what_backward_computes(expression):
    trace = W.backward_trace(expression)
    fresh = W.EXPRESSIONS[expression]()
    fresh.backward()
    np.testing.assert_allclose(trace.grads[-1], [v.grad for v in fresh.topological_order()], rtol=1e-12)
    assert trace.grads.shape == (len(trace.steps) + 1, len(trace.order))
    assert trace.grads[0, -1] == 1.0 and np.count_nonzero(trace.grads[0]) == 1


def test_backward_explorer_steps_through_the_neuron(explorers):
    explorer = explorers["backward"]
    assert explorer.state["kind"] == "start" and explorer.state["node"] is None
    explorer.next_button.click()
    state = explorer.state
    # o = tanh(n) = 0.7071: do/dn = 1 − o² = 0.5.
    assert state["step"] == 1 and state["node"] == "o"
    assert state["grads"]["n"] == pytest.approx(0.5)
    assert "n gets 0.5 × 1 = 0.5" in state["message"]
    explorer.step.value = explorer.step.max
    state = explorer.state
    assert state["kind"] == "done"
    # x1.grad = w1 · 0.5 = −1.5, w1.grad = x1 · 0.5 = 1, x2.grad = w2 · 0.5 = 0.5, w2.grad = x2 · 0.5 = 0.
    assert state["grads"]["x1"] == pytest.approx(-1.5) and state["grads"]["w1"] == pytest.approx(1.0)
    assert state["grads"]["x2"] == pytest.approx(0.5) and state["grads"]["w2"] == 0.0
    assert "∂o/∂x1 = -1.5" in state["message"]
    explorer.next_button.click()  # past the end: stays at the end
    assert explorer.state["step"] == explorer.step.max
    explorer.previous_button.click()
    assert explorer.state["step"] == explorer.step.max - 1
    # The highlighted box is the node being processed.
    ax = explorer.figure.axes[0]
    lit = [t for t in ax.texts if t.get_gid() == "value" and t.get_bbox_patch().get_linewidth() == 2.0]
    assert len(lit) == 1
    explorer.step.value = 0


def test_reused_node_collects_every_use(explorers):
    explorer = explorers["backward"]
    explorer.expression.value = "reused node: x·x + x"
    assert explorer.state["step"] == 0 and explorer.step.max == explorer.state["steps"]
    state = explorer.set(step=explorer.step.max)
    assert state["grads"]["x"] == pytest.approx(7.0)  # 2x + 1 at x = 3
    explorer.expression.value = next(iter(W.EXPRESSIONS))
    assert explorer.step.value == 0


def test_node_name_falls_back_to_the_operation():
    a = Value(1.0, label="a")
    assert W.node_name(a) == "a"
    assert W.node_name(a + 1) == "(+)"
