"""Tests of bptutor.datasets: generated sets, the shipped digits, splitting and memmaps."""
import hashlib
import shutil

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from bptutor import datasets
from bptutor.datasets import (DIGITS_SHA256, binary_targets, digits_memmap, load_digits, make_circles,
                              make_moons, make_noisy_sine, make_spirals, make_xor, parity,
                              symmetry_patterns, to_memmap, train_val_test_split)

MAKERS = {
    "xor": lambda noise, rng: make_xor(25, noise=noise, rng=rng),
    "moons": lambda noise, rng: make_moons(100, noise=noise, rng=rng),
    "spirals": lambda noise, rng: make_spirals(99, n_classes=3, noise=noise, rng=rng),
    "circles": lambda noise, rng: make_circles(100, noise=noise, rng=rng),
    "sine": lambda noise, rng: make_noisy_sine(10, noise=noise, rng=rng),
    "symmetry": lambda noise, rng: symmetry_patterns(noise=noise, rng=rng),
    "parity": lambda noise, rng: parity(4, noise=noise, rng=rng),
}


# --- shapes, labels, determinism ------------------------------------------------------------------

@pytest.mark.parametrize("name, n, d, counts", [
    ("xor", 100, 2, [50, 50]),
    ("moons", 100, 2, [50, 50]),
    ("spirals", 99, 2, [33, 33, 33]),
    ("circles", 100, 2, [50, 50]),
    ("symmetry", 64, 6, [56, 8]),
    ("parity", 16, 4, [8, 8]),
])
def test_classification_sets_have_shapes_dtypes_and_balance(name, n, d, counts):
    X, y = MAKERS[name](0.1, 0)
    assert X.shape == (n, d) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == counts


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_same_seed_same_data_other_seed_other_noise(name):
    X1, y1 = MAKERS[name](0.2, 7)
    X2, y2 = MAKERS[name](0.2, np.random.default_rng(7))
    X3, y3 = MAKERS[name](0.2, 8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    if name == "sine":  # the noise is on the targets t; x is a fixed grid
        X1, y1, X3, y3 = y1, X1, y3, X3
    np.testing.assert_array_equal(y1, y3)  # labels (the sine's x) do not depend on the noise
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_noise_is_gaussian_with_the_given_standard_deviation(name):
    maker = MAKERS[name] if name != "sine" else lambda noise, rng: make_noisy_sine(400, noise, rng)
    exact, noisy = maker(0.0, 0), maker(0.05, 0)
    index = 1 if name == "sine" else 0  # the sine's noise is on the targets, the others' on X
    residual = noisy[index] - exact[index]
    assert abs(residual.mean()) < 0.02
    assert 0.04 < residual.std() < 0.06


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 60), noise=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1))
def test_two_class_makers_return_n_points_for_any_n(n, noise, seed):
    for maker in (make_moons, make_circles):
        X, y = maker(n, noise=noise, rng=seed)
        assert X.shape == (n, 2) and y.shape == (n,)
        assert np.bincount(y, minlength=2).tolist() == [(n + 1) // 2, n // 2]
        assert np.all(np.isfinite(X))


# --- exact geometry without noise ---------------------------------------------------------------

def test_xor_default_is_the_four_corners():
    X, y = make_xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    np.testing.assert_array_equal(y, np.logical_xor(X[:, 0], X[:, 1]))


def test_noisy_xor_clusters_sit_on_the_corners():
    X, y = make_xor(200, noise=0.1, rng=0)
    means = X.reshape(4, 200, 2).mean(axis=1)
    np.testing.assert_allclose(means, [[0, 0], [0, 1], [1, 0], [1, 1]], atol=0.03)
    np.testing.assert_array_equal(y.reshape(4, 200)[:, 0], [0, 1, 1, 0])


def test_moons_lie_on_two_unit_half_circles():
    X, y = make_moons(51, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 26 and len(lower) == 25
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12
    np.testing.assert_allclose(upper[[0, -1]], [[1, 0], [-1, 0]], atol=1e-12)  # theta = 0 and pi


def test_spirals_follow_their_formula():
    X, y = make_spirals(30, n_classes=3, noise=0.0)
    r = np.hypot(*X.T)
    np.testing.assert_allclose(r[:10], np.linspace(0.1, 1.0, 10), atol=1e-12)
    theta = 2 * np.pi * y / 3 + 2 * np.pi * r
    np.testing.assert_allclose(X, r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)]), atol=1e-12)
    # arm 1 is arm 0 turned by a third of a circle
    turn = 2 * np.pi / 3
    R = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    np.testing.assert_allclose(X[y == 1], X[y == 0] @ R.T, atol=1e-12)


def test_circles_have_radius_one_and_factor():
    X, y = make_circles(40, noise=0.0, factor=0.3)
    r = np.hypot(*X.T)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-12)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), 0.0, atol=1e-12)  # evenly spread angles


def test_noisy_sine_without_noise_is_the_sine_on_a_grid():
    x, t = make_noisy_sine(noise=0.0)
    assert x.shape == t.shape == (10, 1)
    np.testing.assert_allclose(x[:, 0], np.arange(10) / 9)
    np.testing.assert_allclose(t, np.sin(2 * np.pi * x), atol=1e-15)
    x2, t2 = make_noisy_sine(10, noise=0.3, rng=0)
    np.testing.assert_array_equal(x2, x)
    assert np.abs(t2 - t).max() > 0.05


def test_symmetry_patterns_are_all_64_with_8_palindromes():
    X, y = symmetry_patterns()
    assert len({tuple(row) for row in X}) == 64 and set(np.unique(X)) == {0.0, 1.0}
    np.testing.assert_array_equal(X[0b101101], [1, 0, 1, 1, 0, 1])  # row i is i in binary
    palindromes = X[y == 1]
    assert len(palindromes) == 8
    np.testing.assert_array_equal(palindromes, palindromes[:, ::-1])
    assert y[0b100001] == 1 and y[0b110011] == 1 and y[0b000001] == 0 and y[0b100010] == 0
    # the 8 palindromes are fixed by their first three bits, which take all 8 values
    assert sorted(int("".join(str(int(b)) for b in row[:3]), 2) for row in palindromes) == list(range(8))


def test_parity_labels_count_bits():
    X, y = parity(4)
    assert X.shape == (16, 4)
    np.testing.assert_array_equal(y, [bin(i).count("1") % 2 for i in range(16)])
    assert y[0b1011] == 1 and y[0b1001] == 0
    X2, y2 = parity(2)
    np.testing.assert_array_equal(X2, make_xor()[0])
    np.testing.assert_array_equal(y2, make_xor()[1])


def test_binary_targets_are_float_columns():
    Y = binary_targets(np.array([0, 1, 1]))
    assert Y.shape == (3, 1) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y[:, 0], [0, 1, 1])
    with pytest.raises(ValueError, match=r"binary_targets expected y in the range 0 to 1, got values from 0 to 2"):
        binary_targets([0, 2])


@pytest.mark.parametrize("call, error, message", [
    (lambda: make_xor(0), ValueError, r"make_xor expected n_per_cluster >= 1, got 0"),
    (lambda: make_xor(2.5), TypeError, r"make_xor expected n_per_cluster to be an integer, got 2.5"),
    (lambda: make_moons(1), ValueError, r"make_moons expected n >= 2, got 1"),
    (lambda: make_moons(10, noise=-0.1), ValueError, r"make_moons expected noise >= 0.0, got -0.1"),
    (lambda: make_moons(10, noise=float("nan")), ValueError, r"make_moons expected noise to be finite"),
    (lambda: make_moons(10, rng=None), TypeError, r"expected rng to be a numpy.random.Generator"),
    (lambda: make_spirals(10, n_classes=1), ValueError, r"make_spirals expected n_classes >= 2, got 1"),
    (lambda: make_spirals(5, n_classes=3), ValueError, r"make_spirals expected n >= 6, got 5"),
    (lambda: make_circles(10, factor=1.0), ValueError, r"make_circles expected factor < 1.0, got 1.0"),
    (lambda: make_circles(10, factor=0), ValueError, r"make_circles expected factor > 0.0, got 0.0"),
    (lambda: make_noisy_sine(1), ValueError, r"make_noisy_sine expected n >= 2, got 1"),
    (lambda: symmetry_patterns(noise="a"), TypeError, r"symmetry_patterns expected noise to be a real number"),
    (lambda: parity(0), ValueError, r"parity expected n_bits >= 1, got 0"),
    (lambda: parity(17), ValueError, r"parity expected n_bits <= 16 \(2\^16 patterns\), got 17"),
])
def test_bad_arguments_are_refused_with_a_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- the digits ---------------------------------------------------------------------------------------

def test_digits_load_with_the_documented_shapes_and_classes():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_shipped_digits_file_has_the_published_checksum():
    from importlib.resources import files
    data = files("bptutor.data").joinpath("digits.npz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == DIGITS_SHA256
    assert DIGITS_SHA256 == "b2dab7b501728c22e9119ad76740b2e17c77a231e42d1e592380d90886f1a05e"


def test_digits_match_scikit_learns_copy():
    sk = pytest.importorskip("sklearn.datasets")
    bunch = sk.load_digits()
    X, y = load_digits()
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)


def test_missing_digits_file_gives_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"load_digits could not find .*nothing\.npz: no such file"):
        load_digits(tmp_path / "nothing.npz")
    monkeypatch.setattr(datasets, "DIGITS_FILE", "gone.npz")
    with pytest.raises(FileNotFoundError, match=r"gone\.npz of the package bptutor\.data .* is missing; "
                                                r"restore it with `git checkout data/digits\.npz`"):
        load_digits()


def test_corrupt_digits_file_is_refused(tmp_path, monkeypatch):
    from importlib.resources import files
    copy = tmp_path / "digits.npz"
    shutil.copyfile(str(files("bptutor.data").joinpath("digits.npz")), copy)
    load_digits(copy)  # an intact copy loads
    data = bytearray(copy.read_bytes())
    data[1000] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"load_digits found a corrupt or changed file .*digits\.npz: its "
                                         r"SHA-256 is [0-9a-f]{64}, expected b2dab7b5"):
        load_digits(copy)
    monkeypatch.setattr(datasets, "DIGITS_SHA256", "0" * 64)
    with pytest.raises(ValueError, match=r"its SHA-256 is b2dab7b5.*, expected 0000"):
        load_digits()


# --- splitting -------------------------------------------------------------------------------------------

def test_split_is_disjoint_complete_and_stratified():
    X, y = load_digits()
    rows = np.arange(len(y))
    (Xa, ya), (Xb, yb), (Xc, yc) = train_val_test_split(rows[:, None], y, val=0.2, test=0.1, rng=0)
    a, b, c = Xa[:, 0], Xb[:, 0], Xc[:, 0]
    assert not (set(a) & set(b)) and not (set(a) & set(c)) and not (set(b) & set(c))
    np.testing.assert_array_equal(np.sort(np.concatenate([a, b, c])), rows)
    np.testing.assert_array_equal(ya, y[a])  # rows and labels stay together
    counts = np.bincount(y)
    np.testing.assert_array_equal(np.bincount(yb, minlength=10), np.round(0.2 * counts))
    np.testing.assert_array_equal(np.bincount(yc, minlength=10), np.round(0.1 * counts))
    assert abs(len(b) - 0.2 * len(y)) <= 5 and abs(len(c) - 0.1 * len(y)) <= 5


def test_split_is_deterministic_per_seed_and_shuffled():
    X, y = make_moons(100, noise=0.1)
    first = train_val_test_split(X, y, rng=3)
    again = train_val_test_split(X, y, rng=3)
    other = train_val_test_split(X, y, rng=4)
    for (P, p), (Q, q) in zip(first, again):
        np.testing.assert_array_equal(P, Q)
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(first[0][0], other[0][0])
    assert 0 < first[0][1][:35].mean() < 1  # training rows are not sorted by class


def test_unstratified_split_takes_regression_targets():
    x, t = make_noisy_sine(20, rng=0)
    with pytest.raises(ValueError, match=r"train_val_test_split expected class labels in y to stratify by, "
                                         r"got non-integer values; pass stratify=False"):
        train_val_test_split(x, t)
    (xa, ta), (xb, tb), (xc, tc) = train_val_test_split(x, t, val=0.25, test=0.25, stratify=False)
    assert len(xa) == 10 and len(xb) == len(xc) == 5 and ta.shape == (10, 1)
    np.testing.assert_array_equal(np.sin(2 * np.pi * xb) + (tb - np.sin(2 * np.pi * xb)), tb)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(val=0.5, test=0.5), ValueError, r"expected val \+ test < 1 \(something left to train on\), got 0.5 \+ 0.5"),
    (dict(val=-0.1), ValueError, r"train_val_test_split expected val >= 0.0, got -0.1"),
    (dict(test=1), ValueError, r"train_val_test_split expected test < 1.0, got 1.0"),
    (dict(stratify=1), TypeError, r"expected stratify to be True or False, got 1"),
    (dict(rng=-1), TypeError, r"expected rng to be a numpy.random.Generator or a non-negative integer seed"),
])
def test_split_bad_arguments(kwargs, error, message):
    X, y = make_moons(20)
    with pytest.raises(error, match=message):
        train_val_test_split(X, y, **kwargs)


def test_split_refuses_mismatched_rows():
    X, y = make_moons(20)
    with pytest.raises(ValueError, match=r"expected X and y with the same number of rows \(at least 1\), "
                                         r"got X of shape \(20, 2\) and y of shape \(19,\)"):
        train_val_test_split(X, y[:19])


# --- memmaps ----------------------------------------------------------------------------------------------

def test_to_memmap_writes_float32_and_maps_read_only(tmp_path):
    X, y = make_moons(50, noise=0.1)
    path = tmp_path / "moons.npy"
    mm = to_memmap(X, path)
    assert isinstance(mm, np.memmap) and mm.dtype == np.float32 and mm.shape == (50, 2)
    np.testing.assert_array_equal(mm, X.astype(np.float32))
    with pytest.raises(ValueError, match="read-only"):
        mm[0, 0] = 1.0
    np.testing.assert_array_equal(np.load(path), X.astype(np.float32))  # a plain .npy file
    parts = train_val_test_split(mm, y, rng=0)
    assert sum(len(p[0]) for p in parts) == 50 and not isinstance(parts[0][0], np.memmap)


def test_digits_memmap(tmp_path):
    mm, y = digits_memmap(tmp_path / "digits.npy")
    X, y2 = load_digits()
    assert isinstance(mm, np.memmap) and mm.shape == (1797, 64)
    np.testing.assert_array_equal(mm, X)
    np.testing.assert_array_equal(y, y2)
