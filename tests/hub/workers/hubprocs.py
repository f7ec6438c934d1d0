"""Real hub processes on one PostgreSQL, for the multi-worker tests (docs/deploy.md).

Each `HubProcess` is `uvicorn hub.main:create_worker_app` in its own interpreter, as one worker of
`checkpass hub serve --workers N` (or one machine) runs it; they share a database schema, a key store
and the hub secret, nothing else.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crypto.keys import KeyPair
from hub.core.protection import token_hash
from hub.db import make_engine, utcnow
from hub.migrations import upgrade_to_head
from hub.models.devices import EnrolmentToken
from provisioning.keystore import KeyStore
from tests.ci import skip_or_fail

ROOT = Path(__file__).resolve().parents[3]
PG_ENV = "HUB_TEST_POSTGRES_URL"
PASSPHRASE = "workers test passphrase"


def postgres_url_or_skip() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        skip_or_fail(f"PostgreSQL is not configured ({PG_ENV})")
    assert url is not None
    return url


@contextmanager
def pg_schema(server_url: str) -> Iterator[str]:
    """A fresh, migrated schema on the test server, dropped afterwards; yields its URL."""
    name = f"workers_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    base = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    url = base.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HubProcess:
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubProcess:
        cmd = [
            sys.executable, "-m", "uvicorn", "--factory", "hub.main:create_worker_app",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, env=self.env, cwd=ROOT, stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT
        )
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"hub did not come up:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback by the process; the database must cope."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def hub_env(database_url: str, work: Path, **extra: str) -> dict[str, str]:
    """The environment every hub process of one deployment shares: database, keys, secret, SMS file."""
    keys = work / "keys"
    if not keys.exists():
        KeyStore(keys, PASSPHRASE).init()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "PROMETHEUS_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        HUB_DATABASE_URL=database_url,
        HUB_KEYS_DIR=str(keys),
        HUB_KEY_PASSPHRASE=PASSPHRASE,
        HUB_SECRET_KEY="workers-test-secret-0123456789abcdef",
        HUB_SMS_GATEWAY="file",
        HUB_SMS_FILE_PATH=str(work / "sms.jsonl"),
        HUB_PURGE_INTERVAL_SECONDS="0",
        HUB_TRUST_PUBLISH_SECONDS="0",
        HUB_OTP_RESEND_COOLDOWN_SECONDS="0",
        HUB_BASE_URL="http://127.0.0.1",
        # These tests race up to eight requests on one process at one instant to test the races, not
        # load shedding: none may be shed for waiting its turn on a slow machine (hub/middleware.py).
        HUB_MAX_QUEUE_WAIT_MS="30000",
    )
    env.update(extra)
    return env


def enrol_device(database_url: str, hub_url: str) -> tuple[str, KeyPair]:
    """A checkpoint device enrolled over HTTP with a token put straight in the database (making one
    through the API needs a console login, which is not what these tests are about)."""
    token = secrets.token_urlsafe(24)
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            EnrolmentToken.__table__.insert().values(
                token_hash=token_hash(token), created_at=utcnow(), expires_at=utcnow() + dt.timedelta(hours=1)
            )
        )
    engine.dispose()
    key = KeyPair.generate()
    response = httpx.post(
        f"{hub_url}/api/v1/devices/enrol",
        json={"token": token, "public_key": base64.b64encode(key.public_key).decode(), "name": "workers"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["device_id"], key


def scan_events(start_seq: int, count: int) -> list[dict[str, Any]]:
    now = time.time()
    return [
        {
            "event_id": str(uuid.uuid4()),
            "seq": seq,
            "scanned_at": now - 600 + seq * 0.01,
            "hlc": f"{int(now * 1000):013d}:{seq:06d}",
            "ok": True,
            "reason": "valid",
            "pass_id": secrets.token_hex(16),
            "officer_id": "1",
            "issuer_kid": "0123456789abcdef",
            "serial": seq,
            "trust_age_s": 60,
            "stale": False,
        }
        for seq in range(start_seq, start_seq + count)
    ]


def signed_batch(device_id: str, key: KeyPair, events: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
    """A batch body as the checkpoint app sends it, with its signature headers."""
    import json

    body = json.dumps(
        {"device_id": device_id, "batch_id": str(uuid.uuid4()), "sent_at": time.time(), "events": events}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Device-Id": device_id,
        "X-Device-Signature": base64.b64encode(key.sign(body)).decode(),
    }
    return body, headers
