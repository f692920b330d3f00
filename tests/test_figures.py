"""Tests of bptutor.figures: the static pictures of the explorers (``make figures``)."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bptutor import figures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 100 * 1024
REPO_FIGURES = Path(__file__).resolve().parent.parent / "figures"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which follows the 8-byte signature and 8 bytes of header."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_every_figure_renders_with_its_verdict_light_and_at_110_dpi(tmp_path, capsys):
    # render() raises unless the explorer reaches the verdict the file name promises.
    paths = figures.main(["--out", str(tmp_path / "out")])
    assert [p.name for p in paths] == list(figures.FIGURES)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(paths) and printed[0].endswith(" KB")
    for path in paths:
        assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"
        width, height = png_size(path)
        # 110 dpi: the explorers' figures are 8 to 16 inches wide, 2.6 to 5 high.
        assert 880 <= width <= 1760 and 286 <= height <= 550, (path.name, width, height)
    # The learning-rate figures are 9 x 3.4 inches: 990 x 374 pixels, so that a 9-pt label is
    # 13.75 pixels high (10.3 pt on a screen at 96 pixels per inch).
    assert png_size(tmp_path / "out" / "learning_rate_diverged.png") == (990, 374)


def test_only_renders_the_matching_files(tmp_path):
    paths = figures.main(["--out", str(tmp_path), "--only", "loss_*"])
    assert sorted(p.name for p in paths) == ["loss_confidently_wrong.png", "loss_unsure.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss_confidently_wrong.png", "loss_unsure.png"]


def test_a_pattern_matching_nothing_is_an_error_and_creates_no_folder(tmp_path, capsys):
    out = tmp_path / "new"
    with pytest.raises(SystemExit) as exit_info:
        figures.main(["--out", str(out), "--only", "nothing*"])
    assert exit_info.value.code == 2
    assert "--only 'nothing*' matches none of" in capsys.readouterr().err
    assert not out.exists()


def test_an_out_that_is_a_file_is_refused_and_left_alone(tmp_path, capsys):
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    with pytest.raises(SystemExit):
        figures.main(["--out", str(out), "--only", "loss_*"])
    assert "is a file, expected a folder" in capsys.readouterr().err
    assert out.read_text() == "mine"


def test_a_figure_showing_the_wrong_verdict_is_refused(tmp_path, monkeypatch):
    builder, values, _ = figures.FIGURES["loss_unsure.png"]
    monkeypatch.setitem(figures.FIGURES, "loss_unsure.png", (builder, values, "right"))
    with pytest.raises(RuntimeError, match=r"figure loss_unsure.png should show 'right', but the "
                                           r"explorer says 'unsure': p = 0.600 for target 1"):
        figures.render("loss_unsure.png", tmp_path)
    assert not (tmp_path / "loss_unsure.png").exists()


def test_the_repository_holds_every_figure():
    # `make figures` writes these; the notebooks embed them for readers on a static viewer.
    missing = [name for name in figures.FIGURES if not (REPO_FIGURES / name).is_file()]
    assert not missing, f"run `make figures`: missing {missing}"
    for name in figures.FIGURES:
        assert (REPO_FIGURES / name).stat().st_size < MAX_BYTES
        png_size(REPO_FIGURES / name)
