"""MNIST addition: sum examples built as the literature builds them, and digits learned from sums alone."""

import numpy as np
import pytest

from learnscope.lessons.mnist_addition import (
    ADDITION_RECIPES,
    AdditionData,
    ReadExample,
    addition_data,
    addition_model,
    describe_addition,
    digit_classifier,
    digit_posterior,
    make_addition_examples,
    read_examples,
    sum_accuracy_reference,
    sum_of_numbers,
    train_mnist_addition,
    train_neural_baseline,
    what_a_sum_says,
)


@pytest.mark.parametrize("n_digits", [1, 2])
def test_examples_use_every_image_at_most_once_and_carry_the_sum_of_their_digits(n_digits):
    n_images = 103
    images = np.arange(n_images, dtype=np.float32).reshape(n_images, 1, 1, 1)   # each image's pixel is its index
    labels = np.random.default_rng(0).integers(0, 10, n_images)
    x, sums, digits = make_addition_examples(images, labels, n_digits, seed=4)
    used = x.reshape(len(x), -1).astype(int)
    assert len(x) == n_images // (2 * n_digits) and x.shape[1] == 2 * n_digits
    assert len(np.unique(used)) == used.size                       # no image reused
    np.testing.assert_array_equal(digits, labels[used])
    for row, example in enumerate(used):
        a = int("".join(str(labels[i]) for i in example[:n_digits]))
        b = int("".join(str(labels[i]) for i in example[n_digits:]))
        assert sums[row] == a + b
    again, _, _ = make_addition_examples(images, labels, n_digits, seed=4)
    np.testing.assert_array_equal(again, x)                        # same seed, same examples


def test_sum_of_numbers_reads_the_most_significant_digit_first():
    np.testing.assert_array_equal(sum_of_numbers([[1, 2, 3, 0], [9, 9, 9, 9]], 2), [42, 198])


def test_the_literature_protocol_sizes_on_real_mnist(mnist):
    one = addition_data(mnist, 1)
    two = addition_data(mnist, 2)
    assert (len(one.x_train), len(one.x_test)) == (30_000, 5_000) and one.n_sums == 19
    assert (len(two.x_train), len(two.x_test)) == (15_000, 2_500) and two.n_sums == 199
    assert two.sums_train.max() <= 198 and one.sums_test.max() <= 18


def test_digits_are_learned_from_1000_sums_without_a_single_digit_label(mnist):
    """The claim of the lesson. The digit labels of the training examples are destroyed before training, so
    nothing but the sums can have taught the network."""
    for seed in range(3):
        data = addition_data(mnist, 1, n_train=1000, n_test=1000, seed=seed)
        data.digits_train = np.full_like(data.digits_train, -1)
        result = train_mnist_addition(data, ADDITION_RECIPES[1].with_options(model="mlp", epochs=5, seed=seed))
        assert result.digit_accuracy >= 0.5, f"seed {seed}: digits {result.digit_accuracy:.3f}"   # chance is 0.1
        assert result.sum_accuracy >= 0.5
        assert result.digit_confusion.sum() == len(mnist.y_test)
        read = digit_classifier(result.model).predict(mnist.x_test).argmax(axis=1)
        np.testing.assert_array_equal(result.digit_predictions, read)


def test_the_probe_sees_digits_emerge_and_the_baseline_learns_the_same_sums_without_the_rule(mnist):
    data = addition_data(mnist, 1, n_train=2000, n_test=1000, seed=0)
    seen = []
    result = train_mnist_addition(data, ADDITION_RECIPES[1].with_options(model="mlp", epochs=3), probe_every=50,
                                  on_point=seen.append)
    steps = [point[0] for point in result.curve]
    assert steps[0] == 0 and steps == sorted(steps) and seen == result.curve
    assert result.curve[0][2] < 0.3                                # at the start: about chance
    assert result.curve[-1][2] > 0.8 and result.curve[-1][1] > 0.6
    baseline = train_neural_baseline(data, ADDITION_RECIPES[1].with_options(epochs=3))
    assert baseline.digit_accuracy is None and baseline.model.layers[-1].params["W"].shape[1] == 19
    assert 0.05 < baseline.sum_accuracy < result.sum_accuracy
    text = describe_addition(result, baseline)
    assert f"{result.digit_accuracy:.1%}" in text and f"{baseline.sum_accuracy:.1%}" in text
    assert "never saw a digit label" in text


def test_read_examples_show_each_pair_side_by_side_with_the_digits_read_and_the_sum(mnist):
    data = addition_data(mnist, 2, n_train=1500, n_test=20)
    result = train_mnist_addition(data, ADDITION_RECIPES[2].with_options(model="mlp", epochs=4))
    examples = read_examples(result.model, data.x_test, data.sums_test, count=6)
    assert len(examples) == 6
    first = examples[0]
    assert first.picture.shape == (28, 112) and first.picture.dtype == np.uint8
    np.testing.assert_array_equal(first.picture[:, 28:56], np.rint(data.x_test[0, 1, 0] * 255))   # the second image
    classifier = digit_classifier(result.model)
    assert first.digits == tuple(classifier.predict(data.x_test[0]).argmax(axis=1))
    assert first.predicted_sum == int(result.model.predict(data.x_test[:1]).argmax())
    assert first.true_sum == data.sums_test[0]
    right = ReadExample(first.picture, (1, 2, 3, 0), 42, 42)
    assert right.caption() == "read 12 + 30 → 42 ✓"
    assert ReadExample(first.picture, (3, 5), 8, 9).caption() == "read 3 + 5 → 8 ✗ (is 9)"


def test_the_digit_classifier_shares_the_addition_models_layers():
    model = addition_model(2, "mlp", seed=0, even_start=False)
    classifier = digit_classifier(model)
    assert classifier.layers == model.layers[1:-1]
    x = np.random.default_rng(0).random((3, 4, 1, 28, 28)).astype(np.float32)
    scores = classifier.predict(x.reshape(12, 1, 28, 28)).reshape(3, 4, 10)
    sums = np.exp(model.predict(x))
    assert sums.shape == (3, 199)
    np.testing.assert_allclose(sums.sum(axis=1), 1, rtol=1e-5)
    # the most probable sum, when every digit is read with its top score, is that reading's sum
    reading = scores.argmax(axis=2)
    confident = addition_model(2, "mlp", seed=0, even_start=False)
    confident.layers[-2].params["W"] *= 1000                       # sharpen every digit's probabilities
    sharp = digit_classifier(confident).predict(x.reshape(12, 1, 28, 28)).argmax(1).reshape(3, 4)
    np.testing.assert_array_equal(sharp, reading)
    np.testing.assert_array_equal(confident.predict(x).argmax(1), sum_of_numbers(sharp, 2))


def test_an_even_start_gives_every_digit_one_chance_in_ten_so_sums_start_as_counts_of_ways():
    x = np.random.default_rng(0).random((3, 2, 1, 28, 28)).astype(np.float32)
    sums = np.exp(addition_model(1, "cnn", seed=0).predict(x))
    ways = np.array([min(s, 18 - s) + 1 for s in range(19)])      # 0 + 0 one way, 9 = 0 + 9 = ... ten ways
    np.testing.assert_allclose(sums, np.tile(ways / 100, (3, 1)), rtol=1e-5)
    random_start = np.exp(addition_model(1, "cnn", seed=0, even_start=False).predict(x))
    assert not np.allclose(random_start, ways / 100, rtol=1e-3)


def test_the_posterior_is_what_the_rule_infers_from_a_sum():
    uniform = np.full((2, 10), 0.1)
    zero = digit_posterior(uniform, 0)
    assert zero[0, 0] == 1 and zero.sum() == 1                     # a sum of 0 leaves one reading: 0 + 0
    nine = digit_posterior(uniform, 9)
    assert np.count_nonzero(nine) == 10 and np.allclose(nine[np.arange(10), 9 - np.arange(10)], 0.1)
    leaning = np.full((2, 10), 0.02)
    leaning[0, 3], leaning[1, 3] = 0.82, 0.82                      # both look like a 3 ...
    four = digit_posterior(leaning, 4)                             # ... but they add to 4
    assert four.sum(axis=1).argmax() in (1, 3) and four[3, 1] == pytest.approx(four[1, 3])
    with pytest.raises(ValueError, match="no chance"):
        digit_posterior(np.eye(10)[[9, 9]], 0)


def test_what_a_sum_alone_says_about_each_image():
    assert what_a_sum_says(0) == "sum 0: both are 0"
    assert what_a_sum_says(1) == "sum 1: 0 or 1 (50% each)"
    assert what_a_sum_says(9) == "sum 9: any digit (10% each)"
    assert what_a_sum_says(16) == "sum 16: 7, 8 or 9 (33% each)"
    assert what_a_sum_says(18) == "sum 18: both are 9"


def test_the_reference_line_is_every_digit_right():
    assert sum_accuracy_reference(1) == pytest.approx(0.9801)
    assert sum_accuracy_reference(2, 0.98) == pytest.approx(0.98 ** 4)


def test_bad_requests_say_what_to_do(mnist):
    with pytest.raises(TypeError, match="load_mnist"):
        addition_data("mnist")
    with pytest.raises(ValueError, match="at most 30,000 examples"):
        make_addition_examples(mnist.x_train, mnist.y_train, 1, n_examples=30_001)
    with pytest.raises(ValueError, match="Use 1"):
        make_addition_examples(mnist.x_train, mnist.y_train, 3)
    with pytest.raises(TypeError, match="AdditionData"):
        train_mnist_addition(mnist)
    assert isinstance(addition_data(mnist, 1, n_train=10, n_test=10), AdditionData)
