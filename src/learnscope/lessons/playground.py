"""The playground lesson: a small network learns 2-D points, and every part of it can be drawn.

`PlaygroundSetup` is every setting of the playground as plain data (it round-trips through a short URL
query); `PlaygroundSession` owns the data, the model and the optimizer built from a setup, trains them
step by step, and turns what the network computes into pictures (the decision boundary, one small map
per hidden neuron) and plain numbers (the diagram's weights and biases). No UI code here: the lab's page
only shows what these functions return.

The input plane is the square [-PLANE_LIMIT, PLANE_LIMIT]² that every toy set of learnscope.data.toy2d
lives in; picture row 0 is its top (x₂ = +PLANE_LIMIT), column 0 its left edge (x₁ = −PLANE_LIMIT).
"""

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote

import numpy as np

from learnscope import losses
from learnscope.core import functions
from learnscope.core.dtype import get_default_dtype
from learnscope.data.batches import minibatch_indices
from learnscope.data.splits import train_test_split
from learnscope.data.table import load_csv
from learnscope.data.toy2d import TOY_DATASETS, make_toy
from learnscope.layers import BatchNorm, Dense, Dropout, Identity, ReLU, Sigmoid, Tanh
from learnscope.lessons.pictures import NEGATIVE, POSITIVE, diverging_colors, hex_color, png_data_uri
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import get_optimizer
from learnscope.train import History, evaluate
from learnscope.train.step import train_step

PLANE_LIMIT = 1.8            # the drawn plane is [-1.8, 1.8]²: noisy xor corners and moons stay inside
N_SAMPLES = 300              # points per generated set (train + test)
MAX_HIDDEN_LAYERS = 6
MAX_NEURONS = 12
MAX_CLASSES = 5
MAX_BATCH_SIZE = 1000
MAX_STOP_AFTER = 1_000_000
MAX_WEIGHT = 100.0           # an edited weight beyond this would only saturate every unit after it
MAX_POINTS = 2000            # points a learner may add or upload

#: the toy sets of data.toy2d, as the playground groups them
CLASSIFICATION_SETS = tuple(name for name, entry in TOY_DATASETS.items() if entry.is_classification)
REGRESSION_SETS = tuple(name for name, entry in TOY_DATASETS.items() if not entry.is_classification)
DATASETS = CLASSIFICATION_SETS + REGRESSION_SETS
MULTI_CLASS_SETS = tuple(name for name, entry in TOY_DATASETS.items() if "n_classes" in entry.options)

#: feature key (used in URLs) -> label shown to the learner
FEATURES = {
    "x1": "x₁", "x2": "x₂", "x1sq": "x₁²", "x2sq": "x₂²", "x1x2": "x₁x₂", "sin1": "sin(πx₁)", "sin2": "sin(πx₂)",
}
#: feature key -> what it means, in plain words (tooltips)
FEATURE_HELP = {
    "x1": "the point's horizontal position",
    "x2": "the point's vertical position",
    "x1sq": "the horizontal position squared: large on the left and right edges",
    "x2sq": "the vertical position squared: large at the top and bottom",
    "x1x2": "the product of both positions: positive in the top-right and bottom-left quarters",
    "sin1": "a wave along the horizontal axis (one and a half periods across the plane)",
    "sin2": "a wave along the vertical axis (one and a half periods across the plane)",
}
ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid, "linear": Identity}
LOSSES = ("cross-entropy", "mse")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")

#: control key -> its name on the page (teacher mode can hide each of these)
CONTROLS = {
    "dataset": "Data set", "classes": "Classes", "noise": "Noise", "train_fraction": "Training share",
    "regenerate": "Regenerate", "add_points": "Click to add points", "upload": "Upload CSV",
    "features": "Input features", "layers": "Hidden layers", "activation": "Activation", "loss": "Loss",
    "optimizer": "Optimizer", "lr": "Learning rate", "batch_size": "Batch size", "l2": "L2", "dropout": "Dropout",
    "batch_norm": "Batch norm", "stop_after": "Stop after", "edit_weights": "Edit weights",
}

#: class k is drawn in CLASS_COLORS[k]; classes 0 and 1 are the playground's blue and orange
CLASS_COLORS = np.array([NEGATIVE, POSITIVE, [44, 160, 44], [214, 39, 40], [148, 103, 189]], dtype=np.float32)


def class_color_hex(label: int) -> str:
    """'#rrggbb' of class `label` (points and legend use the same colour as the boundary)."""
    return hex_color(CLASS_COLORS[label % len(CLASS_COLORS)])


def point_colors(labels, regression: bool) -> list[str]:
    """'#rrggbb' per point: its class colour, or for regression its value on the diverging scale (orange +,
    blue −) scaled to the largest |value| among these points."""
    labels = np.asarray(labels)
    if not regression:
        return [class_color_hex(int(label)) for label in labels]
    limit = max(1e-6, float(np.abs(labels).max())) if labels.size else 1.0
    return [hex_color(rgb) for rgb in diverging_colors(labels, limit=limit)]


# ---- the setup --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaygroundSetup:
    """Every setting of the playground. `validate()` checks it; `to_query()` / `from_query()` put it in a URL."""

    dataset: str = "xor"
    n_classes: int = 2                  # used by gaussians and spiral; every other classification set has 2
    noise: float = 0.2
    train_fraction: float = 0.5
    seed: int = 1
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    loss: str = "cross-entropy"
    optimizer: str = "sgd"
    lr: float = 0.03
    batch_size: int | None = 10         # None: the full training set in one batch
    l2: float = 0.0
    dropout: float = 0.0
    batch_norm: bool = False
    stop_after: int = 0                 # 0: train until paused
    hidden_controls: tuple[str, ...] = ()

    @property
    def is_regression(self) -> bool:
        return self.dataset in REGRESSION_SETS

    @property
    def effective_classes(self) -> int:
        """Classes the data really has: 1 output for regression, n_classes for gaussians/spiral, else 2."""
        if self.is_regression:
            return 0
        return self.n_classes if self.dataset in MULTI_CLASS_SETS else 2

    def problems(self) -> dict[str, str]:
        """field -> what is wrong with it, what was expected and how to fix it (empty: the setup is valid)."""
        found: dict[str, str] = {}

        def number(name, value, low, high, example, what, integer=False):
            kind = "a whole number" if integer else "a number"
            ok_type = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)
            if not ok_type or not math.isfinite(value) or not low <= value <= high:
                found[name] = (f"{what} must be {kind} from {low:g} to {high:g}, got {value!r}. "
                               f"Try {example}.")

        if self.dataset not in DATASETS:
            found["dataset"] = (f"Data set must be one of {', '.join(DATASETS)}, got {self.dataset!r}. "
                                "Pick one of those.")
        number("n_classes", self.n_classes, 2, MAX_CLASSES, 3, "The number of classes", integer=True)
        number("noise", self.noise, 0, 1, 0.2, "Noise")
        number("train_fraction", self.train_fraction, 0.1, 0.9, 0.5, "The training share")
        number("seed", self.seed, 0, 2**31 - 1, 1, "The seed", integer=True)
        if not self.features or any(name not in FEATURES for name in self.features) \
                or len(set(self.features)) != len(self.features):
            found["features"] = (f"Input features must be one or more of {', '.join(FEATURES)} (each once), got "
                                 f"{', '.join(self.features) or 'none'}. Tick at least one feature, e.g. x1.")
        if len(self.hidden) > MAX_HIDDEN_LAYERS or any(
                isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_NEURONS for n in self.hidden):
            found["hidden"] = (f"Hidden layers must be at most {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_NEURONS} "
                               f"neurons each, got {format_hidden(self.hidden)}. Try e.g. 4, 2.")
        if self.activation not in ACTIVATIONS:
            found["activation"] = (f"Activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}. "
                                   "Pick one of those.")
        if self.loss not in LOSSES:
            found["loss"] = f"Loss must be one of {', '.join(LOSSES)}, got {self.loss!r}. Pick one of those."
        elif self.is_regression and self.loss != "mse":
            found["loss"] = (f"The {self.dataset} set is regression (a number per point, not a class), so "
                             "cross-entropy does not apply. Choose the mse loss.")
        if self.optimizer not in OPTIMIZERS:
            found["optimizer"] = (f"Optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}. "
                                  "Pick one of those.")
        number("lr", self.lr, 1e-6, 10, 0.03, "The learning rate")
        if self.lr == 0 and "lr" in found:
            found["lr"] += " At 0 nothing would ever change."
        if self.batch_size is not None:
            number("batch_size", self.batch_size, 1, MAX_BATCH_SIZE, 10, "The batch size", integer=True)
        if self.batch_norm and self.batch_size == 1 and "batch_size" not in found:
            found["batch_size"] = ("Batch norm needs at least 2 examples per batch (one example has no spread to "
                                   "normalise by), got batch size 1. Use a batch size of 2 or more, or turn batch "
                                   "norm off.")
        number("l2", self.l2, 0, 1, 0.001, "L2")
        number("dropout", self.dropout, 0, 0.9, 0.1, "Dropout")
        if not isinstance(self.batch_norm, bool):
            found["batch_norm"] = f"Batch norm must be on or off, got {self.batch_norm!r}."
        number("stop_after", self.stop_after, 0, MAX_STOP_AFTER, 500, "Stop after (epochs, 0 = never)", integer=True)
        unknown = [name for name in self.hidden_controls if name not in CONTROLS]
        if unknown:
            found["hidden_controls"] = (f"Hidden controls must be among {', '.join(CONTROLS)}, got "
                                        f"{', '.join(unknown)}. Remove those names.")
        return found

    def validate(self) -> "PlaygroundSetup":
        """Return self if valid, else raise ValueError listing every problem."""
        found = self.problems()
        if found:
            raise ValueError(" ".join(found.values()))
        return self

    def replace(self, **changes) -> "PlaygroundSetup":
        return dataclasses.replace(self, **changes)

    def with_dataset(self, name: str) -> "PlaygroundSetup":
        """Switch data set; the loss follows the task (mse for regression, cross-entropy back for classes)."""
        loss = self.loss
        if name in REGRESSION_SETS:
            loss = "mse"
        elif self.dataset in REGRESSION_SETS:
            loss = "cross-entropy"
        return self.replace(dataset=name, loss=loss)

    # ---- the URL ------------------------------------------------------------------------------

    def to_query(self) -> str:
        """A short readable query string holding every setting that differs from the defaults, e.g.
        'data=spiral&classes=3&hidden=8-8&act=relu'. from_query(to_query(s)) == s exactly."""
        default = PlaygroundSetup()
        parts = []
        for key, attribute in _QUERY_KEYS.items():
            value = getattr(self, attribute)
            if value != getattr(default, attribute):
                parts.append(f"{key}={quote(_encode(attribute, value), safe=',-.+')}")
        return "&".join(parts)

    @classmethod
    def from_query(cls, query: str) -> "PlaygroundSetup":
        """Parse a query string written by to_query (missing keys keep their defaults); a bad one raises
        ValueError naming the key, the value and what it should look like."""
        if not isinstance(query, str):
            raise TypeError(f"from_query expected the URL's query string, got {type(query).__name__}.")
        changes = {}
        for key, text in parse_qsl(query.lstrip("?"), keep_blank_values=True):
            attribute = _QUERY_KEYS.get(key)
            if attribute is None:
                known = ", ".join(_QUERY_KEYS)
                raise ValueError(f"The link holds an unknown setting {key!r}; known settings are {known}. "
                                 "Remove it from the link.")
            changes[attribute] = parse_field(attribute, text)
        setup = cls(**changes)
        found = setup.problems()
        if found:
            raise ValueError("The link holds settings the playground cannot use: " + " ".join(found.values()))
        return setup


_QUERY_KEYS = {
    "data": "dataset", "classes": "n_classes", "noise": "noise", "train": "train_fraction", "seed": "seed",
    "features": "features", "hidden": "hidden", "act": "activation", "loss": "loss", "opt": "optimizer",
    "lr": "lr", "batch": "batch_size", "l2": "l2", "dropout": "dropout", "bn": "batch_norm",
    "stop": "stop_after", "hide": "hidden_controls",
}
_INT_FIELDS = ("n_classes", "seed", "stop_after")
_FLOAT_FIELDS = ("noise", "train_fraction", "lr", "l2", "dropout")
_FIELD_NAMES = {
    "n_classes": "Classes", "seed": "Seed", "stop_after": "Stop after", "noise": "Noise",
    "train_fraction": "Training share", "lr": "Learning rate", "l2": "L2", "dropout": "Dropout",
    "batch_size": "Batch size", "hidden": "Hidden layers", "features": "Input features",
    "batch_norm": "Batch norm", "hidden_controls": "Hidden controls",
}


def _encode(attribute: str, value) -> str:
    if attribute == "hidden":
        return "-".join(str(n) for n in value) if value else "none"
    if attribute in ("features", "hidden_controls"):
        return ",".join(value)
    if attribute == "batch_size":
        return "full" if value is None else str(value)
    if attribute == "batch_norm":
        return "1" if value else "0"
    return repr(value) if isinstance(value, float) else str(value)


def format_hidden(hidden) -> str:
    """(4, 2) -> '4, 2'; () -> 'none' (what the hidden-layers field shows)."""
    return ", ".join(str(n) for n in hidden) if hidden else "none"


def parse_field(attribute: str, text: str):
    """Typed value of one setting from what a learner typed or a URL holds; a ValueError says what to type.
    Text fields: numbers ('0.03', '1e-3'), batch size ('10' or 'full'), hidden layers ('4, 2', '4-2' or 'none'),
    lists ('x1,x2'), on/off ('1'/'0')."""
    text = str(text).strip()
    name = _FIELD_NAMES.get(attribute, attribute)
    if attribute in _INT_FIELDS or attribute == "batch_size":
        if attribute == "batch_size" and text.lower() in ("full", "all"):
            return None
        if not re.fullmatch(r"[+-]?\d+", text):
            extra = " or 'full' for the whole training set" if attribute == "batch_size" else ""
            raise ValueError(f"{name} must be a whole number{extra}, got {text!r}. Type digits only, e.g. 10.")
        return int(text)
    if attribute in _FLOAT_FIELDS:
        try:
            value = float(text.replace(",", ".")) if text else float("nan")
        except ValueError:
            value = None
        if value is None or not math.isfinite(value):
            raise ValueError(f"{name} must be a number, got {text!r}. Type e.g. 0.03 or 3e-2.")
        return value
    if attribute == "hidden":
        if text.lower() == "none":
            return ()
        pieces = [piece.strip() for piece in re.split(r"[,\-\s]+", text) if piece.strip()]
        if not pieces or not all(re.fullmatch(r"\d+", piece) for piece in pieces):
            raise ValueError(f"{name} must be neuron counts separated by commas, got {text!r}. "
                             f"Type e.g. 4, 2 (two layers, up to {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_NEURONS}).")
        return tuple(int(piece) for piece in pieces)
    if attribute in ("features", "hidden_controls"):
        return tuple(piece.strip() for piece in text.split(",") if piece.strip())
    if attribute == "batch_norm":
        if text.lower() in ("1", "true", "on", "yes"):
            return True
        if text.lower() in ("0", "false", "off", "no", ""):
            return False
        raise ValueError(f"{name} must be 1 (on) or 0 (off), got {text!r}.")
    return text


# ---- features and data ------------------------------------------------------------------------


def feature_map(points, features) -> np.ndarray:
    """(N, 2) points (x₁, x₂) -> (N, F) float32 inputs, one column per feature key in `features`, in order."""
    points = np.asarray(points, dtype=np.float64)
    x1, x2 = points[:, 0], points[:, 1]
    columns = {
        "x1": lambda: x1, "x2": lambda: x2, "x1sq": lambda: x1 * x1, "x2sq": lambda: x2 * x2,
        "x1x2": lambda: x1 * x2, "sin1": lambda: np.sin(np.pi * x1), "sin2": lambda: np.sin(np.pi * x2),
    }
    unknown = [name for name in features if name not in columns]
    if unknown:
        raise ValueError(f"feature_map got unknown feature(s) {unknown}; known: {', '.join(columns)}.")
    return np.column_stack([columns[name]() for name in features]).astype(get_default_dtype())


def make_points(setup: PlaygroundSetup) -> tuple[np.ndarray, np.ndarray]:
    """The setup's data set: (N_SAMPLES, 2) float32 points and int64 labels (N,) or float32 targets (N, 1)."""
    options = {"n_classes": setup.n_classes} if setup.dataset in MULTI_CLASS_SETS else {}
    return make_toy(setup.dataset, n_samples=N_SAMPLES, noise=setup.noise, seed=setup.seed, **options)


def plane_grid(resolution: int) -> np.ndarray:
    """(resolution², 2) centres of a resolution × resolution grid over the plane, row by row from the top."""
    step = 2 * PLANE_LIMIT / resolution
    centres = -PLANE_LIMIT + step * (np.arange(resolution) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


def plane_to_pixel(points, size: float) -> np.ndarray:
    """(N, 2) plane points -> (N, 2) pixel positions (x right, y down) in a size × size picture of the plane."""
    points = np.asarray(points, dtype=np.float64)
    scale = size / (2 * PLANE_LIMIT)
    return np.column_stack([(points[:, 0] + PLANE_LIMIT) * scale, (PLANE_LIMIT - points[:, 1]) * scale])


def pixel_to_plane(x: float, y: float, size: float) -> tuple[float, float]:
    """A pixel (x right, y down) of a size × size picture of the plane -> the plane point (x₁, x₂) under it."""
    scale = 2 * PLANE_LIMIT / size
    return x * scale - PLANE_LIMIT, PLANE_LIMIT - y * scale


def class_colors_from_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """(N, K) class probabilities -> (N, 3) uint8: the likeliest class's colour, paler the less sure the
    network is (white where all K classes are equally likely). For K = 2 this is the familiar blue–orange."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n_classes = probabilities.shape[1]
    winner = probabilities.argmax(axis=1)
    confidence = (probabilities.max(axis=1) - 1 / n_classes) / (1 - 1 / n_classes)     # 0 unsure .. 1 certain
    white = np.full(3, 255.0)
    colors = white + confidence[:, None] * (CLASS_COLORS[winner % len(CLASS_COLORS)] - white)
    return np.rint(np.clip(colors, 0, 255)).astype(np.uint8)


def class_probabilities(scores: np.ndarray, softmax: bool = True) -> np.ndarray:
    """(N, K) class scores -> (N, K) probabilities: softmax of logits (cross-entropy), or for mse-trained
    one-hot scores the scores clipped to [0, 1] and normalised (uniform where all are ≤ 0)."""
    scores = np.asarray(scores, dtype=np.float64)
    if softmax:
        return functions.softmax(scores)
    clipped = np.clip(scores, 0.0, 1.0)
    total = clipped.sum(axis=1, keepdims=True)
    uniform = np.full_like(clipped, 1.0 / scores.shape[1])
    return np.where(total > 0, clipped / np.where(total > 0, total, 1.0), uniform)


def scale_to_plane(x: np.ndarray, margin: float = 0.2) -> np.ndarray:
    """(N, 2) raw points -> the same points moved and scaled (each axis on its own) to fill
    [-(PLANE_LIMIT - margin), PLANE_LIMIT - margin]; a constant column lands on 0."""
    x = np.asarray(x, dtype=np.float64)
    low, high = x.min(axis=0), x.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    reach = PLANE_LIMIT - margin
    scaled = (x - low) / span * 2 * reach - reach
    scaled[:, high <= low] = 0.0
    return scaled.astype(get_default_dtype())


def read_points_csv(path, regression: bool = False) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A CSV of two feature columns and a label (last column) -> (N, 2) points scaled onto the plane,
    labels (N,) int64 (or targets (N, 1) float32 with regression=True) and the class names.
    Every problem is a ValueError from learnscope.data.table.load_csv or about the playground's limits."""
    table = load_csv(path, label=-1, standardize=False, test_fraction=0.0,
                     task="regression" if regression else "classification")
    name = Path(path).name
    if table.n_features != 2:
        raise ValueError(f"{name} has {table.n_features} feature column(s) besides the label; the playground "
                         "draws points on a plane, so it needs exactly 2 (x1, x2, then the label). "
                         "Keep two feature columns and the label column.")
    if len(table.x_train) > MAX_POINTS:
        raise ValueError(f"{name} has {len(table.x_train)} rows; the playground takes at most {MAX_POINTS}. "
                         "Keep a sample of the rows.")
    if not regression and table.n_classes > MAX_CLASSES:
        raise ValueError(f"{name} has {table.n_classes} classes in its last column; the playground colours at most "
                         f"{MAX_CLASSES}. Merge classes, or pick a regression set first if the label is a measured "
                         "number.")
    return scale_to_plane(table.x_train), table.y_train, table.class_names


# ---- the model ------------------------------------------------------------------------------


def build_model(setup: PlaygroundSetup, n_outputs: int) -> Sequential:
    """Dense → [BatchNorm] → activation → [Dropout] per hidden layer, then Dense to n_outputs (class scores
    or one regression output); seeded by setup.seed."""
    layers, n_in = [], len(setup.features)
    for width in setup.hidden:
        layers.append(Dense(n_in, width, init="he_uniform" if setup.activation == "relu" else "xavier_uniform"))
        if setup.batch_norm:
            layers.append(BatchNorm(width))
        layers.append(ACTIVATIONS[setup.activation]())
        if setup.dropout > 0:
            layers.append(Dropout(setup.dropout))
        n_in = width
    layers.append(Dense(n_in, n_outputs))
    return Sequential(layers, seed=setup.seed)


@dataclass
class Metrics:
    """Loss and accuracy on both parts (accuracy is None for regression)."""

    train_loss: float
    test_loss: float
    train_accuracy: float | None
    test_accuracy: float | None


class PlaygroundSession:
    """Data + model + optimizer of one setup, trained one mini-batch at a time.
    Not thread-safe: one owner (the lab's worker thread) calls everything."""

    def __init__(self, setup: PlaygroundSetup):
        self.setup = setup.validate()
        x, y = make_points(setup)
        self.class_names: tuple[str, ...] = tuple(str(k) for k in range(setup.effective_classes))
        self._set_points(x, y)

    # ---- data ----
    def _set_points(self, x: np.ndarray, y: np.ndarray) -> None:
        """Split into training and test parts (stratified for classes) and rebuild the network."""
        split = train_test_split(x, y, test_fraction=1 - self.setup.train_fraction, seed=self.setup.seed)
        self.x_train, self.x_test, self.y_train, self.y_test = split
        self.reset()

    def replace_points(self, x, y, class_names=None) -> None:
        """Use these (N, 2) points and labels (or (N, 1) targets) instead of the generated set; resets training."""
        regression = self.setup.is_regression
        if regression != (np.asarray(y).ndim == 2):
            raise ValueError("These points do not fit the current task: pick a regression set for numeric targets "
                             "or a classification set for class labels first.")
        if class_names is not None:
            self.class_names = tuple(class_names)
        self._set_points(np.asarray(x, dtype=get_default_dtype()), np.asarray(y))

    def add_point(self, x1: float, x2: float, label) -> None:
        """Add one training point (label: a class index, or a target number for regression); the network
        keeps its weights, so training continues with the new point."""
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (x1, x2)):
            raise ValueError(f"add_point expected finite coordinates, got ({x1!r}, {x2!r}).")
        if len(self.x_train) >= MAX_POINTS:
            raise ValueError(f"The training part already holds {MAX_POINTS} points, the playground's limit. "
                             "Regenerate the data to start again.")
        if self.setup.is_regression:
            if isinstance(label, bool) or not isinstance(label, (int, float)) or not math.isfinite(label):
                raise ValueError(f"A regression point needs a finite target number, got {label!r}.")
            target = np.array([[label]], dtype=self.y_train.dtype)
            self.y_train = np.concatenate([self.y_train, target])
        else:
            n_classes = self.n_outputs
            if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < n_classes:
                raise ValueError(f"A point's class must be a whole number from 0 to {n_classes - 1}, got {label!r}. "
                                 "Pick one of the classes shown.")
            self.y_train = np.concatenate([self.y_train, np.array([label], dtype=self.y_train.dtype)])
        self.x_train = np.concatenate([self.x_train, np.array([[x1, x2]], dtype=self.x_train.dtype)])
        self._inputs_train = feature_map(self.x_train, self.setup.features)
        self._batches, self._cursor = None, 0     # the next step starts a fresh epoch order including the point

    def load_points_from_csv(self, path) -> None:
        """Replace the data with a CSV of two feature columns and a label (see read_points_csv)."""
        x, y, names = read_points_csv(path, regression=self.setup.is_regression)
        self.replace_points(x, y, names or None)

    @property
    def n_outputs(self) -> int:
        return 1 if self.setup.is_regression else max(2, len(self.class_names))

    # ---- training ----
    def reset(self) -> None:
        """Fresh weights (from the setup's seed), fresh optimizer, epoch 0, empty history."""
        setup = self.setup
        self.model = build_model(setup, self.n_outputs)
        self.loss = SoftmaxCrossEntropy() if setup.loss == "cross-entropy" else MSE()
        self.optimizer = get_optimizer(setup.optimizer, lr=setup.lr, weight_decay=setup.l2)
        self._inputs_train = feature_map(self.x_train, setup.features)
        self._inputs_test = feature_map(self.x_test, setup.features)
        self._rng = np.random.default_rng(setup.seed)
        self._batches, self._cursor = None, 0
        self.epoch, self.steps = 0, 0
        self.diverged: str | None = None
        self.history = History()            # rows: epochs done, then loss / val_loss (test) / accuracy / val_accuracy
        self.record()

    def update_live(self, setup: PlaygroundSetup) -> None:
        """Settings that apply without starting over: learning rate, L2, stop-after, hidden controls."""
        self.setup = setup.validate()
        self.optimizer.lr = setup.lr
        self.optimizer.weight_decay = float(setup.l2)

    def _batch_size(self) -> int:
        n_train = len(self.x_train)
        return n_train if self.setup.batch_size is None else min(self.setup.batch_size, n_train)

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if isinstance(self.loss, MSE) and not self.setup.is_regression:
            return losses.one_hot(y, self.n_outputs)                          # mse on class scores
        return y

    def step(self) -> float:
        """One mini-batch through train_step (forward, loss, backward, update). Returns the batch loss (NaN once
        diverged). The batches of an epoch are minibatch_indices', so batch norm never gets a lone example."""
        if self.diverged:
            return math.nan
        if self._batches is None:
            self._batches = list(minibatch_indices(len(self.x_train), self._batch_size(), self._rng,
                                                   min_batch_size=self.model.min_batch_size))
            self._batches.reverse()                             # pop() from the end takes them in order
        rows = self._batches.pop()
        outcome = train_step(self.model, self.loss, self.optimizer, self._inputs_train[rows],
                             self._targets(self.y_train[rows]))
        if outcome.diverged:
            self.diverged = (f"Training diverged at epoch {self.epoch}: the {DIVERGED_WHAT[outcome.diverged]}. "
                             "Lower the learning rate and press reset.")
            self._batches = None
            return math.nan
        self.steps += 1
        self._cursor += len(rows)
        if not self._batches:
            self._batches, self._cursor = None, 0
            self.epoch += 1
        return outcome.loss

    def train_epochs(self, n_epochs: int = 1) -> None:
        """Finish the current epoch, then n_epochs - 1 more; records metrics at each epoch end."""
        for _ in range(n_epochs):
            start = self.epoch
            while self.epoch == start and not self.diverged:
                self.step()
            if self.diverged:
                return
            self.record()

    def record(self) -> Metrics:
        """Measure now and add a row to the history (x = epochs done, fractional after single steps)."""
        metrics = self.metrics()
        done = self.epoch + self._cursor / len(self.x_train)
        logs = {"loss": metrics.train_loss, "val_loss": metrics.test_loss}
        if not self.setup.is_regression:
            logs.update(accuracy=_or_nan(metrics.train_accuracy), val_accuracy=_or_nan(metrics.test_accuracy))
        self.history.add(round(done, 4), logs)
        return metrics

    def metrics(self) -> Metrics:
        """Loss and accuracy on the training and the test part (evaluate(): eval mode, no dropout, running BN
        statistics); accuracies are None for regression or once the outputs are not finite."""
        train_loss, train_accuracy = self._measure(self._inputs_train, self.y_train)
        test_loss, test_accuracy = self._measure(self._inputs_test, self.y_test)
        return Metrics(train_loss, test_loss, train_accuracy, test_accuracy)

    def _measure(self, inputs, y) -> tuple[float, float | None]:
        if len(inputs) == 0:
            return math.nan, None
        labels = None if self.setup.is_regression else y
        result = evaluate(self.model, self.loss, inputs, self._targets(y), labels=labels)
        return result.loss, result.accuracy if math.isfinite(result.loss) else None

    # ---- pictures and numbers ----
    def _outputs_over_plane(self, resolution: int) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return self.model.predict(feature_map(plane_grid(resolution), self.setup.features))

    def boundary(self, resolution: int = 60) -> np.ndarray:
        """(resolution, resolution, 3) uint8 picture of the plane: for classes, each pixel shows the class the
        network picks there, paler where it is unsure; for regression, its output (orange +, blue −)."""
        output = self._outputs_over_plane(resolution)
        if self.setup.is_regression:
            limit = float(np.abs(self.y_train).max()) if len(self.y_train) else 1.0
            colors = diverging_colors(output[:, 0], limit=limit)
        elif not np.isfinite(output).all():
            colors = np.zeros((len(output), 3), dtype=np.uint8)        # diverged: black, never a fake answer
        else:
            colors = class_colors_from_probabilities(class_probabilities(output, softmax=self.setup.loss != "mse"))
        return colors.reshape(resolution, resolution, 3)

    def neuron_maps(self, resolution: int = 20) -> list[np.ndarray]:
        """One (n_neurons, resolution, resolution) float array per hidden layer: what each hidden neuron outputs
        (after its activation) at each point of the plane."""
        inputs = feature_map(plane_grid(resolution), self.setup.features)
        maps, x = [], inputs.astype(self.model.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for layer in self.model.layers[:-1]:
                x = layer.forward(x, train=False)
                if type(layer) in ACTIVATIONS.values():
                    maps.append(x.T.reshape(-1, resolution, resolution).copy())
        return maps

    def input_maps(self, resolution: int = 20) -> np.ndarray:
        """(n_features, resolution, resolution): each input feature over the plane (the diagram's first column)."""
        values = feature_map(plane_grid(resolution), self.setup.features)
        return values.T.reshape(-1, resolution, resolution)

    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.model.layers if isinstance(layer, Dense)]

    def diagram(self) -> dict:
        """Plain numbers for the network diagram: column sizes, names of the inputs and outputs, and for each
        Dense layer its weights [[w from node i to node j]] and biases [b of node j]."""
        dense = self.dense_layers()
        outputs = ["output"] if self.setup.is_regression else [f"class {name}" for name in self.class_names]
        return {
            "sizes": [len(self.setup.features)] + [layer.n_out for layer in dense],
            "inputs": [FEATURES[name] for name in self.setup.features],
            "outputs": outputs,
            "weights": [layer.params["W"].astype(float).tolist() for layer in dense],
            "biases": [layer.params["b"].astype(float).tolist() for layer in dense],
        }

    def set_weight(self, layer: int, i: int, j: int, value: float) -> None:
        """Set the weight of Dense layer `layer` (0 = inputs → first hidden layer) from node i to node j."""
        dense = self.dense_layers()
        if not (isinstance(layer, int) and 0 <= layer < len(dense)):
            raise ValueError(f"set_weight expected layer 0..{len(dense) - 1}, got {layer!r}.")
        weights = dense[layer].params["W"]
        if not (isinstance(i, int) and isinstance(j, int) and 0 <= i < weights.shape[0] and 0 <= j < weights.shape[1]):
            raise ValueError(f"set_weight expected i in 0..{weights.shape[0] - 1} and j in 0..{weights.shape[1] - 1}, "
                             f"got i={i!r}, j={j!r}.")
        value = check_weight(value)
        weights[i, j] = value                   # in place: the optimizer's state keeps pointing at this array


#: train_step's reason -> what the learner is told went wrong
DIVERGED_WHAT = {"output": "outputs grew to infinity", "loss": "loss became infinite or NaN",
                 "exploded": "loss exploded"}


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def check_weight(value) -> float:
    """A weight a learner typed: a finite number within ±MAX_WEIGHT."""
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise ValueError(f"A weight must be a number, got {value!r}. Type e.g. -0.5.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > MAX_WEIGHT:
        raise ValueError(f"A weight must be a number from {-MAX_WEIGHT:g} to {MAX_WEIGHT:g}, got {value!r}. "
                         "Type e.g. -0.5.")
    return float(value)


def map_pictures(maps: np.ndarray, limit: float | None = None) -> list[str]:
    """(K, h, w) maps -> K PNG data URIs, orange for positive, blue for negative (each map its own scale
    unless `limit` is given)."""
    return [png_data_uri(diverging_colors(values, limit=limit)) for values in maps]


# ---- diagram geometry ------------------------------------------------------------------------


def diagram_layout(sizes, width: float, height: float, node: float, margin: float = 8) -> list[list[tuple]]:
    """Centre (x, y) of every node: one column per layer spread over `width`, each column's nodes stacked from
    the top with `node`-sized boxes and a fixed gap, centred vertically in `height`."""
    sizes = list(sizes)
    n_columns = len(sizes)
    left, right = margin + node / 2, width - margin - node / 2
    xs = [left + (right - left) * c / (n_columns - 1) for c in range(n_columns)] if n_columns > 1 else [width / 2]
    gap = node * 0.35
    positions = []
    for x, count in zip(xs, sizes):
        column_height = count * node + (count - 1) * gap
        top = (height - column_height) / 2 + node / 2
        positions.append([(x, top + k * (node + gap)) for k in range(count)])
    return positions


def edge_width(weight: float, max_width: float = 6.0) -> float:
    """Stroke width of an edge: 0.5 px plus 1.5 px per unit of |weight|, at most max_width."""
    magnitude = abs(weight) if math.isfinite(weight) else max_width
    return min(max_width, 0.5 + 1.5 * magnitude)


def diagram_height(sizes, node: float) -> float:
    """Height the tallest column needs (plus a margin)."""
    tallest = max(sizes)
    return tallest * node + (tallest - 1) * node * 0.35 + 16
