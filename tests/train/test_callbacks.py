"""EarlyStopping, ModelCheckpoint, LearningRateScheduler: driven by a scripted metric so every decision is known."""

import numpy as np
import pytest

from learnscope.data.toy2d import make_spiral
from learnscope.layers import Dense, ReLU
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential, load_model_with_metadata
from learnscope.optim import SGD, StepDecay
from learnscope.train import Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint, StopWhen, fit


def model(seed=0):
    return Sequential([Dense(2, 16), ReLU(), Dense(16, 3)], seed=seed)


@pytest.fixture(scope="module")
def spiral():
    x, y = make_spiral(n_samples=90, n_classes=3, noise=0.1, seed=0)
    return x.astype(np.float32), y


class Script(Callback):
    """Overwrites logs[name] with a scripted sequence (placed before the callback under test, which reads the same
    logs dict), and keeps a copy of the weights at every epoch end."""

    def __init__(self, name, values):
        self.name, self.values, self.weights = name, list(values), []

    def on_epoch_end(self, epoch, logs):
        logs[self.name] = self.values[epoch]
        self.weights.append([param.copy() for _, param, _ in self.trainer.model.named_params()])


def current_weights(net):
    return [param for _, param, _ in net.named_params()]


def assert_same_weights(a, b):
    for got, want in zip(a, b):
        np.testing.assert_array_equal(got, want)


def test_early_stopping_stops_after_patience_and_restores_the_best_weights(spiral):
    x, y = spiral
    script = Script("val_loss", [3.0, 2.0, 2.5, 2.1, 2.2, 1.0, 0.5])  # best at epoch 1, then 3 epochs without
    stopper = EarlyStopping(patience=3)
    net = model()
    history = fit(net, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=7, batch_size=30, seed=0,
                  validation_data=(x, y), callbacks=[script, stopper])
    assert history.status == "stopped"
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 4 and history.epoch == [0, 1, 2, 3, 4]
    assert "val_loss" in history.message and "epoch 1" in history.message
    assert_same_weights(current_weights(net), script.weights[1])
    assert not np.array_equal(current_weights(net)[0], script.weights[4][0])


def test_early_stopping_min_delta_mode_and_no_restore(spiral):
    x, y = spiral
    # accuracy is maximised; +0.005 is not an improvement with min_delta=0.01
    script = Script("accuracy", [0.50, 0.60, 0.605, 0.609, 0.70])
    stopper = EarlyStopping(monitor="accuracy", patience=2, min_delta=0.01, restore_best=False)
    net = model()
    history = fit(net, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=5, batch_size=30, seed=0,
                  callbacks=[script, stopper])
    assert stopper.mode == "max" and stopper.best_epoch == 1 and stopper.stopped_epoch == 3
    assert len(history.epoch) == 4
    assert_same_weights(current_weights(net), script.weights[3])      # the last weights stay


def test_early_stopping_that_never_triggers_still_restores_the_best(spiral):
    x, y = spiral
    script = Script("val_loss", [1.0, 0.5, 0.9])
    net = model()
    history = fit(net, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=30, seed=0,
                  validation_data=(x, y), callbacks=[script, EarlyStopping(patience=5)])
    assert history.status == "finished" and "restored the weights of epoch 1" in history.message
    assert_same_weights(current_weights(net), script.weights[1])


def test_model_checkpoint_writes_only_on_improvement_and_the_files_load(spiral, tmp_path):
    x, y = spiral
    script = Script("val_loss", [1.0, 0.8, 0.9, 0.7])
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch}.safetensors")
    net = model()
    fit(net, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=4, batch_size=30, seed=0,
        validation_data=(x, y), callbacks=[script, checkpoint])
    assert [epoch for epoch, _ in checkpoint.saved] == [0, 1, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-0.safetensors", "ckpt-1.safetensors",
                                                          "ckpt-3.safetensors"]
    for epoch in (0, 1, 3):
        loaded, metadata = load_model_with_metadata(tmp_path / f"ckpt-{epoch}.safetensors")
        assert metadata["epoch"] == epoch and metadata["val_loss"] == script.values[epoch]
        assert_same_weights(current_weights(loaded), script.weights[epoch])
    assert checkpoint.best == 0.7 and checkpoint.best_epoch == 3


def test_model_checkpoint_every_epoch_overwrites_one_file(spiral, tmp_path):
    x, y = spiral
    path = tmp_path / "last.safetensors"
    checkpoint = ModelCheckpoint(path, save_best_only=False)
    net = model()
    fit(net, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=30, seed=0, callbacks=[checkpoint])
    assert len(checkpoint.saved) == 3 and [p.name for p in tmp_path.iterdir()] == ["last.safetensors"]
    loaded, metadata = load_model_with_metadata(path)
    assert metadata["epoch"] == 2
    assert_same_weights(current_weights(loaded), current_weights(net))


def test_model_checkpoint_never_saves_weights_holding_nan(spiral, tmp_path):
    x, y = spiral
    path = tmp_path / "best.safetensors"

    class PoisonEpochTwo(Callback):                     # the last step of epoch 1 leaves a NaN weight
        def on_batch_end(self, step, logs):
            if step == 5:
                self.trainer.model.layers[0].params["W"][0, 0] = np.nan

    checkpoint = ModelCheckpoint(path, monitor="loss")
    net = model()
    history = fit(net, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=30, seed=0,
                  callbacks=[checkpoint, PoisonEpochTwo()])
    assert history.status == "diverged" and history.outcome["reason"] == "weights"
    assert history.outcome["diverged_step"] == 5 and history.epoch == [0]
    assert [epoch for epoch, _ in checkpoint.saved] == [0]
    loaded, metadata = load_model_with_metadata(path)
    assert metadata["epoch"] == 0
    assert all(np.isfinite(p).all() for p in current_weights(loaded))


def test_learning_rate_scheduler_with_a_function_and_with_a_schedule(spiral):
    x, y = spiral
    class StepLR(Callback):
        def __init__(self):
            self.lrs = []

        def on_batch_end(self, step, logs):
            self.lrs.append(logs["lr"])

    for schedule in (lambda epoch, lr: 0.2 * 0.5**epoch, StepDecay(step_size=1, gamma=0.5)):
        optimizer, step_lr = SGD(lr=0.2), StepLR()
        history = fit(model(), SoftmaxCrossEntropy(), optimizer, x, y, epochs=3, batch_size=45, seed=0,
                      callbacks=[LearningRateScheduler(schedule), step_lr])
        assert history["lr"] == [0.2, 0.1, 0.05]
        assert step_lr.lrs == [0.2, 0.2, 0.1, 0.1, 0.05, 0.05]
        assert optimizer.lr == 0.05


def test_callbacks_refuse_bad_settings(spiral):
    x, y = spiral
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")
    with pytest.raises(TypeError, match="fn\\(epoch, lr\\)"):
        LearningRateScheduler(0.1)
    with pytest.raises(ValueError, match="regression"):
        from learnscope.losses import MSE
        fit(Sequential([Dense(2, 1)]), MSE(), SGD(), x, y.astype(np.float32),
            callbacks=[EarlyStopping(monitor="accuracy")])
    with pytest.raises(KeyError, match="not logged"):
        fit(model(), SoftmaxCrossEntropy(), SGD(), x, y, callbacks=[EarlyStopping(monitor="los")])


def test_stop_when_ends_training_after_the_step_its_condition_turns_true(spiral):
    x, y = spiral
    calls = []

    def closed():
        calls.append(1)
        return len(calls) >= 7

    history = fit(model(), SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=50, batch_size=10, seed=0,
                  callbacks=[StopWhen(closed, "The tab closed.")])
    assert history.status == "stopped" and history.message == "The tab closed."
    assert history.outcome["steps_completed"] == 7
    with pytest.raises(TypeError, match="StopWhen expected a function"):
        StopWhen(True)
