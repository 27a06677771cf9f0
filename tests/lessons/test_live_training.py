"""Training in a child process with snapshots: the board's versions, a real MNIST run whose numbers are the
Recorder's and evaluate()'s, pause/resume/stop, divergence, missing data, and saving."""

import math
import multiprocessing
import os
import signal
import threading
import time

import numpy as np
import pytest

from learnscope.data.mnist import load_mnist
from learnscope.lessons.jobs import JobControl
from learnscope.lessons.live_training import STICKY, STOP_GRACE_SECONDS, TrainingJob, _train_in_child, _Worker
from learnscope.lessons.mnist_lab import default_form, parse_form
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.store import RunStore
from learnscope.train import evaluate


def _settings(**fields):
    settings, errors = parse_form({**default_form(), **fields})
    assert errors == {}
    return settings


def _long_run_under_way(tmp_path, data_dir) -> TrainingJob:
    """A started 5-epoch run on 20,000 images, once it has taken 5 steps."""
    job = TrainingJob(_settings(samples="20000", epochs="5"), tmp_path / "runs.sqlite", data_dir=data_dir,
                      download=False)
    job.start()
    deadline = time.monotonic() + 60
    while (job.board.latest() or {}).get("step", 0) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    return job


def _wait_for(condition, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _watch(job, timeout=120):
    """Poll like a page does; return every distinct snapshot seen, in order."""
    seen, version = [], None
    deadline = time.monotonic() + timeout
    while job.running and time.monotonic() < deadline:
        snapshot = job.board.latest(version)
        if snapshot is not None:
            seen.append(snapshot)
            version = snapshot["version"]
        time.sleep(0.02)
    final = job.board.latest(version)
    return seen + ([final] if final is not None else [])


def test_an_mnist_run_publishes_the_recorders_numbers_and_ends_with_evaluate(tmp_path, shared_data_dir):
    published = []
    # snapshots every 50 ms: on an idle machine the 48 steps take about half a second, one default interval
    job = TrainingJob(_settings(samples="3000", epochs="2"), tmp_path / "runs.sqlite", data_dir=shared_data_dir,
                      download=False, on_model=lambda *args: published.append(args), publish_every=0.05)
    job.start()
    snapshots = _watch(job)
    final = snapshots[-1]
    assert final["status"] == "finished", final["message"]
    assert snapshots[0]["status"] in ("starting", "loading")       # a snapshot from after the spawn, then the child's
    assert any(s["status"] == "running" and 0 < s["step"] < final["total_steps"] for s in snapshots)
    assert final["step"] == final["total_steps"] == 2 * math.ceil(3000 / 128)
    assert final["numbers"].findings == ()              # the default recipe is healthy: nothing to name
    assert final["numbers"].epochs == 2 and len(final["numbers"].test_accuracy) == 2
    assert final["eta_seconds"] == 0 and final["examples_per_second"] > 0 and final["training_seconds"] > 0
    versions = [s["version"] for s in snapshots]
    assert versions == sorted(set(versions))

    # the test curve: 4 evaluations per epoch (24 steps: the 4th falls on the epoch's last step, so the epoch-end
    # evaluation of the same weights is not plotted twice); the last point is the final accuracy
    test_x, test_accuracy = final["curves"]["test"]["accuracy"]
    assert test_x == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert test_accuracy[-1] == pytest.approx(job.result.accuracy)

    # gradient RMS and update ratios are the values the Recorder wrote to the run store
    with RunStore(tmp_path / "runs.sqlite") as store:
        stored = store.metrics(job.run_id)
    weights = [name for name in final["curves"]["grad_rms"]]
    assert weights == ["2.dense.W", "5.dense.W", "8.dense.W"]
    for name in weights:
        _, values = final["curves"]["grad_rms"][name]
        assert np.allclose(values, stored[f"grad_rms/{name}"][1])
        _, ratios = final["curves"]["update_ratio"][name]
        assert np.allclose(ratios, stored[f"update_ratio/{name}"][1][-len(ratios):])
    assert final["picture"].startswith("data:image/png;base64,") and len(final["picture"]) < 60_000

    # the result is evaluate() of the model on the whole test set, and the saved model gives the same numbers
    path = job.save(tmp_path / "mnist-mlp.safetensors")
    data = load_mnist(shared_data_dir, download=False, progress=False)
    again = evaluate(Sequential.load(path), SoftmaxCrossEntropy(), data.x_test, data.y_test)
    assert (again.confusion == job.result.confusion).all() and again.accuracy == job.result.accuracy
    assert job.result.confusion.sum() == 10_000 and job.result.accuracy > 0.85
    model, name, class_names, accuracy = published[0]
    assert model is job.model and accuracy == job.result.accuracy and class_names == [str(d) for d in range(10)]
    assert "MLP" in name and f"{accuracy:.1%}" in name
    with RunStore(tmp_path / "runs.sqlite") as store:
        _steps, confusions = store.tensors(job.run_id, "confusion/test")
    assert (confusions[-1] == job.result.confusion).all()


def test_pause_holds_training_resume_continues_and_stop_ends_with_an_evaluation(tmp_path, shared_data_dir):
    job = _long_run_under_way(tmp_path, shared_data_dir)
    job.pause()
    assert _wait_for(lambda: job.board.latest()["status"] == "paused")   # the worker says so once it holds
    paused = job.board.latest()
    assert job.paused
    time.sleep(0.4)
    assert job.board.latest()["step"] == paused["step"]            # nothing moves while paused
    job.resume()
    assert _wait_for(lambda: job.board.latest()["status"] == "running")          # at once, not at the next tick
    assert _wait_for(lambda: job.board.latest()["step"] > paused["step"])
    job.stop(wait=True)
    final = job.board.latest()
    assert final["status"] == "stopped" and "Stopped from the lab" in final["message"]
    assert final["step"] < final["total_steps"]
    assert job.result is not None and job.result.confusion.sum() == 10_000


def test_a_diverging_run_says_so_and_plots_no_nan(tmp_path, shared_data_dir):
    job = TrainingJob(_settings(samples="2000", optimizer="sgd", lr="10", batch_norm=False),
                      tmp_path / "runs.sqlite", data_dir=shared_data_dir, download=False)
    job.start()
    assert job.wait(60)
    final = job.board.latest()
    assert final["status"] == "diverged" and "diverged" in final["message"] and "learning rate" in final["message"]
    for _xs, ys in final["curves"]["train"].values():
        assert all(y is None or math.isfinite(y) for y in ys)
    divergence = final["numbers"].findings[0]           # what the page names, with its one-click fix
    assert divergence.kind == "divergence" and divergence.fix == {"lr": 1.0}
    with pytest.raises(RuntimeError, match="diverged"):
        job.save(tmp_path / "bad.safetensors")


def test_missing_mnist_ends_the_job_with_the_loaders_advice(tmp_path):
    job = TrainingJob(_settings(), tmp_path / "runs.sqlite", data_dir=tmp_path / "empty", download=False)
    job.start()
    assert job.wait(30)
    final = job.board.latest()
    assert final["status"] == "failed" and "does not exist" in final["message"]


def test_saving_before_the_end_is_refused(tmp_path, shared_data_dir):
    job = TrainingJob(_settings(samples="20000", epochs="3"), tmp_path / "runs.sqlite", data_dir=shared_data_dir,
                      download=False)
    with pytest.raises(RuntimeError, match="no finished model"):
        job.save(tmp_path / "early.safetensors")
    job.start()
    with pytest.raises(RuntimeError, match="no finished model"):
        job.save(tmp_path / "early.safetensors")
    job.stop(wait=True)
    assert not job.running


def test_training_runs_in_its_own_process_and_a_crash_there_leaves_a_message(tmp_path, shared_data_dir):
    job = _long_run_under_way(tmp_path, shared_data_dir)
    assert job.child_pid != os.getpid()                                     # not a thread of the lab's process
    os.kill(job.child_pid, signal.SIGKILL)                                  # e.g. the OS ended it
    assert job.wait(30)
    final = job.board.latest()
    assert final["status"] == "failed" and "ended unexpectedly" in final["message"]
    assert job.result is None and job.model is None
    with pytest.raises(RuntimeError, match="no finished model"):
        job.save(tmp_path / "nothing.safetensors")


def test_the_trainer_sends_curves_and_pictures_only_when_new_and_the_job_carries_them_in_every_snapshot(
        tmp_path, shared_data_dir):
    # the child's side, run here over a real pipe: every step publishes, the curves and pictures at their own pace
    receiver, sender = multiprocessing.Pipe(duplex=False)
    worker = _Worker(_settings(samples="3000", epochs="2"), tmp_path / "runs.sqlite", shared_data_dir, False,
                     publish_every=0.0, picture_every=0.2, curves_every=0.1, record_every=10,
                     model_path=tmp_path / "model.safetensors")
    messages = []
    reader = threading.Thread(target=lambda: _read_all(receiver, messages))
    reader.start()
    _train_in_child(worker, JobControl(), sender)
    reader.join(30)
    snapshots = [payload for kind, payload in messages if kind == "snapshot" and "step" in payload]
    assert len(snapshots) >= 2 * math.ceil(3000 / 128)                  # one per step at least
    for key in ("curves_version", "picture_version"):
        sent = [snapshot[key] for snapshot in snapshots if key in snapshot]
        assert sent == sorted(set(sent)), f"{key}: a version was sent twice"
        assert 2 <= len(sent) < len(snapshots) / 2                       # new ones only: a few, not one per step
    assert all(("curves" in snapshot) == ("curves_version" in snapshot) for snapshot in snapshots)

    # the parent's side: every snapshot on the board carries the latest curves and picture sent
    job = TrainingJob(_settings(), tmp_path / "unused.sqlite")
    latest = {}
    for snapshot in snapshots:
        job.publish(snapshot)
        latest.update({key: snapshot[key] for key in STICKY if key in snapshot})
        on_board = job.board.latest()
        assert all(on_board[key] is latest[key] for key in latest) and on_board["step"] == snapshot["step"]


def _read_all(receiver, into: list) -> None:
    while True:
        try:
            into.append(receiver.recv())
        except EOFError:
            return


def test_stop_cuts_a_long_step_short_after_its_grace_and_keeps_the_model(tmp_path, shared_data_dir):
    # full batches of 20,000 images through three layers of 2048 units: each step takes a second or more here,
    # longer than the grace this test gives (the lab's is STOP_GRACE_SECONDS)
    grace = 0.2
    job = TrainingJob(_settings(samples="20000", hidden="2048, 2048, 2048", batch_size="20000", batch_norm=False,
                                epochs="3"),
                      tmp_path / "runs.sqlite", data_dir=shared_data_dir, download=False, publish_every=0.05,
                      stop_grace=grace)
    job.start()
    assert _wait_for(lambda: (job.latest() or {}).get("status") == "running", timeout=60)
    time.sleep(0.1)                                                        # inside the first long step
    asked = time.monotonic()
    job.stop()
    assert _wait_for(lambda: job.latest()["status"] not in ("running", "paused"), timeout=30)
    # the interrupt lands when the matrix product under way returns; then the Recorder's last evaluation runs
    assert time.monotonic() - asked < grace + 1.5
    assert STOP_GRACE_SECONDS <= 0.5
    assert job.wait(120)
    final = job.latest()
    assert final["status"] == "stopped" and "cut short" in final["message"]
    assert job.model is not None and job.result is not None                 # the model as it was, tested


def test_a_stopped_run_continues_from_its_checkpoint_with_its_own_settings(tmp_path, shared_data_dir):
    from learnscope.lessons.mnist_lab import continue_settings, past_runs

    store = tmp_path / "runs.sqlite"
    first = TrainingJob(_settings(samples="3000", epochs="30"), store, data_dir=shared_data_dir, download=False,
                        publish_every=0.02)
    first.start()
    assert _wait_for(lambda: (first.latest() or {}).get("step", 0) >= 5, timeout=60)
    first.stop(wait=True)
    assert first.latest()["status"] == "stopped"
    (listed,) = past_runs(store)
    assert listed["can_continue"] and listed["status"] == "stopped"
    settings = continue_settings(listed)
    assert settings.resume_run == first.run_id and settings.recipe == first.settings.recipe

    second = TrainingJob(settings, store, data_dir=shared_data_dir, download=False)
    second.start()
    assert second.wait(120)
    final = second.latest()
    assert final["status"] == "finished"
    with RunStore(store) as runs:
        checkpoints = [event for event in runs.events(first.run_id) if event["kind"] == "checkpoint"]
    done = checkpoints[-1]["payload"]["epochs_done"]
    assert 1 <= done < 30
    assert final["total_steps"] == (30 - done) * math.ceil(3000 / 128)      # the epochs left, not all thirty
    assert second.result.accuracy > 0.85
    with RunStore(store) as runs:
        assert runs.run(second.run_id)["config"]["resumed_from"] == first.run_id
    finished = next(run for run in past_runs(store) if run["id"] == second.run_id)
    assert not finished["can_continue"]
    with pytest.raises(ValueError, match="cannot be continued"):
        continue_settings(finished)


def test_fashion_mnist_trains_from_the_page_with_its_class_names(tmp_path, shared_data_dir):
    settings = _settings(dataset="fashion-mnist", samples="2000", epochs="1")
    assert settings.dataset == "fashion-mnist"
    job = TrainingJob(settings, tmp_path / "runs.sqlite", data_dir=shared_data_dir, download=False)
    job.start()
    assert job.wait(120)
    final = job.board.latest()
    assert final["status"] == "finished", final["message"]
    assert job.result.class_names[0] == "T-shirt/top" and job.result.accuracy > 0.6   # clothes, not digits
