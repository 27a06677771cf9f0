"""MNIST: train an MLP or a CNN on real handwriting and watch it learn, live.

One training per lab server (state.jobs["mnist"]): every tab shows the same run. The job trains in its own
process and publishes snapshots; this page polls them 10 times a second and redraws only what changed.
"""

from nicegui import app, run, ui

from learnscope.architectures import ACTIVATION_LABELS, ACTIVATIONS
from learnscope.lab.components.confusion import confusion_grid
from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.gallery import image_gallery
from learnscope.lab.components.lesson import FindingsPanel, TryThis, chapter_section
from learnscope.lab.components.live_progress import LiveProgress
from learnscope.lab.layout import explain, page_frame, show_error
from learnscope.lab.state import LabState, TrainedModel
from learnscope.lessons.course import chapter
from learnscope.lessons.experiments import MNIST_EXPERIMENTS
from learnscope.lessons.live_training import TrainingJob
from learnscope.lessons.mnist_lab import (
    IMAGE_DATASET_LABELS,
    cell_examples,
    confident_mistakes,
    continue_settings,
    default_form,
    describe_recorded_run,
    example_pictures,
    field_error,
    form_from,
    mnist_status,
    parse_form,
    past_runs,
    run_curves,
    run_progress,
)
from learnscope.optim import OPTIMIZER_LABELS, OPTIMIZERS
from learnscope.recipes import Recipe

JOB = "mnist"
POLL_SECONDS = 0.1           # 10 Hz: a new snapshot (2 Hz) shows within 100 ms
GALLERY_SIZE = 40
#: The update ratio a healthy layer shows per step (Karpathy's rule of thumb), drawn as a guide line
HEALTHY_UPDATE_RATIO = 1e-3
HEALTHY_LABEL = "healthy ≈ 1e-3"

#: a finding's fix (train/diagnostics.py) -> the form field it sets
FIX_FIELDS = {"lr": "lr", "activation": "activation", "l2": "weight_decay"}


def _field_text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


TEXT_FIELDS = {              # field -> (label, tooltip)
    "hidden": ("Hidden layers", "Neurons in each hidden layer of the MLP, separated by commas: '256, 256' is two "
                                "layers of 256. Ignored by the CNN."),
    "lr": ("Learning rate", "How big each step downhill is. Too big and training blows up; too small and it crawls."),
    "batch_size": ("Batch size", "How many images each step looks at before the weights change."),
    "epochs": ("Epochs", "How many times training goes through all the training images."),
    "weight_decay": ("L2 weight decay", "Pulls every weight a little toward zero at each step (0 = off); "
                                        "fights overfitting."),
    "dropout": ("Dropout", "Fraction of hidden neurons switched off at random while training (0 = off)."),
    "seed": ("Seed", "Decides the random starting weights and the order of the images: same seed, same run."),
    "samples": ("Training images", "Train on only this many images for a quicker run; leave empty for all of them."),
}
SELECTS = {                  # field -> (label, options, tooltip)
    "dataset": ("Data", IMAGE_DATASET_LABELS, "What to learn: MNIST's handwritten digits, Fashion-MNIST's pictures "
                                              "of clothes (same size, harder), or the small 8×8 digits that need no "
                                              "download."),
    "model": ("Network", {"mlp": "MLP (fully connected)", "cnn": "CNN (convolutions)"},
              "MLP: every pixel connects to every neuron. CNN: small filters slide over the image."),
    "activation": ("Activation", {name: ACTIVATION_LABELS[name] for name in ACTIVATIONS},
                   "The bend each hidden neuron applies to its input; ReLU is the usual choice."),
    "optimizer": ("Optimizer", {name: OPTIMIZER_LABELS[name] for name in OPTIMIZERS},
                  "The rule that turns gradients into weight changes (SGD, with momentum, Adam, ...)."),
}


def register(state: LabState) -> None:
    @ui.page("/mnist")
    def mnist_page():
        with page_frame("MNIST: learning to read handwriting",
                        "Train a network on real handwritten digits and watch its loss, accuracy, gradients and "
                        "first-layer weights change while it learns.", active="/mnist"), chapter_section(chapter(8)):
            MnistPage(state)

    app.on_shutdown(lambda: _stop_job(state))


def _stop_job(state: LabState) -> None:
    job = state.jobs.get(JOB)
    if job is not None:
        job.stop(wait=True, timeout=10)


def _weight_label(index: int, count: int) -> str:
    return f"layer {index + 1}{' (output)' if index == count - 1 else ''}"


class MnistPage:
    """One tab's view of the lab's MNIST training."""

    def __init__(self, state: LabState):
        self.state = state
        config = state.config
        self.data = mnist_status(config.data_dir, config.allow_download)
        dataset = "mnist" if self.data.mnist_ready or config.allow_download else "digits"
        self.job: TrainingJob | None = None
        self.version = self.curves_version = self.picture_version = None
        self.shown_result = None
        job = state.jobs.get(JOB)                       # after a reload, the form shows the run the page shows
        settings = job.settings if job is not None and job.settings.resume_run is None else None
        self._build(default_form(dataset) if settings is None else form_from(settings.dataset, settings.recipe,
                                                                               settings.samples))
        self.refresh_runs()
        self.poll()                 # a run under way is in the page's first HTML, not one connection + tick later
        self.timer = ui.timer(POLL_SECONDS, self.poll)

    # -- layout ------------------------------------------------------------------------------------------------
    def _build(self, form: dict) -> None:
        if not self.data.mnist_ready:
            with ui.card().classes("w-full bg-amber-50").mark("data-missing"):
                ui.label(self.data.message).classes("text-sm").props('role="status"')
                ui.button("Use the 8×8 digits", on_click=lambda: self.fill_form(default_form("digits"))) \
                    .props("outline").tooltip("Switch the form to the small digits set that ships with scikit-learn.")
        else:
            explain(self.data.message)
        with ui.card().classes("w-full"):
            self.fields: dict = {}
            with ui.row().classes("w-full gap-3 items-start flex-wrap"):
                for name, (label, options, tip) in SELECTS.items():
                    width = "w-60" if name == "optimizer" else "w-44"      # "SGD + Nesterov momentum" in full
                    select = ui.select(options, value=form[name], label=label).classes(width).mark(name)
                    select.tooltip(tip)
                    self.fields[name] = select
                self.fields["dataset"].on_value_change(lambda e: self.fill_form(default_form(e.value)))
                for name, (label, tip) in TEXT_FIELDS.items():
                    # validated on every change: a wrong value is marked red with its message at once
                    field = ui.input(label, value=form[name], validation=lambda value, n=name: field_error(n, value))
                    field.classes("w-36").mark(name).tooltip(tip)
                    self.fields[name] = field
                switch = ui.switch("Batch norm", value=form["batch_norm"]).mark("batch_norm")
                switch.tooltip("Re-centre and re-scale each hidden layer's inputs on every batch: trains faster.")
                self.fields["batch_norm"] = switch
            with ui.row().classes("items-center gap-2"):
                self.start_button = ui.button("Start", on_click=self.start, icon="play_arrow").mark("start")
                self.start_button.tooltip("Train a new network with these settings (one run at a time).")
                self.pause_button = ui.button("Pause", on_click=self.pause, icon="pause").mark("pause")
                self.pause_button.tooltip("Hold training after the current step; nothing is lost.")
                self.resume_button = ui.button("Resume", on_click=self.resume, icon="play_arrow").mark("resume")
                self.resume_button.tooltip("Carry on training from where it was paused.")
                self.stop_button = ui.button("Stop", on_click=self.stop, icon="stop", color="negative").mark("stop")
                self.stop_button.tooltip("End training now; the network is still tested and kept.")
                self.save_button = ui.button("Save model", on_click=self.save, icon="save").mark("save")
                self.save_button.tooltip("Save the trained network to a .safetensors file in the lab's models "
                                         "folder.")
            self.form_errors = ui.column().classes("gap-1")
        with ui.card().classes("w-full gap-1"):
            self.status_label = ui.label("No training yet: press Start.").mark("status")
            self.status_label.classes("run-status text-base font-bold")
            self.progress = LiveProgress().mark("progress")
            self.message_label = ui.label("").classes("run-message text-sm").mark("message")
            self.saved_label = ui.label("").classes("run-saved text-sm text-green-800").mark("saved")
        self.findings = FindingsPanel(self._apply_fix, self._can_apply)
        self.try_this = TryThis(MNIST_EXPERIMENTS, self._start_experiment)
        self.try_this.banner()
        self.experiment_job = None                      # the run the active experiment started
        with ui.grid(columns=2).classes("w-full gap-3"):
            with ui.column().classes("gap-0"):
                self.loss_chart = LiveChart("Loss", "epochs", "cross-entropy")
                explain("How wrong the network is: each training batch (noisy) and the whole test set "
                        "(4 times per epoch). Lower is better.")
            with ui.column().classes("gap-0"):
                self.accuracy_chart = LiveChart("Accuracy", "epochs", "fraction correct")
                explain("Share of images classified correctly, on each training batch and on the 10,000 test images "
                        "the network never trains on.")
            with ui.column().classes("gap-0"):
                self.gradient_chart = LiveChart("Gradient flow", "epochs", "gradient RMS per weight", log_y=True)
                explain("How strong the learning signal reaching each layer's weights is (root-mean-square "
                        "gradient per weight, log scale). Layers far below the others barely learn.")
            with ui.column().classes("gap-0"):
                self.ratio_chart = LiveChart("Update ratio", "epochs", "|ΔW| / |W| per step", log_y=True)
                explain("How much each step changes each layer's weights, relative to their size (log scale). "
                        "Around 1e-3 (dashed) is healthy; far above it is reckless, far below is stalled.")
        with ui.card().classes("w-full gap-1"):
            ui.label("First-layer weights").classes("font-bold")
            self.weights_image = ui.element("img").props('alt="first-layer weights"').style(
                "width: 100%; max-width: 700px; image-rendering: pixelated").mark("weights")
            self.weights_image.set_visibility(False)     # no picture yet: no broken-image icon
            self.weights_caption = explain("What the first layer looks for, redrawn every few seconds: orange weights "
                                           "add up ink there, blue ones subtract it.")
        with ui.grid(columns=2).classes("w-full gap-3"):
            with ui.card().classes("gap-1"):
                ui.label("Confusion matrix (test set)").classes("font-bold")
                explain("Rows: the digit that was written; columns: what the network said. The diagonal is correct. "
                        "Click a cell to see those images.")
                self.confusion = ui.column().classes("confusion").mark("confusion")
                with self.confusion:
                    ui.label("Appears when training ends.").classes("text-sm text-slate-500")
            with ui.card().classes("gap-1"):
                self.cell_title = ui.label("Images of a cell").classes("font-bold")
                explain("The test images in the confusion-matrix cell you clicked, with the network's confidence.")
                self.cell_gallery = ui.column().classes("cell-gallery").mark("cell-gallery")
        with ui.card().classes("w-full gap-1"):
            ui.label("Most confident mistakes").classes("font-bold")
            explain("Test images the network got wrong while being surest of itself: true digit → what it said "
                    "(its confidence). Some are genuinely ambiguous handwriting.")
            self.mistakes = ui.column().classes("mistakes-gallery").mark("mistakes")
        with ui.card().classes("w-full gap-1"):
            ui.label("Past runs").classes("font-bold")
            with ui.row().classes("items-center gap-2"):
                self.runs_select = ui.select({}, label="Recorded run", on_change=self.show_run) \
                    .classes("w-[36rem]").mark("past-runs")
                self.runs_select.tooltip("Runs recorded in the run store, newest first: pick one to see its curves.")
                refresh = ui.button("Refresh", on_click=self.refresh_runs, icon="refresh").props("flat")
                refresh.tooltip("Read the run store again.")
                self.use_settings = ui.button("Use its settings", on_click=self.use_run_settings).props("flat")
                self.use_settings.tooltip("Copy the chosen run's settings into the form above.")
                self.continue_button = ui.button("Continue training", on_click=self.continue_run, icon="play_arrow") \
                    .props("flat").mark("continue")
                self.continue_button.tooltip("Go on with a stopped or interrupted run from the end of its last "
                                             "finished epoch, with its own settings.")
            self.run_note = ui.label("").classes("text-sm text-gray-700 run-note")
            self.past_chart = LiveChart("A recorded run", "step", "loss / accuracy")
            explain("The chosen run's training loss and accuracy per recorded step, and its test numbers, read back "
                    "from the run store.")
        self.try_this.cards(8)
        self.continue_button.set_enabled(False)
        self.update_buttons(None)

    # -- the form ----------------------------------------------------------------------------------------------
    def form_values(self) -> dict:
        return {name: field.value for name, field in self.fields.items()}

    def fill_form(self, form: dict) -> None:
        for name, field in self.fields.items():
            if name in form and field.value != form[name]:
                field.value = form[name]
        for name in TEXT_FIELDS:
            self.fields[name].error = None
        self.form_errors.clear()

    def _fixed_form(self, fix: dict) -> dict | None:
        """The form with a finding's fix filled in, or None if the form has no field for it."""
        if not set(fix) <= set(FIX_FIELDS):
            return None
        return {**self.form_values(), **{FIX_FIELDS[key]: _field_text(value) for key, value in fix.items()}}

    def _start_experiment(self, experiment) -> None:
        """The default form with the experiment's fields, then Start (which refuses while another run trains)."""
        self.fill_form({**default_form(), **experiment.setup})
        self.start()
        job = self.state.jobs.get(JOB)
        self.experiment_job = job if job is not None and job.running else None

    def _still_set_up(self, job) -> bool:
        return job is not None and job is self.experiment_job

    def _can_apply(self, fix: dict) -> bool:
        form = self._fixed_form(fix)
        return form is not None and not parse_form(form)[1]

    def _apply_fix(self, fix: dict) -> None:
        """Fill the fix into the form; the learner starts the next run (an MNIST run takes a while)."""
        self.fill_form(self._fixed_form(fix))
        ui.notify("Filled in: press Start to train with it.")

    # -- buttons -----------------------------------------------------------------------------------------------
    def start(self) -> None:
        job = self.state.jobs.get(JOB)
        if job is not None and job.running:
            show_error(self.form_errors, "A run is already training (maybe from another tab): stop it first.")
            return
        settings, errors = parse_form(self.form_values())
        for name in TEXT_FIELDS:
            self.fields[name].error = errors.get(name)
        if errors:
            show_error(self.form_errors, "Fix the fields marked in red, then press Start again: "
                       + " ".join(errors.values()))
            return
        self.form_errors.clear()
        self._launch(settings)

    def continue_run(self) -> None:
        job = self.state.jobs.get(JOB)
        recorded = self.runs.get(self.runs_select.value)
        if recorded is None:
            return
        if job is not None and job.running:
            show_error(self.form_errors, "A run is already training (maybe from another tab): stop it first.")
            return
        try:
            settings = continue_settings(recorded)
        except ValueError as error:
            show_error(self.form_errors, str(error))
            return
        self.form_errors.clear()
        self._launch(settings)

    def _launch(self, settings) -> None:
        config = self.state.config

        def publish(model, name, class_names, accuracy):
            self.state.publish_model(TrainedModel(model, name, class_names, accuracy))

        job = TrainingJob(settings, config.store_path(), data_dir=config.data_dir,
                          download=config.allow_download, on_model=publish)
        self.state.jobs[JOB] = job
        job.start()
        self.poll()

    def pause(self) -> None:
        if self.job is not None:
            self.job.pause()

    def resume(self) -> None:
        if self.job is not None:
            self.job.resume()

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()

    async def save(self) -> None:
        job = self.job
        if job is None:
            return
        folder = self.state.config.models_path()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{job.settings.dataset}-{job.settings.recipe.model}-run{job.run_id}.safetensors"
            path = await run.io_bound(job.save, folder / name)            # megabytes to disk: off the event loop
        except (RuntimeError, OSError) as error:
            self.saved_label.classes(replace="run-saved text-sm text-red-700")
            self.saved_label.text = str(error)
            return
        self.saved_label.classes(replace="run-saved text-sm text-green-800")
        self.saved_label.text = f"Saved to {path}"

    def update_buttons(self, snapshot: dict | None) -> None:
        status = None if snapshot is None else snapshot["status"]
        running = self.job is not None and self.job.running
        self.start_button.set_enabled(not running)
        self.pause_button.set_enabled(running and status == "running")
        self.resume_button.set_enabled(running and status == "paused")
        self.stop_button.set_enabled(running and status in ("loading", "running", "paused"))
        self.save_button.set_enabled(not running and self.job is not None and self.job.result is not None)

    # -- the live view -----------------------------------------------------------------------------------------
    def poll(self) -> None:
        job = self.state.jobs.get(JOB)
        if job is not self.job:                          # a new run (maybe started in another tab)
            self.job, self.version = job, None
            self.curves_version = self.picture_version = self.shown_result = None
            self.saved_label.text = ""
            self.findings.show(())                      # the last run's findings are not this one's
            self._clear_results()
        if job is None:
            return
        snapshot = job.board.latest(self.version)
        if snapshot is None:
            if self.shown_result is not job and not job.running:
                self.show_end(job)
            return
        self.version = snapshot["version"]
        self.show_progress(snapshot)
        if snapshot.get("curves_version") is not None and snapshot["curves_version"] != self.curves_version:
            self.curves_version = snapshot["curves_version"]
            self.show_curves(snapshot["curves"])
            numbers = snapshot.get("numbers")
            if numbers is not None:
                self.findings.show(numbers.findings)
                self.try_this.show(numbers, still_set_up=self._still_set_up(job))
        if snapshot.get("picture_version") and snapshot["picture_version"] != self.picture_version:
            self.picture_version = snapshot["picture_version"]
            self.weights_image.props(f'src="{snapshot["picture"]}"')
            self.weights_image.set_visibility(True)
            self.weights_caption.text = (f"What the first layer looks for, redrawn every few seconds: "
                                         f"{snapshot['picture_caption']}. Orange weights add up ink there, blue ones "
                                         "subtract it (each picture scaled to its own largest weight).")
        # an ended run's result is drawn by a later poll (show_end), after this snapshot has reached the browser
        self.update_buttons(snapshot)

    def show_progress(self, snapshot: dict) -> None:
        # the labels change a few times per run; the progress line with every snapshot (drawn in place, see
        # LiveProgress): a changed label makes the browser re-render the whole page
        progress = run_progress(snapshot)
        self.status_label.text = progress.headline
        self.message_label.text = snapshot.get("message", "")
        alarming = snapshot["status"] in ("diverged", "failed")
        self.message_label.classes(replace="run-message text-sm" + (" text-red-700" if alarming else ""))
        self.progress.show(progress.live)

    def show_curves(self, curves: dict) -> None:
        train, test = curves.get("train", {}), curves.get("test", {})
        self.loss_chart.show({label: series for label, series in (("train batch", train.get("loss")),
                                                                  ("test set", test.get("loss"))) if series})
        self.accuracy_chart.show({label: series for label, series in (("train batch", train.get("accuracy")),
                                                                      ("test set", test.get("accuracy"))) if series})
        gradients = curves.get("grad_rms", {})
        count = len(gradients)
        self.gradient_chart.show({_weight_label(index, count): series
                                  for index, series in enumerate(gradients.values())})
        ratios = {_weight_label(index, count): series
                  for index, series in enumerate(curves.get("update_ratio", {}).values())}
        if ratios:
            xs = [x for series in ratios.values() for x in series[0]]
            ratios[HEALTHY_LABEL] = ([min(xs), max(xs)], [HEALTHY_UPDATE_RATIO, HEALTHY_UPDATE_RATIO])
        self.ratio_chart.show(ratios, guides=(HEALTHY_LABEL,))

    def _clear_results(self) -> None:
        """A new run: the last run's matrix, galleries and weights picture go, so nothing shown belongs to another
        run than the one training."""
        self.confusion.clear()
        with self.confusion:
            ui.label("Appears when training ends.").classes("text-sm text-slate-500")
        self.cell_title.text = "Images of a cell"
        image_gallery(self.cell_gallery, [], empty="Click a cell of the confusion matrix once training ends.")
        image_gallery(self.mistakes, [], empty="Appear when training ends.")
        self.weights_image.set_visibility(False)

    def show_end(self, job: TrainingJob) -> None:
        """Once a run has ended and everything has arrived: its result, the run store's list, the buttons."""
        self.shown_result = job
        if job.result is not None:
            self.show_result(job)
        last = job.board.latest()
        if last["status"] != "failed":
            self.refresh_runs()
        self.update_buttons(last)

    def show_result(self, job: TrainingJob) -> None:
        result = job.result
        confusion_grid(self.confusion, result.confusion, result.class_names, self.show_cell)
        mistakes = confident_mistakes(result.labels, result.predicted, result.confidence, limit=GALLERY_SIZE)
        image_gallery(self.mistakes, self._pictures(result, mistakes), empty="No mistakes on the test set.",
                      links=_step_links(mistakes), link_hint=STEP_HINT)
        image_gallery(self.cell_gallery, [], empty="Click a cell of the confusion matrix.")

    def _pictures(self, result, indices) -> list[tuple[str, str]]:
        names = result.class_names
        captions = [f"{names[result.labels[i]]} → {names[result.predicted[i]]} ({result.confidence[i]:.0%})"
                    for i in indices]
        return list(zip(example_pictures(result.images, indices), captions))

    def show_cell(self, true_class: int, predicted_class: int) -> None:
        result = self.shown_result.result if self.shown_result is not None else None
        if result is None:
            return
        indices = cell_examples(result.labels, result.predicted, true_class, predicted_class)
        names = result.class_names
        shown = indices[:GALLERY_SIZE]
        more = f", the first {len(shown)} shown" if len(indices) > len(shown) else ""
        self.cell_title.text = (f"Written {names[true_class]}, read as {names[predicted_class]}: "
                                f"{len(indices)} test images{more}")
        image_gallery(self.cell_gallery, self._pictures(result, shown), empty="No test image landed in this cell.",
                      links=_step_links(shown), link_hint=STEP_HINT)

    # -- past runs ---------------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        try:
            self.runs = {recorded["id"]: recorded for recorded in past_runs(self.state.config.store_path())}
        except (ValueError, OSError) as error:
            self.runs = {}
            self.runs_select.tooltip(f"The run store could not be read: {error}")
        options = {run_id: recorded["label"] for run_id, recorded in self.runs.items()}
        if options != self.runs_select.options:
            self.runs_select.set_options(options, value=self.runs_select.value if self.runs_select.value in options
                                         else None)

    async def show_run(self, event) -> None:
        recorded = self.runs.get(event.value)
        self.continue_button.set_enabled(bool(recorded and recorded.get("can_continue")))
        self.use_settings.set_enabled(not recorded or recorded.get("has_recipe", True))
        self.run_note.set_text(describe_recorded_run(recorded))
        if event.value is None:
            return
        curves = await run.io_bound(run_curves, self.state.config.store_path(), event.value)   # SQLite: off the loop
        self.past_chart.show({label: (steps.tolist(), values.tolist()) for label, (steps, values) in curves.items()
                              if "epoch end" not in label})

    def use_run_settings(self) -> None:
        recorded = self.runs.get(self.runs_select.value)
        if recorded is None:
            return
        dataset = recorded["dataset"] if recorded.get("dataset") in IMAGE_DATASET_LABELS else "mnist"
        config = recorded["config"]
        try:
            recipe = Recipe.from_config(config)
        except (ValueError, TypeError) as error:        # a run recorded by another version, say
            show_error(self.form_errors, f"Run {recorded['id']}'s settings cannot be used here: {error}")
            return
        self.fill_form(form_from(dataset, recipe, config.get("samples")))


STEP_HINT = "Open this test image in 'One step': one training step on it, every number shown."


def _step_links(indices) -> list[str]:
    return [f"/step?source=mnist&digit={int(index)}" for index in indices]
