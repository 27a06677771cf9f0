"""The MNIST lesson's numbers and pictures: the form's settings checked field by field, where the digits come
from, the first layer's weights as pictures, the examples behind a confusion-matrix cell, the most confident
mistakes, and the runs recorded earlier. Plain functions: the lab's MNIST page shows what these return.
"""

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learnscope.architectures import ACTIVATIONS
from learnscope.core.functions import softmax
from learnscope.data.mnist import load_dataset
from learnscope.data.sources import DATA_ENV, DatasetUnavailable, find_dataset_files
from learnscope.lessons.pictures import diverging_colors, grayscale, png_data_uri, tile_images
from learnscope.optim import OPTIMIZERS
from learnscope.recipes import MODEL_KINDS, Recipe, default_recipe, training_memory_bytes

#: The image sets the MNIST page trains on, as its data menu names them
IMAGE_DATASET_LABELS = {"mnist": "MNIST digits (28×28)", "fashion-mnist": "Fashion-MNIST clothes (28×28)",
                        "digits": "8×8 digits (offline)"}
#: Limits of the form: wide enough to explore, narrow enough that one click cannot freeze the lab
MAX_UNITS = 4096
MAX_LAYERS = 6
MAX_EPOCHS = 100
MAX_LR = 10.0
MAX_BATCH = 60_000
#: One run's training may take at most this much memory (recipes.training_memory_bytes): one click must not be
#: able to take the machine (4096 units × 6 layers at batch 60,000 needed about 15 GB)
MEMORY_BUDGET_BYTES = 3 * 2**30
#: Training examples of each data set (the memory estimate's batch is at most this)
TRAINING_EXAMPLES = {"mnist": 60_000, "digits": 1_437}
#: Fewer training examples than this cannot fill one batch of every class meaningfully
MIN_SAMPLES = 100
#: Pictures of first-layer units shown at most (the rest are the same kind of picture)
MAX_UNIT_PICTURES = 32
#: Shades of orange (and of blue) in weight pictures
SHADES = 8


# -- the form ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingSettings:
    """What one Start click trains: which data, how many training examples (None: all), and the recipe; or, with
    `resume_run`, a recorded run to go on with from its last checkpoint (its own data and recipe)."""

    dataset: str
    recipe: Recipe
    samples: int | None = None
    resume_run: int | None = None


def default_form(dataset: str = "mnist", model: str = "mlp") -> dict[str, str]:
    """The form's starting values, as the text the fields show: the default recipe for `dataset`, the same one
    `learnscope train` uses (for MNIST: over 98% test accuracy after 2 epochs, a few seconds each)."""
    return form_from(dataset, default_recipe(dataset, model))


def form_from(dataset: str, recipe: Recipe, samples: int | None = None) -> dict[str, str]:
    """The form showing a recipe, as the text its fields hold (parse_form reads it back to the same settings)."""
    return {"dataset": dataset, "model": recipe.model, "hidden": ", ".join(str(units) for units in recipe.hidden),
            "activation": recipe.activation, "optimizer": recipe.optimizer, "lr": f"{recipe.lr:g}",
            "batch_size": str(recipe.batch_size), "epochs": str(recipe.epochs),
            "weight_decay": f"{recipe.weight_decay:g}", "dropout": f"{recipe.dropout:g}",
            "batch_norm": recipe.batch_norm, "seed": str(recipe.seed), "samples": "" if not samples else str(samples)}


def parse_form(form: dict) -> tuple[TrainingSettings | None, dict[str, str]]:
    """Check every field of the form.   -> (settings, {}) if all are fine, else (None, {field: message});
    each message says what was expected, what was received and what to type instead."""
    errors: dict[str, str] = {}

    def field(name, parse):
        try:
            return parse(form.get(name))
        except ValueError as error:
            errors[name] = str(error)
            return None

    dataset = field("dataset", lambda v: _choice(v, "Data", IMAGE_DATASET_LABELS))
    model = field("model", lambda v: _choice(v, "Network", MODEL_KINDS))
    hidden = field("hidden", _hidden)
    activation = field("activation", lambda v: _choice(v, "Activation", ACTIVATIONS))
    optimizer = field("optimizer", lambda v: _choice(v, "Optimizer", OPTIMIZERS))
    lr = field("lr", lambda v: _number(v, "Learning rate", 0, MAX_LR, "e.g. 0.1 (SGD) or 0.001 (Adam)",
                                       low_open=True))
    batch_size = field("batch_size", lambda v: _whole(v, "Batch size", 1, MAX_BATCH, "e.g. 128"))
    epochs = field("epochs", lambda v: _whole(v, "Epochs", 1, MAX_EPOCHS, "e.g. 1 or 5"))
    weight_decay = field("weight_decay", lambda v: _number(v, "L2 weight decay", 0, 1, "0 for none, or e.g. 1e-4"))
    dropout = field("dropout", lambda v: _number(v, "Dropout", 0, 0.9, "0 for none, or e.g. 0.2"))
    seed = field("seed", lambda v: _whole(v, "Seed", 0, 2**31 - 1, "any whole number such as 0"))
    samples = field("samples", _samples)
    if errors:
        return None, errors
    recipe = default_recipe(dataset, model).with_options(
        hidden=hidden, activation=activation, optimizer=optimizer, lr=lr, batch_size=batch_size, epochs=epochs,
        weight_decay=weight_decay, dropout=dropout, batch_norm=bool(form.get("batch_norm")), seed=seed)
    input_shape = (1, 28, 28) if dataset == "mnist" else (1, 8, 8)
    needed = training_memory_bytes(recipe, input_shape, 10, samples or TRAINING_EXAMPLES[dataset])
    if needed > MEMORY_BUDGET_BYTES:
        return None, {"batch_size": (f"This network with batch size {batch_size:,} would need about "
                                     f"{needed / 2**30:.1f} GiB to train; one run may use at most "
                                     f"{MEMORY_BUDGET_BYTES / 2**30:.0f} GiB. Use a smaller batch (e.g. 128) or "
                                     "fewer or narrower hidden layers.")}
    return TrainingSettings(dataset, recipe, samples), {}


def field_error(name: str, value) -> str | None:
    """The message for one field of the form, or None if the value is fine (checked as parse_form does)."""
    _, errors = parse_form({**default_form(), name: value})
    return errors.get(name)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _choice(value, label: str, choices) -> str:
    text = _text(value).lower()
    if text not in choices:
        raise ValueError(f"{label} expected one of {', '.join(choices)}, got {_text(value)!r}. Pick one from the list.")
    return text


def _parse_number(value, label: str, example: str) -> float:
    text = _text(value)
    if not text:
        raise ValueError(f"{label} expected a number, got an empty field. Type {example}.")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{label} expected a number, got {text!r}. Type {example}.") from None
    if not math.isfinite(number):
        raise ValueError(f"{label} expected a finite number, got {text!r}. Type {example}.")
    return number


def _number(value, label, low, high, example, low_open=False) -> float:
    number = _parse_number(value, label, example)
    too_low = number <= low if low_open else number < low
    if too_low or number > high:
        bound = f"more than {low:g}" if low_open else f"at least {low:g}"
        raise ValueError(f"{label} expected a number {bound} and at most {high:g}, got {number:g}. Type {example}.")
    return number


def _whole(value, label, low, high, example) -> int:
    number = _parse_number(value, label, example)
    if number != int(number):
        raise ValueError(f"{label} expected a whole number, got {number:g}. Type {example}.")
    if not low <= number <= high:
        raise ValueError(f"{label} expected a whole number from {low:,} to {high:,}, got {int(number):,}. "
                         f"Type {example}.")
    return int(number)


def _hidden(value) -> tuple[int, ...]:
    text = _text(value)
    example = "e.g. 256, 256 (two hidden layers of 256 neurons)"
    if not text:
        raise ValueError(f"Hidden layers expected neuron counts separated by commas, got an empty field. "
                         f"Type {example}.")
    parts = [part.strip() for part in text.replace(";", ",").split(",")]
    if len(parts) > MAX_LAYERS:
        raise ValueError(f"Hidden layers expected at most {MAX_LAYERS} layers, got {len(parts)}. Type {example}.")
    sizes = []
    for part in parts:
        if not part.isdigit():
            raise ValueError(f"Hidden layers expected whole numbers of neurons separated by commas, got {part!r} in "
                             f"{text!r}. Type {example}.")
        units = int(part)
        if not 1 <= units <= MAX_UNITS:
            raise ValueError(f"Hidden layers expected 1 to {MAX_UNITS} neurons per layer, got {units:,}. "
                             f"Type {example}.")
        sizes.append(units)
    return tuple(sizes)


def _samples(value) -> int | None:
    if not _text(value):
        return None
    return _whole(value, "Training examples", MIN_SAMPLES, MAX_BATCH,
                  f"a number from {MIN_SAMPLES} to 60,000, or leave it empty to train on all of them")


# -- the data ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataStatus:
    """Whether MNIST can be trained on here, and if not, what to do about it."""

    mnist_ready: bool
    message: str


def mnist_status(data_dir=None, allow_download: bool = True) -> DataStatus:
    """Look for the MNIST files without loading or downloading them (data_dir, then $LEARNSCOPE_DATA, then the
    cache); if they are missing say how to get them, and that the 8×8 digits work offline."""
    try:
        files = find_dataset_files("mnist", data_dir=data_dir, download=False, progress=False)
        return DataStatus(True, f"MNIST from {files.source}.")
    except (DatasetUnavailable, FileNotFoundError, ValueError) as error:
        problem = str(error).split(". Fix")[0].split(" Tried, in order")[0]
    where = f"--data-dir FOLDER or {DATA_ENV}=FOLDER"
    if allow_download:
        advice = "Start downloads it (about 11 MB) into the cache"
    else:
        advice = ("downloads are off (--no-download): put the four MNIST files (train-images-idx3-ubyte.gz, "
                  "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in a folder "
                  f"and start the lab with {where}, or run it without --no-download")
    return DataStatus(False, f"MNIST is not on this computer yet ({problem.rstrip('.')}). To get it: {advice}. "
                             "Meanwhile the 8×8 digits that ship with scikit-learn train without any download.")


# -- a run's progress, in words ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunProgress:
    """What the page shows of a snapshot. `headline` ("Running: epoch 2 of 3") changes a few times per run;
    `live` changes with every snapshot: {fraction (0..1, or None before training starts), detail, wall_ms (the
    snapshot's server time: not shown, but carried for measuring how late the page draws it)}."""

    headline: str
    live: dict


def run_progress(snapshot: dict) -> RunProgress:
    """A TrainingJob snapshot in words: the status and epoch, then step, speed and time left."""
    status = snapshot["status"]
    wall_ms = int(snapshot["wall_time"] * 1000)
    if "total_steps" not in snapshot:                # loading, or ended before training began
        return RunProgress(status.capitalize(), {"fraction": None, "detail": "", "wall_ms": wall_ms})
    epoch = min(snapshot["epoch"] + 1, snapshot["epochs"])
    parts = [f"step {snapshot['step']:,} of {snapshot['total_steps']:,}",
             f"{snapshot['examples_per_second']:,.0f} images/s"]
    if snapshot.get("eta_seconds"):
        parts.append(f"about {snapshot['eta_seconds']:.0f} s left")
    if snapshot.get("training_seconds"):
        parts.append(f"{snapshot['training_seconds']:.1f} s of training")
    return RunProgress(f"{status.capitalize()}: epoch {epoch} of {snapshot['epochs']}",
                       {"fraction": snapshot["fraction"], "detail": " · ".join(parts), "wall_ms": wall_ms})


@functools.lru_cache(maxsize=2)
def _load(dataset: str, data_dir: str | None, download: bool):
    return load_dataset(dataset, data_dir, download=download, progress=False)


def load_lab_dataset(dataset: str, data_dir=None, download: bool = True):
    """The Dataset for "mnist" or "digits", loaded once per lab (MNIST takes a second and 235 MB)."""
    return _load(dataset, None if data_dir is None else str(data_dir), bool(download))


# -- pictures ---------------------------------------------------------------------------------------------------
def first_layer_picture(model, max_units: int = MAX_UNIT_PICTURES) -> tuple[np.ndarray, str] | None:
    """The first layer's weights as one RGB grid: a Dense layer's weights into each hidden unit drawn as an
    image of the input's shape (what that unit looks for), or a convolution's filters. Orange is positive, blue
    negative, each tile scaled by its own largest |weight|.   -> (grid (H, W, 3) uint8, caption) or None"""
    for name, param, _ in model.named_params():
        if not name.endswith(".W"):
            continue
        weights = np.asarray(param, dtype=np.float32)
        if weights.ndim == 4:                           # conv (F, C, k, k): one tile per filter, first channel
            tiles = weights[:max_units, 0]
            what = f"the first {len(tiles)} convolution filters ({tiles.shape[1]}×{tiles.shape[2]})"
        elif weights.ndim == 2:                         # dense (n_in, n_units): column j is unit j's template
            side = math.isqrt(weights.shape[0])
            if side * side != weights.shape[0]:
                return None
            tiles = weights[:, :max_units].T.reshape(-1, side, side)
            what = f"the weights into {len(tiles)} of the {weights.shape[1]} first-layer neurons ({side}×{side})"
        else:
            return None
        limits = np.abs(np.where(np.isfinite(tiles), tiles, 0)).reshape(len(tiles), -1).max(axis=1)
        limits = np.where(limits > 0, limits, 1.0)[:, None, None]
        # NOTE: SHADES steps per sign instead of 256: the eye sees no difference, the PNG gets 3× smaller
        steps = np.round(tiles / limits * SHADES) / SHADES
        colored = np.stack([diverging_colors(tile, 1.0) for tile in steps])
        return tile_images(colored, columns=min(8, len(colored)), gap=1), what
    return None


def example_pictures(images: np.ndarray, indices, scale: int = 2) -> list[str]:
    """PNG data URIs of images[indices] ((N, 1, H, W) in [0, 1]), white digits on black as MNIST stores them."""
    return [png_data_uri(grayscale(images[index, 0], 0.0, 1.0), scale=scale) for index in indices]


# -- what the test set says -------------------------------------------------------------------------------------
def softmax_confidence(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) logits -> (predicted class (N,), probability the model gives it (N,)), computed stably."""
    probabilities = softmax(outputs)
    predicted = np.asarray(outputs).argmax(axis=1)
    return predicted, probabilities[np.arange(len(outputs)), predicted]


def cell_examples(labels: np.ndarray, predicted: np.ndarray, true_class: int, predicted_class: int,
                  limit: int | None = None) -> np.ndarray:
    """Indices of the examples of true class `true_class` predicted as `predicted_class` (one confusion-matrix
    cell: as many as confusion[true_class, predicted_class]), in test-set order; at most `limit`."""
    indices = np.flatnonzero((np.asarray(labels) == true_class) & (np.asarray(predicted) == predicted_class))
    return indices if limit is None else indices[:limit]


def confident_mistakes(labels: np.ndarray, predicted: np.ndarray, confidence: np.ndarray,
                       limit: int = 40) -> np.ndarray:
    """Indices of misclassified examples, the most confident mistakes first (the model was surest and wrong)."""
    wrong = np.flatnonzero(np.asarray(labels) != np.asarray(predicted))
    order = np.argsort(-np.asarray(confidence)[wrong], kind="stable")
    return wrong[order][:limit]


def confusion_cell_style(confusion: np.ndarray, true_class: int, predicted_class: int) -> str:
    """CSS background of one cell: green on the diagonal, red off it, as strong as the share of that row."""
    row_total = max(int(confusion[true_class].sum()), 1)
    share = confusion[true_class, predicted_class] / row_total
    if true_class == predicted_class:
        return f"background: rgba(34, 139, 34, {0.15 + 0.6 * share:.2f})"
    strength = min(1.0, math.sqrt(share) * 3) if share > 0 else 0.0
    return f"background: rgba(214, 39, 40, {0.75 * strength:.2f})"


# -- runs recorded earlier ----------------------------------------------------------------------------------------
def past_runs(store_path) -> list[dict]:
    """The recorded MNIST and digits runs, newest first: id, label (for a picker), status, config, its layers (a
    layer_chain), and whether its settings are a recipe the lab can reuse (has_recipe) and it can go on training
    (can_continue)."""
    from learnscope.store import RunStore
    from learnscope.store.runs import layer_chain

    if not Path(store_path).exists():
        return []
    with RunStore(store_path) as store:
        runs = [run for run in store.runs() if run["dataset"] in IMAGE_DATASET_LABELS]
        listed = []
        for run in reversed(runs):
            _, accuracies = store.metrics(run["id"], "epoch/val_accuracy").get("epoch/val_accuracy", (None, []))
            accuracy = float(accuracies[-1]) if len(accuracies) else None
            shown = "" if accuracy is None else f", {accuracy:.1%} test accuracy"
            done = [event["payload"]["epochs_done"] for event in store.events(run["id"])
                    if event["kind"] == "checkpoint"]
            checkpointed = bool(done) and done[-1] < run["config"].get("epochs", 0)      # epochs left to train
            # a run recorded from another framework (learnscope.watch on PyTorch) has no recipe to reuse
            engine = "framework" not in run["config"]
            listed.append({"id": run["id"], "label": f"#{run['id']} {run['name']} ({run['status']}{shown})",
                           "status": run["status"], "dataset": run["dataset"], "config": run["config"],
                           "layers": layer_chain(run["architecture"]),
                           "accuracy": accuracy, "has_recipe": engine,
                           "can_continue": engine and checkpointed and run["status"] in CONTINUABLE})
    return listed


#: A recorded run in one of these states, with a checkpoint, can go on where it ended
CONTINUABLE = ("interrupted", "stopped")


def describe_recorded_run(recorded: dict | None) -> str:
    """A line under the past-run picker for a run recorded from another framework: where it was trained and why
    its settings cannot fill the form; "" for the lab's own runs."""
    if not recorded or recorded.get("has_recipe", True):
        return ""
    network = f" Its network: {recorded['layers']}." if recorded.get("layers") else ""
    return (f"Trained with {recorded['config'].get('framework', 'another framework')} and recorded by "
            "learnscope.watch: the curves are its own, but its network is not one of the lab's recipes, so its "
            f"settings cannot fill the form and it cannot go on training here.{network}")


def continue_settings(run: dict) -> TrainingSettings:
    """The settings that go on with a recorded run (an entry of past_runs) from its last checkpoint."""
    if not run.get("can_continue"):
        raise ValueError(f"Run #{run['id']} cannot be continued: only a stopped or interrupted run with a checkpoint "
                         f"(one finished epoch) can, and it is {run['status']}.")
    config = run["config"]
    return TrainingSettings(run["dataset"], Recipe.from_config(config), config.get("samples"), resume_run=run["id"])


def run_curves(store_path, run_id: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A recorded run's training loss, training accuracy (per recorded step) and test loss and accuracy
    (val_* at each evaluation), by step: {label: (steps, values)}."""
    from learnscope.store import RunStore

    names = {"loss": "train loss", "accuracy": "train accuracy", "val_loss": "test loss",
             "val_accuracy": "test accuracy", "epoch/val_loss": "test loss (epoch end)",
             "epoch/val_accuracy": "test accuracy (epoch end)"}
    with RunStore(store_path) as store:
        metrics = store.metrics(run_id, list(names))
    return {label: metrics[name] for name, label in names.items() if name in metrics}
