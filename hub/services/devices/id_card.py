"""A checkpoint device asking the hub for an ID-card check (hub.services.id_card_check).

The request is signed by the device's enrolled key, like a scan batch, and names the officer logged in
on it. The hub accepts it only from a device that is not revoked, for an officer whose login on that
very device was confirmed by SMS code and whose shift has not ended, and who is on the roster of the
device's station. A signed request is good for a short while only (`MAX_AGE_S`), so a copied one cannot
be replayed later.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models.devices import Device, OfficerDeviceLogin
from hub.models.rosters import Officer
from hub.services.devices.ingestion import authenticate_device
from hub.services.errors import Invalid, NotAllowed, NotAuthenticated
from hub.services.id_card_check import Caller

# Two minutes: a phone's clock may be off by a little, and the request is sent the moment it is made.
MAX_AGE_S = 120


def device_request(
    db: Session, header_device_id: str | None, signature_b64: str | None, body: bytes, client_ip: str | None
) -> tuple[Caller, str]:
    """The calling officer and the typed national ID of a device-signed ID-check request."""
    device_id = authenticate_device(db, header_device_id, signature_b64, body)
    doc = _parse(body)
    if doc["device_id"] != device_id:
        raise NotAuthenticated(reason="device_mismatch", detail="body device_id differs from X-Device-Id")
    if abs(time.time() - doc["sent_at"]) > MAX_AGE_S:
        raise NotAuthenticated(reason="stale_request", detail=f"sent_at more than {MAX_AGE_S} s from now")
    officer = _logged_in_officer(db, device_id, doc["officer_id"])
    return Caller(officer=officer, device_id=device_id, client_ip=client_ip), doc["national_id"]


def _parse(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        raise Invalid("the body is not JSON", reason="bad_body") from None
    if not isinstance(doc, dict):
        raise Invalid("the body is not a JSON object", reason="bad_body")
    fields = {"device_id": str, "officer_id": str, "national_id": str, "sent_at": (int, float)}
    for name, kind in fields.items():
        value = doc.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise Invalid(f"{name} missing or of the wrong type", field=name, reason="bad_body")
    if len(doc["national_id"]) > 32:
        raise Invalid("national_id too long", field="national_id", reason="bad_national_id")
    return doc


def _logged_in_officer(db: Session, device_id: str, officer_id: str) -> Officer:
    refused = NotAllowed("no duty officer of this station is logged in on this device", reason="not_officer")
    if not officer_id.isdigit():
        raise refused
    officer = db.get(Officer, int(officer_id))
    station_id = db.scalar(select(Device.station_id).where(Device.id == device_id))
    if officer is None or station_id is None or officer.station_id != station_id:
        raise refused
    login = db.scalar(
        select(OfficerDeviceLogin.id).where(
            OfficerDeviceLogin.device_id == device_id,
            OfficerDeviceLogin.officer_id == officer.id,
            OfficerDeviceLogin.verified_at.is_not(None),
            OfficerDeviceLogin.credential_expires_at > utcnow(),
        )
    )
    if login is None:
        raise refused
    return officer
