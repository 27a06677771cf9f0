"""explain's .plot() figures draw the result's own numbers: every map, line and point is read back from the figure
and compared with the result it was drawn from; a notebook shows each one as a PNG."""

import numpy as np

from learnscope.architectures import build_mlp
from learnscope.core.figures import LessonFigure
from learnscope.explain import (
    TrainingPath,
    WeightSnapshots,
    cascading_randomization,
    integrated_gradients,
    loss_landscape,
    top_activating,
    trajectory_plane,
)
from learnscope.explain.embeddings import TrainingEmbedding
from learnscope.explain.plots import plot_sanity
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import Adam
from learnscope.train.loop import fit


def shows_as_png(figure) -> None:
    assert isinstance(figure, LessonFigure)
    assert figure._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"


def digit_model():
    return build_mlp((1, 28, 28), 10, hidden=(16,), seed=0)


def test_integrated_gradients_are_drawn_beside_the_digit_with_their_check(mnist):
    x = mnist.x_test[0]
    attribution = integrated_gradients(digit_model(), x, 7, n_steps=16)
    figure = attribution.plot(x)
    digit, drawn = figure.axes[:2]
    np.testing.assert_array_equal(digit.images[0].get_array(), x.reshape(28, 28))
    np.testing.assert_array_equal(drawn.images[0].get_array(), attribution.values.reshape(28, 28))
    assert f"Σ attributions = {attribution.values.sum():.3f}" in figure.get_suptitle()
    assert f"off by {attribution.relative_delta:.1%}" in figure.get_suptitle()
    assert len(attribution.plot().axes) == 2                  # without the picture: the map and its colour bar
    shows_as_png(figure)


def test_the_sanity_figure_draws_the_trained_map_then_each_redrawn_one(mnist):
    x = mnist.x_test[1]
    original, steps = cascading_randomization(digit_model(), x, 2, "saliency")
    maps = plot_sanity(original, steps).axes[:1 + len(steps)]
    np.testing.assert_array_equal(maps[0].images[0].get_array(), original.reshape(28, 28))
    assert maps[1].get_title().startswith(f"layer {len(digit_model().layers)} re-drawn")   # the top one first (from 1)
    for ax, step in zip(maps[1:], steps):
        np.testing.assert_array_equal(ax.images[0].get_array(), step.map.reshape(28, 28))
        assert ax.get_title() == f"{step.layers.split(' (')[0]} re-drawn\nρ = {step.correlation:.2f}"
        reach = np.abs(step.map).max()
        assert ax.images[0].get_clim() == (-reach, reach)                # each map on its own scale


def tiny_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((60, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def test_the_landscape_figure_draws_its_surface_and_its_slice():
    x, y = tiny_problem()
    landscape = loss_landscape(build_mlp((4,), 2, hidden=(5,), seed=1), SoftmaxCrossEntropy(), x, y, steps=7)
    plane, line = landscape.plot().axes[:2]
    xs, ys = line.get_lines()[0].get_data()
    np.testing.assert_array_equal(xs, landscape.coordinates)
    np.testing.assert_array_equal(ys, landscape.line)
    filled = plane.collections[0]
    assert filled.levels[0] <= landscape.surface.min() and filled.levels[-1] >= landscape.surface.max()


def test_the_training_path_is_drawn_on_the_loss_over_its_plane():
    x, y = tiny_problem()
    model = build_mlp((4,), 2, hidden=(5,), seed=1)
    snapshots = WeightSnapshots(every=2)
    fit(model, SoftmaxCrossEntropy(), Adam(0.05), x, y, epochs=4, batch_size=10, seed=0, callbacks=[snapshots])
    final = {name: param.astype(np.float64) for name, param, _ in model.named_params()}
    plane = trajectory_plane(snapshots.snapshots, final)
    span = 1.15 * float(np.abs(plane.path).max())
    landscape = loss_landscape(model, SoftmaxCrossEntropy(), x, y, directions=plane.directions, steps=5, span=span)
    for figure in (plane.plot(), TrainingPath(plane, landscape, 0.9).plot()):
        path = next(line for line in figure.axes[0].get_lines() if line.get_label() == "training's path")
        np.testing.assert_array_equal(np.column_stack(path.get_data()), plane.path)
        assert f"({plane.explained[0]:.0%} of the path)" in figure.axes[0].get_xlabel()
    assert "test accuracy 90.0%" in figure.axes[0].get_title()


def test_the_top_examples_figure_shows_each_units_strongest_examples(mnist):
    x = mnist.x_test[:200]
    model = digit_model()
    dense = next(index for index, layer in enumerate(model.layers) if type(layer).__name__ == "Dense")
    top = top_activating(model, dense, x, k=4)
    figure = top.plot(x, units=3)
    assert len(figure.axes) == 3 * 4
    for unit in range(3):
        for column in range(4):
            ax = figure.axes[4 * unit + column]
            np.testing.assert_array_equal(ax.images[0].get_array(), x[top.indices[unit, column]].reshape(28, 28))
            assert ax.get_title() == f"{top.responses[unit, column]:.2f}"


def test_the_embedding_figure_keeps_its_axes_and_shows_first_and_last_moment():
    rng = np.random.default_rng(0)
    embedding = TrainingEmbedding(np.arange(0, 600, 100), rng.standard_normal((6, 50, 2)), np.linspace(0.2, 0.9, 6))
    labels = np.arange(50) % 10
    figure = embedding.plot(labels, moments=3)
    assert [ax.get_title() for ax in figure.axes] == ["step 0: 20% agree", "step 200: 48% agree",
                                                      "step 500: 90% agree"]
    np.testing.assert_array_equal(figure.axes[-1].collections[0].get_offsets(), embedding.points[5])
    np.testing.assert_array_equal(figure.axes[0].collections[0].get_array(), labels)
    assert figure.axes[0].get_xlim() == figure.axes[-1].get_xlim()             # the same axes at every moment
