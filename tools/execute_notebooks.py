"""Execute notebooks top to bottom in a fresh kernel and save them with their outputs.

    python tools/execute_notebooks.py notebooks/05_training_loop.ipynb [more.ipynb ...]
    python tools/execute_notebooks.py notebooks/          # every notebook in the folder

How the committed notebooks are made: each runs in its own folder (as Jupyter
runs it), cell timestamps are not recorded, the stored widget state is dropped
(a static viewer shows each explorer's own picture instead), and the result is
written to a temporary file that replaces the notebook only when every cell ran
without an error. Prints each notebook's wall time.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:  # timestamps left by an earlier run elsewhere: a re-run must not differ by them
        cell.metadata.pop("execution", None)
    fd, tmp = tempfile.mkstemp(suffix=".ipynb", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, path)
    return seconds


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    paths = []
    for arg in argv:
        p = Path(arg)
        paths += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            print(f"error: {p} is not a notebook file", file=sys.stderr)
            return 2
    for p in paths:
        print(f"{p.name}: {execute(p.resolve()):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
