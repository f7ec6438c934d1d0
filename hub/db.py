"""Database engine and sessions (SQLAlchemy 2, sync; FastAPI runs sync endpoints in a threadpool).

SQLite is the embedded default and runs in WAL mode so readers never block the writer; PostgreSQL
(psycopg 3) serves a hub spread over several machines. Both go through the same models and migrations.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from starlette.concurrency import run_in_threadpool

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
        # never takes the write lock for a read-only request. Writers queue on busy_timeout.
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", "psycopg2cffi"):
        raise ValueError("use postgresql+psycopg:// (psycopg 3) for the hub database")
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work (hub.services.unit_of_work): one session bound to this app's engine,
    committed once after the endpoint returns and before the answer is sent (the dependency's "function"
    scope), rolled back if anything raised. Routes and services never commit.

    An async generator on purpose: making the session does no I/O, so it costs no trip to the thread
    pool (a plain generator dependency makes two); the commit or rollback and the close, which do I/O
    and may wait for SQLite's write lock, run together in one thread-pool call, shielded from the
    request's cancellation so that a client hanging up never leaves a connection checked out."""
    from hub.services.unit_of_work import finish_and_close

    factory: sessionmaker[Session] = request.app.state.sessionmaker
    db = factory()
    try:
        yield db
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(finish_and_close, db, exc)
        raise
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(finish_and_close, db, None)


SessionDep = Annotated[Session, Depends(get_db, scope="function")]
