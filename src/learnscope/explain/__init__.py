"""Looking inside a trained model: attributions (which inputs a class score rests on) and their sanity checks,
what the hidden layers compute and how they arrange the examples, and the model's loss landscape."""

from learnscope.explain.attributions import (
    IntegratedGradients,
    baseline_input,
    gradient_times_input,
    integrated_gradients,
    occlusion_map,
    saliency_map,
)
from learnscope.explain.embeddings import embed
from learnscope.explain.features import (
    TopExamples,
    conv_filters,
    layer_outputs,
    layer_representation,
    top_activating,
)
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
from learnscope.explain.sanity import SanityStep, cascading_randomization, randomized_from_top, rank_correlation

__all__ = [
    "IntegratedGradients",
    "Landscape",
    "SanityStep",
    "TopExamples",
    "TrainingPath",
    "TrajectoryPlane",
    "WeightSnapshots",
    "baseline_input",
    "cascading_randomization",
    "conv_filters",
    "describe_landscape",
    "describe_trajectory",
    "embed",
    "filter_normalized_direction",
    "gradient_times_input",
    "integrated_gradients",
    "layer_outputs",
    "layer_representation",
    "loss_landscape",
    "occlusion_map",
    "randomized_from_top",
    "rank_correlation",
    "saliency_map",
    "top_activating",
    "training_path_landscape",
    "trajectory_plane",
]
