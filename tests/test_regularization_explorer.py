"""Tests of bptutor.widgets.regularization_explorer: training against test error."""
from __future__ import annotations

import numpy as np
import pytest

from bptutor.widgets import regularization_explorer as W


@pytest.fixture(scope="module")
def explorers():
    """The explorer, shared by the tests of this module (they reset what they change)."""
    return {"regularization": W.explore_regularization()}


def test_regularization_verdicts_and_weights(explorers):
    explorer = explorers["regularization"]
    plain = explorer.set(penalty="none")
    assert plain["kind"] == "overfitting", plain["message"]
    assert plain["test_mse"] > 3 * plain["train_mse"]
    l2 = explorer.set(penalty="L2", lam=1e-2)
    assert l2["kind"] == "good fit", l2["message"]
    assert l2["test_mse"] < plain["test_mse"]
    assert np.mean(np.abs(l2["weights"])) < np.mean(np.abs(plain["weights"]))
    strong = explorer.set(penalty="L2", lam=1.0)
    assert strong["kind"] == "underfitting"
    l1 = explorer.set(penalty="L1", lam=1e-2)
    # L1 drives weights to (nearly) zero: many more tiny weights than without a penalty.
    assert np.mean(np.abs(l1["weights"]) < 1e-2) > 2 * np.mean(np.abs(plain["weights"]) < 1e-2)
    explorer.set(penalty="none", lam=1e-3)


def test_dropout_shrinks_the_gap():
    plain = W.run_regularization_experiment("none", 0.0, 0.0, 200, 0)
    dropped = W.run_regularization_experiment("none", 0.0, 0.1, 200, 0)
    assert dropped.kind == "good fit" and dropped.test_mse < plain.test_mse
    assert dropped.test_mse - dropped.train_mse < 0.5 * (plain.test_mse - plain.train_mse)
    assert dropped.train_loss.shape == dropped.test_loss.shape == (200,)
    assert W.run_regularization_experiment("none", 0.0, 0.8, 200, 0).kind == "underfitting"
