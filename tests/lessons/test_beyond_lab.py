"""Chapter 12's "Try this" outcomes, read from real runs (and, for rare states, from runs built to show them)."""

import numpy as np
import pytest

from learnscope.lessons.beyond_lab import (
    ADDITION_EXPERIMENTS,
    TRANSFER_EXPERIMENTS,
    AdditionComparison,
    TransferComparison,
    describe_digit_reading,
    far_features,
    faster_by,
    few_labels,
    few_sums,
    random_start,
    two_digit_numbers,
    without_the_rule,
)
from learnscope.lessons.mnist_addition import (
    ADDITION_RECIPES,
    AdditionResult,
    addition_data,
    train_mnist_addition,
    train_neural_baseline,
)
from learnscope.lessons.transfer import TransferRun, pretrain, train_on_target, transfer_task
from learnscope.recipes import default_recipe


def one_off_confusion():
    """What a network stuck reading digits one off says: 0 as 1, 9 as 8, the middle split between neighbours."""
    confusion = np.zeros((10, 10), dtype=int)
    confusion[0, 1] = 100
    confusion[9, 8] = 100
    for digit in range(1, 9):
        confusion[digit, digit - 1], confusion[digit, digit + 1] = 55, 45
    return confusion


def result_with(confusion, sum_accuracy, n_digits=1):
    digit_accuracy = float(np.trace(confusion) / confusion.sum())
    return AdditionResult(n_digits, None, None, 10.0, sum_accuracy, digit_accuracy, confusion, n_train=30_000)


def test_the_digit_reading_names_every_digit_read_as_another():
    assert describe_digit_reading(np.eye(10) * 50 + 1) == \
        "Every digit is read as itself more often than as anything else."
    text = describe_digit_reading(one_off_confusion())
    assert text.startswith("Read most often as another digit: 0 as 1 (100%), 1 as 0 (55%), 2 as 1 (55%)")
    assert text.endswith("9 as 8 (100%).")


def test_a_stuck_random_start_is_named_and_a_lucky_one_said_to_be_lucky():
    stuck = random_start(result_with(one_off_confusion(), 0.72)).text
    assert stuck.startswith("It got stuck: only 0.0% of the digits are read right, yet 72.0% of the sums")
    assert "0 as 1 (100%)" in stuck
    lucky = random_start(result_with(np.eye(10, dtype=int) * 98 + np.ones((10, 10), dtype=int), 0.97)).text
    assert lucky.startswith(f"This start was lucky: {99 / 108:.1%}")


def test_few_sums_and_without_the_rule_read_real_runs(mnist):
    data = addition_data(mnist, 1, n_train=1000, n_test=1000)
    result = train_mnist_addition(data, ADDITION_RECIPES[1].with_options(model="mlp", epochs=5))
    text = few_sums(result).text
    assert text.startswith(f"Yes: from 1,000 sums alone it reads {result.digit_accuracy:.1%}")
    baseline = train_neural_baseline(data, ADDITION_RECIPES[1].with_options(epochs=2))
    compared = without_the_rule(AdditionComparison(result, baseline)).text
    assert f"{result.sum_accuracy:.1%} of the test sums with it, {baseline.sum_accuracy:.1%} without" in compared
    assert "19 unrelated classes" in compared
    untrained = result_with(np.full((10, 10), 10), 0.05)
    assert few_sums(untrained).text.startswith("Not this time: 10.0%")


def test_two_digit_numbers_compares_with_four_digits_right():
    confusion = np.eye(10, dtype=int) * 990 + 1
    text = two_digit_numbers(result_with(confusion, 0.955, n_digits=2)).text
    assert text.startswith("95.5% of the sums of two 2-digit numbers (199 possible sums)")
    assert "96.1%" in text                                        # 0.99 ** 4


def run(method, accuracy, curve):
    return TransferRun("near", method, 10, 0, 50, curve, accuracy, {"scratch": 3.0, "frozen": 0.5}.get(method, 3.1),
                       "finished")


def test_transfer_outcomes_read_the_three_starts():
    runs = (run("scratch", 0.82, [(0, 0.2), (150, 0.8), (300, 0.81)]),
            run("frozen", 0.85, [(0, 0.2), (150, 0.84), (300, 0.85)]),
            run("fine-tune", 0.88, [(0, 0.2), (25, 0.83), (300, 0.88)]))
    numbers = TransferComparison(10, runs)
    assert faster_by(numbers, "fine-tune") == \
        "fine-tuned (all layers, from pretrained) reached from-scratch's final 81.0% after 25 of 300 steps (on the " \
        "curves' 2,000 test images)"
    text = few_labels(numbers).text
    assert text.startswith("With 10 per class, from scratch reaches 82.0%")
    assert "Fine-tuned (all layers, from pretrained) reached from-scratch's final 81.0% after 25 of 300" in text
    worse = TransferComparison(100, (run("scratch", 0.78, [(0, 0.1), (300, 0.78)]),
                                     run("frozen", 0.71, [(0, 0.1), (300, 0.71)]),
                                     run("fine-tune", 0.80, [(0, 0.1), (300, 0.8)])))
    assert far_features(worse).text.startswith("Frozen digit features get 71.0% of the clothes right against 78.0% "
                                               "from scratch (-7.0 points)")
    assert "never reached" in faster_by(worse, "frozen")


def test_transfer_outcomes_on_real_runs(mnist):
    task = transfer_task("near", mnist)
    quick = default_recipe("mnist").with_options(hidden=(64,), epochs=1)
    source = pretrain(task, quick)
    runs = tuple(train_on_target(task, method, 10, source, n_steps=60, recipe=quick)
                 for method in ("scratch", "frozen", "fine-tune"))
    text = few_labels(TransferComparison(10, runs)).text
    assert f"from scratch reaches {runs[0].accuracy:.1%}" in text and f"{runs[2].accuracy:.1%}" in text


@pytest.mark.parametrize("experiment", ADDITION_EXPERIMENTS + TRANSFER_EXPERIMENTS, ids=lambda e: e.key)
def test_every_experiment_belongs_to_chapter_12_and_asks_a_question(experiment):
    assert experiment.chapter == 12 and experiment.question.endswith("?") and experiment.setup
