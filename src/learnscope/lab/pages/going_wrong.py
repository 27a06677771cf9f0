"""When learning goes wrong (chapter 9): a network memorising 1,000 MNIST images live, capacity and data sweeps,
vanishing and exploding gradients measured layer by layer, and what training costs on this machine.

Every number comes from below lab/ (lessons.overfitting, lessons.gradient_flow, lessons.cost,
lessons.going_wrong_lab, train.diagnostics); this page picks the settings, runs them off the event loop, draws
the curves as they come and names what happened.
"""

import copy
import math

import numpy as np
from nicegui import run, ui

from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.gradient_bars import norm_bars
from learnscope.lab.components.lesson import FindingsPanel, TryThis, chapter_section
from learnscope.lab.components.work_row import Work, WorkRow, load_mnist
from learnscope.lab.layout import TABLE_STYLE, explain, page_frame
from learnscope.lab.state import LabState
from learnscope.lessons.cost import (
    cost_sweep,
    describe_cost_sweep,
    describe_speed,
    measure_training_speed,
    network_cost,
)
from learnscope.lessons.course import chapter
from learnscope.lessons.going_wrong_lab import GOING_WRONG_EXPERIMENTS, OverfittingComparison, describe_data_sizes
from learnscope.lessons.gradient_flow import (
    GRADIENT_EXAMPLES,
    KIND_NAMES,
    NETWORK_KINDS,
    WATCH_EXAMPLES,
    deep_network,
    describe_gradient_norms,
    layer_gradient_norms,
    watch_training,
)
from learnscope.lessons.overfitting import (
    CAPACITY_SIZES,
    DATA_SIZES,
    OverfittingSetup,
    capacity_sweep,
    data_size_sweep,
    describe_capacity,
    describe_fit,
    lowest_test_loss_epoch,
    overfitting_run,
    run_metrics,
)
from learnscope.recipes import build_from_recipe, default_recipe
from learnscope.train.diagnostics import diagnose

TICK_SECONDS = 0.25
CAPACITY_EPOCHS = 30                # each capacity-sweep network trains this long on the 1,000 images
DATA_SWEEP_EXAMPLES = 150_000       # examples each data-sweep network sees (the book: 1.5 million; ours in benchmarks)
COST_BATCH = 128
SWEEPS = {"width": (32, 64, 128, 256, 512, 1024, 2048), "depth": (1, 2, 4, 8), "batch": (1, 8, 32, 128, 512)}


def register(state: LabState) -> None:
    @ui.page("/wrong")
    def going_wrong_page():
        with page_frame("When learning goes wrong", "A network that memorises instead of learning, one too small to "
                        "learn, gradients that vanish or explode, and what all of it costs.", active="/wrong"):
            GoingWrongPage(state)


def overfitting_curves(rows: np.ndarray) -> tuple[dict, dict]:
    """The accuracy and loss charts' lines from an overfitting run's rows (n, 5: epoch, train loss and accuracy,
    test loss and accuracy), epochs counted from 0 as the diagnostics and Nielsen's plots count them, with the
    epoch of the lowest test loss as a dashed vertical guide on the loss chart."""
    epochs = rows[:, 0].tolist()
    accuracy = {"training images": (epochs, rows[:, 2].tolist()), "test images": (epochs, rows[:, 4].tolist())}
    loss = {"training images": (epochs, rows[:, 1].tolist()), "test images": (epochs, rows[:, 3].tolist())}
    if len(rows) > 1:
        best = lowest_test_loss_epoch(rows)
        losses = rows[:, [1, 3]]
        loss["lowest test loss"] = ([best, best], [float(losses.min()), float(losses.max())])
    return accuracy, loss


class GoingWrongPage:
    def __init__(self, state: LabState):
        self.state = state
        self.rows = None                    # the live overfitting run's rows so far (set from its worker thread)
        self.drawn_rows = None
        self.plain_run = None               # the latest run with no remedy: what experiments compare with
        self.experiment_setup = None        # the setup an experiment started, while it is the one shown
        self.sweep_points = {"capacity": [], "data": []}
        self.drawn_points = {"capacity": 0, "data": 0}
        self.cost_rows: list = []
        self.drawn_cost_rows = 0
        self.cost_sweep_name = ""
        gradients = tuple(e for e in GOING_WRONG_EXPERIMENTS if "kind" in e.setup)
        costs = tuple(e for e in GOING_WRONG_EXPERIMENTS if "sweep" in e.setup)
        overfitting = tuple(e for e in GOING_WRONG_EXPERIMENTS if e not in gradients + costs)
        self.overfit_try = TryThis(overfitting, self._start_overfitting_experiment)
        self.gradient_try = TryThis(gradients, self._start_gradient_experiment)
        self.cost_try = TryThis(costs, self._start_cost_experiment)
        with chapter_section(chapter(9)):
            self._overfitting_panel()
            self.overfit_try.cards(9)
            self._sweeps_panel()
            self._gradients_panel()
            self.gradient_try.cards(9)
            self._cost_panel()
            self.cost_try.cards(9)
            ui.link("Chapter 10: the remedies, before and after →", "/remedies#chapter-10")
        ui.timer(TICK_SECONDS, self._tick)

    @property
    def closed(self) -> bool:
        return self.fit_text.is_deleted

    async def _mnist(self, work: WorkRow):
        return await load_mnist(work, self.state.config)

    # ---- overfitting, live ----
    def _overfitting_panel(self) -> None:
        ui.label("Overfitting: memorising 1,000 images").classes("text-lg font-bold mt-2")
        explain("Nielsen's experiment: a network of 784 inputs, 30 sigmoid hidden units and 10 outputs, its weights "
                "drawn large (N(0, 1)), trained with plain SGD (learning rate 0.5, batches of 10) on only the first "
                "1,000 MNIST training images for 400 epochs. After every epoch it is scored on those 1,000 images "
                "and on the 10,000 test images it never trains on. In his book the test accuracy tops out at 82.3% "
                "while the training images are all right.")
        with ui.row().classes("items-end gap-3 flex-wrap"):
            self.samples_input = ui.number("training images", value=1000, min=100, max=60_000, step=100,
                                           format="%d").props("dense outlined").classes("w-36").mark("field-samples")
            self.hidden_input = ui.number("hidden units", value=30, min=1, max=1024, step=1, format="%d") \
                .props("dense outlined").classes("w-32").mark("field-hidden")
            self.epochs_input = ui.number("epochs", value=400, min=1, max=1000, step=10, format="%d") \
                .props("dense outlined").classes("w-28").mark("field-epochs")
            self.l2_input = ui.number("L2 weight decay", value=0, min=0, max=0.1, step=0.0001, format="%g") \
                .props("dense outlined").classes("w-36").mark("field-l2")
        self.settings_message = ui.label("").classes("text-sm text-red-700")
        self.overfit_work = WorkRow([Work("Train", "play_arrow", self._train_plain,
                                          "Train the network with these settings, scoring it after every epoch.")],
                                    "overfit", "How far the training is")
        self.overfit_try.banner()
        with ui.row().classes("w-full gap-4 flex-wrap"):
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                self.accuracy_chart = LiveChart("Accuracy by epoch", "epoch (from 0)", "accuracy", y_range=(0, 1),
                                                height="230px")
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                self.loss_chart = LiveChart("Loss by epoch", "epoch (from 0)", "loss (log scale)", log_y=True,
                                            height="230px")
        self.fit_text = explain("").props("data-fit-text")
        self.findings = FindingsPanel(self._apply_fix, lambda fix: set(fix) <= {"l2"})

    def _setup_from_fields(self) -> OverfittingSetup | None:
        values = (self.samples_input.value, self.hidden_input.value, self.epochs_input.value, self.l2_input.value)
        if any(value is None for value in values):
            self.settings_message.text = ("Fill in the training images (100 to 60,000), hidden units (1 to 1,024), "
                                          "epochs (1 to 1,000) and L2 (0 to 0.1).")
            return None
        samples, hidden, epochs, l2 = int(values[0]), int(values[1]), int(values[2]), float(values[3])
        if not (100 <= samples <= 60_000 and 1 <= hidden <= 1024 and 1 <= epochs <= 1000 and 0 <= l2 <= 0.1):
            self.settings_message.text = (f"Expected 100 to 60,000 images, 1 to 1,024 hidden units, 1 to 1,000 epochs "
                                          f"and L2 from 0 to 0.1, got {samples:,}, {hidden}, {epochs} and {l2:g}.")
            return None
        self.settings_message.text = ""
        return OverfittingSetup(train_samples=samples, hidden=hidden, epochs=epochs, weight_decay=l2)

    def _show_setup(self, setup: OverfittingSetup) -> None:
        self.samples_input.value, self.hidden_input.value = setup.train_samples, setup.hidden
        self.epochs_input.value, self.l2_input.value = setup.epochs, setup.weight_decay

    async def _train_plain(self) -> None:
        setup = self._setup_from_fields()
        if setup is not None:
            self.experiment_setup = None
            await self._train(setup)

    async def _train(self, setup: OverfittingSetup) -> None:
        work = self.overfit_work
        data = await self._mnist(work)
        if data is None:
            return
        work.status = (f"Training on {setup.train_samples:,} images for {setup.epochs} epochs; scoring the training "
                       "and test images after each…")
        self.rows, self.drawn_rows = None, None
        self.fit_text.text = ""
        self.findings.show(())

        def on_epoch(rows):
            self.rows = rows
            work.set_progress((rows[-1, 0] + 1) / setup.epochs)

        result = await run.io_bound(overfitting_run, data, setup, on_epoch, lambda: self.closed)
        if self.closed:
            return
        self.rows = result.rows
        if setup == OverfittingSetup():             # Nielsen's run: what the experiments compare with
            self.plain_run = result
        self.fit_text.text = describe_fit(result)
        self.findings.show(tuple(diagnose(run_metrics(self.rows), "finished", n_classes=10)))
        work.finish(f"Done in {result.seconds:.1f} s: peak test accuracy {result.peak_accuracy:.1%} at epoch "
                    f"{result.peak_epoch}.")
        if self.overfit_try.active is not None:
            comparison = OverfittingComparison(result, self.plain_run if result is not self.plain_run else None)
            self.overfit_try.show(comparison, still_set_up=self.experiment_setup == setup)

    def _apply_fix(self, fix: dict) -> None:
        self.l2_input.value = fix["l2"]
        self.overfit_work.status = f"L2 set to {fix['l2']:g}: press Train to see what it changes."

    def _start_overfitting_experiment(self, experiment) -> None:
        setup = OverfittingSetup(**experiment.setup)
        if self.overfit_work.start_in_background(lambda: self._train(setup)):
            self._show_setup(setup)
            self.experiment_setup = setup

    # ---- sweeps ----
    def _sweeps_panel(self) -> None:
        ui.label("Too small, big enough, too few examples").classes("text-lg font-bold mt-4")
        explain(f"Two sweeps on real MNIST. Capacity: the same training ({CAPACITY_EPOCHS} epochs on the 1,000 "
                "images) with 1 to 1,024 hidden units. Data: the same network trained on 100 to 60,000 images, each "
                f"seeing {DATA_SWEEP_EXAMPLES:,} examples in all (Nielsen's sweep, shortened tenfold). The gap "
                "between the two lines is what was memorised rather than learnt; a low training line is "
                "underfitting.")
        self.sweep_work = WorkRow([Work("Sweep the hidden units", "tune", lambda: self._sweep("capacity"),
                                        f"Train {len(CAPACITY_SIZES)} networks, 1 to 1,024 hidden units."),
                                   Work("Sweep the training images", "dataset", lambda: self._sweep("data"),
                                        f"Train {len(DATA_SIZES)} networks on 100 to 60,000 images.", primary=False)],
                                  "sweep", "How far the sweep is")
        with ui.row().classes("w-full gap-4 flex-wrap"):
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                self.capacity_chart = LiveChart("Accuracy by hidden units", "log₂ of the hidden units", "accuracy",
                                                y_range=(0, 1), height="220px")
                self.capacity_text = explain("").props("data-capacity-text")
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                self.data_chart = LiveChart("Accuracy by training images", "log₁₀ of the training images",
                                            "accuracy", y_range=(0, 1), height="220px")
                self.data_text = explain("").props("data-sizes-text")

    async def _sweep(self, which: str) -> None:
        work = self.sweep_work
        data = await self._mnist(work)
        if data is None:
            return
        self.sweep_points[which], self.drawn_points[which] = [], 0
        sizes = CAPACITY_SIZES if which == "capacity" else DATA_SIZES
        work.status = f"Training {len(sizes)} networks, the smallest first…"

        def on_point(point):
            self.sweep_points[which] = [*self.sweep_points[which], point]
            work.set_progress(len(self.sweep_points[which]) / len(sizes))

        if which == "capacity":
            points = await run.io_bound(capacity_sweep, data, sizes, OverfittingSetup(init="scaled",
                                        epochs=CAPACITY_EPOCHS), on_point, lambda: self.closed)
            text, label = describe_capacity(points), self.capacity_text
        else:
            points = await run.io_bound(data_size_sweep, data, sizes, examples=DATA_SWEEP_EXAMPLES,
                                        on_point=on_point, should_stop=lambda: self.closed)
            text, label = describe_data_sizes(points), self.data_text
        if self.closed:
            return
        label.text = text
        work.finish(f"Done: {len(points)} networks in {sum(point.run.seconds for point in points):.0f} s.")

    def _draw_sweep(self, which: str) -> None:
        points = self.sweep_points[which]
        if len(points) == self.drawn_points[which]:
            return
        self.drawn_points[which] = len(points)
        scale = math.log2 if which == "capacity" else math.log10
        xs = [round(scale(point.value), 3) for point in points]
        chart = self.capacity_chart if which == "capacity" else self.data_chart
        chart.show({"training images": (xs, [point.run.final["train_accuracy"] for point in points]),
                    "test images": (xs, [point.run.final["test_accuracy"] for point in points])})

    # ---- vanishing and exploding gradients ----
    def _gradients_panel(self) -> None:
        ui.label("Vanishing and exploding gradients").classes("text-lg font-bold mt-4")
        explain("How fast does each hidden layer learn? Nielsen's measure: the length of the gradient of the layer's "
                f"biases, averaged over {GRADIENT_EXAMPLES:,} training images, ‖∂C/∂b‖. In a deep sigmoid network "
                "each layer back multiplies the gradient by σ′(z) ≤ 0.25 times its weights: the first layers hear "
                "almost nothing (vanishing). Weights too large multiply it instead (exploding).")
        with ui.row().classes("items-end gap-3 flex-wrap"):
            self.kind_select = ui.select({kind: KIND_NAMES[kind] for kind in NETWORK_KINDS}, value="sigmoid",
                                         label="network").props("dense outlined").classes("w-64").mark("field-kind")
            self.depth_input = ui.number("hidden layers", value=3, min=2, max=8, step=1, format="%d") \
                .props("dense outlined").classes("w-32").mark("field-depth")
        self.gradient_work = WorkRow([Work("Measure at the start", "straighten", self._measure_norms,
                                           "One backward pass over 1,000 images, before any training."),
                                      Work("Train one epoch and watch", "play_arrow", self._watch,
                                           f"Train on {WATCH_EXAMPLES:,} images, recording every layer's gradient.",
                                           primary=False)],
                                     "gradients", "How far the gradient measurement is")
        self.gradient_try.banner()
        with ui.row().classes("w-full gap-4 flex-wrap"):
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                ui.label("‖∂C/∂b‖ of each hidden layer (log scale)").classes("text-sm font-bold")
                self.norm_bars = ui.html(norm_bars([]), sanitize=False).props("data-norm-bars").classes("w-full")
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                self.watch_chart = LiveChart("‖∂C/∂b‖ while training", "step", "gradient length (log scale)",
                                             log_y=True, height="240px")
        self.norm_text = explain("").props("data-norm-text")

    def _network_settings(self) -> tuple[str, int] | None:
        depth = self.depth_input.value
        if depth is None or not 2 <= int(depth) <= 8:
            self.gradient_work.status = f"Expected 2 to 8 hidden layers, got {depth}."
            return None
        return self.kind_select.value, int(depth)

    async def _measure_norms(self, experiment_setup=None) -> None:
        settings = self._network_settings()
        data = await self._mnist(self.gradient_work) if settings else None
        if data is None:
            return
        kind, depth = settings
        x, y = data.x_train[:GRADIENT_EXAMPLES], data.y_train[:GRADIENT_EXAMPLES]
        norms = await run.io_bound(layer_gradient_norms, deep_network(depth, kind), x, y)
        self.norm_bars.content = norm_bars(norms.norms.tolist())
        self.norm_text.text = describe_gradient_norms(norms)
        self.gradient_work.finish(f"{KIND_NAMES[kind]}, {depth} hidden layers, at the start.")
        if self.gradient_try.active is not None:
            self.gradient_try.show(norms, still_set_up=experiment_setup == (kind, depth))

    async def _watch(self) -> None:
        settings = self._network_settings()
        work = self.gradient_work
        data = await self._mnist(work) if settings else None
        if data is None:
            return
        kind, depth = settings
        work.status = f"Training {KIND_NAMES[kind]} ({depth} hidden layers) for one epoch…"
        watched = await run.io_bound(watch_training, data, kind, depth, should_stop=lambda: self.closed)
        if self.closed:
            return
        steps = watched.steps.tolist()
        self.watch_chart.show({f"layer {i + 1}": (steps, np.maximum(watched.norms[:, i], 1e-12).tolist())
                               for i in range(watched.norms.shape[1])})
        accuracy = "" if watched.test_accuracy is None else f"; test accuracy {watched.test_accuracy:.1%}"
        why = f" {watched.message}" if watched.status == "diverged" else ""
        work.finish(f"{watched.status.capitalize()}{accuracy}.{why}")

    def _start_gradient_experiment(self, experiment) -> None:
        setup = (experiment.setup["kind"], experiment.setup["n_hidden"])
        if self.gradient_work.start_in_background(lambda: self._measure_norms(setup)):
            self.kind_select.value, self.depth_input.value = setup

    # ---- what training costs ----
    def _cost_panel(self) -> None:
        ui.label("What training costs").classes("text-lg font-bold mt-4")
        explain("Every layer counts its own work: a Dense layer of n inputs and m outputs does n·m multiply-adds "
                "forward and twice that backward (one product for its weights' gradient, one for its input's). The "
                "table is the lab's MNIST model (or the default one); the measurements are this machine's, now.")
        self.cost_work = WorkRow([Work("Measure the speed", "speed", self._measure_speed,
                                       "Time 20 training steps of this network at batch 128."),
                                  *[Work(f"Sweep the {name}", "trending_up",
                                         lambda name=name: self._cost_sweep(name),
                                         f"Time the default MLP at each {name}: {', '.join(map(str, values))}.",
                                         primary=False) for name, values in SWEEPS.items()]],
                                 "cost", "How far the cost measurement is")
        self.cost_try.banner()
        with ui.row().classes("w-full gap-4 flex-wrap items-start"):
            self.cost_table = ui.html("", sanitize=False).props("data-cost-table").classes("text-sm")
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 28rem"):
                self.cost_chart = LiveChart("Time per training step", "width, depth or batch size",
                                            "milliseconds", height="220px")
        self.cost_text = explain("").props("data-cost-text")
        ui.timer(0.1, self._show_cost_table, once=True)

    async def _lab_network(self):
        """The lab's MNIST model, else the default recipe's MLP (built, untrained: its cost is the same)."""
        trained = self.state.trained_model
        if trained is not None:
            return copy.deepcopy(trained.model), trained.name, None
        data = await self._mnist(self.cost_work)
        if data is None:
            return None, "", None
        return build_from_recipe(default_recipe("mnist"), (1, 28, 28), 10, x_train=data.x_train), \
            "the default MNIST MLP", data

    async def _show_cost_table(self) -> None:
        model, name, _ = await self._lab_network()
        if model is None or self.closed:
            return
        if not self.cost_work.busy:
            self.cost_work.status = ""                  # the "Loading MNIST…" this table waited for
        cost = network_cost(model, (1, 28, 28))
        rows = "".join(f"<tr><td>{layer.index}</td><td>{layer.name}</td><td>{layer.output_shape}</td>"
                       f"<td align=right>{layer.params:,}</td><td align=right>{layer.forward:,}</td>"
                       f"<td align=right>{layer.backward:,}</td></tr>" for layer in cost.layers)
        self.cost_table.content = (
            f'<div class="font-bold">{name}: per example</div><table style="{TABLE_STYLE}"><tr><th>#</th>'
            "<th>layer</th><th>output</th><th>parameters</th><th>forward FLOPs</th><th>backward FLOPs</th></tr>"
            f"{rows}<tr class=font-bold><td></td><td>total</td><td></td><td align=right>{cost.params:,}</td>"
            f"<td align=right>{cost.forward_flops:,}</td><td align=right>{cost.backward_flops:,}</td></tr></table>"
            f"<div>Training memory at batch {COST_BATCH}: {cost.memory_bytes(COST_BATCH) / 2**20:.1f} MiB "
            "(weights, gradients, momentum, and every layer's outputs kept for backpropagation).</div>")

    async def _measure_speed(self) -> None:
        model, name, data = await self._lab_network()
        if model is None:
            return
        if data is None:
            data = await self._mnist(self.cost_work)
        self.cost_work.status = f"Timing 20 training steps of {name}…"
        speed = await run.io_bound(measure_training_speed, model, data.x_train[:10_000], data.y_train[:10_000],
                                   COST_BATCH)
        self.cost_text.text = describe_speed(network_cost(model, (1, 28, 28)), speed, len(data.x_train))
        self.cost_work.finish(f"{speed.seconds_per_step * 1000:.1f} ms a step, {speed.gflops_per_second:.1f} GFLOP/s.")

    async def _cost_sweep(self, name: str, values=None) -> list:
        data = await self._mnist(self.cost_work)
        if data is None:
            return []
        self.cost_rows, self.drawn_cost_rows, self.cost_sweep_name = [], 0, name
        values = values or SWEEPS[name]
        self.cost_work.status = f"Timing the default MLP at each {name}…"

        def on_row(row):
            self.cost_rows = [*self.cost_rows, row]
            self.cost_work.set_progress(len(self.cost_rows) / len(values))

        rows = await run.io_bound(cost_sweep, name, values, data.x_train[:10_000], data.y_train[:10_000], 10, on_row)
        if self.closed:
            return []
        self.cost_text.text = describe_cost_sweep(name, rows)
        self.cost_work.finish("Done.")
        return rows

    def _start_cost_experiment(self, experiment) -> None:
        self.cost_work.start_in_background(lambda: self._cost_experiment(experiment))

    async def _cost_experiment(self, experiment) -> None:
        rows = await self._cost_sweep(experiment.setup["sweep"], experiment.setup["values"])
        if rows:
            self.cost_try.show(rows, still_set_up=True)

    # ---- the timer ----
    def _tick(self) -> None:
        for work in (self.overfit_work, self.sweep_work, self.gradient_work, self.cost_work):
            work.refresh()
        rows = self.rows
        if rows is not None and rows is not self.drawn_rows:
            self.drawn_rows = rows
            accuracy, loss = overfitting_curves(rows)
            self.accuracy_chart.show(accuracy)
            self.loss_chart.show(loss, guides=("lowest test loss",))
        for which in ("capacity", "data"):
            self._draw_sweep(which)
        if len(self.cost_rows) != self.drawn_cost_rows:
            self.drawn_cost_rows = len(self.cost_rows)
            self.cost_chart.show({f"by {self.cost_sweep_name}": ([row.value for row in self.cost_rows],
                                                                  [1000 * row.speed.seconds_per_step
                                                                   for row in self.cost_rows])})
