"""The fully connected layer: every input feeds every output through its own weight."""

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_int, check_parameter_count
from learnscope.init import get_initializer
from learnscope.layers.base import Flops, Layer


class Dense(Layer):
    """Affine map y = x @ W + b.   (N, n_in) -> (N, n_out)"""

    def __init__(self, n_in: int, n_out: int, init="xavier_uniform", bias_init="zeros", rng=None, dtype=None):
        super().__init__(dtype)
        self.n_in = check_int(n_in, "n_in", "Dense", minimum=1, maximum=1_000_000)
        self.n_out = check_int(n_out, "n_out", "Dense", minimum=1, maximum=1_000_000)
        check_parameter_count(self.n_in * self.n_out, f"Dense({self.n_in}, {self.n_out})")
        self.init = get_initializer(init)
        self.bias_init = get_initializer(bias_init)
        self._x = None
        self.reset(make_rng(rng))

    @classmethod
    def tensor_shapes(cls, config):
        return {"W": (config["n_in"], config["n_out"]), "b": (config["n_out"],)}

    def reset(self, rng: np.random.Generator) -> None:
        """Draw fresh weights (fan_in = n_in, fan_out = n_out) and biases."""
        self._add_param("W", self.init((self.n_in, self.n_out), self.n_in, self.n_out, rng, self.dtype))
        self._add_param("b", self.bias_init((self.n_out,), self.n_in, self.n_out, rng, self.dtype))

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=None)
        if x.ndim != 2 or x.shape[1] != self.n_in:
            if x.ndim > 2:
                fix = "Add Flatten() before Dense."
            elif x.ndim == 2:
                fix = f"The data has {x.shape[1]} features: use Dense({x.shape[1]}, ...) or fix the layer before."
            else:
                fix = "Pass a batch: x[None, :] turns one example into a batch of one."
            raise ValueError(f"Dense expected x of shape (N, {self.n_in}), got {x.shape}. {fix}")
        self._x = x                                     # backward needs the input
        out = x @ self.params["W"]
        out += self.params["b"]                         # in place: saves one (N, n_out) allocation
        return out

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._x)
        # dL/dW = xᵀ · dL/dy and dL/db = Σ_batch dL/dy, written in place: optimizer and recorder hold references
        np.matmul(self._x.T, grad_out, out=self.grads["W"])
        np.sum(grad_out, axis=0, out=self.grads["b"])
        if not need_input_grad:
            return None
        return grad_out @ self.params["W"].T            # dL/dx = dL/dy · Wᵀ

    def output_shape(self, input_shape):
        return (self.n_out,)

    def flops(self, input_shape):
        # each output: n_in products and n_in additions (n_in − 1 between them, one for the bias).
        # Backward: dW is the same product count (x times dL/dy), db one addition per output, dL/dx one more GEMM
        products = 2 * self.n_in * self.n_out
        return Flops(products, products + self.n_out, products)

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out}, init={self.init.name!r})"

    def config(self):
        return {"n_in": self.n_in, "n_out": self.n_out,
                "init": self.init.config(), "bias_init": self.bias_init.config()}
