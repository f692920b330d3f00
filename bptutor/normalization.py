r"""Layers that keep deep networks trainable: batch and layer normalization, residual connections.

* :class:`BatchNorm1d` normalises each feature over the **batch** (Ioffe & Szegedy
  2015): while training with the batch's own mean and variance, in eval mode with
  running averages of them collected during training.
* :class:`LayerNorm` normalises each example over its **features** (Ba, Kiros &
  Hinton 2016): the same computation in train and eval mode, any batch size.
* :class:`Residual` wraps a module :math:`F` as :math:`X + F(X)` (He et al.
  2016), so the backward pass adds :math:`dout` itself to whatever :math:`F`
  sends back: the identity path carries the gradient past :math:`F`.

All three follow the contract of :mod:`bptutor.layers` (forward caches,
backward unpacks the cache, ``+=`` into ``.grad``, returns ``dX``), so they go
into ``Sequential`` and :func:`bptutor.training.fit`, and ``train()``/``eval()``
reach them. Running statistics are not Parameters: ``state_dict()`` (and so
``EarlyStopping``'s restore) holds ``gamma`` and ``beta`` but not them.
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import as_array, check_float, check_shape, describe
from .layers import Linear, Module, Parameter, Sequential, _check_dtype, _check_features, check_dout, require_cache


def _mean(X: np.ndarray, axis: int) -> np.ndarray:
    """The mean along ``axis``, finite for every finite ``X`` (a plain sum overflows near 1e308)."""
    mu = X.mean(axis=axis, keepdims=True)
    if np.all(np.isfinite(mu)):
        return mu
    scale = np.max(np.abs(X), axis=axis, keepdims=True)
    return (X / scale).mean(axis=axis, keepdims=True) * scale


def _normalize(Xc: np.ndarray, axis: int, eps: float) -> tuple:
    r"""``(X_hat, inv_std, var)`` of centred data ``Xc`` along ``axis``.

    :math:`\mathrm{var} = \mathrm{mean}(X_c^2)` (the biased variance),
    :math:`\mathrm{inv\_std} = 1/\sqrt{\mathrm{var} + \epsilon}`,
    :math:`\hat X = X_c \cdot \mathrm{inv\_std}`. When :math:`X_c^2` overflows
    (entries beyond about 1e154) the columns concerned are rescaled by their
    largest entry first, so :math:`\hat X` and ``inv_std`` stay finite; only
    ``var`` itself is then infinite, as it truly exceeds the float range.
    """
    with np.errstate(over="ignore"):
        var = np.mean(Xc * Xc, axis=axis, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    if np.all(np.isfinite(var)):
        return Xc * inv_std, inv_std, var
    scale = np.max(np.abs(Xc), axis=axis, keepdims=True)          # > 0 wherever var overflowed
    big = ~np.isfinite(var)
    scale = np.where(big, scale, 1.0)
    S = Xc / scale
    with np.errstate(over="ignore"):  # eps / scale**2 underflows to 0, as it should
        root = np.sqrt(np.mean(S * S, axis=axis, keepdims=True) + eps / (scale * scale))
    inv_std = np.where(big, 1.0 / (root * scale), inv_std)
    return np.where(big, S / root, Xc * inv_std), inv_std, var


def _standardized_backward(dX_hat: np.ndarray, X_hat: np.ndarray, inv_std: np.ndarray, axis: int) -> np.ndarray:
    r"""The compact backward of :math:`\hat x = (x - \mu)/\sigma` along ``axis`` (see :class:`BatchNorm1d`).

    .. math::
        dX = \frac{1}{\sigma}\Big(d\hat X - \mathrm{mean}(d\hat X)
             - \hat X\,\mathrm{mean}(d\hat X \odot \hat X)\Big)
    """
    return inv_std * (dX_hat - dX_hat.mean(axis=axis, keepdims=True)
                      - X_hat * (dX_hat * X_hat).mean(axis=axis, keepdims=True))


def _check_eps(eps, who: str) -> float:
    return check_float("eps", eps, minimum=0.0, strict_min=True, who=who)


def _input(module, X) -> np.ndarray:
    X = as_array("X", X, who=repr(module))
    check_shape("X", X, ("N", module.num_features), who=repr(module))
    return X


class BatchNorm1d(Module):
    r"""Batch normalization of each feature over the batch, with a learned scale and shift.

    Training mode, for a batch ``X`` (N, D) and each feature (column) separately:

    .. math::
        \mu = \frac1N\sum_n x_n, \quad
        \sigma^2 = \frac1N\sum_n (x_n - \mu)^2, \quad
        \hat x_n = \frac{x_n - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad
        y_n = \gamma\,\hat x_n + \beta

    and the running statistics move towards the batch's, as PyTorch does, with the
    **unbiased** variance (the biased one normalises the batch):

    .. math::
        \hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu, \qquad
        \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\tfrac{N}{N-1}\,\sigma^2

    Eval mode uses :math:`\hat\mu, \hat\sigma^2` in place of :math:`\mu, \sigma^2`
    and changes nothing, so an example's output no longer depends on the others
    in its batch (a batch of one is fine).

    **Backward.** :math:`d\beta = \sum_n dout_n`, :math:`d\gamma = \sum_n dout_n \hat x_n`,
    and with :math:`d\hat x_n = \gamma\, dout_n`, :math:`s = \sqrt{\sigma^2 + \epsilon}`:

    .. math::
        dx_i = \frac{1}{N s}\Big(N\, d\hat x_i - \sum_j d\hat x_j - \hat x_i \sum_j d\hat x_j\, \hat x_j\Big)

    Derivation: every :math:`\hat x_j` depends on :math:`x_i` directly and through
    :math:`\mu` and :math:`\sigma^2`. With :math:`\partial\mu/\partial x_i = 1/N` and
    :math:`\partial\sigma^2/\partial x_i = \frac2N (x_i - \mu)` (the path through
    :math:`\mu` adds :math:`-\frac2N\sum_j (x_j - \mu)\cdot\frac1N = 0`),

    .. math::
        \frac{\partial \hat x_j}{\partial x_i}
        = \frac{\delta_{ij} - 1/N}{s} - \frac{x_j - \mu}{2 s^3}\cdot\frac{2}{N}(x_i - \mu)
        = \frac{1}{s}\Big(\delta_{ij} - \frac1N - \frac{\hat x_i \hat x_j}{N}\Big),

    and :math:`dx_i = \sum_j d\hat x_j\, \partial\hat x_j/\partial x_i` gives the
    formula: the upstream gradient, minus its mean (the :math:`\mu` path), minus its
    projection on :math:`\hat x` (the :math:`\sigma` path), over :math:`s`. In eval
    mode :math:`\hat\mu, \hat\sigma^2` are constants and :math:`dx = \gamma\,dout/\hat s`.

    Args:
        num_features: D, the number of features, >= 1.
        momentum: m in [0, 1], the weight of the newest batch in the running
            statistics (PyTorch's convention; Keras calls 1 - m the momentum).
        eps: :math:`\epsilon > 0`, added to the variance before the square root.
        dtype: ``np.float64`` (default) or ``np.float32``, of the parameters and
            running statistics.

    Attributes:
        gamma: Parameter (D,), ones; beta: Parameter (D,), zeros (registered in that order).
        running_mean: (D,), zeros at first; running_var: (D,), ones at first.
        num_batches_tracked: training batches seen.

    Raises (forward):
        ValueError: ``X`` is not (N, D); in training mode N = 1 (the batch
            variance of one example is 0) or ``X`` is not finite. The running
            statistics are then unchanged.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, dtype=np.float64):
        super().__init__()
        who = "BatchNorm1d"
        self.num_features = _check_features("num_features", num_features, who=who)
        if momentum is None:
            raise TypeError(f"{who} expected momentum to be a real number in [0, 1], got None (PyTorch's "
                            "cumulative average is not supported)")
        self.momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0, who=who)
        self.eps = _check_eps(eps, who)
        dtype = _check_dtype(dtype, who)
        self.gamma = Parameter(np.ones(self.num_features, dtype=dtype), name="gamma")
        self.beta = Parameter(np.zeros(self.num_features, dtype=dtype), name="beta")
        self._params = [("gamma", self.gamma), ("beta", self.beta)]
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)
        self.num_batches_tracked = 0
        self._cache = None

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        self.running_mean[...] = 0.0
        self.running_var[...] = 1.0
        self.num_batches_tracked = 0

    def forward(self, X) -> np.ndarray:
        """Normalise ``X`` (N, D) with the batch statistics (training) or the running ones (eval).

        Returns:
            out (N, D); caches :math:`\\hat X`, ``1/s`` and which statistics were used.
        """
        X = _input(self, X)
        if not self.training:
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)            # (D,)
            X_hat = (X - self.running_mean) * inv_std                       # (N, D)
            self._cache = (X_hat, inv_std, False)
            return self.gamma.data * X_hat + self.beta.data
        N = X.shape[0]
        if N < 2:
            raise ValueError(f"{self!r} expected more than 1 example per feature in training mode, got X of "
                             f"shape {X.shape}: the variance of a batch of one is 0. Train on batches of at "
                             "least 2, or call eval() to use the running statistics")
        mu = X.mean(axis=0)                                                 # (D,)
        if not math.isfinite(mu.sum()):  # NaN or inf in X, or a sum beyond the float range
            if not np.all(np.isfinite(X)):
                bad = int(X.size - np.count_nonzero(np.isfinite(X)))
                raise ValueError(f"{self!r} expected X to be finite in training mode, got {bad} NaN or infinite "
                                 "entries (the running statistics were left unchanged; inside fit this usually "
                                 "means the layers before have diverged: try a smaller learning rate)")
            mu = _mean(X, axis=0)[0]
        Xc = X - mu                                                         # (N, D)
        # (D,), the biased variance; einsum takes one pass, makes no temporary and does not warn on overflow
        var = np.einsum("nd,nd->d", Xc, Xc) / N
        if math.isfinite(var.sum()):
            inv_std = 1.0 / np.sqrt(var + self.eps)
            X_hat = Xc
            X_hat *= inv_std                                                # in place: Xc is not needed again
        else:
            X_hat, inv_std, var = _normalize(Xc, 0, self.eps)               # (N, D), (1, D), (1, D)
            inv_std, var = inv_std[0], var[0]
        m = self.momentum
        self.running_mean *= 1.0 - m
        self.running_mean += m * mu
        self.running_var *= 1.0 - m
        self.running_var += (m * N / (N - 1)) * var                         # unbiased, as PyTorch; inf stays inf
        self.num_batches_tracked += 1
        self._cache = (X_hat, inv_std, True)
        out = X_hat * self.gamma.data
        out += self.beta.data
        return out                                                          # (N, D)

    def backward(self, dout) -> np.ndarray:
        """Add ``dgamma``, ``dbeta`` into ``gamma.grad``, ``beta.grad``; return ``dX`` (N, D).

        Training mode uses the compact formula of the class docstring; eval mode
        treats the running statistics as constants.
        """
        X_hat, inv_std, batch_stats = require_cache(self)
        dout = check_dout(dout, X_hat.shape, who=repr(self))
        dgamma = np.einsum("nd,nd->d", dout, X_hat)        # (D,): gamma scales every row's x_hat
        dbeta = dout.sum(axis=0)                           # (D,): beta is added to every row
        self.gamma.grad += dgamma
        self.beta.grad += dbeta
        if not batch_stats:
            return dout * (self.gamma.data * inv_std)
        # the compact formula with its two sums reused:
        # sum_j dx_hat_j = gamma * dbeta and sum_j dx_hat_j x_hat_j = gamma * dgamma
        N = dout.shape[0]
        dX = N * dout
        dX -= dbeta
        dX -= X_hat * dgamma
        dX *= self.gamma.data * inv_std / N
        return dX                                          # (N, D)

    def __repr__(self) -> str:
        extra = "" if self.momentum == 0.1 else f", momentum={self.momentum:g}"
        extra += "" if self.eps == 1e-5 else f", eps={self.eps:g}"
        return f"BatchNorm1d({self.num_features}{extra})"


class LayerNorm(Module):
    r"""Layer normalization: each example normalised over its own features.

    For each row :math:`x` of ``X`` (N, D), with means over the D features,

    .. math::
        \mu = \frac1D\sum_k x_k, \quad \sigma^2 = \frac1D\sum_k (x_k - \mu)^2, \quad
        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y = \gamma \odot \hat x + \beta

    The same in train and eval mode (no running statistics), for any N, including
    1. The backward is :class:`BatchNorm1d`'s compact formula with the roles of the
    axes exchanged: the sums run over a row's features, per example,

    .. math::
        dx = \frac{1}{s}\Big(d\hat x - \mathrm{mean}_k(d\hat x) - \hat x\,\mathrm{mean}_k(d\hat x\odot\hat x)\Big),
        \qquad d\hat x = \gamma \odot dout,

    while :math:`d\gamma = \sum_n dout_n \odot \hat x_n` and :math:`d\beta = \sum_n dout_n`
    still sum over the batch (one :math:`\gamma` serves every example).

    Args:
        num_features: D, >= 1.
        eps: :math:`\epsilon > 0`.
        dtype: ``np.float64`` (default) or ``np.float32``.

    Attributes:
        gamma: Parameter (D,), ones; beta: Parameter (D,), zeros.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, dtype=np.float64):
        super().__init__()
        who = "LayerNorm"
        self.num_features = _check_features("num_features", num_features, who=who)
        self.eps = _check_eps(eps, who)
        dtype = _check_dtype(dtype, who)
        self.gamma = Parameter(np.ones(self.num_features, dtype=dtype), name="gamma")
        self.beta = Parameter(np.zeros(self.num_features, dtype=dtype), name="beta")
        self._params = [("gamma", self.gamma), ("beta", self.beta)]
        self._cache = None

    def forward(self, X) -> np.ndarray:
        """Normalise each row of ``X`` (N, D); returns (N, D) and caches :math:`\\hat X`, ``1/s`` (N, 1)."""
        X = _input(self, X)
        X_hat, inv_std, _ = _normalize(X - _mean(X, axis=1), 1, self.eps)   # (N, D), (N, 1)
        self._cache = (X_hat, inv_std)
        return self.gamma.data * X_hat + self.beta.data

    def backward(self, dout) -> np.ndarray:
        """Add ``dgamma``, ``dbeta`` (summed over the batch); return ``dX`` (N, D)."""
        X_hat, inv_std = require_cache(self)
        dout = check_dout(dout, X_hat.shape, who=repr(self))
        self.gamma.grad += np.sum(dout * X_hat, axis=0)
        self.beta.grad += dout.sum(axis=0)
        return _standardized_backward(dout * self.gamma.data, X_hat, inv_std, axis=1)

    def __repr__(self) -> str:
        extra = "" if self.eps == 1e-5 else f", eps={self.eps:g}"
        return f"LayerNorm({self.num_features}{extra})"


def _features(module: Module):
    """``(in, out)`` feature counts of ``module`` where they can be read off its Linear layers, else None."""
    if isinstance(module, Linear):
        return module.in_features, module.out_features
    if isinstance(module, (BatchNorm1d, LayerNorm)):
        return module.num_features, module.num_features
    if isinstance(module, Sequential):
        known = [f for f in (_features(m) for m in module.layers) if f is not None]
        return (known[0][0], known[-1][1]) if known else None
    return None


class Residual(Module):
    r"""A residual connection around ``module``: :math:`\text{out} = X + F(X)`.

    .. math::
        \frac{\partial L}{\partial X} = dout + J_F^\top\, dout

    The identity path hands ``dout`` back unchanged and the branch adds its own
    backward; ``module``'s parameters collect their gradients as usual. Through
    :math:`L` blocks the Jacobian is :math:`\prod_l (I + J_l)`, not
    :math:`\prod_l J_l`: even where every branch's :math:`J_l` is small the
    product stays near :math:`I`, so the gradient reaches the first layers.

    Args:
        module: the branch :math:`F`, a Module whose output has the shape of its
            input (e.g. ``Sequential(Linear(H, H), ReLU(), Linear(H, H))``).
            Where its Linear layers show a feature change (``Linear(3, 4)``) it is
            refused here; otherwise a shape change is refused at forward time.

    Attributes:
        module: the branch, registered as the sub-module ``"module"`` (parameter
            names like ``"0.module.0.W"``).
    """

    def __init__(self, module: Module):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"Residual expected module to be a bptutor Module, got {describe(module)}")
        features = _features(module)
        if features is not None and features[0] != features[1]:
            raise ValueError(f"Residual expected a module that keeps the number of features, got {module!r} "
                             f"mapping {features[0]} features to {features[1]}; X + F(X) needs the same shape")
        self.module = module
        self._modules = [("module", module)]
        self._cache = None

    def forward(self, X) -> np.ndarray:
        """``X + module(X)``; the output has the shape of ``X``."""
        X = as_array("X", X, who=repr(self))
        F = self.module.forward(X)
        if np.shape(F) != X.shape:
            raise ValueError(f"Residual expected module to return the shape of X, {X.shape}, got "
                             f"{np.shape(F)}; X + F(X) needs the same shape")
        self._cache = X.shape
        return X + F

    def backward(self, dout) -> np.ndarray:
        """The identity path's ``dout`` plus the branch's ``dX``; the branch's parameters get their gradients."""
        shape = require_cache(self)
        dout = check_dout(dout, shape, who=repr(self))
        return dout + self.module.backward(dout)

    def __repr__(self) -> str:
        inner = repr(self.module).replace("\n", "\n  ")
        return f"Residual({inner})"


__all__ = ["BatchNorm1d", "LayerNorm", "Residual"]
