"""Neuro-symbolic learning on MNIST addition: a network learns to read digits from sums alone.

Each training example is two MNIST images (two numbers of n_digits images each) and one label: their sum. No
digit label is ever used. A digit classifier reads every image (Unstack), and DigitSum, which knows only the rule
"sum = a + b", turns its guesses into the exact probability of every sum; the loss is −log P(sum). The rule is
given, not learned: it turns a weak label (the sum) into a strong one, because its gradient on each image is
"prediction − P(digit | the sum)" — a soft digit label the rule infers (see learnscope.layers.digit_sum).

    data = addition_data(load_mnist(), n_digits=1)
    result = train_mnist_addition(data)          # about 25 s on two cores: sums ~98%, digits ~99%
    result.sum_accuracy, result.digit_accuracy

Protocol as in the literature (DeepProbLog and after): training examples from MNIST's training images without
reuse (30,000 sums for one digit, 15,000 for two), test examples from its test images. For contrast,
train_neural_baseline learns the same sums with no rule: both images in, one class per sum out.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from learnscope.architectures import build_cnn, build_mlp, input_statistics
from learnscope.core.validation import check_choice, check_int, describe
from learnscope.data.batches import steps_per_epoch
from learnscope.layers import DigitSum, Unstack
from learnscope.layers.digit_sum import MAX_DIGITS
from learnscope.lessons.pictures import grayscale
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.recipes import Recipe, optimizer_from_recipe
from learnscope.train import Callback, History, Recorder, evaluate, fit, log_test_confusion

#: Chosen by experiment (benchmarks/mnist_addition.py): Adam with warm-up and cosine decay. Plain SGD with
#: momentum, the MNIST CNN recipe's optimizer, can settle on a wrong reading of the digits that sums still half fit.
ADDITION_RECIPES = {
    1: Recipe(model="cnn", optimizer="adam", lr=0.002, schedule="warmup-cosine", batch_size=32, epochs=2,
              standardize=True),
    2: Recipe(model="cnn", optimizer="adam", lr=0.002, schedule="warmup-cosine", batch_size=32, epochs=3,
              standardize=True),
}
DIGIT_SHAPE = (1, 28, 28)


@dataclass
class AdditionData:
    """Sum examples: x (n, 2·n_digits, 1, 28, 28), number a's digit images (most significant first), then number
    b's; sums (n,); digits (n, 2·n_digits), kept only to score the digits afterwards, never to train.
    test_images / test_labels: MNIST's test digits, each read alone, for the digit accuracy."""

    n_digits: int
    x_train: np.ndarray
    sums_train: np.ndarray
    digits_train: np.ndarray
    x_test: np.ndarray
    sums_test: np.ndarray
    digits_test: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    input_stats: tuple[float, float] = field(default=(0.0, 1.0))

    @property
    def n_sums(self) -> int:
        return 2 * 10 ** self.n_digits - 1


def make_addition_examples(images, labels, n_digits: int = 1, n_examples: int | None = None,
                           seed=0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group shuffled images into sum examples, each image used once: (x, sums, digits).
    images (N, 1, 28, 28), labels (N,) -> x (n, 2·n_digits, 1, 28, 28), sums (n,), digits (n, 2·n_digits);
    n = N // (2·n_digits), or the first n_examples of them."""
    n_digits = check_int(n_digits, "n_digits", "make_addition_examples", minimum=1, maximum=MAX_DIGITS,
                         fix="Use 1 (sums of two digits) or 2 (sums of two 2-digit numbers).")
    per_example = 2 * n_digits
    available = len(images) // per_example
    if n_examples is None:
        n_examples = available
    n_examples = check_int(n_examples, "n_examples", "make_addition_examples", minimum=1, maximum=max(1, available),
                           fix=f"{len(images):,} images make at most {available:,} examples of {per_example} images.")
    order = np.random.default_rng(seed).permutation(len(images))[:n_examples * per_example]
    order = order.reshape(n_examples, per_example)
    digits = np.asarray(labels)[order]
    return np.asarray(images)[order], sum_of_numbers(digits, n_digits), digits


def sum_of_numbers(digits, n_digits: int) -> np.ndarray:
    """(n, 2·n_digits) digits, most significant first -> (n,) the sums a + b."""
    place = 10 ** np.arange(n_digits - 1, -1, -1)
    digits = np.asarray(digits)
    return digits[:, :n_digits] @ place + digits[:, n_digits:] @ place


def addition_data(mnist, n_digits: int = 1, n_train: int | None = None, n_test: int | None = None,
                  seed=0) -> AdditionData:
    """Sum examples from a Dataset of MNIST digits (load_mnist()): training sums from its training images, test sums
    from its test images, none reused. n_train / n_test: keep only the first so many (e.g. 1,000 sums)."""
    for name in ("x_train", "y_train", "x_test", "y_test"):
        if not hasattr(mnist, name):
            raise TypeError(f"addition_data expected MNIST as a Dataset (learnscope.data.load_mnist()), got "
                            f"{describe(mnist)}.")
    if tuple(mnist.x_train.shape[1:]) != DIGIT_SHAPE:
        raise ValueError(f"addition_data expected 28×28 digit images of shape (N, 1, 28, 28), got "
                         f"{mnist.x_train.shape}. Pass load_mnist().")
    x_train, sums_train, digits_train = make_addition_examples(mnist.x_train, mnist.y_train, n_digits, n_train, seed)
    x_test, sums_test, digits_test = make_addition_examples(mnist.x_test, mnist.y_test, n_digits, n_test, seed + 1)
    return AdditionData(n_digits, x_train, sums_train, digits_train, x_test, sums_test, digits_test,
                        mnist.x_test, mnist.y_test, input_statistics(mnist.x_train))


# -- the two networks -----------------------------------------------------------------------------------------------
def addition_model(n_digits: int = 1, model: str = "cnn", input_stats=None, seed=0,
                   even_start: bool = True) -> Sequential:
    """Unstack → a digit classifier (10 scores per image) → DigitSum.   (N, 2·n_digits, 1, 28, 28) -> (N, n_sums)
    The classifier is the engine's CNN or MLP; the rule adds nothing to learn.
    even_start: the classifier's last layer starts at zero, so every image starts at p = 1/10 for every digit and the
    first gradients are exactly the rule's soft labels (a sum of 0 says "0 and 0", a sum of 1 "0 or 1", ...).
    NOTE: from random last-layer weights, some seeds lock into reading digits one off (0 as 1, 9 as 8, the middle
    digits split between their neighbours): a wrong reading the sums still half fit, that training never leaves."""
    model = check_choice(model, "model", "addition_model", ("cnn", "mlp"))
    builder = build_cnn if model == "cnn" else build_mlp
    classifier = builder(DIGIT_SHAPE, 10, input_stats=input_stats)
    network = Sequential([Unstack(2 * n_digits), *classifier.layers, DigitSum(n_digits)])
    network.reset(seed)
    if even_start:
        for param in network.layers[-2].params.values():
            param.fill(0)
    return network


def digit_classifier(model: Sequential) -> Sequential:
    """The digit reader inside an addition model (its layers, shared, not copied).   (N, 1, 28, 28) -> (N, 10)"""
    if not (isinstance(model, Sequential) and isinstance(model.layers[0], Unstack)
            and isinstance(model.layers[-1], DigitSum)):
        raise TypeError(f"digit_classifier expected an addition model (Unstack, ..., DigitSum), got {describe(model)}. "
                        "Build it with addition_model().")
    return Sequential(model.layers[1:-1])


def neural_baseline_model(n_digits: int = 1, input_stats=None, seed=0) -> Sequential:
    """No rule: the 2·n_digits images as the channels of one CNN input, one output class per sum.
    (N, 2·n_digits, 28, 28) -> (N, n_sums)"""
    return build_cnn((2 * n_digits, 28, 28), 2 * 10 ** n_digits - 1, input_stats=input_stats, seed=seed)


# -- training ----------------------------------------------------------------------------------------------------
@dataclass
class AdditionResult:
    """What train_mnist_addition (or train_neural_baseline) made, scored on the test sums and test digits."""

    n_digits: int
    model: Sequential
    history: History
    seconds: float                          # training time: fit()'s wall time without the probe's measurements
    sum_accuracy: float                     # test examples whose most probable sum is right
    digit_accuracy: float | None            # MNIST test digits read right, each alone (None for the baseline)
    digit_confusion: np.ndarray | None      # (10, 10): [true digit, read as]
    curve: list = field(default_factory=list)   # DigitProbe's (step, sum accuracy, digit accuracy) points
    n_train: int = 0                        # training sums
    digit_predictions: np.ndarray | None = field(default=None, repr=False)   # each MNIST test digit as read

    @property
    def status(self) -> str:
        return self.history.status

    def plot(self):
        """Test sums and test digits read right while it learned (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_addition

        return plot_addition(self)


class DigitProbe(Callback):
    """Every `every` steps, scores the sums of a few test examples and the digits of a few test images: the curve
    that shows digits being learned from sums. points: [(step, sum accuracy, digit accuracy)]; on_point(point)
    is called with each new one (the lab publishes it)."""

    def __init__(self, data: AdditionData, every: int = 100, n_examples: int = 1000, on_point=None):
        self.every = check_int(every, "every", "DigitProbe", minimum=1)
        self.x_sums, self.sums = data.x_test[:n_examples], data.sums_test[:n_examples]
        self.images, self.labels = data.test_images[:n_examples], data.test_labels[:n_examples]
        self.on_point = on_point
        self.points = []
        self.seconds = 0.0                          # spent measuring, not training

    def on_train_begin(self, trainer):
        self._measure(0)

    def on_batch_end(self, step, logs):
        if (step + 1) % self.every == 0:
            self._measure(step + 1)

    def _measure(self, step: int) -> None:
        start = time.perf_counter()
        model = self.trainer.model
        sums = float((model.predict(self.x_sums).argmax(axis=1) == self.sums).mean())
        digits = float((digit_classifier(model).predict(self.images).argmax(axis=1) == self.labels).mean())
        self.seconds += time.perf_counter() - start
        self.points.append((step, sums, digits))
        if self.on_point is not None:
            self.on_point(self.points[-1])


def train_mnist_addition(data: AdditionData, recipe: Recipe | None = None, *, model: str | None = None,
                         even_start: bool = True, callbacks=(), probe_every: int | None = None,
                         on_point=None) -> AdditionResult:
    """Train an addition model on `data`'s sums (never its digits) and score it. A Recorder among the callbacks
    records the run, with the test sums' confusion matrix.
    recipe: ADDITION_RECIPES[n_digits] by default; model: "cnn" or "mlp" overrides the recipe's network;
    even_start: see addition_model.
    probe_every: also score sums and digits every so many steps (result.curve; on_point(point) sees each)."""
    if not isinstance(data, AdditionData):
        raise TypeError(f"train_mnist_addition expected AdditionData (from addition_data(load_mnist())), got "
                        f"{describe(data)}.")
    recipe = recipe or ADDITION_RECIPES[data.n_digits]
    if model is not None:
        recipe = recipe.with_options(model=check_choice(model, "model", "train_mnist_addition", ("cnn", "mlp")))
    network = addition_model(data.n_digits, recipe.model, data.input_stats if recipe.standardize else None,
                             recipe.seed, even_start)
    callbacks = list(callbacks)
    probe = None
    if probe_every is not None:
        probe = DigitProbe(data, probe_every, on_point=on_point)
        callbacks.append(probe)
    history, seconds = _fit(network, recipe, data.x_train, data.sums_train, callbacks)
    if probe is not None:
        seconds -= probe.seconds
    if history.status == "diverged":
        return AdditionResult(data.n_digits, network, history, seconds, float("nan"), None, None,
                              probe.points if probe else [], len(data.x_train))
    sums = evaluate(network, SoftmaxCrossEntropy(), data.x_test, data.sums_test)
    recorder = next((callback for callback in callbacks if isinstance(callback, Recorder)), None)
    if recorder is not None and recorder.run_id is not None:      # `learnscope runs` shows the test sums' accuracy
        log_test_confusion(recorder.store.path, recorder.run_id, history, sums.confusion)
    digits = evaluate(digit_classifier(network), SoftmaxCrossEntropy(), data.test_images, data.test_labels)
    return AdditionResult(data.n_digits, network, history, seconds, sums.accuracy, digits.accuracy,
                          digits.confusion, probe.points if probe else [], len(data.x_train), digits.predictions)


def train_neural_baseline(data: AdditionData, recipe: Recipe | None = None, *, callbacks=()) -> AdditionResult:
    """The same sums learned with no rule (neural_baseline_model), same recipe and data: it has to discover
    addition itself, from examples, for every one of the n_sums classes."""
    recipe = recipe or ADDITION_RECIPES[data.n_digits]
    network = neural_baseline_model(data.n_digits, data.input_stats if recipe.standardize else None, recipe.seed)
    as_channels = _as_channels(data.x_train)
    history, seconds = _fit(network, recipe, as_channels, data.sums_train, list(callbacks))
    accuracy = float("nan")
    if history.status != "diverged":
        accuracy = evaluate(network, SoftmaxCrossEntropy(), _as_channels(data.x_test), data.sums_test).accuracy
    return AdditionResult(data.n_digits, network, history, seconds, accuracy, None, None, n_train=len(data.x_train))


def _as_channels(x: np.ndarray) -> np.ndarray:
    """(n, k, 1, 28, 28) -> (n, k, 28, 28): each example's images as the channels of one picture (a view)."""
    return x.reshape(len(x), x.shape[1], *x.shape[3:])


def _fit(network, recipe: Recipe, x, y, callbacks) -> tuple[History, float]:
    batch_size = min(recipe.batch_size, len(x))
    optimizer = optimizer_from_recipe(recipe, steps_per_epoch(len(x), batch_size, network.min_batch_size))
    start = time.perf_counter()
    history = fit(network, SoftmaxCrossEntropy(), optimizer, x, y, epochs=recipe.epochs, batch_size=batch_size,
                  seed=recipe.seed, callbacks=callbacks)
    return history, time.perf_counter() - start


# -- reading the result -----------------------------------------------------------------------------------------
def sum_accuracy_reference(n_digits: int, digit_accuracy: float = 0.99) -> float:
    """digit_accuracy^(2·n_digits): how often every digit of an example is read right. The literature's reference
    line (0.99² = 98.0% for one digit): a sum can also come out right from wrong digits, so it is not a bound."""
    return digit_accuracy ** (2 * n_digits)


def digit_posterior(digit_probabilities, total: int) -> np.ndarray:
    """What the rule tells two images, given only their sum: P(a = i, b = j | a + b = total) ∝ p_a(i) p_b(j) for
    i + j = total, else 0.   (2, 10) probabilities -> (10, 10). Its row and column sums are the soft digit
    labels training pulls each image's prediction towards."""
    p = np.asarray(digit_probabilities, dtype=np.float64)
    if p.shape != (2, 10):
        raise ValueError(f"digit_posterior expected the two images' digit probabilities, shape (2, 10), got "
                         f"{p.shape}.")
    total = check_int(total, "total", "digit_posterior", minimum=0, maximum=18)
    joint = np.outer(p[0], p[1]) * (np.add.outer(np.arange(10), np.arange(10)) == total)
    mass = joint.sum()
    if mass == 0:
        raise ValueError(f"digit_posterior: the two images' probabilities give the sum {total} no chance at all.")
    return joint / mass


@dataclass(frozen=True)
class ReadExample:
    """One test example as the network reads it: its images side by side, each digit as read, the most probable
    sum (the rule's answer, which need not be the sum of the digits read) and the true sum."""

    picture: np.ndarray             # (28, 28 · 2·n_digits) uint8, white ink on black
    digits: tuple[int, ...]
    predicted_sum: int
    true_sum: int

    def caption(self) -> str:
        """ "read 3 + 5 → 8 ✓" (numbers of several digits read as such: "read 12 + 30 → 42")."""
        half = len(self.digits) // 2
        a, b = ("".join(map(str, part)) for part in (self.digits[:half], self.digits[half:]))
        verdict = "✓" if self.predicted_sum == self.true_sum else f"✗ (is {self.true_sum})"
        return f"read {a} + {b} → {self.predicted_sum} {verdict}"


def read_examples(model: Sequential, x, sums, count: int = 8) -> list[ReadExample]:
    """The first `count` examples of (x, sums) as `model` (an addition model) reads them."""
    count = check_int(count, "count", "read_examples", minimum=1, maximum=len(x))
    x, sums = x[:count], np.asarray(sums)[:count]
    per_example = x.shape[1]
    digits = digit_classifier(model).predict(x.reshape(count * per_example, *x.shape[2:])).argmax(axis=1)
    predicted = model.predict(x).argmax(axis=1)
    pictures = grayscale(x[:, :, 0].transpose(0, 2, 1, 3).reshape(count * x.shape[3], per_example * x.shape[4]),
                         0.0, 1.0).reshape(count, x.shape[3], per_example * x.shape[4])
    return [ReadExample(pictures[i], tuple(int(d) for d in digits[i * per_example:(i + 1) * per_example]),
                        int(predicted[i]), int(sums[i])) for i in range(count)]


def what_a_sum_says(total: int) -> str:
    """What the rule alone tells each image of a pair adding to `total`, before the network knows anything (every
    digit one chance in ten): the marginal of digit_posterior, e.g. "sum 1: 0 or 1 (50% each)"."""
    posterior = digit_posterior(np.full((2, 10), 0.1), total)
    marginal = posterior.sum(axis=1)
    digits = [digit for digit in range(10) if marginal[digit] > 0]
    if len(digits) == 1:
        return f"sum {total}: both are {digits[0]}"
    if len(digits) == 10:
        return f"sum {total}: any digit ({marginal[0]:.0%} each)"
    names = ", ".join(map(str, digits[:-1])) + f" or {digits[-1]}"
    return f"sum {total}: {names} ({marginal[digits[0]]:.0%} each)"


def describe_addition(result: AdditionResult, baseline: AdditionResult | None = None) -> str:
    """The outcome in words: sums, digits learned without digit labels, and the baseline for contrast."""
    n_sums = 2 * 10 ** result.n_digits - 1
    if result.status == "diverged":
        return f"Training diverged: {result.history.message}"
    seconds = f"{result.seconds:.0f}" if result.seconds >= 10 else f"{result.seconds:.1f}"
    text = (f"After {seconds} s of training on sums only, the network gets {result.sum_accuracy:.1%} of "
            f"the test sums right and reads {result.digit_accuracy:.1%} of MNIST's test digits correctly, "
            "although it never saw a digit label.")
    reference = sum_accuracy_reference(result.n_digits)
    text += f" (Reading every digit 99% right would give {reference:.1%} of sums.)"
    if baseline is not None:
        text += (f" A CNN without the rule, learning the {n_sums} sums from the same examples as {n_sums} unrelated "
                 f"classes, gets {baseline.sum_accuracy:.1%}.")
    return text
