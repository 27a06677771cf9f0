"""The Inside page's second half: deep features (what one input does to each hidden layer, and the test digits
each unit or filter responds to most) and how each layer arranges the digits (its representation of 2,000 test
digits projected to 2-D, coloured by class). Numbers from learnscope.explain, pictures from lessons.drawing and
lessons.pictures; everything heavy runs off the event loop.
"""

from collections.abc import Callable

import numpy as np
from nicegui import ui

from learnscope.explain.embeddings import (
    describe_embedding,
    describe_training_embedding,
    embed,
    embedding_while_training,
    neighbour_agreement,
)
from learnscope.explain.features import conv_filters, layer_representation, top_activating
from learnscope.lab.components.work_row import Work, WorkRow
from learnscope.lab.layout import explain
from learnscope.lessons.drawing import activation_pictures, read_digit
from learnscope.lessons.pictures import diverging_colors, grayscale, png_data_uri, tile_images
from learnscope.lessons.playground import class_color_hex

#: test digits searched for each unit's strongest responses, and embedded
FEATURE_EXAMPLES = 2000
TOP = 9
#: the fresh copy that is watched while it learns: this many training digits, one epoch
WATCH_IMAGES = 20_000
INPUT_LAYER = -1                            # the embedding's "layer" of the raw pixels
#: ten distinct class colours for the scatter (the playground's five, then five more)
CLASS_HEX = [class_color_hex(k) for k in range(5)] + ["#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


class FeaturesPanel:
    """model(): the page's own copy of its model (or None); data(): MNIST (or None); current_input(): the page's
    (input (1, 28, 28), what it is) or None; compute(function, *args): the page's way to run the model off the
    event loop, one computation at a time."""

    def __init__(self, model: Callable, data: Callable, current_input: Callable, compute: Callable):
        self.model, self.data, self.current_input, self.compute = model, data, current_input, compute
        self.top_cache: dict = {}               # (id(model), layer) -> TopExamples
        self.embedded = None                    # the labels of the digits last projected, in the chart's order
        ui.label("Deep features: what each layer's units respond to").classes("text-lg font-bold mt-2")
        explain("Each hidden layer computes features of its own. First the input's effect on the layer you pick "
                "(orange: active), then, for one unit or filter, the test digits out of 2,000 that excite it most: "
                "early layers answer to strokes, later ones to parts of digits and whole digits.")
        with ui.row().classes("items-end gap-3"):
            self.layer_select = ui.select({}, label="Layer", on_change=self.show_features).classes("w-96") \
                .props("data-feature-layer")
            self.unit_input = ui.number("Unit or filter", value=0, min=0, step=1, format="%d",
                                        on_change=self.show_features).classes("w-32").props("data-unit")
        with ui.row().classes("w-full gap-6 items-start flex-wrap"):
            with ui.column().classes("gap-1"):
                self.layer_picture = ui.image("").classes("w-[320px] border").props("no-transition no-spinner "
                                                                                     "data-layer-picture")
                self.layer_caption = ui.label("").classes("text-xs text-slate-600 w-80")
            with ui.column().classes("gap-1") as self.filters_box:
                self.filters_picture = ui.image("").classes("w-[200px] border").props("no-transition no-spinner "
                                                                                       "data-filters")
                self.filters_caption = ui.label("").classes("text-xs text-slate-600 w-52")
            self.filters_box.set_visibility(False)
            with ui.column().classes("gap-1"):
                self.top_picture = ui.image("").classes("w-[470px] border").props("no-transition no-spinner "
                                                                                   "data-top-picture")
                self.top_caption = ui.label("").classes("text-xs text-slate-600").props("data-top-caption")

        ui.label("How the layers arrange the digits").classes("text-lg font-bold mt-2")
        explain("Each layer turns a digit into a list of numbers. Projected to two dimensions (PCA: the two "
                "directions of greatest spread; t-SNE: neighbours kept together), 2,000 test digits show how far "
                "apart the classes sit at that layer. Point at a dot to see its digit.")
        with ui.row().classes("items-center gap-3"):
            self.embed_layer = ui.select({}, label="Layer").classes("w-80").props("data-embed-layer")
            self.method = ui.toggle({"pca": "PCA", "tsne": "t-SNE"}, value="pca").props("no-caps data-method")
            self.embed_work = WorkRow([Work(f"Project {FEATURE_EXAMPLES:,} test digits", "scatter_plot",
                                            self.show_embedding, "Compute the layer's output for each digit and "
                                            "project it to 2-D (t-SNE takes about half a minute).")],
                                      "embed", "How far the projection is")
        with ui.row().classes("w-full gap-4 items-start flex-wrap"):
            self.chart = ui.echart(self._scatter_options([]), on_point_click=self._clicked) \
                .style("height: 420px; width: 560px").props("data-embedding")
            self.chart.on("chart:mouseover", self._hovered, ["seriesName", "dataIndex"], throttle=0.1)
            with ui.column().classes("gap-1"):
                self.clicked_picture = ui.image("").classes("w-[112px] border").props("no-transition no-spinner")
                self.clicked_picture.set_visibility(False)          # until a point is clicked
                self.clicked_label = ui.label("").classes("text-sm").props("data-clicked")
        self.embed_text = ui.label("").classes("text-sm font-bold").props('data-embed-text aria-live="polite"')

        ui.label("Watch the classes separate while it learns").classes("text-lg font-bold mt-2")
        explain(f"A fresh copy of the network (the same layers, new random weights) trains for one epoch on "
                f"{WATCH_IMAGES:,} digits; the chosen layer's picture of the 2,000 test digits is taken twelve times "
                "on the way, all on the same axes. Slide through them.")
        self.watch_work = WorkRow([Work("Train a fresh copy and watch", "play_arrow", self.watch_training,
                                        "One epoch of training, a picture every few steps (a few seconds).")],
                                  "watch", "How far the fresh copy has trained")
        self.watch_chart = ui.echart(self._scatter_options([])).style("height: 380px; width: 560px") \
            .props("data-watch-chart")
        self.watch_slider = ui.slider(min=0, max=1, value=0, on_change=self._show_moment).classes("w-[560px]") \
            .props("data-watch-slider label")
        self.watch_text = ui.label("").classes("text-sm font-bold").props('data-watch-text aria-live="polite"')
        self.watched = None

    # ---- the model changed ----
    async def use_model(self, model) -> None:
        pictures = await self._pictures(model)
        options = {picture.index: picture.title for picture in pictures[:-1]}
        self.layer_select.set_options(options, value=next(iter(options), None))
        layers = {INPUT_LAYER: "the input pixels", **options, len(model.layers) - 1: "the output scores"}
        self.embed_layer.set_options(layers, value=list(layers)[-2] if len(layers) > 2 else INPUT_LAYER)

    async def _pictures(self, model):
        found = self.current_input()
        picture = found[0][0] if found is not None else np.zeros((28, 28), np.float32)
        return await self.compute(lambda: activation_pictures(model, read_digit(model, picture)))

    # ---- deep features ----
    async def show_features(self, *_) -> None:
        model, data, index = self.model(), self.data(), self.layer_select.value
        if model is None or index is None:
            return
        pictures = {picture.index: picture for picture in await self._pictures(model)}
        shown = pictures.get(index)
        if shown is None:
            return
        self.layer_picture.set_source(png_data_uri(shown.pixels, scale=max(1, 320 // shown.pixels.shape[1])))
        self.layer_caption.text = f"{shown.title}, for the input above. {shown.caption}"
        self._show_filters(model, index)
        if data is None:
            return
        key = (id(model), index)
        if key not in self.top_cache:
            examples = data.x_test[:FEATURE_EXAMPLES]
            self.top_cache = {key: await self.compute(top_activating, model, index, examples, TOP)}
        top = self.top_cache[key]
        n_units = len(top.indices)
        unit = int(self.unit_input.value or 0)
        if not 0 <= unit < n_units:
            self.top_caption.text = f"This layer has units 0 to {n_units - 1}; pick one of those."
            return
        digits = np.stack([grayscale(data.x_test[i][0], 0, 1) for i in top.indices[unit]])
        strip = tile_images(digits, columns=TOP, gap=2)
        self.top_picture.set_source(png_data_uri(strip, scale=max(1, 470 // strip.shape[1])))
        responses = ", ".join(f"{value:.2f}" for value in top.responses[unit])
        self.top_caption.text = (f"Unit {unit} of {n_units}: the {TOP} test digits (of {FEATURE_EXAMPLES:,}) it "
                                 f"responds to most, mean outputs {responses}.")

    def _show_filters(self, model, index: int) -> None:
        """The weights of the convolution that feeds the chosen layer, when it reads the pixels themselves."""
        filters = [(at, weights) for at, weights in conv_filters(model) if at < index]
        first = filters[0] if filters and len(filters) == 1 and filters[0][1].shape[1] == 1 else None
        self.filters_box.set_visibility(first is not None)
        if first is None:
            return
        weights = first[1][:, 0]                                     # (filters, kh, kw): one input channel
        limit = float(np.abs(weights).max()) or 1.0
        tiles = np.stack([diverging_colors(kernel, limit) for kernel in weights])
        grid = tile_images(tiles, columns=4, gap=1, background=200)
        self.filters_picture.set_source(png_data_uri(grid, scale=max(1, 200 // grid.shape[1])))
        self.filters_caption.text = (f"The {len(weights)} filters of the first convolution ({weights.shape[1]}×"
                                     f"{weights.shape[2]} weights; orange +, blue −). Each slides over the digit; "
                                     "the maps on the left show where each one matched.")

    # ---- the embedding ----
    async def show_embedding(self) -> None:
        model, data = self.model(), self.data()
        work = self.embed_work
        if model is None or data is None:
            work.status = "Pick a model first (and wait for the digits to load)."
            return
        layer, method = self.embed_layer.value, self.method.value
        x, labels = data.x_test[:FEATURE_EXAMPLES], data.y_test[:FEATURE_EXAMPLES]
        work.status = f"Projecting with {'t-SNE' if method == 'tsne' else 'PCA'}…"

        def project():
            features = x.reshape(len(x), -1) if layer == INPUT_LAYER else layer_representation(model, x, layer)
            points = embed(features, method, seed=0)
            return points, neighbour_agreement(points, labels)

        points, agreement = await self.compute(project)
        self.embedded = labels
        self.chart.options.update(self._scatter_options([(points[labels == k], k) for k in range(10)]))
        self.chart.update()
        name = self.embed_layer.options[layer]
        self.embed_text.text = describe_embedding(name[0].upper() + name[1:], method, agreement, 10)
        work.finish("")

    async def watch_training(self) -> None:
        model, data = self.model(), self.data()
        work = self.watch_work
        if model is None or data is None:
            work.status = "Pick a model first (and wait for the digits to load)."
            return
        layer = self.embed_layer.value if self.embed_layer.value not in (None, INPUT_LAYER) else len(model.layers) - 1
        work.status = "Training a fresh copy…"
        x, labels = data.x_test[:FEATURE_EXAMPLES], data.y_test[:FEATURE_EXAMPLES]
        self.watched = (await self.compute(embedding_while_training, model, data.x_train[:WATCH_IMAGES],
                                           data.y_train[:WATCH_IMAGES], x, labels, layer), labels)
        moments = len(self.watched[0].steps)
        self.watch_slider.props(f"max={moments - 1}")
        self.watch_slider.value = moments - 1
        self._show_moment()
        work.finish("")

    def _show_moment(self, *_) -> None:
        if self.watched is None:
            return
        result, labels = self.watched
        moment = int(min(self.watch_slider.value or 0, len(result.steps) - 1))
        points = result.points[moment]
        self.watch_chart.options.update(self._scatter_options([(points[labels == k], k) for k in range(10)]))
        self.watch_chart.update()
        self.watch_text.text = describe_training_embedding(result, moment)

    def _scatter_options(self, groups) -> dict:
        return {
            "animation": False,
            "legend": {"top": 0, "itemWidth": 10, "itemHeight": 10},
            "grid": {"left": 30, "right": 10, "top": 40, "bottom": 20},
            "tooltip": {"trigger": "item", "formatter": "a written {a}"},
            "xAxis": {"type": "value", "axisLabel": {"show": False}, "splitLine": {"show": False}, "scale": True},
            "yAxis": {"type": "value", "axisLabel": {"show": False}, "splitLine": {"show": False}, "scale": True},
            "series": [{"type": "scatter", "name": str(k), "symbolSize": 5, "itemStyle": {"color": CLASS_HEX[k]},
                        "data": np.round(points, 3).tolist()} for points, k in groups],
        }

    def _clicked(self, event) -> None:
        self._show_digit(event.series_name, event.data_index)

    def _hovered(self, event) -> None:
        self._show_digit(event.args.get("seriesName"), event.args.get("dataIndex"))

    def _show_digit(self, series_name, position) -> None:
        """The digit under the pointer: series k holds class k's digits in the order they were embedded."""
        if self.embedded is None or series_name is None or position is None:
            return
        labels = self.embedded
        k = int(series_name)
        index = int(np.flatnonzero(labels == k)[int(position)])
        data = self.data()
        self.clicked_picture.set_source(png_data_uri(grayscale(data.x_test[index][0], 0, 1), scale=4))
        self.clicked_picture.set_visibility(True)
        self.clicked_label.text = f"Test image {index}: a written {k}."

