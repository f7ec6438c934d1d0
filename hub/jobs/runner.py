"""Jobs that must run once for all hub workers and machines: retention purge, trust publishing, the
audit log's signed tree heads.

Every worker runs the same small scheduler (`schedule`); when a job is due, each tries to run it, and
the database decides who does:

* PostgreSQL: `pg_try_advisory_xact_lock` on the job's key. A worker that does not get it skips this
  round; the lock is the transaction's, so it goes with a commit, a rollback or a dead connection.
* SQLite: the job's row in `job_runs`, written first, takes the database's write lock for the whole
  transaction (SQLite has one writer); a worker that cannot get it in time skips this round.

Under the lock the worker re-reads `job_runs.last_run_at`: another worker that ran the job a moment ago
has made it not due any more, so two workers that were both due run it once. The job's work and its
`job_runs` row commit in one transaction, so a worker killed mid-job leaves neither (the database rolls
the transaction back) and the job is still due for the next worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hub.context import context_of
from hub.db import pg_advisory_lock, utcnow
from hub.models.jobs import JobRun

log = logging.getLogger(__name__)

WORKER = f"{socket.gethostname()}:{os.getpid()}"

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: int
    work: Callable[[Session], object]  # does its work in `db`'s transaction; the runner commits it


def _take_lock(db: Session, name: str) -> bool:
    if db.get_bind().dialect.name == "postgresql":
        if not pg_advisory_lock(db, f"checkpass.job.{name}", wait=False):
            return False
        insert = "INSERT INTO job_runs (name, runs) VALUES (:n, 0) ON CONFLICT (name) DO NOTHING"
        db.execute(text(insert), {"n": name})
        return True
    try:
        # Both statements write, so the transaction holds SQLite's write lock from here to its end.
        db.execute(text("INSERT OR IGNORE INTO job_runs (name, runs) VALUES (:n, 0)"), {"n": name})
        db.execute(text("UPDATE job_runs SET runs = runs WHERE name = :n"), {"n": name})
    except OperationalError:  # "database is locked": another worker holds it past busy_timeout
        db.rollback()
        return False
    return True


def run_if_due(
    sessions: sessionmaker[Session], job: Job, *, now: dt.datetime | None = None, force: bool = False
) -> bool:
    """Run `job` here if it is due and no other worker is running it; True if it ran."""
    now = now or utcnow()
    with sessions() as db:
        try:
            if not _take_lock(db, job.name):
                return False
            row = db.get(JobRun, job.name, populate_existing=True)
            assert row is not None
            due_at = row.last_run_at + dt.timedelta(seconds=job.interval_seconds) if row.last_run_at else None
            if not force and due_at is not None and now < due_at:
                db.rollback()
                return False
            row.last_run_at, row.last_worker, row.runs = now, WORKER, row.runs + 1
            db.flush()
            job.work(db)
            if db.in_transaction():
                db.commit()
            return True
        except BaseException:
            db.rollback()
            raise


def purge_job(interval_seconds: int) -> Job:
    from hub.services.retention import purge_expired

    return Job("retention.purge", interval_seconds, lambda db: purge_expired(db))


def _publish_trust(db: Session) -> None:
    # Each document is stored in its own transaction under its row's lock (hub.jobs.publish), and
    # publishing is idempotent: a run cut short leaves every document either old or new, never half.
    # The run is recorded first: those transactions need SQLite's write lock, which this one holds. So
    # the modules are imported after it is let go: a process's first run took 143 ms against 2 ms for
    # the next (mostly these imports), and every writer of the hub waited for it.
    db.commit()
    from hub.jobs import public_files, publish

    if not context_of(db).root_offline:
        publish.served_bundle(db)  # re-signs when changed or at half validity
    kids = publish.key_list(db).kids
    for kid_hex, counter in publish.counters(db).items():
        if bytes.fromhex(kid_hex) in kids:
            publish.served_status_list(db, kid_hex, counter)
    public_files.sync(db)  # HUB_PUBLIC_DIR: the files catch up with any change nobody synced


def publish_job(interval_seconds: int) -> Job:
    """Keeps the stored bundle and status lists current, so requests find them signed already."""
    return Job("trust.publish", interval_seconds, _publish_trust)


def audit_log_job(interval_seconds: int) -> Job:
    """Signs a head of the audit log's Merkle tree over the events written since the last one."""
    from hub.services.transparency_log import sign_head

    return Job("audit_log.heads", interval_seconds, lambda db: sign_head(db))


def scheduled_jobs(settings: object) -> list[Job]:
    jobs = []
    purge = int(getattr(settings, "purge_interval_seconds", 0))
    if purge > 0:
        jobs.append(purge_job(purge))
    publish = int(getattr(settings, "trust_publish_seconds", 0))
    if publish > 0:
        jobs.append(publish_job(publish))
    heads = int(getattr(settings, "audit_log_head_seconds", 0))
    if heads > 0:
        jobs.append(audit_log_job(heads))
    return jobs


async def schedule(sessions: sessionmaker[Session], jobs: list[Job]) -> None:
    """Each worker's loop: try every job when it may be due. A failed run is logged and retried at the
    next tick; it must not stop the worker serving requests."""
    if not jobs:
        return
    tick = max(1, min(30, *(job.interval_seconds for job in jobs)))
    while True:
        await asyncio.sleep(tick)  # first after a tick: requests publish on demand meanwhile
        for job in jobs:
            try:
                if await finish_even_if_cancelled(asyncio.to_thread(run_if_due, sessions, job)):
                    log.info("job %s ran on %s", job.name, WORKER)
            except Exception:
                log.exception("job %s failed; retried at the next tick", job.name)


async def finish_even_if_cancelled(run: Awaitable[T]) -> T:
    """Await a job run in its thread; when the worker stops meanwhile, wait for the run to end first.

    Cancelling `asyncio.to_thread` does not stop its thread: without this wait, a job could still hold
    a transaction after the app has shut down and its engine was disposed (with PostgreSQL, a lock that
    the next user of the database, e.g. a schema change or a test's TRUNCATE, then waits on for ever).
    The LINE inbox worker's claim (hub.jobs.line_inbox) waits the same way: its leases must be committed
    before the worker frees them at shutdown."""
    future = asyncio.ensure_future(run)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise
