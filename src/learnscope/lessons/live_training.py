"""Training you can watch: train_recipe in a child process that publishes snapshots for the lab to poll.

The worker owns the model from start to end. It runs in its own process (spawned, not forked), so the lab's web
server never competes with it for Python's GIL, and a crash in training cannot take the lab down. After each step
a callback may send a snapshot (at most every `publish_every` seconds): plain numbers, lists and a small PNG,
through a pipe. TrainingJob is a BackgroundJob (lessons/jobs.py) whose thread spawns the child and puts each
snapshot on the job's board; a poller asks `job.latest(since_version)` and gets None when nothing changed. When
training ends, the worker saves the model (safetensors) and sends the test-set result; the lab's process loads
both, so `job.model` and `job.result` are ordinary objects there.

    job = TrainingJob(settings, store_path="runs.sqlite", on_model=publish)
    job.start(); ...; job.latest()               # {"status": "running", "step": 120, "train": {...}, ...}
    job.pause(); job.resume(); job.stop(wait=True)

The numbers come from the engine: the loss and accuracy from fit()'s logs, the test curves from fit's
evaluations during training (train_recipe(test_evals_per_epoch=...)), gradient RMS per weight and update ratios
from the Recorder (which also writes the run to the store, so it can be picked up later), the confusion matrix
from evaluate() on the test set at the end.
"""

import contextlib
import logging
import math
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learnscope.lessons.experiments import RunNumbers
from learnscope.lessons.jobs import BackgroundJob, JobControl
from learnscope.lessons.mnist_lab import (
    TrainingSettings,
    first_layer_picture,
    load_lab_dataset,
    softmax_confidence,
)
from learnscope.lessons.pictures import png_data_uri
from learnscope.lessons.series import thin_series
from learnscope.model import Sequential
from learnscope.store import RunStore
from learnscope.train import Callback, Recorder, train_recipe
from learnscope.train.checkpoints import resume_run
from learnscope.train.diagnostics import diagnose

log = logging.getLogger(__name__)

#: Seconds between snapshots while training. Every snapshot the page shows costs the browser a repaint (~10 ms of
#: CPU in headless Chromium), and on a 2-core machine that time is taken from the trainer's BLAS threads: 2 Hz keeps
#: the progress live and the trainer at ≥ 90% of its headless speed (benchmarks/lab_overhead.py).
PUBLISH_EVERY = 0.5
#: Seconds between the (costlier) first-layer weight pictures
PICTURE_EVERY = 3.0
#: Seconds between refreshes of the curves inside snapshots (they change slowly, and each refresh travels to every
#: open page and redraws four charts there)
CURVES_EVERY = 3.0
#: The Recorder samples gradients and update ratios every this many steps
RECORD_EVERY = 10
#: Seconds a step may go on after Stop before it is cut short (TrainingJob.stop)
STOP_GRACE_SECONDS = 0.5
#: Test-set evaluations per epoch, for the live test curves (train_recipe(test_evals_per_epoch=this))
EVALS_PER_EPOCH = 4
ENDED = ("finished", "stopped", "diverged", "failed", "interrupted")
#: Snapshot keys that change at their own slower pace: the child sends them only when they are new (pickling ~70 kB
#: with every snapshot would cost the trainer), and the job copies the latest into every snapshot
STICKY = ("curves", "curves_version", "numbers", "picture", "picture_caption", "picture_version")


@dataclass
class TrainingResult:
    """The trained model on the test set, once training has ended: evaluate()'s numbers plus how confident
    each prediction was. images/labels are the test set the numbers refer to."""

    loss: float
    accuracy: float
    confusion: np.ndarray           # (K, K) int64, rows = true class, columns = predicted class
    predicted: np.ndarray           # (N,) predicted class per test example (evaluate().predictions)
    confidence: np.ndarray          # (N,) softmax probability of the predicted class
    labels: np.ndarray              # (N,) true classes
    images: np.ndarray              # (N, 1, H, W) test images
    class_names: list


class TrainingJob(BackgroundJob):
    """One training run in a child process (a BackgroundJob whose thread reads the child): start(), pause(),
    resume(), stop(); `board` holds its snapshots, `result` the test-set evaluation once it has ended, `model` the
    trained model, `run_id` its run in the store. on_model(model, name, class_names, test_accuracy) is called (in
    this process, from the job's thread) when a run ends with a usable model (not diverged)."""

    def __init__(self, settings: TrainingSettings, store_path, *, data_dir=None, download: bool = True,
                 on_model=None, publish_every: float = PUBLISH_EVERY, picture_every: float = PICTURE_EVERY,
                 curves_every: float = CURVES_EVERY, record_every: int = RECORD_EVERY,
                 stop_grace: float = STOP_GRACE_SECONDS):
        if not isinstance(settings, TrainingSettings):
            raise TypeError(f"TrainingJob expected TrainingSettings (from parse_form), got {type(settings).__name__}.")
        # NOTE: spawn, not fork: the lab's process runs threads (the web server), which a fork would copy mid-step
        self._context = multiprocessing.get_context("spawn")
        super().__init__("learnscope-training", JobControl(self._context))
        self.settings = settings
        self.store_path = Path(store_path)
        self.data_dir, self.download, self.on_model = data_dir, bool(download), on_model
        self.publish_every, self.picture_every, self.curves_every = publish_every, picture_every, curves_every
        self.record_every, self.stop_grace = record_every, stop_grace
        self.result: TrainingResult | None = None
        self.run_id: int | None = None
        self.model: Sequential | None = None
        self._metadata: dict = {}
        self._process = None
        self._status = "created"
        self._carried: dict = {}                        # the curves and picture last sent (see STICKY)
        self.publish({"status": "created", "message": "Not started yet."})

    def stop(self, wait: bool = False, timeout: float | None = 60.0) -> None:
        """Ask training to end after its current step; a step still running `stop_grace` seconds later (a full batch
        of 60,000 images takes seconds) is cut short. Either way the model is kept, tested and saved."""
        self.control.stop()
        if self._process is not None and self._process.is_alive():
            threading.Timer(self.stop_grace, self._cut_step_short).start()
        if wait:
            self.wait(timeout)

    def _cut_step_short(self) -> None:
        if self.running and self._status in ("running", "paused") and self._process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGTERM)

    def start(self) -> "TrainingJob":
        # before the job's thread spawns the child (slow), so a page shows it at once and the child's come after
        if self._thread is None:                        # a second start() only raises
            self.publish({"status": "starting", "message": "Starting the training process…"})
        return super().start()

    @property
    def child_pid(self) -> int | None:
        """The training process's id once it has been spawned."""
        return None if self._process is None else self._process.pid

    def save(self, path) -> Path:
        """Save the trained model (safetensors + JSON metadata, as `learnscope train` does) once training has
        ended; raises RuntimeError while it is still training."""
        if self._status == "diverged":
            raise RuntimeError("This run diverged, so its weights hold NaN/inf; lower the learning rate and train "
                               "again before saving.")
        if self.running or self.model is None:
            raise RuntimeError("There is no finished model to save yet: wait until training ends (or press Stop), "
                               "then save.")
        path = Path(path)
        self.model.save(path, metadata=self._metadata)
        return path

    def publish(self, values: dict) -> int:
        """Put what the child sent on the board, with the latest curves and picture (the child sends those only
        when they change)."""
        self._status = values.get("status", self._status)
        if values.get("run_id") is not None:
            self.run_id = values["run_id"]
        self._carried.update({key: values[key] for key in STICKY if key in values})
        return super().publish({**self._carried, **values})

    # -- the job's thread: spawn the child, then read what it sends ---------------------------------------------
    def run(self) -> None:
        receiver, sender = self._context.Pipe(duplex=False)
        folder = Path(tempfile.mkdtemp(prefix="learnscope-training-"))
        worker = _Worker(self.settings, self.store_path, self.data_dir, self.download, self.publish_every,
                         self.picture_every, self.curves_every, self.record_every, folder / "model.safetensors")
        try:
            self._process = self._context.Process(target=_train_in_child, args=(worker, self.control, sender),
                                                  name="learnscope-training", daemon=True)
            self._process.start()
            sender.close()                              # the child holds the other end; EOF when it exits
            self._read(receiver)
        finally:
            receiver.close()
            if self._process is not None:
                self._process.join(timeout=30)
            shutil.rmtree(folder, ignore_errors=True)
            if self._status not in ENDED:
                code = None if self._process is None else self._process.exitcode
                self.publish({"status": "failed", "message": "The training process ended unexpectedly "
                              f"(exit code {code}); the lab is fine, start again."})

    def _read(self, receiver) -> None:
        """Snapshots go to the board, the result and the model into this job; blocks in recv() (without the GIL)
        between messages."""
        try:
            while True:
                try:
                    kind, payload = receiver.recv()
                except EOFError:                        # the child has exited
                    break
                if kind == "result":
                    self._receive_result(payload)
                else:
                    self.publish(payload)
        except Exception as error:                      # a broken message: say so on the page, keep the lab alive
            log.warning("reading the training process failed", exc_info=True)
            self.publish({"status": "failed", "message": f"Training failed: {type(error).__name__}: {error}"})

    def _receive_result(self, payload: dict) -> None:
        self.model = Sequential.load(payload["model_path"])
        self.result = TrainingResult(**payload["result"])
        self.run_id, self._metadata = payload["run_id"], payload["metadata"]
        if self.on_model is not None:
            self.on_model(self.model, payload["name"], list(self.result.class_names), self.result.accuracy)


def _train_in_child(worker: "_Worker", control: JobControl, sender) -> None:
    """The child process's whole life: train, send snapshots and the result, exit."""
    worker.control, worker._sender = control, sender

    def cut_short(signum, frame):               # see TrainingJob.stop: a step that outlasts the grace period
        if not worker.stopping:
            worker.stopping = True
            worker.send_snapshot(status="stopping", message="Stopping: the step under way is cut short…")
            raise KeyboardInterrupt             # fit ends the run as Ctrl-C does: the model is kept and tested

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, cut_short)
    try:
        worker.run()
    finally:
        sender.close()


class _Worker:
    """The training side of a TrainingJob, in the child process: owns the data, the model and fit()."""

    def __init__(self, settings, store_path, data_dir, download, publish_every, picture_every, curves_every,
                 record_every, model_path: Path):
        self.settings, self.store_path, self.data_dir, self.download = settings, store_path, data_dir, download
        self.publish_every, self.picture_every, self.curves_every = publish_every, picture_every, curves_every
        self.record_every, self.model_path = record_every, model_path
        self.model = None
        self.run_id = None
        self.stopping = False                           # the stop has reached training: no more cutting short
        self.control: JobControl | None = None          # set in the child by _train_in_child
        self._sender = None

    def send_snapshot(self, **values) -> None:
        self._sender.send(("snapshot", values))

    def run(self) -> None:
        settings, recipe = self.settings, self.settings.recipe
        live = None
        try:
            what = "the 8×8 digits" if settings.dataset == "digits" else "MNIST"
            self.send_snapshot(status="loading", message=f"Loading {what}…")
            data = load_lab_dataset(settings.dataset, self.data_dir, self.download)
            if settings.samples is not None and settings.samples < len(data.x_train):
                data = data.subset(settings.samples, seed=recipe.seed)
            resumed = None
            if settings.resume_run is not None:         # go on from the run's last checkpoint
                with RunStore(self.store_path) as store:
                    resumed = resume_run(store, settings.resume_run)
            continued = "" if resumed is None else f", continuing #{settings.resume_run}"
            recorder = Recorder(self.store_path, every=self.record_every, dataset=data.name,
                                run_name=f"{data.name} {recipe.model} (lab) seed {recipe.seed}{continued}",
                                config={**recipe.to_dict(), "n_classes": data.n_classes, "class_names":
                                        list(data.class_names), "samples": settings.samples, "source": "lab",
                                        "resumed_from": settings.resume_run})
            live = _LiveCallback(self, recorder, data.name)
            trained = train_recipe(data, recipe, callbacks=[recorder, live], test_evals_per_epoch=EVALS_PER_EPOCH,
                                   resume=resumed)
            model, history, evaluation = trained.model, trained.history, trained.evaluation
            self.run_id = recorder.run_id
            status, message = history.status, history.message
            if status == "interrupted" and self.stopping:     # Stop cut a long step short (TrainingJob.stop)
                status, message = "stopped", "Stopped from the lab; the step under way was cut short."
            if status == "diverged":
                live.publish(force=True, status=status, message=message)
                return
            _, confidence = softmax_confidence(evaluation.outputs)
            result = TrainingResult(evaluation.loss, evaluation.accuracy, evaluation.confusion, evaluation.predictions,
                                    confidence, data.y_test, data.x_test, list(data.class_names))
            accuracy = result.accuracy
            name = f"{recipe.model.upper()} trained on the MNIST page ({data.name}, {accuracy:.1%} test accuracy)"
            metadata = {"dataset": data.name, "family": data.name, "class_names": list(data.class_names),
                        "input_shape": list(data.input_shape), "task": "classification",
                        "recipe": recipe.to_dict(), "test_loss": result.loss, "test_accuracy": accuracy,
                        "status": status, "run_id": self.run_id}
            model.save(self.model_path, metadata=metadata)
            # the result (and model) before the last snapshot: a page that sees "finished" finds them in the job
            self._sender.send(("result", {"model_path": str(self.model_path), "result": vars(result),
                                          "run_id": self.run_id, "metadata": metadata, "name": name}))
            live.publish(force=True, status=status, message=f"{message} Test accuracy {accuracy:.2%}.",
                         training_seconds=history.outcome.get("seconds"))
        except Exception as error:                      # shown on the page; the lab keeps working
            log.warning("MNIST training failed", exc_info=True)
            values = {"status": "failed", "message": f"Training failed: {type(error).__name__}: {error}"}
            if live is not None:
                live.publish(force=True, **values)
            else:
                self.send_snapshot(**values)


class _LiveCallback(Callback):
    """Collects the curves step by step and publishes snapshots; holds training while the job is paused and
    stops it when asked. Runs in the worker, right after the Recorder."""

    def __init__(self, job: "_Worker", recorder: Recorder, dataset: str):
        self.job, self.recorder, self.dataset = job, recorder, dataset
        self.steps_per_epoch, self.epochs, self.total_steps = 1, 1, 1     # known from on_train_begin
        self.first_epoch = 0
        self.train = {"loss": ([], []), "accuracy": ([], [])}
        self.test = {"loss": ([], []), "accuracy": ([], [])}
        self.grad_rms: dict[str, tuple[list, list]] = {}
        self.update_ratio: dict[str, tuple[list, list]] = {}
        self.signals: dict[str, tuple[list, list]] = {}        # what else the diagnostics read: lr, dead, saturated
        self.epochs_logged = {key: ([], []) for key in ("loss", "val_loss", "accuracy", "val_accuracy")}
        self.ended: str | None = None                   # fit's status once training has ended
        self.step = -1
        self.epoch = 0
        self.examples_seen = 0
        self.started = time.perf_counter()
        self.paused_seconds = 0.0
        self.last_publish = self.last_picture = self.last_curves = -math.inf
        self.picture_version = 0
        self.curves_version = 0
        self.stop_asked = False

    def on_train_begin(self, trainer) -> None:
        self.job.model = trainer.model                  # the first-layer picture reads it
        self.steps_per_epoch, self.epochs = trainer.steps_per_epoch, trainer.epochs
        self.first_epoch = trainer.initial_epoch           # a continued run goes on from there
        self.total_steps = self.steps_per_epoch * (self.epochs - self.first_epoch)
        self.started = time.perf_counter()
        self.publish(force=True, status="running", message="Training…")

    def on_train_end(self, logs: dict) -> None:
        self.ended = logs["status"]
        if logs["status"] != "diverged":                # train_recipe evaluates the test set next
            self.publish(force=True, status="evaluating", message=f"{logs['message']} Evaluating on the test set…")

    def on_batch_end(self, step: int, logs: dict) -> None:
        self.step, self.epoch, self.examples_seen = step, logs["epoch"], logs["examples_seen"]
        x = self.first_epoch + (step + 1) / self.steps_per_epoch    # every curve's x axis: epochs of training done
        _append(self.train["loss"], x, logs["loss"])
        if "accuracy" in logs:
            _append(self.train["accuracy"], x, logs["accuracy"])
        evaluated = "val_loss" in logs
        if evaluated:
            _append(self.test["loss"], x, logs["val_loss"])
            _append(self.test["accuracy"], x, logs.get("val_accuracy", math.nan))
        if step % self.recorder.every == 0:             # the Recorder has just computed these for this step
            for key, value in self.recorder.latest.items():
                if key.endswith(".W") and key.startswith(("grad_rms/", "update_ratio/")):
                    kind, name = key.split("/", 1)
                    target = self.grad_rms if kind == "grad_rms" else self.update_ratio
                    _append(target.setdefault(name, ([], [])), x, value)
                elif key == "lr" or key.startswith(("dead_fraction/", "saturated_fraction/")):
                    _append(self.signals.setdefault(key, ([], [])), x, value)
        control = self.job.control
        resumed = False
        if control.stop_requested and not self.stop_asked:
            self.stop_asked = self.job.stopping = True
            self.trainer.stop(f"Stopped from the lab at epoch {self.epoch + 1}, step {step + 1} of "
                              f"{self.total_steps}.")
            self.publish(force=True)
        elif control.paused:
            self.publish(force=True, status="paused", message=f"Paused at step {step + 1} of {self.total_steps}.")
            pause_began = time.perf_counter()
            control.wait_while_paused()
            self.paused_seconds += time.perf_counter() - pause_began
            resumed = True
        # at its pace (the test score shows with the next curves), but "running" again at once after a pause
        self.publish(force=resumed, refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        for key, series in self.epochs_logged.items():
            if key in logs:
                _append(series, epoch, logs[key])
        if "val_loss" in logs:
            x = epoch + 1.0
            if not self.test["loss"][0] or self.test["loss"][0][-1] != x:
                _append(self.test["loss"], x, logs["val_loss"])
                _append(self.test["accuracy"], x, logs.get("val_accuracy", math.nan))
        self.publish()                                  # at its pace too: every snapshot costs the browser a repaint

    def publish(self, force: bool = False, status: str | None = None, message: str | None = None,
                refresh: bool | None = None, **extra) -> None:
        """Publish a snapshot if publish_every has passed (or `force`); the curves and the picture are
        rebuilt at their own slower pace, or now with `refresh` (default: as `force`). Without a status: running,
        or stopping once a stop has been asked for."""
        if status is None:
            status, message = ("stopping", "Stopping: closing the epoch and testing the model…") if self.stop_asked \
                else ("running", "Training…")
        message = message or ""
        now = time.perf_counter()
        if not force and now - self.last_publish < self.job.publish_every:
            return
        self.last_publish = now
        refresh = force if refresh is None else refresh
        new = {}                                        # the curves and picture travel only when rebuilt (STICKY)
        if (refresh or now - self.last_curves >= self.job.curves_every) and self.step >= 0:   # once there are any
            self.last_curves = now
            self.curves_version += 1
            new.update(curves_version=self.curves_version, curves={
                "train": _thinned(self.train), "test": _thinned(self.test), "grad_rms": _thinned(self.grad_rms),
                "update_ratio": _thinned(self.update_ratio)}, numbers=self.numbers())
        if refresh or now - self.last_picture >= self.job.picture_every:
            self.last_picture = now
            drawn = None if self.job.model is None else first_layer_picture(self.job.model)
            if drawn is not None:
                grid, caption = drawn
                self.picture_version += 1
                new.update(picture=png_data_uri(grid), picture_caption=caption,   # drawn larger, pixelated
                           picture_version=self.picture_version)
        active = max(now - self.started - self.paused_seconds, 1e-9)
        steps_done = self.step + 1
        speed = steps_done / active
        remaining = self.total_steps - steps_done
        eta = remaining / speed if speed > 0 and steps_done else None
        self.job.send_snapshot(
            status=status, message=message, dataset=self.dataset, epoch=self.epoch, epochs=self.epochs,
            step=steps_done, total_steps=self.total_steps, fraction=steps_done / self.total_steps,
            examples_seen=self.examples_seen, examples_per_second=self.examples_seen / active,
            eta_seconds=eta if status in ("running", "paused") else 0.0, elapsed_seconds=active,
            run_id=self.recorder.run_id, **new, **extra)


    def numbers(self) -> RunNumbers:
        """The run so far as the findings panel and the "Try this" outcomes read it: per-epoch losses and
        accuracies (the test set's from fit's evaluations) and the diagnostics' findings."""
        logged = {key: tuple(values) for key, (_, values) in self.epochs_logged.items()}
        return RunNumbers(epochs=len(logged["loss"]), train_loss=logged["loss"], test_loss=logged["val_loss"],
                          train_accuracy=logged["accuracy"], test_accuracy=logged["val_accuracy"],
                          findings=tuple(self.findings()), diverged=self.ended == "diverged", n_classes=10)

    def findings(self) -> list:
        """What the project's diagnostics find in the run so far (the checks of `learnscope runs show`, read from
        the numbers this callback collected), problems first."""
        metrics = {"loss": self.train["loss"], "accuracy": self.train["accuracy"], **self.signals,
                   **{f"grad_rms/{name}": series for name, series in self.grad_rms.items()},
                   **{f"update_ratio/{name}": series for name, series in self.update_ratio.items()},
                   **{f"epoch/{key}": series for key, series in self.epochs_logged.items()}}
        if "lr" in metrics:             # the form's learning rate, not the schedule's: a fix is typed into the form
            metrics["lr"] = (metrics["lr"][0], [self.job.settings.recipe.lr] * len(metrics["lr"][0]))
        metrics = {name: (np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
                   for name, (xs, ys) in metrics.items() if xs}
        return diagnose(metrics, status=self.ended, n_classes=10)


def _append(series: tuple[list, list], x: float, y: float) -> None:
    series[0].append(x)
    series[1].append(float(y))


def _thinned(curves: dict) -> dict:
    """{name: (xs, ys)} -> {name: (xs, ys)} of at most a few hundred points each, as lists (JSON-ready)."""
    return {name: thin_series(xs, ys) for name, (xs, ys) in curves.items() if xs}
