"""3. Distance to the bound: a training step against the matrix products it cannot avoid.

At the large size of :mod:`bench_mlp` (784-1024-1024-10, batch 256, float32,
ReLU, Adam), the time of one step of ``fit`` (an epoch divided by its number
of steps, so batching, the loss, Adam and fit's bookkeeping are all in) is
divided by the time of the bare products of that step, per layer with ``X``
(N, D), ``W`` (D, H) and ``dout`` (N, H):

* forward ``X @ W``;
* backward ``X.T @ dout`` (dW) and ``dout @ W.T`` (dX), except the first
  layer's dX, which no step needs (the input requires no gradient),

eight products in all, on arrays of the same shapes and dtype, made once.
Everything else a step does (bias, ReLU, the loss, zeroing and accumulating
gradients, Adam's update, fit's checks) is the distance to that bound; numpy
runs all of it on one thread, while the products use every BLAS thread.

The two are timed in turn in one process, with numpy's BLAS on its usual
number of threads and, in a second process, on one thread.
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from _common import in_worker, median, row, spread, thread_settings
from bench_mlp import QUICK_SIZES, SIZES, bptutor_epoch, bptutor_model, make_data

SECTION = "3 distance to the bound"


def products(model, batch: int, dtype=np.float32):
    """A function doing the bare products one training step of ``model`` must do on ``batch`` rows.

    Per layer: the forward product, dW and dX, except the first layer's dX, which
    training never needs (fit asks for ``input_grad=False``, as PyTorch skips the
    gradient of an input that does not require one). For three layers: 8 products.
    """
    rng = np.random.default_rng(0)
    Ws = [layer.W.data for layer in model.layers if hasattr(layer, "W")]
    Xs = [rng.standard_normal((batch, W.shape[0])).astype(dtype) for W in Ws]      # (N, D)
    douts = [rng.standard_normal((batch, W.shape[1])).astype(dtype) for W in Ws]   # (N, H)

    def step():
        for i, (W, X, dout) in enumerate(zip(Ws, Xs, douts)):
            X @ W          # forward (N, H)
            X.T @ dout     # dW (D, H)
            if i > 0:
                dout @ W.T     # dX (N, D), passed down to the layer below
    return step


def worker(quick: bool, rounds: int) -> dict:
    """Per-step seconds (wall and CPU) of fit and of the bare products, timed in turn."""
    dims, batch, data, n, loss, _ = (QUICK_SIZES if quick else SIZES)["large"]
    X, y = make_data(data, n, dims)
    model = bptutor_model(dims)
    steps = -(-n // batch)
    bare = products(model, batch)
    sides = {"fit": bptutor_epoch(model, loss, X, y, batch),
             "products": lambda: [bare() for _ in range(steps)]}
    for f in sides.values():
        f()
    out = {name: {"wall": [], "cpu": []} for name in sides}
    for r in range(rounds):
        for name in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
            start, start_cpu = time.perf_counter(), time.process_time()
            sides[name]()
            out[name]["wall"].append((time.perf_counter() - start) / steps)
            out[name]["cpu"].append((time.process_time() - start_cpu) / steps)
    return out


def run(quick: bool = False) -> list:
    dims, batch = (QUICK_SIZES if quick else SIZES)["large"][:2]
    rounds = 2 if quick else 9
    rows = []
    for threads in thread_settings(quick):
        times = worker(quick, rounds) if quick else in_worker(__file__, [rounds], threads)
        ms = {name: 1e3 * median(t["wall"]) for name, t in times.items()}
        cpu = {name: 1e3 * median(t["cpu"]) for name, t in times.items()}
        plural = "s" if threads > 1 else ""
        rows.append(row(
            SECTION, f"training step / bare products, {'-'.join(map(str, dims))}, batch {batch}, "
                     f"{threads} thread{plural}", "ms", ms["fit"], ms["products"],
            reference_name="the step's 8 matrix products (numpy)", target_of="ratio", target_max=1.25,
            target_text="<= 1.25",
            note=f"float32; {rounds} epochs each, alternating; step {spread([1e3 * t for t in times['fit']['wall']])}"
                 f" ms" + (f"; CPU-time ratio {cpu['fit'] / cpu['products']:.2f}" if threads == 1 else ""),
            threads=threads, cpu_ms=cpu))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(False, int(sys.argv[2]))))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=1))
