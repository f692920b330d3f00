"""Pictures a learner can read: every text in an explorer's figure and in ``draw_graph`` is
at least 9 pt at 110 dpi, and the controls leave a slider room to aim (>= 300 px)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from bptutor import widgets
from bptutor.engine import Value
from bptutor.plotting import draw_graph
from bptutor.widgets import _explorer

ROOT = Path(__file__).resolve().parent.parent

BUILDERS = {"loss": widgets.explore_loss, "backward": widgets.explore_backward,
            "learning_rate": widgets.explore_learning_rate, "optimizers": widgets.explore_optimizers,
            "momentum_map": widgets.explore_momentum_map,
            "activation": widgets.explore_activation, "regularization": widgets.explore_regularization,
            "bptt": widgets.explore_bptt}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def text_sizes(figure):
    """The font size (pt) of every visible text in ``figure``: titles, labels, ticks, legends."""
    figure.canvas.draw()  # ticks exist only once drawn
    return {t.get_text(): t.get_fontsize() for t in figure.findobj(lambda a: hasattr(a, "get_fontsize"))
            if hasattr(t, "get_text") and t.get_text() and t.get_visible()}


@pytest.mark.parametrize("name", BUILDERS)
def test_every_text_of_an_explorer_figure_is_at_least_9_pt(name):
    explorer = BUILDERS[name]()
    sizes = text_sizes(explorer.figure)
    assert sizes, "the figure has no text"
    small = {t: s for t, s in sizes.items() if s < 9}
    assert not small, small
    # 9 pt at 110 dpi is 13.75 pixels: legible at the PNG's natural size
    assert _explorer.DPI >= 100 and 9 * _explorer.DPI / 72 >= 13


def test_a_saved_picture_titles_its_verdict_in_10_pt(tmp_path):
    explorer = widgets.explore_loss()
    explorer.save(tmp_path / "loss.png")
    assert explorer.figure._suptitle.get_fontsize() == 10


def test_draw_graph_labels_are_at_least_9_pt():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    ax = draw_graph((a * b + a).tanh())
    assert ax.texts and min(t.get_fontsize() for t in ax.texts) >= 9


def test_controls_are_wide_enough_for_a_300_px_slider():
    explorer = widgets.explore_learning_rate()
    width = int(explorer.lr.layout.width.removesuffix("px"))
    description = int(explorer.lr.style.description_width.removesuffix("px"))
    # ipywidgets puts the readout and margins (96 px, measured in Chromium) beside the track
    assert width - description - 96 >= 300
    for control in explorer.controls.values():
        assert control.layout.width, f"{control.description} has no width"


FONT_SIZE = re.compile(r"""\b(?:fontsize|labelsize|title_fontsize)\s*=\s*("(?:xx-small|x-small|small)"|'(?:xx-small|x-small|small)'|\d+(?:\.\d+)?)""")


def font_sizes_below_9(source: str) -> list:
    """Font sizes a cell sets below 9 pt (matplotlib's "small" is 8.3 pt at the default 10)."""
    small = []
    for match in FONT_SIZE.finditer(source):
        value = match.group(1).strip("'\"")
        if value in ("xx-small", "x-small", "small") or float(value) < 9:
            small.append(match.group(0))
    return small


def test_the_font_size_scan_finds_small_text():
    assert font_sizes_below_9('ax.legend(fontsize="small"); ax.text(0, 0, "a", fontsize=7.5)') == [
        'fontsize="small"', "fontsize=7.5"]
    assert font_sizes_below_9("ax.legend(fontsize=9); ax.set_title('t', fontsize=12)") == []


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_no_notebook_figure_sets_text_below_9_pt(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    small = {i: font_sizes_below_9("".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "code"}
    assert not {i: s for i, s in small.items() if s}, "text below 9 pt in cells"
