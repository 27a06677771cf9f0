"""Sequential: the passes, parameters, hooks, dtype, determinism."""

import numpy as np
import pytest

from learnscope.gradcheck import numeric_gradient, relative_error
from learnscope.layers import Dense, Dropout, ReLU, Tanh
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam


def small_mlp(seed=0, dropout=0.0):
    return Sequential([Dense(4, 8), Tanh(), Dropout(dropout), Dense(8, 3)], seed=seed)


def batch(seed=0, n=16):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)).astype(np.float32), rng.integers(0, 3, n)


def train_steps(model, optimizer, n_steps, seed=0):
    loss = SoftmaxCrossEntropy()
    x, y = batch(seed, n=64)
    for step in range(n_steps):
        rows = slice((step * 16) % 64, (step * 16) % 64 + 16)
        loss.forward(model.forward(x[rows], train=True), y[rows])
        model.backward(loss.backward(), need_input_grad=False)
        optimizer.step(model.named_params())


def test_whole_model_gradient_matches_finite_differences():
    model = Sequential([Dense(3, 5), Tanh(), Dense(5, 4), ReLU(), Dense(4, 2)], seed=3).astype(np.float64)
    x = np.random.default_rng(0).standard_normal((6, 3))
    y = np.random.default_rng(1).standard_normal((6, 2))
    loss = MSE(dtype=np.float64)
    loss.forward(model.forward(x), y)
    grad_x = model.backward(loss.backward())
    for name, param, grad in model.named_params():
        numeric = numeric_gradient(lambda: loss.forward(model.forward(x), y), param)
        assert relative_error(grad, numeric).max() < 1e-6, name
    numeric_x = numeric_gradient(lambda: loss.forward(model.forward(x), y), x)
    assert relative_error(grad_x, numeric_x).max() < 1e-6


def test_named_params_are_the_live_arrays():
    model = small_mlp()
    names = [name for name, _, _ in model.named_params()]
    assert names == ["0.dense.W", "0.dense.b", "3.dense.W", "3.dense.b"]
    _, weight, grad = model.named_params()[0]
    assert weight is model.layers[0].params["W"] and grad is model.layers[0].grads["W"]
    assert model.n_params() == 4 * 8 + 8 + 8 * 3 + 3


def test_backward_fills_grads_in_place_and_can_skip_the_input_gradient():
    model = small_mlp()
    grad_before = model.layers[0].grads["W"]
    x, y = batch()
    loss = SoftmaxCrossEntropy()
    loss.forward(model.forward(x, train=True), y)
    assert model.backward(loss.backward(), need_input_grad=False) is None
    assert model.layers[0].grads["W"] is grad_before and np.abs(grad_before).sum() > 0
    full = model.backward(loss.backward())
    assert full.shape == x.shape


def test_hooks_see_every_layer_and_can_be_removed():
    model = small_mlp()
    seen_forward, seen_backward = [], []
    forward_handle = model.register_hook("forward", lambda i, layer, x, out: seen_forward.append((i, out.shape)))
    backward_handle = model.register_hook("backward", lambda i, layer, g_out, g_in: seen_backward.append(i))
    x, y = batch()
    loss = SoftmaxCrossEntropy()
    plain = small_mlp().forward(x)
    hooked = model.forward(x)
    np.testing.assert_array_equal(plain, hooked)        # watching does not change the numbers
    loss.forward(hooked, y)
    model.backward(loss.backward())
    assert seen_forward == [(0, (16, 8)), (1, (16, 8)), (2, (16, 8)), (3, (16, 3))]
    assert seen_backward == [3, 2, 1, 0]
    forward_handle.remove()
    backward_handle.remove()
    forward_handle.remove()                             # twice is harmless
    model.forward(x)
    assert len(seen_forward) == 4


def test_predict_is_batched_and_in_eval_mode():
    model = small_mlp(dropout=0.5)
    x, _ = batch(n=50)
    np.testing.assert_allclose(model.predict(x, batch_size=7), model.forward(x, train=False), rtol=1e-6)
    assert not np.allclose(model.forward(x, train=True), model.forward(x, train=False))


def test_astype_converts_everything():
    model = small_mlp().astype(np.float64)
    assert all(p.dtype == np.float64 and g.dtype == np.float64 for _, p, g in model.named_params())
    assert model.forward(batch()[0]).dtype == np.float64


def test_float32_by_default_even_for_float64_or_integer_input():
    model = small_mlp()
    assert model.forward(np.ones((2, 4))).dtype == np.float32
    assert model.forward(np.ones((2, 4), dtype=np.uint8)).dtype == np.float32


def test_summary_lists_layers_shapes_and_parameter_count():
    text = small_mlp().summary(input_shape=(4,))
    assert "Dense(4, 8" in text and "(8,)" in text and "(3,)" in text
    assert "total trainable parameters: 67" in text


@pytest.mark.parametrize("make_optimizer", [lambda: SGD(lr=0.1, momentum=0.9), lambda: Adam(lr=1e-2)])
def test_same_seed_gives_bit_identical_weights_after_100_steps(make_optimizer):
    first, second = small_mlp(seed=7, dropout=0.2), small_mlp(seed=7, dropout=0.2)
    train_steps(first, make_optimizer(), 100)
    train_steps(second, make_optimizer(), 100)
    for (name, a, _), (_, b, _) in zip(first.named_params(), second.named_params()):
        assert a.tobytes() == b.tobytes(), name


def test_different_seeds_give_different_weights():
    first, second = small_mlp(seed=1, dropout=0.2), small_mlp(seed=2, dropout=0.2)
    train_steps(first, SGD(lr=0.1), 100)
    train_steps(second, SGD(lr=0.1), 100)
    assert not np.array_equal(first.layers[0].params["W"], second.layers[0].params["W"])


def test_input_with_nan_is_refused_with_advice():
    x, _ = batch()
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN/inf value\(s\).*impute"):
        small_mlp().forward(x)


def test_constructor_refuses_non_layers():
    with pytest.raises(TypeError, match="position 1.*parentheses"):
        Sequential([Dense(2, 2), ReLU])
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential([])


def test_backward_before_forward_is_a_call_order_error():
    with pytest.raises(RuntimeError, match="before forward"):
        small_mlp().backward(np.ones((2, 3), dtype=np.float32))


def test_training_backward_stops_at_the_first_layer_with_parameters():
    from learnscope.layers import Flatten

    model = Sequential([Flatten(), Dense(12, 5), ReLU(), Dense(5, 3)], seed=0)
    calls = []
    model.register_hook("backward", lambda i, layer, g_out, g_in: calls.append((i, g_in is None)))
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32)
    loss = SoftmaxCrossEntropy()
    loss.forward(model.forward(x, train=True), np.array([0, 1, 2, 0]))
    assert model.backward(loss.backward(), need_input_grad=False) is None
    assert calls == [(3, False), (2, False), (1, True)]   # Dense(12, 5) skips dL/dx; Flatten is not visited
    weights_grad = model.layers[1].grads["W"].copy()
    calls.clear()
    assert model.backward(loss.backward()).shape == x.shape
    assert [index for index, _ in calls] == [3, 2, 1, 0]
    np.testing.assert_array_equal(model.layers[1].grads["W"], weights_grad)
