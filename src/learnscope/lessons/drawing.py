"""The draw lesson: a digit drawn with the mouse, read by a network trained on MNIST, layer by layer.

The path a drawing takes: strokes (polylines in canvas pixels) -> a grayscale picture drawn with a marker-wide
pen (rasterize_strokes) -> MNIST's own preparation, 28×28 and centred (learnscope.data.images.to_mnist_format)
-> the network in eval mode, with every layer's output caught on the way (read_digit). A network only reads
drawings prepared the way its training digits were, which is why the 28×28 picture is shown to the learner.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learnscope.core import functions
from learnscope.core.validation import check_int, describe
from learnscope.data.images import to_mnist_format
from learnscope.layers import Softmax
from learnscope.layers.activations import Activation
from learnscope.lessons.jobs import BackgroundJob
from learnscope.lessons.pictures import diverging_colors, tile_images
from learnscope.model import Sequential

#: The drawing pad's size in pixels (a 10× view of MNIST's 28×28)
CANVAS_SIZE = 280
#: Pen width on the 280-pixel pad: a digit ~200 px tall shrinks to 20 px, so the stroke becomes ~2 px wide,
#: the width of MNIST's pen strokes.
PEN_WIDTH = 20
DIGIT_INPUT_SHAPE = (1, 28, 28)
DIGIT_CLASS_NAMES = [str(digit) for digit in range(10)]
#: The quick model: the MNIST recipe with smaller hidden layers; about 2 s of training here, ~97.5% on the test set
QUICK_HIDDEN = (128, 64)
QUICK_EPOCHS = 2
#: The quick CNN: the CNN recipe for one epoch on all 60,000 training images (98.7% in about 10 s here)
QUICK_CNN_IMAGES = 60_000


# -- strokes to a picture ----------------------------------------------------------------------------------------
def rasterize_strokes(strokes, size: int = CANVAS_SIZE, pen_width: float = PEN_WIDTH) -> np.ndarray:
    """Polylines [[(x, y), ...], ...] in pixels of a size×size canvas -> (size, size) float32 in [0, 1], white ink
    on black. A stroke of one point is a dot; points outside the canvas are clipped by the drawing."""
    from PIL import Image, ImageDraw

    size = check_int(size, "size", "rasterize_strokes", minimum=2, maximum=4096)
    if not isinstance(strokes, (list, tuple)):
        raise TypeError(f"rasterize_strokes expected a list of strokes (each a list of (x, y) points), "
                        f"got {describe(strokes)}.")
    image = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(image)
    radius = pen_width / 2
    for number, stroke in enumerate(strokes):
        points = _stroke_points(stroke, number)
        if len(points) > 1:
            pen.line(points, fill=255, width=round(pen_width), joint="curve")
        for x, y in (points[0], points[-1]) if points else ():     # round caps, and the dot of a single click
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(image, dtype=np.float32) / 255.0


def _stroke_points(stroke, number: int) -> list[tuple[float, float]]:
    try:
        points = [(float(x), float(y)) for x, y in stroke]
    except (TypeError, ValueError):
        raise ValueError(f"rasterize_strokes expected stroke {number} as a list of (x, y) number pairs, "
                         f"got {stroke!r:.80}.") from None
    if not all(math.isfinite(x) and math.isfinite(y) for x, y in points):
        raise ValueError(f"rasterize_strokes expected finite coordinates, got NaN or infinity in stroke {number}.")
    return points


def strokes_to_digit(strokes, size: int = CANVAS_SIZE) -> np.ndarray:
    """Strokes on the pad -> the (28, 28) float32 picture in [0, 1] an MNIST network reads (all zeros if empty)."""
    return to_mnist_format(rasterize_strokes(strokes, size))


# -- reading a digit ---------------------------------------------------------------------------------------------
@dataclass
class LayerActivation:
    """One layer's output for the drawn digit (batch axis removed), e.g. (128,) or (16, 12, 12)."""

    index: int
    name: str                   # "Dense", "ReLU", ...
    values: np.ndarray


@dataclass
class DigitReading:
    """What the network made of one picture: a probability per class and every layer's output."""

    probabilities: np.ndarray               # (n_classes,) float32, sums to 1
    activations: list[LayerActivation]      # one per layer of the model, in order

    def plot(self):
        """Its probability for each digit, the answer highlighted (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_reading

        return plot_reading(self)

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))


def softmax(logits: np.ndarray) -> np.ndarray:
    """(..., K) scores -> float32 probabilities along the last axis (core.functions.softmax, in the pictures' dtype)."""
    return functions.softmax(logits).astype(np.float32)


def read_digit(model: Sequential, picture) -> DigitReading:
    """(28, 28) picture in [0, 1] -> the model's probabilities for each class and every layer's output, in eval
    mode. The layer outputs are caught with a forward hook, removed again before returning."""
    picture = np.asarray(picture, dtype=model.dtype)
    if picture.shape != DIGIT_INPUT_SHAPE[1:]:
        raise ValueError(f"read_digit expected a 28×28 picture, got shape {picture.shape}. "
                         "Prepare it with to_mnist_format (or strokes_to_digit).")
    activations: list[LayerActivation] = []

    def catch(index, layer, _inputs, output):
        activations.append(LayerActivation(index, type(layer).__name__, np.array(output[0], dtype=np.float32)))

    handle = model.register_hook("forward", catch)
    try:
        output = model.forward(picture.reshape(1, *DIGIT_INPUT_SHAPE), train=False)[0]
    finally:
        handle.remove()
    # a model may end in its own Softmax layer; otherwise its outputs are scores (logits)
    probabilities = np.asarray(output, dtype=np.float32) if isinstance(model.layers[-1], Softmax) else softmax(output)
    return DigitReading(probabilities, activations)


def shown_layers(model: Sequential) -> list[int]:
    """Indices of the layers whose outputs the page draws: each hidden layer after its activation function (what
    the next layer sees) and the output layer. A model without activation layers shows its Dense/Conv outputs."""
    last = len(model.layers) - 1
    chosen = [i for i, layer in enumerate(model.layers) if isinstance(layer, Activation) and i != last]
    if not chosen:
        chosen = [i for i, layer in enumerate(model.layers) if layer.params and i != last]
    return [*chosen, last]


@dataclass
class ActivationPicture:
    """A layer's outputs as a picture: pixels (h, w, 3) uint8 and a caption saying what they are."""

    index: int
    title: str
    caption: str
    pixels: np.ndarray


def activation_pictures(model: Sequential, reading: DigitReading) -> list[ActivationPicture]:
    """The outputs of the shown_layers as heatmaps, orange for positive, blue for negative, white for zero (each
    layer scaled to its own largest |value|). Vectors become a near-square grid, feature maps one tile each."""
    by_index = {activation.index: activation for activation in reading.activations}
    pictures = []
    shown = shown_layers(model)
    for number, index in enumerate(shown, start=1):
        values = by_index[index].values
        is_output = index == shown[-1]
        if values.ndim == 3:                                    # (channels, height, width) feature maps
            limit = _limit(values)
            tiles = np.stack([diverging_colors(channel, limit) for channel in values])
            pixels = tile_images(tiles, columns=math.ceil(math.sqrt(len(tiles))), gap=1, background=200)
            what = f"{values.shape[0]} feature maps of {values.shape[1]}×{values.shape[2]}"
        else:
            flat = values.reshape(-1)
            columns = len(flat) if is_output else _grid_columns(len(flat))
            pixels = _vector_grid(flat, columns)
            what = f"{len(flat)} units"
        if is_output:
            title = "Output layer: a score per digit"
            caption = (f"The {len(values.reshape(-1))} output scores, 0 on the left to 9 on the right (orange "
                       "high, blue negative); softmax turns them into the probabilities above.")
        else:
            title = f"Hidden layer {number} ({by_index[index].name}, {what})"
            caption = ("Each square is one neuron: orange is active, white is silent"
                       + (", blue is negative." if values.min() < 0 else "."))
        pictures.append(ActivationPicture(index, title, caption, pixels))
    return pictures


def _limit(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def _grid_columns(count: int) -> int:
    """A grid about twice as wide as tall fits under the other pictures; a column count that divides the units
    leaves no empty cells (128 units: 16×8, 64: 16×4, 100: 20×5)."""
    start = max(1, math.ceil(math.sqrt(2 * count)))
    return next((columns for columns in range(start, 2 * start + 1) if count % columns == 0), start)


def _vector_grid(values: np.ndarray, columns: int) -> np.ndarray:
    rows = -(-len(values) // columns)
    pixels = np.full((rows * columns, 3), 220, dtype=np.uint8)      # unused cells light gray, not "silent" white
    pixels[:len(values)] = diverging_colors(values, _limit(values))
    return pixels.reshape(rows, columns, 3)


# -- which models can read digits ---------------------------------------------------------------------------------
def check_digit_model(model: Sequential, source: str, class_names=None) -> None:
    """Raise ValueError (saying what is expected and what to do) unless `model` reads 28×28 pictures into 10
    digit classes. source: how the message names the model, e.g. the file it came from."""
    if not isinstance(model, Sequential):
        raise TypeError(f"{source} is {describe(model)}, not a learnscope Sequential model.")
    if class_names is not None and list(map(str, class_names)) != DIGIT_CLASS_NAMES:
        shown = ", ".join(map(str, list(class_names)[:4])) + (", ..." if len(class_names) > 4 else "")
        raise ValueError(f"{source} tells apart {len(class_names)} classes ({shown}), not the digits 0–9. "
                         "Pick a model trained on MNIST (the MNIST page, or 'learnscope train mnist').")
    try:
        output = model.forward(np.zeros((1, *DIGIT_INPUT_SHAPE), dtype=model.dtype), train=False)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{source} does not take 28×28 pictures, so it cannot read the drawing ({err}). "
                         "Pick a model trained on MNIST (the MNIST page, or 'learnscope train mnist').") from None
    if output.shape != (1, 10):
        raise ValueError(f"{source} gives {output.shape[1:]} outputs per picture; a digit model gives 10 (one per "
                         "digit). Pick a model trained on MNIST.")


def list_saved_models(models_dir) -> list[Path]:
    """The model files (*.safetensors) in models_dir, newest first; none if the folder does not exist yet."""
    folder = Path(models_dir)
    if not folder.is_dir():
        return []
    files = [path for path in folder.glob("*.safetensors") if path.is_file()]
    return sorted(files, key=lambda path: (-path.stat().st_mtime, path.name))


def load_digit_model(path) -> tuple[Sequential, dict]:
    """Load a saved model and check that it reads digits; ValueError (with what to do) for any other file."""
    from learnscope.model import load_model_with_metadata

    path = Path(path)
    try:
        model, metadata = load_model_with_metadata(path)
    except FileNotFoundError as err:
        raise ValueError(str(err)) from None
    shape = metadata.get("input_shape")
    if shape is not None and tuple(shape) != DIGIT_INPUT_SHAPE:
        raise ValueError(f"{path.name} was trained on inputs of shape {tuple(shape)} "
                         f"({metadata.get('dataset', 'unknown data')}), not on 28×28 pictures, so it cannot read "
                         "the drawing. Pick a model trained on MNIST.")
    check_digit_model(model, path.name, metadata.get("class_names") or None)
    return model, metadata


def newest_digit_model(models_dir) -> tuple[Path, Sequential, dict] | None:
    """The newest model file in models_dir that reads digits, as (path, model, metadata); None if there is none.
    Files that are not digit models are passed over (the Draw page names them when chosen)."""
    for path in list_saved_models(models_dir):
        try:
            return (path, *load_digit_model(path))
        except (ValueError, TypeError, OSError):
            continue
    return None


# -- the quick model -----------------------------------------------------------------------------------------------
@dataclass
class QuickModel:
    model: Sequential
    test_accuracy: float
    seconds: float


def train_quick_digit_model(data_dir=None, seed: int = 0, download: bool = False, progress=None,
                            should_stop=None, model: str = "mlp") -> QuickModel:
    """A small MNIST MLP (the MNIST recipe with hidden layers of 128 and 64, 2 epochs) in a few seconds, or with
    model="cnn" the CNN recipe for one epoch on QUICK_CNN_IMAGES images.
    progress(fraction) is called after each step; should_stop() -> True ends training early.
    Raises DatasetUnavailable (where it looked, how to fetch MNIST) when MNIST is not found or data_dir lacks it:
    8×8 digits blown up to 28×28 look nothing like a drawing, so they are no stand-in here."""
    from learnscope.data import load_mnist
    from learnscope.data.sources import DatasetUnavailable
    from learnscope.recipes import default_recipe
    from learnscope.train import Callback, train_recipe

    try:
        data = load_mnist(data_dir, download=download, progress=False)
    except (DatasetUnavailable, FileNotFoundError) as err:
        raise DatasetUnavailable(f"{err} The quick model needs MNIST: run 'learnscope data fetch mnist' in a "
                                 "terminal, or start the lab without --no-download.") from None
    if model == "cnn":
        recipe = default_recipe("mnist", "cnn").with_options(epochs=1, train_samples=QUICK_CNN_IMAGES, seed=seed)
    else:
        recipe = default_recipe("mnist").with_options(hidden=QUICK_HIDDEN, epochs=QUICK_EPOCHS, seed=seed)

    class Report(Callback):
        def on_batch_end(self, step, logs):
            if progress is not None:
                progress((step + 1) / (self.trainer.epochs * self.trainer.steps_per_epoch))
            if should_stop is not None and should_stop():
                self.trainer.stop("stopped on request")

    trained = train_recipe(data, recipe, callbacks=[Report()])
    return QuickModel(trained.model, float(trained.evaluation.accuracy), trained.seconds)


class QuickTraining(BackgroundJob):
    """train_quick_digit_model as a background job: the page polls `progress`, `status`, `result` and `error`.
    on_done(result) runs in the job's thread when training succeeds (the page publishes the model there)."""

    def __init__(self, data_dir=None, seed: int = 0, download: bool = False, on_done=None):
        super().__init__("quick-digit-model")
        self.data_dir, self.seed, self.download, self.on_done = data_dir, seed, download, on_done
        self.result: QuickModel | None = None
        self.error = ""
        self.publish({"status": "idle", "progress": 0.0})

    @property
    def status(self) -> str:
        """idle | running | done | failed | stopped"""
        return self.latest()["status"]

    @property
    def progress(self) -> float:
        return self.latest()["progress"]

    def run(self) -> None:
        from learnscope.data.sources import DatasetUnavailable

        self.publish({"status": "running", "progress": 0.0})
        try:
            result = train_quick_digit_model(self.data_dir, self.seed, self.download, progress=self._set_progress,
                                             should_stop=lambda: self.control.stop_requested)
        except (DatasetUnavailable, ValueError, OSError) as err:
            self.error = str(err)
            self.publish({"status": "failed", "progress": self.progress})
            return
        if self.control.stop_requested:
            self.publish({"status": "stopped", "progress": self.progress})
            return
        if self.on_done is not None:
            self.on_done(result)
        self.result = result
        self.publish({"status": "done", "progress": self.progress})

    def failed(self, message: str) -> None:
        self.error = message
        self.publish({"status": "failed", "progress": self.progress})

    def _set_progress(self, fraction: float) -> None:
        self.publish({"status": "running", "progress": fraction})
