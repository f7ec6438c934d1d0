"""A real hub for the checkpoint's sync tests: uvicorn on loopback, `hub.main:create_app`, a temp SQLite DB.

The device side talks to it over HTTP only. The admin side (a station, a duty officer, an admin's
bearer token) is written straight into the hub's database, as the hub's own device tests do: the
console flows that create those have their own tests.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine

REPO = Path(__file__).resolve().parents[2]
PASSPHRASE = "test passphrase for the hub keys"
SECRET = "test-hub-secret-0123456789abcdef"
OFFICER_NAME = "林志華"
OFFICER_MOBILE = "0912345678"
OFFICER_MOBILE_E164 = "+886912345678"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveHub:
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _engine: Engine | None = None
    _admin_token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.workdir / "hub.db"

    @property
    def sms_path(self) -> Path:
        return self.workdir / "sms.jsonl"

    @property
    def keys_dir(self) -> Path:
        return self.workdir / "keys"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(
            {
                "HUB_DATABASE_URL": f"sqlite:///{self.db_path}",
                "HUB_KEYS_DIR": str(self.keys_dir),
                "HUB_KEY_PASSPHRASE": PASSPHRASE,
                "HUB_SECRET_KEY": SECRET,
                "HUB_SMS_GATEWAY": "file",
                "HUB_SMS_FILE_PATH": str(self.sms_path),
                "HUB_PURGE_INTERVAL_SECONDS": "0",
                "HUB_BASE_URL": self.url,
                "HUB_OTP_RESEND_COOLDOWN_SECONDS": "0",
                "HUB_OTP_HOURLY_CAP_PER_IP": "10000",
                "HUB_OTP_DAILY_CAP_PER_IP": "10000",
                "PYTHONPATH": str(REPO),
            }
        )
        return env

    # -- set-up --------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Keys and a migrated database, made once; the server can then start and stop many times."""
        from hub.db import make_engine
        from hub.migrations import upgrade_to_head
        from provisioning.keystore import KeyStore

        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.keys_dir.exists():
            KeyStore(self.keys_dir, PASSPHRASE).init()
        self._engine = make_engine(f"sqlite:///{self.db_path}")
        upgrade_to_head(self._engine)

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "prepare() first"
        return self._engine

    def start(self, timeout: float = 90.0) -> None:  # a loaded CI machine starts uvicorn slowly
        assert self.process is None, "already running"
        log = open(self.workdir / "uvicorn.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "hub.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=self.workdir,  # no developer .env from the repo
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub did not come up: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None

    def close(self) -> None:
        self.stop()
        if self._engine is not None:
            self._engine.dispose()

    def log_tail(self) -> str:
        path = self.workdir / "uvicorn.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # -- admin side, straight into the hub's database ---------------------------------------------------
    def settings(self) -> Any:
        from hub.core.config import Settings

        env = self.env()
        return Settings(
            database_url=env["HUB_DATABASE_URL"],
            keys_dir=self.keys_dir,
            key_passphrase=PASSPHRASE,
            secret_key=SECRET,
            sms_gateway="file",
            sms_file_path=self.sms_path,
            purge_interval_seconds=0,
            base_url=self.url,
            _env_file=None,
        )

    def session(self) -> Any:
        """A session carrying the hub's context, as the app's own sessions do (services need it)."""
        from hub.context import HubContext, make_sessionmaker

        return make_sessionmaker(self.engine, HubContext.from_settings(self.settings()))()

    def revoke(self, kid_hex: str, serial: int) -> int:
        from hub.services.trust import revoke_serial

        with self.session() as db:
            counter = revoke_serial(db, kid_hex, serial)
            db.commit()
        return counter

    def add_station_with_officer(self) -> int:
        from hub.models.organisations import Organisation, OrgKind
        from hub.models.rosters import Officer

        with self.session() as db:
            station = Organisation(kind=OrgKind.STATION.value, name="板橋分局")
            db.add(station)
            db.flush()
            db.add(
                Officer(
                    station_id=station.id,
                    name=OFFICER_NAME,
                    officer_number="A001",
                    mobile=OFFICER_MOBILE_E164,
                )
            )
            db.commit()
            return int(station.id)

    def admin_headers(self) -> dict[str, str]:
        if self._admin_token is None:
            self._admin_token = self._make_admin_token()
        return {"Authorization": f"Bearer {self._admin_token}"}

    def _make_admin_token(self) -> str:
        from hub.core.protection import token_hash
        from hub.db import utcnow
        from hub.models.identity import ApiToken, Role, User

        with self.session() as db:
            user = User(mobile="+886900000001", name="管理者", role=Role.SUPER_ADMIN.value, permissions=[])
            db.add(user)
            db.flush()
            token = secrets.token_urlsafe(24)
            db.add(
                ApiToken(
                    token_hash=token_hash(token), user_id=user.id, expires_at=utcnow() + dt.timedelta(hours=2)
                )
            )
            db.commit()
        return token

    def enrolment_text(self, station_id: int | None = None) -> str:
        response = httpx.post(
            f"{self.url}/api/v1/devices/enrolment-tokens",
            json={"station_id": station_id} if station_id is not None else None,
            headers=self.admin_headers(),
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["enrolment_text"])

    def sms_code(self, mobile_e164: str = OFFICER_MOBILE_E164) -> str:
        from hub.sms import latest_code

        code = latest_code(self.sms_path, mobile_e164)
        assert code is not None, "no SMS code sent"
        return code

    def active_issuer(self) -> Any:
        from provisioning.keystore import KeyStore

        return KeyStore(self.keys_dir, PASSPHRASE).active_issuer()

    def scans(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT event_id, device_id, seq, ok, reason FROM scans")
            ).mappings()
            return [dict(r) for r in rows]

    def copy_db(self, target: Path) -> None:
        shutil.copyfile(self.db_path, target)
