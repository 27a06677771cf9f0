"""train_test_split: sizes, stratification, seeds, dtypes and the messages for bad arguments."""

import numpy as np
import pytest

from learnscope.data.splits import Split, train_test_split


def test_sizes_cover_every_sample_once():
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.arange(50) % 2
    split = train_test_split(x, y, test_fraction=0.2, seed=0)
    assert isinstance(split, Split)
    x_train, x_test, y_train, y_test = split               # scikit-learn's order
    assert len(x_train) == len(y_train) == 40 and len(x_test) == len(y_test) == 10
    rows = np.concatenate([x_train[:, 0], x_test[:, 0]]) // 2
    np.testing.assert_array_equal(np.sort(rows), np.arange(50))
    np.testing.assert_array_equal(y_train, (x_train[:, 0] // 2).astype(int) % 2)   # rows stay paired
    assert x_train.dtype == np.float32 and y_train.dtype == y.dtype


def test_stratification_keeps_class_ratios():
    y = np.repeat([0, 1, 2], [300, 600, 100])
    x = np.random.default_rng(0).standard_normal((1000, 3))
    split = train_test_split(x, y, test_fraction=0.25, seed=1)
    assert len(split.y_test) == 250
    np.testing.assert_array_equal(np.bincount(split.y_test), [75, 150, 25])
    np.testing.assert_array_equal(np.bincount(split.y_train), [225, 450, 75])


def test_every_class_keeps_a_training_sample_even_with_a_large_test_fraction():
    y = np.array([0] * 48 + [1] * 2)
    split = train_test_split(np.zeros((50, 1)), y, test_fraction=0.8, seed=0)   # class 1's share would be 1.6 → 2
    assert np.sum(split.y_train == 1) == 1 and np.sum(split.y_test == 1) == 1


def test_string_labels_are_stratified_too():
    y = np.array(["cat"] * 20 + ["dog"] * 80)
    split = train_test_split(np.zeros((100, 2)), y, test_fraction=0.1, seed=0)
    assert sorted(split.y_test.tolist()).count("cat") == 2


def test_without_stratification_ratios_may_drift_but_sizes_hold():
    y = np.repeat([0, 1], [10, 90])
    drifted = 0
    for seed in range(20):
        split = train_test_split(np.zeros((100, 1)), y, test_fraction=0.2, seed=seed, stratify=False)
        assert len(split.y_test) == 20
        drifted += int(np.sum(split.y_test == 0) != 2)
    assert drifted > 0                                      # the reason stratify=True is the default


def test_parts_are_shuffled_not_sorted_by_class():
    y = np.repeat([0, 1], 50)
    split = train_test_split(np.zeros((100, 1)), y, test_fraction=0.2, seed=0)
    assert not np.all(np.diff(split.y_train) >= 0)


def test_float_targets_are_split_without_stratification():
    x = np.linspace(0, 1, 30).reshape(-1, 1)
    y = 2 * x
    split = train_test_split(x, y, test_fraction=0.3, seed=0)
    assert split.y_test.shape == (9, 1)
    np.testing.assert_allclose(split.y_test, 2 * split.x_test)


def test_seeds_reproduce_and_differ():
    x, y = np.arange(40).reshape(20, 2), np.arange(20) % 2
    a = train_test_split(x, y, seed=7)
    b = train_test_split(x, y, seed=7)
    c = train_test_split(x, y, seed=8)
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a.x_test, c.x_test)


def test_works_for_images_and_as_a_validation_split():
    x = np.zeros((30, 1, 4, 4), dtype=np.float32)
    y = np.arange(30) % 3
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_fraction=0.1, seed=0)
    assert x_train.shape == (27, 1, 4, 4) and x_val.shape == (3, 1, 4, 4) and len(y_train) == 27
    assert sorted(y_val.tolist()) == [0, 1, 2]


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"test_fraction": 0.0}, ValueError, r"test_fraction in \(0, 1\), got 0.0"),
    ({"test_fraction": 1.0}, ValueError, r"test_fraction in \(0, 1\)"),
    ({"test_fraction": "0.2"}, TypeError, "test_fraction to be a number"),
    ({"test_fraction": 0.01}, ValueError, "the test part would be empty"),
    ({"test_fraction": 0.99}, ValueError, "the training part would be empty"),
    ({"stratify": "yes"}, TypeError, "stratify to be True or False"),
    ({"seed": -1}, TypeError, "seed"),
])
def test_bad_arguments(kwargs, error, pattern):
    x, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(error, match=pattern):
        train_test_split(x, y, **kwargs)


def test_lengths_must_match():
    with pytest.raises(ValueError, match="same number of samples, got 10 rows in x and 9 in y"):
        train_test_split(np.zeros((10, 2)), np.zeros(9, dtype=int))


def test_too_few_samples():
    with pytest.raises(ValueError, match="cannot split 1 sample"):
        train_test_split(np.zeros((1, 2)), np.zeros(1, dtype=int), test_fraction=0.5)


def test_a_class_with_one_sample_cannot_be_stratified():
    y = np.array([0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="class 1 has only 1 sample.*stratify=False"):
        train_test_split(np.zeros((5, 1)), y, test_fraction=0.4)
    split = train_test_split(np.zeros((5, 1)), y, test_fraction=0.4, stratify=False, seed=0)
    assert len(split.y_test) == 2


def test_bad_shapes_and_types():
    with pytest.raises(ValueError, match="got a scalar"):
        train_test_split(3.0, np.zeros(1))
    with pytest.raises(ValueError, match="1-D labels"):
        train_test_split(np.zeros((4, 2)), np.zeros((4, 1, 1)))
    with pytest.raises(TypeError, match="x to be a NumPy array"):
        train_test_split({"a": 1}, np.zeros(1))
