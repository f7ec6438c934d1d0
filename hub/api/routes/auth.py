"""Logging in: console passwords and SMS codes. Officers log in on a checkpoint device
(`/officers/login/*`, hub.api.routes.officers_device)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from hub.api.deps import ClientIp, PendingUser, SettingsDep, bearer_scheme
from hub.api.routing import APIRouter
from hub.core.fields import Mobile, OtpCodeText, PlainText, RowId
from hub.services import identity
from hub.services.identity import UserOut
from hub.web import SessionDep

router = APIRouter(tags=["auth"])


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime
    must_change_password: bool
    user: UserOut


class PasswordLogin(BaseModel):
    mobile: Mobile
    password: str = Field(min_length=1, max_length=128)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


PublicPurpose = Literal["login", "enterprise_registration", "visit", "footprint"]


class CodeRequest(BaseModel):
    mobile: Mobile
    purpose: PublicPurpose
    # A check-in code (`visit`) is for this venue: it must exist, and its own caps count the codes.
    venue_code: PlainText | None = Field(default=None, min_length=4, max_length=32)


class CodeSent(BaseModel):
    sent: bool
    expires_in: int


class SmsLogin(BaseModel):
    mobile: Mobile
    code: OtpCodeText
    role: Literal["station_admin", "enterprise_admin", "employee"] | None = None
    org_id: RowId | None = None


@router.post("/auth/login", response_model=TokenOut)
def login(body: PasswordLogin, db: SessionDep, ip: ClientIp) -> TokenOut:
    """Console login (super and general admins) with mobile + password."""
    user, token, expires_at = identity.password_login(db, body.mobile, body.password, ip)
    return TokenOut(
        token=token,
        expires_at=expires_at,
        must_change_password=user.must_change_password,
        user=UserOut.of(user),
    )


@router.post("/auth/password", status_code=204)
def change_password(
    body: PasswordChange,
    user: PendingUser,
    db: SessionDep,
    ip: ClientIp,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """Change the password (required before anything else after an initial password). Every other
    session of the user ends; this one stays."""
    assert credentials is not None  # PendingUser already required it
    identity.change_password(
        db, user, body.current_password, body.new_password, ip, current_token=credentials.credentials
    )


@router.post("/auth/logout", status_code=204)
def logout(
    user: PendingUser,
    db: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    assert credentials is not None  # PendingUser already required it
    identity.logout(db, user, credentials.credentials)


@router.get("/auth/me", response_model=UserOut)
def me(user: PendingUser) -> UserOut:
    return UserOut.of(user)


@router.post("/otp/request", response_model=CodeSent)
def request_code(body: CodeRequest, db: SessionDep, ip: ClientIp, settings: SettingsDep) -> CodeSent:
    """Send an SMS code. For `login` a code is delivered only to a mobile with an account, but the
    answer, the cooldown and the caps are the same either way: nobody can probe which numbers are
    registered (docs/identity.md). A `visit` code names its venue (`venue_code`): an unknown venue is a
    404 and nothing is sent."""
    identity.request_code(db, body.mobile, body.purpose, ip, venue_code=body.venue_code)
    return CodeSent(sent=True, expires_in=settings.otp_ttl_seconds)


@router.post(
    "/auth/sms-login",
    response_model=TokenOut,
    responses={409: {"description": "several accounts (`choose_account`): send role and org_id"}},
)
def sms_login(body: SmsLogin, db: SessionDep, ip: ClientIp) -> TokenOut:
    """Login for station admins, enterprise admins and employees: mobile + SMS code (purpose `login`).

    The first such login registers the account (the city's first-login SMS confirmation). A mobile with
    several accounts gets 409 `choose_account` listing each (role, org_id, org_name, org_kind); the same
    code works for the retry that names one.
    """
    user, token, expires_at = identity.sms_login(
        db, body.mobile, body.code, ip, role=body.role, org_id=body.org_id
    )
    return TokenOut(token=token, expires_at=expires_at, must_change_password=False, user=UserOut.of(user))
