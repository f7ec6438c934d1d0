"""One transaction per command: the one place that commits or rolls back.

A REST request, a CLI command, a LINE event or a console form is one unit of work. Services add, change
and flush rows in the session they are given but never commit; the front end opens a unit of work around
the whole command, so either everything the command did is stored or nothing is. Audit entries a refusal
asks to keep (`DomainError.audited`) are written after the rollback, in their own commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from hub.db import pg_advisory_lock
from hub.services import audit
from hub.services.errors import DomainError

# A request that repeats one done this recently is the same intent (a double tap, a resend after a lost
# answer): it is answered with the first one's result and does nothing again. Short enough that a person
# who really means it a second time (a new visit, more venue codes) is not mistaken for a repeat.
REPEAT_WINDOW = dt.timedelta(minutes=2)


def serialise(db: Session, key: str) -> None:
    """Hold `key` until this unit of work ends: a second command on the same key (a double tap, two
    admins at once) waits for the first to commit and then reads what it did. Call it before reading
    what the command decides on.

    PostgreSQL: a transaction-level advisory lock on the key, on every worker and machine. SQLite: the
    database's write lock, taken now (`BEGIN IMMEDIATE`) unless this transaction already holds it; the
    driver opens transactions only at the first write, so the reads that follow see the other's commit."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        pg_advisory_lock(db, key)
    elif dialect == "sqlite":
        driver = db.connection().connection.driver_connection
        if driver is not None and not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")


def finish(db: Session, error: BaseException | None) -> None:
    """End the command's transaction: commit when it succeeded, else roll back (and keep its audit)."""
    if error is None:
        db.commit()
        return
    db.rollback()
    if isinstance(error, DomainError) and error.keep:
        for entry in error.keep:
            audit.record(db, **entry)
        db.commit()


def finish_and_close(db: Session, error: BaseException | None) -> None:
    """`finish`, then give the connection back, in one call (the REST unit of work makes this its one
    trip to the thread pool)."""
    try:
        finish(db, error)
    finally:
        db.close()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed when the block ends normally, rolled back when it raises."""
    with factory() as db:
        try:
            yield db
        except BaseException as exc:
            finish(db, exc)
            raise
        finish(db, None)
