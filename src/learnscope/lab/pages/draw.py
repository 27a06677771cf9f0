"""Draw: a digit drawn with the mouse, read by a network trained on MNIST, every layer shown as it reads.

The page holds no maths: learnscope.lessons.drawing turns strokes into the 28×28 picture, reads it with the model
and turns layer outputs into pictures. The quick model trains in a background thread (lessons.drawing.QuickTraining,
one per lab, kept in state.jobs["draw"]) and is published with state.publish_model, so every tab uses it; each tab
polls on a 10 Hz timer for the job's progress, a newly published model and new strokes on its pad.
"""

import numpy as np
from nicegui import app, run, ui

from learnscope.lab.components.drawing_pad import DrawingPad
from learnscope.lab.components.lesson import TryThis, chapter_section
from learnscope.lab.layout import explain, page_frame, show_error
from learnscope.lab.state import LabState, TrainedModel
from learnscope.lessons.course import chapter
from learnscope.lessons.drawing import (
    DIGIT_CLASS_NAMES,
    QuickTraining,
    activation_pictures,
    check_digit_model,
    list_saved_models,
    load_digit_model,
    read_digit,
    strokes_to_digit,
)
from learnscope.lessons.experiments import DRAW_EXPERIMENTS
from learnscope.lessons.pictures import grayscale, png_data_uri

JOB = "draw"
LAB_MODEL = "lab"
FILE_PREFIX = "file:"
TICK_SECONDS = 0.1                  # predictions at most 10 times a second, however fast the pointer moves
FILES_EVERY_TICKS = 20              # look for new model files every 2 s
INPUT_SCALE = 5                     # the 28×28 picture shown 140×140, each pixel a crisp 5×5 square
PICTURE_SCALE = {1: 22}             # an output row of 10 scores: 22-pixel squares; hidden grids: see _scale
ORANGE, GRAY = "#f59322", "#94a3b8"

PURPOSE = ("Draw a digit and watch a network trained on MNIST read it: the 28×28 picture it gets, how sure it is "
           "of each digit, and what every layer does, live as you draw.")


def register(state: LabState) -> None:
    @ui.page("/draw")
    def draw_page():
        DrawPage(state)

    def stop_quick_training():
        job = state.jobs.get(JOB)
        if job is not None:
            job.stop(wait=True)

    app.on_shutdown(stop_quick_training)


class DrawPage:
    """One browser tab's Draw page: its pad, the model it reads with, and the pictures it shows."""

    def __init__(self, state: LabState):
        self.state = state
        self.model = None                   # the Sequential reading the drawing (never one being trained)
        self.lab_model_seen = None          # the TrainedModel last offered as the "lab" option
        self.read_version = -1              # pad version (and model) last read
        self.ticks = 0
        self.job_was_running = False
        self.reported_job = None            # the failed quick-training job whose error this tab has shown
        self.asked_for_quick_model = False  # this tab pressed 'Train a quick model' and waits for it
        self.layer_views = []               # (title label, picture, caption label) per shown layer
        self.try_this = TryThis(DRAW_EXPERIMENTS, self._start_experiment)
        with page_frame("Draw", PURPOSE, active="/draw"):
            with chapter_section(chapter(8)):
                self._model_panel()
                self.try_this.banner()
                with ui.row().classes("w-full gap-6 items-start no-wrap"):
                    self._pad_column()
                    self._input_column()
                    self._answer_column()
                self.try_this.cards(8)
            with chapter_section(chapter(11)):
                self.layers_hint = explain("Draw a digit to see each layer's outputs.")
                self.layers_row = ui.row().classes("w-full gap-4 items-start").mark("draw-layers")
                ui.link("Why did it say that? The pixels your digit's answer rests on →", "/inside?source=drawing") \
                    .props("data-why-link")
                self.try_this.cards(11)
        self._refresh_model_options(initial=True)
        ui.timer(TICK_SECONDS, self._tick)

    # -- building the page -----------------------------------------------------------------------------------------
    def _model_panel(self) -> None:
        with ui.card().classes("w-full gap-2 py-3"):
            with ui.row().classes("w-full items-center gap-4 no-wrap"):
                self.select = ui.select({}, label="Model that reads your drawing", on_change=self._on_select) \
                    .classes("w-[34rem] shrink-0").mark("draw-model")
                self.select.tooltip("Which trained network reads the drawing: the lab's latest model (from the MNIST "
                                    "page or the quick button) or a model file saved in the models folder.")
                self.train_button = ui.button("Train a quick model", icon="bolt", on_click=self._train) \
                    .classes("shrink-0").mark("draw-train")
                self.train_button.tooltip("Train a small network on the 60,000 MNIST digits right now (a few "
                                          "seconds), then use it here.")
                with ui.column().classes("gap-1 grow min-w-0"):
                    self.status = ui.label("").classes("text-sm").mark("draw-status")
                    self.progress = ui.linear_progress(value=0, show_value=False, size="8px").classes("w-64")
                    self.progress.tooltip("How far the quick model's training has got.")
                    self.progress.set_visibility(False)
            self.messages = ui.column().classes("w-full gap-1").mark("draw-messages")
            explain(f"Models arrive here when training ends on the MNIST page, from the quick button, or as "
                    f".safetensors files saved in {self.state.config.models_path()} (e.g. by "
                    "'learnscope train mnist -o <that folder>/my-model.safetensors').")

    def _pad_column(self) -> None:
        with ui.column().classes("gap-2 shrink-0"):
            ui.label("Your drawing").classes("font-bold")
            self.pad = DrawingPad()
            with ui.row().classes("gap-2"):
                ui.button("Clear", icon="delete", on_click=self.pad.clear).props("outline").mark("draw-clear") \
                    .tooltip("Wipe the pad and start a new digit.")
                ui.button("Undo stroke", icon="undo", on_click=self.pad.undo).props("outline").mark("draw-undo") \
                    .tooltip("Remove the last line you drew.")
            explain("Hold the mouse button down to draw one digit, big and centred.").classes("w-[280px]")

    def _input_column(self) -> None:
        with ui.column().classes("gap-2 shrink-0 w-44"):
            ui.label("What the network gets").classes("font-bold")
            self.input_picture = ui.interactive_image(png_data_uri(np.zeros((28, 28), np.uint8), INPUT_SCALE)) \
                .style(f"width: {28 * INPUT_SCALE}px; image-rendering: pixelated").classes("border border-slate-400") \
                .mark("draw-input")
            explain("Your drawing as MNIST digits are stored: cropped, shrunk to fit 20×20, centred by its weight "
                    "in a 28×28 square, white ink on black.")

    def _answer_column(self) -> None:
        with ui.column().classes("gap-1 grow min-w-0"):
            self.verdict = ui.label("Draw a digit").classes("text-3xl font-bold").mark("draw-verdict")
            self.runner_up = ui.label("").classes("text-sm text-slate-600")
            self.chart = ui.echart(_bar_options()).style("height: 250px; width: 100%").mark("draw-chart")
            explain("The network's probability for each digit 0–9 (the softmax of its output scores); the orange "
                    "bar is its answer.")

    # -- the model ------------------------------------------------------------------------------------------------
    def _refresh_model_options(self, initial: bool = False) -> None:
        trained = self.state.trained_model
        options = {}
        if trained is not None:
            options[LAB_MODEL] = f"Latest: {trained.name}"
        for path in list_saved_models(self.state.config.models_path()):
            options[FILE_PREFIX + path.name] = f"Saved file: {path.name}"
        current = self.select.value
        new_lab_model = trained is not None and trained is not self.lab_model_seen
        self.lab_model_seen = trained
        if options != self.select.options:
            self.select.set_options(options, value=current if current in options else None)
        # a model just trained takes over: the quick model this tab asked for always, any other (from the MNIST
        # page) unless the learner picked a file
        if new_lab_model and (current in (None, LAB_MODEL) or self.asked_for_quick_model):
            self.asked_for_quick_model = False
            if current == LAB_MODEL:
                self._use(LAB_MODEL)
            else:
                self.select.set_value(LAB_MODEL)
        elif initial and self.select.value is None and len(options) > 0:
            self.select.set_value(next(iter(options)))
        if self.select.value is None and self.model is None:
            self.status.set_text("No model yet: click 'Train a quick model', train one on the MNIST page, "
                                 "or save one into the models folder.")

    async def _on_select(self, event) -> None:
        key = event.value
        if key is None:
            return
        loaded = None
        if key != LAB_MODEL:                            # a model file: read and checked off the event loop
            try:
                loaded = await run.io_bound(load_digit_model, self.state.config.models_path() / key[len(FILE_PREFIX):])
            except (ValueError, TypeError, OSError) as err:
                if self.select.value == key:
                    self._refuse(err)
                return
            if self.select.value != key:                # chosen again while this one loaded: the newer choice wins
                return
        self._use(key, loaded)

    def _use(self, key: str, loaded=None) -> None:
        """Use the lab's latest model (checked that it reads 28×28 digits) or a model file `loaded` by
        load_digit_model; any problem is shown inline."""
        try:
            if key == LAB_MODEL:
                trained = self.state.trained_model
                if trained is None:
                    raise ValueError("The lab has no trained model yet. Click 'Train a quick model'.")
                check_digit_model(trained.model, f"The lab's latest model ({trained.name})", trained.class_names)
                model, name = trained.model, trained.name
            else:
                (model, metadata), name = loaded, key[len(FILE_PREFIX):]
                accuracy = metadata.get("test_accuracy")
                if isinstance(accuracy, (int, float)):
                    name += f" ({accuracy:.1%} test accuracy)"
        except (ValueError, TypeError, OSError) as err:
            self._refuse(err)
            return
        self.model = model
        self._clear_error()
        self.status.set_text(f"Reading with: {name}")
        self._build_layer_views()
        self.read_version = -1                          # read the drawing again with the new model

    def _refuse(self, error) -> None:
        self.model = None
        self._show_error(f"{error}")
        self.status.set_text("No model in use: the chosen one cannot read digits (see the message below).")
        self._build_layer_views()
        self.read_version = -1

    def _train(self) -> None:
        job = self.state.jobs.get(JOB)
        if job is not None and job.running:
            return
        config = self.state.config

        def publish(result):
            self.state.publish_model(TrainedModel(
                model=result.model, class_names=list(DIGIT_CLASS_NAMES), test_accuracy=result.test_accuracy,
                name=f"quick MLP, Draw page ({result.test_accuracy:.1%} test accuracy)"))

        job = QuickTraining(data_dir=config.data_dir, download=config.allow_download, on_done=publish)
        self.state.jobs[JOB] = job
        job.start()
        self.job_was_running = True
        self.asked_for_quick_model = True               # when it is done, it reads the drawing, whatever was chosen
        self._clear_error()

    # -- the 10 Hz poll -------------------------------------------------------------------------------------------
    def _tick(self) -> None:
        self.ticks += 1
        self._show_job()
        if self.state.trained_model is not self.lab_model_seen or self.ticks % FILES_EVERY_TICKS == 0:
            self._refresh_model_options()
        if self.pad.version != self.read_version:
            self.read_version = self.pad.version
            self._read()

    def _show_job(self) -> None:
        job = self.state.jobs.get(JOB)
        running = job is not None and job.running
        self.train_button.set_enabled(not running)
        self.progress.set_visibility(running)
        if running:
            self.progress.set_value(job.progress)
            self.status.set_text(f"Training a quick model on MNIST: {job.progress:.0%}")
        elif self.job_was_running and job is not None and job.status == "done":
            # it just ended; if the new model takes over, _use() replaces this text in the same tick
            self.status.set_text(f"Quick model trained ({job.result.test_accuracy:.1%} test accuracy): "
                                 "it is 'Latest' in the model list.")
        if job is not None and job.status == "failed" and self.reported_job is not job:    # once per job
            self.reported_job = job
            self.status.set_text("No quick model: see the message below.")
            self._show_error(f"The quick model could not be trained: {job.error}")
        self.job_was_running = running

    def _read(self) -> None:
        """Read the pad with the model (called from the timer, so at most 10 times a second)."""
        picture = strokes_to_digit(self.pad.strokes)
        self.input_picture.set_source(png_data_uri(grayscale(picture, 0.0, 1.0), INPUT_SCALE))
        if self.pad.is_empty or self.model is None:
            self.verdict.set_text("Draw a digit" if self.model is not None else "No model to read with yet")
            self.runner_up.set_text("")
            self._set_bars(None)
            self.layers_row.set_visibility(False)
            self.layers_hint.set_text("Draw a digit to see each layer's outputs." if self.model is not None else
                                      "Choose or train a model to see its layers.")
            self.try_this.show(None, still_set_up=True)
            return
        self.state.drawn_digit = picture                 # 'One step' can step the network on it
        reading = read_digit(self.model, picture)
        order = np.argsort(reading.probabilities)[::-1]
        best, second = int(order[0]), int(order[1])
        self.verdict.set_text(f"It reads: {best}  ({reading.probabilities[best]:.0%} sure)")
        self.runner_up.set_text(f"Next most likely: {second} ({reading.probabilities[second]:.0%})")
        self._set_bars(reading.probabilities)
        self.try_this.show(reading, still_set_up=True)
        self.layers_row.set_visibility(True)
        self.layers_hint.set_text("Each layer's outputs for your drawing, from the first hidden layer to the output; "
                                  "they change as you draw.")
        for (title, picture_view, caption), shown in zip(self.layer_views, activation_pictures(self.model, reading)):
            title.set_text(shown.title)
            picture_view.set_source(png_data_uri(shown.pixels, _scale(shown.pixels)))
            caption.set_text(shown.caption)

    def _start_experiment(self, experiment) -> None:
        """Every drawing experiment starts from an empty pad; the learner draws, the outcome follows the reading."""
        self.pad.clear()

    def _set_bars(self, probabilities) -> None:
        values = np.zeros(10) if probabilities is None else np.asarray(probabilities, dtype=np.float64)
        best = int(np.argmax(values)) if probabilities is not None else -1
        self.chart.options["series"][0]["data"] = [
            {"value": round(float(value) * 100, 1), "itemStyle": {"color": ORANGE if digit == best else GRAY},
             "label": {"show": digit == best}}
            for digit, value in enumerate(values)]
        self.chart.update()

    def _build_layer_views(self) -> None:
        """One card per shown layer; the layers depend on the model, the pictures on the drawing."""
        self.layers_row.clear()
        self.layer_views = []
        if self.model is None:
            return
        blank = read_digit(self.model, np.zeros((28, 28), np.float32))
        with self.layers_row:
            for shown in activation_pictures(self.model, blank):
                with ui.card().classes("gap-1 p-3"):
                    title = ui.label(shown.title).classes("text-sm font-bold")
                    height, width = shown.pixels.shape[:2]
                    scale = _scale(shown.pixels)
                    picture = ui.interactive_image(png_data_uri(shown.pixels, scale)) \
                        .style(f"width: {width * scale}px; image-rendering: pixelated")
                    if height == 1 and width == len(DIGIT_CLASS_NAMES):      # the output row: label its squares
                        with ui.row().classes("gap-0 no-wrap"):
                            for name in DIGIT_CLASS_NAMES:
                                ui.label(name).classes("text-xs text-center").style(f"width: {scale}px")
                    caption = explain(shown.caption).style(f"max-width: {max(width * scale, 220)}px")
                self.layer_views.append((title, picture, caption))

    # -- messages -------------------------------------------------------------------------------------------------
    def _show_error(self, message: str) -> None:
        show_error(self.messages, message)

    def _clear_error(self) -> None:
        self.messages.clear()


def _scale(pixels) -> int:
    """Pixels per cell: big enough to see, small enough that a layer's picture stays under ~260 px."""
    height, width = pixels.shape[:2]
    return PICTURE_SCALE.get(height, max(2, min(16, 260 // max(width, height))))


def _bar_options() -> dict:
    return {
        "animation": False,
        "title": {"text": "Probability of each digit", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 12, "top": 60, "bottom": 36},      # room for a 100% bar's label under the title
        "xAxis": {"type": "category", "data": list(DIGIT_CLASS_NAMES), "name": "digit", "nameLocation": "middle",
                  "nameGap": 24, "axisLabel": {"fontSize": 13}},
        "yAxis": {"type": "value", "min": 0, "max": 100, "name": "%", "axisLabel": {"fontSize": 11}},
        "series": [{"type": "bar", "barWidth": "60%", "label": {"position": "top", "formatter": "{c}%"},
                    "data": [{"value": 0, "itemStyle": {"color": GRAY}, "label": {"show": False}}
                             for _ in DIGIT_CLASS_NAMES]}],
    }
