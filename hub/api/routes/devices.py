"""Checkpoint devices: enrolment tokens (admins), enrolment (the device itself), listing, revocation."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from hub.api.deps import ClientIp, SettingsDep, require_permission
from hub.core.fields import PlainText, RowId
from hub.core.permissions import Permission
from hub.db import SessionDep, utcnow
from hub.devices import enrolment
from hub.errors import HubError
from hub.models.devices import Device
from hub.models.identity import User
from hub.services.access import is_hub_admin

router = APIRouter(tags=["devices"])

DeviceManager = Annotated[User, Depends(require_permission(Permission.DEVICES_MANAGE))]


class EnrolmentTokenIn(BaseModel):
    # Hub admins may tie the device to a station (or leave it hub-wide); station admins always get theirs.
    station_id: RowId | None = None


class EnrolmentTokenOut(BaseModel):
    token: str
    expires_at: int = Field(description="epoch seconds")
    enrolment_text: str = Field(description='"CPE1:" + base64url(JSON {hub, token, root_public_key}); the QR')
    qr_png_base64: str


class EnrolIn(BaseModel):
    token: PlainText = Field(min_length=1, max_length=128)
    public_key: PlainText = Field(
        min_length=1, max_length=64, description="base64 of the raw 32-byte Ed25519 key"
    )
    name: PlainText = Field(min_length=1, max_length=64)


class EnrolOut(BaseModel):
    device_id: str
    root_public_key: str
    root_kid: str
    server_time: int


class DeviceOut(BaseModel):
    device_id: str
    name: str
    station_id: int | None
    public_key: str
    enrolled_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    last_upload_at: dt.datetime | None = Field(default=None, description="last scan batch received")

    @classmethod
    def of(cls, device: Device, last_upload_at: dt.datetime | None = None) -> DeviceOut:
        return cls(
            device_id=device.id,
            name=device.name,
            station_id=device.station_id,
            public_key=base64.b64encode(device.public_key).decode(),
            enrolled_at=device.enrolled_at,
            revoked_at=device.revoked_at,
            revoke_reason=device.revoke_reason,
            last_upload_at=last_upload_at,
        )


class RevokeIn(BaseModel):
    reason: PlainText | None = Field(default=None, max_length=200)


def _station_for(user: User, requested: int | None) -> int | None:
    """The station a device made by `user` belongs to: its own, unless a hub admin chose one (or none)."""
    if is_hub_admin(user):
        return requested
    if requested is not None and requested != user.org_id:
        raise HubError(403, "forbidden", "outside your organisation")
    return user.org_id


def _device_for(db: SessionDep, user: User, device_id: str) -> Device:
    try:
        key = str(uuid.UUID(device_id))
    except ValueError:
        raise HubError(404, "not_found", "device not found") from None
    device = db.get(Device, key)
    # Another station's device is "not found" to a station admin: its existence is not theirs to know.
    if device is None or (not is_hub_admin(user) and device.station_id != user.org_id):
        raise HubError(404, "not_found", "device not found")
    return device


@router.post("/devices/enrolment-tokens", status_code=201, response_model=EnrolmentTokenOut)
def create_enrolment_token(
    db: SessionDep,
    user: DeviceManager,
    settings: SettingsDep,
    ip: ClientIp,
    body: EnrolmentTokenIn | None = None,
) -> EnrolmentTokenOut:
    """A one-time token (and its QR) that lets one device enrol, for `enrolment_token_minutes`."""
    station_id = _station_for(user, body.station_id if body else None)
    ticket = enrolment.create_enrolment_token(
        db,
        actor=user,
        station_id=station_id,
        lifetime=dt.timedelta(minutes=settings.enrolment_token_minutes),
        base_url=settings.base_url,
        client_ip=ip,
    )
    return EnrolmentTokenOut(
        token=ticket.token,
        expires_at=int(ticket.expires_at.timestamp()),
        enrolment_text=ticket.enrolment_text,
        qr_png_base64=base64.b64encode(ticket.qr_png).decode(),
    )


@router.post(
    "/devices/enrol",
    response_model=EnrolOut,
    responses={400: {"description": "unknown token"}, 410: {"description": "token used or expired"}},
)
def enrol(db: SessionDep, body: EnrolIn, ip: ClientIp) -> EnrolOut:
    """Called by the device with the token from the QR: registers its key, returns the root key to pin."""
    done = enrolment.enrol_device(
        db, token=body.token, public_key_b64=body.public_key, name=body.name, client_ip=ip
    )
    return EnrolOut(
        device_id=done.device.id,
        root_public_key=base64.b64encode(done.root_public_key).decode(),
        root_kid=done.root_kid.hex(),
        server_time=int(utcnow().timestamp()),
    )


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(
    db: SessionDep, user: DeviceManager, station_id: Annotated[RowId | None, Query()] = None
) -> list[DeviceOut]:
    """Hub admins see every device (or one station's); station admins their own station's."""
    if is_hub_admin(user):
        devices = enrolment.list_devices(db, station_id=station_id, all_stations=station_id is None)
    else:
        if station_id is not None and station_id != user.org_id:
            raise HubError(403, "forbidden", "outside your organisation")
        devices = enrolment.list_devices(db, station_id=user.org_id, all_stations=False)
    return [DeviceOut.of(device, last_upload) for device, last_upload in devices]


@router.post("/devices/{device_id}/revoke", response_model=DeviceOut)
def revoke(
    db: SessionDep, user: DeviceManager, device_id: str, ip: ClientIp, body: RevokeIn | None = None
) -> DeviceOut:
    """From now on the device's scan batches and officer logins are refused (403)."""
    device = _device_for(db, user, device_id)
    enrolment.revoke_device(db, device, actor=user, reason=body.reason if body else None, client_ip=ip)
    return DeviceOut.of(device)
