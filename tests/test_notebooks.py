"""The committed notebooks keep the course's promises (the structure; nbval runs them).

A notebook is committed executed, in order, without errors, with light figures; a
chapter has objectives, a figure, at least two exercises each followed by a check
from ``bptutor.exercises``, key numbers under ``# NBVAL_CHECK_OUTPUT`` and a
summary; the student edition has no solution left in it.
"""
import base64
import json
import re
from pathlib import Path

import pytest

from bptutor.course import CHAPTERS
from bptutor.editions import make_student_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CHAPTER_NOTEBOOKS = [p for p in NOTEBOOKS if not p.name.startswith("00_")]
MAX_PNG_BYTES = 100_000


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"])


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and source(c).strip()]


def ids(paths):
    return [p.name for p in paths]


def test_there_are_notebooks_and_each_is_a_known_chapter():
    assert NOTEBOOKS, "no notebooks found"
    known = {name for _, name, _ in CHAPTERS}
    assert {p.name for p in NOTEBOOKS} <= known


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_committed_executed_in_order_without_errors(path):
    cells = code_cells(load(path))
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{path.name}: unexecuted cells"
    assert counts == list(range(counts[0], counts[0] + len(counts))), f"{path.name}: out of order {counts}"
    errors = [o for c in cells for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name}: committed error output {errors[0].get('ename')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_figures_are_light_pngs_and_no_widget_state_is_stored(path):
    nb = load(path)
    assert "widgets" not in nb["metadata"], f"{path.name}: strip the stored widget state"
    pngs = [o["data"]["image/png"] for c in code_cells(nb) for o in c["outputs"]
            if "data" in o and "image/png" in o["data"]]
    assert pngs, f"{path.name}: no figure"
    for png in pngs:
        assert len(base64.b64decode(png)) < MAX_PNG_BYTES, f"{path.name}: a PNG over {MAX_PNG_BYTES} bytes"


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=ids(CHAPTER_NOTEBOOKS))
def test_chapter_has_objectives_summary_and_checked_key_numbers(path):
    nb = load(path)
    markdown = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown").lower()
    assert "objective" in markdown or "you will" in markdown, f"{path.name}: no learning objectives"
    assert "summary" in markdown, f"{path.name}: no summary"
    assert "$" in markdown, f"{path.name}: no LaTeX"
    checked = [c for c in code_cells(nb) if source(c).lstrip().startswith("# NBVAL_CHECK_OUTPUT")]
    assert checked, f"{path.name}: no cell marked # NBVAL_CHECK_OUTPUT"
    assert any(c["outputs"] for c in checked)
    assert "import" in " ".join(source(c) for c in code_cells(nb)) and "bptutor" in markdown + " ".join(
        source(c) for c in code_cells(nb))


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=ids(CHAPTER_NOTEBOOKS))
def test_chapter_has_two_exercises_each_followed_by_a_check(path):
    cells = code_cells(load(path))
    exercise_at = [i for i, c in enumerate(cells) if "### BEGIN SOLUTION" in source(c)]
    assert len(exercise_at) >= 2, f"{path.name}: {len(exercise_at)} exercise(s), need 2"
    for i in exercise_at:
        following = " ".join(source(c) for c in cells[i:i + 3])
        assert re.search(r"\bcheck_\w+\(", following), f"{path.name}: exercise in code cell {i} has no check"


@pytest.mark.parametrize("path", CHAPTER_NOTEBOOKS, ids=ids(CHAPTER_NOTEBOOKS))
def test_student_edition_keeps_no_solution(path, tmp_path):
    out = tmp_path / path.name
    make_student_notebook(path, out)
    student = load(out)
    text = "\n".join(source(c) for c in code_cells(student))
    assert "### BEGIN SOLUTION" not in text and "### END SOLUTION" not in text
    assert text.count("raise NotImplementedError") >= 2
    assert all(not c["outputs"] for c in code_cells(student))
