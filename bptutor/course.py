"""The course itself: notation, chapter map and the environment check of notebook 00.

The notation table and the chapter map live here once; the README and
``notebooks/00_start_here.ipynb`` show the same tables, and a test keeps the
three in step.
"""
from __future__ import annotations

import importlib
import platform
import sys
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
    ("03", "03_chain_rule.ipynb", "the chain rule, a scalar autograd `Value`, a backward pass step by step"),
    ("04", "04_backward_pass.ipynb", "the classic 2-2-2 example number by number, then `dX`, `dW`, `db`"),
    ("05", "05_training_loop.ipynb", "updates, epochs, stopping; XOR and two moons; learning rates compared"),
    ("06", "06_gradient_descent_variants.ipynb", "batch vs mini-batch, momentum, Nesterov, AdaGrad, RMSProp, Adam"),
    ("07", "07_activations_and_initialization.ipynb", "saturation, vanishing gradients, Xavier and He"),
    ("08", "08_overfitting_and_regularization.ipynb", "polynomial fits, L2 and L1, dropout, early stopping"),
    ("09", "09_local_minima_and_loss_landscapes.ipynb", "stuck XOR networks, saddles, convex vs not"),
    ("10", "10_backprop_in_1986.ipynb", "the symmetry experiment of Rumelhart, Hinton & Williams"),
    ("11", "11_alternatives_to_backprop.ipynb", "finite differences, SPSA, forward mode, ES, feedback alignment, Oja"),
    ("12", "12_capstone_digits.ipynb", "an MLP on the 8x8 digits, streamed from disk"),
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
