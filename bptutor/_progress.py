"""The progress bar behind ``fit(progress=True)``: tqdm's, and in a notebook one that leaves
its final state in the saved output.

tqdm's notebook bar is a widget, displayed once with the text of its first frame
(``0/300``) as the fallback a static viewer shows. This one is displayed with a
display id and, when it closes, the display is updated: the stored output then
holds the widget view beside the bar's final text (``300/300 [00:01, ...]``), which
is what GitHub, nbconvert's HTML or a kernel-less VS Code show. Outside a notebook
(a terminal, a script) it is tqdm's text bar.
"""
from __future__ import annotations

from tqdm.auto import tqdm as _auto_tqdm

try:  # the notebook bar exists only where ipywidgets and IPython do
    from tqdm.notebook import tqdm as _notebook_tqdm
except ImportError:  # pragma: no cover - ipywidgets is a dependency
    _notebook_tqdm = None

__all__ = ["tqdm"]

if _notebook_tqdm is not None and issubclass(_auto_tqdm, _notebook_tqdm):

    class tqdm(_auto_tqdm):  # noqa: N801 (tqdm's own name)
        """tqdm's notebook bar whose saved output ends in its final state."""

        def __init__(self, *args, **kwargs):
            show = kwargs.pop("display", True)
            super().__init__(*args, display=False, **kwargs)
            self._handle = None
            if show and not self.disable and self.delay <= 0:
                from IPython.display import display

                self._handle = display(self.container, display_id=True)
                self.displayed = True

        def close(self):
            showing = getattr(self, "_handle", None) is not None and not self.disable and self.leave
            super().close()  # sets self.disable
            if showing:
                # The widget's bundle again, its text/plain now the final line of the bar.
                self._handle.update(self.container)
                self._handle = None
else:
    tqdm = _auto_tqdm
