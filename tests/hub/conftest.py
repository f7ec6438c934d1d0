"""Fixtures for every hub test: a fresh database per test (SQLite always; PostgreSQL when
HUB_TEST_POSTGRES_URL is set), the app, an HTTP client, a file SMS gateway whose codes tests read, keys,
and logged-in users of each role.

PostgreSQL: each pytest run works in its own schema (created, migrated once, dropped at the end), so
runs never see each other's data; each test starts from empty tables (TRUNCATE). In CI (CI=true) the
URL is required: the PostgreSQL half must run there, not skip.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.core.config import Settings
from hub.db import make_engine
from hub.main import create_app
from hub.migrations import upgrade_to_head
from hub.sms import latest_code, read_messages

PG_ENV = "HUB_TEST_POSTGRES_URL"
PASSPHRASE = "test passphrase for the hub keys"
SECRET = "test-hub-secret-0123456789abcdef"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


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
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = (
        make_url(url)
        .set(drivername="postgresql+psycopg")
        .update_query_dict({"options": f"-csearch_path={schema}"})
    )
    scoped_url = scoped.render_as_string(hide_password=False)
    engine = make_engine(scoped_url)
    upgrade_to_head(engine)
    engine.dispose()
    try:
        yield scoped_url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _truncate_all(url: str) -> None:
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
        if _in_ci():
            pytest.fail(f"CI=true but {PG_ENV} is not set: the PostgreSQL tests must run in CI")
        pytest.skip(f"PostgreSQL not configured ({PG_ENV})")
    _truncate_all(_pg_schema_url)
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
        purge_interval_seconds=0,
        base_url="http://testserver",
        # tests ask for many codes from one address; the per-address caps get their own test
        otp_hourly_cap_per_ip=10_000,
        otp_daily_cap_per_ip=10_000,
        otp_resend_cooldown_seconds=0,
        _env_file=None,  # a developer's .env must not leak into tests
    )


@pytest.fixture
def app(settings: Settings) -> Any:
    application = create_app(settings)
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


@dataclass
class SmsOutbox:
    """What the file SMS gateway 'delivered': the tests' stand-in for people's phones."""

    path: Path

    def messages(self, mobile_e164: str | None = None) -> list[dict[str, str]]:
        return [m for m in read_messages(self.path) if mobile_e164 is None or m["to"] == mobile_e164]

    def code(self, mobile_e164: str) -> str:
        found = latest_code(self.path, mobile_e164)
        assert found is not None, f"no code was sent to {mobile_e164}"
        return found

    def initial_password(self, mobile_e164: str) -> str:
        for message in reversed(self.messages(mobile_e164)):
            if "密碼" in message["text"]:
                return message["text"].split("：", 1)[1].split()[0]
        raise AssertionError(f"no initial password was sent to {mobile_e164}")


@pytest.fixture
def sms(sms_path: Path) -> SmsOutbox:
    return SmsOutbox(sms_path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Hub:
    """Shortcuts that drive the hub through its HTTP API, as a user would."""

    client: TestClient
    sms: SmsOutbox
    db: Session

    def request_code(self, mobile: str, purpose: str = "login") -> str:
        response = self.client.post("/api/v1/otp/request", json={"mobile": mobile, "purpose": purpose})
        assert response.status_code == 200, response.text
        return self.sms.code(mobile)

    def password_login(self, mobile: str, password: str) -> dict[str, Any]:
        response = self.client.post("/api/v1/auth/login", json={"mobile": mobile, "password": password})
        assert response.status_code == 200, response.text
        return response.json()

    def console_login(self, mobile: str, new_password: str = "N3w-password!") -> str:
        """Log in with the SMS'd initial password, change it, and return a usable token."""
        first = self.password_login(mobile, self.sms.initial_password(mobile))
        assert first["must_change_password"] is True
        changed = self.client.post(
            "/api/v1/auth/password",
            json={"current_password": self.sms.initial_password(mobile), "new_password": new_password},
            headers=bearer(first["token"]),
        )
        assert changed.status_code == 204, changed.text
        return first["token"]

    def sms_login(self, mobile: str, **choose: Any) -> str:
        code = self.request_code(mobile, "login")
        response = self.client.post("/api/v1/auth/sms-login", json={"mobile": mobile, "code": code, **choose})
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def super_admin_token(self, mobile: str = "+886911000001") -> str:
        from hub.services.bootstrap import create_super_admin

        create_super_admin(self.db, mobile, "總管理者")
        return self.console_login(mobile)

    def create_general_admin(self, token: str, mobile: str, permissions: list[str]) -> str:
        response = self.client.post(
            "/api/v1/admins",
            json={"mobile": mobile, "name": "一般管理者", "permissions": permissions},
            headers=bearer(token),
        )
        assert response.status_code == 201, response.text
        return self.console_login(mobile)

    def create_station(self, token: str, name: str = "板橋分局") -> dict[str, Any]:
        response = self.client.post(
            "/api/v1/stations",
            json={
                "name": name,
                "address": "新北市板橋區漢生東路21號",
                "contact_name": "王小明",
                "contact_phone": "0229603456",
            },
            headers=bearer(token),
        )
        assert response.status_code == 201, response.text
        return response.json()

    def station_admin_token(self, super_token: str, station_id: int, mobile: str = "+886922000001") -> str:
        response = self.client.post(
            "/api/v1/station-admins",
            json={"name": "林警官", "mobile": mobile, "national_id": "A123456789", "station_id": station_id},
            headers=bearer(super_token),
        )
        assert response.status_code == 201, response.text
        return self.sms_login(mobile, role="station_admin")

    def register_enterprise(
        self, mobile: str = "+886933000001", ubn: str = "28010606", name: str = "艾斯移動股份有限公司"
    ) -> tuple[str, dict[str, Any]]:
        code = self.request_code(mobile, "enterprise_registration")
        response = self.client.post(
            "/api/v1/enterprises/register",
            json={
                "company_name": name,
                "ubn": ubn,
                "admin_name": "曾可愛",
                "admin_mobile": mobile,
                "code": code,
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return body["token"], body["enterprise"]


@pytest.fixture
def hub(client: TestClient, sms: SmsOutbox, db: Session) -> Hub:
    return Hub(client=client, sms=sms, db=db)


@pytest.fixture
def super_admin_token(hub: Hub) -> str:
    return hub.super_admin_token()
