"""Smoke tests that learn, through the real fit(): the classics every learner meets first."""

import numpy as np

from learnscope.data.toy2d import make_spiral, make_xor
from learnscope.layers import Dense, Perceptron, ReLU, Sigmoid, Step, Tanh
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam
from learnscope.train import fit


def test_xor_2_4_1_tanh_with_mse_reaches_100_percent():
    x, labels = make_xor(n_samples=4)                   # the exact truth table on {-1, 1}²
    model = Sequential([Dense(2, 4), Tanh(), Dense(4, 1), Tanh()], seed=0)
    targets = (2.0 * labels - 1).reshape(-1, 1)         # tanh output: -1 for 0, +1 for 1
    fit(model, MSE(), SGD(lr=0.1, momentum=0.9), x, targets, epochs=500, batch_size=4, seed=0)
    predicted = (model.predict(x)[:, 0] > 0).astype(int)
    np.testing.assert_array_equal(predicted, labels)


def test_spiral_3_classes_reaches_95_percent_train_accuracy():
    x, y = make_spiral(n_samples=300, n_classes=3, noise=0.1, seed=0)
    model = Sequential([Dense(2, 64), ReLU(), Dense(64, 64), ReLU(), Dense(64, 3)], seed=0)
    fit(model, SoftmaxCrossEntropy(), Adam(lr=1e-2), x, y, epochs=300, batch_size=32, seed=0)
    accuracy = (model.predict(x).argmax(axis=1) == y).mean()
    assert accuracy >= 0.95, accuracy


def test_a_single_perceptron_learns_and_but_never_xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    and_unit, xor_unit = Perceptron(2, rng=0), Perceptron(2, rng=0)
    for _ in range(50):
        and_unit.learn(x, np.array([0, 0, 0, 1]), lr=0.1)
    np.testing.assert_array_equal(and_unit.forward(x), [0, 0, 0, 1])
    mistakes = [xor_unit.learn(x, np.array([0, 1, 1, 0]), lr=0.1) for _ in range(1000)]
    assert min(mistakes) >= 1                           # never one clean pass: no line separates XOR
    assert (xor_unit.forward(x) != [0, 1, 1, 0]).any()


def test_step_unit_refuses_backpropagation_and_explains_why():
    model = Sequential([Dense(2, 1), Step()])
    model.forward(np.zeros((1, 2)))
    try:
        model.backward(np.ones((1, 1), dtype=np.float32))
    except RuntimeError as err:
        assert "no gradient" in str(err) and "Sigmoid" in str(err)
    else:
        raise AssertionError("Step.backward must refuse")


def test_sigmoid_network_learns_xor_with_cross_entropy_style_targets():
    x, labels = make_xor(n_samples=4)
    model = Sequential([Dense(2, 8), Sigmoid(), Dense(8, 2)], seed=1)
    fit(model, SoftmaxCrossEntropy(), Adam(lr=0.05), x, labels, epochs=300, batch_size=4, seed=0)
    np.testing.assert_array_equal(model.predict(x).argmax(axis=1), labels)
