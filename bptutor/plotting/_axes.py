"""The one helper every plot module shares: the axes to draw on."""
from __future__ import annotations

import matplotlib.pyplot as plt


def _get_ax(ax, figsize=None):
    """Return ``ax``, or the axes of a new figure when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax
