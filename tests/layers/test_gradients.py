"""Every layer's and loss's backward against float64 central finite differences."""

import numpy as np
import pytest

from learnscope.gradcheck import (
    assert_gradients_close,
    check_layer_gradients,
    check_loss_gradients,
)
from learnscope.layers import (
    BatchNorm,
    Conv2D,
    Dense,
    DigitSum,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Residual,
    Sigmoid,
    Softmax,
    Standardize,
    Tanh,
    Unstack,
)
from learnscope.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy

TOLERANCE = 1e-6


def distinct_values(shape, seed):
    """Inputs with no ties and none near 0, so max-pool and ReLU kinks are never straddled by ±h."""
    rng = np.random.default_rng(seed)
    values = (rng.permutation(np.prod(shape)) + 1) / np.prod(shape) * rng.choice([-1, 1], np.prod(shape))
    return values.reshape(shape)


def warmed_batchnorm(n_features, shape):
    layer = BatchNorm(n_features).astype(np.float64)
    rng = np.random.default_rng(5)
    for _ in range(3):                                  # non-trivial running statistics for eval mode
        layer.forward(rng.standard_normal(shape) * 2 + 1, train=True)
    layer.params["gamma"][...] = rng.uniform(0.5, 1.5, n_features)
    layer.params["beta"][...] = rng.standard_normal(n_features)
    return layer


# (id, layer factory, input shape, train mode)
LAYER_CASES = [
    ("dense", lambda: Dense(5, 3), (4, 5), True),
    ("relu", ReLU, (4, 6), True),
    ("leaky_relu", lambda: LeakyReLU(0.1), (4, 6), True),
    ("sigmoid", Sigmoid, (4, 6), True),
    ("tanh", Tanh, (4, 6), True),
    ("softmax", Softmax, (4, 6), True),
    ("identity", Identity, (4, 6), True),
    ("relu_4d", ReLU, (2, 3, 4, 4), True),
    ("flatten", Flatten, (2, 3, 4, 4), True),
    ("unstack", lambda: Unstack(2), (3, 2, 1, 4, 4), True),
    ("digit_sum_1", lambda: DigitSum(1), (6, 10), True),
    ("digit_sum_2", lambda: DigitSum(2), (8, 10), True),
    ("conv_basic", lambda: Conv2D(2, 3, 3), (2, 2, 6, 6), True),
    ("conv_stride2_pad1", lambda: Conv2D(2, 3, 3, stride=2, padding=1), (2, 2, 7, 7), True),
    ("conv_rect_kernel_pad2", lambda: Conv2D(3, 2, (2, 3), stride=(1, 2), padding=2), (2, 3, 5, 6), True),
    ("maxpool_2x2", lambda: MaxPool2D(2), (2, 3, 6, 6), True),
    ("maxpool_3x3_overlap", lambda: MaxPool2D(3, stride=2), (2, 2, 7, 7), True),
    ("batchnorm_2d_train", lambda: warmed_batchnorm(4, (8, 4)), (8, 4), True),
    ("batchnorm_2d_eval", lambda: warmed_batchnorm(4, (8, 4)), (8, 4), False),
    ("batchnorm_4d_train", lambda: warmed_batchnorm(3, (4, 3, 3, 3)), (4, 3, 3, 3), True),
    ("batchnorm_4d_eval", lambda: warmed_batchnorm(3, (4, 3, 3, 3)), (4, 3, 3, 3), False),
    ("dropout_eval", lambda: Dropout(0.3), (4, 6), False),
    ("standardize", lambda: Standardize(0.13, 0.31), (2, 1, 3, 3), True),
    ("residual_sigmoid", lambda: Residual(5, "sigmoid", init="xavier_uniform"), (4, 5), True),
    ("residual_tanh", lambda: Residual(5, "tanh", bias_init={"name": "normal", "std": 0.5}), (4, 5), True),
]


@pytest.mark.parametrize("factory, shape, train", [case[1:] for case in LAYER_CASES],
                         ids=[case[0] for case in LAYER_CASES])
def test_layer_backward_matches_finite_differences(factory, shape, train):
    layer = factory().astype(np.float64)
    if hasattr(layer, "reset") and not isinstance(layer, (BatchNorm, Dropout)):
        layer.reset(np.random.default_rng(1))
    result = check_layer_gradients(layer, distinct_values(shape, seed=2), train=train)
    assert set(result.errors) == {"x", *layer.params}
    assert_gradients_close(result, TOLERANCE)


def test_dropout_train_mode_with_replayed_mask():
    layer = Dropout(0.4).astype(np.float64)
    replay = lambda: layer.reset(np.random.default_rng(0))  # noqa: E731 - the same mask for every forward
    result = check_layer_gradients(layer, distinct_values((5, 8), 3), train=True, before_forward=replay)
    assert_gradients_close(result, TOLERANCE)


LOSS_CASES = [
    ("mse", MSE, (6, 3), lambda rng: rng.standard_normal((6, 3))),
    ("mse_column_vs_flat_targets", MSE, (6, 1), lambda rng: rng.standard_normal(6)),
    ("softmax_ce_labels", SoftmaxCrossEntropy, (6, 4), lambda rng: rng.integers(0, 4, 6)),
    ("softmax_ce_soft_targets", SoftmaxCrossEntropy, (6, 4), lambda rng: rng.dirichlet(np.ones(4), 6)),
    ("bce_column", BinaryCrossEntropy, (6, 1), lambda rng: rng.integers(0, 2, 6)),
    ("bce_flat", BinaryCrossEntropy, (6,), lambda rng: rng.integers(0, 2, 6).astype(float)),
]


@pytest.mark.parametrize("loss_type, shape, make_targets", [case[1:] for case in LOSS_CASES],
                         ids=[case[0] for case in LOSS_CASES])
def test_loss_backward_matches_finite_differences(loss_type, shape, make_targets):
    rng = np.random.default_rng(4)
    output = rng.standard_normal(shape) * 3
    result = check_loss_gradients(loss_type(dtype=np.float64), output, make_targets(rng))
    assert_gradients_close(result, TOLERANCE)


class DenseWithWrongInputGradient(Dense):
    def backward(self, grad_out, need_input_grad=True):
        return 1.01 * super().backward(grad_out, need_input_grad)   # a 1% bug


class DenseWithTransposeBug(Dense):
    def backward(self, grad_out, need_input_grad=True):
        grad_in = super().backward(grad_out, need_input_grad)
        self.grads["b"][...] = grad_out.mean(axis=0)                # the classic sum-vs-mean slip
        return grad_in


@pytest.mark.parametrize("broken, culprit", [(DenseWithWrongInputGradient, "x"), (DenseWithTransposeBug, "b")])
def test_checker_catches_a_wrong_backward(broken, culprit):
    layer = broken(4, 3, rng=0).astype(np.float64)
    result = check_layer_gradients(layer, distinct_values((5, 4), 0))
    with pytest.raises(AssertionError, match=culprit):
        assert_gradients_close(result, TOLERANCE)
    assert result.errors[culprit] > 1e-3


def test_checker_catches_a_wrong_loss_gradient():
    class HalfMSE(MSE):
        def backward(self):
            return super().backward() / 2

    output = np.random.default_rng(0).standard_normal((4, 2))
    with pytest.raises(AssertionError, match="output"):
        assert_gradients_close(check_loss_gradients(HalfMSE(dtype=np.float64), output, np.zeros((4, 2))))


def test_checker_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        check_layer_gradients(Dense(2, 2), np.zeros((1, 2), dtype=np.float32))
