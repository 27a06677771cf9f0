"""The loss landscape of your own model: its loss on a fixed set of examples, walked along two directions
through weight space around where training left it (Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the
Loss Landscape of Neural Nets", NeurIPS).

A model has far too many weights to draw its loss, so we draw a slice: pick two random directions d₁, d₂ in
weight space and plot L(θ + α·d₁ + β·d₂) over a grid of (α, β), θ the trained weights at the centre.

NOTE: a random direction has to be scaled to the weights it moves, or the picture lies. A network's output does
not change when one filter's weights are all doubled and the next layer's halved (with ReLU), so raw directions
make a net with large weights look flat and one with small weights look sharp. Filter normalisation rescales the
direction, filter by filter (per output unit of a Dense layer), to the norm of that filter's own weights; biases
and batch-norm parameters get no direction at all, as in the paper.

    landscape = loss_landscape(model, SoftmaxCrossEntropy(), x[:2000], y[:2000], steps=21)
    landscape.surface      # (steps, steps): rows along β (d₂), columns along α (d₁)
    landscape.line         # the 1-D slice along d₁ through the centre
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_hyperparameter, check_int
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.train.callbacks import Callback
from learnscope.train.recipe import train_recipe

DIRECTION_KINDS = ("filter",)


@dataclass
class Landscape:
    """The loss over an (α, β) grid around the model's weights, and the directions it walked."""

    coordinates: np.ndarray            # (steps,): the α (and β) values, from −span to +span
    surface: np.ndarray                # (steps, steps): surface[i, j] at α = coordinates[j], β = coordinates[i]
    directions: tuple[dict, dict]      # d₁, d₂: name -> array, like the model's named_params

    @property
    def center(self) -> float:
        """The loss at the model's own weights (α = β = 0)."""
        middle = len(self.coordinates) // 2
        return float(self.surface[middle, middle])

    @property
    def line(self) -> np.ndarray:
        """The 1-D slice along d₁ (β = 0)."""
        return self.surface[len(self.coordinates) // 2]

    def plot(self):
        """The loss over the plane as contours, and the slice β = 0 (a matplotlib figure)."""
        from learnscope.explain.plots import plot_landscape

        return plot_landscape(self)


def describe_landscape(landscape: Landscape) -> str:
    """What the slice shows, in numbers: the loss at the model's weights, how much it rises half a filter norm and
    a whole one away (averaged over the four directions along the axes), and whether the centre is the lowest point."""
    middle, coordinates = len(landscape.coordinates) // 2, landscape.coordinates
    surface, centre = landscape.surface, landscape.center
    half = int(np.argmin(np.abs(coordinates - coordinates[-1] / 2)))
    mirrored = len(coordinates) - 1 - half
    near = np.mean([surface[middle, half], surface[middle, mirrored], surface[half, middle], surface[mirrored, middle]])
    far = np.mean([surface[middle, 0], surface[middle, -1], surface[0, middle], surface[-1, middle]])
    lowest = "the lowest point of the slice" if centre <= surface.min() + 1e-12 else (
        f"not the lowest point of the slice (that is {surface.min():.3f}): training had not settled")
    return (f"At the model's own weights the loss is {centre:.3f}, {lowest}. Half a filter norm away it rises to "
            f"{near:.3f} on average, a whole one away to {far:.3f}: the steeper that rise, the sharper the minimum, "
            "and a sharp minimum tends to generalise worse than a flat one.")


def filter_normalized_direction(model, seed=0) -> dict[str, np.ndarray]:
    """A random direction in the model's weight space, one array per parameter (named as in named_params):
    Gaussian, then each filter of a Conv2D's W (F, C, kh, kw) and each output unit's column of a Dense W
    (n_in, n_out) rescaled to that filter's or unit's weight norm. Every other parameter (biases, batch
    norm's γ and β) gets zeros: the slice moves only the weights that carry the features."""
    rng = make_rng(seed)
    direction = {}
    for name, param, _ in model.named_params():
        if not name.endswith(".W"):
            direction[name] = np.zeros_like(param, dtype=np.float64)
            continue
        random = rng.standard_normal(param.shape)
        # the axes one filter spans: all but the first for a conv's (F, C, kh, kw), the rows for a Dense's (in, out)
        axes = tuple(range(1, param.ndim)) if param.ndim > 2 else (0,)
        weight_norms = np.sqrt(np.sum(param.astype(np.float64) ** 2, axis=axes, keepdims=True))
        random_norms = np.sqrt(np.sum(random**2, axis=axes, keepdims=True))
        direction[name] = random * weight_norms / np.maximum(random_norms, 1e-12)
    return direction


def loss_landscape(model, loss, x, y, directions="filter", steps: int = 21, span: float = 1.0, seed=0,
                   progress: Callable[[int, int], None] | None = None) -> Landscape:
    """The loss of `model` on (x, y) over a steps × steps grid of θ + α·d₁ + β·d₂, α and β from −span to span.
    directions: "filter" (two filter-normalised random directions, seeds `seed` and `seed + 1`) or a pair of
    dicts name -> array. The model is evaluated in eval mode and its weights are restored exactly afterwards.
    progress(done, total) is called after each row, for a page that shows how far it got."""
    steps = check_int(steps, "steps", "loss_landscape", minimum=3, maximum=101)
    span = check_hyperparameter(span, "span", "loss_landscape", minimum=0, maximum=100, inclusive=(False, True),
                                fix="Use a span such as 1.0 (one filter norm each way).")
    first, second = _directions(model, directions, seed)
    params = {name: param for name, param, _ in model.named_params()}
    saved = {name: param.copy() for name, param in params.items()}
    coordinates = np.linspace(-span, span, steps)
    surface = np.empty((steps, steps))
    try:
        for i, beta in enumerate(coordinates):
            for j, alpha in enumerate(coordinates):
                for name, param in params.items():
                    np.copyto(param, saved[name] + alpha * first[name] + beta * second[name], casting="same_kind")
                surface[i, j] = loss.forward(model.predict(x), y)
            if progress is not None:
                progress(i + 1, steps)
    finally:
        for name, param in params.items():
            np.copyto(param, saved[name])
    return Landscape(coordinates, surface, (first, second))


def _directions(model, directions, seed) -> tuple[dict, dict]:
    if isinstance(directions, str):
        if directions not in DIRECTION_KINDS:
            raise ValueError(f"loss_landscape expected directions to be one of {DIRECTION_KINDS} or a pair of dicts, "
                             f"got {directions!r}. Use directions='filter'.")
        return filter_normalized_direction(model, seed), filter_normalized_direction(model, seed + 1)
    try:
        first, second = directions
    except (TypeError, ValueError) as error:
        raise ValueError("loss_landscape expected directions='filter' or a pair (d1, d2) of dicts name -> array, "
                         f"got {type(directions).__name__}. Build them with filter_normalized_direction.") from error
    for direction in (first, second):
        for name, param, _ in model.named_params():
            if name not in direction or np.shape(direction[name]) != param.shape:
                raise ValueError(f"loss_landscape expected each direction to hold {name!r} with shape {param.shape}, "
                                 f"got {np.shape(direction.get(name))}. Build them with filter_normalized_direction.")
    return first, second


# -- the training path on its own plane ----------------------------------------------------------------------------
@dataclass
class TrajectoryPlane:
    """The plane a training run moved in most (Li et al. 2018, section 7): the two principal directions of the
    weights' path towards where it ended, how much of the path each explains, and the path in that plane."""

    directions: tuple[dict, dict]      # unit-norm directions over all the weights, name -> array
    explained: tuple[float, float]     # the share of the path's variance along each
    path: np.ndarray                   # (snapshots, 2): each snapshot's coordinates, the final weights at (0, 0)

    def plot(self):
        """The path in the plane, ending at the final weights (a matplotlib figure)."""
        from learnscope.explain.plots import plot_trajectory_plane

        return plot_trajectory_plane(self)


class WeightSnapshots(Callback):
    """Copies every parameter every `every` steps of fit(), for trajectory_plane (kept in memory: a small model's
    run gives a few dozen snapshots of its weights)."""

    def __init__(self, every: int = 20):
        self.every = check_int(every, "every", "WeightSnapshots", minimum=1)
        self.snapshots: list[dict[str, np.ndarray]] = []

    def on_train_begin(self, trainer):
        self.snapshots = [self._copy()]                         # the start of the path

    def on_batch_end(self, step, logs):
        if (step + 1) % self.every == 0:
            self.snapshots.append(self._copy())

    def _copy(self) -> dict[str, np.ndarray]:
        return {name: param.astype(np.float64) for name, param, _ in self.trainer.model.named_params()}


def trajectory_plane(snapshots: list[dict], final: dict) -> TrajectoryPlane:
    """PCA of the path: each snapshot minus the final weights, flattened into one row; the top two right singular
    vectors are the directions (unit norm over all the weights), the path its rows projected on them."""
    if len(snapshots) < 3:
        raise ValueError(f"trajectory_plane expected at least 3 snapshots of the weights, got {len(snapshots)}. "
                         "Take them more often (WeightSnapshots(every=...)) or train longer.")
    names = list(final)
    end = np.concatenate([np.asarray(final[name], dtype=np.float64).reshape(-1) for name in names])
    rows = np.stack([np.concatenate([np.asarray(s[name], dtype=np.float64).reshape(-1) for name in names]) - end
                     for s in snapshots])
    _, singular, components = np.linalg.svd(rows, full_matrices=False)
    variance = singular**2
    explained = tuple(float(v) for v in variance[:2] / variance.sum())
    directions = []
    for component in components[:2]:
        direction, start = {}, 0
        for name in names:
            size = np.asarray(final[name]).size
            direction[name] = component[start:start + size].reshape(np.shape(final[name]))
            start += size
        directions.append(direction)
    return TrajectoryPlane((directions[0], directions[1]), explained, rows @ components[:2].T)


def describe_trajectory(plane: TrajectoryPlane) -> str:
    """How flat the path was (the share of its movement the drawn plane holds) and how fast it closed in: the
    distance from the end at the start, and the share of it covered in the first quarter of the snapshots."""
    first, second = plane.explained
    distances = np.hypot(plane.path[:, 0], plane.path[:, 1])
    early = 1 - distances[len(distances) // 4] / distances[0] if distances[0] > 0 else 0.0
    story = "nearly the whole story" if first + second >= 0.8 else "only part of the story"
    return (f"The training path lies {first:.0%} along the first direction and {second:.0%} along the second: the "
            f"plane holds {first + second:.0%} of how the weights moved, so the path drawn is {story}. It started "
            f"{distances[0]:.3g} from where it ended (in weight-space distance, within this plane) and covered "
            f"{early:.0%} of that in the first quarter of training.")


@dataclass
class TrainingPath:
    """A quick MNIST model trained while its weights were photographed, its path's plane, and the loss over it."""

    plane: TrajectoryPlane
    landscape: Landscape
    test_accuracy: float

    def plot(self):
        """The path drawn on the loss over its plane (a matplotlib figure)."""
        from learnscope.explain.plots import plot_training_path

        return plot_training_path(self)


def training_path_landscape(data, recipe, *, every: int = 20, examples: int = 2000, steps: int = 21,
                            progress=None) -> TrainingPath:
    """Train `recipe` on `data` with WeightSnapshots, find the plane of its path (trajectory_plane) and draw the loss
    over that plane on `examples` test images, wide enough to hold the whole path. progress(fraction) follows the
    landscape's rows."""
    snapshots = WeightSnapshots(every)
    trained = train_recipe(data, recipe, callbacks=[snapshots])
    final = {name: param.astype(np.float64) for name, param, _ in trained.model.named_params()}
    plane = trajectory_plane(snapshots.snapshots, final)
    span = 1.15 * float(np.abs(plane.path).max())
    landscape = loss_landscape(trained.model, SoftmaxCrossEntropy(), data.x_test[:examples], data.y_test[:examples],
                               directions=plane.directions, steps=steps, span=span,
                               progress=None if progress is None else (lambda done, total: progress(done / total)))
    return TrainingPath(plane, landscape, float(trained.evaluation.accuracy))
