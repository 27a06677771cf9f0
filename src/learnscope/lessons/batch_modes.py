"""Batch, stochastic and mini-batch gradient descent, side by side on a model of exactly two weights (chapter 6).

The model is linear regression through the origin, ŷ = x·w with w = (w₁, w₂), and its loss the mean squared
error over the examples of a batch:

    L(w) = (1/n) Σ (x·w − y)²        ∂L/∂w = (2/n) Σ (x·w − y)·x

The three modes are one rule, w ← w − lr·∂L/∂w (the engine's own SGD), fed gradients averaged over all the
examples (batch), over one (stochastic) or over a few (mini-batch). With two weights every step can be drawn
on the contour plot of the loss over *all* the data: the batch path walks straight down, the stochastic one
staggers, the mini-batch one in between, and the counters say what each step cost.

    comparison = compare_batch_modes(mini_batch_size=16, epochs=3)
    comparison.paths["stochastic"].weights          # (updates + 1, 2)
"""

import time
from dataclasses import dataclass

import numpy as np

from learnscope.architectures import build_mlp
from learnscope.core.rng import make_rng
from learnscope.core.validation import check_hyperparameter, check_int
from learnscope.data.batches import minibatch_indices
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import BATCH_MODES, batch_size_for, get_optimizer
from learnscope.train.callbacks import Callback
from learnscope.train.loop import fit
from learnscope.train.recorder import Recorder
from learnscope.train.step import train_step

PARAM = "w"                                      # not a ".W": no weight decay acts on it
TRUE_WEIGHTS = (2.0, -1.0)


@dataclass
class DescentPath:
    """One mode's walk: the weights after each update, and what the walk had cost by then."""

    mode: str
    batch_size: int
    weights: np.ndarray          # (updates + 1, 2): the start, then one row per update
    examples_seen: np.ndarray    # (updates + 1,)
    seconds: np.ndarray          # (updates + 1,): the updates' own time, cumulative
    loss: np.ndarray             # (updates + 1,): the loss over all the data at each point

    @property
    def updates(self) -> int:
        return len(self.weights) - 1


@dataclass
class BatchModes:
    """The data, its least-squares weights (the bottom of the bowl), the three paths and the learning rate."""

    x: np.ndarray
    y: np.ndarray
    best: np.ndarray
    paths: dict[str, DescentPath]
    lr: float

    def plot(self):
        """The walks of the weights on the loss's contours, and the loss by examples seen (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_batch_modes

        return plot_batch_modes(self)

    def grid(self, n: int = 61, margin: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(w1s, w2s, losses): the full-data loss on an n × n grid around every path, losses[i, j] at
        (w1s[j], w2s[i])."""
        corners = np.vstack([path.weights for path in self.paths.values()] + [self.best[None]])
        low, high = corners.min(axis=0) - margin, corners.max(axis=0) + margin
        w1s, w2s = np.linspace(low[0], high[0], n), np.linspace(low[1], high[1], n)
        grid_weights = np.stack(np.meshgrid(w1s, w2s), axis=-1).reshape(-1, 2)
        return w1s, w2s, mean_squared_error(self.x, self.y, grid_weights).reshape(n, n)


def regression_data(n_samples: int = 200, correlation: float = 0.6, noise: float = 0.5, seed=0):
    """x (n, 2) with correlated features, y = 2·x₁ − x₂ + noise: correlated features tilt and stretch the loss's
    contours into ellipses, as real features do."""
    n_samples = check_int(n_samples, "n_samples", "regression_data", minimum=2, maximum=100_000)
    correlation = check_hyperparameter(correlation, "correlation", "regression_data", minimum=-0.95, maximum=0.95,
                                       fix="Use a correlation between -0.95 and 0.95, e.g. 0.6.")
    rng = make_rng(seed)
    x = rng.multivariate_normal([0.0, 0.0], [[1.0, correlation], [correlation, 1.0]], size=n_samples)
    y = x @ np.array(TRUE_WEIGHTS) + noise * rng.standard_normal(n_samples)
    return x, y


def mean_squared_error(x, y, weights) -> np.ndarray:
    """L(w) = mean((x·w − y)²) for one weight vector (2,) or a stack of them (k, 2)."""
    residuals = x @ np.asarray(weights, dtype=np.float64).T - (y if np.ndim(weights) == 1 else y[:, None])
    return np.mean(residuals**2, axis=0)


def gradient(x, y, w) -> np.ndarray:
    """∂L/∂w = (2/n) Σ (x·w − y)·x over the n examples given."""
    return 2.0 / len(x) * (x.T @ (x @ w - y))


def compare_batch_modes(x=None, y=None, *, mini_batch_size: int = 16, epochs: int = 3, lr: float = 0.1,
                        start=(-2.0, 3.0), optimizer: str = "sgd", seed=0) -> BatchModes:
    """Train the two weights from `start` three ways for the same number of epochs (so every mode sees every
    example `epochs` times): one update per epoch (batch), one per example (stochastic), one per
    `mini_batch_size` examples. Same data, same optimizer, same shuffled order."""
    if x is None or y is None:
        x, y = regression_data(seed=seed)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or y.shape != (len(x),):
        raise ValueError(f"compare_batch_modes expected x of shape (n, 2) and y of shape (n,), got {x.shape} and "
                         f"{y.shape}. The model has exactly two weights: give it two features.")
    epochs = check_int(epochs, "epochs", "compare_batch_modes", minimum=1, maximum=100)
    # the stochastic path records one row per example: bound it before allocating
    if epochs * len(x) > 200_000:
        raise ValueError(f"compare_batch_modes expected at most 200,000 stochastic updates, got {epochs} epochs × "
                         f"{len(x)} examples. Use fewer epochs or examples.")
    best = np.linalg.lstsq(x, y, rcond=None)[0]
    paths = {}
    for mode in BATCH_MODES:
        batch_size = batch_size_for(mode, len(x), mini_batch_size)
        paths[mode] = _descend(x, y, mode, batch_size, epochs, get_optimizer(optimizer, lr=lr), start, seed)
    return BatchModes(x, y, best, paths, float(lr))


def _descend(x, y, mode, batch_size, epochs, optimizer, start, seed) -> DescentPath:
    w = np.array(start, dtype=np.float64)
    rng = make_rng(seed)                          # the same shuffled order for every mode
    weights, seen, seconds = [w.copy()], [0], [0.0]
    for _ in range(epochs):
        for idx in minibatch_indices(len(x), batch_size, rng=rng):
            started = time.perf_counter()
            optimizer.step([(PARAM, w, gradient(x[idx], y[idx], w))])
            seconds.append(seconds[-1] + time.perf_counter() - started)
            weights.append(w.copy())
            seen.append(seen[-1] + len(idx))
    weights = np.array(weights)
    return DescentPath(mode, batch_size, weights, np.array(seen), np.array(seconds),
                       mean_squared_error(x, y, weights))


# -- the same three on a real network ------------------------------------------------------------------------------
@dataclass
class TrainingCurve:
    """One mode's training of a real network for a fixed time: the loss on held-out examples at each checkpoint,
    with what it had cost by then."""

    mode: str
    batch_size: int
    updates: np.ndarray          # (k,) at each checkpoint
    examples_seen: np.ndarray    # (k,)
    seconds: np.ndarray          # (k,): training time only, the checkpoints' evaluations left out
    loss: np.ndarray             # (k,): cross-entropy on the held-out examples


def train_batch_modes(x, y, eval_x, eval_y, *, seconds: float = 8.0, mini_batch_size: int = 128, lr: float = 0.1,
                      hidden=(64,), checkpoints: int = 40, seed=0, progress=None,
                      should_stop=None) -> dict[str, TrainingCurve]:
    """Train the same MLP (same start) three ways for `seconds` of training each: all of x per step (batch), one
    example per step (stochastic), `mini_batch_size` per step; plain SGD at one learning rate, the engine's own
    train_step. About `checkpoints` times per run the loss on (eval_x, eval_y) is measured, off the clock.
    progress(fraction) after each checkpoint; should_stop() -> True ends the runs early."""
    seconds = check_hyperparameter(seconds, "seconds", "train_batch_modes", minimum=0.1, maximum=600,
                                   fix="Give each mode a few seconds, e.g. seconds=8.")
    checkpoints = check_int(checkpoints, "checkpoints", "train_batch_modes", minimum=2, maximum=1000)
    n_classes = int(max(np.max(y), np.max(eval_y))) + 1
    curves = {}
    for index, mode in enumerate(BATCH_MODES):
        model = build_mlp(x.shape[1:], n_classes, hidden=hidden, seed=seed)
        loss, optimizer = SoftmaxCrossEntropy(), get_optimizer("sgd", lr=lr)
        batch_size = batch_size_for(mode, len(x), mini_batch_size)
        rng, every = make_rng(seed), seconds / checkpoints
        rows = [(0, 0, 0.0, float(loss.forward(model.predict(eval_x), eval_y)))]
        updates = seen = 0
        clock = 0.0
        while clock < seconds and not (should_stop is not None and should_stop()):
            for idx in minibatch_indices(len(x), batch_size, rng=rng):
                # the whole set in its own order: the full-batch gradient does not depend on it, and x[idx] would
                # copy all of it at every step
                batch_x, batch_y = (x, y) if len(idx) == len(x) else (x[idx], y[idx])
                started = time.perf_counter()
                train_step(model, loss, optimizer, batch_x, batch_y)
                clock += time.perf_counter() - started
                updates, seen = updates + 1, seen + len(idx)
                if clock >= rows[-1][2] + every or clock >= seconds:
                    rows.append((updates, seen, clock, float(loss.forward(model.predict(eval_x), eval_y))))
                    if progress is not None:
                        progress((index + min(1.0, clock / seconds)) / len(BATCH_MODES))
                if clock >= seconds or (should_stop is not None and should_stop()):
                    break
        columns = [np.array(column) for column in zip(*rows)]
        curves[mode] = TrainingCurve(mode, batch_size, columns[0], columns[1], columns[2], columns[3])
    return curves


# -- the optimizer race on a real network --------------------------------------------------------------------------
#: learning rates that train the MNIST MLP well, per optimizer (the drawn surfaces want others)
MNIST_LEARNING_RATES = {"sgd": 0.1, "momentum": 0.02, "nesterov": 0.02, "rmsprop": 0.001, "adam": 0.001,
                        "adamw": 0.001}


@dataclass
class OptimizerRun:
    """One optimizer training the real network: its training loss at every step, and its run id in the store."""

    label: str
    config: dict
    loss: np.ndarray            # (steps,)
    run_id: int | None


def race_optimizers(x, y, optimizers, *, steps: int = 300, batch_size: int = 128, hidden=(64,), seed=0,
                    store=None, dataset: str = "mnist", progress=None, should_stop=None) -> dict[str, OptimizerRun]:
    """Train the same MLP (same start, same batches) with each optimizer for `steps` steps through fit(), the
    engine's own loop. `optimizers`: a list of names (raced at MNIST_LEARNING_RATES) or a dict label -> config.
    With a `store` (a RunStore or a path) each run is recorded there, so `learnscope runs compare` shows them."""
    steps = check_int(steps, "steps", "race_optimizers", minimum=1, maximum=100_000)
    if isinstance(optimizers, (list, tuple)):
        optimizers = {name: {"name": name, "lr": MNIST_LEARNING_RATES.get(name, 0.01)} for name in optimizers}
    n_classes = int(np.max(y)) + 1
    runs = {}
    for index, (label, config) in enumerate(optimizers.items()):
        def report(done, index=index):
            if progress is not None:
                progress((index + done / steps) / len(optimizers))

        follow = _FollowLoss(steps, report, should_stop)
        model = build_mlp(x.shape[1:], n_classes, hidden=hidden, seed=seed)
        optimizer = get_optimizer(dict(config))
        callbacks = [follow]
        recorder = None
        if store is not None:
            recorder = Recorder(store, run_name=f"optimizer race: {label}", every=10, dataset=dataset,
                                config={"optimizer": optimizer.config(), "hidden": list(hidden),
                                        "batch_size": batch_size}, checkpoints=False)
            callbacks.append(recorder)
        epochs = -(-steps * batch_size // len(x))
        fit(model, SoftmaxCrossEntropy(), optimizer, x, y, epochs=epochs, batch_size=batch_size, seed=seed,
            callbacks=callbacks)
        runs[label] = OptimizerRun(label, optimizer.config(), np.array(follow.losses),
                                   None if recorder is None else recorder.run_id)
        if should_stop is not None and should_stop():
            break
    return runs


class _FollowLoss(Callback):
    """Keeps each step's training loss and stops fit() after `steps` steps (or when should_stop() says so)."""

    def __init__(self, steps: int, report, should_stop):
        self.steps, self.report, self.should_stop = steps, report, should_stop
        self.losses: list[float] = []

    def on_batch_end(self, step, logs):
        self.losses.append(float(logs["loss"]))
        self.report(len(self.losses))
        if len(self.losses) >= self.steps or (self.should_stop is not None and self.should_stop()):
            self.trainer.stop("the race's steps are done")
