"""fit(): same run as the hand-written loop, what it logs, how it ends, what it refuses."""

import numpy as np
import pytest

from learnscope.data.batches import minibatch_indices
from learnscope.data.toy2d import make_spiral
from learnscope.layers import Dense, Dropout, ReLU, Tanh
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam
from learnscope.train import Callback, EarlyStopping, History, evaluate, fit


def spiral_model(seed=0):
    return Sequential([Dense(2, 16), ReLU(), Dropout(0.2), Dense(16, 3)], seed=seed)


def hand_written_fit(model, loss, optimizer, x, y, epochs, batch_size, seed):
    """The loop of tests/test_learning.py, recording each step's loss."""
    rng, losses = np.random.default_rng(seed), []
    for _ in range(epochs):
        for rows in minibatch_indices(len(x), batch_size, rng):
            losses.append(loss.forward(model.forward(x[rows], train=True), y[rows]))
            model.backward(loss.backward(), need_input_grad=False)
            optimizer.step(model.named_params())
    return losses


def weights(model):
    return [param.copy() for _, param, _ in model.named_params()]


class Recorder(Callback):
    """Every event, in order, with a copy of its logs."""

    def __init__(self):
        self.events = []

    def on_train_begin(self, trainer):
        self.events.append(("train_begin", None))

    def on_epoch_begin(self, epoch):
        self.events.append(("epoch_begin", epoch))

    def on_batch_end(self, step, logs):
        self.events.append(("batch_end", step, dict(logs)))

    def on_epoch_end(self, epoch, logs):
        self.events.append(("epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs):
        self.events.append(("train_end", dict(logs)))

    def of(self, kind):
        return [event for event in self.events if event[0] == kind]


@pytest.fixture(scope="module")
def spiral():
    x, y = make_spiral(n_samples=150, n_classes=3, noise=0.1, seed=0)
    return x.astype(np.float32), y


def test_fit_reproduces_the_hand_written_loop_bit_for_bit(spiral):
    x, y = spiral
    reference, model = spiral_model(), spiral_model()
    expected = hand_written_fit(reference, SoftmaxCrossEntropy(), Adam(lr=1e-2), x, y, epochs=3, batch_size=32,
                                seed=7)
    history = fit(model, SoftmaxCrossEntropy(), Adam(lr=1e-2), x, y, epochs=3, batch_size=32, seed=7,
                  validation_data=(x[:40], y[:40]), eval_every=2)   # evaluating must not disturb training
    assert history.step_loss == expected
    for got, want in zip(weights(model), weights(reference)):
        np.testing.assert_array_equal(got, want)


def test_history_holds_every_epoch_metric_and_every_step_loss(spiral):
    x, y = spiral                                       # 150 examples, batch 32: 5 steps (32·4 + 22) per epoch
    recorder = Recorder()
    history = fit(spiral_model(), SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=32, seed=0,
                  callbacks=[recorder])
    assert isinstance(history, History) and history.status == "finished"
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy", "lr", "seconds"}
    assert all(len(values) == 3 for values in history.history.values())
    assert len(history.step_loss) == 15
    sizes = [32, 32, 32, 32, 22]
    for epoch in range(3):                              # the epoch loss is the mean over examples
        step_losses = history.step_loss[5 * epoch:5 * epoch + 5]
        assert history["loss"][epoch] == pytest.approx(np.dot(step_losses, sizes) / 150, rel=1e-12)
    assert all(0 <= a <= 1 for a in history["accuracy"]) and history["lr"] == [0.1] * 3

    batch_logs = [event[2] for event in recorder.of("batch_end")]
    assert [event[1] for event in recorder.of("batch_end")] == list(range(15))
    assert [logs["loss"] for logs in batch_logs] == history.step_loss
    assert set(batch_logs[0]) == {"loss", "accuracy", "lr", "epoch", "examples_seen"}
    assert [logs["examples_seen"] for logs in batch_logs][:6] == [32, 64, 96, 128, 150, 182]
    assert [logs["epoch"] for logs in batch_logs] == [0] * 5 + [1] * 5 + [2] * 5
    kinds = [event[0] for event in recorder.events]
    assert kinds[:2] == ["train_begin", "epoch_begin"] and kinds[-2:] == ["epoch_end", "train_end"]
    end = recorder.of("train_end")[0][1]
    assert end["status"] == "finished" and end["steps_completed"] == 15 and end["examples_seen"] == 450


def test_step_accuracy_is_the_argmax_hit_rate_of_the_batch():
    # one Dense with zero weights and a bias that always votes class 1: accuracy = share of label 1
    model = Sequential([Dense(2, 3, init="zeros")])
    model.layers[0].params["b"][:] = [0, 5, 0]
    x, y = np.zeros((8, 2), np.float32), np.array([1, 1, 1, 0, 2, 1, 0, 0])
    recorder = Recorder()
    fit(model, SoftmaxCrossEntropy(), SGD(lr=1e-9), x, y, batch_size=4, shuffle=False, callbacks=[recorder])
    assert [event[2]["accuracy"] for event in recorder.of("batch_end")] == [0.75, 0.25]


def test_regression_logs_no_accuracy():
    x = np.linspace(-1, 1, 40, dtype=np.float32).reshape(-1, 1)
    history = fit(Sequential([Dense(1, 8), Tanh(), Dense(8, 1)], seed=0), MSE(), SGD(lr=0.1), x, 0.5 * x,
                  epochs=2, batch_size=10, seed=0, validation_data=(x, 0.5 * x))
    assert set(history.history) == {"loss", "lr", "seconds", "val_loss"}


def test_validation_metrics_are_what_evaluate_says(spiral):
    x, y = spiral
    x_val, y_val = x[::3], (y[::3] + 1) % 3             # a different set, so the numbers differ from training
    seen = []

    class CheckAgainstEvaluate(Callback):
        def on_epoch_end(self, epoch, logs):
            result = evaluate(self.trainer.model, SoftmaxCrossEntropy(), x_val, y_val)
            seen.append((logs["val_loss"], result.loss, logs["val_accuracy"], result.accuracy))

    history = fit(spiral_model(), SoftmaxCrossEntropy(), Adam(lr=1e-2), x, y, epochs=2, batch_size=32, seed=0,
                  validation_data=(x_val, y_val), callbacks=[CheckAgainstEvaluate()])
    assert len(seen) == 2
    for val_loss, want_loss, val_accuracy, want_accuracy in seen:
        assert val_loss == want_loss and val_accuracy == want_accuracy
    assert history["val_loss"] == [s[0] for s in seen]
    assert history["val_loss"] != history["loss"]


def test_eval_every_evaluates_mid_epoch(spiral):
    x, y = spiral
    recorder = Recorder()
    history = fit(spiral_model(), SoftmaxCrossEntropy(), Adam(lr=1e-2), x, y, epochs=2, batch_size=32, seed=0,
                  validation_data=(x, y), eval_every=3, callbacks=[recorder])
    assert [e["step"] for e in history.evaluations] == [2, 5, 8]
    assert all({"val_loss", "val_accuracy", "seconds", "examples_seen"} <= set(e) for e in history.evaluations)
    with_val = [event[1] for event in recorder.of("batch_end") if "val_loss" in event[2]]
    assert with_val == [2, 5, 8]
    seconds = [e["seconds"] for e in history.evaluations]
    assert seconds == sorted(seconds)


def test_a_batch_larger_than_the_data_is_one_full_batch(spiral):
    x, y = spiral
    recorder = Recorder()
    history = fit(spiral_model(), SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=10_000,
                  callbacks=[recorder])
    assert len(history.step_loss) == 3
    assert [event[2]["examples_seen"] for event in recorder.of("batch_end")] == [150, 300, 450]


def test_keyboard_interrupt_ends_training_cleanly(spiral):
    x, y = spiral
    recorder = Recorder()

    class CtrlC(Callback):
        def on_batch_end(self, step, logs):
            if step == 7:
                raise KeyboardInterrupt

    model = spiral_model()
    history = fit(model, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=5, batch_size=32, seed=3,
                  callbacks=[recorder, CtrlC()])
    assert history.status == "interrupted" and "interrupted" in history.message
    assert len(history.step_loss) == 8                  # steps 0..7 completed
    assert history.epoch == [0]                         # epoch 1 never ended
    assert recorder.of("train_end")[0][1]["status"] == "interrupted"
    assert recorder.of("train_end")[0][1]["steps_completed"] == 8
    # the model holds exactly the weights after step 7, and works
    reference = spiral_model()
    rng, optimizer, loss = np.random.default_rng(3), SGD(lr=0.1), SoftmaxCrossEntropy()
    batches = [rows for _ in range(2) for rows in minibatch_indices(len(x), 32, rng)][:8]
    for rows in batches:
        loss.forward(reference.forward(x[rows], train=True), y[rows])
        reference.backward(loss.backward(), need_input_grad=False)
        optimizer.step(reference.named_params())
    for got, want in zip(weights(model), weights(reference)):
        np.testing.assert_array_equal(got, want)
    assert np.isfinite(model.predict(x)).all()


def test_a_callback_can_stop_training_mid_epoch(spiral):
    x, y = spiral

    class StopAtStep(Callback):
        def on_batch_end(self, step, logs):
            if step == 6:
                self.trainer.stop("enough for today")

    history = fit(spiral_model(), SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=5, batch_size=32,
                  callbacks=[StopAtStep()])
    assert history.status == "stopped" and history.message == "enough for today"
    assert len(history.step_loss) == 7 and history.epoch == [0, 1]   # the stopped epoch is closed normally


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"eval_every": 5}, ValueError, "validation"),
        ({"validation_data": np.zeros((3, 2))}, TypeError, r"\(x_val, y_val\)"),
        ({"validation_data": (np.zeros((3, 2)), np.zeros(4))}, ValueError, "same number of examples"),
        ({"callbacks": [EarlyStopping]}, TypeError, "parentheses"),
        ({"callbacks": [print]}, TypeError, "Callback objects"),
        ({"callbacks": [EarlyStopping()]}, ValueError, "validation_data"),  # monitors val_loss
        ({"seed": -1}, TypeError, "seed"),
    ],
)
def test_fit_refuses_bad_arguments_with_a_clear_message(spiral, kwargs, error, match):
    x, y = spiral
    with pytest.raises(error, match=match):
        fit(spiral_model(), SoftmaxCrossEntropy(), SGD(), x, y, **kwargs)


def test_fit_refuses_bad_data_before_training():
    model, loss, optimizer = spiral_model(), SoftmaxCrossEntropy(), SGD()
    x, y = np.zeros((10, 2), np.float32), np.zeros(10, np.int64)
    with pytest.raises(ValueError, match="same number of examples"):
        fit(model, loss, optimizer, x, y[:9])
    with pytest.raises(ValueError, match="at least one example"):
        fit(model, loss, optimizer, x[:0], y[:0])
    bad = x.copy()
    bad[6, 1] = np.nan
    before = weights(model)
    with pytest.raises(ValueError, match="example 6"):
        fit(model, loss, optimizer, bad, y)
    with pytest.raises(TypeError, match="Sequential"):
        fit("model", loss, optimizer, x, y)
    with pytest.raises(TypeError, match="Loss"):
        fit(model, SoftmaxCrossEntropy, optimizer, x, y)
    with pytest.raises(TypeError, match="Optimizer"):
        fit(model, loss, "sgd", x, y)
    for got, want in zip(weights(model), before):      # nothing trained
        np.testing.assert_array_equal(got, want)


def test_integer_inputs_are_not_copied_up_front_and_train():
    x = np.random.default_rng(0).integers(0, 2, size=(64, 2)).astype(np.uint8)   # cast per batch by the model
    y = (x[:, 0] ^ x[:, 1]).astype(np.int64)
    history = fit(Sequential([Dense(2, 8), Tanh(), Dense(8, 2)], seed=0), SoftmaxCrossEntropy(), Adam(lr=0.05),
                  x, y, epochs=30, batch_size=16, seed=0)
    assert history.status == "finished" and history["accuracy"][-1] == 1.0


def test_an_exception_reaches_the_caller_after_every_callback_saw_the_end(spiral):
    x, y = spiral
    recorder = Recorder()

    class Broken(Callback):
        def on_batch_end(self, step, logs):
            if step == 3:
                raise ValueError("broken callback")

    with pytest.raises(ValueError, match="broken callback"):
        fit(spiral_model(), SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=2, batch_size=32, seed=0,
            callbacks=[recorder, Broken()])
    end = recorder.of("train_end")[0][1]
    assert end["status"] == "failed" and "ValueError: broken callback" in end["message"]
    assert end["steps_completed"] == 4


def test_a_run_resumed_at_an_epoch_goes_on_exactly_as_if_it_had_never_stopped():
    x, y = make_spiral(n_samples=200, n_classes=3, noise=0.1, seed=0)
    whole = Sequential([Dense(2, 16), ReLU(), Dense(16, 3)], seed=0)
    fit(whole, SoftmaxCrossEntropy(), SGD(lr=0.1, momentum=0.9), x, y, epochs=4, batch_size=32, seed=7)
    halves = Sequential([Dense(2, 16), ReLU(), Dense(16, 3)], seed=0)
    optimizer = SGD(lr=0.1, momentum=0.9)                                    # its momentum carries over
    fit(halves, SoftmaxCrossEntropy(), optimizer, x, y, epochs=2, batch_size=32, seed=7)
    history = fit(halves, SoftmaxCrossEntropy(), optimizer, x, y, epochs=4, batch_size=32, seed=7, initial_epoch=2)
    assert history.epoch == [2, 3]
    for (_, a, _), (_, b, _) in zip(whole.named_params(), halves.named_params()):
        np.testing.assert_array_equal(a, b)
