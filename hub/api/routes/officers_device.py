"""Officer login on a checkpoint device: whitelist match + SMS code -> an offline credential."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from hub.api.deps import ClientIp, SettingsDep
from hub.api.routing import APIRouter
from hub.core.fields import PlainText
from hub.core.phone import Mobile
from hub.db import SessionDep
from hub.services import officer_login

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
