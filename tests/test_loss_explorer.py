"""Tests of bptutor.widgets.loss_explorer: MSE against cross-entropy for one prediction."""
from __future__ import annotations

import pytest

from bptutor.widgets import loss_explorer as W


@pytest.fixture(scope="module")
def explorers():
    """The explorer, shared by the tests of this module (they reset what they change)."""
    return {"loss": W.explore_loss()}


def test_compare_losses_confidently_wrong_by_hand(explorers):
    # p = 0.01, y = 1: MSE = 0.99² = 0.9801; ∂MSE/∂z = 2(p − y)·p(1 − p) = 2(−0.99)(0.0099) = −0.019602;
    # CE = −log 0.01 = 4.60517; ∂CE/∂z = p − y = −0.99.
    state = explorers["loss"].set(p=0.01, target=1)
    assert state["kind"] == "confidently wrong"
    assert state["mse"] == pytest.approx(0.9801) and state["mse_dz"] == pytest.approx(-0.019602)
    assert state["ce"] == pytest.approx(4.605170186) and state["ce_dz"] == pytest.approx(-0.99)
    assert "all but erased MSE's gradient" in state["message"]
    # The mirror image: p = 0.99 for target 0.
    mirror = W.compare_losses(0.99, 0)
    assert mirror["mse_dz"] == pytest.approx(0.019602) and mirror["ce_dz"] == pytest.approx(0.99)
    explorers["loss"].set(p=0.3, target=1)


@pytest.mark.parametrize("p, kind", [(0.95, "right"), (0.7, "unsure"), (0.3, "wrong")])
def test_compare_losses_kinds(p, kind):
    assert W.compare_losses(p, 1)["kind"] == kind


def test_compare_losses_refuses_bad_input():
    with pytest.raises(ValueError, match=r"compare_losses expected p > 0.0, got 0.0"):
        W.compare_losses(0.0, 1)
    with pytest.raises(ValueError, match=r"compare_losses expected target to be one of \[0, 1\], got 2"):
        W.compare_losses(0.5, 2)
