"""Home: the course's table of contents, the guide's twelve chapters in order, each linked to the page section
that shows it (or marked as coming)."""

from nicegui import ui

from learnscope.lab.components.glossary import GlossaryText
from learnscope.lab.layout import page_frame
from learnscope.lab.state import LabState
from learnscope.lessons.course import CHAPTERS

INTRODUCTION = (
    "Every number here comes from learnscope's own engine, written from scratch in NumPy: the same layers, "
    "losses and optimizers you can read in the source and call from Python. Nothing is pre-recorded: each chart "
    "is a network training right now on this computer. Follow the chapters in order, or jump in anywhere."
)


def register(state: LabState) -> None:
    @ui.page("/")
    def home_page():
        with page_frame("See how a neural network learns",
                        "A course in twelve chapters, each a live experiment you can change and rerun."):
            ui.label(INTRODUCTION).classes("text-base max-w-3xl")
            with ui.element("ol").classes("w-full grid gap-3 list-none p-0") \
                    .style("grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr))"):
                for chapter in CHAPTERS:
                    with ui.element("li").props(f'data-chapter="{chapter.number}"') \
                            .classes("border rounded p-3 flex flex-col gap-1" + (" opacity-70" if chapter.coming
                                                                                  else "")):
                        with ui.row().classes("items-baseline gap-2 no-wrap"):
                            ui.label(str(chapter.number)).classes("text-2xl font-bold text-slate-400 w-8 shrink-0")
                            if chapter.coming:
                                ui.label(chapter.title).classes("text-lg font-bold")
                                ui.badge("coming").props("outline color=grey-7")
                            else:
                                ui.link(chapter.title, chapter.link).classes("text-lg font-bold")
                        GlossaryText(chapter.summary).classes("text-sm")
            ui.markdown(
                "**Also:** `learnscope train mnist` trains from the terminal, `learnscope runs list` shows every "
                "recorded run, and `learnscope report` turns runs into a page you can share."
            ).classes("text-sm text-slate-600")
