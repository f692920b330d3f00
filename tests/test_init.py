"""Tests for bptutor.init: shapes, the formulas' scales, reproducibility, zeros' symmetry, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bptutor import init
from bptutor.init import INITIALIZERS

NAMES = ["standard", "xavier_uniform", "xavier_normal", "he_normal", "zeros"]


def test_registry_names_and_order():
    assert list(INITIALIZERS) == NAMES
    assert INITIALIZERS["he_normal"] is init.he_normal


@pytest.mark.parametrize("name", NAMES)
def test_shape_dtype_and_seed(name):
    f = INITIALIZERS[name]
    W = f(3, 5, 0)
    assert W.shape == (3, 5) and W.dtype == np.float64
    # the same seed gives the same weights; a Generator is consumed (two draws differ)
    np.testing.assert_array_equal(W, f(3, 5, 0))
    rng = np.random.default_rng(1)
    if name != "zeros":
        assert not np.array_equal(f(3, 5, rng), f(3, 5, rng))


def test_standard_by_hand():
    # fan_in = 4 -> bound 1/sqrt(4) = 0.5, so W is U[-0.5, 0.5] drawn from the seeded generator
    expected = np.random.default_rng(7).uniform(-0.5, 0.5, size=(4, 2))
    np.testing.assert_array_equal(init.standard(4, 2, 7), expected)


def test_xavier_uniform_by_hand():
    # fan_in + fan_out = 2 + 4 = 6 -> bound sqrt(6/6) = 1
    expected = np.random.default_rng(3).uniform(-1.0, 1.0, size=(2, 4))
    np.testing.assert_array_equal(init.xavier_uniform(2, 4, 3), expected)


def test_normals_by_hand():
    # xavier_normal: std sqrt(2/(3+5)) = 0.5; he_normal: std sqrt(2/8) = 0.5 for fan_in 8
    np.testing.assert_array_equal(init.xavier_normal(3, 5, 2),
                                  np.random.default_rng(2).normal(0.0, 0.5, size=(3, 5)))
    np.testing.assert_array_equal(init.he_normal(8, 3, 2),
                                  np.random.default_rng(2).normal(0.0, 0.5, size=(8, 3)))


# fan_in != fan_out, so mixing them up would show; 200_000 samples give variances to ~1 %
@pytest.mark.parametrize("name, variance", [
    ("standard", 1 / (3 * 400)),            # U[-a, a] has variance a^2/3, a = 1/sqrt(400)
    ("xavier_uniform", 2 / (400 + 500)),
    ("xavier_normal", 2 / (400 + 500)),
    ("he_normal", 2 / 400),
])
def test_variance_matches_formula(name, variance):
    W = INITIALIZERS[name](400, 500, 0)
    assert abs(W.mean()) < 0.01 * np.sqrt(variance) * 5
    assert W.var() == pytest.approx(variance, rel=0.02)


def test_zeros_never_break_symmetry():
    # A 2-3-1 tanh network started at zero: after gradient steps all hidden units are still equal
    # (every column of W1 the same, every row of W2 the same), so it is one unit in disguise.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))
    W1, b1 = init.zeros(2, 3, 0), np.zeros(3)
    W2, b2 = init.zeros(3, 1, 0), np.zeros(1)
    for _ in range(50):
        H = np.tanh(X @ W1 + b1)                     # (N, 3)
        dout = (H @ W2 + b2 - y) / len(X)            # mse gradient, (N, 1)
        dW2, db2 = H.T @ dout, dout.sum(0)
        dZ = (dout @ W2.T) * (1 - H ** 2)            # (N, 3)
        dW1, db1 = X.T @ dZ, dZ.sum(0)
        W1, b1, W2, b2 = W1 - 0.5 * dW1, b1 - 0.5 * db1, W2 - 0.5 * dW2, b2 - 0.5 * db2
    assert np.all(W1 == W1[:, :1]) and np.all(W2 == W2[0])
    # whereas a random start breaks it at once
    assert len(np.unique(init.standard(2, 3, 0))) == 6


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 2 ** 32 - 1))
def test_bounds_and_shapes_property(fan_in, fan_out, seed):
    W = init.standard(fan_in, fan_out, seed)
    assert W.shape == (fan_in, fan_out)
    assert np.all(np.abs(W) <= 1 / np.sqrt(fan_in))
    U = init.xavier_uniform(fan_in, fan_out, seed)
    assert np.all(np.abs(U) <= np.sqrt(6 / (fan_in + fan_out)))
    assert not np.any(init.zeros(fan_in, fan_out, seed))


def test_torch_parity_of_scales():
    torch = pytest.importorskip("torch")
    # torch stores Linear weights as (out, in); ours are (in, out). Same fan_in = 300, fan_out = 200.
    gen = torch.Generator().manual_seed(0)
    T = torch.empty(200, 300, dtype=torch.float64)
    cases = {
        "xavier_uniform": lambda: torch.nn.init.xavier_uniform_(T, generator=gen),
        "xavier_normal": lambda: torch.nn.init.xavier_normal_(T, generator=gen),
        "he_normal": lambda: torch.nn.init.kaiming_normal_(T, nonlinearity="relu", generator=gen),
        "standard": lambda: torch.nn.init.kaiming_uniform_(T, a=np.sqrt(5), generator=gen),  # nn.Linear
    }
    for name, fill in cases.items():
        theirs = fill().numpy()
        ours = INITIALIZERS[name](300, 200, 0)
        assert ours.std() == pytest.approx(theirs.std(), rel=0.03), name
        if name in ("xavier_uniform", "standard"):
            assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=1e-3), name


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("args, error, match", [
    ((0, 3, 0), ValueError, r"expected fan_in >= 1, got 0"),
    ((3, -1, 0), ValueError, r"expected fan_out >= 1, got -1"),
    ((2.5, 3, 0), TypeError, r"expected fan_in to be an integer, got 2.5"),
    ((True, 3, 0), TypeError, r"expected fan_in to be an integer, got True"),
    ((3, 3, None), TypeError, r"expected rng to be a numpy.random.Generator or a non-negative integer seed"),
    ((3, 3, -1), TypeError, r"expected rng to be .* got -1"),
])
def test_bad_input(name, args, error, match):
    with pytest.raises(error, match=match):
        INITIALIZERS[name](*args)


def test_error_names_the_initializer():
    with pytest.raises(ValueError, match=r"^he_normal expected fan_in >= 1, got 0$"):
        init.he_normal(0, 2, 0)
