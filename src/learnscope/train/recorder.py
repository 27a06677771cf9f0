"""Recorder: a callback that samples what the lab shows and writes it to the run store.

Every `every` steps (steps 0, every, 2·every, ...) it records, for step k:
    loss, accuracy, lr                       the step's logs
    grad_rms/<param>                         sqrt(mean(g²)): per weight, so a big layer does not look stronger
    weight_rms/<param>                       sqrt(mean(W²))
    update_ratio/<param>                     ‖W_k − W_{k−1}‖ / ‖W_{k−1}‖: the step's relative change (~1e-3 is healthy)
    act_mean/<i>.<layer>, act_std/<i>.<layer>  statistics of each layer's output on the step's batch
    dead_fraction/<i>.relu                   fraction of units that output 0 for every example of the batch
    saturated_fraction/<i>.tanh|sigmoid      fraction of outputs in the flat tails (|a| > 0.97; a < 0.03 or > 0.97)
and at every epoch end epoch/loss, epoch/accuracy, epoch/val_loss, epoch/val_accuracy, epoch/seconds.
Parameter names are model.named_params() names, such as "0.dense.W".

What it costs on the other steps: nothing but a modulo. The two things a recording step k needs from before
its own update (W_{k−1}, and a forward hook to see the activations) are set up in on_batch_end of step k−1, and
the hook is removed again at step k, so the model takes its fast path (no hooks) on every other step.
"""

import math
import time

import numpy as np

from learnscope.core.validation import check_int, describe
from learnscope.layers.activations import ReLU, Sigmoid, Tanh
from learnscope.store.runs import END_STATUSES, RunStore
from learnscope.train.callbacks import Callback

#: |a| above this counts as a saturated tanh; a sigmoid is saturated below 1 − this or above it
SATURATION = 0.97


class Recorder(Callback):
    """Sample training every `every` steps into a RunStore (or a store path); `tensors_every` also snapshots the
    first layer's weights every that many steps. `config` adds to the run's config, `dataset` names the data."""

    def __init__(self, store, run_name: str | None = None, every: int = 50, tensors_every: int | None = None,
                 config: dict | None = None, dataset: str | None = None):
        owner = "Recorder"
        if isinstance(store, RunStore):
            self.store, self._owns_store = store, False
        elif isinstance(store, str) or hasattr(store, "__fspath__"):
            self.store, self._owns_store = RunStore(store), True
        else:
            raise TypeError(f"{owner} expected a RunStore or a path to one, got {describe(store)}. "
                            "Pass e.g. Recorder(RunStore('runs.sqlite')).")
        if run_name is not None and not isinstance(run_name, str):
            raise TypeError(f"{owner} expected run_name to be a string, got {describe(run_name)}.")
        self.run_name = run_name
        self.every = check_int(every, "every", owner, minimum=1, fix="Pass a number of steps such as every=50.")
        self.tensors_every = None if tensors_every is None else check_int(
            tensors_every, "tensors_every", owner, minimum=1, fix="Pass e.g. tensors_every=500, or None.")
        if config is not None and not isinstance(config, dict):
            raise TypeError(f"{owner} expected config to be a dict, got {describe(config)}.")
        self.config = dict(config or {})
        self.dataset = dataset
        self.run_id: int | None = None
        self._reset()

    def _reset(self) -> None:
        self._hook = None
        self._previous: dict[str, np.ndarray] = {}      # name -> W_{k−1}, taken just before a recording step
        self._activations: dict[str, float] = {}
        self._params: list = []

    # -- events ----------------------------------------------------------------------------------------------
    def on_train_begin(self, trainer) -> None:
        self._reset()
        model = trainer.model
        self._params = model.named_params()
        config = {"optimizer": trainer.optimizer.config(), "loss": type(trainer.loss).__name__,
                  "batch_size": trainer.batch_size, "epochs": trainer.epochs, "n_samples": trainer.n_samples,
                  "every": self.every, "tensors_every": self.tensors_every, **self.config}
        architecture = [{"type": type(layer).__name__, "config": layer.config()} for layer in model.layers]
        name = self.run_name or f"{type(model.layers[0]).__name__.lower()}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.run_id = self.store.create_run(name, config, self.dataset, architecture)
        self._prepare()                                 # step 0 is a recording step

    def on_epoch_begin(self, epoch: int) -> None:
        # NOTE: an epoch-end validation pass runs after the hook is armed for the next step; forget what it saw
        self._activations = {}

    def on_batch_end(self, step: int, logs: dict) -> None:
        if step % self.every == 0:
            self._record(step, logs)
        if self.tensors_every is not None and step % self.tensors_every == 0:
            self._snapshot(step)
        if (step + 1) % self.every == 0:
            self._prepare()

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        trainer = self.trainer
        step = max(trainer.steps_completed - 1, 0)
        values = {f"epoch/{key}": value for key, value in logs.items()
                  if key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")}
        self.store.log_metrics(self.run_id, step, values, epoch=epoch, examples_seen=trainer.examples_seen)
        summary = ", ".join(f"{key} {value:.4g}" for key, value in logs.items() if key != "seconds")
        self.store.log_event(self.run_id, step, "epoch_end", f"Epoch {epoch} ended: {summary}.",
                             {key: float(value) for key, value in logs.items()})

    def on_train_end(self, logs: dict) -> None:
        self._remove_hook()
        self._previous = {}
        if self.run_id is None:
            return
        status = logs.get("status", "finished")
        if status not in END_STATUSES:
            status = "interrupted"
        payload = {key: value for key, value in logs.items() if isinstance(value, (int, float, str, type(None)))}
        step = max(self.trainer.steps_completed - 1, 0) if self.trainer is not None else None
        self.store.log_event(self.run_id, step, "train_end", str(logs.get("message", "")), payload)
        self.store.finish_run(self.run_id, status)
        if self._owns_store:
            self.store.close()

    # -- the work of a recording step ------------------------------------------------------------------------
    def _prepare(self) -> None:
        """Just before a recording step: remember W_{k−1} and watch the next forward pass."""
        self._previous = {name: param.copy() for name, param, _ in self._params}
        self._activations = {}
        if self._hook is None:
            self._hook = self.trainer.model.register_hook("forward", self._watch)

    def _watch(self, index, layer, x, out) -> None:
        """Forward hook: statistics of one layer's output, from the step's training pass only."""
        label = f"{index}.{type(layer).__name__.lower()}"
        if f"act_mean/{label}" in self._activations:   # a later pass (validation) on the same step: ignore
            return
        stats = self._activations
        stats[f"act_mean/{label}"] = float(out.mean())
        stats[f"act_std/{label}"] = float(out.std())
        if len(out) == 0:
            return
        per_unit = out.reshape(len(out), -1)
        if isinstance(layer, ReLU):
            stats[f"dead_fraction/{label}"] = float(np.mean(~(per_unit > 0).any(axis=0)))
        elif isinstance(layer, Tanh):
            stats[f"saturated_fraction/{label}"] = float(np.mean(np.abs(per_unit) > SATURATION))
        elif isinstance(layer, Sigmoid):
            stats[f"saturated_fraction/{label}"] = float(np.mean((per_unit < 1 - SATURATION) |
                                                                 (per_unit > SATURATION)))

    def _record(self, step: int, logs: dict) -> None:
        values = {key: logs[key] for key in ("loss", "accuracy", "lr") if key in logs}
        for key in ("val_loss", "val_accuracy"):
            if key in logs:
                values[key] = logs[key]
        for name, param, grad in self._params:
            size = param.size or 1
            values[f"grad_rms/{name}"] = math.sqrt(_square_sum(grad) / size)
            weight_square_sum = _square_sum(param)
            values[f"weight_rms/{name}"] = math.sqrt(weight_square_sum / size)
            before = self._previous.get(name)
            if before is not None:
                before_norm = math.sqrt(_square_sum(before))
                if before_norm > 0:                     # a bias that starts at zero has no relative change yet
                    np.subtract(param, before, out=before)
                    values[f"update_ratio/{name}"] = math.sqrt(_square_sum(before)) / before_norm
        values.update(self._activations)
        self.store.log_metrics(self.run_id, step, values, epoch=logs.get("epoch"),
                               examples_seen=logs.get("examples_seen"))
        self._previous = {}
        self._activations = {}
        self._remove_hook()

    def _snapshot(self, step: int) -> None:
        """The first layer's weights (what a first layer learns is the classic picture: strokes, edges)."""
        first = next(((name, param) for name, param, _ in self._params if name.endswith(".W")), None)
        if first is not None:
            self.store.log_tensor(self.run_id, step, first[0], first[1])

    def _remove_hook(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None


def _square_sum(array: np.ndarray) -> float:
    """Σ a² as one BLAS dot product (no temporary array), accumulated in the array's dtype."""
    flat = array.reshape(-1)
    return float(np.dot(flat, flat))
