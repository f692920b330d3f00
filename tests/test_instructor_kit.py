"""The instructor kit: slide annotation, the decks (`make slides`), the lesson guides, the website (`make book`).

The decks and the site are read from build/slides and build/book, which
`make test` builds first; a test session started without them builds them
(and skips, saying why, when nbconvert, Sphinx or the npm files are missing).
The browser tests are in tests/test_instructor_browser.py.
"""
from __future__ import annotations

import base64
import copy
import importlib.util
import re
import struct
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GUIDES = NOTEBOOKS / "guides"
SLIDES = ROOT / "build" / "slides"
BOOK = ROOT / "build" / "book"
VENDOR = ROOT / "tools" / "vendor" / "node_modules"
CHAPTERS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
#: the chapters that must have a lesson guide (Parts I-II); Part III guides are checked when present
GUIDED = [c for c in CHAPTERS if int(c[:2]) <= 12] + [p.stem for p in GUIDES.glob("1[3-9]_*.md")]
GUIDE_HEADINGS = ["Prerequisites", "Lesson plan (50 minutes)", "Live demo", "Misconceptions the checks catch",
                  "Discussion questions", "Numbers the class should see"]
#: a script, style sheet, picture, frame or font fetched from another host (a plain <a href> is fine)
EXTERNAL_LOAD = re.compile(r"""<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=["']?(?:https?:)?//"""
                           r"""|<link\b[^>]*\bhref=["']?(?:https?:)?//|url\(["']?(?:https?:)?//"""
                           r"""|@import\s+["'](?:https?:)?//""", re.I)

sys.path.insert(0, str(ROOT / "tools"))
import annotate_slides  # noqa: E402


# ---------------------------------------------------------------- annotation rules

def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(text, *outputs):
    cell = nbformat.v4.new_code_cell(text)
    cell.outputs = list(outputs)
    return cell


def png():
    return nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})


def stream(n_lines):
    return nbformat.v4.new_output("stream", name="stdout", text="".join(f"line {i}\n" for i in range(n_lines)))


def kinds(nb):
    return [annotate_slides.slide_type(c) for c in nb.cells]


def test_headings_start_slides_and_short_code_stays_with_its_text():
    nb = _nb(md("# Title"), md("Some words."), code("x = 1\nprint(x)", stream(1)), md("## Next idea"),
             md("More words."))
    assert annotate_slides.annotate(nb) == 5
    assert kinds(nb) == ["slide", "-", "-", "slide", "-"]


def test_install_cell_and_plumbing_are_skipped_but_code_with_output_is_not():
    install = code("try:\n    import bptutor\nexcept ImportError:\n    %pip install -q bptutor")
    imports = code("import numpy as np\nfrom bptutor.layers import Linear\n%matplotlib inline")
    shown = code("import bptutor\nbptutor.__version__", nbformat.v4.new_output(
        "execute_result", data={"text/plain": "'0.1.0'"}, execution_count=1))
    setup = code('%matplotlib inline\nfrom bptutor.layers import (\n    Linear,\n    Sequential,\n)\n'
                 'plt.rcParams["figure.dpi"] = 100\nnp.set_printoptions(precision=4)\nrng = np.random.default_rng(0)')
    work = code("import numpy as np\nrng = np.random.default_rng(0)\nX = rng.normal(size=(3, 2))")
    nb = _nb(install, md("# Chapter"), imports, shown, setup, work)
    annotate_slides.annotate(nb)
    assert kinds(nb) == ["skip", "slide", "skip", "-", "skip", "-"]


def test_a_cell_that_would_overflow_opens_a_subslide():
    # A heading (1 line) and a figure (13 + 1 line of code): 15 of 22. The next figure does not fit.
    assert (annotate_slides.SLIDE_BUDGET, annotate_slides.IMAGE_LINES) == (22, 13)
    nb = _nb(md("## Loss curves"), code("plot()", png()), code("plot_again()", png()), md("Short remark."))
    annotate_slides.annotate(nb)
    assert kinds(nb) == ["slide", "-", "subslide", "-"]


def test_a_long_derivation_becomes_a_column_of_subslides():
    step = "\n".join(f"line {i} of the derivation" for i in range(12))   # 12 lines: 1 + 12 fits, 1 + 24 not
    nb = _nb(md("## Derivation"), md(step), md(step), md(step))
    annotate_slides.annotate(nb)
    assert kinds(nb) == ["slide", "-", "subslide", "subslide"]


def test_existing_slide_types_are_kept_and_a_second_run_changes_nothing():
    nb = _nb(md("# Title"), md("words"), code("x = 1"), md("## Part"))
    nb.cells[1].metadata["slideshow"] = {"slide_type": "notes"}
    nb.cells[3].metadata["slideshow"] = {"slide_type": "fragment"}
    assert annotate_slides.annotate(nb) == 2
    first = copy.deepcopy(nb)
    assert kinds(nb) == ["slide", "notes", "-", "fragment"]
    assert annotate_slides.annotate(nb) == 0
    assert nb == first


def test_cell_height_counts_wrapped_prose_display_math_and_pictures():
    assert annotate_slides.PROSE_WIDTH == 88
    assert annotate_slides.cell_height(md("x" * 200)) == 3          # 200 characters wrap to 3 lines of 88
    assert annotate_slides.cell_height(md("$$a = b$$")) == 1 + 2     # the empty remainder + 2 for the display
    assert annotate_slides.cell_height(code("f()", png())) == 1 + annotate_slides.IMAGE_LINES
    assert annotate_slides.cell_height(code("f()", stream(40))) == 1 + annotate_slides.STREAM_CAP


def _png_of_size(width, height):
    """The first bytes of a PNG (signature and IHDR), base64: all picture_lines reads."""
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", width, height) + b"\x08\x06\x00\x00\x00"
    return base64.b64encode(header + b"\x00" * 40).decode()


def test_a_picture_counts_by_its_height_as_shown_on_the_slide():
    # 500 px tall at 990 px wide is scaled to 900 wide: 454.5 px, 16 lines of 30 px
    tall = nbformat.v4.new_output("display_data", data={"image/png": _png_of_size(990, 500)})
    assert annotate_slides.cell_height(code("f()", tall)) == 1 + 16
    # a markdown attachment counts the same way; a linked file, whose size is not at hand, 13 lines
    cell = md("![a picture](attachment:p.png)")
    cell.attachments = {"p.png": {"image/png": _png_of_size(300, 300)}}
    assert annotate_slides.cell_height(cell) == 1 + 10
    assert annotate_slides.cell_height(md("![a picture](../figures/p.png)")) == 1 + annotate_slides.IMAGE_LINES
    # an explorer's picture beside a long introduction no longer shares its slide
    nb = _nb(md("## Try it\n\n" + "words " * 120), code("explore()", tall))
    annotate_slides.annotate(nb)
    assert kinds(nb) == ["slide", "subslide"]


def test_check_mode_reports_missing_types_without_writing(tmp_path):
    path = tmp_path / "01_x.ipynb"
    nbformat.write(_nb(md("# T"), code("x = 1")), str(path))
    before = path.read_bytes()
    assert annotate_slides.main([str(path), "--check"]) == 1
    assert path.read_bytes() == before
    assert annotate_slides.main([str(tmp_path)]) == 0
    assert annotate_slides.main([str(path), "--check"]) == 0


def test_bad_path_is_refused(tmp_path):
    with pytest.raises(SystemExit):
        annotate_slides.main([str(tmp_path / "missing.txt")])


# ---------------------------------------------------------------- built decks and site

def _stale(target: Path, sources) -> bool:
    return not target.exists() or any(s.stat().st_mtime > target.stat().st_mtime for s in sources)


@pytest.fixture(scope="session")
def built_slides():
    """build/slides, rebuilt when a deck is missing or older than its notebook."""
    stale = [c for c in CHAPTERS if _stale(SLIDES / f"{c}.slides.html", [NOTEBOOKS / f"{c}.ipynb"])]
    if stale:
        for module in ("nbconvert", "nbformat"):
            if importlib.util.find_spec(module) is None:
                pytest.skip(f"{module} is not installed (pip install -e '.[slides]'); run `make slides`")
        if not (VENDOR / "reveal.js").exists():
            pytest.skip("reveal.js is not in tools/vendor/node_modules (run `npm ci` there, or `make slides`)")
        subprocess.run([sys.executable, str(ROOT / "tools" / "build_slides.py"), "--out", str(SLIDES)],
                       check=True, cwd=ROOT)
    return SLIDES


@pytest.fixture(scope="session")
def built_book():
    """build/book, rebuilt when a chapter page or a guide page is missing or older than its source."""
    pages = [(BOOK / "notebooks" / f"{c}.html", NOTEBOOKS / f"{c}.ipynb") for c in CHAPTERS]
    pages += [(BOOK / "notebooks" / "guides" / f"{g.stem}.html", g) for g in GUIDES.glob("*.md")]
    if any(_stale(page, [src]) for page, src in pages):
        if importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_nb") is None:
            pytest.skip("Sphinx and MyST-NB are not installed (pip install -e '.[book]'); run `make book`")
        if not (VENDOR / "mathjax").exists():
            pytest.skip("MathJax is not in tools/vendor/node_modules (run `npm ci` there, or `make book`)")
        subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", "-c", "book", ".", str(BOOK)],
                       check=True, cwd=ROOT)
    return BOOK


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_a_deck_of_at_least_ten_slides(built_slides, chapter):
    html = (built_slides / f"{chapter}.slides.html").read_text(encoding="utf-8")
    sys.path.insert(0, str(ROOT / "tools"))
    from build_slides import count_slides
    assert count_slides(html) >= 10
    assert "Reveal.initialize" in html


def test_decks_show_exercise_prompts_without_solutions_and_load_nothing_from_outside(built_slides):
    for chapter in CHAPTERS:
        html = (built_slides / f"{chapter}.slides.html").read_text(encoding="utf-8")
        nb = nbformat.read(str(NOTEBOOKS / f"{chapter}.ipynb"), as_version=4)
        blocks = sum(c.source.count("### BEGIN SOLUTION") for c in nb.cells if c.cell_type == "code")
        # no solution marker as code (chapter 00 names the markers in prose), one prompt per solution
        assert not re.search(r">#+ ?(BEGIN|END) SOLUTION</span>", html), chapter
        assert html.count("Exercise: ") >= blocks, (chapter, html.count("Exercise: "), blocks)
        assert not EXTERNAL_LOAD.search(html), (chapter, EXTERNAL_LOAD.search(html).group(0))
        # every local script and style sheet the deck names is in the build
        for ref in re.findall(r"""(?:src|href)=["'](_static/[^"'?#]+)""", html):
            assert (built_slides / ref).is_file(), (chapter, ref)


def test_deck_static_files_are_the_vendored_versions(built_slides):
    reveal = (built_slides / "_static" / "reveal.js" / "dist" / "reveal.js").read_text(encoding="utf-8")
    assert re.search(r"reveal\.js 4\.\d+\.\d+", reveal[:400])  # the major version nbconvert's template drives
    mathjax = (built_slides / "_static" / "mathjax" / "MathJax.js").read_text(encoding="utf-8")
    assert 'version:"2.7.' in mathjax.replace(" ", "") or "2.7." in mathjax[:2000]


def test_site_has_a_page_per_chapter_in_order_the_guides_and_search(built_book):
    index = (built_book / "book" / "index.html").read_text(encoding="utf-8")
    positions = [index.find(f"../notebooks/{c}.html") for c in CHAPTERS]
    assert all(p > 0 for p in positions), dict(zip(CHAPTERS, positions))
    assert positions == sorted(positions)
    guides = (built_book / "book" / "guides.html").read_text(encoding="utf-8")
    for guide in GUIDES.glob("*.md"):
        assert f"../notebooks/guides/{guide.stem}.html" in guides
        assert (built_book / "notebooks" / "guides" / f"{guide.stem}.html").is_file()
    assert (built_book / "search.html").is_file() and (built_book / "searchindex.js").is_file()
    assert "book/index.html" in (built_book / "index.html").read_text(encoding="utf-8")


def test_site_loads_nothing_from_outside_and_ships_its_mathjax(built_book):
    pages = list(built_book.rglob("*.html")) + list(built_book.rglob("*.css"))
    assert len(pages) > len(CHAPTERS)
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        match = EXTERNAL_LOAD.search(text)
        assert match is None, (page.relative_to(built_book), match and match.group(0))
    chapter = (built_book / "notebooks" / f"{CHAPTERS[1]}.html").read_text(encoding="utf-8")
    src = re.search(r'<script[^>]+src="([^"]*tex-chtml[^"]*)"', chapter)
    assert src, "no MathJax script on the chapter page"
    assert (built_book / "notebooks" / src.group(1).split("?")[0]).resolve().is_file()


def test_every_notebook_picture_is_on_its_page(built_book):
    for chapter in CHAPTERS:
        nb = nbformat.read(str(NOTEBOOKS / f"{chapter}.ipynb"), as_version=4)
        pictures = sum("image/png" in out.get("data", {}) for c in nb.cells if c.cell_type == "code"
                       for out in c.outputs)
        pictures += sum(len(re.findall(r"!\[[^\]]*\]\([^)]+\.png", c.source)) for c in nb.cells
                        if c.cell_type == "markdown")
        html = (built_book / "notebooks" / f"{chapter}.html").read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]+src="([^"]+)"', html)
        assert len(images) >= pictures, (chapter, len(images), pictures)
        for src in images:
            if not src.startswith("data:"):
                assert (built_book / "notebooks" / src).resolve().is_file(), (chapter, src)


# ---------------------------------------------------------------- lesson guides

def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no '## {heading}' section"
    return match.group(1)


@pytest.mark.parametrize("chapter", GUIDED)
def test_every_chapter_has_a_lesson_guide_with_each_part(chapter):
    path = GUIDES / f"{chapter}.md"
    assert path.is_file(), f"no lesson guide {path.relative_to(ROOT)}"
    text = path.read_text(encoding="utf-8")
    assert re.findall(r"^## (.+?)\s*$", text, re.M) == GUIDE_HEADINGS

    # the plan: a table whose minutes column sums to 50
    plan = _section(text, "Lesson plan (50 minutes)")
    rows = [r for r in plan.splitlines() if r.startswith("|")]
    header = [h.strip().lower() for h in rows[0].strip("|").split("|")]
    column = next(i for i, h in enumerate(header) if h.startswith("min"))
    minutes = [_duration(r.strip("|").split("|")[column]) for r in rows[2:]]
    assert len(minutes) >= 4 and sum(minutes) == 50, minutes

    # 2 or 3 questions, each followed by its answer
    questions = _section(text, "Discussion questions")
    items = re.split(r"^\d+\. ", questions, flags=re.M)[1:]
    assert 2 <= len(items) <= 3, len(items)
    for item in items:
        assert "?" in item.split("*Answer")[0], item[:80]
        assert re.search(r"^\s*\*Answer[.:]\*\s+\S.{40,}", item, re.M | re.S), item[:80]

    # misconceptions: each names a diagnosis from the chapter's check catalogue
    misconceptions = _section(text, "Misconceptions the checks catch")
    if chapter[:2] != "00":
        labels = _catalogue_labels(int(chapter[:2]))
        named = [label for label in labels if f"“{label}”" in misconceptions or f'"{label}"' in misconceptions]
        assert len(named) >= 3, f"names {named} of {sorted(labels)[:6]}..."

    # numbers: each quoted with the cell it comes from
    numbers = _section(text, "Numbers the class should see")
    # a bullet runs from its "- " to the next one; its wrapped lines are part of it
    bullets = ["- " + " ".join(b.split()) for b in re.split(r"^- ", numbers, flags=re.M)[1:]]
    assert len(bullets) >= 3
    assert all(re.search(r"cells? \d+", b) for b in bullets), [b for b in bullets if not re.search(r"cells? \d+", b)]
    # every quoted output (in backticks, with a digit) is printed by a cited cell (indices count the
    # install cell at the top as cell 0)
    nb = nbformat.read(str(NOTEBOOKS / f"{chapter}.ipynb"), as_version=4)
    for bullet in bullets:
        cited = [int(n) for n in re.findall(r"\d+", " ".join(re.findall(r"cells? ([\d ,and]+)", bullet)))]
        printed = " ".join(_printed(nb.cells[n]) for n in cited if n < len(nb.cells))
        for quote in re.findall(r"`([^`]*\d[^`]*)`", bullet):
            # "..." in a quote stands for omitted text: the pieces must appear in order
            pattern = ".*?".join(re.escape(" ".join(piece.split())) for piece in quote.split("..."))
            assert re.search(pattern, printed), (bullet, quote)


def _duration(entry: str) -> int:
    """Minutes in a plan row: a duration ("10") or a span of the session ("13–25" is 12)."""
    span = re.fullmatch(r"\s*(\d+)\s*[–-]\s*(\d+)\s*", entry)
    return int(span.group(2)) - int(span.group(1)) if span else int(entry)


def _printed(cell) -> str:
    """A code cell's text outputs with runs of white space made single spaces."""
    if cell.cell_type != "code":
        return ""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", "") if out.get("output_type") == "stream"
                     else out.get("data", {}).get("text/plain", ""))
    return " ".join(" ".join(parts).split())


def _catalogue_labels(number: int) -> set:
    """Every Mistake label in bptutor/exercises/chNN_*.py (and the shared activation-backward catalogue)."""
    sources = list((ROOT / "bptutor" / "exercises").glob(f"ch{number:02d}_*.py"))
    sources.append(ROOT / "bptutor" / "exercises" / "_core.py")
    labels = set()
    for src in sources:
        labels |= set(re.findall(r'Mistake\(\s*"([^"]+)"', src.read_text(encoding="utf-8")))
        labels |= set(re.findall(r'^\s*\("([^"]+)",\s*"', src.read_text(encoding="utf-8"), re.M))
    return labels
