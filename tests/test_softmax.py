"""losses.softmax, the one function that reads probabilities off a network's scores."""

import numpy as np

from learnscope.layers import Softmax
from learnscope.losses import SoftmaxCrossEntropy, softmax


def test_softmax_agrees_with_the_layer_and_the_loss_and_never_overflows():
    scores = np.random.default_rng(0).normal(size=(5, 4)) * 3
    probabilities = softmax(scores)
    assert probabilities.dtype == np.float64 and np.allclose(probabilities.sum(axis=1), 1)
    assert np.allclose(probabilities, Softmax(dtype=np.float64).forward(scores))
    loss = SoftmaxCrossEntropy(dtype=np.float64)
    loss.forward(scores, np.zeros(5, dtype=np.int64))
    assert np.allclose(probabilities, loss.probabilities)
    assert np.allclose(softmax(scores + 1000.0), probabilities)          # shifted by the max: no overflow
    assert np.allclose(softmax(scores[0]), probabilities[0])             # any leading shape, the last axis
