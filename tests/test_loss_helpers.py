"""core.functions.softmax (reading probabilities off a network's scores) and losses.one_hot (MSE's class targets)."""

import numpy as np

from learnscope.core.functions import softmax
from learnscope.layers import Softmax
from learnscope.losses import SoftmaxCrossEntropy, one_hot


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


def test_one_hot_puts_a_single_one_at_each_label():
    targets = one_hot([2, 0, 2], 3)
    assert targets.dtype == np.float32 and targets.tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1]]
    assert one_hot(np.array([1]), 2, dtype=np.float64).dtype == np.float64
