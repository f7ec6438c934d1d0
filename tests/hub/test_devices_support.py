"""Shared helpers for the checkpoint tests (devices, officer device login, scan batches).

Named test_* only so that it sits with the files it serves; it holds no tests itself. People and
organisations are written straight into the database: these tests are about devices, and the
console flows that create admins and rosters have their own tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crypto.keys import KeyPair
from hub.core.protection import token_hash
from hub.db import utcnow
from hub.models.identity import ApiToken, Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.models.rosters import Officer

API = "/api/v1"


def make_station(db: Session, name: str = "板橋分局") -> int:
    station = Organisation(kind=OrgKind.STATION.value, name=name)
    db.add(station)
    db.commit()
    return station.id


def make_officer(db: Session, station_id: int, name: str, mobile_e164: str, number: str = "A001") -> int:
    officer = Officer(station_id=station_id, name=name, officer_number=number, mobile=mobile_e164)
    db.add(officer)
    db.commit()
    return officer.id


_MOBILES = iter(range(10_000, 99_999))


def auth_headers(
    db: Session, role: Role, org_id: int | None = None, permissions: list[str] | None = None
) -> dict[str, str]:
    """Bearer headers of a fresh, logged-in user with `role` (a session row, as /auth/login makes)."""
    user = User(
        mobile=f"+886900{next(_MOBILES):06d}"[:13],
        name="測試者",
        role=role.value,
        org_id=org_id,
        permissions=permissions or [],
    )
    db.add(user)
    db.flush()
    token = secrets.token_urlsafe(24)
    db.add(
        ApiToken(token_hash=token_hash(token), user_id=user.id, expires_at=utcnow() + dt.timedelta(hours=1))
    )
    db.commit()
    return {"Authorization": f"Bearer {token}"}


@dataclass
class EnrolledDevice:
    device_id: str
    key: KeyPair
    root_public_key: bytes
    next_seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)


def new_token(client: TestClient, headers: dict[str, str], station_id: int | None = None) -> dict[str, Any]:
    body = {"station_id": station_id} if station_id is not None else None
    response = client.post(f"{API}/devices/enrolment-tokens", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def enrol(client: TestClient, token: str, key: KeyPair | None = None, name: str = "路檢平板 1") -> Any:
    key = key or KeyPair.generate()
    return client.post(
        f"{API}/devices/enrol",
        json={"token": token, "public_key": base64.b64encode(key.public_key).decode(), "name": name},
    )


def enrol_device(
    client: TestClient, headers: dict[str, str], station_id: int | None = None
) -> EnrolledDevice:
    key = KeyPair.generate()
    response = enrol(client, new_token(client, headers, station_id)["token"], key)
    assert response.status_code == 200, response.text
    body = response.json()
    return EnrolledDevice(body["device_id"], key, base64.b64decode(body["root_public_key"]))


def make_event(device: EnrolledDevice, **overrides: Any) -> dict[str, Any]:
    seq = device.next_seq
    device.next_seq += 1
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "seq": seq,
        "scanned_at": time.time() - 60,
        "hlc": f"{int(time.time() * 1000):013d}:{seq:04d}",
        "ok": True,
        "reason": "valid",
        "pass_id": secrets.token_hex(16),
        "officer_id": "1",
        "issuer_kid": secrets.token_hex(8),
        "serial": seq,
        "trust_age_s": 120,
        "stale": False,
    }
    event.update(overrides)
    return event


def batch_body(device: EnrolledDevice, events: list[Any], batch_id: str | None = None) -> bytes:
    doc = {
        "device_id": device.device_id,
        "batch_id": batch_id or str(uuid.uuid4()),
        "sent_at": time.time(),
        "events": events,
    }
    return json.dumps(doc).encode()


def post_batch(
    client: TestClient,
    device: EnrolledDevice,
    body: bytes,
    *,
    signature: bytes | None = None,
    device_id: str | None = None,
) -> Any:
    headers = {
        "Content-Type": "application/json",
        "X-Device-Id": device_id or device.device_id,
        "X-Device-Signature": base64.b64encode(
            signature if signature is not None else device.key.sign(body)
        ).decode(),
    }
    return client.post(f"{API}/scans/batches", content=body, headers=headers)
