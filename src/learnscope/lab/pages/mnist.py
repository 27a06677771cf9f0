"""Mnist page (placeholder while it is built)."""

from nicegui import ui

from learnscope.lab.layout import page_frame
from learnscope.lab.state import LabState


def register(state: LabState) -> None:
    @ui.page("/mnist")
    def mnist_page():
        with page_frame("Mnist", "Being built.", active="/mnist"):
            ui.label("Coming in this issue.")
