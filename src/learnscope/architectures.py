"""Ready-made networks: an MLP and a small CNN for any image or feature shape, built from the
same layers a learner can assemble by hand. The CLI, the lab and notebooks all build models here."""

import math

import numpy as np

from learnscope.core.validation import check_choice, check_int, check_range, describe
from learnscope.layers import (
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    ReLU,
    Standardize,
)
from learnscope.layers.activations import ACTIVATIONS
from learnscope.model import Sequential

#: Their names on pages and in reports
ACTIVATION_LABELS = {"relu": "ReLU", "leaky_relu": "Leaky ReLU", "tanh": "tanh", "sigmoid": "sigmoid",
                     "linear": "linear (none)"}
#: The initializer each activation wants: He for the ReLU family, Glorot for the saturating ones.
INIT_FOR = {"relu": "he_normal", "leaky_relu": "he_normal", "tanh": "xavier_uniform", "sigmoid": "xavier_uniform",
            "linear": "xavier_uniform"}


def build_mlp(input_shape, n_classes: int, hidden=(256, 128), activation: str = "relu", dropout: float = 0.0,
              batch_norm: bool = False, input_stats=None, seed=None) -> Sequential:
    """(Standardize) → Flatten → [Dense → (BatchNorm) → activation → (Dropout)] per hidden layer →
    Dense(n_classes).   (N, *input_shape) -> (N, n_classes) logits. input_stats: (mean, std) of the inputs."""
    n_inputs = _n_inputs(input_shape)
    hidden = _check_hidden(hidden)
    n_classes = check_int(n_classes, "n_classes", "build_mlp", minimum=1)
    activation = check_choice(activation, "activation", "build_mlp", tuple(ACTIVATIONS))
    dropout = check_range(dropout, "dropout", "build_mlp", minimum=0, maximum=1, inclusive=(True, False),
                          fix="Use 0 for none or e.g. 0.2.")
    layers = _input_layers(input_stats)
    if len(tuple(input_shape)) > 1:
        layers.append(Flatten())
    width = n_inputs
    for units in hidden:
        layers.append(Dense(width, units, init=INIT_FOR[activation]))
        if batch_norm:
            layers.append(BatchNorm(units))
        layers.append(ACTIVATIONS[activation]())
        if dropout:
            layers.append(Dropout(dropout))
        width = units
    layers.append(Dense(width, n_classes, init=INIT_FOR[activation]))
    return Sequential(layers, seed=seed)


def build_cnn(input_shape, n_classes: int, channels=(16, 32), kernel_size: int = 5, dense: int = 128,
              dropout: float = 0.0, batch_norm: bool = False, input_stats=None, seed=None) -> Sequential:
    """(Standardize) → [Conv k×k → (BatchNorm) → ReLU → MaxPool 2×2] per entry of `channels` → Flatten →
    Dense(dense) → ReLU → (Dropout) → Dense(n_classes).   (N, C, H, W) -> (N, n_classes) logits
    The default is LeNet-like: two 5×5 convolutions without padding, 28×28 → 24 → 12 → 8 → 4."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"build_cnn expected an image shape (channels, height, width), got {input_shape}. "
                         "A CNN needs images; use build_mlp for feature tables.")
    n_channels, height, width = (check_int(v, "input_shape", "build_cnn", minimum=1) for v in input_shape)
    channels = _check_hidden(channels, name="channels")
    kernel_size = check_int(kernel_size, "kernel_size", "build_cnn", minimum=1, maximum=15)
    dense = check_int(dense, "dense", "build_cnn", minimum=1)
    layers = _input_layers(input_stats)
    for out_channels in channels:
        height, width = (height - kernel_size + 1) // 2, (width - kernel_size + 1) // 2
        if min(height, width) < 1:
            raise ValueError(f"build_cnn: {len(channels)} stages of {kernel_size}×{kernel_size} convolution and "
                             f"2×2 pooling shrink {input_shape[1]}×{input_shape[2]} images below one pixel. "
                             "Use fewer stages, a smaller kernel_size or larger images.")
        layers.append(Conv2D(n_channels, out_channels, kernel_size))
        if batch_norm:
            layers.append(BatchNorm(out_channels))
        layers += [ReLU(), MaxPool2D(2)]
        n_channels = out_channels
    layers += [Flatten(), Dense(n_channels * height * width, dense, init="he_normal"), ReLU()]
    if dropout:
        layers.append(Dropout(check_range(dropout, "dropout", "build_cnn", minimum=0, maximum=1,
                                          inclusive=(True, False))))
    layers.append(Dense(dense, check_int(n_classes, "n_classes", "build_cnn", minimum=1), init="he_normal"))
    return Sequential(layers, seed=seed)


def input_statistics(x, n_samples: int = 2_000) -> tuple[float, float]:
    """(mean, std) of the inputs from the first n_samples examples: 1.5 million MNIST pixels pin both
    to three digits, and a float64 temporary of all 47 million would cost 380 MB."""
    sample = x[:n_samples]
    return float(np.mean(sample, dtype=np.float64)), float(np.std(sample, dtype=np.float64)) or 1.0


def _input_layers(input_stats) -> list:
    if input_stats is None:
        return []
    mean, std = input_stats
    return [Standardize(mean, std)]


def _n_inputs(input_shape) -> int:
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise TypeError(f"expected input_shape as a tuple such as (1, 28, 28) or (2,), got {describe(input_shape)}.")
    return math.prod(check_int(v, "input_shape", "build_mlp", minimum=1) for v in input_shape)


def _check_hidden(sizes, name="hidden") -> tuple[int, ...]:
    if isinstance(sizes, int):
        sizes = (sizes,)
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(f"expected {name} as a list of layer sizes such as (256, 128), got {describe(sizes)}.")
    return tuple(check_int(size, name, "architecture", minimum=1, maximum=100_000) for size in sizes)
