"""Inside the network (chapter 11): which pixels a prediction rests on. For a test digit, a mistake or the digit
drawn on the Draw page, four attribution methods side by side (saliency, gradient × input, integrated gradients
with its completeness check, occlusion), for the model's answer or any other class ("why not a 7?"), and the
sanity check of Adebayo et al. (2018): the same map for the model with its weights re-drawn, layer by layer.

Every map and sentence comes from learnscope.explain, every outcome from lessons.inside_lab; the maps are computed
off the event loop. The model is the lab's latest digit model, else the newest saved model file, else a quick MLP
or CNN trained here (and published to the lab, so Draw and One step use it too).
"""

import copy
import threading
from dataclasses import dataclass

import numpy as np
from nicegui import run, ui

from learnscope.data.sources import DatasetUnavailable
from learnscope.explain.attributions import (
    describe_integrated_gradients,
    describe_prediction,
    gradient_times_input,
    integrated_gradients,
    occlusion_map,
    saliency_map,
)
from learnscope.explain.sanity import (
    cascading_randomization,
    compare_maps,
    describe_sanity,
    trained_on_shuffled_labels,
)
from learnscope.lab.components.lesson import TryThis, chapter_section
from learnscope.lab.components.work_row import Work, WorkRow, load_mnist
from learnscope.lab.layout import explain, page_frame
from learnscope.lab.pages.inside_features import FeaturesPanel
from learnscope.lab.state import LabState, TrainedModel, trained_model_from_file
from learnscope.lessons.course import chapter
from learnscope.lessons.drawing import DIGIT_CLASS_NAMES, newest_digit_model, softmax, train_quick_digit_model
from learnscope.lessons.inside_lab import INSIDE_EXPERIMENTS, SecondChoice, StepsComparison
from learnscope.lessons.pictures import attribution_overlay, grayscale, png_data_uri

TICK_SECONDS = 0.25
SCALE = 5                                   # a 28×28 map drawn 140×140
SANITY_SCALE = 3
BASELINES = {"black": "black", "blur": "blurred digit", "noise": "noise"}
STEPS = (2, 8, 64, 256)
WINDOWS = (2, 4, 8)
SANITY_METHODS = ("saliency", "gradient × input", "integrated gradients", "occlusion")
#: each map's sanity check (the signed gradient is checked with saliency, whose signed correlation it is)
SANITY_OF_MAP = {"saliency": "saliency", "gradient": "saliency", "gradient × input": "gradient × input",
                 "integrated gradients": "integrated gradients", "occlusion": "occlusion"}
#: the data randomization test: the same network trained this long on this many images with shuffled labels
SHUFFLED_IMAGES, SHUFFLED_EPOCHS = 5000, 3
#: each map: (title, what it shows, whether its sign means something)
MAP_TITLES = {
    "saliency": ("Saliency |∂F/∂x|", "how much each pixel moves the score, whichever way", False),
    "gradient": ("Gradient ∂F/∂x", "orange: brighter here raises the score; blue: lowers it", True),
    "gradient × input": ("Gradient × input", "the gradient where there is ink (0 on blank pixels)", True),
    "integrated gradients": ("Integrated gradients", "each pixel's share of F(x) − F(baseline)", True),
    "occlusion": ("Occlusion", "how much the score drops when a patch here is blanked", True),
}


def register(state: LabState) -> None:
    @ui.page("/inside")
    def inside_page(source: str = "test", digit: int = 0):
        with page_frame("Inside the network", "Which pixels a prediction rests on, four ways, and a check of "
                        "whether each map shows the model or only the digit.", active="/inside"):
            InsidePage(state, source, digit)


@dataclass(frozen=True)
class Explained:
    """Everything one (model, input, class) gave: the probabilities, the class explained and every map."""

    probabilities: np.ndarray
    target: int
    maps: dict
    integrated: object
    baseline: str


def explain_input(model, x, target, baseline: str, n_steps: int, window: int) -> Explained:
    """All the maps for one input and class (run off the event loop)."""
    probabilities = softmax(model.predict(x[None])[0])
    target = int(np.argmax(probabilities)) if target is None else int(target)
    integrated = integrated_gradients(model, x, target, baseline=baseline, n_steps=n_steps)
    signed = saliency_map(model, x, target, signed=True)
    maps = {"saliency": np.abs(signed), "gradient": signed, "gradient × input": gradient_times_input(model, x, target),
            "integrated gradients": integrated.values,
            "occlusion": occlusion_map(model, x, target, window=window, stride=max(1, window // 2))}
    return Explained(probabilities, target, maps, integrated, baseline)


def map_picture(digit: np.ndarray, values: np.ndarray, signed: bool, scale: int = SCALE) -> str:
    return png_data_uri(attribution_overlay(digit[0], values[0], signed=signed), scale=scale)


class InsidePage:
    def __init__(self, state: LabState, source: str, digit: int):
        self.state = state
        self.trained: TrainedModel | None = state.trained_model
        # NOTE: a model caches each forward pass for its backward, so two threads must never run one model at once;
        # this page works on its own copy (the lab's model is also read by other tabs), one computation at a time
        self.model = None
        self.model_lock = threading.Lock()
        self.data = None
        self.predictions = None                 # (model, predicted class of each test image), for "A mistake"
        self.source = "drawing" if source == "drawing" and state.drawn_digit is not None else "test"
        self.index = max(0, int(digit))
        self.target = None                      # None: the model's answer
        self.explained: Explained | None = None
        self.files_checked = False
        self.try_this = TryThis(INSIDE_EXPERIMENTS, self._start_experiment)
        with chapter_section(chapter(11)):
            self._model_row()
            self._input_row()
            self.try_this.banner()
            self.maps_row = ui.row().classes("w-full gap-3 items-start flex-wrap").props("data-maps")
            self.prediction_text = ui.label("").classes("text-base font-bold").props('data-prediction '
                                                                                      'aria-live="polite"')
            self.ig_text = explain("").props("data-ig-text")
            self._sanity_panel()
            self.try_this.cards(11)
            self.features = FeaturesPanel(lambda: self.model, lambda: self.data, self._input, self.compute)
            ui.link("← Draw a digit, then come back with 'Your drawing'", "/draw")
        self._show_model()
        ui.timer(TICK_SECONDS, self._tick)
        ui.timer(0.05, self._first_look, once=True)

    @property
    def closed(self) -> bool:
        return self.maps_row.is_deleted

    async def compute(self, function, *args):
        """function(*args) off the event loop, alone with the page's model."""
        def locked():
            with self.model_lock:
                return function(*args)
        return await run.io_bound(locked)

    # ---- the model ----
    def _model_row(self) -> None:
        with ui.row().classes("w-full items-center gap-3"):
            self.model_label = ui.label("").classes("text-sm font-bold").props("data-model")
            self.model_work = WorkRow([
                Work("Train a quick MLP", "bolt", lambda: self._quick("mlp"), "Two hidden layers, 2 epochs on the "
                     "60,000 digits: a few seconds.", primary=False),
                Work("Train a quick CNN", "bolt", lambda: self._quick("cnn"), "Two convolution layers, one epoch: "
                     "about ten seconds.", primary=False)], "inside-model", "How far the quick model is")

    def _show_model(self) -> None:
        trained = self.trained
        self.model_label.text = (f"Model: {trained.name}" if trained is not None else
                                 "No digit model yet: train a quick one, or one on the MNIST page.")

    async def _quick(self, kind: str) -> None:
        work = self.model_work
        work.status = f"Training a quick {kind.upper()}…"
        config = self.state.config
        try:
            quick = await run.io_bound(train_quick_digit_model, config.data_dir, 0, config.allow_download,
                                       work.set_progress, lambda: self.closed, kind)
        except (DatasetUnavailable, ValueError, OSError) as error:
            work.status = f"The quick model could not be trained: {error}"
            return
        if quick is None or self.closed:                # the tab closed while it trained
            return
        trained = TrainedModel(quick.model, f"quick {kind.upper()} trained here ({quick.test_accuracy:.1%} test "
                                            "accuracy)", list(DIGIT_CLASS_NAMES), quick.test_accuracy)
        self.state.publish_model(trained)
        await self._use_model(trained)
        work.finish(f"Done in {quick.seconds:.0f} s.")

    async def _use_model(self, trained: TrainedModel) -> None:
        self.trained, self.predictions = trained, None
        self.model = await self.compute(copy.deepcopy, trained.model)
        self._show_model()
        await self.features.use_model(self.model)
        await self._explain()

    async def _first_look(self) -> None:
        """The newest saved model when the lab has none, and MNIST's test images, then the first maps."""
        if self.trained is None and not self.files_checked:
            found = await run.io_bound(newest_digit_model, self.state.config.models_path())
            self.files_checked = True
            self.trained = trained_model_from_file(found)
        if self.trained is not None:
            await self._use_model(self.trained)

    # ---- the input ----
    def _input_row(self) -> None:
        with ui.row().classes("w-full items-end gap-3 flex-wrap"):
            options = {"test": "A test digit", "drawing": "Your drawing"}
            self.source_toggle = ui.toggle(options, value=self.source, on_change=self._change_source) \
                .props("no-caps data-source")
            self.digit_input = ui.number("Test image", value=self.index, min=0, max=9999, step=1, format="%d") \
                .classes("w-28").props("data-digit")
            ui.button("Use it", on_click=self._use_digit).props("outline no-caps")
            ui.button("A mistake", icon="error_outline", on_click=self._next_mistake).props("outline no-caps") \
                .tooltip("The next test image the model gets wrong.")
            self.class_select = ui.select({None: "its answer", **{k: str(k) for k in range(10)}}, value=None,
                                          label="Explain the class", on_change=self._change_target) \
                .classes("w-36").props("data-class")
            self.class_select.tooltip("Why this class? Pick another to ask 'why not a 7?': blue pixels count "
                                      "against it.")
            self.baseline_select = ui.select(BASELINES, value="black", label="IG baseline",
                                             on_change=self._refresh).classes("w-36")
            self.steps_select = ui.select({n: f"{n} steps" for n in STEPS}, value=64, label="IG steps",
                                          on_change=self._refresh).classes("w-28").props("data-steps")
            self.window_select = ui.select({w: f"{w}×{w}" for w in WINDOWS}, value=4, label="Occlusion patch",
                                           on_change=self._refresh).classes("w-32")
        self.input_note = explain("")

    def _input(self):
        """(the model's input (1, 28, 28), what it is in words), or None with the reason in the note."""
        if self.source == "drawing":
            if self.state.drawn_digit is None:
                self.input_note.text = "Nothing drawn yet: draw a digit on the Draw page first."
                return None
            return np.asarray(self.state.drawn_digit, dtype=np.float32)[None], "your drawing"
        if self.data is None:
            return None
        self.index = min(self.index, len(self.data.x_test) - 1)
        return self.data.x_test[self.index], (f"test image {self.index}, a written "
                                              f"{self.data.class_names[self.data.y_test[self.index]]}")

    async def _change_source(self, event) -> None:
        self.source = event.value
        await self._explain()

    async def _use_digit(self) -> None:
        value = self.digit_input.value
        if value is None or not float(value).is_integer() or not 0 <= value <= 9999:
            self.input_note.text = f"Test image expected a whole number from 0 to 9999, got {value!r}."
            return
        self.index, self.source = int(value), "test"
        self.source_toggle.value = "test"
        await self._explain()

    async def _next_mistake(self) -> None:
        if self.trained is None or self.data is None:
            return
        model = self.model
        if self.predictions is None or self.predictions[0] is not model:
            predicted = await self.compute(lambda: model.predict(self.data.x_test).argmax(axis=1))
            self.predictions = (model, predicted)
        wrong = np.flatnonzero(self.predictions[1] != self.data.y_test)
        later = wrong[wrong > self.index]
        if len(wrong):
            self.digit_input.value = int((later if len(later) else wrong)[0])
            await self._use_digit()

    async def _change_target(self, event) -> None:
        self.target = event.value
        await self._explain()

    async def _refresh(self, *_) -> None:
        await self._explain()

    # ---- the maps ----
    async def _explain(self) -> Explained | None:
        if self.model is None:
            return None
        if self.data is None and self.source == "test":
            self.data = await load_mnist(self.model_work, self.state.config)
            if self.data is not None:
                self.model_work.status = ""
        found = self._input()
        if found is None or self.closed:
            return None
        x, what = found
        self.input_note.text = f"Explaining {what}."
        explained = await self.compute(explain_input, self.model, x, self.target, self.baseline_select.value,
                                       self.steps_select.value, self.window_select.value)
        if self.closed:
            return None
        self.explained = explained
        self._show_maps(x, explained)
        await self.features.show_features()            # the layers' pictures are this input's
        return explained

    def _show_maps(self, x: np.ndarray, explained: Explained) -> None:
        probabilities, target = explained.probabilities, explained.target
        self.maps_row.clear()
        with self.maps_row:
            with ui.column().classes("gap-1 w-40"):
                ui.image(png_data_uri(grayscale(x[0], 0, 1), scale=SCALE)).classes("w-[140px] border") \
                    .props('no-transition no-spinner data-map="input"')
                ui.label("The input").classes("text-sm font-bold")
            for name, values in explained.maps.items():
                title, caption, signed = MAP_TITLES[name]
                with ui.column().classes("gap-1 w-40"):
                    ui.image(map_picture(x, values, signed)).classes("w-[140px] border") \
                        .props(f'no-transition no-spinner data-map="{name}"')
                    ui.label(title).classes("text-sm font-bold")
                    ui.label(caption).classes("text-xs text-slate-600")
                    ui.button("Sanity check", icon="fact_check", on_click=lambda _, n=name: self._check(n)) \
                        .props(f'flat dense no-caps size=sm data-check="{name}"').classes("self-start") \
                        .tooltip("Re-draw the weights layer by layer and see whether this map changes.")
        self.prediction_text.text = describe_prediction(probabilities, target)
        self.ig_text.text = describe_integrated_gradients(explained.integrated, str(target),
                                                          BASELINES[explained.baseline])

    # ---- the sanity check ----
    def _sanity_panel(self) -> None:
        ui.label("Sanity check: does the map show the model, or only the digit?").classes("text-lg font-bold mt-2")
        explain("Adebayo et al. (2018) re-drew a trained model's weights at random, top layer first, and compared "
                "each map with the trained model's. A map that barely changes would look the same for a model that "
                "learned nothing. The numbers are rank correlations: 1 ranks the pixels alike, 0 not at all.")
        with ui.row().classes("items-center gap-3"):
            self.sanity_select = ui.select({m: m for m in SANITY_METHODS}, value="saliency", label="Map") \
                .classes("w-48").props("data-sanity-method")
            self.sanity_work = WorkRow([
                Work("Re-draw the weights, top layer first", "casino", self._sanity,
                     "Re-draw each layer's weights in turn and recompute the map."),
                Work("Train it on shuffled labels", "shuffle", self._shuffled,
                     f"Train the same network, from fresh weights, on {SHUFFLED_IMAGES:,} digits with their labels "
                     "shuffled (it can learn nothing real), and compare its map.", primary=False)],
                "sanity", "How far the sanity check is")
        self.sanity_row = ui.row().classes("w-full gap-2 items-start flex-wrap").props("data-sanity")
        self.sanity_text = ui.label("").classes("text-sm").props('data-sanity-text aria-live="polite"')

    def _check(self, map_name: str) -> None:
        """A map's own sanity check button: the check below, for that map (the signed gradient's is saliency's)."""
        self.sanity_select.value = SANITY_OF_MAP[map_name]
        if self.sanity_work.start_in_background(self._sanity):
            ui.run_javascript("document.querySelector('[data-sanity]').scrollIntoView({behavior: 'smooth'})")

    async def _sanity(self):
        if self.model is None or self.explained is None:
            self.sanity_work.status = "Pick a model and an input first."
            return None
        found = self._input()
        if found is None:
            return None
        x, _ = found
        method, target = self.sanity_select.value, self.explained.target
        self.sanity_work.status = "Re-drawing the weights…"
        original, steps = await self.compute(cascading_randomization, self.model, x, target, method)
        if self.closed:
            return None
        self._show_sanity(x, method, original, [(step.layers.split(" (")[0] + " re-drawn", step) for step in steps])
        self.sanity_text.text = describe_sanity(method, steps)
        self.sanity_work.finish("")
        return steps

    async def _shuffled(self) -> None:
        if self.model is None or self.explained is None:
            self.sanity_work.status = "Pick a model and an input first."
            return
        if self.data is None:
            self.data = await load_mnist(self.sanity_work, self.state.config)
        found = self._input()
        if self.data is None or found is None:
            return
        x, model, data = found[0], self.model, self.data
        method, target = self.sanity_select.value, self.explained.target
        self.sanity_work.status = "Training the same network on shuffled labels…"

        def compare():
            noise = trained_on_shuffled_labels(model, data.x_train[:SHUFFLED_IMAGES], data.y_train[:SHUFFLED_IMAGES],
                                               epochs=SHUFFLED_EPOCHS)
            return compare_maps(model, noise, x, target, method, "trained on shuffled labels")

        original, step = await self.compute(compare)
        if self.closed:
            return
        self._show_sanity(x, method, original, [("trained on shuffled labels", step)])
        self.sanity_text.text = describe_sanity(method, [step], what="Trained on shuffled labels")
        self.sanity_work.finish("")

    def _show_sanity(self, x, method: str, original, compared) -> None:
        """The trained model's map, then each compared model's with its rank correlations."""
        signed = method != "saliency"
        self.sanity_row.clear()
        with self.sanity_row:
            shown = [("trained", original, "")] + [
                (title, step.map, f"ρ {step.correlation:.2f} · signed {step.signed_correlation:.2f} · ink "
                 f"{step.ink_correlation:.2f}") for title, step in compared]
            for title, values, note in shown:
                with ui.column().classes("gap-0 w-32"):
                    ui.image(map_picture(x, values if signed else np.abs(values), signed, SANITY_SCALE)) \
                        .classes("w-[84px] border").props("no-transition no-spinner")
                    ui.label(title).classes("text-xs font-bold")
                    ui.label(note).classes("text-xs text-slate-600")

    # ---- Try this ----
    def _start_experiment(self, experiment) -> None:
        self.sanity_work.start_in_background(lambda: self._experiment(experiment))

    async def _experiment(self, experiment) -> None:
        setup = experiment.setup
        numbers = None
        if "method" in setup:
            self.sanity_select.value = setup["method"]
            numbers = await self._sanity()
        elif "steps" in setup:
            found = self._input()
            if self.model is not None and self.explained is not None and found is not None:
                x, target, model = found[0], self.explained.target, self.model
                coarse, fine = await self.compute(lambda: [integrated_gradients(model, x, target, n_steps=n)
                                                           for n in (setup["steps"], 64)])
                self.steps_select.value = setup["steps"]      # its handler redraws the maps with 2 steps
                numbers = StepsComparison(coarse, fine)
        elif self.explained is not None and self.model is not None:
            ranked = np.argsort(-self.explained.probabilities)
            answer, runner = int(ranked[0]), int(ranked[1])
            x, model = self._input()[0], self.model
            maps = await self.compute(lambda: [integrated_gradients(model, x, k) for k in (answer, runner)])
            self.class_select.value = runner                   # its handler redraws the maps for the runner-up
            numbers = SecondChoice(answer, runner, self.explained.probabilities, *maps, x)
        if numbers is None:
            self.sanity_work.status = "Pick a model and an input first."
            return
        if not self.closed:
            self.try_this.show(numbers, still_set_up=True)

    def _tick(self) -> None:
        self.model_work.refresh()
        self.sanity_work.refresh()
        latest = self.state.trained_model
        if latest is not None and latest is not self.trained and not self.model_work.busy:
            self.trained = latest                       # trained in another tab or on the MNIST page
            ui.timer(0.01, lambda: self._use_model(latest), once=True)
