"""The Gradient descent page's pictures and "Try this" outcomes, read from the race and the batch modes."""

import numpy as np
import pytest

from learnscope.lessons.batch_modes import compare_batch_modes
from learnscope.lessons.descent_lab import (
    BATCH_EXPERIMENTS,
    RACE_EXPERIMENTS,
    contour_picture,
    step_report,
    to_pixels,
)
from learnscope.lessons.race import optimizer_race, steps_to_reach
from learnscope.lessons.surfaces import SURFACES


def run(experiment):
    setup = experiment.setup
    racers = {name: {"name": name, "lr": lr} for name, lr in setup["racers"].items()}
    return optimizer_race(setup["surface"], racers, steps=setup["steps"], condition=setup.get("condition"))


def experiment(key, experiments=RACE_EXPERIMENTS):
    return next(e for e in experiments if e.key == key)


def test_the_contour_picture_is_lightest_at_the_minimum_and_darkens_uphill():
    values = SURFACES["valley"].grid(41)[2]
    picture = contour_picture(values)
    assert picture.shape == (41, 41, 3) and picture.dtype == np.uint8
    brightness = picture.sum(axis=2)
    assert brightness[20, 20] == brightness.max()                          # (0, 0), the bottom of the bowl
    assert brightness[20, 0] < brightness[20, 10] < brightness[20, 20]     # darker towards the valley's end
    assert len(np.unique(brightness)) > 5                                  # bands, not two colours


def test_points_land_on_their_pixels_with_y_pointing_up():
    bounds = ((-2.0, 2.0), (-1.0, 3.0))
    pixels = to_pixels(np.array([[-2.0, 3.0], [2.0, -1.0], [0.0, 1.0]]), bounds, 101)
    np.testing.assert_allclose(pixels, [[0, 0], [100, 100], [50, 50]])


def test_momentum_outcome_names_both_step_counts_and_waits_until_they_are_in():
    race = run(experiment("momentum-valley"))
    sgd, momentum = steps_to_reach(race, "sgd", 1e-3), steps_to_reach(race, "momentum", 1e-3)
    text = experiment("momentum-valley").outcome(race).text
    assert f"{sgd} steps" in text and f"momentum {momentum}" in text and f"{sgd / momentum:.1f}×" in text
    early = experiment("momentum-valley").outcome(race.until(momentum - 1))
    assert not early.settled and "Press Play" in early.text
    middle = experiment("momentum-valley").outcome(race.until(momentum + 5))
    assert not middle.settled and f"after {momentum} steps" in middle.text


def test_adam_outcome_reads_when_adam_arrived_and_how_far_sgd_still_is():
    race = run(experiment("adam-rosenbrock"))
    arrived = int(np.argmax(np.linalg.norm(race["adam"] - 1.0, axis=1) < 0.1))
    text = experiment("adam-rosenbrock").outcome(race).text
    assert f"after {arrived} steps" in text
    assert f"{np.linalg.norm(race['sgd'][-1] - 1.0):.2f} away" in text
    assert not experiment("adam-rosenbrock").outcome(race.until(arrived - 1)).settled


def test_too_big_a_learning_rate_outcome_names_the_step_it_left_and_the_limit():
    race = run(experiment("learning-rate-too-big"))
    stop = race.diverged_at["sgd"]
    assert stop is not None
    text = experiment("learning-rate-too-big").outcome(race).text
    assert f"step {stop}" in text and "2/κ = 0.04" in text
    assert not experiment("learning-rate-too-big").outcome(race.until(stop - 1)).settled


def test_batch_outcomes_read_the_counts_and_losses_of_the_three_paths():
    setup = experiment("same-examples", BATCH_EXPERIMENTS).setup
    modes = compare_batch_modes(mini_batch_size=setup["mini_batch_size"], epochs=setup["epochs"], lr=setup["lr"])
    text = experiment("same-examples", BATCH_EXPERIMENTS).outcome(modes).text
    for name in ("batch", "stochastic", "mini-batch"):
        assert f"{modes.paths[name].loss[-1]:.2f}" in text
    assert "made 3 updates" in text and "made 600 updates" in text and "made 39 updates" in text
    big = compare_batch_modes(lr=0.5)
    assert "blew up" in experiment("bigger-steps", BATCH_EXPERIMENTS).outcome(big).text
    moderate = compare_batch_modes(lr=0.05)
    assert "keeps jumping" in experiment("bigger-steps", BATCH_EXPERIMENTS).outcome(moderate).text


def test_the_step_report_shows_sgd_one_rate_and_adam_one_per_axis():
    race = optimizer_race("valley", {"sgd": {"name": "sgd", "lr": 0.01}, "adam": {"name": "adam", "lr": 0.2}},
                          steps=20)
    sgd = step_report(race, "sgd", 5)
    assert sgd.step == 5 and sgd.rate[0] == pytest.approx(0.01) and sgd.rate[1] == pytest.approx(0.01)
    np.testing.assert_allclose(sgd.moved, race["sgd"][5] - race["sgd"][4])
    assert sgd.loss == race.values["sgd"][5] and sgd.gradient == tuple(race.gradients["sgd"][4])
    adam = step_report(race, "adam", 5)
    assert adam.rate[0] > 2 * adam.rate[1]             # the shallow axis gets a larger learning rate
    start = step_report(race, "adam", 0)
    assert start.moved == (0.0, 0.0) and start.rate == (None, None)
    assert step_report(race, "sgd", 999).step == 20     # clamped to the race


def test_the_step_report_of_a_diverged_racer_stops_at_its_last_position_on_the_map():
    race = optimizer_race("valley", {"sgd": {"name": "sgd", "lr": 0.1}}, steps=200)
    report = step_report(race, "sgd", 200)
    assert report.step == race.diverged_at["sgd"] - 1 and np.isfinite(report.position).all()
