"""The perceptron rule one example at a time: Novikoff's bound on separable points, the endless mistakes and the
weight cycle on XOR, the exact best margin, and the geometry the page draws."""

import numpy as np
import pytest

from learnscope.lessons.perceptron_rule import (
    PerceptronRun,
    PointSet,
    best_margin,
    describe_bound,
    describe_run,
    describe_step,
    describe_weights,
    flip_label,
    line_across_square,
    positive_side,
    separable_points,
    xor_points,
)


@pytest.mark.parametrize("gap", [0.3, 0.1, 0.03])
@pytest.mark.parametrize("lr", [1.0, 0.1, 7.0])
def test_on_separable_points_it_converges_within_novikoffs_bound(gap, lr):
    for seed in range(8):
        points = separable_points(margin=gap, seed=seed)
        margin = best_margin(points)
        run = PerceptronRun(points, lr)
        run.run_epochs(1000)
        assert run.converged_epoch is not None
        assert 0 < run.total_mistakes <= margin.bound
        w1, w2, b = run.state
        assert (((points.x @ np.array([w1, w2]) + b) > 0).astype(int) == points.y).all()   # the line separates them
        assert run.mistakes_per_epoch[-1] == 0 and run.cycle is None


def test_on_xor_it_still_makes_mistakes_after_1000_epochs_and_its_weights_cycle():
    run = PerceptronRun(xor_points())
    run.run_epochs(1000, until_cycle=False)
    assert run.epoch == 1000 and run.converged_epoch is None
    assert min(run.mistakes_per_epoch) > 0                 # not one epoch without a mistake
    cycle = run.cycle
    assert cycle is not None and cycle.mistakes > 0
    # replay from scratch, recording each epoch's starting weights: the repeat is real
    replay, starts = PerceptronRun(xor_points()), []
    for _ in range(cycle.repeat_epoch + 1):
        starts.append(replay.state)
        for _ in range(len(replay.points.x)):
            replay.step()
    assert starts[cycle.first_epoch] == starts[cycle.repeat_epoch]
    assert len(set(starts[:cycle.repeat_epoch])) == cycle.repeat_epoch      # the first repeat, not a later one
    assert cycle.states[0] == cycle.states[-1] == starts[cycle.first_epoch]


def test_each_step_applies_rosenblatts_rule():
    run = PerceptronRun(separable_points(seed=3), lr=0.5)
    mistakes = 0
    for _ in range(60):
        step = run.step()
        error = step.label - step.prediction
        expected_w = np.array(step.w_before) + 0.5 * error * np.array(step.x)
        assert np.allclose(step.w_after, expected_w) and step.b_after == pytest.approx(step.b_before + 0.5 * error)
        mistakes += step.mistake
    assert mistakes == run.total_mistakes > 0


def test_the_best_margin_is_exact_on_hand_cases():
    one = PointSet("one", np.array([[0.0, 0.0]]), np.array([1]), "")
    assert best_margin(one).gamma == pytest.approx(1.0)          # only the bias: u = (0, 0, 1)
    two = PointSet("two", np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1, 0]), "")
    margin = best_margin(two)
    assert margin.gamma == pytest.approx(1.0) and margin.radius == pytest.approx(np.sqrt(2))
    assert margin.bound == pytest.approx(2.0)
    assert margin.w == pytest.approx((1.0, 0.0)) and margin.b == pytest.approx(0.0, abs=1e-12)


def test_no_line_beats_the_best_margin():
    points = separable_points(seed=5)
    margin = best_margin(points)
    z = np.where(points.y == 1, 1.0, -1.0)[:, None] * np.column_stack([points.x, np.ones(len(points.x))])
    found = np.array([*margin.w, margin.b])
    assert np.linalg.norm(found) == pytest.approx(1.0)
    assert (z @ found).min() == pytest.approx(margin.gamma)
    directions = np.random.default_rng(0).normal(size=(200_000, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    assert (directions @ z.T).min(axis=1).max() <= margin.gamma + 1e-12


def test_xor_and_a_flipped_label_are_not_separable():
    for points in (xor_points(), flip_label(separable_points())):
        margin = best_margin(points)
        assert not margin.separable and margin.bound is None
        assert "No straight line separates" in describe_bound(margin, 3)
    flipped = flip_label(separable_points())
    assert (flipped.y != separable_points().y).sum() == 1


def test_the_sentences_carry_the_runs_numbers():
    run = PerceptronRun(xor_points())
    assert describe_weights(run).startswith("w = (0, 0), b = 0: the perceptron says 0 everywhere")
    first, second = run.step(), run.step()
    assert describe_weights(run) == "Now w = (−1, 1), b = 1. Press Step to show it the next point."
    assert describe_step(first) == "Point 1 at (−1, −1), class 0: the perceptron says 0. Right, so nothing changes."
    assert "y − ŷ = +1" in describe_step(second) and "= (−1, 1); b ← b + η·(y − ŷ) = 0 + 1·(+1) = 1." \
        in describe_step(second)
    run.run_epochs(100)
    assert describe_run(run).startswith(f"A cycle: epoch {run.cycle.repeat_epoch + 1} starts with exactly the "
                                        f"weights epoch {run.cycle.first_epoch + 1} started with")
    margin = best_margin(separable_points())
    assert f"{margin.bound:,.0f} mistakes" in describe_bound(margin, 4) and "So far: 4." in describe_bound(margin, 4)


def test_the_line_and_the_side_it_says_1_on_the_square():
    w, b, limit = (0.6, -1.1), 0.3, 1.8
    (x1, y1), (x2, y2) = line_across_square(w, b, limit)
    for x, y in ((x1, y1), (x2, y2)):
        assert w[0] * x + w[1] * y + b == pytest.approx(0, abs=1e-12)
        assert max(abs(x), abs(y)) == pytest.approx(limit)                # on the square's edge
    polygon = np.array(positive_side(w, b, limit))
    xs, ys = polygon.T
    area = 0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1)))          # the shoelace formula
    grid = np.stack(np.meshgrid(*[np.linspace(-limit, limit, 801)] * 2), -1).reshape(-1, 2)
    assert area / (2 * limit) ** 2 == pytest.approx(((grid @ w + b) > 0).mean(), abs=0.005)
    assert line_across_square((1.0, 0.0), -5.0, limit) is None             # the line x₁ = 5 misses the square
    assert line_across_square((0.0, 0.0), 0.0, limit) is None                # w = 0 (the start): no line at all
    assert line_across_square((0.0, 0.0), 1.0, limit) is None and len(positive_side((0.0, 0.0), 1.0, limit)) == 4


def test_bad_settings_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="lr"):
        PerceptronRun(xor_points(), lr=0)
    with pytest.raises(ValueError, match="margin"):
        separable_points(margin=0.9)
    with pytest.raises(ValueError, match="n_points"):
        separable_points(n_points=101)


def test_the_weight_paths_caption_says_why_there_is_no_cycle():
    from learnscope.lessons.perceptron_rule import describe_cycle

    fresh = PerceptronRun(xor_points())
    assert describe_cycle(fresh).startswith("No cycle found yet")
    fresh.run_epochs(10)
    assert describe_cycle(fresh) == describe_run(fresh) and describe_cycle(fresh).startswith("A cycle:")
    converged = PerceptronRun(separable_points())
    converged.run_epochs(100)
    assert describe_cycle(converged) == "No cycle: it converged, so its weights stopped moving."
