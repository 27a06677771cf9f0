"""Rosenblatt's perceptron (1958): a threshold unit and its own learning rule.

The step function has no useful derivative (zero everywhere, undefined at the threshold), so
backpropagation cannot train it; that is the historical reason for smooth activations. A single
perceptron draws one straight line, so it learns AND but never XOR (Minsky & Papert, 1969).
"""

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_array, check_int, check_range
from learnscope.layers.base import Flops, Layer


class Step(Layer):
    """a = 1 if z > threshold else 0.   (N, ...) -> (N, ...); no gradient."""

    differentiable = False

    def __init__(self, threshold: float = 0.0, dtype=None):
        super().__init__(dtype)
        self.threshold = float(check_range(threshold, "threshold", "Step"))

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=(1, 2, 3, 4))
        return (x > self.threshold).astype(self.dtype)

    def backward(self, grad_out, need_input_grad=True):
        raise RuntimeError(
            "Step has no gradient: its derivative is 0 everywhere except the jump, so backpropagation "
            "cannot train it. Use Perceptron.learn (the perceptron rule) or a smooth activation such as Sigmoid."
        )

    def flops(self, input_shape):
        return self._elementwise_flops(input_shape, 1, 0)    # one comparison; no backward pass

    def config(self):
        return {"threshold": self.threshold}


class Perceptron(Layer):
    """ŷ = step(x @ w + b), with Rosenblatt's rule  w ← w + lr·(y - ŷ)·x,  b ← b + lr·(y - ŷ).
    (N, n_in) -> (N,) of 0/1 predictions."""

    differentiable = False

    def __init__(self, n_in: int, rng=None, dtype=None):
        super().__init__(dtype)
        self.n_in = check_int(n_in, "n_in", "Perceptron", minimum=1, maximum=1_000_000)
        self.reset(make_rng(rng))

    @classmethod
    def tensor_shapes(cls, config):
        return {"W": (config["n_in"],), "b": (1,)}

    def flops(self, input_shape):
        return Flops(2 * self.n_in + 1, 0, 0)             # the weighted sum with its bias, and the step

    def reset(self, rng):
        self._add_param("W", rng.uniform(-0.5, 0.5, (self.n_in,)))
        self._add_param("b", np.zeros(1))

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=2)
        if x.shape[1] != self.n_in:
            raise ValueError(f"Perceptron expected x of shape (N, {self.n_in}), got {x.shape}.")
        return (x @ self.params["W"] + self.params["b"] > 0).astype(self.dtype)

    def backward(self, grad_out, need_input_grad=True):
        raise RuntimeError("Perceptron has no gradient; train it with Perceptron.learn(x, y, lr).")

    def learn(self, x, y, lr: float = 0.1) -> int:
        """One pass of the perceptron rule over the examples in order; returns how many were wrong."""
        check_range(lr, "lr", "Perceptron.learn", minimum=0, inclusive=(False, True))
        x = self._check_input(x, ndim=2)
        y = check_array(y, "y", "Perceptron.learn", ndim=1)
        if len(y) != len(x) or not np.isin(y, (0, 1)).all():
            raise ValueError(f"Perceptron.learn expected y of 0/1 labels with length {len(x)}, got {y!r}.")
        mistakes = 0
        for xi, yi in zip(x, y):                        # one example at a time: that is the rule
            error = yi - float(xi @ self.params["W"] + self.params["b"][0] > 0)
            if error:
                self.params["W"] += lr * error * xi
                self.params["b"] += lr * error
                mistakes += 1
        return mistakes

    def config(self):
        return {"n_in": self.n_in}
