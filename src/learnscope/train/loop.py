"""fit(): the training loop, with events for callbacks.

The heart of it is train_step (train/step.py), the four-line step every lesson shows. Around it fit() adds only
what is cheap per step: train_step's finiteness test of the output (it is (batch, n_classes), tiny next to the
weights) and its comparison of the loss with the divergence limit, the batch accuracy from the output's argmax,
a logs dict and the callbacks. Everything that costs a pass over the weights (the NaN/inf check of all
parameters, validation) runs once per epoch, or every `eval_every` steps.
"""

import contextlib
import math
import time

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_array, check_finite, check_int, describe
from learnscope.data.batches import minibatch_indices, steps_per_epoch
from learnscope.losses import Loss
from learnscope.model import Sequential
from learnscope.optim.base import Optimizer
from learnscope.train.callbacks import Callback, DivergenceGuard, History, _state_arrays, all_finite
from learnscope.train.evaluate import Evaluation, classification_labels, evaluate, predicted_classes
from learnscope.train.step import train_step

#: Batch size of the validation passes (eval mode, no gradients: larger batches are fine)
EVAL_BATCH_SIZE = 1000
#: Rows per block in the one-off finiteness check of x: about 4 million numbers, never a copy of all of x
_CHECK_BLOCK_VALUES = 1 << 22


class Trainer:
    """What callbacks see during fit(): the model, loss and optimizer being trained, where training is
    (epoch, step, examples_seen), and how it ends (stop_training, status, message).

    status: "running", then "finished" | "stopped" (a callback called stop()) | "diverged" | "interrupted"
            | "failed" (an exception: callbacks still see on_train_end, then fit() re-raises it)
    """

    def __init__(self, model, loss, optimizer, *, epochs, batch_size, n_samples, validation_data,
                 is_classifier, input_rms, history):
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.epochs, self.batch_size, self.n_samples = epochs, batch_size, n_samples
        self.steps_per_epoch = steps_per_epoch(n_samples, batch_size, model.min_batch_size)
        self.validation_data = validation_data
        self.is_classifier = is_classifier
        self.input_rms = input_rms          # root-mean-square of x: the divergence advice spots unscaled inputs
        self.history = history
        self.stop_training = False
        self.status = "running"
        self.message = ""
        self.initial_epoch = 0              # the epoch a resumed run starts at (fit(initial_epoch=...))
        self.epoch = 0                      # current epoch (from 0)
        self.step = 0                       # current step, counted from 0 over the whole fit() call
        self.steps_completed = 0
        self.epochs_completed = 0
        self.examples_seen = 0

    def stop(self, message: str = "") -> None:
        """Ask fit() to stop after the current step (or epoch end); the message explains why."""
        self.stop_training = True
        if message:
            self.message = message

    def evaluate(self, x=None, y=None, batch_size: int = EVAL_BATCH_SIZE) -> Evaluation:
        """evaluate() on (x, y), or on the validation data when called without them."""
        if x is None and y is None:
            if self.validation_data is None:
                raise ValueError("Trainer.evaluate() without data needs fit(validation_data=(x_val, y_val)). "
                                 "Pass x and y, or give fit validation data.")
            x, y = self.validation_data
        return evaluate(self.model, self.loss, x, y, batch_size=batch_size)


def fit(model: Sequential, loss: Loss, optimizer: Optimizer, x, y, *, epochs: int = 1, batch_size: int = 32,
        validation_data=None, callbacks=(), seed=None, shuffle: bool = True, eval_every: int | None = None,
        initial_epoch: int = 0, augment=None) -> History:
    """Train `model` on (x, y) for `epochs` passes in mini-batches; return the History.   x: (N, ...), y: (N, ...)

    x is checked for NaN/inf once, up front, and never copied or shuffled: each step takes x[idx], the rows of a
    seeded permutation (minibatch_indices), so integer pixels may stay uint8 until the model casts each batch.
    Epochs and steps count from 0; a step is one optimizer update.
    batch_size: examples per step; larger than N means one full batch per epoch (batch gradient descent).
    validation_data: (x_val, y_val), evaluated after every epoch (val_loss, val_accuracy in the logs).
    callbacks: Callback objects; a History and a DivergenceGuard are always attached (pass your own to
      configure them). seed: a seed or Generator for the batch order: same seed, same run, bit for bit.
    eval_every: also evaluate the validation data every k steps (logged in on_batch_end and
      History.evaluations), e.g. to time how fast a run reaches 98%.
    initial_epoch: resume a run at this epoch (of `epochs`): the batches are the ones the uninterrupted run would
      have drawn from that epoch on (same seed), so a resumed run goes on as if it had never stopped.
    augment: a function (x_batch, rng) -> x_batch of the same shape, e.g. data.augment.shift_and_rotate, applied
      to every training batch (never to validation data) with its own random stream from the seed, so the batch
      order is the same with or without it.
    Ctrl-C (KeyboardInterrupt) ends training cleanly: status "interrupted", the History holds every completed
    step and the model keeps its weights (if the interrupt lands inside optimizer.step, part of that step's
    update may already be applied). A diverging run stops at the step its output or loss stops being finite.
    """
    owner = "fit"
    _check_engine(model, loss, optimizer)
    x, y = _check_pair(x, y, owner, "x", "y")
    n_samples = len(x)
    epochs = check_int(epochs, "epochs", owner, minimum=1, fix="Pass a whole number of passes such as epochs=10.")
    batch_size = check_int(batch_size, "batch_size", owner, minimum=1, fix="Pass e.g. batch_size=32.")
    batch_size = min(batch_size, n_samples)             # larger than N: one full batch per epoch
    rng = make_rng(seed)
    initial_epoch = check_int(initial_epoch, "initial_epoch", owner, minimum=0, maximum=epochs - 1,
                              fix="Pass the number of epochs already done, fewer than epochs.")
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise TypeError(f"{owner} expected validation_data=(x_val, y_val), got {describe(validation_data)}.")
        validation_data = _check_pair(*validation_data, owner, "x_val", "y_val")
        _input_rms(validation_data[0], "x_val", owner)
    if eval_every is not None:
        eval_every = check_int(eval_every, "eval_every", owner, minimum=1, fix="Pass e.g. eval_every=100 (steps).")
        if validation_data is None:
            raise ValueError(f"{owner} got eval_every={eval_every} but no validation data to evaluate. "
                             "Pass validation_data=(x_val, y_val), or drop eval_every.")
    if augment is not None and not callable(augment):
        raise TypeError(f"{owner} expected augment to be a function (x_batch, rng) -> x_batch, got "
                        f"{describe(augment)}. Pass e.g. augment=shift_and_rotate.")
    history, guard, callbacks = _assemble_callbacks(callbacks, owner)
    input_rms = _input_rms(x, "x", owner)
    kind, labels = classification_labels(loss, y)

    trainer = Trainer(model, loss, optimizer, epochs=epochs, batch_size=batch_size, n_samples=n_samples,
                      validation_data=validation_data, is_classifier=kind is not None, input_rms=input_rms,
                      history=history)
    trainer.initial_epoch = initial_epoch
    clock = _Clock()
    failure = None
    try:
        for callback in callbacks:
            callback.trainer = trainer
            callback.on_train_begin(trainer)
        _train(trainer, callbacks, guard, clock, x, y, kind, labels, rng, bool(shuffle), eval_every, augment)
    except KeyboardInterrupt:
        trainer.status = "interrupted"
        trainer.message = (f"Training interrupted (KeyboardInterrupt) at epoch {trainer.epoch}, step {trainer.step}; "
                           f"{trainer.steps_completed} step(s) completed, the model keeps the weights it had.")
    except Exception as error:      # a bug or a failing callback: end the run on record, then let the error through
        failure = error
        trainer.status = "failed"
        trainer.message = (f"Training failed at epoch {trainer.epoch}, step {trainer.step}: "
                           f"{type(error).__name__}: {error}")
    if trainer.status == "running":
        trainer.status = "finished"
        trainer.message = (f"Finished {trainer.epochs_completed} epoch(s), {trainer.steps_completed} steps, "
                           f"in {clock.training_seconds():.1f} s.")
    elif trainer.status == "stopped" and not trainer.message:
        trainer.message = f"Stopped by a callback at epoch {trainer.epoch}, step {trainer.step}."
    logs = {"status": trainer.status, "message": trainer.message, "epochs_completed": trainer.epochs_completed,
            "steps_completed": trainer.steps_completed, "examples_seen": trainer.examples_seen,
            "seconds": clock.training_seconds()}
    if trainer.status == "diverged":
        logs.update(diverged_epoch=guard.epoch, diverged_step=guard.step, reason=guard.reason,
                    layer_index=guard.layer_index)
    for callback in callbacks:
        callback.on_train_end(logs)
    # a callback's on_train_end may add to the message (EarlyStopping says it restored the best weights)
    history.status, history.message = trainer.status, trainer.message
    history.outcome["message"] = trainer.message
    if failure is not None:
        raise failure
    return history


def _train(trainer, callbacks, guard, clock, x, y, kind, labels, rng, shuffle, eval_every, augment) -> None:
    """The epochs and steps. Returns when training ends; sets trainer.status unless all epochs ran."""
    model, loss, optimizer = trainer.model, trainer.loss, trainer.optimizer
    batch_listeners = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end]
    labels_are_y = labels is y
    check_grad_norm = optimizer.clip_norm is not None   # then the optimizer computes the norm anyway: free
    # NOTE: a resumed run's first loss is already low, no yardstick for a blow-up: it is checked for NaN/inf only
    limit, have_limit = guard.no_limit, trainer.initial_epoch > 0
    step = 0
    augment_rng = rng.spawn(1)[0] if augment is not None else None   # spawning draws nothing from rng
    if shuffle:
        for _ in range(trainer.initial_epoch):          # the orders of the epochs already done: drawn, not used
            rng.permutation(trainer.n_samples)
    for epoch in range(trainer.initial_epoch, trainer.epochs):
        trainer.epoch = epoch
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        if trainer.stop_training:
            trainer.status = "stopped"
            return
        epoch_start = clock.training_seconds()
        loss_sum, n_correct, n_scored, n_seen = 0.0, 0, 0, 0
        for idx in minibatch_indices(trainer.n_samples, trainer.batch_size, rng, shuffle, model.min_batch_size):
            trainer.step = step
            x_batch, y_batch = x[idx], y[idx]
            if augment is not None:
                x_batch = augment(x_batch, augment_rng)
            outcome = train_step(model, loss, optimizer, x_batch, y_batch, loss_limit=limit)
            if outcome.diverged:
                guard.diverged(trainer, outcome.diverged, value=outcome.loss, output=outcome.output, batch=x_batch)
                return
            loss_value, output = outcome.loss, outcome.output
            if check_grad_norm and not math.isfinite(optimizer.last_grad_norm):
                guard.diverged(trainer, "grad_norm", value=optimizer.last_grad_norm, batch=x_batch)
                return
            if not have_limit:
                limit, have_limit = guard.limit_from(loss_value), True

            n_batch = len(idx)
            n_seen += n_batch
            trainer.examples_seen += n_batch
            trainer.steps_completed = step + 1
            loss_sum += loss_value * n_batch
            logs = {"loss": loss_value}
            if kind is not None:
                predicted = predicted_classes(kind, output)
                if predicted is not None:
                    correct = int(np.count_nonzero(predicted == (y_batch if labels_are_y else labels[idx])))
                    n_correct += correct
                    n_scored += n_batch
                    logs["accuracy"] = correct / n_batch
            logs.update(lr=optimizer.last_lr, epoch=epoch, examples_seen=trainer.examples_seen)
            if eval_every is not None and (step + 1) % eval_every == 0:
                if not _add_validation(trainer, guard, clock, logs):
                    return
                logs["seconds"] = clock.training_seconds()
            for callback in batch_listeners:
                callback.on_batch_end(step, logs)
            step += 1
            if trainer.stop_training:
                break                                            # a graceful stop still closes the epoch

        # once per epoch: a pass over the weights (the last step's update may have overflowed them)
        if not all_finite(_state_arrays(model)):
            guard.diverged(trainer, "weights")
            return
        epoch_logs = {"loss": loss_sum / n_seen}
        if n_scored:
            epoch_logs["accuracy"] = n_correct / n_scored
        epoch_logs.update(lr=optimizer.last_lr, seconds=clock.training_seconds() - epoch_start)
        if trainer.validation_data is not None and not _add_validation(trainer, guard, clock, epoch_logs):
            return
        trainer.epochs_completed = epoch + 1
        for callback in callbacks:
            callback.on_epoch_end(epoch, epoch_logs)
        if trainer.stop_training:
            trainer.status = "stopped"
            return


def _add_validation(trainer, guard, clock, logs: dict) -> bool:
    """Evaluate the validation data into logs (val_loss, val_accuracy); False if the model has diverged."""
    with clock.paused():
        result = trainer.evaluate()
    if not math.isfinite(result.loss):
        guard.diverged(trainer, "validation")
        return False
    logs["val_loss"] = result.loss
    if result.accuracy is not None:
        logs["val_accuracy"] = result.accuracy
    return True


class _Clock:
    """Training time: wall time since the start, minus the time spent evaluating."""

    def __init__(self):
        self._start = time.perf_counter()
        self._paused = 0.0

    def training_seconds(self) -> float:
        return time.perf_counter() - self._start - self._paused

    @contextlib.contextmanager
    def paused(self):
        begin = time.perf_counter()
        try:
            yield
        finally:
            self._paused += time.perf_counter() - begin


# -- checks at the boundary ---------------------------------------------------------------------------------------
def _check_engine(model, loss, optimizer) -> None:
    if not isinstance(model, Sequential):
        raise TypeError(f"fit expected model to be a Sequential, got {describe(model)}. "
                        "Build one with Sequential([Dense(784, 128), ReLU(), ...]).")
    if not isinstance(loss, Loss):
        raise TypeError(f"fit expected loss to be a Loss such as SoftmaxCrossEntropy(), got {describe(loss)}.")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit expected optimizer to be an Optimizer such as SGD(lr=0.1), got {describe(optimizer)}.")


def _check_pair(x, y, owner: str, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    """x and y as arrays (no copy of x: MNIST is 188 MB), with as many examples each, at least one."""
    x = check_array(x, x_name, owner)
    y = check_array(y, y_name, owner)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{owner} expected {x_name} and {y_name} with one example per row, got shapes "
                         f"{x.shape} and {y.shape}.")
    if len(x) != len(y):
        raise ValueError(f"{owner} expected {x_name} and {y_name} with the same number of examples, got "
                         f"{len(x)} and {len(y)}. Pass matching arrays (one target per input).")
    if len(x) == 0:
        raise ValueError(f"{owner} expected at least one example, got empty {x_name} and {y_name}.")
    check_finite(y, y_name, owner, hint="Remove or impute the missing targets.")
    return x, y


def _input_rms(x: np.ndarray, name: str, owner: str) -> float:
    """Check x for NaN/inf ONCE, before training (not per batch), and return its root-mean-square, all in one
    pass of BLAS dot products over blocks of rows: no copy of the whole array."""
    if x.size == 0:
        return 0.0
    rows = max(1, _CHECK_BLOCK_VALUES // max(1, x.size // len(x)))
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(x), rows):
            block = x[start:start + rows]
            flat = block.reshape(-1).astype(np.float64 if block.dtype.kind != "f" else block.dtype, copy=False)
            square_sum = float(np.dot(flat, flat))
            if not math.isfinite(square_sum) and not np.isfinite(block).all():
                bad = ~np.isfinite(block.reshape(len(block), -1)).all(axis=1)
                first = start + int(np.argmax(bad))
                raise ValueError(f"{owner} expected {name} to be finite, got NaN/inf (first in example {first}). "
                                 "Remove or impute the missing values before training.")
            total += square_sum
    return math.sqrt(total / x.size)


def _assemble_callbacks(callbacks, owner: str) -> tuple[History, DivergenceGuard, list[Callback]]:
    """[History, DivergenceGuard, *the rest], using the caller's History and guard if given."""
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise TypeError(f"{owner} expected callbacks to be a list of Callback objects, got {describe(callbacks)}.") \
            from None
    for index, callback in enumerate(callbacks):
        if isinstance(callback, type) and issubclass(callback, Callback):
            raise TypeError(f"{owner} expected Callback objects, got the class {callback.__name__} at position "
                            f"{index}. Create one: {callback.__name__}(...) (note the parentheses).")
        if not isinstance(callback, Callback):
            raise TypeError(f"{owner} expected Callback objects, got {describe(callback)} at position {index}. "
                            "Subclass learnscope.train.Callback.")
    history = next((cb for cb in callbacks if isinstance(cb, History)), None) or History()
    guard = next((cb for cb in callbacks if isinstance(cb, DivergenceGuard)), None) or DivergenceGuard()
    rest = [cb for cb in callbacks if cb is not history and cb is not guard]
    return history, guard, [history, guard, *rest]
