"""Gradient descent and its variants (chapter 6): batch, stochastic and mini-batch paths on one contour plot of the
loss over all the data, and the optimizer race, the engine's own optimizers stepping a point down a drawn surface.

Everything drawn is computed below lab/ (lessons.batch_modes, lessons.race, lessons.descent_lab); this page picks
the settings, plays the paths back step by step and names what happened.
"""

import copy

import numpy as np
from nicegui import background_tasks, run, ui

from learnscope.data.sources import DatasetUnavailable
from learnscope.explain import (
    describe_landscape,
    describe_trajectory,
    filter_normalized_direction,
    loss_landscape,
    training_path_landscape,
)
from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.lesson import TryThis, chapter_section
from learnscope.lab.components.work_row import Work, WorkRow
from learnscope.lab.layout import TABLE_STYLE, explain, page_frame
from learnscope.lab.state import LabState, TrainedModel
from learnscope.lessons.batch_modes import MNIST_LEARNING_RATES, compare_batch_modes, race_optimizers, train_batch_modes
from learnscope.lessons.course import chapter
from learnscope.lessons.descent_lab import (
    BATCH_EXPERIMENTS,
    RACE_EXPERIMENTS,
    contour_picture,
    mnist_modes_summary,
    optimizer_race_summary,
    step_report,
    to_pixels,
)
from learnscope.lessons.drawing import DIGIT_CLASS_NAMES, newest_digit_model, train_quick_digit_model
from learnscope.lessons.mnist_lab import load_lab_dataset
from learnscope.lessons.pictures import png_data_uri
from learnscope.lessons.race import optimizer_race
from learnscope.lessons.series import PALETTE
from learnscope.lessons.surfaces import SURFACES, get_surface, model_slice
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import BATCH_MODES, OPTIMIZER_LABELS, OPTIMIZERS
from learnscope.recipes import default_recipe

PICTURE = 360                  # pixels of each plot
GRID = 180                     # the contour's resolution, drawn at 2×
TICK_SECONDS = 0.05
BATCH_PLAY_SECONDS = 4.0       # the batch paths play back over this long, by examples seen
RACE_PLAY_TICKS = 160          # a race plays back in about this many ticks (8 s), whatever its length
TRAIL_POINTS = 300             # at most this many points per drawn trail
ARROW_PIXELS = 34
MODE_COLORS = dict(zip(BATCH_MODES, PALETTE))
RACER_COLORS = dict(zip(OPTIMIZERS, PALETTE))
FIRST_RACERS = ("sgd", "momentum", "adam")
LANDSCAPE_EXAMPLES = 2000      # MNIST test images the landscape (and the three modes' loss) is evaluated on
MNIST_SECONDS = 8.0            # training time each mode gets on MNIST
MNIST_RACE_STEPS = 500         # steps each optimizer gets on MNIST (a little over one epoch at batch 128)
LANDSCAPE_STEPS = 21
SLICE_KEY, SLICE_TITLE = "your-model", "A slice of your MNIST model"
SLICE_EXAMPLES = 500           # test images a slice's every step runs forward and backward on


def register(state: LabState) -> None:
    @ui.page("/descent")
    def descent_page():
        with page_frame("Gradient descent", "Downhill on the loss, step by step: how many examples per step, how big "
                        "a step, and what momentum and Adam change.", active="/descent"):
            DescentPage(state)


def picture_beside(name: str, aria_label: str) -> tuple[ui.interactive_image, ui.column]:
    """A PICTURE-square picture (data-`name`-picture) whose SVG overlay the page draws on, and the column beside it
    for what explains it: `picture, side = picture_beside(...)`, then `with side: ...`."""
    with ui.row().classes("w-full gap-4 items-start flex-wrap"):
        label = aria_label.replace('"', "&quot;")
        picture = ui.interactive_image(size=(PICTURE, PICTURE), content="", sanitize=False) \
            .classes("border rounded").style(f"width: {PICTURE}px; height: {PICTURE}px") \
            .props(f'data-{name}-picture aria-label="{label}"')
        side = ui.column().classes("gap-2 grow").style("min-width: 20rem; max-width: 44rem")
    return picture, side


class DescentPage:
    def __init__(self, state: LabState):
        self.state = state
        self.modes = None                          # the latest batch-mode comparison, and how far it has played
        self.batch_fraction = 1.0
        self.batch_setup = None
        self.race = None                           # the latest race, the step shown, and whether it plays
        self.race_step = 0
        self.playing = False
        self.race_setup = None
        self.experiment_race_setup = None          # the race an experiment started, while it is still the one shown
        self.backgrounds: dict = {}                # contour pictures by (surface, condition)
        self.model_slice = None                    # the real network's slice, once built
        self.racing = False                        # a race is being computed (one at a time: a slice is stateful)
        self.batch_try = TryThis(BATCH_EXPERIMENTS, self._start_batch_experiment)
        self.race_try = TryThis(RACE_EXPERIMENTS, self._start_race_experiment)
        with chapter_section(chapter(6)):
            self._batch_panel()
            self.batch_try.cards(6)
            self._mnist_modes_panel()
            self._race_panel()
            self.race_try.cards(6)
            self._real_race_panel()
            self._landscape_panel()
            ui.link("The same learning rates on a real network, in the playground →", "/playground#chapter-6")
        ui.timer(TICK_SECONDS, self._tick)
        self._run_batch()
        self._surface_changed()

    # ---- batch, stochastic, mini-batch ----
    def _batch_panel(self) -> None:
        ui.label("Batch, stochastic or mini-batch?").classes("text-lg font-bold mt-2")
        explain("A model with exactly two weights (a line through the origin fitted to 200 points), trained three "
                "ways from the same start with the same gradient descent rule: a step after all 200 examples "
                "(batch), after each single example (stochastic), or after each mini-batch. The picture is the loss "
                "over all the data as the first weight (across) and the second (up) change: light at its lowest "
                "point (+), darker uphill. Each path plays back by "
                "examples seen, so all three have seen the same examples at every moment.")
        with ui.row().classes("items-end gap-3 flex-wrap"):
            self.mini_input = ui.number("mini-batch size", value=16, min=2, max=100, step=1, format="%d") \
                .props("dense outlined").classes("w-36").mark("field-mini-batch")
            self.batch_lr_input = ui.number("learning rate", value=0.1, min=0.001, max=1.0, step=0.05) \
                .props("dense outlined").classes("w-32").mark("field-batch-lr")
            self.epochs_input = ui.number("epochs", value=3, min=1, max=10, step=1, format="%d") \
                .props("dense outlined").classes("w-24").mark("field-epochs")
            ui.button("Run", icon="play_arrow", on_click=self._run_batch).props("no-caps").mark("batch-run") \
                .tooltip("Train the two weights the three ways and play the paths back.")
        self.batch_message = ui.label("").classes("text-sm text-red-700")
        self.batch_picture, side = picture_beside("batch", "Three descent paths on the loss over all the data")
        with side:
            self.batch_try.banner()
            self.batch_table = ui.html("", sanitize=False).props("data-batch-counters")

    def _mnist_modes_panel(self) -> None:
        ui.label("The same three on MNIST").classes("text-lg font-bold mt-4")
        explain(f"A real network (784 pixels → 64 → 10 digits) on the 60,000 MNIST training images, trained three "
                f"ways from the same start with plain SGD at a learning rate of 0.1, each for {MNIST_SECONDS:.0f} "
                "seconds by the clock. A batch step reads all 60,000 images before it moves; a stochastic step "
                "reads one; a mini-batch step 128. The loss is measured on 2,000 test images along the way.")
        self.modes_work = WorkRow([Work(f"Train the three ({3 * MNIST_SECONDS:.0f} s)", "play_arrow", self._train_modes,
                                        "Train the network the three ways, one after the other.")],
                                  "modes", "How far the three MNIST runs are")
        with ui.row().classes("w-full gap-4 flex-wrap"):
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                self.epochs_chart = LiveChart("Loss by examples seen", "epochs' worth of examples", "test loss",
                                              height="220px")
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 30rem"):
                self.seconds_chart = LiveChart("Loss by seconds of training", "seconds", "test loss", height="220px")
        self.mnist_text = explain("").props("data-modes-text")

    async def _train_modes(self) -> None:
        config, work = self.state.config, self.modes_work
        try:
            work.status = "Loading MNIST…"
            data = await run.io_bound(load_lab_dataset, "mnist", config.data_dir, config.allow_download)
            work.status = "Training: batch, then stochastic, then mini-batch…"
            curves = await run.io_bound(
                train_batch_modes, data.x_train, data.y_train, data.x_test[:LANDSCAPE_EXAMPLES],
                data.y_test[:LANDSCAPE_EXAMPLES], seconds=MNIST_SECONDS, progress=work.set_progress,
                should_stop=lambda: self.mnist_text.is_deleted)   # the tab closed: stop spending both cores
        except (DatasetUnavailable, OSError, ValueError) as error:
            work.status = f"MNIST could not be loaded: {error}"
            return
        if self.mnist_text.is_deleted:
            return
        n_train = len(data.x_train)
        self.epochs_chart.show({mode: ((curve.examples_seen / n_train).tolist(), curve.loss.tolist())
                                for mode, curve in curves.items()})
        self.seconds_chart.show({mode: (curve.seconds.tolist(), curve.loss.tolist()) for mode, curve in curves.items()})
        self.mnist_text.text = mnist_modes_summary(curves, n_train)
        work.finish("Done.")

    def _batch_settings(self) -> tuple[int, float, int] | None:
        values = (self.mini_input.value, self.batch_lr_input.value, self.epochs_input.value)
        if any(value is None for value in values):
            self.batch_message.text = ("Fill in a mini-batch size (2 to 100), a learning rate (0.001 to 1) and a "
                                       "number of epochs (1 to 10).")
            return None
        mini, lr, epochs = int(values[0]), float(values[1]), int(values[2])
        if not (2 <= mini <= 100 and 0.001 <= lr <= 1.0 and 1 <= epochs <= 10):
            self.batch_message.text = (f"Expected a mini-batch size from 2 to 100, a learning rate from 0.001 to 1 and "
                                       f"1 to 10 epochs, got {mini}, {lr:g} and {epochs}.")
            return None
        self.batch_message.text = ""
        return mini, lr, epochs

    def _run_batch(self) -> None:
        settings = self._batch_settings()
        if settings is None:
            return
        mini, lr, epochs = settings
        # 200 examples × at most 10 epochs: a few thousand tiny steps, milliseconds
        self.modes = compare_batch_modes(mini_batch_size=mini, epochs=epochs, lr=lr)
        self.batch_setup = settings
        self.batch_fraction = 0.0
        w1s, w2s, losses = self.modes.grid(GRID)
        self.batch_bounds = ((w1s[0], w1s[-1]), (w2s[0], w2s[-1]))
        # grid rows run along w2 upwards; the picture's row 0 is the top, so flip them
        self.batch_picture.set_source(png_data_uri(contour_picture(losses[::-1]), scale=PICTURE // GRID))
        self._draw_batch()

    def _draw_batch(self) -> None:
        modes = self.modes
        total = modes.paths["batch"].examples_seen[-1]
        seen = self.batch_fraction * total
        shapes, rows = [], []
        for mode in BATCH_MODES:
            path = modes.paths[mode]
            index = int(path.examples_seen.searchsorted(seen, side="right")) - 1
            # the batch path is the shortest: drawn last, on top of the others
            shapes.insert(0, self._trail(path.weights[:index + 1], self.batch_bounds, MODE_COLORS[mode]))
            rows.append(f'<tr data-mode="{mode}"><td><span style="color:{MODE_COLORS[mode]}">●</span> {mode}</td>'
                        f"<td>{path.batch_size}</td><td>{index:,}</td><td>{int(path.examples_seen[index]):,}</td>"
                        f"<td>{path.seconds[index] * 1e3:.2f} ms</td><td>{path.loss[index]:.3f}</td></tr>")
        self.batch_picture.content = "".join(shapes) + self._marker(modes.best, self.batch_bounds)   # on top
        self.batch_table.content = (
            f'<table class="text-sm" style="{TABLE_STYLE}"><thead><tr class="text-left"><th>mode</th>'
            "<th>batch size</th><th>updates made</th><th>examples seen</th><th>seconds of updates</th>"
            "<th>loss on all data</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")

    def _start_batch_experiment(self, experiment) -> None:
        self.mini_input.value = experiment.setup["mini_batch_size"]
        self.batch_lr_input.value = experiment.setup["lr"]
        self.epochs_input.value = experiment.setup["epochs"]
        self._run_batch()

    # ---- the optimizer race ----
    def _race_panel(self) -> None:
        ui.label("The optimizer race").classes("text-lg font-bold mt-4")
        explain("Each racer is one of learnscope's own optimizers (the classes that train MNIST) stepping a point of "
                "two numbers (x across, y up) downhill on a surface whose contours you see. The coloured trail is "
                "where it has been. For the racer you follow, the red arrow points downhill (against the gradient) "
                "and the purple one where its memory of past gradients (momentum) pushes. The table gives each "
                "racer's step per axis and the learning rate that step amounts to: plain SGD uses one rate for both "
                "axes, RMSprop and Adam pick one per axis, and a negative one means momentum carried the point uphill "
                "there.")
        with ui.row().classes("items-end gap-3 flex-wrap"):
            titles = {key: surface.title for key, surface in SURFACES.items()} | {SLICE_KEY: SLICE_TITLE}
            self.surface_select = ui.select(titles, value="valley", label="surface", on_change=self._surface_changed) \
                .props("dense outlined").classes("w-64").mark("field-surface")
            with ui.column().classes("gap-0") as self.condition_box:
                self.condition_label = ui.label("").classes("text-sm")
                self.condition = ui.slider(min=1, max=200, step=1, value=50, on_change=self._race_settings_changed) \
                    .classes("w-48").mark("field-condition")
            self.steps_input = ui.number("steps", value=300, min=10, max=5000, step=10, format="%d",
                                         on_change=self._race_settings_changed) \
                .props("dense outlined").classes("w-28").mark("field-steps")
            self.follow = ui.select({}, label="arrows for", on_change=lambda: self._draw_race()) \
                .props("dense outlined").classes("w-52").mark("field-follow")
        with ui.row().classes("items-center gap-x-4 gap-y-1 flex-wrap"):
            self.racer_boxes, self.racer_lrs = {}, {}
            for name in OPTIMIZERS:
                with ui.row().classes("items-center gap-1 no-wrap").props(f'data-racer="{name}"'):
                    self.racer_boxes[name] = ui.checkbox(OPTIMIZER_LABELS[name], value=name in FIRST_RACERS,
                                                         on_change=self._race_settings_changed).props("dense") \
                        .style(f"color: {RACER_COLORS[name]}")
                    self.racer_lrs[name] = ui.number("lr", value=0.01, min=1e-6, max=10, format="%g",
                                                     on_change=self._race_settings_changed) \
                        .props("dense outlined").classes("w-24")
        with ui.row().classes("items-center gap-2"):
            self.play_button = ui.button("Play", icon="play_arrow", on_click=self._toggle_play).props("no-caps") \
                .classes("w-28").mark("race-play")
            ui.button("Step", icon="skip_next", on_click=self._step_once).props("no-caps outline").mark("race-step") \
                .tooltip("One step for every racer.")
            ui.button("Reset", icon="restart_alt", on_click=self._reset_race).props("no-caps outline") \
                .mark("race-reset").tooltip("Back to the start.")
            self.step_label = ui.label("step 0").classes("text-sm font-mono").props("data-race-step")
        self.race_message = ui.label("").classes("text-sm text-red-700")
        self.race_picture, side = picture_beside("race", "The racers' trails on the surface")
        with side:
            self.race_try.banner()
            self.surface_note = explain("")
            self.race_table = ui.html("", sanitize=False).props("data-race-table")

    def _real_race_panel(self) -> None:
        ui.label("The same racers on MNIST").classes("text-lg font-bold mt-2")
        explain(f"The ticked optimizers train the same real network (784 → 64 → 10) from the same start on the same "
                f"batches of MNIST digits for {MNIST_RACE_STEPS} steps, each at a learning rate that suits it there. "
                "Each run is recorded like any training run: 'learnscope runs compare' puts them side by side.")
        self.real_race_work = WorkRow([Work("Race them on MNIST", "flag", self._race_on_mnist,
                                            "Train one network per ticked optimizer, recorded in the run store.",
                                            primary=False)], "real-race", "How far the MNIST race is")
        self.real_race_chart = LiveChart("Training loss on MNIST", "step", "loss", height="220px")
        self.real_race_text = explain("").props("data-real-race-text")

    async def _race_on_mnist(self) -> None:
        work = self.real_race_work
        names = [name for name, box in self.racer_boxes.items() if box.value]
        if not names:
            work.status = "Tick at least one racer."
            return
        config = self.state.config
        configs = {name: {"name": name, "lr": MNIST_LEARNING_RATES[name]} for name in names}
        try:
            work.status = "Loading MNIST…"
            data = await run.io_bound(load_lab_dataset, "mnist", config.data_dir, config.allow_download)
            work.status = f"Training {len(names)} networks, one per optimizer…"
            runs = await run.io_bound(race_optimizers, data.x_train, data.y_train, configs, steps=MNIST_RACE_STEPS,
                                      store=config.store_path(), progress=work.set_progress,
                                      should_stop=lambda: self.real_race_text.is_deleted)
        except (DatasetUnavailable, OSError, ValueError) as error:
            work.status = f"The race could not run: {error}"
            return
        if self.real_race_text.is_deleted:
            return
        self.real_race_chart.show({OPTIMIZER_LABELS.get(label, label): (list(range(1, len(run.loss) + 1)),
                                                                         run.loss.tolist())
                                   for label, run in runs.items()})
        self.real_race_text.text = optimizer_race_summary(runs)
        work.finish("Done.")

    def _racers(self) -> dict[str, float] | None:
        chosen = {name: self.racer_lrs[name].value for name, box in self.racer_boxes.items() if box.value}
        if not chosen:
            self.race_message.text = "Tick at least one racer."
            return None
        if any(lr is None or not 1e-6 <= lr <= 10 for lr in chosen.values()):
            self.race_message.text = "Give each ticked racer a learning rate between 0.000001 and 10."
            return None
        steps = self.steps_input.value
        if steps is None or not 10 <= steps <= 5000:
            self.race_message.text = f"Expected 10 to 5,000 steps, got {steps}."
            return None
        self.race_message.text = ""
        return {name: float(lr) for name, lr in chosen.items()}

    def _surface(self):
        key = self.surface_select.value
        if key == SLICE_KEY:
            return self.model_slice
        return get_surface(key, condition=self.condition.value if key == "valley" else None)

    def _surface_changed(self, *_) -> None:
        if self.surface_select.value == SLICE_KEY and self.model_slice is None:
            self.condition_box.set_visibility(False)
            self._race_settings_changed()
            background_tasks.create(self._build_model_slice(), name="descent-model-slice")
            return
        surface = self._surface()
        for name, field in self.racer_lrs.items():
            field.value = surface.lr.get(name, 0.01)
        self.surface_note.text = surface.difficulty
        self.condition_box.set_visibility(surface.key == "valley")
        self._race_settings_changed()

    def _race_settings_changed(self, *_) -> None:
        self.condition_label.text = f"condition number κ = {self.condition.value:g}"
        self.race, self.race_step, self.playing = None, 0, False
        self.play_button.text = "Play"
        surface = self._surface()
        if surface is None:                                 # the slice of the learner's model is being built
            self.race_picture.content, self.race_table.content, self.step_label.text = "", "", "step 0"
            return
        key = (surface.key, getattr(surface, "condition", None))
        if key not in self.backgrounds:
            self.backgrounds[key] = png_data_uri(contour_picture(surface.grid(GRID)[2][::-1]), scale=PICTURE // GRID)
        self.race_picture.set_source(self.backgrounds[key])
        racers = [name for name, box in self.racer_boxes.items() if box.value]
        followed = self.follow.value if self.follow.value in racers else (racers[0] if racers else None)
        self.follow.set_options({name: OPTIMIZER_LABELS[name] for name in racers}, value=followed)
        self.race_picture.content = self._marker(surface.minimum, surface.bounds) + \
            self._marker(surface.start, surface.bounds, start=True)
        self.step_label.text = "step 0"
        self.race_table.content = ""

    async def _build_model_slice(self) -> None:
        """The lab's MNIST model (or a quick one) as a racetrack: two filter-normalised directions, 500 test images,
        and its coarse contour picture, all off the event loop."""
        if self.racing:
            return
        self.racing = True
        config = self.state.config
        try:
            self.race_message.text = "Building the slice: finding your MNIST model…"
            trained = await self._digit_model()
            data = await run.io_bound(load_lab_dataset, "mnist", config.data_dir, config.allow_download)
            directions = (filter_normalized_direction(trained.model, 1), filter_normalized_direction(trained.model, 2))
            surface = model_slice(trained.model, SoftmaxCrossEntropy(), data.x_test[:SLICE_EXAMPLES],
                                  data.y_test[:SLICE_EXAMPLES], directions)
            self.race_message.text = f"Drawing the loss of the {trained.name} around its weights…"
            values = (await run.io_bound(surface.grid))[2]
        except (DatasetUnavailable, OSError, ValueError) as error:
            self.race_message.text = f"The slice could not be built: {error}"
            return
        finally:
            self.racing = False
        self.backgrounds[(SLICE_KEY, None)] = png_data_uri(contour_picture(values[::-1]), scale=PICTURE // len(values))
        self.model_slice = surface
        self.race_message.text = ""
        if self.surface_select.value == SLICE_KEY:
            self._surface_changed()

    async def _ensure_race(self, configs: dict | None = None) -> bool:
        """The race of the ticked racers (or of `configs`, label -> optimizer config), computed if not yet."""
        if self.race is not None:
            return True
        if self.racing or self._surface() is None:          # the slice is still being built
            return False
        if configs is None:
            racers = self._racers()
            if racers is None:
                return False
            configs = {name: {"name": name, "lr": lr} for name, lr in racers.items()}
        surface, steps = self._surface(), int(self.steps_input.value)
        setup = (surface.key, getattr(surface, "condition", None), repr(sorted(configs.items())), steps)
        # thousands of small steps (on a slice, each a backward pass): in a thread, so the page keeps answering
        self.racing = True
        if surface.key == SLICE_KEY:
            self.race_message.text = "Racing on your model: every step is a backward pass through it…"
        try:
            self.race = await run.io_bound(optimizer_race, surface, configs, None, steps)
        finally:
            self.racing = False
        self.race_message.text = ""
        self.race_setup = setup
        followed = self.follow.value if self.follow.value in self.race else next(iter(self.race))
        self.follow.set_options({label: OPTIMIZER_LABELS.get(label, label) for label in self.race}, value=followed)
        return True

    async def _toggle_play(self) -> None:
        if not self.playing and not await self._ensure_race():
            return
        if not self.playing and self.race_step >= self._race_length():
            self.race_step = 0
        self.playing = not self.playing
        self.play_button.text = "Pause" if self.playing else "Play"
        self.play_button.props(f"icon={'pause' if self.playing else 'play_arrow'}")

    async def _step_once(self) -> None:
        if await self._ensure_race():
            self.playing = False
            self.play_button.text = "Play"
            self.race_step = min(self.race_step + 1, self._race_length())
            self._draw_race()

    def _reset_race(self) -> None:
        self.race_step, self.playing = 0, False
        self.play_button.text = "Play"
        if self.race is not None:
            self._draw_race()

    def _race_length(self) -> int:
        return len(next(iter(self.race.positions.values()))) - 1

    def _draw_race(self) -> None:
        race, step = self.race, self.race_step
        if race is None:
            return
        surface = race.surface
        shapes, rows = [], []
        for index, name in enumerate(race):
            report = step_report(race, name, step)
            shown = race[name][:report.step + 1]
            color = RACER_COLORS.get(name, PALETTE[index % len(PALETTE)])
            shapes.append(self._trail(shown, surface.bounds, color))
            if name == self.follow.value:
                shapes.append(self._arrows(race, name, report.step))
            diverged = race.diverged_at[name]
            status = f"left the map at step {diverged}" if diverged is not None and diverged <= step else \
                f"{report.loss:.4g}"
            rates = " / ".join("—" if rate is None else f"{rate:.3g}" for rate in report.rate)
            moved = " / ".join(f"{value:+.3g}" for value in report.moved)
            label = OPTIMIZER_LABELS.get(name, name)
            rows.append(f'<tr data-racer-row="{name}"><td><span style="color:{color}">●</span> {label}</td>'
                        f"<td>{status}</td><td>{moved}</td><td>{rates}</td></tr>")
        self.race_picture.content = "".join(shapes) + self._marker(surface.minimum, surface.bounds)
        self.step_label.text = f"step {step:,} of {self._race_length():,}"
        self.race_table.content = (
            f'<table class="text-sm" style="{TABLE_STYLE}"><thead><tr class="text-left"><th>racer</th><th>loss</th>'
            "<th>step taken (x / y)</th><th>learning rate it amounts to (x / y)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
        started = self.experiment_race_setup
        self.race_try.show(race.until(step), still_set_up=started is not None and self.race_setup == started)

    def _arrows(self, race, name: str, step: int) -> str:
        """Where the followed racer is pushed: downhill (−gradient, red) and its momentum (purple), as directions."""
        surface = race.surface
        head = to_pixels(race[name][step:step + 1], surface.bounds, PICTURE)[0]
        arrows = [(-race.gradients[name][step], "#b91c1c")]
        memory = race.states[name].get("velocity", race.states[name].get("m"))
        if memory is not None and step > 0:
            arrows.append((-memory[step], "#7e22ce"))
        drawn = []
        for vector, color in arrows:
            # pixels run down the page: flip y; the length says nothing (the table has the sizes), the direction all
            direction = vector * [1, -1]
            norm = float((direction**2).sum() ** 0.5)
            if not norm or norm != norm:
                continue
            tip = head + direction / norm * ARROW_PIXELS
            drawn.append(f'<line x1="{head[0]:.1f}" y1="{head[1]:.1f}" x2="{tip[0]:.1f}" y2="{tip[1]:.1f}" '
                         f'stroke="{color}" stroke-width="2.5" marker-end="url(#tip-{color[1:]})"/>'
                         f'<defs><marker id="tip-{color[1:]}" markerWidth="6" markerHeight="6" refX="5" refY="3" '
                         f'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="{color}"/></marker></defs>')
        return "".join(drawn)

    def _start_race_experiment(self, experiment) -> None:
        background_tasks.create(self._set_up_race_experiment(experiment), name="descent-race-experiment")

    async def _set_up_race_experiment(self, experiment) -> None:
        setup = experiment.setup
        self.surface_select.value = setup["surface"]       # fills in that surface's learning rates
        if "condition" in setup:
            self.condition.value = setup["condition"]
        self.steps_input.value = setup["steps"]
        # either several optimizers, each at its own learning rate, or one optimizer at several
        racers = setup.get("racers", {setup.get("optimizer"): setup.get("learning_rates", (None,))[0]})
        for name, box in self.racer_boxes.items():
            box.value = name in racers
            if name in racers:
                self.racer_lrs[name].value = racers[name]
        self._race_settings_changed()
        configs = None
        if "learning_rates" in setup:
            configs = {f"lr {lr:g}": {"name": setup["optimizer"], "lr": lr} for lr in setup["learning_rates"]}
        if await self._ensure_race(configs):
            self.experiment_race_setup = self.race_setup
            self.race_step, self.playing = 0, True
            self.play_button.text = "Pause"

    # ---- the loss landscape of a real model ----
    def _landscape_panel(self) -> None:
        ui.label("The loss landscape of your model").classes("text-lg font-bold mt-4")
        explain("A real network has far too many weights to draw its loss, so we draw a slice (Li et al. 2018): "
                "the loss on 2,000 MNIST test images as the weights move along two random directions, each scaled "
                "filter by filter to the weights it moves, from −1 to +1 of their norm. The centre (+) is the "
                "model as trained: the lab's MNIST model, or a quick one trained here first.")
        self.landscape_work = WorkRow([
            Work("Draw the landscape", "landscape", self._draw_landscape,
                 "Two random directions around the lab's MNIST model."),
            Work("Draw the training path", "timeline", self._draw_training_path,
                 "Train a quick MNIST model while photographing its weights, then draw the loss over the plane its "
                 "path moved in most.", primary=False),
        ], "landscape", "How much of the landscape is computed")
        self.landscape_picture, side = picture_beside("landscape", "The loss around the model's weights")
        self.landscape_picture.set_visibility(False)             # no empty frame before the first drawing
        with side:
            self.landscape_chart = LiveChart("Loss along the first direction", "distance from the model's weights",
                                             "loss", height="200px")
            self.landscape_text = explain("").props("data-landscape-text")

    async def _draw_landscape(self) -> None:
        config, work = self.state.config, self.landscape_work
        try:
            trained = await self._digit_model()
            work.status = "Loading the MNIST test images…"
            data = await run.io_bound(load_lab_dataset, "mnist", config.data_dir, config.allow_download)
            x, y = data.x_test[:LANDSCAPE_EXAMPLES], data.y_test[:LANDSCAPE_EXAMPLES]
            work.status = f"Walking the weights of the {trained.name} over a {LANDSCAPE_STEPS}×{LANDSCAPE_STEPS} grid…"
            # a copy: the lab's model may be drawing on another tab while these weights wander
            landscape = await run.io_bound(loss_landscape, copy.deepcopy(trained.model), SoftmaxCrossEntropy(), x, y,
                                           "filter", LANDSCAPE_STEPS, 1.0, 0,
                                           lambda done, total: work.set_progress(done / total))
        except (DatasetUnavailable, OSError, ValueError) as error:
            work.status = f"The landscape could not be drawn: {error}"
            return
        if self.landscape_picture.is_deleted:
            return
        work.finish(f"The {trained.name}, on {len(x):,} test images.")
        self._show_landscape(landscape, "", describe_landscape(landscape))

    async def _draw_training_path(self) -> None:
        config, work = self.state.config, self.landscape_work
        try:
            work.status = "Loading MNIST…"
            data = await run.io_bound(load_lab_dataset, "mnist", config.data_dir, config.allow_download)
            work.status = "Training a quick MLP (2 epochs) and photographing its weights every 20 steps…"
            recipe = default_recipe("mnist").with_options(hidden=(128, 64), epochs=2)
            path = await run.io_bound(training_path_landscape, data, recipe, examples=LANDSCAPE_EXAMPLES,
                                      steps=LANDSCAPE_STEPS, progress=work.set_progress)
        except (DatasetUnavailable, OSError, ValueError) as error:
            work.status = f"The path could not be drawn: {error}"
            return
        if self.landscape_picture.is_deleted:
            return
        work.finish(f"A quick MLP ({path.test_accuracy:.1%} on the test images), its path over the plane it moved in "
                    "most.")
        span = float(path.landscape.coordinates[-1])
        pixels = to_pixels(path.plane.path, ((-span, span), (-span, span)), PICTURE)
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pixels)
        start_x, start_y = pixels[0]
        overlay = (f'<polyline points="{line}" fill="none" stroke="#d62728" stroke-width="2" stroke-linejoin="round"/>'
                   f'<circle cx="{start_x:.1f}" cy="{start_y:.1f}" r="5" fill="#d62728" stroke="white"/>')
        self._show_landscape(path.landscape, overlay, describe_trajectory(path.plane))

    def _show_landscape(self, landscape, overlay: str, text: str) -> None:
        """The loss over the (α, β) grid as a contour picture, the centre marked, `overlay` on top; its 1-D slice."""
        scale = max(1, PICTURE // LANDSCAPE_STEPS)
        self.landscape_picture.set_visibility(True)
        self.landscape_picture.set_source(png_data_uri(contour_picture(landscape.surface[::-1]), scale=scale))
        middle = PICTURE / 2                                     # the picture fills the PICTURE-wide frame
        self.landscape_picture.content = overlay + (
            f'<path d="M{middle - 7:.1f},{middle:.1f} H{middle + 7:.1f} M{middle:.1f},{middle - 7:.1f} '
            f'V{middle + 7:.1f}" stroke="#111827" stroke-width="2"/>')
        self.landscape_chart.show({"loss": (landscape.coordinates.tolist(), landscape.line.tolist())})
        self.landscape_text.text = text

    async def _digit_model(self) -> TrainedModel:
        """The lab's digit model, else the newest saved one, else a quick MLP trained now (and shared with the lab)."""
        config = self.state.config
        if self.state.trained_model is not None:
            return self.state.trained_model
        found = await run.io_bound(newest_digit_model, config.models_path())
        if found is not None:
            path, model, _ = found
            return TrainedModel(model, f"saved model {path.name}", list(DIGIT_CLASS_NAMES))
        self.landscape_work.status = "No MNIST model in the lab yet: training a quick one (a few seconds)…"
        quick = await run.io_bound(train_quick_digit_model, config.data_dir, 0, config.allow_download)
        trained = TrainedModel(quick.model, "quick MLP trained on the Gradient descent page", list(DIGIT_CLASS_NAMES),
                               quick.test_accuracy)
        self.state.publish_model(trained)
        return trained

    # ---- playback ----
    def _tick(self) -> None:
        for work in (self.modes_work, self.real_race_work, self.landscape_work):
            work.refresh()
        if self.modes is not None and self.batch_fraction < 1.0:
            self.batch_fraction = min(1.0, self.batch_fraction + TICK_SECONDS / BATCH_PLAY_SECONDS)
            self._draw_batch()
            if self.batch_fraction >= 1.0:
                self.batch_try.show(self.modes, still_set_up=self._batch_still_set_up())
        if self.playing and self.race is not None:
            length = self._race_length()
            self.race_step = min(length, self.race_step + max(1, length // RACE_PLAY_TICKS))
            self._draw_race()
            if self.race_step >= length:
                self.playing = False
                self.play_button.text = "Play"

    def _batch_still_set_up(self) -> bool:
        active = self.batch_try.active
        if active is None:
            return False
        setup = active.setup
        return self.batch_setup == (setup["mini_batch_size"], setup["lr"], setup["epochs"])

    # ---- drawing ----
    @staticmethod
    def _trail(points, bounds, color: str) -> str:
        points = points[~np.isnan(points).any(axis=1)]            # drop NaN rows (a racer that left the map)
        if len(points) > TRAIL_POINTS:                            # thin the trail, keep its last point
            keep = [*range(0, len(points) - 1, -(-len(points) // TRAIL_POINTS)), len(points) - 1]
            points = points[keep]
        pixels = to_pixels(points, bounds, PICTURE)
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in pixels)
        x, y = pixels[-1]
        return (f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round" '
                f'opacity="0.9"/><circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{color}" stroke="white" '
                'stroke-width="1.5"/>')

    @staticmethod
    def _marker(point, bounds, start: bool = False) -> str:
        x, y = to_pixels([point], bounds, PICTURE)[0]
        if start:
            return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="none" stroke="#111827" stroke-width="1.5"/>'
        return (f'<path d="M{x - 6:.1f},{y:.1f} H{x + 6:.1f} M{x:.1f},{y - 6:.1f} V{y + 6:.1f}" stroke="#111827" '
                'stroke-width="2"/>')
