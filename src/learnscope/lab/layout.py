"""The frame every lab page shares: a header with the lesson map as links, a title and a one-line purpose."""

from contextlib import contextmanager
from dataclasses import dataclass

from nicegui import ui

from learnscope.lab.components.glossary import GlossaryText


@dataclass(frozen=True)
class Lesson:
    path: str
    title: str
    summary: str            # one plain sentence: what the learner sees there


#: The lab's pages in the order a learner meets them; later issues add to this list.
LESSONS = (
    Lesson("/playground", "Playground",
           "Train a small network on 2D points and watch the decision boundary, every neuron and every weight change."),
    Lesson("/history", "History",
           "Run the history: threshold neurons (1943), the perceptron and XOR (1958, 1969), backpropagation (1986)."),
    Lesson("/mnist", "MNIST",
           "Train on 60,000 real handwritten digits and watch loss, accuracy, gradients and first-layer weights live."),
    Lesson("/draw", "Draw",
           "Draw a digit with the mouse and see what the trained network makes of it, layer by layer."),
    Lesson("/step", "One step",
           "Follow one example through a real training step: prediction, error, backpropagation, update."),
    Lesson("/descent", "Gradient descent",
           "Batch, stochastic and mini-batch paths side by side, and the optimizers racing down a loss surface."),
    Lesson("/wrong", "Going wrong",
           "A network memorising 1,000 digits, gradients vanishing layer by layer, and what training costs."),
    Lesson("/remedies", "Remedies",
           "Each remedy alone, before and after: L2, dropout, batch norm, augmentation, residual blocks, clipping."),
    Lesson("/inside", "Inside",
           "Which pixels a prediction rests on, four ways, and whether each map shows the model or only the digit."),
    Lesson("/transfer", "Transfer",
           "Start a new task from a network trained on another: from scratch, frozen features or fine-tuning."),
    Lesson("/neurosymbolic", "Neuro-symbolic",
           "Learn to read digits from sums alone, through a layer that knows the rule of addition."),
)

PAGE_WIDTH = "max-width: 1240px"
#: Tables of numbers beside a picture: airy columns, the first flush with the text above
TABLE_STYLE = "border-collapse: separate; border-spacing: 14px 3px; margin-left: -14px"


@contextmanager
def page_frame(title: str, purpose: str, active: str = ""):
    """Header with links to every lesson, then a column holding the page: `with page_frame(...): ...`."""
    ui.page_title(f"{title} · learnscope lab")
    with ui.header().classes("items-center gap-6 px-6 py-2 bg-slate-800"):
        ui.link("learnscope lab", "/").classes("text-lg font-bold text-white no-underline")
        for lesson in LESSONS:
            link = ui.link(lesson.title, lesson.path).classes("text-white no-underline")
            link.classes("underline font-bold" if lesson.path == active else "opacity-90")
            link.tooltip(lesson.summary)
    with ui.column().classes("w-full mx-auto p-4 gap-3").style(PAGE_WIDTH) as column:
        ui.label(title).classes("text-2xl font-bold")
        ui.label(purpose).classes("text-base text-slate-600")
        yield column


def explain(text: str) -> GlossaryText:
    """A short plain-language caption under a chart or control group; its technical words hover their glossary
    definitions."""
    return GlossaryText(text).classes("text-sm text-slate-600")


def show_error(container, message: str) -> None:
    """Replace what `container` shows with one readable error message (inline, not a popup)."""
    container.clear()
    with container:
        ui.label(message).classes("text-red-700 text-sm").props('role="alert"')
