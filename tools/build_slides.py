"""Write one reveal.js deck per chapter into build/slides/, readable with no network.

    python tools/build_slides.py [--notebooks notebooks] [--out build/slides] [--vendor tools/vendor/node_modules]

Each committed, executed notebook goes through nbconvert's slides exporter:

- cells without a slide type are annotated on the fly (tools/annotate_slides.py;
  the notebook on disk is not touched);
- every exercise solution is replaced as in the student edition
  (:func:`bptutor.editions.strip_solutions`), outputs kept;
- an explorer's widget view is dropped from its output (no widget state is
  stored, so it could not render), which leaves the picture and the text it carries;
- markdown pictures beside the notebook are embedded in the page; those it
  links outside its folder (``../figures/*.png``) are copied to ``_static/figures``.

reveal.js, MathJax 2 (the version the exporter's template drives), jQuery and
require.js are copied from the npm packages in ``tools/vendor`` (``npm ci``
there) into ``build/slides/_static/``, and the exporter's URL traits point at
that copy, so a deck loads nothing from outside its folder. Prints each deck's
slide count and the total time.
"""
from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from annotate_slides import annotate  # noqa: E402

from bptutor.editions import strip_solutions  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STATIC = "_static"
# What of MathJax 2 a deck needs: the loader, the combined TeX + CommonHTML configuration,
# its extensions (Safe, menu, zoom, AMS), TeX input, CommonHTML output and the TeX web fonts.
MATHJAX_PARTS = ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX", "jax/element",
                 "jax/output/CommonHTML", "fonts/HTML-CSS/TeX/woff", "localization/en"]
REVEAL_PARTS = ["dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "dist/theme/fonts/source-sans-pro",
                "plugin/notes/notes.js"]
#: a script, style sheet, picture or font fetched from another host (plain links to papers are fine)
EXTERNAL_LOAD = re.compile(r"""<(?:script|img|iframe|source)\b[^>]*\bsrc=["']?(?:https?:)?//[^"'\s>]*"""
                           r"""|<link\b[^>]*\bhref=["']?(?:https?:)?//[^"'\s>]*|url\(["']?(?:https?:)?//[^)]*\)|"""
                           r"""\bimport\s[^;]*from\s*["'](?:https?:)?//""", re.I)
#: a markdown picture or an <img> whose path leaves the notebook's folder
PICTURE_LINK = re.compile(r"""(!\[[^\]]*\]\(|<img\s[^>]*src=["'])(\.\./[^)"'\s]+)([)"'\s])""")
SLIDE_SECTION = re.compile(r"<section\b[^>]*>\s*(?!<section)", re.S)


def _copy_parts(src: Path, dst: Path, parts: list[str]) -> None:
    for part in parts:
        s, d = src / part, dst / part
        if not s.exists():
            raise FileNotFoundError(f"vendor: expected {s} (run `npm ci` in tools/vendor)")
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            shutil.copy2(s, d)


def copy_vendor(vendor: Path, out: Path) -> None:
    """Copy reveal.js, MathJax 2, jQuery and require.js into ``out/_static``."""
    static = out / STATIC
    _copy_parts(vendor / "reveal.js", static / "reveal.js", REVEAL_PARTS)
    _copy_parts(vendor / "mathjax2", static / "mathjax", MATHJAX_PARTS)
    _copy_parts(vendor / "jquery" / "dist", static, ["jquery.min.js"])
    _copy_parts(vendor / "requirejs", static, ["require.js"])


def exporter() -> SlidesExporter:
    c = Config()
    c.SlidesExporter.reveal_url_prefix = f"{STATIC}/reveal.js"
    c.SlidesExporter.reveal_theme = "white"  # the one theme copied: the others import web fonts
    c.SlidesExporter.reveal_scroll = True
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.mathjax_url = f"{STATIC}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    c.SlidesExporter.require_js_url = f"{STATIC}/require.js"
    c.SlidesExporter.jquery_url = f"{STATIC}/jquery.min.js"
    # Never used (the template below drops the mermaid block), but never a CDN either.
    c.SlidesExporter.mermaid_js_url = f"{STATIC}/none.mjs"
    c.SlidesExporter.mermaid_layout_elk_js_url = f"{STATIC}/none.mjs"
    c.SlidesExporter.jupyter_widgets_base_url = f"{STATIC}/"
    c.SlidesExporter.font_awesome_url = ""
    c.SlidesExporter.embed_images = True
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.SlidesExporter.extra_template_basedirs = [str(HERE)]
    c.SlidesExporter.template_name = "slides_template"
    return SlidesExporter(config=c)


def _local_pictures(source: str, notebook_dir: Path, out: Path) -> str:
    """Copy each picture a markdown cell links outside its folder (``../figures/x.png``) into
    ``out/_static/figures`` and point the link there (nbconvert embeds only pictures beside the notebook)."""
    def move(match):
        target = (notebook_dir / match.group(2)).resolve()
        if not target.is_file():
            return match.group(0)
        dst = out / STATIC / "figures" / target.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, dst)
        return f"{match.group(1)}{STATIC}/figures/{target.name}{match.group(3)}"
    return PICTURE_LINK.sub(move, source)


def deck_notebook(nb, notebook_dir: Path | None = None, deck_dir: Path | None = None):
    """A copy of ``nb`` as the deck shows it: annotated, solutions stripped, widget views dropped,
    pictures linked from outside the notebook's folder copied to ``deck_dir`` (when both folders are given)."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    annotate(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and notebook_dir is not None and deck_dir is not None:
            cell.source = _local_pictures(cell.source, notebook_dir, deck_dir)
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source, f"cell {index}")
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data and len(data) > 1:
                del data[WIDGET_VIEW]
    return nb


def count_slides(html: str) -> int:
    """Leaf ``<section>`` elements: what Reveal shows one at a time (slides and subslides)."""
    return len(SLIDE_SECTION.findall(html))


def build(notebooks: Path, out: Path, vendor: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    copy_vendor(vendor, out)
    exp = exporter()
    counts = {}
    for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        nb = deck_notebook(nbformat.read(str(path), as_version=4), path.parent, out)
        html, _ = exp.from_notebook_node(nb, resources={"metadata": {"path": str(path.parent),
                                                                     "name": path.stem}})
        if EXTERNAL_LOAD.search(html):
            raise RuntimeError(f"{path.name}: the deck would load {EXTERNAL_LOAD.search(html).group(0)!r} "
                               "from the network")
        target = out / f"{path.stem}.slides.html"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(target)
        counts[path.stem] = count_slides(html)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    parser.add_argument("--vendor", type=Path, default=HERE / "vendor" / "node_modules")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    counts = build(args.notebooks, args.out, args.vendor)
    for stem, n in counts.items():
        print(f"{stem}.slides.html: {n} slides")
    print(f"{len(counts)} decks in {time.perf_counter() - start:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
