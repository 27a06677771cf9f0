"""Vanishing and exploding gradients, measured as Nielsen measures them, on real MNIST images."""

import numpy as np
import pytest

from learnscope.layers import BatchNorm, Dense
from learnscope.lessons.gradient_flow import (
    GradientNormMonitor,
    deep_network,
    describe_gradient_norms,
    hidden_bias_grads,
    layer_gradient_norms,
)
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import SGD
from learnscope.train import fit

SEEDS = range(4)


@pytest.fixture(scope="module")
def thousand(mnist):
    return mnist.x_train[:1000], mnist.y_train[:1000]


def ratios(kind, thousand, n_hidden=3):
    return [layer_gradient_norms(deep_network(n_hidden, kind, seed=seed), *thousand).ratio for seed in SEEDS]


def test_a_deep_sigmoid_network_starves_its_first_layer(thousand):
    assert min(ratios("sigmoid", thousand)) >= 10                     # Nielsen's 784-30-30-30-10: 0.283 / 0.012
    norms = layer_gradient_norms(deep_network(4, "sigmoid"), *thousand).norms
    assert np.all(np.diff(norms) > 0)                                  # each layer back gets less


@pytest.mark.parametrize("kind", ["relu-he-bn", "residual", "relu-he"])
def test_the_remedies_bring_the_gradient_back_to_the_first_layer(kind, thousand):
    assert max(ratios(kind, thousand)) <= 3


def test_weights_too_large_make_the_gradient_explode(thousand):
    assert max(ratios("too-large", thousand)) < 1 / 3
    assert "explodes" in describe_gradient_norms(layer_gradient_norms(deep_network(3, "too-large"), *thousand))


def test_the_norm_is_the_length_of_the_mean_bias_gradient_over_the_examples(thousand):
    x, y = thousand
    model = deep_network(2, "sigmoid", seed=1).astype(np.float64)
    norms = layer_gradient_norms(model, x[:50].astype(np.float64), y[:50])
    # by finite differences of the mean loss in each bias of the first hidden layer
    dense, loss, h = model.layers[1], SoftmaxCrossEntropy(), 1e-6
    numeric = np.zeros(dense.params["b"].shape)
    for unit in range(len(numeric)):
        values = []
        for sign in (1, -1):
            dense.params["b"][unit] += sign * h
            values.append(loss.forward(model.forward(x[:50].astype(np.float64)), y[:50]))
            dense.params["b"][unit] -= sign * h
        numeric[unit] = (values[0] - values[1]) / (2 * h)
    assert norms.norms[0] == pytest.approx(np.linalg.norm(numeric), rel=1e-5)


def test_batch_norms_shift_stands_in_for_the_cancelled_bias():
    model = deep_network(3, "relu-he-bn")
    x = np.random.default_rng(0).random((64, 784)).astype(np.float32)
    layer_gradient_norms(model, x, np.arange(64) % 10)
    names = [name for name, _ in hidden_bias_grads(model)]
    assert names == [f"{i}.batchnorm.beta" for i, layer in enumerate(model.layers) if isinstance(layer, BatchNorm)]
    dense_bias = next(layer for layer in model.layers if isinstance(layer, Dense)).grads["b"]
    assert np.abs(dense_bias).max() < 1e-6                            # what the normalisation cancels


def test_the_monitor_records_the_norms_while_training(thousand):
    x, y = thousand
    monitor = GradientNormMonitor(every=5)
    fit(deep_network(3, "sigmoid"), SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=1, batch_size=100, seed=0,
        callbacks=[monitor])
    assert monitor.steps == [0, 5] and monitor.norms.shape == (2, 3)
    assert np.all(monitor.norms[:, 0] < monitor.norms[:, 2])


def test_a_first_layer_without_any_gradient_is_said_to_be_switched_off():
    from learnscope.lessons.gradient_flow import GradientNorms

    text = describe_gradient_norms(GradientNorms(["1.dense.b", "3.dense.b"], np.array([0.0, 0.2])))
    assert text.startswith("No gradient reaches the first hidden layer")
