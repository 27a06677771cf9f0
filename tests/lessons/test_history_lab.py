"""Chapter 2's "Try this" outcomes, each read from real runs (so other runs read differently), and the timeline."""

import re

import numpy as np
import pytest

from learnscope.lab.layout import LESSONS
from learnscope.lessons.backprop_xor import XorRun, train_xor, xor_setup
from learnscope.lessons.course import CHAPTERS
from learnscope.lessons.history_lab import (
    HISTORY_EXPERIMENTS,
    PERCEPTRON_EPOCHS,
    TIMELINE,
    PerceptronComparison,
)
from learnscope.lessons.perceptron_rule import PerceptronRun, best_margin, flip_label, separable_points

EXPERIMENTS = {experiment.key: experiment for experiment in HISTORY_EXPERIMENTS}


def finished(points, lr=1.0) -> PerceptronRun:
    run = PerceptronRun(points, lr)
    run.run_epochs(PERCEPTRON_EPOCHS, until_cycle=False)
    return run


@pytest.fixture(scope="module")
def baseline():
    return finished(separable_points())


def comparison(run, baseline):
    return PerceptronComparison(run, best_margin(run.points), baseline, best_margin(baseline.points))


def test_flipping_a_class_leaves_mistakes_in_every_one_of_1000_epochs(baseline):
    run = finished(flip_label(separable_points()))
    text = EXPERIMENTS["not-separable"].outcome(comparison(run, baseline)).text
    assert text.startswith(f"After 1,000 epochs it still makes mistakes: {run.mistakes_per_epoch[-1]} in the last "
                           f"epoch, never fewer than {min(run.mistakes_per_epoch)}.")
    assert min(run.mistakes_per_epoch) >= 1
    assert f"stopped after {baseline.converged_epoch + 1} epochs" in text
    # a separable set given to the same reading says so instead
    assert "separable after all" in EXPERIMENTS["not-separable"].outcome(comparison(baseline, baseline)).text


def test_a_narrow_margin_reads_both_bounds_and_both_mistake_counts(baseline):
    run = finished(separable_points(margin=EXPERIMENTS["narrow-margin"].setup["gap"]))
    narrow, wide = best_margin(run.points), best_margin(baseline.points)
    text = EXPERIMENTS["narrow-margin"].outcome(comparison(run, baseline)).text
    assert f"bound (R/γ)² = {narrow.bound:,.0f}; it made {run.total_mistakes} mistakes" in text
    assert f"bound (R/γ)² = {wide.bound:,.0f}; it made {baseline.total_mistakes} mistakes" in text
    assert f"grew {narrow.bound / wide.bound:.1f}×" in text
    assert (f"{run.total_mistakes - baseline.total_mistakes} more mistakes" in text) == \
        (run.total_mistakes > baseline.total_mistakes)


def test_a_tiny_learning_rate_makes_the_same_mistakes_with_scaled_weights(baseline):
    lr = EXPERIMENTS["tiny-learning-rate"].setup["lr"]
    run = finished(separable_points(), lr)
    assert run.mistakes_per_epoch == baseline.mistakes_per_epoch
    assert np.allclose(np.array(run.state), lr * np.array(baseline.state))
    text = EXPERIMENTS["tiny-learning-rate"].outcome(comparison(run, baseline)).text
    assert text.startswith(f"The same {baseline.total_mistakes} mistakes in the same epochs as at η = 1, and its "
                           "weights are 0.01 times theirs")


def test_one_hidden_unit_is_read_from_its_run():
    run = train_xor(xor_setup(hidden=1))
    text = EXPERIMENTS["one-hidden-unit"].outcome(run).text
    assert text.startswith(f"After 2,000 epochs it gets {round(4 * run.accuracy)} of XOR's 4 corners right")
    solved = EXPERIMENTS["one-hidden-unit"].outcome(train_xor(xor_setup(hidden=2))).text
    assert solved.startswith("With 2 hidden units it solved XOR in epoch")


def fake_run(seed, accuracy, solved_epoch, last_loss):
    epochs = 600
    accuracies = [0.5] * epochs if solved_epoch is None else [0.5] * (solved_epoch - 1) + [1.0] * (epochs -
                                                                                                   solved_epoch + 1)
    losses = list(np.linspace(0.7, last_loss, epochs))
    if accuracy < 1:
        losses[-501:] = [last_loss + 0.002 * (1 - k / 500) for k in range(501)]
    return XorRun(xor_setup(seed=seed), None, tuple(losses), (*accuracies[:-1], accuracy))


def test_many_starts_counts_the_solved_and_the_stuck():
    runs = (fake_run(0, 1.0, 70, 0.002), fake_run(1, 0.5, None, 0.35), fake_run(2, 1.0, 210, 0.003))
    text = EXPERIMENTS["many-starts"].outcome(runs).text
    assert text.startswith("2 of 3 starts reached 100% (in 70–210 epochs). 1 got stuck: after 600 epochs their "
                           "loss is 0.35, and it fell by at most 0.0020 over the last 500 epochs.")
    every = EXPERIMENTS["many-starts"].outcome(runs[::2]).text
    assert every.startswith("2 of 2 starts reached 100%") and "stuck" not in every


def test_the_timeline_runs_in_order_and_every_entry_opens_a_page_of_the_lab():
    years = [milestone.year for milestone in TIMELINE]
    assert years == sorted(years) and {1943, 1958, 1969, 1986, 1989, 2012} <= set(years)
    pages = {lesson.path for lesson in LESSONS}
    chapter_links = {chapter.link for chapter in CHAPTERS if chapter.link}
    for milestone in TIMELINE:
        path, anchor = milestone.link.split("#")
        assert path in pages
        assert (path == "/history" and anchor in ("mcculloch-pitts", "perceptron", "xor", "backprop")) \
            or milestone.link in chapter_links                           # a later chapter's own section
        assert re.fullmatch(r"[a-z0-9-]+", anchor)
