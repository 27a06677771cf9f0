"""Building blocks. Each file pairs a forward formula with its derivative."""

from learnscope.layers.activations import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from learnscope.layers.base import Layer
from learnscope.layers.batchnorm import BatchNorm
from learnscope.layers.conv import Conv2D
from learnscope.layers.dense import Dense
from learnscope.layers.digit_sum import DigitSum
from learnscope.layers.dropout import Dropout
from learnscope.layers.flatten import Flatten, Unstack
from learnscope.layers.perceptron import Perceptron, Step
from learnscope.layers.pool import AvgPool2D, MaxPool2D
from learnscope.layers.residual import Residual
from learnscope.layers.standardize import Standardize

__all__ = [
    "AvgPool2D",
    "BatchNorm",
    "Conv2D",
    "Dense",
    "DigitSum",
    "Dropout",
    "Flatten",
    "Identity",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "Perceptron",
    "ReLU",
    "Residual",
    "Sigmoid",
    "Softmax",
    "Standardize",
    "Step",
    "Tanh",
    "Unstack",
]

#: Every layer type by class name: how model files name the layers they hold.
LAYER_TYPES = {name: globals()[name] for name in __all__ if name != "Layer"}
