"""Run every benchmark, print the table and write it to benchmarks/results.json.

    python benchmarks/run.py                 # everything (several minutes)
    python benchmarks/run.py --quick         # tiny sizes: checks that the code runs, no figures worth keeping
    python benchmarks/run.py --only engine,mlp

``make bench`` installs the references (micrograd 0.1.0, scikit-learn, PyTorch
2.13.0 CPU) and runs this. A part whose reference is not installed still runs
bptutor's side where it can and reports the comparison as skipped.

Each row of the table gives bptutor's figure, the reference's, their ratio
(bptutor / reference: below 1 means bptutor is faster), the target and
whether it is met. Timings are medians over repeats after a warm-up, the two
sides alternating; see each ``bench_*.py`` for exactly what is timed. On a
machine shared with other work the figures move from run to run: the
environment block of results.json records the load average before and after.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import blas_threads, installed, row, skipped  # noqa: E402

PARTS = ["engine", "mlp", "bound", "sklearn", "notebooks", "widgets", "memory", "conv", "rnn", "norm"]


def widget_rows(quick: bool) -> list:
    """6. Widget latency, measured by the widgets' own benchmark (benchmarks/bench_widgets.py)."""
    section = "6 widget latency"
    if not installed("ipywidgets"):
        return [skipped(section, "widgets", "ipywidgets is not installed")]
    import bench_widgets

    repeats = 1 if quick else 15
    rows = []
    for builder, control, values in bench_widgets.CASES:
        wall, cpu = bench_widgets.measure(builder, control, values, repeats, warmup=0 if quick else 3)
        wall = sorted(1e3 * t for t in wall)
        cpu_ms = 1e3 * sorted(cpu)[len(cpu) // 2]
        p90 = wall[min(len(wall) - 1, int(0.9 * len(wall)))]
        rows.append(row(section, f"{builder.__name__}: change {control!r} to new figure", "ms (CPU)", cpu_ms,
                        target_of="bptutor", target_max=250.0, target_text="<= 250 ms",
                        note=f"median over {repeats} changes; wall median {wall[len(wall) // 2]:.0f} ms, "
                             f"p90 {p90:.0f} ms (wall also counts the neighbours on a shared machine)",
                        wall_ms=wall))
    return rows


def run_part(name: str, quick: bool, done: list) -> list:
    if name == "engine":
        import bench_engine
        return bench_engine.run(quick)
    if name == "mlp":
        import bench_mlp
        return bench_mlp.run(quick)
    if name == "bound":
        import bench_bound
        return bench_bound.run(quick)
    if name == "sklearn":
        import bench_sklearn
        return bench_sklearn.run(quick)
    if name == "notebooks":
        import bench_notebooks
        return bench_notebooks.run(quick)
    if name == "widgets":
        return widget_rows(quick)
    if name == "conv":
        import bench_conv
        return bench_conv.run(quick)
    if name == "rnn":
        import bench_rnn
        return bench_rnn.run(quick)
    if name == "memory":
        import bench_memory
        return bench_memory.run(quick, notebook_rows=[r for r in done if r["section"].startswith("5 ")])
    if name == "norm":
        import bench_norm
        return bench_norm.run(quick)
    raise ValueError(f"unknown part {name!r}; expected one of {PARTS}")


def environment(quick: bool) -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    versions = {}
    for dist in ("numpy", "torch", "scikit-learn", "micrograd"):
        try:
            from importlib.metadata import version
            versions[dist] = version(dist)
        except Exception:  # not installed
            versions[dist] = None
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": quick, "commit": commit,
            "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "blas_threads": blas_threads(), "versions": versions,
            "load_average_before": os.getloadavg()}


def _number(value, unit: str = "") -> str:
    if value is None:
        return "-"
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def table(rows: list) -> str:
    """The rows as a Markdown table (figure, bptutor, reference, ratio, target, met?)."""
    header = ["figure", "bptutor", "reference", "ratio", "target", "met?"]
    lines = []
    for r in rows:
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        if r.get("skipped"):
            met = "skipped"
        lines.append([f"{r['section'].split()[0]}. {r['figure']}", _number(r["bptutor"], r["unit"]),
                      _number(r["reference"], r["unit"]) + (f" ({r['reference_name']})" if r["reference"] else ""),
                      "-" if r["ratio"] is None else f"{r['ratio']:.3g}",
                      r["target"]["text"] if r["target"] else "-", met])
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines)]
    fmt = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
    out = [fmt.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that the code runs")
    parser.add_argument("--only", default="", help=f"comma-separated parts, from {','.join(PARTS)}")
    parser.add_argument("--out", default=None,
                        help="where to write the JSON (default: benchmarks/results.json; with --quick: nowhere)")
    args = parser.parse_args(argv)
    parts = [p for p in args.only.split(",") if p] or PARTS
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {unknown}; expected some of {PARTS}")
    out = args.out if args.out is not None else (None if args.quick else str(HERE / "results.json"))

    env = environment(args.quick)
    rows, failed = [], []
    for name in [p for p in PARTS if p in parts]:  # memory comes after the notebooks it reads
        start = time.perf_counter()
        print(f"[{name}] running ...", file=sys.stderr, flush=True)
        try:
            new = run_part(name, args.quick, rows)
        except Exception as exc:
            traceback.print_exc()
            failed.append(name)
            new = [row(f"{PARTS.index(name) + 1} {name}", name, "", None, note=f"ERROR: {exc!r}"[:300])]
            new[0]["error"] = True
        rows += new
        print(f"[{name}] {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    env["load_average_after"] = os.getloadavg()
    text = table(rows)
    print(f"\nbptutor benchmarks, {env['date']}, Python {env['python']}, {env['cpus']} CPUs, "
          f"numpy BLAS threads {env['blas_threads']}, load average {env['load_average_before'][0]:.1f} "
          f"before, {env['load_average_after'][0]:.1f} after{' (QUICK: tiny sizes)' if args.quick else ''}\n")
    print(text)
    missed = [r["figure"] for r in rows if r["met"] is False]
    print(f"\n{sum(r['met'] is True for r in rows)} targets met, {len(missed)} missed"
          + (f", parts that failed to run: {', '.join(failed)}" if failed else ""))
    if out:
        Path(out).write_text(json.dumps({"environment": env, "rows": rows, "table": text}, indent=1) + "\n")
        print(f"written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
