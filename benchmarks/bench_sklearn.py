"""4. scikit-learn's MLPClassifier on the digits: wall time to reach 95% test accuracy.

Both sides train 64-128-10 with ReLU, softmax cross-entropy, Adam (lr 1e-3,
betas 0.9/0.999, eps 1e-8), mini-batches of 64, no weight penalty
(``alpha=0``), float64, on the same 80/20 stratified split of the 1,797
digits scaled to [0, 1], from the same initial weights: scikit-learn's
``coefs_`` and ``intercepts_`` are overwritten with bptutor's ``W`` and
``b`` before the clock starts. After every epoch each side measures its
accuracy on the test set; the clock stops at the first epoch that reaches
95%. The figure is the median over seeds (a seed fixes the initial weights
and the shuffling of both sides), the two sides alternating.

scikit-learn is driven by ``partial_fit``, one epoch per call, which keeps
its Adam state between calls. Its first call (which creates the weights) is
made on one row before the clock starts and its optimizer is then dropped,
so both start from the same weights with a fresh Adam.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from _common import in_worker, installed, median, row, skipped, thread_settings

SECTION = "4 digits vs scikit-learn"
TARGET_ACC = 0.95


def digits_split(seed: int = 0):
    from bptutor.datasets import load_digits, train_val_test_split

    X, y = load_digits()
    (Xtr, ytr), _, (Xte, yte) = train_val_test_split(X / 16.0, y, val=0.0, test=0.2, rng=seed)
    return Xtr, ytr, Xte, yte


def bptutor_model(seed: int, hidden: int):
    from bptutor.activations import ReLU
    from bptutor.layers import Linear, Sequential

    # xavier_uniform is scikit-learn's own initialisation for ReLU (uniform, bound sqrt(6/(fan_in+fan_out)))
    return Sequential(Linear(64, hidden, rng=seed, init="xavier_uniform"), ReLU(),
                      Linear(hidden, 10, rng=seed + 1, init="xavier_uniform"))


class _ReachAccuracy:
    """fit callback: stop once the test accuracy reaches ``target``; counts epochs."""

    def __init__(self, X, y, target: float):
        self.X, self.y, self.target, self.epochs = X, y, target, 0

    def on_epoch_end(self, model, epoch, logs) -> bool:
        from bptutor.training import predict

        self.epochs = epoch + 1
        return float(np.mean(predict(model, self.X).argmax(axis=1) == self.y)) >= self.target


def time_bptutor(seed: int, hidden: int, batch: int, max_epochs: int, data,
                 target: float = TARGET_ACC) -> tuple[float, int]:
    """Seconds and epochs until the test accuracy reaches ``target`` (inf if it never does)."""
    from bptutor.optim import Adam
    from bptutor.training import fit

    Xtr, ytr, Xte, yte = data
    model = bptutor_model(seed, hidden)
    stop = _ReachAccuracy(Xte, yte, target)
    start = time.perf_counter()
    fit(model, "cross_entropy", Adam(model.parameters(), lr=1e-3), Xtr, ytr, epochs=max_epochs,
        batch_size=batch, progress=False, rng=seed, callbacks=[stop])
    seconds = time.perf_counter() - start
    reached = float(np.mean(_predict_labels(model, Xte) == yte)) >= target
    return (seconds if reached else float("inf")), stop.epochs


def _predict_labels(model, X):
    from bptutor.training import predict

    return predict(model, X).argmax(axis=1)


def time_sklearn(seed: int, hidden: int, batch: int, max_epochs: int, data,
                 target: float = TARGET_ACC) -> tuple[float, int]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    Xtr, ytr, Xte, yte = data
    clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", solver="adam", alpha=0.0,
                        batch_size=batch, learning_rate_init=1e-3, shuffle=True, random_state=seed)
    classes = np.arange(10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a batch larger than one row is clipped, with a warning
        clf.partial_fit(Xtr[:1], ytr[:1], classes=classes)  # creates the weights
    same = bptutor_model(seed, hidden)
    for coef, intercept, layer in zip(clf.coefs_, clf.intercepts_, [same.layers[0], same.layers[2]]):
        coef[...] = layer.W.data            # both store W as (in, out)
        intercept[...] = layer.b.data
    if hasattr(clf, "_optimizer"):
        del clf._optimizer                  # the next partial_fit starts a fresh Adam on these weights
    start = time.perf_counter()
    epochs = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        while epochs < max_epochs:
            clf.partial_fit(Xtr, ytr)
            epochs += 1
            if clf.score(Xte, yte) >= target:
                return time.perf_counter() - start, epochs
    return float("inf"), epochs


def worker(quick: bool) -> dict:
    """Both sides over the seeds, alternating: ``{side: [[seconds or None, epochs], ...]}``."""
    hidden, batch, seeds, max_epochs, target = _settings(quick)
    data = digits_split(0)
    sides = {"bptutor": time_bptutor}
    if installed("sklearn"):
        sides["sklearn"] = time_sklearn
    for side in sides.values():  # warm-up: imports, caches
        side(0, hidden, batch, 1, data)
    results = {name: [] for name in sides}
    for i, seed in enumerate(seeds):
        for name in (list(sides) if i % 2 == 0 else list(sides)[::-1]):
            seconds, epochs = sides[name](seed, hidden, batch, max_epochs, data, target)
            results[name].append([seconds if np.isfinite(seconds) else None, epochs])
    return results


def _settings(quick: bool) -> tuple:
    """Hidden units, batch size, seeds, maximum epochs, test accuracy to reach."""
    return (16, 64, [0], 5, 0.5) if quick else (128, 64, list(range(7)), 200, TARGET_ACC)


def run(quick: bool = False) -> list:
    hidden, batch, seeds, _, target = _settings(quick)
    rows = []
    for threads in thread_settings(quick):
        plural = "s" if threads > 1 else ""
        figure = (f"time to {target:.0%} test accuracy, digits 64-{hidden}-10, Adam, batch {batch}, "
                  f"{threads} thread{plural}")
        have_sklearn = installed("sklearn")
        results = worker(quick) if quick else in_worker(__file__, [], threads)
        ms = {}
        for name, r in results.items():
            seconds = [float("inf") if s is None else s for s, _ in r]
            ms[name] = 1e3 * median(seconds) if np.isfinite(median(seconds)) else None
        epochs = {name: median([e for _, e in r]) for name, r in results.items()}
        note = (f"median over {len(seeds)} seeds, same initial weights, alpha=0, float64, {threads} BLAS "
                f"thread{plural}; median epochs " + ", ".join(f"{k} {v:g}" for k, v in epochs.items())
                + "; includes the per-epoch test evaluation on both sides")
        if quick:
            note += " (quick: 50% accuracy, 5 epochs at most)"
        if not have_sklearn:
            rows.append(skipped(SECTION, figure, "scikit-learn is not installed", "ms", ms["bptutor"],
                                threads=threads, per_seed=results))
            continue
        from importlib.metadata import version

        rows.append(row(SECTION, figure, "ms", ms["bptutor"], ms["sklearn"],
                        reference_name=f"scikit-learn {version('scikit-learn')} MLPClassifier",
                        target_of="ratio", target_max=0.5, target_text="<= 0.5", note=note,
                        threads=threads, per_seed=results))
    return rows


if __name__ == "__main__":
    import json
    import sys

    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(False)))
    else:
        print(json.dumps(run("--quick" in sys.argv), indent=1))
