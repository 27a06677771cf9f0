"""Flatten: the bridge from image-shaped feature maps to Dense layers, which want one row per example."""

import math

import numpy as np

from learnscope.layers.base import Layer


class Flatten(Layer):
    """Unroll each example into one row: y = x.reshape(N, -1);  dL/dx = dL/dy reshaped back.
    (N, d1, d2, ...) -> (N, d1·d2·...)"""

    def __init__(self, dtype=None):
        super().__init__(dtype)
        self._input = None

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=None)
        if x.ndim < 2:
            raise ValueError(
                f"Flatten expected x of shape (N, ...) with a batch axis first, got {x.shape}. "
                "Pass a batch: x[None] turns one example into a batch of one."
            )
        self._input = x                                 # backward restores its shape and memory layout
        # NOTE: an explicit row length, not -1: reshape(0, -1) is ambiguous for an empty batch
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._input)
        if self._input.flags.c_contiguous:
            return grad_out.reshape(self._input.shape)  # nothing is computed, values only move
        # NOTE: x was a view in another memory order (a conv's channels-last output): the gradient goes back in
        # that same order, so the layer before walks its gradient and its own arrays side by side
        grad_in = np.empty_like(self._input, dtype=grad_out.dtype)
        grad_in[...] = grad_out.reshape(self._input.shape)
        return grad_in

    def output_shape(self, input_shape):
        return (math.prod(input_shape),)
