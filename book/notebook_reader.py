"""How the website reads a notebook: as Jupyter does, with display maths kept whole.

Jupyter lifts ``$$ ... $$`` out of a markdown cell before it parses the markdown;
MyST parses first, so a display equation spread over lines whose next line starts
with ``+`` or ``-`` becomes a bullet list, and a ``_`` inside it emphasis. Joining
each display equation onto one line (a newline is a space to TeX) keeps it whole.
"""
from __future__ import annotations

import re

import nbformat

DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)


def one_line(match: re.Match) -> str:
    return "$$" + " ".join(line.strip() for line in match.group(1).split("\n")) + "$$"


def read_notebook(text: str) -> nbformat.NotebookNode:
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = DISPLAY_MATH.sub(one_line, cell.source)
    return nb
