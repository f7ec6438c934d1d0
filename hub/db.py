"""Database engine and sessions (SQLAlchemy 2, sync; FastAPI runs sync endpoints in a threadpool).

SQLite is the embedded default and runs in WAL mode so readers never block the writer; PostgreSQL
(psycopg 3) serves a hub spread over several machines. Both go through the same models and migrations.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from hub.sqlite_queue import QueuedWriters

# Stable constraint names so that Alembic migrations can refer to them on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every dialect (SQLite would otherwise hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: concurrent readers with one writer; busy_timeout: wait for the writer instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(
        "PRAGMA synchronous=NORMAL"
    )  # durable in WAL mode except for the last commit on power loss
    cursor.close()


def make_engine(database_url: str, *, echo: bool = False) -> Engine:
    """An engine for `database_url`, creating the SQLite file's directory if needed."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            path = Path(url.database).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            # The file holds personal data: readable by the hub's user only. SQLite gives its -wal and
            # -shm files the database file's permissions, so creating it 0600 covers those too.
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        # pysqlite's own transaction handling is kept on purpose: it opens a transaction only at the first
        # write, so a request's reads never hold a snapshot that a later write would have to upgrade (in WAL
        # that fails at once with "database is locked" when another writer committed in between), and it
        # never takes the write lock for a read-only request. Writers wait in a queue (hub/sqlite_queue.py).
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 10}
        if url.database and url.database != ":memory:":
            connect_args["factory"] = QueuedWriters  # writers wait in a queue (hub/sqlite_queue.py says why)
        engine = create_engine(url, echo=echo, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", "psycopg2cffi"):
        raise ValueError("use postgresql+psycopg:// (psycopg 3) for the hub database")
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # No pool_pre_ping: its round trip before every checkout was ~1 ms of the hub's CPU per request
    # (docs/deploy.md). A connection the server dropped costs one fast 503 instead (hub/middleware.py),
    # after which SQLAlchemy recycles every older connection of the pool; pool_recycle retires
    # connections before a firewall or PgBouncer's idle timeout would cut them silently.
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_recycle=1800)


def pg_advisory_lock(db: Session, key: str, *, wait: bool = True) -> bool:
    """PostgreSQL: hold the transaction-level advisory lock on `key` until this transaction ends (with
    `wait=False`, only if it is free now; says whether it was taken).

    Advisory locks are one space per database, not per schema: the key is made with the schema the hub
    works in, so two hubs on one database in different schemas (a staging beside production, parallel
    test runs) never wait for each other's locks."""
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    taken = db.execute(
        text(f"SELECT {function}(hashtextextended(current_schema() || ':' || :k, 0))"), {"k": key}
    ).scalar()
    return wait or bool(taken)
