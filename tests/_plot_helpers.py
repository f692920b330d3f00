"""Fixtures and helpers shared by the tests of bptutor.plotting's modules (all under Agg)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def start_without_figures():
    """Close what another test module left open, once, so no_figure_leaks blames only this module's tests."""
    plt.close("all")
    yield


@pytest.fixture(autouse=True)
def no_figure_leaks():
    assert plt.get_fignums() == [], "a previous test left a figure open"
    yield
    plt.close("all")


@pytest.fixture
def ax():
    return plt.subplots()[1]


def contour_sets(ax):
    return [c for c in ax.collections if isinstance(c, ContourSet)]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]
