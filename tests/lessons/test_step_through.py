"""step_through: every number equals the engine's own, gradients agree with finite differences, and the step
does what a training step does."""

import copy

import numpy as np
import pytest

from learnscope.gradcheck import numeric_gradient, relative_error
from learnscope.layers import Dense, Dropout, ReLU, Sigmoid, Tanh
from learnscope.lessons.step_through import step_through
from learnscope.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam, RMSprop


def mlp(activation=Tanh, n_out=3, seed=0, dtype=None):
    model = Sequential([Dense(2, 4), activation(), Dense(4, 3), ReLU(), Dense(3, n_out)], seed=seed)
    return model if dtype is None else model.astype(dtype)


def example(n=1, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)).astype(np.float32), rng.integers(0, 3, size=n)


def reference_step(model, loss, optimizer, x, y, train):
    """The same step written out layer by layer, without hooks: what the numbers must equal."""
    activations, h = [], x
    for layer in model.layers:
        out = layer.forward(h, train)
        activations.append((h, out))
        h = out
    value = loss.forward(h, y)
    grad = loss.backward()
    backward = [None] * len(model.layers)
    for index in range(len(model.layers) - 1, -1, -1):
        grad_in = model.layers[index].backward(grad, True)
        backward[index] = (grad, grad_in, {key: g.copy() for key, g in model.layers[index].grads.items()})
        grad = grad_in
    optimizer.step(model.named_params())
    return activations, value, backward


@pytest.mark.parametrize("optimizer", [SGD(lr=0.1), SGD(lr=0.1, momentum=0.9, nesterov=True), RMSprop(lr=0.01),
                                       Adam(lr=0.01, weight_decay=1e-3)])
@pytest.mark.parametrize("n", [1, 8])
def test_every_number_is_bit_for_bit_the_engines_own(optimizer, n):
    x, y = example(n)
    model, loss = mlp(), SoftmaxCrossEntropy()
    twin, twin_loss, twin_optimizer = copy.deepcopy(model), SoftmaxCrossEntropy(), copy.deepcopy(optimizer)
    step = step_through(model, loss, optimizer, x, y)
    activations, value, backward = reference_step(twin, twin_loss, twin_optimizer, x, y, train=False)

    assert step.loss == value
    np.testing.assert_array_equal(step.prediction, twin_loss.probabilities)
    for record, (inputs, out), (grad_out, grad_in, grads) in zip(step.layers, activations, backward):
        np.testing.assert_array_equal(record.input, inputs)
        np.testing.assert_array_equal(record.output, out)
        np.testing.assert_array_equal(record.grad_output, grad_out)
        np.testing.assert_array_equal(record.grad_input, grad_in)
        assert record.grads.keys() == grads.keys()
        for key in grads:
            np.testing.assert_array_equal(record.grads[key], grads[key])
    for (name, param, _), (_, twin_param, _) in zip(model.named_params(), twin.named_params()):
        np.testing.assert_array_equal(step.update(name).after, twin_param)
        np.testing.assert_array_equal(param, twin_param)                    # the model really took the step
        for key, state in twin_optimizer.state.get(name, {}).items():
            np.testing.assert_array_equal(step.update(name).state[key], state)
    assert [record.name for record in step.layers] == ["0.dense", "1.tanh", "2.dense", "3.relu", "4.dense"]
    assert step.layers[0].params["W"].shape == (2, 4) and step.layers[1].params == {}


def test_train_mode_is_the_pass_fit_makes_dropout_included():
    model = Sequential([Dense(2, 16), ReLU(), Dropout(0.5), Dense(16, 3)], seed=3)
    twin = copy.deepcopy(model)
    x, y = example(4)
    step = step_through(model, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, train=True)
    activations, value, _ = reference_step(twin, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, train=True)
    assert step.loss == value and step.train
    np.testing.assert_array_equal(step.layers[2].output, activations[2][1])   # the same dropout mask
    assert (step.layers[2].output == 0).sum() > (step.layers[1].output == 0).sum()


@pytest.mark.parametrize(("loss", "n_out", "target"), [
    (SoftmaxCrossEntropy(), 3, lambda n: np.arange(n) % 3),
    (MSE(), 2, lambda n: np.linspace(-1, 1, 2 * n).reshape(n, 2)),
    (BinaryCrossEntropy(), 1, lambda n: (np.arange(n) % 2).reshape(n, 1).astype(float)),
])
def test_gradients_agree_with_finite_differences_in_float64(loss, n_out, target):
    model = mlp(Sigmoid, n_out=n_out, dtype=np.float64)
    x = np.random.default_rng(5).normal(size=(3, 2))
    y = target(3)
    probe = copy.deepcopy(model)
    step = step_through(model, loss, SGD(lr=0.01), x, y)
    for name, param, _ in probe.named_params():
        numeric = numeric_gradient(lambda: loss.forward(probe.forward(x), y), param)
        error = relative_error(step.update(name).grad, numeric).max()
        assert error < 1e-6, (name, error)
    output = probe.forward(x)
    numeric_output = numeric_gradient(lambda: loss.forward(output, y), output)
    assert relative_error(step.grad_loss, numeric_output).max() < 1e-6             # where backward starts


def test_input_gradient_agrees_with_finite_differences():
    model = mlp(Tanh, dtype=np.float64)
    x, y = np.random.default_rng(2).normal(size=(2, 2)), np.array([0, 2])
    probe, loss = copy.deepcopy(model), SoftmaxCrossEntropy()
    step = step_through(model, loss, SGD(lr=0.01), x, y)
    moved = x.copy()
    numeric = numeric_gradient(lambda: loss.forward(probe.forward(moved), y), moved)
    assert relative_error(step.layers[0].grad_input, numeric).max() < 1e-6


def test_optimizer_state_follows_the_textbook_on_a_first_adam_step():
    x, y = example(2)
    step = step_through(mlp(), SoftmaxCrossEntropy(), Adam(lr=0.01, beta1=0.9, beta2=0.999), x, y)
    update = step.update("0.dense.W")
    g = update.grad.astype(np.float64)
    np.testing.assert_allclose(update.state["m"], 0.1 * g, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(update.state["v"], 0.001 * g * g, rtol=1e-5, atol=1e-15)
    # first step: m̂/√v̂ = g/|g|, so every weight with a gradient moves by lr against its sign
    moved = np.abs(g) > 1e-6
    np.testing.assert_allclose(update.change[moved], -0.01 * np.sign(g[moved]), rtol=1e-3)
    assert step.lr == 0.01 and step.optimizer_name == "Adam" and "m ←" in step.optimizer_formula


def test_sgd_update_is_minus_lr_times_the_gradient():
    x, y = example(1)
    step = step_through(mlp(), SoftmaxCrossEntropy(), SGD(lr=0.5), x, y)
    for update in step.updates:
        np.testing.assert_allclose(update.change, -0.5 * update.grad, rtol=1e-5, atol=1e-7)
        assert update.state == {}


def test_a_small_step_lowers_the_loss_on_that_example_and_a_huge_one_does_not():
    x, y = example(1, seed=4)
    small = step_through(mlp(), SoftmaxCrossEntropy(), SGD(lr=0.01), x, y)
    assert small.loss_after < small.loss_before == small.loss and small.loss_decreased
    assert small.prediction_after[0, y[0]] > small.prediction[0, y[0]]     # more sure of the right class
    huge = step_through(Sequential([Dense(2, 1)], seed=0), MSE(), SGD(lr=50.0), x, np.array([[1.0]]))
    assert huge.loss_after > huge.loss_before and not huge.loss_decreased   # overshoot: the page says so


def test_hooks_are_removed_and_formulas_are_named():
    model = mlp()
    x, y = example(1)
    step = step_through(model, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y)
    assert model._hooks == {"forward": [], "backward": []}
    assert "softmax" in step.loss_formula and "onehot" in step.loss_gradient_formula
    np.testing.assert_allclose(step.prediction.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(("args", "error", "match"), [
    (("not a model", SoftmaxCrossEntropy(), SGD(lr=0.1)), TypeError, "expected a Sequential model"),
    ((mlp(), "mse", SGD(lr=0.1)), TypeError, "expected a loss"),
    ((mlp(), SoftmaxCrossEntropy(), 0.1), TypeError, "expected an optimizer"),
])
def test_wrong_objects_are_refused_in_words(args, error, match):
    x, y = example(1)
    with pytest.raises(error, match=match):
        step_through(*args, x, y)


def test_an_empty_input_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"x\[i:i\+1\]"):
        step_through(mlp(), SoftmaxCrossEntropy(), SGD(lr=0.1), np.zeros((0, 2), np.float32), np.zeros(0, int))
