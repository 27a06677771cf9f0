"""learnscope.watch on PyTorch models: the numbers it records equal the ones computed directly from the model
(p.grad, the weights before and after a step, a layer's output), for an MLP and a CNN trained on MNIST for one
epoch; the run reads like an engine run in `runs show` and `report`; DistributedDataParallel records one run."""

import copy
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

from learnscope.cli import app
from learnscope.store import RunStore
from learnscope.train.diagnostics import diagnose


def mlp(torch):
    torch.manual_seed(0)
    nn = torch.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.Tanh(),
                         nn.Linear(64, 10))


def cnn(torch):
    torch.manual_seed(1)
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(16 * 5 * 5, 10))


def rms(tensor) -> float:
    """sqrt(mean(t²)) in float64: the textbook per-weight size."""
    values = tensor.detach().double()
    return math.sqrt(float((values * values).mean()))


class Truth:
    """What the recorded numbers should be, computed in the test's own loop at every `every`-th step: each
    parameter's gradient RMS from p.grad, its update ‖W_k − W_{k−1}‖ / ‖W_{k−1}‖ from copies of the weights."""

    def __init__(self, torch, net, every):
        self.torch, self.every = torch, every
        self.before = {name: param.detach().clone() for name, param in net.named_parameters()}   # W_{−1}
        self.previous_net = copy.deepcopy(net)
        self.grad_rms, self.update_ratio, self.inputs, self.nets_before = {}, {}, {}, {}

    def __call__(self, step, net, x, y):
        params = dict(net.named_parameters())
        if step % self.every == 0:
            self.grad_rms[step] = {name: rms(param.grad) for name, param in params.items()}
            self.update_ratio[step] = {
                name: float((param.detach() - self.before[name]).double().norm() / self.before[name].double().norm())
                for name, param in params.items() if float(self.before[name].norm()) > 0}
            self.inputs[step], self.nets_before[step] = x, self.previous_net
        if (step + 1) % self.every == 0:                            # W_{k−1} of the next recorded step
            self.before = {name: param.detach().clone() for name, param in params.items()}
            self.previous_net = copy.deepcopy(net)


@pytest.mark.parametrize("build", [mlp, cnn], ids=["mlp", "cnn"])
def test_a_watched_torch_model_records_what_its_gradients_and_updates_are(torch, train_watched, tmp_path, build):
    net = build(torch)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    truth = Truth(torch, net, every=50)
    watcher, accuracy = train_watched(net, optimizer, tmp_path / "runs.sqlite", every=50, on_step=truth)
    assert accuracy > 0.9                                           # one real epoch of MNIST
    names = _parameter_names(tmp_path / "runs.sqlite", watcher.run_id)     # recorded name -> torch name
    with RunStore(tmp_path / "runs.sqlite") as store:
        run = store.run(watcher.run_id)
        metrics = store.metrics(watcher.run_id)
    assert run["status"] == "finished" and run["dataset"] == "mnist"
    steps = sorted(truth.grad_rms)
    assert steps == list(range(0, 469, 50))                         # 469 batches of 128, every 50th recorded
    for recorded, torch_name in names.items():
        recorded_steps, values = metrics[f"grad_rms/{recorded}"]
        assert recorded_steps.tolist() == steps
        # the watcher sums in the tensors' float32, as the engine's Recorder does; the truth is float64
        np.testing.assert_allclose(values, [truth.grad_rms[step][torch_name] for step in steps], rtol=1e-5)
        recorded_steps, values = metrics[f"update_ratio/{recorded}"]
        expected = [truth.update_ratio[step].get(torch_name) for step in recorded_steps]
        assert None not in expected and len(recorded_steps) >= len(steps) - 1
        np.testing.assert_allclose(values, expected, rtol=1e-4)
    layer_names = set(names)
    if build is mlp:
        assert layer_names == {"1.linear.W", "1.linear.b", "3.linear.W", "3.linear.b", "5.linear.W", "5.linear.b"}
    else:
        assert {"0.conv2d.W", "1.batchnorm2d.gamma", "1.batchnorm2d.beta", "9.linear.W"} <= layer_names
    losses = metrics["loss"][1]
    assert len(losses) == len(steps) and losses[-1] < losses[0] / 3
    assert metrics["lr"][1].tolist() == [0.05] * len(steps)
    assert metrics["epoch/val_accuracy"][1].tolist() == pytest.approx([accuracy])
    assert metrics["epoch/examples_per_second"][1][0] > 0
    with RunStore(tmp_path / "runs.sqlite") as store:
        histograms = [name for name in store.tensor_names(watcher.run_id) if name.startswith("histogram/grads/")]
        _, (weights_histogram,) = store.tensors(watcher.run_id, f"histogram/weights/{next(iter(names))}")
    assert len(histograms) == sum(name.endswith(".W") for name in names)
    # the first weight matrix's histogram (edges, counts) as numpy counts it, over the recorded symmetric range
    first = dict(net.named_parameters())[names[next(iter(names))]].detach().numpy()
    edges, counts = weights_histogram
    assert edges[0] == -edges[-1] == pytest.approx(-np.abs(first).max())
    np.testing.assert_array_equal(counts[:-1], np.histogram(first, bins=edges)[0])


def test_activation_statistics_come_from_the_recorded_steps_own_forward_pass(torch, train_watched, tmp_path):
    """The MLP's ReLU (module 2) and tanh (module 4): mean, dead and saturated fractions recomputed from the
    layer's output on the recorded step's batch, with the weights that step started from."""
    net = mlp(torch)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    truth = Truth(torch, net, every=100)
    watcher, _ = train_watched(net, optimizer, tmp_path / "runs.sqlite", every=100, on_step=truth, samples=20_000)
    with RunStore(tmp_path / "runs.sqlite") as store:
        metrics = store.metrics(watcher.run_id)
    assert sorted(name for name in metrics if name.startswith(("act_", "dead", "saturated"))) == [
        "act_mean/2.relu", "act_mean/4.tanh", "act_std/2.relu", "act_std/4.tanh", "dead_fraction/2.relu",
        "saturated_fraction/4.tanh"]
    for index, step in enumerate(sorted(truth.inputs)):
        with torch.no_grad():
            before = truth.nets_before[step]
            relu = before[:3](truth.inputs[step]).numpy()
            tanh = before[:5](truth.inputs[step]).numpy()
        assert metrics["act_mean/2.relu"][1][index] == pytest.approx(relu.mean(), rel=1e-5)
        assert metrics["act_std/4.tanh"][1][index] == pytest.approx(tanh.std(), rel=1e-4)
        assert metrics["dead_fraction/2.relu"][1][index] == pytest.approx(np.mean(relu.max(axis=0) <= 0))
        assert metrics["saturated_fraction/4.tanh"][1][index] == pytest.approx(np.mean(np.abs(tanh) > 0.97))


def _parameter_names(store_path, run_id) -> dict:
    with RunStore(store_path) as store:
        return store.run(run_id)["config"]["parameter_names"]


def test_runs_show_and_report_read_a_watched_run_like_an_engine_run(torch, train_watched, tmp_path):
    net = mlp(torch)
    watcher, accuracy = train_watched(net, torch.optim.Adam(net.parameters(), lr=1e-3), tmp_path / "runs.sqlite",
                                      samples=10_000, name="torch-mlp")
    runner = CliRunner()
    shown = runner.invoke(app, ["runs", "show", str(watcher.run_id), "--store", str(tmp_path / "runs.sqlite")],
                          terminal_width=200)
    assert shown.exit_code == 0, shown.output
    words = " ".join(shown.output.split())                          # the console wraps long lines
    assert f"run {watcher.run_id}: torch-mlp (finished), dataset mnist" in words
    assert f"PyTorch {torch.__version__}" in words and "optimizer Adam" in words
    assert f"val accuracy {accuracy:.2%}" in words
    listed = runner.invoke(app, ["runs", "list", "--store", str(tmp_path / "runs.sqlite")], terminal_width=200)
    assert f"{accuracy:.2%}" in listed.output
    report = tmp_path / "report.html"
    written = runner.invoke(app, ["report", str(watcher.run_id), "--store", str(tmp_path / "runs.sqlite"),
                                  "-o", str(report)])
    assert written.exit_code == 0, written.output
    html = report.read_text()
    assert "Flatten → Linear → ReLU → Linear → Tanh → Linear" in html
    assert "1.linear.W" in html                                     # the gradient-flow figure names the layers


def test_a_loss_that_explodes_is_named_by_the_diagnostics(torch, train_watched, tmp_path):
    net = mlp(torch)
    optimizer = torch.optim.SGD(net.parameters(), lr=1e4, momentum=0.9)   # the loss grows, still finite
    watcher, _ = train_watched(net, optimizer, tmp_path / "runs.sqlite", every=5, samples=5_000)
    with RunStore(tmp_path / "runs.sqlite") as store:
        run = store.run(watcher.run_id)
        metrics = store.metrics(watcher.run_id)
    findings = diagnose(metrics, status=run["status"], n_classes=run["config"]["n_classes"])
    assert findings[0].kind == "divergence", findings


def test_a_run_that_stops_being_finite_ends_diverged_with_the_reason(torch, tmp_path):
    import learnscope

    net = mlp(torch)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,))
    expected = "diverged at step 20: the gradient or weights of 1.linear.W are no longer finite.*learning rate"
    with pytest.warns(RuntimeWarning, match=expected), \
            learnscope.watch(net, optimizer, store=tmp_path / "runs.sqlite", every=10) as watcher:
        for step in range(30):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x if step < 20 else x * float("inf")), y)
            loss.backward()
            optimizer.step()
            watcher.log(loss=loss)
    with RunStore(tmp_path / "runs.sqlite") as store:
        run = store.run(watcher.run_id)
        events = [event["kind"] for event in store.events(watcher.run_id)]
    assert run["status"] == "diverged" and events.count("diverged") == 1


def test_watch_refuses_what_it_cannot_watch_with_the_fix(torch, tmp_path):
    import learnscope

    net = mlp(torch)
    other = mlp(torch)
    with pytest.raises(TypeError, match="expected a torch.nn.Module.*Recorder"):
        learnscope.watch(object(), torch.optim.SGD(net.parameters(), lr=0.1), store=tmp_path / "r.sqlite")
    with pytest.raises(TypeError, match="expected a torch.optim.Optimizer.*torch.optim.SGD"):
        learnscope.watch(net, "sgd", store=tmp_path / "r.sqlite")
    with pytest.raises(ValueError, match="updates none of the model's parameters"):
        learnscope.watch(net, torch.optim.SGD(other.parameters(), lr=0.1), store=tmp_path / "r.sqlite")
    with pytest.raises(ValueError, match=r"every in \[1, inf\), got 0.*every=50"):
        learnscope.watch(net, torch.optim.SGD(net.parameters(), lr=0.1), store=tmp_path / "r.sqlite", every=0)
    assert not (tmp_path / "r.sqlite").exists()                     # nothing was started


def test_a_watched_model_can_be_copied_and_saved_whole(torch, tmp_path):
    """Users copy models (the best so far, an average) and torch.save them whole: the watcher's hooks must not
    make that fail, and a copy's passes must not be recorded as the model's."""
    import io

    import learnscope

    net = mlp(torch)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.rand(8, 1, 28, 28)
    with torch.no_grad():
        expected = float(torch.relu(net[1](net[0](x))).mean())
    with learnscope.watch(net, optimizer, store=tmp_path / "runs.sqlite", every=1) as watcher:
        twin = copy.deepcopy(net)
        twin(x * 10)
        saved = io.BytesIO()
        torch.save(net, saved)
        net(x).sum().backward()
        optimizer.step()
    assert watcher.examples_seen == 8                               # the model's pass, not the twin's
    assert watcher.latest["act_mean/2.relu"] == pytest.approx(expected, rel=1e-6)
    loaded = torch.load(io.BytesIO(saved.getvalue()), weights_only=False)
    loaded(x)                                                       # its hooks do nothing


def test_closing_removes_every_hook_so_the_model_trains_as_if_never_watched(torch, tmp_path):
    import learnscope

    net = mlp(torch)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    watcher = learnscope.watch(net, optimizer, store=tmp_path / "r.sqlite", every=1)
    assert net[2]._forward_hooks and optimizer._optimizer_step_pre_hooks
    watcher.close()
    hooks = [module._forward_hooks or module._forward_pre_hooks for module in net.modules()]
    assert not any(hooks) and not optimizer._optimizer_step_pre_hooks and not optimizer._optimizer_step_post_hooks


def test_importing_learnscope_does_not_import_torch():
    code = ("import sys, learnscope, learnscope.cli, learnscope.lab.app, learnscope.lessons.mnist_lab; "
            "print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


DDP_SCRIPT = """
import os, sys
import numpy as np
import torch
import torch.distributed as dist
import learnscope
import learnscope.data

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
model = torch.nn.parallel.DistributedDataParallel(net)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
data = learnscope.data.load_mnist(sys.argv[2], download=False, progress=False)
x, y = torch.from_numpy(data.x_train[:4096]), torch.from_numpy(data.y_train[:4096])
watcher = learnscope.watch(model, optimizer, store=sys.argv[1], every=4, dataset="mnist")
for start in range(rank * 64, len(x), 64 * world):          # each process its own shard
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x[start:start + 64]), y[start:start + 64])
    loss.backward()
    optimizer.step()
    watcher.log(loss=loss)
watcher.end_epoch()
watcher.close()
gradient = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
np.save(f"{sys.argv[1]}.rank{rank}.npy", gradient.numpy())
print(f"rank {rank}: run_id {watcher.run_id}, steps {watcher.steps_completed}")
dist.destroy_process_group()
"""


def test_distributed_data_parallel_on_two_processes_records_exactly_one_run(torch, tmp_path, shared_data_dir):
    script = tmp_path / "ddp.py"
    script.write_text(textwrap.dedent(DDP_SCRIPT))
    store = tmp_path / "runs.sqlite"
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(script), str(store), str(shared_data_dir)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rank 0: run_id 1, steps 32" in done.stdout and "rank 1: run_id None, steps 0" in done.stdout
    with RunStore(store) as runs:
        assert [(run["id"], run["status"]) for run in runs.runs()] == [(1, "finished")]
        metrics = runs.metrics(1)
    assert metrics["loss"][0].tolist() == list(range(0, 32, 4))
    # the gradients rank 0 recorded are the averaged ones every process applies: the last step's agree
    gradients = [np.load(f"{store}.rank{rank}.npy") for rank in (0, 1)]
    np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-6, atol=1e-8)


def test_a_store_that_fails_mid_run_stops_the_record_not_the_training(torch, tmp_path):
    """Another process holds the store's write lock through the epoch's end: the watcher says so once, training
    goes on to the end, and the run is marked interrupted once the store answers again."""
    import sqlite3

    import learnscope
    from learnscope.train.recorder import RecordingFailed

    net = mlp(torch)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,))
    path = tmp_path / "runs.sqlite"
    watcher = learnscope.watch(net, optimizer, store=path, every=1)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")                                # another process takes the store
    with pytest.warns(RecordingFailed, match="database is locked.*training goes on.*ends here"):
        for step in range(40):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            optimizer.step()
            watcher.log(loss=loss)
            if step in (20, 30):
                watcher.end_epoch()                                 # the flush that fails, then one after it
    assert watcher.steps_completed == 40 and loss.item() < 2.0      # every step trained
    other.execute("ROLLBACK")
    other.close()
    watcher.close()
    with RunStore(path) as store:
        assert store.run(watcher.run_id)["status"] == "interrupted"
        assert [event["kind"] for event in store.events(watcher.run_id)][-1] == "recording_failed"
