"""9. The RNN layer against PyTorch's nn.RNN on the CPU: one forward pass and BPTT.

Both sides run one tanh recurrent layer (float32, PyTorch's default dtype) from
the same weights (bptutor's ``W_xh`` copied into ``weight_ih_l0.T``, ``W_hh``
into ``weight_hh_l0.T``, both PyTorch biases 0, as bptutor's ``b`` starts) on
the same sequences, with a gradient at every hidden state:

* bptutor: ``rnn.zero_grad(); rnn.forward(X); rnn.backward(dH)``, which fills
  ``W_xh.grad``, ``W_hh.grad``, ``b.grad`` and returns ``dX``. The input
  product ``X W_xh`` is one product for all steps, and so are ``dW_xh``,
  ``dW_hh`` and ``dX``; only the recursion through ``W_hh`` loops over time;
* PyTorch: ``net.zero_grad(); net(X)[0].backward(dH)`` with ``X.requires_grad``,
  so that it computes ``dX`` too.

Size: N=32 sequences of T=50 steps, D=16 inputs, H=64 units (issue 15).

Threads: as many threads as numpy's BLAS uses (``torch.set_num_threads`` set to
the same number) and one thread each. Each side runs in a process of its own,
the two alternating, three rounds (see bench_mlp.py for why).
"""
from __future__ import annotations

import json
import sys

import numpy as np

from _common import alternating_workers, installed, median, row, skipped, spread, thread_settings, time_calls

SECTION = "9 RNN vs PyTorch"
TARGET = 1.5
#: (N, T, D, H, timed calls per round)
SIZE = (32, 50, 16, 64, 200)
QUICK_SIZE = (4, 5, 3, 6, 3)


def make_case(N: int, T: int, D: int, H: int, dtype=np.float32):
    """The layer, the sequences and a gradient at every hidden state, seeded."""
    from bptutor.recurrent import RNN

    rng = np.random.default_rng(0)
    rnn = RNN(D, H, rng=0, dtype=dtype)
    X = rng.standard_normal((N, T, D)).astype(dtype)
    dH = rng.standard_normal((N, T, H)).astype(dtype)
    return rnn, X, dH


def bptutor_step(rnn, X, dH):
    def step():
        rnn.zero_grad()
        rnn.forward(X)
        return rnn.backward(dH)
    return step


def torch_twin(rnn):
    """nn.RNN with ``rnn``'s weights: weight_ih = W_xh.T, weight_hh = W_hh.T, bias_ih = b, bias_hh = 0."""
    import torch

    dtype = torch.from_numpy(rnn.W_xh.data).dtype
    net = torch.nn.RNN(rnn.input_size, rnn.hidden_size, batch_first=True, dtype=dtype)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(rnn.W_xh.data.T.copy()))
        net.weight_hh_l0.copy_(torch.from_numpy(rnn.W_hh.data.T.copy()))
        net.bias_ih_l0.copy_(torch.from_numpy(rnn.b.data.copy()))
        net.bias_hh_l0.zero_()
    return net


def torch_step(rnn, X, dH):
    import torch

    net = torch_twin(rnn)
    Xt = torch.from_numpy(X).requires_grad_(True)
    dHt = torch.from_numpy(dH)

    def step():
        net.zero_grad()
        Xt.grad = None
        net(Xt)[0].backward(dHt)
        return Xt.grad
    return step


def worker(side: str, threads: int, calls: int, quick: bool) -> dict:
    """In a process of its own: warm-up calls, then ``calls`` timed ones (wall and CPU seconds)."""
    if side == "torch":
        import torch

        torch.set_num_threads(threads)
    N, T, D, H, _ = QUICK_SIZE if quick else SIZE
    rnn, X, dH = make_case(N, T, D, H)
    step = torch_step(rnn, X, dH) if side == "torch" else bptutor_step(rnn, X, dH)
    return time_calls(step, calls, warmup=5)


def agree(quick: bool) -> float | None:
    """Largest difference between the two sides' dX and weight gradients in float64 (None without torch)."""
    if not installed("torch"):
        return None
    import torch

    N, T, D, H, _ = QUICK_SIZE if quick else SIZE
    rnn, X, dH = make_case(N, T, D, H, dtype=np.float64)
    rnn.forward(X)
    dX = rnn.backward(dH)
    net = torch_twin(rnn)
    Xt = torch.from_numpy(X).requires_grad_(True)
    net(Xt)[0].backward(torch.from_numpy(dH))
    return float(max(np.abs(dX - Xt.grad.numpy()).max(),
                     np.abs(rnn.W_xh.grad - net.weight_ih_l0.grad.numpy().T).max(),
                     np.abs(rnn.W_hh.grad - net.weight_hh_l0.grad.numpy().T).max(),
                     np.abs(rnn.b.grad - net.bias_ih_l0.grad.numpy()).max()))


def run(quick: bool = False) -> list:
    N, T, D, H, calls = QUICK_SIZE if quick else SIZE
    have_torch = installed("torch")
    ref = ""
    if have_torch:
        from importlib.metadata import version

        ref = f"PyTorch {version('torch')}"
    diff = agree(quick)
    rows = []
    for threads in thread_settings(quick):
        each = f"{threads} thread{'s' if threads > 1 else ''}"
        figure = f"RNN forward+BPTT, N={N}, T={T}, D={D}, H={H}, tanh, {each}"
        rounds = 1 if quick else 3
        sides = ["bptutor", "torch"] if have_torch else ["bptutor"]
        times = alternating_workers(__file__, worker, [], sides, threads, rounds, calls, quick)
        ms = {side: 1e3 * median(t["wall"]) for side, t in times.items()}
        cpu = {side: 1e3 * median(t["cpu"]) for side, t in times.items()}
        extra = dict(threads=threads, cpu_ms=cpu, calls=len(times["bptutor"]["wall"]))
        if not have_torch:
            rows.append(skipped(SECTION, figure, "PyTorch is not installed", "ms", ms["bptutor"], **extra))
            continue
        note = (f"float32, dX included on both sides; {each} each; {rounds} rounds x {calls} calls per side; "
                f"bptutor {spread([1e3 * t for t in times['bptutor']['wall']])} ms; CPU-time ratio "
                f"{cpu['bptutor'] / cpu['torch']:.2f}; float64 gradients agree to {diff:.1e}")
        rows.append(row(SECTION, figure, "ms", ms["bptutor"], ms["torch"], reference_name=ref,
                        target_of="ratio", target_max=TARGET, target_text=f"<= {TARGET:.1f}", note=note, **extra))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        side, threads, calls = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(worker(side, threads, calls, "--quick" in sys.argv)))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=1))
