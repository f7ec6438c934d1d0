"""Device enrolment: an admin makes a one-time token (shown as a QR), the device registers its key.

The token is random and only its SHA-256 is stored, so a database dump cannot enrol anything. The QR
also carries the root public key, which the device pins: from then on it trusts only bundles the root
signed, whatever network it is on.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import secrets
import uuid
from dataclasses import dataclass

import qrcode
import qrcode.constants
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.enrolment import ENROLMENT_PREFIX
from crypto.keys import kid_of
from hub.context import context_of
from hub.core.fields import PlainText, RowId
from hub.core.permissions import Permission
from hub.core.protection import token_hash
from hub.db import utcnow
from hub.models.devices import Device, EnrolmentToken
from hub.models.identity import Role
from hub.models.organisations import Organisation, OrgKind
from hub.services import audit
from hub.services.errors import Conflict, Gone, Invalid, NotFound, Rejected
from hub.services.keys import keystore
from hub.services.scope import Scope


class EnrolmentTokenIn(BaseModel):
    # Hub admins may tie the device to a station (or leave it hub-wide); station admins always get theirs.
    station_id: RowId | None = None


class RevokeIn(BaseModel):
    reason: PlainText | None = Field(default=None, max_length=200)


# What is shown of a checkpoint device to whoever manages devices (REST's answers): nothing personal, so
# nothing masked; the key as base64, the last report as the device sent it.
class DeviceOut(BaseModel):
    device_id: str
    name: str
    station_id: int | None
    public_key: str
    enrolled_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    last_upload_at: dt.datetime | None = Field(
        default=None, description="last batch received (a status report with no events counts)"
    )
    # docs/checkpoint-sync.md, "Device report": as the device last reported them (null: never, or an
    # app too old to say).
    app_version: str | None = None
    queue_waiting: int | None = Field(default=None, description="events waiting on the device")
    queue_oldest_age_s: int | None = Field(default=None, description="age of the oldest, when reported")
    queue_reported_at: dt.datetime | None = None

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        return cls(
            device_id=device.id,
            name=device.name,
            station_id=device.station_id,
            public_key=base64.b64encode(device.public_key).decode(),
            enrolled_at=device.enrolled_at,
            revoked_at=device.revoked_at,
            revoke_reason=device.revoke_reason,
            last_upload_at=device.last_sync_at,
            app_version=device.app_version,
            queue_waiting=device.queue_waiting,
            queue_oldest_age_s=device.queue_oldest_age_s,
            queue_reported_at=device.queue_reported_at,
        )


def _root_public_key(db: Session) -> bytes:
    # From root.pub: enrolment must work on a hub that holds only the root's public half.
    return keystore(db).root_public_key()


@dataclass(frozen=True)
class EnrolmentTicket:
    token: str
    expires_at: dt.datetime
    enrolment_text: str
    qr_png: bytes


def enrolment_text(base_url: str, token: str, root_public: bytes) -> str:
    """docs/CONTRACTS.md: "CPE1:" + base64url(JSON {"hub", "token", "root_public_key"}) (padded)."""
    doc = {"hub": base_url, "token": token, "root_public_key": base64.b64encode(root_public).decode()}
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    return ENROLMENT_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")


def _qr_png(text: str) -> bytes:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out)
    return out.getvalue()


def device_station(scope: Scope, requested: int | None) -> int | None:
    """The station a device enrolled by `scope` belongs to. Hub admins (devices.manage) choose one or
    none (a hub-wide device); anyone else gets their own station, and one with no station gets none."""
    scope.require(Permission.DEVICES_MANAGE)
    if scope.hub_wide:
        return requested
    scope.require_role(Role.STATION_ADMIN)
    return scope.own_org(requested)


def create_enrolment_token(db: Session, scope: Scope, *, station_id: int | None) -> EnrolmentTicket:
    """A one-time enrolment token for a device of the caller's station (hub admins: `station_id`, or
    None for a device tied to no station), valid for the hub's `enrolment_token_minutes`; its QR names
    the hub's `base_url`."""
    station_id = device_station(scope, station_id)
    settings = context_of(db).settings
    lifetime = dt.timedelta(minutes=settings.enrolment_token_minutes)
    actor, client_ip = scope.user, scope.client_ip
    if station_id is not None:
        org = db.get(Organisation, station_id)
        if org is None or org.kind != OrgKind.STATION:
            raise NotFound(reason="not_found", detail="station not found")
    root_public = _root_public_key(db)
    token = secrets.token_urlsafe(24)
    now = utcnow()
    expires_at = now + lifetime
    db.add(
        EnrolmentToken(
            token_hash=token_hash(token),
            created_by=actor.id,
            station_id=station_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    audit.record(
        db,
        "device.enrolment_token",
        actor=actor,
        target=f"station:{station_id}" if station_id is not None else None,
        client_ip=client_ip,
        expires_at=int(expires_at.timestamp()),
    )
    text = enrolment_text(settings.base_url, token, root_public)
    return EnrolmentTicket(token=token, expires_at=expires_at, enrolment_text=text, qr_png=_qr_png(text))


def _public_key(b64: str) -> bytes:
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Rejected(reason="bad_public_key", detail="public_key must be base64") from exc
    if len(raw) != 32:
        raise Rejected(reason="bad_public_key", detail="public_key must be a raw 32-byte Ed25519 key")
    return raw


@dataclass(frozen=True)
class Enrolled:
    device: Device
    root_public_key: bytes
    root_kid: bytes


def enrol_device(
    db: Session, *, token: str, public_key_b64: str, name: str, client_ip: str | None = None
) -> Enrolled:
    """Register a device's public key against a live token, using the token up. Commits.

    400 for an unknown token, 410 for a used or expired one; nothing changes on any refusal.
    """
    public_key = _public_key(public_key_b64)
    record = db.scalars(select(EnrolmentToken).where(EnrolmentToken.token_hash == token_hash(token))).first()
    if record is None:
        raise Invalid(reason="invalid_token", detail="unknown enrolment token")
    now = utcnow()
    if record.used_at is not None:
        raise Gone(reason="token_used", detail="this enrolment token was already used; ask for a new one")
    if record.expires_at <= now:
        raise Gone(reason="token_expired", detail="this enrolment token has expired; ask for a new one")
    if db.scalar(select(Device.id).where(Device.public_key == public_key)) is not None:
        raise Conflict(reason="key_already_enrolled", detail="this public key belongs to an enrolled device")
    root_public = _root_public_key(db)

    device = Device(
        id=str(uuid.uuid4()),
        name=name,
        public_key=public_key,
        station_id=record.station_id,
        enrolled_at=now,
        enrolled_by=record.created_by,
    )
    db.add(device)
    db.flush()
    # Conditional update: of two devices racing with one token, exactly one gets it.
    won = db.execute(
        update(EnrolmentToken)
        .where(EnrolmentToken.id == record.id, EnrolmentToken.used_at.is_(None))
        .values(used_at=now, device_id=device.id)
    ).rowcount
    if won != 1:
        raise Gone(reason="token_used", detail="this enrolment token was already used; ask for a new one")
    audit.record(
        db,
        "device.enrolled",
        target=f"device:{device.id}",
        client_ip=client_ip,
        station_id=record.station_id,
        token_id=record.id,
    )
    return Enrolled(device=device, root_public_key=root_public, root_kid=kid_of(root_public))


def device_in_scope(db: Session, scope: Scope, device_id: str) -> Device:
    """A device the caller manages: any for hub admins (devices.manage), else one of their own station.
    Another station's device, or one tied to no station, is "not found" to a station admin: its
    existence is not theirs to know."""
    scope.require(Permission.DEVICES_MANAGE)
    try:
        key = str(uuid.UUID(device_id))
    except ValueError:
        raise NotFound("device") from None
    device = db.get(Device, key)
    if device is None:
        raise NotFound("device")
    if not scope.hub_wide and (device.station_id is None or not scope.member_of(device.station_id)):
        raise NotFound("device")
    return device


def revoke_device(db: Session, scope: Scope, *, device_id: str, reason: str | None) -> Device:
    """Refuse the device's batches from now on (403). Idempotent: revoking twice keeps the first time."""
    device = device_in_scope(db, scope, device_id)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.revoked_by = scope.user.id
        device.revoke_reason = reason
        audit.record(
            db, "device.revoked", actor=scope.user, target=f"device:{device.id}", client_ip=scope.client_ip
        )
    return device


def list_devices(db: Session, scope: Scope, *, station_id: int | None = None) -> list[Device]:
    """Hub admins: every device, or one station's; a station admin: their own station's (refused, as
    `no_organisation`, without a station). Each carries what it last reported (`last_sync_at`,
    `app_version`, `queue_*`; hub.services.devices.device_report): what tells an admin a checkpoint has gone
    quiet or fallen behind."""
    station_id = device_station(scope, station_id)
    query = select(Device).order_by(Device.enrolled_at.desc(), Device.id)
    if not (scope.hub_wide and station_id is None):
        query = query.where(Device.station_id == station_id)
    return list(db.scalars(query))
