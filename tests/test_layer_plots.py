"""Tests for bptutor.plotting.layer_plots: plot_activation against closed forms, plot_weights' symmetric
colour scale, by the artists they draw."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from _plot_helpers import ax, no_figure_leaks, start_without_figures  # noqa: E402,F401 (fixtures)
from _plot_helpers import legend_texts  # noqa: E402
from bptutor import plotting  # noqa: E402
from bptutor.layers import Parameter  # noqa: E402


# --- plot_activation -------------------------------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


REFERENCE = {  # closed forms, written independently of bptutor.activations
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    "identity": (lambda x: x, np.ones_like),
    "step": (lambda x: (x > 0) * 1.0, np.zeros_like),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_plot_activation_draws_function_and_derivative(name, ax):
    assert plotting.plot_activation(name, ax=ax) is ax
    f_line, df_line = ax.get_lines()
    x = f_line.get_xdata()
    assert x[0] == -5 and x[-1] == 5
    away = np.abs(x) > 1e-9  # relu, step, leaky_relu have a kink or jump at 0
    f, df = REFERENCE[name]
    np.testing.assert_allclose(f_line.get_ydata()[away], f(x)[away], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(df_line.get_ydata()[away], df(x)[away], rtol=1e-12, atol=1e-15)
    assert df_line.get_linestyle() == "--"
    assert legend_texts(ax) == [f"{name}(x)", f"{name}'(x)"]


def test_plot_activation_names_cover_the_registry_and_bad_names(ax):
    from bptutor.activations import ACTIVATIONS
    assert set(REFERENCE) == (set(ACTIVATIONS) - {"softmax"}) | {"step"}
    with pytest.raises(ValueError, match=r"plot_activation expected name to be one of "
                                         r"\[.*'relu'.*'step'.*\], got 'gelu'"):
        plotting.plot_activation("gelu", ax=ax)
    with pytest.raises(ValueError, match=r"expected an elementwise activation, got 'softmax'"):
        plotting.plot_activation("softmax", ax=ax)
    with pytest.raises(ValueError, match=r"expected xlim\[1\] > 1.0, got 1.0"):
        plotting.plot_activation("tanh", ax=ax, xlim=(1, 1))
    plotting.plot_activation("tanh", ax=ax, xlim=(-10, 10))
    assert ax.get_lines()[0].get_xdata()[-1] == 10


# --- plot_weights ------------------------------------------------------------------------------------

def test_plot_weights_diverging_heat_map_centred_on_zero(ax):
    W = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    assert plotting.plot_weights(W, ax=ax) is ax
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), W)
    assert image.norm.vmin == -3.0 and image.norm.vmax == 3.0
    assert image.get_cmap().name == "RdBu_r"
    # 0 maps to the middle of the colormap, white-ish
    assert image.norm(0.0) == 0.5
    assert len(ax.figure.axes) == 2  # the heat map and its colour bar


def test_plot_weights_vectors_parameters_and_bad_inputs():
    ax = plotting.plot_weights(Parameter(np.array([0.5, -0.25])))
    np.testing.assert_array_equal(ax.images[0].get_array(), [[0.5, -0.25]])
    ax = plotting.plot_weights(np.zeros((2, 2)))
    assert ax.images[0].norm.vmax == 1.0  # all zeros: a scale of +-1, not a division by 0
    with pytest.raises(ValueError, match=r"plot_weights expected W of shape \(D, H\) or \(H,\), "
                                         r"got \(2, 2, 2\)"):
        plotting.plot_weights(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"plot_weights expected W to be finite, got 1 NaN"):
        plotting.plot_weights(np.array([[0.0, np.nan]]))
