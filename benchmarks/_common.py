"""What the benchmark modules share: one row of the table, alternating timers, thread counts.

Every comparison returns a list of rows (plain dicts, so they go to JSON as
they are) made by :func:`row`. A row's ``ratio`` is always bptutor divided by
the reference, so smaller is better for bptutor; its ``target`` names the
column it bounds (``"ratio"`` or ``"bptutor"``) and the bound, and
:func:`row` decides ``met`` from them.

Timings on a shared machine are noisy, so every figure is a median over
repeats taken after a warm-up, and two sides of a comparison run in turn
(A B, B A, A B, ...) in one process, so that a neighbour's load falls on both.
"""
from __future__ import annotations

import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Callable


def row(section: str, figure: str, unit: str, bptutor, reference=None, *, reference_name: str = "",
        target_of: str | None = None, target_max: float | None = None, target_text: str = "",
        note: str = "", **extra) -> dict:
    """One line of the table.

    Args:
        section: the issue's item, e.g. ``"1 engine"``.
        figure: what was measured, in words.
        unit: unit of ``bptutor`` and ``reference`` (``"ms"``, ``"s"``, ``"MiB"``).
        bptutor: bptutor's figure, or None when it was not measured.
        reference: the reference's figure, or None (no reference, or it is not installed).
        reference_name: e.g. ``"micrograd 0.1.0"``.
        target_of: ``"ratio"`` or ``"bptutor"``: the column the target bounds; None for no target.
        target_max: the bound: the target is met when that column is at most this.
        target_text: the target as shown in the table, e.g. ``"<= 0.20 (5x faster)"``.
        note: anything a reader needs to interpret the figure.
        **extra: more fields kept in results.json (e.g. raw medians, repeats).
    """
    ratio = None
    if bptutor is not None and reference not in (None, 0):
        ratio = bptutor / reference
    met = None
    if target_of is not None:
        value = ratio if target_of == "ratio" else bptutor
        met = None if value is None else bool(value <= target_max)
    return {"section": section, "figure": figure, "unit": unit, "bptutor": bptutor,
            "reference": reference, "reference_name": reference_name, "ratio": ratio,
            "target": {"of": target_of, "max": target_max, "text": target_text} if target_of else None,
            "met": met, "note": note, **extra}


def skipped(section: str, figure: str, why: str, unit: str = "", bptutor=None, **extra) -> dict:
    """A row for a comparison that could not run (its reference is not installed, say).

    ``bptutor`` may still hold bptutor's own figure, measured without the reference.
    """
    out = row(section, figure, unit, bptutor, note=f"skipped: {why}", **extra)
    out["skipped"] = True
    return out


def installed(module: str) -> bool:
    """True when ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # e.g. a parent package that fails to import
        return False


def alternate(funcs: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Seconds per call of each function, the functions called in turn.

    Each round calls every function once; the order is reversed every other
    round (A B, B A, ...), so neither side always runs right after the other.
    ``warmup`` rounds come first and are not timed. The garbage collector
    stays on, as in a notebook.

    Returns:
        ``{name: [seconds, ...]}``, ``repeats`` timings per function.
    """
    names = list(funcs)
    for _ in range(warmup):
        for name in names:
            funcs[name]()
    times = {name: [] for name in names}
    for r in range(repeats):
        for name in (names if r % 2 == 0 else names[::-1]):
            gc.collect()  # garbage of the other side's call is not charged to this one
            start = time.perf_counter()
            funcs[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """``"IQR a-b"`` of ``values`` (in the same unit), for notes."""
    if len(values) < 4:
        return f"range {min(values):.3g}-{max(values):.3g}"
    q = statistics.quantiles(values, n=4)
    return f"IQR {q[0]:.3g}-{q[2]:.3g}"


def blas_threads() -> int:
    """Threads numpy's BLAS uses (threadpoolctl when installed, else the CPU count)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    import numpy  # noqa: F401  (loads the BLAS so threadpoolctl can see it)
    counts = [info["num_threads"] for info in threadpool_info()
              if info.get("user_api") == "blas" and "numpy" in info.get("filepath", "")]
    return counts[0] if counts else (os.cpu_count() or 1)


def thread_env(threads: int) -> dict:
    """The environment with numpy's BLAS (and OpenMP, MKL) limited to ``threads`` threads."""
    n = str(threads)
    return dict(os.environ, OPENBLAS_NUM_THREADS=n, OMP_NUM_THREADS=n, MKL_NUM_THREADS=n)


def in_worker(script: str, args: list, threads: int):
    """Run ``python script --worker *args`` with ``threads`` BLAS threads; return the JSON of its last line.

    The thread count of numpy's BLAS is fixed when numpy loads, so each
    setting needs a process of its own.
    """
    out = subprocess.run([sys.executable, script, "--worker", *map(str, args)], env=thread_env(threads),
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def time_calls(step: Callable[[], object], calls: int, warmup: int = 1) -> dict:
    """Call ``step`` ``warmup`` times untimed, then ``calls`` times; wall and CPU seconds of each timed call."""
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    for _ in range(calls):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"wall": wall, "cpu": cpu}


def alternating_workers(script: str, worker: Callable[..., dict], args: list, sides: list, threads: int,
                        rounds: int, calls: int, quick: bool) -> dict:
    """Timings of each side: ``rounds`` rounds, the order of the sides alternating, each side in a
    process of its own (``python script --worker *args side threads calls``).

    A process per side keeps PyTorch's OpenMP threads and numpy's OpenBLAS
    threads from waiting on each other, which in one process on two busy cores
    made either side up to ten times slower than alone. With ``quick`` (the
    smoke test) ``worker(*args, side, threads, calls, quick)`` runs in this
    process: the same code without the interpreter start-up.
    """
    times = {side: {"wall": [], "cpu": []} for side in sides}
    for r in range(rounds):
        for side in (sides if r % 2 == 0 else sides[::-1]):
            result = (worker(*args, side, threads, calls, quick) if quick
                      else in_worker(script, [*args, side, threads, calls], threads))
            for key in ("wall", "cpu"):
                times[side][key] += result[key]
    return times


def thread_settings(quick: bool) -> list:
    """The BLAS thread counts to measure: numpy's default and 1 (only 1 in quick mode)."""
    return [1] if quick else sorted({blas_threads(), 1}, reverse=True)


def peak_rss_mib(pid: int | str = "self") -> float | None:
    """Peak resident memory of a process in MiB: ``VmHWM`` from ``/proc/PID/status`` (Linux), else None.

    Why not ``getrusage``: its ``ru_maxrss`` survives ``execve``, so a process
    started by a large one (run.py holding PyTorch, or Jupyter's driver
    starting a kernel) reports at least its parent's size. ``VmHWM`` belongs to
    the process's own memory map, which ``execve`` replaces.
    """
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        return None
    return None


def rusage_peak_mib(who: str = "self") -> float:
    """``getrusage(...).ru_maxrss`` in MiB (KiB on Linux), the fallback of :func:`peak_rss_mib`."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN)
    return usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
