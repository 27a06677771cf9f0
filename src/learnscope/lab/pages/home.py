"""Home: what the lab is, and a map of its lessons."""

from nicegui import ui

from learnscope.lab.layout import LESSONS, page_frame
from learnscope.lab.state import LabState

INTRODUCTION = (
    "Every number here comes from learnscope's own engine, written from scratch in NumPy: the same layers, "
    "losses and optimizers you can read in the source and call from Python. Nothing is pre-recorded — "
    "each chart is a network training right now on this computer."
)


def register(state: LabState) -> None:
    @ui.page("/")
    def home_page():
        with page_frame("See how a neural network learns",
                        "A lab where a network learns in front of you, on toy points and on real handwriting."):
            ui.markdown(INTRODUCTION).classes("text-base max-w-3xl")
            with ui.row().classes("gap-4 flex-wrap"):
                for number, lesson in enumerate(LESSONS, start=1):
                    with ui.card().classes("w-72"):
                        ui.link(f"{number}. {lesson.title}", lesson.path).classes("text-lg font-bold")
                        ui.label(lesson.summary).classes("text-sm")
            ui.markdown(
                "**Also:** `learnscope train mnist` trains from the terminal, `learnscope runs list` shows every "
                "recorded run, and `learnscope report` turns runs into a page you can share."
            ).classes("text-sm text-slate-600")
