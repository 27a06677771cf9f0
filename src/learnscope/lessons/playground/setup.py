"""Every setting of the playground as plain data, and its short URL form.

`PlaygroundSetup` is what a learner chose (data, features, network, loss, optimizer, hyperparameters, teacher
mode); `to_query()` / `from_query()` put it in a link; `parse_field` reads what was typed into a field.
"""

import dataclasses
import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from learnscope.data.toy2d import TOY_DATASETS

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
DATASET_CHOICES = CLASSIFICATION_SETS + REGRESSION_SETS
MULTI_CLASS_SETS = tuple(name for name, entry in TOY_DATASETS.items() if "n_classes" in entry.options)

#: feature key (used in URLs) -> label shown to the learner
FEATURE_LABELS = {
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
#: the choices the playground offers (the classes come from architectures.ACTIVATIONS)
ACTIVATION_CHOICES = ("tanh", "relu", "sigmoid", "linear")
LOSS_CHOICES = ("cross-entropy", "mse")
OPTIMIZER_CHOICES = ("sgd", "momentum", "rmsprop", "adam")

#: control key -> its name on the page (teacher mode can hide each of these)
CONTROL_LABELS = {
    "dataset": "Data set", "classes": "Classes", "noise": "Noise", "train_fraction": "Training share",
    "regenerate": "Regenerate", "add_points": "Click to add points", "upload": "Upload CSV",
    "features": "Input features", "layers": "Hidden layers", "activation": "Activation", "loss": "Loss",
    "optimizer": "Optimizer", "lr": "Learning rate", "batch_size": "Batch size", "l2": "L2", "dropout": "Dropout",
    "batch_norm": "Batch norm", "stop_after": "Stop after", "edit_weights": "Edit weights",
}

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

        if self.dataset not in DATASET_CHOICES:
            found["dataset"] = (f"Data set must be one of {', '.join(DATASET_CHOICES)}, got {self.dataset!r}. "
                                "Pick one of those.")
        number("n_classes", self.n_classes, 2, MAX_CLASSES, 3, "The number of classes", integer=True)
        number("noise", self.noise, 0, 1, 0.2, "Noise")
        number("train_fraction", self.train_fraction, 0.1, 0.9, 0.5, "The training share")
        number("seed", self.seed, 0, 2**31 - 1, 1, "The seed", integer=True)
        if not self.features or any(name not in FEATURE_LABELS for name in self.features) \
                or len(set(self.features)) != len(self.features):
            found["features"] = (f"Input features must be one or more of {', '.join(FEATURE_LABELS)} (each once), got "
                                 f"{', '.join(self.features) or 'none'}. Tick at least one feature, e.g. x1.")
        if len(self.hidden) > MAX_HIDDEN_LAYERS or any(
                isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_NEURONS for n in self.hidden):
            found["hidden"] = (f"Hidden layers must be at most {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_NEURONS} "
                               f"neurons each, got {format_hidden(self.hidden)}. Try e.g. 4, 2.")
        if self.activation not in ACTIVATION_CHOICES:
            found["activation"] = (f"Activation must be one of {', '.join(ACTIVATION_CHOICES)}, got "
                                   f"{self.activation!r}. Pick one of those.")
        if self.loss not in LOSS_CHOICES:
            found["loss"] = f"Loss must be one of {', '.join(LOSS_CHOICES)}, got {self.loss!r}. Pick one of those."
        elif self.is_regression and self.loss != "mse":
            found["loss"] = (f"The {self.dataset} set is regression (a number per point, not a class), so "
                             "cross-entropy does not apply. Choose the mse loss.")
        if self.optimizer not in OPTIMIZER_CHOICES:
            found["optimizer"] = (f"Optimizer must be one of {', '.join(OPTIMIZER_CHOICES)}, got {self.optimizer!r}. "
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
        unknown = [name for name in self.hidden_controls if name not in CONTROL_LABELS]
        if unknown:
            found["hidden_controls"] = (f"Hidden controls must be among {', '.join(CONTROL_LABELS)}, got "
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


