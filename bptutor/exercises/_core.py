r"""The machinery behind every exercise check: run, compare, diagnose, report.

:func:`check_outputs` calls the learner's function on each :class:`Case`,
compares every output with a reference and, when one differs, names the
matching :class:`Mistake` from the check's catalogue; failing that, a generic
diagnosis looks for a sign flip, a constant factor (``1/N``, ``2``, ...) or a
transpose, and a function that fails only through shapes is re-run on square
inputs. An exception in the learner's code becomes a summary (type, message,
the learner's own line). The result is a :class:`CheckResult`, never an
exception.

Fair both ways (the comparisons live in :mod:`._compare`): the learner's function
gets a copy of every input, and an input that comes back changed fails the check,
naming it (except the arguments an exercise documents as updated in place,
``inplace=``); a float32 answer is compared to float32 precision and the verdict
says so; the right outputs in another order are named as a swap.

Also here, for checks to build on: :func:`check_gradient` (a gradient against
finite differences alone) and :func:`check_activation_backward` with its
``ACTIVATION_BACKWARDS`` catalogue (used by chapters 04 and 07).
"""
from __future__ import annotations

import copy
import html
import os
import sysconfig
import traceback
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from .. import activations as act
from .._checks import check_choice, check_rng, describe
from ..gradcheck import numerical_gradient, rel_error
from ._compare import (ATOL, F32_RTOL, RTOL, _as_output, _changed, _copy, _describe_args, _Diagnosed,  # noqa: F401
                       _difference, _generic, _low_precision, _mutation, _quiet, _rel_diff, _same, _swapped,
                       _unpack, _where)



# --- results ------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class CheckResult:
    """The verdict of a check: shown as a green/red box in a notebook, as text elsewhere.

    Attributes:
        passed: whether the learner's function agrees with the reference.
        message: what was run and what came out, in plain words.
        diagnosis: the mistake the check recognised and a hint, or None.
        exercise: the name of the learner's function, e.g. ``"linear_backward"``.
    """
    passed: bool
    message: str
    diagnosis: str | None = None
    exercise: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = ("✔ " if self.passed else "✘ ") + (f"{self.exercise}: " if self.exercise else "")
        tail = f"\nDiagnosis: {self.diagnosis}" if self.diagnosis else ""
        return head + self.message + tail

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour, shade, verdict = (("#2e7d32", "#e8f5e9", "✔ Passed") if self.passed
                                  else ("#c62828", "#ffebee", "✘ Not yet"))
        title = verdict + (f": {self.exercise}" if self.exercise else "")
        body = f'<b style="color:{colour}">{html.escape(title)}</b><br>{html.escape(self.message)}'
        if self.diagnosis:
            body += f"<br><b>Diagnosis:</b> {html.escape(self.diagnosis)}"
        # An explicit text colour keeps the box readable in dark themes.
        return (f'<div style="border-left:6px solid {colour};background:{shade};color:#1b1b1b;'
                f'padding:0.5em 1em;margin:0.4em 0;white-space:pre-wrap;font-family:sans-serif">'
                f"{body}</div>")


class Mistake(NamedTuple):
    """A known way to get an exercise wrong, computed from the reference.

    Attributes:
        label: the mistake in a few words, e.g. ``"transposed dW"``.
        hint: what to do about it, in plain words.
        wrong: ``(args, ref) -> {output name: wrong value}`` for the outputs the
            mistake changes; ``args`` is the case's argument dict (a fresh
            copy) and ``ref`` the reference outputs. It may raise (a mistake
            that only runs for square matrices); it is then not considered.
    """
    label: str
    hint: str
    wrong: Callable


class Case(NamedTuple):
    """One input of a check.

    Attributes:
        args: argument name -> value, passed to the learner positionally in this order.
        note: what is special about this input, e.g. ``"large logits (about ±1000)"``.
        dims: named sizes, e.g. ``{"N": 5}``, used to name a wrong constant factor.
    """
    args: dict
    note: str = ""
    dims: dict | None = None


# --- exceptions in the learner's code --------------------------------------------------------------------
# Frames from these folders are not the learner's: bptutor itself, numpy, the standard library
# and installed packages (a learner's line is in a notebook cell or their own file).
_BPTUTOR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bptutor/, not bptutor/exercises/
_NOT_THEIRS = tuple({_BPTUTOR, os.path.dirname(os.path.abspath(np.__file__)),
                     sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
                     sysconfig.get_paths()["platlib"]})


def _summary(exc: BaseException, fname: str) -> str:
    """``fname raised Type: message`` and the learner's line that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    theirs = [f for f in frames if not os.path.abspath(f.filename).startswith(_NOT_THEIRS)]
    text = f"{fname} raised {type(exc).__name__}: {exc}"
    if theirs:
        f = theirs[-1]
        code = f": {f.line.strip()}" if f.line else ""
        text += f"\n  in {f.name}, line {f.lineno}{code}"
    return text


def _exception_hint(exc: BaseException) -> str | None:
    text = str(exc)
    if isinstance(exc, NotImplementedError):
        return ("this exercise is not written yet: replace the `raise NotImplementedError(...)` line with "
                "your code.")
    if isinstance(exc, NameError):
        return "a name is not defined: is it misspelt, or defined in a cell you have not run?"
    if "matmul" in text or "broadcast" in text or "shapes" in text or "aligned" in text:
        return ("a shape mismatch. Write the shape next to every array, e.g. # (N, H), and check that "
                "each product lines up: (A, B) @ (B, C) -> (A, C).")
    return None


# --- the engine ------------------------------------------------------------------------------------------
class _Spec(NamedTuple):
    name: str
    outputs: tuple
    reference: Callable
    mistakes: tuple
    like: dict
    numeric: Callable | None
    call: Callable | None
    rtol: float
    source: str
    inplace: tuple


def _run(spec: _Spec, fn, args: dict) -> dict:
    """Call ``fn`` on a copy of ``args``; refuse it if it changed an argument it should not touch."""
    handed = _copy(args)
    if spec.call is not None:
        raw = _quiet(spec.call, fn, handed)
    else:
        raw = _quiet(fn, *handed.values())
    for key in args:
        what = None if key in spec.inplace else _changed(args[key], handed[key])
        if what:
            raise _mutation(spec.name, key, what)
    return _unpack(raw, spec.outputs, spec.name)


def _reference(spec: _Spec, args: dict) -> dict:
    raw = _quiet(spec.reference, _copy(args))
    return _unpack(raw, spec.outputs, "the reference")


def _variants(spec: _Spec, args: dict, ref: dict) -> list:
    """``[(Mistake, outputs)]`` for every mistake that runs on ``args`` and changes something."""
    out = []
    for m in spec.mistakes:
        try:
            changed = _quiet(m.wrong, _copy(args), copy.deepcopy(ref))
        except Exception:  # a variant that needs square matrices: not applicable here
            continue
        full = dict(ref)
        full.update({k: np.array(v, dtype=np.float64) for k, v in changed.items()})
        if any(not _same(full[k], ref[k], spec.rtol) for k in spec.outputs):
            out.append((m, full))
    return out


def _match(spec: _Spec, got: dict, ref: dict, args: dict) -> tuple[list, list]:
    """The mistakes explaining ``got``: one that explains every output, else one per wrong output.

    Returns ``(matched mistakes, wrong outputs nothing explained)``.
    """
    wrong = [k for k in spec.outputs if not _same(got[k], ref[k], spec.rtol)]
    variants = _variants(spec, args, ref)
    for m, v in variants:
        if all(_same(got[k], v[k], spec.rtol) for k in spec.outputs):
            return [m], []
    found, unexplained = [], []
    for k in wrong:
        m = next((m for m, v in variants if not _same(v[k], ref[k], spec.rtol)
                  and _same(got[k], v[k], spec.rtol)), None)
        if m is None:
            unexplained.append(k)
        elif m not in found:
            found.append(m)
    return found, unexplained


def _explain(found: list) -> str:
    return "\n".join(f"{m.label}: {m.hint}" for m in found)


def _square_probe(spec: _Spec, fn, square_cases) -> str | None:
    """If ``fn`` works on square shapes, say so and name the mistake found there."""
    for case in square_cases:
        try:
            got = _run(spec, fn, case.args)
        except Exception:
            return None
        ref = _reference(spec, case.args)
        if any(got[k].shape != ref[k].shape for k in spec.outputs):
            return None
        found, _ = _match(spec, got, ref, case.args)
        if found or any(not _same(got[k], ref[k], spec.rtol) for k in spec.outputs):
            named = f"\n{_explain(found)}" if found else ""
            return ("a shape that only works for square matrices: your code runs when every size is "
                    f"equal ({_describe_args(case.args)}) but not with the sizes above, so a matrix is "
                    "used where its transpose belongs (or the operands of @ are swapped). With square "
                    f"matrices numpy cannot catch it and the numbers are silently wrong.{named}")
    return None


def _failure(spec: _Spec, fn, i: int, cases: list, got: dict, ref: dict, square_cases) -> CheckResult:
    case = cases[i]
    found, unexplained = _match(spec, got, ref, case.args)
    order = None if found and not unexplained else _swapped(got, ref, spec.outputs, spec.rtol)
    if order:  # a catalogue entry for the swap, with its own hint, comes first
        return CheckResult(False, f"{spec.name} returned the right values in the wrong order, "
                           f"({', '.join(order)}) {_where(i, len(cases), case)}.",
                           f"outputs returned in swapped order: return {', '.join(spec.outputs)} in that order.",
                           spec.name)
    fd = _quiet(spec.numeric, _copy(case.args)) if spec.numeric else None
    wrong = [k for k in spec.outputs if not _same(got[k], ref[k], spec.rtol)]
    sentences = [_difference(k, got[k], ref[k], spec.like, fd) for k in wrong[:3]]
    if len(wrong) > 3:
        sentences.append(f"{', '.join(wrong[3:])} differ too")
    message = f"{'; '.join(sentences)} {_where(i, len(cases), case)}."
    parts = [_explain(found)] if found else []
    shape_trouble = any(got[k].shape != ref[k].shape for k in unexplained)
    probe = _square_probe(spec, fn, square_cases) if unexplained and shape_trouble else None
    if probe:
        parts.append(probe)
    else:
        for k in unexplained:
            parts.append(_generic(k, got[k], ref[k], case.dims) or
                         f"{k} is wrong in a way this check does not recognise; print it next to the "
                         f"expected values and check each line's formula and shape.")
    return CheckResult(False, message, "\n".join(parts), spec.name)


def _raised(spec: _Spec, fn, exc: Exception, i: int, cases: list, square_cases) -> CheckResult:
    message = f"{_summary(exc, spec.name)}\n(called {_where(i, len(cases), cases[i])})"
    probe = None if isinstance(exc, NotImplementedError) else _square_probe(spec, fn, square_cases)
    return CheckResult(False, message, probe or _exception_hint(exc), spec.name)


def check_outputs(fn, *, name: str, reference: Callable, cases: list, outputs: tuple = ("output",),
                  mistakes: tuple = (), like: dict | None = None, square_cases: tuple = (),
                  numeric: Callable | None = None, call: Callable | None = None,
                  rtol: float = RTOL, source: str = "the reference", inplace: tuple = ()) -> CheckResult:
    """Run ``fn`` on every case, compare with ``reference`` and diagnose the first failure.

    The engine behind every check in this module, for later chapters to reuse.

    Args:
        fn: the learner's function.
        name: its name, used in messages (``"linear_backward"``).
        reference: ``args -> outputs`` (a tuple in the order of ``outputs``, or
            one value when there is one output); ``args`` is a fresh copy of
            the case's argument dict.
        cases: list of :class:`Case`; non-square shapes first.
        outputs: the names of the values ``fn`` returns, in order.
        mistakes: :class:`Mistake` catalogue, most specific first.
        like: output name -> what its shape should equal, e.g. ``{"dW": "W"}``.
        square_cases: cases with every size equal, run when ``fn`` fails only
            through shapes, to find a matrix used where its transpose belongs.
        numeric: ``args -> {output name: finite-difference value}`` for outputs
            that are gradients; reported next to the learner's numbers. An
            output named ``*_path`` (rows = states after each step) is
            reported by its first differing row, other arrays by their worst entry.
        call: ``(fn, args) -> raw result`` when ``fn`` is not simply called as
            ``fn(*args.values())`` (stateful exercises: updates, training loops).
        rtol: relative tolerance of the comparison (a float32 output gets at least
            ``F32_RTOL``, and the verdict says so).
        source: what the reference is, for the message.
        inplace: arguments the exercise documents as updated in place. Every other
            argument is compared with a pristine copy after the call, and a change
            fails the check, naming the argument.

    Returns:
        :class:`CheckResult`; never raises.
    """
    spec = _Spec(name, tuple(outputs), reference, tuple(mistakes), dict(like or {}), numeric, call,
                 rtol, source, tuple(inplace))
    if not callable(fn):
        return CheckResult(False, f"expected the function {name} itself, got {describe(fn)}",
                           f"pass the function itself, without calling it: `{name}`, not `{name}(...)`.", name)
    try:
        worst, f32 = None, 0.0
        for i, case in enumerate(cases):
            ref = _reference(spec, case.args)
            try:
                got = _run(spec, fn, case.args)
            except _Diagnosed as d:
                return CheckResult(False, f"{d.message} {_where(i, len(cases), case)}.", d.diagnosis, name)
            except Exception as exc:  # the learner's code raised: summarise, never crash
                return _raised(spec, fn, exc, i, cases, square_cases)
            if any(not _same(got[k], ref[k], rtol) for k in spec.outputs):
                return _failure(spec, fn, i, cases, got, ref, square_cases)
            if _low_precision(*got.values()):
                f32 = max([f32] + [_rel_diff(got[k], ref[k]) for k in spec.outputs])
            if numeric is not None:
                fd = _quiet(numeric, _copy(case.args))
                err = max(rel_error(got[k], fd[k]) for k in fd)
                worst = err if worst is None else max(worst, err)
        listed = ", ".join(outputs[:-1]) + (" and " if len(outputs) > 1 else "") + outputs[-1]
        verb = "match" if len(outputs) > 1 else "matches"
        fd_text = "" if worst is None else (
            f", and finite differences agree (largest relative error {worst:.1e})"
            if worst < (1e-3 if f32 else 1e-5) else
            f"; finite differences differ by a relative error of up to {worst:.1e}, as they do near a kink "
            "(ReLU) or where a gradient is almost 0")
        inputs = "1 random input" if len(cases) == 1 else f"{len(cases)} random inputs"
        f32_text = "" if not f32 else (
            f" Your outputs are float32, so they agree up to float32 rounding (largest difference "
            f"{f32:.1e} of the largest value; float64 would give about 1e-16): right.")
        return CheckResult(True, f"{listed} {verb} {source} on {inputs}{fd_text}.{f32_text}",
                           None, name)
    except Exception as exc:  # a bug in the check itself must not look like the learner's
        return CheckResult(False, f"the check itself failed ({type(exc).__name__}: {exc}); this is a "
                           "bug in bptutor, not in your code", None, name)


def _fd(f: Callable, args: dict, names: dict, h: float = 1e-5) -> dict:
    """``{output: numerical gradient of f(args) w.r.t. args[arg]}`` for ``names = {output: arg}``."""
    return {out: numerical_gradient(lambda _: f(args), args[arg], h) for out, arg in names.items()}


def check_gradient(fn, f: Callable, *arrays, names: tuple | None = None, name: str = "gradient") -> CheckResult:
    """Check a learner's gradient function against finite differences of ``f`` alone.

    The learner writes ``fn(*arrays)`` returning ∂f/∂(each array) (one array,
    or a tuple when there are several). No reference and no catalogue: the
    generic diagnosis still names a sign flip, a constant factor or a transpose.

    Args:
        fn: the learner's gradient function.
        f: the scalar function, ``f(*arrays) -> float``.
        *arrays: the point, float arrays (copied, never modified).
        names: output names, default ``("d0", "d1", ...)``.
        name: the learner's function name for messages.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    keys = tuple(names or (f"d{i}" for i in range(len(arrays))))
    args = {f"x{i}": a for i, a in enumerate(arrays)}

    def numeric(a):
        return _fd(lambda a: f(*a.values()), a, dict(zip(keys, a)))

    def reference(a):
        grads = numeric(a)
        return tuple(grads[k] for k in keys) if len(keys) > 1 else grads[keys[0]]

    return check_outputs(fn, name=name, reference=reference, cases=[Case(args)], outputs=keys,
                         rtol=1e-5, source="finite differences")


# --- activations: a building block for 04 and 07 ---------------------------------------------------------
#: activation -> (function, derivative, wrong variants of its backward: (label, hint, dZ from (dout, Z))).
ACTIVATION_BACKWARDS = {
    "sigmoid": (act.sigmoid, act.sigmoid_grad, (
        ("the derivative was applied to Z instead of sigmoid(Z)", "sigma'(z) = s * (1 - s) with "
         "s = sigmoid(Z); Z * (1 - Z) uses the pre-activation.", lambda d, Z: d * Z * (1 - Z)),
        ("forgot the (1 - s) factor", "sigma'(z) = s * (1 - s) with s = sigmoid(Z).",
         lambda d, Z: d * act.sigmoid(Z)))),
    "tanh": (act.tanh, act.tanh_grad, (
        ("the derivative was applied to Z instead of tanh(Z)", "tanh'(z) = 1 - tanh(Z)**2, not 1 - Z**2.",
         lambda d, Z: d * (1 - Z * Z)),
        ("forgot the square", "tanh'(z) = 1 - tanh(Z)**2.", lambda d, Z: d * (1 - np.tanh(Z))))),
    "relu": (act.relu, act.relu_grad, (
        ("multiplied by relu(Z) instead of its derivative", "relu'(z) is the 0/1 mask (Z > 0).",
         lambda d, Z: d * np.maximum(Z, 0)),)),
    "leaky_relu": (act.leaky_relu, act.leaky_relu_grad, (
        ("forgot the slope for negative inputs", "leaky_relu'(z) is 1 where Z > 0 and the slope 0.01 "
         "elsewhere: np.where(Z > 0, 1.0, 0.01).", lambda d, Z: d * (Z > 0)),)),
}


def check_activation_backward(fn, activation: str = "sigmoid", rng=0) -> CheckResult:
    r"""Exercise (04, 07): the backward pass of an elementwise activation, :math:`dZ = dout \odot f'(Z)`.

    The learner writes ``<activation>_backward(dout, Z) -> dZ`` with ``Z`` the
    pre-activation (N, H) and ``dout`` = ∂L/∂f(Z) of the same shape (leaky
    ReLU with slope 0.01). Diagnosed: forgotten activation derivative,
    forgotten ``dout``, ``@`` instead of elementwise ``*``, a sign flip, and
    per activation the derivative formula applied to ``Z`` instead of the
    output (sigmoid, tanh) or another wrong derivative.
    """
    check_choice("activation", activation, ACTIVATION_BACKWARDS, who="check_activation_backward")
    f, fprime, wrong = ACTIVATION_BACKWARDS[activation]
    g = check_rng(rng)
    cases = [Case({"dout": g.normal(size=s), "Z": g.normal(size=s) * 2}) for s in ((5, 3), (2, 7), (4, 1))]
    mistakes = (
        Mistake("forgot the activation derivative", "chain rule: dZ = dout * f'(Z), the upstream gradient "
                "times the activation's slope at Z, entry by entry.", lambda a, r: {"dZ": a["dout"]}),
        Mistake("forgot the upstream gradient dout", "dZ = dout * f'(Z): f'(Z) alone is only the local "
                "derivative.", lambda a, r: {"dZ": fprime(a["Z"])}),
        Mistake("matrix product instead of an elementwise product", "an activation acts entry by entry: "
                "multiply with *, not @.", lambda a, r: {"dZ": a["dout"] @ fprime(a["Z"]).T}),
        Mistake("sign flip", "dZ = dout * f'(Z), with no minus sign.", lambda a, r: {"dZ": -r["dZ"]}),
    ) + tuple(Mistake(label, hint, lambda a, r, w=w: {"dZ": w(a["dout"], a["Z"])}) for label, hint, w in wrong)
    numeric = lambda a: _fd(lambda a: np.sum(a["dout"] * f(a["Z"])), a, {"dZ": "Z"})  # noqa: E731
    return check_outputs(fn, name=f"{activation}_backward", reference=lambda a: a["dout"] * fprime(a["Z"]),
                         cases=cases, outputs=("dZ",), mistakes=mistakes, like={"dZ": "Z"}, numeric=numeric,
                         source=f"dout * bptutor.activations.{activation}_grad(Z)")
