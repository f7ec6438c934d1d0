"""A hub's PostgreSQL advisory locks are its schema's own (hub.db.pg_advisory_lock): advisory locks are
one space per database, and two hubs on one database in different schemas must not wait for each
other's keys, while two sessions of one hub must."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.db import pg_advisory_lock
from tests.ci import in_ci
from tests.hub.databases import PG_ENV, postgres_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_schemas():
    url = postgres_url()
    if url is None:
        if in_ci():
            pytest.fail(f"CI is set but {PG_ENV} is not set")
        pytest.skip(f"PostgreSQL not configured ({PG_ENV})")
    base = make_url(url).set(drivername="postgresql+psycopg")
    names = [f"locks_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    engines = [create_engine(base.update_query_dict({"options": f"-csearch_path={n}"})) for n in names]
    yield engines
    for engine in engines:
        engine.dispose()
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


def test_a_key_held_in_one_schema_is_free_in_another_and_held_in_its_own(two_schemas):
    first, second = two_schemas
    with Session(first) as holder, Session(second) as other, Session(first) as same_hub:
        assert pg_advisory_lock(holder, "passes:1")
        assert pg_advisory_lock(other, "passes:1", wait=False)  # another hub: not its lock
        assert not pg_advisory_lock(same_hub, "passes:1", wait=False)  # the same hub: held
        assert pg_advisory_lock(same_hub, "passes:2", wait=False)  # another key: free
        holder.rollback()  # the lock ends with the transaction
        same_hub.rollback()
        assert pg_advisory_lock(same_hub, "passes:1", wait=False)
