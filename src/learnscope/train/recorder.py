"""Recorder: a callback that samples what the lab shows and writes it to the run store.

Every `every` steps (steps 0, every, 2·every, ...) it records, for step k:
    loss, accuracy, lr                       the step's logs
    grad_rms/<param>                         sqrt(mean(g²)): per weight, so a big layer does not look stronger
    weight_rms/<param>                       sqrt(mean(W²))
    update_ratio/<param>                     ‖W_k − W_{k−1}‖ / ‖W_{k−1}‖: the step's relative change (~1e-3 is healthy)
    act_mean/<i>.<layer>, act_std/<i>.<layer>  statistics of each activation layer's output on the step's batch
    dead_fraction/<i>.relu                   fraction of units that output 0 for every example of the batch
    saturated_fraction/<i>.tanh|sigmoid      fraction of outputs in the flat tails (|a| > 0.97; a < 0.03 or > 0.97)
and at every epoch end epoch/loss, epoch/accuracy, epoch/val_loss, epoch/val_accuracy, epoch/seconds,
epoch/examples_per_second, plus
histograms of every weight matrix and its gradient (tensors "histogram/weights/<param>", "histogram/grads/<param>").
Parameter names are model.named_params() names, such as "0.dense.W".

If the store fails (locked by another process for longer than its timeout, a full disk, a folder made read-only),
recording stops with a RecordingFailed warning and `recorder.error` says why, but training goes on: the model is
worth more than its record. The run is marked interrupted in the store if the store still answers.

What it costs on the other steps: nothing but a modulo. The two things a recording step k needs from before
its own update (W_{k−1}, and a forward hook to see the activations) are set up in on_batch_end of step k−1, and
the hook is removed again at step k, so the model takes its fast path (no hooks) on every other step.
"""

import contextlib
import functools
import math
import sqlite3
import time
import warnings
from pathlib import Path

import numpy as np

from learnscope.core.validation import check_int, describe
from learnscope.layers.activations import Activation
from learnscope.store.runs import END_STATUSES, RunStore, open_store
from learnscope.train.callbacks import Callback
from learnscope.train.checkpoints import save_checkpoint

#: Bins of the weight and gradient histograms recorded at every epoch end
HISTOGRAM_BINS = 40
#: |a| above this counts as a saturated tanh; a sigmoid is saturated below 1 − this or above it
SATURATION = 0.97


class RecordingFailed(RuntimeWarning):
    """The run store stopped accepting the record; training went on without it."""


def _unless_failed(event):
    """Run a Recorder event unless recording has failed; a store error turns recording off (see the module
    docstring) instead of ending training."""

    @functools.wraps(event)
    def guarded(self, *args):
        if self.error:
            return None
        try:
            return event(self, *args)
        except (sqlite3.Error, OSError) as error:
            self._fail(error)
            return None

    return guarded


class Recorder(Callback):
    """Sample training every `every` steps into a RunStore (or a store path); `tensors_every` also snapshots the
    first layer's weights every that many steps. `config` adds to the run's config, `dataset` names the data.
    Each fit() call is one run. A store given as a path is opened by the Recorder and closed when training ends."""

    def __init__(self, store, run_name: str | None = None, every: int = 50, tensors_every: int | None = None,
                 config: dict | None = None, dataset: str | None = None, checkpoints: bool = True):
        owner = "Recorder"
        self.store, self._owns_store = open_store(store, owner, "Pass e.g. Recorder(RunStore('runs.sqlite')).")
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
        self.checkpoints = bool(checkpoints)
        self.run_id: int | None = None
        self.latest: dict[str, float] = {}             # the last recording step's values (read by the lab's trainer)
        self.listeners: list = []                       # listener(step, values, final): a notebook's live chart
        self.error = ""                                 # why recording stopped ("" while it works)
        self._reset()

    def _reset(self) -> None:
        self._hook = None
        self._previous: dict[str, np.ndarray] = {}      # name -> W_{k−1}, copied just before a recording step
        self._have_previous = False
        self._activations: dict[str, float] = {}
        self._watched: set[int] = set()                 # layers whose output the current step's hook has seen
        self._params: list = []                         # (name, param, grad, metric names), built once
        self._labels: dict[int, str] = {}               # activation layer index -> "1.relu"
        self._previous_square_sums: dict[str, float] = {}

    # -- events ----------------------------------------------------------------------------------------------
    @_unless_failed
    def on_train_begin(self, trainer) -> None:
        self._reset()
        self.error = ""
        if self._owns_store and self.store.closed:  # a second fit(): our store was closed by the first
            self.store = RunStore(self.store.path)
        model = trainer.model
        self._params = [(name, param, grad, (f"grad_rms/{name}", f"weight_rms/{name}", f"update_ratio/{name}"))
                        for name, param, grad in model.named_params()]
        self._previous = {name: np.empty_like(param) for name, param, _, _ in self._params}  # reused: no allocations
        self._labels = {index: f"{index}.{type(layer).__name__.lower()}" for index, layer in enumerate(model.layers)
                        if isinstance(layer, Activation)}
        config = {"optimizer": trainer.optimizer.config(), "batch_size": trainer.batch_size, "epochs": trainer.epochs,
                  "n_samples": trainer.n_samples, "every": self.every, "tensors_every": self.tensors_every,
                  **self.config, "loss": type(trainer.loss).__name__}   # the loss the run used, not "auto"
        architecture = [{"type": type(layer).__name__, "config": layer.config()} for layer in model.layers]
        name = self.run_name or f"{type(model.layers[0]).__name__.lower()}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.run_id = self.store.create_run(name, config, self.dataset, architecture)
        self._prepare(False)                            # step 0 is a recording step

    def on_epoch_begin(self, epoch: int) -> None:
        # NOTE: an epoch-end validation pass runs after the hook is armed for the next step; forget what it saw
        self._activations, self._watched = {}, set()

    @_unless_failed
    def on_batch_end(self, step: int, logs: dict) -> None:
        recorded = step % self.every == 0
        if recorded:
            self._record(step, logs)
        if self.tensors_every is not None and step % self.tensors_every == 0:
            self._snapshot(step)
        if (step + 1) % self.every == 0:
            self._prepare(recorded)

    @_unless_failed
    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        trainer = self.trainer
        step = max(trainer.steps_completed - 1, 0)
        values = {f"epoch/{key}": value for key, value in logs.items()
                  if key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")}
        if logs.get("seconds"):                         # throughput: training examples per second of training
            values["epoch/examples_per_second"] = trainer.n_samples / logs["seconds"]
        self.store.log_metrics(self.run_id, step, values, epoch=epoch, examples_seen=trainer.examples_seen)
        self._tell(step, {key: logs[key] for key in ("val_loss", "val_accuracy") if key in logs})
        summary = ", ".join(f"{key} {value:.4g}" for key, value in logs.items() if key != "seconds")
        self.store.log_event(self.run_id, step, "epoch_end", f"Epoch {epoch} ended: {summary}.",
                             {key: float(value) for key, value in logs.items()})
        self._histograms(step)
        if self.checkpoints:
            self._checkpoint(epoch, step)
        self.store.flush()                              # each epoch on disk: what a crash or a failing store keeps

    def _histograms(self, step: int) -> None:
        """At each epoch end, the distribution of every weight matrix and of its last gradient: tensors
        "histogram/weights/<param>" and "histogram/grads/<param>", each (2, bins + 1): row 0 the bin edges,
        row 1 the counts (padded with a final 0). A few hundred numbers, whatever the layer's size."""
        for name, param, grad, _ in self._params:
            if not name.endswith(".W"):
                continue
            for kind, array in (("weights", param), ("grads", grad)):
                counts, edges = histogram(array)
                self.store.log_tensor(self.run_id, step, f"histogram/{kind}/{name}",
                                      np.stack([edges, np.append(counts, 0.0)]))

    def _checkpoint(self, epoch: int, step: int) -> None:
        """Model and optimizer after this epoch, beside the store; the event is flushed at once so that a
        process killed during the next epoch can be resumed from here."""
        path = Path(self.store.path).parent / "checkpoints" / f"run-{self.run_id}.safetensors"
        save_checkpoint(path, self.trainer.model, self.trainer.optimizer, epoch + 1, {"run_id": self.run_id})
        self.store.log_event(self.run_id, step, "checkpoint", f"Checkpoint after epoch {epoch}.",
                             {"path": str(path), "epochs_done": epoch + 1})
        self.store.flush()

    def on_train_end(self, logs: dict) -> None:
        self._remove_hook()
        self._previous, self._have_previous = {}, False
        if self.error:
            self._close_after_failure()
        else:
            try:
                self._finish(logs)
            except (sqlite3.Error, OSError) as error:
                self._fail(error)
                self._close_after_failure()
        # the run is closed in the store first: a listener (a notebook's chart) that fails cannot leave it open
        self._tell(max(self.trainer.steps_completed - 1, 0) if self.trainer is not None else 0, {}, final=True)

    def _finish(self, logs: dict) -> None:
        if self.run_id is None:
            return
        if self.trainer.validation_data is not None and logs.get("status") not in ("diverged", "failed"):
            result = self.trainer.evaluate()
            if result.confusion is not None:
                self.log_confusion(result.confusion, "validation")
        status = logs.get("status", "finished")
        if status not in END_STATUSES:             # "failed" is stored as interrupted; the event says why
            status = "interrupted"
        payload = {key: value for key, value in logs.items() if isinstance(value, (int, float, str, type(None)))}
        step = max(self.trainer.steps_completed - 1, 0) if self.trainer is not None else None
        self.store.log_event(self.run_id, step, "train_end", str(logs.get("message", "")), payload)
        self.store.finish_run(self.run_id, status)
        if self._owns_store:
            self.store.close()

    def _fail(self, error: Exception) -> None:
        """Turn recording off, say why once, and let training go on."""
        self._remove_hook()
        self.error = recording_stopped(self.store, error, self.run_id)
        warnings.warn(self.error, RecordingFailed, stacklevel=3)

    def _close_after_failure(self) -> None:
        let_go_of_store(self.store, self.run_id, self.error, self._owns_store)

    def log_confusion(self, confusion: np.ndarray, split: str = "test") -> None:
        """Record a confusion matrix (rows true class, columns predicted) as tensor "confusion/<split>"."""
        step = max(self.trainer.steps_completed - 1, 0) if self.trainer is not None else 0
        self.store.log_tensor(self.run_id, step, f"confusion/{split}", confusion)

    # -- the work of a recording step ------------------------------------------------------------------------
    def _prepare(self, just_recorded: bool) -> None:
        """Just before a recording step: remember W_{k−1} and its norm, and watch the next forward pass.
        just_recorded: this step was recorded too (every=1), so _record has just computed ‖W‖² already."""
        for name, param, _, _ in self._params:
            np.copyto(self._previous[name], param)
            if not just_recorded:
                self._previous_square_sums[name] = _square_sum(param)
        self._have_previous = True
        self._activations, self._watched = {}, set()
        if self._hook is None:
            self._hook = self.trainer.model.register_hook("forward", self._watch)

    def _watch(self, index, layer, x, out) -> None:
        """Forward hook: statistics of one layer's output, from the step's training pass only."""
        label = self._labels.get(index)
        if label is None or index in self._watched:     # not an activation, or a later pass (validation): ignore
            return
        self._watched.add(index)
        self._activations.update(activation_summary(label, type(layer).__name__.lower(), out))

    def _record(self, step: int, logs: dict) -> None:
        values = {key: logs[key] for key in ("loss", "accuracy", "lr") if key in logs}
        for key in ("val_loss", "val_accuracy"):
            if key in logs:
                values[key] = logs[key]
        square_sums = self._previous_square_sums
        for name, param, grad, (grad_key, weight_key, update_key) in self._params:
            size = param.size or 1
            values[grad_key] = math.sqrt(_square_sum(grad) / size)
            weight_square_sum = _square_sum(param)
            values[weight_key] = math.sqrt(weight_square_sum / size)
            if self._have_previous and square_sums[name] > 0:   # a bias starting at zero has no relative change yet
                before = self._previous[name]
                np.subtract(param, before, out=before)
                values[update_key] = math.sqrt(_square_sum(before) / square_sums[name])
            square_sums[name] = weight_square_sum       # ‖W_{k−1}‖² of the next step, if that is recorded too
        values.update(self._activations)
        self.latest = values
        self.store.log_metrics(self.run_id, step, values, epoch=logs.get("epoch"),
                               examples_seen=logs.get("examples_seen"))
        self._tell(step, values)
        self._have_previous = False
        self._activations = {}
        self._remove_hook()

    def _tell(self, step: int, values: dict, final: bool = False) -> None:
        for listener in self.listeners:
            listener(step, values, final)

    def _snapshot(self, step: int) -> None:
        """The first layer's weights (what a first layer learns is the classic picture: strokes, edges)."""
        first = next(((name, param) for name, param, _, _ in self._params if name.endswith(".W")), None)
        if first is not None:
            self.store.log_tensor(self.run_id, step, first[0], first[1])

    def _remove_hook(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None


def recording_stopped(store: RunStore, error: Exception, run_id: int | None) -> str:
    """What a recorder says, once, when its store fails: which store, why, and that training goes on."""
    return (f"recording stopped: the run store {store.path} failed ({type(error).__name__}: {error}); training goes "
            "on and its model is kept, but this run's record "
            + ("ends here." if run_id is not None else "was never started."))


def let_go_of_store(store: RunStore, run_id: int | None, message: str, owns_store: bool) -> None:
    """After a failure: mark the run interrupted if the store still answers, then close it if we opened it.
    Nothing here may raise: training is going on."""
    with contextlib.suppress(sqlite3.Error, OSError):
        if run_id is not None:
            store.log_event(run_id, None, "recording_failed", message)
            store.finish_run(run_id, "interrupted")
    if owns_store:
        with contextlib.suppress(sqlite3.Error, OSError):
            store.close()                               # closes the connection even when its last flush fails


def rms(array: np.ndarray) -> float:
    """sqrt(mean(a²)), accumulated in float64: the size of a typical entry (a gradient's, per weight), whatever the
    array's size. (The Recorder's own loop uses _square_sum, which avoids the float64 temporary.)"""
    return float(np.sqrt(np.mean(np.square(array, dtype=np.float64))))


def activation_health(layer, out: np.ndarray) -> tuple[str, float] | None:
    """How much of an activation layer's output (N, ...) is stuck, as (metric, fraction): ("dead_fraction", f) for a
    ReLU, the share of units that output 0 for every example; ("saturated_fraction", f) for tanh and sigmoid, the
    share of outputs in the flat tails where the slope is ~0. None for other layers."""
    return stuck_fraction(type(layer).__name__.lower(), out)


def stuck_fraction(kind: str, out: np.ndarray) -> tuple[str, float] | None:
    """activation_health by the activation's kind ("relu", "tanh", "sigmoid": a class name in lower case), so that
    a layer of another framework (a torch nn.ReLU) is judged by the same rule."""
    per_unit = out.reshape(len(out), -1)
    if kind == "relu":                                  # a unit is dead if even its largest output is 0
        return "dead_fraction", float(np.count_nonzero(per_unit.max(axis=0) <= 0)) / per_unit.shape[1]
    if kind == "tanh":
        return "saturated_fraction", float(np.mean(np.abs(per_unit) > SATURATION))
    if kind == "sigmoid":
        return "saturated_fraction", float(np.mean((per_unit < 1 - SATURATION) | (per_unit > SATURATION)))
    return None


def activation_summary(label: str, kind: str, out: np.ndarray) -> dict[str, float]:
    """What a recording step keeps of one activation layer's output (N, ...): act_mean/<label>, act_std/<label> and,
    for relu, tanh and sigmoid, the stuck fraction (dead_fraction/<label> or saturated_fraction/<label>)."""
    if out.size == 0:
        return {}
    # one pass for the sum, one BLAS dot for the sum of squares: no temporaries (out.std() makes three)
    flat = out.reshape(-1)
    mean = float(flat.sum()) / flat.size
    stats = {f"act_mean/{label}": mean,
             f"act_std/{label}": math.sqrt(max(float(np.dot(flat, flat)) / flat.size - mean * mean, 0.0))}
    health = stuck_fraction(kind, out)
    if health is not None:
        stats[f"{health[0]}/{label}"] = health[1]
    return stats


def histogram(array: np.ndarray, bins: int = HISTOGRAM_BINS) -> tuple[np.ndarray, np.ndarray]:
    """(counts, edges) over a range symmetric around 0, so that histograms of one tensor at different
    times share a centre; non-finite values are left out (a diverged run still gets a picture)."""
    finite = array[np.isfinite(array)]
    reach = float(np.abs(finite).max()) if finite.size else 1.0
    counts, edges = np.histogram(finite, bins=bins, range=(-reach, reach) if reach > 0 else (-1.0, 1.0))
    return counts.astype(np.float64), edges


def _square_sum(array: np.ndarray) -> float:
    """Σ a² as one BLAS dot product (no temporary array), accumulated in the array's dtype."""
    flat = array.reshape(-1)
    return float(np.dot(flat, flat))


def log_test_confusion(store_path, run_id: int, history, confusion: np.ndarray) -> None:
    """Store the test set's confusion matrix with a finished run, at its last step, where `learnscope report` reads
    it ("confusion/test"). Called after fit(): the Recorder has closed its store by then. Like the Recorder, a
failing store costs the record (a RecordingFailed warning), never the trained model."""
    last_step = max(history.outcome.get("steps_completed", 1) - 1, 0)
    try:
        with RunStore(store_path) as store:
            store.log_tensor(run_id, last_step, "confusion/test", confusion)
    except (sqlite3.Error, OSError, ValueError) as error:     # ValueError: the store would not open
        warnings.warn(f"the run store {store_path} failed ({error}); run {run_id} is recorded without its test "
                      "confusion matrix.", RecordingFailed, stacklevel=2)
