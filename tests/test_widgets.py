"""Headless tests of what every explorer of bptutor.widgets shares (``widgets._explorer``).

Each explorer is built and each control set to its extremes: nothing is
displayed on construction, a picture is produced, several controls change with
one update, and errors become a message in the widget instead of an exception.
The verdicts and numbers of each explorer are tested beside its module
(``test_learning_rate.py``, ``test_optimizer_race.py``, ...).
"""
from __future__ import annotations

import base64

import pytest

from bptutor import widgets as W
from bptutor.widgets import activation_explorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BUILDERS = {
    "learning_rate": W.explore_learning_rate,
    "optimizers": W.explore_optimizers,
    "momentum_map": W.explore_momentum_map,
    "activation": W.explore_activation,
    "loss": W.explore_loss,
    "regularization": W.explore_regularization,
    "backward": W.explore_backward,
}


def shown_png(explorer) -> bytes:
    """The PNG the explorer's Output holds (exactly one output, an image)."""
    (output,) = explorer.output.outputs
    assert output["output_type"] == "display_data"
    png = base64.b64decode(output["data"]["image/png"])
    assert png.startswith(PNG_SIGNATURE)
    return png


@pytest.fixture(scope="module")
def explorers():
    """One explorer of each kind, shared by the tests of this module (they reset what they change)."""
    return {name: build() for name, build in BUILDERS.items()}


# --- the shell: nothing displayed on construction, controls, errors -----------------------------

@pytest.mark.parametrize("name", BUILDERS)
def test_construction_displays_nothing_and_draws_into_output(name, capsys, monkeypatch):
    import IPython.display

    def fail(*args, **kwargs):
        raise AssertionError("an explorer must not display itself")

    monkeypatch.setattr(IPython.display, "display", fail)
    explorer = BUILDERS[name]()
    assert capsys.readouterr().out == ""
    assert explorer.state["kind"] != "error", explorer.state["message"]
    assert explorer.status.value.startswith("<b>")
    shown_png(explorer)
    for control_name, control in explorer.controls.items():
        assert getattr(explorer, control_name) is control
    bundle, metadata = explorer._repr_mimebundle_()   # (data, metadata): the picture carries its alt text
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    assert bundle["image/png"] and metadata["image/png"]["alt"] == bundle["text/plain"]
    assert explorer.status in explorer.widget.children and explorer.output in explorer.widget.children


def test_set_changes_several_controls_with_one_update(explorers):
    explorer = explorers["loss"]
    calls = []
    original = explorer.compute
    explorer.compute = lambda: calls.append(1) or original()
    try:
        state = explorer.set(p=0.8, target=0)
        assert calls == [1]
        assert state is explorer.state and state["kind"] == "wrong"
        explorer.p.value = 0.05  # a single control: one update as well
        assert calls == [1, 1] and explorer.state["kind"] == "right"
    finally:
        del explorer.compute
        explorer.set(p=0.3, target=1)
    with pytest.raises(ValueError, match=r"expected control names from \['p', 'target'\], got \['q'\]"):
        explorer.set(q=1)


def test_an_error_becomes_a_message_in_the_widget(explorers):
    explorer = explorers["learning_rate"]
    explorer.hidden.value = "sixteen"
    assert explorer.state["kind"] == "error"
    assert "expected hidden sizes like '16, 16'" in explorer.state["message"]
    assert explorer.status.value.startswith('<span style="color:#b00020">Something went wrong: ValueError')
    assert explorer.output.outputs == ()
    explorer.hidden.value = "16, 16"  # fixing the input recovers
    assert explorer.state["kind"] == "converged"
    shown_png(explorer)


def test_an_unexpected_exception_never_escapes(explorers, monkeypatch):
    explorer = explorers["activation"]

    def broken(*args):
        raise RuntimeError("boom <b>")

    monkeypatch.setattr(activation_explorer, "activation_profile", broken)
    explorer.x.value = 1.0  # no exception here
    assert explorer.state == {"kind": "error", "message": "RuntimeError: boom <b>",
                              "seconds": explorer.state["seconds"]}
    assert "boom &lt;b&gt;" in explorer.status.value  # escaped, not interpreted
    monkeypatch.undo()
    explorer.x.value = 0.0
    assert explorer.state["kind"] == "vanishing"


def _extremes(control):
    """Values a learner can reach with this control: ends, middle, every option."""
    if hasattr(control, "options") and not hasattr(control, "rows"):
        return list(control.options)
    if hasattr(control, "rows"):  # SelectMultiple: one, all
        return [control.options[:1], tuple(control.options)]
    if hasattr(control, "base"):  # log slider: ends and the middle exponent
        return [control.base ** control.min, control.base ** ((control.min + control.max) / 2),
                control.base ** control.max]
    if hasattr(control, "min") and hasattr(control, "max"):
        middle = (control.min + control.max) / 2
        return [control.min, type(control.value)(middle), control.max]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILDERS)
def test_every_control_at_its_extremes_gives_a_verdict_and_a_picture(name):
    explorer = BUILDERS[name]()
    defaults = {k: c.value for k, c in explorer.controls.items()}
    for control_name, control in explorer.controls.items():
        if control_name == "epochs" and name == "learning_rate":
            values = [control.min, control.max]
        else:
            values = _extremes(control)
        for value in values:
            explorer.controls[control_name].value = value
            state = explorer.state
            assert state["kind"] != "error", f"{control_name}={value!r}: {state['message']}"
            assert state["message"]
            shown_png(explorer)
        explorer.set(**{control_name: defaults[control_name]})


def test_the_package_reexports_every_function_and_class_of_its_modules():
    # Notebooks import from the package (`from bptutor.widgets import explore_loss`), so a new
    # public function or class in a module must be added to the package's imports and __all__.
    from bptutor.widgets import (_explorer, activation_explorer, backward_explorer, learning_rate,
                                 loss_explorer, momentum_map, optimizer_race, regularization_explorer)
    helpers = {"control_style", "log_slider"}  # shared by the explorer modules, not for notebooks
    for module in (_explorer, loss_explorer, backward_explorer, learning_rate, optimizer_race,
                   momentum_map, activation_explorer, regularization_explorer):
        for name, value in vars(module).items():
            if (callable(value) and getattr(value, "__module__", None) == module.__name__
                    and not name.startswith("_") and name not in helpers):
                assert name in W.__all__ and getattr(W, name) is value, f"{module.__name__}.{name}"
    assert len(W.__all__) == len(set(W.__all__))
