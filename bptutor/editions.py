"""Student and instructor editions of the notebooks, built from one source.

The committed notebooks are the instructor's: every exercise cell holds its
solution between two marker lines, and the next cell calls a check from
:mod:`bptutor.exercises`::

    def linear_backward(dout, X, W):
        ### BEGIN SOLUTION
        dX = dout @ W.T
        ...
        ### END SOLUTION
        return dX, dW, db

The **student edition** replaces each marked block, in code cells, with::

        # YOUR CODE HERE
        raise NotImplementedError("Exercise: write the body of linear_backward")

indented like the markers, clears the outputs of every cell, drops cells
tagged ``instructor-only`` and keeps everything else (the check cells too), so
a student who runs the check before writing code is told the exercise is not
written yet. The **instructor edition** keeps solutions and outputs and drops
cells tagged ``student-only`` (unless asked to keep them). Malformed markers
(a BEGIN without its END, an END without a BEGIN, nested blocks, or a line
that looks like a marker but is not exactly one) raise ``ValueError`` naming
the notebook and the cell index, so a solution never leaks silently.

Command line, building every notebook of a folder::

    python -m bptutor.editions notebooks/ --out build/student
    python -m bptutor.editions notebooks/ --out build/instructor --edition instructor

Reading and writing notebooks needs ``nbformat`` (in bptutor's ``test``
extra); it is imported only when a notebook is read.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
#: cell tags: dropped from the student edition, and (by default) from the instructor edition.
INSTRUCTOR_ONLY, STUDENT_ONLY = "instructor-only", "student-only"
EDITIONS = ("student", "instructor")

_NEAR_MISS = re.compile(r"(BEGIN|END)\s+SOLUTION", re.IGNORECASE)
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(")


def _nbformat():
    try:
        import nbformat
    except ImportError:
        raise ImportError("bptutor.editions needs nbformat to read and write notebooks: pip install nbformat "
                          "(it is in bptutor's test extra: pip install -e '.[test]')") from None
    return nbformat


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _exercise_name(previous: list, indent: str) -> str:
    """The function the solution block sits in (the nearest less-indented ``def`` above), if any."""
    for line in reversed(previous):
        match = _DEF.match(line)
        if match and len(match.group(1)) < len(indent):
            return f"write the body of {match.group(2)}"
    return "write your code here, then run the check cell below"


def _strip(source: str, where: str) -> tuple[str, int]:
    """``source`` with every solution block replaced, and the number of blocks."""
    out: list[str] = []
    begin, blocks = None, 0
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise ValueError(f"{where}: {BEGIN!r} on line {number} opens a solution inside the one opened "
                                 f"on line {begin}; close that one with {END!r} first")
            begin, blocks, indent = number, blocks + 1, _indent(line)
            out += [f"{indent}# YOUR CODE HERE",
                    f'{indent}raise NotImplementedError("Exercise: {_exercise_name(out, indent)}")']
        elif marker == END:
            if begin is None:
                raise ValueError(f"{where}: {END!r} on line {number} has no {BEGIN!r} before it")
            begin = None
        elif _NEAR_MISS.search(line):
            raise ValueError(f"{where}: line {number} looks like a solution marker but is not exactly "
                             f"{BEGIN!r} or {END!r} (got {marker!r}); fix it so the solution is not published")
        elif begin is None:
            out.append(line)
    if begin is not None:
        raise ValueError(f"{where}: {BEGIN!r} on line {begin} has no matching {END!r}")
    return "\n".join(out), blocks


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block of one cell's code.

    Args:
        source: the cell's code.
        where: names the cell in error messages, e.g. ``"01_forward_pass.ipynb: cell 7"``.

    Returns:
        the code with each block (markers included) replaced by ``# YOUR CODE
        HERE`` and a ``raise NotImplementedError("Exercise: ...")``, at the
        markers' indentation; every other line unchanged.

    Raises:
        ValueError: a BEGIN without END, an END without BEGIN, nested blocks,
            or a line that looks like a marker but is not exactly one.
    """
    return _strip(source, where)[0]


def _tags(cell) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def _write(nb, dst_path) -> Path:
    dst = Path(dst_path)
    dst.parent.mkdir(parents=True, exist_ok=True)
    _nbformat().write(nb, str(dst))
    return dst


def _student(src: Path):
    nbf = _nbformat()
    nb = nbf.read(str(src), as_version=4)
    cells, blocks = [], 0
    for index, cell in enumerate(nb.cells):
        if INSTRUCTOR_ONLY in _tags(cell):
            continue
        if cell.cell_type == "code":
            cell.source, n = _strip(cell.source, f"{src}: cell {index}")
            blocks += n
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb, blocks


def make_student_notebook(src_path, dst_path) -> Path:
    """Write the student edition of one notebook: solutions replaced, outputs cleared.

    Args:
        src_path: the instructor notebook (with solutions).
        dst_path: where to write; parent folders are created.

    Returns:
        the path written.

    Raises:
        ValueError: malformed solution markers, naming the notebook and the
            cell index (0-based, as in ``nb.cells``); nothing is written.
        ImportError: nbformat is not installed.
    """
    nb, _ = _student(Path(src_path))
    return _write(nb, dst_path)


def make_instructor_notebook(src_path, dst_path, strip_student_only: bool = True) -> Path:
    """Write the instructor edition of one notebook: solutions and outputs kept.

    The solution markers are checked as for the student edition, so a
    malformed notebook fails here too.

    Args:
        src_path: the source notebook.
        dst_path: where to write; parent folders are created.
        strip_student_only: drop cells tagged ``student-only``.

    Returns:
        the path written.
    """
    src = Path(src_path)
    nbf = _nbformat()
    nb = nbf.read(str(src), as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            _strip(cell.source, f"{src}: cell {index}")  # validation only
    if strip_student_only:
        nb.cells = [cell for cell in nb.cells if STUDENT_ONLY not in _tags(cell)]
    return _write(nb, dst_path)


def notebooks_in(path) -> list[Path]:
    """``path`` itself if it is a notebook, else the ``*.ipynb`` directly inside it, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"expected a notebook or a folder of notebooks, got {str(path)!r}, "
                                "which does not exist")
    return sorted(p for p in path.glob("*.ipynb") if p.is_file())


def build_edition(src, out_dir, edition: str = "student", strip_student_only: bool = True) -> list[Path]:
    """Build one edition of every notebook in ``src`` (a folder or one notebook) into ``out_dir``.

    Every notebook is checked before any is written, so a malformed one leaves
    ``out_dir`` untouched.

    Returns:
        the paths written, in the order of the sources.
    """
    if edition not in EDITIONS:
        raise ValueError(f"build_edition expected edition to be one of {list(EDITIONS)}, got {edition!r}")
    sources = notebooks_in(src)
    for path in sources:  # validate all first
        _student(path)
    out_dir = Path(out_dir)
    if edition == "student":
        return [make_student_notebook(p, out_dir / p.name) for p in sources]
    return [make_instructor_notebook(p, out_dir / p.name, strip_student_only) for p in sources]


def main(argv=None) -> int:
    """Command line: ``python -m bptutor.editions SRC --out DIR [--edition student|instructor]``."""
    parser = argparse.ArgumentParser(prog="python -m bptutor.editions",
                                     description="Build student or instructor editions of the course notebooks.")
    parser.add_argument("src", help="a folder of notebooks (or one notebook)")
    parser.add_argument("--out", required=True, help="output folder, e.g. build/student")
    parser.add_argument("--edition", choices=EDITIONS, default="student")
    parser.add_argument("--keep-student-only", action="store_true",
                        help="instructor edition: keep cells tagged student-only")
    args = parser.parse_args(argv)
    try:
        written = build_edition(args.src, args.out, args.edition, not args.keep_student_only)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} {args.edition} notebook{'s' if len(written) != 1 else ''} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
