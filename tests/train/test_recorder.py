"""Recorder: what it writes to the run store, checked against History and against hand computations."""

import math

import numpy as np
import pytest

from learnscope.data.toy2d import make_spiral
from learnscope.layers import Dense, ReLU, Sigmoid, Tanh
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD
from learnscope.store import RunStore
from learnscope.train import Callback, fit
from learnscope.train.recorder import Recorder


class Spy(Callback):
    """At each step: copies of every parameter and gradient, and how many forward hooks the step's forward saw
    (placed before the Recorder, it runs before the Recorder changes the hooks)."""

    def __init__(self):
        self.params, self.grads, self.hooks = [], [], []

    def on_train_begin(self, trainer):
        self.initial = {name: param.copy() for name, param, _ in trainer.model.named_params()}

    def on_batch_end(self, step, logs):
        named = self.trainer.model.named_params()
        self.params.append({name: param.copy() for name, param, _ in named})
        self.grads.append({name: grad.copy() for name, _, grad in named})
        self.hooks.append(len(self.trainer.model._hooks["forward"]))


def spiral():
    x, y = make_spiral(300, 3, seed=0)
    return x.astype(np.float32), y


def mlp(hidden=ReLU, bias_init="zeros"):
    return Sequential([Dense(2, 32, bias_init=bias_init), hidden(), Dense(32, 3)], seed=0)


@pytest.fixture
def store(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as opened:
        yield opened


def train(store, model=None, every=5, epochs=3, spy=None, **recorder_args):
    x, y = spiral()
    recorder = Recorder(store, run_name="spiral", every=every, dataset="spiral", **recorder_args)
    callbacks = ([spy] if spy else []) + [recorder]
    history = fit(model or mlp(), SoftmaxCrossEntropy(), SGD(lr=0.5, momentum=0.9), x, y, epochs=epochs,
                  batch_size=32, seed=0, callbacks=callbacks, validation_data=(x[:60], y[:60]))
    return recorder, history


def test_recorded_loss_is_the_history_step_loss_at_recorded_steps(store):
    recorder, history = train(store, every=5)
    steps, values = store.metrics(recorder.run_id, "loss")["loss"]
    n_steps = len(history.step_loss)
    assert n_steps == 30
    assert steps.tolist() == list(range(0, n_steps, 5))
    np.testing.assert_array_equal(values, np.array(history.step_loss)[steps])
    lr_steps, lrs = store.metrics(recorder.run_id, "lr")["lr"]
    assert lr_steps.tolist() == steps.tolist() and np.allclose(lrs, 0.5)


@pytest.mark.parametrize("every", [5, 1])
def test_gradient_weight_and_update_statistics_match_a_hand_computation(store, every):
    spy = Spy()
    recorder, _ = train(store, every=every, spy=spy)
    metrics = store.metrics(recorder.run_id)
    names = [name for name, _, _ in mlp().named_params()]
    assert names == ["0.dense.W", "0.dense.b", "2.dense.W", "2.dense.b"]
    for step in (0, 10, 25):
        before = spy.initial if step == 0 else spy.params[step - 1]
        for name in names:
            grad, param = spy.grads[step][name], spy.params[step][name]
            expected = {
                f"grad_rms/{name}": math.sqrt(np.mean(grad.astype(np.float64) ** 2)),
                f"weight_rms/{name}": math.sqrt(np.mean(param.astype(np.float64) ** 2)),
            }
            if np.any(before[name]):
                expected[f"update_ratio/{name}"] = (np.linalg.norm((param - before[name]).astype(np.float64))
                                                    / np.linalg.norm(before[name].astype(np.float64)))
            for key, value in expected.items():
                steps, values = metrics[key]
                assert value > 0
                assert values[list(steps).index(step)] == pytest.approx(value, rel=1e-4), (key, step)
    # a bias starting at zero has no relative change at step 0; from step 5 on it has one
    assert metrics["update_ratio/0.dense.b"][0][0] == every
    assert metrics["update_ratio/0.dense.W"][0][0] == 0


def test_the_hook_is_attached_only_for_recording_steps(store):
    spy = Spy()
    recorder, _ = train(store, every=4, spy=spy)
    assert spy.hooks == [1 if step % 4 == 0 else 0 for step in range(30)]
    assert recorder.trainer.model._hooks["forward"] == []   # nothing left behind after training


def test_every_step_recording_keeps_one_hook(store):
    spy = Spy()
    recorder, _ = train(store, every=1, epochs=1, spy=spy)
    assert spy.hooks == [1] * 10
    steps, _ = store.metrics(recorder.run_id, "act_mean/1.relu")["act_mean/1.relu"]
    assert steps.tolist() == list(range(10))


def test_dead_fraction_finds_a_relu_layer_killed_by_a_large_negative_bias(store):
    dead, _ = train(store, model=mlp(bias_init={"name": "constant", "value": -10.0}), epochs=1)
    steps, values = store.metrics(dead.run_id, "dead_fraction/1.relu")["dead_fraction/1.relu"]
    assert steps.tolist() == [0, 5] and np.all(values == 1.0)
    alive, _ = train(store, epochs=1)
    _, values = store.metrics(alive.run_id, "dead_fraction/1.relu")["dead_fraction/1.relu"]
    assert np.all(values < 0.5)
    assert "act_std/1.relu" in store.metrics(alive.run_id)


@pytest.mark.parametrize("activation", [Tanh, Sigmoid])
def test_saturated_fraction_finds_squashing_units_pushed_into_their_tails(store, activation):
    label = f"1.{activation.__name__.lower()}"
    flat, _ = train(store, model=mlp(activation, bias_init={"name": "constant", "value": 10.0}), epochs=1)
    _, values = store.metrics(flat.run_id, f"saturated_fraction/{label}")[f"saturated_fraction/{label}"]
    assert values[0] == 1.0
    healthy, _ = train(store, model=mlp(activation), epochs=1)
    _, values = store.metrics(healthy.run_id, f"saturated_fraction/{label}")[f"saturated_fraction/{label}"]
    assert values[0] < 0.5


def test_activation_statistics_come_from_the_training_batch_not_validation(store):
    x, y = spiral()
    model = mlp()
    seen = []
    model.register_hook("forward", lambda index, layer, inp, out: index == 1 and seen.append(float(out.mean())))
    recorder = Recorder(store, every=5)
    fit(model, SoftmaxCrossEntropy(), SGD(lr=0.5), x, y, epochs=2, batch_size=32, seed=0, callbacks=[recorder],
        validation_data=(x[:60] * 5, y[:60]), eval_every=1)
    steps, values = store.metrics(recorder.run_id, "act_mean/1.relu")["act_mean/1.relu"]
    # forward passes in order: each step's training batch, then its validation pass (eval_every=1, one batch
    # of 60 rows) while the hook is still attached; at each epoch end one more validation pass; at the end one more
    train_means = []
    passes = iter(seen)
    for step in range(20):
        train_means.append(next(passes))
        next(passes)
        if (step + 1) % 10 == 0:
            next(passes)
    next(passes)                                    # the Recorder's last evaluation, for the confusion matrix
    assert next(passes, None) is None
    np.testing.assert_allclose(values, np.array(train_means)[steps], rtol=1e-6)


def test_run_metadata_epoch_metrics_events_and_status(store):
    recorder, history = train(store, every=5, epochs=3, tensors_every=10)
    run = store.run(recorder.run_id)
    assert run["name"] == "spiral" and run["status"] == "finished" and run["dataset"] == "spiral"
    assert run["config"]["optimizer"]["name"] == "sgd" and run["config"]["optimizer"]["momentum"] == 0.9
    assert run["config"]["batch_size"] == 32 and run["config"]["epochs"] == 3
    assert [layer["type"] for layer in run["architecture"]] == ["Dense", "ReLU", "Dense"]
    assert run["architecture"][0]["config"]["n_out"] == 32
    metrics = store.metrics(recorder.run_id)
    steps, values = metrics["epoch/val_loss"]
    assert steps.tolist() == [9, 19, 29]
    np.testing.assert_array_equal(values, history["val_loss"])
    np.testing.assert_array_equal(metrics["epoch/accuracy"][1], history["accuracy"])
    assert "epoch/seconds" in metrics
    seconds, per_second = metrics["epoch/seconds"][1], metrics["epoch/examples_per_second"][1]
    np.testing.assert_allclose(per_second, run["config"]["n_samples"] / seconds)
    events = store.events(recorder.run_id)
    assert [event["kind"] for event in events] == ["epoch_end", "checkpoint"] * 3 + ["train_end"]
    assert [event["payload"]["epochs_done"] for event in events if event["kind"] == "checkpoint"] == [1, 2, 3]
    assert events[-1]["payload"]["status"] == "finished"
    steps, arrays = store.tensors(recorder.run_id, "0.dense.W")
    assert steps.tolist() == [0, 10, 20] and arrays[0].shape == (2, 32)
    assert not np.array_equal(arrays[0], arrays[2])


def test_a_stopped_run_is_stored_as_stopped(store):
    class StopAtStep(Callback):
        def on_batch_end(self, step, logs):
            if step == 12:
                self.trainer.stop("enough")

    x, y = spiral()
    recorder = Recorder(store, every=5)
    fit(mlp(), SoftmaxCrossEntropy(), SGD(lr=0.5), x, y, epochs=5, batch_size=32, callbacks=[StopAtStep(), recorder])
    assert store.run(recorder.run_id)["status"] == "stopped"
    assert store.events(recorder.run_id)[-1]["message"] == "enough"


def test_a_run_that_fails_with_an_exception_is_closed_in_the_store_and_the_error_goes_on(store):
    class Broken(Callback):
        def on_batch_end(self, step, logs):
            if step == 6:
                raise ZeroDivisionError("a bug in a callback")

    x, y = spiral()
    recorder = Recorder(store, every=5)
    with pytest.raises(ZeroDivisionError, match="a bug in a callback"):
        fit(mlp(), SoftmaxCrossEntropy(), SGD(lr=0.5), x, y, epochs=5, batch_size=32, callbacks=[Broken(), recorder])
    assert store.run(recorder.run_id)["status"] == "interrupted"      # not left "running" forever
    message = store.events(recorder.run_id)[-1]["message"]
    assert "Training failed at epoch 0, step 6" in message and "ZeroDivisionError" in message


def test_a_diverging_run_is_stored_as_diverged(store):
    x, y = spiral()
    recorder = Recorder(store, every=1)
    history = fit(mlp(), SoftmaxCrossEntropy(), SGD(lr=1e6), x * 1e3, y, epochs=3, batch_size=32,
                  callbacks=[recorder])
    assert history.status == "diverged"
    assert store.run(recorder.run_id)["status"] == "diverged"


def test_a_recorder_given_a_path_opens_and_closes_its_store(tmp_path):
    x, y = spiral()
    recorder = Recorder(tmp_path / "own.sqlite", every=10)
    fit(mlp(), SoftmaxCrossEntropy(), SGD(lr=0.5), x, y, epochs=1, callbacks=[recorder])
    with pytest.raises(RuntimeError, match="closed"):
        recorder.store.runs()
    first = recorder.run_id
    fit(mlp(), SoftmaxCrossEntropy(), SGD(lr=0.5), x, y, epochs=1, callbacks=[recorder])   # each fit: a new run
    with RunStore(tmp_path / "own.sqlite") as store:
        assert [run["id"] for run in store.runs()] == [first, recorder.run_id]
        assert {run["status"] for run in store.runs()} == {"finished"}


def test_bad_arguments_are_refused(store):
    with pytest.raises(TypeError, match="RunStore or a path"):
        Recorder(42)
    with pytest.raises(ValueError, match="every"):
        Recorder(store, every=0)
    with pytest.raises(TypeError, match="config to be a dict"):
        Recorder(store, config=[1])


def test_weight_and_gradient_histograms_at_every_epoch_end(store):
    recorder, _ = train(store, every=5, epochs=2)
    names = store.tensor_names(recorder.run_id)
    assert "histogram/weights/0.dense.W" in names and "histogram/grads/2.dense.W" in names
    assert not any(name.endswith(".b") for name in names if name.startswith("histogram/"))
    steps, tables = store.tensors(recorder.run_id, "histogram/weights/0.dense.W")
    assert steps.tolist() == [9, 19]
    edges, counts = tables[-1][0], tables[-1][1][:-1]
    assert counts.sum() == 2 * 32 and edges[0] == -edges[-1]          # every weight of Dense(2, 32), centred
    first_layer_weights = recorder.trainer.model.layers[0].params["W"]
    np.testing.assert_array_equal(counts, np.histogram(first_layer_weights, bins=edges)[0])


def test_confusion_matrix_of_the_validation_data_is_recorded_at_the_end(store):
    recorder, history = train(store, every=5, epochs=2)
    _, (confusion,) = store.tensors(recorder.run_id, "confusion/validation")
    assert confusion.shape == (3, 3) and confusion.sum() == 60
    assert confusion.trace() / 60 == pytest.approx(history["val_accuracy"][-1])


# -- a failing store never costs the training --------------------------------------------------------------------
class LockedStore:
    """Another process's view of the store: a connection that holds its write lock until released."""

    def __init__(self, path):
        import sqlite3

        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("BEGIN EXCLUSIVE")

    def release(self):
        self.db.execute("ROLLBACK")
        self.db.close()
        self.db = None


def test_a_store_locked_by_another_process_stops_the_record_not_the_training(tmp_path):
    from learnscope.train.recorder import RecordingFailed

    path = tmp_path / "runs.sqlite"
    recorder = Recorder(path, run_name="locked out", every=5, checkpoints=False)
    lock = LockedStore(path)
    x, y = spiral()
    model = mlp()
    before = [param.copy() for _, param, _ in model.named_params()]
    try:
        with pytest.warns(RecordingFailed, match="database is locked"):
            history = fit(model, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=32, seed=0,
                          callbacks=[recorder])
    finally:
        lock.release()
    assert history.status == "finished" and len(history.epoch) == 3          # every epoch trained
    assert any(not np.array_equal(a, b) for a, (_, b, _) in zip(before, model.named_params()))
    assert "was never started" in recorder.error and recorder.run_id is None
    with RunStore(path) as store:                                            # the store is intact and empty
        assert store.runs() == []


def test_a_store_that_fails_mid_run_keeps_what_it_has_and_marks_the_run(tmp_path):
    from learnscope.train.recorder import RecordingFailed

    path = tmp_path / "runs.sqlite"
    recorder = Recorder(path, run_name="cut off", every=1, checkpoints=False)

    class LockDuringSecondEpoch(Callback):
        """Another process takes the store after the first epoch's steps are written and gives it back after
        the second epoch: the recorder fails in between and marks the run once it can."""

        lock = None

        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                recorder.store.flush()
                LockDuringSecondEpoch.lock = LockedStore(path)
            elif epoch == 1:
                LockDuringSecondEpoch.lock.release()

    x, y = spiral()
    try:
        with pytest.warns(RecordingFailed, match="database is locked"):
            history = fit(mlp(), SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=3, batch_size=32, seed=0,
                          callbacks=[LockDuringSecondEpoch(), recorder])
    finally:
        if LockDuringSecondEpoch.lock.db is not None:
            LockDuringSecondEpoch.lock.release()
    assert history.status == "finished" and len(history.epoch) == 3
    assert "ends here" in recorder.error
    with RunStore(path) as store:
        run = store.run(recorder.run_id)
        steps, _ = store.metrics(recorder.run_id, ["loss"])["loss"]
    assert run["status"] == "interrupted"                                    # not left "running" forever
    assert 0 < len(steps) < len(history.step_loss)                           # the first epoch's record is kept
