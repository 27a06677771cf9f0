"""Neuro-symbolic learning (chapter 12), live: a network learns to read MNIST digits from sums alone, through a layer
that knows only the rule "sum = a + b"; beside it, the same sums learned without the rule.

Every number comes from below lab/ (lessons.mnist_addition, lessons.beyond_lab); training runs off the event loop,
its probe points drawn as they come, and stops when the tab closes.
"""

from nicegui import run, ui

from learnscope.lab.components.confusion import confusion_grid
from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.gallery import image_gallery
from learnscope.lab.components.lesson import TryThis, chapter_section, section
from learnscope.lab.components.work_row import Work, WorkRow, load_mnist
from learnscope.lab.layout import explain, page_frame
from learnscope.lab.state import LabState
from learnscope.lessons.beyond_lab import ADDITION_EXPERIMENTS, AdditionComparison, describe_digit_reading
from learnscope.lessons.course import chapter
from learnscope.lessons.mnist_addition import (
    ADDITION_RECIPES,
    addition_data,
    describe_addition,
    read_examples,
    sum_accuracy_reference,
    train_mnist_addition,
    train_neural_baseline,
    what_a_sum_says,
)
from learnscope.lessons.pictures import grayscale, png_data_uri
from learnscope.train import StopWhen

TICK_SECONDS = 0.25
DIGIT_CHOICES = {1: "one digit each (sums 0–18)", 2: "two digits each (sums 0–198)"}
SUM_CHOICES = {1000: "1,000 sums", 5000: "5,000 sums", 0: "all (30,000; 2 digits: 15,000)"}
MODEL_CHOICES = {"cnn": "CNN (convolutions)", "mlp": "MLP (fully connected)"}
#: probe points per run: enough for a smooth curve, few enough that probing costs little
PROBES_PER_RUN = 24
N_EXAMPLES_SHOWN = 8
REFERENCE = "sums if every digit were 99% right"


def register(state: LabState) -> None:
    @ui.page("/neurosymbolic")
    def neurosymbolic_page():
        with page_frame("Neuro-symbolic", "A network learns to read handwritten digits without ever seeing a digit "
                        "label: only the sums of pairs, and the rule of addition.", active="/neurosymbolic"):
            NeuroSymbolicPage(state)


class NeuroSymbolicPage:
    def __init__(self, state: LabState):
        self.state = state
        self.points: list = []              # (step, sums, digits), appended from the worker thread
        self.drawn_points = 0
        self.n_digits_drawn = 1
        self.result = self.baseline = None
        self.settings = None                # what the shown result was trained with
        self.setup_of_experiment = None
        self.try_this = TryThis(ADDITION_EXPERIMENTS, self._start_experiment, scroll_to="addition")
        with chapter_section(chapter(12)):
            with section("addition", "Digits learned from sums alone",
                         "Each training example is two MNIST images and one number: their sum. No image ever comes "
                         "with its digit. One network reads both images and says how likely each digit is; a symbolic "
                         "layer that knows only the rule sum = a + b turns that into the exact chance of every sum, "
                         "P(s) = Σ over a + b = s of p(a)·p(b), and the loss is −log P(the true sum)."):
                explain("What the rule adds: it is given, not learned, and it turns a weak label into a strong one. "
                        "Its gradient tells each image \"your digit is probably one of these\": a sum of 0 can only "
                        "be 0 + 0, a sum of 17 only 8 + 9 or 9 + 8. Without the rule, a network has to discover "
                        "addition itself from examples.")
                explain("What a sum alone tells each image, before the network knows anything: "
                        + "; ".join(what_a_sum_says(total) for total in (0, 1, 2, 9, 17, 18)) + ".") \
                    .props("data-what-sums-say")
                self._controls()
                self.try_this.banner()
                self._results()
            self.try_this.cards(12)
            with ui.row().classes("gap-4"):
                ui.link("← Transfer learning, the other half of chapter 12", "/transfer#chapter-12")
                ui.link("Back to the course", "/")
        ui.timer(TICK_SECONDS, self._tick)

    @property
    def closed(self) -> bool:
        return self.chart.is_deleted

    # ---- the controls ----
    def _controls(self) -> None:
        with ui.row().classes("items-end gap-3 flex-wrap"):
            self.digits_select = ui.select(DIGIT_CHOICES, value=1, label="numbers of").classes("w-64") \
                .props("dense outlined").mark("field-digits")
            self.sums_select = ui.select(SUM_CHOICES, value=0, label="training sums").classes("w-64") \
                .props("dense outlined").mark("field-sums")
            self.model_select = ui.select(MODEL_CHOICES, value="cnn", label="digit reader").classes("w-52") \
                .props("dense outlined").mark("field-model")
            self.epochs_input = ui.number("epochs", value=1, min=1, max=5, step=1, format="%d") \
                .props("dense outlined").classes("w-24").mark("field-epochs")
            self.seed_input = ui.number("seed", value=0, min=0, max=9999, step=1, format="%d") \
                .props("dense outlined").classes("w-24").mark("field-seed")
            self.even_start = ui.checkbox("start every digit at 1 chance in 10", value=True).mark("field-even") \
                .tooltip("The digit reader's last layer starts at zero. Off: random first guesses.")
        self.work = WorkRow([Work("Train from sums", "play_arrow", self._train,
                                  "Train the digit reader through the rule on the sums (CNN: about 10 s an epoch)."),
                             Work("Train without the rule", "block", self._train_baseline,
                                  "The same sums, learned by a CNN that sees both images and has one output per sum, "
                                  "without the rule.", primary=False)],
                            "addition", "How far training is")

    def _settings(self) -> dict | None:
        epochs, seed = self.epochs_input.value, self.seed_input.value
        if epochs is None or not 1 <= int(epochs) <= 5 or seed is None or not 0 <= int(seed) <= 9999:
            self.work.status = f"Expected 1 to 5 epochs and a seed from 0 to 9999, got {epochs} and {seed}."
            return None
        return {"digits": self.digits_select.value, "n_train": self.sums_select.value or None,
                "model": self.model_select.value, "epochs": int(epochs), "seed": int(seed),
                "even_start": bool(self.even_start.value)}

    def _results(self) -> None:
        with ui.row().classes("w-full gap-4 flex-wrap items-start"):
            with ui.column().classes("grow").style("min-width: 22rem; flex-basis: 34rem"):
                self.chart = LiveChart("Test accuracy while learning from sums", "step", "accuracy", height="260px",
                                       y_range=(0, 1))
                self.summary = explain("").props("data-addition-text")
            with ui.column().classes("gap-1"):
                ui.label("Digits: true ↓, read as →").classes("text-sm font-bold")
                self.confusion = ui.column().props("data-digit-confusion")
                self.reading = ui.label("").classes("text-sm max-w-md").props("data-digit-reading")
        ui.label("Test pairs as the network reads them").classes("text-sm font-bold")
        self.examples = ui.column().props("data-read-examples")
        self.cell_examples = ui.column()

    # ---- training ----
    async def _mnist(self):
        return await load_mnist(self.work, self.state.config)

    async def _train(self, settings: dict | None = None) -> None:
        settings = settings or self._settings()
        if settings is None:
            return
        mnist = await self._mnist()
        if mnist is None:
            return
        work = self.work
        data = await run.io_bound(addition_data, mnist, settings["digits"], settings["n_train"], None,
                                  settings["seed"])
        recipe = ADDITION_RECIPES[settings["digits"]].with_options(model=settings["model"], epochs=settings["epochs"],
                                                                   seed=settings["seed"])
        steps = recipe.epochs * -(-len(data.x_train) // recipe.batch_size)
        self.points, self.drawn_points, self.n_digits_drawn = [], -1, settings["digits"]
        self.result = self.baseline = None
        work.status = f"Learning to read digits from {len(data.x_train):,} sums…"

        def on_point(point):
            self.points = [*self.points, point]
            work.set_progress(point[0] / steps)

        result = await run.io_bound(train_mnist_addition, data, recipe, even_start=settings["even_start"],
                                    probe_every=max(1, steps // PROBES_PER_RUN), on_point=on_point,
                                    callbacks=[StopWhen(lambda: self.closed, "The tab closed.")])
        if result is None or self.closed:
            return
        self.result, self.data, self.settings = result, data, settings
        examples = await run.io_bound(read_examples, result.model, data.x_test, data.sums_test, N_EXAMPLES_SHOWN)
        if examples is None or self.closed:
            return
        self._show_result(examples)
        work.finish(f"Done: {result.seconds:.0f} s of training.")
        if self.try_this.active is not None and self.setup_of_experiment == settings:
            if "baseline" in self.try_this.active.setup:
                await self._train_baseline()
                return
            self.try_this.show(result, still_set_up=True)

    async def _train_baseline(self) -> None:
        work = self.work
        if self.result is None:
            work.status = "Train from sums first: the baseline learns the same examples, for comparison."
            return
        data, settings = self.data, self.settings
        recipe = ADDITION_RECIPES[data.n_digits].with_options(epochs=settings["epochs"], seed=settings["seed"])
        work.status = f"Learning the same {len(data.x_train):,} sums without the rule…"
        baseline = await run.io_bound(train_neural_baseline, data, recipe,
                                      callbacks=[StopWhen(lambda: self.closed, "The tab closed.")])
        if baseline is None or self.closed:
            return
        self.baseline = baseline
        self.drawn_points = -1                      # redraw: the baseline's line joins the chart
        self.summary.text = describe_addition(self.result, baseline)
        work.finish(f"Done: without the rule, {baseline.sum_accuracy:.1%} of the test sums.")
        if self.try_this.active is not None and "baseline" in self.try_this.active.setup:
            self.try_this.show(AdditionComparison(self.result, baseline), still_set_up=True)

    def _show_result(self, examples) -> None:
        result = self.result
        self.summary.text = describe_addition(result)
        confusion_grid(self.confusion, result.digit_confusion, [str(d) for d in range(10)], self._show_cell)
        self.reading.text = describe_digit_reading(result.digit_confusion)
        self.cell_examples.clear()
        self.examples.clear()
        with self.examples, ui.row().classes("gap-3 flex-wrap"):
            for example in examples:
                with ui.column().classes("items-center gap-0").props("data-read-example"):
                    ui.image(png_data_uri(example.picture, scale=2)).props("no-transition no-spinner") \
                        .style(f"width: {example.picture.shape[1] * 2}px; height: 56px; image-rendering: pixelated")
                    ui.label(example.caption()).classes("text-xs")

    def _show_cell(self, true_digit: int, read_as: int) -> None:
        if self.result.digit_confusion[true_digit, read_as] == 0:
            image_gallery(self.cell_examples, [], empty=f"No test image of {true_digit} was read as {read_as}.")
            return
        # the test digits' readings come with the result: picking them out is a mask, not a forward pass
        chosen = (self.data.test_labels == true_digit) & (self.result.digit_predictions == read_as)
        pictures = [(png_data_uri(grayscale(image[0], 0.0, 1.0), scale=2), f"{true_digit} read as {read_as}")
                    for image in self.data.test_images[chosen][:12]]
        image_gallery(self.cell_examples, pictures)

    # ---- "Try this" ----
    def _start_experiment(self, experiment) -> None:
        setup = {key: value for key, value in experiment.setup.items() if key != "baseline"}
        self.setup_of_experiment = setup
        self.digits_select.value = setup["digits"]
        self.sums_select.value = setup["n_train"] or 0
        self.model_select.value = setup["model"]
        self.epochs_input.value = setup["epochs"]
        self.seed_input.value = setup["seed"]
        self.even_start.value = setup["even_start"]
        self.work.start_in_background(lambda: self._train(setup))

    # ---- the page's clock ----
    def _tick(self) -> None:
        self.work.refresh()
        points = self.points
        if len(points) != self.drawn_points:
            self.drawn_points = len(points)
            steps = [point[0] for point in points]
            curves = {"sums (test)": (steps, [point[1] for point in points]),
                      "digits (test, never labelled)": (steps, [point[2] for point in points])}
            if steps and self.baseline is not None:
                curves["sums without the rule (end)"] = ([0, steps[-1]], [self.baseline.sum_accuracy] * 2)
            if steps:
                reference = sum_accuracy_reference(self.n_digits_drawn)
                curves[REFERENCE] = ([0, steps[-1]], [reference, reference])
            self.chart.show(curves, guides=(REFERENCE,))
