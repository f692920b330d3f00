r"""Comparing a learner's outputs with the reference, and naming how they differ.

The half of the exercise machinery that looks at values (:mod:`._core` runs the
checks and reports):

* :func:`_same`: do two outputs agree? The tolerance follows the precision of the
  learner's output: float64 outputs to ``RTOL``, float32 outputs to ``F32_RTOL``
  (about a thousand float32 roundings), so an answer computed in float32 passes
  and the verdict says it agrees up to float32 rounding;
* :func:`_changed`: did the learner's function change an argument in place? Arrays
  are compared to a few units in the last place, so a restore by ``x += h`` after
  ``x -= h`` (off by one rounding) is not a change, while any real write is;
* :func:`_swapped`: were the right outputs returned in another order?
* :func:`_generic` and :func:`_difference`: a transpose, a reshape, NaN, a sign
  flip, a constant factor; where the worst entry differs.
"""
from __future__ import annotations

import copy
import itertools
import warnings
from typing import Callable

import numpy as np

from .._checks import describe
from ..engine import Value

#: outputs agree when ``|yours - ref| <= RTOL * |ref| + ATOL * max(1, max |ref|)`` (both scale with ``rtol``).
RTOL, ATOL = 1e-6, 1e-9
#: a float32 output agrees when within ``F32_RTOL`` relative and ``F32_RTOL / 10`` of the largest entry.
F32_RTOL = 1e-4
#: an argument counts as unchanged within this many float64 roundings of its largest entry.
_ULPS = 8


class _Diagnosed(Exception):
    """Raised by output unpacking and wrappers: the learner's result is wrong in a known way."""

    def __init__(self, message: str, diagnosis: str | None = None):
        super().__init__(message)
        self.message, self.diagnosis = message, diagnosis


# --- comparing ------------------------------------------------------------------------------------------
def _low_precision(*arrays) -> bool:
    return any(getattr(a, "dtype", None) == np.float32 for a in arrays)


def _same(a: np.ndarray, b: np.ndarray, rtol: float = RTOL) -> bool:
    """``a`` and ``b`` agree to ``rtol``, or to float32 precision when either is float32."""
    if a.shape != b.shape:
        return False
    finite = b[np.isfinite(b)]
    scale = max(1.0, float(np.max(np.abs(finite)))) if finite.size else 1.0
    atol = ATOL * scale * rtol / RTOL
    if _low_precision(a, b):
        rtol, atol = max(rtol, F32_RTOL), max(atol, F32_RTOL / 10 * scale)
    with np.errstate(invalid="ignore"):
        return bool(np.allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                rtol=rtol, atol=atol, equal_nan=True))


def _rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """The largest ``|a - b|`` relative to the largest ``|b|``: for reporting float32 agreement."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return float(np.max(np.abs(a - b))) / scale if scale > 0 else float(np.max(np.abs(a - b), initial=0.0))


def _swapped(got: dict, ref: dict, outputs: tuple, rtol: float = RTOL) -> tuple | None:
    """The order in which ``got`` holds the right outputs, if another than ``outputs``, else None."""
    if not 2 <= len(outputs) <= 5:
        return None
    for order in itertools.permutations(outputs):
        if order != tuple(outputs) and all(_same(got[k], ref[o], rtol) for k, o in zip(outputs, order)):
            return order
    return None


def _changed(before, after) -> str | None:
    """How ``after`` differs from ``before`` (a pristine copy), or None if it is unchanged.

    Arrays, numbers, lists, tuples, dicts and ``Value`` nodes are compared; arrays to
    ``_ULPS`` roundings of their largest entry, so a value restored by ``+= h`` passes.
    Other objects (a model the exercise trains) are not compared.
    """
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray):
            return f" (it is now {describe(after)})"
        if after.shape != before.shape:
            return f" (its shape went from {before.shape} to {after.shape})"
        if before.dtype.kind not in "fc" or after.dtype.kind not in "fc":
            same = np.array_equal(before, after)
            bad = None if same else np.argwhere(before != after)[0]
        else:
            finite = np.abs(before[np.isfinite(before)])
            scale = max(1.0, float(finite.max())) if finite.size else 1.0
            with np.errstate(invalid="ignore"):
                close = np.isclose(after, before, rtol=0.0, atol=_ULPS * np.finfo(np.float64).eps * scale,
                                   equal_nan=True)
            bad = None if close.all() else np.argwhere(~close)[0]
        if bad is None:
            return None
        at = tuple(int(i) for i in bad)
        where = f"[{', '.join(map(str, at))}]" if at else ""
        return f" (entry {where or '()'} went from {before[at]:.6g} to {after[at]:.6g})"
    if isinstance(before, Value):
        if not isinstance(after, Value):
            return f" (it is now {describe(after)})"
        return _changed(np.array([before.data, before.grad]), np.array([after.data, after.grad]))
    if isinstance(before, (list, tuple)):
        if type(after) is not type(before) or len(after) != len(before):
            return f" (it was {describe(before)}, it is now {describe(after)})"
        for i, (b, a) in enumerate(zip(before, after)):
            what = _changed(b, a)
            if what:
                return f" (item {i}: {what[2:]}"  # " (entry ...)" -> " (item i: entry ...)"
        return None
    if isinstance(before, dict):
        if not isinstance(after, dict) or after.keys() != before.keys():
            return " (its keys changed)"
        return next((w for w in (_changed(before[k], after[k]) for k in before) if w), None)
    if isinstance(before, (int, float, complex, np.number)) and not isinstance(before, bool):
        same = (before == after) or (before != before and after != after)  # NaN stays NaN
        return None if same else f" (it went from {before!r} to {after!r})"
    return None


def _mutation(fname: str, key: str, what: str, hint: str | None = None) -> "_Diagnosed":
    """The complaint about an argument changed in place."""
    return _Diagnosed(f"{fname} changed its input `{key}` in place{what}",
                      hint or f"your function must leave `{key}` as it came: the caller still uses it. Compute "
                      f"into a new array (`out = {key} * 2`, `{key} = {key} + ...`) instead of writing into "
                      f"it (`{key} *= 2`, `{key} += ...`, `{key}[...] = ...`), or work on `{key}.copy()`.")


def _copy(args: dict) -> dict:
    return copy.deepcopy(args)


def _quiet(f: Callable, *args):
    """Call ``f`` with numpy's overflow warnings off: the check reports overflow itself."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args)


def _as_output(value, key: str, fname: str) -> np.ndarray:
    """The learner's output as a float64 array (float32 stays float32, so its tolerance follows)."""
    if value is None:
        raise _Diagnosed(f"{fname} returned None for {key}",
                         "did you forget the `return` statement, or return the result of an "
                         "in-place operation (which is None)?")
    if isinstance(value, Value):
        raise _Diagnosed(f"{fname} returned a Value for {key}, expected a plain number",
                         "return the number inside it, value.data.")
    try:
        if getattr(value, "dtype", None) == np.float32:
            return np.array(value, dtype=np.float32)
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _Diagnosed(f"{key} should be a number or an array of numbers, got {describe(value)}") from None


def _unpack(raw, outputs: tuple, fname: str) -> dict:
    """The learner's return value as ``{output name: float64 array}``, or a clear complaint."""
    if len(outputs) == 1:
        return {outputs[0]: _as_output(raw, outputs[0], fname)}
    names = ", ".join(outputs)
    if raw is None:
        raise _Diagnosed(f"{fname} returned None",
                         f"did you forget the `return` statement? It should end with `return {names}`.")
    if not isinstance(raw, (tuple, list)) or len(raw) != len(outputs):
        raise _Diagnosed(f"{fname} should return {len(outputs)} values ({names}), got {describe(raw)}",
                         f"end the function with `return {names}`.")
    return {k: _as_output(v, k, fname) for k, v in zip(outputs, raw)}


def _describe_args(args: dict) -> str:
    parts = []
    for k, v in args.items():
        if isinstance(v, np.ndarray):
            parts.append(f"{k} {v.shape}")
        elif isinstance(v, (int, float, np.floating)) and not isinstance(v, bool):
            parts.append(f"{k}={v:g}")
    return ", ".join(parts)


def _where(i: int, n: int, case) -> str:
    """Where a check failed: which input, its shapes and what is special about it (a Case)."""
    note = f"; {case.note}" if case.note else ""
    return f"on input {i + 1} of {n} ({_describe_args(case.args)}{note})"


def _factor_name(c: float, dims: dict | None) -> str:
    """Name a constant factor: a batch size (a missing or extra 1/N) or the 2 of a square."""
    if np.isclose(c, 2.0, rtol=1e-6):
        return " (is a 1/2 missing, or a factor 2 counted twice?)"
    if np.isclose(c, 0.5, rtol=1e-6):
        return " (is a factor 2 missing, e.g. from the derivative of a square?)"
    for name, n in (dims or {}).items():
        if n > 1 and np.isclose(c, n, rtol=1e-6):
            return f" ({name} = {n}: is a division by {name.split(' ')[0]} missing?)"
        if n > 1 and np.isclose(c, 1.0 / n, rtol=1e-6):
            return f" (1/{name}: is there an extra division by {name.split(' ')[0]}?)"
    return ""


def _generic(key: str, y: np.ndarray, r: np.ndarray, dims: dict | None) -> str | None:
    """Recognise a transpose, a reshape, NaN/inf, zeros, a sign flip or a constant factor."""
    if y.shape != r.shape:
        if y.shape == r.shape[::-1] and _same(y.T, r):
            return f"{key} holds the right numbers transposed: return its transpose, shape {r.shape}."
        if y.size == r.size and _same(y.reshape(r.shape), r):
            if r.shape == ():
                return (f"{key} holds the right number inside an array of shape {y.shape}: return the "
                        "number itself.")
            return f"{key} holds the right numbers in the wrong shape: it should have shape {r.shape}."
        return None
    if np.all(np.isfinite(r)) and not np.all(np.isfinite(y)):
        return (f"{key} contains NaN or inf where the right values are finite: an overflow "
                "(exp of a large number?) or a division by zero.")
    if np.any(r) and not np.any(y):
        return f"{key} is all zeros: was it never computed, or overwritten?"
    if _same(y, -r):
        return f"{key} has the right size but the opposite sign: check the sign of each term."
    denom = float(np.sum(r * r))
    if r.size > 1 and denom > 0 and np.all(np.isfinite(y)):  # any number is a multiple of another
        c = float(np.sum(y * r)) / denom
        if c != 0 and not np.isclose(c, 1.0) and _same(y, c * r):
            return f"{key} is {c:.4g} times the right value{_factor_name(c, dims)}."
    return None


def _difference(key: str, y: np.ndarray, r: np.ndarray, like: dict, fd: dict | None) -> str:
    """One sentence on how output ``key`` differs from the reference ``r``."""
    if y.shape != r.shape:
        if r.shape == ():
            return f"{key} should be a single number, got an array of shape {y.shape}"
        if key in like:
            return f"{key} has shape {y.shape} but {like[key]} has shape {r.shape}"
        return f"{key} should have shape {r.shape}, got {y.shape}"
    bad = ~np.isfinite(y) & np.isfinite(r)
    if bad.any() and r.shape == ():
        return f"{key} is {float(y)}, expected the finite value {float(r):.6g}"
    if bad.any():
        entries = "entry" if bad.sum() == 1 else "entries"
        return f"{key} has {int(bad.sum())} NaN or infinite {entries} where the right values are finite"
    if key.endswith("_path") and r.ndim == 2:  # a sequence of states: where it first departs
        row = next(i for i in range(len(r)) if not _same(y[i], r[i]))
        return (f"{key}[{row}] (after step {row + 1}) is {np.array2string(y[row], precision=6)}, "
                f"expected {np.array2string(r[row], precision=6)}")
    with np.errstate(invalid="ignore"):
        err = np.array(np.abs(y - r), dtype=np.float64)  # np.array keeps a 0-d result writeable
    err[np.isnan(err)] = np.inf
    idx = np.unravel_index(int(np.argmax(err)), r.shape) if r.shape else ()
    at = f"{key}[{', '.join(str(int(i)) for i in idx)}]" if idx else key
    text = f"{at} is {float(y[idx]):.6g}, expected {float(r[idx]):.6g}"
    if fd and key in fd and np.shape(fd[key]) == r.shape:
        text += f" (finite differences give {float(np.asarray(fd[key])[idx]):.6g})"
    return text
