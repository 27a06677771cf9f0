"""Draw page (placeholder while it is built)."""

from nicegui import ui

from learnscope.lab.layout import page_frame
from learnscope.lab.state import LabState


def register(state: LabState) -> None:
    @ui.page("/draw")
    def draw_page():
        with page_frame("Draw", "Being built.", active="/draw"):
            ui.label("Coming in this issue.")
