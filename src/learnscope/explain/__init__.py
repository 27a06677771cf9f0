"""Looking inside a trained model: its loss landscape (and, to come, attributions and features)."""

from learnscope.explain.landscape import (
    Landscape,
    TrajectoryPlane,
    WeightSnapshots,
    describe_landscape,
    filter_normalized_direction,
    loss_landscape,
    trajectory_plane,
)

__all__ = ["Landscape", "TrajectoryPlane", "WeightSnapshots", "describe_landscape", "filter_normalized_direction",
           "loss_landscape", "trajectory_plane"]
