"""Logging in: console passwords, SMS codes, officer login against the duty whitelist."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy import select

from hub.api.deps import ClientIp, PendingUser, SettingsDep, bearer_scheme
from hub.core.fields import Mobile, OtpCodeText, PersonName, RowId
from hub.core.masking import mask_mobile, mask_name
from hub.db import SessionDep
from hub.errors import HubError
from hub.models.identity import Role, User
from hub.models.rosters import Officer
from hub.services import audit, identity, otp
from hub.services.rosters import find_duty_officer
from hub.services.scope import effective_permissions

router = APIRouter(tags=["auth"])


class UserOut(BaseModel):
    id: int
    role: Role
    name_masked: str
    mobile_masked: str
    org_id: int | None
    org_name: str | None
    permissions: list[str]
    must_change_password: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            role=Role(user.role),
            name_masked=mask_name(user.name) if user.name else "",
            mobile_masked=mask_mobile(user.mobile),
            org_id=user.org_id,
            org_name=user.organisation.name if user.organisation is not None else None,
            permissions=sorted(effective_permissions(user)),
            must_change_password=user.must_change_password,
        )


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


class CodeSent(BaseModel):
    sent: bool
    expires_in: int


class SmsLogin(BaseModel):
    mobile: Mobile
    code: OtpCodeText
    role: Literal["station_admin", "enterprise_admin", "employee"] | None = None
    org_id: RowId | None = None


class OfficerLoginStart(BaseModel):
    name: PersonName
    mobile: Mobile


class OfficerLoginVerify(BaseModel):
    mobile: Mobile
    code: OtpCodeText


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
def change_password(body: PasswordChange, user: PendingUser, db: SessionDep, ip: ClientIp) -> None:
    """Change the password (required before anything else after an initial password)."""
    identity.change_password(db, user, body.current_password, body.new_password, ip)


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
    """Send an SMS code. For `login` a code is sent only to a mobile with an account, but the answer is
    the same either way so that nobody can probe which numbers are registered."""
    if body.purpose == otp.Purpose.LOGIN and not identity.has_sms_login(db, body.mobile):
        return CodeSent(sent=True, expires_in=settings.otp_ttl_seconds)
    otp.request_code(db, body.mobile, body.purpose, ip)
    return CodeSent(sent=True, expires_in=settings.otp_ttl_seconds)


@router.post("/auth/sms-login", response_model=TokenOut)
def sms_login(body: SmsLogin, db: SessionDep, ip: ClientIp) -> TokenOut:
    """Login for station admins, enterprise admins and employees: mobile + SMS code (purpose `login`).

    The first such login registers the account (the seed's first-login SMS confirmation).
    """
    otp.verify_code(db, body.mobile, otp.Purpose.LOGIN, body.code)
    accounts = identity.sms_login_accounts(db, body.mobile)
    if body.role is not None:
        accounts = [a for a in accounts if a.role == body.role]
    if body.org_id is not None:
        accounts = [a for a in accounts if a.org_id == body.org_id]
    if not accounts:
        db.rollback()
        raise HubError(404, "no_account", "no account for this mobile")
    if len(accounts) > 1:
        db.rollback()  # the code stays valid for the retry that names the account
        choices = [
            {"role": a.role, "org_id": a.org_id, "org_name": a.organisation.name if a.organisation else None}
            for a in accounts
        ]
        raise HubError(
            409, "choose_account", {"message": "several accounts; send role and org_id", "accounts": choices}
        )
    user = accounts[0]
    first = user.registered_at is None
    token, expires_at = identity.issue_token(db, user, ip)
    audit.record(db, "login", actor=user, client_ip=ip, method="sms", first_login=first)
    db.commit()
    return TokenOut(token=token, expires_at=expires_at, must_change_password=False, user=UserOut.of(user))


@router.post("/auth/officer-login/start", response_model=CodeSent)
def officer_login_start(
    body: OfficerLoginStart, db: SessionDep, ip: ClientIp, settings: SettingsDep
) -> CodeSent:
    """An officer gives name + mobile; if they match the duty whitelist, an SMS code is sent."""
    officer = find_duty_officer(db, body.mobile, body.name)
    if officer is None:
        raise HubError(404, "not_on_duty_roster", "no duty officer with this name and mobile")
    otp.request_code(db, body.mobile, otp.Purpose.OFFICER_LOGIN, ip)
    return CodeSent(sent=True, expires_in=settings.otp_ttl_seconds)


@router.post("/auth/officer-login/verify", response_model=TokenOut)
def officer_login_verify(body: OfficerLoginVerify, db: SessionDep, ip: ClientIp) -> TokenOut:
    otp.verify_code(db, body.mobile, otp.Purpose.OFFICER_LOGIN, body.code)
    officer = db.scalars(
        select(Officer).where(Officer.mobile == body.mobile).order_by(Officer.id.desc())
    ).first()
    if officer is None:
        db.rollback()
        raise HubError(404, "not_on_duty_roster", "no longer on the duty whitelist")
    user = identity.officer_account(db, officer.id)
    token, expires_at = identity.issue_token(db, user, ip)
    audit.record(db, "login", actor=user, client_ip=ip, method="officer_sms")
    db.commit()
    return TokenOut(token=token, expires_at=expires_at, must_change_password=False, user=UserOut.of(user))
