"""Playground page (placeholder while it is built)."""

from nicegui import ui

from learnscope.lab.layout import page_frame
from learnscope.lab.state import LabState


def register(state: LabState) -> None:
    @ui.page("/playground")
    def playground_page():
        with page_frame("Playground", "Being built.", active="/playground"):
            ui.label("Coming in this issue.")
