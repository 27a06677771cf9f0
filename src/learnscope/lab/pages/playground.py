"""Playground: train a small network on 2-D points and watch the boundary, every neuron and every weight.

The page holds no maths: a PlaygroundWorker thread (learnscope.lessons.playground_worker) owns the session and
publishes snapshots; this page sends it commands and draws the latest snapshot when its version changes.
"""

import inspect
import tempfile
import time
import weakref
from pathlib import Path
from urllib.parse import quote

import numpy as np
from fastapi import Request
from nicegui import Client, run, ui

from learnscope.architectures import ACTIVATION_LABELS
from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.lesson import FindingsPanel, TryThis, chapter_section
from learnscope.lab.components.network_diagram import NetworkDiagram
from learnscope.lab.layout import explain, page_frame
from learnscope.lab.state import LabState
from learnscope.lessons.course import chapters_on
from learnscope.lessons.experiments import PLAYGROUND_EXPERIMENTS, Experiment
from learnscope.lessons.playground import (
    ACTIVATION_CHOICES,
    CONTROL_LABELS,
    DATASET_CHOICES,
    FEATURE_HELP,
    FEATURE_LABELS,
    MAX_CLASSES,
    MAX_HIDDEN_LAYERS,
    MAX_NEURONS,
    MULTI_CLASS_SETS,
    OPTIMIZER_CHOICES,
    PlaygroundSetup,
    PlaygroundWorker,
    format_hidden,
    parse_field,
    pixel_to_plane,
    plane_to_pixel,
    point_colors,
    read_points_csv,
)
from learnscope.optim import OPTIMIZER_LABELS

BOUNDARY_RESOLUTION = 60
PLANE_PIXELS = BOUNDARY_RESOLUTION      # the boundary picture's natural size: its SVG overlay and clicks use it
POINT_RADIUS = 0.75                     # in those pixels (the picture is shown 5× larger)
DIAGRAM_INTERVAL = 0.2                                   # seconds between diagram redraws while training

DATASET_LABELS = {
    "xor": "XOR (four corners)", "circles": "Circles (ring in a ring)", "gaussians": "Gaussian blobs",
    "spiral": "Spiral arms", "moons": "Two moons", "plane": "Regression: tilted plane", "sine": "Regression: bumps",
}
LOSS_LABELS = {"cross-entropy": "cross-entropy", "mse": "mean squared error"}

#: what the output picture shows, for classes (False) and for regression (True)
PLANE_CAPTIONS = {
    False: "The network's answer at every spot of the plane (colour = class it picks, paler = less sure); dots with "
           "a white rim are training points, with a black rim test points.",
    True: "The network's output at every spot of the plane (orange above 0, blue below, paler near 0); each dot is "
          "coloured by its target value, white rim for training points, black rim for test points.",
}

#: text field (a PlaygroundSetup attribute) -> (label, tooltip)
TEXT_FIELDS = {
    "lr": ("Learning rate", "How big a step each weight takes downhill per batch. Too big: the loss jumps around "
                            "or explodes; too small: learning crawls."),
    "batch_size": ("Batch size", "How many training points are averaged for one update: 1 is stochastic, 'full' "
                                 "uses every point at once."),
    "l2": ("L2", "Pulls every weight towards zero a little each step, so the network prefers simple boundaries "
                 "(0 = off)."),
    "dropout": ("Dropout", "While training, switch off this share of hidden neurons at random each step (0 = off), "
                           "so no neuron can rely on one partner."),
    "stop_after": ("Stop after (epochs)", "Pause by itself after this many epochs (0 = never)."),
    "noise": ("Noise", "How much the points are jittered away from the clean shape (0 to 1)."),
    "train_fraction": ("Training share", "The share of points the network learns from (0.1 to 0.9); the rest are "
                                         "test points it never trains on."),
}


class PlaygroundPage:
    """One browser tab's playground: controls, a worker thread, and the pictures drawn from its snapshots."""

    def __init__(self, state: LabState, request: Request, client: Client):
        self.state, self.client = state, client
        self.base_url = str(request.base_url).rstrip("/")
        self.setup, link_error = self._setup_from(request.url.query)
        self.worker = PlaygroundWorker(self.setup, boundary_resolution=BOUNDARY_RESOLUTION)
        self.job_key = f"playground:{client.id}"
        state.jobs[self.job_key] = self.worker         # the lab's shutdown and the tests stop it
        client.on_delete(_weakly(self._stop_worker))   # a deleted client that lingers must not hold the page
        self.shown_version = self.shown_data = 0
        self.last_diagram = 0.0
        self.controls: dict[str, ui.element] = {}      # control key -> the element teacher mode hides
        self.fields: dict[str, ui.input] = {}
        self.experiment_setup: PlaygroundSetup | None = None
        self._syncing = False
        self._build()
        if link_error:
            self.show_message(link_error)
        self._sync_controls()
        ui.timer(0.07, self._poll)

    @staticmethod
    def _setup_from(query: str) -> tuple[PlaygroundSetup, str]:
        if not query:
            return PlaygroundSetup(), ""
        try:
            return PlaygroundSetup.from_query(query), ""
        except ValueError as err:
            return PlaygroundSetup(), f"{err} The playground opened with its default settings instead."

    def _stop_worker(self) -> None:
        self.worker.stop(wait=False)
        self.state.jobs.pop(self.job_key, None)
        self.worker = None                             # the tab is gone: nothing of it stays reachable from here

    # ---- layout ----
    def _build(self) -> None:
        # one line: no empty file list, and no "0.0B / 0.00%" progress line before anything is uploaded
        ui.add_css(".playground-upload .q-uploader__list, .playground-upload .q-uploader__subtitle "
                   "{ display: none; }")
        self.try_this = TryThis(PLAYGROUND_EXPERIMENTS, self._start_experiment)
        first, *later = chapters_on("/playground")
        with chapter_section(first):
            self._interactive()
            self.try_this.cards(first.number)
        for section in later:
            with chapter_section(section):
                self.try_this.cards(section.number)

    def _interactive(self) -> None:
        with ui.row().classes("w-full items-center gap-2 flex-wrap"):
            self.play_button = ui.button("Play", icon="play_arrow", on_click=self._toggle_play) \
                .props("no-caps").classes("w-28").tooltip("Start or pause training.").mark("play")
            ui.button("Step", icon="skip_next", on_click=lambda: self.worker.send("step")).props("no-caps outline") \
                .tooltip("Train on one batch of points, then stop: watch a single update.")
            ui.button("Reset", icon="restart_alt", on_click=lambda: self.worker.send("reset")) \
                .props("no-caps outline").tooltip("Start over with fresh random weights (same data).")
            # a fixed width that holds "epoch 1,000,000 · step 30,000,000": growing counts never shift the controls
            self.epoch_label = ui.label("epoch 0").classes("text-sm font-mono w-72 whitespace-nowrap") \
                .tooltip("Epochs: full passes over the training points. Steps: weight updates.")
            for key in ("lr", "batch_size", "l2", "dropout"):
                self._text_field(key, "w-28")
            self._text_field("stop_after", "w-36")
            self._select("activation", "Activation", {k: ACTIVATION_LABELS[k] for k in ACTIVATION_CHOICES}, "w-32",
                         "The bend each hidden neuron applies to its sum of inputs.")
            self._select("loss", "Loss", LOSS_LABELS, "w-44",
                         "How wrongness is measured: cross-entropy for classes, mean squared error for numbers.")
            self._select("optimizer", "Optimizer", {k: OPTIMIZER_LABELS[k] for k in OPTIMIZER_CHOICES}, "w-40",
                         "The rule that turns gradients into weight changes.")
            self.bn_switch = ui.switch("Batch norm", on_change=lambda e: self._apply(batch_norm=bool(e.value))) \
                .tooltip("Normalise each hidden layer's sums over the batch before the activation.")
            self.controls["batch_norm"] = self.bn_switch
        self.message = ui.label("").classes("text-red-700 text-sm").props('role="alert"')
        self.status = ui.label("").classes("text-sm text-amber-800")
        self.try_this.banner()
        self.findings = FindingsPanel(self._apply_fix, self._can_apply)
        with ui.row().classes("w-full gap-4 no-wrap items-start"):
            with ui.column().classes("w-60 gap-2 shrink-0"):
                self._data_column()
            with ui.column().classes("grow gap-1 min-w-0"):
                self._network_column()
            with ui.column().classes("w-80 gap-1 shrink-0"):
                self._output_column()
        self._share_and_teacher()

    def _text_field(self, key: str, width: str) -> ui.input:
        label, tip = TEXT_FIELDS[key]
        field = ui.input(label).props("dense outlined").classes(width).tooltip(tip).mark(f"field-{key}")
        field.on("keydown.enter", lambda _, key=key: self._field_changed(key))
        field.on("blur", lambda _, key=key: self._field_changed(key))
        self.fields[key] = field
        self.controls[key] = field
        return field

    def _select(self, key: str, label: str, options: dict, width: str, tip: str) -> ui.select:
        select = ui.select(options, label=label, on_change=lambda e, key=key: self._apply(**{key: e.value})) \
            .props("dense outlined").classes(width).tooltip(tip)
        self.controls[key] = select
        return select

    def _data_column(self) -> None:
        ui.label("Data").classes("text-lg font-bold")
        self.dataset_select = ui.select({name: DATASET_LABELS[name] for name in DATASET_CHOICES}, label="Data set",
                                        on_change=lambda e: self._dataset_changed(e.value)) \
            .props("dense outlined").classes("w-full").tooltip("Which points the network must learn to tell apart.")
        self.controls["dataset"] = self.dataset_select
        self.classes_select = ui.select({k: f"{k} classes" for k in range(2, MAX_CLASSES + 1)}, label="Classes",
                                        on_change=lambda e: self._apply(n_classes=e.value)) \
            .props("dense outlined").classes("w-full") \
            .tooltip("How many kinds of points (only the spiral and the Gaussian blobs can have more than 2).")
        self.controls["classes"] = self.classes_select
        with ui.row().classes("w-full gap-2 no-wrap"):
            self._text_field("noise", "w-1/2")
            self._text_field("train_fraction", "w-1/2")
        self.regenerate = ui.button("Regenerate", icon="shuffle", on_click=self._regenerate) \
            .props("no-caps outline dense").classes("w-full") \
            .tooltip("Draw a new random set of points of the same kind (a new seed).")
        self.controls["regenerate"] = self.regenerate
        with ui.column().classes("w-full gap-0") as add_points:
            ui.label("Clicking the picture adds a training point of:").classes("text-sm")
            self.add_class = ui.toggle({0: "0", 1: "1"}, value=0).props("dense no-caps") \
                .tooltip("The class (or, for regression, the value) a click on the output picture adds.")
        self.controls["add_points"] = add_points
        with ui.column().classes("w-full gap-0") as upload_box:
            # NOTE: weakly: NiceGUI's upload route, held in FastAPI's cache of routes, outlives the tab, and a
            # strong handler would keep this page (its worker, data and network) alive with it
            self.upload = ui.upload(label="Your own CSV", auto_upload=True, on_upload=_weakly(self._uploaded),
                                    on_rejected=_weakly(self._rejected),
                                    max_file_size=self.state.config.upload_limit_bytes) \
                .props('accept=".csv,text/csv,text/plain" flat bordered').classes("w-full playground-upload") \
                .tooltip("A CSV file with two number columns (x1, x2) and a label column last; "
                         f"at most {self.state.config.upload_limit_bytes // 1024} kB.")
            explain("Two number columns and a label, e.g. 'x1,x2,label'. Your points are not part of the link.")
        self.controls["upload"] = upload_box
        ui.label("Input features").classes("text-lg font-bold mt-2")
        with ui.column().classes("gap-0") as features:
            self.feature_boxes = {
                name: ui.checkbox(label, on_change=self._features_changed).props("dense")
                .tooltip(f"Feed the network {label}: {FEATURE_HELP[name]}.")
                for name, label in FEATURE_LABELS.items()
            }
        self.controls["features"] = features
        explain("What the first layer sees of each point; extra features can make a straight line enough.")

    def _network_column(self) -> None:
        with ui.column().classes("w-full gap-1") as layers_box:
            with ui.row().classes("w-full items-center gap-2"):
                ui.label("Hidden layers").classes("text-lg font-bold")
                ui.button("+ layer", on_click=self._add_layer).props("dense no-caps outline") \
                    .tooltip(f"Add a hidden layer (up to {MAX_HIDDEN_LAYERS}).")
                ui.button("− layer", on_click=self._remove_layer).props("dense no-caps outline") \
                    .tooltip("Remove the last hidden layer.")
                self.hidden_input = ui.input("neurons per layer").props("dense outlined").classes("w-48") \
                    .mark("field-hidden") \
                    .tooltip(f"Neurons in each hidden layer, separated by commas, e.g. 4, 2 (1 to {MAX_NEURONS} "
                             "each; 'none' for no hidden layer). Press Enter to apply.")
                self.hidden_input.on("keydown.enter", lambda: self._field_changed("hidden"))
                self.hidden_input.on("blur", lambda: self._field_changed("hidden"))
                self.fields["hidden"] = self.hidden_input
            self.layer_buttons = ui.row().classes("w-full gap-2 items-center")
        self.controls["layers"] = layers_box
        self.diagram = NetworkDiagram(self._edit_weight)
        explain("The network: inputs on the left, outputs on the right. Lines are weights (orange positive, blue "
                "negative, thicker = larger); each box's colour is its bias, and the picture inside a hidden neuron "
                "is its output over the whole plane.")

    def _output_column(self) -> None:
        ui.label("Output").classes("text-lg font-bold")
        self.plane = ui.interactive_image(size=(PLANE_PIXELS, PLANE_PIXELS), content="", events=["click"],
                                          on_mouse=self._plane_clicked, cross="#334155", sanitize=False) \
            .classes("w-80 h-80 border rounded")
        self.plane.tooltip("Click to add a point of the chosen class.")
        self.plane_caption = explain("")
        self.scores = ui.label("").classes("text-sm font-mono whitespace-pre-wrap")
        self.loss_chart = LiveChart("Loss", "epoch", "", height="170px")
        explain("Loss on the training points and on the test points: lower is better; a gap means overfitting.")
        self.accuracy_chart = LiveChart("Accuracy", "epoch", "", height="170px", y_range=(0, 1))
        self.accuracy_note = explain("Share of points the network classifies correctly.")

    def _share_and_teacher(self) -> None:
        with ui.row().classes("w-full items-center gap-2 no-wrap"):
            self.share = ui.input("Share link").props("dense outlined readonly").classes("grow") \
                .tooltip("This address opens the playground with exactly these settings (your own points excluded).")
            self.share.mark("share-link")
            ui.button("Copy", icon="content_copy", on_click=self._copy_link).props("dense no-caps outline") \
                .tooltip("Copy the share link to the clipboard.")
            self.step_link = ui.link("Step through one point →", "/step").classes("whitespace-nowrap").mark("step-link")
            self.step_link.tooltip("Open this network (with its starting weights) in 'One step' and follow one point "
                                   "through a training step.")
        with ui.expansion("Teacher mode: hide controls", icon="school").classes("w-full") \
                .tooltip("Choose controls to hide; the share link hides them for your students too."):
            explain("Ticked controls disappear from this page and from anyone's page opened with the share link.")
            with ui.row().classes("gap-x-4 gap-y-0 flex-wrap"):
                self.hide_boxes = {
                    key: ui.checkbox(label, on_change=self._hidden_changed).props("dense")
                    .tooltip(f"Hide '{label}'.")
                    for key, label in CONTROL_LABELS.items()
                }

    # ---- controls -> setup ----
    def _apply(self, **changes) -> bool:
        """Try a changed setup: a problem shows inline and nothing changes; else the worker gets it."""
        if self._syncing:
            return False
        new = self.setup.replace(**changes)
        problems = new.problems()
        if problems:
            self.show_message(" ".join(problems.values()))
            self._mark_fields(problems)
            return False
        self.show_message("")
        self._mark_fields({})
        if new != self.setup:
            self.setup = new
            self.worker.send("setup", new)
        self._sync_controls()              # also puts back the canonical text, e.g. '4,2' -> '4, 2'
        return True

    def _field_changed(self, key: str) -> None:
        """key: the field's PlaygroundSetup attribute."""
        try:
            value = parse_field(key, self.fields[key].value or "")
        except ValueError as err:
            self.show_message(str(err))
            self._mark_fields({key: str(err)})
            return
        self._apply(**{key: value})

    def _mark_fields(self, problems: dict) -> None:
        """Outline the fields in red whose value is the problem (the message itself is in the alert line)."""
        for key, field in self.fields.items():
            field.error = "" if key in problems else None

    def _dataset_changed(self, name: str) -> None:
        if name and name != self.setup.dataset:
            switched = self.setup.with_dataset(name)
            self._apply(dataset=switched.dataset, loss=switched.loss)

    def _features_changed(self) -> None:
        chosen = tuple(name for name, box in self.feature_boxes.items() if box.value)
        if not self._apply(features=chosen):
            self._sync_controls()           # the boxes show the features in use; the message says why

    def _hidden_changed(self) -> None:
        self._apply(hidden_controls=tuple(key for key, box in self.hide_boxes.items() if box.value))

    def _regenerate(self) -> None:
        self._apply(seed=(self.setup.seed + 1) % (2**31))

    def _add_layer(self) -> None:
        if len(self.setup.hidden) >= MAX_HIDDEN_LAYERS:
            self.show_message(f"The playground has at most {MAX_HIDDEN_LAYERS} hidden layers. Remove one first.")
            return
        self._apply(hidden=(*self.setup.hidden, self.setup.hidden[-1] if self.setup.hidden else 2))

    def _remove_layer(self) -> None:
        if self.setup.hidden:
            self._apply(hidden=self.setup.hidden[:-1])

    def _change_neurons(self, layer: int, delta: int) -> None:
        hidden = list(self.setup.hidden)
        hidden[layer] += delta
        if not 1 <= hidden[layer] <= MAX_NEURONS:
            self.show_message(f"A hidden layer holds 1 to {MAX_NEURONS} neurons.")
            return
        self._apply(hidden=tuple(hidden))

    def _start_experiment(self, experiment: Experiment) -> None:
        """Apply the experiment's whole setup (from the defaults, keeping teacher mode) and train from scratch."""
        setup = PlaygroundSetup(**experiment.setup, hidden_controls=self.setup.hidden_controls)
        if self._apply(**{name: getattr(setup, name) for name in setup.__dataclass_fields__}):
            self.experiment_setup = setup
            self.worker.send("reset")
            self.worker.send("play")

    def _can_apply(self, fix: dict) -> bool:
        """A finding's fix gets a button if it names settings this page has, with values it accepts."""
        if not set(fix) <= set(PlaygroundSetup.__dataclass_fields__):
            return False
        return not self.setup.replace(**fix).problems()

    def _apply_fix(self, fix: dict) -> None:
        """Apply a finding's fix and start over, so the learner sees the run the fix makes."""
        if self._apply(**fix):
            self.worker.send("reset")
            self.worker.send("play")

    def _toggle_play(self) -> None:
        snapshot = self.worker.snapshot()
        self.worker.send("pause" if snapshot.playing else "play")

    def _edit_weight(self, layer: int, i: int, j: int, value: float) -> None:
        self.worker.send("set_weight", layer, i, j, value)

    def _plane_clicked(self, event) -> None:
        if "add_points" in self.setup.hidden_controls:
            return
        x1, x2 = pixel_to_plane(event.image_x, event.image_y, PLANE_PIXELS)
        label = self.add_class.value
        self.worker.send("add_point", float(x1), float(x2), float(label) if self.setup.is_regression else int(label))

    async def _uploaded(self, event) -> None:
        file = event.file
        limit = self.state.config.upload_limit_bytes
        if file.size() > limit:
            self.show_message(f"{file.name} is {file.size() / 1024:.0f} kB; the limit is {limit / 1024:.0f} kB. "
                              "Upload a smaller CSV (a few hundred rows of x1, x2, label is plenty).")
            return
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / (Path(file.name).name or "points.csv")
            await file.save(path)
            try:
                x, y, names = await run.io_bound(read_points_csv, path, regression=self.setup.is_regression)
            except (ValueError, FileNotFoundError) as err:      # named as the learner's file, not our temp path
                self.show_message(f"Could not use {file.name}: {str(err).replace(str(path), file.name)}")
                return
        self.show_message("")
        self.worker.send("points", x, y, names or None)
        self.status.text = f"Using {len(x)} points from {file.name}."

    def _rejected(self) -> None:
        limit = self.state.config.upload_limit_bytes
        self.show_message(f"That file was refused: files up to {limit / 1024:.0f} kB (CSV) are accepted. "
                          "Upload a smaller CSV.")

    async def _copy_link(self) -> None:
        ui.clipboard.write(self.share.value)
        ui.notify("Link copied")

    def show_message(self, text: str) -> None:
        self.message.text = text

    # ---- setup -> controls ----
    def _sync_controls(self) -> None:
        setup = self.setup
        self._syncing = True
        try:
            for key, field in self.fields.items():         # each field is named by its setup attribute
                value = getattr(setup, key)
                if key == "hidden":
                    field.value = format_hidden(value)
                elif key == "batch_size":
                    field.value = "full" if value is None else str(value)
                else:
                    field.value = f"{value:g}" if isinstance(value, float) else str(value)
            self.controls["activation"].value = setup.activation
            self.controls["loss"].value = setup.loss
            self.controls["optimizer"].value = setup.optimizer
            self.bn_switch.value = setup.batch_norm
            self.dataset_select.value = setup.dataset
            self.classes_select.value = setup.n_classes
            self.classes_select.set_enabled(setup.dataset in MULTI_CLASS_SETS)
            for name, box in self.feature_boxes.items():
                box.value = name in setup.features
            for key, box in self.hide_boxes.items():
                box.value = key in setup.hidden_controls
        finally:
            self._syncing = False
        for key, element in self.controls.items():
            element.set_visibility(key not in setup.hidden_controls)
        self.diagram.editable = "edit_weights" not in setup.hidden_controls
        if not self.diagram.editable:
            self.diagram.close_editor()
        self._build_layer_buttons()
        query = setup.to_query()
        link = f"{self.base_url}/playground" + (f"?{query}" if query else "")
        self.step_link.props(f'href="/step?setup={quote(query)}"')
        if self.share.value != link:
            self.share.value = link
            ui.navigate.history.replace(f"/playground?{query}" if query else "/playground")

    def _build_layer_buttons(self) -> None:
        self.layer_buttons.clear()
        with self.layer_buttons:
            for layer, size in enumerate(self.setup.hidden):
                with ui.row().classes("items-center gap-0 border rounded px-1"):
                    ui.label(f"layer {layer + 1}:").classes("text-sm mr-1")
                    ui.button("−", on_click=lambda _, k=layer: self._change_neurons(k, -1)) \
                        .props("dense flat").classes("text-base px-1") \
                        .tooltip(f"One neuron fewer in hidden layer {layer + 1}.")
                    ui.label(str(size)).classes("text-sm font-mono w-5 text-center")
                    ui.button("+", on_click=lambda _, k=layer: self._change_neurons(k, +1)) \
                        .props("dense flat").classes("text-base px-1") \
                        .tooltip(f"One neuron more in hidden layer {layer + 1}.")
            if not self.setup.hidden:
                ui.label("no hidden layer: the output is a straight-line (linear) function of the features") \
                    .classes("text-sm text-slate-600")

    # ---- snapshot -> pictures ----
    def _poll(self) -> None:
        snapshot = self.worker.snapshot()
        if snapshot is None or snapshot.version == self.shown_version:
            return
        self.shown_version = snapshot.version
        self.play_button.text = "Pause" if snapshot.playing else "Play"
        self.play_button.props(f"icon={'pause' if snapshot.playing else 'play_arrow'}")
        self.epoch_label.text = f"epoch {snapshot.epoch:,}  ·  step {snapshot.steps:,}"
        if snapshot.message:
            self.status.text = snapshot.message
        elif self.status.text.startswith(("Stopped", "Training diverged")):
            self.status.text = ""
        self._draw_plane(snapshot)
        self._draw_scores(snapshot)
        self.findings.show(snapshot.numbers.findings)
        self.try_this.show(snapshot.numbers, still_set_up=self._still_set_up(snapshot.setup))
        now = time.monotonic()
        if not snapshot.playing or now - self.last_diagram >= DIAGRAM_INTERVAL:
            self.last_diagram = now
            self.diagram.show(snapshot.diagram, snapshot.input_maps, snapshot.neuron_maps)

    def _still_set_up(self, setup: PlaygroundSetup) -> bool:
        """The run still is the active experiment's (teacher mode aside)."""
        started = self.experiment_setup
        return started is not None and setup.replace(hidden_controls=()) == started.replace(hidden_controls=())

    def _draw_plane(self, snapshot) -> None:
        self.plane.set_source(snapshot.boundary)
        if snapshot.data_version == self.shown_data:
            return
        self.shown_data = snapshot.data_version
        regression = snapshot.setup.is_regression
        circles = []
        for part, rim in (("train", "#ffffff"), ("test", "#111827")):
            rows = snapshot.points[part]
            if not rows:
                continue
            xy = plane_to_pixel(np.array([(a, b) for a, b, _ in rows]), PLANE_PIXELS)
            colors = point_colors([label for _, _, label in rows], regression)
            circles += [f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{POINT_RADIUS}" fill="{color}" stroke="{rim}" '
                        'stroke-width="0.25"/>' for (x, y), color in zip(xy, colors)]
        self.plane.content = "".join(circles)
        if regression:
            self.add_class.options = {-1.0: "value −1", 1.0: "value +1"}
            if self.add_class.value not in (-1.0, 1.0):
                self.add_class.value = 1.0
        else:
            count = max(2, len(snapshot.class_names))
            self.add_class.options = {k: f"class {snapshot.class_names[k] if k < len(snapshot.class_names) else k}"
                                      for k in range(count)}
            if self.add_class.value not in range(count):
                self.add_class.value = 0
        self.add_class.update()

    def _draw_scores(self, snapshot) -> None:
        metrics, regression = snapshot.metrics, snapshot.setup.is_regression
        self.plane_caption.text = PLANE_CAPTIONS[regression]

        def show(value, percent=False):
            if value is None:
                return "  —  "
            return f"{value:6.1%}" if percent else f"{value:.4f}"

        lines = [f"loss      train {show(metrics.train_loss)}   test {show(metrics.test_loss)}"]
        if not regression:
            lines.append(f"accuracy  train {show(metrics.train_accuracy, True)}   "
                         f"test {show(metrics.test_accuracy, True)}")
        else:
            lines.append("accuracy  — (no classes here)")
        self.scores.text = "\n".join(lines)
        curves = snapshot.curves
        self.loss_chart.show({"train loss": curves["train_loss"], "test loss": curves["test_loss"]})
        for element in (self.accuracy_chart, self.accuracy_note):      # regression has no classes to get right
            element.set_visibility(not regression)
        if not regression:
            self.accuracy_chart.show({"train accuracy": curves["train_accuracy"],
                                      "test accuracy": curves["test_accuracy"]})


def register(state: LabState) -> None:
    @ui.page("/playground")
    def playground_page(request: Request, client: Client):
        with page_frame("Playground", "Train a small network on 2D points and watch the decision boundary, every "
                        "neuron and every weight change as it learns.", active="/playground"):
            PlaygroundPage(state, request, client)


def _weakly(method):
    """An event handler that calls `method` (with the event if it takes one) while its object lives, without
    keeping that object alive."""
    reference = weakref.WeakMethod(method)
    takes_event = len(inspect.signature(method).parameters) > 0

    async def handler(event):
        bound = reference()
        if bound is not None:
            result = bound(event) if takes_event else bound()
            if inspect.isawaitable(result):
                await result

    return handler
