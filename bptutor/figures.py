"""Static pictures of the explorers, for readers on a static viewer (``make figures``).

``python -m bptutor.figures [--out figures/] [--only PATTERN]`` builds each
explorer of :mod:`bptutor.widgets`, sets it to the states a chapter talks about
(a learning rate that is too small, right, too large...) and saves what the
widget would show, with its status line as the title, as a light PNG
(:data:`bptutor.widgets.DPI` dots per inch, under 100 KB). The notebooks
embed these files (as cell attachments, tools/prepare_notebooks.py) next to the live widget.

The pictures come from the same code as the widgets, so they cannot drift apart;
the file names below are the ones the notebooks refer to.
"""
from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

from . import widgets

#: file name -> (builder, control values, the verdict the picture must show). The order is the
#: chapters' order; a figure whose explorer reaches another verdict is an error, so a file named
#: "diverged" can never silently show a run that converged.
FIGURES = {
    "learning_rate_too_slow.png": (widgets.explore_learning_rate, {"lr": 1e-3}, "too slow"),
    "learning_rate_converged.png": (widgets.explore_learning_rate, {"lr": 0.1}, "converged"),
    "learning_rate_oscillating.png": (widgets.explore_learning_rate, {"optimizer": "SGD", "lr": 10 ** 0.9},
                                      "oscillating"),
    "learning_rate_diverged.png": (widgets.explore_learning_rate, {"lr": 10.0}, "diverged"),
    "optimizers_quadratic.png": (widgets.explore_optimizers, {"surface": "quadratic", "condition": 10.0},
                                 "all finished"),
    "optimizers_ill_conditioned.png": (widgets.explore_optimizers,
                                       {"surface": "quadratic", "condition": 100.0, "lr": 0.05},
                                       "some diverged"),
    "optimizers_rosenbrock.png": (widgets.explore_optimizers, {"surface": "Rosenbrock"}, "all finished"),
    "optimizers_network_slice.png": (widgets.explore_optimizers, {"surface": "network slice"},
                                     "all finished"),
    "momentum_map_polyak.png": (widgets.explore_momentum_map, {"lr": 0.033, "momentum": 0.67, "condition": 100.0},
                                "oscillating"),
    "momentum_map_diverging.png": (widgets.explore_momentum_map, {"lr": 0.03, "momentum": 0.3, "condition": 100.0},
                                   "diverging"),
    "momentum_map_too_much.png": (widgets.explore_momentum_map, {"lr": 0.03, "momentum": 0.9, "condition": 100.0},
                                  "oscillating"),
    "activation_sigmoid_saturated.png": (widgets.explore_activation, {"name": "sigmoid", "x": 4.0},
                                         "vanishing"),
    "activation_relu.png": (widgets.explore_activation, {"name": "relu", "x": 1.0}, "stable"),
    "activation_exploding.png": (widgets.explore_activation, {"name": "tanh", "x": 0.0, "weight": 1.5, "depth": 20},
                                 "exploding"),
    "loss_confidently_wrong.png": (widgets.explore_loss, {"p": 0.01, "target": 1}, "confidently wrong"),
    "loss_unsure.png": (widgets.explore_loss, {"p": 0.6, "target": 1}, "unsure"),
    "regularization_none.png": (widgets.explore_regularization, {"penalty": "none"}, "overfitting"),
    "regularization_l2.png": (widgets.explore_regularization, {"penalty": "L2", "lam": 1e-2}, "good fit"),
    "regularization_l1.png": (widgets.explore_regularization, {"penalty": "L1", "lam": 1e-3}, "good fit"),
    "regularization_too_strong.png": (widgets.explore_regularization, {"penalty": "L2", "lam": 0.1},
                                      "underfitting"),
    "regularization_dropout.png": (widgets.explore_regularization, {"dropout": 0.1}, "good fit"),
    "backward_start.png": (widgets.explore_backward, {"step": 0}, "start"),
    "backward_step_2.png": (widgets.explore_backward, {"step": 2}, "step"),
    "backward_done.png": (widgets.explore_backward, {"step": 5}, "done"),
    "bptt_vanishing.png": (widgets.explore_bptt, {"nonlinearity": "tanh", "spectral_radius": 0.9}, "vanishing"),
    "bptt_stable.png": (widgets.explore_bptt, {"nonlinearity": "linear", "spectral_radius": 1.0}, "stable"),
    "bptt_exploding.png": (widgets.explore_bptt, {"nonlinearity": "linear", "spectral_radius": 1.2}, "exploding"),
    "bptt_clipped.png": (widgets.explore_bptt, {"nonlinearity": "linear", "spectral_radius": 1.2, "clip": "at 1"},
                         "clipped"),
}


def render(name: str, out: Path) -> Path:
    """Render the figure ``name`` of :data:`FIGURES` into the folder ``out``; return its path.

    Raises:
        RuntimeError: the explorer's verdict is not the one the file name promises.
    """
    builder, values, kind = FIGURES[name]
    explorer = builder()
    explorer.set(**values)
    if explorer.state["kind"] != kind:
        raise RuntimeError(f"figure {name} should show {kind!r}, but the explorer says "
                           f"{explorer.state['kind']!r}: {explorer.state['message']}")
    path = out / name
    explorer.save(path)
    return path


def main(argv=None) -> list[Path]:
    """Command line: render every figure (or those matching ``--only``) into ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m bptutor.figures", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="figures", help="folder to write the PNGs into (default: figures)")
    parser.add_argument("--only", default="*", help="shell pattern of file names to render, e.g. 'loss_*'")
    args = parser.parse_args(argv)
    out = Path(args.out)
    names = [n for n in FIGURES if fnmatch.fnmatch(n, args.only)]
    if not names:  # refuse before anything is written
        parser.error(f"--only {args.only!r} matches none of {sorted(FIGURES)}")
    if out.exists() and not out.is_dir():
        parser.error(f"--out {args.out!r} is a file, expected a folder")
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = render(name, out)
        print(f"{path}  {path.stat().st_size / 1024:.0f} KB")
        paths.append(path)
    return paths


if __name__ == "__main__":
    main(sys.argv[1:])
