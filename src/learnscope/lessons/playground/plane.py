"""The playground's plane: its points, their features and colours, and pixels of its pictures.

The input plane is the square [-PLANE_LIMIT, PLANE_LIMIT]² that every toy set of learnscope.data.toy2d
lives in; picture row 0 is its top (x₂ = +PLANE_LIMIT), column 0 its left edge (x₁ = −PLANE_LIMIT).
"""

from pathlib import Path

import numpy as np

from learnscope.core import functions
from learnscope.core.dtype import get_default_dtype
from learnscope.data.table import load_csv
from learnscope.data.toy2d import make_toy
from learnscope.lessons.pictures import NEGATIVE, POSITIVE, diverging_colors, hex_color
from learnscope.lessons.playground.setup import (
    MAX_CLASSES,
    MAX_POINTS,
    MULTI_CLASS_SETS,
    N_SAMPLES,
    PLANE_LIMIT,
    PlaygroundSetup,
)

#: class k is drawn in CLASS_COLORS[k]; classes 0 and 1 are the playground's blue and orange
CLASS_COLORS = np.array([NEGATIVE, POSITIVE, [44, 160, 44], [214, 39, 40], [148, 103, 189]], dtype=np.float32)


def class_color_hex(label: int) -> str:
    """'#rrggbb' of class `label` (points and legend use the same colour as the boundary)."""
    return hex_color(CLASS_COLORS[label % len(CLASS_COLORS)])


def point_colors(labels, regression: bool) -> list[str]:
    """'#rrggbb' per point: its class colour, or for regression its value on the diverging scale (orange +,
    blue −) scaled to the largest |value| among these points."""
    labels = np.asarray(labels)
    if not regression:
        return [class_color_hex(int(label)) for label in labels]
    limit = max(1e-6, float(np.abs(labels).max())) if labels.size else 1.0
    return [hex_color(rgb) for rgb in diverging_colors(labels, limit=limit)]


# ---- features and data ------------------------------------------------------------------------


def feature_map(points, features) -> np.ndarray:
    """(N, 2) points (x₁, x₂) -> (N, F) float32 inputs, one column per feature key in `features`, in order."""
    points = np.asarray(points, dtype=np.float64)
    x1, x2 = points[:, 0], points[:, 1]
    columns = {
        "x1": lambda: x1, "x2": lambda: x2, "x1sq": lambda: x1 * x1, "x2sq": lambda: x2 * x2,
        "x1x2": lambda: x1 * x2, "sin1": lambda: np.sin(np.pi * x1), "sin2": lambda: np.sin(np.pi * x2),
    }
    unknown = [name for name in features if name not in columns]
    if unknown:
        raise ValueError(f"feature_map got unknown feature(s) {unknown}; known: {', '.join(columns)}.")
    return np.column_stack([columns[name]() for name in features]).astype(get_default_dtype())


def make_points(setup: PlaygroundSetup) -> tuple[np.ndarray, np.ndarray]:
    """The setup's data set: (N_SAMPLES, 2) float32 points and int64 labels (N,) or float32 targets (N, 1)."""
    options = {"n_classes": setup.n_classes} if setup.dataset in MULTI_CLASS_SETS else {}
    return make_toy(setup.dataset, n_samples=N_SAMPLES, noise=setup.noise, seed=setup.seed, **options)


def plane_grid(resolution: int) -> np.ndarray:
    """(resolution², 2) centres of a resolution × resolution grid over the plane, row by row from the top."""
    step = 2 * PLANE_LIMIT / resolution
    centres = -PLANE_LIMIT + step * (np.arange(resolution) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


def plane_to_pixel(points, size: float) -> np.ndarray:
    """(N, 2) plane points -> (N, 2) pixel positions (x right, y down) in a size × size picture of the plane."""
    points = np.asarray(points, dtype=np.float64)
    scale = size / (2 * PLANE_LIMIT)
    return np.column_stack([(points[:, 0] + PLANE_LIMIT) * scale, (PLANE_LIMIT - points[:, 1]) * scale])


def pixel_to_plane(x: float, y: float, size: float) -> tuple[float, float]:
    """A pixel (x right, y down) of a size × size picture of the plane -> the plane point (x₁, x₂) under it."""
    scale = 2 * PLANE_LIMIT / size
    return x * scale - PLANE_LIMIT, PLANE_LIMIT - y * scale


def class_colors_from_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """(N, K) class probabilities -> (N, 3) uint8: the likeliest class's colour, paler the less sure the
    network is (white where all K classes are equally likely). For K = 2 this is the familiar blue–orange."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n_classes = probabilities.shape[1]
    winner = probabilities.argmax(axis=1)
    confidence = (probabilities.max(axis=1) - 1 / n_classes) / (1 - 1 / n_classes)     # 0 unsure .. 1 certain
    white = np.full(3, 255.0)
    colors = white + confidence[:, None] * (CLASS_COLORS[winner % len(CLASS_COLORS)] - white)
    return np.rint(np.clip(colors, 0, 255)).astype(np.uint8)


def class_probabilities(scores: np.ndarray, softmax: bool = True) -> np.ndarray:
    """(N, K) class scores -> (N, K) probabilities: softmax of logits (cross-entropy), or for mse-trained
    one-hot scores the scores clipped to [0, 1] and normalised (uniform where all are ≤ 0)."""
    scores = np.asarray(scores, dtype=np.float64)
    if softmax:
        return functions.softmax(scores)
    clipped = np.clip(scores, 0.0, 1.0)
    total = clipped.sum(axis=1, keepdims=True)
    uniform = np.full_like(clipped, 1.0 / scores.shape[1])
    return np.where(total > 0, clipped / np.where(total > 0, total, 1.0), uniform)


def scale_to_plane(x: np.ndarray, margin: float = 0.2) -> np.ndarray:
    """(N, 2) raw points -> the same points moved and scaled (each axis on its own) to fill
    [-(PLANE_LIMIT - margin), PLANE_LIMIT - margin]; a constant column lands on 0."""
    x = np.asarray(x, dtype=np.float64)
    low, high = x.min(axis=0), x.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    reach = PLANE_LIMIT - margin
    scaled = (x - low) / span * 2 * reach - reach
    scaled[:, high <= low] = 0.0
    return scaled.astype(get_default_dtype())


def read_points_csv(path, regression: bool = False) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A CSV of two feature columns and a label (last column) -> (N, 2) points scaled onto the plane,
    labels (N,) int64 (or targets (N, 1) float32 with regression=True) and the class names.
    Every problem is a ValueError from learnscope.data.table.load_csv or about the playground's limits."""
    table = load_csv(path, label=-1, standardize=False, test_fraction=0.0,
                     task="regression" if regression else "classification")
    name = Path(path).name
    if table.n_features != 2:
        raise ValueError(f"{name} has {table.n_features} feature column(s) besides the label; the playground "
                         "draws points on a plane, so it needs exactly 2 (x1, x2, then the label). "
                         "Keep two feature columns and the label column.")
    if len(table.x_train) > MAX_POINTS:
        raise ValueError(f"{name} has {len(table.x_train)} rows; the playground takes at most {MAX_POINTS}. "
                         "Keep a sample of the rows.")
    if not regression and table.n_classes > MAX_CLASSES:
        raise ValueError(f"{name} has {table.n_classes} classes in its last column; the playground colours at most "
                         f"{MAX_CLASSES}. Merge classes, or pick a regression set first if the label is a measured "
                         "number.")
    return scale_to_plane(table.x_train), table.y_train, table.class_names


