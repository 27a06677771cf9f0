"""The lesson frame every lesson page uses (DESIGN.md, "The lab is a course"):

    chapter_section(chapter)          a section (id "chapter-N", where the course links) with the chapter's number,
                                      title and plain explanation, its technical words hovering their definitions
    section(anchor, title, text)      one part of a chapter: its own id, heading and explanation
    FindingsPanel(apply_fix)          what the diagnostics name in the live run: finding, evidence, why, one-click fix
    TryThis(experiments, start)       "Try this" cards; the active one's outcome, read from the run, shows both in
                                      its card and in a banner beside the live picture

The page owns the run: it says which fixes it can apply, starts an experiment's setup, and hands the panel and the
cards its latest numbers. Nothing here computes a number.
"""

from collections.abc import Callable

from nicegui import ui

from learnscope.lab.components.glossary import GlossaryText
from learnscope.lab.layout import explain
from learnscope.lessons.course import Chapter
from learnscope.lessons.experiments import Experiment, Outcome
from learnscope.train.diagnostics import Diagnosis

#: findings shown at once (problems first); more would bury the first one
MAX_FINDINGS = 3


def chapter_section(chapter: Chapter) -> ui.element:
    """`with chapter_section(chapter): ...` — the chapter's heading and explanation, then whatever the page adds."""
    section = ui.element("section").props(f'id="{chapter.anchor}"').classes("w-full flex flex-col gap-2 scroll-mt-16")
    with section:
        with ui.element("h2").classes("text-xl font-bold mt-2"):
            ui.label(f"Chapter {chapter.number} · {chapter.title}")
        GlossaryText(chapter.explanation).classes("text-base max-w-4xl")
    return section


def section(anchor: str, title: str, explanation: str) -> ui.element:
    """`with section(...)`: one part of a chapter (id `anchor`, where links and "Try this" scroll to), its heading and
    a plain explanation, then whatever the page adds."""
    element = ui.element("section").props(f'id="{anchor}"').classes("w-full flex flex-col gap-2 scroll-mt-16")
    with element:
        ui.label(title).classes("text-lg font-bold mt-2")
        explain(explanation)
    return element


class FindingsPanel:
    """The live run's findings, each with its evidence, why it happens and, where the page can apply it, a fix."""

    def __init__(self, apply_fix: Callable[[dict], None], can_apply: Callable[[dict], bool]):
        self.apply_fix, self.can_apply = apply_fix, can_apply
        self.container = ui.column().classes("w-full gap-2") \
            .props('role="status" aria-live="polite" aria-label="What the diagnostics see" data-findings')
        self._shown: tuple = ()

    def show(self, findings: tuple[Diagnosis, ...]) -> None:
        key = tuple((finding.kind, finding.title, finding.evidence_text) for finding in findings)
        if key == self._shown:                         # same findings: leave the page alone
            return
        self._shown = key
        self.container.clear()
        offered: list[dict] = []                       # one button per fix, on the first finding it cures
        with self.container:
            for index, finding in enumerate(findings[:MAX_FINDINGS]):
                fix = finding.fix if finding.fix and finding.fix not in offered and self.can_apply(finding.fix) else {}
                offered.append(finding.fix)
                self._card(finding, fix, folded=index > 0)   # the first in full; the rest often follow from it
            if len(findings) > MAX_FINDINGS:
                ui.label(f"…and {len(findings) - MAX_FINDINGS} more, often consequences of the first.") \
                    .classes("text-sm text-slate-600")

    def _card(self, finding: Diagnosis, fix: dict, folded: bool) -> None:
        problem = finding.severity == "problem"
        colours = "bg-red-50 border-red-300" if problem else "bg-amber-50 border-amber-300"
        with ui.card().classes(f"w-full gap-1 {'p-1' if folded else 'p-3'} {colours}").props("flat bordered"):
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                ui.icon("error" if problem else "warning", color="red-8" if problem else "amber-9")
                if folded:                             # its evidence and why open on a click
                    body = ui.expansion(finding.title).props("dense").classes("grow text-sm font-bold")
                else:
                    ui.label(finding.title).classes("font-bold text-base grow")
                if fix:
                    ui.button(finding.fix_label, icon="build", on_click=lambda: self.apply_fix(fix)) \
                        .props("no-caps dense unelevated color=primary").classes("px-2 shrink-0")
            if not folded:
                body = ui.column().classes("w-full gap-1")
            with body:
                ui.label(finding.evidence_text).classes("text-sm font-mono text-slate-700 break-words font-normal")
                GlossaryText(finding.explanation).classes("text-sm font-normal")


class TryThis:
    """"Try this" experiments. `cards(chapter)` puts a chapter's cards where it is called; `banner()` the line that
    follows the active experiment beside the live picture; `show(numbers, still_set_up)` updates both."""

    def __init__(self, experiments: tuple[Experiment, ...], start: Callable[[Experiment], None],
                 scroll_to: str | None = None):
        # scroll_to: the id of the element holding the live picture (None: the top of the page)
        self.experiments, self.start, self.scroll_to = experiments, start, scroll_to
        self.active: Experiment | None = None
        self._outcomes: dict[str, ui.label] = {}
        self._banner = self._banner_title = self._banner_text = None

    def cards(self, chapter: int) -> None:
        chosen = [e for e in self.experiments if e.chapter == chapter]
        if not chosen:
            return
        ui.label("Try this").classes("text-lg font-bold")
        with ui.row().classes("w-full gap-3 flex-wrap items-stretch"):
            for experiment in chosen:
                with ui.card().classes("w-96 max-w-full p-3 gap-1") \
                        .props(f'flat bordered role="group" aria-label="{experiment.title}" '
                               f'data-experiment="{experiment.key}"'):
                    ui.button(experiment.title, icon="science", on_click=lambda _, e=experiment: self._start(e)) \
                        .props("no-caps outline dense").classes("px-2")
                    ui.label(experiment.question).classes("text-sm italic")
                    self._outcomes[experiment.key] = ui.label("").classes("text-sm") \
                        .props(f'data-outcome="{experiment.key}"')

    def banner(self) -> None:
        with ui.row().classes("w-full items-start gap-2 no-wrap p-2 rounded bg-sky-50 border border-sky-200") \
                .props('role="status" aria-live="polite" aria-label="The running experiment" data-banner') \
                as self._banner:
            ui.icon("science", color="primary").classes("mt-1")
            with ui.column().classes("gap-0"):
                self._banner_title = ui.label("").classes("text-sm font-bold")
                self._banner_text = ui.label("").classes("text-sm")
        self._banner.set_visibility(False)

    def _start(self, experiment: Experiment) -> None:
        self.active = experiment
        for key, label in self._outcomes.items():
            label.text = "" if key != experiment.key else "Running…"
        self.start(experiment)
        if self.scroll_to is None:                                              # to the live picture
            ui.run_javascript("window.scrollTo({top: 0, behavior: 'smooth'})")
        else:
            ui.run_javascript(f"document.getElementById('{self.scroll_to}').scrollIntoView({{behavior: 'smooth'}})")

    def show(self, numbers, still_set_up: bool) -> None:
        """numbers: what the page's outcomes read (a RunNumbers, a LearningStep, a DigitReading, or None)."""
        experiment = self.active
        if experiment is None:
            return
        outcome = experiment.outcome(numbers) if still_set_up else Outcome(
            "The setup has changed since this experiment started; press its button to run it again.", False)
        self._outcomes[experiment.key].text = outcome.text
        if self._banner is not None:
            self._banner_title.text = f"Try this: {experiment.title}. {experiment.question}"
            self._banner_text.text = outcome.text
            self._banner.set_visibility(True)
