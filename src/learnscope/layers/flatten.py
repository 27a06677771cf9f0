"""Reshapes that compute nothing: Flatten, the bridge from image-shaped feature maps to Dense layers (one row per
example), and Unstack, which lets one network read several images per example."""

import math

import numpy as np

from learnscope.core.validation import check_int
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


class Unstack(Layer):
    """Several images per example, read one at a time: y = x.reshape(N·k, ...);  dL/dx = dL/dy reshaped back.
    (N, k, ...) -> (N·k, ...). The layers after it see each image as an example of its own, so one network with one
    set of weights reads all k (MNIST addition reads both digits of a pair with the same digit classifier)."""

    def __init__(self, n_images: int = 2, dtype=None):
        super().__init__(dtype)
        self.n_images = check_int(n_images, "n_images", "Unstack", minimum=1, maximum=64)
        self._shape = None

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=None)
        if x.ndim < 3 or x.shape[1] != self.n_images:
            raise ValueError(f"Unstack expected x of shape (N, {self.n_images}, ...): {self.n_images} images per "
                             f"example, got {x.shape}. Stack each example's images on axis 1.")
        self._shape = x.shape
        return x.reshape(x.shape[0] * self.n_images, *x.shape[2:])

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._shape)
        return grad_out.reshape(self._shape) if need_input_grad else None

    def output_shape(self, input_shape):
        return tuple(input_shape[1:])                   # one image's shape: the layers after it see images

    def config(self):
        return {"n_images": self.n_images}
