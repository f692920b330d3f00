"""Small networks and functions shared by the tests of bptutor.alternatives' modules."""
import numpy as np
from hypothesis import settings

from bptutor.activations import Tanh
from bptutor.alternatives import Objective
from bptutor.datasets import binary_targets, make_moons
from bptutor.layers import Linear, Sequential

FAST = settings(max_examples=15, deadline=None)


def small_net(H=4, act=Tanh, C=1, seed=1):
    return Sequential(Linear(2, H, rng=seed), act(), Linear(H, C, rng=seed + 1))


def moons_objective(H=4, N=40):
    X, y = make_moons(N, noise=0.1, rng=0)
    model = small_net(H)
    return model, Objective(model, "bce_logits", X, binary_targets(y))


def quadratic(P=6, seed=0):
    """f = 1/2 theta^T A theta - c^T theta, gradient A theta - c, at a random point."""
    g = np.random.default_rng(seed)
    Q = g.normal(size=(P, P))
    A, c, theta = Q @ Q.T / P + np.eye(P), g.normal(size=P), g.normal(size=P)
    return (lambda th: 0.5 * th @ A @ th - c @ th), A @ theta - c, theta
