"""Chapter 12, beyond one task: the "Try this" experiments of the transfer and neuro-symbolic pages, each outcome read
from the runs the learner just made (lessons.transfer's runs, lessons.mnist_addition's results)."""

from dataclasses import dataclass

import numpy as np

from learnscope.lessons.experiments import Experiment, Outcome
from learnscope.lessons.mnist_addition import AdditionResult, sum_accuracy_reference
from learnscope.lessons.transfer import (
    CURVE_TEST_EXAMPLES,
    METHOD_WORDS,
    budget_words,
    describe_budget,
    scratch_final,
    steps_to_catch_up,
    summarize,
)


# -- neuro-symbolic: MNIST addition ------------------------------------------------------------------------------
def describe_digit_reading(confusion) -> str:
    """Which digit each true digit is read as most often, where that is not itself: "0 is read as 1 (97%), ...";
    the wrong readings a sum can hide."""
    confusion = np.asarray(confusion)
    totals = confusion.sum(axis=1)
    wrong = []
    for digit in range(len(confusion)):
        read = int(confusion[digit].argmax())
        if read != digit and totals[digit]:
            wrong.append(f"{digit} as {read} ({confusion[digit, read] / totals[digit]:.0%})")
    if not wrong:
        return "Every digit is read as itself more often than as anything else."
    return f"Read most often as another digit: {', '.join(wrong)}."


def few_sums(result: AdditionResult) -> Outcome:
    chance = "ten times chance" if result.digit_accuracy >= 0.5 else "above the 10% of guessing"
    if result.digit_accuracy < 0.2:
        return Outcome(f"Not this time: {result.digit_accuracy:.1%} of the test digits are read right, no better than "
                       f"guessing. {describe_digit_reading(result.digit_confusion)}")
    return Outcome(f"Yes: from {result.n_train:,} sums alone it reads {result.digit_accuracy:.1%} of MNIST's test "
                   f"digits right ({chance}), and gets {result.sum_accuracy:.1%} of the test sums. Sums like 0 "
                   "(only 0 + 0) and 18 (only 9 + 9) pin digits down; the rule spreads that to every other sum.")


@dataclass(frozen=True)
class AdditionComparison:
    """The same sums learned with the rule and without it."""

    with_rule: AdditionResult
    without_rule: AdditionResult

    def plot(self):
        """Both runs' test sums (and digits) right while they learned (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_addition_comparison

        return plot_addition_comparison({"with the rule": self.with_rule, "without it": self.without_rule})


def without_the_rule(numbers: AdditionComparison) -> Outcome:
    rule, plain = numbers.with_rule, numbers.without_rule
    n_sums = 2 * 10 ** rule.n_digits - 1
    gap = rule.sum_accuracy - plain.sum_accuracy
    if gap <= 0:
        return Outcome(f"Here the network without the rule does as well: {plain.sum_accuracy:.1%} against "
                       f"{rule.sum_accuracy:.1%}.")
    return Outcome(f"The rule is worth {100 * gap:.1f} points: {rule.sum_accuracy:.1%} of the test sums with it, "
                   f"{plain.sum_accuracy:.1%} without. Without it the network must discover addition itself from "
                   f"examples of {n_sums} unrelated classes; with it, it only has to learn to read a digit.")


def random_start(result: AdditionResult) -> Outcome:
    if result.digit_accuracy >= 0.9:
        return Outcome(f"This start was lucky: {result.digit_accuracy:.1%} of the digits are read right. Try "
                       "another seed: some lock into a wrong reading.")
    return Outcome(f"It got stuck: only {result.digit_accuracy:.1%} of the digits are read right, yet "
                   f"{result.sum_accuracy:.1%} of the sums still come out right. "
                   f"{describe_digit_reading(result.digit_confusion)} Reading 0 as 1 and 9 as 8 keeps many sums "
                   "right (one number read one too high, the other one too low), so the loss has no way out. "
                   "Starting every digit at one chance in ten avoids this.")


def two_digit_numbers(result: AdditionResult) -> Outcome:
    reference = sum_accuracy_reference(2)
    return Outcome(f"{result.sum_accuracy:.1%} of the sums of two 2-digit numbers (199 possible sums) are right, and "
                   f"{result.digit_accuracy:.1%} of the digits: reading four digits right at 99% each gives "
                   f"{reference:.1%}. The same rule, unrolled to tens and units, still gives every image its "
                   "own learning signal.")


ADDITION_EXPERIMENTS = (
    Experiment("few-sums", 12, "Learn from 1,000 sums", "Can a network learn to read digits from 1,000 sums, with "
               "no digit label at all?", {"digits": 1, "n_train": 1000, "model": "mlp", "even_start": True,
                                          "epochs": 5, "seed": 0}, few_sums),
    Experiment("no-rule", 12, "Take the rule away", "How well does a network learn the same sums if it is not told "
               "that sum = a + b?", {"digits": 1, "n_train": None, "model": "cnn", "even_start": True, "epochs": 1,
                                     "seed": 0, "baseline": True}, without_the_rule),
    Experiment("random-start", 12, "Start from random guesses", "What if each digit's first guesses are random "
               "instead of one chance in ten?", {"digits": 1, "n_train": None, "model": "cnn", "even_start": False,
                                                 "epochs": 1, "seed": 1}, random_start),
    Experiment("two-digits", 12, "Add 2-digit numbers", "Does it still work when each number has two digits and "
               "there are 199 possible sums?", {"digits": 2, "n_train": None, "model": "cnn", "even_start": True,
                                               "epochs": 1, "seed": 0}, two_digit_numbers),
)


# -- transfer learning ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransferComparison:
    """The three starts at one label budget (one run each, or several seeds)."""

    per_class: int | None
    runs: tuple

    @property
    def rows(self):
        return summarize(list(self.runs))

    def row(self, method: str):
        return next(row for row in self.rows if row.method == method)

    def plot(self):
        """Each start's test accuracy per training step (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_transfer

        return plot_transfer(self.runs)


def faster_by(numbers: TransferComparison, method: str) -> str:
    """When `method` first reached from-scratch's final accuracy on the curves' test examples, as a clause."""
    target = scratch_final(numbers.runs)
    step = steps_to_catch_up(numbers.runs, method)
    n_steps = max(step for run in numbers.runs for step, _ in run.curve)
    where = f"on the curves' {CURVE_TEST_EXAMPLES:,} test images"
    if step is None:
        return f"{METHOD_WORDS[method]} never reached from-scratch's final {target:.1%} in {n_steps} steps ({where})"
    return f"{METHOD_WORDS[method]} reached from-scratch's final {target:.1%} after {step} of {n_steps} steps ({where})"


def describe_comparison(numbers: TransferComparison) -> str:
    """The budget's reading (describe_budget), then when fine-tuning caught up with from scratch."""
    caught_up = faster_by(numbers, "fine-tune")
    return f"{describe_budget(numbers.rows, numbers.per_class)} {caught_up[0].upper()}{caught_up[1:]}."


def few_labels(numbers: TransferComparison) -> Outcome:
    return Outcome(f"{describe_comparison(numbers)[:-1]}: what the network learned about strokes on digits 0–4 "
                   "gives 5–9 a head start.")


def far_features(numbers: TransferComparison) -> Outcome:
    scratch, frozen, tuned = (numbers.row(method) for method in ("scratch", "frozen", "fine-tune"))
    if frozen.mean < scratch.mean:
        return Outcome(f"Frozen digit features get {frozen.mean:.1%} of the clothes right against {scratch.mean:.1%} "
                       f"from scratch ({100 * (frozen.mean - scratch.mean):+.1f} points): features made for the "
                       "strokes of digits miss what tells a shirt from a coat. Fine-tuning lets them adapt: "
                       f"{tuned.mean:.1%}. Transfer helps when the tasks share what matters.")
    return Outcome(f"Frozen digit features get {frozen.mean:.1%} against {scratch.mean:.1%} from scratch: at "
                   f"{budget_words(numbers.per_class)} even features made for digits beat learning clothes from so "
                   f"few examples. Fine-tuned: {tuned.mean:.1%}.")


def every_label(numbers: TransferComparison) -> Outcome:
    scratch, frozen, tuned = (numbers.row(method) for method in ("scratch", "frozen", "fine-tune"))
    return Outcome(f"With every label, from scratch reaches {scratch.mean:.1%}, fine-tuned {tuned.mean:.1%} "
                   f"({100 * (tuned.mean - scratch.mean):+.1f} points): with enough data the head start matters "
                   f"less, but {faster_by(numbers, 'fine-tune')}. Frozen features stop at {frozen.mean:.1%}: they "
                   f"cannot change, and cost {frozen.mean_seconds:.1f} s against {scratch.mean_seconds:.1f} s.")


TRANSFER_EXPERIMENTS = (
    Experiment("ten-labels", 12, "10 labels per class", "Do digits 0–4 help a network learn 5–9 from only 10 "
               "examples of each?", {"task": "near", "per_class": 10}, few_labels),
    Experiment("far", 12, "From digits to clothes", "Do features learned on digits help with Fashion-MNIST?",
               {"task": "far", "per_class": 100}, far_features),
    Experiment("all-labels", 12, "Every label", "Does pretraining still help when every training example is "
               "labelled?", {"task": "near", "per_class": None}, every_label),
)
