"""Looking inside a trained model: its loss landscape (and, to come, attributions and features)."""

from learnscope.explain.landscape import Landscape, describe_landscape, filter_normalized_direction, loss_landscape

__all__ = ["Landscape", "describe_landscape", "filter_normalized_direction", "loss_landscape"]
