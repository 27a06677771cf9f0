"""The playground's trainer: a BackgroundJob (lessons/jobs.py) that owns a PlaygroundSession, applies commands
between mini-batches and publishes snapshots (numbers and small PNGs) to its board, at most ~15 times a second.

Nothing outside the job's thread touches the model: the page sends commands (play, step, set a weight, ...) and
reads `snapshot()`, an immutable copy. Play and pause are commands, part of what the page shows; the job's own
pause() holds the whole thread.
"""

import math
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np

from learnscope.lessons.experiments import RunNumbers
from learnscope.lessons.jobs import BackgroundJob, TakeTurns
from learnscope.lessons.pictures import png_data_uri
from learnscope.lessons.playground.session import Metrics, PlaygroundSession, map_pictures
from learnscope.lessons.playground.setup import PlaygroundSetup
from learnscope.lessons.series import thin_series

#: settings that change how training continues but not what is trained: no reset needed
LIVE_FIELDS = ("lr", "l2", "stop_after", "hidden_controls")
#: the page's curve names -> the History keys they are read from (the test part is fit's "validation" data)
CURVE_KEYS = {"train_loss": "loss", "test_loss": "val_loss", "train_accuracy": "accuracy",
              "test_accuracy": "val_accuracy"}
PUBLISH_INTERVAL = 1 / 15          # seconds between snapshots while training
NUMBERS_INTERVAL = 0.5             # seconds between diagnoses while training (~40 ms at 3,000 epochs of history)
TRAIN_SLICE = 0.04                 # seconds of training between looks at the command queue
#: Every tab's training slices run one at a time, in turn. Tabs training side by side gain nothing (one GIL) and
#: starve the lab's event loop: with 20 tabs playing it answered the home page in 870 ms (median), and a late ping
#: can cost a tab its connection. Taking turns, one thread at a time competes with the event loop: 44 ms.
TRAINING_TURNS = TakeTurns()


@dataclass(frozen=True)
class Snapshot:
    """What the page shows, as plain data. `version` grows with every publish; `data_version` only when the
    points change (so the page redraws them only then)."""

    version: int
    data_version: int
    setup: PlaygroundSetup
    playing: bool
    epoch: int
    steps: int
    metrics: Metrics
    curves: dict                        # name -> (epochs, values), thinned to a few hundred points
    boundary: str                       # PNG data URI of the plane
    points: dict                        # {"train": [(x1, x2, label)], "test": [...]}; label float for regression
    class_names: tuple
    input_maps: tuple                   # PNG data URIs, one per input feature
    neuron_maps: tuple                  # per hidden layer, PNG data URIs, one per neuron
    diagram: dict                       # see PlaygroundSession.diagram()
    numbers: RunNumbers                 # what the findings and the "Try this" outcomes are read from
    message: str = ""                   # why training stopped or a command failed ("" if nothing to say)


class PlaygroundWorker(BackgroundJob):
    """One per browser tab: `send(...)` commands, `snapshot()` the latest state, `stop()` when the tab closes.
    The first snapshot is made at once; the thread starts with the first command, so a page that is only looked
    at (or fetched by a script) costs no thread."""

    def __init__(self, setup: PlaygroundSetup, boundary_resolution: int = 60, map_resolution: int = 20):
        super().__init__("playground-trainer")
        self.boundary_resolution, self.map_resolution = boundary_resolution, map_resolution
        self._session = PlaygroundSession(setup)     # built here so a bad setup fails in the caller
        self._commands: queue.Queue = queue.Queue()
        self._playing = False
        self._message = ""
        self._data_version = 1
        self._numbers, self._numbers_at = None, 0.0
        self._start_lock = threading.Lock()
        self._publish()

    # ---- the page's side ----
    def snapshot(self) -> Snapshot:
        return self.latest()

    def send(self, command: str, *args) -> None:
        """play, pause, step, reset, setup(PlaygroundSetup), set_weight(layer, i, j, value),
        add_point(x1, x2, label), points(x, y, class_names)."""
        self._commands.put((command, args))
        with self._start_lock:                      # two quick commands from two handlers start one thread
            if self._thread is None and not self.control.stop_requested:
                self.start()

    def stop(self, wait: bool = True, timeout: float | None = 5.0) -> None:
        self.control.stop()
        self._commands.put(("wake", ()))            # the idle loop waits on the queue
        super().stop(wait, timeout)

    # ---- the thread's side ----
    def run(self) -> None:
        dirty, last_publish = False, 0.0
        while not self.control.stop_requested:
            self.control.wait_while_paused()
            idle = not (self._playing or dirty)
            try:
                command = self._commands.get(timeout=0.5) if idle else self._commands.get_nowait()
            except queue.Empty:
                command = None
            while command is not None:
                dirty |= self._apply(*command)
                try:
                    command = self._commands.get_nowait()
                except queue.Empty:
                    command = None
            if self.control.stop_requested:
                break
            if self._playing:
                with TRAINING_TURNS.turn():
                    self._train_slice()
                dirty = True
            now = time.monotonic()
            if dirty and (not self._playing or now - last_publish >= PUBLISH_INTERVAL):
                self._publish()
                dirty, last_publish = False, now
            elif self._playing or dirty:
                time.sleep(0.004)           # let the page's event loop run (same interpreter, one GIL)

    def _train_slice(self) -> None:
        session = self._session
        deadline = time.monotonic() + TRAIN_SLICE
        while time.monotonic() < deadline:
            limit = session.setup.stop_after
            if limit and session.epoch >= limit:
                self._playing = False
                self._message = f"Stopped after {limit} epochs (the 'stop after' setting)."
                return
            session.train_epochs(1)
            if session.diverged:
                self._playing = False
                self._message = session.diverged
                return

    def _apply(self, command: str, args: tuple) -> bool:
        """Run one command in the trainer thread; True if something visible changed."""
        session = self._session
        try:
            if command == "play":
                if session.diverged:
                    self._message = session.diverged
                else:
                    self._playing, self._message = True, ""
            elif command == "pause":
                self._playing = False
            elif command == "step":
                self._playing, self._message = False, ""
                session.step()
                session.record()
                if session.diverged:
                    self._message = session.diverged
            elif command == "reset":
                self._playing, self._message = False, ""
                session.reset()
            elif command == "setup":
                self._change_setup(args[0])
            elif command == "set_weight":
                session.set_weight(*args)
            elif command == "add_point":
                session.add_point(*args)
                self._data_version += 1
            elif command == "points":
                self._playing, self._message = False, ""
                session.replace_points(*args)
                self._data_version += 1
            elif command == "wake":
                return False
            else:
                raise ValueError(f"unknown command {command!r}")
        except (ValueError, TypeError) as err:
            self._message = str(err)
        return True

    def _change_setup(self, setup: PlaygroundSetup) -> None:
        old = self._session.setup
        changed = {name for name in setup.__dataclass_fields__ if getattr(setup, name) != getattr(old, name)}
        if changed <= set(LIVE_FIELDS):
            self._session.update_live(setup)
            return
        self._playing, self._message = False, ""
        self._session = PlaygroundSession(setup)
        self._data_version += 1

    def _publish(self) -> None:
        session = self._session
        history = session.history
        curves = {name: thin_series(history.epoch, _column(history, key)) for name, key in CURVE_KEYS.items()}
        metrics = _last_metrics(history)
        hidden_maps = session.neuron_maps(self.map_resolution)
        limit = 1.0 if session.setup.activation in ("tanh", "sigmoid") else None
        now = time.monotonic()
        if self._numbers is None or not self._playing or now - self._numbers_at >= NUMBERS_INTERVAL:
            self._numbers, self._numbers_at = session.numbers(), now
            divergence = self._numbers.finding("divergence")
            if self._playing and divergence is not None:      # say why and stop, rather than draw noise
                self._playing = False
                self._message = f"Paused: {divergence.title[0].lower()}{divergence.title[1:]}."
        self.publish(Snapshot(
            version=0,                      # the board sets it
            data_version=self._data_version,
            setup=session.setup,
            playing=self._playing,
            epoch=session.epoch,
            steps=session.steps,
            metrics=metrics,
            curves=curves,
            boundary=png_data_uri(session.boundary(self.boundary_resolution)),
            points=_points(session),
            class_names=session.class_names,
            input_maps=tuple(map_pictures(session.input_maps(self.map_resolution))),
            neuron_maps=tuple(tuple(map_pictures(maps, limit)) for maps in hidden_maps),
            diagram=session.diagram(),
            numbers=self._numbers,
            message=self._message,
        ))


def _column(history, key: str) -> list[float]:
    """A History column; NaN per row for a metric this task does not have (accuracy in regression)."""
    return history.history.get(key) or [math.nan] * len(history.epoch)


def _last_metrics(history) -> Metrics:
    def value(key):
        values = _column(history, key)
        return values[-1] if values and math.isfinite(values[-1]) else None

    return Metrics(*(value(key) for key in CURVE_KEYS.values()))


def _points(session: PlaygroundSession) -> dict:
    def rows(x, y):
        labels = np.asarray(y).reshape(len(y), -1)[:, 0]
        return [(float(a), float(b), float(label)) for (a, b), label in zip(x, labels)]

    return {"train": rows(session.x_train, session.y_train), "test": rows(session.x_test, session.y_test)}
