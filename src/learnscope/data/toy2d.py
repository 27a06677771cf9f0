"""Small 2-D datasets whose decision boundaries can be drawn: (n_samples, 2) points with integer
labels (classification) or float targets of shape (n_samples, 1) (regression).

Every set lives on the same plane so a playground can draw any of them on one canvas: without
noise the points lie inside [-1, 1]² (the spiral, circles, gaussians, plane and sine) or touch its
corners (xor at (±1, ±1), moons out to ±1.2); noise spreads them a little further, to about ±1.5.
Labels are interleaved (0, 1, ..., K-1, 0, 1, ...), so classes are balanced to within one sample.
Split a set into training and test parts with `learnscope.data.splits.train_test_split`.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from learnscope.core.dtype import get_default_dtype
from learnscope.core.rng import make_rng
from learnscope.core.validation import check_array, check_int, check_range

MOON_RADIUS = 0.8          # sklearn's moons (radius 1, x in [-1, 2]) scaled and centred onto [-1.2, 1.2]
GAUSSIAN_RADIUS = 0.8      # class centres sit evenly on a circle of this radius


def make_xor(n_samples: int = 200, noise: float = 0.0, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Points around the four corners (±1, ±1); label 1 where the signs differ (XOR).
    With n_samples=4 and noise=0 it is exactly the truth table on {-1, 1}²."""
    n_samples = check_int(n_samples, "n_samples", "make_xor", minimum=4)
    noise = check_range(noise, "noise", "make_xor", minimum=0)
    rng = make_rng(seed)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float64)
    x = corners[np.arange(n_samples) % 4] + noise * rng.standard_normal((n_samples, 2))
    y = (corners[np.arange(n_samples) % 4, 0] != corners[np.arange(n_samples) % 4, 1]).astype(np.int64)
    return x.astype(get_default_dtype()), y


def make_spiral(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed=None):
    """n_classes interleaved spiral arms (the classic non-linear test, cs231n style); classes balanced."""
    n_classes = check_int(n_classes, "n_classes", "make_spiral", minimum=2, maximum=10)
    n_samples = check_int(n_samples, "n_samples", "make_spiral", minimum=n_classes)
    noise = check_range(noise, "noise", "make_spiral", minimum=0)
    rng = make_rng(seed)
    y = np.arange(n_samples) % n_classes
    radius = np.empty(n_samples)
    for label in range(n_classes):                      # evenly spaced radii along each arm
        members = y == label
        radius[members] = np.linspace(0.05, 1.0, members.sum())
    angle = radius * 4.0 + y * (2 * np.pi / n_classes) + noise * rng.standard_normal(n_samples)
    x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return x.astype(get_default_dtype()), y.astype(np.int64)


def make_circles(n_samples: int = 200, noise: float = 0.1, factor: float = 0.5, seed=None):
    """Two concentric rings: label 0 on the outer ring (radius 1), label 1 on the inner ring (radius
    `factor`); noise is the standard deviation of Gaussian jitter on each coordinate.   -> (N, 2), (N,)"""
    n_samples = check_int(n_samples, "n_samples", "make_circles", minimum=2)
    noise = check_range(noise, "noise", "make_circles", minimum=0)
    factor = check_range(factor, "factor", "make_circles", minimum=0, maximum=1, inclusive=(False, False),
                         fix="factor is the inner radius as a fraction of the outer one, e.g. factor=0.5.")
    rng = make_rng(seed)
    y = np.arange(n_samples) % 2
    radius = np.where(y == 0, 1.0, factor)
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    x += noise * rng.standard_normal((n_samples, 2))
    return x.astype(get_default_dtype()), y.astype(np.int64)


def make_gaussians(n_samples: int = 200, n_classes: int = 2, noise: float = 0.25, seed=None):
    """n_classes round Gaussian blobs whose centres sit evenly on a circle of radius 0.8 (two classes:
    (0.57, 0.57) and (-0.57, -0.57)); noise is each blob's standard deviation, its spread.   -> (N, 2), (N,)"""
    n_classes = check_int(n_classes, "n_classes", "make_gaussians", minimum=2, maximum=10)
    n_samples = check_int(n_samples, "n_samples", "make_gaussians", minimum=n_classes,
                          fix=f"Pass at least one sample per class, e.g. n_samples={100 * n_classes}.")
    noise = check_range(noise, "noise", "make_gaussians", minimum=0)
    rng = make_rng(seed)
    y = np.arange(n_samples) % n_classes
    x = gaussian_centers(n_classes)[y] + noise * rng.standard_normal((n_samples, 2))
    return x.astype(get_default_dtype()), y.astype(np.int64)


def gaussian_centers(n_classes: int) -> np.ndarray:
    """The blob centres make_gaussians uses.   -> (n_classes, 2), float64"""
    angle = np.pi / 4 + 2 * np.pi * np.arange(n_classes) / n_classes   # pi/4: two classes lie on the diagonal
    return GAUSSIAN_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])


def make_moons(n_samples: int = 200, noise: float = 0.1, seed=None):
    """Two interleaving half circles of radius 0.8: label 0 is the upper arc (centre (-0.4, -0.2)),
    label 1 the lower arc (centre (0.4, 0.2)); noise jitters each coordinate.   -> (N, 2), (N,)"""
    n_samples = check_int(n_samples, "n_samples", "make_moons", minimum=2)
    noise = check_range(noise, "noise", "make_moons", minimum=0)
    rng = make_rng(seed)
    y = np.arange(n_samples) % 2
    angle = rng.uniform(0.0, np.pi, n_samples)
    upper = np.column_stack([np.cos(angle), np.sin(angle)])
    lower = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    # NOTE: the raw moons span x in [-1, 2], y in [-0.5, 1]; shift by the middle (0.5, 0.25), then scale
    x = (np.where(y[:, None] == 0, upper, lower) - [0.5, 0.25]) * MOON_RADIUS
    x += noise * rng.standard_normal((n_samples, 2))
    return x.astype(get_default_dtype()), y.astype(np.int64)


def make_regression_plane(n_samples: int = 200, noise: float = 0.05, seed=None, *, weights=(0.6, -0.4)):
    """Points uniform in [-1, 1]², target y = w1·x1 + w2·x2 + noise·ε with ε ~ N(0, 1): a single Dense(2, 1)
    can learn it exactly, and its weights W should approach `weights`.   -> (N, 2), (N, 1)"""
    n_samples = check_int(n_samples, "n_samples", "make_regression_plane", minimum=1)
    noise = check_range(noise, "noise", "make_regression_plane", minimum=0)
    weights = check_array(weights, "weights", "make_regression_plane", ndim=1, dtype=np.float64,
                          hint="Pass two numbers, e.g. weights=(0.6, -0.4).")
    if weights.shape != (2,) or not np.isfinite(weights).all():
        raise ValueError(f"make_regression_plane expected weights to be two finite numbers, got {weights.tolist()}. "
                         "Pass e.g. weights=(0.6, -0.4).")
    rng = make_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, 2))
    y = x @ weights + noise * rng.standard_normal(n_samples)
    dtype = get_default_dtype()
    return x.astype(dtype), y.reshape(-1, 1).astype(dtype)


def make_regression_sine(n_samples: int = 200, noise: float = 0.05, seed=None, *, frequency: float = 1.0):
    """Points uniform in [-1, 1]², target y = sin(π·f·x1)·cos(π·f·x2) + noise·ε with ε ~ N(0, 1): a bumpy
    surface no straight plane fits, so it needs hidden units.   -> (N, 2), (N, 1)"""
    n_samples = check_int(n_samples, "n_samples", "make_regression_sine", minimum=1)
    noise = check_range(noise, "noise", "make_regression_sine", minimum=0)
    frequency = check_range(frequency, "frequency", "make_regression_sine", minimum=0, inclusive=(False, True),
                            fix="frequency counts half-waves per unit, e.g. frequency=1.0.")
    rng = make_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n_samples, 2))
    y = np.sin(np.pi * frequency * x[:, 0]) * np.cos(np.pi * frequency * x[:, 1])
    y = y + noise * rng.standard_normal(n_samples)
    dtype = get_default_dtype()
    return x.astype(dtype), y.reshape(-1, 1).astype(dtype)


@dataclass(frozen=True)
class ToyDataset:
    """One entry of TOY_DATASETS: the function that makes it and whether it is classification or regression."""

    name: str
    make: Callable
    task: str                 # "classification" (y int64 labels, shape (N,)) or "regression" (y float, (N, 1))
    description: str

    @property
    def is_classification(self) -> bool:
        return self.task == "classification"

    @property
    def options(self) -> tuple[str, ...]:
        """Extra keyword arguments of `make` beyond n_samples, noise and seed (e.g. factor, n_classes)."""
        names = inspect.signature(self.make).parameters
        return tuple(name for name in names if name not in ("n_samples", "noise", "seed"))


TOY_DATASETS: dict[str, ToyDataset] = {
    entry.name: entry
    for entry in (
        ToyDataset("xor", make_xor, "classification", "four corners, label 1 where the signs differ"),
        ToyDataset("circles", make_circles, "classification", "a small ring inside a large one"),
        ToyDataset("gaussians", make_gaussians, "classification", "round blobs, one per class"),
        ToyDataset("spiral", make_spiral, "classification", "interleaved spiral arms, one per class"),
        ToyDataset("moons", make_moons, "classification", "two interleaving half circles"),
        ToyDataset("plane", make_regression_plane, "regression", "a tilted plane y = w1·x1 + w2·x2"),
        ToyDataset("sine", make_regression_sine, "regression", "a bumpy surface y = sin(π·x1)·cos(π·x2)"),
    )
}


#: The most points make_toy generates (16 MB of them)
MAX_TOY_SAMPLES = 1_000_000


def make_toy(name: str, n_samples=None, noise=None, seed=None, **options) -> tuple[np.ndarray, np.ndarray]:
    """Make the toy set called `name` (a key of TOY_DATASETS); n_samples=None or noise=None use that
    set's own default; options go to its function (e.g. factor=0.3, n_classes=4).   -> (N, 2), y"""
    if not isinstance(name, str):
        raise TypeError(f"make_toy expected name to be a string, got {type(name).__name__}. Pass e.g. 'moons'.")
    entry = TOY_DATASETS.get(name.strip().lower())
    if entry is None:
        known = ", ".join(repr(key) for key in TOY_DATASETS)
        raise ValueError(f"make_toy expected name to be one of {known}, got {name!r}. Pick one of those names.")
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        accepted = ", ".join(entry.options) or "none besides n_samples, noise and seed"
        raise TypeError(f"make_toy({entry.name!r}) got unknown option(s) {', '.join(unknown)}; "
                        f"{entry.name} accepts: {accepted}. Remove the others.")
    if n_samples is not None:
        # NOTE: the boundary for the CLI's --samples and a model file's data_options: a typo must not eat memory
        options["n_samples"] = check_int(n_samples, "n_samples", f"make_toy({entry.name!r})", minimum=1,
                                         maximum=MAX_TOY_SAMPLES, fix="A toy set of a few thousand points is "
                                         "plenty; pass e.g. --samples 1000.")
    if noise is not None:
        options["noise"] = noise
    return entry.make(seed=seed, **options)
