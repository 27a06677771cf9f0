"""Remedies (chapter 10), before and after: each remedy for overfitting toggled alone on Nielsen's 1,000-image
setup with its curve and the test accuracy it gained; ReLU + He, batch normalisation and residual connections
against vanishing gradients, side by side; gradient clipping against an exploding one.

The numbers come from below lab/ (lessons.overfitting, lessons.gradient_flow, lessons.going_wrong_lab); this page
runs them off the event loop and draws them as they come.
"""

import numpy as np
from nicegui import run, ui

from learnscope.data.batches import steps_per_epoch
from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.gradient_bars import decades, norm_bars
from learnscope.lab.components.lesson import TryThis, chapter_section
from learnscope.lab.components.work_row import Work, WorkRow, load_mnist
from learnscope.lab.layout import TABLE_STYLE, explain, page_frame
from learnscope.lab.state import LabState
from learnscope.lessons.course import chapter
from learnscope.lessons.going_wrong_lab import REMEDY_EXPERIMENTS, OverfittingComparison, clipping, describe_remedies
from learnscope.lessons.gradient_flow import (
    GRADIENT_EXAMPLES,
    KIND_NAMES,
    WATCH_EXAMPLES,
    deep_network,
    describe_gradient_norms,
    layer_gradient_norms,
    watch_training,
)
from learnscope.lessons.overfitting import (
    REMEDIES,
    OverfittingSetup,
    RemedyResult,
    compare_remedies,
    overfitting_run,
    remedy_setup,
)
from learnscope.lessons.series import PALETTE

TICK_SECONDS = 0.25
FIXES = {kind: KIND_NAMES[kind] for kind in ("sigmoid", "relu-he", "relu-he-bn", "residual")}
FIX_COLORS = dict(zip(FIXES, PALETTE))
CLIPPING = next(experiment for experiment in REMEDY_EXPERIMENTS if experiment.key == "clipping").setup


def register(state: LabState) -> None:
    @ui.page("/remedies")
    def remedies_page():
        with page_frame("Remedies", "Each remedy alone, before and after, on the run that went wrong: what it wins "
                        "back and what it costs.", active="/remedies"):
            RemediesPage(state)


def remedies_table(results: list[RemedyResult]) -> str:
    """The remedies' results as an HTML table: training and test accuracy at the end, the peak, what each gained."""
    rows = "".join(
        f'<tr data-remedy="{result.name}"><td>{result.label}</td>'
        f"<td align=right>{result.run.final['train_accuracy']:.1%}</td>"
        f"<td align=right>{result.run.final['test_accuracy']:.1%}</td><td align=right>{result.run.peak_accuracy:.1%}"
        f"</td><td align=right>{'' if result.name == 'none' else f'{100 * result.gained:+.1f}'}</td>"
        f"<td align=right>{result.run.seconds:.1f}</td></tr>" for result in results)
    return (f'<table style="{TABLE_STYLE}"><tr><th align=left>remedy</th><th>training</th><th>test</th>'
            f"<th>best test</th><th>gained (points)</th><th>seconds</th></tr>{rows}</table>")


class RemediesPage:
    def __init__(self, state: LabState):
        self.state = state
        self.curves: dict[str, tuple] = {}          # remedy -> (its setup, rows so far), set from the worker thread
        self.drawn_curves: dict = {}
        self.results: list[RemedyResult] = []
        self.drawn_results: list[RemedyResult] = []
        self.plain_run = None
        self.experiment_setup = None
        self.fix_watch: dict = {}
        self.drawn_watch: dict = {}
        self.clip_runs: dict = {}
        self.drawn_clip: dict = {}
        overfitting = tuple(e for e in REMEDY_EXPERIMENTS if "kind" not in e.setup)
        gradients = tuple(e for e in REMEDY_EXPERIMENTS if "kind" in e.setup)
        self.remedy_try = TryThis(overfitting, self._start_remedy_experiment)
        self.gradient_try = TryThis(gradients, self._start_gradient_experiment)
        with chapter_section(chapter(10)):
            self._remedies_panel()
            self.remedy_try.cards(10)
            self._vanishing_panel()
            self._clipping_panel()
            self.gradient_try.cards(10)
            ui.link("← Chapter 9: when learning goes wrong", "/wrong#chapter-9")
        ui.timer(TICK_SECONDS, self._tick)

    @property
    def closed(self) -> bool:
        return self.remedies_text.is_deleted

    async def _mnist(self, work: WorkRow):
        return await load_mnist(work, self.state.config)

    # ---- overfitting: each remedy alone ----
    def _remedies_panel(self) -> None:
        ui.label("Against overfitting, one remedy at a time").classes("text-lg font-bold mt-2")
        explain("The run that went wrong in chapter 9 (784-30-10 sigmoid, 1,000 MNIST images, 400 epochs), then the "
                "same run with one remedy each: L2 weight decay, dropout, batch normalisation, augmented images, "
                "early stopping on held-out images, and ten times the data (for a tenth of the epochs, so every run "
                "takes the same 40,000 steps). The chart shows each run's test accuracy as it trains.")
        self.remedies_work = WorkRow([Work(f"Run all {len(REMEDIES)}", "play_arrow", self._run_remedies,
                                           "Train the plain run and each remedy, one after the other (about 80 s).")],
                                     "remedies", "How far the remedies are")
        self.remedy_try.banner()
        with ui.row().classes("w-full gap-4 flex-wrap items-start"):
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 34rem"):
                self.remedies_chart = LiveChart("Test accuracy by training step", "thousand steps", "test accuracy",
                                                height="260px")
            self.remedies_table = ui.html("", sanitize=False).props("data-remedies-table").classes("text-sm")
        self.remedies_text = explain("").props("data-remedies-text")

    async def _run_remedies(self) -> None:
        work = self.remedies_work
        data = await self._mnist(work)
        if data is None:
            return
        self.curves, self.drawn_curves, self.results = {}, {}, []
        work.status = "Training the plain run, then each remedy…"

        def on_epoch(name, rows):
            self.curves = {**self.curves, name: (remedy_setup(name), rows)}

        def on_result(result):
            self.results = [*self.results, result]
            work.set_progress(len(self.results) / len(REMEDIES))

        results = await run.io_bound(compare_remedies, data, tuple(REMEDIES), OverfittingSetup(), on_result, on_epoch,
                                     lambda: self.closed)
        if self.closed:
            return
        self.plain_run = results[0].run
        self.remedies_text.text = describe_remedies(results)
        work.finish(f"Done: {len(results)} runs in {sum(r.run.seconds for r in results):.0f} s.")

    def _start_remedy_experiment(self, experiment) -> None:
        self.remedies_work.start_in_background(lambda: self._remedy_experiment(experiment))

    async def _remedy_experiment(self, experiment) -> None:
        work = self.remedies_work
        data = await self._mnist(work)
        if data is None:
            return
        setup = OverfittingSetup(**experiment.setup)
        self.experiment_setup = setup
        self.curves, self.drawn_curves = {}, {}
        runs = {}
        for name, run_setup in (("none", OverfittingSetup()), (experiment.title, setup)):
            if name == "none" and self.plain_run is not None:
                runs[name] = self.plain_run
                self.curves = {**self.curves, name: (run_setup, self.plain_run.rows)}
                continue
            work.status = f"Training {'the plain run' if name == 'none' else experiment.title.lower()}…"
            runs[name] = await run.io_bound(
                overfitting_run, data, run_setup,
                lambda rows, name=name, run_setup=run_setup: setattr(self, "curves", {**self.curves,
                                                                                       name: (run_setup, rows)}),
                lambda: self.closed)
            if self.closed:
                return
        self.plain_run = runs["none"]
        work.finish("Done.")
        self.remedy_try.show(OverfittingComparison(runs[experiment.title], self.plain_run),
                             still_set_up=self.experiment_setup == setup)

    # ---- vanishing gradients: the fixes side by side ----
    def _vanishing_panel(self) -> None:
        ui.label("Against vanishing gradients, side by side").classes("text-lg font-bold mt-4")
        explain("The same depth four ways: sigmoid units as in chapter 9, ReLU units with He's initialisation, "
                "ReLU with batch normalisation, and sigmoid units in residual blocks (y = x + σ(xW + b)). Bars: "
                f"each hidden layer's ‖∂C/∂b‖ over {GRADIENT_EXAMPLES:,} images before training, on one log scale. "
                "Then each trains for one epoch, and the chart follows its first hidden layer's gradient.")
        with ui.row().classes("items-end gap-3 flex-wrap"):
            self.depth_input = ui.number("hidden layers", value=5, min=2, max=8, step=1, format="%d") \
                .props("dense outlined").classes("w-32").mark("field-depth")
        self.fixes_work = WorkRow([Work("Compare at the start", "straighten", self._compare_at_start,
                                        "One backward pass per network over 1,000 images."),
                                   Work("Train each one epoch", "play_arrow", self._train_fixes,
                                        f"Train the four on {WATCH_EXAMPLES:,} images each, watching the gradients.",
                                        primary=False)],
                                  "fixes", "How far the comparison is")
        with ui.row().classes("w-full gap-4 flex-wrap items-start"):
            self.fix_bars = ui.html("", sanitize=False).props("data-fix-bars").classes("grow") \
                .style("min-width: 22rem; flex-basis: 30rem")
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                self.fix_chart = LiveChart("First hidden layer's ‖∂C/∂b‖ while training", "step",
                                           "gradient length (log scale)", log_y=True, height="240px")
        self.fix_text = explain("").props("data-fix-text")

    def _depth(self, work: WorkRow) -> int | None:
        depth = self.depth_input.value
        if depth is None or not 2 <= int(depth) <= 8:
            work.status = f"Expected 2 to 8 hidden layers, got {depth}."
            return None
        return int(depth)

    async def _compare_at_start(self) -> None:
        work = self.fixes_work
        depth = self._depth(work)
        data = await self._mnist(work) if depth else None
        if data is None:
            return
        x, y = data.x_train[:GRADIENT_EXAMPLES], data.y_train[:GRADIENT_EXAMPLES]
        norms = {kind: await run.io_bound(layer_gradient_norms, deep_network(depth, kind), x, y) for kind in FIXES}
        scale = decades(np.concatenate([found.norms for found in norms.values()]))
        self.fix_bars.content = "".join(
            f'<div class="mb-2" data-fix="{kind}"><div class="text-sm font-bold">{FIXES[kind]}: the last layer gets '
            f'{_times(found.ratio)} the first</div>{norm_bars(found.norms.tolist(), FIX_COLORS[kind], scale)}</div>'
            for kind, found in norms.items())
        self.fix_text.text = " ".join(f"{FIXES[kind]}: {describe_gradient_norms(found)}"
                                      for kind, found in norms.items())
        work.finish(f"{depth} hidden layers, before training.")

    async def _train_fixes(self) -> None:
        work = self.fixes_work
        depth = self._depth(work)
        data = await self._mnist(work) if depth else None
        if data is None:
            return
        self.fix_watch, self.drawn_watch = {}, {}
        for index, kind in enumerate(FIXES):
            work.status = f"Training {FIXES[kind]} ({index + 1} of {len(FIXES)})…"
            watched = await run.io_bound(watch_training, data, kind, depth, should_stop=lambda: self.closed)
            if self.closed:
                return
            self.fix_watch = {**self.fix_watch, kind: watched}
            work.set_progress((index + 1) / len(FIXES))
        self.fix_text.text = " ".join(
            f"{FIXES[kind]}: test accuracy {watched.test_accuracy:.1%} after one epoch."
            if watched.test_accuracy is not None else f"{FIXES[kind]}: diverged."
            for kind, watched in self.fix_watch.items())
        work.finish("Done.")

    # ---- exploding gradients: clipping ----
    def _clipping_panel(self) -> None:
        ui.label("Against exploding gradients: clipping").classes("text-lg font-bold mt-4")
        explain(f"A network of {CLIPPING['n_hidden']} ReLU layers whose weights are drawn three times too large, "
                f"trained with a learning rate of {CLIPPING['lr']}: its first gradient is huge and the first step "
                f"throws the weights far away. Gradient clipping rescales every step's gradient to a length of at "
                f"most {CLIPPING['clip_norm']:g}, so no single step can be larger than that.")
        self.clip_work = WorkRow([Work("Train without and with clipping", "play_arrow", self._train_clipping,
                                       f"Train the network twice on {WATCH_EXAMPLES:,} images.")],
                                 "clipping", "How far the clipping runs are")
        self.gradient_try.banner()
        self.clip_chart = LiveChart("Training loss by step", "step", "loss (log scale)", log_y=True, height="220px")
        self.clip_text = explain("").props("data-clip-text")

    async def _train_clipping(self, clip_norms=(None, CLIPPING["clip_norm"])) -> dict:
        work = self.clip_work
        data = await self._mnist(work)
        if data is None:
            return {}
        self.clip_runs, self.drawn_clip = {}, {}
        for clip_norm in clip_norms:
            work.status = f"Training {'without clipping' if clip_norm is None else f'clipped at {clip_norm:g}'}…"
            watched = await run.io_bound(watch_training, data, CLIPPING["kind"], CLIPPING["n_hidden"], CLIPPING["lr"],
                                         clip_norm, should_stop=lambda: self.closed)
            if self.closed:
                return {}
            self.clip_runs = {**self.clip_runs, clip_norm: watched}
        self.clip_text.text = " ".join(clipping(watched).text for watched in self.clip_runs.values())
        work.finish("Done.")
        return self.clip_runs

    def _start_gradient_experiment(self, experiment) -> None:
        work = self.fixes_work if experiment.key == "residual" else self.clip_work
        work.start_in_background(lambda: self._gradient_experiment(experiment))

    async def _gradient_experiment(self, experiment) -> None:
        setup = experiment.setup
        if experiment.key == "clipping":
            runs = await self._train_clipping()
            if runs:
                self.gradient_try.show(runs[setup["clip_norm"]], still_set_up=True)
            return
        work = self.fixes_work
        data = await self._mnist(work)
        if data is None:
            return
        self.depth_input.value = setup["n_hidden"]
        work.status = f"Training {setup['n_hidden']} residual blocks for one epoch…"
        watched = await run.io_bound(watch_training, data, setup["kind"], setup["n_hidden"], setup["lr"],
                                     should_stop=lambda: self.closed)
        if self.closed:
            return
        self.fix_watch, self.drawn_watch = {"residual": watched}, {}
        work.finish("Done.")
        self.gradient_try.show(watched, still_set_up=True)

    # ---- the timer ----
    def _tick(self) -> None:
        for work in (self.remedies_work, self.fixes_work, self.clip_work):
            work.refresh()
        curves = self.curves
        if curves is not self.drawn_curves:
            self.drawn_curves = curves
            self.remedies_chart.show({_label(name): _steps_and_accuracy(setup, rows)
                                      for name, (setup, rows) in curves.items()})
        results = self.results
        if results is not self.drawn_results:
            self.drawn_results = results
            self.remedies_table.content = remedies_table(results) if results else ""
        if self.fix_watch is not self.drawn_watch:
            self.drawn_watch = self.fix_watch
            self.fix_chart.show({FIXES[kind]: (watched.steps.tolist(), np.maximum(watched.norms[:, 0], 1e-12).tolist())
                                 for kind, watched in self.fix_watch.items()})
        if self.clip_runs is not self.drawn_clip:
            self.drawn_clip = self.clip_runs
            self.clip_chart.show({("without clipping" if clip is None else f"clipped at {clip:g}"):
                                  (list(range(len(watched.step_loss))), watched.step_loss.tolist())
                                  for clip, watched in self.clip_runs.items()})


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2g}×"


def _label(name: str) -> str:
    return REMEDIES[name][0] if name in REMEDIES else name


def _steps_and_accuracy(setup: OverfittingSetup, rows: np.ndarray) -> tuple[list, list]:
    """x: thousands of training steps after each scored epoch; y: the test accuracy then."""
    steps = steps_per_epoch(setup.train_samples, setup.batch_size)
    return ((rows[:, 0] + 1) * steps / 1000).tolist(), rows[:, 4].tolist()
