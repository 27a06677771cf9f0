"""FLOP counts: each layer's formula against a count of the operations a naive loop performs."""

import itertools

import pytest

from learnscope.layers import BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Residual
from learnscope.model import Sequential


class Counter:
    """Numbers that count every multiplication and addition done with them."""

    operations = 0

    def __init__(self, value):
        self.value = value

    def _op(self, other, fn):
        Counter.operations += 1
        return Counter(fn(self.value, other.value if isinstance(other, Counter) else other))

    def __add__(self, other):
        return self._op(other, lambda a, b: a + b)

    __radd__ = __add__

    def __mul__(self, other):
        return self._op(other, lambda a, b: a * b)

    __rmul__ = __mul__


def counted(fn) -> int:
    Counter.operations = 0
    fn()
    return Counter.operations


def test_dense_flops_equal_the_operations_of_a_naive_loop():
    n_in, n_out = 4, 3
    x, w, b, dy = [Counter(1.0)] * n_in, [[Counter(0.5)] * n_out] * n_in, [Counter(0.1)] * n_out, [Counter(1.0)] * n_out

    def forward():
        for j in range(n_out):
            total = b[j]
            for i in range(n_in):
                total = total + x[i] * w[i][j]

    def weight_and_bias_grads():                    # for one example: dW[i][j] += x[i]·dy[j], db[j] += dy[j]
        for i, j in itertools.product(range(n_in), range(n_out)):
            w[i][j] + x[i] * dy[j]
        for j in range(n_out):
            b[j] + dy[j]

    def input_grad():
        for i in range(n_in):
            total = Counter(0.0)
            for j in range(n_out):
                total = total + dy[j] * w[i][j]

    flops = Dense(n_in, n_out).flops((n_in,))
    assert flops.forward == counted(forward) == 24
    assert flops.param_grads == counted(weight_and_bias_grads) == 27
    assert flops.input_grad == counted(input_grad) == 24


def test_conv_flops_equal_the_operations_of_a_naive_loop_with_stride_and_padding():
    channels, filters, (kh, kw), size = 2, 3, (3, 2), (5, 6)
    layer = Conv2D(channels, filters, (kh, kw), stride=(2, 1), padding=1)
    out_h, out_w = layer.output_shape((channels, *size))[1:]
    one = Counter(1.0)

    def forward():                                  # each output: bias + Σ over the window (padding zeros count too)
        for _f, _i, _j in itertools.product(range(filters), range(out_h), range(out_w)):
            total = one
            for _c, _a, _b in itertools.product(range(channels), range(kh), range(kw)):
                total = total + one * one

    def weight_and_bias_grads():
        for _f, _i, _j in itertools.product(range(filters), range(out_h), range(out_w)):
            one + one                               # db[f] += dy
            for _c, _a, _b in itertools.product(range(channels), range(kh), range(kw)):
                one + one * one                     # dW[f, c, a, b] += x · dy

    def input_grad():
        for _f, _i, _j in itertools.product(range(filters), range(out_h), range(out_w)):
            for _c, _a, _b in itertools.product(range(channels), range(kh), range(kw)):
                one + one * one                     # dx[c, ...] += W · dy

    flops = layer.flops((channels, *size))
    assert (out_h, out_w) == (3, 7)
    assert flops.forward == counted(forward)
    assert flops.param_grads == counted(weight_and_bias_grads)
    assert flops.input_grad == counted(input_grad)


def test_a_model_lists_each_layers_flops_at_the_shape_that_reaches_it():
    model = Sequential([Conv2D(1, 4, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(4 * 3 * 3, 5), BatchNorm(5),
                        Residual(5, "tanh"), Dense(5, 2)])
    flops = model.flops((1, 8, 8))
    assert flops[0] == Conv2D(1, 4, 3).flops((1, 8, 8))
    assert flops[1].forward == 4 * 6 * 6                     # ReLU sees the conv's (4, 6, 6)
    assert flops[2].forward == 4 * 3 * 3 * 3                 # 36 windows of 4: 3 comparisons each
    assert flops[3] == (0, 0, 0)
    assert flops[4].forward == 2 * 36 * 5
    residual = flops[6]
    assert residual.forward == 2 * 5 * 5 + 5 + 5             # its Dense, its tanh, the skip's addition
    assert residual.param_grads == 2 * 5 * 5 + 5


@pytest.mark.parametrize("make, shape, doubled", [(ReLU, (3, 4), (6, 4)),
                                                  (lambda: BatchNorm(3), (3, 2, 2), (3, 4, 2)),
                                                  (MaxPool2D, (2, 4, 4), (4, 4, 4))])
def test_element_wise_layers_count_in_proportion_to_their_input(make, shape, doubled):
    single, double = make().flops(shape), make().flops(doubled)
    assert double.forward == 2 * single.forward > 0
    assert double.backward == 2 * single.backward > 0
