"""One playground network being trained: `PlaygroundSession` owns the data, the model and the optimizer built
from a setup, trains them one mini-batch at a time (train_step), and turns what the network computes into
pictures (the decision boundary, one small map per hidden neuron) and plain numbers (the diagram's weights).
"""

import math
from dataclasses import dataclass

import numpy as np

from learnscope import losses
from learnscope.architectures import ACTIVATIONS
from learnscope.core.dtype import get_default_dtype
from learnscope.data.batches import minibatch_indices
from learnscope.data.splits import train_test_split
from learnscope.layers import BatchNorm, Dense, Dropout
from learnscope.layers.activations import Activation
from learnscope.lessons.experiments import RunNumbers
from learnscope.lessons.pictures import diverging_colors, png_data_uri
from learnscope.lessons.playground.plane import (
    class_colors_from_probabilities,
    class_probabilities,
    feature_map,
    make_points,
    plane_grid,
    read_points_csv,
)
from learnscope.lessons.playground.setup import FEATURE_LABELS, MAX_POINTS, MAX_WEIGHT, PlaygroundSetup
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import get_optimizer
from learnscope.train import History, evaluate
from learnscope.train.diagnostics import Diagnosis, diagnose
from learnscope.train.recorder import activation_health, rms
from learnscope.train.step import train_step

#: A model without hidden layers is judged after this many epochs, stuck below this training accuracy
LINEAR_LIMIT_EPOCHS = 20
LINEAR_LIMIT_ACCURACY = 0.9
#: train_step's reason -> what the learner is told went wrong
DIVERGED_WHAT = {"output": "outputs grew to infinity", "loss": "loss became infinite or NaN",
                 "exploded": "loss exploded"}


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
        self.signals: dict[str, tuple[list, list]] = {}     # diagnostics metric -> (epochs done, values)
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
        if self.steps:                      # before the first step there is no gradient to look at
            self._record_signals(round(done, 4))
        return metrics

    def _record_signals(self, when: float) -> None:
        """What the diagnostics read besides loss and accuracy: the learning rate, each weight layer's gradient RMS
        (of the last step) and how much of each activation layer is dead or saturated over the training points."""
        values = {"lr": float(self.optimizer.lr)}
        for name, _, grad in self.model.named_params():
            if name.endswith(".W"):
                values[f"grad_rms/{name}"] = rms(grad)

        def watch(index, layer, x, out):
            health = activation_health(layer, out)
            if health is not None:
                values[f"{health[0]}/{index}.{type(layer).__name__.lower()}"] = health[1]

        handle = self.model.register_hook("forward", watch)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                self.model.forward(self._inputs_train, train=False)
        finally:
            handle.remove()
        for key, value in values.items():
            rows, column = self.signals.setdefault(key, ([], []))
            rows.append(when)
            column.append(value)

    def findings(self) -> list[Diagnosis]:
        """What the project's diagnostics (train/diagnostics.py) find in this run so far, problems first: the
        same checks `learnscope runs show` makes, read from the epochs' losses and the recorded signals."""
        epochs = np.asarray(self.history.epoch, dtype=float)
        metrics = {}
        for key, values in self.history.history.items():
            column = np.asarray(values, dtype=float)
            metrics[f"epoch/{key}"] = (epochs, column)
            if key in ("loss", "accuracy"):
                metrics[key] = (epochs, column)
        metrics.update({name: (np.asarray(rows, dtype=float), np.asarray(values, dtype=float))
                        for name, (rows, values) in self.signals.items()})
        found = diagnose(metrics, status="diverged" if self.diverged else None,
                         n_classes=self.setup.effective_classes or None)
        limit = self._linear_limit()
        return found if limit is None else [limit, *found]

    def numbers(self) -> RunNumbers:
        """This run's numbers as the "Try this" outcomes read them (lessons/experiments.py)."""
        history = self.history.history
        gradients = [values[-1] for name, (_, values) in self.signals.items() if name.startswith("grad_rms/")]
        return RunNumbers(
            epochs=self.epoch,
            train_loss=tuple(history["loss"]), test_loss=tuple(history["val_loss"]),
            train_accuracy=tuple(history.get("accuracy", ())), test_accuracy=tuple(history.get("val_accuracy", ())),
            layer_gradients=tuple(gradients), findings=tuple(self.findings()), diverged=bool(self.diverged),
            n_classes=self.setup.effective_classes or None)

    def _linear_limit(self) -> Diagnosis | None:
        """A network without hidden layers that cannot fit its training points: one straight line is all it can
        draw (the perceptron's limit), whatever it is trained with."""
        accuracy = self.history.history.get("accuracy") or []
        if self.setup.hidden or self.setup.is_regression or self.epoch < LINEAR_LIMIT_EPOCHS or not accuracy:
            return None
        if not accuracy[-1] < LINEAR_LIMIT_ACCURACY:
            return None
        return Diagnosis(
            "linear_limit", "problem", "No hidden layer: one straight line cannot separate these classes",
            f"Without a hidden layer the network computes one weighted sum of the inputs, so its decision boundary is "
            f"a straight line. After {self.epoch} epochs it still gets only {accuracy[-1]:.0%} of its training points "
            "right. This is the perceptron's limit: Minsky and Papert showed in 1969 that it cannot learn XOR, and "
            "hidden layers are the way out.",
            "Add a hidden layer (4 neurons is plenty for XOR), or give it a feature that makes the classes "
            "separable by a line, such as x₁x₂.",
            {"train_accuracy": round(float(accuracy[-1]), 4), "epochs": self.epoch, "hidden_layers": 0},
            fix={"hidden": (4,)})

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
    def _outputs_over_plane(self, resolution: int, model: Sequential | None = None) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return (model or self.model).predict(feature_map(plane_grid(resolution), self.setup.features))

    def boundary(self, resolution: int = 60, model: Sequential | None = None) -> np.ndarray:
        """(resolution, resolution, 3) uint8 picture of the plane: for classes, each pixel shows the class the
        network picks there, paler where it is unsure; for regression, its output (orange +, blue −). `model`:
        another network for the same setup (a copy being stepped), instead of the session's own."""
        output = self._outputs_over_plane(resolution, model)
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
                if isinstance(layer, Activation):
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
            "inputs": [FEATURE_LABELS[name] for name in self.setup.features],
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


