"""Tests of bptutor.widgets.learning_rate: verdicts of training runs at chosen learning rates."""
from __future__ import annotations

import numpy as np
import pytest

from bptutor.widgets import learning_rate as W


@pytest.fixture(scope="module")
def explorers():
    """The explorer, shared by the tests of this module (they reset what they change)."""
    return {"learning_rate": W.explore_learning_rate()}


def test_learning_rate_verdicts_on_two_moons(explorers):
    explorer = explorers["learning_rate"]
    state = explorer.set(lr=10.0)
    assert state["kind"] == "diverged"
    # tanh units bound the loss: it does not overflow, it thrashes far above its start. The very
    # first update already made it worse (0.693 -> 0.835 before update 1), so that is the step named.
    losses = state["losses"]
    assert state["step"] == 1 and losses[1] > losses[0] and np.median(losses[-20:]) > 5 * losses[0]
    assert state["message"].startswith("diverged at step 1: that update pushed the loss above its start "
                                       "0.693 and it ended higher")
    assert state["message"].endswith("(try lr = 1)")
    assert explorer.status.value.startswith("<b>diverged</b> at step 1: ")
    assert state["accuracy"] < 0.9  # the boundary drawn is that of the thrashing weights

    state = explorer.set(lr=0.1)
    assert state["kind"] == "converged", state["message"]
    assert state["step"] is None and state["accuracy"] == 1.0
    assert state["losses"].size == 200 and state["losses"][-1] < 0.5 * state["losses"][0]

    state = explorer.set(lr=1e-4)
    assert state["kind"] == "too slow"
    assert "try lr = 0.001" in state["message"]
    assert 0 < state["losses"][0] - state["losses"][-1] < 0.1 * state["losses"][0]
    explorer.set(lr=0.1)


def test_a_loss_that_explodes_stops_training_and_names_the_step():
    # fit raises TrainingDiverged when the loss passes 1000 x its start (here at update 2).
    run = W.run_learning_rate_experiment("XOR", "64, 64", "RMSProp", 10.0, 200, 0)
    assert (run.kind, run.step) == ("diverged", 2) and run.losses.size == 2
    assert run.message.startswith("diverged at step 2: the loss exploded from 0.69")
    explorer = W.explore_learning_rate(dataset="XOR", hidden="64, 64", optimizer="RMSProp", lr=10.0)
    assert explorer.state["step"] == 2 and "exploded" in explorer.status.value
    assert [line.get_label() for line in explorer.figure.axes[0].lines][-1] == "diverged (step 2)"


def test_learning_rate_oscillation_and_other_data_sets():
    # SGD at the slider's 10**0.9 = 7.94 on two moons: the loss still jumps up and down by a factor
    # of several at the end (the static picture of chapter 05), and the fit is worse for it.
    run = W.run_learning_rate_experiment("two moons", (16, 16), "SGD", 10 ** 0.9, 200, 0)
    assert run.kind == "oscillating", run.message
    tail = run.losses[-40:]
    assert np.mean(np.diff(tail) > 0) > 0.3 and tail.max() > 3 * tail.min() and run.accuracy < 0.95
    assert run.message.startswith("the loss is still bouncing at the end: it went up on 44% of the last 39 steps")
    run = W.run_learning_rate_experiment("XOR", "8", "Adam", 0.05, 200, 0)
    assert run.kind == "converged" and run.accuracy == 1.0
    run = W.run_learning_rate_experiment("spirals", "4", "SGD", 0.1, 100, 0)
    assert run.kind in ("too slow", "stalled")


def test_same_seed_same_initial_weights_and_run():
    a, b, c = W.build_mlp((2, 4, 2), 3), W.build_mlp((2, 4, 2), 3), W.build_mlp((2, 4, 2), 4)
    for p, q, r in zip(a.parameters(), b.parameters(), c.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert not np.array_equal(a.parameters()[0].data, c.parameters()[0].data)
    runs = [W.run_learning_rate_experiment("XOR", (8,), "SGD", lr, 20, 7) for lr in (0.1, 0.1, 1.0)]
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    # Different learning rates, same start: the first loss (before any update) is identical.
    assert runs[0].losses[0] == runs[2].losses[0]
    assert runs[0].losses[1] != runs[2].losses[1]


def test_earlier_runs_stay_on_the_loss_plot_until_cleared():
    explorer = W.explore_learning_rate(epochs=50)
    explorer.keep.value = True
    explorer.lr.value = 0.3
    explorer.lr.value = 1.0
    assert explorer.state["previous"] == ["Momentum lr=0.1", "Momentum lr=0.3"]
    ax_loss = explorer.figure.axes[0]
    assert [line.get_label() for line in ax_loss.lines] == ["Momentum lr=0.1", "Momentum lr=0.3",
                                                            "Momentum lr=1"]
    explorer.clear.click()
    assert explorer.state["previous"] == [] and len(explorer.figure.axes[0].lines) == 1
    explorer.keep.value = False
    explorer.lr.value = 0.1
    assert explorer.state["previous"] == []


@pytest.mark.parametrize("losses, kind", [
    (0.7 * np.exp(-np.arange(100) / 10), "converged"),          # fell 1e4-fold, flat at the end
    (0.7 - 0.001 * np.arange(100), "too slow"),                 # fell 14%, still falling
    (0.7 * (1 - 0.4 * (1 - np.exp(-np.arange(100) / 5))), "stalled"),  # fell 40%, then flat
    (0.7 - 0.2 * (np.arange(100) % 2), "oscillating"),          # up on every other step
])
def test_classify_run_on_made_up_curves(losses, kind):
    assert W.classify_run(losses, lr=0.5)[:2] == (kind, None)


def test_a_run_ending_above_its_start_diverged_where_it_first_rose():
    # Bounded activations thrash instead of exploding: 0.7 -> 0.6 -> 0.9 (step 2 is above the start) ...
    losses = [0.7, 0.6, 0.9, 0.5, 4.0, 2.0, 6.0, 3.0, 5.0, 4.0]
    kind, step, message = W.classify_run(losses, lr=10.0)
    assert (kind, step) == ("diverged", 2)
    # ... and ended higher: the median of the last tenth (two values, 5.0 and 4.0) is 4.5.
    assert message.startswith("diverged at step 2: that update pushed the loss above its start 0.7 "
                              "and it ended higher (4.5)")


def test_classify_run_messages_and_bad_input():
    kind, step, message = W.classify_run([0.7, 3.0], diverged_step=2, lr=5.0)
    assert (kind, step) == ("diverged", 2)
    assert message.startswith("diverged at step 2: the loss exploded from 0.7, because")
    assert message.endswith("(try lr = 0.5)")
    # too slow: fell 0.7 -> 0.63 = 10% ... the numbers printed are the curve's
    kind, _, message = W.classify_run(np.linspace(0.7, 0.63, 50), lr=0.01)
    assert kind == "too slow" and "still falling after 50 epochs (down 10%)" in message
    assert message.endswith("(try lr = 0.1, or more epochs)")
    with pytest.raises(ValueError, match="classify_run expected at least 2 losses, got 1"):
        W.classify_run([0.5])


@pytest.mark.parametrize("text, expected", [("16, 16", (16, 16)), ("8", (8,)), ("4 4 4", (4, 4, 4)),
                                            ((3, 2), (3, 2))])
def test_parse_hidden(text, expected):
    assert W.parse_hidden(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "0", "16, -2", "1000", "1,2,3,4,5", [16]])
def test_parse_hidden_refuses(text):
    with pytest.raises(ValueError, match="expected hidden sizes like '16, 16'"):
        W.parse_hidden(text)


def test_a_run_that_spiked_and_recovered_is_not_oscillating():
    # Momentum lr = 2 on two moons: bumps between steps 100 and 160, then a smooth descent to the run's
    # lowest loss and 100% accuracy. A learner sees a run that converged; the message names the bumps.
    run = W.run_learning_rate_experiment("two moons", (16, 16), "Momentum", 2.0, 200, 0)
    assert run.kind == "converged", run.message
    assert run.accuracy == 1.0 and run.losses[-1] == run.losses.min()
    assert np.any(np.diff(run.losses[100:]) > 0)  # it did go up in the second half ...
    assert run.losses[-40:].max() < 1.01 * run.losses[-40]  # ... but hardly at the end (+0.01% once)
    assert "after a bumpy stretch in the second half, the loss rising 7 times" in run.message
    assert "it recovered and ended at its lowest loss" in run.message
    # RMSProp lr = 0.03: two big spikes (x50 in one step at step 161), then back to its lowest loss.
    run = W.run_learning_rate_experiment("two moons", (16, 16), "RMSProp", 0.03, 200, 0)
    assert run.kind == "converged" and run.accuracy == 1.0, run.message
    assert "at most x49.6 in one step at step 161" in run.message


def test_classify_run_one_transient_spike():
    # One spike in the second half (x29 for a single step), then the run ends at its lowest loss.
    losses = 0.7 * np.exp(-np.arange(200) / 20) + 1e-4
    losses[150] *= 30
    kind, step, message = W.classify_run(losses, lr=0.5)
    assert (kind, step) == ("converged", None)
    assert "after a brief spike at step 150, x28.8 in one step, it recovered and ended at its lowest loss" in message
    # The same curve without the spike: no note at all.
    assert "spike" not in W.classify_run(0.7 * np.exp(-np.arange(200) / 20) + 1e-4)[2]
    # A spike that leaves the run above its best names both numbers.
    losses[150:] += 5e-4  # after the spike the loss settles above its level at step 149
    kind, _, message = W.classify_run(losses)
    assert kind == "converged" and "it settled at 0.000633, above its lowest 0.000507" in message, message


@pytest.mark.parametrize("losses, kind", [
    # zigzag that keeps going to the end: oscillating
    (np.r_[0.7 * np.exp(-np.arange(150) / 30), 0.01 * (1 + 0.5 * (np.arange(50) % 2))], "oscillating"),
    # the same zigzag in the middle of the run only, then a smooth descent: converged
    (np.r_[0.7 * np.exp(-np.arange(100) / 30), 0.03 * (1 + 0.5 * (np.arange(50) % 2)),
           0.03 * np.exp(-np.arange(50) / 5)], "converged"),
    # round-off wiggles of a loss near 0 are not oscillation
    (np.r_[0.7 * np.exp(-np.arange(150) / 5), 1e-13 * (1 + (np.arange(50) % 2))], "converged"),
])
def test_oscillating_means_still_bouncing_at_the_end(losses, kind):
    assert W.classify_run(losses, lr=0.5)[0] == kind
