"""Checkpoint devices: enrolment tokens (admins), enrolment (the device itself), listing, revocation."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from hub.api.deps import ClientIp, ScopeDep
from hub.api.routing import APIRouter
from hub.core.fields import PlainText, RowId
from hub.services.devices import enrolment
from hub.services.devices.enrolment import DeviceOut, EnrolmentTokenIn, RevokeIn
from hub.web import SessionDep

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
