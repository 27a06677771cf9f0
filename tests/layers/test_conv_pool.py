"""Conv2D, MaxPool2D, AvgPool2D and Flatten: forward against naive nested-loop references, backward
against float64 finite differences, and the boundary checks a learner hits first."""

import numpy as np
import pytest

from learnscope.gradcheck import assert_gradients_close, check_layer_gradients
from learnscope.layers.conv import Conv2D
from learnscope.layers.flatten import Flatten
from learnscope.layers.pool import AvgPool2D, MaxPool2D

TOLERANCE = 1e-6


def distinct_values(shape, seed, spacing=0.01):
    """A shuffled ramp: no two entries closer than `spacing`, so no max-pool window is a near-tie that a
    finite-difference step could flip."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * spacing).reshape(shape)


def pair(value):
    return value if isinstance(value, tuple) else (value, value)


# -- naive references: every output entry by its definition, loops everywhere ---------------------------
def naive_conv(x, weight, bias, stride, padding):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    n, channels, height, width = x.shape
    filters, _, kh, kw = weight.shape
    padded = np.zeros((n, channels, height + 2 * ph, width + 2 * pw))
    padded[:, :, ph:ph + height, pw:pw + width] = x
    out_h, out_w = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    out = np.zeros((n, filters, out_h, out_w))
    for b in range(n):
        for f in range(filters):
            for r in range(out_h):
                for s in range(out_w):
                    total = bias[f]
                    for c in range(channels):
                        for i in range(kh):
                            for j in range(kw):
                                total += weight[f, c, i, j] * padded[b, c, r * sh + i, s * sw + j]
                    out[b, f, r, s] = total
    return out


def naive_pool(x, pool_size, stride, reduce):
    (kh, kw), (sh, sw) = pair(pool_size), pair(stride)
    n, channels, height, width = x.shape
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((n, channels, out_h, out_w))
    for b in range(n):
        for c in range(channels):
            for r in range(out_h):
                for s in range(out_w):
                    out[b, c, r, s] = reduce(x[b, c, r * sh:r * sh + kh, s * sw:s * sw + kw])
    return out


# (in_channels, out_channels, kernel_size, stride, padding, input (N, C, H, W))
CONV_CASES = [
    pytest.param(1, 2, 3, 1, 0, (2, 1, 5, 5), id="1to2_k3"),
    pytest.param(2, 3, 3, 1, 1, (2, 2, 5, 6), id="2to3_k3_pad1"),
    pytest.param(3, 2, 3, 2, 1, (2, 3, 7, 7), id="stride2_pad1_odd"),
    pytest.param(2, 2, 3, 2, 2, (2, 2, 5, 7), id="stride2_pad2_odd"),
    pytest.param(2, 3, (2, 3), (2, 1), (0, 2), (2, 2, 6, 5), id="rect_kernel_mixed"),
    pytest.param(2, 1, (3, 1), 1, (1, 0), (3, 2, 4, 3), id="column_kernel"),
    pytest.param(3, 4, 1, 1, 0, (2, 3, 3, 4), id="1x1_kernel"),
    pytest.param(1, 2, 4, 3, 0, (2, 1, 9, 8), id="stride3_leftover_rows"),
    pytest.param(1, 3, 5, 1, 2, (2, 1, 7, 6), id="grey_k5_same"),       # one channel: im2col column by column
]


def make_conv(in_channels, out_channels, kernel_size, stride, padding, dtype=np.float64):
    layer = Conv2D(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                   bias_init={"name": "normal", "std": 0.5}, rng=0, dtype=dtype)
    return layer


# -- Conv2D -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("in_channels, out_channels, kernel_size, stride, padding, shape", CONV_CASES)
def test_conv_forward_matches_naive_loops(in_channels, out_channels, kernel_size, stride, padding, shape):
    layer = make_conv(in_channels, out_channels, kernel_size, stride, padding)
    x = np.random.default_rng(1).standard_normal(shape)
    expected = naive_conv(x, layer.params["W"], layer.params["b"], stride, padding)
    out = layer.forward(x)
    assert out.shape == expected.shape == (shape[0], *layer.output_shape(shape[1:]))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("in_channels, out_channels, kernel_size, stride, padding, shape", CONV_CASES)
def test_conv_backward_matches_finite_differences(in_channels, out_channels, kernel_size, stride, padding, shape):
    layer = make_conv(in_channels, out_channels, kernel_size, stride, padding)
    result = check_layer_gradients(layer, np.random.default_rng(2).standard_normal(shape))
    assert set(result.errors) == {"x", "W", "b"}
    assert_gradients_close(result, TOLERANCE)


def test_conv_gradcheck_after_astype_float64():
    layer = Conv2D(2, 3, 3, padding=1, rng=3).astype(np.float64)
    assert_gradients_close(check_layer_gradients(layer, np.random.default_rng(4).standard_normal((2, 2, 4, 5))),
                           TOLERANCE)


def test_conv_float32_forward_close_to_naive_on_mnist_like_batch():
    layer = Conv2D(1, 4, 3, padding=1, rng=5)
    x = np.random.default_rng(6).random((3, 1, 28, 28), dtype=np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    expected = naive_conv(x.astype(np.float64), layer.params["W"].astype(np.float64),
                          layer.params["b"].astype(np.float64), 1, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_conv_float32_stays_float32_everywhere():
    layer = Conv2D(2, 3, 3, stride=2, padding=1, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6))    # float64 in: cast at the boundary
    out = layer.forward(x)
    grad_x = layer.backward(np.ones_like(out))
    assert out.dtype == grad_x.dtype == np.float32
    assert layer.params["W"].dtype == layer.grads["W"].dtype == layer.grads["b"].dtype == np.float32


def test_conv_without_input_gradient_fills_the_same_grads():
    layer = make_conv(2, 3, (3, 2), 2, 1)
    x = np.random.default_rng(7).standard_normal((3, 2, 7, 6))
    grad_out = np.random.default_rng(8).standard_normal(layer.forward(x).shape)
    assert layer.backward(grad_out, need_input_grad=True) is not None
    full = {key: grad.copy() for key, grad in layer.grads.items()}
    layer.zero_grad()
    layer.forward(x)
    assert layer.backward(grad_out, need_input_grad=False) is None
    for key in full:
        np.testing.assert_array_equal(layer.grads[key], full[key])


def test_conv_writes_grads_in_place():
    layer = Conv2D(1, 2, 3, rng=0)
    grads_before = dict(layer.grads)
    out = layer.forward(np.random.default_rng(0).standard_normal((2, 1, 5, 5)))
    layer.backward(np.ones_like(out))
    for key, grad in layer.grads.items():
        assert grad is grads_before[key], f"grads[{key!r}] was replaced, not written in place"
        assert np.any(grad != 0)


def test_conv_bias_gradient_is_sum_over_batch_and_positions():
    layer = Conv2D(1, 2, 3, padding=1, rng=0, dtype=np.float64)
    grad_out = np.random.default_rng(1).standard_normal((4, 2, 5, 5))
    layer.forward(np.zeros((4, 1, 5, 5)))
    layer.backward(grad_out, need_input_grad=False)
    np.testing.assert_allclose(layer.grads["b"], grad_out.sum(axis=(0, 2, 3)))


def test_conv_accepts_non_contiguous_input():
    layer = make_conv(3, 2, 3, 1, 1)
    x = np.random.default_rng(0).standard_normal((2, 6, 5, 3))
    channels_first = x.transpose(0, 3, 2, 1)                    # a strided view, shape (2, 3, 5, 6)
    np.testing.assert_allclose(layer.forward(channels_first), layer.forward(np.ascontiguousarray(channels_first)))


class Chain:
    """Layers run one after another, seen by check_layer_gradients as one layer with all their parameters."""

    def __init__(self, *layers):
        self.layers, self.dtype = layers, np.float64
        self.params = {f"{i}.{k}": v for i, layer in enumerate(layers) for k, v in layer.params.items()}
        self.grads = {f"{i}.{k}": v for i, layer in enumerate(layers) for k, v in layer.grads.items()}

    def forward(self, x, train=False):
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad


def test_conv_and_pool_chained_pass_channels_last_views_and_keep_exact_gradients():
    first = make_conv(2, 3, 3, 1, 1)
    pool, flatten = MaxPool2D(2, dtype=np.float64), Flatten(dtype=np.float64)
    chain = Chain(first, MaxPool2D(2, dtype=np.float64), make_conv(3, 2, 3, 1, 0), pool, flatten)
    x = distinct_values((2, 2, 12, 12), seed=4)
    # what the next layers receive is an (N, C, H, W) view of channels-last memory, not a contiguous array
    assert not first.forward(x).flags.c_contiguous
    assert_gradients_close(check_layer_gradients(chain, x), TOLERANCE)
    # Flatten sends the gradient back in the memory order its input had, so the pool walks both in step
    features = x
    for layer in chain.layers[:-1]:
        features = layer.forward(features)
    flatten.forward(features)
    assert not features.flags.c_contiguous and flatten.backward(np.ones((2, 8))).strides == features.strides


def test_conv_reset_is_repeatable_and_scaled_by_fan_in():
    first, second = Conv2D(16, 32, 3, rng=42), Conv2D(16, 32, 3, rng=42)
    np.testing.assert_array_equal(first.params["W"], second.params["W"])
    assert first.params["W"].shape == (32, 16, 3, 3) and first.params["b"].shape == (32,)
    assert np.all(first.params["b"] == 0)
    # he_normal: std = sqrt(2 / fan_in), fan_in = C·kh·kw = 144
    assert abs(first.params["W"].std() - np.sqrt(2 / 144)) < 0.01


def test_conv_output_shape_config_and_repr():
    layer = Conv2D(1, 8, (5, 3), stride=2, padding=(2, 1))
    assert layer.output_shape((1, 28, 28)) == (8, 14, 14)
    config = layer.config()
    assert config == {"in_channels": 1, "out_channels": 8, "kernel_size": [5, 3], "stride": 2,
                      "padding": [2, 1], "init": {"name": "he_normal"}, "bias_init": {"name": "zeros"}}
    assert Conv2D(**config).config() == config
    assert repr(Conv2D(1, 32, 3, padding=1)) == "Conv2D(1, 32, kernel_size=3, stride=1, padding=1)"
    assert repr(layer) == "Conv2D(1, 8, kernel_size=(5, 3), stride=2, padding=(2, 1))"


@pytest.mark.parametrize("shape, expected_fix", [
    ((32, 784), "x.reshape(-1, 1, 28, 28)"),
    ((32, 28, 28), "x[:, None]"),
    ((32, 28, 28, 1), "x.transpose(0, 3, 1, 2)"),
    ((32, 3, 28, 28), "Conv2D(3, ...)"),
])
def test_conv_rejects_wrong_input_shape_with_a_fix(shape, expected_fix):
    with pytest.raises(ValueError) as info:
        Conv2D(1, 4, 3).forward(np.zeros(shape, dtype=np.float32))
    message = str(info.value)
    assert "(N, 1, H, W)" in message and str(shape) in message and expected_fix in message


def test_conv_rejects_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel_size.*\(4, 4\).*\(2, 2\).*got kernel_size=\(5, 5\)"):
        Conv2D(1, 1, 5, padding=1).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="kernel_size"):
        Conv2D(1, 1, 5, padding=1).output_shape((1, 2, 2))
    assert Conv2D(1, 1, 5, padding=1).forward(np.zeros((1, 1, 3, 3))).shape == (1, 1, 1, 1)   # just fits


def test_conv_output_shape_rejects_wrong_example_shape():
    with pytest.raises(ValueError, match=r"\(3, H, W\), got \(1, 28, 28\)"):
        Conv2D(3, 4, 3).output_shape((1, 28, 28))


def test_conv_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="Conv2D expected x"):
        Conv2D(1, 1, 3).forward({"pixels": 1})
    with pytest.raises(TypeError, match="real numbers"):
        Conv2D(1, 1, 3).forward(np.full((1, 1, 3, 3), "a"))


@pytest.mark.parametrize("kwargs, error, text", [
    ({"kernel_size": 0}, ValueError, "kernel_size"),
    ({"kernel_size": 2.5}, TypeError, "kernel_size"),
    ({"kernel_size": (3, 3, 3)}, ValueError, "pair (h, w)"),
    ({"kernel_size": (3, True)}, TypeError, "kernel_size"),
    ({"stride": 0}, ValueError, "stride"),
    ({"padding": -1}, ValueError, "padding"),
    ({"in_channels": 0}, ValueError, "in_channels"),
    ({"out_channels": "8"}, TypeError, "out_channels"),
    ({"init": "nonsense"}, ValueError, "initializer"),
])
def test_conv_constructor_validates(kwargs, error, text):
    arguments = {"in_channels": 1, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
        Conv2D(**arguments)


# -- pooling ------------------------------------------------------------------------------------------
# (pool_size, stride, input (N, C, H, W))
POOL_CASES = [
    pytest.param(2, None, (2, 3, 6, 6), id="2x2_stride2"),
    pytest.param(3, 2, (2, 2, 7, 7), id="3x3_stride2_overlap"),
    pytest.param(2, 1, (1, 2, 4, 5), id="2x2_stride1_overlap"),
    pytest.param(2, 3, (2, 1, 8, 7), id="gaps_between_windows"),
    pytest.param((2, 3), (1, 2), (2, 2, 5, 7), id="rect_window"),
    pytest.param(2, None, (2, 2, 7, 5), id="odd_size_drops_last_row"),
]


@pytest.mark.parametrize("pool_size, stride, shape", POOL_CASES)
def test_maxpool_forward_matches_naive_loops(pool_size, stride, shape):
    layer = MaxPool2D(pool_size, stride, dtype=np.float64)
    x = distinct_values(shape, seed=0)
    expected = naive_pool(x, pool_size, stride or pool_size, np.max)
    out = layer.forward(x)
    assert out.shape == (shape[0], *layer.output_shape(shape[1:]))
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("pool_size, stride, shape", POOL_CASES)
def test_maxpool_backward_matches_finite_differences(pool_size, stride, shape):
    layer = MaxPool2D(pool_size, stride, dtype=np.float64)
    result = check_layer_gradients(layer, distinct_values(shape, seed=1))
    assert set(result.errors) == {"x"}
    assert_gradients_close(result, TOLERANCE)


def test_maxpool_routes_gradient_to_exactly_one_winner_on_ties():
    layer = MaxPool2D(2)
    layer.forward(np.zeros((1, 2, 4, 4), dtype=np.float32))     # every window is a 4-way tie
    grad_out = np.arange(1, 9, dtype=np.float32).reshape(1, 2, 2, 2)
    grad_x = layer.backward(grad_out)
    np.testing.assert_array_equal(grad_x[:, :, ::2, ::2], grad_out)    # the first entry of each window wins
    assert np.count_nonzero(grad_x) == grad_out.size and grad_x.sum() == grad_out.sum()


def test_maxpool_overlapping_windows_add_gradients_on_a_shared_winner():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0                                         # the centre wins all four 2x2 windows
    layer = MaxPool2D(2, stride=1, dtype=np.float64)
    layer.forward(x)
    grad_x = layer.backward(np.ones((1, 1, 2, 2)))
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 4.0
    np.testing.assert_array_equal(grad_x, expected)


@pytest.mark.parametrize("pool_size, stride, shape", POOL_CASES)
def test_avgpool_forward_and_backward(pool_size, stride, shape):
    layer = AvgPool2D(pool_size, stride, dtype=np.float64)
    x = np.random.default_rng(2).standard_normal(shape)
    np.testing.assert_allclose(layer.forward(x), naive_pool(x, pool_size, stride or pool_size, np.mean), rtol=1e-12)
    assert_gradients_close(check_layer_gradients(layer, x), TOLERANCE)


@pytest.mark.parametrize("layer_type", [MaxPool2D, AvgPool2D])
def test_pool_float32_in_float32_out(layer_type):
    layer = layer_type(2)
    out = layer.forward(np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32))
    assert out.dtype == np.float32 and out.shape == (2, 3, 2, 2)
    assert layer.backward(np.ones_like(out)).dtype == np.float32


@pytest.mark.parametrize("layer_type", [MaxPool2D, AvgPool2D])
def test_pool_validates_input_and_window(layer_type):
    name = layer_type.__name__
    with pytest.raises(ValueError) as info:
        layer_type(2).forward(np.zeros((32, 784)))
    assert f"{name} expected x of shape (N, C, H, W), got (32, 784)" in str(info.value)
    with pytest.raises(ValueError, match=r"pool_size that fits in the input \(2, 2\), got pool_size=\(3, 3\)"):
        layer_type(3).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        layer_type(2).output_shape((784,))
    with pytest.raises(ValueError, match="pool_size"):
        layer_type(0)
    with pytest.raises(TypeError, match="stride"):
        layer_type(2, stride=1.5)


def test_pool_config_and_repr():
    assert MaxPool2D().config() == {"pool_size": 2, "stride": 2}
    assert AvgPool2D((2, 3), 1).config() == {"pool_size": [2, 3], "stride": 1}
    assert MaxPool2D(**MaxPool2D(3, 2).config()).config() == {"pool_size": 3, "stride": 2}
    assert repr(MaxPool2D(3, 2)) == "MaxPool2D(pool_size=3, stride=2)"
    assert repr(AvgPool2D((2, 3))) == "AvgPool2D(pool_size=(2, 3), stride=(2, 3))"
    assert MaxPool2D(3, 2).output_shape((8, 28, 28)) == (8, 13, 13)


# -- Flatten ------------------------------------------------------------------------------------------
def test_flatten_forward_backward_and_gradients():
    layer = Flatten(dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    out = layer.forward(x)
    assert out.shape == (2, 60) and layer.output_shape((3, 4, 5)) == (60,)
    np.testing.assert_array_equal(out[1], x[1].ravel())        # row-major: one example's pixels stay together
    np.testing.assert_array_equal(layer.backward(out), x)
    assert_gradients_close(check_layer_gradients(layer, x), TOLERANCE)


def test_flatten_handles_empty_batch_and_rejects_unbatched():
    assert Flatten().forward(np.zeros((0, 3, 4))).shape == (0, 12)
    with pytest.raises(ValueError, match=r"\(N, \.\.\.\).*got \(784,\)"):
        Flatten().forward(np.zeros(784))


# -- call order ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [Conv2D(1, 1, 3), MaxPool2D(), AvgPool2D(), Flatten()], ids=repr)
def test_backward_before_forward_raises(layer):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones((1, 1, 2, 2)))
