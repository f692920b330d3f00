"""\"Run All\" on every unsolved student edition reaches the last cell.

For each notebook in notebooks/ the test builds the student edition
(:func:`bptutor.editions.make_student_notebook`: every solution replaced by
``raise NotImplementedError("Exercise: ...")``), executes it top to bottom in a
fresh kernel without solving anything, and asserts that

* no cell ends in an error (a later cell that uses a learner's function must
  degrade to a "not written yet" note: ``yours_or_reference`` or ``if_written``);
* the check below each unwritten exercise shows a "not yet" verdict that says the
  exercise is not written yet (a check that passed an unwritten exercise, or
  crashed, would show something else).

Each notebook takes as long as the solved one (seconds); they run in the notebooks
folder so that relative paths (figures, data) resolve as they do for a learner.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from bptutor.editions import make_student_notebook  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CHECK_CALL = re.compile(r"^\s*(?:result\s*=\s*)?(check_\w+)\(", re.MULTILINE)


def _text(cell) -> str:
    """Everything a code cell printed or displayed, as text (plain and HTML)."""
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append("".join(out["text"]))
        for kind in ("text/plain", "text/html"):
            if kind in out.get("data", {}):
                parts.append("".join(out["data"][kind]))
    return "\n".join(parts)


def _exercise_checks(nb) -> list[tuple[int, int]]:
    """``(exercise cell, check cell)`` index pairs: the first ``check_*(`` call within 3 code cells."""
    pairs = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or 'raise NotImplementedError("Exercise' not in cell.source:
            continue
        following = [j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"][:3]
        check = next((j for j in following if CHECK_CALL.search(nb.cells[j].source)), None)
        if check is not None:
            pairs.append((i, check))
    return pairs


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("student")


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_run_all_on_the_unsolved_student_edition_reaches_the_end(path, student_dir):
    student = make_student_notebook(path, student_dir / path.name)
    nb = nbformat.read(student, as_version=4)
    stripped = sum('raise NotImplementedError("Exercise' in c.source for c in nb.cells if c.cell_type == "code")
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                                     record_timing=False, resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()

    errors = [(i, out.get("ename"), out.get("evalue")) for i, cell in enumerate(nb.cells)
              if cell.cell_type == "code" for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, f"{path.name}: Run All stopped at cell {errors[0][0]}: {errors[0][1]}: {errors[0][2]}"

    pairs = _exercise_checks(nb)
    if stripped:  # 00 has no exercise; every chapter has at least two, each followed by its check
        assert len(pairs) >= 2 and len(pairs) == stripped, (
            f"{path.name}: {stripped} exercises stripped, {len(pairs)} followed by their check")
    for exercise, check in pairs:
        shown = _text(nb.cells[check])
        assert "✘" in shown and "not written yet" in shown, (
            f"{path.name}: the check in cell {check} (after the exercise in cell {exercise}) should say "
            f"'not yet ... not written yet', got: {shown[:300]!r}")
