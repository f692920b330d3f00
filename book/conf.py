"""Sphinx configuration of the course website (`make book` -> build/book/).

Built from the repository root (``sphinx-build -c book . build/book``) so that the
notebooks' own links to ``../figures/*.png`` resolve. Nothing is executed: the
notebooks are committed executed. MathJax 3 comes from the npm package in
tools/vendor and is copied into the site, so the pages need no network.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "tools" / "vendor" / "node_modules"

project = "bptutor: learn backpropagation by running it"
author = "the bptutor authors"
copyright = "the bptutor authors, MIT licence"

extensions = ["myst_nb"]
root_doc = "book/index"
include_patterns = ["book/*.md", "notebooks/[0-9][0-9]_*.ipynb", "notebooks/guides/*.md"]
exclude_patterns = ["build", ".venv", "**/.ipynb_checkpoints", "tools/vendor"]

sys.path.insert(0, str(Path(__file__).resolve().parent))
nb_custom_formats = {".ipynb": ["notebook_reader.read_notebook", {}, False]}
# The notebooks are committed executed; never run them here.
nb_execution_mode = "off"
# An explorer's widget view needs widget state (never stored) and a widget manager
# from a CDN: show the picture and text it carries instead, and load no widget script.
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath"]
# Jupyter reads $$...$$ inside a paragraph as display maths; so must the site.
myst_dmath_double_inline = True
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "myst.xref_missing"]

html_theme = "sphinx_book_theme"
html_title = "bptutor"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
}


def _mathjax_copy() -> Path:
    """The part of MathJax 3 a page uses (one combined file and its web fonts), in build/."""
    import shutil
    src, dst = VENDOR / "mathjax" / "es5", ROOT / "build" / "_book_static"
    if not (src / "tex-chtml-full.js").exists():
        raise FileNotFoundError(f"{src}/tex-chtml-full.js is missing: run `npm ci` in tools/vendor")
    shutil.copytree(src / "output" / "chtml" / "fonts" / "woff-v2",
                    dst / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2", dirs_exist_ok=True)
    shutil.copy2(src / "tex-chtml-full.js", dst / "mathjax" / "tex-chtml-full.js")
    return dst


html_static_path = [str(_mathjax_copy())]
# Sphinx's own default MathJax 3 configuration, with the file served from the site.
mathjax_path = "mathjax/tex-chtml-full.js"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None


def _redirect(app, exception):
    """Put an index.html at the site's top that opens the course's front page."""
    if exception is None and app.builder.format == "html":
        (Path(app.outdir) / "index.html").write_text(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="refresh" content="0; url=book/index.html">'
            "<title>bptutor</title></head>\n"
            '<body><a href="book/index.html">bptutor: the course</a></body></html>\n', encoding="utf-8")


def setup(app):
    app.connect("build-finished", _redirect)
