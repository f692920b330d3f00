r"""Sequence tasks whose memory length we choose (chapter 14).

* :func:`make_adding_problem`: add the two marked numbers of a sequence
  (Hochreiter & Schmidhuber 1997), one marker in each half;
* :func:`make_recall_problem`: repeat the one marked number, marked in the
  first half, at the end.

Both return ``X`` (n, T, 2), each step a number :math:`u_t \sim U(0, 1)` and a
marker :math:`m_t \in \{0, 1\}`, and ``y`` (n, 1), read after the last step, and
print nothing; the same ``rng`` gives the same data. Each docstring gives the MSE
of the simplest baseline, predicting the mean.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_int, check_rng


def _marked(n: int, T: int, rng, who: str):
    n = check_int("n", n, minimum=1, who=who)
    T = check_int("T", T, minimum=2, who=who)
    rng = check_rng(rng)
    X = np.zeros((n, T, 2))
    X[:, :, 0] = rng.uniform(0.0, 1.0, size=(n, T))
    return X, rng, np.arange(n), T // 2


def make_adding_problem(n: int, T: int, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""The adding problem (Hochreiter & Schmidhuber 1997): add the two marked numbers of a sequence.

    Each sequence has T steps with two inputs: a number :math:`u_t \sim U(0, 1)` and
    a marker :math:`m_t \in \{0, 1\}` that is 1 at exactly two steps, one drawn in
    the first half (:math:`t < \lfloor T/2 \rfloor`) and one in the second, as in Le,
    Jaitly & Hinton (2015). The target is :math:`y = \sum_t m_t u_t`, read at the
    end, so the first marked number must be remembered for at least
    :math:`T - \lfloor T/2 \rfloor` steps. Predicting the mean, 1, scores an MSE of
    :math:`\mathrm{Var}(u_1 + u_2) = 2/12 = 1/6`; knowing only the second number,
    :math:`\mathrm{Var}(u_1) = 1/12`.

    Args:
        n: number of sequences >= 1.
        T: length >= 2.
        rng: generator or seed.

    Returns:
        ``X`` (n, T, 2) (numbers, markers) and ``y`` (n, 1), float64.
    """
    X, rng, rows, half = _marked(n, T, rng, "make_adding_problem")
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, X.shape[1], size=n)
    X[rows, first, 1] = 1.0
    X[rows, second, 1] = 1.0
    y = (X[rows, first, 0] + X[rows, second, 0])[:, None]
    return X, y


def make_recall_problem(n: int, T: int, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""Recall the one marked number at the end of the sequence.

    One step, drawn in the first half (:math:`t < \lfloor T/2 \rfloor`, counting from 0),
    carries the marker; the target is its number, :math:`y = \sum_t m_t u_t`. Every
    step of the second half is unmarked, so a network trained by BPTT truncated to
    :math:`k \le T - \lfloor T/2 \rfloor` steps never sends the loss's gradient to a
    marked step: the weights that read the marker get exactly zero gradient.
    Predicting the mean, 1/2, scores an MSE of :math:`\mathrm{Var}(u) = 1/12`.

    Args:
        n: number of sequences >= 1.
        T: length >= 2.
        rng: generator or seed.

    Returns:
        ``X`` (n, T, 2) (numbers, markers) and ``y`` (n, 1), float64.
    """
    X, rng, rows, half = _marked(n, T, rng, "make_recall_problem")
    where = rng.integers(0, half, size=n)
    X[rows, where, 1] = 1.0
    return X, X[rows, where, 0][:, None].copy()
