"""RunStore: training runs, their metrics, sampled tensors and events in one SQLite file.

SQLite in WAL mode lets one process write while others (the lab, the CLI) read, and several trainers share
one file: each write transaction takes the lock up front (BEGIN IMMEDIATE) and waits up to busy_timeout
for it. Metrics are buffered in memory and written in one transaction every `flush_rows` rows or
`flush_seconds` seconds (or on flush()), so recording costs a list append per value, not a disk sync.

Tables
    runs(id, name, status, config JSON, dataset, architecture JSON, created, updated, pid, process)
    metrics(run_id, step, epoch, examples_seen, name, value)      index on (run_id, name, step)
    tensors(run_id, step, name, npy)     npy: the array as an .npy file (np.save, allow_pickle=False)
    events(run_id, step, kind, message, payload JSON)
    schema_version(version)

A run whose status is still "running" but whose process is gone (killed, crashed) is marked "interrupted"
the next time a store is opened; whatever it flushed before dying stays readable.
"""

import io
import json
import math
import os
import sqlite3
import time
from pathlib import Path

import numpy as np

from learnscope.core.validation import check_choice, check_int, check_range, describe

SCHEMA_VERSION = 1
STATUSES = ("running", "finished", "stopped", "diverged", "interrupted")
#: Statuses a run may end with (finish_run)
END_STATUSES = STATUSES[1:]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'stopped', 'diverged', 'interrupted')),
    config TEXT NOT NULL,
    dataset TEXT,
    architecture TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    pid INTEGER,
    process TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    epoch INTEGER,
    examples_seen INTEGER,
    name TEXT NOT NULL,
    value REAL
);
CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics (run_id, name, step);
CREATE TABLE IF NOT EXISTS tensors (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    name TEXT NOT NULL,
    npy BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS tensors_by_name ON tensors (run_id, name, step);
CREATE TABLE IF NOT EXISTS events (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    payload TEXT
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, step);
"""


def default_store_path() -> Path:
    """$LEARNSCOPE_STORE, else runs.sqlite in the per-user data folder (platformdirs)."""
    env = os.environ.get("LEARNSCOPE_STORE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("learnscope")) / "runs.sqlite"


def open_store(store, owner: str, fix: str) -> tuple["RunStore", bool]:
    """(store, owned): a RunStore as given (not ours to close), or one opened on a path (ours). Anything else is a
    TypeError naming `owner`, ending with `fix`."""
    if isinstance(store, RunStore):
        return store, False
    if isinstance(store, str) or hasattr(store, "__fspath__"):
        return RunStore(store), True
    raise TypeError(f"{owner} expected a RunStore or a path to one, got {describe(store)}. {fix}")


def _open_advice(err: sqlite3.DatabaseError) -> str:
    """What an open failure means, so that a healthy store that is only busy or read-only is never called broken."""
    text = str(err).lower()
    if "locked" in text or "busy" in text:
        return ("Another process is writing to it and held it longer than 5 s; the store is fine. Try again when "
                "that process is done, or pass another path.")
    if "readonly" in text or "read-only" in text or "unable to open" in text or "disk i/o" in text or "full" in text:
        return ("The store may be fine but cannot be written here (read-only, or no space left). Free some space "
                "or pass a path in a folder you can write to.")
    return ("The file is not a learnscope run store or it is corrupted; pass another path, or move the file away to "
            "start a new store.")


def layer_chain(architecture) -> str:
    """A recorded run's layers, first to last, as "Flatten → Linear → ReLU → Linear" ("" when none were recorded)."""
    return " → ".join(layer.get("type", "?") for layer in architecture if isinstance(layer, dict))


def pid_alive(pid) -> bool:
    """True if a process with this id exists on this machine (signal 0 checks without sending anything)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:                             # it exists, it is just someone else's
        return True
    return True


def process_identity(pid: int) -> str | None:
    """Who a process id names right now: "<boot id>/<start time in clock ticks since boot>" from /proc on Linux,
    None where that cannot be read. Process ids are reused; this pair is not, and comparing it needs no wall clock
    (which can be stepped or slewed)."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        start_ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]   # field 22: starttime
        return f"{boot_id}/{int(start_ticks)}"
    except (OSError, IndexError, ValueError):
        return None


def writer_alive(pid, process: str | None) -> bool:
    """True if the process that created a run still runs: its id is alive and, where the creator's identity was
    recorded, names that same process and not a newer program that was given the id."""
    if not pid_alive(pid):
        return False
    return process is None or process_identity(pid) in (None, process)


class RunStore:
    """Training runs in one SQLite file: RunStore(path) opens or creates it; use as a context manager.

    path: the database file (default: default_store_path()). flush_rows / flush_seconds: buffered metric rows
    are written once this many have piled up or this many seconds have passed since the last write.
    """

    def __init__(self, path=None, flush_rows: int = 2000, flush_seconds: float = 2.0):
        owner = "RunStore"
        self.flush_rows = check_int(flush_rows, "flush_rows", owner, minimum=1, fix="Pass e.g. flush_rows=2000.")
        self.flush_seconds = float(check_range(flush_seconds, "flush_seconds", owner, minimum=0,
                                               fix="Pass e.g. flush_seconds=2.0."))
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        if self.path.is_dir():
            raise ValueError(f"RunStore expected a database file, got the folder {self.path}. "
                             f"Pass a file path such as {self.path / 'runs.sqlite'}.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._metrics: list[tuple] = []
        self._tensors: list[tuple] = []
        self._events: list[tuple] = []
        self._last_flush = time.monotonic()
        # isolation_level=None: we issue BEGIN ourselves, so each flush is exactly one transaction
        self._db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        try:
            self._open()
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise ValueError(f"RunStore could not open {self.path}: {err}. {_open_advice(err)}") from None
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        db = self._db
        db.execute("PRAGMA busy_timeout=5000")
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.DatabaseError(f"could not switch to WAL mode (journal_mode is {mode})")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("BEGIN IMMEDIATE")                   # two processes creating the file at once: one at a time
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if "process" not in {column[1] for column in db.execute("PRAGMA table_info(runs)")}:
                db.execute("ALTER TABLE runs ADD COLUMN process TEXT")      # stores written before it existed
            row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            if row[0] is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise ValueError(f"RunStore: {self.path} uses store schema version {row[0]}, this learnscope reads "
                                 f"version {SCHEMA_VERSION} and older. Upgrade learnscope to open it.")
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise
        try:
            self._mark_orphaned_runs()
        except sqlite3.OperationalError as err:         # no space or read-only: the store can still be read
            if "full" not in str(err) and "readonly" not in str(err):
                raise

    def _mark_orphaned_runs(self) -> None:
        """Runs still 'running' whose process has gone (killed or crashed) become 'interrupted'."""
        with self._transaction() as db:
            for run_id, pid, process in db.execute(
                    "SELECT id, pid, process FROM runs WHERE status = 'running'").fetchall():
                if not writer_alive(pid, process):
                    db.execute("UPDATE runs SET status = 'interrupted', updated = ? WHERE id = ?",
                               (time.time(), run_id))
                    db.execute("INSERT INTO events (run_id, step, kind, message, payload) VALUES (?, NULL, ?, ?, "
                               "NULL)", (run_id, "interrupted", f"The process writing this run (pid {pid}) ended "
                                         "without finishing it (killed or crashed)."))

    # -- writing ---------------------------------------------------------------------------------------------
    def create_run(self, name: str, config: dict | None = None, dataset: str | None = None,
                   architecture=None) -> int:
        """Start a run (status "running", owned by this process); returns its id."""
        self._require_open()
        if not isinstance(name, str) or not name:
            raise TypeError(f"RunStore.create_run expected name to be a non-empty string, got {describe(name)}.")
        if dataset is not None and not isinstance(dataset, str):
            raise TypeError(f"RunStore.create_run expected dataset to be a name such as 'mnist', got "
                            f"{describe(dataset)}.")
        config_json = _to_json(config or {}, "config", "RunStore.create_run")
        architecture_json = _to_json(architecture or [], "architecture", "RunStore.create_run")
        now = time.time()
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (name, status, config, dataset, architecture, created, updated, pid, process) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (name, config_json, dataset, architecture_json, now, now, os.getpid(), process_identity(os.getpid())))
        return int(cursor.lastrowid)

    def log_metrics(self, run_id: int, step: int, values: dict, epoch: int | None = None,
                    examples_seen: int | None = None) -> None:
        """Buffer one row per (name, value) of `values` at `step`; written on the next flush.
        NOTE: no checks here, this runs inside training loops; a NaN value is stored as NULL and read back as NaN."""
        rows = self._metrics
        for name, value in values.items():
            rows.append((run_id, step, epoch, examples_seen, name, float(value)))
        if len(rows) >= self.flush_rows or time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def log_tensor(self, run_id: int, step: int, name: str, array) -> None:
        """Buffer a copy of `array` (numbers only, never objects) as an .npy blob."""
        array = np.asarray(array)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"RunStore.log_tensor expected an array of numbers for {name!r}, got dtype "
                            f"{array.dtype}. Object and string arrays would need pickle; convert with "
                            "array.astype(np.float32).")
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        self._tensors.append((run_id, int(step), str(name), buffer.getvalue()))

    def log_event(self, run_id: int, step: int | None, kind: str, message: str, payload: dict | None = None) -> None:
        """Buffer a moment worth showing on a timeline (an epoch end, a divergence, ...) with a JSON payload."""
        payload_json = None if payload is None else _to_json(payload, "payload", "RunStore.log_event")
        self._events.append((run_id, None if step is None else int(step), str(kind), str(message), payload_json))

    def flush(self) -> None:
        """Write everything buffered in one transaction."""
        self._require_open()
        self._last_flush = time.monotonic()
        if not (self._metrics or self._tensors or self._events):
            return
        metrics, tensors, events = self._metrics, self._tensors, self._events
        with self._transaction():
            if metrics:
                self._db.executemany("INSERT INTO metrics (run_id, step, epoch, examples_seen, name, value) "
                                     "VALUES (?, ?, ?, ?, ?, ?)", metrics)
            if tensors:
                self._db.executemany("INSERT INTO tensors (run_id, step, name, npy) VALUES (?, ?, ?, ?)", tensors)
            if events:
                self._db.executemany("INSERT INTO events (run_id, step, kind, message, payload) "
                                     "VALUES (?, ?, ?, ?, ?)", events)
        # cleared only once written: a failed flush (disk full, lock timeout) keeps the rows for the next try
        self._metrics, self._tensors, self._events = [], [], []

    def finish_run(self, run_id: int, status: str = "finished", message: str = "") -> None:
        """Flush, then set the run's final status (finished, stopped, diverged, interrupted)."""
        check_choice(status, "status", "RunStore.finish_run", END_STATUSES)
        self.flush()
        self.run(run_id)                                # unknown id: a clear error
        with self._transaction():
            self._db.execute("UPDATE runs SET status = ?, updated = ? WHERE id = ?", (status, time.time(), run_id))
            if message:
                self._db.execute("INSERT INTO events (run_id, step, kind, message, payload) VALUES (?, NULL, ?, ?, "
                                 "NULL)", (run_id, status, str(message)))

    def delete_run(self, run_id: int) -> None:
        """Remove a run and everything recorded for it, its checkpoint files too. Refuses a run that a live
        process is still writing."""
        info = self.run(run_id)
        process = self._db.execute("SELECT process FROM runs WHERE id = ?", (info["id"],)).fetchone()[0]
        if info["status"] == "running" and writer_alive(info["pid"], process):
            raise RuntimeError(f"RunStore.delete_run: run {run_id} ({info['name']!r}) is still being written by "
                               f"process {info['pid']}. Stop that training first (or wait for it to end), then "
                               "delete the run.")
        files = [Path(event["payload"]["path"]) for event in self.events(run_id)
                 if event["kind"] == "checkpoint" and "path" in (event["payload"] or {})]
        self._metrics = [row for row in self._metrics if row[0] != run_id]
        self._tensors = [row for row in self._tensors if row[0] != run_id]
        self._events = [row for row in self._events if row[0] != run_id]
        with self._transaction():
            for table in ("metrics", "tensors", "events"):
                self._db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))  # fixed table names, no user text
            self._db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        for path in files:                              # its checkpoint files go with it, after the rows
            path.unlink(missing_ok=True)

    # -- reading ---------------------------------------------------------------------------------------------
    def runs(self) -> list[dict]:
        """Every run, oldest first, as dicts (see run())."""
        self._require_open()
        rows = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id").fetchall()
        return [_run_dict(row) for row in rows]

    def run(self, run_id: int) -> dict:
        """One run: id, name, status, config, dataset, architecture, created, updated (Unix seconds), pid."""
        self._require_open()
        row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (_run_id(run_id),)).fetchone()
        if row is None:
            known = [r[0] for r in self._db.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 10")]
            listed = ", ".join(map(str, known)) if known else "none: the store is empty"
            raise ValueError(f"RunStore has no run with id {run_id!r} in {self.path} (latest ids: {listed}). "
                             "List them with 'learnscope runs list'.")
        return _run_dict(row)

    def metrics(self, run_id: int, names=None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{name: (steps, values)} as int64 / float64 arrays sorted by step; `names` picks a subset."""
        self.run(run_id)
        self.flush()                                    # our own buffered rows too
        if names is None:
            rows = self._db.execute("SELECT name, step, value FROM metrics WHERE run_id = ? ORDER BY name, step",
                                    (run_id,)).fetchall()
        else:
            names = [names] if isinstance(names, str) else list(names)
            marks = ", ".join("?" * len(names))
            rows = self._db.execute(f"SELECT name, step, value FROM metrics WHERE run_id = ? AND name IN ({marks}) "
                                    "ORDER BY name, step", (run_id, *names)).fetchall()
        grouped: dict[str, tuple[list, list]] = {}
        for name, step, value in rows:
            steps, values = grouped.setdefault(name, ([], []))
            steps.append(step)
            values.append(math.nan if value is None else value)
        return {name: (np.array(steps, dtype=np.int64), np.array(values, dtype=np.float64))
                for name, (steps, values) in grouped.items()}

    def positions(self, run_id: int, name: str = "loss") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, epochs, examples_seen) of the rows recorded for metric `name`: where each recording sits in
        training, so runs with different batch sizes can be lined up. Unknown positions come back as -1."""
        self.run(run_id)
        self.flush()
        rows = self._db.execute("SELECT step, epoch, examples_seen FROM metrics WHERE run_id = ? AND name = ? "
                                "ORDER BY step", (run_id, name)).fetchall()
        columns = np.array(rows, dtype=object).reshape(-1, 3)
        return tuple(np.array([-1 if v is None else v for v in column], dtype=np.int64) for column in columns.T)

    def tensors(self, run_id: int, name: str) -> tuple[np.ndarray, list[np.ndarray]]:
        """(steps, arrays) of the snapshots of tensor `name`, sorted by step. Loaded without pickle."""
        self.run(run_id)
        self.flush()
        rows = self._db.execute("SELECT step, npy FROM tensors WHERE run_id = ? AND name = ? ORDER BY step",
                                (run_id, name)).fetchall()
        arrays = [np.load(io.BytesIO(blob), allow_pickle=False) for _, blob in rows]
        return np.array([step for step, _ in rows], dtype=np.int64), arrays

    def tensor_names(self, run_id: int) -> list[str]:
        """Names of the tensors recorded for a run."""
        self.run(run_id)
        self.flush()
        rows = self._db.execute("SELECT DISTINCT name FROM tensors WHERE run_id = ? ORDER BY name", (run_id,))
        return [name for (name,) in rows]

    def events(self, run_id: int) -> list[dict]:
        """The run's events in the order they were logged: step, kind, message, payload (a dict or None)."""
        self.run(run_id)
        self.flush()
        rows = self._db.execute("SELECT step, kind, message, payload FROM events WHERE run_id = ? ORDER BY rowid",
                                (run_id,)).fetchall()
        return [{"step": step, "kind": kind, "message": message,
                 "payload": None if payload is None else json.loads(payload)} for step, kind, message, payload in rows]

    # -- lifetime --------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Flush and close (calling it twice is harmless)."""
        if self._db is None:
            return
        try:
            self.flush()
        finally:
            self._db.close()
            self._db = None

    @property
    def closed(self) -> bool:
        return self._db is None

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r}{', closed' if self.closed else ''})"

    def _require_open(self) -> None:
        if self._db is None:
            raise RuntimeError(f"RunStore for {self.path} is closed. Open a new one: RunStore(path).")

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error. IMMEDIATE takes the write lock at the start, so a busy
    store makes us wait (busy_timeout) instead of failing halfway when a read would turn into a write."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except BaseException:
                _rollback(self._db)
                raise
        else:
            _rollback(self._db)


def _rollback(db: sqlite3.Connection) -> None:
    """Undo the open transaction, if there still is one: SQLite ends it by itself after some errors (a full disk
    during COMMIT), and a ROLLBACK then would fail and hide the error that matters."""
    if db.in_transaction:
        db.execute("ROLLBACK")


_RUN_COLUMNS = "id, name, status, config, dataset, architecture, created, updated, pid"


def _run_dict(row) -> dict:
    run_id, name, status, config, dataset, architecture, created, updated, pid = row
    return {"id": run_id, "name": name, "status": status, "config": json.loads(config), "dataset": dataset,
            "architecture": json.loads(architecture), "created": created, "updated": updated, "pid": pid}


def _run_id(run_id) -> int:
    if isinstance(run_id, bool) or not isinstance(run_id, (int, np.integer)):
        raise TypeError(f"RunStore expected a run id (an int from create_run or runs()), got {describe(run_id)}.")
    if not 0 < run_id < 2**63:                          # SQLite's integers are 64-bit
        raise ValueError(f"RunStore has no run with id {run_id}: run ids are whole numbers from 1 (list them with "
                         "'learnscope runs list').")
    return int(run_id)


def _to_json(value, name: str, owner: str) -> str:
    try:
        return json.dumps(value, allow_nan=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{owner} expected {name} to be JSON-serialisable (dicts, lists, numbers, strings), got "
                        f"{describe(value)}: {err}. Convert arrays with .tolist() and objects to strings.") from None
