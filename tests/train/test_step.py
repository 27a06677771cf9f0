"""train_step: one forward, loss, backward and update, worked by hand; skipped updates when the run diverges."""

import math

import numpy as np
import pytest

from learnscope.data.batches import batch_bounds, minibatch_indices, steps_per_epoch
from learnscope.data.toy2d import make_spiral
from learnscope.layers import BatchNorm, Dense, ReLU
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD
from learnscope.train import fit
from learnscope.train.step import train_step


def line_model(w: float, b: float) -> Sequential:
    """ŷ = w·x + b, in float64 so the hand-worked numbers below are exact to rounding."""
    model = Sequential([Dense(1, 1)]).astype(np.float64)
    model.layers[0].params["W"][...] = w
    model.layers[0].params["b"][...] = b
    return model


def test_one_step_of_a_line_matches_the_gradient_worked_by_hand():
    # L = mean((w·x + b − y)²) over x = (1, 2), y = (3, 5), at w = 0.5, b = 0:
    # residuals r = (−2.5, −4); L = (6.25 + 16) / 2 = 11.125
    # dL/dw = mean(2·r·x) = (−5 − 16) / 2 = −10.5; dL/db = mean(2·r) = (−5 − 8) / 2 = −6.5
    model = line_model(0.5, 0.0)
    x, y = np.array([[1.0], [2.0]]), np.array([[3.0], [5.0]])
    outcome = train_step(model, MSE(dtype=np.float64), SGD(lr=0.1), x, y)
    assert outcome.diverged is None
    assert outcome.loss == pytest.approx(11.125)
    np.testing.assert_allclose(outcome.output, [[0.5], [1.0]])
    assert model.layers[0].params["W"][0, 0] == pytest.approx(0.5 + 0.1 * 10.5)
    assert model.layers[0].params["b"][0] == pytest.approx(0.0 + 0.1 * 6.5)


def test_a_non_finite_output_skips_the_update_and_says_so():
    model = line_model(1e308, 0.0)
    optimizer = SGD(lr=0.1)
    outcome = train_step(model, MSE(dtype=np.float64), optimizer, np.array([[10.0]]), np.array([[0.0]]))
    assert outcome.diverged == "output" and math.isnan(outcome.loss)
    assert model.layers[0].params["W"][0, 0] == 1e308 and optimizer.t == 0


def test_a_loss_above_the_limit_is_reported_as_exploded_before_any_update():
    model = line_model(0.5, 0.0)
    optimizer = SGD(lr=0.1)
    outcome = train_step(model, MSE(dtype=np.float64), optimizer, np.array([[1.0]]), np.array([[3.0]]),
                         loss_limit=1.0)
    assert outcome.diverged == "exploded" and outcome.loss == pytest.approx(6.25)
    assert model.layers[0].params["W"][0, 0] == 0.5 and optimizer.t == 0


def test_the_last_lone_example_joins_the_batch_before_it_when_asked():
    assert batch_bounds(10, 3) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert batch_bounds(10, 3, min_batch_size=2) == [(0, 3), (3, 6), (6, 10)]
    assert batch_bounds(1, 3, min_batch_size=2) == [(0, 1)]          # nothing to join
    batches = list(minibatch_indices(10, 3, rng=0, min_batch_size=2))
    assert [len(rows) for rows in batches] == [3, 3, 4]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))
    for n_samples in range(1, 30):
        for batch_size in range(1, 8):
            for smallest in (1, 2, 3):
                assert steps_per_epoch(n_samples, batch_size, smallest) == \
                    len(batch_bounds(n_samples, batch_size, smallest))


def test_fit_with_batch_norm_trains_when_one_example_would_be_left_over():
    # 33 examples in batches of 16 leave one example; batch norm cannot normalise a batch of one (it raised)
    x, y = make_spiral(n_samples=33, n_classes=3, noise=0.1, seed=0)
    model = Sequential([Dense(2, 8), BatchNorm(8), ReLU(), Dense(8, 3)], seed=0)
    history = fit(model, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=2, batch_size=16, seed=0)
    assert history.status == "finished"
    assert len(history.step_loss) == 4                                  # two steps per epoch: 16 and 17
