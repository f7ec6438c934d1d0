"""hub.jobs.runner: a due job runs on one worker only, and a run that fails leaves nothing behind.
Two sessions on two engines stand for two workers; SQLite and PostgreSQL (the `database_url`
fixture)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hub.context import make_sessionmaker
from hub.db import make_engine, utcnow
from hub.jobs.runner import Job, run_if_due
from hub.models.audit import AuditEvent
from hub.models.jobs import JobRun
from hub.services import audit


def _two_workers(app: Any, database_url: str) -> list[Any]:
    engines = [make_engine(database_url) for _ in range(2)]
    return [make_sessionmaker(e, app.state.context) for e in engines]


def _slow_job(name: str, ran: list[str]) -> Job:
    def work(db: Session) -> None:
        ran.append(threading.current_thread().name)
        audit.record(db, "test.job", target=name)
        time.sleep(0.5)  # long enough for the other worker to arrive while this one holds the lock

    return Job(name, 3600, work)


def test_a_due_job_runs_once_when_two_workers_try_at_once(app: Any, database_url: str, db: Session) -> None:
    workers = _two_workers(app, database_url)
    ran: list[str] = []
    job = _slow_job("test.once", ran)
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}

    def worker(index: int) -> None:
        barrier.wait()
        results[f"w{index}"] = run_if_due(workers[index], job)

    threads = [threading.Thread(target=worker, args=(i,), name=f"w{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [False, True] and len(ran) == 1
    db.expire_all()
    assert db.get(JobRun, "test.once").runs == 1
    assert db.scalar(select(func.count()).where(AuditEvent.action == "test.job")) == 1
    # Not due again until its interval has passed; then it runs again.
    assert run_if_due(workers[0], job) is False
    later = utcnow() + dt.timedelta(seconds=3601)
    assert run_if_due(workers[1], job, now=later) is True and len(ran) == 2
    for maker in workers:
        maker.kw["bind"].dispose()


def test_a_failed_run_leaves_nothing_and_stays_due(app: Any, database_url: str, db: Session) -> None:
    workers = _two_workers(app, database_url)

    def dies_midway(session: Session) -> None:
        audit.record(session, "test.half_done")
        session.flush()
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        run_if_due(workers[0], Job("test.dies", 3600, dies_midway))
    db.expire_all()
    assert db.scalar(select(func.count()).where(AuditEvent.action == "test.half_done")) == 0
    row = db.get(JobRun, "test.dies")
    assert row is None or (row.runs == 0 and row.last_run_at is None)
    # The next worker finds it still due and runs it.
    assert run_if_due(workers[1], Job("test.dies", 3600, lambda s: None)) is True
    db.expire_all()
    assert db.get(JobRun, "test.dies").runs == 1
    for maker in workers:
        maker.kw["bind"].dispose()


def test_scheduled_purge_records_its_run(app: Any, db: Session) -> None:
    from hub.jobs.runner import purge_job

    assert run_if_due(app.state.sessionmaker, purge_job(3600)) is True
    db.expire_all()
    row = db.get(JobRun, "retention.purge")
    assert row.runs == 1 and row.last_worker
    assert db.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'retention.purge'")) == 1
