"""tools/prepare_notebooks.py: an install cell first, fallback pictures as attachments, idempotent."""
from __future__ import annotations

import base64
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("prepare_notebooks", ROOT / "tools" / "prepare_notebooks.py")
prep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prep)

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@pytest.fixture
def course(tmp_path):
    """A course folder: notebooks/ with one notebook, figures/ with one picture."""
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "lr.png").write_bytes(PNG)
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title\nObjectives."),
                nbformat.v4.new_code_cell("import numpy as np\nprint(1)"),
                nbformat.v4.new_markdown_cell("Static viewers see:\n\n![lr 0.1: converged](../figures/lr.png)\n"
                                              "![elsewhere](https://example.org/x.png)"),
                nbformat.v4.new_code_cell("print(2)")]
    path = tmp_path / "notebooks" / "05_x.ipynb"
    nbformat.write(nb, path)
    return path


def test_inserts_the_install_cell_before_the_first_code_cell(course):
    assert prep.main([str(course)]) == 0
    nb = nbformat.read(course, as_version=4)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code", "markdown", "code"]
    assert nb.cells[1].source == prep.INSTALL_SOURCE
    assert nb.cells[1].metadata["tags"] == ["bptutor-install"]
    assert nb.cells[2].source.startswith("import numpy")


def test_embeds_fallback_pictures_as_attachments_and_leaves_other_links(course):
    prep.main([str(course)])
    cell = nbformat.read(course, as_version=4).cells[3]
    assert "![lr 0.1: converged](attachment:lr.png)" in cell.source
    assert "../figures" not in cell.source
    assert "![elsewhere](https://example.org/x.png)" in cell.source
    assert base64.b64decode(cell.attachments["lr.png"]["image/png"]) == PNG


def test_a_second_run_changes_nothing(course, capsys):
    prep.main([str(course)])
    first = course.read_bytes()
    assert prep.main([str(course)]) == 0
    assert course.read_bytes() == first
    assert capsys.readouterr().out.splitlines()[-1] == "05_x.ipynb: already prepared"
    assert prep.main(["--check", str(course)]) == 0


def test_check_reports_without_writing(course, capsys):
    before = course.read_bytes()
    assert prep.main(["--check", str(course.parent)]) == 1
    assert course.read_bytes() == before
    assert "needs pictures embedded as attachments, install cell" in capsys.readouterr().out


def test_refreshes_a_stale_install_cell_and_a_re_rendered_picture(course):
    prep.main([str(course)])
    nb = nbformat.read(course, as_version=4)
    nb.cells[1].source = "# an old install cell"
    nbformat.write(nb, course)
    new_png = PNG + b"\0"   # make figures re-rendered the picture
    (course.parent.parent / "figures" / "lr.png").write_bytes(new_png)
    prep.main([str(course)])
    nb = nbformat.read(course, as_version=4)
    assert nb.cells[1].source == prep.INSTALL_SOURCE
    assert sum(prep._is_install_cell(c) for c in nb.cells) == 1
    assert base64.b64decode(nb.cells[3].attachments["lr.png"]["image/png"]) == new_png


def test_moves_a_misplaced_install_cell_to_the_front(course):
    nb = nbformat.read(course, as_version=4)
    nb.cells.append(prep.install_cell())
    nbformat.write(nb, course)
    prep.main([str(course)])
    nb = nbformat.read(course, as_version=4)
    assert [prep._is_install_cell(c) for c in nb.cells] == [False, True, False, False, False]


def test_a_link_to_a_missing_picture_is_an_error_and_nothing_is_written(course, capsys):
    (course.parent.parent / "figures" / "lr.png").unlink()
    before = course.read_bytes()
    assert prep.main([str(course)]) == 2
    assert "['lr.png'], which are not in" in capsys.readouterr().err
    assert course.read_bytes() == before


def test_a_path_that_is_not_a_notebook_is_refused(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("")
    assert prep.main([str(tmp_path / "x.txt")]) == 2
    assert "is not a notebook file" in capsys.readouterr().err


# -- what the install cell does ------------------------------------------------------------------

def run_install_cell(monkeypatch, cwd: Path, importable: bool) -> list:
    """Run the install cell's source with pip replaced by a recorder; return pip's calls."""
    calls = []
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(subprocess, "check_call", lambda argv: calls.append(argv))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real(name, *a) if importable or name != "bptutor" else None))
    exec(compile(prep.INSTALL_SOURCE, "install-cell", "exec"), {})
    return calls


def test_install_cell_does_nothing_when_bptutor_is_importable(monkeypatch, tmp_path):
    assert run_install_cell(monkeypatch, tmp_path, importable=True) == []


def test_install_cell_installs_the_checkout_it_sits_in(monkeypatch):
    calls = run_install_cell(monkeypatch, ROOT / "notebooks", importable=False)
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet", str(ROOT)]]


def test_install_cell_installs_from_the_index_elsewhere(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    calls = run_install_cell(monkeypatch, tmp_path, importable=False)
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet", "bptutor"]]
