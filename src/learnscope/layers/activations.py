"""Element-wise non-linearities, each forward formula beside its derivative.
Without them a stack of Dense layers collapses into one linear map and cannot learn XOR."""

import numpy as np

from learnscope.core.validation import check_range
from learnscope.layers.base import Layer


class Activation(Layer):
    """Shape-preserving, parameter-free layer: (N, ...) -> (N, ...)"""

    def _check(self, x):
        return self._check_input(x, ndim=(1, 2, 3, 4))


class Identity(Activation):
    """a = z;  da/dz = 1 (the output of a regression net)."""

    def forward(self, x, train=False):
        return self._check(x)

    def backward(self, grad_out, need_input_grad=True):
        return grad_out


class ReLU(Activation):
    """a = max(0, z);  da/dz = 1 where z > 0, else 0 (a unit stuck below 0 is 'dead')."""

    def __init__(self, dtype=None):
        super().__init__(dtype)
        self._out = None

    def forward(self, x, train=False):
        self._out = np.maximum(self._check(x), 0)
        return self._out

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._out)
        return grad_out * (self._out > 0)


class LeakyReLU(Activation):
    """a = z if z > 0 else alpha·z;  da/dz = 1 or alpha (a small slope keeps units alive)."""

    def __init__(self, alpha: float = 0.01, dtype=None):
        super().__init__(dtype)
        self.alpha = float(check_range(alpha, "alpha", "LeakyReLU", minimum=0, maximum=1))
        self._x = None

    def forward(self, x, train=False):
        self._x = self._check(x)
        return np.where(self._x > 0, self._x, self._x * self.dtype.type(self.alpha))

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._x)
        return np.where(self._x > 0, grad_out, grad_out * self.dtype.type(self.alpha))

    def config(self):
        return {"alpha": self.alpha}


class Sigmoid(Activation):
    """a = 1 / (1 + e^(-z));  da/dz = a·(1 - a) ≤ 0.25, why deep sigmoid nets' gradients vanish."""

    def __init__(self, dtype=None):
        super().__init__(dtype)
        self._out = None

    def forward(self, x, train=False):
        # NOTE: 0.5·(1 + tanh(z/2)) is the same function but never overflows, unlike e^(-z) for z ≪ 0.
        self._out = 0.5 * (1 + np.tanh(0.5 * self._check(x)))
        return self._out

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._out)
        return grad_out * self._out * (1 - self._out)


class Tanh(Activation):
    """a = tanh(z);  da/dz = 1 - a²."""

    def __init__(self, dtype=None):
        super().__init__(dtype)
        self._out = None

    def forward(self, x, train=False):
        self._out = np.tanh(self._check(x))
        return self._out

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._out)
        return grad_out * (1 - self._out * self._out)


class Softmax(Layer):
    """p_k = e^(z_k) / Σ_j e^(z_j) over each row;  dL/dz = p ⊙ (g - Σ_k g_k p_k).   (N, K) -> (N, K)
    For training, prefer SoftmaxCrossEntropy on the logits: it fuses both and is more stable."""

    def __init__(self, dtype=None):
        super().__init__(dtype)
        self._out = None

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=2)
        shifted = x - x.max(axis=1, keepdims=True)      # stability: e^z never overflows
        exp = np.exp(shifted)
        self._out = exp / exp.sum(axis=1, keepdims=True)
        return self._out

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._out)
        p = self._out
        return p * (grad_out - (grad_out * p).sum(axis=1, keepdims=True))
