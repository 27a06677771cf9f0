"""Chapters 9 and 10's "Try this" outcomes: each read from the numbers it is given, so other numbers read
differently."""

import numpy as np
import pytest

from learnscope.lessons.going_wrong_lab import (
    GOING_WRONG_EXPERIMENTS,
    REMEDY_EXPERIMENTS,
    OverfittingComparison,
    describe_data_sizes,
    describe_remedies,
)
from learnscope.lessons.gradient_flow import deep_network, layer_gradient_norms, watch_training
from learnscope.lessons.overfitting import OverfittingRun, OverfittingSetup, RemedyResult, SweepPoint

EXPERIMENTS = {experiment.key: experiment for experiment in GOING_WRONG_EXPERIMENTS + REMEDY_EXPERIMENTS}


def run_with(train_accuracy, test_accuracy, **setup) -> OverfittingRun:
    epochs = 5
    curve = np.linspace(0.5, 1.0, epochs)
    return OverfittingRun(OverfittingSetup(**setup), np.arange(epochs), curve[::-1], curve * train_accuracy,
                          curve[::-1] + 0.1,
                          curve * test_accuracy, seconds=1.0,
                          final={"train_loss": 0.1, "train_accuracy": train_accuracy, "test_loss": 0.6,
                                 "test_accuracy": test_accuracy})


def test_more_data_reports_how_much_the_gap_shrank():
    outcome = EXPERIMENTS["more-data"].outcome(OverfittingComparison(run_with(0.99, 0.9, train_samples=10_000),
                                                                     run_with(1.0, 0.8)))
    assert "gap of 9.0 points" in outcome.text and "it was 20.0 points: smaller by 11.0 points" in outcome.text
    worse = EXPERIMENTS["more-data"].outcome(OverfittingComparison(run_with(1.0, 0.7), run_with(1.0, 0.8)))
    assert "not smaller" in worse.text and "did not rise" in worse.text


def test_a_tiny_network_is_called_underfitting_only_when_it_misses_training_images():
    assert EXPERIMENTS["tiny-network"].outcome(OverfittingComparison(run_with(0.47, 0.36, hidden=2))).text \
        .startswith("Underfitting: with 2 hidden units the network gets only 47.0%")
    assert "enough capacity" in EXPERIMENTS["tiny-network"].outcome(
        OverfittingComparison(run_with(0.96, 0.72, hidden=2))).text


@pytest.mark.parametrize("key", ["weight-decay", "augmentation"])
def test_a_remedy_says_what_it_gained_or_lost(key):
    gained = EXPERIMENTS[key].outcome(OverfittingComparison(run_with(1.0, 0.88), run_with(1.0, 0.80))).text
    lost = EXPERIMENTS[key].outcome(OverfittingComparison(run_with(1.0, 0.78), run_with(1.0, 0.80))).text
    assert "gained 8.0 points" in gained and "lost 2.0 points" in lost
    assert "Run the plain experiment" in EXPERIMENTS[key].outcome(OverfittingComparison(run_with(1.0, 0.88))).text


def test_the_gradient_experiments_read_real_norms(mnist):
    x, y = mnist.x_train[:1000], mnist.y_train[:1000]
    deeper = layer_gradient_norms(deep_network(5, "sigmoid"), x, y)
    text = EXPERIMENTS["deeper-sigmoid"].outcome(deeper).text
    assert f"learns {deeper.ratio:.0f}× slower" in text and deeper.ratio > 100
    large = layer_gradient_norms(deep_network(4, "too-large"), x, y)
    assert f"gets {1 / large.ratio:.0f}× what the last gets" in EXPERIMENTS["too-large-weights"].outcome(large).text


def test_residual_blocks_and_clipping_are_judged_from_the_training_they_watched(mnist):
    setup = EXPERIMENTS["residual"].setup
    residual = watch_training(mnist, setup["kind"], setup["n_hidden"], lr=setup["lr"], train_samples=3000)
    assert "as strong as the last" in EXPERIMENTS["residual"].outcome(residual).text
    assert residual.test_accuracy > 0.7
    setup = EXPERIMENTS["clipping"].setup
    clipped = watch_training(mnist, setup["kind"], setup["n_hidden"], lr=setup["lr"], clip_norm=setup["clip_norm"],
                             train_samples=3000)
    unclipped = watch_training(mnist, setup["kind"], setup["n_hidden"], lr=setup["lr"], train_samples=3000)
    assert unclipped.status == "diverged" and clipped.status == "finished"
    assert f"tests at {clipped.test_accuracy:.1%}" in EXPERIMENTS["clipping"].outcome(clipped).text
    assert EXPERIMENTS["clipping"].outcome(unclipped).text.startswith("Without clipping the run diverged: ")


def test_the_data_size_sentence_follows_the_sweep():
    points = [SweepPoint(100, run_with(1.0, 0.69, train_samples=100)),
              SweepPoint(50_000, run_with(0.97, 0.96, train_samples=50_000))]
    text = describe_data_sizes(points)
    assert "With 100 images the network tests at 69.0% (gap 31.0 points)" in text and "narrows" in text


def test_the_remedies_summary_names_the_best_the_helpful_and_the_harmful():
    plain = run_with(1.0, 0.80)
    results = [RemedyResult("none", "no remedy", plain, 0.0),
               RemedyResult("l2", "L2", run_with(1.0, 0.88), 0.08),
               RemedyResult("dropout", "dropout", run_with(1.0, 0.83), 0.03),
               RemedyResult("early-stopping", "early stopping", run_with(0.98, 0.78), -0.02)]
    text = describe_remedies(results)
    assert "L2 won back the most: 8.0 points, to 88.0%" in text
    assert "Also better: dropout" in text and "Worse here: early stopping" in text
    assert "Worse" not in describe_remedies(results[:2])


def test_too_strong_l2_is_named_underfitting_from_the_training_accuracy():
    weak = EXPERIMENTS["too-strong-l2"].outcome(OverfittingComparison(run_with(0.68, 0.63, weight_decay=0.03))).text
    assert weak.startswith("Underfitting again") and "only 68.0%" in weak and "L2 of 0.03" in weak
    assert "not strong enough" in EXPERIMENTS["too-strong-l2"].outcome(
        OverfittingComparison(run_with(1.0, 0.85, weight_decay=0.001))).text


def test_the_wider_network_experiment_reads_its_own_sweep(mnist):
    from learnscope.lessons.cost import cost_sweep

    setup = EXPERIMENTS["wider-network"].setup
    rows = cost_sweep(setup["sweep"], setup["values"], mnist.x_train[:1000], mnist.y_train[:1000], steps=3)
    text = EXPERIMENTS["wider-network"].outcome(rows).text
    flops = rows[1].training_flops / rows[0].training_flops
    assert f"{flops:.1f}× the operations per example" in text and 2 < flops < 4
    assert f"{rows[1].speed.seconds_per_step / rows[0].speed.seconds_per_step:.1f}× as long" in text


def test_the_wider_network_sentence_reads_the_pace_it_measured():
    from types import SimpleNamespace

    def row(value, flops, seconds):
        return SimpleNamespace(value=value, params=value, training_flops=flops, memory_bytes=value,
                               speed=SimpleNamespace(seconds_per_step=seconds, gflops_per_second=flops / seconds))

    busier = EXPERIMENTS["wider-network"].outcome([row(256, 100, 1.0), row(512, 260, 1.2)]).text
    slower = EXPERIMENTS["wider-network"].outcome([row(256, 100, 1.0), row(512, 260, 3.5)]).text
    assert "keep the cores busier" in busier and "slower per operation" in slower
