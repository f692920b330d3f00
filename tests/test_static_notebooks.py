"""The committed notebooks read on a static viewer and open anywhere.

These check the notebooks as committed: they pass once tools/prepare_notebooks.py has run
on them and they have been re-executed with tools/execute_notebooks.py.
"""
from __future__ import annotations

import importlib.util
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
RAW_REPR = re.compile(r"^[A-Z]\w*\((children|value|description)=")

spec = importlib.util.spec_from_file_location("prepare_notebooks", ROOT / "tools" / "prepare_notebooks.py")
prep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prep)


def load(path):
    return json.loads(path.read_text())


def widget_outputs(nb):
    for index, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            if WIDGET in output.get("data", {}):
                yield index, output


def text(value):
    return "".join(value) if isinstance(value, list) else value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_installs_bptutor_when_missing(path):
    first = next(c for c in load(path)["cells"] if c["cell_type"] == "code")
    assert text(first["source"]) == prep.INSTALL_SOURCE, "run tools/prepare_notebooks.py"
    assert "bptutor-install" in first["metadata"].get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_cells_carry_no_execution_timestamps(path):
    stamped = [i for i, c in enumerate(load(path)["cells"]) if "execution" in c["metadata"]]
    assert not stamped, f"cells {stamped} carry timestamps: re-run tools/execute_notebooks.py"


def test_prepare_notebooks_has_nothing_left_to_do():
    assert prep.main(["--check", str(ROOT / "notebooks")]) == 0


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_pictures_resolve_wherever_the_notebook_is_opened(path):
    for cell in load(path)["cells"]:
        source = text(cell["source"])
        assert "figures/" not in re.sub(r"\]\(attachment:", "", source) or cell["cell_type"] == "code", \
            f"a link into figures/ breaks outside the repository: {source[:80]!r}"
        for name in re.findall(r"\(attachment:([^)]+)\)", source):
            assert name in cell.get("attachments", {}), f"attachment {name} is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_widget_outputs_show_a_picture_or_a_final_state_not_a_raw_repr(path):
    nb = load(path)
    assert "widgets" not in nb["metadata"], "widget state is stored"
    for index, output in widget_outputs(nb):
        plain = text(output["data"].get("text/plain", ""))
        assert not RAW_REPR.match(plain), f"cell {index} shows a raw repr: {plain[:60]!r}"
        if plain.startswith("fit:"):  # a progress bar: its last frame, not its first
            assert not re.search(r"\| 0/\d+", plain), f"cell {index}: the bar's first frame: {plain!r}"
        else:
            assert output["data"].get("image/png"), f"cell {index}: an explorer without its picture"
            assert output["metadata"]["image/png"]["alt"] == plain


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nothing_needs_jupyterlab(path):
    # VS Code and Colab run what JupyterLab runs, except these
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            source = text(cell["source"])
            for lab_only in ("%matplotlib widget", "%matplotlib ipympl", "%%javascript", "jupyterlab",
                             "IPython.display.Javascript"):
                assert lab_only not in source, f"{lab_only} needs JupyterLab: {source[:60]!r}"


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if any(True for _ in widget_outputs(load(p)))],
                         ids=lambda p: p.stem)
def test_nbconvert_html_shows_each_widget_as_a_picture_with_alt_text(path):
    nbconvert = pytest.importorskip("nbconvert")
    nb = load(path)
    summaries = [text(o["data"]["text/plain"]) for _, o in widget_outputs(nb) if "image/png" in o["data"]]
    for template in ("lab", "classic"):
        body, _ = nbconvert.HTMLExporter(template_name=template).from_filename(str(path))
        assert "(children=" not in body, f"{template}: a widget's raw repr"
        assert not re.search(r"\| 0/\d+ \[", body), f"{template}: a progress bar's first frame"
        parser = Images()
        parser.feed(body)
        sources = [img.get("src", "") for img in parser.images]
        assert not any("figures/" in s for s in sources)
        if template == "classic":  # the classic template writes the output's alt text
            alts = [img.get("alt") for img in parser.images]
            for summary in summaries:
                assert summary in alts, f"no picture with alt text {summary[:60]!r}"
            markdown = [img for img in parser.images if img.get("src", "").startswith("attachment:")
                        or "image/png;base64" in img.get("src", "")]
            assert all(img.get("alt") is not None for img in markdown if "attachment" in img.get("src", ""))
        else:
            assert len(parser.images) >= len(summaries)
