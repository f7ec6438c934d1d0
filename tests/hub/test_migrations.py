"""Alembic: the migrations build the same schema as the models (column types included: a changed
type or length fails here), and go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import hub.models  # noqa: F401
from hub.db import Base, make_engine
from hub.migrations import downgrade_to_base, upgrade_to_head


def test_migrations_match_models_and_round_trip(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
            )
        assert diff == [], diff
        downgrade_to_base(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_to_head(engine)
        assert {"users", "passes", "audit_events", "visits"} <= set(inspect(engine).get_table_names())
        upgrade_to_head(engine)  # idempotent
    finally:
        engine.dispose()
