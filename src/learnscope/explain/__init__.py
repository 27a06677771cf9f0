"""Looking inside a trained model: its loss landscape (and, to come, attributions and features)."""

from learnscope.explain.landscape import Landscape, filter_normalized_direction, loss_landscape

__all__ = ["Landscape", "filter_normalized_direction", "loss_landscape"]
