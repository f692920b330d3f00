"""5. Course run time: each notebook executed from a fresh kernel, and all of them in a row.

Each notebook in ``notebooks/`` is executed top to bottom by nbclient in a
kernel of its own, started for it and shut down after it, in a process of
its own (so that its peak memory can be read, see :mod:`bench_memory`). The
time runs from the kernel's start to its shutdown: what a learner waits for
after "Restart kernel and run all cells". "All" is the sum over the
notebooks, run one after the other.

Each worker also reports the kernel's peak resident memory: its ``VmHWM``
(``/proc/PID/status``) read after every cell, or, without /proc,
``getrusage(RUSAGE_CHILDREN)`` once the kernel has exited.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from _common import installed, peak_rss_mib, row, rusage_peak_mib, skipped

SECTION = "5 course run time"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(path: Path, timeout: int = 600) -> dict:
    """Run one notebook in a fresh kernel; seconds, error (or None) and peak memory in MiB."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    peaks = []

    def kernel_peak(**_):  # after each cell: the kernel's high-water mark so far
        provisioner = getattr(client.km, "provisioner", None)
        pid = getattr(getattr(provisioner, "process", None), "pid", None)
        if pid is not None:
            peaks.append(peak_rss_mib(pid))

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}, on_cell_executed=kernel_peak)
    error = None
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # a failing cell: report it, the time until then still counts
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"[:300]
    seconds = time.perf_counter() - start
    peaks = [p for p in peaks if p is not None]
    # Without /proc: getrusage, which also counts this driver's size when it started the kernel.
    kernel = max(peaks) if peaks else rusage_peak_mib("children")
    return {"seconds": seconds, "error": error, "kernel_peak_mib": kernel,
            "kernel_peak_source": "VmHWM" if peaks else "RUSAGE_CHILDREN"}


def in_process(path: Path) -> dict:
    """:func:`execute` in a new interpreter, so RUSAGE_CHILDREN sees this notebook's kernel only."""
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--worker", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _tiny_notebook(folder: Path) -> Path:
    """A one-cell notebook for the smoke test."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("import bptutor\nprint(bptutor.__name__)"))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def run(quick: bool = False) -> list:
    if not (installed("nbclient") and installed("ipykernel") and installed("nbformat")):
        return [skipped(SECTION, "notebooks", "nbclient, nbformat or ipykernel is not installed")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = [_tiny_notebook(Path(tmp))] if quick else sorted(NOTEBOOKS.glob("*.ipynb"))
        results = {}
        for path in paths:
            # quick (the smoke test): in this process, which saves an interpreter start-up
            results[path.name] = result = execute(path) if quick else in_process(path)
            note = f"kernel peak {result['kernel_peak_mib']:.0f} MiB"
            if result["error"]:
                note = f"FAILED ({result['error']}); " + note
            rows.append(row(SECTION, f"notebook {path.name}", "s", result["seconds"],
                            target_of="bptutor", target_max=30.0, target_text="< 30 s", note=note,
                            notebook=path.name, error=result["error"],
                            kernel_peak_mib=result["kernel_peak_mib"]))
            if result["error"]:
                rows[-1]["met"] = False  # a notebook that does not run through misses its target
    if not results:
        return [skipped(SECTION, "notebooks", f"no notebooks in {NOTEBOOKS}")]
    failed = [name for name, r in results.items() if r["error"]]
    total = sum(r["seconds"] for r in results.values())
    rows.append(row(SECTION, f"all {len(results)} notebooks, one after the other", "s", total,
                    target_of="bptutor", target_max=180.0, target_text="< 180 s",
                    note=("each from a fresh kernel, kernel start-up included"
                          + (f"; FAILED: {', '.join(failed)}" if failed else "")),
                    notebooks=len(results), failed=failed))
    if failed:
        rows[-1]["met"] = False
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(execute(Path(sys.argv[2]))))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=1))
