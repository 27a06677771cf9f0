"""The residual block (He et al., 2016): a layer that adds its input to what it computes.

Without it, the gradient reaching layer l is the product of every later layer's local derivative; with sigmoid
(f' ≤ 0.25) that product shrinks layer by layer and the first layers stop learning. The skip connection adds a
path on which the derivative is exactly 1, so the gradient arrives at every block undiminished.
"""

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_choice, check_int
from learnscope.layers.activations import ACTIVATIONS
from learnscope.layers.base import Flops, Layer
from learnscope.layers.dense import Dense


class Residual(Layer):
    """y = x + f(x W + b): a Dense layer and its activation, with the input added back.   (N, width) -> (N, width)

    The Dense and the activation inside do their own maths; the block only adds the skip: dL/dx is the gradient
    through the branch plus dL/dy itself."""

    formula = r"y = x + f(z),\quad z = xW + b"
    derivative_formula = (r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}"
                          r" + \Big(\frac{\partial L}{\partial y} \odot f'(z)\Big) W^\top")

    def __init__(self, width: int, activation: str = "relu", init="he_normal", bias_init="zeros", rng=None,
                 dtype=None):
        super().__init__(dtype)
        self.width = check_int(width, "width", "Residual", minimum=1, maximum=100_000)
        self.activation = check_choice(activation, "activation", "Residual", tuple(ACTIVATIONS))
        self._dense = Dense(self.width, self.width, init=init, bias_init=bias_init, rng=make_rng(rng),
                            dtype=self.dtype)
        self._activation = ACTIVATIONS[self.activation](dtype=self.dtype)
        # the block's parameters are its Dense's: the same dicts, so optimizers and files see W and b
        self.params, self.grads = self._dense.params, self._dense.grads

    @classmethod
    def tensor_shapes(cls, config):
        return {"W": (config["width"], config["width"]), "b": (config["width"],)}

    def reset(self, rng: np.random.Generator) -> None:
        self._dense.reset(rng)

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=2)
        if x.shape[1] != self.width:
            raise ValueError(f"Residual expected x of shape (N, {self.width}), got {x.shape}: a residual block "
                             "keeps the width, so the layer before it must output as many features.")
        return x + self._activation.forward(self._dense.forward(x, train), train)

    def backward(self, grad_out, need_input_grad=True):
        through_branch = self._dense.backward(self._activation.backward(grad_out), need_input_grad)
        if not need_input_grad:
            return None
        return grad_out + through_branch                # the skip's derivative is 1: dL/dy passes unchanged

    def output_shape(self, input_shape):
        return (self.width,)

    def flops(self, input_shape):
        dense, activation = self._dense.flops(input_shape), self._activation.flops(input_shape)
        size = self.width                                           # the skip: one addition per number each way
        return Flops(dense.forward + activation.forward + size, dense.param_grads,
                     dense.input_grad + activation.input_grad + size)

    def astype(self, dtype) -> "Residual":
        self._dense.astype(dtype)
        self._activation.astype(dtype)
        self.dtype = self._dense.dtype
        self.params, self.grads = self._dense.params, self._dense.grads
        return self

    def config(self):
        return {"width": self.width, "activation": self.activation,
                "init": self._dense.init.config(), "bias_init": self._dense.bias_init.config()}

    def __repr__(self):
        return f"Residual({self.width}, activation={self.activation!r})"
