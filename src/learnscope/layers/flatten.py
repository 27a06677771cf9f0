"""Flatten: the bridge from image-shaped feature maps to Dense layers, which want one row per example."""

import math

from learnscope.layers.base import Layer


class Flatten(Layer):
    """Unroll each example into one row: y = x.reshape(N, -1);  dL/dx = dL/dy reshaped back.
    (N, d1, d2, ...) -> (N, d1·d2·...)"""

    def __init__(self, dtype=None):
        super().__init__(dtype)
        self._input_shape = None

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=None)
        if x.ndim < 2:
            raise ValueError(
                f"Flatten expected x of shape (N, ...) with a batch axis first, got {x.shape}. "
                "Pass a batch: x[None] turns one example into a batch of one."
            )
        self._input_shape = x.shape                     # backward restores this shape
        # NOTE: an explicit row length, not -1: reshape(0, -1) is ambiguous for an empty batch
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._input_shape)
        return grad_out.reshape(self._input_shape)     # nothing is computed, values only move

    def output_shape(self, input_shape):
        return (math.prod(input_shape),)
