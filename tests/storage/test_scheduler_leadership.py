"""Only one process runs scheduled jobs; another takes over when the leader goes away."""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.scheduler import JobSpec, Leadership, SchedulerRunner
from storage.db import make_engine


def once_at(moment: datetime) -> IntervalTrigger:
    # A one-off DateTrigger job removes itself after running, which races with the scheduler
    # being shut down at the end of a test; an hourly job first due at `moment` does not.
    return IntervalTrigger(hours=1, start_date=moment)


def test_on_postgresql_one_process_leads_and_another_takes_over(pg_schema_url: str) -> None:
    engines: list[Engine] = [make_engine(pg_schema_url) for _ in range(2)]
    first, second = Leadership(engines[0]), Leadership(engines[1])
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.still_held()
        first.release()  # the leader stops (or dies: closing the connection has the same effect)
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
        for engine in engines:
            engine.dispose()


def test_only_the_leader_runs_jobs(pg_schema_url: str) -> None:
    runs: list[str] = []
    engines = [make_engine(pg_schema_url) for _ in range(2)]

    def jobs_for(name: str) -> list[JobSpec]:
        at = datetime.now(UTC) + timedelta(milliseconds=200)
        return [JobSpec("probe", once_at(at), lambda: runs.append(name))]

    stop = threading.Event()
    runners = [
        SchedulerRunner(engine, functools.partial(jobs_for, f"p{i}"), retry_s=0.05)
        for i, engine in enumerate(engines)
    ]
    threads = [threading.Thread(target=r.run_forever, args=(stop,)) for r in runners]
    for thread in threads:
        thread.start()
    try:
        # Either may win: wait for whichever leads (waiting on each in turn waited 5 s on a loser).
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while not any(r.leading.is_set() for r in runners):
            assert datetime.now(UTC) < deadline, "no runner took the lead"
            stop.wait(0.02)
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while not runs and datetime.now(UTC) < deadline:
            stop.wait(0.05)
        stop.wait(0.5)
        assert len(runs) == 1
        assert sum(r.leading.is_set() for r in runners) == 1
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        for engine in engines:
            engine.dispose()


def test_a_failing_job_does_not_stop_the_scheduler(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    runs: list[str] = []
    soon = datetime.now(UTC) + timedelta(milliseconds=100)

    def boom() -> None:
        raise RuntimeError("job failure")

    runner = SchedulerRunner(
        engine,
        lambda: [
            JobSpec("bad", once_at(soon), boom),
            JobSpec("good", once_at(soon), lambda: runs.append("ok")),
        ],
        retry_s=0.05,
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,))
    thread.start()
    try:
        assert runner.leading.wait(10)
        for _ in range(200):
            if runs:
                break
            stop.wait(0.05)
        assert runs == ["ok"], (
            f"good job did not run; jobs: {runner.scheduler.get_jobs() if runner.scheduler else None}"
        )
    finally:
        stop.set()
        thread.join(5)
        engine.dispose()
