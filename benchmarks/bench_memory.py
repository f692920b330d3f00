"""7. Memory: peak resident memory of the digits training and of the notebook run.

Digits: a fresh interpreter imports bptutor, loads the digits and trains
64-128-10 (ReLU, Adam, batch 64) for 30 epochs with ``fit``; its peak
resident set is the figure (``VmHWM`` of ``/proc/self/status``; ``getrusage``'s
``ru_maxrss`` where there is no /proc, see ``_common.peak_rss_mib``). A second
interpreter that only imports bptutor and loads the digits gives the
baseline, so the difference is what training adds.

Notebooks: the largest peak of the kernels that ran the notebooks in
:mod:`bench_notebooks` (each kernel's ``VmHWM``, read after its last cell),
and which notebook it was.

There is no target for memory; these rows only report.
"""
from __future__ import annotations

import json
import sys

from _common import in_worker, peak_rss_mib, row, rusage_peak_mib, skipped

SECTION = "7 memory"


def worker(what: str, quick: bool) -> dict:
    from bptutor.activations import ReLU
    from bptutor.datasets import load_digits
    from bptutor.layers import Linear, Sequential
    from bptutor.optim import Adam
    from bptutor.training import fit

    X, y = load_digits()
    X = X / 16.0
    if what == "digits":
        hidden, epochs = (16, 1) if quick else (128, 30)
        model = Sequential(Linear(64, hidden, rng=0), ReLU(), Linear(hidden, 10, rng=1))
        fit(model, "cross_entropy", Adam(model.parameters(), lr=1e-3), X, y, epochs=epochs, batch_size=64,
            progress=False, rng=0)
    peak = peak_rss_mib()
    return {"peak_mib": rusage_peak_mib() if peak is None else peak}


def run(quick: bool = False, notebook_rows: list | None = None) -> list:
    peaks = {what: in_worker(__file__, [what] + (["--quick"] if quick else []), 1)["peak_mib"]
             for what in ("baseline", "digits")}
    rows = [row(SECTION, f"peak RSS, digits training 64-{16 if quick else 128}-10, "
                         f"{1 if quick else 30} epochs (fresh interpreter)", "MiB", peaks["digits"],
                note=f"the same interpreter, imports and data without training: {peaks['baseline']:.0f} MiB; "
                     f"training adds {peaks['digits'] - peaks['baseline']:.1f} MiB",
                baseline_mib=peaks["baseline"])]
    runs = [r for r in (notebook_rows or []) if "kernel_peak_mib" in r]
    if not runs:
        rows.append(skipped(SECTION, "peak RSS, notebook run", "the notebooks were not run"))
        return rows
    top = max(runs, key=lambda r: r["kernel_peak_mib"])
    rows.append(row(SECTION, f"peak RSS, notebook run ({len(runs)} kernels, one at a time)", "MiB",
                    top["kernel_peak_mib"],
                    note=f"the largest kernel: {top['notebook']}; per notebook in results.json",
                    per_notebook={r["notebook"]: r["kernel_peak_mib"] for r in runs}))
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(sys.argv[2], "--quick" in sys.argv)))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=1))
