r"""Exercise checks for chapter 13, convolutional networks.

* ``check_conv2d_backward``: ``conv2d_backward_loops(dout, X, W, stride, padding) -> (dX, dW, db)``
* ``check_max_pool_backward``: ``max_pool_backward(dout, X, kernel_size, stride) -> dX``

Both compare with :mod:`bptutor.conv` on non-square inputs and kernels (so a
swapped axis shows), with a stride above 1 and padding (so a forgotten
stride or padding shows), and, for max-pooling, with tied maxima and
overlapping windows.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_rng
from ..conv_functional import conv2d_backward, conv2d_forward, max_pool2d_backward, max_pool2d_forward
from ._core import Case, CheckResult, Mistake, _fd, check_outputs


# --- conv2d backward ------------------------------------------------------------------------------------------
def _conv_loops(dout, X, W, stride, padding, *, flip=False, step=None, last_image_only=False,
               keep_padding=False) -> dict:
    """The backward pass by loops, with switches for the classic mistakes.

    ``flip``: dX uses the kernel rotated by 180 degrees (what an un-flipped kernel in
    the full-convolution formula amounts to); ``step``: windows start every ``step``
    pixels instead of every ``stride``; ``last_image_only``: ``dW = ...`` where
    ``dW += ...`` belongs, so only the last image's contribution survives;
    ``keep_padding``: dX returned with the padding's rows and columns still on.
    """
    s = stride if step is None else step
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Wx = W[:, :, ::-1, ::-1] if flip else W
    N, F, H_out, W_out = dout.shape
    kH, kW = W.shape[2:]
    dXp, dW, db = np.zeros_like(Xp), np.zeros_like(W), np.zeros(F)
    for n in range(N):
        dW_n = np.zeros_like(W)
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = slice(i * s, i * s + kH), slice(j * s, j * s + kW)
                    if rows.stop > Xp.shape[2] or cols.stop > Xp.shape[3]:
                        raise IndexError("window outside the image")
                    dXp[n, :, rows, cols] += dout[n, f, i, j] * Wx[f]
                    dW_n[f] += dout[n, f, i, j] * Xp[n, :, rows, cols]
                    db[f] += dout[n, f, i, j]
        dW = dW_n if last_image_only else dW + dW_n
    dX = dXp if keep_padding else dXp[:, :, padding:padding + X.shape[2], padding:padding + X.shape[3]]
    return {"dX": dX, "dW": dW, "db": db}


def _conv_cases(g, sizes) -> list:
    cases = []
    for N, C, H, W, F, kH, kW, s, p in sizes:
        H_out, W_out = (H + 2 * p - kH) // s + 1, (W + 2 * p - kW) // s + 1
        cases.append(Case({"dout": g.normal(size=(N, F, H_out, W_out)), "X": g.normal(size=(N, C, H, W)),
                           "W": g.normal(size=(F, C, kH, kW)), "stride": s, "padding": p},
                          dims={"N": N, "H_out * W_out": H_out * W_out, "N * H_out * W_out": N * H_out * W_out}))
    return cases


def check_conv2d_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (13): the backward pass of a convolution, written with loops.

    .. math:: dX^{pad}_{n,c,is+a,js+b'} \mathrel{+}= \text{dout}_{n,f,i,j} W_{f,c,a,b'}, \quad
              dW_{f,c,a,b'} = \sum_{n,i,j} \text{dout}_{n,f,i,j} X^{pad}_{n,c,is+a,js+b'}, \quad
              db_f = \sum_{n,i,j} \text{dout}_{n,f,i,j}

    The learner writes ``conv2d_backward_loops(dout, X, W, stride, padding) ->
    (dX, dW, db)`` with ``dout`` (N, F, H_out, W_out), ``X`` (N, C, H, W) and
    ``W`` (F, C, kH, kW), for ``out = conv2d(X, W, b, stride, padding)``.
    Compared with :func:`bptutor.conv.conv2d_backward` and finite differences.
    Diagnosed: the kernel not flipped in dX (a full convolution needs the
    rotated kernel), the stride forgotten, the padding left on dX, dW from the
    last image only (``=`` where ``+=`` belongs), dW or db averaged over the
    batch, db not summed over the pixels, the gradients returned in the wrong
    order, a sign flip.
    """
    g = check_rng(rng)
    cases = _conv_cases(g, [(2, 3, 7, 10, 5, 4, 2, 2, 1), (3, 2, 5, 6, 3, 2, 3, 1, 0), (2, 1, 8, 7, 2, 3, 3, 3, 2)])
    mean_hint = ("dout already carries any 1/N of a mean loss; the batch's contributions are added up, "
                 "not averaged.")
    mistakes = (
        Mistake("gradients returned in the wrong order", "return (dX, dW, db): dX has the shape of X, dW of W.",
                lambda a, r: {"dX": r["dW"], "dW": r["dX"]}),
        Mistake("kernel not flipped in dX", "written as a full convolution, dX slides the kernel rotated by 180 "
                "degrees, W[:, :, ::-1, ::-1], over dout; sliding W itself is a correlation, the forward "
                "pass's operation. (With loops: every output pixel adds dout[n, f, i, j] * W[f] onto its own "
                "window, no flipping needed.)", lambda a, r: _conv_loops(**a, flip=True)),
        Mistake("stride forgotten", "window (i, j) starts at row i * stride and column j * stride of the padded "
                "input, in the backward pass as in the forward pass.",
                lambda a, r: _conv_loops(**a, step=1)),
        Mistake("padding not removed from dX", "the gradient of the zeros added around X is not part of dX: "
                "return dX_padded[:, :, p:p + H, p:p + W], the shape of X.",
                lambda a, r: {"dX": _conv_loops(**a, keep_padding=True)["dX"]}),
        Mistake("dW from the last image only", "each image adds its own contribution to dW: "
                "dW[f] += ... inside the loop over n, never dW[f] = ... (the last image would overwrite "
                "the others).", lambda a, r: {"dW": _conv_loops(**a, last_image_only=True)["dW"]}),
        Mistake("dW averaged over the batch", mean_hint, lambda a, r: {"dW": r["dW"] / len(a["X"])}),
        Mistake("db averaged over the batch", mean_hint, lambda a, r: {"db": r["db"] / len(a["X"])}),
        Mistake("db summed over the batch only", "b[f] is added at every pixel of every image, so db[f] sums "
                "dout[:, f] over the batch and both pixel axes: dout.sum(axis=(0, 2, 3)), shape (F,).",
                lambda a, r: {"db": a["dout"].sum(axis=0)}),
        Mistake("db summed over the pixels only", "b[f] is added at every pixel of every image: sum over the "
                "batch too, dout.sum(axis=(0, 2, 3)).", lambda a, r: {"db": a["dout"].sum(axis=(2, 3))}),
        Mistake("sign flip", "a gradient is dL/dtheta itself; the minus sign belongs in the update.",
                lambda a, r: {k: -v for k, v in r.items()}),
    )

    def reference(a):
        b = np.zeros(a["W"].shape[0])
        _, cache = conv2d_forward(a["X"], a["W"], b, a["stride"], a["padding"])
        return conv2d_backward(a["dout"], cache)

    def numeric(a):
        a["b"] = np.zeros(a["W"].shape[0])
        return _fd(lambda a: np.sum(a["dout"] * conv2d_forward(a["X"], a["W"], a["b"], a["stride"],
                                                                a["padding"])[0]),
                   a, {"dX": "X", "dW": "W", "db": "b"})

    return check_outputs(fn, name="conv2d_backward_loops", reference=reference, cases=cases,
                         outputs=("dX", "dW", "db"), mistakes=mistakes, like={"dX": "X", "dW": "W", "db": "b"},
                         numeric=numeric, source="bptutor.conv.conv2d_backward")


# --- max-pool backward ----------------------------------------------------------------------------------------
def _pool_loops(dout, X, kernel_size, stride, *, route="first", step=None, assign=False) -> np.ndarray:
    """Max-pool backward by loops, with switches for the classic mistakes.

    ``route``: ``"first"`` (right), ``"last"`` (the last tied maximum), ``"all_max"``
    (every tied maximum), ``"window"`` (every entry of the window), ``"mean"`` (the
    window's average), ``"ones"`` (1 at the maximum, no dout); ``step``: windows every
    ``step`` pixels; ``assign``: ``=`` where ``+=`` belongs.
    """
    k, s = kernel_size, (stride if step is None else step)
    dX = np.zeros_like(X)
    N, C, H_out, W_out = dout.shape
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):
        rows, cols = slice(i * s, i * s + k), slice(j * s, j * s + k)
        window = X[n, c, rows, cols]
        if window.shape != (k, k):
            raise IndexError("window outside the image")
        g = dout[n, c, i, j]
        is_max = window == window.max()
        if route in ("first", "last", "ones"):
            flat = np.flatnonzero(is_max.ravel())
            a, b = divmod(int(flat[0] if route != "last" else flat[-1]), k)
            value = 1.0 if route == "ones" else g
            if assign:
                dX[n, c, i * s + a, j * s + b] = value
            else:
                dX[n, c, i * s + a, j * s + b] += value
        elif route == "all_max":
            dX[n, c, rows, cols] += g * is_max
        elif route == "window":
            dX[n, c, rows, cols] += g
        else:
            dX[n, c, rows, cols] += g / (k * k)
    return dX


def _pool_cases(g) -> list:
    cases = []
    # (N, C, H, W, k, stride, levels): levels = how many distinct values; few levels make ties
    for N, C, H, W, k, s, levels in ((2, 3, 6, 5, 2, 2, 3), (3, 2, 5, 7, 3, 1, 4), (2, 1, 7, 6, 2, 1, 2)):
        X = g.integers(0, levels, size=(N, C, H, W)).astype(np.float64)
        H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
        note = "tied maxima" + (", overlapping windows" if s < k else "")
        cases.append(Case({"dout": g.normal(size=(N, C, H_out, W_out)), "X": X, "kernel_size": k, "stride": s},
                          note=note))
    return cases


def check_max_pool_backward(fn, rng=0) -> CheckResult:
    r"""Exercise (13): the backward pass of max-pooling, a router of gradient.

    .. math:: dX_{n,c,is+a,js+b} \mathrel{+}= \text{dout}_{n,c,i,j}
              \quad\text{for } (a, b) \text{ the first maximum of window } (i, j)

    The learner writes ``max_pool_backward(dout, X, kernel_size, stride) -> dX``
    for square ``kernel_size`` x ``kernel_size`` windows every ``stride``
    pixels, ``X`` (N, C, H, W), ``dout`` (N, C, H_out, W_out). Ties go to the
    first maximum in row-major order (PyTorch's rule). Compared with
    :func:`bptutor.conv.max_pool2d_backward` on inputs with many ties and
    overlapping windows. Diagnosed: the gradient sent to every entry of the
    window or averaged over it, sent to every tied maximum or to the last one,
    ones instead of dout, the stride forgotten, ``=`` where ``+=`` belongs
    (a pixel that is the maximum of two overlapping windows), a sign flip.
    """
    g = check_rng(rng)
    cases = _pool_cases(g)
    router = ("max-pooling is a router: the maximum is the only entry whose small change moves the output, "
              "so the whole of dout[n, c, i, j] goes to it and every other entry of the window gets 0.")
    mistakes = (
        Mistake("gradient sent to every entry of the window", router,
                lambda a, r: {"dX": _pool_loops(**a, route="window")}),
        Mistake("gradient averaged over the window", router + " (Averaging is average-pooling's backward.)",
                lambda a, r: {"dX": _pool_loops(**a, route="mean")}),
        Mistake("ties: gradient sent to every tied maximum", "when several entries share the maximum, the "
                "forward pass picked one of them, the first in row-major order (np.argmax's choice, and "
                "PyTorch's): the gradient goes to that one alone, so nothing is counted twice.",
                lambda a, r: {"dX": _pool_loops(**a, route="all_max")}),
        Mistake("ties: gradient sent to the last maximum", "the first maximum in row-major order wins a tie "
                "(np.argmax returns the first), as in PyTorch.",
                lambda a, r: {"dX": _pool_loops(**a, route="last")}),
        Mistake("ones instead of dout", "the maximum receives the upstream gradient dout[n, c, i, j] itself, "
                "not 1: the local derivative 1 is multiplied by dout (chain rule).",
                lambda a, r: {"dX": _pool_loops(**a, route="ones")}),
        Mistake("stride forgotten", "window (i, j) starts at row i * stride and column j * stride.",
                lambda a, r: {"dX": _pool_loops(**a, step=1)}),
        Mistake("= where += belongs", "when windows overlap, one pixel can be the maximum of several of them "
                "and must collect all their gradients: dX[...] += dout[...].",
                lambda a, r: {"dX": _pool_loops(**a, assign=True)}),
        Mistake("sign flip", "dX has the sign of dout: a gradient, not an update.",
                lambda a, r: {"dX": -r["dX"]}),
    )

    def reference(a):
        _, cache = max_pool2d_forward(a["X"], a["kernel_size"], a["stride"])
        return max_pool2d_backward(a["dout"], cache)

    return check_outputs(fn, name="max_pool_backward", reference=reference, cases=cases, outputs=("dX",),
                         mistakes=mistakes, like={"dX": "X"}, source="bptutor.conv.max_pool2d_backward")
