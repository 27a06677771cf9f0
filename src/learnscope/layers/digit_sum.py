"""The rule "sum = a + b" as a layer: neuro-symbolic learning's symbolic half, for MNIST addition.

A digit classifier reads every image; this layer knows nothing but arithmetic. From each digit's probabilities it
computes the exact probability of every sum, so the only label training needs is the sum:

    p = softmax(z)                             each image's 10 digit probabilities
    P_A(n) = Π_k p_{a_k}(n_k)                  a number of n_digits digits, most significant first (n = Σ n_k·10^…)
    P(s) = Σ_n P_A(n) · P_B(s − n)             every way two numbers add up to s
    output log P(s), s = 0 … 2·(10^n_digits − 1)

Trained with SoftmaxCrossEntropy on that output, the loss is −log P(sum): the softmax of log-probabilities that
already add up to 1 changes nothing. Its gradient on an image's scores works out to p − q, where
q(d) = P(this digit is d | the sum) is the posterior the rule infers: the sum becomes a soft digit label.
"""

import numpy as np

from learnscope.core.validation import check_int
from learnscope.layers.base import Layer

#: The numbers of digits per number the layer handles: 10^n_digits values per number, convolved pairwise
MAX_DIGITS = 2


class DigitSum(Layer):
    """log P(a + b = s) from each digit image's scores.   (N·2·n_digits, 10) -> (N, 2·10^n_digits − 1)
    Input rows come in each example's order: number a's digits (most significant first), then number b's."""

    def __init__(self, n_digits: int = 1, dtype=None):
        super().__init__(dtype)
        self.n_digits = check_int(n_digits, "n_digits", "DigitSum", minimum=1, maximum=MAX_DIGITS,
                                  fix="Use 1 (sums of two digits) or 2 (sums of two 2-digit numbers).")
        self.n_values = 10 ** self.n_digits             # values one number can take
        self.n_sums = 2 * self.n_values - 1
        self._cache = None

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=2)
        per_example = 2 * self.n_digits
        if x.shape[1] != 10 or x.shape[0] % per_example:
            raise ValueError(f"DigitSum expected digit scores of shape (N·{per_example}, 10): 10 scores for each of "
                             f"{per_example} images per example, got {x.shape}. Put Unstack({per_example}) before "
                             "the digit classifier and end it with Dense(..., 10).")
        # float64: the product of 2·n_digits probabilities can be far below float32's smallest number
        z = x.astype(np.float64).reshape(-1, per_example, 10)
        exp = np.exp(z - z.max(axis=2, keepdims=True))
        digits = exp / exp.sum(axis=2, keepdims=True)                       # p, (N, 2·n_digits, 10)
        number_a = _number_distribution(digits[:, :self.n_digits])         # P_A, (N, 10^n_digits)
        number_b = _number_distribution(digits[:, self.n_digits:])
        sums = _add_distributions(number_a, number_b)                      # P(s), (N, n_sums)
        self._cache = digits, number_a, number_b, sums
        return np.log(np.maximum(sums, np.finfo(np.float64).tiny)).astype(self.dtype)

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._cache)
        if not need_input_grad:
            return None
        digits, number_a, number_b, sums = self._cache
        grad_sums = grad_out.astype(np.float64) / np.maximum(sums, np.finfo(np.float64).tiny)   # d log P = dP / P
        grad_a, grad_b = _add_distributions_backward(grad_sums, number_a, number_b)
        grad_digits = np.concatenate([_number_distribution_backward(grad_a, digits[:, :self.n_digits]),
                                      _number_distribution_backward(grad_b, digits[:, self.n_digits:])], axis=1)
        # softmax: dL/dz = p ⊙ (dL/dp − Σ_d p_d · dL/dp_d)
        grad_z = digits * (grad_digits - (grad_digits * digits).sum(axis=2, keepdims=True))
        return grad_z.reshape(-1, 10).astype(self.dtype)

    def output_shape(self, input_shape):
        return (self.n_sums,)

    def config(self):
        return {"n_digits": self.n_digits}


def _number_distribution(digits: np.ndarray) -> np.ndarray:
    """P(number = n) from its digits' probabilities, independent: (N, k, 10) -> (N, 10^k), most significant first.
        P(n) = Π_k p_k(n_k), built one digit at a time as an outer product."""
    number = digits[:, 0]
    for k in range(1, digits.shape[1]):
        number = (number[:, :, None] * digits[:, k, None, :]).reshape(len(number), -1)
    return number


def _number_distribution_backward(grad_number: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """dL/dp_k(d) = Σ over numbers whose k-th digit is d of dL/dP(n) · Π_{j≠k} p_j(n_j).   -> (N, k, 10)"""
    n_examples, n_digits = digits.shape[:2]
    grad = grad_number.reshape(n_examples, *[10] * n_digits)
    grads = []
    for k in range(n_digits):
        product = grad
        for j in range(n_digits):                      # multiply by every other digit's p along its axis
            if j != k:
                shape = [n_examples] + [1] * n_digits
                shape[1 + j] = 10
                product = product * digits[:, j].reshape(shape)
        grads.append(product.sum(axis=tuple(1 + j for j in range(n_digits) if j != k)))
    return np.stack(grads, axis=1)


def _add_distributions(number_a: np.ndarray, number_b: np.ndarray) -> np.ndarray:
    """P(A + B = s) = Σ_n P_A(n) · P_B(s − n): a convolution.   (N, K), (N, K) -> (N, 2K − 1)"""
    n_examples, n_values = number_a.shape
    sums = np.zeros((n_examples, 2 * n_values - 1))
    for n in range(n_values):                           # A = n shifts B's distribution n places up
        sums[:, n:n + n_values] += number_a[:, n, None] * number_b
    return sums


def _add_distributions_backward(grad_sums, number_a, number_b):
    """dL/dP_A(n) = Σ_m dL/dP(n + m) · P_B(m) and dL/dP_B(m) = Σ_n dL/dP(n + m) · P_A(n)."""
    n_values = number_a.shape[1]
    grad_a = np.empty_like(number_a)
    grad_b = np.zeros_like(number_b)
    for n in range(n_values):
        window = grad_sums[:, n:n + n_values]           # the sums A = n reaches: n + m for every m
        grad_a[:, n] = (window * number_b).sum(axis=1)
        grad_b += window * number_a[:, n, None]
    return grad_a, grad_b
