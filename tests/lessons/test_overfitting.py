"""Nielsen's overfitting experiment on real MNIST, its remedies, and the words that name what happened."""

import numpy as np
import pytest

from learnscope.lessons.overfitting import (
    MAX_SCORED_EPOCHS,
    NIELSEN_WEIGHT_DECAY,
    PATIENCE,
    OverfittingSetup,
    compare_remedies,
    describe_fit,
    overfitting_run,
)


@pytest.fixture(scope="module")
def plain_and_l2(mnist):
    results = compare_remedies(mnist, names=["l2"])
    return results[0].run, results[1]


def test_a_thousand_images_are_memorised_and_the_test_accuracy_stalls_below_90_percent(plain_and_l2):
    run, _ = plain_and_l2
    assert run.final["train_accuracy"] == 1.0 and run.train_accuracy[-1] == 1.0
    assert run.test_accuracy.max() < 0.90
    assert len(run.test_loss) == 400
    assert run.best_epoch < 50 and run.test_loss[-1] > 1.2 * run.test_loss[run.best_epoch]   # loss turns early
    assert "Overfitting" in describe_fit(run) and f"epoch {run.best_epoch}" in describe_fit(run)


def test_l2_raises_the_test_accuracy_by_three_points_or_more(plain_and_l2):
    run, l2 = plain_and_l2
    assert l2.run.setup.weight_decay == NIELSEN_WEIGHT_DECAY
    assert l2.gained == pytest.approx(l2.run.final["test_accuracy"] - run.final["test_accuracy"])
    assert l2.gained >= 0.03


def test_early_stopping_watches_held_out_images_and_keeps_the_best_epoch(mnist):
    run = overfitting_run(mnist, OverfittingSetup(epochs=60, early_stopping=True))
    assert run.stopped_epoch is not None and run.stopped_epoch < 59
    assert len(run.test_accuracy) == run.stopped_epoch + 1
    # the model ends with the weights of the best validation epoch, which are not the last epoch's
    assert run.final["test_loss"] == pytest.approx(run.test_loss[run.stopped_epoch - PATIENCE], rel=1e-6)


def test_a_two_unit_network_is_named_underfitting(mnist):
    run = overfitting_run(mnist, OverfittingSetup(hidden=2, epochs=10, init="scaled", train_samples=2000))
    assert run.final["train_accuracy"] < 0.9
    assert describe_fit(run).startswith("Underfitting")


def test_more_data_keeps_the_number_of_steps(mnist):
    base = OverfittingSetup(train_samples=100, epochs=20)
    results = compare_remedies(mnist, names=["more-data"], base=base)
    more = results[1].run.setup
    assert (more.train_samples, more.epochs) == (1000, 2)
    assert np.isfinite(results[1].gained)


def test_a_long_run_scores_at_most_the_cap_evenly_and_its_last_epoch(mnist):
    run = overfitting_run(mnist, OverfittingSetup(train_samples=10, epochs=805, init="scaled"))
    assert run.epochs[:3].tolist() == [0, 3, 6] and run.epochs[-1] == 804
    assert len(run.epochs) == len(run.test_accuracy) <= MAX_SCORED_EPOCHS + 1
    assert run.best_epoch in run.epochs


def test_the_data_sweep_gives_each_size_the_same_examples_and_more_data_narrows_the_gap(mnist):
    from learnscope.lessons.overfitting import data_size_sweep

    points = data_size_sweep(mnist, sizes=(100, 2000), base=OverfittingSetup(init="scaled", weight_decay=1e-4),
                             examples=20_000)
    assert [(point.value, point.run.setup.epochs) for point in points] == [(100, 200), (2000, 10)]
    assert points[1].run.gap < points[0].run.gap and points[1].run.final["test_accuracy"] > 0.8
    with pytest.raises(ValueError, match="early stopping watches the images after that"):
        overfitting_run(mnist, OverfittingSetup(train_samples=60_000, early_stopping=True))


def test_a_runs_rows_feed_the_diagnostics_which_name_its_overfitting(plain_and_l2):
    from learnscope.lessons.overfitting import lowest_test_loss_epoch, run_metrics
    from learnscope.train.diagnostics import diagnose

    run, _ = plain_and_l2
    assert lowest_test_loss_epoch(run.rows[:30]) == run.best_epoch           # live, on the rows so far
    found = diagnose(run_metrics(run.rows), "finished", n_classes=10)
    assert [finding.kind for finding in found] == ["overfitting"]
    assert found[0].evidence["best_epoch"] == run.best_epoch
