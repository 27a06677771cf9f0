"""The MNIST page in-process (NiceGUI's simulated user on the real page): a real training run shown end to end,
the controls, nonsense in every field, and what the page offers when MNIST is missing."""

import asyncio
import time

import numpy as np
import pytest
from nicegui import ui

from learnscope.lab.components.curves import LiveChart
from learnscope.lab.components.live_progress import LiveProgress
from learnscope.lab.pages.mnist import JOB, TEXT_FIELDS
from learnscope.lessons.mnist_lab import past_runs, run_progress
from learnscope.model import Sequential
from learnscope.store import RunStore


async def _wait_for_end(user, lab, timeout=90):
    """Let the page's timer run until the job has ended and the page has shown its final snapshot."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = lab.jobs.get(JOB)
        if job is not None and not job.running:
            await asyncio.sleep(0.3)                         # a few more polls: the page picks up the last snapshot
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("training did not end in time")


def _set(user, field, text):
    user.find(marker=field).clear().type(text)


def _only(user, marker):
    elements = user.find(marker=marker).elements
    assert len(elements) == 1
    return next(iter(elements))


async def test_page_opens_with_the_mnist_recipe_and_every_control_explained(user):
    await user.open("/mnist")
    await user.should_see("MNIST: learning to read handwriting")
    await user.should_see("MNIST from folder")
    assert _only(user, "lr").value == "0.3" and _only(user, "epochs").value == "2"       # the CLI's recipe
    assert _only(user, "hidden").value == "256, 256" and _only(user, "dataset").value == "mnist"
    tooltips = {tip.props["target"]: tip.text for tip in user.find(ui.tooltip).elements}
    for marker in (*TEXT_FIELDS, "dataset", "model", "activation", "optimizer", "batch_norm", "start", "pause",
                   "resume", "stop", "save", "past-runs"):
        assert tooltips.get(f"#{_only(user, marker).html_id}"), f"{marker} has no tooltip"
    assert not _only(user, "pause").enabled and not _only(user, "save").enabled
    titles = [chart.options["title"] for chart in user.find(LiveChart).elements]
    assert sorted(titles) == ["A recorded run", "Accuracy", "Gradient flow", "Loss", "Update ratio"]
    for caption in ("learning signal reaching each layer", "Around 1e-3 (dashed) is healthy",
                    "Confusion matrix (test set)", "Most confident mistakes", "What the first layer looks for"):
        await user.should_see(caption)


async def test_a_run_trains_live_and_ends_with_the_confusion_matrix_and_mistakes(user, lab, tmp_path):
    await user.open("/mnist")
    _set(user, "samples", "3000")
    _set(user, "epochs", "1")
    user.find(marker="start").click()
    job = lab.jobs[JOB]
    # the click returns at once: the job is under way (its thread spawns the training process) and says so
    assert job.running and job.result is None and job.model is None
    assert job.latest()["status"] == "starting"
    await user.should_see("Starting")
    job = await _wait_for_end(user, lab)
    assert job.board.latest()["status"] == "finished"
    await user.should_see("Finished: epoch 1 of 1")
    await user.should_see(f"Test accuracy {job.result.accuracy:.2%}")

    # the progress line and the live charts show the final snapshot (sent to the browser in place, see LiveProgress)
    final = job.board.latest()
    assert user.find(LiveProgress).elements.pop().view == run_progress(final).live
    charts = {chart.options["title"]: chart for chart in user.find(LiveChart).elements}
    train_line, test_line = charts["Loss"].series
    assert (train_line["name"], test_line["name"]) == ("train batch", "test set")
    # x is epochs done: the batches run up to the end of the one epoch, where the test set was evaluated last
    assert np.all(np.diff(train_line["xs"]) > 0) and train_line["xs"][-1] == pytest.approx(1.0)
    assert test_line["xs"][-1] == pytest.approx(1.0)
    # the first batch's loss is an untrained net's ≈ ln 10 = 2.30 (ten classes); the test loss after the epoch is
    # evaluate()'s on the final model
    assert 1.8 < train_line["ys"][0] < 3.0 and train_line["ys"][-1] < train_line["ys"][0]
    assert test_line["ys"][-1] == pytest.approx(job.result.loss, rel=1e-5)
    assert charts["Accuracy"].series[1]["ys"][-1] == pytest.approx(job.result.accuracy)
    assert [line["name"] for line in charts["Update ratio"].series][-1] == "healthy ≈ 1e-3"

    # the matrix shows evaluate()'s counts, one cell per (true, predicted) pair
    cells = [element for element in user.find(marker="confusion").elements.pop().descendants()
             if "confusion-cell" in element.classes]
    shown = np.zeros((10, 10), dtype=np.int64)
    for cell in cells:
        shown[int(cell.props["data-true"]), int(cell.props["data-predicted"])] = int(cell.text)
    assert len(cells) == 100 and (shown == job.result.confusion).all()

    # a click on an off-diagonal cell opens exactly its images
    true_class, predicted_class = np.unravel_index(np.argmax(job.result.confusion - np.diag(np.diag(
        job.result.confusion))), (10, 10))
    count = int(job.result.confusion[true_class, predicted_class])
    cell = next(c for c in cells if (int(c.props["data-true"]), int(c.props["data-predicted"])) ==
                (true_class, predicted_class))
    with user:
        for listener in cell._event_listeners.values():
            if listener.type == "click":
                listener.handler(None)
    await user.should_see(f"Written {true_class}, read as {predicted_class}: {count} test images")
    gallery = user.find(marker="cell-gallery").elements.pop()
    assert len([e for e in gallery.descendants() if "gallery-item" in e.classes]) == min(count, 40)

    # the mistakes gallery: 40 wrong answers (3000 images for one epoch make well over 40)
    mistakes = user.find(marker="mistakes").elements.pop()
    items = [e for e in mistakes.descendants() if "gallery-item" in e.classes]
    assert len(items) == 40

    # curves, gradients per layer, and the weight picture made it to the page
    assert _only(user, "weights").props["src"].startswith("data:image/png;base64,")
    assert lab.trained_model is not None and lab.trained_model.model is job.model
    assert lab.trained_model.test_accuracy == job.result.accuracy

    # save, then the file holds the same network; the run is listed among past runs
    user.find(marker="save").click()
    saved = lab.config.models_path() / f"mnist-mlp-run{job.run_id}.safetensors"
    await user.should_see(f"Saved to {saved}")
    loaded = Sequential.load(saved)
    assert np.array_equal(loaded.predict(job.result.images[:50]), job.model.predict(job.result.images[:50]))
    runs = past_runs(lab.config.store_path())
    assert runs[0]["id"] == job.run_id
    assert job.run_id in _only(user, "past-runs").options

    # choosing it draws its recorded curves, read back from the run store
    _only(user, "past-runs").value = job.run_id
    for _ in range(100):                                    # the page reads the store off the event loop
        if charts["A recorded run"].series:
            break
        await asyncio.sleep(0.05)
    shown = {line["name"]: line for line in charts["A recorded run"].series}
    assert {"train loss", "train accuracy"} <= set(shown) and not any("epoch end" in name for name in shown)
    with RunStore(lab.config.store_path()) as store:
        recorded = store.metrics(job.run_id, ["loss", "accuracy"])
    # the store's own numbers: the recorded steps from the first to the last, and the last values logged
    for name in ("loss", "accuracy"):
        steps, values = recorded[name]
        line = shown[f"train {name}"]
        assert (line["xs"][0], line["xs"][-1]) == (steps[0], steps[-1]) and len(line["xs"]) <= len(steps)
        assert line["ys"][-1] == pytest.approx(float(values[-1]))


async def test_pause_resume_and_stop_from_the_page(user, lab):
    await user.open("/mnist")
    _set(user, "samples", "30000")
    _set(user, "epochs", "3")
    user.find(marker="start").click()
    job = lab.jobs[JOB]
    deadline = time.monotonic() + 30
    while (job.board.latest() or {}).get("status") != "running" and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    user.find(marker="pause").click()
    await asyncio.sleep(0.4)
    await user.should_see("Paused")
    assert _only(user, "resume").enabled and not _only(user, "start").enabled
    user.find(marker="resume").click()
    await asyncio.sleep(0.3)
    await user.should_see("Running")
    user.find(marker="stop").click()
    job = await _wait_for_end(user, lab)
    await user.should_see("Stopped from the lab")
    assert job.result is not None and _only(user, "save").enabled


async def test_nonsense_in_every_field_gets_an_inline_message_and_the_lab_keeps_working(user, lab):
    await user.open("/mnist")
    nonsense = {"hidden": ["0", "1000000", "abc"], "lr": ["-0.5", "fast"], "batch_size": ["0", "x"],
                "epochs": ["-1", "1e9"], "weight_decay": ["-1"], "dropout": ["2"], "seed": ["seed"],
                "samples": ["3", "lots"]}
    for field, values in nonsense.items():
        for value in values:
            _set(user, field, value)
            element = _only(user, field)
            assert element.error and "expected" in element.error and "got" in element.error, (field, value)
            user.find(marker="start").click()
            await user.should_see("Fix the fields marked in red")
            assert JOB not in lab.jobs                          # nothing started
        _set(user, field, {"hidden": "64", "lr": "0.3", "batch_size": "128", "epochs": "1", "weight_decay": "0",
                           "dropout": "0", "seed": "0", "samples": "500"}[field])
        assert _only(user, field).error is None
    user.find(marker="start").click()                          # all fixed: it trains
    job = await _wait_for_end(user, lab)
    assert job.board.latest()["status"] == "finished"
    await user.should_see("Finished")


async def test_without_mnist_the_page_says_how_to_get_it_and_trains_the_offline_digits(user, lab, tmp_path):
    # data_dir is searched on its own (LEARNSCOPE_DATA is not consulted when it is given): an empty folder is
    # an honest "MNIST is missing", even though the test environment points LEARNSCOPE_DATA at a real copy
    empty = tmp_path / "no-mnist-here"
    empty.mkdir()
    lab.config.data_dir = empty
    await user.open("/mnist")
    await user.should_see("MNIST is not on this computer yet")
    await user.should_see("--data-dir")
    await user.should_see("Use the 8×8 digits")
    assert _only(user, "dataset").value == "digits"             # downloads are off: the digits are preselected
    assert _only(user, "hidden").value == "64"
    _set(user, "epochs", "5")
    user.find(marker="start").click()
    job = await _wait_for_end(user, lab)
    assert job.board.latest()["status"] == "finished" and job.result.confusion.sum() == 360
    await user.should_see("Finished: epoch 5 of 5")


async def test_a_stopped_past_run_can_be_continued_from_the_page(user, lab):
    from learnscope.lessons.live_training import TrainingJob
    from learnscope.lessons.mnist_lab import default_form, parse_form

    settings, _ = parse_form({**default_form(), "samples": "3000", "epochs": "30"})
    first = TrainingJob(settings, lab.config.store_path(), data_dir=lab.config.data_dir, download=False,
                        publish_every=0.02)
    first.start()
    deadline = time.monotonic() + 60
    while (first.latest() or {}).get("step", 0) < 5 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    first.stop()
    while first.running:
        await asyncio.sleep(0.05)
    await user.open("/mnist")
    assert not _only(user, "continue").enabled                               # nothing chosen yet
    _only(user, "past-runs").value = first.run_id
    for _ in range(100):
        if _only(user, "continue").enabled:
            break
        await asyncio.sleep(0.05)
    assert _only(user, "continue").enabled
    user.find(marker="continue").click()
    job = await _wait_for_end(user, lab)
    assert job is not first and job.settings.resume_run == first.run_id
    assert job.latest()["status"] == "finished"


async def test_the_few_images_experiment_trains_and_reports_from_its_run(user, lab):
    await user.open("/mnist")
    user.find("Train on 1,000 images only").click()
    assert _only(user, "samples").value == "1000" and _only(user, "epochs").value == "10"
    job = await _wait_for_end(user, lab)
    final = job.board.latest()
    assert final["status"] == "finished", final["message"]
    test = final["numbers"].test_accuracy[-1]
    await user.should_see(f"{test:.1%} of the 10,000 test images", retries=20)    # the run's own number


async def test_a_new_run_clears_the_last_runs_results_and_a_reload_shows_the_runs_settings(user, lab):
    await user.open("/mnist")
    _set(user, "samples", "2000")
    _set(user, "epochs", "1")
    user.find(marker="start").click()
    first = await _wait_for_end(user, lab)
    await user.should_see("Finished: epoch 1 of 1")
    assert _only(user, "weights").visible
    cells = [e for e in _only(user, "confusion").descendants() if "confusion-cell" in e.classes]
    assert len(cells) == 100                                            # the first run's matrix

    _set(user, "epochs", "3")
    user.find(marker="start").click()                                  # a second run: the first one's results go
    second = lab.jobs[JOB]
    assert second is not first and second.running
    await user.should_see("Appears when training ends.")
    assert not [e for e in _only(user, "confusion").descendants() if "confusion-cell" in e.classes]
    second.stop(wait=True, timeout=60)

    await user.open("/mnist")                                          # a reload: the form shows that run's settings
    assert _only(user, "samples").value == "2000" and _only(user, "epochs").value == "3"
