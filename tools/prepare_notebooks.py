"""Make the notebooks open anywhere: an install cell first, pictures that travel with them.

    python tools/prepare_notebooks.py notebooks/             # every notebook in the folder
    python tools/prepare_notebooks.py notebooks/05_training_loop.ipynb --figures figures/
    python tools/prepare_notebooks.py --check notebooks/     # exit 1 if a notebook needs it

Two changes, both idempotent (a second run changes nothing):

1. **An install cell.** The first code cell of each notebook installs bptutor when it is
   missing (Colab, a fresh kernel in VS Code) and does nothing when it is importable. It
   installs from a checkout when the notebook sits in one (VS Code opened on the
   repository), else from the package index by name. The cell carries the tag
   ``bptutor-install``; an older version of it is refreshed in place.
2. **Pictures that travel.** A Markdown link to a fallback picture,
   ``![alt](../figures/name.png)``, resolves only where ``figures/`` sits beside
   ``notebooks/``. Each becomes a cell attachment, ``![alt](attachment:name.png)``, holding
   the current ``figures/name.png``: it shows in JupyterLab, Notebook 7, VS Code, Colab,
   nbconvert's HTML, a student edition and a copied course alike. Attachments whose file
   is in ``figures/`` are refreshed from it (``make figures`` re-renders them).

Then re-execute (``tools/execute_notebooks.py``): the explorers' outputs carry their own
picture. A notebook is rewritten through a temporary file, and only when it changed; a
link to a picture that does not exist is an error, and nothing is written.
"""
from __future__ import annotations

import argparse
import base64
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat

TAG = "bptutor-install"

INSTALL_SOURCE = '''\
# Installs bptutor when it is missing (Colab, a new VS Code kernel); does nothing when it is there.
# It installs from the checkout this notebook sits in, if any (VS Code opened on the repository),
# else from the package index by name: pip install bptutor.
import importlib.util

if importlib.util.find_spec("bptutor") is None:
    import importlib, subprocess, sys
    from pathlib import Path

    here = Path.cwd().resolve()
    checkout = next((p for p in (here, *here.parents) if (p / "pyproject.toml").is_file()
                     and 'name = "bptutor"' in (p / "pyproject.toml").read_text()), None)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           str(checkout) if checkout else "bptutor"])
    importlib.invalidate_caches()'''

FIGURE_LINK = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?:\.\./)?figures/(?P<name>[\w.-]+\.png)\)")
ATTACHMENT_LINK = re.compile(r"!\[[^\]]*\]\(attachment:(?P<name>[\w.-]+\.png)\)")


def install_cell() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(INSTALL_SOURCE)
    cell.metadata["tags"] = [TAG]
    return cell


def _is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and TAG in cell.get("metadata", {}).get("tags", [])


def ensure_install_cell(nb) -> bool:
    """Make the first code cell the install cell; return whether anything changed."""
    cells = nb.cells
    existing = [i for i, c in enumerate(cells) if _is_install_cell(c)]
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), None)
    if existing and existing[0] == first_code and len(existing) == 1:
        cell = cells[first_code]
        if cell.source == INSTALL_SOURCE and not cell.outputs:
            return False
        cell.source, cell.outputs, cell.execution_count = INSTALL_SOURCE, [], None
        return True
    for i in reversed(existing):  # misplaced or duplicated: remove, then insert once
        del cells[i]
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    cells.insert(first_code, install_cell())
    return True


def embed_figures(nb, figures: Path) -> bool:
    """Turn ``../figures/x.png`` links into attachments and refresh attachments from ``figures``.

    Raises:
        FileNotFoundError: a link names a picture that is not in ``figures``.
    """
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        names = [m["name"] for m in FIGURE_LINK.finditer(cell.source)]
        missing = [n for n in names if not (figures / n).is_file()]
        if missing:
            raise FileNotFoundError(f"prepare_notebooks: the notebook links to {missing}, "
                                    f"which are not in {figures}")
        if names:
            cell.source = FIGURE_LINK.sub(lambda m: f"![{m['alt']}](attachment:{m['name']})", cell.source)
            changed = True
        for name in {m["name"] for m in ATTACHMENT_LINK.finditer(cell.source)}:
            path = figures / name
            if not path.is_file():
                continue  # an attachment of the author's own, not one of ours
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            attachments = cell.setdefault("attachments", {})
            if attachments.get(name, {}).get("image/png") != data:
                attachments[name] = {"image/png": data}
                changed = True
    return changed


def prepare(path: Path, figures: Path, write: bool = True) -> list[str]:
    """Prepare one notebook; return what changed (empty when it was already prepared)."""
    nb = nbformat.read(path, as_version=4)
    changes = []
    if embed_figures(nb, figures):
        changes.append("pictures embedded as attachments")
    if ensure_install_cell(nb):
        changes.append("install cell")
    if changes and write:
        fd, tmp = tempfile.mkstemp(suffix=".ipynb", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                nbformat.write(nb, f)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return changes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/prepare_notebooks.py",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="notebooks, or folders of notebooks")
    parser.add_argument("--figures", default=None,
                        help="the pictures' folder (default: figures/ beside the notebooks' folder)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook needs it")
    args = parser.parse_args(argv)
    paths = []
    for arg in args.paths:
        p = Path(arg)
        paths += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            print(f"error: {p} is not a notebook file", file=sys.stderr)
            return 2
    pending = 0
    for p in paths:
        figures = Path(args.figures) if args.figures else p.resolve().parent.parent / "figures"
        try:
            changes = prepare(p, figures, write=not args.check)
        except FileNotFoundError as exc:
            print(f"error: {p.name}: {exc}", file=sys.stderr)
            return 2
        pending += bool(changes)
        verb = "needs" if args.check else "prepared"
        print(f"{p.name}: {verb} {', '.join(changes)}" if changes else f"{p.name}: already prepared")
    return 1 if args.check and pending else 0


if __name__ == "__main__":
    sys.exit(main())
