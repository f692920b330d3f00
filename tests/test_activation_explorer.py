"""Tests of bptutor.widgets.activation_explorer: the gradient through many layers."""
from __future__ import annotations

import pytest

from bptutor.widgets import activation_explorer as W


@pytest.fixture(scope="module")
def explorers():
    """The explorer, shared by the tests of this module (they reset what they change)."""
    return {"activation": W.explore_activation()}


def test_activation_profile_by_hand():
    # sigmoid'(0) = 0.25; ten layers with w = 1: 0.25^10 = 9.54e-7.
    state = W.activation_profile("sigmoid", 0.0, 1.0, 10)
    assert state["f"] == 0.5 and state["slope"] == 0.25
    assert state["chain"][-1] == pytest.approx(0.25 ** 10) and state["kind"] == "vanishing"
    # tanh'(0) = 1; w = 1.5: 1.5^20 = 3325.
    state = W.activation_profile("tanh", 0.0, 1.5, 20)
    assert state["chain"][-1] == pytest.approx(1.5 ** 20) and state["kind"] == "exploding"
    state = W.activation_profile("relu", 1.0, 1.0, 50)
    assert state["factor"] == 1.0 and state["kind"] == "stable"
    for name, x in (("relu", -1.0), ("step", 0.5)):
        assert W.activation_profile(name, x, 1.0, 3)["kind"] == "no gradient"
    # a saturated sigmoid: sigmoid'(4) = σ(4)(1 − σ(4)) = 0.0177
    assert W.activation_profile("sigmoid", 4.0)["slope"] == pytest.approx(0.017662706, rel=1e-6)


@pytest.mark.parametrize("name, slope", [("relu", 0.0), ("leaky_relu", 0.01), ("step", 0.0)])
def test_a_kink_at_zero_is_reported_as_a_convention(name, slope):
    state = W.activation_profile(name, 0.0)
    assert state["slope"] == slope
    assert "no derivative there" in state["message"] and "convention" in state["message"], state["message"]
    # off the kink the slope is a derivative, and nothing is said about conventions
    assert "convention" not in W.activation_profile(name, 0.5)["message"]


def test_relu_at_its_kink_is_not_called_flat():
    message = W.activation_profile("relu", 0.0)["message"]
    assert "flat activation" not in message and "a little above 0" in message
    assert "flat activation" in W.activation_profile("relu", -1.0)["message"]
    assert "convention" not in W.activation_profile("sigmoid", 0.0)["message"]


def test_activation_explorer_state_follows_controls(explorers):
    explorer = explorers["activation"]
    state = explorer.set(name="leaky_relu", x=-2.0, weight=2.0, depth=5)
    assert state["slope"] == pytest.approx(0.01) and state["factor"] == pytest.approx(0.02)
    assert "leaky_relu'(-2) = 0.01" in state["message"]
    explorer.set(name="sigmoid", x=0.0, weight=1.0, depth=10)


def test_activation_profile_refuses_bad_input():
    with pytest.raises(ValueError, match=r"activation_profile expected name to be one of"):
        W.activation_profile("softmax", 0.0)
    with pytest.raises(ValueError, match=r"activation_profile expected depth >= 1, got 0"):
        W.activation_profile("tanh", 0.0, 1.0, 0)
