"""PostgreSQL schemas for hub tests: one migrated schema per use, dropped afterwards.

Each pytest run (and the API fuzz module, which keeps one world for many tests) works in a schema of its
own, so concurrent runs and other test modules never see or empty each other's rows.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hub.db import make_engine
from hub.migrations import upgrade_to_head

PG_ENV = "HUB_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@contextlib.contextmanager
def pg_schema(url: str, label: str = "test") -> Iterator[str]:
    """A new schema on the server at `url`, migrated to head; yields a URL whose search_path is it."""
    schema = f"{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    # pool_pre_ping: the schema is dropped at the end of the session, after tests that restart the server
    # (the field rehearsal, tests/deploy/test_field.py) may have closed the pooled connection
    admin = create_engine(
        make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT", pool_pre_ping=True
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = (
        make_url(url)
        .set(drivername="postgresql+psycopg")
        .update_query_dict({"options": f"-csearch_path={schema}"})
    )
    scoped_url = scoped.render_as_string(hide_password=False)
    try:
        engine = make_engine(scoped_url)
        upgrade_to_head(engine)
        engine.dispose()
        yield scoped_url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


_engines: dict[str, Engine] = {}


def truncate_all(url: str) -> None:
    """Empty every table of the schema `url` points at (the migration bookkeeping stays) and restart its
    sequences, as `TRUNCATE ... RESTART IDENTITY` would.

    Why DELETE and not TRUNCATE: TRUNCATE gives each of the ~30 tables a new file, about 0.25 s a test on
    this machine, paid by every PostgreSQL test; deleting the few rows a test wrote takes about 0.01 s.
    Foreign keys are not checked meanwhile (`session_replication_role = replica`, which needs the superuser
    scripts/start-services creates); a role without it falls back to TRUNCATE."""
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = create_engine(url, pool_pre_ping=True)
    with engine.begin() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            if row[0] != "alembic_version"
        ]
        sequences = [
            row[0]
            for row in connection.execute(
                text(
                    "SELECT sequencename FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                )
            )
        ]
        try:
            with connection.begin_nested():
                connection.execute(text("SET LOCAL session_replication_role = replica"))
        except DBAPIError:
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for table in tables:
            connection.execute(text(f'DELETE FROM "{table}"'))
        for sequence in sequences:
            connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
