"""Latency of the explorers: from a control change to the new figure, at default settings.

    python benchmarks/bench_widgets.py [--repeats 15] [--budget-ms 250]

For each explorer of ``bptutor.widgets``: build it with its defaults, warm up
(caches, first draws), then move one control back and forth ``--repeats``
times and time each change. Setting ``control.value`` runs the whole update
synchronously (compute, draw, PNG into the Output), exactly what a learner
waits for after letting go of a slider.

Prints the median wall time, its 90th percentile and the median CPU time of
the process. On an idle machine the two agree; on a shared one the wall time
also counts the neighbours, so the budget is checked on the CPU time. Exits
with status 1 when a median CPU time exceeds the budget.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from bptutor import widgets

#: explorer builder, control moved, the two values it alternates between.
CASES = [
    (widgets.explore_learning_rate, "lr", (0.1, 0.05)),
    (widgets.explore_optimizers, "lr", (0.05, 0.03)),
    (widgets.explore_momentum_map, "momentum", (0.67, 0.5)),
    (widgets.explore_activation, "x", (0.0, 1.0)),
    (widgets.explore_loss, "p", (0.3, 0.1)),
    (widgets.explore_regularization, "penalty", ("none", "L2")),
    (widgets.explore_backward, "step", (0, 1)),
]


def measure(builder, name: str, values: tuple, repeats: int,
            warmup: int = 3) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds per change of control ``name`` between ``values``, after ``warmup``."""
    explorer = builder()
    control = explorer.controls[name]
    wall, cpu = [], []
    for i in range(warmup + repeats):
        value = values[(i + 1) % 2]
        start, start_cpu = time.perf_counter(), time.process_time()
        control.value = value
        elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        if explorer.state["kind"] == "error":
            raise RuntimeError(f"{builder.__name__}: {explorer.state['message']}")
        if i >= warmup:
            wall.append(elapsed)
            cpu.append(elapsed_cpu)
    return wall, cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--budget-ms", type=float, default=250.0)
    args = parser.parse_args(argv)
    print(f"{'explorer':<26}{'control':<10}{'wall median ms':>15}{'wall p90 ms':>12}"
          f"{'cpu median ms':>14}")
    slow = []
    for builder, name, values in CASES:
        wall, cpu = measure(builder, name, values, args.repeats)
        wall.sort()
        median, cpu_median = 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu)
        p90 = 1e3 * wall[min(len(wall) - 1, int(0.9 * len(wall)))]
        print(f"{builder.__name__:<26}{name:<10}{median:>15.0f}{p90:>12.0f}{cpu_median:>14.0f}")
        if cpu_median > args.budget_ms:
            slow.append(builder.__name__)
    if slow:
        print(f"over the {args.budget_ms:g} ms budget: {', '.join(slow)}")
        return 1
    print(f"every median is within the {args.budget_ms:g} ms budget")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
