"""evaluate(): the confusion matrix against a hand count, accuracy = trace / N, regression and diverged models."""

import numpy as np
import pytest

from learnscope.layers import Dense, Dropout, Identity
from learnscope.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.train import Evaluation, evaluate


def test_confusion_matrix_matches_a_hand_count_and_accuracy_is_its_trace():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((200, 4)).astype(np.float32)  # Identity: the inputs are the logits
    y = rng.integers(0, 4, 200)
    y[:7] = 3
    result = evaluate(Sequential([Identity()]), SoftmaxCrossEntropy(), logits, y, batch_size=33)
    predicted = logits.argmax(axis=1)
    hand = np.zeros((4, 4), dtype=np.int64)
    for true, guess in zip(y, predicted):
        hand[true, guess] += 1                          # rows = true class, columns = predicted
    assert isinstance(result, Evaluation)
    assert result.confusion.dtype == np.int64
    np.testing.assert_array_equal(result.confusion, hand)
    np.testing.assert_array_equal(result.predictions, predicted)
    assert result.accuracy == np.trace(hand) / 200 == np.mean(predicted == y)
    np.testing.assert_allclose(result.per_class_accuracy, [hand[k, k] / hand[k].sum() for k in range(4)])
    assert result.loss == pytest.approx(SoftmaxCrossEntropy().forward(logits, y), rel=1e-6)
    assert result.n_samples == 200 and "accuracy" in str(result)


def test_a_class_absent_from_y_has_nan_per_class_accuracy():
    logits = np.array([[2, 0, 0], [0, 2, 0], [2, 0, 0]], dtype=np.float32)
    result = evaluate(Sequential([Identity()]), SoftmaxCrossEntropy(), logits, np.array([0, 1, 1]))
    np.testing.assert_array_equal(result.confusion, [[1, 0, 0], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(result.per_class_accuracy[:2], [1.0, 0.5])
    assert np.isnan(result.per_class_accuracy[2]) and result.accuracy == pytest.approx(2 / 3)


def test_binary_cross_entropy_is_scored_by_the_sign_of_the_logit():
    logits = np.array([[-1.0], [2.0], [0.5], [-3.0]], dtype=np.float32)
    result = evaluate(Sequential([Identity()]), BinaryCrossEntropy(), logits, np.array([0, 1, 0, 1]))
    np.testing.assert_array_equal(result.confusion, [[1, 1], [1, 1]])
    assert result.accuracy == 0.5


def test_regression_has_no_accuracy_and_returns_the_outputs():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    result = evaluate(Sequential([Identity()]), MSE(), x, x + 1)
    assert result.accuracy is None and result.confusion is None and result.per_class_accuracy is None
    assert result.loss == pytest.approx(1.0)
    np.testing.assert_array_equal(result.predictions, x)


def test_evaluate_runs_in_eval_mode_and_leaves_the_training_loss_alone():
    model = Sequential([Dense(3, 2), Dropout(0.9)], seed=0)
    x, y = np.ones((5, 3), np.float32), np.array([0, 1, 0, 1, 1])
    loss = SoftmaxCrossEntropy()
    loss.forward(np.zeros((2, 2), np.float32), np.array([0, 1]))
    first, second = evaluate(model, loss, x, y), evaluate(model, loss, x, y)
    assert first.loss == second.loss                    # no dropout masks in eval mode
    assert loss.per_example.shape == (2,)               # the training loss object was not used


def test_a_diverged_model_gives_a_nan_loss_not_an_exception():
    model = Sequential([Dense(2, 3)], seed=0)
    model.layers[0].params["W"][0, 0] = np.inf
    result = evaluate(model, SoftmaxCrossEntropy(), np.ones((4, 2), np.float32), np.array([0, 1, 2, 0]))
    assert np.isnan(result.loss)


def test_evaluate_refuses_bad_input():
    model = Sequential([Identity()])
    with pytest.raises(ValueError, match="same number of examples"):
        evaluate(model, MSE(), np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate(model, BinaryCrossEntropy(), np.zeros((2, 1)), np.array([0, 2]))
    with pytest.raises(ValueError, match="labels"):
        evaluate(model, SoftmaxCrossEntropy(), np.zeros((2, 3)), np.array([0, 5]))
    with pytest.raises(TypeError, match="Loss"):
        evaluate(model, "mse", np.zeros((2, 2)), np.zeros((2, 2)))
