"""Checkpoint devices: enrolment tokens (admins), enrolment (the device itself), listing, revocation."""

from __future__ import annotations

import base64
import datetime as dt
from typing import TYPE_CHECKING, Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from hub.api.deps import ClientIp, ScopeDep
from hub.api.routing import APIRouter
from hub.core.fields import PlainText, RowId
from hub.services.devices import enrolment
from hub.services.devices.enrolment import EnrolmentTokenIn, RevokeIn
from hub.web import SessionDep

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.devices import Device

router = APIRouter(tags=["devices"])


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


@router.post("/devices/enrolment-tokens", status_code=201, response_model=EnrolmentTokenOut)
def create_enrolment_token(
    db: SessionDep, scope: ScopeDep, body: EnrolmentTokenIn | None = None
) -> EnrolmentTokenOut:
    """A one-time token (and its QR) that lets one device enrol, for `enrolment_token_minutes`."""
    ticket = enrolment.create_enrolment_token(db, scope, station_id=body.station_id if body else None)
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
        server_time=int(done.device.enrolled_at.timestamp()),  # the hub's clock, as it enrolled the device
    )


@router.get("/devices", response_model=list[DeviceOut])
def list_devices(
    db: SessionDep, scope: ScopeDep, station_id: Annotated[RowId | None, Query()] = None
) -> list[DeviceOut]:
    """Hub admins see every device (or one station's); station admins their own station's."""
    devices = enrolment.list_devices(db, scope, station_id=station_id)
    return [DeviceOut.of(device) for device in devices]


@router.post("/devices/{device_id}/revoke", response_model=DeviceOut)
def revoke(db: SessionDep, scope: ScopeDep, device_id: str, body: RevokeIn | None = None) -> DeviceOut:
    """From now on the device's scan batches and officer logins are refused (403)."""
    return DeviceOut.of(
        enrolment.revoke_device(db, scope, device_id=device_id, reason=body.reason if body else None)
    )
