"""LiveCurves: what it sends to the notebook (the synced `series`), how often (the throttle), and what it is fed by
fit() and by a watched PyTorch run."""

import time

import numpy as np
import pytest

from learnscope.architectures import build_mlp
from learnscope.data.toy2d import make_spiral
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.notebook import LiveCurves
from learnscope.optim import Adam
from learnscope.train import fit


def test_a_fast_loop_sends_few_pictures_and_the_last_one_is_complete():
    curves = LiveCurves(interval=60)
    sent = []
    curves.observe(lambda change: sent.append(change["new"]), names="series")
    for step in range(5000):
        curves.add(step, loss=1 / (step + 1))
    assert len(sent) == 1                                   # the first point; then the throttle holds for 60 s
    curves.send_now()
    (line,) = curves.series
    assert line["name"] == "train loss" and len(line["xs"]) == 300         # thinned for the browser
    assert line["xs"][-1] == pytest.approx(np.mean(np.arange(4983, 5000)), abs=1)   # the last slice's mean
    assert len(curves.points["train loss"][0]) == 5000                     # every point is kept


def test_the_interval_is_the_least_time_between_two_pictures():
    curves = LiveCurves(interval=0.05)
    began = time.monotonic()
    while time.monotonic() - began < 0.5:
        curves.add(time.monotonic(), loss=1.0)
    assert 5 <= curves.pictures_sent <= 11                  # 0.5 s / 0.05 s, and the first one


def test_fit_feeds_the_training_and_test_curves():
    x, y = make_spiral(300, seed=0)
    curves = LiveCurves()
    history = fit(build_mlp((2,), 3, hidden=(32,), seed=0), SoftmaxCrossEntropy(), Adam(lr=0.01), x, y, epochs=3,
                  batch_size=30, validation_data=(x, y), seed=0, callbacks=[curves.callback(every=5)])
    lines = {line["name"]: line for line in curves.series}
    assert list(lines) == ["train loss", "train accuracy", "test loss", "test accuracy"]
    assert lines["train loss"]["xs"] == list(range(0, 30, 5))
    assert lines["train loss"]["ys"] == pytest.approx(history.step_loss[::5])
    assert lines["test accuracy"]["xs"] == [9, 19, 29] and lines["test accuracy"]["ys"] == pytest.approx(
        history["val_accuracy"])


def test_follow_draws_what_a_watcher_records(torch, tmp_path):
    import learnscope

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    curves = LiveCurves(interval=60)
    x, y = torch.rand(16, 4), torch.randint(0, 2, (16,))
    losses = []
    with curves.follow(learnscope.watch(net, optimizer, store=tmp_path / "runs.sqlite", every=3)) as watcher:
        for _ in range(10):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
            watcher.log(loss=loss)
            losses.append(loss.item())
        watcher.end_epoch(val_accuracy=0.75)
    lines = {line["name"]: line for line in curves.series}          # the closing picture, despite the throttle
    assert lines["train loss"]["xs"] == [0, 3, 6, 9]
    assert lines["train loss"]["ys"] == pytest.approx([losses[step] for step in (0, 3, 6, 9)])
    assert lines["test accuracy"] == {**lines["test accuracy"], "xs": [9], "ys": [0.75]}


def test_a_bad_interval_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="interval.*interval=0.5"):
        LiveCurves(interval=-1)


def test_the_gradient_and_update_views_draw_each_weight_layer_as_the_recorder_stored_it(tmp_path):
    from learnscope.store import RunStore
    from learnscope.train import Recorder

    x, y = make_spiral(300, seed=0)
    recorder = Recorder(tmp_path / "runs.sqlite", every=4)
    training, gradients, updates = (LiveCurves(view=view, interval=60) for view in ("training", "gradients",
                                                                                     "updates"))
    for curves in (training, gradients, updates):
        assert curves.follow(recorder) is recorder
    fit(build_mlp((2,), 3, hidden=(32, 32), seed=0), SoftmaxCrossEntropy(), Adam(lr=0.01), x, y, epochs=2,
        batch_size=30, validation_data=(x, y), seed=0, callbacks=[recorder])
    with RunStore(tmp_path / "runs.sqlite") as store:
        metrics = store.metrics(recorder.run_id)
    weights = sorted(name[len("grad_rms/"):] for name in metrics if name.startswith("grad_rms/") and
                     name.endswith(".W"))
    assert len(weights) == 3 and gradients.log_y and updates.log_y and not training.log_y
    drawn = {line["name"]: line for line in gradients.series}
    assert sorted(drawn) == weights
    for name in weights:
        steps, values = metrics[f"grad_rms/{name}"]
        assert drawn[name]["xs"] == steps.tolist() and drawn[name]["ys"] == pytest.approx(values.tolist())
    guide = updates.series[-1]
    assert guide["dashed"] and guide["ys"] == [1e-3, 1e-3] and len(updates.series) == 4
    steps, values = metrics["update_ratio/" + weights[0]]
    assert updates.series[0]["xs"] == steps.tolist() and updates.series[0]["ys"] == pytest.approx(values.tolist())
    lines = {line["name"]: line for line in training.series}
    assert lines["train loss"]["ys"] == pytest.approx(metrics["loss"][1].tolist())
    assert lines["test accuracy"]["ys"] == pytest.approx(metrics["epoch/val_accuracy"][1].tolist())


def test_what_a_chart_cannot_show_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="view.*gradients"):
        LiveCurves(view="weights")
    with pytest.raises(ValueError, match="curves.follow\\(recorder\\)"):
        LiveCurves(view="gradients").callback()
    with pytest.raises(TypeError, match="Recorder.*learnscope.watch"):
        LiveCurves().follow(object())
