r"""Mini-batches: how one epoch deals the rows of a data set into batches.

:func:`iterate_minibatches` yields one epoch: the whole data set (full
batch), one row at a time (stochastic gradient descent) or mini-batches of
``k`` rows, dealt by a random permutation. The rows of a batch are read in
sorted order, so an ``np.memmap`` is streamed front to back and only one
batch is ever in memory; :func:`bptutor.training.fit` runs the same
generator once per epoch.

The checks of the data themselves (``X`` and ``y`` with matching rows, of
numbers, finite), which ``fit``, ``evaluate`` and the estimators of
:mod:`bptutor.alternatives` share, live here too.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_int, check_rng, describe


def _check_pair(X, y, who: str, xname: str = "X", yname: str = "y") -> tuple:
    """``X`` and ``y`` as arrays with the same number of rows; ndarrays (and memmaps) are not copied."""
    if not isinstance(X, np.ndarray):
        X = as_array(xname, X, who=who)
    elif not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{who} expected {xname} to be an array of numbers, got dtype {X.dtype}")
    if X.ndim == 0 or X.shape[0] == 0:
        raise ValueError(f"{who} expected {xname} with at least one row, got shape {X.shape}")
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(f"{who} expected {yname} to be an array, got {describe(y)}")
    if not isinstance(y, np.ndarray):
        y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(f"{who} expected {yname} with {X.shape[0]} rows (one per row of {xname}), "
                         f"got shape {y.shape}")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(f"{who} expected {yname} to be an array of numbers, got dtype {y.dtype}")
    return X, y


def _check_batch_size(batch_size, who: str):
    if batch_size is None:
        return None
    return check_int("batch_size", batch_size, minimum=1, who=who)


def iterate_minibatches(X, y, batch_size: int | None = None, shuffle: bool = True, rng=0):
    """Yield ``(X_batch, y_batch)`` pairs covering the data once: one epoch.

    * ``batch_size=None`` (full batch) or ``>= N``: one batch, ``X`` and ``y``
      themselves, not copied (the mean gradient does not depend on row order);
    * ``batch_size=1``: stochastic gradient descent, one row at a time;
    * ``batch_size=k``: mini-batches of ``k`` rows, the last one smaller when
      ``k`` does not divide ``N``.

    With ``shuffle`` the rows are dealt into batches by a random permutation
    drawn from ``rng``. Within a batch the row indices are sorted: the batch
    holds the same rows (and gives the same mean gradient) but reads an
    ``np.memmap`` front to back, and only that batch is ever loaded into
    memory. The only per-epoch cost besides the batches is the permutation.

    Args:
        X: inputs (N, ...), an array or ``np.memmap``.
        y: targets with N rows.
        batch_size: None, or rows per batch >= 1.
        shuffle: deal the rows at random (else in order).
        rng: generator or seed for the permutation.

    Yields:
        ``X_batch`` (B, ...) and ``y_batch`` (B, ...), in-memory arrays (except
        the full batch, which is ``X`` itself).
    """
    who = "iterate_minibatches"
    X, y = _check_pair(X, y, who)
    batch_size = _check_batch_size(batch_size, who)
    if not isinstance(shuffle, bool):
        raise TypeError(f"{who} expected shuffle to be True or False, got {describe(shuffle)}")
    rng = check_rng(rng)
    return _batches(X, y, batch_size, shuffle, rng)


def _batches(X, y, batch_size, shuffle, rng):
    """The generator behind :func:`iterate_minibatches`, without argument checks (``fit`` calls it per epoch)."""
    N = X.shape[0]
    if batch_size is None or batch_size >= N:
        yield X, y
        return
    order = rng.permutation(N) if shuffle else np.arange(N)
    for start in range(0, N, batch_size):
        idx = np.sort(order[start:start + batch_size])
        yield X[idx], y[idx]


def _check_data_finite(X, y, who: str, names=("X", "y")) -> None:
    """In-memory data must be finite (a NaN input would look like divergence); memmaps are not scanned."""
    for name, A in zip(names, (X, y)):
        if not isinstance(A, np.memmap) and np.issubdtype(A.dtype, np.floating) and not np.all(np.isfinite(A)):
            bad = int(A.size - np.count_nonzero(np.isfinite(A)))
            raise ValueError(f"{who} expected {name} to be finite, got {bad} NaN or infinite entr"
                             f"{'y' if bad == 1 else 'ies'}")
