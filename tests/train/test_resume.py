"""Nothing is lost: a training process killed with SIGKILL mid-epoch leaves a valid store, and the run
resumes from its last checkpoint to the accuracy an uninterrupted run reaches."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from learnscope.architectures import build_mlp
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import SGD
from learnscope.store import RunStore
from learnscope.train import evaluate, fit
from learnscope.train.checkpoints import load_checkpoint, resume_run, save_checkpoint

N_TRAIN, BATCH, EPOCHS = 6000, 128, 6
STEPS_PER_EPOCH = -(-N_TRAIN // BATCH)                   # 47
KILL_STEP = 3 * STEPS_PER_EPOCH + 20                     # in the middle of the fourth epoch

CHILD = f"""
import os, signal, sys
from learnscope.architectures import build_mlp
from learnscope.data import load_mnist
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import SGD
from learnscope.train import Callback, Recorder, fit

data = load_mnist(data_dir=sys.argv[1], download=False, progress=False)

class KillMidEpoch(Callback):
    def on_batch_end(self, step, logs):
        if step == {KILL_STEP}:
            os.kill(os.getpid(), signal.SIGKILL)

fit(build_mlp((1, 28, 28), 10, hidden=(64,), seed=0), SoftmaxCrossEntropy(), SGD(lr=0.05, momentum=0.9),
    data.x_train[:{N_TRAIN}], data.y_train[:{N_TRAIN}], epochs={EPOCHS}, batch_size={BATCH}, seed=0,
    callbacks=[Recorder(sys.argv[2], run_name="killed", every=5), KillMidEpoch()])
"""


def test_killed_run_leaves_a_valid_store_and_resumes_to_the_same_accuracy(mnist, shared_data_dir, tmp_path):
    store_path = tmp_path / "runs.sqlite"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    child = subprocess.run([sys.executable, "-c", CHILD, str(shared_data_dir), str(store_path)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == -9, child.stderr

    with RunStore(store_path) as store:
        run = store.run(1)
        assert run["status"] == "interrupted"
        steps, losses = store.metrics(1, "loss")["loss"]
        committed = set(range(0, 3 * STEPS_PER_EPOCH, 5))   # everything up to the last checkpoint's flush
        assert committed <= set(steps.tolist()) and np.isfinite(losses).all()
        assert steps.max() < KILL_STEP
        checkpoints = [e["payload"]["epochs_done"] for e in store.events(1) if e["kind"] == "checkpoint"]
        assert checkpoints == [1, 2, 3]
        resumed = resume_run(store, 1)
    assert resumed.epochs_done == 3 and resumed.optimizer.t == 3 * STEPS_PER_EPOCH
    assert resumed.optimizer.state["1.dense.W"]["velocity"].any()          # momentum came back too

    x, y = mnist.x_train[:N_TRAIN], mnist.y_train[:N_TRAIN]
    loss = SoftmaxCrossEntropy()
    fit(resumed.model, loss, resumed.optimizer, x, y, epochs=EPOCHS - resumed.epochs_done, batch_size=BATCH, seed=1)
    uninterrupted = build_mlp((1, 28, 28), 10, hidden=(64,), seed=0)
    fit(uninterrupted, loss, SGD(lr=0.05, momentum=0.9), x, y, epochs=EPOCHS, batch_size=BATCH, seed=0)
    x_test, y_test = mnist.x_test[:3000], mnist.y_test[:3000]
    resumed_accuracy = evaluate(resumed.model, loss, x_test, y_test).accuracy
    full_accuracy = evaluate(uninterrupted, loss, x_test, y_test).accuracy
    assert resumed_accuracy > 0.88 and abs(resumed_accuracy - full_accuracy) < 0.02, (resumed_accuracy, full_accuracy)


def test_checkpoint_round_trip_restores_optimizer_memory(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64)
    model = build_mlp((4,), 3, hidden=(8,), seed=0)
    optimizer = SGD(lr=0.05, momentum=0.9)
    fit(model, SoftmaxCrossEntropy(), optimizer, x, y, epochs=2, batch_size=16, seed=0)
    path = save_checkpoint(tmp_path / "ckpt.safetensors", model, optimizer, epochs_done=2)
    restored_model, restored_optimizer, metadata = load_checkpoint(path)
    assert metadata["checkpoint"]["epochs_done"] == 2 and restored_optimizer.t == optimizer.t
    for name, arrays in optimizer.state.items():
        np.testing.assert_array_equal(restored_optimizer.state[name]["velocity"], arrays["velocity"])
    # the same next step from both
    for net, opt in ((model, optimizer), (restored_model, restored_optimizer)):
        fit(net, SoftmaxCrossEntropy(), opt, x, y, epochs=1, batch_size=16, seed=5)
    for (name, a, _), (_, b, _) in zip(model.named_params(), restored_model.named_params()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_a_plain_model_file_is_not_a_checkpoint(tmp_path):
    path = build_mlp((4,), 3, hidden=(8,), seed=0).save(tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(path)


def test_resume_needs_a_checkpoint(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        run_id = store.create_run("empty")
        with pytest.raises(ValueError, match="no checkpoint"):
            resume_run(store, run_id)
