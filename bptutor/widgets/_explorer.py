r"""The shell every explorer shares: controls, a status line and a figure, redrawn on change.

:class:`Explorer` does the updating (recompute, redraw, write the status and one
PNG into the ``Output``, turn any exception into a message) and the saving;
an explorer module subclasses it with its controls, ``compute`` and ``draw``.
Beside it are the helpers those modules share: :func:`figure_png`,
:func:`status_html`, :func:`clear_axes` and the control helpers
:func:`control_style` and :func:`log_slider`.
"""
from __future__ import annotations

import base64
from abc import ABC, abstractmethod
import html
import io
import time
from contextlib import contextmanager

import ipywidgets as widgets
import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


#: Resolution of the PNGs the explorers show (and ``bptutor.figures`` saves). A figure
#: 9 inches wide is 990 pixels: sharp on a high-density screen at its natural size, and
#: with every text at least 9 pt (:data:`_FONTS`) a letter is at least 13 pixels high.
DPI = 110

#: Font sizes (points) of every explorer figure: nothing smaller than 9 pt.
_FONTS = {"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9,
         "ytick.labelsize": 9, "legend.fontsize": 9, "legend.title_fontsize": 9,
         "figure.titlesize": 10}

#: Width of a control (two to a row where the output is wide enough, else one): room for its
#: 120-pixel description and a slider of 300 pixels or more,
#: so that a log slider spanning four decades moves about 75 pixels per decade.
_CONTROL_WIDTH = "530px"


def figure_png(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (Agg, no pyplot)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _light_png(png: bytes) -> bytes:
    """``png`` reduced to a 256-colour palette: line art stays sharp and the file is about a
    third of the size, light enough to commit (a few tens of milliseconds, so only for
    pictures that are saved, never on every slider move)."""
    from PIL import Image  # matplotlib's own dependency

    image = Image.open(io.BytesIO(png)).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def status_html(kind: str, message: str) -> str:
    """``"<b>kind</b>: message"``, or the message with its kind in bold when it starts with it."""
    kind, message = html.escape(kind), html.escape(message)
    if message.startswith(kind):
        return f"<b>{kind}</b>{message[len(kind):]}"
    return f"<b>{kind}</b>: {message}"


def clear_axes(ax) -> None:
    """Remove everything drawn on ``ax``, but keep the axes, their scales and ticks."""
    for artist in [*ax.lines, *ax.collections, *ax.images, *ax.patches, *ax.texts, *ax.artists]:
        artist.remove()
    ax.containers.clear()  # the bar containers of a histogram hold its (removed) patches
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.set_title("")
    ax.set_prop_cycle(None)  # the next line is blue again, as on new axes
    ax.relim()
    ax.autoscale()


class Explorer(ABC):
    """Controls, a status line and a figure, recomputed whenever a control changes.

    A subclass builds its controls, passes them as ``{name: widget}`` and implements
    ``compute()`` (read the controls, call the pure function, return the state dict
    with at least ``"kind"`` and ``"message"``) and ``draw(state)`` (draw on
    ``self.figure``).

    Attributes:
        controls: ``{name: widget}``; each is also an attribute (``explorer.lr``).
        status: ``HTML`` widget, one line: the verdict and why.
        output: ``Output`` widget holding the figure as one PNG.
        state: dict of the last result; ``state["kind"]`` is ``"error"`` when the
            last update failed, ``state["seconds"]`` the time it took.
        figure: the ``Figure`` drawn on (reused across updates).
        widget: the ``VBox`` shown in the notebook.
    """

    title = ""
    #: Relative widths of the figure's panels, side by side.
    panels = (1.0, 1.0)
    #: ``Figure.subplots_adjust`` arguments of this explorer's figure.
    margins = {"left": 0.1, "right": 0.98, "bottom": 0.16, "top": 0.9, "wspace": 0.35}

    def __init__(self, controls: dict, figsize: tuple, buttons=()):
        self.controls = dict(controls)
        for name, control in self.controls.items():
            setattr(self, name, control)
            control.observe(self._on_change, names="value")
            if not control.layout.width:
                control.layout.width = _CONTROL_WIDTH
        self.status = widgets.HTML(layout=widgets.Layout(min_height="1.6em"))
        self.status.add_class("bptutor-status")
        self.output = widgets.Output()
        self.output.add_class("bptutor-output")
        self.state: dict = {}
        self.figure = Figure(figsize=figsize, dpi=DPI)
        FigureCanvasAgg(self.figure)
        grid = widgets.GridBox(list(self.controls.values()) + list(buttons),
                               layout=widgets.Layout(grid_template_columns=f"repeat(auto-fill, {_CONTROL_WIDTH})",
                                                     grid_gap="2px 12px"))
        self.widget = widgets.VBox([widgets.HTML(f"<b>{html.escape(self.title)}</b>"), grid,
                                    self.status, self.output])
        self._held = False
        self._png = b""
        self.update()

    # -- what subclasses implement ------------------------------------------------------------
    @abstractmethod
    def compute(self) -> dict:
        """Run the pure computation for the current control values; return the new state."""

    @abstractmethod
    def draw(self, state: dict) -> None:
        """Draw ``state`` onto the explorer's figure."""

    def axes(self) -> list:
        """The figure's panels, made on first use and then reused with their artists removed.

        Reusing them keeps their ticks: building the ticks of new axes costs more than
        a whole training run of the learning-rate explorer.
        """
        if not self.figure.axes:
            self.figure.subplots(1, len(self.panels), gridspec_kw={"width_ratios": list(self.panels)})
        else:
            for ax in self.figure.axes:
                clear_axes(ax)
        return list(self.figure.axes)

    # -- updating -------------------------------------------------------------------------------
    def _on_change(self, change) -> None:
        if not self._held:
            self.update()

    @contextmanager
    def hold(self):
        """Change several controls, recompute once: ``with explorer.hold(): ...``."""
        held, self._held = self._held, True
        try:
            yield self
        finally:
            self._held = held
        if not held:
            self.update()

    def set(self, **values) -> dict:
        """Set controls by name, recompute once and return the new ``state``."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{type(self).__name__}.set expected control names from "
                             f"{sorted(self.controls)}, got {unknown}")
        with self.hold():
            for name, value in values.items():
                self.controls[name].value = value
        return self.state

    def update(self) -> None:
        """Recompute, redraw and write status and figure; never raises."""
        start = time.perf_counter()
        try:
            state = self.compute()
            with matplotlib.rc_context(_FONTS):
                self.figure.suptitle("")  # a title left by save()
                self.draw(state)
                # Fixed margins: tight_layout would cost more than the whole computation.
                self.figure.subplots_adjust(**self.margins)
                png = figure_png(self.figure)
        except Exception as exc:  # the learner gets a message, never a traceback
            message = f"{type(exc).__name__}: {exc}"
            self.state = {"kind": "error", "message": message}
            self.status.value = ('<span style="color:#b00020">Something went wrong: '
                                 f"{html.escape(message)}</span>")
            self.output.outputs = ()
            self._png = b""
        else:
            self.state = state
            self._png = png
            self.status.value = status_html(state["kind"], state["message"])
            self.output.outputs = ({"output_type": "display_data",
                                    "metadata": {"image/png": {"alt": self.summary()}},
                                    "data": {"image/png": base64.b64encode(png).decode("ascii"),
                                             "text/plain": self.summary()}},)
        self.state["seconds"] = time.perf_counter() - start

    def save(self, path, dpi: int = DPI) -> None:
        """Save the current figure, with the status line as its title, to ``path`` (PNG).

        The image is reduced to a 256-colour palette: line art stays sharp and the file
        is about a third of the size, light enough to commit.
        """
        if self.state.get("kind", "error") == "error":
            raise RuntimeError(f"{type(self).__name__} has no figure to save: "
                               f"{self.state.get('message', 'nothing computed yet')}")
        kind, message = self.state["kind"], self.state["message"]
        title = message if message.startswith(kind) else f"{kind}: {message}"
        with matplotlib.rc_context(_FONTS):
            self.figure.suptitle(title, fontsize=10, wrap=True)
            self.figure.subplots_adjust(top=self.margins["top"] - 0.12)
            png = figure_png(self.figure, dpi)
        with open(path, "wb") as f:
            f.write(_light_png(png))

    # -- showing --------------------------------------------------------------------------------
    def summary(self) -> str:
        """One line: the explorer's title, its control values and the verdict."""
        values = ", ".join(f"{name}={_short(control.value)}" for name, control in self.controls.items())
        verdict = self.state.get("message", "not computed yet")
        return f"{self.title} ({values}): {verdict}"

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """The live widget, and beside it a picture of its current state and a one-line summary.

        A front end with a running kernel shows the widget; one without (GitHub, nbviewer,
        nbconvert's HTML, VS Code or JupyterLab before the cell is run, since no widget state
        is stored) falls back to the ``image/png``, and a text-only one to ``text/plain``.
        No ``text/html`` here: nbconvert would prefer it to the picture.
        """
        data = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude, **kwargs) or {})
        data["text/plain"] = self.summary()
        metadata = {}
        if self._png:
            data["image/png"] = base64.b64encode(_light_png(self._png)).decode("ascii")
            metadata["image/png"] = {"alt": self.summary()}
        return data, metadata

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={control.value!r}" for name, control in self.controls.items())
        return f"{type(self).__name__}({values})"


def _short(value) -> str:
    """A control value as a learner would write it: ``0.1``, ``'Adam'``, ``True``."""
    return f"{value:.3g}" if isinstance(value, float) else repr(value)


def control_style() -> dict:
    """Room for the longest description, so the controls line up."""
    return {"description_width": "120px"}


def log_slider(description: str, value: float, low_exp: float, high_exp: float):
    """A slider from 10**low_exp to 10**high_exp, ten steps per decade, applied on release."""
    return widgets.FloatLogSlider(value=value, base=10, min=low_exp, max=high_exp, step=0.1,
                                  description=description, continuous_update=False,
                                  readout_format=".3g", style=control_style(),
                                  layout=widgets.Layout(width=_CONTROL_WIDTH))
