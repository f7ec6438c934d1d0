"""PostgreSQL schemas for hub tests: one migrated schema per use, dropped afterwards.

Each pytest run (and the API fuzz module, which keeps one world for many tests) works in a schema of its
own, so concurrent runs and other test modules never see or empty each other's rows.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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


def truncate_all(url: str) -> None:
    """Empty every table of the schema `url` points at (the migration bookkeeping stays)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            if row[0] != "alembic_version"
        ]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
