"""A running job's progress bar and its line of numbers, redrawn in place several times a second.

Why not labels: NiceGUI answers any changed prop by re-rendering the whole page in the browser. With the MNIST page
streaming, Chromium spent 0.6-0.9 s of CPU per 6 s of training on such updates, and about half that when the same
changes went straight to these nodes; on a 2-core machine that time is taken from the trainer's BLAS threads.
show() calls the component's own method instead of changing a prop.
"""

from nicegui import ui

EMPTY = {"fraction": None, "detail": "", "wall_ms": None}


class LiveProgress(ui.element, component="live_progress.js"):
    """view: {fraction (0..1 or None), detail (text), wall_ms (the snapshot's server time: not shown, kept on an
    attribute so that a test can measure how late the browser draws each snapshot)}."""

    def __init__(self):
        super().__init__()
        self._props["view"] = dict(EMPTY)             # what the component starts with
        self.view = dict(EMPTY)                       # what is shown now

    def show(self, view: dict) -> None:
        if view == self.view:
            return
        self.view = dict(view)
        if not self.client.has_socket_connection:  # the page is being built: the view goes out with it
            self._props["view"] = self.view
        else:   # NOTE: not a prop change, which NiceGUI would send as an update, re-rendering the whole page
            self.run_method("show", self.view)
