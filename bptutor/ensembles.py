r"""Many small networks at once: S two-layer networks trained side by side as stacked arrays.

Questions such as "how often does a 2-2-1 network get stuck on XOR?" need
hundreds of training runs. A run of a tiny network is dominated by Python
overhead, not arithmetic, so instead of looping :func:`bptutor.training.fit`
over seeds we stack the weights of S networks along a leading axis,

.. math::
    W_1 \in \mathbb{R}^{S\times D\times H},\quad b_1 \in \mathbb{R}^{S\times H},\quad
    W_2 \in \mathbb{R}^{S\times H\times O},\quad b_2 \in \mathbb{R}^{S\times O},

and run every forward and backward pass for all S at once with batched
matrix products (``X @ W1`` broadcasts the shared inputs ``X`` (N, D) against
``W1`` (S, D, H) to give (S, N, H)). Network ``s`` computes exactly what
``ensemble.network(s)``, a :class:`bptutor.layers.Sequential`, computes; the
tests check that training the stack equals S separate ``fit`` runs with
:class:`bptutor.optim.Momentum` to 1e-12.

Only full-batch gradient descent (with optional heavy-ball momentum) is
provided: it is what the experiments of notebooks 09 and 10 use, and the 1986
rule of Rumelhart, Hinton & Williams,
:math:`\Delta w(t) = -\varepsilon\,\partial E/\partial w + \alpha\,\Delta w(t-1)`.
The loss is the squared error (the paper's) or, for a sigmoid output, the
binary cross-entropy (:data:`ENSEMBLE_LOSSES`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_array, check_choice, check_finite, check_float, check_int, check_rng, describe
from .activations import Identity, Sigmoid, Tanh
from .layers import Linear, Sequential


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    r"""The logistic function as :math:`\sigma(z) = \tfrac12\,(1 + \tanh(z/2))`.

    The same function as :func:`bptutor.activations.sigmoid` (they agree to
    about 2e-16), stable for any ``z`` because ``tanh`` saturates instead of
    overflowing, and several times faster on the small arrays of an ensemble:
    one transcendental per entry and no two-branch ``np.where``.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


#: activation name -> (function, derivative from the activation's output A, layer class).
#: The derivatives from A are the ones the layers' backward passes use.
ENSEMBLE_ACTIVATIONS = {
    "sigmoid": (_sigmoid, lambda A: A * (1.0 - A), Sigmoid),
    "tanh": (np.tanh, lambda A: 1.0 - A * A, Tanh),
    "identity": (lambda Z: Z, None, Identity),
}


#: loss name -> the reductions it accepts, its default first. ``"squared_error"`` is
#: :func:`bptutor.losses.mse_loss` network by network; ``"bce"`` is the binary
#: cross-entropy of a sigmoid output, computed from the logits as
#: :func:`bptutor.losses.bce_with_logits_loss` ("mean" divides by N·O as it does).
ENSEMBLE_LOSSES = {"squared_error": ("half_sum", "sum", "mean"), "bce": ("sum", "mean")}


def _loss_choice(loss, reduction, output: str, who: str) -> tuple[str, str]:
    """Validate ``loss`` and ``reduction`` (None: the loss's default) for an ensemble whose output is ``output``."""
    if not isinstance(loss, str):
        raise TypeError(f"{who} expected loss to be one of {sorted(ENSEMBLE_LOSSES)}, got {describe(loss)}")
    loss = check_choice("loss", loss, ENSEMBLE_LOSSES, who=who)
    allowed = ENSEMBLE_LOSSES[loss]
    if reduction is None:
        reduction = allowed[0]
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"{who} expected reduction to be one of {list(allowed)} for loss={loss!r}, "
                         f"got {reduction!r}")
    if loss == "bce" and output != "sigmoid":
        # The fused gradient p - y below is the derivative through a sigmoid output only.
        raise ValueError(f"{who} expected an ensemble with output='sigmoid' for loss='bce' "
                         f"(the cross-entropy of a probability), got output={output!r}")
    return loss, reduction


def _activation(name, arg: str, who: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{who} expected {arg} to be one of {sorted(ENSEMBLE_ACTIVATIONS)}, "
                        f"got {describe(name)}")
    return check_choice(arg, name, ENSEMBLE_ACTIVATIONS, who=who)


@dataclass
class Ensemble:
    r"""S networks D-H-O of the same shape, :math:`\text{out}_s = g(f(X W_{1,s} + b_{1,s}) W_{2,s} + b_{2,s})`.

    ``f`` is the hidden activation, ``g`` the output activation. The arrays
    are used as given (not copied) and updated in place by
    :func:`train_ensemble`; use :meth:`copy` to keep a starting point.

    Attributes:
        W1: (S, D, H) input-to-hidden weights, ``W1[s]`` as ``Linear(D, H).W``.
        b1: (S, H) hidden biases.
        W2: (S, H, O) hidden-to-output weights.
        b2: (S, O) output biases.
        hidden: name of f, a key of :data:`ENSEMBLE_ACTIVATIONS`.
        output: name of g, a key of :data:`ENSEMBLE_ACTIVATIONS`.
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    hidden: str = "sigmoid"
    output: str = "sigmoid"

    def __post_init__(self):
        who = "Ensemble"
        self.W1 = as_array("W1", self.W1, ndim=3, who=who, dtype=np.float64)
        S, D, H = self.W1.shape
        if 0 in self.W1.shape:
            raise ValueError(f"{who} expected W1 of shape (S, D, H) with every size >= 1, got {self.W1.shape}")
        self.b1 = as_array("b1", self.b1, ndim=2, who=who, dtype=np.float64)
        self.W2 = as_array("W2", self.W2, ndim=3, who=who, dtype=np.float64)
        self.b2 = as_array("b2", self.b2, ndim=2, who=who, dtype=np.float64)
        if self.b1.shape != (S, H):
            raise ValueError(f"{who} expected b1 of shape ({S}, {H}) to match W1 {self.W1.shape}, "
                             f"got {self.b1.shape}")
        if self.W2.shape[:2] != (S, H) or self.W2.shape[2] == 0:
            raise ValueError(f"{who} expected W2 of shape ({S}, {H}, O) to match W1 {self.W1.shape}, "
                             f"got {self.W2.shape}")
        if self.b2.shape != (S, self.W2.shape[2]):
            raise ValueError(f"{who} expected b2 of shape ({S}, {self.W2.shape[2]}) to match W2 "
                             f"{self.W2.shape}, got {self.b2.shape}")
        for name in ("W1", "b1", "W2", "b2"):
            check_finite(name, getattr(self, name), who=who)
        self.hidden = _activation(self.hidden, "hidden", who)
        self.output = _activation(self.output, "output", who)

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def uniform(cls, n_networks: int, sizes: tuple, scale: float, rng=0, hidden: str = "sigmoid",
                output: str = "sigmoid") -> "Ensemble":
        r"""S networks whose weights *and biases* are drawn independently from :math:`U(-a, a)`.

        This is the initialisation of Rumelhart, Hinton & Williams (1986), where a
        bias is the weight from a unit that is always on and starts random like
        the others (they used :math:`a = 0.3`). The draws fill ``W1``, ``b1``,
        ``W2``, ``b2`` in that order, network after network along the first axis.

        Args:
            n_networks: S >= 1.
            sizes: ``(D, H, O)``, each >= 1.
            scale: :math:`a > 0`.
            rng: generator or seed.
            hidden, output: activation names.

        Returns:
            an :class:`Ensemble`.
        """
        who = "Ensemble.uniform"
        S = check_int("n_networks", n_networks, minimum=1, who=who)
        if not (isinstance(sizes, (tuple, list)) and len(sizes) == 3):
            raise TypeError(f"{who} expected sizes to be a tuple (D, H, O), got {describe(sizes)}")
        D, H, O = (check_int(f"sizes[{i}]", n, minimum=1, who=who) for i, n in enumerate(sizes))
        a = check_float("scale", scale, minimum=0.0, strict_min=True, who=who)
        g = check_rng(rng)
        W1 = g.uniform(-a, a, size=(S, D, H))
        b1 = g.uniform(-a, a, size=(S, H))
        W2 = g.uniform(-a, a, size=(S, H, O))
        b2 = g.uniform(-a, a, size=(S, O))
        return cls(W1, b1, W2, b2, hidden=hidden, output=output)

    @property
    def sizes(self) -> tuple[int, int, int]:
        """``(D, H, O)``."""
        return self.W1.shape[1], self.W1.shape[2], self.W2.shape[2]

    def __len__(self) -> int:
        return self.W1.shape[0]

    def copy(self) -> "Ensemble":
        """An independent copy (training the copy leaves this one unchanged)."""
        return Ensemble(self.W1.copy(), self.b1.copy(), self.W2.copy(), self.b2.copy(),
                        hidden=self.hidden, output=self.output)

    def select(self, index) -> "Ensemble":
        """The networks picked by ``index`` (an int array, a boolean mask (S,), or a slice), copied."""
        take = np.arange(len(self))[index]
        if np.ndim(take) == 0:
            take = np.array([take])
        if take.size == 0:
            raise ValueError("Ensemble.select expected index to pick at least one network, got none")
        return Ensemble(self.W1[take], self.b1[take], self.W2[take], self.b2[take],
                        hidden=self.hidden, output=self.output)

    def network(self, s: int) -> Sequential:
        """Network ``s`` as a bptutor ``Sequential(Linear, f, Linear, g)`` holding copies of its weights."""
        s = check_int("s", s, minimum=0, who="Ensemble.network")
        if s >= len(self):
            raise ValueError(f"Ensemble.network expected s < {len(self)} (the number of networks), got {s}")
        return Sequential(Linear.from_arrays(self.W1[s], self.b1[s]), ENSEMBLE_ACTIVATIONS[self.hidden][2](),
                          Linear.from_arrays(self.W2[s], self.b2[s]), ENSEMBLE_ACTIVATIONS[self.output][2]())

    # --- forward and backward -------------------------------------------------------------------
    def _inputs(self, X, who: str) -> np.ndarray:
        X = as_array("X", X, ndim=2, who=who, dtype=np.float64)
        _check_columns(X, self.sizes[0], who)
        check_finite("X", X, who=who)
        return X

    def _targets(self, Y, N: int, who: str) -> np.ndarray:
        Y = as_array("Y", Y, ndim=2, who=who, dtype=np.float64)
        O = self.sizes[2]
        if Y.shape != (N, O):
            raise ValueError(f"{who} expected Y of shape ({N}, {O}) (one row per row of X, one column "
                             f"per output unit), got {Y.shape}")
        check_finite("Y", Y, who=who)
        return Y

    def _forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f, g = ENSEMBLE_ACTIVATIONS[self.hidden][0], ENSEMBLE_ACTIVATIONS[self.output][0]
        A1 = f(X @ self.W1 + self.b1[:, None, :])      # (N, D) @ (S, D, H) -> (S, N, H)
        Z2 = A1 @ self.W2 + self.b2[:, None, :]        # (S, N, H) @ (S, H, O) -> (S, N, O)
        return A1, Z2, g(Z2)

    def forward(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Hidden activations (S, N, H) and outputs (S, N, O) of every network on ``X`` (N, D)."""
        A1, _, out = self._forward(self._inputs(X, "Ensemble.forward"))
        return A1, out

    def loss(self, X, Y, reduction: str | None = None, *, loss: str = "squared_error") -> np.ndarray:
        r"""Each network's loss on ``(X, Y)``, shape (S,).

        The squared error (``loss="squared_error"``),

        .. math:: E_s = \tfrac12 \sum_{n,k} (\text{out}_{snk} - Y_{nk})^2 \quad (\text{"half\_sum"}, \text{the default})

        or ``"sum"`` (no 1/2) or ``"mean"`` (divided by N·O), as
        :func:`bptutor.losses.mse_loss`; or the binary cross-entropy
        (``loss="bce"``, sigmoid output only) of the logits :math:`Z_2`,

        .. math:: E_s = \sum_{n,k} \big[\max(z, 0) - z\,Y_{nk} + \log(1 + e^{-|z|})\big]_{z = Z_{2,snk}}
                  \quad (\text{"sum"}, \text{the default}),

        which equals :math:`-\sum [Y\log\text{out} + (1 - Y)\log(1 - \text{out})]` and stays
        finite when an output rounds to 0 or 1; ``"mean"`` divides by N·O.
        """
        who = "Ensemble.loss"
        loss, reduction = _loss_choice(loss, reduction, self.output, who)
        X = self._inputs(X, who)
        Y = self._targets(Y, X.shape[0], who)
        _, Z2, out = self._forward(X)
        return _loss_and_dout(Z2, out, Y, loss, reduction)[0]

    def gradients(self, X, Y, reduction: str | None = None, *,
                  loss: str = "squared_error") -> tuple[np.ndarray, dict]:
        r"""Losses (S,) and the gradient of each network's loss with respect to its own weights.

        Backpropagation, batched over the leading axis (``dZ`` is ∂E/∂(pre-activation)):

        .. math::
            dZ_2 = \frac{\partial E}{\partial \text{out}} \odot g'(Z_2)
                 \;\big(= \text{out} - Y \text{ for "bce" with "sum"}\big),\quad
            dW_2 = A_1^\top dZ_2,\quad
            dZ_1 = (dZ_2 W_2^\top) \odot f'(Z_1),\quad
            dW_1 = X^\top dZ_1,

        and each bias gradient sums its ``dZ`` over the N rows. For the cross-entropy
        the output's :math:`g'` cancels against :math:`\partial E/\partial\text{out}
        = (\text{out} - Y)/(\text{out}(1 - \text{out}))`, so ``dZ2`` is computed as
        ``out - Y`` directly (divided by N·O for ``"mean"``).

        Args:
            X: inputs (N, D); Y: targets (N, O); reduction and loss as in :meth:`loss`.

        Returns:
            ``(loss (S,), {"W1": (S, D, H), "b1": (S, H), "W2": (S, H, O), "b2": (S, O)})``.
        """
        who = "Ensemble.gradients"
        loss, reduction = _loss_choice(loss, reduction, self.output, who)
        X = self._inputs(X, who)
        Y = self._targets(Y, X.shape[0], who)
        return self._gradients(X, Y, loss, reduction)[:2]

    def _gradients(self, X: np.ndarray, Y: np.ndarray, loss_name: str, reduction: str):
        A1, Z2, out = self._forward(X)
        loss, dZ2 = _loss_and_dout(Z2, out, Y, loss_name, reduction)
        if loss_name == "squared_error":
            g_prime = ENSEMBLE_ACTIVATIONS[self.output][1]
            dZ2 = dZ2 if g_prime is None else dZ2 * g_prime(out)      # (S, N, O)
        f_prime = ENSEMBLE_ACTIVATIONS[self.hidden][1]
        dA1 = dZ2 @ self.W2.transpose(0, 2, 1)                         # (S, N, O) @ (S, O, H) -> (S, N, H)
        dZ1 = dA1 if f_prime is None else dA1 * f_prime(A1)            # (S, N, H)
        ones = np.ones(X.shape[0])  # summing over N as a product is much faster than .sum(axis=1)
        grads = {"W1": X.T @ dZ1,                                      # (D, N) @ (S, N, H) -> (S, D, H)
                 "b1": ones @ dZ1,                                     # (N,) @ (S, N, H) -> (S, H)
                 "W2": A1.transpose(0, 2, 1) @ dZ2,                    # (S, H, N) @ (S, N, O) -> (S, H, O)
                 "b2": ones @ dZ2}                                     # (S, O)
        return loss, grads, out


def _check_columns(X: np.ndarray, D: int, who: str) -> None:
    """Raise unless ``X`` has ``D`` columns, naming the shape that came."""
    if X.shape[1] != D:
        raise ValueError(f"{who} expected X of shape (N, {D}), got {X.shape}")


def _loss_and_dout(Z2: np.ndarray, out: np.ndarray, Y: np.ndarray, loss: str,
                   reduction: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-network loss (S,) and, for the squared error, ∂loss/∂out (S, N, O), the same arithmetic as
    :func:`bptutor.losses.mse_loss` network by network; for "bce", ∂loss/∂Z2 (the sigmoid folded in),
    the arithmetic of :func:`bptutor.losses.bce_with_logits_loss`."""
    d = out - Y                                                       # (S, N, O)
    if loss == "bce":
        per_entry = np.maximum(Z2, 0.0) - Z2 * Y + np.log1p(np.exp(-np.abs(Z2)))
        M = 1.0 if reduction == "sum" else d.shape[1] * d.shape[2]
        return np.sum(per_entry, axis=(1, 2)) / M, d / M
    sq = np.sum(d * d, axis=(1, 2))
    if reduction == "half_sum":
        return 0.5 * sq, d
    if reduction == "sum":
        return sq, 2.0 * d
    M = d.shape[1] * d.shape[2]
    return sq / M, 2.0 * d / M


@dataclass
class EnsembleHistory:
    """What :func:`train_ensemble` recorded.

    Attributes:
        loss: (epochs, S), each network's loss measured before each update (fewer rows
            if training stopped with ``until_all_solved``)
            (the same convention as ``History.train_loss`` of ``fit``).
        final_loss: (S,), the loss after the last update.
        solved_at: (S,) int, the number of updates (sweeps) after which the
            network first met the criterion (every output within ``tol`` of its
            target), or -1 if it never did; 0 means it started solved.
        tol: the criterion's tolerance.
    """

    loss: np.ndarray
    final_loss: np.ndarray
    solved_at: np.ndarray
    tol: float

    @property
    def solved(self) -> np.ndarray:
        """(S,) bool: the networks that met the criterion at some point."""
        return self.solved_at >= 0


def train_ensemble(ensemble: Ensemble, X, Y, *, epochs: int, lr: float, momentum: float = 0.0,
                   reduction: str | None = None, tol: float = 0.5, loss: str = "squared_error",
                   until_all_solved: bool = False) -> EnsembleHistory:
    r"""Full-batch gradient descent with heavy-ball momentum on every network of ``ensemble`` at once.

    Each epoch (a *sweep* through all N patterns in the 1986 paper's words):

    .. math::
        v_s \leftarrow \mu\, v_s - \eta\, \nabla_{\theta_s} E_s, \qquad \theta_s \leftarrow \theta_s + v_s

    with :math:`v_s = 0` at the start: :class:`bptutor.optim.Momentum` (or
    ``SGD`` when ``momentum=0``) on each network separately, and the 1986 rule
    :math:`\Delta w(t) = -\varepsilon\,\partial E/\partial w + \alpha\,\Delta w(t-1)`
    with :math:`\varepsilon` = ``lr``, :math:`\alpha` = ``momentum``. The
    networks do not interact: network s follows the same trajectory as
    ``fit(ensemble.network(s), ...)`` with a full batch. The ensemble's arrays
    are updated in place.

    A network's loss is never checked for divergence (with sigmoid or tanh
    outputs the squared error is bounded); with ``output="identity"`` a too
    large ``lr`` shows up as inf or NaN in ``history.loss``.

    Args:
        ensemble: the networks, trained in place.
        X: inputs (N, D), shared by all networks.
        Y: targets (N, O).
        epochs: number of updates, >= 1.
        lr: :math:`\eta > 0`.
        momentum: :math:`\mu \in [0, 1)`.
        reduction: for the squared error ``"half_sum"`` (:math:`E = \tfrac12\sum(\text{out} - Y)^2`,
            the paper's, the default), ``"sum"`` or ``"mean"``; for ``"bce"`` ``"sum"`` (the
            default) or ``"mean"``.
        tol: a network counts as solved when every output is strictly within
            ``tol`` of its target; 0.5 with 0/1 targets means "on the right side
            of 0.5". In (0, 1]. The criterion looks at the outputs only, so it
            is the same whichever loss is trained.
        loss: ``"squared_error"`` or ``"bce"`` (sigmoid output only), as :meth:`Ensemble.loss`.
        until_all_solved: stop before the first update at which every network has met the
            criterion (an experiment that counts stuck runs learns nothing from later sweeps);
            ``history.loss`` then has one row per update made. Otherwise run all ``epochs``.

    Returns:
        an :class:`EnsembleHistory` whose losses are of the kind trained.
    """
    who = "train_ensemble"
    if not isinstance(ensemble, Ensemble):
        raise TypeError(f"{who} expected ensemble to be an Ensemble, got {describe(ensemble)}")
    X = ensemble._inputs(X, who)
    Y = ensemble._targets(Y, X.shape[0], who)
    epochs = check_int("epochs", epochs, minimum=1, who=who)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True, who=who)
    momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0, strict_max=True, who=who)
    loss, reduction = _loss_choice(loss, reduction, ensemble.output, who)
    tol = check_float("tol", tol, minimum=0.0, maximum=1.0, strict_min=True, who=who)
    if not isinstance(until_all_solved, (bool, np.bool_)):
        raise TypeError(f"{who} expected until_all_solved to be True or False, got {describe(until_all_solved)}")

    params = {"W1": ensemble.W1, "b1": ensemble.b1, "W2": ensemble.W2, "b2": ensemble.b2}
    velocity = {k: np.zeros_like(p) for k, p in params.items()}
    S = len(ensemble)
    losses = np.empty((epochs, S))
    solved_at = np.full(S, -1, dtype=np.int64)
    done = epochs
    for t in range(epochs):
        value, grads, out = ensemble._gradients(X, Y, loss, reduction)
        _mark_solved(solved_at, out, Y, tol, t)
        if until_all_solved and np.all(solved_at >= 0):
            done = t
            break
        losses[t] = value
        for k, p in params.items():
            # The order of Momentum.step, so the numbers agree with fit to the last bits.
            v = velocity[k]
            v *= momentum
            v -= lr * grads[k]
            p += v
    _, Z2, out = ensemble._forward(X)
    final_loss = _loss_and_dout(Z2, out, Y, loss, reduction)[0]
    _mark_solved(solved_at, out, Y, tol, done)
    return EnsembleHistory(loss=losses[:done], final_loss=final_loss, solved_at=solved_at, tol=tol)


def _mark_solved(solved_at: np.ndarray, out: np.ndarray, Y: np.ndarray, tol: float, t: int) -> None:
    """Record ``t`` for every network solved now and not before."""
    now = np.all(np.abs(out - Y) < tol, axis=(1, 2))
    solved_at[now & (solved_at < 0)] = t
