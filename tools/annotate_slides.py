"""Give every cell of a notebook a reveal.js slide type, the way a lecturer would cut the deck.

    python tools/annotate_slides.py notebooks/                 # every chapter, in place
    python tools/annotate_slides.py notebooks/05_training_loop.ipynb --check   # exit 1 if a cell lacks one

The rules (``cell.metadata.slideshow.slide_type``):

- a markdown cell that opens with a heading starts a new ``"slide"``;
- any other cell continues the current slide (``"-"``), unless it would overflow
  it: then it opens a ``"subslide"`` (a long derivation becomes a column of
  subslides). A code cell's outputs always travel with it, and a short code cell
  right after its text stays on the text's slide;
- the install cell and environment plumbing (cells made only of imports,
  ``%``-magics, ``pip install``, print options, warning filters, matplotlib
  settings and the seeded ``rng``, and with nothing to show) are ``"skip"``;
- a cell that already has a slide type keeps it, so a hand-made choice survives
  and running the script twice changes nothing.

Exercise solutions are not hidden here: the deck builder (tools/build_slides.py)
replaces their bodies with :func:`bptutor.editions.strip_solutions`, as the
student edition does.

How much fits on a slide is estimated in "lines" at the deck's 960 x 700 size
and 20 px text: a wrapped line of prose or code is one, display maths two, a
picture twelve, a table one per row (see :func:`cell_height`).
"""
from __future__ import annotations

import argparse
import ast
import base64
import math
import re
import struct
import sys
from pathlib import Path

import nbformat

#: lines of 20 px text that fit under a slide's title at 960 x 700
SLIDE_BUDGET = 22
#: characters per line of prose, and of code at 19 px
PROSE_WIDTH, CODE_WIDTH = 88, 84
#: a picture whose size is unknown (a link to a file), in lines
IMAGE_LINES = 13
#: pixels of slide height per line of the budget (22 lines under the title of a 700 px slide),
#: and the widest a picture is shown before it is scaled down
PIXELS_PER_LINE, SLIDE_WIDTH = 30, 900
#: most lines of a stream output that count (a long log scrolls; it does not need three slides)
STREAM_CAP = 12

_HEADING = re.compile(r"^\s*#{1,6}\s")
_INSTALL = re.compile(r"(%pip|pip\s+install|subprocess.*pip|importlib\.util\.find_spec)")


def slide_type(cell) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def is_plumbing(cell) -> bool:
    """The install cell, or a code cell that only imports and configures (nothing to show a class)."""
    if cell.cell_type != "code":
        return False
    source = cell.source
    if _INSTALL.search(source) and "bptutor" in source:
        return True
    code = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
    try:
        statements = ast.parse(code).body
    except SyntaxError:
        return False
    return bool(source.strip()) and all(map(_is_setup, statements)) and not _has_visible_output(cell)


#: calls that only configure the session: printing precision, plot defaults, warning filters, the backend
_SETUP_CALLS = ("np.random.seed", "np.set_printoptions", "numpy.set_printoptions", "warnings.", "matplotlib.use", "plt.style.use",
                "plt.rcParams.update", "matplotlib.rcParams.update")


def _is_setup(node) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, ast.Try):
        return all(map(_is_setup, node.body + node.orelse + node.finalbody)) and all(
            all(map(_is_setup, handler.body)) for handler in node.handlers)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return ast.unparse(node.value.func).startswith(_SETUP_CALLS)
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        # plot defaults, and the seeded generator every chapter makes next to its imports
        return (ast.unparse(node.targets[0]).startswith(("plt.rcParams[", "matplotlib.rcParams["))
                or isinstance(node.value, ast.Call)
                and ast.unparse(node.value.func) in ("np.random.default_rng", "numpy.random.default_rng"))
    return isinstance(node, ast.Pass)


def _has_visible_output(cell) -> bool:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            continue
        return True
    return False


def _wrapped(text: str, width: int) -> int:
    return sum(max(1, math.ceil(len(line) / width)) for line in text.split("\n"))


def picture_lines(png_base64) -> int:
    """Lines of the budget a PNG takes at its natural size, scaled to the slide's width
    (:data:`IMAGE_LINES` when the picture is not at hand)."""
    if not png_base64:
        return IMAGE_LINES
    head = base64.b64decode("".join(png_base64)[:64])   # the IHDR chunk: width and height at bytes 16-24
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return IMAGE_LINES
    width, height = struct.unpack(">II", head[16:24])
    shown = height * min(1.0, SLIDE_WIDTH / width)
    return math.ceil(shown / PIXELS_PER_LINE)


def cell_height(cell) -> int:
    """Estimated height of a cell and its outputs on a slide, in lines of text."""
    if cell.cell_type == "markdown":
        text = cell.source
        display = text.count("$$") // 2
        height = _wrapped(re.sub(r"\$\$.*?\$\$", "", text, flags=re.S), PROSE_WIDTH) + 2 * display
        attachments = cell.get("attachments", {})
        for link in re.findall(r"!\[[^\]]*\]\(([^)\s]*)|<img\s", text):
            name = link[len("attachment:"):] if link.startswith("attachment:") else None
            height += picture_lines(attachments.get(name, {}).get("image/png") if name else None)
        return height
    if cell.cell_type != "code":
        return 0
    height = _wrapped(cell.source, CODE_WIDTH) if cell.source.strip() else 0
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            height += min(STREAM_CAP, _wrapped(out.get("text", "").rstrip("\n"), CODE_WIDTH))
        elif out.get("output_type") in ("display_data", "execute_result"):
            data = out.get("data", {})
            if "image/png" in data:
                height += picture_lines(data["image/png"])
            elif "image/svg+xml" in data:
                height += IMAGE_LINES
            elif "text/html" in data:
                html = data["text/html"]
                height += max(1, html.count("<tr")) + max(0, html.count("<p") + html.count("<li"))
            elif "text/latex" in data or "text/markdown" in data:
                height += 2
            else:
                height += min(STREAM_CAP, _wrapped(data.get("text/plain", ""), CODE_WIDTH))
        elif out.get("output_type") == "error":
            height += STREAM_CAP
    return height


def annotate(nb) -> int:
    """Set a slide type on every cell that has none; return how many cells changed."""
    changed, used, seen_slide = 0, 0, False
    for cell in nb.cells:
        kind = slide_type(cell)
        if kind is None:
            if is_plumbing(cell):
                kind = "skip"
            elif cell.cell_type == "markdown" and _HEADING.match(cell.source) or not seen_slide:
                kind = "slide"
            elif used > 0 and used + cell_height(cell) > SLIDE_BUDGET:
                kind = "subslide"
            else:
                kind = "-"
            cell.metadata.setdefault("slideshow", {})["slide_type"] = kind
            changed += 1
        if kind in ("slide", "subslide"):
            seen_slide, used = True, cell_height(cell)
        elif kind in ("-", "fragment"):
            used += cell_height(cell)
    return changed


def annotate_file(path: Path, check: bool = False) -> int:
    nb = nbformat.read(str(path), as_version=4)
    changed = annotate(nb)
    if changed and not check:
        nbformat.write(nb, str(path))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a cell lacks a slide type")
    args = parser.parse_args(argv)
    paths = []
    for p in args.paths:
        if p.is_dir():
            paths += sorted(p.glob("[0-9][0-9]_*.ipynb"))
        elif p.suffix == ".ipynb" and p.is_file():
            paths.append(p)
        else:
            parser.error(f"paths: expected a notebook or a folder of notebooks, got {p}")
    missing = 0
    for p in paths:
        changed = annotate_file(p, check=args.check)
        missing += changed
        print(f"{p.name}: {changed} cell(s) {'lack a slide type' if args.check else 'annotated'}")
    return 1 if args.check and missing else 0


if __name__ == "__main__":
    sys.exit(main())
