"""Static matplotlib figures of the lessons' results, for notebooks and scripts: each result's .plot() calls one of
these (race.plot(), xor_run.plot(), ...). They draw the result's own numbers, nothing recomputed, on a Figure of
their own (no pyplot: no global state, no window), which a notebook shows as a PNG.
"""

import numpy as np
from matplotlib import colormaps

from learnscope.core.figures import LessonFigure, new_figure, new_grid

#: Colours of several lines (racers, modes, methods), in order
COLORS = [colormaps["tab10"](i) for i in range(10)]


def plot_race(race) -> LessonFigure:
    """The optimizer race: each racer's path on the surface's contours, and its height on the surface per step."""
    figure, (track, heights) = new_figure(2, width=10)
    xs, ys, values = race.surface.grid(121)
    levels = np.quantile(values, np.linspace(0.0, 0.95, 16))
    track.contour(xs, ys, values, levels=np.unique(levels), cmap="Greys", linewidths=0.6)
    for color, (label, positions) in zip(COLORS, race.positions.items()):
        track.plot(positions[:, 0], positions[:, 1], color=color, linewidth=1.4, marker=".", markersize=3, label=label)
        heights.plot(np.arange(len(race.values[label])), race.values[label], color=color, label=label)
    track.plot(*race.surface.minimum, marker="*", color="black", markersize=10, linestyle="none", label="minimum")
    (x_min, x_max), (y_min, y_max) = race.surface.bounds
    track.set(xlim=(x_min, x_max), ylim=(y_min, y_max), title=race.surface.title, xlabel="x", ylabel="y")
    track.legend(fontsize=8)
    if all((values[np.isfinite(values)] > 0).all() for values in race.values.values()):
        heights.set_yscale("log")
    heights.set(title="height on the surface", xlabel="step", ylabel="f(x, y)")
    heights.grid(alpha=0.3)
    return figure


def plot_xor(run) -> LessonFigure:
    """A network learning XOR: the loss and the share of the four corners it gets right, per epoch."""
    figure, (losses, accuracies) = new_figure(2, width=8.4)
    epochs = np.arange(1, run.epochs + 1)
    losses.plot(epochs, run.losses, color=COLORS[0])
    losses.set(title="loss", xlabel="epoch")
    accuracies.plot(epochs, run.accuracies, color=COLORS[1], drawstyle="steps-post")
    accuracies.set(title="corners right", xlabel="epoch", ylim=(-0.05, 1.05))
    for ax in (losses, accuracies):
        ax.grid(alpha=0.3)
    return figure


def plot_perceptron(run) -> LessonFigure:
    """Rosenblatt's perceptron: the points by class and the line w₁x₁ + w₂x₂ + b = 0 it ended with."""
    figure, (ax,) = new_figure(1, width=4.4, height=4.2)
    _draw_perceptron(ax, run, f"after {run.total_mistakes} mistakes, {len(run.mistakes_per_epoch)} epochs")
    return figure


def plot_perceptron_comparison(comparison) -> LessonFigure:
    """A perceptron experiment (history_lab's PerceptronComparison) beside the run on the page's own points: each
    one's points and line, and its mistakes per epoch."""
    runs = [(f"the experiment (η = {comparison.run.lr:g})", comparison.run)]
    if comparison.baseline is not None:
        runs.insert(0, (f"the page's points (η = {comparison.baseline.lr:g})", comparison.baseline))
    figure, axes = new_figure(len(runs) + 1, width=4.2 * (len(runs) + 1), height=4.0)
    for ax, color, (label, run) in zip(axes, (COLORS[2], COLORS[4]), runs):
        _draw_perceptron(ax, run, f"{label}: {run.total_mistakes} mistakes")
        axes[-1].plot(np.arange(1, len(run.mistakes_per_epoch) + 1), run.mistakes_per_epoch, color=color,
                      marker=".", label=label)
    axes[-1].set(title="mistakes per epoch", xlabel="epoch")
    axes[-1].grid(alpha=0.3)
    axes[-1].legend(fontsize=8)
    return figure


def _draw_perceptron(ax, run, title: str) -> None:
    points = run.points
    for label, color, marker in ((0, COLORS[0], "o"), (1, COLORS[3], "s")):
        chosen = points.y == label
        ax.scatter(points.x[chosen, 0], points.x[chosen, 1], color=color, marker=marker, label=f"class {label}")
    w1, w2, b = run.state
    span = np.abs(points.x).max() * 1.1
    if abs(w2) > 1e-12:
        line_x = np.array([-span, span])
        ax.plot(line_x, -(w1 * line_x + b) / w2, color="black", label="its line")
    elif abs(w1) > 1e-12:
        ax.axvline(-b / w1, color="black", label="its line")
    ax.set(xlim=(-span, span), ylim=(-span, span), aspect="equal")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)


def plot_training_curves(curves: dict) -> LessonFigure:
    """Batch, stochastic and mini-batch training (train_batch_modes): held-out loss by seconds and by examples."""
    figure, (by_time, by_examples) = new_figure(2, width=10)
    for color, (mode, curve) in zip(COLORS, curves.items()):
        by_time.plot(curve.seconds, curve.loss, color=color, label=f"{mode} (batch {curve.batch_size})")
        by_examples.plot(curve.examples_seen, curve.loss, color=color, label=mode)
    by_time.set(title="held-out loss by training time", xlabel="seconds", ylabel="loss")
    by_examples.set(title="by examples seen", xlabel="examples", xscale="symlog")
    by_time.legend(fontsize=8)
    for ax in (by_time, by_examples):
        ax.grid(alpha=0.3)
    return figure


def plot_optimizer_runs(runs: dict) -> LessonFigure:
    """Optimizers training the same network (race_optimizers): the training loss at every step."""
    figure, (ax,) = new_figure(1, width=6)
    for color, (label, run) in zip(COLORS, runs.items()):
        ax.plot(np.arange(len(run.loss)), run.loss, color=color, linewidth=1.0, label=label)
    ax.set(title="training loss", xlabel="step", ylabel="loss", yscale="log")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return figure


def plot_overfitting(run) -> LessonFigure:
    """Training against test loss and accuracy per epoch; the dotted line is the epoch of the lowest test loss."""
    return plot_overfitting_comparison(run, None)


def plot_overfitting_comparison(run, baseline=None) -> LessonFigure:
    """An overfitting run's training and test loss and accuracy per epoch (the dotted line: its lowest test loss),
    and, dashed, the plain run it is compared with (going_wrong_lab's OverfittingComparison)."""
    figure, (losses, accuracies) = new_figure(2, width=9.2)
    for ax, name, title in ((losses, "loss", "loss"), (accuracies, "accuracy", "accuracy")):
        ax.plot(run.epochs, getattr(run, f"train_{name}"), color=COLORS[0], label="training set")
        ax.plot(run.epochs, getattr(run, f"test_{name}"), color=COLORS[1], label="test set")
        if baseline is not None:
            ax.plot(baseline.epochs, getattr(baseline, f"train_{name}"), color=COLORS[0], linestyle="--",
                    label="training set, plain run")
            ax.plot(baseline.epochs, getattr(baseline, f"test_{name}"), color=COLORS[1], linestyle="--",
                    label="test set, plain run")
        ax.axvline(run.best_epoch, color="grey", linestyle=":", label="lowest test loss")
        ax.set(title=title, xlabel="epoch")
        ax.grid(alpha=0.3)
    losses.legend(fontsize=8)
    return figure


def plot_watched_training(run) -> LessonFigure:
    """A deep network's hidden layers' gradient sizes ‖∂C/∂b‖ per recorded step (log scale), and its loss."""
    figure, (norms, losses) = new_figure(2, width=10)
    shades = [colormaps["viridis"](0.85 * i / max(len(run.names) - 1, 1)) for i in range(len(run.names))]
    for index, (name, color) in enumerate(zip(run.names, shades)):
        values = np.where(run.norms[:, index] > 0, run.norms[:, index], np.nan)
        norms.plot(run.steps, values, color=color, label=name)
    norms.set(title=f"gradient size per hidden layer ({run.kind})", xlabel="step", yscale="log")
    norms.legend(fontsize=8)
    losses.plot(np.arange(len(run.step_loss)), run.step_loss, color=COLORS[0], linewidth=0.8)
    losses.set(title="training loss", xlabel="step")
    for ax in (norms, losses):
        ax.grid(alpha=0.3, which="both")
    return figure


def plot_addition(result) -> LessonFigure:
    """MNIST addition: test sums and test digits (never labelled) read right while it learned."""
    return plot_addition_comparison({"": result})


def plot_addition_comparison(results: dict) -> LessonFigure:
    """MNIST addition runs (label -> AdditionResult; beyond_lab's AdditionComparison gives "with the rule" and
    "without it"): test sums, and test digits (never labelled) where a run reads them, right while it learned."""
    figure, (ax,) = new_figure(1, width=6.4 if len(results) > 1 else 6)
    for index, (label, result) in enumerate(results.items()):
        if not result.curve:
            continue
        steps, sums, digits = (np.array(column, dtype=float) for column in zip(*result.curve))
        style = {"linestyle": ("-", "--", ":")[index % 3]}
        ax.plot(steps, sums, color=COLORS[0], label=" ".join(filter(None, ["test sums right", label])), **style)
        if np.isfinite(digits).any():
            ax.plot(steps, digits, color=COLORS[1],
                    label=" ".join(filter(None, ["test digits right (never labelled)", label])), **style)
    first = next(iter(results.values()))
    ax.set(title=f"learning {first.n_digits}-digit sums from {first.n_train:,} examples", xlabel="step",
           ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def plot_transfer(runs) -> LessonFigure:
    """Transfer learning: the test accuracy of each start (scratch, frozen, fine-tuned) per training step."""
    figure, (ax,) = new_figure(1, width=6)
    for color, run in zip(COLORS, runs):
        steps, accuracies = zip(*run.curve) if run.curve else ((), ())
        budget = "all labels" if run.per_class is None else f"{run.per_class} per class"
        ax.plot(steps, accuracies, color=color, marker=".", label=f"{run.method}, {budget}")
    ax.set(title="test accuracy while training on the new task", xlabel="step", xscale="symlog", ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def plot_batch_modes(modes) -> LessonFigure:
    """Batch, stochastic and mini-batch gradient descent on a two-weight model: each path of weights on the loss's
    contours (the bowl's bottom marked), and the loss over all the data by examples seen."""
    figure, (bowl, losses) = new_figure(2, width=10)
    w1s, w2s, grid = modes.grid()
    bowl.contour(w1s, w2s, grid, levels=np.unique(np.quantile(grid, np.linspace(0, 0.9, 14))), cmap="Greys",
                 linewidths=0.6)
    for color, (mode, path) in zip(COLORS, modes.paths.items()):
        bowl.plot(path.weights[:, 0], path.weights[:, 1], color=color, linewidth=1.0, marker=".", markersize=2,
                  label=f"{mode} (batch {path.batch_size})")
        losses.plot(path.examples_seen, path.loss, color=color, label=mode)
    bowl.plot(*modes.best, marker="*", color="black", markersize=10, linestyle="none", label="least squares")
    bowl.set(title="the walk of the weights", xlabel="w₁", ylabel="w₂")
    bowl.legend(fontsize=8)
    losses.set(title="loss over all the data", xlabel="examples seen", xscale="symlog", yscale="log")
    losses.grid(alpha=0.3, which="both")
    return figure


def plot_sweep(points, varied: str = "hidden units") -> LessonFigure:
    """A capacity or data-size sweep: the final training and test accuracy at each value of what was varied."""
    figure, (ax,) = new_figure(1, width=6)
    values = [point.value for point in points]
    ax.plot(values, [point.run.final["train_accuracy"] for point in points], color=COLORS[0], marker="o",
            label="training set")
    ax.plot(values, [point.run.final["test_accuracy"] for point in points], color=COLORS[1], marker="o",
            label="test set")
    ax.set(title=f"accuracy by {varied}", xlabel=varied, xscale="log", ylim=(-0.02, 1.02))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return figure


def plot_remedies(results) -> LessonFigure:
    """Remedies for overfitting (compare_remedies' list): each run's test accuracy per epoch, and what it won back."""
    figure, (curves, gains) = new_figure(2, width=10)
    for color, result in zip(COLORS, results):
        curves.plot(result.run.epochs, result.run.test_accuracy, color=color, linewidth=1.0, label=result.name)
    curves.set(title="test accuracy", xlabel="epoch")
    curves.grid(alpha=0.3)
    curves.legend(fontsize=8)
    names = [result.name for result in results]
    gains.barh(range(len(names)), [100 * result.gained for result in results],
               color=[COLORS[index % 10] for index in range(len(names))])
    gains.set_yticks(range(len(names)), names)
    gains.axvline(0, color="black", linewidth=0.8)
    gains.set(title="test accuracy won back", xlabel="percentage points")
    gains.invert_yaxis()
    return figure


def plot_reading(reading, class_names=None) -> LessonFigure:
    """What a network made of one picture: its probability for each class, the answer highlighted."""
    figure, (ax,) = new_figure(1, width=5, height=2.8)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(reading.probabilities))]
    colors = [COLORS[3] if index == reading.predicted else COLORS[0] for index in range(len(names))]
    ax.bar(range(len(names)), reading.probabilities, color=colors)
    ax.set_xticks(range(len(names)), names)
    ax.set(title=f"it reads {names[reading.predicted]} ({reading.probabilities[reading.predicted]:.0%})",
           ylabel="probability", ylim=(0, 1))
    return figure


def plot_surface(surface) -> LessonFigure:
    """A racetrack of the optimizer race: its contours, where the race starts and where the minimum is."""
    figure, (ax,) = new_figure(1, width=5, height=4.0)
    xs, ys, values = surface.grid(121)
    # heights span decades (Beale's plateaus, Rosenbrock's walls): shaded by their logarithm above the lowest
    heights = np.log10(values - values.min() + 1e-3)
    ax.contourf(xs, ys, heights, levels=16, cmap="viridis")
    ax.plot(*surface.start, marker="o", color="white", markeredgecolor="black", linestyle="none", label="start")
    ax.plot(*surface.minimum, marker="*", color="white", markeredgecolor="black", markersize=12, linestyle="none",
            label="minimum")
    ax.set(title=surface.title, xlabel="x", ylabel="y")
    ax.legend(fontsize=8)
    return figure


def plot_learning_step(step, max_parameters: int = 3) -> LessonFigure:
    """One learning step, one row per weight matrix (the first `max_parameters`): the weights before, the gradient
    backpropagation found, and the change the optimizer made, each on its own colour scale centred on 0."""
    updates = [update for update in step.updates if update.before.ndim == 2][:max_parameters]
    figure, axes = new_grid(max(len(updates), 1), 3, width=11, height=2.8 * max(len(updates), 1))
    for row, update in zip(axes, updates):
        for ax, (title, values) in zip(row, (("weights before", update.before), ("gradient ∂L/∂W", update.grad),
                                             ("change made", update.change))):
            reach = float(np.abs(values).max()) or 1.0
            image = ax.imshow(values, cmap="RdBu_r", vmin=-reach, vmax=reach, aspect="auto",
                              interpolation="nearest")
            ax.set_title(f"{update.name}: {title}", fontsize=9)
            figure.colorbar(image, ax=ax, shrink=0.8)
    figure.suptitle(f"loss {step.loss_before:.4g} → {step.loss_after:.4g} after one {step.optimizer_name} step "
                    f"(lr {step.lr:g})")
    return figure


def plot_cost_sweep(dimension: str, rows) -> LessonFigure:
    """What a network's width, depth or batch size costs (cost_sweep): examples per second, and the parameters and
    training FLOPs per example, by the value swept."""
    figure, (speed, size) = new_figure(2, width=9.2)
    values = [row.value for row in rows]
    speed.plot(values, [row.speed.examples_per_second for row in rows], color=COLORS[0], marker="o")
    speed.set(title="training speed", xlabel=dimension, ylabel="examples per second", xscale="log", yscale="log")
    size.plot(values, [row.params for row in rows], color=COLORS[1], marker="o", label="parameters")
    size.plot(values, [row.training_flops for row in rows], color=COLORS[2], marker="o",
              label="training FLOPs per example")
    size.set(title="size and work", xlabel=dimension, xscale="log", yscale="log")
    size.legend(fontsize=8)
    for ax in (speed, size):
        ax.grid(alpha=0.3, which="both")
    return figure


def plot_gradient_norms(norms) -> LessonFigure:
    """How fast each hidden layer learns (gradient_flow's GradientNorms): ‖∂C/∂b‖ per layer, first layer first, on
    a log axis, so a gradient that vanishes or explodes on its way back shows as a slope."""
    figure, (ax,) = new_figure(1, width=6, height=3.2)
    sizes = np.where(norms.norms > 0, norms.norms, np.nan)
    ax.bar(range(len(norms.names)), sizes, color=COLORS[0])
    ax.set_xticks(range(len(norms.names)), norms.names, rotation=30, ha="right", fontsize=8)
    ax.set(title=f"gradient size per hidden layer (last/first: {norms.ratio:.3g})", ylabel="‖∂C/∂b‖", yscale="log")
    ax.grid(alpha=0.3, axis="y", which="both")
    return figure

