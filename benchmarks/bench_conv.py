"""8. Conv2d against PyTorch on the CPU: one forward and backward pass at two sizes.

Both sides run one convolution layer (3x3 kernel, stride 1, padding 1, float32,
PyTorch's default dtype) from the same weights on the same data:

* bptutor: ``layer.zero_grad(); layer.forward(X); layer.backward(dout)``, which
  fills ``W.grad``, ``b.grad`` and returns ``dX`` (im2col, two matrix products
  for dW and dX, col2im);
* PyTorch: ``conv.zero_grad(); conv(X).backward(dout)`` with ``X.requires_grad``,
  so that it computes ``dX`` too.

Sizes: "chapter", the first layer of chapter 13's CNN (N=64 images, 1 -> 8
channels, 8x8 pixels); "large", a middle layer of a small image network
(N=32, 16 -> 32 channels, 32x32 pixels).

Threads: each size runs with as many threads as numpy's BLAS uses
(``torch.set_num_threads`` set to the same number) and with one thread each.
Each side runs in a process of its own, the two alternating, three rounds
(see bench_mlp.py for why).
"""
from __future__ import annotations

import json
import sys

import numpy as np

from _common import alternating_workers, installed, median, row, skipped, spread, thread_settings, time_calls

SECTION = "8 conv vs PyTorch"

#: name -> (N, C_in, C_out, H (= W), timed calls per round, target ratio)
SIZES = {
    "chapter": (64, 1, 8, 8, 400, 1.0),
    "large": (32, 16, 32, 32, 15, 2.0),
}
QUICK_SIZES = {
    "chapter": (8, 1, 2, 6, 3, 1.0),
    "large": (4, 2, 4, 8, 3, 2.0),
}


def make_case(N: int, C: int, F: int, H: int):
    """The layer, its input and the upstream gradient, float32, seeded."""
    from bptutor.conv import Conv2d

    rng = np.random.default_rng(0)
    layer = Conv2d(C, F, 3, padding=1, rng=0, dtype=np.float32)
    X = rng.standard_normal((N, C, H, H)).astype(np.float32)
    dout = rng.standard_normal((N, F, H, H)).astype(np.float32)
    return layer, X, dout


def bptutor_step(layer, X, dout):
    def step():
        layer.zero_grad()
        layer.forward(X)
        return layer.backward(dout)
    return step


def torch_step(layer, X, dout):
    import torch

    conv = torch.nn.Conv2d(layer.in_channels, layer.out_channels, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(layer.W.data))
        conv.bias.copy_(torch.from_numpy(layer.b.data))
    Xt = torch.from_numpy(X).requires_grad_(True)
    dt = torch.from_numpy(dout)

    def step():
        conv.zero_grad()
        Xt.grad = None
        conv(Xt).backward(dt)
        return Xt.grad
    return step


def worker(name: str, side: str, threads: int, calls: int, quick: bool) -> dict:
    """In a process of its own: warm-up calls, then ``calls`` timed ones (wall and CPU seconds)."""
    if side == "torch":
        import torch

        torch.set_num_threads(threads)
    N, C, F, H, _, _ = (QUICK_SIZES if quick else SIZES)[name]
    layer, X, dout = make_case(N, C, F, H)
    step = torch_step(layer, X, dout) if side == "torch" else bptutor_step(layer, X, dout)
    return time_calls(step, calls, warmup=3)


def agree(quick: bool) -> float | None:
    """Largest difference between the two sides' dX, dW and db at the large size in float64 (None without torch)."""
    if not installed("torch"):
        return None
    import torch

    from bptutor.conv import Conv2d

    N, C, F, H, _, _ = (QUICK_SIZES if quick else SIZES)["large"]
    layer32, X, dout = make_case(N, C, F, H)
    layer = Conv2d.from_arrays(layer32.W.data.astype(np.float64), np.zeros(F), padding=1)
    X, dout = X.astype(np.float64), dout.astype(np.float64)
    layer.forward(X)
    dX = layer.backward(dout)
    Xt = torch.from_numpy(X).requires_grad_(True)
    Wt = torch.from_numpy(layer.W.data).requires_grad_(True)
    bt = torch.zeros(F, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.conv2d(Xt, Wt, bt, padding=1).backward(torch.from_numpy(dout))
    return float(max(np.abs(dX - Xt.grad.numpy()).max(), np.abs(layer.W.grad - Wt.grad.numpy()).max(),
                     np.abs(layer.b.grad - bt.grad.numpy()).max()))


def run(quick: bool = False) -> list:
    sizes = QUICK_SIZES if quick else SIZES
    have_torch = installed("torch")
    ref = ""
    if have_torch:
        from importlib.metadata import version

        ref = f"PyTorch {version('torch')}"
    diff = agree(quick)
    rows = []
    for threads in thread_settings(quick):
        for name, (N, C, F, H, calls, target) in sizes.items():
            figure = (f"Conv2d forward+backward, {name}: N={N}, {C}->{F} channels, {H}x{H}, 3x3, "
                      f"{threads} thread{'s' if threads > 1 else ''}")
            rounds = 1 if quick else 3
            sides = ["bptutor", "torch"] if have_torch else ["bptutor"]
            times = alternating_workers(__file__, worker, [name], sides, threads, rounds, calls, quick)
            ms = {side: 1e3 * median(t["wall"]) for side, t in times.items()}
            cpu = {side: 1e3 * median(t["cpu"]) for side, t in times.items()}
            extra = dict(threads=threads, cpu_ms=cpu, calls=len(times["bptutor"]["wall"]))
            if not have_torch:
                rows.append(skipped(SECTION, figure, "PyTorch is not installed", "ms", ms["bptutor"], **extra))
                continue
            note = (f"float32, padding 1, dX included on both sides; {threads} thread{'s' if threads > 1 else ''} "
                    f"each; {rounds} rounds x {calls} calls per side; bptutor "
                    f"{spread([1e3 * t for t in times['bptutor']['wall']])} ms; CPU-time ratio "
                    f"{cpu['bptutor'] / cpu['torch']:.2f}; float64 gradients agree to {diff:.1e}")
            rows.append(row(SECTION, figure, "ms", ms["bptutor"], ms["torch"], reference_name=ref,
                            target_of="ratio", target_max=target, target_text=f"<= {target:.1f}", note=note,
                            **extra))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        name, side, threads, calls = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(worker(name, side, threads, calls, "--quick" in sys.argv)))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=1))
