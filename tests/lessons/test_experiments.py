""""Try this" outcomes: each reads the run's own numbers, so different numbers give a different text; and each
playground experiment, run for real, shows what its question is about."""

import numpy as np
import pytest

from learnscope.lessons.course import CHAPTERS
from learnscope.lessons.experiments import (
    PLAYGROUND_EXPERIMENTS,
    RunNumbers,
    cross_entropy_before_and_after,
    few_noisy_points,
    l2_against_overfitting,
    learning_rate_ten,
    learning_rate_tiny,
    relu_against_vanishing,
    six_sigmoid_layers,
    squared_error_before_and_after,
    straight_line_on_xor,
)
from learnscope.lessons.playground import PlaygroundSession, PlaygroundSetup
from learnscope.train.diagnostics import Diagnosis


def finding(kind, **evidence):
    return Diagnosis(kind, "problem", kind, "why", "what to do", evidence)


def numbers(epochs=300, train_loss=(0.7, 0.1), test_loss=(0.7, 0.2), train_accuracy=(0.5, 1.0),
            test_accuracy=(0.5, 0.95), **more):
    return RunNumbers(epochs, tuple(train_loss), tuple(test_loss), tuple(train_accuracy), tuple(test_accuracy),
                      **more)


def test_every_outcome_waits_for_enough_epochs_and_says_how_many():
    early = numbers(epochs=3)
    for experiment in PLAYGROUND_EXPERIMENTS:
        outcome = experiment.outcome(early)
        assert not outcome.settled and "Press Play" in outcome.text and "3 so far" in outcome.text, experiment.key


def test_straight_line_on_xor_names_the_perceptron_only_when_it_is_stuck():
    stuck = straight_line_on_xor(numbers(epochs=100, train_accuracy=(0.5, 0.54),
                                         findings=(finding("linear_limit"),)))
    assert "54%" in stuck.text and "perceptron" in stuck.text
    solved = straight_line_on_xor(numbers(epochs=100, train_accuracy=(0.5, 0.98)))
    assert "98%" in solved.text and "perceptron" not in solved.text


def test_cross_entropy_compares_the_start_with_guessing_and_reads_the_end_as_a_probability():
    near = cross_entropy_before_and_after(numbers(train_loss=(0.70, 0.105), n_classes=2)).text
    assert "close to ln 2 = 0.69" in near and "e^−0.105 = 90%" in near
    worse = cross_entropy_before_and_after(numbers(train_loss=(1.5, 0.01), n_classes=3)).text
    assert "above ln 3 = 1.10" in worse and "99%" in worse


def test_squared_error_reads_as_a_distance():
    text = squared_error_before_and_after(numbers(train_loss=(0.25, 0.04))).text
    assert "0.250 to 0.040" in text and "√0.040 = 0.20" in text and "they were 0.50 away" in text


def test_learning_rate_ten_reports_the_climb_or_that_it_held():
    climbed = learning_rate_ten(numbers(epochs=40, train_loss=(0.68, 9.1, 20.6, 15.0),
                                        findings=(finding("divergence"),))).text
    assert "0.68 to as much as 20.6" in climbed
    # the playground pauses on the divergence finding, long before 30 epochs: the outcome must not wait for them
    paused = learning_rate_ten(numbers(epochs=12, train_loss=(0.68, 9.1, 20.6), findings=(finding("divergence"),)))
    assert paused.settled and "0.68 to as much as 20.6" in paused.text
    held = learning_rate_ten(numbers(epochs=40, train_loss=(0.68, 0.9, 0.3))).text
    assert "without running away" in held and "highest 0.9" in held


def test_a_tiny_learning_rate_is_called_a_crawl_only_when_the_loss_barely_moved():
    crawl = learning_rate_tiny(numbers(epochs=150, train_loss=(0.685, 0.662))).text
    assert "only 3.4%" in crawl
    moving = learning_rate_tiny(numbers(epochs=150, train_loss=(0.685, 0.3))).text
    assert "fell by 56%" in moving and "crawls" not in moving


def test_few_noisy_points_names_overfitting_from_the_gap_or_the_finding():
    gap = few_noisy_points(numbers(train_accuracy=(0.5, 1.0), test_accuracy=(0.5, 0.86))).text
    assert gap.startswith("Overfitting") and "gap of 14 points" in gap
    rising = few_noisy_points(numbers(train_accuracy=(0.5, 0.95), test_accuracy=(0.5, 0.9),
                                      findings=(finding("overfitting", val_loss_rise=1.55, best_epoch=16),)))
    assert "risen 55% since epoch 16" in rising.text
    fine = few_noisy_points(numbers(train_accuracy=(0.5, 0.97), test_accuracy=(0.5, 0.95))).text
    assert "no overfitting" in fine


def test_six_sigmoid_layers_quote_the_measured_gradient_ratio():
    vanished = six_sigmoid_layers(numbers(epochs=100, train_accuracy=(0.5, 0.5),
                                          findings=(finding("vanishing_gradients", ratio=1 / 1756),))).text
    assert "1/1,756" in vanished and "50%" in vanished
    healthy = six_sigmoid_layers(numbers(epochs=100, layer_gradients=(0.02, 0.04))).text
    assert "0.5" in healthy and "no vanishing" in healthy


def test_l2_outcome_follows_the_test_loss():
    still = l2_against_overfitting(numbers(findings=(finding("overfitting", val_loss_rise=1.3, best_epoch=20),)))
    assert "still climbs (30% above its best, at epoch 20)" in still.text
    calmed = l2_against_overfitting(numbers(test_loss=(0.7, 0.35, 0.37), test_accuracy=(0.5, 0.87))).text
    assert "ends at 0.37 (best 0.35)" in calmed and "gap of 13 points remains" in calmed


def test_relu_outcome_quotes_the_ratio_it_measured():
    passed = relu_against_vanishing(numbers(epochs=100, layer_gradients=(0.2, 0.1, 0.45))).text
    assert "0.44 times" in passed and "100%" in passed
    faded = relu_against_vanishing(numbers(epochs=100, layer_gradients=(1e-6, 0.1),
                                           findings=(finding("vanishing_gradients", ratio=1e-5),))).text
    assert "still fade" in faded


def test_each_experiment_belongs_to_a_chapter_and_the_playground_covers_its_chapters():
    assert {e.chapter for e in PLAYGROUND_EXPERIMENTS} == {1, 4, 6, 9, 10}
    assert all(1 <= e.chapter <= len(CHAPTERS) for e in PLAYGROUND_EXPERIMENTS)
    assert len({e.key for e in PLAYGROUND_EXPERIMENTS}) == len(PLAYGROUND_EXPERIMENTS)
    for experiment in PLAYGROUND_EXPERIMENTS:
        PlaygroundSetup(**experiment.setup).validate()                 # every setup is one the page can apply


#: what the real run of each experiment must show (a word of the outcome's first branch)
SHOWS = {"xor-without-hidden-layer": "perceptron", "cross-entropy": "probability", "squared-error": "fell from",
         "learning-rate-ten": "went up", "learning-rate-tiny": "crawls", "few-noisy-points": "Overfitting",
         "six-sigmoid-layers": "Vanishing", "l2-against-overfitting": "no longer climbs",
         "relu-against-vanishing": "With ReLU"}


@pytest.mark.parametrize("experiment", PLAYGROUND_EXPERIMENTS, ids=lambda e: e.key)
def test_each_playground_experiment_run_for_real_shows_its_effect(experiment):
    session = PlaygroundSession(PlaygroundSetup(**experiment.setup))
    while session.epoch < experiment.setup["stop_after"] and not session.diverged:
        session.train_epochs(1)
    outcome = experiment.outcome(session.numbers())
    assert outcome.settled and SHOWS[experiment.key] in outcome.text, outcome.text


# -- One step: outcomes read from a real step's numbers -----------------------------------------------------------
def step_on(x=(0.5, -1.0), lr=0.1, zero_last_layer=False, loss=None, y=None):
    from learnscope.layers import Dense, Tanh
    from learnscope.lessons.step_through import step_through
    from learnscope.losses import SoftmaxCrossEntropy
    from learnscope.model import Sequential
    from learnscope.optim import SGD

    model = Sequential([Dense(2, 3), Tanh(), Dense(3, 2)], seed=0)
    if zero_last_layer:
        model.layers[2].params["W"][...] = 0.0
    return step_through(model, loss or SoftmaxCrossEntropy(), SGD(lr=lr), np.array([x], dtype=np.float32),
                        np.array([1]) if y is None else y)


def test_step_outcomes_wait_for_step_on():
    from learnscope.lessons.experiments import STEP_EXPERIMENTS

    for experiment in STEP_EXPERIMENTS:
        assert not experiment.outcome(None).settled


def test_one_point_forward_quotes_the_steps_own_numbers():
    from learnscope.lessons.experiments import one_point_forward

    step = step_on()
    text = one_point_forward(step).text
    z1, a1 = step.layers[0].output[0], step.layers[1].output[0]
    assert "x = (0.50, -1.00)" in text
    assert f"z¹ = x W¹ + b¹ = ({z1[0]:.2f}, {z1[1]:.2f}, {z1[2]:.2f})" in text
    assert f"a¹ = tanh(z¹) = ({a1[0]:.2f}, {a1[1]:.2f}, {a1[2]:.2f})" in text
    k = int(np.argmax(step.prediction[0]))
    assert f"{step.prediction[0, k]:.0%} for class {k}" in text
    assert one_point_forward(step_on(x=(-0.3, 0.8))).text != text            # another point, another story


def test_blame_per_layer_compares_the_layers_gradients_or_says_none_came_back():
    from learnscope.lessons.experiments import blame_per_layer

    step = step_on()
    sizes = [float(np.sqrt(np.mean(np.square(r.grads["W"], dtype=np.float64)))) for r in step.layers if r.grads]
    text = blame_per_layer(step).text
    assert f"typical size {sizes[1]:.2g} vs {sizes[0]:.2g}" in text
    dead = blame_per_layer(step_on(zero_last_layer=True)).text               # W² = 0 passes no blame back
    assert "W¹ got no blame at all" in dead


def test_a_learning_rate_of_fifty_is_said_to_overshoot_only_when_the_loss_rose():
    from learnscope.lessons.experiments import learning_rate_fifty
    from learnscope.losses import MSE

    target = np.array([[0.0, 1.0]], dtype=np.float32)
    big = step_on(lr=50.0, loss=MSE(), y=target)
    assert big.loss_after > big.loss_before                                 # measured: this step overshoots
    assert learning_rate_fifty(big).text.startswith("Yes. With a learning rate of 50")
    small = step_on(lr=0.01, loss=MSE(), y=target)
    assert learning_rate_fifty(small).text.startswith("Not on this point")


# -- MNIST: outcomes from a run's per-epoch numbers --------------------------------------------------------------
def test_few_images_quotes_both_accuracies_and_the_gap():
    from learnscope.lessons.experiments import few_images

    text = few_images(numbers(epochs=10, train_accuracy=(0.8, 1.0), test_accuracy=(0.8, 0.901))).text
    assert "100% of its training images" in text and "90.1% of the 10,000 test images" in text
    assert "gap of 10 points" in text
    assert few_images(numbers(epochs=10, train_accuracy=(0.8, 0.97), test_accuracy=(0.8, 0.93))).text != text


def test_mnist_learning_rate_ten_reads_the_divergence_or_its_absence():
    from learnscope.lessons.experiments import mnist_learning_rate_ten

    diverged = mnist_learning_rate_ten(numbers(epochs=1, diverged=True))
    assert diverged.settled and diverged.text.startswith("The run diverged")
    held = mnist_learning_rate_ten(numbers(epochs=2, test_accuracy=(0.5, 0.9734)))
    assert held.text.startswith("It survived: test accuracy 97.3%")


def test_sixteen_neurons_judges_by_the_test_accuracy():
    from learnscope.lessons.experiments import sixteen_neurons

    good = sixteen_neurons(numbers(epochs=2, train_accuracy=(0.9, 0.96), test_accuracy=(0.9, 0.953))).text
    assert "95.3% on the test images" in good and "small network reads most digits" in good
    poor = sixteen_neurons(numbers(epochs=2, train_accuracy=(0.5, 0.7), test_accuracy=(0.5, 0.62))).text
    assert "62.0%" in poor and "too small" in poor


# -- Draw: outcomes from what the network made of a drawing ------------------------------------------------------
def reading_with(best, sure, activations=()):
    from learnscope.lessons.drawing import DigitReading

    probabilities = np.full(10, (1 - sure) / 9, dtype=np.float32)
    probabilities[best] = sure
    return DigitReading(probabilities, list(activations))


def test_drawn_seven_says_whether_it_was_read_as_a_seven():
    from learnscope.lessons.experiments import drawn_seven

    assert not drawn_seven(None).settled
    assert drawn_seven(reading_with(7, 0.93)).text.startswith("It reads your 7 as a 7, 93% sure")
    wrong = drawn_seven(reading_with(1, 0.7)).text
    assert wrong.startswith("It reads 1 (70%); 7 got 3%")


def test_not_a_digit_tells_confident_from_unsure():
    from learnscope.lessons.experiments import not_a_digit

    assert "4, 91% sure" in not_a_digit(reading_with(4, 0.91)).text
    assert "only 35%" in not_a_digit(reading_with(2, 0.35)).text


def test_first_layer_counts_the_active_neurons_of_a_real_reading():
    from learnscope.architectures import build_mlp
    from learnscope.lessons.drawing import read_digit
    from learnscope.lessons.experiments import first_layer_lights_up

    model = build_mlp((1, 28, 28), 10, hidden=(32,), seed=0)
    picture = np.zeros((28, 28), dtype=np.float32)
    picture[6:22, 13:15] = 1.0                                              # a "1"
    reading = read_digit(model, picture)
    relu = next(layer.values for layer in reading.activations if layer.name == "ReLU")
    text = first_layer_lights_up(reading).text
    assert f"{int(np.count_nonzero(relu > 0))} of the 32 neurons" in text
    picture[6:22, 8:20] = 1.0                                               # another drawing, another set
    assert first_layer_lights_up(read_digit(model, picture)).text != text
