"""Tests for bptutor.editions: student and instructor notebooks from one source."""
import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

from bptutor import editions  # noqa: E402
from bptutor.editions import (build_edition, main, make_instructor_notebook,  # noqa: E402
                              make_student_notebook, strip_solutions)

EXERCISE = """import numpy as np

def linear_backward(dout, X, W):
    \"\"\"Return dX, dW, db.\"\"\"
    ### BEGIN SOLUTION
    dX = dout @ W.T
    dW = X.T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dX, dW, db"""

TOP_LEVEL = """x = 1
### BEGIN SOLUTION
y = x + 1
### END SOLUTION
print(y)"""

CHECK = "from bptutor.exercises import check_linear_backward\ncheck_linear_backward(linear_backward)"


def code(source, outputs=(), count=1, tags=()):
    cell = nbformat.v4.new_code_cell(source, execution_count=count, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def write(path, cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def source(tmp_path):
    # the sources sit in their own folder: an edition may not be written inside it
    (tmp_path / "src").mkdir()
    return write(tmp_path / "src" / "04_backward.ipynb", [
        nbformat.v4.new_markdown_cell("# Backward pass\nThe markers `### BEGIN SOLUTION` live in code cells."),
        code(EXERCISE, [stream("defined\n")], 1),
        code(CHECK, [stream("✔ linear_backward: passed\n")], 2),
        code(TOP_LEVEL, [stream("2\n")], 3),
        code("print('answer key')", [stream("answer key\n")], 4, tags=["instructor-only"]),
        code("print('try it yourself')", [], 5, tags=["student-only"]),
    ])


def read(path):
    return nbformat.read(str(path), as_version=4)


def test_student_edition_removes_solutions_keeping_the_markers_indentation(source, tmp_path):
    dst = make_student_notebook(source, tmp_path / "student" / "04_backward.ipynb")
    cells = read(dst).cells
    exercise = cells[1].source
    assert "dX = dout @ W.T" not in exercise and "### BEGIN SOLUTION" not in exercise
    assert exercise == ("import numpy as np\n\ndef linear_backward(dout, X, W):\n"
                        '    """Return dX, dW, db."""\n'
                        "    # YOUR CODE HERE\n"
                        '    raise NotImplementedError("Exercise: write the body of linear_backward")\n'
                        "    return dX, dW, db")
    assert cells[2].source == CHECK and cells[3].metadata["nbgrader"]["grade"]  # the autograder test
    assert cells[4].source == ("x = 1\n# YOUR CODE HERE\n"
                               'raise NotImplementedError("Exercise: write your code here, then run the check '
                               'cell below")\nprint(y)')


def test_student_edition_clears_outputs_and_keeps_other_cells(source, tmp_path):
    original = read(source).cells
    cells = read(make_student_notebook(source, tmp_path / "s.ipynb")).cells
    # one autograder test cell (nbgrader) is inserted after the check cell
    assert [c.cell_type for c in cells] == ["markdown", "code", "code", "code", "code", "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in cells if c.cell_type == "code")
    assert cells[0].source == original[0].source          # markdown untouched, even with marker text
    assert cells[2].source == CHECK                        # the check cell is kept as it was
    assert cells[5].source == "print('try it yourself')"   # student-only cells stay
    assert all("answer key" not in c.source for c in cells)  # instructor-only cells go


def test_the_student_code_runs_and_the_stub_raises(source, tmp_path):
    cells = read(make_student_notebook(source, tmp_path / "s.ipynb")).cells
    namespace = {}
    exec(compile(cells[1].source, "cell", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="write the body of linear_backward"):
        namespace["linear_backward"](None, None, None)


def test_a_notebook_without_markers_is_copied_except_outputs(tmp_path):
    src = write(tmp_path / "plain.ipynb", [nbformat.v4.new_markdown_cell("hi"),
                                           code("a = 1\nprint(a)", [stream("1\n")], 7)])
    before, after = read(src), read(make_student_notebook(src, tmp_path / "out" / "plain.ipynb"))
    for cell in before.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    assert after == before


@pytest.mark.parametrize("bad, words", [
    ("x = 1\n### BEGIN SOLUTION\ny = 2", "'### BEGIN SOLUTION' on line 2 has no matching '### END SOLUTION'"),
    ("x = 1\n### END SOLUTION", "'### END SOLUTION' on line 2 has no '### BEGIN SOLUTION' before it"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
     "'### BEGIN SOLUTION' on line 2 opens a solution inside the one opened on line 1"),
    ("## BEGIN SOLUTION\ny = 2\n### END SOLUTION", "line 1 looks like a solution marker"),
    ("### BEGIN SOLUTION\ny = 2\n# end solution", "line 3 looks like a solution marker"),
])
def test_malformed_markers_name_the_notebook_and_cell(tmp_path, bad, words):
    src = write(tmp_path / "broken.ipynb", [nbformat.v4.new_markdown_cell("intro"), code("ok = 1"), code(bad)])
    dst = tmp_path / "out" / "broken.ipynb"
    with pytest.raises(ValueError) as info:
        make_student_notebook(src, dst)
    assert f"broken.ipynb: cell 2: {words}" in str(info.value)
    assert not dst.exists()
    with pytest.raises(ValueError, match="cell 2"):
        make_instructor_notebook(src, dst)


def test_strip_solutions_on_its_own():
    assert strip_solutions("a\n  ### BEGIN SOLUTION\n  b\n  ### END SOLUTION\nc") == (
        'a\n  # YOUR CODE HERE\n  raise NotImplementedError("Exercise: write your code here, then run the '
        'check cell below")\nc')
    assert strip_solutions("no markers\n") == "no markers\n"
    with pytest.raises(ValueError, match="^my cell: "):
        strip_solutions("### BEGIN SOLUTION", where="my cell")


def test_instructor_edition_keeps_solutions_and_outputs(source, tmp_path):
    original = read(source).cells
    cells = read(make_instructor_notebook(source, tmp_path / "i.ipynb")).cells
    assert len(cells) == 6 and all("try it yourself" not in c.source for c in cells)  # + the autograder test
    assert cells[1].source == EXERCISE and cells[1].outputs == original[1].outputs
    assert cells[2].execution_count == 2 and cells[5].source == "print('answer key')"
    kept = read(make_instructor_notebook(source, tmp_path / "j.ipynb", strip_student_only=False)).cells
    assert len(kept) == 7


def test_build_edition_over_a_folder(source, tmp_path):
    other = write(tmp_path / "src" / "01_forward.ipynb", [code(TOP_LEVEL, [stream("2\n")])])
    (tmp_path / "src" / ".ipynb_checkpoints").mkdir()
    write(tmp_path / "src" / ".ipynb_checkpoints" / "01_forward-checkpoint.ipynb", [code("### BEGIN SOLUTION")])
    written = build_edition(tmp_path / "src", tmp_path / "build" / "student")
    assert [p.name for p in written] == [other.name, source.name]
    assert "y = x + 1" not in read(written[0]).cells[0].source
    with pytest.raises(ValueError, match="edition"):
        build_edition(tmp_path, tmp_path / "x", edition="teacher")


def test_a_malformed_notebook_stops_the_build_before_anything_is_written(tmp_path):
    (tmp_path / "src").mkdir()
    write(tmp_path / "src" / "a.ipynb", [code("fine = 1")])
    write(tmp_path / "src" / "b.ipynb", [code("### BEGIN SOLUTION")])
    with pytest.raises(ValueError, match="b.ipynb: cell 0"):
        build_edition(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli(source, tmp_path, capsys):
    assert main([str(tmp_path / "src"), "--out", str(tmp_path / "build" / "student")]) == 0
    assert "1 student notebook in" in capsys.readouterr().out
    assert (tmp_path / "build" / "student" / source.name).exists()
    assert main([str(source), "--out", str(tmp_path / "teach"), "--edition", "instructor"]) == 0
    assert read(tmp_path / "teach" / source.name).cells[1].source == EXERCISE
    assert main([str(tmp_path / "missing"), "--out", str(tmp_path / "x")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_as_a_module(tmp_path):
    # one subprocess (they are slow): `python -m` runs main() and passes its exit status on
    (tmp_path / "src").mkdir()
    write(tmp_path / "src" / "z.ipynb", [code("### END SOLUTION")])
    command = [sys.executable, "-m", "bptutor.editions", str(tmp_path / "src"), "--out", str(tmp_path / "o")]
    failed = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert failed.returncode == 2 and "z.ipynb: cell 0" in failed.stderr and not (tmp_path / "o").exists()
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1


def test_missing_nbformat_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nbformat", None)  # makes `import nbformat` raise ImportError
    with pytest.raises(ImportError, match="pip install nbformat"):
        make_student_notebook(tmp_path / "a.ipynb", tmp_path / "b.ipynb")
    assert strip_solutions("x = 1") == "x = 1"  # the pure text function needs no nbformat
    assert editions.BEGIN == "### BEGIN SOLUTION"


# --- editions an instructor can hand out -----------------------------------------------------------

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
def course(tmp_path):
    """A course folder like the repository's: notebooks/ beside figures/, a figure linked as ../figures/x.png."""
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "curve.png").write_bytes(PNG)
    (tmp_path / "notebooks").mkdir()
    intro = nbformat.v4.new_markdown_cell('See ![the curve](../figures/curve.png) and <img src="../figures/curve.png">'
                                          " and ![web](https://example.org/a.png).")
    timed = code("import numpy as np", [stream("\n")], 1)
    timed.metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    timed.metadata["ExecuteTime"] = {"end_time": "2026-01-01T00:00:01Z"}
    nb = nbformat.v4.new_notebook(cells=[intro, timed, code(EXERCISE, [], 2), code(CHECK, [stream("ok\n")], 3),
                                         code("print(check_linear_backward(linear_backward))", [], 4)])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(nb, str(tmp_path / "notebooks" / "04_backward.ipynb"))
    return tmp_path / "notebooks" / "04_backward.ipynb"


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_figures_are_embedded_so_links_work_anywhere(course, tmp_path, edition):
    make = make_student_notebook if edition == "student" else make_instructor_notebook
    cell = read(make(course, tmp_path / "elsewhere" / "deep" / "04.ipynb")).cells[0]
    assert cell.source == ('See ![the curve](attachment:curve.png) and <img src="attachment:curve.png"> '
                           "and ![web](https://example.org/a.png).")
    assert base64.b64decode(cell.attachments["curve.png"]["image/png"]) == PNG


def test_a_missing_figure_is_refused_naming_the_cell(course, tmp_path):
    (course.parent.parent / "figures" / "curve.png").unlink()
    with pytest.raises(ValueError, match=r"04_backward.ipynb: cell 0: the image '../figures/curve.png' does not exist"):
        make_student_notebook(course, tmp_path / "out.ipynb")
    assert not (tmp_path / "out.ipynb").exists()


@pytest.mark.parametrize("edition", ["student", "instructor"])
def test_no_timestamps_and_no_widget_state(course, tmp_path, edition):
    make = make_student_notebook if edition == "student" else make_instructor_notebook
    nb = read(make(course, tmp_path / "e.ipynb"))
    assert "widgets" not in nb.metadata
    assert all("execution" not in c.metadata and "ExecuteTime" not in c.metadata for c in nb.cells)
    assert (nb.cells[1].outputs == []) == (edition == "student")  # the instructor keeps outputs


def test_nbgrader_metadata_marks_solutions_and_adds_one_autograder_test(course, tmp_path):
    cells = read(make_student_notebook(course, tmp_path / "s.ipynb")).cells
    marked = [(i, c.metadata["nbgrader"]) for i, c in enumerate(cells) if "nbgrader" in c.metadata]
    assert marked == [
        (2, {"grade": False, "solution": True, "locked": False, "schema_version": 3,
             "grade_id": "04_backward_linear_backward"}),
        (4, {"grade": True, "solution": False, "locked": True, "points": 1, "schema_version": 3,
             "grade_id": "04_backward_test_linear_backward"})]
    # the printed check of cell 5 (a demonstration, not a top-level call) is not graded
    assert cells[5].source == "print(check_linear_backward(linear_backward))"
    test = cells[4].source
    assert "assert check_linear_backward(linear_backward).passed" in test
    assert 'os.environ.get("NBGRADER_EXECUTION") in ("validate", "autograde")' in test


def test_the_autograder_test_asserts_only_under_nbgrader(course, tmp_path, monkeypatch):
    test = read(make_student_notebook(course, tmp_path / "s.ipynb")).cells[4].source

    class Failed:
        passed = False

    namespace = {"check_linear_backward": lambda fn: Failed(), "linear_backward": None}
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    exec(test, dict(namespace))  # Run All outside nbgrader: nothing happens
    for mode in ("validate", "autograde"):
        monkeypatch.setenv("NBGRADER_EXECUTION", mode)
        with pytest.raises(AssertionError, match="does not pass yet"):
            exec(test, dict(namespace))


def _schema_errors(meta):
    """nbgrader's schema-3 rules for one cell's metadata, written out (the same as its v3.json)."""
    allowed = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points", "checksum",
               "cell_type"}
    errors = [k for k in meta if k not in allowed]
    errors += [k for k in ("schema_version", "grade", "locked", "solution") if k not in meta]
    errors += [] if meta.get("schema_version") == 3 else ["schema_version"]
    errors += [k for k in ("grade", "locked", "solution") if not isinstance(meta.get(k), bool)]
    if meta.get("grade") or meta.get("solution") or meta.get("locked"):
        if not re.fullmatch(r"[a-zA-Z0-9_\-]+", meta.get("grade_id", "")):
            errors.append("grade_id")
    if meta.get("grade") and not (isinstance(meta.get("points"), (int, float)) and meta["points"] >= 0):
        errors.append("points")
    return errors


REPO_NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[01]*.ipynb"))


def test_every_chapter_edition_carries_valid_nbgrader_metadata(tmp_path):
    written = build_edition(REPO_NOTEBOOKS[0].parent, tmp_path / "student")
    for path in written:
        nb = read(path)
        metas = [c.metadata["nbgrader"] for c in nb.cells if "nbgrader" in c.metadata]
        assert all(_schema_errors(m) == [] for m in metas), path.name
        ids = [m["grade_id"] for m in metas]
        assert len(ids) == len(set(ids)), path.name
        if not path.name.startswith("00_"):  # every chapter has >= 2 exercises, each graded
            assert sum(m["solution"] for m in metas) >= 2 and sum(m["grade"] for m in metas) >= 2, path.name
        assert "widgets" not in nb.metadata
        for c in nb.cells:  # every picture travels with the notebook
            if c.cell_type == "markdown":
                assert "../figures/" not in c.source, path.name


def test_nbgraders_own_validator_accepts_both_editions(course, tmp_path):
    v3 = pytest.importorskip("nbgrader.nbgraderformat.v3")
    for make in (make_student_notebook, make_instructor_notebook):
        v3.MetadataValidatorV3().validate_nb(read(make(course, tmp_path / f"{make.__name__}.ipynb")))
    broken = read(tmp_path / "make_student_notebook.ipynb")
    del broken.cells[4].metadata["nbgrader"]["points"]  # the validator is not a rubber stamp
    with pytest.raises(Exception, match="points"):
        v3.MetadataValidatorV3().validate_nb(broken)


def test_nbgrader_validate_fails_the_student_edition_and_passes_the_instructors(tmp_path):
    """nbgrader's own "Validate" (it runs the notebook in a kernel) on a tiny self-contained exercise."""
    validator = pytest.importorskip("nbgrader.validator")
    (tmp_path / "src").mkdir()
    src = write(tmp_path / "src" / "double.ipynb", [
        code("class Result:\n    def __init__(self, passed):\n        self.passed = passed\n\n"
             "def check_double(fn):\n    return Result(fn(3) == 6)"),
        code("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
        code("check_double(double)"),
    ])
    student = make_student_notebook(src, tmp_path / "student" / "double.ipynb")
    instructor = make_instructor_notebook(src, tmp_path / "instructor" / "double.ipynb")
    results = {}
    for name, path in (("student", student), ("instructor", instructor)):
        results[name] = validator.Validator().validate(str(path))
    assert results["instructor"] == {}  # nothing failed
    assert "failed" in results["student"] and len(results["student"]["failed"]) == 1
