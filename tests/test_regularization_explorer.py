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


def test_underfitting_without_a_penalty_never_says_weaken_the_penalty():
    # 50 epochs without any regularization: too short to fit, and there is no penalty to weaken
    short = W.run_regularization_experiment("none", 1e-2, 0.0, 50, 0)
    assert short.kind == "underfitting", short.message
    assert "penalty" not in short.message and "λ" not in short.message and "more epochs" in short.message
    # strong dropout: the advice is about dropout, not about a penalty that is not there
    dropped = W.run_regularization_experiment("none", 1e-2, 0.5, 200, 0)
    assert dropped.kind == "underfitting" and "lower the dropout rate" in dropped.message, dropped.message
    assert "penalty" not in dropped.message
    # with a penalty the advice is to weaken it
    strong = W.run_regularization_experiment("L2", 0.1, 0.0, 200, 0)
    assert strong.kind == "underfitting" and "weaken the penalty" in strong.message


def test_twice_the_noise_level_is_never_a_good_fit():
    noise = W.SINE_NOISE ** 2
    for train, test in ((2 * noise, 2 * noise), (0.9 * noise, 2 * noise), (1.3 * noise, 1.3 * noise)):
        kind, message = W.regularization_verdict(train, test, "L2", 0.0)
        assert kind == "underfitting" and "good fit" not in message
    assert W.regularization_verdict(0.1 * noise, 2 * noise, "none", 0.0)[0] == "overfitting"
    assert W.regularization_verdict(0.9 * noise, 1.1 * noise, "none", 0.0)[0] == "good fit"
    # dropout 0.5 leaves train and test MSE near twice the noise (1.9x, 1.7x): it used to be called a good fit
    run = W.run_regularization_experiment("none", 0.0, 0.5, 200, 0)
    assert run.test_mse > 1.5 * noise and run.kind == "underfitting", run.message


def test_overfitting_advice_names_what_the_run_can_change():
    noise = W.SINE_NOISE ** 2
    assert "add a penalty" in W.regularization_verdict(0.0, 2 * noise, "none", 0.0)[1]
    assert "strengthen the penalty" in W.regularization_verdict(0.0, 2 * noise, "L1", 0.0)[1]
    assert "raise the dropout rate" in W.regularization_verdict(0.0, 2 * noise, "none", 0.2)[1]


def test_lambda_slider_is_disabled_without_a_penalty(explorers):
    explorer = explorers["regularization"]
    explorer.set(penalty="none")
    assert explorer.lam.disabled
    explorer.set(penalty="L2")
    assert not explorer.lam.disabled
    explorer.set(penalty="none")
    assert explorer.lam.disabled
