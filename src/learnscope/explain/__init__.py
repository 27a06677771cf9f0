"""Looking inside a trained model: its loss landscape (and, to come, attributions and features)."""

from learnscope.explain.landscape import (
    Landscape,
    TrainingPath,
    TrajectoryPlane,
    WeightSnapshots,
    describe_landscape,
    describe_trajectory,
    filter_normalized_direction,
    loss_landscape,
    training_path_landscape,
    trajectory_plane,
)

__all__ = [
    "Landscape",
    "TrainingPath",
    "TrajectoryPlane",
    "WeightSnapshots",
    "describe_landscape",
    "describe_trajectory",
    "filter_normalized_direction",
    "loss_landscape",
    "training_path_landscape",
    "trajectory_plane",
]
