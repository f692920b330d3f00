"""1. The scalar engine against micrograd: a training step, and backward() on long chains.

Training step: micrograd's own demo step (forward over every point, the
max-margin loss plus an L2 penalty, zero_grad, backward, SGD update) for
``MLP(2, [16, 16, 1])`` with ReLU on 100 two-moons points. The three models
start from the same weights (micrograd's are copied from bptutor's), and the
step is the same code with either library's ``Value``:

* bptutor as it is: a neuron's weighted sum is one ``linear`` node;
* bptutor with micrograd's graph: the sum built from plain ``*`` and ``+``
  Values, as micrograd does (no fused node), to show the engine alone;
* micrograd 0.1.0.

The first step's losses are compared: the benchmark refuses to time models
that do not compute the same thing.

Chains: ``v = v + x`` repeated n times (n + 1 nodes), then ``backward()``
timed on the built graph. micrograd sorts its graph recursively, so a chain
deeper than the recursion limit (1000 by default) raises RecursionError; it
is timed with the limit raised above the chain length.
"""
from __future__ import annotations

import math
import sys

from _common import alternate, installed, median, row, skipped, spread

SECTION = "1 engine"


# --- training step -------------------------------------------------------------------------------
def _plain_forward(model, x: list, Value):
    """bptutor's MLP evaluated with micrograd's neuron: ``sum(w_i * x_i, b)`` from * and + nodes."""
    last = len(model.layers) - 1
    for i, layer in enumerate(model.layers):
        x = [sum((wi * xi for wi, xi in zip(n.w, x)), n.b) for n in layer.neurons]
        if i < last:
            x = [v.relu() for v in x]
    return x[0]


def _step(params, forward, Value, X: list, y: list, lr: float = 0.05, alpha: float = 1e-4) -> float:
    """micrograd's demo step: hinge loss + L2 penalty, zero_grad, backward, SGD. Returns the loss."""
    inputs = [[Value(v) for v in row_] for row_ in X]
    scores = [forward(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in params)
    loss = data_loss + reg_loss
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= lr * p.grad
    return loss.data


def bench_step(n_points: int, sizes: list, repeats: int) -> list:
    from bptutor.datasets import make_moons
    from bptutor.engine import Value
    from bptutor.scalar_nn import MLP

    X, y = make_moons(n_points, noise=0.1, rng=0)
    X, y = X.tolist(), [2 * int(t) - 1 for t in y]  # labels -1/+1 for the max-margin loss
    fused = MLP(2, sizes, activation="relu", rng=0)
    plain = MLP(2, sizes, activation="relu", rng=0)  # same seed, same weights
    sides = {
        "bptutor": (fused.parameters(), lambda x: fused(x)[0], Value),
        "bptutor plain": (plain.parameters(), lambda x: _plain_forward(plain, x, Value), Value),
    }
    have_micrograd = installed("micrograd")
    if have_micrograd:
        from micrograd.engine import Value as MValue
        from micrograd.nn import MLP as MMLP

        mg = MMLP(2, list(sizes))
        for p, q in zip(mg.parameters(), fused.parameters(), strict=True):
            p.data = q.data
        sides["micrograd"] = (mg.parameters(), mg, MValue)
    first = {name: _step(*side, X, y) for name, side in sides.items()}
    if max(first.values()) - min(first.values()) > 1e-9 * max(1.0, abs(first["bptutor"])):
        raise RuntimeError(f"the three engines disagree on the first step's loss: {first}")
    times = alternate({name: (lambda s=side: _step(*s, X, y)) for name, side in sides.items()},
                      repeats=repeats, warmup=1)
    ms = {name: 1e3 * median(t) for name, t in times.items()}
    figure = f"training step, MLP(2, {sizes}) on {n_points} moons"
    common = dict(reference_name="micrograd 0.1.0", target_of="ratio", target_max=0.2,
                  target_text="<= 0.20 (5x faster)", repeats=repeats)
    if not have_micrograd:
        why = "micrograd is not installed"
        return [skipped(SECTION, figure + " (bptutor: fused linear node)", why, "ms", ms["bptutor"]),
                skipped(SECTION, figure + " (bptutor: plain * and + graph, no fused node)", why, "ms",
                        ms["bptutor plain"])]
    same = f"same first-step loss {first['bptutor']:.6f} in all three"
    return [
        row(SECTION, figure + " (bptutor: fused linear node)", "ms", ms["bptutor"], ms["micrograd"],
            note=f"{same}; bptutor {spread([1e3 * t for t in times['bptutor']])} ms", **common),
        row(SECTION, figure + " (bptutor: plain * and + graph, no fused node)", "ms",
            ms["bptutor plain"], ms["micrograd"],
            note=f"the engine alone: micrograd's graph built from bptutor Values; "
                 f"{spread([1e3 * t for t in times['bptutor plain']])} ms", **common),
    ]


# --- chains --------------------------------------------------------------------------------------
def _chain(Value, n: int):
    """``x + x + ... + x`` built as ``v = v + x`` n times: n + 1 nodes, depth n. Returns (x, out)."""
    x = Value(1.0)
    v = x
    for _ in range(n):
        v = v + x
    return x, v


def bench_chains(lengths: list, repeats_for) -> list:
    from bptutor.engine import Value

    have_micrograd = installed("micrograd")
    if have_micrograd:
        from micrograd.engine import Value as MValue
    rows, per_node = [], []
    for n in lengths:
        repeats = repeats_for(n)
        graphs = {"bptutor": _chain(Value, n)}
        if have_micrograd:
            graphs["micrograd"] = _chain(MValue, n)
        limit = sys.getrecursionlimit()
        try:
            # micrograd's build_topo recurses once per node of depth
            sys.setrecursionlimit(max(limit, n + 1000))
            times = alternate({name: out.backward for name, (_, out) in graphs.items()},
                              repeats=repeats, warmup=1)
        finally:
            sys.setrecursionlimit(limit)
        x = graphs["bptutor"][0]
        if x.grad != (repeats + 1) * (n + 1):  # each call adds d out / d x = n + 1
            raise RuntimeError(f"bptutor chain of {n}: x.grad = {x.grad}, expected {(repeats + 1) * (n + 1)}")
        ms = {name: 1e3 * median(t) for name, t in times.items()}
        per_node.append((n, ms["bptutor"]))
        note = f"{1e6 * ms['bptutor'] / 1e3 / (n + 1):.2f} us per node; {repeats} repeats"
        if have_micrograd and n + 1 >= limit:
            note += f"; micrograd needs sys.setrecursionlimit > {n} (at the default {limit} it raises RecursionError)"
        rows.append(row(SECTION, f"backward(), chain of 10^{round(math.log10(n))} nodes", "ms",
                        ms["bptutor"], ms.get("micrograd"), reference_name="micrograd 0.1.0" if have_micrograd else "",
                        note=note, nodes=n + 1))
        del graphs
    if len(per_node) >= 2:
        # least-squares slope of log(time) against log(n): 1 is linear
        xs = [math.log(n) for n, _ in per_node]
        ys = [math.log(t) for _, t in per_node]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / sum((a - mx) ** 2 for a in xs)
        lo, hi = per_node[0][0], per_node[-1][0]
        rows.append(row(SECTION, f"backward() scaling exponent, chains 10^{round(math.log10(lo))}"
                                 f" to 10^{round(math.log10(hi))} nodes", "", slope,
                        target_of="bptutor", target_max=1.15, target_text="<= 1.15 (linear)",
                        note="slope of log(time) on log(nodes): 1 is linear, 2 quadratic"))
    return rows


def run(quick: bool = False) -> list:
    if quick:
        return bench_step(10, [4, 4, 1], repeats=2) + bench_chains([100, 1000], lambda n: 2)
    rows = bench_step(100, [16, 16, 1], repeats=15)
    rows += bench_chains([10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6],
                         lambda n: {10 ** 3: 41, 10 ** 4: 21, 10 ** 5: 7}.get(n, 3))
    return rows


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=1))
