"""Background jobs: everything the lab trains runs as one, and every page watches one the same way.

    job.start(); job.pause(); job.resume(); job.stop(wait=True)
    job.latest(since_version)       # the newest snapshot, or None when nothing changed since that version

A job's work runs in its own thread (`run()`, written by each kind of job) and publishes snapshots — plain,
immutable data — to its SnapshotBoard; pages poll the board on a timer and never touch what the work owns (the
model, the optimizer). The owner steers the work through a JobControl (pause, resume, stop), which the work reads
between steps; made from a multiprocessing context, the control crosses into a child process too.

Three kinds use it: the MNIST page's TrainingJob (the thread reads a training child process), the playground's
worker (one per tab) and the draw page's quick model.
"""

import dataclasses
import logging
import threading
import time
from collections import deque
from contextlib import contextmanager

log = logging.getLogger(__name__)


class SnapshotBoard:
    """The latest snapshot and its version number, under a lock. Writers publish whole snapshots; readers get the
    snapshot itself (never modified after publishing), or None if they have already seen this version."""

    def __init__(self):
        self._lock = threading.Lock()
        self._snapshot = None
        self._version = 0

    def publish(self, snapshot) -> int:
        """Store `snapshot` as the next version and return that version: a dict gains the keys "version" and
        "wall_time" (the server's clock), a dataclass with a `version` field gets that field set."""
        with self._lock:
            self._version += 1
            if isinstance(snapshot, dict):
                snapshot = {**snapshot, "version": self._version, "wall_time": time.time()}
            elif dataclasses.is_dataclass(snapshot):
                snapshot = dataclasses.replace(snapshot, version=self._version)
            self._snapshot = snapshot
            return self._version

    def latest(self, since_version: int | None = None):
        """The newest snapshot, or None if there is none or its version is `since_version` (unchanged)."""
        with self._lock:
            if self._snapshot is None or self._version == since_version:
                return None
            return self._snapshot

    @property
    def version(self) -> int:
        with self._lock:
            return self._version


class JobControl:
    """The owner's two signals to the work: pause/resume and stop. `context` makes the events: the threading
    module for a thread, a multiprocessing context for a child process (then the control can be sent to it)."""

    def __init__(self, context=threading):
        self._go = context.Event()
        self._go.set()
        self._stop = context.Event()

    def pause(self) -> None:
        if not self._stop.is_set():
            self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self._stop.set()
        self._go.set()                          # a paused worker wakes up to see the stop

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused (the work calls this between steps); True once it may go on."""
        return self._go.wait(timeout)


class TakeTurns:
    """A lock handed out in the order it was asked for: `with turns.turn(): ...` runs one holder at a time, and a
    thread that lets go and asks again goes to the back of the queue (a plain Lock may hand it straight back)."""

    def __init__(self):
        self._changed = threading.Condition()
        self._queue: deque = deque()

    @contextmanager
    def turn(self):
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
            while self._queue[0] is not ticket:
                self._changed.wait()
        try:
            yield
        finally:
            with self._changed:
                self._queue.popleft()
                self._changed.notify_all()

    @property
    def waiting(self) -> int:
        """Threads holding or waiting for a turn."""
        with self._changed:
            return len(self._queue)


class BackgroundJob:
    """Work in a background thread that a page starts, steers and watches. Subclasses write `run()`, which
    publishes snapshots with `publish()` and honours `control` between steps."""

    def __init__(self, name: str, control: JobControl | None = None):
        self.name = name
        self.board = SnapshotBoard()
        self.control = control or JobControl()
        self._thread: threading.Thread | None = None

    # -- the owner's side (any thread) ---------------------------------------------------------------------------
    def start(self) -> "BackgroundJob":
        if self.running:
            raise RuntimeError(f"{self.name} is already running; wait for it or stop() it first.")
        if self._thread is not None:
            raise RuntimeError(f"{self.name} has run already; make a new one for another run.")
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True from start() until run() has returned (everything it publishes is on the board by then)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def pause(self) -> None:
        """Hold the work after its current step (nothing is lost)."""
        if self.running:
            self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self, wait: bool = False, timeout: float | None = 60.0) -> None:
        """Ask the work to end after its current step; wait=True blocks until it has (at most `timeout` s)."""
        self.control.stop()
        if wait:
            self.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has ended; True if it has."""
        if self._thread is not None and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self.running

    def latest(self, since_version: int | None = None):
        return self.board.latest(since_version)

    # -- the work's side (the job's thread) -----------------------------------------------------------------------
    def publish(self, snapshot) -> int:
        return self.board.publish(snapshot)

    def run(self) -> None:
        raise NotImplementedError

    def _main(self) -> None:
        try:
            self.run()
        except Exception as error:              # a bug in the work: say so on the page, keep the lab alive
            log.warning("%s failed", self.name, exc_info=True)
            self.failed(f"{type(error).__name__}: {error}")

    def failed(self, message: str) -> None:
        """Publish that the work failed (subclasses whose snapshots are not dicts say it their way)."""
        self.publish({"status": "failed", "message": message})
