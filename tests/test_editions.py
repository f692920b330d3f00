"""Tests for bptutor.editions: student and instructor notebooks from one source."""
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
