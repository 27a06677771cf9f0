"""Batch, stochastic and mini-batch gradient descent on two weights: the gradient, the rule, the counters, and
the story the page tells from them."""

import numpy as np
import pytest

from learnscope.gradcheck import numeric_gradient
from learnscope.lessons.batch_modes import (
    compare_batch_modes,
    gradient,
    mean_squared_error,
    regression_data,
)


def test_the_gradient_of_the_mean_squared_error_equals_finite_differences():
    x, y = regression_data(n_samples=30, seed=1)
    for w in (np.array([0.3, -2.0]), np.array([-1.5, 4.0])):
        numeric = numeric_gradient(lambda w=w: float(mean_squared_error(x, y, w)), w, h=1e-4)
        np.testing.assert_allclose(gradient(x, y, w), numeric, rtol=1e-8)


def test_a_stack_of_weights_gets_each_its_own_loss():
    x, y = regression_data(n_samples=20, seed=2)
    stack = np.array([[0.0, 0.0], [2.0, -1.0], [1.0, 1.0]])
    np.testing.assert_allclose(mean_squared_error(x, y, stack), [mean_squared_error(x, y, w) for w in stack])


def test_batch_mode_is_textbook_gradient_descent_on_all_the_data():
    x, y = regression_data(n_samples=50, seed=3)
    comparison = compare_batch_modes(x, y, epochs=4, lr=0.1, start=(-2.0, 3.0))
    w, expected = np.array([-2.0, 3.0]), [np.array([-2.0, 3.0])]
    for _ in range(4):
        w = w - 0.1 * (2.0 / len(x)) * x.T @ (x @ w - y)      # w ← w − lr·∇L(w), every example every step
        expected.append(w)
    np.testing.assert_allclose(comparison.paths["batch"].weights, expected, rtol=1e-12)


def test_the_counters_every_mode_sees_every_example_once_per_epoch():
    x, y = regression_data(n_samples=100, seed=4)
    paths = compare_batch_modes(x, y, mini_batch_size=16, epochs=3).paths
    assert [paths[m].updates for m in ("batch", "stochastic", "mini-batch")] == [3, 300, 3 * 7]
    assert [paths[m].batch_size for m in ("batch", "stochastic", "mini-batch")] == [100, 1, 16]
    for path in paths.values():
        assert path.examples_seen[0] == 0 and path.examples_seen[-1] == 300
        assert np.all(np.diff(path.seconds) >= 0) and path.seconds[-1] > 0
        np.testing.assert_allclose(path.loss, mean_squared_error(x, y, path.weights))


def test_same_examples_seen_batch_is_still_far_stochastic_staggers_mini_batch_gets_close():
    comparison = compare_batch_modes(epochs=3, lr=0.1)
    floor = float(mean_squared_error(comparison.x, comparison.y, comparison.best))
    batch, stochastic, mini = (comparison.paths[m] for m in ("batch", "stochastic", "mini-batch"))
    assert np.all(np.diff(batch.loss) <= 0)                   # all the data: every step goes downhill
    assert np.any(np.diff(stochastic.loss) > 0)               # one example: some steps go uphill on all the data
    assert batch.loss[-1] > 5 * floor                         # 3 updates are not enough
    assert mini.loss[-1] < 1.2 * floor and stochastic.loss.min() < 1.2 * floor


def test_bad_data_gets_a_clear_error():
    with pytest.raises(ValueError, match="exactly two weights"):
        compare_batch_modes(np.ones((10, 3)), np.ones(10))
    with pytest.raises(ValueError, match="at most 200,000"):
        compare_batch_modes(np.ones((100_000, 2)), np.ones(100_000), epochs=3)
