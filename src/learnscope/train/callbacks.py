"""Callbacks: code that fit() calls at fixed moments of training, Keras style.

    on_train_begin(trainer)          once, before the first step; `self.trainer` is set just before
    on_epoch_begin(epoch)            before each epoch's first step (epochs count from 0)
    on_batch_end(step, logs)         after each optimizer step: logs = {loss, accuracy, lr, epoch, examples_seen}
                                     (+ val_loss, val_accuracy, seconds on the steps fit(eval_every=k) evaluates);
                                     the weights are already updated, the grads are this step's
    on_epoch_end(epoch, logs)        after each complete epoch: logs = {loss, accuracy, val_loss, val_accuracy,
                                     lr, seconds}
    on_train_end(logs)               once, however training ended: logs = {status, message, ...}

A callback stops training with `self.trainer.stop("why")`. Steps count from 0 across the whole fit() call.
`accuracy` keys are present for classifiers only, `val_*` keys only with validation data.
"""

import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from learnscope.core.validation import check_choice, check_int, check_range, describe, is_finite
from learnscope.optim.schedules import Schedule


class Callback:
    """Base class: every event is a no-op; override the ones you need. fit() sets `self.trainer`."""

    trainer = None

    def on_train_begin(self, trainer) -> None:
        pass

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_batch_end(self, step: int, logs: dict) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        pass

    def on_train_end(self, logs: dict) -> None:
        pass


# -- the record ---------------------------------------------------------------------------------------------
class History(Callback):
    """Everything fit() logged. Always attached; fit() returns it.

    history[name]: per-epoch list of each metric (loss, accuracy, val_loss, val_accuracy, lr, seconds)
    epoch: the epoch index of each entry;  step_loss: the training loss of every step
    evaluations: the logs of each fit(eval_every=k) check: step, epoch, examples_seen, seconds (training time,
      evaluations excluded), val_loss, val_accuracy, and the batch's loss and accuracy
    status, message, outcome: how training ended (outcome is the on_train_end logs)
    """

    def __init__(self):
        self._reset()

    def _reset(self) -> None:
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self.step_loss: list[float] = []
        self.evaluations: list[dict] = []
        self.status: str | None = None
        self.message = ""
        self.outcome: dict = {}

    def on_train_begin(self, trainer) -> None:
        self._reset()                                   # one History per fit() call, as in Keras

    def on_batch_end(self, step, logs) -> None:
        self.step_loss.append(logs["loss"])
        if "val_loss" in logs:
            self.evaluations.append(dict(logs, step=step))

    def on_epoch_end(self, epoch, logs) -> None:
        self.add(epoch, logs)

    def add(self, epoch, logs: dict) -> None:
        """One row: `epoch` (an index; a step-by-step trainer may log fractions of an epoch) and its metrics."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def on_train_end(self, logs) -> None:
        self.outcome = dict(logs)
        self.status, self.message = logs["status"], logs["message"]

    def __getitem__(self, name: str) -> list:
        if name not in self.history:
            raise KeyError(f"History has no metric {name!r}; it has {sorted(self.history)}. "
                           "val_* metrics need fit(validation_data=...).")
        return self.history[name]

    def __contains__(self, name) -> bool:
        return name in self.history

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, steps={len(self.step_loss)}, status={self.status!r})"


# -- watching a metric ----------------------------------------------------------------------------------------
class _Monitor(Callback):
    """Shared by EarlyStopping and ModelCheckpoint: one logged metric, and what counts as better."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0):
        owner = type(self).__name__
        if not isinstance(monitor, str):
            raise TypeError(f"{owner} expected monitor to be a metric name such as 'val_loss', "
                            f"got {describe(monitor)}.")
        self.monitor = monitor
        mode = check_choice(mode, "mode", owner, ("auto", "min", "max"))
        if mode == "auto":
            mode = "max" if "accuracy" in monitor else "min"
        self.mode = mode
        self.min_delta = float(check_range(min_delta, "min_delta", owner, minimum=0,
                                           fix="Use 0, or a small margin such as 1e-4."))
        self.best = math.inf if mode == "min" else -math.inf

    def _start(self, trainer) -> None:
        owner = type(self).__name__
        if self.monitor.startswith("val_") and trainer.validation_data is None:
            raise ValueError(f"{owner} monitors {self.monitor!r}, but fit() got no validation data. Pass "
                             f"validation_data=(x_val, y_val) to fit, or monitor={self.monitor[4:]!r}.")
        if self.monitor.endswith("accuracy") and not trainer.is_classifier:
            raise ValueError(f"{owner} monitors {self.monitor!r}, but this is a regression (no accuracy). "
                             "Monitor 'val_loss' or 'loss'.")
        self.best = math.inf if self.mode == "min" else -math.inf

    def _value(self, logs: dict) -> float:
        if self.monitor not in logs:
            raise KeyError(f"{type(self).__name__} monitors {self.monitor!r}, which is not logged; the epoch logs "
                           f"hold {sorted(logs)}. Pick one of those.")
        return float(logs[self.monitor])

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop when `monitor` has not improved by more than min_delta for `patience` epochs in a row;
    with restore_best, the model ends training (however it ends) holding the weights of its best epoch."""

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best: bool = True, mode: str = "auto"):
        super().__init__(monitor, mode, min_delta)
        self.patience = check_int(patience, "patience", "EarlyStopping", minimum=0,
                                  fix="Pass a whole number of epochs such as patience=5.")
        self.restore_best = bool(restore_best)
        self._reset_run()

    def _reset_run(self) -> None:
        self.wait = 0
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._best_state: list[np.ndarray] | None = None

    def on_train_begin(self, trainer) -> None:
        self._start(trainer)
        self._reset_run()

    def on_epoch_end(self, epoch, logs) -> None:
        value = self._value(logs)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self._best_state = [array.copy() for array in _state_arrays(self.trainer.model)]
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            restore = " Restoring the weights of that epoch." if self.restore_best else ""
            self.trainer.stop(
                f"Stopped early after epoch {epoch}: {self.monitor} has not improved for {self.wait} epoch(s) "
                f"(best {self.best:.4g} at epoch {self.best_epoch}).{restore}"
            )

    def on_train_end(self, logs) -> None:
        if not (self.restore_best and self._best_state is not None):
            return
        for target, saved in zip(_state_arrays(self.trainer.model), self._best_state):
            target[...] = saved                         # in place: the optimizer holds references to these arrays
        if self.trainer.status != "stopped":
            self.trainer.message += (f" EarlyStopping restored the weights of epoch {self.best_epoch} "
                                     f"({self.monitor} {self.best:.4g}).")


class ModelCheckpoint(_Monitor):
    """Save the model (model.save: safetensors, atomic) after an epoch: only when `monitor` improved with
    save_best_only, else every epoch. `path` may hold {epoch} and metric names: "ckpt-{epoch:02d}.safetensors".
    Never writes a diverged model: a model holding NaN/inf is skipped, so the last file stays the last good one."""

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = True, mode: str = "auto"):
        super().__init__(monitor, mode)
        if not isinstance(path, (str, Path)):
            raise TypeError(f"ModelCheckpoint expected path to be a str or Path, got {describe(path)}.")
        self.path = str(path)
        self.save_best_only = bool(save_best_only)
        self.saved: list[tuple[int, Path]] = []         # (epoch, file) of every save, in order
        self.best_epoch: int | None = None

    def on_train_begin(self, trainer) -> None:
        if self.save_best_only:
            self._start(trainer)

    def on_epoch_end(self, epoch, logs) -> None:
        value = self._value(logs) if self.save_best_only else None
        if self.save_best_only and not self._improved(value):
            return
        model = self.trainer.model
        if self.trainer.status == "diverged" or not all_finite(_state_arrays(model)):
            return
        if value is not None:
            self.best, self.best_epoch = value, epoch
        path = Path(self.path.format(epoch=epoch, **logs))
        metadata = {"epoch": epoch, **{key: float(v) for key, v in logs.items() if isinstance(v, (int, float))}}
        model.save(path, metadata=metadata)
        self.saved.append((epoch, path))


# -- learning rate ------------------------------------------------------------------------------------------------
class LearningRateScheduler(Callback):
    """Set optimizer.lr at the start of every epoch: fn(epoch, lr) -> new lr, or a Schedule, giving
    lr = (lr at the start of fit) × schedule(epoch). For per-step schedules pass `schedule=` to the optimizer;
    the two multiply."""

    def __init__(self, schedule: "Callable[[int, float], float] | Schedule"):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler expected a function fn(epoch, lr) -> lr or a Schedule, got "
                            f"{describe(schedule)}. Use e.g. LearningRateScheduler(StepDecay(step_size=10)).")
        self.schedule = schedule
        self.base_lr: float | None = None

    def on_train_begin(self, trainer) -> None:
        self.base_lr = trainer.optimizer.lr

    def on_epoch_begin(self, epoch) -> None:
        optimizer = self.trainer.optimizer
        if isinstance(self.schedule, Schedule):
            optimizer.lr = self.base_lr * self.schedule(epoch)
        else:
            optimizer.lr = self.schedule(epoch, optimizer.lr)   # the optimizer's setter validates it


class StopWhen(Callback):
    """Stop fit() after the step at which condition() first returns True (a lab tab closed, a Stop button)."""

    def __init__(self, condition: "Callable[[], bool]", message: str = "Stopped on request."):
        if not callable(condition):
            raise TypeError(f"StopWhen expected a function returning True when training should stop, got "
                            f"{describe(condition)}.")
        self.condition, self.message = condition, message

    def on_batch_end(self, step, logs) -> None:
        if self.condition():
            self.trainer.stop(self.message)


# -- divergence ---------------------------------------------------------------------------------------------------
#: The loss level the explosion test compares to is at least this, so a run that starts at a loss of ~0
#: (fine-tuning a model that already fits) is not stopped for ordinary noise.
MIN_REFERENCE_LOSS = 1e-3
#: Inputs with a root-mean-square above this look unscaled (raw pixels 0..255 have an RMS near 80).
LARGE_INPUT_RMS = 10.0


class DivergenceGuard(Callback):
    """Stops a run the step its loss becomes NaN/inf, or exceeds explode_factor × the loss of its first step,
    and says why: which layer blew up first and what to try. Always attached by fit(); pass your own to configure
    it (explode_factor=None checks NaN/inf only).

    fit() does the per-step work inline and cheaply (the output is checked before the loss sees it, the loss is
    one comparison, with clip_norm the optimizer's gradient norm is free); only after a failure does the guard
    spend time finding the layer: first the gradients of the last backward pass (from the last layer backward:
    the first one to overflow is the highest-numbered), then weights and running statistics (first layer in
    order), then one extra forward pass of the failing batch with a hook to find the first non-finite activation.
    After it: status, reason, step, epoch, layer_index, message.
    """

    def __init__(self, explode_factor: float | None = 1e3):
        if explode_factor is not None:
            explode_factor = float(check_range(explode_factor, "explode_factor", "DivergenceGuard", minimum=1,
                                               inclusive=(False, True),
                                               fix="Use e.g. 1e3, or None to check for NaN/inf only."))
        self.explode_factor = explode_factor
        self._reset_run()

    def _reset_run(self) -> None:
        self.reference: float | None = None
        self.reason: str | None = None
        self.step: int | None = None
        self.epoch: int | None = None
        self.layer_index: int | None = None
        self.message = ""

    def on_train_begin(self, trainer) -> None:
        self._reset_run()

    # -- used by fit's hot loop ----------------------------------------------------------------------------
    #: Until the first loss is known, only NaN/inf fail `loss <= limit` (NaN compares False with everything).
    no_limit = sys.float_info.max

    def limit_from(self, first_loss: float) -> float:
        """The loss above which training counts as exploded, given the loss of the first step."""
        self.reference = max(abs(first_loss), MIN_REFERENCE_LOSS)
        return self.no_limit if self.explode_factor is None else self.explode_factor * self.reference

    # -- after a failure ---------------------------------------------------------------------------------------
    def diverged(self, trainer, reason: str, *, value: float | None = None, output: np.ndarray | None = None,
                 batch: np.ndarray | None = None) -> str:
        """Record a divergence found by fit: locate the layer, write the message, stop the trainer.
        reason: "output" | "loss" | "exploded" | "grad_norm" | "weights" | "validation"."""
        self.reason, self.step, self.epoch = reason, trainer.step, trainer.epoch
        model = trainer.model
        with np.errstate(over="ignore", invalid="ignore"):
            located = locate_blow_up(model, batch)
        self.layer_index = None if located is None else located[0]
        what = self._what(reason, value, output)
        where = self._where(located, reason, output)
        advice = self._advice(trainer)
        self.message = f"Training diverged at epoch {trainer.epoch}, step {trainer.step}: {what}; {where}. {advice}"
        if not all_finite(_state_arrays(model)):
            self.message += " The model's weights now hold NaN/inf: reload the last checkpoint before using it."
        trainer.status, trainer.message, trainer.stop_training = "diverged", self.message, True
        return self.message

    def _what(self, reason, value, output) -> str:
        if reason == "output":
            return f"the network's output became {_kind(output)}"
        if reason == "loss":
            return f"the loss became {_kind(value)}"
        if reason == "exploded":
            return (f"the loss jumped to {value:.3g}, more than {self.explode_factor:g}× the first step's "
                    f"{self.reference:.3g}")
        if reason == "grad_norm":
            return f"the gradient norm became {_kind(value)}"
        if reason == "validation":
            return "the validation loss became NaN (the outputs hold NaN/inf)"
        return "the weights became NaN/inf in the last step of the epoch"

    @staticmethod
    def _where(located, reason, output) -> str:
        if located is not None:
            index, layer, part, kind = located
            name = f"layer {index} ({describe_layer(layer)})"
            if part == "grads":
                return f"{name} got {kind} gradients first (backpropagation runs from the last layer to the first)"
            if part == "activation":
                return f"{name} produced {kind} first"
            return f"{name} holds {kind} {part}"
        if reason == "exploded":
            return "no value is NaN/inf yet, so the weights are still finite"
        if reason == "loss" and output is not None:
            return f"every layer's output is finite (up to {float(np.abs(output).max()):.3g}), the loss overflowed"
        return "no single layer could be blamed"

    @staticmethod
    def _advice(trainer) -> str:
        optimizer = trainer.optimizer
        advice = ""
        if trainer.input_rms is not None and trainer.input_rms > LARGE_INPUT_RMS:
            advice += (f"The inputs are large (RMS {trainer.input_rms:.3g}): scale them first, e.g. divide pixel "
                       "values by 255 or standardize each feature. ")
        lr = optimizer.lr
        scheduled = "" if optimizer.schedule is None or optimizer.last_lr is None else \
            f", {optimizer.last_lr:g} after the schedule"
        advice += f"The learning rate ({lr:g}{scheduled}) is probably too high: try 10× smaller ({lr / 10:g})"
        if optimizer.clip_norm is None:
            return advice + ", or add gradient clipping (clip_norm=1.0)."
        return advice + f", or clip harder (clip_norm={optimizer.clip_norm / 10:g} instead of {optimizer.clip_norm:g})."


def locate_blow_up(model, batch=None):
    """(index, layer, part, "NaN" | "inf") of the layer that went non-finite first, or None.
    part: "grads", "weights", "running statistics" or "activation" (the last needs `batch`)."""
    grads = [(index, layer) for index, layer in enumerate(model.layers)
             if not all_finite(layer.grads.values())]
    if grads:                                           # backward order: the highest index overflowed first
        index, layer = grads[-1]
        return index, layer, "grads", _kind_of_arrays(layer.grads.values())
    for index, layer in enumerate(model.layers):
        for part, store in (("weights", layer.params), ("running statistics", layer.buffers)):
            if not all_finite(store.values()):
                return index, layer, part, _kind_of_arrays(store.values())
    if batch is None:
        return None
    return _first_bad_activation(model, batch)


def _first_bad_activation(model, batch):
    """One more forward pass of `batch` in train mode, as the failing one ran, with a hook that notes the first
    non-finite layer output. Batch-norm running statistics and dropout random streams are put back afterwards,
    so the diagnosis changes nothing a later run could see."""
    found = []

    def hook(index, layer, x, out):
        if not found and not np.isfinite(out).all():
            found.append((index, layer, "activation", _kind(out)))

    buffers = [(array, array.copy()) for _, array in model.named_buffers()]
    streams = [(layer.rng, layer.rng.bit_generator.state) for layer in model.layers
               if isinstance(getattr(layer, "rng", None), np.random.Generator)]
    handle = model.register_hook("forward", hook)
    try:
        model.forward(batch, train=True)
    finally:
        handle.remove()
        for array, saved in buffers:
            array[...] = saved
        for rng, state in streams:
            rng.bit_generator.state = state
    return found[0] if found else None


# -- helpers ------------------------------------------------------------------------------------------------------
def all_finite(arrays) -> bool:
    """True if no array holds NaN or inf."""
    return all(is_finite(array) for array in arrays)


def _state_arrays(model) -> list[np.ndarray]:
    """Every array a model file holds: parameters, then buffers (batch-norm running statistics)."""
    return [param for _, param, _ in model.named_params()] + [value for _, value in model.named_buffers()]


def _kind(value) -> str:
    """'NaN' if value (a number or an array) holds a NaN, else 'inf'."""
    if isinstance(value, np.ndarray):
        return "NaN" if np.isnan(value).any() else "inf"
    return "NaN" if value is None or math.isnan(value) else "inf"


def _kind_of_arrays(arrays) -> str:
    return "NaN" if any(np.isnan(array).any() for array in arrays) else "inf"


def describe_layer(layer) -> str:
    """'Dense 256→128', 'Conv2D 1→32', or the class name for layers without a size."""
    name = type(layer).__name__
    config = layer.config()
    for n_in, n_out in (("n_in", "n_out"), ("in_channels", "out_channels")):
        if n_in in config and n_out in config:
            return f"{name} {config[n_in]}→{config[n_out]}"
    if "n_features" in config:
        return f"{name} {config['n_features']}"
    return name
