"""Dropout and BatchNorm: gradients against finite differences, the statistics each layer promises,
reproducibility, dtypes and the error messages a learner sees."""

import numpy as np
import pytest

from learnscope.gradcheck import assert_gradients_close, check_layer_gradients
from learnscope.layers.batchnorm import BatchNorm
from learnscope.layers.dense import Dense
from learnscope.layers.dropout import Dropout
from learnscope.model import Sequential


def _batchnorm64(n_features, seed=0, **kwargs):
    """A float64 BatchNorm with non-trivial γ and β, so their gradients are not a special case."""
    layer = BatchNorm(n_features, dtype=np.float64, **kwargs)
    rng = np.random.default_rng(seed)
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, n_features)
    layer.params["beta"][...] = rng.normal(size=n_features)
    return layer


def _data(shape, seed=1, loc=0.5, scale=2.0, dtype=np.float64):
    return np.random.default_rng(seed).normal(loc, scale, shape).astype(dtype)


# -- finite-difference gradient checks (float64) --------------------------------------------------

BATCHNORM_SHAPES = [(6, 4), (3, 2, 3, 3)]


@pytest.mark.parametrize("shape", BATCHNORM_SHAPES, ids=["NC", "NCHW"])
def test_batchnorm_train_gradients_match_finite_differences(shape):
    layer = _batchnorm64(shape[1])
    result = check_layer_gradients(layer, _data(shape), train=True)
    assert set(result.errors) == {"x", "gamma", "beta"}
    assert_gradients_close(result, tol=1e-6)


@pytest.mark.parametrize("shape", BATCHNORM_SHAPES, ids=["NC", "NCHW"])
def test_batchnorm_eval_gradients_match_finite_differences(shape):
    layer = _batchnorm64(shape[1], momentum=0.5)
    for seed in range(3):                               # non-trivial running statistics first
        layer.forward(_data(shape, seed=10 + seed, loc=3.0, scale=0.5), train=True)
    assert not np.allclose(layer.buffers["running_mean"], 0)
    assert not np.allclose(layer.buffers["running_var"], 1)
    result = check_layer_gradients(layer, _data(shape), train=False)
    assert_gradients_close(result, tol=1e-6)


@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 4, 4)], ids=["NC", "NCHW"])
def test_dropout_train_gradients_match_finite_differences(shape):
    layer = Dropout(0.4, dtype=np.float64)
    result = check_layer_gradients(layer, _data(shape), train=True,
                                   before_forward=lambda: layer.reset(np.random.default_rng(0)))
    assert_gradients_close(result, tol=1e-6)


def test_dropout_eval_gradients_match_finite_differences():
    layer = Dropout(0.4, dtype=np.float64)
    assert_gradients_close(check_layer_gradients(layer, _data((5, 7)), train=False), tol=1e-6)


def test_gradient_check_catches_a_wrong_batchnorm_backward():
    """The check must be able to fail: drop the Σ(dy·x̂) term and it has to notice."""

    class Broken(BatchNorm):
        def backward(self, grad_out, need_input_grad=True):
            super().backward(grad_out, need_input_grad)
            count = self._x_hat.size // self.n_features
            return self.params["gamma"] * self._inv_std * (grad_out - grad_out.sum(axis=0) / count)

    layer = Broken(4, dtype=np.float64)
    with pytest.raises(AssertionError, match="x: max relative error"):
        assert_gradients_close(check_layer_gradients(layer, _data((6, 4)), train=True), tol=1e-6)


# -- Dropout behaviour ----------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_one_minus_p_of_units_and_preserves_the_mean(p):
    n = 1_000_000
    layer = Dropout(p, rng=0)
    x = np.ones((1000, 1000), dtype=np.float32)
    out = layer.forward(x, train=True)
    kept = np.count_nonzero(out) / n
    # Binomial(n, 1 − p): 6 standard deviations is a bound a correct layer essentially never crosses.
    assert abs(kept - (1 - p)) < 6 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-6)    # kept units scaled by 1/(1 − p)
    # E[y] = x: the mean of the output of ones is kept/(1 − p), with sd √(p / ((1 − p)·n)).
    assert abs(out.mean(dtype=np.float64) - 1) < 6 * np.sqrt(p / ((1 - p) * n))


def test_dropout_preserves_the_mean_of_varied_inputs():
    x = _data((2000, 50), dtype=np.float32, loc=3.0, scale=1.0)
    outputs = [Dropout(0.5, rng=seed).forward(x, train=True) for seed in range(20)]
    average = np.mean(outputs, axis=0, dtype=np.float64)
    # Each entry averages 20 draws of x·{0, 2}: sd x/√20 ≈ 0.7 per entry, so the grand mean is tight.
    assert abs(average.mean() - x.mean(dtype=np.float64)) < 6 * 3.0 / np.sqrt(20 * x.size)
    assert np.abs(average - x).max() > 0.1                              # ... while single entries vary


def test_dropout_is_the_identity_in_eval_mode_and_with_p_zero():
    x = _data((4, 3, 5, 5), dtype=np.float32)
    layer = Dropout(0.5, rng=0)
    np.testing.assert_array_equal(layer.forward(x, train=False), x)
    g = _data(x.shape, seed=2, dtype=np.float32)
    np.testing.assert_array_equal(layer.backward(g), g)
    np.testing.assert_array_equal(Dropout(0.0, rng=0).forward(x, train=True), x)


def test_dropout_backward_uses_the_forward_mask():
    layer = Dropout(0.3, rng=5)
    x = _data((64, 32), dtype=np.float32) + 10.0        # no zeros in x, so out == 0 marks exactly the dropped units
    out = layer.forward(x, train=True)
    g = _data(x.shape, seed=3, dtype=np.float32)
    grad = layer.backward(g)
    expected = np.where(out != 0, g / np.float32(0.7), 0)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)
    assert layer.backward(g, need_input_grad=False) is None


def test_dropout_same_seed_same_mask_different_seed_different_mask():
    x = np.ones((50, 40), dtype=np.float32)
    first = Dropout(0.5, rng=7).forward(x, train=True)
    again = Dropout(0.5, rng=7).forward(x, train=True)
    other = Dropout(0.5, rng=8).forward(x, train=True)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    layer = Dropout(0.5, rng=7)                         # successive batches draw fresh masks
    assert not np.array_equal(layer.forward(x, train=True), layer.forward(x, train=True))


def test_dropout_masks_replay_bit_for_bit_through_sequential_seed():
    x = _data((16, 8), dtype=np.float32)

    def run(seed):
        model = Sequential([Dense(8, 8), Dropout(0.5), Dense(8, 2)], seed=seed)
        return [model.forward(x, train=True) for _ in range(3)]

    for a, b in zip(run(3), run(3), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(run(3)[0], run(4)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_its_dtype(dtype):
    layer = Dropout(0.5, rng=0, dtype=dtype)
    out = layer.forward(_data((8, 4)), train=True)
    assert out.dtype == dtype
    assert layer.backward(np.ones((8, 4), dtype=dtype)).dtype == dtype


def test_dropout_config_repr_and_call_order():
    layer = Dropout(0.25)
    assert layer.config() == {"p": 0.25}
    assert repr(layer) == "Dropout(p=0.25)"
    assert layer.output_shape((3, 28, 28)) == (3, 28, 28)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones((2, 2), dtype=np.float32))


@pytest.mark.parametrize(("p", "error", "fragments"), [
    (1, ValueError, ["[0, 1)", "got 1", "drop every unit"]),
    (1.0, ValueError, ["[0, 1)", "got 1"]),
    (-0.1, ValueError, ["[0, 1)", "got -0.1"]),
    (1.5, ValueError, ["[0, 1)", "got 1.5"]),
    (float("nan"), ValueError, ["finite", "nan"]),
    ("0.5", TypeError, ["number", "'0.5'"]),
])
def test_dropout_rejects_bad_p(p, error, fragments):
    with pytest.raises(error) as info:
        Dropout(p)
    for fragment in fragments:
        assert fragment in str(info.value)


# -- BatchNorm behaviour --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(256, 5), (16, 3, 6, 6)], ids=["NC", "NCHW"])
def test_batchnorm_train_output_is_standardized_per_channel(shape):
    x = _data(shape, dtype=np.float32, loc=4.0, scale=3.0)
    out = BatchNorm(shape[1]).forward(x, train=True)
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    np.testing.assert_allclose(out.mean(axis=axes, dtype=np.float64), 0, atol=1e-5)
    # biased variance ≈ 1 − eps/σ², so slightly below 1
    np.testing.assert_allclose(out.var(axis=axes, dtype=np.float64), 1, atol=1e-4)


@pytest.mark.parametrize("shape", [(10, 3), (4, 3, 5, 2)], ids=["NC", "NCHW"])
def test_batchnorm_running_statistics_follow_the_momentum_formula(shape):
    momentum = 0.3
    layer = BatchNorm(3, momentum=momentum, dtype=np.float64)
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    running_mean, running_var = np.zeros(3), np.ones(3)
    for seed in range(5):
        x = _data(shape, seed=seed, loc=seed, scale=1 + seed)
        layer.forward(x, train=True)
        running_mean = (1 - momentum) * running_mean + momentum * x.mean(axis=axes)
        running_var = (1 - momentum) * running_var + momentum * x.var(axis=axes, ddof=1)   # unbiased
    np.testing.assert_allclose(layer.buffers["running_mean"], running_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], running_var, rtol=1e-12)


def test_batchnorm_eval_uses_running_statistics_and_leaves_them_alone():
    layer = _batchnorm64(4, momentum=0.5)
    for seed in range(4):
        layer.forward(_data((32, 4), seed=seed, loc=2.0, scale=3.0), train=True)
    mean, var = layer.buffers["running_mean"].copy(), layer.buffers["running_var"].copy()
    x = _data((8, 4), seed=99, loc=-1.0, scale=0.5)
    out = layer.forward(x, train=False)
    gamma, beta = layer.params["gamma"], layer.params["beta"]
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + layer.eps) + beta, rtol=1e-12)
    batch_normalized = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + layer.eps) + beta
    assert not np.allclose(out, batch_normalized, atol=1e-2)
    np.testing.assert_array_equal(layer.buffers["running_mean"], mean)
    np.testing.assert_array_equal(layer.buffers["running_var"], var)
    # one example at a time gives the same answer: eval mode does not depend on the batch
    np.testing.assert_allclose(layer.forward(x[:1], train=False), out[:1], rtol=1e-12)


def test_batchnorm_momentum_extremes():
    x = _data((20, 2))
    frozen = BatchNorm(2, momentum=0.0, dtype=np.float64)
    frozen.forward(x, train=True)
    np.testing.assert_array_equal(frozen.buffers["running_mean"], 0)
    np.testing.assert_array_equal(frozen.buffers["running_var"], 1)
    latest = BatchNorm(2, momentum=1.0, dtype=np.float64)
    latest.forward(x, train=True)
    np.testing.assert_allclose(latest.buffers["running_mean"], x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(latest.buffers["running_var"], x.var(axis=0, ddof=1), rtol=1e-12)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 2, 2)], ids=["NC", "NCHW"])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_float32_stays_float32(shape, train):
    layer = BatchNorm(3)
    assert layer.dtype == np.float32
    out = layer.forward(_data(shape), train=train)      # float64 input is cast to the layer's dtype
    grad = layer.backward(np.ones(shape, dtype=np.float32))
    assert out.dtype == grad.dtype == np.float32
    for store in (layer.params, layer.grads, layer.buffers):
        assert all(value.dtype == np.float32 for value in store.values())


def test_batchnorm_astype_converts_buffers():
    layer = BatchNorm(3)
    layer.forward(_data((8, 3)), train=True)
    before = layer.buffers["running_var"].copy()
    layer.astype(np.float64)
    assert set(layer.buffers) == {"running_mean", "running_var"}
    assert all(value.dtype == np.float64 for value in layer.buffers.values())
    np.testing.assert_allclose(layer.buffers["running_var"], before, rtol=1e-7)
    assert layer.forward(_data((8, 3)), train=True).dtype == np.float64


def test_batchnorm_grads_are_written_in_place():
    layer = BatchNorm(3, dtype=np.float64)
    gamma_grad, beta_grad = layer.grads["gamma"], layer.grads["beta"]
    layer.forward(_data((8, 3)), train=True)
    layer.backward(_data((8, 3), seed=4))
    assert layer.grads["gamma"] is gamma_grad and layer.grads["beta"] is beta_grad
    assert np.any(gamma_grad != 0) and np.any(beta_grad != 0)
    assert layer.backward(_data((8, 3), seed=4), need_input_grad=False) is None


def test_batchnorm_reset_restores_the_initial_state_through_sequential():
    model = Sequential([Dense(3, 3), BatchNorm(3)])
    model.forward(_data((8, 3)), train=True)
    model.layers[1].params["gamma"][...] = 2.0
    model.reset(0)
    bn = model.layers[1]
    np.testing.assert_array_equal(bn.params["gamma"], 1)
    np.testing.assert_array_equal(bn.params["beta"], 0)
    np.testing.assert_array_equal(bn.buffers["running_mean"], 0)
    np.testing.assert_array_equal(bn.buffers["running_var"], 1)
    assert [name for name, _ in model.named_buffers()] == ["1.batchnorm.running_mean", "1.batchnorm.running_var"]


def test_batchnorm_shapes_config_repr_and_call_order():
    layer = BatchNorm(16)
    assert layer.output_shape((16,)) == (16,)
    assert layer.output_shape((16, 7, 7)) == (16, 7, 7)
    with pytest.raises(ValueError, match=r"\(16,\).*got \(8, 7, 7\)"):
        layer.output_shape((8, 7, 7))
    assert repr(layer) == "BatchNorm(16)"
    assert repr(BatchNorm(4, momentum=0.2)) == "BatchNorm(4, momentum=0.2)"
    config = BatchNorm(4, momentum=0.2, eps=1e-3).config()
    assert config == {"n_features": 4, "momentum": 0.2, "eps": 1e-3}
    assert BatchNorm(**config).config() == config
    with pytest.raises(RuntimeError, match=r"BatchNorm\.backward called before forward"):
        layer.backward(np.ones((2, 16), dtype=np.float32))


def test_batchnorm_batch_of_one_works_in_eval_mode():
    out = BatchNorm(3).forward(np.ones((1, 3), dtype=np.float32), train=False)
    assert out.shape == (1, 3)


def test_batchnorm_one_image_trains_on_its_pixels():
    """(1, C, H, W) has H·W values per channel, enough for a variance (PyTorch allows it too)."""
    out = BatchNorm(3).forward(_data((1, 3, 4, 4), dtype=np.float32), train=True)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3), dtype=np.float64), 0, atol=1e-5)


@pytest.mark.parametrize(("x", "train", "error", "fragments"), [
    (np.zeros((4, 5)), True, ValueError, ["(N, 3)", "(4, 5)", "BatchNorm(5)"]),
    (np.zeros((4, 2, 6, 6)), True, ValueError, ["(N, 3, H, W)", "(4, 2, 6, 6)", "2 channels"]),
    (np.zeros((4, 3, 6)), True, ValueError, ["2-D or 4-D", "(4, 3, 6)"]),
    (np.zeros(3), False, ValueError, ["2-D or 4-D", "(3,)"]),
    (np.ones((1, 3)), True, ValueError, ["at least 2", "(1, 3)", "train=False"]),
    (np.ones((1, 3, 1, 1)), True, ValueError, ["at least 2", "(1, 3, 1, 1)"]),
    (np.array([["a", "b", "c"]] * 2), True, TypeError, ["real numbers", "<U1"]),
    ({"x": [1, 2, 3]}, True, TypeError, ["NumPy array", "dict"]),
])
def test_batchnorm_rejects_bad_input(x, train, error, fragments):
    with pytest.raises(error) as info:
        BatchNorm(3).forward(x, train=train)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(("kwargs", "error", "fragments"), [
    ({"eps": 0}, ValueError, ["eps > 0", "got 0"]),
    ({"eps": -1e-5}, ValueError, ["eps > 0", "got -1e-05"]),
    ({"momentum": 1.5}, ValueError, ["[0, 1]", "got 1.5"]),
    ({"momentum": -0.1}, ValueError, ["[0, 1]", "got -0.1"]),
    ({"n_features": 0}, ValueError, ["n_features", "got 0"]),
    ({"n_features": 3.0}, TypeError, ["int", "3.0"]),
])
def test_batchnorm_rejects_bad_hyperparameters(kwargs, error, fragments):
    arguments = {"n_features": 3, **kwargs}
    with pytest.raises(error) as info:
        BatchNorm(**arguments)
    for fragment in fragments:
        assert fragment in str(info.value)
