r"""Keep "Run All" going in the student edition while an exercise is still unwritten.

In the student edition every solution is replaced by
``raise NotImplementedError("Exercise: ...")`` (:mod:`bptutor.editions`). The
check right below an exercise already turns that into a red box, but a later
cell that *uses* the learner's function would stop "Run All" with a traceback.
Two tools keep such cells running:

* :func:`yours_or_reference` wraps the learner's function: while it still
  raises ``NotImplementedError`` the wrapper calls bptutor's reference instead
  and says so once, so every later number is the one the solved notebook
  prints. A function that is written (right or wrong) is always the one called.
* :func:`if_written` is a context manager for a cell that only makes sense with
  the learner's code: while the exercise is unwritten the rest of the cell is
  skipped with a one-line "not written yet" note instead of a traceback.

Only ``NotImplementedError`` is caught: any other exception in the learner's
code still reaches them, because it is a bug they should see.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Callable

__all__ = ["NOT_WRITTEN", "if_written", "yours_or_reference"]

#: the start of every "not written yet" note, so a test can find it in a cell's output.
NOT_WRITTEN = "not written yet"


def _name(fn: Callable, name: str | None) -> str:
    return name or getattr(fn, "__name__", "your function")


def yours_or_reference(fn: Callable, reference: Callable, name: str | None = None) -> Callable:
    """Return a function that calls ``fn``, or ``reference`` while ``fn`` is unwritten.

    Args:
        fn: the learner's function (from the exercise cell).
        reference: bptutor's implementation with the same signature and return value.
        name: how to call ``fn`` in the note (default: ``fn.__name__``).

    Returns:
        A callable with ``fn``'s signature. The note ``"<name>: not written yet, so this
        cell used bptutor's reference ..."`` is printed once per wrapper, the first time
        the reference stands in.

    Raises:
        TypeError: ``fn`` or ``reference`` is not callable.
    """
    for arg, value in (("fn", fn), ("reference", reference)):
        if not callable(value):
            raise TypeError(f"yours_or_reference expected {arg} to be a function, got {type(value).__name__}")
    label = _name(fn, name)
    told = []

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotImplementedError:
            if not told:
                told.append(True)
                print(f"{label}: {NOT_WRITTEN}, so this cell used bptutor's reference instead; "
                      f"solve the exercise and re-run to see your own numbers.")
            return reference(*args, **kwargs)

    return call


@contextmanager
def if_written(*names: str):
    """Run the ``with`` block; if an unwritten exercise raises ``NotImplementedError``, skip the rest.

    Args:
        *names: the learner's functions the block uses, for the note (e.g. ``"momentum_step"``).

    Example:
        >>> with if_written("momentum_step"):
        ...     theta, v = momentum_step(theta, grad, v, 0.1, 0.9)
    """
    try:
        yield
    except NotImplementedError as exc:
        what = ", ".join(names) or "an exercise above"
        print(f"{what}: {NOT_WRITTEN} ({exc}); this cell was skipped. "
              f"Solve the exercise and re-run the cell.")
