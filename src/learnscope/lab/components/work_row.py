"""WorkRow: buttons that start a long computation, its progress bar and its status line, one computation at a time.

    row = WorkRow([Work("Draw the landscape", "landscape", draw, "What it does.")], "landscape", "How far it is")
    async def draw():                     # runs its heavy part with run.io_bound, so the page keeps answering
        row.status = "Loading…"
        result = await run.io_bound(compute, progress=row.set_progress)
    row.refresh()                         # from the page's timer: copies status and progress onto the page
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import background_tasks, run, ui

from learnscope.data.sources import DatasetUnavailable
from learnscope.lessons.mnist_lab import load_lab_dataset


@dataclass(frozen=True)
class Work:
    """One button of a WorkRow: its text, icon, the computation it starts and a tooltip saying what that does."""

    text: str
    icon: str
    start: Callable[[], Awaitable[None]]
    tooltip: str
    primary: bool = True


class WorkRow:
    """While a computation runs the buttons start nothing new; `status` and `progress` (0 to 1) are set by it,
    `set_progress` also from its worker thread, and shown on the page by refresh()."""

    def __init__(self, works: list[Work], name: str, aria_label: str):
        self.busy, self.progress, self.status = False, 0.0, ""
        with ui.row().classes("items-center gap-3"):
            for work in works:
                ui.button(work.text, icon=work.icon, on_click=lambda _, work=work: self.run(work.start)) \
                    .props("no-caps" if work.primary else "no-caps outline").tooltip(work.tooltip)
            self.bar = ui.linear_progress(value=0, show_value=False).classes("w-64") \
                .props(f'data-{name}-progress aria-label="{aria_label}"')
            self.label = ui.label("").classes("text-sm").props(f"data-{name}-status")

    def set_progress(self, fraction: float) -> None:
        self.progress = fraction                 # one float: safe to set from the worker thread

    async def run(self, start: Callable[[], Awaitable[None]]) -> None:
        if self.busy:
            return
        self.busy, self.progress = True, 0.0
        try:
            await start()
        finally:
            self.busy = False

    def start_in_background(self, start: Callable[[], Awaitable[None]]) -> bool:
        """From a handler that cannot wait (a "Try this" card): run `start` as run() does, in the background. When a
        computation is already running, start nothing, say to wait, and return False."""
        if self.busy:
            self.status = "Wait for the current run to finish, then press the experiment again."
            return False
        background_tasks.create(self.run(start), name="work-row")
        return True

    def finish(self, status: str) -> None:
        self.status, self.progress = status, 1.0

    def refresh(self) -> None:
        if self.busy or self.label.text != self.status:
            self.label.text = self.status
            self.bar.value = self.progress


async def load_mnist(work: WorkRow, config):
    """The lab's MNIST Dataset, loaded off the event loop while `work` says so; None (and the reason in its status)
    when it cannot be loaded. config: the LabConfig (where the data is, whether to download)."""
    work.status = "Loading MNIST…"
    try:
        return await run.io_bound(load_lab_dataset, "mnist", config.data_dir, config.allow_download)
    except (DatasetUnavailable, OSError, ValueError) as error:
        work.status = f"MNIST could not be loaded: {error}"
        return None

