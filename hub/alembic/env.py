"""Alembic environment: runs on a connection handed in by hub.migrations, or on HUB_DATABASE_URL."""

from __future__ import annotations

from alembic import context

import hub.models  # noqa: F401  (registers every table on Base.metadata for autogenerate)
from hub.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from hub.core.config import Settings

    url = config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
