"""The course's shared tables stay in step, and the environment check tells the truth."""
import json
from pathlib import Path

import pytest

from bptutor import course
from bptutor.course import (CHAPTERS, EnvironmentReport, chapter_markdown, check_environment,
                            notation_markdown)

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
NB00 = ROOT / "notebooks" / "00_start_here.ipynb"


def _markdown_of(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_readme_carries_the_notation_table_verbatim():
    assert notation_markdown() in README


def test_notebook_00_carries_the_notation_table_verbatim():
    assert notation_markdown() in _markdown_of(NB00)


def test_notation_table_has_one_row_per_entry_and_names_dw():
    rows = notation_markdown().splitlines()
    assert len(rows) == 2 + len(course.NOTATION)
    assert any("`dX`, `dW`, `db`" in row for row in rows)


def test_readme_chapter_map_lists_exactly_the_notebooks_present():
    assert chapter_markdown(ROOT / "notebooks") in README
    listed = {name for _, name, _ in CHAPTERS}
    present = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert present <= listed, f"notebooks missing from course.CHAPTERS: {sorted(present - listed)}"


def test_notebook_00_links_only_to_notebooks_that_exist():
    text = _markdown_of(NB00)
    for _, name, _ in CHAPTERS:
        if f"`{name}`" in text:
            assert (ROOT / "notebooks" / name).exists(), f"notebook 00 lists {name}, which is absent"


def test_chapter_markdown_filters_by_folder(tmp_path):
    (tmp_path / "01_forward_pass.ipynb").write_text("{}")
    table = chapter_markdown(tmp_path)
    assert "01_forward_pass.ipynb" in table
    assert "02_loss_functions.ipynb" not in table
    assert len(table.splitlines()) == 3


def test_version_tuple_orders_versions_numerically():
    # "1.26.4" > "1.9" numerically, though not as strings
    assert course._version_tuple("1.26.4") > course._version_tuple("1.9")
    assert course._version_tuple("2.0.0rc1") == (2, 0, 1)
    assert course._version_tuple("8") == (8,)


def test_environment_check_passes_here_and_trains_xor():
    report = check_environment()
    assert report.ok, str(report)
    names = [what for what, _, _ in report.lines]
    assert names[0] == "python" and "digits data" in names and names[-1] == "training"
    assert "100%" in report.lines[-1][2]


def test_environment_check_reports_a_missing_package(monkeypatch):
    monkeypatch.setattr(course, "REQUIRED", course.REQUIRED + (("no_such_package_bptutor", "1.0"),))
    report = check_environment(train=False)
    assert not report.ok
    line = [ln for ln in report.lines if ln[0] == "no_such_package_bptutor"][0]
    assert line[1] is False and "make course" in line[2]
    assert "Some checks failed" in str(report)


def test_environment_check_reports_a_too_old_package(monkeypatch):
    monkeypatch.setattr(course, "REQUIRED", (("numpy", "999.0"),))
    report = check_environment(train=False)
    assert [ln[1] for ln in report.lines if ln[0] == "numpy"] == [False]


def test_environment_check_reports_corrupt_digits(monkeypatch):
    import bptutor.datasets as datasets

    def broken(*args, **kwargs):
        raise ValueError("digits.npz failed its SHA-256 check")

    monkeypatch.setattr(datasets, "load_digits", broken)
    report = check_environment(train=False)
    line = [ln for ln in report.lines if ln[0] == "digits data"][0]
    assert line[1] is False and "SHA-256" in line[2]


def test_report_str_marks_each_line():
    report = EnvironmentReport()
    report.add("a", True, "fine")
    report.add("bb", False, "broken")
    text = str(report).splitlines()
    assert text[0].startswith("ok ") and text[1].startswith("FAIL")
    assert not report.ok


@pytest.mark.parametrize("number,name,_", CHAPTERS)
def test_chapter_names_follow_the_numbering(number, name, _):
    assert name.startswith(number + "_") and name.endswith(".ipynb")


# -- copying the course out and opening it ------------------------------------------------------

def test_copy_writes_notebooks_figures_and_a_readme(tmp_path, capsys):
    dest = tmp_path / "deep" / "course"
    assert course.main(["copy", str(dest)]) == 0
    copied = sorted(p.name for p in (dest / "notebooks").glob("*.ipynb"))
    assert copied == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (dest / "figures").glob("*.png")) == \
        sorted(p.name for p in (ROOT / "figures").glob("*.png"))
    assert (dest / "notebooks" / "00_start_here.ipynb").read_bytes() == NB00.read_bytes()
    assert "bptutor-course launch" in (dest / "README.md").read_text()
    assert (ROOT / "notebooks" / "guides").is_dir() == (dest / "notebooks" / "guides").is_dir()
    # nothing left behind under a temporary name
    assert [p.name for p in dest.parent.iterdir()] == ["course"]
    assert "wrote the course to" in capsys.readouterr().out


def test_copy_refuses_an_existing_folder_and_writes_nothing(tmp_path, capsys):
    dest = tmp_path / "course"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep me")
    assert course.main(["copy", str(dest)]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "nothing was written" in err
    assert [p.name for p in dest.iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["course"]


def test_copy_refuses_an_existing_file(tmp_path):
    dest = tmp_path / "course"
    dest.write_text("x")
    with pytest.raises(FileExistsError, match="does not exist yet"):
        course.copy_course(dest)
    assert dest.read_text() == "x"


def test_a_failed_copy_leaves_no_temporary_folder(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(course.shutil, "copy2", broken)
    with pytest.raises(OSError, match="disk full"):
        course.copy_course(tmp_path / "course")
    assert list(tmp_path.iterdir()) == []


def test_jupyter_command_as_root_without_a_display():
    argv = course.jupyter_command(ROOT, ["--ip=0.0.0.0", "--port=8888"], uid=0, has_browser=False)
    assert argv[1:4] == ["-m", "jupyter", "lab"]
    assert f"--ServerApp.root_dir={ROOT}" in argv          # the README and figures/ are reachable
    assert "--allow-root" in argv and "--no-browser" in argv
    assert argv[-3:] == ["--ip=0.0.0.0", "--port=8888", str(NB00)]


def test_jupyter_command_for_a_user_with_a_browser_adds_nothing():
    argv = course.jupyter_command(ROOT, [], app="notebook", uid=1000, has_browser=True)
    assert argv[3] == "notebook"
    assert "--allow-root" not in argv and "--no-browser" not in argv


@pytest.mark.parametrize("bad,error", [({"app": "retrolab"}, ValueError), ({"extra_args": "--port=1"}, TypeError)])
def test_jupyter_command_rejects_bad_arguments(bad, error):
    kwargs = {"root": ROOT, "extra_args": [], **bad}
    with pytest.raises(error, match="jupyter_command expected"):
        course.jupyter_command(**kwargs)


def test_jupyter_command_needs_a_course_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="00_start_here.ipynb"):
        course.jupyter_command(tmp_path)


@pytest.mark.parametrize("env,platform_name,expected", [
    ({}, "linux", False), ({"DISPLAY": ":0"}, "linux", True), ({"WAYLAND_DISPLAY": "w"}, "linux", True),
    ({"BROWSER": "firefox"}, "linux", True), ({}, "darwin", True), ({}, "win32", True)])
def test_has_browser(env, platform_name, expected):
    assert course._has_browser(env, platform_name) is expected


def test_launch_execs_the_command_with_the_flags_after_the_double_dash(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(course.os, "execv", lambda path, argv: calls.append(argv))
    assert course.main(["launch", "--root", str(ROOT), "--", "--port=8899", "--ip=127.0.0.1"]) == 0
    (argv,) = calls
    assert argv[-3:] == ["--port=8899", "--ip=127.0.0.1", str(NB00)]
    assert capsys.readouterr().out.strip() == " ".join(argv)


def test_makefile_course_runs_launch_with_jupyter_args():
    makefile = (ROOT / "Makefile").read_text()
    assert 'bptutor.course launch --root "$(CURDIR)" -- $(JUPYTER_ARGS)' in makefile
    # the course environment installs no test tools
    assert '-e ".[course]"' in makefile
