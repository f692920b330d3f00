"""Exercise checks for chapter 12, the digits capstone.

* ``check_confusion_matrix``: ``confusion_matrix(y_true, y_pred, n_classes) -> M``
* ``check_input_gradient``: ``input_gradient(X, y, W1, b1, W2, b2) -> dX``
* ``check_streamed_mean_std``: ``streamed_mean_std(X, batch_size) -> (mean, std)``
* ``check_search_then_test``: ``search_then_test(configs, val_loss, test_accuracy) -> (best, test_score)``
"""
from __future__ import annotations

import tracemalloc

import numpy as np

from .. import activations as act
from .._checks import check_rng
from ..layers import Linear, Sequential
from ..losses import cross_entropy_loss
from ..training import confusion_matrix
from ._core import Case, CheckResult, Mistake, _Diagnosed, _exception_hint, _fd, _summary, check_outputs


# --- confusion matrix -----------------------------------------------------------------------------------------
def _labels_case(g, N: int, C: int, present: int, note: str) -> Case:
    """Labels drawn from the first ``present`` of ``C`` classes, so repeated pairs are certain."""
    y_true = g.integers(0, present, size=N)
    y_pred = np.where(g.random(N) < 0.6, y_true, g.integers(0, present, size=N))  # mostly right
    return Case({"y_true": y_true, "y_pred": y_pred, "n_classes": C}, note, {"N": N})


def check_confusion_matrix(fn, rng=0) -> CheckResult:
    r"""Exercise (12): the confusion matrix, :math:`M_{ij} = \#\{n : y_n = i,\ \hat y_n = j\}`.

    The learner writes ``confusion_matrix(y_true, y_pred, n_classes) -> M``,
    ``M`` of shape (C, C) holding counts, row = true class, column = predicted
    class. Compared with :func:`bptutor.training.confusion_matrix`. Diagnosed:
    rows and columns swapped, repeated pairs counted once (``M[y_true, y_pred]
    += 1``), the size taken from the largest label instead of ``n_classes``,
    rows normalised to fractions, labels shifted by one.
    """
    g = check_rng(rng)
    cases = [_labels_case(g, 40, 4, 4, "40 labels, 4 classes: many repeated (true, predicted) pairs"),
             _labels_case(g, 30, 6, 4, "6 classes, but only classes 0 to 3 occur"),
             _labels_case(g, 7, 3, 3, "7 labels, 3 classes")]

    def reference(a):
        return confusion_matrix(a["y_true"], a["y_pred"], a["n_classes"])

    def size_from_labels(a, r):
        k = int(max(a["y_true"].max(), a["y_pred"].max())) + 1
        return {"M": r["M"][:k, :k]}

    def rows_normalised(a, r):
        sums = r["M"].sum(axis=1, keepdims=True)
        return {"M": np.divide(r["M"], sums, out=np.zeros_like(r["M"]), where=sums > 0)}

    mistakes = (
        Mistake("rows and columns swapped", "M[i, j] counts the examples of TRUE class i that were PREDICTED "
                "as j: the true label picks the row, M[y_true[n], y_pred[n]].", lambda a, r: {"M": r["M"].T}),
        Mistake("repeated (true, predicted) pairs were counted once", "M[y_true, y_pred] += 1 writes each "
                "repeated index only once (numpy buffers fancy-index assignment); count with a loop over n, "
                "or with np.add.at(M, (y_true, y_pred), 1).", lambda a, r: {"M": (r["M"] > 0).astype(float)}),
        Mistake("the size comes from the labels, not from n_classes", "a class that never occurs in these "
                "labels still needs its (zero) row and column: start from np.zeros((n_classes, n_classes)).",
                size_from_labels),
        Mistake("the rows were normalised", "return counts, not fractions; dividing each row by its sum "
                "gives the per-class accuracies, a separate step.", rows_normalised),
        Mistake("the labels were shifted by one", "the labels already count from 0, like numpy's indices: "
                "use y_true[n] and y_pred[n] as they are, without - 1.",
                lambda a, r: {"M": np.roll(r["M"], (-1, -1), axis=(0, 1))}),
    )
    return check_outputs(fn, name="confusion_matrix", reference=reference, cases=cases, outputs=("M",),
                         mistakes=mistakes, source="bptutor.training.confusion_matrix")


# --- the gradient with respect to the input ---------------------------------------------------------------
def _net(a) -> Sequential:
    return Sequential(Linear.from_arrays(a["W1"], a["b1"]), act.ReLU(), Linear.from_arrays(a["W2"], a["b2"]))


def _input_grad(a, *, mean=False, mask=True, subtract_y=True) -> np.ndarray:
    """dX of the summed (or mean) cross-entropy, with switches for the classic mistakes."""
    X, y, W1, b1, W2, b2 = (a[k] for k in ("X", "y", "W1", "b1", "W2", "b2"))
    N = X.shape[0]
    Z1 = X @ W1 + b1                                   # (N, H)
    P = act.softmax(np.maximum(Z1, 0.0) @ W2 + b2)     # (N, C)
    dZ2 = P - np.eye(W2.shape[1])[y] if subtract_y else P
    dZ1 = (dZ2 @ W2.T) * (Z1 > 0 if mask else 1.0)    # (N, H)
    return dZ1 @ W1.T / (N if mean else 1.0)           # (N, D)


def _mlp_case(g, N: int, D: int, H: int, C: int, scale: float = 1.0, note: str = "") -> Case:
    args = {"X": g.normal(size=(N, D)), "y": g.integers(0, C, size=N),
            "W1": g.normal(size=(D, H)) / np.sqrt(D), "b1": 0.1 * g.normal(size=H),
            "W2": scale * g.normal(size=(H, C)) / np.sqrt(H), "b2": 0.1 * g.normal(size=C)}
    return Case(args, note, {"N": N})


def check_input_gradient(fn, rng=0) -> CheckResult:
    r"""Exercise (12): backprop to the pixels, :math:`\partial \ell_n / \partial x_n` for each example.

    The network is :math:`\text{logits} = \mathrm{relu}(XW_1 + b_1)W_2 + b_2` with
    softmax cross-entropy. The learner writes
    ``input_gradient(X, y, W1, b1, W2, b2) -> dX``, ``X`` (N, D), ``y`` integer
    labels (N,), ``W1`` (D, H), ``W2`` (H, C); ``dX`` (N, D) is the gradient of
    the **summed** loss :math:`\sum_n \ell_n`, so row :math:`n` is example
    :math:`n`'s own gradient. Compared with ``model.backward`` of a bptutor
    ``Sequential`` and with finite differences. Diagnosed: the mean loss's
    gradient (a stray 1/N), the ReLU derivative forgotten, the one-hot targets
    not subtracted, a sign flip; shapes that only work when square; an
    overflowing softmax on large logits.
    """
    g = check_rng(rng)
    cases = [_mlp_case(g, 5, 6, 4, 3), _mlp_case(g, 3, 8, 5, 4),
             _mlp_case(g, 4, 6, 4, 3, scale=3000.0, note="large logits (thousands): subtract the row maximum")]
    square = [_mlp_case(g, 4, 4, 4, 4, note="every size 4")]

    def reference(a):
        model = _net(a)
        N = a["X"].shape[0]
        _, dout = cross_entropy_loss(model.forward(a["X"]), a["y"])
        return model.backward(dout * N)  # the mean loss's dout times N: the summed loss

    def summed_loss(a):
        return cross_entropy_loss(_net(a).forward(a["X"]), a["y"])[0] * a["X"].shape[0]

    mistakes = (
        Mistake("this is the gradient of the mean loss", "each row should be that example's own gradient, "
                "from the summed loss: dlogits = P - Y, without dividing by N.",
                lambda a, r: {"dX": _input_grad(a, mean=True)}),
        Mistake("forgot the ReLU derivative", "on the way back through relu(Z1), multiply by the 0/1 mask "
                "(Z1 > 0): dZ1 = (dlogits @ W2.T) * (Z1 > 0).", lambda a, r: {"dX": _input_grad(a, mask=False)}),
        Mistake("the one-hot targets were not subtracted", "the gradient of softmax cross-entropy with respect "
                "to the logits is P - Y (Y one-hot of y), not P.",
                lambda a, r: {"dX": _input_grad(a, subtract_y=False)}),
        Mistake("sign flip", "dX is the gradient of the loss: dlogits = P - Y, then back through W2.T, "
                "the mask and W1.T, with no minus sign.", lambda a, r: {"dX": -r["dX"]}),
    )
    return check_outputs(fn, name="input_gradient", reference=reference, cases=cases, outputs=("dX",),
                         mistakes=mistakes, like={"dX": "X"}, square_cases=square,
                         numeric=lambda a: _fd(summed_loss, a, {"dX": "X"}),
                         source="model.backward of a bptutor Sequential")


# --- statistics streamed from disk ------------------------------------------------------------------------
class _OnDisk:
    """A stand-in for an ``np.memmap``: it serves rows by indexing and remembers the largest read."""

    def __init__(self, X: np.ndarray):
        self._X = X
        self.shape, self.dtype, self.ndim = X.shape, X.dtype, X.ndim
        self.largest = 0

    def __len__(self) -> int:
        return self._X.shape[0]

    def _note(self, index) -> None:
        first = index[0] if isinstance(index, tuple) and index else index
        rows = self._X.shape[0] if first is Ellipsis else np.arange(self._X.shape[0])[first].size
        self.largest = max(self.largest, int(rows))

    def __getitem__(self, index):
        out = np.array(self._X[index])  # raises IndexError past the end, which ends a for loop
        self._note(index)
        return out

    def __array__(self, dtype=None, copy=None):
        self.largest = self._X.shape[0]
        return np.array(self._X, dtype=dtype)

    def __getattr__(self, name):
        raise AttributeError(f"X stands for an array on disk and only serves rows, X[start:stop]; it has no "
                             f".{name} (np.mean(X) or X.{name}(...) would read the whole file at once)")


#: cases at least this large are also watched for memory: a right answer holds a few batches at a time.
_MEMORY_CASE_BYTES = 256 * 1024


def _traced(fn, *args):
    """``(fn(*args), peak bytes allocated during the call)``, measured with tracemalloc (numpy reports
    its array buffers to it)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn(*args)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if started:
            tracemalloc.stop()
    return result, peak


def _stream_case(g, N: int, D: int, batch_size: int) -> Case:
    X = g.normal(loc=3.0, scale=2.0, size=(N, D)) * g.uniform(0.5, 2.0, size=D)
    last = N - batch_size * ((N - 1) // batch_size)
    note = (f"one batch of {N} rows" if batch_size >= N
            else f"{-(-N // batch_size)} batches, the last one {last} rows")
    return Case({"X": X, "batch_size": batch_size}, note, {"N": N})


def _batches(a):
    X, B = a["X"], a["batch_size"]
    return [X[s:s + B] for s in range(0, X.shape[0], B)]


def check_streamed_mean_std(fn, rng=0) -> CheckResult:
    r"""Exercise (12): per-feature mean and standard deviation, reading one batch at a time.

    .. math:: \mu_d = \frac1N\sum_n x_{nd}, \qquad
              \sigma_d = \sqrt{\frac1N\sum_n x_{nd}^2 - \mu_d^2}

    The learner writes ``streamed_mean_std(X, batch_size) -> (mean, std)``,
    ``mean`` and ``std`` of shape (D,) (``std`` as ``np.std``, dividing by N).
    ``X`` is a stand-in for an ``np.memmap`` that only serves rows
    (``X[start:stop]``, ``len(X)``, ``X.shape``) and records the largest read:
    reading more than ``batch_size`` rows at once fails, and on a 640 KB input
    the peak memory of the call is measured (``tracemalloc``): holding more than
    half the array at once fails too. Diagnosed: the whole array read at once,
    all batches gathered in memory (a list, ``np.concatenate``), the outputs in
    swapped order, the batch means (or standard deviations) averaged
    although the last batch is smaller, the sample standard deviation
    (N - 1), the variance returned, only the first or last batch used.
    """
    g = check_rng(rng)
    cases = [_stream_case(g, 50, 3, 16), _stream_case(g, 23, 5, 5), _stream_case(g, 12, 2, 12),
             _stream_case(g, 2000, 40, 100)]  # 640 KB: large enough to see a whole-data copy in memory

    def reference(a):
        return a["X"].mean(axis=0), a["X"].std(axis=0)

    def call(fn, a):
        X = _OnDisk(a["X"])
        result, peak = _traced(fn, X, a["batch_size"])
        if X.largest > a["batch_size"]:
            raise _Diagnosed(f"streamed_mean_std read {X.largest} rows at once with batch_size "
                             f"{a['batch_size']}",
                             "hold one batch at a time: loop over X[start:start + batch_size] and keep running "
                             "sums (the count, the sum of x and the sum of x**2 per feature); np.mean(X), "
                             "np.asarray(X) or X[:, d] read the whole file.")
        whole = a["X"].nbytes
        if whole >= _MEMORY_CASE_BYTES and peak > 0.5 * whole:
            batch = a["batch_size"] * a["X"].shape[1] * a["X"].itemsize
            raise _Diagnosed(f"streamed_mean_std read one batch at a time but held {peak / 1024:,.0f} KB at once "
                             f"(one batch is {batch / 1024:,.0f} KB, the whole array {whole / 1024:,.0f} KB)",
                             "the batches were gathered before computing (a list of batches, np.concatenate or "
                             "np.vstack of them, or a copy of the data): that holds the whole data set in memory, "
                             "which streaming is meant to avoid. Update running totals inside the loop and let "
                             "each batch go.")
        return result

    def one_batch(pick):
        return lambda a, r: {"mean": pick(_batches(a)).mean(axis=0), "std": pick(_batches(a)).std(axis=0)}

    mistakes = (
        Mistake("mean and std returned in swapped order", "the function should end with `return mean, std`, "
                "in that order; you returned the standard deviation first.",
                lambda a, r: {"mean": r["std"], "std": r["mean"]}),
        Mistake("averaged the batch means", "the last batch is smaller, so its mean must count less: add up "
                "the sums and the row counts over all batches and divide once at the end.",
                lambda a, r: {"mean": np.mean([B.mean(axis=0) for B in _batches(a)], axis=0)}),
        Mistake("averaged the batch standard deviations", "standard deviations of batches do not combine "
                "by averaging (each batch has its own mean): accumulate the sum of x**2, then "
                "std = sqrt(sum_x2 / N - mean**2).",
                lambda a, r: {"std": np.mean([B.std(axis=0) for B in _batches(a)], axis=0)}),
        Mistake("the sample standard deviation (divided by N - 1)", "divide by N, as np.std does by default.",
                lambda a, r: {"std": a["X"].std(axis=0, ddof=1)}),
        Mistake("returned the variance", "take the square root: std = sqrt(sum_x2 / N - mean**2).",
                lambda a, r: {"std": r["std"] ** 2}),
        Mistake("only the last batch counted", "`total = batch.sum(axis=0)` overwrites; accumulate with += "
                "over all batches.", one_batch(lambda bs: bs[-1])),
        Mistake("only the first batch counted", "loop over every batch: for start in range(0, len(X), "
                "batch_size).", one_batch(lambda bs: bs[0])),
    )
    return check_outputs(fn, name="streamed_mean_std", reference=reference, cases=cases,
                         outputs=("mean", "std"), mistakes=mistakes, call=call,
                         source="np.mean and np.std of the whole array")


# --- choosing on validation, testing once ---------------------------------------------------------------
class _Recorder:
    """A scoring function that looks up a configuration's score and records every configuration it is asked
    about (by position in the list), as a learner's train-and-evaluate function would be called."""

    def __init__(self, configs: list, scores):
        self.configs, self.scores, self.asked = configs, [float(v) for v in scores], []

    def __call__(self, config) -> float:
        found = [i for i, c in enumerate(self.configs) if c is config] or \
                [i for i, c in enumerate(self.configs) if c == config]
        if found:
            self.asked.append(found[0])
            return self.scores[found[0]]
        raise _Diagnosed(f"search_then_test asked about a configuration that is not in the list: {config!r}",
                         "pass the dictionaries of configs themselves to val_loss and test_accuracy.")


def _search_cases(g) -> list:
    """(configs, validation losses, test accuracies, what is special): the best validation loss is never the
    best test accuracy, so choosing by the test set shows."""
    cases = []
    for n, note in ((6, "6 configurations"), (9, "9 configurations"), (5, "5 configurations, two tied lowest")):
        grid = [{"lr": lr, "hidden": h} for lr in (1e-3, 3e-3, 1e-2, 3e-2) for h in (16, 32, 64, 128)]
        configs = [grid[k] for k in g.choice(len(grid), n, replace=False)]    # n different configurations
        val = g.uniform(0.1, 0.4, n)
        test = g.uniform(0.90, 0.98, n)
        best = int(np.argmin(val))
        if "tied" in note:
            other = (best + 2) % n
            val[other] = val[best]
            best = min(best, other)
        test[best] = test.min() - 0.01                    # the chosen one is not the test set's favourite
        cases.append((configs, val, test, best, note))
    return cases


def check_search_then_test(fn, rng=0) -> CheckResult:
    r"""Exercise (12): choose a configuration on the validation split, then evaluate it on the test set once.

    .. math:: c^\star = \arg\min_{c} L_{\text{val}}(c), \qquad \text{report } \text{acc}_{\text{test}}(c^\star)

    The learner writes ``search_then_test(configs, val_loss, test_accuracy) -> (best, test_score)``:
    ``configs`` a list of dicts, ``val_loss(config)`` and ``test_accuracy(config)`` functions that
    train a configuration and score it; ``best`` is the configuration with the lowest validation loss
    (the first of them on a tie, as ``min`` and ``np.argmin`` choose) and ``test_score`` its test
    accuracy. The check passes recording stand-ins for the two functions. Diagnosed: the test set
    consulted for more than one configuration (chosen by test accuracy, or tested along the way),
    never consulted, configurations left unscored on validation, the highest validation loss
    chosen, a tie broken towards the later configuration, the validation loss returned as the test
    score, the list of configurations changed in place.
    """
    g = check_rng(rng)
    cases = _search_cases(g)
    name = "search_then_test"

    def fail(message, diagnosis=None):
        return CheckResult(False, message, diagnosis, name)

    for i, (configs, val, test, best, note) in enumerate(cases):
        where = f"on input {i + 1} of {len(cases)} ({note})"
        given = [dict(c) for c in configs]
        val_fn, test_fn = _Recorder(list(given), val), _Recorder(list(given), test)   # own lists: a sort cannot move them
        try:
            result = fn(given, val_fn, test_fn)
        except _Diagnosed as d:
            return fail(f"{d.message} {where}.", d.diagnosis)
        except Exception as exc:  # noqa: BLE001 - any error in the learner's code becomes a verdict
            return fail(_summary(exc, name) + f"\n{where}", _exception_hint(exc))
        if given != configs:
            return fail(f"{name} changed the list of configurations it was given {where}.",
                        "the list of configurations was changed (sorted or emptied in place?): read it, "
                        "do not modify it; sorted(configs, key=...) makes a new list.")
        tested = sorted(set(test_fn.asked))
        if len(tested) > 1:
            by_test = isinstance(result, tuple) and len(result) == 2 and result[0] == configs[int(np.argmax(test))]
            words = ("the configuration was chosen by test accuracy" if by_test
                     else "the test set was evaluated for several configurations")
            return fail(f"{name} asked test_accuracy about {len(tested)} of {len(configs)} configurations {where}.",
                        f"{words}: the test set must not take part in the choice. Score every configuration "
                        "with val_loss, pick the lowest, and call test_accuracy once, on that one.")
        if not tested:
            return fail(f"{name} never called test_accuracy {where}.",
                        "the test set was never evaluated: finish with `return best, test_accuracy(best)`.")
        if sorted(set(val_fn.asked)) != list(range(len(configs))):
            return fail(f"{name} scored {len(set(val_fn.asked))} of {len(configs)} configurations on "
                        f"validation {where}.", "not every configuration was scored on validation: call "
                        "val_loss(config) for each one in configs.")
        if not (isinstance(result, tuple) and len(result) == 2):
            return fail(f"{name} returned {type(result).__name__}, expected a tuple (best, test_score) {where}.",
                        "end with `return best, test_accuracy(best)`.")
        chosen, score = result
        if chosen != configs[best]:
            ties = [j for j in range(len(configs)) if val[j] == val[best]]
            if chosen == configs[int(np.argmax(val))]:
                words = ("the highest validation loss was chosen", "a loss is better when lower: min, not max.")
            elif len(ties) > 1 and chosen in [configs[j] for j in ties[1:]]:
                words = ("a tie went to the later configuration", "keep the first of equal scores, as min() "
                         "and np.argmin do: replace only on a strictly lower loss (<, not <=).")
            else:
                words = ("not the lowest validation loss", "return the configuration whose val_loss is smallest.")
            return fail(f"{name} chose {chosen!r}, expected {configs[best]!r} (validation loss {val[best]:.4f}) "
                        f"{where}.", f"{words[0]}: {words[1]}")
        if tested != [best]:
            return fail(f"{name} tested configuration {tested[0]} but chose {best} {where}.",
                        "the test set was evaluated for another configuration than the one returned: "
                        "call test_accuracy(best) on the chosen one.")
        if not np.isclose(float(score), test[best], rtol=1e-12, atol=0.0):
            words = ("the validation loss was returned as the test score" if np.isclose(float(score), val[best])
                     else "the test score is not test_accuracy(best)")
            return fail(f"{name} returned test_score {float(score):.6g}, expected {test[best]:.6g} {where}.",
                        f"{words}: return the value test_accuracy(best) gave.")
    return CheckResult(True, f"{name} chose the lowest validation loss and evaluated the test set once, for "
                             f"the chosen configuration only, on {len(cases)} random searches.", None, name)
