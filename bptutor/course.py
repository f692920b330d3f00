"""The course itself: notation, chapter map, notebook 00's environment check, and the
commands that copy the course out of an installed package and open it in Jupyter.

The notation table and the chapter map live here once; the README and
``notebooks/00_start_here.ipynb`` show the same tables, and a test keeps the
three in step.

Command line (also installed as the console script ``bptutor-course``)::

    python -m bptutor.course copy DIR      # write the notebooks and pictures into a new folder DIR
    python -m bptutor.course launch [--root DIR] [--app lab|notebook] [-- JUPYTER FLAGS...]

``launch`` is what ``make course`` runs: Jupyter rooted at the course folder and
opened on ``notebooks/00_start_here.ipynb``, with ``--allow-root`` when run as root
and ``--no-browser`` on a machine without a display.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# (symbol in LaTeX, meaning, identifier in code)
NOTATION: tuple[tuple[str, str, str], ...] = (
    (r"$N$, $D$, $H$, $C$", "batch size, input features, hidden units, classes", "`N`, `D`, `H`, `C`"),
    (r"$X \in \mathbb{R}^{N\times D}$", "a batch of inputs, one row per example", "`X`"),
    (r"$W \in \mathbb{R}^{D\times H}$, $b \in \mathbb{R}^{H}$", "a layer's weights and biases", "`W`, `b`"),
    (r"$Z = XW + b$", "pre-activations", "`Z`"),
    (r"$A = \sigma(Z)$", "activations", "`A`"),
    (r"$\sigma$", r"the logistic sigmoid $1/(1+e^{-z})$", "`sigmoid`"),
    (r"$y$, $t$", "targets (labels)", "`y`"),
    (r"$\hat y$, $p$", "the network's prediction, probabilities", "`pred`, `P`"),
    (r"$L$", "the loss", "`loss`"),
    (r"$\partial L/\partial \text{out}$", "the upstream gradient arriving at a layer", "`dout`"),
    (r"$\partial L/\partial X$, $\partial L/\partial W$, $\partial L/\partial b$",
     "gradients, same shape as $X$, $W$, $b$", "`dX`, `dW`, `db`"),
    (r"$\theta$", "all trainable parameters", "`model.parameters()`"),
    (r"$\eta$", "learning rate", "`lr`"),
    (r"$\mu$", "momentum coefficient", "`momentum`"),
    (r"$\beta_1$, $\beta_2$, $\epsilon$", "Adam's decay rates and stabiliser", "`beta1`, `beta2`, `eps`"),
    (r"$\hat m$, $\hat v$", "Adam's bias-corrected moments", "`m_hat`, `v_hat`"),
    (r"$\lambda$", "regularization strength", "`lam`"),
)

# (number, file name, title, what it teaches)
CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("00", "00_start_here.ipynb", "how to use the course, an environment check, the notation table, this map"),
    ("01", "01_forward_pass.ipynb", "a neuron, a layer as a matrix product, the 2-2-2 network's forward pass"),
    ("02", "02_loss_functions.ipynb", "MSE, binary and softmax cross-entropy, why `p - y`, log-sum-exp"),
    ("03", "03_chain_rule.ipynb", "the chain rule, a scalar autograd `Value`, the max gate, a `Value` MLP against PyTorch, reverse vs forward mode counted"),
    ("04", "04_backward_pass.ipynb", "the classic 2-2-2 example number by number, `dX`, `dW`, `db`, the depth-L recursion, softmax's Jacobian"),
    ("05", "05_training_loop.ipynb", "updates, epochs, stopping; learning rates compared; sanity checks; schedules and warm-up"),
    ("06", "06_gradient_descent_variants.ipynb", "batch vs mini-batch, momentum and its convergence map, Nesterov, AdaGrad, RMSProp, Adam on a network"),
    ("07", "07_activations_and_initialization.ipynb", "saturation, vanishing gradients, Xavier and He"),
    ("08", "08_overfitting_and_regularization.ipynb", "polynomial fits, bias and variance, L2 and L1, AdamW, dropout, early stopping as a ridge"),
    ("09", "09_local_minima_and_loss_landscapes.ipynb", "stuck XOR networks by width and loss, saddles, convex vs not"),
    ("10", "10_backprop_in_1986.ipynb", "where backprop came from (1960-1986), the symmetry experiment of Rumelhart, Hinton & Williams"),
    ("11", "11_alternatives_to_backprop.ipynb", "finite differences, SPSA, forward mode, ES, feedback alignment, DFA, node perturbation, forward-forward, Oja; what is known about scaling"),
    ("12", "12_capstone_digits.ipynb", "an MLP on the 8x8 digits, streamed from disk, tuned by a validation-only search"),
    ("13", "13_convolutional_networks.ipynb", "weight sharing, convolution forward and backward, im2col, max-pool, a CNN on the digits"),
    ("14", "14_recurrent_networks.ipynb", "the unrolled graph, backprop through time, vanishing and exploding gradients, the LSTM"),
    ("15", "15_deep_networks.ipynb", "gradients at depth, batch and layer normalization, residual connections"),
)


def notation_markdown() -> str:
    """The notation table as Markdown (the README and notebook 00 carry this text)."""
    lines = ["| symbol | meaning | identifier in code |", "|---|---|---|"]
    lines += [f"| {s} | {m} | {i} |" for s, m, i in NOTATION]
    return "\n".join(lines)


def chapter_markdown(notebook_dir: str | Path | None = None) -> str:
    """The chapter map as Markdown, listing only the notebooks present in ``notebook_dir``
    (all chapters when it is None)."""
    present = None
    if notebook_dir is not None:
        present = {p.name for p in Path(notebook_dir).glob("*.ipynb")}
    lines = ["| # | notebook | what you learn |", "|---|---|---|"]
    for number, name, summary in CHAPTERS:
        if present is None or name in present:
            lines.append(f"| {number} | `{name}` | {summary} |")
    return "\n".join(lines)


@dataclass
class EnvironmentReport:
    """What :func:`check_environment` found: one line per check, and whether all passed."""

    lines: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(passed for _, passed, _ in self.lines)

    def add(self, what: str, passed: bool, detail: str) -> None:
        self.lines.append((what, passed, detail))

    def __str__(self) -> str:
        width = max(len(w) for w, _, _ in self.lines)
        rows = [f"{'ok ' if p else 'FAIL'} {w:<{width}}  {d}" for w, p, d in self.lines]
        rows.append("All checks passed." if self.ok else "Some checks failed: see the FAIL lines.")
        return "\n".join(rows)


REQUIRED = (("numpy", "1.26"), ("matplotlib", "3.7"), ("ipywidgets", "8.0"), ("tqdm", "4.60"),
            ("networkx", "3.0"))


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_environment(train: bool = True) -> EnvironmentReport:
    """Check Python, the required packages, the shipped digits and (optionally) a tiny training run.

    Args:
        train: also train a 2-4-1 network on XOR with :func:`bptutor.training.fit`
            and check that it reaches 100% accuracy.

    Returns:
        An :class:`EnvironmentReport`; ``print`` it, or read ``.ok``.
    """
    report = EnvironmentReport()
    py_ok = sys.version_info >= (3, 10)
    report.add("python", py_ok, f"{platform.python_version()} (need >= 3.10)")
    for name, minimum in REQUIRED:
        try:
            module = importlib.import_module(name)
        except ImportError:
            report.add(name, False, f"not installed (need >= {minimum}); run `make course`")
            continue
        version = getattr(module, "__version__", "0")
        report.add(name, _version_tuple(version) >= _version_tuple(minimum), f"{version} (need >= {minimum})")
    try:
        import torch  # noqa: F401  (optional reference)
        report.add("torch (optional)", True, f"{torch.__version__}: the PyTorch comparisons will run")
    except ImportError:
        report.add("torch (optional)", True, "not installed: the PyTorch comparisons are skipped")

    from .datasets import load_digits
    try:
        X, y = load_digits()
        report.add("digits data", X.shape == (1797, 64), f"{X.shape[0]} images, SHA-256 verified")
    except (OSError, ValueError) as exc:
        report.add("digits data", False, str(exc))

    if train:
        report.add(*_train_xor())
    return report


def _train_xor() -> tuple[str, bool, str]:
    from .activations import Sigmoid, Tanh
    from .datasets import make_xor
    from .layers import Linear, Sequential
    from .optim import Adam
    from .training import evaluate, fit

    X, y = make_xor(noise=0.0, rng=0)
    model = Sequential(Linear(2, 4, rng=0), Tanh(), Linear(4, 1, rng=1), Sigmoid())
    start = time.perf_counter()
    fit(model, "bce", Adam(model.parameters(), lr=0.05), X, y.reshape(-1, 1).astype(float),
        epochs=500, progress=False, rng=0)
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, "bce", X, y.reshape(-1, 1).astype(float))["accuracy"]
    return ("training", accuracy == 1.0, f"XOR learned to {accuracy:.0%} accuracy in {seconds:.2f} s")


# -- the course as files: where they are, copying them out, opening them ------------------------

START_NOTEBOOK = "00_start_here.ipynb"


def course_source() -> tuple[Path, Path]:
    """The folders holding the notebooks and the pictures: the checkout's ``notebooks/`` and
    ``figures/`` when bptutor runs from one, else the copies installed with the package
    (``bptutor/course_notebooks``, ``bptutor/course_figures``).

    Raises:
        FileNotFoundError: neither is there (a broken install).
    """
    package = Path(__file__).resolve().parent
    checkout = package.parent
    candidates = [(checkout / "notebooks", checkout / "figures"),
                  (package / "course_notebooks", package / "course_figures")]
    for notebooks, figures in candidates:
        if (notebooks / START_NOTEBOOK).is_file():
            return notebooks, figures
    raise FileNotFoundError(f"bptutor's notebooks are not installed: looked for {START_NOTEBOOK} in "
                            + " and ".join(str(n) for n, _ in candidates))


def copy_course(dest: str | Path) -> Path:
    """Write a working course folder ``dest``: ``notebooks/`` (with ``guides/`` when present),
    ``figures/`` and a short README. The digits need no copy: they are installed with the
    package as ``bptutor.data``.

    The folder is assembled under a temporary name beside ``dest`` and renamed into place,
    so an interrupted copy leaves nothing half-written.

    Args:
        dest: a path that does not exist yet (its parent folders are created).

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        FileExistsError: ``dest`` exists; nothing is written.
        FileNotFoundError: the notebooks are not installed; nothing is written.
    """
    dest = Path(dest)
    if dest.exists() or dest.is_symlink():
        raise FileExistsError(f"bptutor-course copy expected a folder that does not exist yet, "
                              f"got {str(dest)!r}, which exists: choose a new name (nothing was written)")
    notebooks, figures = course_source()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        (tmp / "notebooks").mkdir()
        for path in sorted(notebooks.glob("*.ipynb")):
            shutil.copy2(path, tmp / "notebooks" / path.name)
        if (notebooks / "guides").is_dir():
            shutil.copytree(notebooks / "guides", tmp / "notebooks" / "guides",
                            ignore=shutil.ignore_patterns("__pycache__", ".*"))
        (tmp / "figures").mkdir()
        for path in sorted(figures.glob("*.png")):
            shutil.copy2(path, tmp / "figures" / path.name)
        (tmp / "README.md").write_text(_COPY_README)
        if dest.exists():  # appeared while we copied
            raise FileExistsError(f"bptutor-course copy: {str(dest)!r} appeared while copying; nothing was written")
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


_COPY_README = """# bptutor: the course

The notebooks are in `notebooks/`, in order; start with `notebooks/00_start_here.ipynb`.
`figures/` holds the explorers' pictures. To open the course in JupyterLab from this folder:

    bptutor-course launch

(or open the notebooks in VS Code or any Jupyter front end: they need only `bptutor`,
which their first code cell installs when it is missing).
"""


def _has_browser(environ=None, platform_name: str | None = None) -> bool:
    """Whether Jupyter can open a browser here: always on macOS and Windows; on Linux and
    the like only with a display (``DISPLAY``/``WAYLAND_DISPLAY``) or a ``BROWSER`` set."""
    environ = os.environ if environ is None else environ
    platform_name = sys.platform if platform_name is None else platform_name
    if platform_name in ("darwin", "win32"):
        return True
    return any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))


def jupyter_command(root: str | Path, extra_args=(), app: str = "lab", *, uid: int | None = None,
                    has_browser: bool | None = None, python: str = sys.executable) -> list[str]:
    """The command line that opens the course: Jupyter ``app`` rooted at ``root`` and opened
    on ``notebooks/00_start_here.ipynb``.

    Args:
        root: the course folder (a checkout or a copy), holding ``notebooks/``.
        extra_args: further Jupyter flags, passed through last but before the notebook
            (``["--ip=0.0.0.0", "--port=8888"]``).
        app: ``"lab"`` (JupyterLab) or ``"notebook"`` (Notebook 7).
        uid: the user id (default: this process's); 0 adds ``--allow-root``.
        has_browser: whether a browser can open (default: :func:`_has_browser`); False adds
            ``--no-browser``.

    Returns:
        The argument list, starting with ``python -m jupyter``.
    """
    if app not in ("lab", "notebook"):
        raise ValueError(f"jupyter_command expected app 'lab' or 'notebook', got {app!r}")
    if isinstance(extra_args, str):
        raise TypeError("jupyter_command expected extra_args as a list of flags, got a string")
    root = Path(root).resolve()
    start = root / "notebooks" / START_NOTEBOOK
    if not start.is_file():
        raise FileNotFoundError(f"jupyter_command expected a course folder holding notebooks/{START_NOTEBOOK}, "
                                f"got {str(root)!r}")
    uid = (os.getuid() if hasattr(os, "getuid") else 1) if uid is None else uid
    has_browser = _has_browser() if has_browser is None else has_browser
    argv = [python, "-m", "jupyter", app, f"--ServerApp.root_dir={root}"]
    if uid == 0:
        argv.append("--allow-root")      # containers and cloud notebooks run as root
    if not has_browser:
        argv.append("--no-browser")      # Jupyter prints the URL to open instead
    argv += [str(a) for a in extra_args]
    argv.append(str(start))
    return argv


def main(argv=None) -> int:
    """``bptutor-course copy DIR`` and ``bptutor-course launch``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="bptutor-course",
                                     description="Copy the bptutor course into a folder, or open it in Jupyter.")
    sub = parser.add_subparsers(dest="command", required=True)
    copy = sub.add_parser("copy", help="write the notebooks and pictures into a new folder")
    copy.add_argument("dest", help="the folder to create (must not exist)")
    launch = sub.add_parser("launch", help="open the course in JupyterLab (what `make course` runs)")
    launch.add_argument("--root", default=".", help="the course folder (default: here)")
    launch.add_argument("--app", choices=("lab", "notebook"), default="lab")
    launch.add_argument("jupyter_args", nargs=argparse.REMAINDER,
                        help="flags for Jupyter, after --, e.g. -- --ip=0.0.0.0 --port=8888")
    args = parser.parse_args(argv)
    if args.command == "copy":
        try:
            dest = copy_course(args.dest)
        except (FileExistsError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote the course to {dest}: open {dest / 'notebooks' / START_NOTEBOOK}")
        return 0
    extra = args.jupyter_args[1:] if args.jupyter_args[:1] == ["--"] else args.jupyter_args
    module = "jupyterlab" if args.app == "lab" else "notebook"
    if importlib.util.find_spec(module) is None:
        print(f"error: {module} is not installed here; `make course` (or pip install 'bptutor[course]') "
              "installs it", file=sys.stderr)
        return 2
    try:
        command = jupyter_command(args.root, extra, args.app)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(" ".join(command), flush=True)
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
