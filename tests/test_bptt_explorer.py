"""Tests of bptutor.widgets.bptt_explorer: the gradient through time, its verdicts and its controls."""
from __future__ import annotations

import base64

import numpy as np
import pytest

from bptutor import widgets as W
from bptutor.widgets import bptt_explorer as B


@pytest.fixture(scope="module")
def explorer():
    return W.explore_bptt()


def shown_png(explorer) -> bytes:
    (output,) = explorer.output.outputs
    png = base64.b64decode(output["data"]["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return png


def test_recurrent_weights_have_the_spectral_radius_asked_for():
    Wh = B.recurrent_weights(32, 0.9, rng=0)
    assert np.max(np.abs(np.linalg.eigvals(Wh))) == pytest.approx(0.9, rel=1e-12)
    assert np.array_equal(Wh, B.recurrent_weights(32, 0.9, rng=0))


def test_the_linear_case_decays_at_exactly_the_spectral_radius():
    # f(z) = z: one step back multiplies by W_hh^T, whose largest eigenvalue sets the rate
    for rho in (0.5, 0.9, 1.1):
        state = B.bptt_gradient_profile(T=80, spectral_radius=rho, nonlinearity="linear")
        assert state["rate"] == pytest.approx(rho, rel=0.01)
        assert state["estimate"] == pytest.approx(rho)
    # tanh's slopes are below 1: the gradient shrinks faster than rho
    tanh = B.bptt_gradient_profile(T=80, spectral_radius=0.9, nonlinearity="tanh")
    assert tanh["rate"] < 0.9 and tanh["rate"] == pytest.approx(tanh["estimate"], rel=0.2)


def test_each_verdict_on_its_telling_setting(explorer):
    state = explorer.set(T=50, spectral_radius=0.9, nonlinearity="tanh", clip="off")
    assert state["kind"] == "vanishing"
    assert state["message"].startswith("vanishing: the gradient reaching step 1 is ")
    assert state["norms"][0] < 1e-3 and state["norms"][-1] == 1.0 and state["norms"].size == 50
    assert "the first steps barely learn" in state["message"]

    state = explorer.set(nonlinearity="linear", spectral_radius=1.0)
    assert state["kind"] == "stable" and "every step still gets a usable gradient" in state["message"]
    assert 1e-3 < state["norms"][0] < 1e3

    state = explorer.set(spectral_radius=1.2)
    assert state["kind"] == "exploding" and state["norms"][0] > 1e3
    assert "each step back multiplies it by 1.19 (the spectral radius is 1.2)" in state["message"]
    assert state["clipped_norm"] == state["grad_norm"] > 1e3

    state = explorer.set(clip="at 1")
    assert state["kind"] == "clipped"
    assert state["clipped_norm"] == pytest.approx(1.0, rel=1e-6) and state["grad_norm"] > 1e3
    assert f"from norm {state['grad_norm']:.3g} down to 1" in state["message"]
    shown_png(explorer)

    # clipping cannot undo vanishing: it scales every step's share alike
    state = explorer.set(nonlinearity="tanh", spectral_radius=0.9)
    assert state["kind"] == "vanishing" and "cannot bring the early steps back" in state["message"]
    explorer.set(clip="off")


def test_clipping_scales_every_steps_share_alike():
    free = B.bptt_gradient_profile(T=40, spectral_radius=1.2, nonlinearity="linear")
    clipped = B.bptt_gradient_profile(T=40, spectral_radius=1.2, nonlinearity="linear", clip=1.0)
    ratio = clipped["contributions"][1:] / free["contributions"][1:]
    assert np.allclose(ratio, ratio[0]) and ratio[0] == pytest.approx(1.0 / free["grad_norm"], rel=1e-5)
    assert np.array_equal(free["norms"], clipped["norms"])
    assert free["contributions"][0] == 0.0          # step 1's share: h_0 = 0 multiplies it


def test_tanh_can_explode_too_at_a_large_radius(explorer):
    state = explorer.set(spectral_radius=3.0, nonlinearity="tanh")
    assert state["kind"] == "exploding" and state["rate"] > 1
    explorer.set(spectral_radius=0.9)


def test_the_sequence_length_control_changes_the_picture(explorer):
    explorer.set(T=10)
    short = explorer.state["norms"][0]
    explorer.set(T=100)
    assert explorer.state["norms"].size == 100 and explorer.state["norms"][0] < short
    explorer.set(T=50)


def test_construction_displays_nothing(capsys, monkeypatch):
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: pytest.fail("displayed itself"))
    explorer = W.explore_bptt(T=20)
    assert capsys.readouterr().out == "" and explorer.state["kind"] != "error"
    assert explorer.T is explorer.controls["T"] and explorer.status.value.startswith("<b>")
    shown_png(explorer)


def test_an_error_becomes_the_status_line(explorer, monkeypatch):
    def broken(*args):
        raise ValueError("overflow <here>")

    monkeypatch.setattr(B, "bptt_gradient_profile", broken)
    explorer.seed.value = 1
    assert explorer.state["kind"] == "error" and explorer.state["message"] == "ValueError: overflow <here>"
    assert "Something went wrong" in explorer.status.value and "&lt;here&gt;" in explorer.status.value
    assert explorer.output.outputs == ()
    monkeypatch.undo()
    explorer.seed.value = 0
    assert explorer.state["kind"] == "vanishing"


def test_an_overflowing_gradient_is_reported_in_words():
    with pytest.raises(ValueError, match=r"the gradient overflowed float64 over 1000 steps at spectral radius 3"):
        B.bptt_gradient_profile(T=1000, spectral_radius=3.0, nonlinearity="linear")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"T": 1}, ValueError, r"explore_bptt expected T >= 2, got 1"),
    ({"T": 500}, ValueError, r"explore_bptt expected T <= 200 \(the slider's range\), got 500"),
    ({"T": 20.0}, TypeError, r"explore_bptt expected T to be an integer, got 20.0"),
    ({"spectral_radius": 5.0}, ValueError, r"explore_bptt expected spectral_radius <= 3.0, got 5.0"),
    ({"spectral_radius": "big"}, TypeError, r"explore_bptt expected spectral_radius to be a real number"),
    ({"nonlinearity": "sigmoid"}, ValueError, r"explore_bptt expected nonlinearity to be one of"),
    ({"nonlinearity": 1}, TypeError, r"explore_bptt expected nonlinearity to be one of"),
    ({"clip": 1.0}, TypeError, r"explore_bptt expected clip to be one of \['off', 'at 0.1', 'at 1', 'at 10'\]"),
    ({"clip": "at 5"}, ValueError, r"explore_bptt expected clip to be one of"),
    ({"seed": -1}, ValueError, r"explore_bptt expected seed >= 0, got -1"),
])
def test_the_builder_checks_its_keyword_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        W.explore_bptt(**kwargs)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"T": 1}, ValueError, r"bptt_gradient_profile expected T >= 2, got 1"),
    ({"spectral_radius": 0.0}, ValueError, r"bptt_gradient_profile expected spectral_radius > 0.0, got 0.0"),
    ({"clip": -1.0}, ValueError, r"bptt_gradient_profile expected clip > 0.0, got -1.0"),
    ({"nonlinearity": None}, TypeError, r"bptt_gradient_profile expected nonlinearity to be one of"),
])
def test_the_compute_function_checks_its_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        B.bptt_gradient_profile(**kwargs)


def test_the_package_reexports_the_module():
    for name, value in vars(B).items():
        if callable(value) and getattr(value, "__module__", None) == B.__name__ and not name.startswith("_"):
            assert name in W.__all__ and getattr(W, name) is value, name
    for name in ("BPTT_KINDS", "CLIP_OPTIONS"):
        assert getattr(W, name) is getattr(B, name)


def test_every_control_at_its_extremes_gives_a_verdict_and_a_picture():
    explorer = W.explore_bptt()
    for T in (2, 200):
        for rho in (0.1, 3.0):
            for nonlinearity in B.NONLINEARITIES:
                for clip in B.CLIP_OPTIONS:
                    state = explorer.set(T=T, spectral_radius=rho, nonlinearity=nonlinearity, clip=clip)
                    assert state["kind"] in B.BPTT_KINDS, (T, rho, nonlinearity, clip, state["message"])
                    shown_png(explorer)
