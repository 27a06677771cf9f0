"""The two squashing functions a network's answer is read through, written once for the whole package.

Layers and losses that need them for training keep their own fused, cached versions (SoftmaxCrossEntropy keeps
its log-probabilities for the gradient); everything that only *reads* an output calls these.
"""

import numpy as np


def sigmoid(z) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), element-wise, in z's float dtype (float64 for anything else).
    Computed as 0.5·(1 + tanh(z/2)): the same function, but e^(−z) would overflow for z ≪ 0."""
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    return 0.5 * (1 + np.tanh(0.5 * z))


def softmax(scores) -> np.ndarray:
    """(..., K) scores -> float64 probabilities along the last axis: p_k = e^(z_k − max z) / Σ_j e^(z_j − max z)
    (shifted by the max, so large scores never overflow)."""
    scores = np.asarray(scores, dtype=np.float64)
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)
