"""Static matplotlib figures of what explain/ finds, for notebooks and scripts: each result's .plot() calls one of
these. They draw the result's own numbers, nothing recomputed (core.figures: no pyplot, shown as a PNG)."""

import numpy as np
from matplotlib import colormaps

from learnscope.core.figures import LessonFigure, as_picture, new_figure, new_grid, plot_maps


def plot_integrated_gradients(attribution, picture=None) -> LessonFigure:
    """Integrated gradients as a map (beside the picture, when given), titled with its completeness check."""
    change = attribution.score - attribution.baseline_score
    return plot_maps(picture, {f"integrated gradients, {attribution.n_steps} steps": attribution.values},
                     f"Σ attributions = {attribution.values.sum():.3f}, F(x) − F(baseline) = {change:.3f} "
                     f"(off by {attribution.relative_delta:.1%})")


def plot_sanity(original, steps, picture=None) -> LessonFigure:
    """Cascading randomization (cascading_randomization's map and steps): the trained model's map, then the map
    after each step re-drew more layers from the top, titled with its rank correlation ρ to the trained one. Each
    map has its own colour scale: the check compares rankings, and re-drawn weights change the sizes anyway."""
    maps = {"trained model": original}
    # "layers 7–9 (BatchNorm, ReLU, Dense)" is too long for a panel: the numbers say which
    maps.update({f"{step.layers.split(' (')[0]} re-drawn\nρ = {step.correlation:.2f}": step.map for step in steps})
    return plot_maps(picture, maps, "the map after re-drawing layers from the top (ρ: its rank correlation with the "
                     "trained model's map)", shared_scale=False)


def plot_landscape(landscape, title: str = "loss around the trained weights") -> LessonFigure:
    """The loss over the (α, β) plane (contours, the model's own weights at the centre), and the slice β = 0."""
    figure, (plane, line) = new_figure(2, width=10.4, height=4.0, ratios=(4, 3))
    _draw_plane(plane, landscape)
    plane.set_title(title, fontsize=10)
    line.plot(landscape.coordinates, landscape.line, color=colormaps["tab10"](0))
    line.axvline(0, color="grey", linestyle=":", label="the trained weights")
    line.set(title="the slice β = 0", xlabel="α", ylabel="loss at β = 0")
    line.grid(alpha=0.3)
    line.legend(fontsize=8)
    return figure


def plot_trajectory_plane(plane) -> LessonFigure:
    """A training run's path in the plane it moved in most, ending at the origin (the final weights)."""
    figure, (ax,) = new_figure(1, width=5.0, height=4.2)
    _draw_path(ax, plane, color="tab:blue")
    ax.plot(0, 0, marker="*", color="black", markersize=12, linestyle="none", label="where it ended")
    ax.set(xlabel=f"direction 1 ({plane.explained[0]:.0%} of the path)",
           ylabel=f"direction 2 ({plane.explained[1]:.0%})", title="the path of the weights")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def plot_training_path(path) -> LessonFigure:
    """The path of training_path_landscape on the loss over its own plane."""
    figure, (ax,) = new_figure(1, width=5.6, height=4.6)
    _draw_plane(ax, path.landscape)
    _draw_path(ax, path.plane)
    ax.set(xlabel=f"direction 1 ({path.plane.explained[0]:.0%} of the path)",
           ylabel=f"direction 2 ({path.plane.explained[1]:.0%})")
    ax.set_title(f"the way down (test accuracy {path.test_accuracy:.1%})", fontsize=10)
    ax.legend(fontsize=8)
    return figure


def plot_top_examples(top, examples, units: int = 8) -> LessonFigure:
    """The first `units` units of a layer, a row each: its strongest examples (from `examples`, the pictures
    top_activating was given), each titled with the unit's response."""
    shown = min(units, len(top.indices))
    k = top.indices.shape[1]
    figure, axes = new_grid(shown, k, width=1.05 * k + 0.4, height=1.15 * shown + 0.4)
    for unit, row in enumerate(axes):
        for column, ax in enumerate(row):
            ax.imshow(as_picture(examples[top.indices[unit, column]]), cmap="gray_r", interpolation="nearest")
            ax.set_title(f"{top.responses[unit, column]:.2f}", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(f"unit {unit}", fontsize=8)
    figure.suptitle(f"layer {top.layer}: each unit's strongest examples", fontsize=10)
    return figure


def plot_training_embedding(embedding, labels=None, moments: int = 4) -> LessonFigure:
    """A layer's picture of the same examples at `moments` moments of training (first and last included), on the
    last moment's axes, coloured by label when given, titled with the nearest-neighbour agreement."""
    chosen = np.unique(np.linspace(0, len(embedding.steps) - 1, min(moments, len(embedding.steps))).round().astype(int))
    figure, axes = new_figure(len(chosen), width=3.2 * len(chosen), height=3.4)
    low, high = embedding.points.reshape(-1, 2).min(axis=0), embedding.points.reshape(-1, 2).max(axis=0)
    for ax, moment in zip(axes, chosen):
        points = embedding.points[moment]
        ax.scatter(points[:, 0], points[:, 1], s=4, c=labels, cmap="tab10" if labels is not None else None,
                   vmin=0, vmax=9)
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xticks=[], yticks=[])
        ax.set_title(f"step {embedding.steps[moment]:,}: {embedding.agreements[moment]:.0%} agree", fontsize=9)
    return figure


def _draw_plane(ax, landscape) -> None:
    levels = np.unique(np.quantile(landscape.surface, np.linspace(0, 1, 15)))
    filled = ax.contourf(landscape.coordinates, landscape.coordinates, landscape.surface, levels=levels,
                         cmap="viridis")
    ax.figure.colorbar(filled, ax=ax, shrink=0.8, label="loss")
    ax.plot(0, 0, marker="*", color="white", markeredgecolor="black", markersize=12, linestyle="none",
            label="the trained weights")
    ax.set(xlabel="α", ylabel="β", aspect="equal")


def _draw_path(ax, plane, color: str = "white") -> None:
    ax.plot(plane.path[:, 0], plane.path[:, 1], color=color, marker=".", markeredgecolor="black", linewidth=1.4,
            label="training's path")
    ax.plot(*plane.path[0], marker="o", color="tab:red", linestyle="none", label="start")
