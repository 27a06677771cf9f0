"""Vanishing and exploding gradients: how strongly each hidden layer is told to change, in deep networks.

Nielsen (Neural Networks and Deep Learning, chapter 5) measures a layer's learning speed as the length of the
gradient of its biases, averaged over 1,000 training images: ‖∂C/∂b_l‖. In a deep sigmoid network each layer back
multiplies the gradient by σ'(z)·W, with σ' ≤ 0.25, so the first layers learn several times slower than the last:
the gradient vanishes. Weights too large for their layer multiply it instead, and it explodes.

    norms = layer_gradient_norms(deep_network(3, "sigmoid"), x, y)     # three numbers, smallest first
"""

from dataclasses import dataclass

import numpy as np

from learnscope.core.validation import check_choice, check_int
from learnscope.layers import BatchNorm, Dense, Flatten, ReLU, Residual, Sigmoid
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD
from learnscope.train.callbacks import Callback
from learnscope.train.evaluate import evaluate
from learnscope.train.loop import fit

#: The deep networks the lesson compares, by name, with what each one is
NETWORK_KINDS = {
    "sigmoid": "sigmoid units, weights N(0, 1/n_in) and biases N(0, 1), as in Nielsen's chapter 5",
    "relu-he": "ReLU units with He initialisation, weights N(0, 2/n_in)",
    "relu-he-bn": "ReLU units with He initialisation and batch normalisation before each activation",
    "residual": "sigmoid residual blocks y = x + σ(xW + b): the skip connection carries the gradient back",
    "too-large": "ReLU units with weights drawn three times too large for He's rule: the gradient explodes",
}
#: Their short names, for charts and menus
KIND_NAMES = {"sigmoid": "Sigmoid (Nielsen's)", "relu-he": "ReLU + He", "relu-he-bn": "ReLU + He + batch norm",
              "residual": "Residual sigmoid blocks", "too-large": "ReLU, weights 3× too large"}
#: Nielsen averages the gradient at the start over this many training images; watch_training trains on this many
GRADIENT_EXAMPLES = 1000
WATCH_EXAMPLES = 10_000
#: How much larger than He's the "too-large" weights are: each layer multiplies the signal by about this much
TOO_LARGE_GAIN = 3.0


def _normal(n_in: int, variance_times_n_in: float) -> dict:
    """N(0, v / n_in) as an initializer spec: Nielsen's v = 1, He's v = 2."""
    return {"name": "normal", "std": float(np.sqrt(variance_times_n_in / n_in))}


UNIT_NORMAL = {"name": "normal", "std": 1.0}


def deep_network(n_hidden: int, kind: str = "sigmoid", width: int = 30, n_inputs: int = 784, n_classes: int = 10,
                 seed=0, dtype=None) -> Sequential:
    """A network of `n_hidden` hidden layers of `width` units of the given kind (see NETWORK_KINDS), on flat or
    image inputs.   (N, n_inputs) or (N, 1, 28, 28) -> (N, n_classes) logits.
    The residual kind starts with a plain projection to `width` (a block keeps its width), then n_hidden blocks."""
    n_hidden = check_int(n_hidden, "n_hidden", "deep_network", minimum=1, maximum=50)
    kind = check_choice(kind, "kind", "deep_network", tuple(NETWORK_KINDS))
    width = check_int(width, "width", "deep_network", minimum=1, maximum=4096)
    layers = [Flatten(dtype=dtype)]
    if kind == "residual":
        layers.append(Dense(n_inputs, width, init=_normal(n_inputs, 1), dtype=dtype))
        layers += [Residual(width, "sigmoid", init=_normal(width, 1), bias_init=UNIT_NORMAL, dtype=dtype)
                   for _ in range(n_hidden)]
    else:
        n_in = n_inputs
        for _ in range(n_hidden):
            if kind == "sigmoid":
                layers += [Dense(n_in, width, init=_normal(n_in, 1), bias_init=UNIT_NORMAL, dtype=dtype),
                           Sigmoid(dtype=dtype)]
            else:
                gain = TOO_LARGE_GAIN if kind == "too-large" else 1.0
                layers.append(Dense(n_in, width, init=_normal(n_in, 2 * gain**2), dtype=dtype))
                if kind == "relu-he-bn":
                    layers.append(BatchNorm(width, dtype=dtype))
                layers.append(ReLU(dtype=dtype))
            n_in = width
    layers.append(Dense(width, n_classes, init=_normal(width, 1), dtype=dtype))
    return Sequential(layers, seed=seed)


def hidden_bias_grads(model: Sequential) -> list[tuple[str, np.ndarray]]:
    """(name, gradient) of each hidden layer's bias, first layer first, as backward last left them. A layer
    followed by batch norm has its bias cancelled by the normalisation (its gradient is exactly 0); batch norm's
    shift β takes over the bias's role, so its gradient is the one reported."""
    found = []
    for index, layer in enumerate(model.layers[:-1]):
        if isinstance(layer, BatchNorm) and found:
            found[-1] = (f"{index}.batchnorm.beta", layer.grads["beta"])
        elif isinstance(layer, (Dense, Residual)) and "b" in layer.grads and index > _stem(model):
            found.append((f"{index}.{type(layer).__name__.lower()}.b", layer.grads["b"]))
    return found


def _stem(model) -> int:
    """Index of a residual net's projection layer, which is not one of its hidden layers (-1 if none)."""
    if any(isinstance(layer, Residual) for layer in model.layers):
        return next(i for i, layer in enumerate(model.layers) if isinstance(layer, Dense))
    return -1


@dataclass
class GradientNorms:
    """‖∂C/∂b‖ of each hidden layer, first layer first, and what they say."""

    names: list[str]
    norms: np.ndarray

    @property
    def ratio(self) -> float:
        """Last hidden layer's norm over the first one's: 1 when all learn alike, ≫ 1 when the gradient vanishes
        on its way back, ≪ 1 when it explodes."""
        return float(self.norms[-1] / self.norms[0]) if self.norms[0] > 0 else float("inf")

    def plot(self):
        """‖∂C/∂b‖ per hidden layer on a log axis (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_gradient_norms

        return plot_gradient_norms(self)


def layer_gradient_norms(model: Sequential, x, y, loss=None) -> GradientNorms:
    """Nielsen's learning speed of each hidden layer: ‖∂C/∂b_l‖ with C the mean loss over all of (x, y) (one
    batch: use about 1,000 examples), computed by one backward pass in train mode. The weights do not change."""
    loss = loss or SoftmaxCrossEntropy()
    loss.forward(model.forward(x, train=True), y)
    model.backward(loss.backward(), need_input_grad=False)
    grads = hidden_bias_grads(model)
    return GradientNorms([name for name, _ in grads],
                         np.array([float(np.linalg.norm(grad.astype(np.float64))) for _, grad in grads]))


class GradientNormMonitor(Callback):
    """Records each hidden layer's ‖∂C/∂b‖ every `every` steps while fit() trains, from the gradients backward
    has just computed for the batch (free: nothing is recomputed). norms: (n_records, n_hidden_layers)."""

    def __init__(self, every: int = 10):
        self.every = check_int(every, "every", "GradientNormMonitor", minimum=1)
        self.steps: list[int] = []
        self.rows: list[list[float]] = []
        self.names: list[str] = []

    def on_train_begin(self, trainer) -> None:
        self._model = trainer.model
        self.names = [name for name, _ in hidden_bias_grads(self._model)]
        self.steps, self.rows = [], []

    def on_batch_end(self, step, logs) -> None:
        if step % self.every == 0:
            self.steps.append(step)
            self.rows.append([float(np.linalg.norm(grad)) for _, grad in hidden_bias_grads(self._model)])

    @property
    def norms(self) -> np.ndarray:
        return np.array(self.rows).reshape(len(self.rows), len(self.names))


@dataclass
class WatchedTraining:
    """A deep network trained while its hidden layers' gradients were watched."""

    kind: str
    n_hidden: int
    lr: float
    clip_norm: float | None
    names: list[str]
    steps: np.ndarray                   # the steps the norms were recorded at
    norms: np.ndarray                   # (len(steps), n_hidden): ‖∂C/∂b‖ per hidden layer (after any clipping)
    step_loss: np.ndarray               # the training loss of every step
    status: str                         # "finished", "diverged" (the divergence guard stopped it), "stopped"
    message: str
    test_accuracy: float | None         # None when it diverged

    def plot(self):
        """Each hidden layer's gradient size per recorded step, and the loss (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_watched_training

        return plot_watched_training(self)


def watch_training(mnist, kind: str = "sigmoid", n_hidden: int = 3, lr: float = 0.1, clip_norm: float | None = None,
                   epochs: int = 1, train_samples: int = WATCH_EXAMPLES, batch_size: int = 32, every: int = 5,
                   seed: int = 0, should_stop=None) -> WatchedTraining:
    """Train deep_network(n_hidden, kind) with SGD (and gradient clipping at clip_norm, if given) on the first
    train_samples MNIST training images, recording each hidden layer's ‖∂C/∂b‖ every `every` steps; then score it on
    the test set. should_stop(): checked every step; True ends training there (the page has closed)."""
    model = deep_network(n_hidden, kind, seed=seed)
    monitor = GradientNormMonitor(every)
    callbacks = [monitor]
    if should_stop is not None:
        callbacks.append(_StopWhen(should_stop))
    loss = SoftmaxCrossEntropy()
    history = fit(model, loss, SGD(lr=lr, clip_norm=clip_norm), mnist.x_train[:train_samples],
                  mnist.y_train[:train_samples], epochs=epochs, batch_size=batch_size, seed=seed, callbacks=callbacks)
    accuracy = None
    if history.status != "diverged":
        accuracy = evaluate(model, loss, mnist.x_test, mnist.y_test).accuracy
    return WatchedTraining(kind, n_hidden, lr, clip_norm, monitor.names, np.array(monitor.steps), monitor.norms,
                           np.array(history.step_loss), history.status, history.message, accuracy)


class _StopWhen(Callback):
    def __init__(self, should_stop):
        self.should_stop = should_stop

    def on_batch_end(self, step, logs) -> None:
        if self.should_stop():
            self.trainer.stop("Stopped: nobody is watching any more.")


def describe_gradient_norms(norms: GradientNorms) -> str:
    """One or two sentences: how much slower (or faster) the first hidden layer learns than the last."""
    ratio = norms.ratio
    if not np.isfinite(ratio):
        return ("No gradient reaches the first hidden layer at all: its units are switched off (a ReLU that is "
                "never active, a saturated sigmoid), so it cannot learn.")
    if ratio >= 3:
        steps = np.exp(np.mean(np.diff(np.log(np.maximum(norms.norms, 1e-30)))))
        return (f"The gradient vanishes on its way back: the first hidden layer gets {ratio:.0f}× less than the last "
                f"(each layer back about {steps:.1f}× less), so it learns that much slower.")
    if ratio <= 1 / 3:
        return (f"The gradient explodes on its way back: the first hidden layer gets {1 / ratio:.0f}× more than the "
                "last, so its steps are far too big for a learning rate that suits the others.")
    return (f"The gradient reaches the first hidden layer at about the strength of the last ({ratio:.1f}× between "
            "them): every layer learns at a similar pace.")
