"""The playground lesson: a small network learns 2-D points, and every part of it can be drawn.

    setup.py    every setting as plain data, and its URL form (PlaygroundSetup, parse_field)
    plane.py    the points on the plane, their features and colours, plane <-> pixel
    session.py  one network being trained step by step, and what it computes as pictures and numbers
    worker.py   the background job that trains a session for one browser tab and publishes snapshots

No UI code here: the lab's page only shows what these return.
"""

from learnscope.lessons.playground.plane import (
    CLASS_COLORS,
    class_color_hex,
    class_colors_from_probabilities,
    class_probabilities,
    feature_map,
    make_points,
    pixel_to_plane,
    plane_grid,
    plane_to_pixel,
    point_colors,
    read_points_csv,
    scale_to_plane,
)
from learnscope.lessons.playground.session import Metrics, PlaygroundSession, build_model, check_weight, map_pictures
from learnscope.lessons.playground.setup import (
    ACTIVATION_CHOICES,
    CLASSIFICATION_SETS,
    CONTROL_LABELS,
    DATASET_CHOICES,
    FEATURE_HELP,
    FEATURE_LABELS,
    LOSS_CHOICES,
    MAX_BATCH_SIZE,
    MAX_CLASSES,
    MAX_HIDDEN_LAYERS,
    MAX_NEURONS,
    MAX_POINTS,
    MAX_STOP_AFTER,
    MAX_WEIGHT,
    MULTI_CLASS_SETS,
    N_SAMPLES,
    OPTIMIZER_CHOICES,
    PLANE_LIMIT,
    REGRESSION_SETS,
    PlaygroundSetup,
    format_hidden,
    parse_field,
)
from learnscope.lessons.playground.worker import PlaygroundWorker, Snapshot

__all__ = [
    "ACTIVATION_CHOICES", "CLASSIFICATION_SETS", "CLASS_COLORS", "CONTROL_LABELS", "DATASET_CHOICES", "FEATURE_HELP",
    "FEATURE_LABELS", "LOSS_CHOICES", "MAX_BATCH_SIZE", "MAX_CLASSES", "MAX_HIDDEN_LAYERS", "MAX_NEURONS",
    "MAX_POINTS", "MAX_STOP_AFTER", "MAX_WEIGHT", "MULTI_CLASS_SETS", "N_SAMPLES", "OPTIMIZER_CHOICES",
    "PLANE_LIMIT", "REGRESSION_SETS", "Metrics", "PlaygroundSession", "PlaygroundSetup", "PlaygroundWorker",
    "Snapshot", "build_model", "check_weight", "class_color_hex", "class_colors_from_probabilities",
    "class_probabilities", "feature_map", "format_hidden", "make_points", "map_pictures", "parse_field",
    "pixel_to_plane", "plane_grid", "plane_to_pixel", "point_colors", "read_points_csv", "scale_to_plane",
]
