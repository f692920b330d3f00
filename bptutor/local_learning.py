r"""Learning rules that need no backward pass through the network: DFA, node perturbation, forward-forward.

Chapter 11 races them against backprop on the moons task, counting what each
update costs. All three keep the forward pass and replace the backward pass
with something local:

* :class:`DirectFeedbackAlignment` (Nøkland 2016): every hidden layer gets the
  *output* error through its own fixed random matrix :math:`B_l`,
  :math:`\delta_l = (e\,B_l) \odot f'(Z_l)`; no error travels layer by layer.
* :func:`node_perturbation_gradient` (Williams 1992; Flower & Jabri 1993;
  Werfel, Xie & Seung 2005): add noise :math:`\xi` to the pre-activations,
  measure each example's change of loss, and correlate:
  :math:`\widehat{\partial L/\partial Z} = \Delta L\,\xi/\sigma^2`. Two forward
  passes, no backward pass.
* :class:`ForwardForward` (Hinton 2022): every layer learns on its own to give
  a high *goodness* :math:`G = \sum_j h_j^2` to positive data (an input with its
  true label embedded) and a low one to negative data (a wrong label); the
  prediction is the label with the highest goodness summed over the layers.

Networks for DFA and node perturbation are ``Sequential(Linear, act, Linear, act, ..., Linear)``
with a parameter-free activation between consecutive ``Linear`` layers.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_array, check_choice, check_float, check_int, check_rng, check_shape, describe
from .alternatives import GradientEstimate, angle_between, flat_grad
from .alternatives.feedback_alignment import WrappedNetwork
from .layers import Linear, Sequential, require_cache
from .training import _check_pair, _resolve_loss


def _linear_indices(model, who: str) -> list[int]:
    """Indices of the Linear layers of ``Linear, act, Linear, ..., Linear``; anything else is refused."""
    if not isinstance(model, Sequential):
        raise TypeError(f"{who} expected model to be a Sequential, got {describe(model)}")
    layers = model.layers
    linear = [i for i, layer in enumerate(layers) if isinstance(layer, Linear)]
    expected = list(range(0, len(layers), 2))
    if len(linear) < 2 or linear != expected or any(layer.parameters() for i, layer in enumerate(layers)
                                                    if i not in linear):
        kinds = ", ".join(type(layer).__name__ for layer in layers)
        raise ValueError(f"{who} expected a Sequential of the form Linear, activation, Linear, ..., Linear "
                         f"(at least two Linear layers, one parameter-free activation between them), got {kinds}")
    return linear


# --- direct feedback alignment ---------------------------------------------------------------------------------

class DirectFeedbackAlignment(WrappedNetwork):
    r"""A ``Sequential`` trained by direct feedback alignment (Nøkland 2016).

    With :math:`e = \partial L/\partial Z_L` (N, C) the error at the output
    logits, hidden layer :math:`l` (output (N, H_l)) receives it through its
    own fixed random matrix :math:`B_l` (C, H_l):

    .. math:: \delta_l = (e\,B_l) \odot f'(Z_l), \qquad dW_l = A_{l-1}^\top \delta_l, \qquad db_l = \textstyle\sum_n \delta_l

    and the output layer's update is backprop's, :math:`dW_L = A_{L-1}^\top e`.
    Feedback alignment (:class:`bptutor.alternatives.FeedbackAlignment`) sends
    the error back layer by layer, :math:`\delta_{l} = (\delta_{l+1} B_{l+1})
    \odot f'(Z_l)`; with one hidden layer the two rules coincide. In DFA no
    hidden layer waits for the error of the layer above it.

    ``forward`` is the model's; ``backward(dout)`` (``dout`` = :math:`e`) adds
    DFA's updates into ``.grad``; the parameters are the model's.

    Args:
        model: ``Sequential(Linear, act, ..., Linear)`` with at least two Linear layers.
        rng: generator or seed for the feedback matrices.
        scale: standard deviation of the entries of :math:`B_l`; :math:`1/\sqrt{C}` when None.

    Attributes:
        model: the wrapped network. feedback: index of a hidden Linear layer -> :math:`B_l` (C, H_l).
    """

    def __init__(self, model, rng=0, scale: float | None = None):
        super().__init__()
        who = "DirectFeedbackAlignment"
        linear = _linear_indices(model, who)
        if scale is not None:
            scale = check_float("scale", scale, minimum=0.0, strict_min=True, who=who)
        g = check_rng(rng)
        C = model.layers[linear[-1]].out_features
        std = 1.0 / np.sqrt(C) if scale is None else scale
        self.model = model
        self._modules = model._modules
        self.feedback = {i: std * g.standard_normal((C, model.layers[i].out_features)) for i in linear[:-1]}
        self._last = linear[-1]
        self._cache = None

    def backward(self, dout) -> None:
        """Add DFA's updates into the parameters' ``.grad``. ``dout``: the output error :math:`e` (N, C)."""
        shape = require_cache(self)
        dout = as_array("dout", dout, who="DirectFeedbackAlignment.backward")
        check_shape("dout", dout, shape, who="DirectFeedbackAlignment.backward")
        self.model.layers[self._last].backward(dout)          # the output layer: exact
        for i, B in self.feedback.items():
            dZ = self.model.layers[i + 1].backward(dout @ B)  # (N, C) @ (C, H_l), times f'(Z_l)
            self.model.layers[i].backward(dZ)                 # adds A_{l-1}^T dZ and sum(dZ)

    def update_angles(self, X, y, loss) -> dict[str, float]:
        """Angles in degrees between DFA's update and the gradient, per parameter and ``"all"``; ``.grad`` kept."""
        loss_fn, _ = _resolve_loss(loss, self.model, "DirectFeedbackAlignment.update_angles")
        named = self.named_parameters()
        saved = [p.grad.copy() for _, p in named]
        try:
            self.model.zero_grad()
            dout = loss_fn(self.forward(X), y)[1]
            self.model.backward(dout)
            bp = flat_grad(self.model)
            pieces = [p.grad.copy() for _, p in named]
            self.model.zero_grad()
            self.backward(dout)
            dfa = flat_grad(self.model)
            angles = {name: angle_between(p.grad, b) for (name, p), b in zip(named, pieces)}
        finally:
            for (_, p), grad in zip(named, saved):
                p.grad[...] = grad
        angles["all"] = angle_between(dfa, bp)
        return angles

    def __repr__(self) -> str:
        return "DirectFeedbackAlignment(" + repr(self.model).replace("\n", "\n  ") + ")"


# --- node perturbation ------------------------------------------------------------------------------------------

def _bce_logits_rows(Z, T):
    return np.mean(np.maximum(Z, 0.0) - Z * T + np.log1p(np.exp(-np.abs(Z))), axis=1)


def _mse_rows(Z, T):
    return np.mean((Z - T) ** 2, axis=1)


#: loss name -> per-example losses (N,) whose mean is the loss of ``bptutor.losses`` by that name.
PER_EXAMPLE_LOSSES = {"bce_logits": _bce_logits_rows, "mse": _mse_rows}


def _forward_with_noise(model, linear, X, noise):
    """Run ``model`` on ``X``, adding ``noise[k]`` to the output of the k-th Linear layer; returns inputs and output."""
    inputs, A = [], X
    for i, layer in enumerate(model.layers):
        if i in linear:
            inputs.append(A)
            A = A @ layer.W.data + layer.b.data  # (N, out): the layer's pre-activation
            if noise is not None:
                A = A + noise[linear.index(i)]
        else:
            A = layer.forward(A)
    return inputs, A


def node_perturbation_gradient(model, X, y, loss: str = "bce_logits", sigma: float = 0.01,
                               rng=0) -> GradientEstimate:
    r"""Node perturbation: noise on the pre-activations, correlated with each example's change of loss.

    Every unit of every Linear layer gets its own noise :math:`\xi \sim \mathcal N(0, \sigma^2)`
    on every example. With :math:`L = \frac1N\sum_n \ell_n` and
    :math:`\Delta\ell_n = \ell_n(\xi) - \ell_n(0)`:

    .. math:: \widehat{\frac{\partial L}{\partial Z_{k,n}}} = \frac{\Delta\ell_n}{N}\,\frac{\xi_{k,n}}{\sigma^2},
        \qquad dW_k = A_{k-1}^\top \widehat{\partial L/\partial Z_k}

    Unbiased to first order: :math:`\Delta\ell_n = \sum g\cdot\xi + O(\sigma^2)` and
    :math:`\mathbb E[\xi\xi^\top] = \sigma^2 I`. Its variance grows with the number
    of perturbed units per example (Werfel, Xie & Seung 2005), but not with
    the number of weights, unlike weight perturbation (SPSA, ES). Costs two
    forward passes (clean and noisy) and the products :math:`A^\top \hat\delta`.
    The model is not changed (its ``.grad`` neither).

    Args:
        model: ``Sequential(Linear, act, ..., Linear)``. X: inputs (N, D). y: targets (N, C).
        loss: a name in :data:`PER_EXAMPLE_LOSSES`. sigma: noise scale > 0. rng: generator or seed.

    Returns:
        :class:`~bptutor.alternatives.GradientEstimate` with the estimate flat (P,), in
        ``named_parameters`` order, ``evaluations = 2`` and no backward pass.
    """
    who = "node_perturbation_gradient"
    linear = _linear_indices(model, who)
    check_choice("loss", loss, tuple(PER_EXAMPLE_LOSSES), who=who)
    X, T = _check_pair(X, y, who)
    sigma = check_float("sigma", sigma, minimum=0.0, strict_min=True, who=who)
    g = check_rng(rng)
    rows = PER_EXAMPLE_LOSSES[loss]
    inputs, out = _forward_with_noise(model, linear, X, None)
    check_shape("y", T, out.shape, who=who)
    noise = [sigma * g.standard_normal((len(X), model.layers[i].out_features)) for i in linear]
    _, noisy = _forward_with_noise(model, linear, X, noise)
    change = (rows(noisy, T) - rows(out, T)) / len(X)  # (N,): each example's share of Delta L
    grads = []
    for A, xi in zip(inputs, noise):
        dZ = change[:, None] * xi / sigma ** 2        # (N, out)
        grads += [(A.T @ dZ).ravel(), dZ.sum(axis=0)]
    return GradientEstimate(np.concatenate(grads), 2, 0, "node perturbation")


# --- forward-forward ------------------------------------------------------------------------------------------

def goodness(H) -> np.ndarray:
    r"""A layer's goodness for each example, :math:`G_n = \sum_j H_{nj}^2` (Hinton 2022). H: (N, H) -> (N,)."""
    H = as_array("H", H, ndim=2, who="goodness")
    return np.sum(H * H, axis=1)


def ff_layer_loss(H_pos, H_neg, threshold: float) -> tuple[float, np.ndarray, np.ndarray]:
    r"""Forward-forward's local loss of one layer and its gradient with respect to the layer's activities.

    Positive data should have goodness above :math:`\theta`, negative data
    below; :math:`\sigma(G - \theta)` is the layer's probability that an
    example is positive, and the loss is the logistic loss of that guess:

    .. math:: L = \frac1{N_+}\sum_{n} \operatorname{softplus}(\theta - G^+_n)
        + \frac1{N_-}\sum_{n} \operatorname{softplus}(G^-_n - \theta),

    .. math:: \frac{\partial L}{\partial H^+_n} = -\frac{2\,\sigma(\theta - G^+_n)}{N_+}\,H^+_n, \qquad
        \frac{\partial L}{\partial H^-_n} = \frac{2\,\sigma(G^-_n - \theta)}{N_-}\,H^-_n

    (softplus :math:`\log(1 + e^x)` by ``np.logaddexp(0, x)``, finite for any input).

    Args:
        H_pos: activities on positive data (N+, H). H_neg: on negative data (N-, H). threshold: :math:`\theta`.

    Returns:
        (loss, dH_pos, dH_neg): a float and arrays of the shapes of ``H_pos`` and ``H_neg``.
    """
    who = "ff_layer_loss"
    H_pos = as_array("H_pos", H_pos, ndim=2, who=who).astype(np.float64)
    H_neg = as_array("H_neg", H_neg, ndim=2, who=who).astype(np.float64)
    if H_pos.shape[1] != H_neg.shape[1] or len(H_pos) == 0 or len(H_neg) == 0:
        raise ValueError(f"{who} expected H_pos (N+, H) and H_neg (N-, H) with the same H and N+, N- >= 1, "
                         f"got {H_pos.shape} and {H_neg.shape}")
    threshold = check_float("threshold", threshold, who=who)
    over_pos, over_neg = threshold - goodness(H_pos), goodness(H_neg) - threshold  # (N+,), (N-,)
    loss = np.mean(np.logaddexp(0.0, over_pos)) + np.mean(np.logaddexp(0.0, over_neg))
    sig_pos = np.exp(-np.logaddexp(0.0, -over_pos))   # sigmoid, without overflow
    sig_neg = np.exp(-np.logaddexp(0.0, -over_neg))
    dH_pos = -2.0 * sig_pos[:, None] * H_pos / len(H_pos)
    dH_neg = 2.0 * sig_neg[:, None] * H_neg / len(H_neg)
    return float(loss), dH_pos, dH_neg


def embed_label(X, labels, n_classes: int) -> np.ndarray:
    """Append the one-hot label to every input, as Hinton (2022) writes it into MNIST's first pixels: (N, D + C)."""
    who = "embed_label"
    X = as_array("X", X, ndim=2, who=who)
    n_classes = check_int("n_classes", n_classes, minimum=2, who=who)
    labels = as_array("labels", labels, ndim=1, who=who)
    if len(labels) != len(X) or not np.all((labels == np.round(labels)) & (labels >= 0) & (labels < n_classes)):
        raise ValueError(f"{who} expected labels (N,) = ({len(X)},) of integers in [0, {n_classes}), got "
                         f"{describe(labels)}")
    return np.hstack([X, np.eye(n_classes)[labels.astype(int)]])


class ForwardForward:
    r"""A ReLU network trained by the forward-forward algorithm (Hinton 2022), label embedded in the input.

    Each layer gets the input of the layer below divided by its length (so
    that it cannot read the lower layer's goodness off its size), computes
    :math:`H = \max(0, A W + b)` and takes a gradient step on its own
    :func:`ff_layer_loss`; no error crosses from one layer to another. Positive
    data: the inputs with their true labels (:func:`embed_label`); negative
    data: the same inputs with a wrong label drawn at random. A prediction tries
    every label and picks the one with the highest goodness summed over the
    layers (Hinton sums over all but the first hidden layer of his deeper nets).

    Args:
        D: input features. hidden: sizes of the hidden layers, e.g. ``(16, 16)``. n_classes: C >= 2.
        threshold: :math:`\theta` of :func:`ff_layer_loss`. rng: seed or generator for the weights.

    Attributes:
        layers: the ``Linear`` layers, (D + C, H1), (H1, H2), ...
        forward_passes: passes through the network so far (training: 2 per step; prediction: C).
    """

    def __init__(self, D: int, hidden=(16, 16), n_classes: int = 2, threshold: float = 2.0, rng=0):
        who = "ForwardForward"
        D = check_int("D", D, minimum=1, who=who)
        self.n_classes = check_int("n_classes", n_classes, minimum=2, who=who)
        if not isinstance(hidden, (tuple, list)) or not hidden:
            raise TypeError(f"{who} expected hidden to be a non-empty tuple of layer sizes, got {describe(hidden)}")
        hidden = [check_int("hidden", h, minimum=1, who=who) for h in hidden]
        self.threshold = check_float("threshold", threshold, who=who)
        g = check_rng(rng)
        sizes = [D + self.n_classes] + hidden
        self.layers = [Linear(a, b, rng=g) for a, b in zip(sizes[:-1], sizes[1:])]
        self.forward_passes = 0

    def parameters(self) -> list:
        return [p for layer in self.layers for p in layer.parameters()]

    def _activities(self, A) -> list:
        """Every layer's activities for inputs ``A`` (N, D + C) with the label embedded."""
        out = []
        for k, layer in enumerate(self.layers):
            if k > 0:
                A = A / (np.linalg.norm(A, axis=1, keepdims=True) + 1e-8)
            A = np.maximum(A @ layer.W.data + layer.b.data, 0.0)
            out.append(A)
        return out

    def goodness_per_label(self, X) -> np.ndarray:
        """(N, C): the goodness summed over the layers with each label embedded; C forward passes."""
        X = as_array("X", X, ndim=2, who="ForwardForward.goodness_per_label")
        self.forward_passes += self.n_classes
        return np.stack([sum(goodness(H) for H in self._activities(embed_label(X, np.full(len(X), c),
                                                                              self.n_classes)))
                         for c in range(self.n_classes)], axis=1)

    def predict(self, X) -> np.ndarray:
        """The label with the highest goodness, (N,) integers."""
        return np.argmax(self.goodness_per_label(X), axis=1)

    def train_step(self, X, labels, lr: float, rng) -> list[float]:
        """One step of every layer on its own loss; negative labels drawn from ``rng``. Returns the layers' losses."""
        who = "ForwardForward.train_step"
        lr = check_float("lr", lr, minimum=0.0, strict_min=True, who=who)
        g = check_rng(rng)
        A_pos = embed_label(X, labels, self.n_classes)  # validates X and labels before anything changes
        labels = np.asarray(labels)
        wrong = (labels.astype(int) + g.integers(1, self.n_classes, size=len(labels))) % self.n_classes
        A_neg = embed_label(X, wrong, self.n_classes)
        self.forward_passes += 2
        losses = []
        for k, layer in enumerate(self.layers):
            if k > 0:
                A_pos = A_pos / (np.linalg.norm(A_pos, axis=1, keepdims=True) + 1e-8)
                A_neg = A_neg / (np.linalg.norm(A_neg, axis=1, keepdims=True) + 1e-8)
            Z_pos, Z_neg = A_pos @ layer.W.data + layer.b.data, A_neg @ layer.W.data + layer.b.data
            H_pos, H_neg = np.maximum(Z_pos, 0.0), np.maximum(Z_neg, 0.0)
            loss, dH_pos, dH_neg = ff_layer_loss(H_pos, H_neg, self.threshold)
            dZ_pos, dZ_neg = dH_pos * (Z_pos > 0), dH_neg * (Z_neg > 0)
            layer.W.data -= lr * (A_pos.T @ dZ_pos + A_neg.T @ dZ_neg)
            layer.b.data -= lr * (dZ_pos.sum(axis=0) + dZ_neg.sum(axis=0))
            A_pos, A_neg = H_pos, H_neg          # the next layer learns from this one's output, as a constant
            losses.append(loss)
        return losses
