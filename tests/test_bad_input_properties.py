"""Property-based: random shapes, dtypes and NaNs thrown at every layer, loss and constructor
produce either a correct result or a ValueError/TypeError that explains itself, never a crash
from deep inside NumPy."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from learnscope.layers import (
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Standardize,
    Step,
    Tanh,
)
from learnscope.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam, AdamW, RMSprop

EXPLAINED = (ValueError, TypeError)
LAYERS = [
    lambda: Dense(6, 3, rng=0), ReLU, lambda: LeakyReLU(0.1), Sigmoid, Tanh, Softmax, Identity, Step,
    Flatten, lambda: Conv2D(2, 3, 3, padding=1, rng=0), lambda: MaxPool2D(2), lambda: BatchNorm(2),
    lambda: Dropout(0.5, rng=0), lambda: Standardize(0.1, 0.3),
]
LOSS_TYPES = [MSE, SoftmaxCrossEntropy, BinaryCrossEntropy]

shapes = hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=6)
numeric_dtypes = st.sampled_from([np.float32, np.float64, np.float16, np.int32, np.uint8, np.bool_])
odd_dtypes = st.sampled_from([np.complex64, np.dtype("U3"), np.dtype("O"), np.dtype("M8[s]")])


@st.composite
def arrays_with_nans(draw):
    """Numeric arrays of any shape, some entries replaced by NaN or ±inf."""
    dtype = draw(numeric_dtypes)
    array = draw(hnp.arrays(dtype, draw(shapes), elements=hnp.from_dtype(np.dtype(dtype), allow_nan=False,
                                                                             allow_infinity=False, min_value=-1e3,
                                                                             max_value=1e3)
                            if np.dtype(dtype).kind == "f" else None))
    if array.dtype.kind == "f" and array.size and draw(st.booleans()):
        flat = array.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return array


anything = st.one_of(
    arrays_with_nans(),
    hnp.arrays(odd_dtypes, hnp.array_shapes(max_dims=3, max_side=3)),
    st.none(), st.text(max_size=5), st.integers(), st.floats(), st.lists(st.floats(), max_size=4),
    st.lists(st.lists(st.integers(), max_size=3), max_size=3),
)
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # examples: see conftest.py


def assert_explained(error: Exception):
    assert isinstance(error, EXPLAINED), f"{type(error).__name__}: {error}"
    assert len(str(error)) > 20, f"terse message: {error}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN/inf inside a layer propagate, as IEEE says
@pytest.mark.parametrize("factory", LAYERS, ids=lambda f: getattr(f, "__name__", "layer"))
@given(x=anything, train=st.booleans())
@relaxed
def test_layer_forward_and_backward_fail_only_with_explained_errors(factory, x, train):
    layer = factory()
    try:
        out = layer.forward(x, train=train)
    except Exception as error:
        assert_explained(error)
        return
    assert isinstance(out, np.ndarray) and out.dtype == layer.dtype
    if layer.differentiable:
        grad = layer.backward(np.ones_like(out))
        assert grad.shape == np.shape(x)


@pytest.mark.parametrize("loss_type", LOSS_TYPES, ids=lambda c: c.__name__)
@given(output=anything, y=anything)
@relaxed
def test_losses_fail_only_with_explained_errors(loss_type, output, y):
    loss = loss_type()
    try:
        value = loss.forward(output, y)
    except Exception as error:
        assert_explained(error)
        return
    assert np.isfinite(value)
    assert loss.backward().shape == np.shape(output)


@given(x=anything)
@relaxed
def test_model_refuses_nan_and_wrong_shapes_with_explained_errors(x):
    model = Sequential([Dense(6, 4), Tanh(), Dense(4, 2)], seed=0)
    try:
        out = model.forward(x)
    except Exception as error:
        assert_explained(error)
        return
    assert np.isfinite(out).all()


CONSTRUCTORS = [Dense, Conv2D, MaxPool2D, BatchNorm, Dropout, LeakyReLU, Step, Standardize, SGD, Adam, AdamW,
                RMSprop]
arguments = st.one_of(st.integers(-5, 10**7), st.floats(allow_nan=True), st.none(), st.text(max_size=3),
                      st.booleans(), st.tuples(st.integers(-2, 5), st.integers(-2, 5)))


@pytest.mark.parametrize("constructor", CONSTRUCTORS, ids=lambda c: c.__name__)
@given(args=st.lists(arguments, max_size=3))
@relaxed
def test_constructors_fail_only_with_explained_errors(constructor, args):
    try:
        constructor(*args)
    except Exception as error:
        assert_explained(error)


def test_the_issue_example_message():
    with pytest.raises(ValueError) as info:
        Dense(784, 128).forward(np.zeros((32, 28, 28), dtype=np.float32))
    assert str(info.value) == "Dense expected x of shape (N, 784), got (32, 28, 28). Add Flatten() before Dense."


@pytest.mark.parametrize("loss_type, y", [(MSE, np.zeros(2, dtype=np.float32)),
                                          (SoftmaxCrossEntropy, np.array([[0.5, 0.5]], dtype=np.float16))])
def test_float16_outputs_are_computed_in_float32(loss_type, y):
    output = np.array([[489.0, 0.0]], dtype=np.float16) if y.ndim == 2 else np.array([256.0, 0.0], dtype=np.float16)
    assert np.isfinite(loss_type().forward(output, y))      # float16 would overflow: 256² and e^489


def test_soft_targets_must_be_probabilities():
    with pytest.raises(ValueError, match="probabilities"):
        SoftmaxCrossEntropy().forward(np.zeros((1, 2), dtype=np.float32), np.array([[134.0, 134.0]]))
