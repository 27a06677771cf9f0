"""Transfer learning (chapter 12), live: a network pretrained on one task starts another from scratch, with its
features frozen, or fine-tuned, at a chosen number of labels per class; their curves race on one chart.

Every number comes from below lab/ (lessons.transfer, lessons.beyond_lab); training runs off the event loop and stops
when the tab closes. The pretrained networks are shared by every tab (LabState.pretrained); each run trains a copy.
"""

from nicegui import run, ui

from learnscope.data.sources import DatasetUnavailable
from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.lesson import TryThis, chapter_section, section
from learnscope.lab.components.work_row import Work, WorkRow
from learnscope.lab.layout import TABLE_STYLE, explain, page_frame
from learnscope.lab.state import LabState
from learnscope.lessons.beyond_lab import TRANSFER_EXPERIMENTS, TransferComparison, describe_comparison
from learnscope.lessons.course import chapter
from learnscope.lessons.drawing import DIGIT_CLASS_NAMES
from learnscope.lessons.mnist_lab import load_lab_dataset
from learnscope.lessons.transfer import (
    BUDGETS,
    METHOD_LABELS,
    METHODS,
    TARGET_STEPS,
    budget_words,
    describe_budget,
    early_accuracy,
    pretrain,
    steps_to_catch_up,
    summarize,
    train_on_target,
    transfer_task,
)
from learnscope.train import StopWhen

TICK_SECONDS = 0.25
TASK_CHOICES = {"near": "near: digits 0–4 → digits 5–9", "far": "far: digits → Fashion-MNIST clothes"}
BUDGET_CHOICES = {(budget or 0): budget_words(budget) for budget in BUDGETS}
SOURCE_CHOICES = {"here": "a CNN pretrained here", "lab-model": "your digit model (MNIST, Draw or Inside page)"}


def register(state: LabState) -> None:
    @ui.page("/transfer")
    def transfer_page():
        with page_frame("Transfer", "A network that learned one task starts the next one: how much does the head "
                        "start give, and what does it cost?", active="/transfer"):
            TransferPage(state)


def runs_table_html(runs) -> str:
    """One row per budget and start: accuracy early in the run and at its end (mean over seeds), seconds, and the
    step at which it caught up with from scratch's end."""
    rows, early_step = "", 0
    for per_class in dict.fromkeys(done.per_class for done in runs):
        chosen = [done for done in runs if done.per_class == per_class]
        for row in summarize(chosen):
            early_step, early = early_accuracy(chosen, row.method)
            caught_up = steps_to_catch_up(chosen, row.method)
            rows += (f'<tr data-start="{row.method}"><td>{budget_words(per_class)}</td>'
                     f"<td>{METHOD_LABELS[row.method]}</td><td align=right>{early:.1%}</td>"
                     f"<td align=right>{row.mean:.1%}</td><td align=right>{row.mean_seconds:.1f}</td>"
                     f"<td align=right>{'—' if row.method == 'scratch' or caught_up is None else caught_up}</td></tr>")
    return (f'<table style="{TABLE_STYLE}" data-transfer-table><tr><th align=left>labels</th><th align=left>start</th>'
            f"<th>at step {early_step}</th><th>at the end</th><th>seconds</th><th>caught up with scratch at step</th>"
            f"</tr>{rows}</table>")


class TransferPage:
    def __init__(self, state: LabState):
        self.state = state
        self.curves: dict = {}              # start -> [(step, accuracy)], replaced from the worker thread
        self.drawn_curves = None
        self.runs: list = []
        self.setup_of_experiment = None
        self.try_this = TryThis(TRANSFER_EXPERIMENTS, self._start_experiment, scroll_to="transfer")
        with chapter_section(chapter(12)):
            with section("transfer", "Transfer learning: a head start from another task",
                         "A CNN learns a source task first. For the target task it gets a new output layer (its head) "
                         "and one of three starts: from scratch (a fresh network, every weight learned from the few "
                         "labels), frozen features (the pretrained layers kept as they are, only the head learns; "
                         "their features are computed once per image and cached, so each step trains one layer) or "
                         f"fine-tuning (every layer learns, starting from the pretrained weights). Each takes "
                         f"{TARGET_STEPS} steps; the chart shows test accuracy as they go."):
                self._controls()
                self.try_this.banner()
                with ui.row().classes("w-full gap-4 flex-wrap items-start"):
                    with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 34rem"):
                        self.chart = LiveChart("Test accuracy on the target task", "step", "accuracy",
                                               height="260px", y_range=(0, 1))
                    self.table = ui.html("", sanitize=False).classes("text-sm")
                self.summary = explain("").props("data-transfer-text")
            self.try_this.cards(12)
            with ui.row().classes("gap-4"):
                ui.link("← Chapter 11: inside the network", "/inside#chapter-11")
                ui.link("Next: digits learned from sums (neuro-symbolic) →", "/neurosymbolic#chapter-12")
        ui.timer(TICK_SECONDS, self._tick)

    @property
    def closed(self) -> bool:
        return self.chart.is_deleted

    def _controls(self) -> None:
        with ui.row().classes("items-end gap-3 flex-wrap"):
            self.task_select = ui.select(TASK_CHOICES, value="near", label="task", on_change=self._task_changed) \
                .classes("w-72").props("dense outlined").mark("field-task")
            self.budget_select = ui.select(BUDGET_CHOICES, value=10, label="labels").classes("w-44") \
                .props("dense outlined").mark("field-budget")
            self.seed_input = ui.number("seed", value=0, min=0, max=9999, step=1, format="%d") \
                .props("dense outlined").classes("w-24").mark("field-seed")
            self.source_select = ui.select(SOURCE_CHOICES, value="here", label="start from").classes("w-72") \
                .props("dense outlined").mark("field-source") \
                .tooltip("Far task only: the digit model you trained in the lab (the MNIST page's, or the quick one "
                         "of the Draw or Inside page).")
        self.source_select.set_visibility(False)
        self.work = WorkRow([Work("Compare the three starts", "compare_arrows", self._compare,
                                  "From scratch, frozen features and fine-tuning at this many labels (about 10 s, "
                                  "plus the pretraining the first time: 10–30 s)."),
                             Work("Every budget", "table_chart", self._whole_table,
                                  "The three starts at 10, 100, 1,000 and all labels per class (about a minute).",
                                  primary=False)],
                            "transfer", "How far the comparison is")

    def _task_changed(self, *_) -> None:
        self.source_select.set_visibility(self.task_select.value == "far")

    def _seed(self) -> int | None:
        seed = self.seed_input.value
        if seed is None or not 0 <= int(seed) <= 9999:
            self.work.status = f"Expected a seed from 0 to 9999, got {seed}."
            return None
        return int(seed)

    async def _task_and_source(self, name: str):
        """(the TransferTask, the pretrained network, where it came from) or None, with the reason in the status."""
        work = self.work
        work.status = "Loading the datasets…"
        try:
            mnist = await run.io_bound(load_lab_dataset, "mnist", self.state.config.data_dir,
                                       self.state.config.allow_download)
            fashion = None
            if name == "far":
                fashion = await run.io_bound(load_lab_dataset, "fashion-mnist", self.state.config.data_dir,
                                             self.state.config.allow_download)
        except (DatasetUnavailable, OSError, ValueError) as error:
            work.status = f"The datasets could not be loaded: {error}"
            return None
        if mnist is None or (name == "far" and fashion is None):
            return None
        task = transfer_task(name, mnist, fashion)
        trained = self.state.trained_model
        if name == "far" and self.source_select.value == "lab-model":
            if trained is None or trained.class_names != DIGIT_CLASS_NAMES:
                what = "No digit model in the lab yet" if trained is None else \
                    f"The lab's current model ({trained.name}) does not read digits"
                work.status = (f"{what}: train one on the MNIST page (on MNIST), or start from a CNN pretrained "
                               "here.")
                return None
            return task, trained.model, trained.name
        work.status = f"Pretraining the source network ({task.description.split(',')[0].lower()})…"
        source = await run.io_bound(self.state.pretrained, name, lambda: pretrain(task))
        return (task, source, "a CNN pretrained here") if source is not None else None

    async def _run_starts(self, task, source, per_class, seed, done: int, total: int) -> list:
        runs = []
        for method in METHODS:
            self.work.status = f"Training: {METHOD_LABELS[method]}, {budget_words(per_class)}…"
            key = METHOD_LABELS[method]

            def on_point(point, key=key):
                self.curves = {**self.curves, key: [*self.curves.get(key, []), point]}

            self.curves = {**self.curves, key: []}
            result = await run.io_bound(train_on_target, task, method, per_class, source, seed, on_point=on_point,
                                        callbacks=[StopWhen(lambda: self.closed, "The tab closed.")])
            if result is None or self.closed:
                return []
            result.model = None
            runs.append(result)
            done += 1
            self.work.set_progress(done / total)
        return runs

    async def _compare(self, setup: dict | None = None) -> None:
        seed = self._seed()
        if seed is None:
            return
        name = (setup or {}).get("task", self.task_select.value)
        per_class = (setup or {}).get("per_class", self.budget_select.value or None)
        found = await self._task_and_source(name)
        if found is None or self.closed:
            return
        task, source, origin = found
        self.curves, self.runs = {}, []
        runs = await self._run_starts(task, source, per_class, seed, 0, len(METHODS))
        if not runs:
            return
        self.runs = runs
        self.table.content = runs_table_html(runs)
        comparison = TransferComparison(per_class, tuple(runs))
        self.summary.text = f"{task.description}, starting from {origin}. {describe_comparison(comparison)}"
        self.work.finish(f"Done: three starts in {sum(run.seconds for run in runs):.0f} s of training.")
        if setup is not None and self.setup_of_experiment == setup:
            self.try_this.show(comparison, still_set_up=True)

    async def _whole_table(self) -> None:
        seed = self._seed()
        if seed is None:
            return
        name = self.task_select.value
        found = await self._task_and_source(name)
        if found is None or self.closed:
            return
        task, source, origin = found
        self.runs = []
        total = len(BUDGETS) * len(METHODS)
        for number, per_class in enumerate(BUDGETS):
            self.curves = {}
            runs = await self._run_starts(task, source, per_class, seed, number * len(METHODS), total)
            if not runs:
                return
            self.runs = [*self.runs, *runs]
            self.table.content = runs_table_html(self.runs)
        rows = summarize(self.runs)
        self.summary.text = f"{task.description}, starting from {origin}. " + " ".join(
            describe_budget(rows, per_class) for per_class in BUDGETS)
        self.work.finish(f"Done: {len(self.runs)} runs in {sum(run.seconds for run in self.runs):.0f} s of training.")

    # ---- "Try this" ----
    def _start_experiment(self, experiment) -> None:
        setup = dict(experiment.setup)
        self.setup_of_experiment = setup
        self.task_select.value = setup["task"]
        self.budget_select.value = setup["per_class"] or 0
        self.source_select.value = "here"
        self.work.start_in_background(lambda: self._compare(setup))

    def _tick(self) -> None:
        self.work.refresh()
        curves = self.curves
        if curves is not self.drawn_curves:
            self.drawn_curves = curves
            self.chart.show({key: ([step for step, _ in points], [value for _, value in points])
                             for key, points in curves.items()})
