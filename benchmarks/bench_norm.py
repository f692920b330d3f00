"""8. Batch normalization: one training-mode forward and backward of ``BatchNorm1d`` against PyTorch.

Both sides get the same float64 batch ``X`` (N, D) and upstream gradient
``dout``, made once. bptutor times ``bn.forward(X)`` then ``bn.backward(dout)``
(which adds into ``gamma.grad`` and ``beta.grad`` and returns ``dX``); PyTorch
times ``nn.BatchNorm1d(D).double()`` on a leaf tensor that requires a gradient,
then ``out.backward(dout)``, with ``torch.set_num_threads(1)``: batch norm is
element-wise work and reductions, which numpy runs on one thread too (and PyTorch's
thread pool, woken for a few microseconds of work, costs more than it saves on a
shared machine). Gradients are zeroed outside the timed call on both sides (``set_to_none``
for PyTorch). Both update their running statistics, as training does.

Sizes: the chapter's (N=64, D=32: chapter 15's width and batch) and a wide layer
(N=256, D=1024). No target is set: the figure is reported, the ratio read as
for the other rows (below 1 means bptutor is faster).
"""
from __future__ import annotations

import numpy as np

from _common import alternate, installed, median, row, skipped, spread

SECTION = "10 batch norm"
SIZES = [(64, 32), (256, 1024)]
QUICK_SIZES = [(8, 4)]


def bptutor_step(N: int, D: int):
    from bptutor.normalization import BatchNorm1d

    rng = np.random.default_rng(0)
    X, dout = rng.standard_normal((N, D)), rng.standard_normal((N, D))
    bn = BatchNorm1d(D)

    def step():
        bn.forward(X)
        return bn.backward(dout)
    return step, X, dout, bn


def torch_step(X: np.ndarray, dout: np.ndarray):
    import torch

    torch.set_num_threads(1)
    bn = torch.nn.BatchNorm1d(X.shape[1]).double()
    Xt, dt = torch.tensor(X, requires_grad=True), torch.tensor(dout)

    def step():
        Xt.grad = None
        bn.zero_grad(set_to_none=True)
        bn(Xt).backward(dt)
        return Xt.grad
    return step


def run(quick: bool) -> list:
    rows = []
    repeats = 5 if quick else 300
    for N, D in (QUICK_SIZES if quick else SIZES):
        figure = f"BatchNorm1d forward+backward, training mode, N={N}, D={D}, float64"
        step, X, dout, bn = bptutor_step(N, D)
        if not installed("torch"):
            t = alternate({"bptutor": step}, repeats)["bptutor"]
            rows.append(skipped(SECTION, figure, "PyTorch is not installed", unit="us",
                                bptutor=1e6 * median(t)))
            continue
        theirs = torch_step(X, dout)
        dX = step()
        assert np.allclose(dX, theirs().numpy(), rtol=1e-8, atol=1e-10), "the two sides disagree"
        times = alternate({"bptutor": step, "torch": theirs}, repeats, warmup=0 if quick else 20)
        ours, ref = 1e6 * median(times["bptutor"]), 1e6 * median(times["torch"])
        import torch
        rows.append(row(SECTION, figure, "us", ours, ref, reference_name=f"PyTorch {torch.__version__}",
                        note=f"median of {repeats}, alternating; bptutor {spread([1e6 * t for t in times['bptutor']])} "
                             f"us, PyTorch {spread([1e6 * t for t in times['torch']])} us"))
    return rows
