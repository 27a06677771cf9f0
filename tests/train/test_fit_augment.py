"""fit(augment=...): every training batch goes through the augmentation, nothing else changes."""

import numpy as np
import pytest

from learnscope.data.augment import shift_and_rotate
from learnscope.layers import Dense, Flatten, ReLU
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD
from learnscope.train import fit
from learnscope.train.evaluate import evaluate


def images(n=64):
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 6, 6)).astype(np.float32), rng.integers(0, 3, n)


def net():
    return Sequential([Flatten(), Dense(36, 8), ReLU(), Dense(8, 3)], seed=0)


def test_an_identity_augmentation_trains_bit_for_bit_like_none():
    x, y = images()
    plain, augmented = net(), net()
    fit(plain, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=16, seed=4)
    fit(augmented, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=16, seed=4,
        augment=lambda batch, rng: batch)
    for (name, a, _), (_, b, _) in zip(plain.named_params(), augmented.named_params()):
        assert a.tobytes() == b.tobytes(), name


class LabelsSeen(SoftmaxCrossEntropy):
    """Cross-entropy that remembers the labels of every batch it scores."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, output, y):
        self.seen.append(np.array(y))
        return super().forward(output, y)


def test_augmentation_changes_the_images_never_the_labels_or_their_order():
    x, y = images()
    plain, augmented = LabelsSeen(), LabelsSeen()
    fit(net(), plain, SGD(lr=0.1), x, y, epochs=2, batch_size=16, seed=3)
    fit(net(), augmented, SGD(lr=0.1), x, y, epochs=2, batch_size=16, seed=3, augment=shift_and_rotate)
    assert len(plain.seen) == len(augmented.seen) == 8
    assert all(np.array_equal(a, b) for a, b in zip(plain.seen, augmented.seen))


def test_the_model_trains_on_the_augmented_batches_and_is_validated_on_the_plain_data():
    x, y = images()
    seen, handed_out = [], []

    def brighten(batch, rng):
        assert isinstance(rng, np.random.Generator)
        handed_out.append(batch + 1)
        return handed_out[-1]

    model = net()
    model.register_hook("forward", lambda index, layer, inputs, out: index == 0 and seen.append(inputs.copy()))
    history = fit(model, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=2, batch_size=16, seed=0,
                  validation_data=(x, y), augment=brighten)
    training_inputs = [batch for batch in seen if len(batch) == 16]
    assert len(handed_out) == 8 and all(np.array_equal(a, b) for a, b in zip(training_inputs, handed_out))
    assert history["val_loss"][-1] == pytest.approx(evaluate(model, SoftmaxCrossEntropy(), x, y).loss)


def test_shift_and_rotate_plugs_in_and_keeps_the_run_repeatable():
    x, y = images()
    runs = []
    for _ in range(2):
        model = net()
        fit(model, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=2, batch_size=16, seed=1, augment=shift_and_rotate)
        runs.append(model.layers[1].params["W"].copy())
    plain = net()
    fit(plain, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=2, batch_size=16, seed=1)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], plain.layers[1].params["W"])


def test_a_non_function_is_refused():
    x, y = images()
    with pytest.raises(TypeError, match="augment to be a function"):
        fit(net(), SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, augment="shift")


def test_squared_error_on_one_hot_targets_is_scored_as_classification():
    x, y = images()
    one_hot = np.eye(3, dtype=np.float32)[y]
    history = fit(net(), MSE(), SGD(lr=0.1), x, one_hot, epochs=2, batch_size=16, seed=0, validation_data=(x, one_hot))
    assert "accuracy" in history and "val_accuracy" in history
    regression = fit(net(), MSE(), SGD(lr=0.1), x, one_hot * 0.5, epochs=1, batch_size=16, seed=0)
    assert "accuracy" not in regression
