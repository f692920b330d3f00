"""Argument checks shared by every public function.

Each check raises ``TypeError`` (wrong kind of thing) or ``ValueError`` (right
kind, wrong value) with a message that names the argument, what was expected
and what came, for example::

    Linear(3, 4) expected X of shape (N, 3), got (5, 2)

The checks never modify their input, so a failed call leaves nothing
half-changed.
"""
from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def describe(value) -> str:
    """A short description of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def shape_str(shape) -> str:
    """Render an expected shape, ``None`` entries shown by ``names``."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def as_array(name: str, X, *, ndim: int | None = None, who: str = "",
             dtype=None, allow_int: bool = True) -> np.ndarray:
    """Return ``X`` as a float ndarray (float64 unless it is already float32).

    Args:
        name: the argument's name, used in the message.
        X: array-like.
        ndim: required number of dimensions, or None for any.
        who: the caller, e.g. ``"Linear(3, 4)"``, prefixed to the message.
        dtype: force this dtype; by default float32 stays float32 and
            everything else becomes float64.
        allow_int: accept integer and boolean input (converted to float).
    """
    if type(X) is np.ndarray and dtype is None and X.dtype in FLOAT_DTYPES and (ndim is None or X.ndim == ndim):
        return X  # the common case, checked first: every layer calls this on every batch
    prefix = f"{who} " if who else ""
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{prefix}expected {name} to be an array of numbers, got {describe(X)}")
    try:
        A = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{prefix}expected {name} to be an array of numbers, got {describe(X)} ({exc})") from None
    if A.dtype == object or not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise TypeError(f"{prefix}expected {name} to be an array of numbers, got dtype {A.dtype}")
    if np.issubdtype(A.dtype, np.complexfloating):
        raise TypeError(f"{prefix}expected {name} to be real, got dtype {A.dtype}")
    if not allow_int and not np.issubdtype(A.dtype, np.floating):
        raise TypeError(f"{prefix}expected {name} to be a float array, got dtype {A.dtype}")
    if dtype is not None:
        A = A.astype(dtype, copy=False)
    elif A.dtype not in FLOAT_DTYPES:
        A = A.astype(np.float64)
    if ndim is not None and A.ndim != ndim:
        raise ValueError(f"{prefix}expected {name} with {ndim} dimension{'s' if ndim != 1 else ''}, "
                         f"got shape {A.shape}")
    return A


def check_shape(name: str, A: np.ndarray, expected: tuple, who: str = "") -> None:
    """Raise unless ``A.shape`` matches ``expected``; entries may be ``None`` (any size) or a
    string such as ``"N"`` (any size, shown by that name in the message)."""
    prefix = f"{who} " if who else ""
    ok = A.ndim == len(expected) and all(
        isinstance(e, str) or e is None or e == s for e, s in zip(expected, A.shape))
    if not ok:
        shown = tuple("N" if e is None else e for e in expected)
        raise ValueError(f"{prefix}expected {name} of shape {shape_str(shown)}, got {tuple(A.shape)}")


def check_finite(name: str, A, who: str = "") -> None:
    """Raise ``ValueError`` when ``A`` holds NaN or infinity."""
    if not np.all(np.isfinite(A)):
        prefix = f"{who} " if who else ""
        bad = int(np.size(A) - np.count_nonzero(np.isfinite(A)))
        raise ValueError(f"{prefix}expected {name} to be finite, got {bad} NaN or infinite entr"
                         f"{'y' if bad == 1 else 'ies'}")


def check_int(name: str, value, *, minimum: int | None = None, who: str = "") -> int:
    """Return ``value`` as an int, raising unless it is an integer (not bool) >= ``minimum``."""
    prefix = f"{who} " if who else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{prefix}expected {name} to be an integer, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{prefix}expected {name} >= {minimum}, got {value}")
    return int(value)


def check_float(name: str, value, *, minimum: float | None = None, maximum: float | None = None,
                strict_min: bool = False, strict_max: bool = False, who: str = "") -> float:
    """Return ``value`` as a finite float within the given bounds, else raise."""
    prefix = f"{who} " if who else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{prefix}expected {name} to be a real number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{prefix}expected {name} to be finite, got {value}")
    if minimum is not None and (value < minimum or (strict_min and value == minimum)):
        op = ">" if strict_min else ">="
        raise ValueError(f"{prefix}expected {name} {op} {minimum}, got {value}")
    if maximum is not None and (value > maximum or (strict_max and value == maximum)):
        op = "<" if strict_max else "<="
        raise ValueError(f"{prefix}expected {name} {op} {maximum}, got {value}")
    return value


def check_choice(name: str, value, choices, who: str = ""):
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        prefix = f"{who} " if who else ""
        raise ValueError(f"{prefix}expected {name} to be one of {sorted(choices)}, got {value!r}")
    return value


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """Accept a ``numpy.random.Generator`` or an integer seed; return a Generator.

    ``None`` is refused on purpose: every random result in bptutor names its
    source, so that a re-run prints the same numbers.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"expected {name} to be a numpy.random.Generator or a non-negative integer seed, "
                    f"got {describe(rng)}")


def check_labels(name: str, y, n_classes: int | None = None, n: int | None = None,
                 who: str = "") -> np.ndarray:
    """Return integer class labels ``y`` of shape ``(N,)``, checked against ``n_classes``."""
    prefix = f"{who} " if who else ""
    A = np.asarray(y)
    if A.dtype == bool or not np.issubdtype(A.dtype, np.number):
        raise TypeError(f"{prefix}expected {name} to be integer class labels, got dtype {A.dtype}")
    if not np.issubdtype(A.dtype, np.integer):
        if not np.all(np.isfinite(A)) or np.any(A != np.round(A)):
            raise ValueError(f"{prefix}expected {name} to be integer class labels, got non-integer values")
        A = A.astype(np.int64)
    if A.ndim != 1:
        raise ValueError(f"{prefix}expected {name} of shape (N,), got {A.shape}")
    if n is not None and A.shape[0] != n:
        raise ValueError(f"{prefix}expected {name} of shape ({n},), got {A.shape}")
    if A.size and (A.min() < 0 or (n_classes is not None and A.max() >= n_classes)):
        hi = "" if n_classes is None else f" to {n_classes - 1}"
        raise ValueError(f"{prefix}expected {name} in the range 0{hi}, got values from {A.min()} to {A.max()}")
    return A.astype(np.int64, copy=False)


def check_option(name: str, value, options, who: str = ""):
    """Return ``value`` if it is one of ``options`` (compared with ``==``, same type), else raise.

    Unlike :func:`check_choice` the choices are listed in their given order
    (the order a dropdown shows) and a value of the wrong type (``16`` where
    text is expected, ``True`` where 0 or 1 is) is a ``TypeError``.
    """
    prefix = f"{who} " if who else ""
    options = list(options)
    shown = ", ".join(repr(o) for o in options)
    kinds = {numbers.Integral if type(o) is int else type(o) for o in options}
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, tuple(kinds)):
        raise TypeError(f"{prefix}expected {name} to be one of {shown}, got {describe(value)} "
                        f"of type {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{prefix}expected {name} to be one of {shown}, got {value!r}")
    return value


def check_in_range(name: str, value, low, high, who: str = "", integer: bool = False):
    """Return ``value`` if it is a number (an integer when ``integer``) in ``[low, high]``, else raise.

    For keyword arguments of the widget builders: a value outside a slider's
    range is refused with the range in the message, never clamped silently.
    """
    prefix = f"{who} " if who else ""
    kind = "an integer" if integer else "a real number"
    ok_type = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, ok_type):
        raise TypeError(f"{prefix}expected {name} to be {kind} from {low:g} to {high:g}, got {describe(value)}")
    if not (np.isfinite(value) and low <= value <= high):
        raise ValueError(f"{prefix}expected {name} from {low:g} to {high:g} (the control's range), "
                         f"got {value:g}")
    return int(value) if integer else float(value)


def check_path(name: str, value, who: str = "") -> str:
    """Return ``value`` as a path string if it is a ``str`` or ``os.PathLike`` (not bytes), else ``TypeError``."""
    import os

    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        prefix = f"{who} " if who else ""
        raise TypeError(f"{prefix}expected {name} to be a file path (str or pathlib.Path), got {describe(value)}")
    if not value:
        prefix = f"{who} " if who else ""
        raise ValueError(f"{prefix}expected {name} to be a file path, got an empty string")
    return value
