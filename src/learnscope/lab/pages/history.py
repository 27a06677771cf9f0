"""History (chapter 2), live: McCulloch–Pitts threshold units computing logic (1943), Rosenblatt's perceptron
learning a line one mistake at a time and cycling forever on XOR (1958, 1969), and backpropagation solving XOR
with a hidden layer (1986), under a timeline whose entries open them and the later chapters' pages.

Every number comes from below lab/ (threshold_logic, perceptron_rule, backprop_xor, history_lab). One perceptron
step takes microseconds and runs in its handler; longer runs go off the event loop.
"""

import math
import time
from urllib.parse import quote

from nicegui import run, ui

from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.lesson import TryThis, chapter_section, section
from learnscope.lab.components.plane_svg import plane_svg, weight_path_svg
from learnscope.lab.components.work_row import Work, WorkRow
from learnscope.lab.layout import TABLE_STYLE, explain, page_frame
from learnscope.lab.state import LabState
from learnscope.lessons.backprop_xor import (
    XOR_EPOCHS,
    describe_xor_network,
    network_at_start,
    output_picture,
    read_xor_network,
    train_from_starts,
    train_xor,
    xor_setup,
)
from learnscope.lessons.course import chapter
from learnscope.lessons.history_lab import HISTORY_EXPERIMENTS, PERCEPTRON_EPOCHS, TIMELINE, PerceptronComparison
from learnscope.lessons.perceptron_rule import (
    PerceptronRun,
    best_margin,
    describe_bound,
    describe_cycle,
    describe_run,
    describe_step,
    describe_weights,
    flip_label,
    line_across_square,
    positive_side,
    separable_points,
    xor_points,
)
from learnscope.lessons.pictures import png_data_uri
from learnscope.lessons.playground import PLANE_LIMIT
from learnscope.lessons.threshold_logic import PRESETS, describe_search, gate_name, truth_table, truth_table_rows

TICK_SECONDS = 0.25
POINT_SETS = {"separable": "Separable points", "flipped": "One class flipped", "xor": "XOR"}
GAPS = {0.3: "wide gap (0.3)", 0.1: "gap 0.1", 0.03: "narrow gap (0.03)"}
DEFAULT_GAP = 0.1
#: the McCulloch–Pitts controls take numbers in this range
MP_LIMIT = 10
#: seconds the backprop run pauses at each snapshot it publishes, so a learner can watch the lines move
WATCH_PACE = 0.015
SUBSCRIPTS = "₁₂₃₄₅₆₇₈₉"
#: the path of the perceptron's weights shows at most this many latest states
PATH_STATES = 60


def register(state: LabState) -> None:
    @ui.page("/history")
    def history_page():
        with page_frame("History", "From a neuron that computes logic (1943) to a network that learns XOR (1986): "
                        "run each step of the story yourself.", active="/history"):
            HistoryPage(state)


def truth_table_html(weights, threshold: float) -> str:
    """The unit's truth table, each row's weighted sum beside it, the rows where it fires lit."""
    rows = ""
    for x1, x2, total, fired in truth_table_rows(weights, threshold):
        lit = ' style="background: #fed7aa; font-weight: bold"' if fired else ""
        rows += (f'<tr data-fires="{fired}"><td align=center>{x1}</td><td align=center>{x2}</td>'
                 f"<td align=right>{total:g}</td><td align=center{lit}>{fired}</td></tr>")
    return (f'<table style="{TABLE_STYLE}"><tr><th>x₁</th><th>x₂</th><th>w₁x₁ + w₂x₂</th><th>fires</th></tr>'
            f"{rows}</table>")


def corners_table_html(reading) -> str:
    """XOR's corners: which hidden units fire at each, and the network's chance of class 1."""
    heads = "".join(f"<th>h{SUBSCRIPTS[k]} fires</th>" for k in range(len(reading.units)))
    rows = ""
    corners = xor_points()
    for corner, ((x1, x2), label) in enumerate(zip(corners.x, corners.y)):
        fires = "".join(f"<td align=center>{unit.fires[corner]}</td>" for unit in reading.units)
        rows += (f"<tr><td align=center>({x1:+.0f}, {x2:+.0f})</td><td align=center>{label}</td>"
                 f"{fires}<td align=right>{reading.output[corner]:.0%}</td></tr>")
    return (f'<table style="{TABLE_STYLE}" data-corners><tr><th>corner</th><th>XOR</th>{heads}<th>P(class 1)</th>'
            f"</tr>{rows}</table>")


def hidden_units(n: int) -> str:
    return f"{n} hidden unit{'s' if n != 1 else ''}"


class HistoryPage:
    def __init__(self, state: LabState):
        self.state = state
        self.gap, self.points_key, self.lr = DEFAULT_GAP, "separable", 1.0
        self.run = PerceptronRun(separable_points(margin=DEFAULT_GAP))
        self.margin = best_margin(self.run.points)
        self.last_step = None
        self.xor_snapshot = None            # the backprop run so far, set from the worker thread
        self.drawn_xor = None
        self.xor_caption = ""
        self.seed = 1
        self.restart_asked = False          # the controls changed while a run was going: stop it, then start over
        perceptron = tuple(e for e in HISTORY_EXPERIMENTS if not {"hidden", "starts"} & set(e.setup))
        backprop = tuple(e for e in HISTORY_EXPERIMENTS if e not in perceptron)
        self.perceptron_try = TryThis(perceptron, self._start_perceptron_experiment, scroll_to="perceptron")
        self.backprop_try = TryThis(backprop, self._start_backprop_experiment, scroll_to="backprop")
        with chapter_section(chapter(2)):
            self._timeline()
            self._mcculloch_pitts()
            self._perceptron()
            self.perceptron_try.cards(2)
            self._xor()
            self._backprop()
            self.backprop_try.cards(2)
            ui.link("Next: chapter 3, forward propagation, number by number →", "/step#chapter-3")
        self._show_gate()
        self._show_perceptron()
        self._show_start(xor_setup())
        ui.timer(TICK_SECONDS, self._tick)

    @property
    def closed(self) -> bool:
        return self.gate_label.is_deleted

    # ---- the timeline ----
    def _timeline(self) -> None:
        ui.label("Timeline").classes("text-lg font-bold mt-2")
        with ui.row().classes("w-full gap-2 flex-wrap items-stretch").props('data-timeline role="list"'):
            for milestone in TIMELINE:
                link = ui.link(target=milestone.link).classes("no-underline text-inherit") \
                    .props(f'role="listitem" data-year="{milestone.year}"')
                with link, ui.card().classes("w-52 h-full p-2 gap-0 hover:bg-sky-50").props("flat bordered"):
                    ui.label(f"{milestone.year} · {milestone.who}").classes("text-sm font-bold text-sky-900")
                    ui.label(milestone.what).classes("text-xs text-slate-700")

    # ---- 1943: McCulloch and Pitts ----
    def _mcculloch_pitts(self) -> None:
        with section("mcculloch-pitts", "1943 · McCulloch and Pitts: a neuron that computes logic",
                     "A McCulloch–Pitts neuron multiplies each input (0 or 1) by a fixed weight, adds them up, and "
                     "fires (outputs 1) when the sum reaches its threshold θ. Nothing is learned: the weights are set "
                     "by hand. Set them and watch the truth table; which logic gate is it?"):
            with ui.row().classes("w-full gap-8 items-start flex-wrap"):
                with ui.column().classes("gap-2"):
                    with ui.row().classes("gap-2 items-end"):
                        self.w1 = ui.number("w₁", value=1, step=1, on_change=self._show_gate).classes("w-20") \
                            .props("data-w1")
                        self.w2 = ui.number("w₂", value=1, step=1, on_change=self._show_gate).classes("w-20") \
                            .props("data-w2")
                        self.theta = ui.number("threshold θ", value=2, step=1, on_change=self._show_gate) \
                            .classes("w-28").props("data-theta")
                    with ui.row().classes("gap-2"):
                        for name in PRESETS:
                            ui.button(name, on_click=lambda _, name=name: self._preset(name)) \
                                .props("no-caps outline dense").classes("px-2")
                        ui.button("Search for XOR", icon="search", on_click=self._search_xor) \
                            .props("no-caps dense unelevated color=primary").classes("px-2") \
                            .tooltip("Try every whole-number setting from −3 to 3 and count the ones that compute "
                                     "AND, OR and XOR.")
                with ui.column().classes("gap-1"):
                    self.truth_table = ui.html("", sanitize=False).props("data-truth-table").classes("text-sm")
                    self.gate_label = ui.label("").classes("text-base font-bold").props('data-gate aria-live="polite"')
            self.search_text = explain("").props("data-xor-search")
            explain("McCulloch and Pitts wrote their neuron with excitatory inputs and absolute inhibition; weights "
                    "and a threshold, as here, are the usual modern reading of it.")

    def _preset(self, name: str) -> None:
        (w1, w2), theta = PRESETS[name]
        self.w1.value, self.w2.value, self.theta.value = w1, w2, theta      # each change redraws the table

    def _show_gate(self, *_) -> None:
        values = (self.w1.value, self.w2.value, self.theta.value)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) and abs(v) <= MP_LIMIT for v in values):
            self.gate_label.text = (f"w₁, w₂ and θ expect numbers from −{MP_LIMIT} to {MP_LIMIT}, got "
                                    f"{', '.join('empty' if v is None else f'{v:g}' for v in values)}. Type a number "
                                    "in each box.")
            self.gate_label.classes(replace="text-base font-bold text-red-700")
            self.truth_table.content = ""                   # no table for a unit that is not set
            return
        w1, w2, theta = (float(v) for v in values)
        self.truth_table.content = truth_table_html((w1, w2), theta)
        self.gate_label.text = f"It computes {gate_name(truth_table((w1, w2), theta))}."
        self.gate_label.classes(replace="text-base font-bold")

    async def _search_xor(self) -> None:
        self.search_text.text = await run.io_bound(describe_search)

    # ---- 1958: the perceptron ----
    def _perceptron(self) -> None:
        with section("perceptron", "1958 · Rosenblatt's perceptron learns its line",
                     "The perceptron is a threshold neuron that learns. It starts from w = 0 and looks at the points "
                     "one at a time. When it is right nothing changes; on a mistake it moves its weights towards the "
                     "point (or away from it): w ← w + η·(y − ŷ)·x and b ← b + η·(y − ŷ), where y is the right class "
                     "and ŷ its answer. Textbooks write the same rule w ← w + η·y·x with classes ±1. Step through it "
                     "and watch the line."):
            with ui.row().classes("w-full gap-3 items-end flex-wrap"):
                self.points_toggle = ui.toggle(POINT_SETS, value="separable", on_change=self._change_points) \
                    .props("no-caps data-points")
                self.gap_select = ui.select({gap: label for gap, label in GAPS.items()}, value=DEFAULT_GAP,
                                            label="Points from the line", on_change=self._change_points) \
                    .classes("w-44").props("data-gap")
                self.lr_input = ui.input("Learning rate η", value="1").classes("w-32").props("data-lr")
                self.lr_input.on("keydown.enter", self._change_points)
                self.lr_input.on("blur", self._lr_left)
            with ui.row().classes("w-full gap-2 items-center flex-wrap"):
                ui.button("Step", icon="redo", on_click=lambda: self._advance("step")).props("no-caps data-step") \
                    .tooltip("Show the perceptron the next point.")
                ui.button("To the next mistake", icon="fast_forward", on_click=lambda: self._advance("mistake")) \
                    .props("no-caps outline").tooltip("Show it points until it gets one wrong (and moves its line).")
                ui.button("Whole epoch", icon="replay", on_click=lambda: self._advance("epoch")) \
                    .props("no-caps outline").tooltip("Show it every point left in this pass.")
                self.perceptron_work = WorkRow([Work(f"Run up to {PERCEPTRON_EPOCHS:,} epochs", "play_arrow",
                                                     self._run_to_end, "Run until it converges, cycles, or "
                                                     f"{PERCEPTRON_EPOCHS:,} epochs pass.", primary=False)],
                                               "perceptron", "How far the perceptron has run")
                ui.button("Start over", icon="restart_alt", on_click=self._change_points).props("no-caps flat")
            self.perceptron_try.banner()
            with ui.row().classes("w-full gap-6 items-start flex-wrap"):
                self.plane = ui.html("", sanitize=False).props('aria-label="The points and the perceptron\'s line"')
                with ui.column().classes("gap-2 grow").style("min-width: 20rem; flex-basis: 30rem"):
                    self.step_text = ui.label("").classes("text-sm font-mono break-words").props("data-step-text")
                    self.run_text = ui.label("").classes("text-base font-bold").props('data-run aria-live="polite"')
                    self.bound_text = explain("").props("data-bound")
                    self.mistakes_chart = LiveChart("Mistakes per epoch", "epoch", "mistakes", height="180px")
            explain("The points' colours are their classes; the shaded side is where the perceptron says 1 (orange), "
                    "the black line where w·x + b = 0. The ringed point is the one it just saw. Novikoff's bound "
                    "counts the bias as a weight on a constant input 1.")

    def _points(self):
        if self.points_key == "xor":
            return xor_points()
        separable = separable_points(margin=self.gap)
        return flip_label(separable) if self.points_key == "flipped" else separable

    def _lr_left(self) -> None:
        if str(self.lr_input.value).strip() != f"{self.lr:g}":     # leaving the box unchanged keeps the run
            self._change_points()

    def _change_points(self, *_) -> None:
        """The controls changed: start over now, or once the run going on has stopped."""
        if self.perceptron_work.busy:
            self.restart_asked = True
        else:
            self._start_over()

    def _start_over(self) -> None:
        """Read the controls and start a new run from w = 0."""
        try:
            lr = float(str(self.lr_input.value).strip().replace(",", "."))
        except ValueError:
            lr = math.nan
        if not (math.isfinite(lr) and 0 < lr <= 100):
            self.step_text.text = f"The learning rate η expects a number above 0 and at most 100, got " \
                                  f"{self.lr_input.value!r}. Try 1 or 0.1."
            return
        self.points_key, self.gap, self.lr = self.points_toggle.value, float(self.gap_select.value), lr
        self.gap_select.set_visibility(self.points_key != "xor")
        self.run = PerceptronRun(self._points(), lr)
        self.margin = best_margin(self.run.points)
        self.last_step = None
        self._show_perceptron()

    def _advance(self, how: str) -> None:
        if self.perceptron_work.busy:
            return
        run_ = self.run
        for _ in range(len(run_.points.x)):           # at most one epoch's worth of points per click
            self.last_step = run_.step()
            if how == "step" or (how == "mistake" and self.last_step.mistake) or (how == "epoch" and not run_.position):
                break
        self._show_perceptron()

    async def _run_to_end(self) -> None:
        self.perceptron_work.status = "Running…"
        before = self.run.epoch
        await run.io_bound(self.run.run_epochs, PERCEPTRON_EPOCHS, True, lambda: self.closed or self.restart_asked)
        self.last_step = None
        self.perceptron_work.finish(f"Ran {self.run.epoch - before:,} epochs.")
        if self.restart_asked:
            self.restart_asked = False
            self._start_over()
        else:
            self._show_perceptron()

    def _show_perceptron(self) -> None:
        run_ = self.run
        w1, w2, b = run_.state
        highlight = self.last_step.index if self.last_step is not None else None
        self.plane.content = plane_svg(run_.points.x, run_.points.y, shaded=positive_side((w1, w2), b, PLANE_LIMIT),
                                       lines=[(line_across_square((w1, w2), b, PLANE_LIMIT), "")],
                                       highlight=highlight, name="perceptron-plane")
        self.step_text.text = describe_step(self.last_step) if self.last_step is not None else describe_weights(run_)
        self.run_text.text = describe_run(run_)
        self.bound_text.text = describe_bound(self.margin, run_.total_mistakes)
        epochs = list(range(1, len(run_.mistakes_per_epoch) + 1))
        self.mistakes_chart.show({"mistakes": (epochs, run_.mistakes_per_epoch)})
        self._show_path()

    def _start_perceptron_experiment(self, experiment) -> None:
        self.perceptron_work.start_in_background(lambda: self._perceptron_experiment(experiment))

    async def _perceptron_experiment(self, experiment) -> None:
        setup = experiment.setup
        # the controls show the experiment's settings; changed while busy, their handlers only ask for a restart,
        # which the run started here makes unnecessary
        self.points_toggle.value, self.gap_select.value = setup["points"], setup.get("gap", DEFAULT_GAP)
        self.lr_input.value = f"{setup.get('lr', 1.0):g}"
        self.restart_asked = False
        self._start_over()
        baseline = PerceptronRun(separable_points(margin=DEFAULT_GAP))
        self.perceptron_work.status = f"Running up to {PERCEPTRON_EPOCHS:,} epochs…"
        for each in (self.run, baseline):
            await run.io_bound(each.run_epochs, PERCEPTRON_EPOCHS, False, lambda: self.closed)
        if self.closed:
            return
        self._show_perceptron()
        self.perceptron_try.show(PerceptronComparison(self.run, self.margin, baseline, best_margin(baseline.points)),
                                 still_set_up=True)
        self.perceptron_work.finish(f"Ran {self.run.epoch:,} epochs.")

    # ---- 1969: XOR ----
    def _xor(self) -> None:
        with section("xor", "1969 · Minsky and Papert: what one line cannot do",
                     "Minsky and Papert's book Perceptrons (1969) proved what a single layer of threshold units "
                     "cannot compute: XOR, or whether a figure is connected. It was widely read as a verdict on "
                     "neural networks as a whole, and interest and money turned away from them for more than a "
                     "decade, part of what is now called the first AI winter. Run the perceptron on XOR and watch "
                     "its weights."):
            ui.button("Run the perceptron on XOR", icon="play_arrow", on_click=self._xor_cycle) \
                .props("no-caps data-run-xor").classes("self-start")
            with ui.row().classes("w-full gap-6 items-start flex-wrap"):
                self.path_picture = ui.html("", sanitize=False).props('aria-label="The path of the weights"')
                with ui.column().classes("gap-2 grow").style("min-width: 20rem; flex-basis: 30rem"):
                    self.cycle_text = ui.label("").classes("text-base").props('data-cycle aria-live="polite"')
                    explain("The path of the weights (w₁, w₂) after each update, from the start (ringed), each "
                            "state labelled with its bias b. A cycle is drawn in red: the same updates, round and "
                            "round.")

    def _xor_cycle(self) -> None:
        if self.perceptron_work.busy:
            return
        self.points_toggle.value = "xor"                   # its handler starts over on XOR
        self.perceptron_work.start_in_background(self._run_to_end)
        ui.run_javascript("document.getElementById('xor').scrollIntoView({behavior: 'smooth'})")

    def _show_path(self) -> None:
        run_ = self.run
        cycle = run_.cycle.states if run_.cycle is not None else ()
        self.path_picture.content = weight_path_svg(run_.path[-PATH_STATES:], cycle)
        self.cycle_text.text = describe_cycle(run_)

    # ---- 1986: backpropagation ----
    def _backprop(self) -> None:
        with section("backprop", "1986 · Backpropagation: a hidden layer learns XOR",
                     "Rumelhart, Hinton and Williams showed that backpropagation trains hidden layers. Here: XOR's "
                     "four corners, two sigmoid hidden units and an output, trained by gradient descent. Each hidden "
                     "unit draws its own line; the output combines the two, which no single line could do."):
            with ui.row().classes("w-full items-center gap-3"):
                self.hidden_select = ui.select({n: hidden_units(n) for n in (1, 2, 3)},
                                               value=2, label="Hidden layer", on_change=self._hidden_changed) \
                    .classes("w-40").props("data-hidden")
                self.backprop_work = WorkRow([
                    Work("Train with backpropagation", "play_arrow", self._train, "Train the network on XOR's "
                     "corners (2,000 epochs, a few seconds)."),
                    Work("Another random start", "casino", self._another_start, "Start from other random weights.",
                         primary=False)], "backprop", "How far the training is")
            self.backprop_try.banner()
            with ui.row().classes("w-full gap-6 items-start flex-wrap"):
                self.xor_plane = ui.html("", sanitize=False).props('aria-label="XOR and the hidden units\' lines"')
                with ui.column().classes("gap-2 grow").style("min-width: 20rem; flex-basis: 30rem"):
                    self.xor_chart = LiveChart("Loss while learning XOR", "epoch", "loss", log_y=True,
                                               height="180px")
                    self.reading_text = ui.label("").classes("text-sm").props("data-reading")
                    self.corners = ui.html("", sanitize=False).classes("text-sm")
                    self.step_link = ui.link("Take this network's first step apart, number by number →", "/step") \
                        .props("data-step-link")
            self.xor_caption_label = explain("").props("data-xor-caption")

    def _hidden_changed(self) -> None:
        if not self.backprop_work.busy:
            self._show_start(xor_setup(seed=self.seed, hidden=self.hidden_select.value))

    def _show_start(self, setup) -> None:
        """The network at its starting weights (before training), and the One step link to it."""
        self.xor_caption = f"{hidden_units(setup.hidden[0])}, random start {setup.seed}, at its starting weights"
        self.step_link.props(f'href="/step?setup={quote(setup.to_query())}"')
        self.xor_snapshot = network_at_start(setup)

    async def _train(self) -> None:
        await self._train_one(xor_setup(seed=self.seed, hidden=self.hidden_select.value))

    async def _another_start(self) -> None:
        self.seed += 1
        await self._train()

    def _publish(self, snapshot) -> None:
        self.xor_snapshot = snapshot
        self.backprop_work.set_progress(snapshot.epochs / XOR_EPOCHS)
        time.sleep(WATCH_PACE)                              # in the worker thread: slow enough to watch

    async def _train_one(self, setup):
        work = self.backprop_work
        self.hidden_select.value, self.seed = setup.hidden[0], setup.seed
        self.xor_caption = f"{hidden_units(setup.hidden[0])}, random start {setup.seed}"
        self.step_link.props(f'href="/step?setup={quote(setup.to_query())}"')
        work.status = "Training…"
        result = await run.io_bound(train_xor, setup, on_epoch=self._publish, should_stop=lambda: self.closed)
        self.xor_snapshot = result
        solved = f"solved in epoch {result.solved_epoch:,}" if result.solved_epoch else "not solved"
        work.finish(f"{result.epochs:,} epochs: {result.accuracy:.0%} of the corners right ({solved}).")
        return result

    def _start_backprop_experiment(self, experiment) -> None:
        self.backprop_work.start_in_background(lambda: self._backprop_experiment(experiment))

    async def _backprop_experiment(self, experiment) -> None:
        setup = experiment.setup
        if "hidden" in setup:
            result = await self._train_one(xor_setup(seed=1, hidden=setup["hidden"]))
        else:
            work = self.backprop_work
            work.status = f"Training from {setup['starts']} random starts…"
            result = await run.io_bound(train_from_starts, range(setup["starts"]), should_stop=lambda: self.closed)
            shown = next((r for r in result if r.accuracy < 1), result[-1])   # a stuck one says the most
            self.hidden_select.value, self.seed = shown.setup.hidden[0], shown.setup.seed
            self.step_link.props(f'href="/step?setup={quote(shown.setup.to_query())}"')
            self.xor_caption = (f"Showing random start {shown.setup.seed}, " +
                                ("one that got stuck" if shown.accuracy < 1 else "the last one"))
            self.xor_snapshot = shown
            work.finish(f"{sum(r.accuracy == 1 for r in result)} of {len(result)} starts solved XOR.")
        if not self.closed:
            self.backprop_try.show(result, still_set_up=True)

    def _show_xor(self, snapshot) -> None:
        reading = read_xor_network(snapshot.model)
        background = png_data_uri(output_picture(snapshot.model, 64), scale=5)
        x, y = xor_points().x, xor_points().y
        lines = [(line_across_square(unit.w, unit.b, PLANE_LIMIT), f"h{SUBSCRIPTS[k]}")
                 for k, unit in enumerate(reading.units)]
        self.xor_plane.content = plane_svg(x, y, lines=lines, background=background, name="xor-plane")
        self.xor_chart.show({"loss": (list(range(1, snapshot.epochs + 1)), list(snapshot.losses))})
        self.reading_text.text = describe_xor_network(reading)
        self.corners.content = corners_table_html(reading)
        self.xor_caption_label.text = (f"{self.xor_caption}. The background is the network's answer over the plane "
                                       "(orange: class 1, XOR true; blue: class 0), paler where it is unsure; h₁ "
                                       "and h₂ are the lines where each hidden unit's sum w·x + b crosses 0.")

    def _tick(self) -> None:
        self.perceptron_work.refresh()
        self.backprop_work.refresh()
        snapshot = self.xor_snapshot
        if snapshot is not None and snapshot is not self.drawn_xor:
            self.drawn_xor = snapshot
            self._show_xor(snapshot)
