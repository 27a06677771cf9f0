"""Loss functions: one number that says how wrong the network is, and its gradient.

`loss.forward(output, y)` returns the mean loss over the batch and keeps `per_example` (the lab
shows each example's share); `loss.backward()` returns d(mean loss)/d(output). Each loss also owns how it is
taught: `formula` and `gradient_formula` (LaTeX, for the pages) and `prediction(output)`, what the network's
output means in its terms (probabilities for the cross-entropies).
"""

import numpy as np

from learnscope.core.dtype import resolve_dtype
from learnscope.core.functions import sigmoid
from learnscope.core.validation import check_array, check_finite


def one_hot(labels, n_classes: int, dtype=None) -> np.ndarray:
    """(N,) class labels -> (N, n_classes) rows of 0 with a 1 at the label: the targets MSE compares class scores
    with."""
    return np.eye(n_classes, dtype=resolve_dtype(dtype))[np.asarray(labels, dtype=np.int64)]


class Loss:
    """Base class. Subclasses fill `per_example` (N,) in forward and read their cache in backward."""

    #: the loss (LaTeX)
    formula = ""
    #: d(loss)/d(output), where backward starts (LaTeX)
    gradient_formula = ""

    def __init__(self, dtype=None):
        self.dtype = resolve_dtype(dtype)
        self.per_example: np.ndarray | None = None
        self._cache = None

    def forward(self, output, y) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def prediction(self, output) -> np.ndarray:
        """What the network predicts for `output`, in this loss's terms: the output itself, as a copy."""
        return np.array(output, copy=True)

    def _check_output(self, output, ndim) -> np.ndarray:
        name = type(self).__name__
        # float32/float64 outputs keep their precision; anything else (ints, float16, which overflows at
        # 65504 when squared or exponentiated) is computed in the loss's dtype
        keep_float = isinstance(output, np.ndarray) and output.dtype in (np.float32, np.float64)
        output = check_array(output, "output", name, ndim=ndim, dtype=output.dtype if keep_float else self.dtype)
        if output.size == 0:
            raise ValueError(f"{name} expected at least one example and one output, got output of shape "
                             f"{output.shape}. Check the batch and the last layer's size.")
        check_finite(output, "output", name, hint="The network diverged: lower the learning rate.")
        return output

    def _require_forward(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward. Call forward(output, y) first.")

    def config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSE(Loss):
    """L = mean over all entries of (ŷ - y)²;  dL/dŷ = 2(ŷ - y) / (N·K).   ŷ, y: (N, K) or (N,)"""

    formula = r"L = \frac{1}{NK}\sum_{n,k} (\hat y_{nk} - y_{nk})^2"
    gradient_formula = r"\frac{\partial L}{\partial \hat y} = \frac{2}{NK}(\hat y - y)"

    def forward(self, output, y):
        output = self._check_output(output, ndim=(1, 2))
        y = check_array(y, "y", "MSE", ndim=(1, 2), dtype=output.dtype)
        if y.shape != output.shape:
            if y.size == output.size and len(y) == len(output):
                y = y.reshape(output.shape)             # (N,) targets for an (N, 1) output
            else:
                raise ValueError(
                    f"MSE expected y of shape {output.shape} (same as the output), got {y.shape}. "
                    "For class labels use SoftmaxCrossEntropy, or one-hot encode y."
                )
        check_finite(y, "y", "MSE", hint="Remove or impute missing targets.")
        diff = output - y
        squared = diff * diff
        self.per_example = squared.reshape(len(squared), -1).mean(axis=1)
        self._cache = diff
        return float(squared.mean())

    def backward(self):
        self._require_forward()
        diff = self._cache
        return diff * diff.dtype.type(2.0 / diff.size)


class SoftmaxCrossEntropy(Loss):
    """p = softmax(z);  L = −mean log p[y];  dL/dz = (p − onehot(y)) / N.   z: (N, K) logits, y: (N,) labels
    or (N, K) probabilities. Softmax is fused in so that log p never takes the log of 0."""

    formula = r"p = \mathrm{softmax}(z),\quad L = -\frac{1}{N}\sum_n \log p_{n, y_n}"
    gradient_formula = r"\frac{\partial L}{\partial z} = \frac{1}{N}\,(p - \mathrm{onehot}(y))"

    def prediction(self, output) -> np.ndarray:
        """p = softmax(z) per row, computed exactly as forward computes it."""
        _, exp, sum_exp = self._exponentials(np.asarray(output))
        return exp / sum_exp

    @staticmethod
    def _exponentials(z):
        shifted = z - z.max(axis=1, keepdims=True)      # stability: the largest logit becomes 0
        exp = np.exp(shifted)
        return shifted, exp, exp.sum(axis=1, keepdims=True)

    def forward(self, output, y):
        z = self._check_output(output, ndim=2)
        n_samples, n_classes = z.shape
        shifted, exp, sum_exp = self._exponentials(z)
        log_p = shifted - np.log(sum_exp)
        self.probabilities = exp / sum_exp
        target = self._targets(y, n_samples, n_classes)
        if target.ndim == 1:
            self.per_example = -log_p[np.arange(n_samples), target]
        else:
            self.per_example = -(target * log_p).sum(axis=1)
        self._cache = target
        return float(self.per_example.mean())

    def backward(self):
        self._require_forward()
        target, grad = self._cache, self.probabilities.copy()
        n_samples = len(grad)
        if target.ndim == 1:
            grad[np.arange(n_samples), target] -= 1
        else:
            grad -= target
        grad *= grad.dtype.type(1.0 / n_samples)
        return grad

    @staticmethod
    def _targets(y, n_samples, n_classes):
        y = check_array(y, "y", "SoftmaxCrossEntropy", ndim=(1, 2))
        if y.ndim == 1:
            if y.shape != (n_samples,):
                raise ValueError(f"SoftmaxCrossEntropy expected y of shape ({n_samples},), got {y.shape}.")
            if y.dtype.kind == "f":
                if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
                    raise ValueError("SoftmaxCrossEntropy expected integer class labels in y, got fractional or "
                                     "NaN values. Pass labels as integers 0..K-1.")
                y = y.astype(np.int64)
            low, high = int(y.min()), int(y.max())
            if low < 0 or high >= n_classes:
                raise ValueError(
                    f"SoftmaxCrossEntropy expected labels in 0..{n_classes - 1} (the output has {n_classes} columns), "
                    f"got labels from {low} to {high}. Give the last layer as many outputs as there are classes."
                )
            return y
        if y.shape != (n_samples, n_classes):
            raise ValueError(f"SoftmaxCrossEntropy expected one-hot y of shape {(n_samples, n_classes)}, "
                             f"got {y.shape}.")
        check_finite(y, "y", "SoftmaxCrossEntropy")
        if y.min() < 0 or not np.allclose(y.sum(axis=1), 1, atol=1e-3):
            raise ValueError("SoftmaxCrossEntropy expected each row of y to be probabilities (non-negative, summing "
                             f"to 1), got rows summing to {y.sum(axis=1).min():.4g}..{y.sum(axis=1).max():.4g}. "
                             "Pass integer labels, or one-hot / probability rows.")
        return y


class BinaryCrossEntropy(Loss):
    """p = σ(z);  L = −mean[y log p + (1−y) log(1−p)];  dL/dz = (p − y) / N.   z, y: (N,) or (N, 1)
    Works on logits: max(z,0) − z·y + log(1 + e^(−|z|)) is the same loss without overflow."""

    formula = r"p = \sigma(z),\quad L = -\frac{1}{N}\sum_n \big[y_n \log p_n + (1 - y_n)\log(1 - p_n)\big]"
    gradient_formula = r"\frac{\partial L}{\partial z} = \frac{1}{N}\,(p - y)"

    def prediction(self, output) -> np.ndarray:
        """p = σ(z), the probability of class 1."""
        return sigmoid(output)

    def forward(self, output, y):
        z = self._check_output(output, ndim=(1, 2))
        if z.ndim == 2 and z.shape[1] != 1:
            raise ValueError(f"BinaryCrossEntropy expected one logit per example, shape (N,) or (N, 1), got {z.shape}. "
                             "For more than two classes use SoftmaxCrossEntropy.")
        y = check_array(y, "y", "BinaryCrossEntropy", ndim=(1, 2), dtype=z.dtype)
        if y.size != z.size or len(y) != len(z):
            raise ValueError(f"BinaryCrossEntropy expected y with {len(z)} targets, got shape {y.shape}.")
        y = y.reshape(z.shape)
        check_finite(y, "y", "BinaryCrossEntropy")
        if y.min() < 0 or y.max() > 1:
            raise ValueError(f"BinaryCrossEntropy expected targets in [0, 1], got values from {y.min()} to {y.max()}. "
                             "Use 0/1 labels.")
        losses = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        self.per_example = losses.reshape(len(losses), -1).mean(axis=1)
        self._cache = (sigmoid(z), y)
        return float(losses.mean())

    def backward(self):
        self._require_forward()
        p, y = self._cache
        return (p - y) * p.dtype.type(1.0 / p.size)


LOSSES = {cls.__name__: cls for cls in (MSE, SoftmaxCrossEntropy, BinaryCrossEntropy)}
