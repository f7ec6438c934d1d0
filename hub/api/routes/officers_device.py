"""Officer login on a checkpoint device: whitelist match + SMS code -> an offline credential."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Depends, Header
from pydantic import BaseModel, Field

from hub.api.deps import ClientIp, SettingsDep
from hub.api.routes.scans import raw_body
from hub.api.routing import APIRouter
from hub.core.fields import PlainText
from hub.core.phone import Mobile
from hub.services import officer_login
from hub.services.devices.id_card import device_request
from hub.services.id_card_check import check_id_card
from hub.web import SessionDep

router = APIRouter(tags=["checkpoints"])


class LoginStartIn(BaseModel):
    device_id: uuid.UUID
    name: PlainText = Field(min_length=1, max_length=64)
    mobile: Mobile


class LoginStartOut(BaseModel):
    sent: bool
    expires_in: int = Field(description="seconds the SMS code stays valid")


class LoginVerifyIn(BaseModel):
    device_id: uuid.UUID
    mobile: Mobile
    code: PlainText = Field(min_length=1, max_length=16)


class LoginVerifyOut(BaseModel):
    credential: str = Field(description="base64 COSE_Sign1 signed by the active issuer key")
    officer_id: str
    name_masked: str
    station_id: str
    expires_at: int = Field(description="epoch seconds; the end of the shift")


@router.post(
    "/officers/login/start",
    response_model=LoginStartOut,
    responses={403: {"description": "the device is revoked"}},
)
def login_start(db: SessionDep, body: LoginStartIn, settings: SettingsDep, ip: ClientIp) -> LoginStartOut:
    """Match name + mobile against the duty-officer whitelist and send an SMS code.

    The answer is the same whether or not they match (no code is sent then): it must not tell who is on
    a roster (docs/identity.md)."""
    officer_login.start(
        db,
        device_id=str(body.device_id),
        name=body.name,
        mobile_e164=body.mobile,
        lifetime_s=settings.otp_ttl_seconds,
        client_ip=ip,
    )
    return LoginStartOut(sent=True, expires_in=settings.otp_ttl_seconds)


@router.post("/officers/login/verify", response_model=LoginVerifyOut)
def login_verify(
    db: SessionDep,
    body: LoginVerifyIn,
    settings: SettingsDep,
    ip: ClientIp,
) -> LoginVerifyOut:
    """Confirm the SMS code; the answer is a credential the device checks offline until the shift ends."""
    cred = officer_login.verify(
        db,
        device_id=str(body.device_id),
        mobile_e164=body.mobile,
        code=body.code,
        shift=dt.timedelta(hours=settings.officer_credential_hours),
        client_ip=ip,
    )
    return LoginVerifyOut(
        credential=cred.credential_b64,
        officer_id=cred.officer_id,
        name_masked=cred.name_masked,
        station_id=cred.station_id,
        expires_at=cred.expires_at,
    )


class IdCheckDoc(BaseModel):
    device_id: uuid.UUID
    officer_id: str = Field(max_length=32, description="the officer logged in on this device")
    national_id: str = Field(max_length=32, description="as typed; never stored or logged")
    sent_at: float = Field(description="device clock, epoch seconds; refused if more than 120 s off")


class IdCheckOut(BaseModel):
    ok: bool = Field(description="true only when the ID holds a pass valid now")
    status: str = Field(description="valid, revoked, expired, not_yet_valid, invalid or none")
    message: str = Field(description="the verdict in zh-TW, as the officer reads it")
    holder_masked: str | None = None
    national_id_masked: str | None = None
    organisation: str | None = None
    expires_at: int | None = Field(default=None, description="epoch seconds")
    event_id: str = Field(description="the check's entry in the check register")


@router.post(
    "/officers/id-check",
    response_model=IdCheckOut,
    # The body is read raw (the device signs its exact bytes); this documents its shape.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": IdCheckDoc.model_json_schema()}},
        }
    },
    responses={
        401: {"description": "unknown device, bad signature or a request too old"},
        403: {"description": "revoked device, or no duty officer of its station logged in on it"},
        429: {"description": "the officer's hourly ID-check allowance is used up"},
    },
)
def id_check(
    db: SessionDep,
    body: Annotated[bytes, Depends(raw_body)],
    ip: ClientIp,
    x_device_id: Annotated[str | None, Header()] = None,
    x_device_signature: Annotated[str | None, Header()] = None,
) -> IdCheckOut:
    """Whether a national ID holds a valid pass now (the ID-card check, docs/id-card-check.md).

    The body, signed by the device key like a scan batch, is JSON `{device_id, officer_id, national_id,
    sent_at}`. The answer shows the holder masked; the check is recorded in the check register."""
    caller, national_id = device_request(db, x_device_id, x_device_signature, body, ip)
    answer = check_id_card(db, caller, national_id)
    return IdCheckOut(
        ok=answer.ok,
        status=answer.status.value,
        message=answer.message,
        holder_masked=answer.holder_masked,
        national_id_masked=answer.national_id_masked,
        organisation=answer.organisation,
        expires_at=int(answer.expires_at.timestamp()) if answer.expires_at is not None else None,
        event_id=answer.event_id,
    )
