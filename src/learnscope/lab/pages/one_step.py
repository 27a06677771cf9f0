"""One step: the five steps of learning with the numbers of one real training step, on a playground point or an
MNIST digit, plus the computational graph of a tiny network.

The page keeps its own copy of the network: each "Take a step" is one real step (step_through) on that copy, so
stepping again continues from the new weights. Every number comes from lessons.step_through / five_steps / graph.
"""

import copy

import numpy as np
from nicegui import background_tasks, run, ui

from learnscope.data.sources import DatasetUnavailable
from learnscope.lab.components.graph_view import graph_svg
from learnscope.lab.components.lesson import TryThis, chapter_section
from learnscope.lab.components.maths import formula
from learnscope.lab.components.step_diagram import FLOW_CSS, step_diagram_svg
from learnscope.lab.components.tensor_view import tensor_view
from learnscope.lab.layout import explain, page_frame, show_error
from learnscope.lab.state import LabState, TrainedModel, trained_model_from_file
from learnscope.layers import Dense, Tanh
from learnscope.lessons.course import chapter
from learnscope.lessons.drawing import newest_digit_model
from learnscope.lessons.experiments import STEP_EXPERIMENTS
from learnscope.lessons.five_steps import five_steps as tell_five_steps
from learnscope.lessons.five_steps import format_number, loss_change_sentence, nearest_point, shared_limit
from learnscope.lessons.graph import graph_from_step
from learnscope.lessons.mnist_lab import confident_mistakes, load_lab_dataset, softmax_confidence
from learnscope.lessons.pictures import grayscale, png_data_uri
from learnscope.lessons.playground import (
    PlaygroundSession,
    PlaygroundSetup,
    class_color_hex,
    feature_map,
    pixel_to_plane,
    plane_to_pixel,
)
from learnscope.lessons.step_through import step_through
from learnscope.losses import MSE, SoftmaxCrossEntropy, one_hot
from learnscope.model import Sequential
from learnscope.optim import OPTIMIZER_LABELS, get_optimizer

#: the optimizers one step offers (display names from learnscope.optim)
STEP_OPTIMIZERS = {key: OPTIMIZER_LABELS[key] for key in ("sgd", "momentum", "rmsprop", "adam")}
LOSS_LABELS = {"cross-entropy": "Cross-entropy", "mse": "Mean squared error"}
PHASES = ("forward", "forward", "backward", "backward", "forward")     # the diagram's direction in steps 1–5
FOLD_ABOVE = 12             # an update with more tensors than this is shown one parameter at a time
PLANE_SIZE = 300
#: The network of the playground source unless a playground link says otherwise: XOR, 2-3-2, tanh
DEFAULT_SETUP = PlaygroundSetup(hidden=(3,))
#: The tiny network of the graph view, and its one example
GRAPH_X, GRAPH_Y = (1.0, 2.0), 0.5


def register(state: LabState) -> None:
    @ui.page("/step")
    def one_step_page(source: str = "playground", digit: int = 0, setup: str = ""):
        ui.add_css(FLOW_CSS)
        with page_frame("One step", "One example goes in, the error is measured, blame flows back, every weight is "
                        "nudged — the real numbers of one training step.", active="/step"):
            page = OneStepPage(state, source, digit, setup)
            for number, part in ((3, 0), (5, 2)):          # the chapters the five parts take apart, in detail
                with chapter_section(chapter(number)):
                    ui.button(f"Show step {part + 1} of 5 above", icon="arrow_upward",
                              on_click=lambda _, part=part: page.show_part(part, scroll=True)) \
                        .props("no-caps outline dense").classes("self-start px-2")
                    page.try_this.cards(number)


class OneStepPage:
    def __init__(self, state: LabState, source: str, digit: int, setup: str = ""):
        self.state = state
        self.source = source if source in ("playground", "mnist") else "playground"
        self.part_index = 0
        self.parts = []
        self.step = None
        self.setup_problem = ""
        try:
            chosen = PlaygroundSetup.from_query(setup) if setup else DEFAULT_SETUP
        except ValueError as error:
            chosen, self.setup_problem = DEFAULT_SETUP, f"{error} Showing the default network instead."
        if chosen.is_regression:                        # one step here is a classification step: a class to blame
            chosen, self.setup_problem = DEFAULT_SETUP, (f"'{chosen.dataset}' is a regression set (no classes); "
                                                         "showing the default network instead.")
        self.session = PlaygroundSession(chosen)
        self.drawing = None                             # a drawn digit, when the learner chose theirs
        self.drawn_label = 0
        self.example_index = 0
        self.digit_index = max(0, int(digit))
        self.model: Sequential | None = None
        self.optimizer = None
        self.data = None                                # the MNIST test set, loaded off the event loop
        self.loading = False
        self.mistakes = None                            # (model, indices of its most confident mistakes)
        self.file_model: TrainedModel | None = None    # the newest saved digit model, when the lab has none
        self.files_checked = False                      # the models folder has been looked at
        self.steps_taken = 0                            # steps since the last start over
        self.output_names = None                        # what each output neuron stands for
        self.shared_scale = False                       # gradient heatmaps on one colour scale (step 3)
        self.try_this = TryThis(STEP_EXPERIMENTS, self._start_experiment)
        self.experiment_settings = None                 # (source, lr) the running experiment set up
        with chapter_section(chapter(7)):
            self.try_this.banner()
            with ui.tabs().classes("w-full") as tabs:
                steps_tab = ui.tab("Five steps").mark("tab-steps")
                graph_tab = ui.tab("Computational graph").mark("tab-graph")
            with ui.tab_panels(tabs, value=steps_tab).classes("w-full"):
                with ui.tab_panel(steps_tab):
                    self._build_steps_view()
                with ui.tab_panel(graph_tab):
                    self._build_graph_view()
            self.try_this.cards(7)

    # -- the five steps ----------------------------------------------------------------------------------------
    def _build_steps_view(self) -> None:
        with ui.row().classes("w-full items-start gap-6"):
            with ui.column().classes("gap-2"):
                self.source_toggle = ui.toggle({"playground": "A playground point", "mnist": "An MNIST digit"},
                                               value=self.source, on_change=self._change_source).mark("source")
                self.source_toggle.tooltip("Step a tiny network on one 2D point, or a trained digit network on one "
                                           "test image.")
                self.example_box = ui.column().classes("gap-1")
            with ui.column().classes("gap-2"):
                with ui.row().classes("gap-3 items-end"):
                    self.loss_select = ui.select(LOSS_LABELS, value="cross-entropy", label="Loss",
                                                 on_change=self._start_over).classes("w-48").mark("loss")
                    self.loss_select.tooltip("Cross-entropy punishes confident wrong answers hard; squared error "
                                             "compares the outputs with one-hot targets.")
                    self.optimizer_select = ui.select(STEP_OPTIMIZERS, value="sgd", label="Optimizer",
                                                      on_change=self._start_over).classes("w-44").mark("optimizer")
                    self.optimizer_select.tooltip("How a gradient becomes a change of the weights.")
                    self.lr_input = ui.input("Learning rate", value="0.1").classes("w-32").mark("lr")
                    self.lr_input.tooltip("The size of the nudge. Try 0.1, then 50: a big step can make the loss "
                                          "go up.")
                with ui.row().classes("gap-2"):
                    ui.button("Take a step", icon="directions_walk", on_click=self.take_step).mark("take-step") \
                        .tooltip("Run this example through the network, measure the error, backpropagate, update.")
                    ui.button("Start over", icon="restart_alt", on_click=self._start_over).props("outline") \
                        .mark("start-over").tooltip("Forget the steps taken: back to the network's starting weights.")
                self.errors = ui.column().classes("gap-1")
                self.change_label = ui.label("").classes("text-base font-bold").mark("loss-change")
        with ui.row().classes("w-full items-center gap-2 mt-2"):
            ui.button("Previous", icon="chevron_left", on_click=lambda: self.show_part(self.part_index - 1)) \
                .props("flat").mark("previous").tooltip("The step before.")
            self.part_buttons = [ui.button(str(number), on_click=lambda _, n=number: self.show_part(n - 1))
                                 .props("outline round size=sm").mark(f"part-{number}") for number in range(1, 6)]
            ui.button("Next", icon="chevron_right", on_click=lambda: self.show_part(self.part_index + 1)) \
                .props("flat").mark("next").tooltip("The step after.")
        self.part_view = ui.column().classes("w-full gap-2")
        self._show_example()
        self._start_over()

    def _change_source(self, event) -> None:
        self.source = event.value
        self._show_example()
        self._start_over()

    def _show_example(self) -> None:
        self.example_box.clear()
        with self.example_box:
            if self.source == "playground":
                self._show_plane()
            elif self.data is None and (self._digit_model() is not None or not self.files_checked):
                ui.label("Loading the 10,000 MNIST test images…").classes("text-sm").mark("loading-digits")
                if not self.loading:
                    self.loading = True
                    background_tasks.create(self._load_digits(), name="one-step-mnist")
            else:
                self._show_digit()

    async def _load_digits(self) -> None:
        """The model (the lab's latest, else the newest saved file, as on the Draw page) and MNIST, off the event loop
        (a second or more the first time), then the digit view."""
        config = self.state.config
        if self.state.trained_model is None and not self.files_checked:
            found = await run.io_bound(newest_digit_model, config.models_path())
            self.files_checked = True
            self.file_model = trained_model_from_file(found)
            if self.file_model is not None:
                self._start_over()
        if self._digit_model() is None:                 # nothing to step with: say how to get a model
            self.loading = False
            if not self.example_box.is_deleted and self.source == "mnist":
                self._show_example()
            return
        try:
            self.data = await run.io_bound(load_lab_dataset, "mnist", config.data_dir, config.allow_download)
        except (DatasetUnavailable, OSError, ValueError) as error:
            self.loading = False
            if not self.example_box.is_deleted:
                self.example_box.clear()
                show_error(self.example_box, f"MNIST could not be loaded: {error}")
            return
        self.loading = False
        if not self.example_box.is_deleted and self.source == "mnist":
            self._show_example()

    def _show_plane(self) -> None:
        session = self.session
        pixels = plane_to_pixel(session.x_train, PLANE_SIZE)
        chosen = self.example_index
        circles = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{7 if i == chosen else 4}" fill="{class_color_hex(int(label))}" '
            f'stroke="{"#111" if i == chosen else "white"}" stroke-width="{2.5 if i == chosen else 1}"/>'
            for i, ((x, y), label) in enumerate(zip(pixels, session.y_train)))
        stepped = self.source == "playground" and self.model is not None and self.steps_taken > 0
        picture = session.boundary(60, model=self.model if stepped else None)      # the network as it is now
        image = ui.interactive_image(png_data_uri(picture, scale=5), content=circles,
                                     on_mouse=self._pick_point, events=["click"]).style(f"width: {PLANE_SIZE}px")
        image.mark("plane").tooltip("Click a point to step the network on it.")
        x1, x2 = session.x_train[chosen]
        ui.label(f"Point ({x1:.2f}, {x2:.2f}), class {int(session.y_train[chosen])}").mark("example") \
            .classes("text-sm")
        setup = session.setup
        sizes = "-".join(str(n) for n in (len(setup.features), *setup.hidden, session.n_outputs))
        when = (f"after {self.steps_taken} step{'s' if self.steps_taken != 1 else ''}" if stepped
                else "at its starting weights")
        explain(f"{setup.dataset} points and a {sizes} {setup.activation} network {when}; the colours are its answer "
                "over the plane.").mark("plane-caption")
        if self.setup_problem:
            ui.label(self.setup_problem).classes("text-sm text-red-700 max-w-md").mark("setup-problem")

    def _pick_point(self, event) -> None:
        x1, x2 = pixel_to_plane(event.image_x, event.image_y, PLANE_SIZE)
        self.example_index = nearest_point(self.session.x_train, x1, x2)
        self._show_example()
        self.take_step()

    def _digit_model(self) -> TrainedModel | None:
        """The network the MNIST source steps: the lab's latest model, else the newest saved model file (the Draw
        page offers the same two)."""
        return self.state.trained_model or self.file_model

    def _show_digit(self) -> None:
        trained = self._digit_model()
        if trained is None:
            ui.label("No digit model yet. Train one on the MNIST page (or with the quick button on the Draw page), "
                     "or save one into the models folder, then come back.") \
                .classes("text-sm text-amber-800 max-w-md").mark("no-model")
            ui.link("Go to the MNIST page", "/mnist")
            return
        data = self.data
        self.digit_index = index = min(self.digit_index, len(data.x_test) - 1)     # a link may ask for more
        if self.drawing is not None:
            ui.image(png_data_uri(grayscale(self.drawing, 0, 1), scale=5)).style("width: 140px").mark("digit-image")
            ui.label("Your drawing").mark("example").classes("text-sm")
            meant = ui.select({digit: str(digit) for digit in range(10)}, value=self.drawn_label,
                              label="You meant", on_change=self._set_drawn_label).classes("w-28").mark("meant")
            meant.tooltip("The right answer for your drawing: the loss measures the network against it.")
        else:
            ui.image(png_data_uri(grayscale(data.x_test[index, 0], 0, 1), scale=5)).style("width: 140px") \
                .mark("digit-image")
            ui.label(f"Test image {index}: a written {data.class_names[data.y_test[index]]}").mark("example") \
                .classes("text-sm")
        with ui.row().classes("gap-2 items-end"):
            number = ui.number("Test image", value=index, min=0, max=len(data.x_test) - 1, step=1, format="%d") \
                .classes("w-32").mark("digit-index")
            number.tooltip("Which of the 10,000 test images to step on.")
            ui.button("Use it", on_click=lambda: self._use_digit(number.value)).props("outline").mark("use-digit")
            ui.button("A mistake", on_click=self._next_mistake).props("outline").mark("mistake") \
                .tooltip("Jump to a test image the model gets wrong (most confident mistakes first).")
            if self.state.drawn_digit is not None:
                ui.button("Your drawing", on_click=self._use_drawing).props("outline").mark("use-drawing") \
                    .tooltip("Step on the digit you last drew on the Draw page.")
        explain(f"Model: {trained.name}")

    def _use_drawing(self) -> None:
        self.drawing = np.asarray(self.state.drawn_digit, dtype=np.float32)
        trained = self._digit_model()
        self.drawn_label = int(np.argmax(trained.model.predict(self.drawing[None, None])[0]))  # what it reads
        self._show_example()
        self._start_over()

    def _set_drawn_label(self, event) -> None:
        self.drawn_label = int(event.value)
        self._start_over()

    def _use_digit(self, value) -> None:
        if value is None or not float(value).is_integer() or not 0 <= value < 10_000:
            show_error(self.errors, f"Test image expected a whole number from 0 to 9999, got {value!r}.")
            return
        self.digit_index, self.drawing = int(value), None
        self._show_example()
        self._start_over()

    async def _next_mistake(self) -> None:
        model, data = self._digit_model().model, self.data
        if self.mistakes is None or self.mistakes[0] is not model:     # 10,000 predictions: off the event loop
            self.mistakes = (model, await run.io_bound(_most_confident_mistakes, model, data))
        mistakes = self.mistakes[1]
        later = [i for i in mistakes if i > self.digit_index]
        self._use_digit((later or mistakes or [self.digit_index])[0])

    # -- stepping ----------------------------------------------------------------------------------------------
    def _example(self):
        """(x, y, class names) of the chosen example, in the form the network and the chosen loss take."""
        if self.source == "playground":
            session = self.session
            x = feature_map(session.x_train[self.example_index:self.example_index + 1], session.setup.features)
            label, names = session.y_train[self.example_index:self.example_index + 1], session.class_names
        else:
            data = self.data
            x = data.x_test[self.digit_index:self.digit_index + 1]
            label, names = data.y_test[self.digit_index:self.digit_index + 1], data.class_names
            if self.drawing is not None:
                x, label = self.drawing[None, None], np.array([self.drawn_label])
        if self.loss_select.value == "mse":
            return x, one_hot(label, len(names)), names
        return x, label, names

    def _start_over(self, *_) -> None:
        """A fresh copy of the network and a fresh optimizer (its memory empty)."""
        self.errors.clear()
        if self.source == "playground":
            self.model = copy.deepcopy(self.session.model)
        else:
            trained = self._digit_model()
            self.model = None if trained is None else copy.deepcopy(trained.model)
        self.optimizer = None
        self.step = None
        stepped, self.steps_taken = self.steps_taken, 0
        if stepped and self.source == "playground":
            self._show_example()                        # the plane, back at the starting weights
        self.parts = []
        self.change_label.text = ""
        self.part_view.clear()
        with self.part_view:
            explain("Press 'Take a step' (or click a point) to see the numbers.")

    def take_step(self) -> None:
        self.errors.clear()
        if self.model is None:
            show_error(self.errors, "There is no network to step yet: train a digit model on the MNIST page first.")
            return
        if self.source == "mnist" and self.data is None:
            show_error(self.errors, "The MNIST test images are still loading: take the step in a moment.")
            return
        try:
            lr = float(str(self.lr_input.value).strip())
        except ValueError:
            show_error(self.errors, f"Learning rate expected a number such as 0.1, got {self.lr_input.value!r}.")
            return
        if not 0 < lr <= 1000:
            show_error(self.errors, f"Learning rate expected a number above 0 and at most 1000, got {lr:g}. "
                                    "Try 0.1.")
            return
        if self.optimizer is None or self.optimizer.lr != lr:
            self.optimizer = get_optimizer(self.optimizer_select.value, lr=lr)
        loss = SoftmaxCrossEntropy() if self.loss_select.value == "cross-entropy" else MSE()
        x, y, names = self._example()
        self.output_names = [f"class {name}" if self.source == "playground" else str(name) for name in names]
        self.step = step_through(self.model, loss, self.optimizer, x, y)
        self.steps_taken += 1
        if self.source == "playground":
            self._show_example()                        # the plane, redrawn by the stepped network
        self.parts = tell_five_steps(self.step, class_names=names, optimizer=self.optimizer)
        self.change_label.text = loss_change_sentence(self.step)
        self.change_label.classes(replace="text-base font-bold " + ("text-green-800" if self.step.loss_decreased
                                                                   else "text-red-700"))
        self.show_part(self.part_index)
        self.try_this.show(self.step, still_set_up=self.experiment_settings == (self.source, lr,
                                                                                 self.loss_select.value))

    def _start_experiment(self, experiment) -> None:
        """Set the experiment's source, learning rate and loss, start over from the starting weights, take the
        step."""
        setup = experiment.setup
        self.experiment_settings = (setup["source"], setup["lr"], setup["loss"])
        self.lr_input.value = f"{setup['lr']:g}"
        self.loss_select.value = setup["loss"]
        if self.source != setup["source"]:
            self.source_toggle.value = setup["source"]  # its handler shows the example and starts over
        else:
            self._start_over()
        self.take_step()

    def show_part(self, index: int, scroll: bool = False) -> None:
        if not self.parts:
            return
        if scroll:
            ui.run_javascript(f"document.getElementById('c{self.part_view.id}').scrollIntoView({{behavior: 'smooth'}})")
        self.part_index = index = max(0, min(index, len(self.parts) - 1))
        for number, button in enumerate(self.part_buttons):
            button.props(remove="unelevated outline")
            button.props("unelevated" if number == index else "outline")
        part = self.parts[index]
        self.part_view.clear()
        with self.part_view:
            ui.label(f"Step {part.number} of 5: {part.title}").classes("text-xl font-bold").mark("part-title")
            ui.label(part.summary).classes("text-base max-w-4xl").mark("part-summary")
            formula(part.formula).mark("part-formula")
            ui.html(step_diagram_svg(self.step, PHASES[index], output_names=self.output_names), sanitize=False) \
                .mark("diagram") \
                .classes("overflow-x-auto max-w-full")
            explain("Forward steps show each neuron's value and the weights (orange +, blue −; thicker = larger); "
                    "backward steps show dL/d(value) and dL/dW. The moving dashes show which way numbers flow.")
            limit = None
            if part.number == 3:                        # gradients: compare layers on one scale, or each on its own
                ui.switch("One colour scale for every layer", value=self.shared_scale,
                          on_change=self._toggle_shared_scale).mark("shared-scale") \
                    .tooltip("On: every gradient heatmap uses the largest gradient of the step as full colour, so "
                             "a layer that gets little gradient looks pale (vanishing gradients show). Off: each "
                             "heatmap uses its own largest value.")
                if self.shared_scale:
                    limit = shared_limit(tensor for tensor in part.tensors if tensor.name.startswith("∂L/∂W"))
            if part.number == 4 and len(part.tensors) > FOLD_ABOVE:
                self._folded_by_parameter(part.tensors)
            else:
                with ui.row().classes("w-full gap-4 flex-wrap items-start"):
                    for tensor in part.tensors:
                        tensor_view(tensor.name, tensor.values, limit if tensor.name.startswith("∂L/∂W") else None)

    def _toggle_shared_scale(self, event) -> None:
        self.shared_scale = bool(event.value)
        self.show_part(self.part_index)

    @staticmethod
    def _folded_by_parameter(tensors) -> None:
        """A big network's update: one fold per parameter (before, gradient, memory, change, after), the first open."""
        groups: dict[str, list] = {}
        for tensor in tensors:
            groups.setdefault(tensor.name.split(" ", 1)[0], []).append(tensor)
        for number, (name, members) in enumerate(groups.items()):
            fold = ui.expansion(f"{name} {tuple(np.shape(members[0].values))}", value=number == 0)
            fold.classes("w-full border rounded").mark(f"fold:{name}")
            with fold, ui.row().classes("w-full gap-4 flex-wrap items-start"):
                for tensor in members:
                    tensor_view(tensor.name, tensor.values)

    # -- the computational graph -------------------------------------------------------------------------------
    def _build_graph_view(self) -> None:
        explain("A 2-2-1 network (tanh, then a linear output) on one point x = (1, 2) with target 0.5, squared "
                "error. Every box is one operation: v is its value on the way forward, g = dL/d(box) on the way "
                "back; the purple number on a line is the local derivative ∂(right box)/∂(left box). Each g is the "
                "sum over the lines leaving the box of (g of the box it feeds × the number on the line): that is "
                "the chain rule.")
        with ui.row().classes("items-end gap-3"):
            seed = ui.number("Network seed", value=0, min=0, max=10_000, step=1, format="%d").classes("w-36") \
                .mark("graph-seed")
            seed.tooltip("Different seeds give the network different starting weights.")
            ui.button("Draw", on_click=lambda: self._draw_graph(seed.value)).props("outline").mark("graph-draw")
        self.graph_errors = ui.column()
        self.graph_box = ui.column().classes("w-full overflow-x-auto")
        self._draw_graph(0)

    def _draw_graph(self, seed) -> None:
        self.graph_errors.clear()
        if seed is None or not float(seed).is_integer() or not 0 <= seed <= 10_000:
            show_error(self.graph_errors, f"Network seed expected a whole number from 0 to 10000, got {seed!r}.")
            return
        model = tiny_network(int(seed))
        step = step_through(model, MSE(), get_optimizer("sgd", lr=0.1), np.array([GRAPH_X], dtype=np.float64),
                            np.array([[GRAPH_Y]]))
        graph = graph_from_step(step, model)
        self.graph_box.clear()
        with self.graph_box:
            ui.html(graph_svg(graph), sanitize=False).mark("graph-svg")
            rows = "".join(
                f'<tr data-node="{node.id}"><td class="px-2">{node.id}</td><td class="px-2">{node.label}</td>'
                f'<td class="px-2 text-right font-mono">{format_number(node.value)}</td>'
                f'<td class="px-2 text-right font-mono">{format_number(node.grad)}</td>'
                f'<td class="px-2 font-mono text-xs">'
                f'{" + ".join(f"{format_number(g)}×{format_number(d)}" for _, g, d in graph.chain_rule_terms(node.id))}'
                f'</td></tr>' for node in graph.nodes)
            ui.html('<table class="graph-table text-sm"><tr><th>node</th><th>op</th><th>value v</th>'
                    f'<th>gradient g</th><th>chain rule: Σ g(next) × local</th></tr>{rows}</table>',
                    sanitize=False).mark("graph-table")


def _most_confident_mistakes(model, data) -> list[int]:
    predicted, confidence = softmax_confidence(model.predict(data.x_test))
    return [int(i) for i in confident_mistakes(data.y_test, predicted, confidence, limit=200)]


def tiny_network(seed: int) -> Sequential:
    """The graph view's 2-2-1 network, in float64 so the page and a hand computation agree to the last digit."""
    return Sequential([Dense(2, 2), Tanh(), Dense(2, 1)], seed=seed).astype(np.float64)
