"""Each activation and loss owns its maths: local gradients against finite differences, formulas present,
predictions against their textbook formula."""

import numpy as np
import pytest

from learnscope.core.functions import sigmoid, softmax
from learnscope.layers import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from learnscope.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy

ACTIVATION_TYPES = [Identity, ReLU, lambda: LeakyReLU(alpha=0.1), Sigmoid, Tanh]


@pytest.mark.parametrize("make", ACTIVATION_TYPES)
def test_local_gradient_matches_finite_differences(make):
    layer = make().astype(np.float64)
    z = np.array([-2.0, -0.7, -0.1, 0.3, 0.9, 2.5])       # no kink at 0 inside ±h
    h = 1e-6
    a = layer.forward(z.reshape(1, -1)).ravel().copy()
    numeric = (layer.forward((z + h).reshape(1, -1)) - layer.forward((z - h).reshape(1, -1))).ravel() / (2 * h)
    analytic = np.asarray(layer.local_gradient(z, a), dtype=np.float64)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("make", ACTIVATION_TYPES)
def test_every_activation_states_its_formula_and_derivative(make):
    layer = make()
    assert layer.formula.startswith("a =") and layer.derivative_formula.startswith("f'(z)")
    assert layer.symbol and layer.symbol != "f"


@pytest.mark.parametrize("loss", [MSE(), SoftmaxCrossEntropy(), BinaryCrossEntropy()])
def test_every_loss_states_its_formula_and_gradient(loss):
    assert "L =" in loss.formula and r"\partial L" in loss.gradient_formula


def test_predictions_are_the_textbook_functions_of_the_output():
    z = np.array([[2.0, -1.0, 0.5], [-30.0, 40.0, 0.0]])
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(SoftmaxCrossEntropy().prediction(z), expected, rtol=1e-12)
    np.testing.assert_allclose(softmax(z), expected, rtol=1e-12)
    logits = np.array([[-3.0], [0.0], [4.0]])
    np.testing.assert_allclose(BinaryCrossEntropy().prediction(logits), 1 / (1 + np.exp(-logits)), rtol=1e-12)
    np.testing.assert_array_equal(MSE().prediction(logits), logits)


def test_sigmoid_never_overflows_and_keeps_float32():
    z = np.array([-1000.0, 0.0, 1000.0], dtype=np.float32)
    with np.errstate(all="raise"):
        values = sigmoid(z)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, [0.0, 0.5, 1.0])


def test_the_loss_prediction_is_bit_for_bit_what_forward_computed():
    z = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    loss = SoftmaxCrossEntropy()
    loss.forward(z, np.array([0, 1, 2, 3, 0]))
    np.testing.assert_array_equal(loss.prediction(z), loss.probabilities)
