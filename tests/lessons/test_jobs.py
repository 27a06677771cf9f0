"""Background jobs: the board's versions, the owner's controls (pause, resume, stop), a failing job's message, and
the turns the playground's tabs train in."""

import dataclasses
import threading
import time

import pytest

from learnscope.lessons.jobs import BackgroundJob, JobControl, SnapshotBoard, TakeTurns


def test_board_hands_out_each_version_once_per_reader():
    board = SnapshotBoard()
    assert board.latest() is None and board.version == 0
    before = time.time()
    assert board.publish({"step": 1}) == 1
    first = board.latest()
    assert first["step"] == 1 and first["version"] == 1 and before <= first["wall_time"] <= time.time()
    assert board.latest(since_version=1) is None            # unchanged: the poller skips it
    board.publish({"step": 2})
    assert board.latest(since_version=1)["step"] == 2
    assert first["step"] == 1                                # published snapshots are never changed afterwards


def test_board_versions_stay_in_order_under_concurrent_publishers():
    board = SnapshotBoard()
    threads = [threading.Thread(target=lambda: [board.publish({"n": i}) for i in range(200)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert board.version == 800 and board.latest()["version"] == 800


def test_a_dataclass_snapshot_gets_its_version_field_set():
    @dataclasses.dataclass(frozen=True)
    class View:
        version: int
        text: str

    board = SnapshotBoard()
    board.publish(View(0, "a"))
    board.publish(View(0, "b"))
    assert board.latest() == View(2, "b")


class Counter(BackgroundJob):
    """Counts while running, one step every millisecond, honouring the controls between steps."""

    def __init__(self, fail_at=None):
        super().__init__("counter")
        self.fail_at = fail_at
        self.held = threading.Event()          # set when it saw the pause and stopped between steps

    def run(self):
        count = 0
        while not self.control.stop_requested:
            if self.control.paused:
                self.held.set()
            self.control.wait_while_paused()
            count += 1
            if count == self.fail_at:
                raise ZeroDivisionError("a bug in the work")
            self.publish({"status": "running", "count": count})
            time.sleep(0.001)
        self.publish({"status": "stopped", "count": count})


def _wait_for(condition, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_a_job_pauses_resumes_and_stops_between_steps():
    job = Counter().start()
    assert job.running and _wait_for(lambda: (job.latest() or {}).get("count", 0) >= 3)
    job.pause()
    assert job.paused
    assert job.held.wait(10)                                # a step under way when pausing may still publish
    held = job.latest()["count"]
    time.sleep(0.1)
    assert job.latest()["count"] == held                    # nothing moves while paused
    job.resume()
    assert _wait_for(lambda: job.latest()["count"] > held)
    job.pause()
    job.stop(wait=True, timeout=10)                         # a paused job wakes up to stop
    assert not job.running and job.latest()["status"] == "stopped"


def test_a_job_runs_once_and_refuses_a_second_start():
    job = Counter().start()
    with pytest.raises(RuntimeError, match="already running"):
        job.start()
    job.stop(wait=True)
    with pytest.raises(RuntimeError, match="has run already"):
        job.start()


def test_a_bug_in_the_work_ends_the_job_with_a_message_not_a_dead_thread():
    job = Counter(fail_at=3).start()
    assert job.wait(timeout=10)
    final = job.latest()
    assert final["status"] == "failed" and "ZeroDivisionError: a bug in the work" in final["message"]


def test_a_control_paused_before_stop_is_released_by_stop_and_stop_blocks_later_pauses():
    control = JobControl()
    control.pause()
    assert control.paused and not control.wait_while_paused(timeout=0.01)
    released = threading.Event()
    waiter = threading.Thread(target=lambda: (control.wait_while_paused(), released.set()))
    waiter.start()
    control.stop()
    waiter.join(timeout=5)
    assert released.is_set() and control.stop_requested
    control.pause()
    assert not control.paused                               # after stop, the work must be free to finish


def test_turns_go_one_at_a_time_in_the_order_asked_and_a_returning_holder_queues_behind_the_others():
    turns, order, inside = TakeTurns(), [], []
    release_first = threading.Event()

    def take_turn(name, hold=None):
        with turns.turn():
            inside.append(name)
            assert len(inside) == 1, inside                 # never two holders at once
            order.append(name)
            if hold:
                hold.wait(5)
            inside.remove(name)

    def first_then_again():                                 # a tab that asks again the moment its slice ends
        take_turn("first", release_first)
        take_turn("first again")

    first = threading.Thread(target=first_then_again)
    first.start()
    assert _wait_for(lambda: order == ["first"])
    others = []
    for queued, name in enumerate(("second", "third"), start=2):     # queue up one after the other
        others.append(threading.Thread(target=take_turn, args=(name,)))
        others[-1].start()
        assert _wait_for(lambda queued=queued: turns.waiting == queued)
    release_first.set()
    for thread in (first, *others):
        thread.join(5)
    assert order == ["first", "second", "third", "first again"]
    assert turns.waiting == 0
