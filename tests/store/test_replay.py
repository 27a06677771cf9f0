"""Replay and compare: a stored run gives back the live curves, and runs line up across batch sizes."""

import numpy as np
import pytest

from learnscope.data.toy2d import make_spiral
from learnscope.layers import Dense, ReLU
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import Adam
from learnscope.store import RunStore, align, load_history
from learnscope.train import Recorder, fit


def recorded_run(store, batch_size, epochs=4, every=1):
    x, y = make_spiral(n_samples=240, n_classes=3, seed=0)
    model = Sequential([Dense(2, 16), ReLU(), Dense(16, 3)], seed=0)
    recorder = Recorder(store, run_name=f"batch {batch_size}", every=every)
    history = fit(model, SoftmaxCrossEntropy(), Adam(lr=1e-2), x, y, epochs=epochs, batch_size=batch_size, seed=0,
                  callbacks=[recorder])
    return recorder.run_id, history


def test_replay_reproduces_the_live_curves(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        run_id, live = recorded_run(store, batch_size=32)
        stored = load_history(store, run_id)
    steps, losses = stored.curve("loss")
    np.testing.assert_array_equal(steps, np.arange(len(live.step_loss)))
    np.testing.assert_allclose(losses, live.step_loss, rtol=1e-12)
    np.testing.assert_allclose(stored.curve("epoch/loss", by="epoch")[1], live["loss"], rtol=1e-12)
    replayed = list(stored.replay(["loss", "lr"]))
    assert [step for step, _ in replayed] == list(range(len(live.step_loss)))
    assert replayed[5][1]["loss"] == pytest.approx(live.step_loss[5], rel=1e-12)


def test_progress_axes_count_examples_and_fractional_epochs(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        run_id, _ = recorded_run(store, batch_size=50, epochs=2)      # 240 examples: 4 full batches and one of 40
        stored = load_history(store, run_id)
    examples, _ = stored.curve("loss", by="examples")
    np.testing.assert_array_equal(examples, [50, 100, 150, 200, 240, 290, 340, 390, 440, 480])
    epochs, _ = stored.curve("loss", by="epoch")
    assert epochs[4] == 1.0 and epochs[-1] == 2.0
    np.testing.assert_array_equal(stored.curve("epoch/loss", by="examples")[0], [240, 480])


def test_align_lines_up_runs_with_different_batch_sizes(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        small = load_history(store, recorded_run(store, batch_size=16)[0])
        large = load_history(store, recorded_run(store, batch_size=80)[0])
    assert len(small.metrics["loss"][0]) == 5 * len(large.metrics["loss"][0])    # 60 vs 12 steps
    for by in ("epoch", "examples"):
        grid, (a, b) = align([small, large], "loss", by=by, points=50)
        assert len(grid) == 50 and a.shape == b.shape == (50,)
    grid, (a, b) = align([small, large], "epoch/loss", by="epoch")
    assert grid[0] == 1.0 and grid[-1] == 4.0
    np.testing.assert_allclose([a[0], a[-1]], small.metrics["epoch/loss"][1][[0, -1]])
    np.testing.assert_allclose([b[0], b[-1]], large.metrics["epoch/loss"][1][[0, -1]])


def test_bad_requests_are_explained(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        stored = load_history(store, recorded_run(store, batch_size=32, epochs=1)[0])
        with pytest.raises(ValueError, match="has no metric 'accuracy_top5'"):
            stored.curve("accuracy_top5")
        with pytest.raises(ValueError, match="by"):
            stored.curve("loss", by="hours")
        with pytest.raises(ValueError, match="at least one run"):
            align([], "loss")
        with pytest.raises(ValueError, match="no run with id 99"):
            load_history(store, 99)


def test_export_to_csv_and_json_holds_every_recorded_number(tmp_path):
    import csv
    import json

    from learnscope.store import export_run

    with RunStore(tmp_path / "runs.sqlite") as store:
        run_id, live = recorded_run(store, batch_size=32, epochs=2)
        history = load_history(store, run_id)
        export_run(store, run_id, tmp_path / "run.csv")
        export_run(store, run_id, tmp_path / "run.json")
        with pytest.raises(ValueError, match=r"\.csv or \.json"):
            export_run(store, run_id, tmp_path / "run.xlsx")
    rows = list(csv.DictReader((tmp_path / "run.csv").read_text().splitlines()))
    assert len(rows) == sum(len(steps) for steps, _ in history.metrics.values())
    losses = [float(row["value"]) for row in rows if row["metric"] == "loss"]
    np.testing.assert_allclose(losses, live.step_loss, rtol=1e-12)
    document = json.loads((tmp_path / "run.json").read_text())
    assert document["run"]["id"] == run_id and document["metrics"]["loss"]["values"][3] == pytest.approx(
        live.step_loss[3], rel=1e-12)
    assert any(event["kind"] == "epoch_end" for event in document["events"])
    assert not (tmp_path / "run.xlsx").exists()
    assert not [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")]   # no half-written files
