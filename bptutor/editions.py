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

Both editions are ready to hand out:

* **Pictures travel with the notebook.** A local image a markdown cell links
  to (``![...](../figures/x.png)`` or ``<img src="...">``) is embedded as a
  cell attachment and the link rewritten to ``attachment:x.png``, so a copy
  in any folder shows its figures. Links to the web are left alone; a link to
  a file that does not exist is refused, naming the notebook and the cell.
* **No execution timestamps, no stored widget state.** The cell metadata
  ``execution`` / ``ExecuteTime`` and the notebook's ``widgets`` metadata are
  dropped from both editions.
* **nbgrader metadata** (schema version 3). A code cell with a solution
  block is a solution cell (``solution: true``, ``grade_id`` the exercise's
  function). After each check cell whose top-level ``check_*(fn)`` call
  checks a function written in a solution cell, an *autograder test* cell is
  inserted (``grade: true``, ``locked: true``, 1 point): it asserts that the
  check passes when nbgrader runs it (``NBGRADER_EXECUTION`` is
  ``"validate"`` or ``"autograde"``) and does nothing otherwise, so "Run All"
  on the unsolved student edition still reaches the last cell. An instructor
  puts the instructor edition in nbgrader's ``source/`` folder; ``nbgrader
  generate_assignment`` and ``nbgrader autograde`` then work as usual
  (nbgrader's own markers are the same ``### BEGIN SOLUTION`` lines).

Safety: a source is never overwritten. An output folder that is the source
folder, lies inside it or contains it (or, for one notebook, is the notebook
itself or its folder) is refused before anything is read or written. Every
notebook is built in memory before the first is written, and each is written
to a temporary file in the output folder, then moved into place.

Command line, building every notebook of a folder::

    python -m bptutor.editions notebooks/ --out build/student
    python -m bptutor.editions notebooks/ --out build/instructor --edition instructor

A bad argument, a malformed notebook or a file that is not a notebook prints
one line ``error: ...`` naming the file and exits with status 2.

Reading and writing notebooks needs ``nbformat`` (in bptutor's ``test``
extra); it is imported only when a notebook is read.
"""
from __future__ import annotations

import argparse
import ast
import base64
import os
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


# --- reading and writing ------------------------------------------------------------------------

def _read(src: Path):
    """Read and validate one notebook; anything that is not a notebook is a ``ValueError`` naming the file."""
    nbf = _nbformat()
    if src.is_dir():
        raise ValueError(f"{src}: expected a notebook file, got a folder")
    try:
        with open(src, encoding="utf-8") as fh:
            nb = nbf.read(fh, as_version=4)
        nbf.validate(nb)
    except OSError as exc:
        raise ValueError(f"{src}: cannot read it ({exc.strerror or exc})") from None
    except Exception as exc:  # not JSON, not UTF-8, JSON but not a notebook (nbformat raises several kinds)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{src}: not a Jupyter notebook ({reason[:120]})") from None
    return nb


def _write(nb, dst: Path) -> Path:
    """Write ``nb`` to a temporary file beside ``dst``, then move it into place (never half a file)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        _nbformat().write(nb, str(tmp))
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dst


def _resolved(path) -> Path:
    return Path(os.path.abspath(os.fspath(path)))


def check_output(src, out, *, folder: bool = True) -> None:
    """Refuse an output that would overwrite or mix with the source.

    Args:
        src: the source notebook or folder.
        out: the output folder (``folder=True``) or notebook file.
        folder: whether ``out`` is a folder to write notebooks into.

    Raises:
        ValueError: ``out`` is the source, lies inside the source folder or
            contains it; for one source notebook, ``out`` is the notebook or
            (a folder) its own folder or a folder above it.
    """
    src_p, out_p = _resolved(src), _resolved(out)
    what = "--out" if folder else "dst_path"
    if out_p == src_p:
        raise ValueError(f"refusing to write the edition to {out}: it is the source {src} itself, which "
                         f"would be overwritten; choose another {what}, e.g. build/student")
    if Path(src).is_dir():
        if src_p in out_p.parents:
            raise ValueError(f"refusing to write the edition to {out}: it lies inside the source folder {src}; "
                             f"choose a {what} outside it, e.g. build/student")
        if out_p in src_p.parents:
            raise ValueError(f"refusing to write the edition to {out}: it contains the source folder {src}; "
                             f"choose a {what} beside it, e.g. build/student")
    elif folder and out_p in src_p.parents:
        raise ValueError(f"refusing to write the edition to {out}: it is the folder (or above the folder) of the "
                         f"source {src}; choose another {what}, e.g. build/student")
    if folder and out_p.exists() and not out_p.is_dir():
        raise ValueError(f"expected --out to be a folder, got the file {out}")
    if not folder and out_p.is_dir():
        raise ValueError(f"expected dst_path to be a notebook file, got the folder {out}")


# --- what both editions share: pictures, timestamps, nbgrader metadata ---------------------------

_MD_IMAGE = re.compile(r'(!\[[^\]]*\]\()(<?)([^)\s>]+)(>?)((?:\s+"[^"]*")?\))')
_HTML_IMAGE = re.compile(r'(<img\b[^>]*?\bsrc=)(["\'])([^"\']+)(\2)', re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".svg": "image/svg+xml"}


def _embed_images(cell, folder: Path, where: str) -> None:
    """Attach every local image a markdown cell links to, and point the link at the attachment."""
    attachments = dict(cell.get("attachments", {}))

    def attach(url: str) -> str:
        if _SCHEME.match(url) or url.startswith("#"):
            return url  # http(s):, data:, attachment: ... stay as they are
        path = (folder / url).resolve()
        mime = _MIME.get(path.suffix.lower())
        if mime is None:
            return url
        if not path.is_file():
            raise ValueError(f"{where}: the image {url!r} does not exist (looked for {path}); fix the link "
                             "so that the edition can carry the picture")
        data = path.read_bytes()
        payload = data.decode("utf-8") if mime == "image/svg+xml" else base64.b64encode(data).decode("ascii")
        name, n = path.name, 1
        while name in attachments and attachments[name] != {mime: payload}:
            n += 1
            name = f"{path.stem}-{n}{path.suffix}"
        attachments[name] = {mime: payload}
        return f"attachment:{name}"

    source = _MD_IMAGE.sub(lambda m: m.group(1) + m.group(2) + attach(m.group(3)) + m.group(4) + m.group(5),
                           cell.source)
    source = _HTML_IMAGE.sub(lambda m: m.group(1) + m.group(2) + attach(m.group(3)) + m.group(4), source)
    if attachments:
        cell.source, cell["attachments"] = source, attachments


def _clean(nb) -> None:
    """Drop execution timestamps and stored widget state."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in ("execution", "ExecuteTime"):
            cell.metadata.pop(key, None)


_GRADE_ID = re.compile(r"[^A-Za-z0-9_-]+")
AUTOGRADER_NOTE = "# Autograder test (nbgrader, 1 point)"


def _grade_id(text: str, used: set) -> str:
    base = _GRADE_ID.sub("_", text).strip("_") or "cell"
    grade_id, n = base, 1
    while grade_id in used:
        n += 1
        grade_id = f"{base}_{n}"
    used.add(grade_id)
    return grade_id


def _defined_functions(source: str) -> list:
    return [m.group(2) for m in map(_DEF.match, source.split("\n")) if m]


def _graded_checks(source: str, written: set) -> list:
    """The top-level ``check_*(fn, ...)`` calls of a cell whose first argument is a function the learner writes."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id.startswith("check_")
                and call.args and isinstance(call.args[0], ast.Name) and call.args[0].id in written):
            calls.append((call.args[0].id, ast.get_source_segment(source, call)))
    return calls


def _nbgrader(nb, stem: str) -> None:
    """Mark solution cells and insert one autograder test cell after each graded check (schema version 3)."""
    nbf = _nbformat()
    used: set = set()
    written: set = set()
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        if BEGIN in (line.strip() for line in cell.source.split("\n")):
            names = _defined_functions(cell.source)
            written.update(names)
            cell.metadata["nbgrader"] = {
                "grade": False, "solution": True, "locked": False, "schema_version": 3,
                "grade_id": _grade_id(f"{stem}_{names[0] if names else 'solution'}", used)}
            continue
        for fn, call in _graded_checks(cell.source, written):
            test = nbf.v4.new_code_cell(
                f"{AUTOGRADER_NOTE}: passes when `{call}` passes.\n"
                "# It asserts only while nbgrader validates or grades; elsewhere it does nothing.\n"
                "import os\n"
                'if os.environ.get("NBGRADER_EXECUTION") in ("validate", "autograde"):\n'
                f"    assert {call}.passed, {call + ' does not pass yet'!r}")
            test.metadata["nbgrader"] = {
                "grade": True, "solution": False, "locked": True, "points": 1, "schema_version": 3,
                "grade_id": _grade_id(f"{stem}_test_{fn}", used)}
            test.metadata["tags"] = ["autograder"]
            cells.append(test)
    nb.cells = cells


def _finish(nb, src: Path) -> None:
    """What both editions get: pictures embedded, timestamps and widget state dropped, nbgrader metadata."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            _embed_images(cell, src.parent, f"{src}: cell {index}")
    _clean(nb)
    _nbgrader(nb, src.stem)


# --- the two editions ---------------------------------------------------------------------------

def _student_edition(src: Path):
    """The student edition of ``src`` in memory (nothing written)."""
    original = _read(src)
    for index, cell in enumerate(original.cells):
        if cell.cell_type == "code":
            _strip(cell.source, f"{src}: cell {index}")  # malformed markers raise first
    # nbgrader metadata is decided on the source (where the markers are), then the solutions go
    original.cells = [c for c in original.cells if INSTRUCTOR_ONLY not in _tags(c)]
    _finish(original, src)
    for index, cell in enumerate(original.cells):
        if cell.cell_type == "code":
            cell.source = _strip(cell.source, f"{src}: cell {index}")[0]
            cell.outputs, cell.execution_count = [], None
    return original


def _instructor_edition(src: Path, strip_student_only: bool):
    """The instructor edition of ``src`` in memory (nothing written)."""
    nb = _read(src)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            _strip(cell.source, f"{src}: cell {index}")  # validation only
    if strip_student_only:
        nb.cells = [cell for cell in nb.cells if STUDENT_ONLY not in _tags(cell)]
    _finish(nb, src)
    return nb


def _check_paths(src_path, dst_path, who: str) -> tuple:
    _nbformat()  # a missing nbformat is reported first: nothing else can work without it
    for name, value in (("src_path", src_path), ("dst_path", dst_path)):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{who} expected {name} to be a path (str or pathlib.Path), got {value!r}")
    src, dst = Path(src_path), Path(dst_path)
    if not src.is_file():
        raise FileNotFoundError(f"{who} expected src_path to be a notebook file, got {str(src)!r}, "
                                "which does not exist" if not src.exists() else
                                f"{who} expected src_path to be a notebook file, got the folder {str(src)!r}")
    check_output(src, dst, folder=False)
    return src, dst


def make_student_notebook(src_path, dst_path) -> Path:
    """Write the student edition of one notebook: solutions replaced, outputs cleared.

    Args:
        src_path: the instructor notebook (with solutions).
        dst_path: where to write; parent folders are created. It may not be
            ``src_path`` itself.

    Returns:
        the path written.

    Raises:
        ValueError: malformed solution markers, naming the notebook and the
            cell index (0-based, as in ``nb.cells``); a file that is not a
            notebook; ``dst_path`` equal to ``src_path``; nothing is written.
        FileNotFoundError: ``src_path`` does not exist.
        ImportError: nbformat is not installed.
    """
    src, dst = _check_paths(src_path, dst_path, "make_student_notebook")
    return _write(_student_edition(src), dst)


def make_instructor_notebook(src_path, dst_path, strip_student_only: bool = True) -> Path:
    """Write the instructor edition of one notebook: solutions and outputs kept.

    The solution markers are checked as for the student edition, so a
    malformed notebook fails here too.

    Args:
        src_path: the source notebook.
        dst_path: where to write; parent folders are created; not ``src_path``.
        strip_student_only: drop cells tagged ``student-only``.

    Returns:
        the path written.
    """
    src, dst = _check_paths(src_path, dst_path, "make_instructor_notebook")
    if not isinstance(strip_student_only, bool):
        raise TypeError(f"make_instructor_notebook expected strip_student_only to be True or False, "
                        f"got {strip_student_only!r}")
    return _write(_instructor_edition(src, strip_student_only), dst)


def notebooks_in(path) -> list[Path]:
    """``path`` itself if it is a file, else the ``*.ipynb`` directly inside it, sorted."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"expected src to be a path (str or pathlib.Path), got {path!r}")
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"expected a notebook or a folder of notebooks, got {str(path)!r}, "
                                "which does not exist")
    return sorted(p for p in path.glob("*.ipynb") if p.is_file())


def build_edition(src, out_dir, edition: str = "student", strip_student_only: bool = True) -> list[Path]:
    """Build one edition of every notebook in ``src`` (a folder or one notebook) into ``out_dir``.

    ``out_dir`` is checked first (:func:`check_output`), then every notebook
    is built in memory, and only then are they written (each through a
    temporary file): a malformed notebook or a bad ``out_dir`` leaves the
    disk untouched.

    Returns:
        the paths written, in the order of the sources.
    """
    if edition not in EDITIONS:
        raise ValueError(f"build_edition expected edition to be one of {list(EDITIONS)}, got {edition!r}")
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"build_edition expected out_dir to be a path (str or pathlib.Path), got {out_dir!r}")
    sources = notebooks_in(src)
    check_output(src, out_dir)
    out_dir = Path(out_dir)
    if edition == "student":
        built = [_student_edition(p) for p in sources]
    else:
        built = [_instructor_edition(p, strip_student_only) for p in sources]
    return [_write(nb, out_dir / p.name) for p, nb in zip(sources, built)]


def main(argv=None) -> int:
    """Command line: ``python -m bptutor.editions SRC --out DIR [--edition student|instructor]``.

    Returns 0 on success and 2 on any error (after one line ``error: ...`` on
    stderr naming the file; no traceback), like argparse's own usage errors.
    """
    parser = argparse.ArgumentParser(prog="python -m bptutor.editions",
                                     description="Build student or instructor editions of the course notebooks.")
    parser.add_argument("src", help="a folder of notebooks (or one notebook)")
    parser.add_argument("--out", required=True, help="output folder, e.g. build/student (not inside src)")
    parser.add_argument("--edition", choices=EDITIONS, default="student")
    parser.add_argument("--keep-student-only", action="store_true",
                        help="instructor edition: keep cells tagged student-only")
    args = parser.parse_args(argv)
    try:
        written = build_edition(args.src, args.out, args.edition, not args.keep_student_only)
    except (ValueError, TypeError, OSError, ImportError) as exc:
        print(f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} {args.edition} notebook{'s' if len(written) != 1 else ''} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
