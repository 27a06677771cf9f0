""""Try this" experiments: a one-click setup, the question it answers, and what happened, read from the run's own
numbers.

    experiment = PLAYGROUND_EXPERIMENTS[0]
    experiment.setup                      # the settings to apply (a page's own names, e.g. PlaygroundSetup fields)
    experiment.outcome(numbers)           # Outcome(text, settled): what this run showed, in plain words

An outcome is never a canned text: each is computed from the numbers of what the learner just ran (a RunNumbers
for a training run: losses, accuracies, gradients, diagnostics; a LearningStep for One step), so a run that goes
differently reads differently. Until there are enough numbers to tell, the outcome says what to wait for
(settled=False).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from learnscope.lessons.five_steps import layer_numbers, superscript
from learnscope.lessons.step_through import LearningStep
from learnscope.train.diagnostics import Diagnosis
from learnscope.train.recorder import rms


@dataclass(frozen=True)
class RunNumbers:
    """What an outcome is read from: one row per measurement (epochs done), plus the run's findings.
    Accuracies are empty for regression; layer_gradients: each weight layer's latest gradient RMS, first to last."""

    epochs: int
    train_loss: tuple[float, ...]
    test_loss: tuple[float, ...]
    train_accuracy: tuple[float, ...] = ()
    test_accuracy: tuple[float, ...] = ()
    layer_gradients: tuple[float, ...] = ()
    findings: tuple[Diagnosis, ...] = ()
    diverged: bool = False
    n_classes: int | None = None

    def finding(self, kind: str) -> Diagnosis | None:
        return next((found for found in self.findings if found.kind == kind), None)


@dataclass(frozen=True)
class Outcome:
    """What happened, in plain words; settled is False while the run is too short to tell."""

    text: str
    settled: bool = True


@dataclass(frozen=True)
class Experiment:
    """One "Try this": `title` is the one-click setup in words, `setup` the settings it applies (the page's
    names), `question` what it answers, `reads` the answer from the run's numbers (the page's kind)."""

    key: str
    chapter: int
    title: str
    question: str
    setup: dict
    reads: Callable[..., Outcome] = field(repr=False)
    settles_after: int = 0          # epochs a training run needs before `reads` can tell (0: at once)

    def outcome(self, numbers) -> Outcome:
        """What happened, read from the run's numbers; until the run has `settles_after` epochs (or has diverged:
        it is over then, and the playground pauses on the finding), what to wait for."""
        if self.settles_after and not (numbers.epochs >= self.settles_after or numbers.diverged
                                       or numbers.finding("divergence") is not None):
            return Outcome(f"Press Play: the page tells you what happened after {self.settles_after} epochs "
                           f"({numbers.epochs} so far).", settled=False)
        return self.reads(numbers)


def _percent(value: float) -> str:
    return f"{value:.0%}"


# -- chapter 1: what a network is --------------------------------------------------------------------------------
def straight_line_on_xor(numbers: RunNumbers) -> Outcome:
    accuracy = numbers.train_accuracy[-1]
    if numbers.finding("linear_limit") is not None:
        return Outcome(f"No. After {numbers.epochs} epochs it gets only {_percent(accuracy)} of the training points "
                       "right. Without a hidden layer the boundary is one straight line, and no straight line "
                       "separates XOR's diagonal corners: the perceptron's limit. Add a hidden layer and press Play.")
    return Outcome(f"It gets {_percent(accuracy)} of the training points right: with these input features a "
                   "straight line is enough. With x₁ and x₂ alone it would not be.")


# -- chapter 4: the loss -----------------------------------------------------------------------------------------
def cross_entropy_before_and_after(numbers: RunNumbers) -> Outcome:
    first, last = numbers.train_loss[0], numbers.train_loss[-1]
    classes = numbers.n_classes or 2
    chance = math.log(classes)
    if abs(first - chance) <= 0.15 * chance:
        start = f"close to ln {classes} = {chance:.2f}, the loss of guessing among {classes} classes"
    else:
        start = (f"{'above' if first > chance else 'below'} ln {classes} = {chance:.2f}, the loss of guessing among "
                 f"{classes} classes: random weights are {'worse' if first > chance else 'a little better'} than a "
                 "fair guess")
    return Outcome(f"Before learning the loss was {first:.2f}, {start}. Now it is {last:.3f}: on average the network "
                   f"gives the right class a probability of about e^−{last:.3f} = {_percent(math.exp(-last))}.")


def squared_error_before_and_after(numbers: RunNumbers) -> Outcome:
    first, last = numbers.train_loss[0], numbers.train_loss[-1]
    return Outcome(f"The mean squared error fell from {first:.3f} to {last:.3f}: the outputs are now about "
                   f"√{last:.3f} = {math.sqrt(max(last, 0.0)):.2f} away from their targets (1 for the right class, 0 "
                   f"for the other) on average; at the start they were {math.sqrt(max(first, 0.0)):.2f} away. "
                   "Squared error treats class scores as plain numbers; cross-entropy instead punishes a confident "
                   "mistake without limit, which is why classifiers use it.")


# -- chapter 6: gradient descent ---------------------------------------------------------------------------------
def learning_rate_ten(numbers: RunNumbers) -> Outcome:
    first = numbers.train_loss[0]
    highest = max((loss for loss in numbers.train_loss if math.isfinite(loss)), default=first)
    divergence = numbers.finding("divergence")
    if numbers.diverged or divergence is not None:
        return Outcome(f"The loss went up from {first:.2f} to as much as {highest:.3g} instead of down: each step "
                       "is so large that it jumps across the valley of the loss and lands higher up the other "
                       "side. Lower the learning rate (the finding above has a one-click fix).")
    return Outcome(f"The loss went from {first:.2f} to {numbers.train_loss[-1]:.3g} (highest {highest:.3g}) without "
                   "running away this time; it jumps rather than walks. Try it on the spiral.")


def learning_rate_tiny(numbers: RunNumbers) -> Outcome:
    first, last = numbers.train_loss[0], numbers.train_loss[-1]
    change = (first - last) / first if first > 0 else 0.0
    if change < 0.05:
        return Outcome(f"After {numbers.epochs} epochs the loss moved by only {change:.1%} ({first:.3f} → "
                       f"{last:.3f}): every step is so small that learning crawls. The gradient points the right "
                       "way; the steps are just too short to get anywhere.")
    return Outcome(f"The loss fell by {change:.0%} ({first:.3f} → {last:.3f}): slow, but moving.")


# -- chapter 9: when learning goes wrong ---------------------------------------------------------------------------
def _gap(numbers: RunNumbers) -> tuple[float, float, float]:
    train, test = numbers.train_accuracy[-1], numbers.test_accuracy[-1]
    return train, test, train - test


def few_noisy_points(numbers: RunNumbers) -> Outcome:
    train, test, gap = _gap(numbers)
    overfitting = numbers.finding("overfitting")
    if overfitting is not None or gap >= 0.1:
        rise = (f" The test loss has risen {overfitting.evidence['val_loss_rise'] - 1:.0%} since epoch "
                f"{overfitting.evidence['best_epoch']} while the training loss kept falling."
                if overfitting is not None else "")
        return Outcome(f"Overfitting: {_percent(train)} right on the training points, {_percent(test)} on the test "
                       f"points, a gap of {gap * 100:.0f} points.{rise} With so few noisy points the network "
                       "memorises them, noise included, instead of the spiral's shape.")
    return Outcome(f"Training {_percent(train)}, test {_percent(test)}: a gap of only {gap * 100:.0f} points, no "
                   "overfitting this time. Regenerate the points or train longer.")


def _gradient_ratio(numbers: RunNumbers) -> float | None:
    grads = numbers.layer_gradients
    if len(grads) < 2 or not grads[-1] > 0:
        return None
    return grads[0] / grads[-1]


def six_sigmoid_layers(numbers: RunNumbers) -> Outcome:
    accuracy = numbers.train_accuracy[-1]
    vanishing = numbers.finding("vanishing_gradients")
    if vanishing is not None:
        ratio = vanishing.evidence["ratio"]
        return Outcome(f"Vanishing gradients: the first layer gets about 1/{1 / ratio:,.0f} of the gradient the "
                       f"last layer gets, so it hardly learns; after {numbers.epochs} epochs the accuracy is "
                       f"{_percent(accuracy)}. Each sigmoid passes back at most a quarter of the gradient it "
                       "receives, and six of them in a row leave almost nothing.")
    ratio = _gradient_ratio(numbers)
    measured = f" (first layer / last layer: {ratio:.2g})" if ratio is not None else ""
    return Outcome(f"The gradients reach the first layer{measured} and the accuracy is {_percent(accuracy)}: no "
                   "vanishing this time.")


# -- chapter 10: remedies ------------------------------------------------------------------------------------------
def l2_against_overfitting(numbers: RunNumbers) -> Outcome:
    train, test, gap = _gap(numbers)
    overfitting = numbers.finding("overfitting")
    if overfitting is not None:
        return Outcome(f"The test loss still climbs ({overfitting.evidence['val_loss_rise'] - 1:.0%} above its best, "
                       f"at epoch {overfitting.evidence['best_epoch']}). Try a larger L2, such as 0.03.")
    best, last = min(numbers.test_loss), numbers.test_loss[-1]
    remaining = (f" A gap of {gap * 100:.0f} points remains: with this few points, more data is the remedy no "
                 "setting replaces." if gap >= 0.05 else "")
    return Outcome(f"The test loss no longer climbs back up: it ends at {last:.2f} (best {best:.2f}). L2 keeps the "
                   "weights small, so the boundary stays smooth instead of bending around each noisy point. "
                   f"Accuracy: training {_percent(train)}, test {_percent(test)}.{remaining}")


def relu_against_vanishing(numbers: RunNumbers) -> Outcome:
    accuracy = numbers.train_accuracy[-1]
    ratio = _gradient_ratio(numbers)
    if numbers.finding("vanishing_gradients") is None and ratio is not None:
        return Outcome(f"With ReLU the first layer gets {ratio:.2g} times the last layer's gradient (with sigmoid "
                       f"it was under 0.01), and the accuracy is {_percent(accuracy)}: ReLU's slope is 1 wherever "
                       "it is active, so the gradient passes back undiminished.")
    return Outcome(f"The gradients still fade on the way back (accuracy {_percent(accuracy)}); press Reset and "
                   "Play for a fresh start.")


#: The playground's experiments, in course order. Each setup is complete (from the defaults), so it gives the same
#: run whatever the learner had set before.
PLAYGROUND_EXPERIMENTS = (
    Experiment("xor-without-hidden-layer", 1, "XOR with no hidden layer",
               "Can a network without a hidden layer learn XOR?",
               {"dataset": "xor", "hidden": (), "stop_after": 100}, straight_line_on_xor, settles_after=20),
    Experiment("cross-entropy", 4, "Watch the cross-entropy fall",
               "What does the loss say before and after learning?",
               {"dataset": "xor", "hidden": (4,), "lr": 0.1, "stop_after": 150}, cross_entropy_before_and_after,
               settles_after=100),
    Experiment("squared-error", 4, "Use mean squared error instead",
               "How does a different loss measure the same mistakes?",
               {"dataset": "xor", "hidden": (4,), "lr": 0.1, "loss": "mse", "stop_after": 150},
               squared_error_before_and_after, settles_after=100),
    Experiment("learning-rate-ten", 6, "Set the learning rate to 10",
               "What happens when the steps are far too big?",
               {"dataset": "spiral", "lr": 10.0, "stop_after": 100}, learning_rate_ten, settles_after=30),
    Experiment("learning-rate-tiny", 6, "Set the learning rate to 0.0001",
               "What happens when the steps are tiny?",
               {"dataset": "spiral", "lr": 0.0001, "stop_after": 150}, learning_rate_tiny, settles_after=100),
    Experiment("few-noisy-points", 9, "Train on 10% of noisy points",
               "What does a big network do with too few examples?",
               {"dataset": "spiral", "noise": 0.5, "train_fraction": 0.1, "hidden": (12, 12, 12),
                "activation": "relu", "lr": 0.1, "stop_after": 300}, few_noisy_points, settles_after=200),
    Experiment("six-sigmoid-layers", 9, "Stack six sigmoid layers",
               "Does a deeper network always learn better?",
               {"dataset": "spiral", "hidden": (4,) * 6, "activation": "sigmoid", "stop_after": 100},
               six_sigmoid_layers, settles_after=50),
    Experiment("l2-against-overfitting", 10, "Add L2 to the noisy points",
               "Can a penalty on large weights stop the memorising?",
               {"dataset": "spiral", "noise": 0.5, "train_fraction": 0.1, "hidden": (12, 12, 12),
                "activation": "relu", "lr": 0.1, "l2": 0.01, "stop_after": 300}, l2_against_overfitting,
               settles_after=200),
    Experiment("relu-against-vanishing", 10, "Six ReLU layers instead",
               "Does another activation bring the gradient back?",
               {"dataset": "spiral", "hidden": (4,) * 6, "activation": "relu", "stop_after": 100},
               relu_against_vanishing, settles_after=50),
)


def experiments_for(chapter: int, experiments=PLAYGROUND_EXPERIMENTS) -> tuple[Experiment, ...]:
    return tuple(experiment for experiment in experiments if experiment.chapter == chapter)


# -- One step: chapters 3, 5 and 7, read from the step's own numbers ----------------------------------------------
def _no_step(step: LearningStep | None) -> Outcome | None:
    return Outcome("Press 'Take a step' (or click a point).", settled=False) if step is None else None


def _vector(values) -> str:
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    shown = ", ".join(f"{value:.2f}" for value in flat[:4])
    return f"({shown}{', …' if flat.size > 4 else ''})"


def one_point_forward(step: LearningStep | None) -> Outcome:
    if (wait := _no_step(step)) is not None:
        return wait
    numbers, first = layer_numbers(step), None
    for record in step.layers:
        if "W" in record.params:
            first = record
            break
    activation = next((record for record in step.layers if numbers[record.index] == 1 and not record.params
                       and record.kind not in ("Flatten", "Standardize")), None)
    k = int(np.argmax(step.prediction[0]))
    text = f"The point x = {_vector(step.x[0])} went in. "
    if first is not None:
        text += f"Layer 1 computed the sums z¹ = x W¹ + b¹ = {_vector(first.output[0])}"
        if activation is not None:
            text += f", and its activation bent them into a¹ = {activation.kind.lower()}(z¹) = " \
                    f"{_vector(activation.output[0])}"
        text += ". "
    if step.loss_name == "SoftmaxCrossEntropy":
        text += (f"The last layer's scores {_vector(step.output[0])} became probabilities through softmax: "
                 f"{step.prediction[0, k]:.0%} for class {k}, the network's answer.")
    else:
        text += f"The last layer's output is {_vector(step.output[0])}, the network's answer."
    return Outcome(text)


def blame_per_layer(step: LearningStep | None) -> Outcome:
    if (wait := _no_step(step)) is not None:
        return wait
    numbers = layer_numbers(step)
    sizes = [(numbers[record.index], rms(record.grads["W"])) for record in step.layers if "W" in record.grads]
    if len(sizes) < 2:
        return Outcome("This network has one layer of weights: all the blame lands on W¹.")
    (first, first_size), (last, last_size) = sizes[0], sizes[-1]
    if first_size == 0:
        return Outcome(f"W{superscript(first)} got no blame at all (∂L/∂W{superscript(first)} is 0): the blame "
                       "died on its way back, at an activation whose slope is 0 here.")
    ratio = last_size / first_size
    relation = f"{ratio:.2g}× the size of" if ratio >= 1 else f"{1 / ratio:.2g}× smaller than"
    return Outcome(f"No. ∂L/∂W{superscript(last)} is {relation} ∂L/∂W{superscript(first)} (typical size "
                   f"{last_size:.2g} vs {first_size:.2g}). On its way back the blame is multiplied by each layer's "
                   "weights and by its activation's slope, so every layer gets its own share.")


def learning_rate_fifty(step: LearningStep | None) -> Outcome:
    if (wait := _no_step(step)) is not None:
        return wait
    before, after = step.loss_before, step.loss_after
    if not np.isfinite(after) or after > before:
        return Outcome(f"Yes. With a learning rate of {step.lr:g} the loss on this very example went from "
                       f"{before:.3g} to {after:.3g}: the step went the right way, but so far that it jumped past "
                       "the valley and landed higher up the other side.")
    return Outcome(f"Not on this point: the loss went from {before:.3g} to {after:.3g}. Its gradient was small "
                   "enough that even a step this big landed lower; take another step, or click another point.")


#: The One step page's experiments (setup: the page's source, learning rate and loss)
STEP_EXPERIMENTS = (
    Experiment("one-point-forward", 3, "Follow one point forward", "How does a point become a prediction?",
               {"source": "playground", "lr": 0.1, "loss": "cross-entropy"}, one_point_forward),
    Experiment("blame-per-layer", 5, "Compare the blame per layer", "Does every layer get the same share of the "
               "blame?", {"source": "playground", "lr": 0.1, "loss": "cross-entropy"}, blame_per_layer),
    # squared error: its valley has a far side to land on (cross-entropy on one example often just gets surer)
    Experiment("learning-rate-fifty", 7, "Step with a learning rate of 50", "Can one step make things worse?",
               {"source": "playground", "lr": 50.0, "loss": "mse"}, learning_rate_fifty),
)


# -- MNIST: chapter 8, read from the run's per-epoch numbers ------------------------------------------------------
def _final_accuracies(numbers: RunNumbers) -> tuple[float, float]:
    return numbers.train_accuracy[-1], numbers.test_accuracy[-1]


def few_images(numbers: RunNumbers) -> Outcome:
    train, test = _final_accuracies(numbers)
    return Outcome(f"With 1,000 images the network gets {_percent(train)} of its training images right but "
                   f"{test:.1%} of the 10,000 test images: a gap of {(train - test) * 100:.0f} points. The default "
                   "run sees all 60,000 and reaches over 98%: more examples teach what digits have in common, fewer "
                   "let it memorise these ones.")


def mnist_learning_rate_ten(numbers: RunNumbers) -> Outcome:
    if numbers.diverged or numbers.finding("divergence") is not None:
        return Outcome("The run diverged: with plain SGD at a learning rate of 10 and no batch normalisation, the "
                       "first steps overshoot so far that the loss explodes within a few batches. The finding above "
                       "offers the fix.")
    return Outcome(f"It survived: test accuracy {numbers.test_accuracy[-1]:.1%}. Something kept the steps in check; "
                   "check that batch norm is off and the optimizer is SGD.")


def sixteen_neurons(numbers: RunNumbers) -> Outcome:
    train, test = _final_accuracies(numbers)
    verdict = ("even a small network reads most digits; the default 256, 256 adds the last points"
               if test >= 0.9 else "too small to hold what digits look like")
    return Outcome(f"One hidden layer of 16 neurons reaches {test:.1%} on the test images ({_percent(train)} on "
                   f"the training images): {verdict}.")


#: The MNIST page's experiments (setup: form fields, as typed; the rest of the form keeps the defaults)
MNIST_EXPERIMENTS = (
    Experiment("few-images", 8, "Train on 1,000 images only", "How much does the amount of data matter?",
               {"samples": "1000", "epochs": "10"}, few_images, settles_after=10),
    Experiment("mnist-learning-rate-ten", 8, "SGD at a learning rate of 10, no batch norm",
               "What does a far too big step do to a real network?",
               {"optimizer": "sgd", "lr": "10", "batch_norm": False, "samples": "5000"}, mnist_learning_rate_ten,
               settles_after=2),
    Experiment("sixteen-neurons", 8, "A tiny network: 16 hidden neurons", "How big must a network be to read digits?",
               {"hidden": "16"}, sixteen_neurons, settles_after=2),
)


# -- Draw: chapters 8 and 11, read from what the network made of the drawing ---------------------------------------
def _no_drawing(reading) -> Outcome | None:
    return Outcome("Draw on the pad: the answer updates as you draw.", settled=False) if reading is None else None


def _ranked(reading) -> list[int]:
    return [int(k) for k in np.argsort(reading.probabilities)[::-1]]


def drawn_seven(reading) -> Outcome:
    if (wait := _no_drawing(reading)) is not None:
        return wait
    best, second = _ranked(reading)[:2]
    p = reading.probabilities
    if best == 7:
        return Outcome(f"It reads your 7 as a 7, {p[7]:.0%} sure (next: {second} at {p[second]:.0%}). It has never "
                       "seen your handwriting: it learned what sevens have in common from 6,000 others.")
    return Outcome(f"It reads {best} ({p[best]:.0%}); 7 got {p[7]:.0%}. Its sevens were written by American "
                   "students and clerks: try a plain 7 without a bar, big and centred.")


def not_a_digit(reading) -> Outcome:
    if (wait := _no_drawing(reading)) is not None:
        return wait
    best = _ranked(reading)[0]
    sure = float(reading.probabilities[best])
    if sure >= 0.6:
        return Outcome(f"It answered {best}, {sure:.0%} sure, about something that is no digit at all. A "
                       "classifier has no 'none of these': its softmax always shares 100% among its ten digits, "
                       "and it can be confidently wrong about things unlike anything it trained on.")
    return Outcome(f"Its best guess is {best} at only {sure:.0%}: the probability is spread over several digits, "
                   "its way of being unsure. It still has to pick one: there is no 'none of these'.")


def first_layer_lights_up(reading) -> Outcome:
    if (wait := _no_drawing(reading)) is not None:
        return wait
    first = next((layer for layer in reading.activations if layer.name in ("ReLU", "LeakyReLU")), None)
    if first is None:
        return Outcome("This model has no ReLU layer to watch; train the quick model and try again.")
    values = np.asarray(first.values).reshape(-1)
    active = int(np.count_nonzero(values > 0))
    strongest = int(np.argmax(values))
    return Outcome(f"For this drawing {active} of the {values.size} neurons of the first hidden layer are active "
                   f"(output above 0); the strongest is neuron {strongest + 1}, at {values[strongest]:.2f}. Each "
                   "one responds to its own pattern of strokes, so another digit lights up another set: draw a 1, "
                   "then a 0, and watch the picture under 'Inside the network' change.")


#: The Draw page's experiments (setup: clear the pad; the learner draws)
DRAW_EXPERIMENTS = (
    Experiment("draw-a-seven", 8, "Draw a 7", "Can it read handwriting it has never seen?", {"clear": True},
               drawn_seven),
    Experiment("not-a-digit", 8, "Draw something that is not a digit", "What does it say when there is no right "
               "answer?", {"clear": True}, not_a_digit),
    Experiment("first-layer", 11, "Watch the first hidden layer", "What do the hidden neurons do with a drawing?",
               {"clear": True}, first_layer_lights_up),
)
