"""How the website reads a notebook: as Jupyter does, with display maths kept whole.

Jupyter lifts ``$$ ... $$`` out of a markdown cell before it parses the markdown;
MyST parses first, so a display equation spread over lines whose next line starts
with ``+`` or ``-`` becomes a bullet list, and a ``_`` inside it emphasis. Joining
each display equation onto one line (a newline is a space to TeX) keeps it whole.

A picture kept as a cell attachment (``![alt](attachment:x.png)``, how the notebooks
carry the widgets' pictures) is unknown to MyST: it becomes a ``data:`` URI, which
Sphinx's HTML builder writes into the page as it is.

An explorer's output carries its widget view and a picture of its state. The
notebooks are saved without widget state, so on a static page the view could
only show an empty box: the reader keeps the picture and drops the view.
"""
from __future__ import annotations

import re

import nbformat

DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ATTACHMENT = re.compile(r"(!\[[^\]]*\]\()attachment:([^)\s]+)\)")


def one_line(match: re.Match) -> str:
    return "$$" + " ".join(line.strip() for line in match.group(1).split("\n")) + "$$"


def read_notebook(text: str) -> nbformat.NotebookNode:
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = DISPLAY_MATH.sub(one_line, cell.source)
            attachments = cell.get("attachments", {})
            cell.source = ATTACHMENT.sub(lambda m: inline(m, attachments), cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "image/png" in data:
                del data[WIDGET_VIEW]
    return nb


def inline(match: re.Match, attachments: dict) -> str:
    """``![alt](attachment:x.png)`` as ``![alt](data:image/png;base64,...)`` (unchanged if absent)."""
    bundle = attachments.get(match.group(2), {})
    for mime, data in bundle.items():
        if mime.startswith("image/"):
            payload = re.sub(r"\s+", "", "".join(data))   # base64 as stored may be broken into lines
            return f"{match.group(1)}data:{mime};base64,{payload})"
    return match.group(0)
