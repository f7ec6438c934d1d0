"""Fixtures for every hub test: a fresh database per test (SQLite always; PostgreSQL when
HUB_TEST_POSTGRES_URL is set), the app, an HTTP client, a file SMS gateway whose codes tests read, keys,
and logged-in users of each role.

PostgreSQL: each pytest run works in its own schema (created, migrated once, dropped at the end), so
runs never see each other's data; each test starts from empty tables (TRUNCATE). In CI (CI=true) the
URL is required: the PostgreSQL half must run there, not skip.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.core.config import Settings
from hub.db import make_engine
from hub.main import create_app
from hub.migrations import upgrade_to_head
from tests.ci import in_ci
from tests.hub.databases import PG_ENV, pg_schema, postgres_url, truncate_all
from tests.hub.hubkit import PASSPHRASE, SECRET, Hub, SmsOutbox


def _backends() -> list[Any]:
    params: list[Any] = [pytest.param("sqlite", id="sqlite")]
    params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    return params


# --- database templates, built once per session ---


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hub-template") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    connection = sqlite3.connect(path)  # fold the WAL into the main file so a plain copy is complete
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


@pytest.fixture(scope="session")
def _pg_schema_url() -> Iterator[str | None]:
    url = postgres_url()
    if url is None:
        yield None
        return
    with pg_schema(url) as scoped_url:
        yield scoped_url


@pytest.fixture(params=_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path, _pg_schema_url: str | None
) -> str:
    """A migrated, empty database for this test: a copy of the SQLite template, or the run's PG schema
    with every table emptied."""
    if request.param == "sqlite":
        path = tmp_path / "hub.db"
        shutil.copyfile(_sqlite_template, path)
        return f"sqlite:///{path}"
    if _pg_schema_url is None:
        if in_ci():
            pytest.fail(f"CI is set but {PG_ENV} is not set: the PostgreSQL tests must run in CI")
        pytest.skip(f"PostgreSQL not configured ({PG_ENV})")
    truncate_all(_pg_schema_url)
    return _pg_schema_url


# --- keys: one KeyStore per session, copied for each test that needs it ---


@pytest.fixture(scope="session")
def _keys_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from provisioning.keystore import KeyStore

    directory = tmp_path_factory.mktemp("keys-template") / "keys"
    KeyStore(directory, PASSPHRASE).init()
    return directory


@pytest.fixture
def keys_dir(tmp_path: Path, _keys_template: Path) -> Path:
    """A KeyStore directory (root + one active issuer key) that this test may change."""
    target = tmp_path / "keys"
    shutil.copytree(_keys_template, target)
    return target


# --- settings, app, client ---


@pytest.fixture
def sms_path(tmp_path: Path) -> Path:
    return tmp_path / "sms.jsonl"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, sms_path: Path) -> Settings:
    """Test settings. Keys live in tmp_path/keys: use the `keys_dir` fixture to have them created."""
    return Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase=PASSPHRASE,
        secret_key=SECRET,
        sms_gateway="file",
        sms_file_path=sms_path,
        # No scheduled jobs in tests: a live server of one test (a thread serving the browser tests) would
        # otherwise publish into the PostgreSQL schema every test shares; the job tests run jobs directly.
        purge_interval_seconds=0,
        trust_publish_seconds=0,
        audit_log_head_seconds=0,
        base_url="http://testserver",
        # tests ask for many codes from one address; the per-address caps get their own test
        otp_hourly_cap_per_ip=10_000,
        otp_daily_cap_per_ip=10_000,
        otp_resend_cooldown_seconds=0,
        _env_file=None,  # a developer's .env must not leak into tests
    )


@pytest.fixture
def app(settings: Settings) -> Any:
    # the database is migrated already (`database_url`): asking Alembic again cost 20-50 ms a test
    application = create_app(settings, migrate=False)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def db(app: Any) -> Iterator[Session]:
    """A session on the test's database (made by the app, so services find settings and SMS on it)."""
    with app.state.sessionmaker() as session:
        yield session


@pytest.fixture
def sms(sms_path: Path) -> SmsOutbox:
    return SmsOutbox(sms_path)


@pytest.fixture
def hub(client: TestClient, sms: SmsOutbox, db: Session) -> Hub:
    return Hub(client=client, sms=sms, db=db)


@pytest.fixture
def super_admin_token(hub: Hub) -> str:
    return hub.super_admin_token()
