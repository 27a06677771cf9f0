"""Element-wise non-linearities, each forward formula beside its derivative.
Without them a stack of Dense layers collapses into one linear map and cannot learn XOR.

Each activation owns its maths three ways: the code (forward, and backward through `local_gradient`), the
formulas for the pages (`formula`, `derivative_formula`, LaTeX) and the short `symbol` a graph node prints.
"""

import numpy as np

from learnscope.core.functions import sigmoid
from learnscope.core.validation import check_range
from learnscope.layers.base import Flops, Layer


class Activation(Layer):
    """Shape-preserving, parameter-free layer a = f(z): (N, ...) -> (N, ...)"""

    #: a = f(z) and f'(z), in LaTeX
    formula = ""
    derivative_formula = ""
    #: what a node of the computational graph prints
    symbol = "f"

    def __init__(self, dtype=None):
        super().__init__(dtype)
        # what backward needs of the last forward: the input z or the output a, whichever f'(z) is written in
        self._z = self._a = None

    def _check(self, x):
        return self._check_input(x, ndim=(1, 2, 3, 4))

    def local_gradient(self, z, a):
        """da/dz = f'(z), element-wise, given the input z and the output a = f(z) (each activation reads the one
        its textbook derivative is written in)."""
        raise NotImplementedError

    def flops(self, input_shape):
        return self._elementwise_flops(input_shape, 1, 2)    # f(z); f'(z) and the product

    def backward(self, grad_out, need_input_grad=True):
        """dL/dz = dL/da ⊙ f'(z): the chain rule through an element-wise function."""
        self._require_forward(self._a if self._a is not None else self._z)
        return grad_out * self.local_gradient(self._z, self._a)


class Identity(Activation):
    """a = z;  da/dz = 1 (the output of a regression net)."""

    formula, derivative_formula, symbol = "a = z", "f'(z) = 1", "id"

    def forward(self, x, train=False):
        return self._check(x)

    def local_gradient(self, z, a):
        return np.ones_like(a)

    def backward(self, grad_out, need_input_grad=True):
        return grad_out                                  # × 1, without the multiplication

    def flops(self, input_shape):
        return Flops(0, 0, 0)


class ReLU(Activation):
    """a = max(0, z);  da/dz = 1 where z > 0, else 0 (a unit stuck below 0 is 'dead')."""

    formula = r"a = \max(0, z)"
    derivative_formula = r"f'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}"
    symbol = "relu"

    def forward(self, x, train=False):
        self._a = np.maximum(self._check(x), 0)
        return self._a

    def local_gradient(self, z, a):
        return a > 0                                    # a > 0 exactly where z > 0


class LeakyReLU(Activation):
    """a = z if z > 0 else alpha·z;  da/dz = 1 or alpha (a small slope keeps units alive)."""

    formula = r"a = \max(\alpha z, z)"
    derivative_formula = r"f'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}"
    symbol = "leaky relu"

    def __init__(self, alpha: float = 0.01, dtype=None):
        super().__init__(dtype)
        self.alpha = float(check_range(alpha, "alpha", "LeakyReLU", minimum=0, maximum=1))

    def forward(self, x, train=False):
        self._z = self._check(x)
        return np.where(self._z > 0, self._z, self._z * self.dtype.type(self.alpha))

    def local_gradient(self, z, a):
        return np.where(z > 0, 1, self.alpha).astype(np.asarray(z).dtype)

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._z)
        # the same as grad_out * local_gradient, without building the slope array
        return np.where(self._z > 0, grad_out, grad_out * self.dtype.type(self.alpha))

    def config(self):
        return {"alpha": self.alpha}


class Sigmoid(Activation):
    """a = 1 / (1 + e^(-z));  da/dz = a·(1 - a) ≤ 0.25, why deep sigmoid nets' gradients vanish."""

    formula = r"a = \sigma(z) = \frac{1}{1 + e^{-z}}"
    derivative_formula = r"f'(z) = \sigma(z)\,(1 - \sigma(z)) = a\,(1 - a)"
    symbol = "σ"

    def forward(self, x, train=False):
        self._a = sigmoid(self._check(x))               # NOTE: written so that e^(-z) never overflows
        return self._a

    def local_gradient(self, z, a):
        return a * (1 - a)


class Tanh(Activation):
    """a = tanh(z);  da/dz = 1 - a²."""

    formula = r"a = \tanh(z)"
    derivative_formula = r"f'(z) = 1 - \tanh^2(z) = 1 - a^2"
    symbol = "tanh"

    def forward(self, x, train=False):
        self._a = np.tanh(self._check(x))
        return self._a

    def local_gradient(self, z, a):
        return 1 - a * a


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

    def flops(self, input_shape):
        return self._elementwise_flops(input_shape, 4, 4)    # shift, exp, sum, divide; product, sum, minus, product

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._out)
        p = self._out
        return p * (grad_out - (grad_out * p).sum(axis=1, keepdims=True))


#: The hidden-layer activations by the names recipes, model files and pages use
ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid, "linear": Identity}
