"""2. The vectorized MLP against PyTorch on the CPU: time per epoch at three sizes.

Both sides train the same network (Linear + ReLU, float32, PyTorch's default
dtype) from the same initial weights (bptutor's ``W`` copied into
``weight.T``), on the same data, with Adam (lr 1e-3, PyTorch's defaults), in
mini-batches of the same size. An epoch is what a learner runs:

* bptutor: ``fit(model, loss, Adam, X, y, epochs=1, batch_size=B, progress=False)``,
  which also keeps the epoch's loss and accuracy and the gradient norms;
* PyTorch: the usual loop (``randperm``, index the batch, ``zero_grad``,
  forward, loss, ``backward``, ``step``), adding up ``loss.item()`` and the
  number of correct predictions the same way.

Sizes: small 2-16-16-1 on 1,024 two-moons points (batch 32, logistic loss);
medium 64-128-10 on the 1,797 digits (batch 64, cross-entropy); large
784-1024-1024-10 on 4,096 synthetic points (batch 256, cross-entropy).

Threads: each size runs twice, once with as many threads as numpy's BLAS
uses (``torch.set_num_threads`` set to the same number, so both sides use the
same cores) and once with one thread each. Each side runs in a process of its
own (see ``_common.alternating_workers``), the two alternating, three rounds.
"""
from __future__ import annotations

import json
import sys

import numpy as np

from _common import alternating_workers, installed, median, row, skipped, spread, thread_settings, time_calls

SECTION = "2 MLP vs PyTorch"

#: name -> (layer sizes, batch size, data, rows, loss, timed epochs)
SIZES = {
    "small": ([2, 16, 16, 1], 32, "moons", 1024, "bce_logits", 15),
    "medium": ([64, 128, 10], 64, "digits", 1797, "cross_entropy", 15),
    "large": ([784, 1024, 1024, 10], 256, "synthetic", 4096, "cross_entropy", 3),
}
QUICK_SIZES = {
    "small": ([2, 8, 1], 16, "moons", 64, "bce_logits", 2),
    "medium": ([64, 16, 10], 32, "digits", 128, "cross_entropy", 2),
    "large": ([32, 64, 10], 32, "synthetic", 128, "cross_entropy", 2),
}


def make_data(data: str, n: int, dims: list, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, D) in ``dtype`` and targets: 0/1 column (n, 1) for one output, labels (n,) else."""
    from bptutor.datasets import binary_targets, load_digits, make_moons

    if data == "moons":
        X, y = make_moons(n, noise=0.1, rng=0)
        return X.astype(dtype), binary_targets(y).astype(dtype)
    if data == "digits":
        X, y = load_digits()
        return (X[:n, :dims[0]] / 16.0).astype(dtype), y[:n]
    rng = np.random.default_rng(0)  # synthetic: a random linear teacher labels Gaussian inputs
    X = rng.standard_normal((n, dims[0])).astype(dtype)
    y = (X @ rng.standard_normal((dims[0], dims[-1]))).argmax(axis=1)
    return X, y


def bptutor_model(dims: list, dtype=np.float32, rng: int = 0):
    """Linear + ReLU layers, the last one linear."""
    from bptutor.activations import ReLU
    from bptutor.layers import Linear, Sequential

    layers = []
    for i, (d, h) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(Linear(d, h, rng=rng + i, dtype=dtype))
        if i < len(dims) - 2:
            layers.append(ReLU())
    return Sequential(*layers)


def torch_twin(model):
    """A PyTorch Sequential with ``model``'s weights (bptutor's W (D, H) is torch's weight.T)."""
    import torch

    layers = []
    for layer in model.layers:
        if hasattr(layer, "W"):
            lin = torch.nn.Linear(*layer.W.data.shape, dtype=torch.from_numpy(layer.W.data).dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.W.data.T.copy()))
                lin.bias.copy_(torch.from_numpy(layer.b.data.copy()))
            layers.append(lin)
        else:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def bptutor_epoch(model, loss: str, X, y, batch: int, seed: int = 0):
    """A function running one epoch of ``fit`` with Adam (its state kept across calls)."""
    from bptutor.optim import Adam
    from bptutor.training import fit

    optimizer = Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)

    def epoch():
        return fit(model, loss, optimizer, X, y, epochs=1, batch_size=batch, progress=False, rng=rng)
    return epoch


def torch_epoch(net, loss: str, X, y, batch: int, seed: int = 0):
    """A function running one epoch of the usual PyTorch loop with Adam (same bookkeeping as fit)."""
    import torch

    Xt = torch.from_numpy(X)
    if loss == "bce_logits":
        yt, loss_fn = torch.from_numpy(y), torch.nn.BCEWithLogitsLoss()
    else:
        yt, loss_fn = torch.from_numpy(y), torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    N = Xt.shape[0]

    def epoch():
        loss_sum = correct = 0.0
        order = torch.randperm(N, generator=g)
        for start in range(0, N, batch):
            idx = order[start:start + batch]
            xb, yb = Xt[idx], yt[idx]
            optimizer.zero_grad()
            out = net(xb)
            value = loss_fn(out, yb)
            value.backward()
            optimizer.step()
            loss_sum += value.item() * len(idx)
            with torch.no_grad():
                pred = (out > 0).to(yb.dtype) if out.shape[1] == 1 else out.argmax(dim=1)
                correct += (pred == yb).sum().item()
        return loss_sum / N, correct / N
    return epoch


def worker(name: str, side: str, threads: int, epochs: int, quick: bool) -> dict:
    """In a process of its own: one warm-up epoch, then ``epochs`` timed ones (wall and CPU seconds)."""
    if side == "torch":
        import torch

        torch.set_num_threads(threads)
    dims, batch, data, n, loss, _ = (QUICK_SIZES if quick else SIZES)[name]
    X, y = make_data(data, n, dims)
    model = bptutor_model(dims)
    epoch = (torch_epoch(torch_twin(model), loss, X, y, batch) if side == "torch"
             else bptutor_epoch(model, loss, X, y, batch))
    return time_calls(epoch, epochs, warmup=1)


def run(quick: bool = False) -> list:
    sizes = QUICK_SIZES if quick else SIZES
    have_torch = installed("torch")
    ref = ""
    if have_torch:
        from importlib.metadata import version

        ref = f"PyTorch {version('torch')}"
    rows = []
    for threads in thread_settings(quick):
        for name, (dims, batch, data, n, _, epochs) in sizes.items():
            figure = (f"epoch, {name} {'-'.join(map(str, dims))} ({data}, {n} rows, batch {batch}), "
                      f"{threads} thread{'s' if threads > 1 else ''}")
            rounds = 1 if quick else 3
            sides = ["bptutor", "torch"] if have_torch else ["bptutor"]
            times = alternating_workers(__file__, worker, [name], sides, threads, rounds, epochs, quick)
            ms = {side: 1e3 * median(t["wall"]) for side, t in times.items()}
            cpu = {side: 1e3 * median(t["cpu"]) for side, t in times.items()}
            extra = dict(threads=threads, cpu_ms=cpu, epochs=len(times["bptutor"]["wall"]))
            if not have_torch:
                rows.append(skipped(SECTION, figure, "PyTorch is not installed", "ms", ms["bptutor"], **extra))
                continue
            note = (f"float32, Adam lr 1e-3, {threads} thread{'s' if threads > 1 else ''} each (numpy's BLAS "
                    f"and torch.set_num_threads); {rounds} rounds x {epochs} epochs per side; bptutor "
                    f"{spread([1e3 * t for t in times['bptutor']['wall']])} ms; CPU-time ratio "
                    f"{cpu['bptutor'] / cpu['torch']:.2f}")
            rows.append(row(SECTION, figure, "ms", ms["bptutor"], ms["torch"], reference_name=ref,
                            target_of="ratio", target_max=1.0, target_text="<= 1.0", note=note, **extra))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        name, side, threads, epochs = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(worker(name, side, threads, epochs, "--quick" in sys.argv)))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=1))
