"""The lessons' .plot() figures draw the result's own numbers: every line's data is read back from the figure and
compared with the result it was drawn from; a notebook can show each one as a PNG."""

import numpy as np
import pytest

from learnscope.architectures import build_mlp
from learnscope.data.toy2d import make_spiral
from learnscope.lessons.backprop_xor import train_xor, xor_setup
from learnscope.lessons.batch_modes import compare_batch_modes, race_optimizers, train_batch_modes
from learnscope.lessons.cost import cost_sweep
from learnscope.lessons.drawing import read_digit
from learnscope.lessons.gradient_flow import watch_training
from learnscope.lessons.mnist_addition import ADDITION_RECIPES, addition_data, train_mnist_addition
from learnscope.lessons.overfitting import OverfittingSetup, capacity_sweep, compare_remedies, overfitting_run
from learnscope.lessons.perceptron_rule import PerceptronRun, separable_points
from learnscope.lessons.plots import (
    LessonFigure,
    plot_cost_sweep,
    plot_optimizer_runs,
    plot_remedies,
    plot_sweep,
    plot_training_curves,
    plot_transfer,
)
from learnscope.lessons.race import optimizer_race
from learnscope.lessons.step_through import step_through
from learnscope.lessons.surfaces import get_surface
from learnscope.lessons.transfer import TransferRun
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import SGD


def lines(ax) -> dict:
    """label -> (xs, ys) of every labelled line of an axes."""
    return {line.get_label(): (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
            for line in ax.get_lines() if not line.get_label().startswith("_")}


def shows_as_png(figure) -> None:
    assert isinstance(figure, LessonFigure)
    assert figure._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_race_figure_draws_each_racers_path_and_height():
    race = optimizer_race("valley", ["sgd", "momentum", "adam"], steps=40)
    figure = race.plot()
    track, heights = figure.axes[:2]
    drawn = lines(track)
    for name in race:
        np.testing.assert_array_equal(drawn[name][0], race[name][:, 0])
        np.testing.assert_array_equal(drawn[name][1], race[name][:, 1])
        np.testing.assert_array_equal(lines(heights)[name][1], race.values[name])
    assert drawn["minimum"][0].tolist() == [race.surface.minimum[0]]
    assert heights.get_yscale() == "log"                # heights above a minimum of 0 span decades
    shows_as_png(figure)


def test_the_xor_figure_draws_its_loss_and_corners_per_epoch():
    run = train_xor(xor_setup(), epochs=60)
    losses, accuracies = run.plot().axes
    xs, ys = losses.get_lines()[0].get_data()
    assert list(xs) == list(range(1, 61)) and list(ys) == list(run.losses)
    assert list(accuracies.get_lines()[0].get_ydata()) == list(run.accuracies)


def test_the_perceptron_figure_draws_the_line_it_ended_with():
    run = PerceptronRun(separable_points(), lr=1.0)
    while not run.finished:
        run.step()
    figure = run.plot()
    ax = figure.axes[0]
    (x0, x1), (y0, y1) = lines(ax)["its line"]
    w1, w2, b = run.state
    assert w1 * x0 + w2 * y0 + b == pytest.approx(0, abs=1e-9) and w1 * x1 + w2 * y1 + b == pytest.approx(0, abs=1e-9)
    assert sum(len(collection.get_offsets()) for collection in ax.collections) == len(run.points.x)
    assert f"after {run.total_mistakes} mistakes" in ax.get_title()
    shows_as_png(figure)


def test_the_overfitting_figure_marks_the_lowest_test_loss(mnist):
    run = overfitting_run(mnist, OverfittingSetup(train_samples=300, epochs=12))
    losses, accuracies = run.plot().axes
    drawn = lines(losses)
    np.testing.assert_array_equal(drawn["training set"][1], run.train_loss)
    np.testing.assert_array_equal(drawn["test set"][1], run.test_loss)
    assert drawn["lowest test loss"][0][0] == run.best_epoch
    np.testing.assert_array_equal(lines(accuracies)["test set"][1], run.test_accuracy)


def test_the_gradient_flow_figure_draws_each_hidden_layers_norms(mnist):
    run = watch_training(mnist, "sigmoid", n_hidden=3, train_samples=640, every=5)
    norms, losses = run.plot().axes
    drawn = lines(norms)
    assert list(drawn) == run.names
    for index, name in enumerate(run.names):
        np.testing.assert_array_equal(drawn[name][1], run.norms[:, index])
    np.testing.assert_array_equal(losses.get_lines()[0].get_ydata(), run.step_loss)


def test_the_optimizer_figure_draws_every_step_of_every_run(mnist):
    runs = race_optimizers(mnist.x_train[:512], mnist.y_train[:512], ["sgd", "adam"], steps=12, batch_size=64)
    drawn = lines(plot_optimizer_runs(runs).axes[0])
    assert list(drawn) == ["sgd", "adam"]
    for label, run in runs.items():
        np.testing.assert_array_equal(drawn[label][1], run.loss)


def test_the_addition_figure_draws_sums_and_digits_as_the_probe_measured_them(mnist):
    data = addition_data(mnist, 1, n_train=1000, n_test=500, seed=0)
    result = train_mnist_addition(data, ADDITION_RECIPES[1].with_options(model="mlp", epochs=2), probe_every=20)
    drawn = lines(result.plot().axes[0])
    steps, sums, digits = (np.array(column, dtype=float) for column in zip(*result.curve))
    np.testing.assert_array_equal(drawn["test sums right"][0], steps)
    np.testing.assert_array_equal(drawn["test sums right"][1], sums)
    np.testing.assert_array_equal(drawn["test digits right (never labelled)"][1], digits)


def test_the_transfer_figure_draws_each_starts_curve():
    runs = [TransferRun("near", method, 10, 0, 50, curve, accuracy, 1.0, "finished")
            for method, curve, accuracy in (("scratch", [(0, 0.1), (30, 0.6), (300, 0.84)], 0.84),
                                            ("fine-tune", [(0, 0.2), (30, 0.8), (300, 0.88)], 0.88))]
    drawn = lines(plot_transfer(runs).axes[0])
    assert list(drawn) == ["scratch, 10 per class", "fine-tune, 10 per class"]
    assert drawn["fine-tune, 10 per class"][1].tolist() == [0.2, 0.8, 0.88]
    assert lines(runs[0].plot().axes[0])["scratch, 10 per class"][0].tolist() == [0, 30, 300]


def test_the_batch_modes_figure_draws_each_modes_loss_by_time_and_by_examples(mnist):
    curves = train_batch_modes(mnist.x_train[:2000], mnist.y_train[:2000], mnist.x_test[:500], mnist.y_test[:500],
                               seconds=0.2, checkpoints=4)
    by_time, by_examples = plot_training_curves(curves).axes
    for (mode, curve), drawn_time, drawn_examples in zip(curves.items(), by_time.get_lines(),
                                                         by_examples.get_lines()):
        assert drawn_time.get_label() == f"{mode} (batch {curve.batch_size})"
        np.testing.assert_array_equal(drawn_time.get_xdata(), curve.seconds)
        np.testing.assert_array_equal(drawn_examples.get_xdata(), curve.examples_seen)
        np.testing.assert_array_equal(drawn_examples.get_ydata(), curve.loss)


def test_the_batch_modes_figure_draws_each_walk_of_the_weights():
    modes = compare_batch_modes(epochs=2)
    bowl, losses = modes.plot().axes
    drawn = lines(bowl)
    for mode, path in modes.paths.items():
        label = f"{mode} (batch {path.batch_size})"
        np.testing.assert_array_equal(drawn[label][0], path.weights[:, 0])
        np.testing.assert_array_equal(drawn[label][1], path.weights[:, 1])
        np.testing.assert_array_equal(lines(losses)[mode][1], path.loss)
    assert drawn["least squares"][0].tolist() == [modes.best[0]]


def test_the_sweep_and_remedy_figures_draw_each_runs_final_numbers(mnist):
    base = OverfittingSetup(train_samples=200, epochs=4, init="scaled")
    points = capacity_sweep(mnist, hidden_sizes=(5, 40), base=base)
    drawn = lines(plot_sweep(points).axes[0])
    assert drawn["test set"][0].tolist() == [5, 40]
    assert drawn["test set"][1].tolist() == [point.run.final["test_accuracy"] for point in points]
    assert drawn["training set"][1].tolist() == [point.run.final["train_accuracy"] for point in points]
    results = compare_remedies(mnist, names=("l2", "dropout"), base=base)
    curves, gains = plot_remedies(results).axes
    assert list(lines(curves)) == [result.name for result in results]
    assert [bar.get_width() for bar in gains.patches] == pytest.approx([100 * result.gained for result in results])


def test_the_reading_figure_draws_each_digits_probability(mnist):
    model = build_mlp((1, 28, 28), 10, hidden=(16,), seed=0)
    reading = read_digit(model, mnist.x_test[0, 0])
    ax = reading.plot().axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx(reading.probabilities.tolist())
    assert ax.get_title().startswith(f"it reads {reading.predicted} ")


def test_the_surface_figure_marks_the_start_and_the_minimum():
    surface = get_surface("rosenbrock")
    drawn = lines(surface.plot().axes[0])
    assert drawn["start"][0].tolist() == [surface.start[0]] and drawn["minimum"][1].tolist() == [surface.minimum[1]]


def test_the_learning_step_figure_shows_each_weight_matrix_before_its_gradient_and_its_change():
    x, y = make_spiral(64, seed=0)
    model = build_mlp((2,), 3, hidden=(8, 8), seed=0)
    step = step_through(model, SoftmaxCrossEntropy(), SGD(lr=0.5), x, y)
    figure = step.plot()
    images = [ax.get_images()[0].get_array() for ax in figure.axes if ax.get_images()]
    weights = [update for update in step.updates if update.before.ndim == 2]
    assert len(images) == 3 * len(weights)
    for index, update in enumerate(weights):
        np.testing.assert_array_equal(images[3 * index], update.before)
        np.testing.assert_array_equal(images[3 * index + 1], update.grad)
        np.testing.assert_array_equal(images[3 * index + 2], update.change)
    assert f"{step.loss_before:.4g} → {step.loss_after:.4g}" in figure.get_suptitle()


def test_the_cost_figure_draws_speed_parameters_and_work_by_width(mnist):
    x, y = mnist.x_train[:512], mnist.y_train[:512]
    rows = cost_sweep("width", (32, 128), x, y, steps=3)
    speed, size = plot_cost_sweep("width", rows).axes
    assert speed.get_lines()[0].get_ydata().tolist() == [row.speed.examples_per_second for row in rows]
    assert lines(size)["parameters"][1].tolist() == [row.params for row in rows]
    assert lines(size)["training FLOPs per example"][1].tolist() == [row.training_flops for row in rows]


# -- the "try this" comparisons ------------------------------------------------------------------------------------
def test_the_perceptron_comparison_draws_both_runs_lines_and_mistakes():
    from learnscope.lessons.history_lab import PerceptronComparison
    from learnscope.lessons.perceptron_rule import best_margin, flip_label

    baseline = PerceptronRun(separable_points(), lr=1.0)
    baseline.run_epochs(30, until_cycle=False)
    run = PerceptronRun(flip_label(separable_points()), lr=0.5)       # not separable: mistakes every epoch
    run.run_epochs(30, until_cycle=False)
    figure = PerceptronComparison(run, best_margin(run.points), baseline, best_margin(baseline.points)).plot()
    page_points, experiment, mistakes = figure.axes[:3]
    for ax, drawn in ((page_points, baseline), (experiment, run)):
        xs, ys = lines(ax)["its line"]
        w1, w2, b = drawn.state
        np.testing.assert_allclose(w1 * xs + w2 * ys + b, 0, atol=1e-9)
        assert f"{drawn.total_mistakes} mistakes" in ax.get_title()
    drawn = lines(mistakes)
    assert drawn["the page's points (η = 1)"][1].tolist() == baseline.mistakes_per_epoch
    assert drawn["the experiment (η = 0.5)"][1].tolist() == run.mistakes_per_epoch
    assert min(run.mistakes_per_epoch) > 0 and baseline.mistakes_per_epoch[-1] == 0
    shows_as_png(figure)


def test_the_overfitting_comparison_draws_the_plain_run_dashed():
    from learnscope.lessons.going_wrong_lab import OverfittingComparison
    from learnscope.lessons.overfitting import OverfittingRun

    def run_with(test_accuracy, **setup):
        epochs = np.arange(6)
        return OverfittingRun(OverfittingSetup(**setup), epochs, 1 / (epochs + 1), 1 - 0.5 / (epochs + 1),
                              0.2 + 0.1 * epochs, test_accuracy * np.linspace(0.8, 1, 6), seconds=1.0)

    remedy, plain = run_with(0.9, weight_decay=1e-3), run_with(0.8)
    losses, accuracies = OverfittingComparison(remedy, plain).plot().axes
    drawn = lines(accuracies)
    np.testing.assert_array_equal(drawn["test set"][1], remedy.test_accuracy)
    np.testing.assert_array_equal(drawn["test set, plain run"][1], plain.test_accuracy)
    assert {line.get_linestyle() for line in accuracies.get_lines() if "plain" in line.get_label()} == {"--"}
    np.testing.assert_array_equal(lines(losses)["training set, plain run"][1], plain.train_loss)
    assert "test set, plain run" not in lines(OverfittingComparison(remedy, None).plot().axes[1])


def test_the_addition_comparison_draws_the_sums_with_and_without_the_rule():
    from learnscope.lessons.beyond_lab import AdditionComparison
    from learnscope.lessons.mnist_addition import AdditionResult

    rule = AdditionResult(1, None, None, 10.0, 0.9, 0.95, None,
                          curve=[(0, 0.05, 0.1), (50, 0.6, 0.8), (100, 0.9, 0.95)], n_train=1000)
    plain = AdditionResult(1, None, None, 8.0, 0.3, None, None,
                           curve=[(0, 0.05, np.nan), (50, 0.2, np.nan), (100, 0.3, np.nan)], n_train=1000)
    figure = AdditionComparison(rule, plain).plot()
    drawn = lines(figure.axes[0])
    assert drawn["test sums right with the rule"][1].tolist() == [0.05, 0.6, 0.9]
    assert drawn["test digits right (never labelled) with the rule"][1].tolist() == [0.1, 0.8, 0.95]
    assert drawn["test sums right without it"][1].tolist() == [0.05, 0.2, 0.3]
    assert "test digits right (never labelled) without it" not in drawn      # without the rule it reads no digit
    shows_as_png(figure)


def test_the_transfer_comparison_draws_each_start():
    from learnscope.lessons.beyond_lab import TransferComparison

    runs = tuple(TransferRun("near", method, 10, 0, 50, [(0, 0.1), (30, accuracy)], accuracy, 1.0, "finished")
                 for method, accuracy in (("scratch", 0.6), ("frozen", 0.7), ("fine-tune", 0.8)))
    drawn = lines(TransferComparison(10, runs).plot().axes[0])
    assert [ys[-1] for _, ys in drawn.values()] == [0.6, 0.7, 0.8]


def test_the_gradient_norms_figure_draws_each_hidden_layers_size(mnist):
    from learnscope.lessons.gradient_flow import deep_network, layer_gradient_norms

    norms = layer_gradient_norms(deep_network(4, "sigmoid", seed=0), mnist.x_train[:500], mnist.y_train[:500])
    ax = norms.plot().axes[0]
    np.testing.assert_allclose([bar.get_height() for bar in ax.patches], norms.norms)
    assert [label.get_text() for label in ax.get_xticklabels()] == norms.names
    assert ax.get_yscale() == "log" and f"{norms.ratio:.3g}" in ax.get_title()


def test_the_inside_comparisons_draw_their_own_maps(mnist):
    from learnscope.explain import integrated_gradients
    from learnscope.lessons.inside_lab import SecondChoice, StepsComparison

    model = build_mlp((1, 28, 28), 10, hidden=(32,), seed=0)
    x = mnist.x_test[0]
    coarse, fine = (integrated_gradients(model, x, 3, n_steps=n) for n in (2, 64))
    figure = StepsComparison(coarse, fine).plot()
    coarse_ax, fine_ax = figure.axes[:2]
    np.testing.assert_array_equal(coarse_ax.images[0].get_array(), coarse.values.reshape(28, 28))
    np.testing.assert_array_equal(fine_ax.images[0].get_array(), fine.values.reshape(28, 28))
    assert coarse_ax.get_title() == f"2 steps: Σ = {coarse.values.sum():.3f}"
    reach = max(np.abs(coarse.values).max(), np.abs(fine.values).max())
    assert coarse_ax.images[0].get_clim() == fine_ax.images[0].get_clim() == (-reach, reach)   # one scale

    probabilities = np.full(10, 0.05)
    probabilities[[3, 5]] = 0.4, 0.2
    second = SecondChoice(3, 5, probabilities, fine, integrated_gradients(model, x, 5), x)
    digit_ax, answer_ax, runner_ax = second.plot().axes[:3]
    np.testing.assert_array_equal(digit_ax.images[0].get_array(), x.reshape(28, 28))
    np.testing.assert_array_equal(runner_ax.images[0].get_array(), second.runner_up_map.values.reshape(28, 28))
    assert (answer_ax.get_title(), runner_ax.get_title()) == ("for 3 (40.0%)", "for 5 (20.0%)")
