"""DigitSum, the rule "sum = a + b": exact sum probabilities, and the learning signal they give each digit."""

import itertools

import numpy as np
import pytest

from learnscope.core.functions import softmax
from learnscope.gradcheck import numeric_gradient
from learnscope.layers import Dense, DigitSum, Flatten, Unstack
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential


def scores(n_examples, n_digits, seed=0, scale=2.0):
    return np.random.default_rng(seed).standard_normal((n_examples * 2 * n_digits, 10)) * scale


@pytest.mark.parametrize("n_digits", [1, 2])
def test_sum_probabilities_equal_the_enumeration_of_every_digit_assignment(n_digits):
    z = scores(3, n_digits)
    p = softmax(z).reshape(3, 2 * n_digits, 10)
    expected = np.zeros((3, 2 * 10 ** n_digits - 1))
    for example in range(3):
        for assignment in itertools.product(range(10), repeat=2 * n_digits):
            a = int("".join(map(str, assignment[:n_digits])))
            b = int("".join(map(str, assignment[n_digits:])))
            expected[example, a + b] += np.prod([p[example, k, d] for k, d in enumerate(assignment)])
    got = np.exp(DigitSum(n_digits).astype(np.float64).forward(z))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_sure_digits_give_their_sum_and_nothing_else():
    z = np.full((4, 10), -30.0)
    for row, digit in enumerate([3, 4, 9, 9]):          # 3 + 4 and 9 + 9
        z[row, digit] = 30.0
    p = np.exp(DigitSum(1).astype(np.float64).forward(z))
    assert p.shape == (2, 19)
    assert p[0, 7] == pytest.approx(1.0) and p[1, 18] == pytest.approx(1.0)
    assert p[0].argmax() == 7 and p[1].argmax() == 18


def test_a_two_digit_number_reads_its_tens_first():
    z = np.full((4, 10), -30.0)
    for row, digit in enumerate([1, 2, 3, 0]):           # 12 + 30 = 42, not 21 + 03
        z[row, digit] = 30.0
    assert np.exp(DigitSum(2).astype(np.float64).forward(z)).argmax() == 42


def test_the_gradient_on_each_image_is_its_prediction_minus_the_posterior_the_sum_implies():
    z = scores(5, 1, seed=3)
    sums = np.array([0, 9, 18, 4, 11])
    layer, loss = DigitSum(1).astype(np.float64), SoftmaxCrossEntropy(dtype=np.float64)
    value = loss.forward(layer.forward(z), sums)
    grad = layer.backward(loss.backward()).reshape(5, 2, 10) * len(sums)   # the loss averages over the batch
    p = softmax(z).reshape(5, 2, 10)
    for example, total in enumerate(sums):
        joint = np.outer(p[example, 0], p[example, 1])
        mask = np.add.outer(np.arange(10), np.arange(10)) == total
        posterior = joint * mask / (joint * mask).sum()   # P(a, b | a + b = total)
        np.testing.assert_allclose(grad[example, 0], p[example, 0] - posterior.sum(axis=1), atol=1e-12)
        np.testing.assert_allclose(grad[example, 1], p[example, 1] - posterior.sum(axis=0), atol=1e-12)
    # the loss is −log P(sum), averaged
    sum_probabilities = np.exp(layer.forward(z))[np.arange(5), sums]
    assert value == pytest.approx(-np.log(sum_probabilities).mean(), rel=1e-12)


def test_a_whole_addition_network_matches_finite_differences_of_minus_log_p_sum():
    model = Sequential([Unstack(2), Flatten(), Dense(6, 10), DigitSum(1)], seed=1).astype(np.float64)
    rng = np.random.default_rng(0)
    x, sums = rng.standard_normal((4, 2, 2, 3)), np.array([3, 0, 17, 9])
    loss = SoftmaxCrossEntropy(dtype=np.float64)

    def minus_log_p_sum():
        log_p = model.forward(x)
        return -log_p[np.arange(4), sums].mean()

    loss.forward(model.forward(x), sums)
    model.backward(loss.backward())
    for name, param, grad in model.named_params():
        np.testing.assert_allclose(grad, numeric_gradient(minus_log_p_sum, param), rtol=1e-6, atol=1e-9,
                                   err_msg=name)


def test_bad_shapes_and_sizes_say_what_to_do():
    with pytest.raises(ValueError, match=r"Unstack\(2\)"):
        DigitSum(1).forward(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="10 scores"):
        DigitSum(1).forward(np.zeros((4, 9)))
    with pytest.raises(ValueError, match="Use 1"):
        DigitSum(3)
    with pytest.raises(ValueError, match=r"\(N, 2, \.\.\.\)"):
        Unstack(2).forward(np.zeros((4, 3, 28, 28)))
