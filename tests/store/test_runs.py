"""RunStore: round trips, WAL, batched writes, crashes, several processes at once, clear errors."""

import contextlib
import io
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from learnscope.store import SCHEMA_VERSION, RunStore, default_store_path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run_python(code: str, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120)


def count_rows(path, table="metrics") -> int:
    """Count with a separate plain connection: what another process would see."""
    with contextlib.closing(sqlite3.connect(path)) as other:
        return other.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def store(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as opened:
        yield opened


def test_round_trip_of_runs_metrics_tensors_and_events(store):
    run_id = store.create_run("spiral-mlp", {"lr": 0.1, "batch_size": 32}, "spiral",
                              [{"type": "Dense", "config": {"n_in": 2, "n_out": 16}}])
    for step in range(5):
        store.log_metrics(run_id, step, {"loss": 1.0 / (step + 1), "accuracy": step / 10}, epoch=0,
                          examples_seen=32 * (step + 1))
    store.log_metrics(run_id, 5, {"loss": float("nan")})
    weights = np.arange(12, dtype=np.float32).reshape(3, 4)
    store.log_tensor(run_id, 0, "0.dense.W", weights)
    store.log_tensor(run_id, 4, "0.dense.W", weights * 2)
    store.log_event(run_id, 4, "epoch_end", "Epoch 0 ended.", {"loss": 0.2})
    store.finish_run(run_id, "finished", "all done")

    info = store.run(run_id)
    assert info["name"] == "spiral-mlp" and info["status"] == "finished" and info["dataset"] == "spiral"
    assert info["config"] == {"lr": 0.1, "batch_size": 32}
    assert info["architecture"][0]["config"]["n_out"] == 16
    assert info["pid"] == os.getpid() and info["updated"] >= info["created"]
    assert [run["id"] for run in store.runs()] == [run_id]

    metrics = store.metrics(run_id)
    steps, values = metrics["loss"]
    assert steps.dtype == np.int64 and steps.tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_array_equal(values[:5], [1.0, 0.5, 1 / 3, 0.25, 0.2])
    assert np.isnan(values[5])                          # NaN survives (SQLite stores it as NULL)
    assert set(store.metrics(run_id, names=["accuracy"])) == {"accuracy"}

    steps, arrays = store.tensors(run_id, "0.dense.W")
    assert steps.tolist() == [0, 4]
    assert arrays[0].dtype == np.float32
    np.testing.assert_array_equal(arrays[1], weights * 2)
    assert store.tensor_names(run_id) == ["0.dense.W"]

    events = store.events(run_id)
    assert events[0] == {"step": 4, "kind": "epoch_end", "message": "Epoch 0 ended.", "payload": {"loss": 0.2}}
    assert events[-1]["kind"] == "finished" and events[-1]["message"] == "all done"


def test_tensors_are_stored_without_pickle(store):
    run_id = store.create_run("r")
    store.log_tensor(run_id, 0, "w", np.ones((2, 2)))
    store.flush()
    (blob,) = store._db.execute("SELECT npy FROM tensors").fetchone()
    np.testing.assert_array_equal(np.load(io.BytesIO(blob), allow_pickle=False), np.ones((2, 2)))
    with pytest.raises(TypeError, match="Object and string arrays would need pickle"):
        store.log_tensor(run_id, 1, "w", np.array([{"a": 1}, None], dtype=object))


def test_the_store_uses_wal_mode(store):
    with contextlib.closing(sqlite3.connect(store.path)) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_metrics_are_buffered_until_a_flush(tmp_path):
    path = tmp_path / "runs.sqlite"
    with RunStore(path, flush_rows=100, flush_seconds=3600) as store:
        run_id = store.create_run("r")
        for step in range(10):
            store.log_metrics(run_id, step, {"loss": 1.0, "lr": 0.1})
        assert count_rows(path) == 0                    # another connection sees nothing yet
        store.flush()
        assert count_rows(path) == 20
        for step in range(10, 60):                     # 100 buffered rows trigger a flush by themselves
            store.log_metrics(run_id, step, {"loss": 1.0, "lr": 0.1})
        assert count_rows(path) == 120


def test_metrics_are_flushed_after_flush_seconds(tmp_path):
    path = tmp_path / "runs.sqlite"
    with RunStore(path, flush_rows=10_000, flush_seconds=0) as store:
        run_id = store.create_run("r")
        store.log_metrics(run_id, 0, {"loss": 1.0})
        assert count_rows(path) == 1


def test_a_killed_process_leaves_a_readable_store_and_an_interrupted_run(tmp_path):
    path = tmp_path / "runs.sqlite"
    result = run_python("""
        import os, signal, sys
        from learnscope.store import RunStore
        store = RunStore(sys.argv[1], flush_rows=10_000, flush_seconds=3600)
        run_id = store.create_run("doomed", {"lr": 0.1})
        for step in range(100):
            store.log_metrics(run_id, step, {"loss": 1.0 / (step + 1)})
        store.flush()
        for step in range(100, 200):
            store.log_metrics(run_id, step, {"loss": 0.0})
        # die in the middle of a write transaction
        store._db.execute("BEGIN IMMEDIATE")
        store._db.executemany("INSERT INTO metrics (run_id, step, name, value) VALUES (?, ?, 'loss', 0)",
                              [(run_id, step) for step in range(100, 200)])
        os.kill(os.getpid(), signal.SIGKILL)
    """, path)
    assert result.returncode == -9, result.stderr
    with RunStore(path) as store:
        (run,) = store.runs()
        assert run["status"] == "interrupted"
        steps, values = store.metrics(run["id"])["loss"]
        assert steps.tolist() == list(range(100))
        np.testing.assert_allclose(values, 1.0 / np.arange(1, 101))
        assert store.events(run["id"])[-1]["kind"] == "interrupted"


def test_two_writers_and_a_reader_share_one_store(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    writer = """
        import sys
        from learnscope.store import RunStore
        with RunStore(sys.argv[1], flush_rows=20, flush_seconds=3600) as store:
            run_id = store.create_run(sys.argv[2])
            for step in range(2000):
                store.log_metrics(run_id, step, {"loss": float(step)})
            store.finish_run(run_id, "finished")
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))
    writers = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(writer), str(path), name],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for name in ("first", "second")]
    reads = 0
    with RunStore(path) as reader:
        while any(process.poll() is None for process in writers):
            for run in reader.runs():
                reader.metrics(run["id"])
            reads += 1
        outputs = [process.communicate() for process in writers]
        for process, (_, stderr) in zip(writers, outputs):
            assert process.returncode == 0, stderr
            assert "locked" not in stderr
        runs = reader.runs()
        assert sorted(run["name"] for run in runs) == ["first", "second"]
        for run in runs:
            assert run["status"] == "finished"
            steps, values = reader.metrics(run["id"])["loss"]
            assert steps.tolist() == list(range(2000))
            np.testing.assert_array_equal(values, np.arange(2000.0))
    assert reads > 0


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"this is a text file, not SQLite\n" * 200)
    with pytest.raises(ValueError, match="file is not a database.*move the file away"):
        RunStore(path)


def test_a_corrupted_database_is_refused_clearly(tmp_path):
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        store.create_run("r")
    data = bytearray(path.read_bytes())
    data[:16] = b"\x00" * 16                          # the header magic
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a learnscope run store or it is corrupted"):
        RunStore(path)


def test_a_newer_schema_asks_for_an_upgrade(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    with contextlib.closing(sqlite3.connect(path)) as other, other:   # closing; the inner `with` commits
        other.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(ValueError, match=f"schema version {SCHEMA_VERSION + 1}.*Upgrade learnscope"):
        RunStore(path)


def test_unknown_run_ids_are_named(store):
    run_id = store.create_run("r")
    with pytest.raises(ValueError, match=f"no run with id 99.*latest ids: {run_id}.*learnscope runs list"):
        store.metrics(99)
    with pytest.raises(ValueError, match="no run with id 99"):
        store.finish_run(99, "finished")
    with pytest.raises(TypeError, match="expected a run id"):
        store.run("first")


def test_a_run_being_written_cannot_be_deleted(store):
    run_id = store.create_run("live")
    store.log_metrics(run_id, 0, {"loss": 1.0})
    with pytest.raises(RuntimeError, match=f"still being written by process {os.getpid()}.*Stop that training"):
        store.delete_run(run_id)
    store.finish_run(run_id, "stopped")
    store.delete_run(run_id)
    assert store.runs() == []
    assert count_rows(store.path) == 0


def test_bad_arguments_are_refused(store):
    with pytest.raises(TypeError, match="JSON-serialisable"):
        store.create_run("r", {"w": np.ones(2)})
    run_id = store.create_run("r")
    with pytest.raises(ValueError, match="status to be one of"):
        store.finish_run(run_id, "done")
    store.close()
    with pytest.raises(RuntimeError, match="is closed"):
        store.runs()
    store.close()                                       # twice is harmless


def test_default_location_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNSCOPE_STORE", str(tmp_path / "elsewhere.sqlite"))
    assert default_store_path() == tmp_path / "elsewhere.sqlite"
    monkeypatch.delenv("LEARNSCOPE_STORE")
    assert default_store_path().name == "runs.sqlite" and "learnscope" in str(default_store_path())


def test_a_run_whose_process_id_was_reused_by_a_newer_program_is_interrupted_and_deletable(tmp_path):
    # No clock is involved: the run keeps who wrote it (boot id and start tick), the newer program is someone else
    # however soon after the run it started.
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        run_id = store.create_run("killed just now")
    newer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with sqlite3.connect(path) as db:                   # as if the killed writer's id went to this program
            db.execute("UPDATE runs SET pid = ? WHERE id = ?", (newer.pid, run_id))
        with RunStore(path) as store:
            assert store.run(run_id)["status"] == "interrupted"
            store.delete_run(run_id)
            assert store.runs() == []
    finally:
        newer.kill()
        newer.wait()


def test_a_run_written_by_another_live_process_stays_running_until_that_process_is_killed(tmp_path):
    path = tmp_path / "runs.sqlite"
    with subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys
        from learnscope.store import RunStore
        store = RunStore(sys.argv[1])
        print(store.create_run("live elsewhere"), flush=True)
        sys.stdin.read()
    """), str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))) as writer:
        try:
            run_id = int(writer.stdout.readline())
            with RunStore(path) as store:
                assert store.run(run_id)["status"] == "running"
                with pytest.raises(RuntimeError, match=f"still being written by process {writer.pid}"):
                    store.delete_run(run_id)
        finally:
            writer.kill()
    with RunStore(path) as store:
        assert store.run(run_id)["status"] == "interrupted"


def test_a_store_written_before_runs_kept_their_process_opens_and_gains_the_column(tmp_path):
    path = tmp_path / "runs.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executescript("""
            CREATE TABLE schema_version (version INTEGER NOT NULL);
            INSERT INTO schema_version VALUES (1);
            CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL,
                               config TEXT NOT NULL, dataset TEXT, architecture TEXT NOT NULL, created REAL NOT NULL,
                               updated REAL NOT NULL, pid INTEGER);
            INSERT INTO runs (name, status, config, architecture, created, updated, pid)
                VALUES ('old and orphaned', 'running', '{}', '[]', 0, 0, -1);
        """)
    with RunStore(path) as store:
        (old,) = store.runs()
        assert old["name"] == "old and orphaned" and old["status"] == "interrupted"
        new_id = store.create_run("new")
        assert store.run(new_id)["status"] == "running"
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT process FROM runs WHERE id = ?", (new_id,)).fetchone()[0] is not None


def test_a_full_disk_is_named_and_the_store_stays_readable(small_disk):
    path = small_disk / "runs.sqlite"
    killed_writer = textwrap.dedent(f"""
        import os
        from learnscope.store.runs import RunStore
        store = RunStore({str(path)!r})
        store.create_run("killed mid-run")
        store.flush()
        os._exit(9)
    """)
    subprocess.run([sys.executable, "-c", killed_writer], check=False)
    with contextlib.suppress(OSError), open(small_disk / "filler", "wb") as filler:
        while True:                                      # until ENOSPC: the disk is full
            filler.write(b"\0" * 4096)
            filler.flush()
    # opening marks the dead writer's run interrupted, which needs space: without it the store still opens
    # (before, a failed COMMIT and a ROLLBACK of nothing called a healthy store corrupted)
    store = RunStore(path, flush_rows=10**9)
    try:
        runs = store.runs()
        assert [(run["name"], run["status"]) for run in runs] == [("killed mid-run", "running")]
        for step in range(20_000):                       # and writing more says why it fails
            store.log_metrics(runs[0]["id"], step, {"loss": 1.0})
        with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
            store.flush()
    finally:
        with contextlib.suppress(sqlite3.Error):
            store.close()
