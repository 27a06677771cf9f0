"""Input standardisation as a layer, so a saved model carries its own preprocessing: a picture
given to `predict` is shifted and scaled exactly as the training images were."""


from learnscope.core.validation import check_range
from learnscope.layers.base import Layer


class Standardize(Layer):
    """y = (x − mean) / std with fixed numbers (e.g. MNIST's pixel mean and std); dy/dx = 1/std.
    (N, ...) -> (N, ...); nothing to learn."""

    def __init__(self, mean: float = 0.0, std: float = 1.0, dtype=None):
        super().__init__(dtype)
        self.mean = float(check_range(mean, "mean", "Standardize"))
        self.std = float(check_range(std, "std", "Standardize", minimum=0, inclusive=(False, True),
                                     fix="Pass the data's standard deviation, a positive number."))

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=(1, 2, 3, 4))
        # NOTE: numbers as the layer's dtype, so float32 data stays float32
        return (x - self.dtype.type(self.mean)) * self.dtype.type(1.0 / self.std)

    def backward(self, grad_out, need_input_grad=True):
        return grad_out * self.dtype.type(1.0 / self.std) if need_input_grad else None

    def flops(self, input_shape):
        return self._elementwise_flops(input_shape, 2, 1)

    def config(self):
        return {"mean": self.mean, "std": self.std}

    def __repr__(self):
        return f"Standardize(mean={self.mean:.4g}, std={self.std:.4g})"
