r"""Data sets of the chapters: small generated problems and the 8x8 handwritten digits.

Every generator takes ``noise`` (the standard deviation of Gaussian noise, in
the units of the data) and ``rng`` (a ``numpy.random.Generator`` or an integer
seed), so a notebook names the source of every random number and a re-run
prints the same figures. With ``noise=0`` the geometry is exact.

Label conventions (the same for every classification set):

* ``X`` is float64 of shape ``(N, D)``;
* ``y`` holds integer class labels of shape ``(N,)`` (dtype int64), ready
  for ``"cross_entropy"`` with a C-output network;
* for a binary set trained with one output unit (``"bce"``,
  ``"bce_logits"``, ``"mse"``) the targets must have the output's shape
  ``(N, 1)`` and be floats: :func:`binary_targets` turns ``y`` into that,
  ``binary_targets(y)`` = ``y.reshape(-1, 1).astype(float)``.

The curve-fitting set :func:`make_noisy_sine` returns column vectors
``x, t`` of shape ``(N, 1)``, ready for a 1-input, 1-output network and ``"mse"``.

The digits (:func:`load_digits`) are read from the file ``digits.npz`` of the
package ``bptutor.data`` (the folder ``data/`` of the repository) and verified
against :data:`DIGITS_SHA256` before use; ``data/README.md`` gives their origin
and licence. :func:`to_memmap` writes an array to disk and maps it back
read-only, so a training loop can stream mini-batches from a file.
"""
from __future__ import annotations

import hashlib
import io
import os
from importlib.resources import files

import numpy as np

from ._checks import as_array, check_float, check_int, check_labels, check_path, check_rng, describe

#: SHA-256 of ``data/digits.npz``; :func:`load_digits` refuses a file with another hash.
DIGITS_SHA256 = "b2dab7b501728c22e9119ad76740b2e17c77a231e42d1e592380d90886f1a05e"
#: file name of the digits inside the package ``bptutor.data``.
DIGITS_FILE = "digits.npz"


def _noise(noise, who: str) -> float:
    return check_float("noise", noise, minimum=0.0, who=who)


def _jitter(X: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """``X`` plus Gaussian noise of standard deviation ``noise`` (nothing drawn when 0)."""
    if noise == 0.0:
        return X
    return X + noise * rng.standard_normal(X.shape)


def _split_counts(n: int, k: int) -> list[int]:
    """``n`` items into ``k`` groups as evenly as possible, the first groups one larger."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def binary_targets(y) -> np.ndarray:
    """0/1 labels ``(N,)`` as float targets ``(N, 1)`` for a network with one output unit.

    Args:
        y: integer labels 0 or 1, shape ``(N,)``.

    Returns:
        float64 array of shape ``(N, 1)``.
    """
    return check_labels("y", y, n_classes=2, who="binary_targets").astype(np.float64).reshape(-1, 1)


# --- generated sets ---------------------------------------------------------------------------

def make_xor(n_per_cluster: int = 1, noise: float = 0.0, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""The XOR problem: the four corners of the unit square, label :math:`x_1 \oplus x_2`.

    ``n_per_cluster`` copies of each corner, in the order (0, 0), (0, 1),
    (1, 0), (1, 1) with labels 0, 1, 1, 0, each moved by Gaussian noise. The
    default is the classic four points. No straight line separates the
    classes, so a network needs a hidden layer.

    Args:
        n_per_cluster: points per corner, >= 1.
        noise: standard deviation of the noise added to each coordinate, >= 0.
        rng: generator or seed for the noise.

    Returns:
        ``X`` (4 n_per_cluster, 2) float64 and ``y`` (4 n_per_cluster,) int64.
    """
    who = "make_xor"
    n = check_int("n_per_cluster", n_per_cluster, minimum=1, who=who)
    noise, rng = _noise(noise, who), check_rng(rng)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = np.repeat(corners, n, axis=0)  # (4n, 2)
    y = np.repeat(np.array([0, 1, 1, 0], dtype=np.int64), n)
    return _jitter(X, noise, rng), y


def make_moons(n: int = 200, noise: float = 0.1, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaving half circles (as scikit-learn's ``make_moons``).

    With :math:`\theta` evenly spaced in :math:`[0, \pi]`: class 0 lies on
    :math:`(\cos\theta, \sin\theta)`, the upper half of the unit circle about
    the origin; class 1 on :math:`(1 - \cos\theta, \tfrac12 - \sin\theta)`, the
    lower half of the unit circle about :math:`(1, \tfrac12)`.

    Args:
        n: number of points, >= 2; class 0 gets ``ceil(n/2)``.
        noise: standard deviation of the noise added to each coordinate, >= 0.
        rng: generator or seed for the noise.

    Returns:
        ``X`` (n, 2) float64, ``y`` (n,) int64, class 0 first.
    """
    who = "make_moons"
    n = check_int("n", n, minimum=2, who=who)
    noise, rng = _noise(noise, who), check_rng(rng)
    n0, n1 = _split_counts(n, 2)
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n1)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n0, n1])
    return _jitter(X, noise, rng), y


def make_spirals(n: int = 200, n_classes: int = 2, noise: float = 0.1, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""Interleaved spiral arms, one per class (as in the CS231n notes).

    Arm :math:`k` of :math:`C` consists of the points at radius :math:`r` evenly
    spaced in :math:`[0.1, 1]` and angle

    .. math:: \theta = \frac{2\pi k}{C} + 2\pi r, \qquad x = r(\cos\theta, \sin\theta),

    one full turn per arm. The arms start at radius 0.1 so that no two classes
    share a point.

    Args:
        n: total number of points, >= 2 n_classes; split as evenly as possible.
        n_classes: number of arms, >= 2.
        noise: standard deviation of the noise added to each coordinate, >= 0.
        rng: generator or seed for the noise.

    Returns:
        ``X`` (n, 2) float64, ``y`` (n,) int64, arm by arm.
    """
    who = "make_spirals"
    C = check_int("n_classes", n_classes, minimum=2, who=who)
    n = check_int("n", n, minimum=2 * C, who=who)
    noise, rng = _noise(noise, who), check_rng(rng)
    counts = _split_counts(n, C)
    r = np.concatenate([np.linspace(0.1, 1.0, m) for m in counts])
    y = np.repeat(np.arange(C, dtype=np.int64), counts)
    theta = 2.0 * np.pi * y / C + 2.0 * np.pi * r
    X = r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])  # (n, 2)
    return _jitter(X, noise, rng), y


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""Two concentric circles: class 0 at radius 1, class 1 at radius ``factor``.

    Angles are evenly spaced, :math:`\theta_j = 2\pi j / m` for the :math:`m`
    points of a circle. No line separates the classes, but the feature
    :math:`x_1^2 + x_2^2` does.

    Args:
        n: number of points, >= 2; class 0 gets ``ceil(n/2)``.
        noise: standard deviation of the noise added to each coordinate, >= 0.
        factor: radius of the inner circle, in (0, 1).
        rng: generator or seed for the noise.

    Returns:
        ``X`` (n, 2) float64, ``y`` (n,) int64, class 0 first.
    """
    who = "make_circles"
    n = check_int("n", n, minimum=2, who=who)
    noise, rng = _noise(noise, who), check_rng(rng)
    factor = check_float("factor", factor, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True,
                         who=who)
    n0, n1 = _split_counts(n, 2)
    t0 = np.linspace(0.0, 2.0 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2.0 * np.pi, n1, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        factor * np.column_stack([np.cos(t1), np.sin(t1)])])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n0, n1])
    return _jitter(X, noise, rng), y


def make_noisy_sine(n: int = 10, noise: float = 0.3, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""Curve-fitting data (Bishop, *PRML* §1.1): ``n`` evenly spaced points of a noisy sine.

    .. math:: x_i = \frac{i}{n - 1} \in [0, 1], \qquad
              t_i = \sin(2\pi x_i) + \varepsilon_i, \quad \varepsilon_i \sim \mathcal N(0, \text{noise}^2)

    A model that fits the noise of 10 points (a degree-9 polynomial) has zero
    training error and a wild curve in between: overfitting in one picture.

    Args:
        n: number of points, >= 2.
        noise: standard deviation of the noise on the targets, >= 0.
        rng: generator or seed for the noise.

    Returns:
        ``x`` (n, 1) and ``t`` (n, 1), float64 column vectors.
    """
    who = "make_noisy_sine"
    n = check_int("n", n, minimum=2, who=who)
    noise, rng = _noise(noise, who), check_rng(rng)
    x = np.linspace(0.0, 1.0, n)[:, None]  # (n, 1)
    return x, _jitter(np.sin(2.0 * np.pi * x), noise, rng)


def _all_bit_patterns(n_bits: int) -> np.ndarray:
    """Every ``n_bits``-bit pattern, row i the binary digits of i, most significant first."""
    i = np.arange(2 ** n_bits)[:, None]
    return ((i >> np.arange(n_bits - 1, -1, -1)) & 1).astype(np.float64)  # (2^n, n)


def symmetry_patterns(noise: float = 0.0, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""The mirror-symmetry task of Rumelhart, Hinton & Williams (1986): all 64 six-bit patterns.

    The target is 1 when the pattern reads the same from both ends,
    :math:`x_j = x_{7-j}` for :math:`j = 1, 2, 3` (a palindrome), else 0.
    Three free bits make :math:`2^3 = 8` palindromes among the 64 patterns.

    Args:
        noise: standard deviation of Gaussian noise on the inputs, >= 0 (0: exact bits).
        rng: generator or seed for the noise.

    Returns:
        ``X`` (64, 6) float64 (row i is i in binary, most significant bit first)
        and ``y`` (64,) int64; ``binary_targets(y)`` gives the (64, 1) targets of
        the paper's single output unit.
    """
    who = "symmetry_patterns"
    noise, rng = _noise(noise, who), check_rng(rng)
    X = _all_bit_patterns(6)
    y = np.all(X == X[:, ::-1], axis=1).astype(np.int64)
    return _jitter(X, noise, rng), y


def parity(n_bits: int = 4, noise: float = 0.0, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""The parity task: all :math:`2^n` patterns of ``n_bits`` bits, label 1 when an odd number are on.

    .. math:: y = x_1 \oplus x_2 \oplus \dots \oplus x_n = \Big(\sum_j x_j\Big) \bmod 2

    Flipping any one bit flips the label, so every input matters; XOR is the
    case ``n_bits=2``.

    Args:
        n_bits: number of bits, 1 to 16.
        noise: standard deviation of Gaussian noise on the inputs, >= 0 (0: exact bits).
        rng: generator or seed for the noise.

    Returns:
        ``X`` (2^n_bits, n_bits) float64 (row i is i in binary) and ``y`` (2^n_bits,) int64.
    """
    who = "parity"
    n_bits = check_int("n_bits", n_bits, minimum=1, who=who)
    if n_bits > 16:
        raise ValueError(f"{who} expected n_bits <= 16 (2^16 patterns), got {n_bits}")
    noise, rng = _noise(noise, who), check_rng(rng)
    X = _all_bit_patterns(n_bits)
    y = (X.sum(axis=1) % 2).astype(np.int64)
    return _jitter(X, noise, rng), y


# --- the digits ----------------------------------------------------------------------------------

def _read_digits_bytes(path) -> tuple[bytes, str]:
    """The bytes of the digits file and a printable location."""
    if path is None:
        resource = files("bptutor.data").joinpath(DIGITS_FILE)
        where = str(resource)
        if not resource.is_file():
            raise FileNotFoundError(f"load_digits could not find {where}: the file {DIGITS_FILE} of the "
                                    "package bptutor.data (data/ in the repository) is missing; restore it "
                                    "with `git checkout data/digits.npz` or reinstall bptutor")
        return resource.read_bytes(), where
    where = check_path("path", path, who="load_digits")
    try:
        with open(where, "rb") as fh:
            return fh.read(), where
    except FileNotFoundError:
        raise FileNotFoundError(f"load_digits could not find path {where}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"load_digits expected path to be the digits .npz file, got the folder {where!r}") from None


def load_digits(path=None) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits: 1,797 images of 10 classes, verified by SHA-256.

    Each image is 8x8 counts in 0..16 (the number of ink pixels in a 4x4 block
    of a 32x32 bitmap); row ``i`` of ``X`` is image ``i`` read row by row, so
    ``X[i].reshape(8, 8)`` shows it. Divide by 16 to scale the inputs to [0, 1].
    Origin and licence: ``data/README.md`` (UCI, Alpaydin & Kaynak 1998, CC BY 4.0).

    Args:
        path: the ``.npz`` file; None (default) reads the copy shipped in
            ``bptutor.data``. Either way its SHA-256 must equal :data:`DIGITS_SHA256`.

    Returns:
        ``X`` (1797, 64) float64 with values 0..16 and ``y`` (1797,) int64 in 0..9.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: the file's SHA-256 differs (corrupt or changed) or its contents are not the digits.
    """
    data, where = _read_digits_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != DIGITS_SHA256:
        raise ValueError(f"load_digits found a corrupt or changed file {where}: its SHA-256 is {digest}, "
                         f"expected {DIGITS_SHA256}; restore it with `git checkout data/digits.npz` "
                         "or reinstall bptutor")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        if sorted(npz.files) != ["images", "labels"]:
            raise ValueError(f"load_digits expected arrays 'images' and 'labels' in {where}, got {npz.files}")
        images, labels = npz["images"], npz["labels"]
    X = images.reshape(images.shape[0], -1).astype(np.float64)  # (1797, 64)
    return X, labels.astype(np.int64)


# --- splitting and streaming ------------------------------------------------------------------------

def _strata(y, N: int, who: str) -> np.ndarray:
    """One integer class per row of ``y`` (labels, a 0/1 column, or one-hot rows)."""
    Y = np.asarray(y).reshape(N, -1)
    if not np.issubdtype(Y.dtype, np.number) or not np.all(Y == np.round(Y)):
        raise ValueError(f"{who} expected class labels in y to stratify by, got non-integer values; "
                         "pass stratify=False for regression targets")
    return np.unique(Y, axis=0, return_inverse=True)[1].reshape(N)


def train_val_test_split(X, y, val: float = 0.15, test: float = 0.15, rng=0, stratify: bool = True):
    """Split a data set into training, validation and test parts at random.

    With ``stratify=True`` each class is split separately, so every part keeps
    the class proportions of ``y``: of a class with :math:`n_c` rows,
    ``round(val n_c)`` go to validation, ``round(test n_c)`` to test and the
    rest to training. Each part's rows are shuffled.

    Args:
        X: inputs, shape (N, ...), an array or ``np.memmap`` (the parts are in memory).
        y: targets with N rows: labels (N,), or any shape when ``stratify=False``.
        val: fraction for validation, >= 0.
        test: fraction for test, >= 0; ``val + test < 1``.
        rng: generator or seed for the shuffle.
        stratify: keep the class proportions (needs class labels).

    Returns:
        ``((X_train, y_train), (X_val, y_val), (X_test, y_test))``; a validation
        pair fits ``fit(..., validation=(X_val, y_val))`` directly.
    """
    who = "train_val_test_split"
    if not isinstance(X, np.ndarray):
        X = as_array("X", X, who=who)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(y) != len(X) or len(X) == 0:
        raise ValueError(f"{who} expected X and y with the same number of rows (at least 1), got X of "
                         f"shape {X.shape} and y of shape {y.shape}")
    val = check_float("val", val, minimum=0.0, maximum=1.0, strict_max=True, who=who)
    test = check_float("test", test, minimum=0.0, maximum=1.0, strict_max=True, who=who)
    if val + test >= 1.0:
        raise ValueError(f"{who} expected val + test < 1 (something left to train on), got {val} + {test}")
    if not isinstance(stratify, bool):
        raise TypeError(f"{who} expected stratify to be True or False, got {describe(stratify)}")
    rng = check_rng(rng)
    N = len(X)
    if stratify:
        strata = _strata(y, N, who)
        groups = [np.flatnonzero(strata == c) for c in range(strata.max() + 1)]
    else:
        groups = [np.arange(N)]
    parts = ([], [], [])
    for idx in groups:
        idx = rng.permutation(idx)
        n_val, n_test = int(round(val * idx.size)), int(round(test * idx.size))
        parts[1].append(idx[:n_val])
        parts[2].append(idx[n_val:n_val + n_test])
        parts[0].append(idx[n_val + n_test:])
    out = []
    for chunks in parts:
        idx = rng.permutation(np.concatenate(chunks))
        out.append((np.asarray(X[idx]), y[idx]))
    return tuple(out)


def to_memmap(X, path) -> np.memmap:
    """Write ``X`` as float32 to the ``.npy`` file ``path`` and map it back read-only.

    The file has a ``.npy`` header (``np.load(path, mmap_mode="r")`` reopens
    it). Pages are read from disk only when rows are indexed, so
    ``iterate_minibatches`` and ``fit`` can train on data larger than memory,
    one mini-batch at a time.

    Args:
        X: array of any shape, e.g. (N, D).
        path: file to create or overwrite (``str`` or ``pathlib.Path``).

    Returns:
        a read-only ``np.memmap`` of ``X``'s shape and dtype float32.
    """
    X = as_array("X", X, who="to_memmap", dtype=np.float32)
    path = check_path("path", path, who="to_memmap")
    if os.path.isdir(path):
        raise ValueError(f"to_memmap expected path to be a file to write, got the folder {path!r}")
    # written to a temporary file beside the target, then moved into place: a failed
    # write never leaves a half-written file under the name the caller gave
    tmp = f"{path}.tmp-{os.getpid()}.npy"
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=X.shape)
        out[...] = X
        out.flush()
        del out  # closes the writable map before the read-only one opens
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return np.load(path, mmap_mode="r")


def digits_memmap(path) -> tuple[np.memmap, np.ndarray]:
    """The digits' inputs written to ``path`` and mapped read-only (float32), with their labels.

    Args:
        path: the ``.npy`` file to write.

    Returns:
        ``X`` a read-only ``np.memmap`` (1797, 64) float32 with values 0..16 and ``y`` (1797,) int64.
    """
    check_path("path", path, who="digits_memmap")
    X, y = load_digits()
    return to_memmap(X, path), y
