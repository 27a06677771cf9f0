"""Overfitting and underfitting, and the remedies, on real MNIST.

The experiment is Nielsen's (Neural Networks and Deep Learning, chapter 3, `fig/overfitting.py`): a 784-30-10
sigmoid network with weights and biases drawn from N(0, 1), trained by SGD (learning rate 0.5, batches of 10) on
only the first 1,000 training images for 400 epochs. It gets every training image right and stops improving on
the test set long before: it has memorised. His numbers: test accuracy tops out at 82.3%, the test loss is lowest
near epoch 15; with L2 (his λ = 0.1) the test accuracy reaches 87.1%.

    run = overfitting_run(load_mnist())                     # about 10 s on two cores
    run.peak_accuracy, run.best_epoch, describe_fit(run)
"""

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from learnscope.core.validation import check_choice, check_int
from learnscope.data.augment import shift_and_rotate
from learnscope.layers import BatchNorm, Dense, Dropout, Flatten
from learnscope.layers.activations import ACTIVATIONS
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD
from learnscope.train import fit
from learnscope.train.callbacks import Callback, EarlyStopping
from learnscope.train.evaluate import evaluate

#: Nielsen's L2: his update w ← (1 − ηλ/n)·w − η·∂C₀/∂w is coupled weight decay λ/n = 0.1 / 1,000
NIELSEN_WEIGHT_DECAY = 1e-4
#: Nielsen's two initialisations: "large", weights and biases N(0, 1) (large_weight_initializer, used for the
#: overfitting figure); "scaled", weights N(0, 1/n_in) and biases N(0, 1) (default_weight_initializer)
INITS = ("large", "scaled")
#: Early stopping, as a remedy: it watches MNIST's last 10,000 training images (Nielsen's validation set, never
#: trained on here) and waits this many epochs for a lower validation loss before stopping at the best one
VALIDATION_START = 50_000
PATIENCE = 10
#: A run scores its training and test images after at most this many epochs, evenly spread (and after the last):
#: 100 images for 15,000 epochs would otherwise spend its time testing
MAX_SCORED_EPOCHS = 400


@dataclass(frozen=True)
class OverfittingSetup:
    """One run of the experiment: Nielsen's settings by default, each remedy a field."""

    train_samples: int = 1000
    hidden: int = 30
    activation: str = "sigmoid"
    init: str = "large"                 # see INITS
    epochs: int = 400
    lr: float = 0.5
    batch_size: int = 10
    weight_decay: float = 0.0
    dropout: float = 0.0
    batch_norm: bool = False
    augment: bool = False
    early_stopping: bool = False
    seed: int = 0

    def network(self) -> Sequential:
        """Flatten → Dense(784, hidden) → (BatchNorm) → activation → (Dropout) → Dense(hidden, 10)."""
        activation = check_choice(self.activation, "activation", "OverfittingSetup", tuple(ACTIVATIONS))
        hidden = check_int(self.hidden, "hidden", "OverfittingSetup", minimum=1, maximum=4096)
        init = check_choice(self.init, "init", "OverfittingSetup", INITS)
        unit = {"name": "normal", "std": 1.0}

        def weights(n_in):
            return unit if init == "large" else {"name": "normal", "std": float(n_in ** -0.5)}

        layers = [Flatten(), Dense(784, hidden, init=weights(784), bias_init=unit)]
        if self.batch_norm:
            layers.append(BatchNorm(hidden))
        layers.append(ACTIVATIONS[activation]())
        if self.dropout:
            layers.append(Dropout(self.dropout))
        layers.append(Dense(hidden, 10, init=weights(hidden), bias_init=unit))
        return Sequential(layers, seed=self.seed)


@dataclass
class OverfittingRun:
    """Per-epoch numbers of one run, training set and test set measured alike (eval mode, after the epochs in
    `epochs`: every epoch, or MAX_SCORED_EPOCHS of them evenly spread in a long run)."""

    setup: OverfittingSetup
    epochs: np.ndarray                  # the epoch (from 0) each row was scored after
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    seconds: float
    stopped_epoch: int | None = None    # early stopping: the epoch it stopped after (weights of best_epoch kept)
    final: dict = field(default_factory=dict)   # train/test loss and accuracy of the model as it ended

    def plot(self):
        """Training against test loss and accuracy per epoch (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_overfitting

        return plot_overfitting(self)

    @property
    def rows(self) -> np.ndarray:
        """(n, 5): epoch, train loss, train accuracy, test loss, test accuracy: what on_epoch hands out live."""
        return np.column_stack([self.epochs, self.train_loss, self.train_accuracy, self.test_loss, self.test_accuracy])

    @property
    def best_epoch(self) -> int:
        """The epoch of the lowest test loss: where early stopping on the test set would have stopped."""
        return lowest_test_loss_epoch(self.rows)

    @property
    def peak_accuracy(self) -> float:
        return float(self.test_accuracy.max())

    @property
    def peak_epoch(self) -> int:
        return int(self.epochs[np.argmax(self.test_accuracy)])

    @property
    def gap(self) -> float:
        """Training accuracy minus test accuracy at the end: what was memorised rather than learnt."""
        return self.final["train_accuracy"] - self.final["test_accuracy"]


def lowest_test_loss_epoch(rows: np.ndarray) -> int:
    """The epoch of the lowest test loss in a run's rows (n, 5), finished or still running."""
    return int(rows[np.argmin(rows[:, 3]), 0])


def run_metrics(rows: np.ndarray) -> dict:
    """A run's rows in the metrics format train.diagnose reads, the test images as the validation set."""
    epochs = rows[:, 0]
    return {"epoch/loss": (epochs, rows[:, 1]), "epoch/accuracy": (epochs, rows[:, 2]),
            "epoch/val_loss": (epochs, rows[:, 3]), "epoch/val_accuracy": (epochs, rows[:, 4])}


class _ScoreEveryEpoch(Callback):
    """Evaluates the training examples and the test set after every epoch (the curves of the lesson), hands the
    rows so far to on_epoch, and stops training when should_stop() says so (the page that asked has closed)."""

    def __init__(self, train, test, epochs: int, on_epoch=None, should_stop=None):
        self.train, self.test, self.rows = train, test, []
        self.every, self.last = max(1, math.ceil(epochs / MAX_SCORED_EPOCHS)), epochs - 1
        self.on_epoch, self.should_stop = on_epoch, should_stop

    def on_epoch_end(self, epoch, logs) -> None:
        if epoch % self.every == 0 or epoch == self.last or self.trainer.stop_training:
            model, loss = self.trainer.model, self.trainer.loss
            scores = [evaluate(model, loss, *data) for data in (self.train, self.test)]
            self.rows.append([epoch, scores[0].loss, scores[0].accuracy, scores[1].loss, scores[1].accuracy])
            if self.on_epoch is not None:
                self.on_epoch(np.array(self.rows))
        if self.should_stop is not None and self.should_stop():
            self.trainer.stop("Stopped: nobody is watching any more.")


def overfitting_run(mnist, setup: OverfittingSetup = OverfittingSetup(), on_epoch=None,
                    should_stop=None) -> OverfittingRun:
    """Train `setup` on the first setup.train_samples MNIST training images, scoring the training images and the
    10,000 test images after every epoch. mnist: a Dataset (load_mnist).
    on_epoch(rows): after each scored epoch, the rows so far, (n, 5): epoch, train loss, train accuracy, test
    loss, test accuracy (a page draws them live). should_stop(): checked after each epoch; True ends the run there."""
    if setup.early_stopping:
        n = check_int(setup.train_samples, "train_samples", "overfitting_run", minimum=10, maximum=VALIDATION_START,
                      fix=f"Use 10 to {VALIDATION_START:,}: early stopping watches the images after that.")
    else:
        n = check_int(setup.train_samples, "train_samples", "overfitting_run", minimum=10,
                      maximum=len(mnist.x_train), fix=f"Use 10 to {len(mnist.x_train):,}.")
    train = (mnist.x_train[:n], mnist.y_train[:n])
    scores = _ScoreEveryEpoch(train, (mnist.x_test, mnist.y_test), setup.epochs, on_epoch, should_stop)
    extra = {}
    stopper = None
    if setup.early_stopping:
        stopper = EarlyStopping("val_loss", patience=PATIENCE, restore_best=True)
        extra["validation_data"] = (mnist.x_train[VALIDATION_START:], mnist.y_train[VALIDATION_START:])
    model, loss = setup.network(), SoftmaxCrossEntropy()
    start = time.perf_counter()
    fit(model, loss, SGD(lr=setup.lr, weight_decay=setup.weight_decay), *train, epochs=setup.epochs,
        batch_size=setup.batch_size, seed=setup.seed, augment=shift_and_rotate if setup.augment else None,
        callbacks=[scores, *([stopper] if stopper else [])], **extra)
    seconds = time.perf_counter() - start
    rows = np.array(scores.rows, dtype=np.float64).reshape(-1, 5)
    ended = [evaluate(model, loss, *data) for data in (train, (mnist.x_test, mnist.y_test))]
    final = {"train_loss": ended[0].loss, "train_accuracy": ended[0].accuracy,
             "test_loss": ended[1].loss, "test_accuracy": ended[1].accuracy}
    return OverfittingRun(setup, rows[:, 0].astype(int), *rows[:, 1:].T, seconds=seconds, final=final,
                          stopped_epoch=stopper.stopped_epoch if stopper else None)


#: The remedies the lesson toggles one at a time on the same setup: name -> (what it is, the change).
#: "More data" keeps the number of steps: ten times the images for a tenth of the epochs.
REMEDIES = {
    "none": ("no remedy", {}),
    "l2": ("L2 weight decay 1e-4 (Nielsen's λ = 0.1)", {"weight_decay": NIELSEN_WEIGHT_DECAY}),
    "dropout": ("dropout 0.2 on the hidden layer", {"dropout": 0.2}),
    "batch-norm": ("batch normalisation of the hidden layer", {"batch_norm": True}),
    "augment": ("augmented images (moved ±2 px, turned ±10°)", {"augment": True}),
    "early-stopping": ("early stopping on 10,000 held-out images", {"early_stopping": True}),
    "more-data": ("10× the data (a tenth of the epochs)", None),
}


@dataclass
class RemedyResult:
    name: str
    label: str
    run: OverfittingRun
    gained: float                       # test accuracy at the end minus the no-remedy run's, in points of 1.0


def remedy_setup(name: str, base: OverfittingSetup = OverfittingSetup()) -> OverfittingSetup:
    """`base` with the remedy `name` (a key of REMEDIES) applied."""
    changes = REMEDIES[check_choice(name, "remedy", "remedy_setup", tuple(REMEDIES))][1]
    if changes is None:                         # more data, the same number of steps
        changes = {"train_samples": 10 * base.train_samples, "epochs": max(1, base.epochs // 10)}
    return replace(base, **changes)


def compare_remedies(mnist, names=tuple(REMEDIES), base: OverfittingSetup = OverfittingSetup(),
                     on_result=None, on_epoch=None, should_stop=None) -> list[RemedyResult]:
    """Run `base` once with no remedy and once with each remedy in `names` alone; each result says the test
    accuracy it gained over no remedy. on_result(result) is called as each run ends; on_epoch(name, rows) as each
    epoch of each run ends (a page shows them live); should_stop() ends the comparison after the current epoch."""
    names = [check_choice(name, "remedy", "compare_remedies", tuple(REMEDIES)) for name in names]
    results, baseline = [], None
    for name in ["none", *[name for name in names if name != "none"]]:
        run = overfitting_run(mnist, remedy_setup(name, base), should_stop=should_stop,
                              on_epoch=None if on_epoch is None else lambda rows, name=name: on_epoch(name, rows))
        baseline = baseline or run
        result = RemedyResult(name, REMEDIES[name][0], run,
                              run.final["test_accuracy"] - baseline.final["test_accuracy"])
        results.append(result)
        if on_result is not None:
            on_result(result)
        if should_stop is not None and should_stop():
            break
    return results


#: Below this training accuracy a network has not fitted even the examples it saw
UNDERFIT_ACCURACY = 0.9
#: A training-minus-test accuracy gap above this is memorisation
OVERFIT_GAP = 0.05


def describe_fit(run: OverfittingRun) -> str:
    """Names what the run's own numbers show: underfitting, overfitting (with its evidence) or a good fit."""
    train, test = run.final["train_accuracy"], run.final["test_accuracy"]
    if train < UNDERFIT_ACCURACY:
        return (f"Underfitting: the network gets only {train:.1%} of its own training images right (test "
                f"{test:.1%}). It is too small or too constrained to capture the pattern; more units or less "
                "regularisation help, more epochs may too.")
    if run.gap > OVERFIT_GAP:
        rise = run.final["test_loss"] / run.test_loss.min() - 1
        return (f"Overfitting: {train:.1%} right on the training images but {test:.1%} on new ones, a gap of "
                f"{run.gap * 100:.1f} points. The test loss was lowest at epoch {run.best_epoch} and has since risen "
                f"{rise:.0%} while the training loss kept falling: after that the network memorised.")
    return (f"A good fit: {train:.1%} on the training images and {test:.1%} on new ones, a gap of only "
            f"{run.gap * 100:.1f} points.")


# -- sweeps: capacity and training-set size ------------------------------------------------------------------------
#: Hidden units from far too few to far more than 1,000 images need
CAPACITY_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
#: Training-set sizes, as Nielsen's fig/more_data.py (up to his training set's 50,000), and all of MNIST's 60,000
DATA_SIZES = (100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 60_000)
#: Nielsen's setup for the data sweep: scaled init, L2 of λ = n × 1e-4 (weight decay 1e-4 for every size), and
#: 1.5 million examples seen per size (so 15,000 epochs of 100 images, 30 of 50,000)
DATA_SWEEP = OverfittingSetup(init="scaled", weight_decay=1e-4)
DATA_SWEEP_EXAMPLES = 1_500_000


@dataclass
class SweepPoint:
    value: int                          # hidden units, or training images
    run: OverfittingRun


def capacity_sweep(mnist, hidden_sizes=CAPACITY_SIZES, base: OverfittingSetup = OverfittingSetup(
        init="scaled", epochs=100), on_point=None, should_stop=None) -> list[SweepPoint]:
    """The same training with each number of hidden units: too few cannot fit even the training images
    (underfitting), enough fit them all; the test accuracy says which sizes generalise."""
    return _sweep(mnist, [(size, replace(base, hidden=size)) for size in hidden_sizes], on_point, should_stop)


def data_size_sweep(mnist, sizes=DATA_SIZES, base: OverfittingSetup = DATA_SWEEP,
                    examples: int = DATA_SWEEP_EXAMPLES, on_point=None, should_stop=None) -> list[SweepPoint]:
    """The same network trained on the first n images for each n in sizes, each seeing `examples` examples in
    all (epochs = examples / n): more data is the surest remedy for overfitting."""
    examples = check_int(examples, "examples", "data_size_sweep", minimum=1)
    return _sweep(mnist, [(size, replace(base, train_samples=size, epochs=max(1, examples // size)))
                          for size in sizes], on_point, should_stop)


def _sweep(mnist, setups, on_point, should_stop) -> list[SweepPoint]:
    points = []
    for value, setup in setups:
        points.append(SweepPoint(value, overfitting_run(mnist, setup, should_stop=should_stop)))
        if on_point is not None:
            on_point(points[-1])
        if should_stop is not None and should_stop():
            break
    return points


def describe_capacity(points: list[SweepPoint]) -> str:
    """Where the sweep underfits, from which size it fits its training images, and which size tested best."""
    train = np.array([point.run.final["train_accuracy"] for point in points])
    test = np.array([point.run.final["test_accuracy"] for point in points])
    sizes = [point.value for point in points]
    best = int(np.argmax(test))
    underfit = [size for size, accuracy in zip(sizes, train) if accuracy < UNDERFIT_ACCURACY]
    fits = next((size for size, accuracy in zip(sizes, train) if accuracy >= 0.999), None)
    parts = []
    if underfit:
        parts.append(f"With {', '.join(map(str, underfit))} hidden unit(s) the network underfits: under "
                     f"{UNDERFIT_ACCURACY:.0%} right even on its training images.")
    if fits is not None:
        parts.append(f"From {fits} units on it gets every training image right.")
    parts.append(f"The test accuracy is highest with {sizes[best]} units ({test[best]:.1%}); the largest "
                 f"network tests at {test[-1]:.1%}, {100 * (test[best] - test[-1]):.1f} points "
                 f"{'lower' if test[-1] < test[best] else 'higher'}, with a train–test gap of "
                 f"{100 * (train[-1] - test[-1]):.1f} points.")
    return " ".join(parts)
