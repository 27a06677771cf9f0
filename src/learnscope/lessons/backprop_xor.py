"""Backpropagation (Rumelhart, Hinton & Williams, 1986) solving XOR with one hidden layer, the network a single
perceptron cannot be, trained by the engine's fit; and what each hidden unit and the output compute.

    run = train_xor(xor_setup())              # 2 inputs, 2 sigmoid hidden units, 2 class scores; full-batch SGD
    reading = read_xor_network(run.model)     # each hidden unit's line and gate, and how the output combines them
    describe_xor_network(reading)             # ... in one plain paragraph

The network is the playground's (build_model of a PlaygroundSetup on its XOR without noise), so One step can open
this very network: /step?setup=<xor_setup().to_query()>.
"""

import copy
from dataclasses import dataclass

import numpy as np

from learnscope.data.toy2d import make_xor
from learnscope.layers import Dense
from learnscope.lessons.playground.plane import (
    class_colors_from_probabilities,
    class_probabilities,
    feature_map,
    plane_grid,
)
from learnscope.lessons.playground.session import build_model
from learnscope.lessons.playground.setup import PlaygroundSetup
from learnscope.lessons.threshold_logic import XOR, gate_name
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import get_optimizer
from learnscope.train import Callback, evaluate, fit

XOR_EPOCHS = 2000
#: a run hands a snapshot to on_epoch every this many epochs (a page draws it live)
PUBLISH_EVERY = 10
#: the epochs over which a run that did not solve XOR is checked for a loss that stopped falling
FLAT_WINDOW = 500


def xor_setup(seed: int = 1, hidden: int = 2) -> PlaygroundSetup:
    """XOR's four corners, `hidden` sigmoid units (the 1986 paper's squashing function), two class scores,
    cross-entropy, plain gradient descent on all four corners at once with a learning rate of 1."""
    return PlaygroundSetup(dataset="xor", noise=0.0, hidden=(hidden,), activation="sigmoid", lr=1.0,
                           batch_size=None, seed=seed).validate()


@dataclass(frozen=True)
class XorRun:
    """A network learning XOR: after each epoch, the loss and the share of the four corners it gets right."""

    setup: PlaygroundSetup
    model: Sequential
    losses: tuple[float, ...]
    accuracies: tuple[float, ...]

    @property
    def epochs(self) -> int:
        return len(self.losses)

    @property
    def accuracy(self) -> float:
        return self.accuracies[-1] if self.accuracies else 0.0

    def plot(self):
        """The loss and the corners right per epoch (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_xor

        return plot_xor(self)

    @property
    def solved_epoch(self) -> int | None:
        """The first epoch (counting from 1) after which all four corners were right; None if never."""
        return next((epoch + 1 for epoch, accuracy in enumerate(self.accuracies) if accuracy == 1.0), None)


class _ScoreCorners(Callback):
    def __init__(self, setup, x, y, on_epoch, should_stop):
        self.setup, self.x, self.y = setup, x, y
        self.on_epoch, self.should_stop = on_epoch, should_stop
        self.losses, self.accuracies = [], []

    def snapshot(self) -> XorRun:
        return XorRun(self.setup, copy.deepcopy(self.trainer.model), tuple(self.losses), tuple(self.accuracies))

    def on_epoch_end(self, epoch, logs) -> None:
        scored = evaluate(self.trainer.model, self.trainer.loss, self.x, self.y)      # after this epoch's step
        self.losses.append(scored.loss)
        self.accuracies.append(scored.accuracy)
        if self.on_epoch is not None and (epoch + 1) % PUBLISH_EVERY == 0:
            self.on_epoch(self.snapshot())
        if self.should_stop is not None and self.should_stop():
            self.trainer.stop("Stopped: nobody is watching any more.")


def network_at_start(setup: PlaygroundSetup) -> XorRun:
    """The setup's network before any training: a run of 0 epochs."""
    return XorRun(setup, build_model(setup, 2), (), ())


def train_xor(setup: PlaygroundSetup | None = None, epochs: int = XOR_EPOCHS, on_epoch=None,
              should_stop=None) -> XorRun:
    """Train the setup's network on XOR's four corners with backpropagation (fit), scoring the corners after each
    epoch. on_epoch(run so far): every PUBLISH_EVERY epochs; should_stop(): checked after each epoch."""
    setup = setup or xor_setup()
    x, y = make_xor(4)
    model = build_model(setup, 2)
    scores = _ScoreCorners(setup, x, y, on_epoch, should_stop)
    fit(model, SoftmaxCrossEntropy(), get_optimizer(setup.optimizer, lr=setup.lr), x, y, epochs=epochs,
        batch_size=len(x), seed=setup.seed, callbacks=[scores])
    return scores.snapshot()


def train_from_starts(seeds, hidden: int = 2, epochs: int = XOR_EPOCHS, should_stop=None) -> tuple[XorRun, ...]:
    """The same network trained from several random starts (one per seed)."""
    runs = []
    for seed in seeds:
        runs.append(train_xor(xor_setup(seed=int(seed), hidden=hidden), epochs, should_stop=should_stop))
        if should_stop is not None and should_stop():
            break
    return tuple(runs)


# ---- what the network computes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HiddenUnit:
    """One hidden unit: its line w·x + b = 0 on the plane, and the gate it computes on XOR's corners (it 'fires'
    where w·x + b > 0, reading x > 0 as 1)."""

    w: tuple[float, float]
    b: float
    gate: str
    fires: tuple[int, ...]                  # at the corners, in XOR's order


@dataclass(frozen=True)
class XorReading:
    """The hidden units, the output's chance of class 1 at each corner, and (two hidden units) the gate the output
    computes from the units' firing: `composes_xor` when following the gates gives XOR at every corner."""

    units: tuple[HiddenUnit, ...]
    output: tuple[float, ...]
    output_gate: str | None
    composes_xor: bool


def read_xor_network(model: Sequential) -> XorReading:
    """What a Dense → activation → Dense network computes on XOR's four corners, unit by unit."""
    first, activation, last = model.layers[0], model.layers[1], model.layers[-1]
    if not (isinstance(first, Dense) and isinstance(last, Dense) and len(model.layers) == 3 and first.n_in == 2):
        raise ValueError("read_xor_network expected a 2-input network of one hidden layer (Dense, activation, "
                         f"Dense), got {[type(layer).__name__ for layer in model.layers]}.")
    x, _ = make_xor(4)
    weights, biases = first.params["W"].astype(np.float64), first.params["b"].astype(np.float64)
    fired = (x @ weights + biases > 0).astype(int)                         # (4 corners, units)
    units = tuple(HiddenUnit((float(weights[0, k]), float(weights[1, k])), float(biases[k]),
                             gate_name(fired[:, k]), tuple(fired[:, k].tolist())) for k in range(weights.shape[1]))
    output = class_probabilities(model.predict(x))[:, 1]
    output_gate, composes = None, False
    if len(units) == 2:
        # the output read from saturated units: each unit at its activation's lowest or highest value
        low, high = activation.forward(np.array([[-50.0, 50.0]], dtype=model.dtype))[0]
        corners = np.array([[low, low], [low, high], [high, low], [high, high]], dtype=model.dtype)
        said = last.forward(corners).astype(np.float64)
        output_fires = (said[:, 1] > said[:, 0]).astype(int)
        output_gate = gate_name(output_fires, a="h₁", b="h₂")
        composed = [output_fires[2 * h1 + h2] for h1, h2 in fired]
        composes = tuple(composed) == XOR
    return XorReading(units, tuple(float(p) for p in output), output_gate, composes)


def describe_xor_network(reading: XorReading) -> str:
    """How the hidden units and the output compute XOR, in words, or what they compute instead."""
    parts = [f"hidden unit {k + 1} fires for {unit.gate}" for k, unit in enumerate(reading.units)]
    text = "Reading x > 0 as 1: " + "; ".join(parts) + "."
    if reading.output_gate is not None:
        text += f" The output says class 1 for {reading.output_gate}"
        if reading.composes_xor:
            text += (", and following those gates corner by corner gives exactly XOR: two straight lines, each a "
                     "perceptron's, combined by a third. That is what a hidden layer adds.")
        else:
            text += ", which does not (yet) give XOR at every corner."
    chances = ", ".join(f"{p:.0%}" for p in reading.output)
    return text + f" Its chance of class 1 at the four corners: {chances} (XOR: 0, 1, 1, 0)."


def output_picture(model: Sequential, resolution: int = 60) -> np.ndarray:
    """(resolution, resolution, 3) uint8: the class the network picks over the playground's plane, paler where it is
    unsure (the playground's colours)."""
    with np.errstate(over="ignore", invalid="ignore"):
        scores = model.predict(feature_map(plane_grid(resolution), ("x1", "x2")))
    if not np.isfinite(scores).all():
        return np.zeros((resolution, resolution, 3), dtype=np.uint8)
    return class_colors_from_probabilities(class_probabilities(scores)).reshape(resolution, resolution, 3)


def loss_change(run: XorRun, window: int = FLAT_WINDOW) -> float:
    """How much the loss fell over the last `window` epochs (a run that stopped learning: about 0)."""
    if run.epochs <= window:
        return run.losses[0] - run.losses[-1] if run.losses else 0.0
    return run.losses[-window - 1] - run.losses[-1]
