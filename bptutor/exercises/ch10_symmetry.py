r"""Exercise checks for chapter 10, the symmetry experiment of Rumelhart, Hinton & Williams (1986).

* ``check_pair_margin``: ``pair_margin(w) -> margin``, the smallest non-zero
  :math:`|\sum_k w_k \delta_k|` over :math:`\delta \in \{-1, 0, 1\}^K`
* ``check_symmetry_detector``: ``symmetry_detector() -> (W1, b1, W2, b2)``,
  weights set by hand for a 6-2-1 palindrome detector, checked on all 64 patterns
"""
from __future__ import annotations

import itertools

import numpy as np

from .. import activations as act
from .._checks import check_float, check_rng
from ..datasets import symmetry_patterns
from ._core import Case, CheckResult, Mistake, _Diagnosed, _exception_hint, _quiet, _summary, check_outputs


# --- 10 backprop in 1986 ----------------------------------------------------------------------------------
def _differences(K: int) -> np.ndarray:
    """Every non-zero :math:`\\delta \\in \\{-1, 0, 1\\}^K`, one per row: (3^K - 1, K)."""
    D = np.array(list(itertools.product((-1, 0, 1), repeat=K)), dtype=np.float64)
    return D[np.any(D != 0, axis=1)]


def check_pair_margin(fn, rng=0) -> CheckResult:
    r"""Exercise (10): the smallest net input an asymmetric pattern can give.

    For a hidden unit with weights :math:`w_k` on the left half of the input and
    :math:`-w_k` on the mirrored positions, a pattern gives the net input
    :math:`\sum_k w_k \delta_k` with :math:`\delta_k = x_k - x_{7-k} \in \{-1, 0, 1\}`;
    palindromes have :math:`\delta = 0`. The learner writes ``pair_margin(w) ->
    margin``, with ``w`` (K,) positive, returning

    .. math:: \min_{\delta \in \{-1,0,1\}^K,\ \delta \ne 0} \Big|\sum_k w_k \delta_k\Big|

    (0 when some asymmetric pattern looks like a palindrome). Diagnosed: only
    :math:`\delta_k \in \{0, 1\}` (a pair can differ either way), the absolute
    value forgotten, :math:`\delta = 0` included, the largest value instead of
    the smallest.
    """
    g = check_rng(rng)
    fixed = [((2.0, 3.0, 4.0), "magnitudes 2:3:4"), ((1.0, 2.0, 3.0), "magnitudes 1:2:3, where 1 + 2 - 3 = 0"),
             ((1.0, 2.0, 4.0), "magnitudes 1:2:4")]
    cases = [Case({"w": np.array(w)}, note) for w, note in fixed]
    cases += [Case({"w": g.uniform(0.5, 3.0, size=k)}, f"{k} random magnitudes") for k in (3, 4, 2)]

    def sums(a, D=None):
        return (_differences(len(a["w"])) if D is None else D) @ a["w"]

    subsets = lambda K: _differences(K)[np.all(_differences(K) >= 0, axis=1)]  # noqa: E731
    mistakes = (
        Mistake("a pair can differ in either direction", "delta_k = x_k - x_(7-k) is -1, 0 or +1: with only "
                "0 and 1 you never see two pairs cancelling, e.g. 1 + 2 - 3 = 0. Loop over "
                "itertools.product((-1, 0, 1), repeat=len(w)).",
                lambda a, r: {"margin": np.min(np.abs(sums(a, subsets(len(a["w"])))))}),
        Mistake("forgot the absolute value", "a negative net input switches the *other* hidden unit on, so "
                "what matters is its size: take abs() before the minimum.",
                lambda a, r: {"margin": np.min(sums(a))}),
        Mistake("included delta = 0", "delta = (0, ..., 0) is a palindrome, whose net input is always 0; "
                "leave it out: the question is about the asymmetric patterns.",
                lambda a, r: {"margin": 0.0}),
        Mistake("largest instead of smallest", "the margin is the worst case, the asymmetric pattern closest "
                "to a palindrome: take the minimum of |sum|.",
                lambda a, r: {"margin": np.max(np.abs(sums(a)))}),
    )
    return check_outputs(fn, name="pair_margin", reference=lambda a: np.min(np.abs(sums(a))), cases=cases,
                         outputs=("margin",), mistakes=mistakes, source="every delta in {-1, 0, 1}^K")


_SHAPES = (("W1", (6, 2)), ("b1", (2,)), ("W2", (2, 1)), ("b2", (1,)))


def _weights(raw, name: str) -> dict:
    if not isinstance(raw, (tuple, list)) or len(raw) != 4:
        raise _Diagnosed(f"{name} should return 4 arrays (W1, b1, W2, b2), got "
                         f"{type(raw).__name__ if raw is not None else 'None'}",
                         "end the function with `return W1, b1, W2, b2`.")
    out = {}
    for (key, shape), value in zip(_SHAPES, raw):
        try:
            A = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise _Diagnosed(f"{key} should be an array of numbers") from None
        if A.shape != shape:
            raise _Diagnosed(f"{key} should have shape {shape}, got {A.shape}",
                             "6 inputs, 2 hidden units, 1 output: W1 (6, 2), b1 (2,), W2 (2, 1), b2 (1,).")
        if not np.all(np.isfinite(A)):
            raise _Diagnosed(f"{key} contains NaN or inf")
        out[key] = A
    return out


def _bits(x: np.ndarray) -> str:
    return "".join(str(int(v)) for v in x)


def check_symmetry_detector(fn, tol: float = 0.1) -> CheckResult:
    r"""Exercise (10): set the weights of a 6-2-1 sigmoid network so that it detects palindromes.

    The learner writes ``symmetry_detector() -> (W1, b1, W2, b2)`` with shapes
    (6, 2), (2,), (2, 1), (1,); the network
    :math:`\sigma(\sigma(x W_1 + b_1) W_2 + b_2)` must output within ``tol`` of
    1 for each of the 8 palindromes and of 0 for the 56 other patterns. When it
    does not, the check looks at the first failing pattern and says why:
    mirrored weights that do not cancel (a palindrome gets a non-zero net
    input), magnitudes whose signed sum cancels for an asymmetric pattern (as
    1 + 2 - 3 = 0), hidden biases or output weights that leave a pattern on the
    wrong side, or hidden units that are not each other's negative.
    """
    name = "symmetry_detector"
    tol = check_float("tol", tol, minimum=0.0, maximum=0.5, strict_min=True, who="check_symmetry_detector")
    if not callable(fn):
        return CheckResult(False, f"expected the function {name} itself, got {type(fn).__name__}",
                           f"pass the function without calling it: check_symmetry_detector({name}).", name)
    try:
        p = _weights(_quiet(fn), name)
    except _Diagnosed as d:
        return CheckResult(False, d.message, d.diagnosis, name)
    except Exception as exc:  # the learner's code raised: summarise, never crash
        return CheckResult(False, _summary(exc, name), _exception_hint(exc), name)
    try:
        return _judge(p, tol, name)
    except Exception as exc:  # a bug in the check itself must not look like the learner's
        return CheckResult(False, f"the check itself failed ({type(exc).__name__}: {exc}); this is a "
                           "bug in bptutor, not in your code", None, name)


def _judge(p: dict, tol: float, name: str) -> CheckResult:
    X, y = symmetry_patterns()
    net = X @ p["W1"]                                   # (64, 2) net input without the bias
    H = act.sigmoid(net + p["b1"])                      # (64, 2)
    out = act.sigmoid(H @ p["W2"] + p["b2"])[:, 0]      # (64,)
    wrong = np.abs(out - y) >= tol
    pal = y == 1
    if not wrong.any():
        return CheckResult(True, f"all 64 patterns are within {tol:g} of their targets: the 8 palindromes give "
                           f"at least {out[pal].min():.3f} and the 56 others at most {out[~pal].max():.3f}.",
                           None, name)
    n = int(np.flatnonzero(wrong & pal)[0]) if (wrong & pal).any() else int(np.flatnonzero(wrong)[0])
    message = (f"{int(wrong.sum())} of 64 outputs are {tol:g} or more from their targets; e.g. pattern "
               f"{_bits(X[n])} ({'a palindrome, target 1' if pal[n] else 'not a palindrome, target 0'}) "
               f"gives {out[n]:.3f}.")
    return CheckResult(False, message, _why(p, X, net, H, out, n, pal[n]), name)


def _why(p: dict, X, net, H, out, n: int, is_pal: bool) -> str:
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    scale = max(1.0, float(np.abs(W1).max()))
    if is_pal:
        residual = W1[:3] + W1[::-1][:3]                # w_k + w_(7-k) for k = 1, 2, 3, per unit
        if np.abs(residual).max() > 1e-9 * scale:
            k, j = np.unravel_index(int(np.argmax(np.abs(residual))), residual.shape)
            return (f"mirrored weights do not cancel: hidden unit {j + 1} has w_{k + 1} = {W1[k, j]:.3g} and "
                    f"w_{6 - k} = {W1[5 - k, j]:.3g}, so the palindrome {_bits(X[n])} gives it the net input "
                    f"{net[n, j]:.3g} instead of 0. Make each weight the negative of its mirror: "
                    f"w_(7-k) = -w_k.")
        return (f"a palindrome gives both hidden units the net input 0, so they sit at sigmoid(b1) = "
                f"({H[n, 0]:.3f}, {H[n, 1]:.3f}) and the output at sigmoid(b2 + h @ W2) = {out[n]:.3f}. For "
                "palindromes the hidden units should be off and the output on: make b1 clearly negative "
                "and b2 positive (larger than what the off hidden units subtract).")
    if np.all(np.abs(net[n]) < 1e-9 * scale):
        delta = X[n, :3] - X[n, ::-1][:3]
        return (f"the asymmetric pattern {_bits(X[n])} gives net input 0 to both hidden units, exactly like "
                f"a palindrome: its pair differences delta = x_k - x_(7-k) = {delta.astype(int).tolist()} "
                f"cancel against your magnitudes ({', '.join(f'{v:.3g}' for v in np.abs(W1[:3, 0]))}). Choose "
                "magnitudes of which no sum with signs +1, -1 or 0 is zero, e.g. in the ratio 1:2:4.")
    if H[n].max() < 0.5:
        return (f"the asymmetric pattern {_bits(X[n])} switches neither hidden unit on: net inputs "
                f"({net[n, 0]:.3g}, {net[n, 1]:.3g}) plus biases ({b1[0]:.3g}, {b1[1]:.3g}) stay below 0. "
                "A pattern and its mirror image give opposite net inputs, so give the second hidden unit the "
                "negative of the first one's weights, and make the smallest non-zero |net input| larger than "
                "|b1| (scale the weights up).")
    j = int(np.argmax(H[n]))
    return (f"the asymmetric pattern {_bits(X[n])} switches hidden unit {j + 1} on (h = {H[n, j]:.3f}), but "
            f"the output is still {out[n]:.3f}: an active hidden unit should push the output down. Make the "
            f"output weights W2 clearly negative (now {W2[0, 0]:.3g}, {W2[1, 0]:.3g}) relative to b2 = {b2[0]:.3g}.")
