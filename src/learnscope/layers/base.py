"""The layer protocol every building block follows.

A layer is two formulas side by side: `forward` computes the output from the input, `backward`
receives d(loss)/d(output) and returns d(loss)/d(input), filling `grads` along the way.
"""

import math
from typing import NamedTuple

import numpy as np

from learnscope.core.dtype import resolve_dtype
from learnscope.core.validation import check_array


class Flops(NamedTuple):
    """Floating-point operations a layer spends on one example: its forward pass, and its backward pass split
    into the parameter gradients and the input gradient (which the first layer skips in training).
    A multiply-add counts 2, as in every GEMM benchmark; element-wise steps count one per operation written."""

    forward: int
    param_grads: int
    input_grad: int

    @property
    def backward(self) -> int:
        return self.param_grads + self.input_grad


class Layer:
    """Base class: `params` and `grads` share keys and are updated in place; `buffers` hold
    non-trained state that must be saved with the model (batch norm's running statistics)."""

    #: False for units without a derivative (the perceptron's step); the model refuses backward.
    differentiable = True
    #: the fewest examples a training batch may hold (batch norm needs 2: one example has no spread)
    min_batch_size = 1
    #: True: training leaves this layer as it is (Sequential.freeze): the optimizer skips its params and it runs
    #: in eval mode, so batch norm's running statistics stay put too
    frozen = False

    def __init__(self, dtype=None):
        self.dtype = resolve_dtype(dtype)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    # -- the two formulas --------------------------------------------------------------------
    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """d(loss)/d(input). `need_input_grad=False` lets the first layer skip that product when
        only the weight gradients are wanted (training); saliency maps ask for it."""
        raise NotImplementedError

    # -- shapes and description ----------------------------------------------------------------
    def output_shape(self, input_shape: tuple) -> tuple:
        """Shape of one example's output given one example's input shape (no batch axis)."""
        return input_shape

    def flops(self, input_shape: tuple) -> Flops:
        """Operations for one example of `input_shape` (no batch axis). Reshaping layers compute nothing."""
        return Flops(0, 0, 0)

    def config(self) -> dict:
        """Constructor arguments, enough to rebuild the layer (saved as JSON in model files)."""
        return {}

    @classmethod
    def tensor_shapes(cls, config: dict) -> dict[str, tuple[int, ...]]:
        """The shapes of the params and buffers a layer built from `config` holds, without building it: a model
        file is checked against them before anything is allocated. Layers with tensors override this."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    # -- helpers for subclasses ----------------------------------------------------------------
    def _add_param(self, name: str, value: np.ndarray) -> None:
        self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)
        self.grads[name] = np.zeros_like(self.params[name])

    @staticmethod
    def _elementwise_flops(input_shape, forward: int, backward: int) -> Flops:
        """Flops of a layer doing `forward` operations per number on the way in and `backward` on the way back."""
        size = math.prod(input_shape)
        return Flops(forward * size, 0, backward * size)

    def _check_input(self, x, ndim, hint: str = "") -> np.ndarray:
        """Validate x at the layer's boundary and cast it to the layer's dtype (no copy if it is)."""
        return check_array(x, "x", type(self).__name__, ndim=ndim, dtype=self.dtype, hint=hint)

    def _require_forward(self, cache) -> None:
        if cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward called before forward. Call forward(x, train=True) first."
            )

    def astype(self, dtype) -> "Layer":
        """Convert parameters, gradients and buffers to float32 or float64, in place."""
        self.dtype = resolve_dtype(dtype)
        for store in (self.params, self.grads, self.buffers):
            for key, value in store.items():
                store[key] = value.astype(self.dtype)
        return self

    def zero_grad(self) -> None:
        for grad in self.grads.values():
            grad.fill(0)
