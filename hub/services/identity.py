"""Accounts: console passwords (argon2id), initial passwords by SMS, lockout, bearer tokens."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

import nacl.exceptions
import nacl.pwhash
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crypto.identity import mask_mobile
from hub.context import context_of
from hub.core.protection import token_hash
from hub.db import utcnow
from hub.errors import HubError
from hub.models.audit import AuditEvent
from hub.models.identity import CONSOLE_ROLES, ApiToken, Role, User
from hub.services import audit

log = logging.getLogger(__name__)

# No 0/O, 1/l/I: initial passwords are read off a phone screen and typed in.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_password(password: str) -> str:
    return nacl.pwhash.argon2id.str(password.encode()).decode()


def _password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return nacl.pwhash.verify(stored.encode(), password.encode())
    except nacl.exceptions.InvalidkeyError:
        return False


# Verified against when the account does not exist, so a wrong mobile costs the same time as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(16))


def generate_initial_password(length: int = 12) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def send_initial_password(db: Session, user: User) -> None:
    """Set a fresh initial password, force a change at first login, and send it by SMS.

    The SMS goes out before the commit: if the gateway fails, nothing is changed (502).
    """
    ctx = context_of(db)
    password = generate_initial_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_logins = 0
    user.locked_until = None
    db.flush()
    text = f"Checkpass 管理系統初始密碼：{password} 請於首次登入後修改。{ctx.settings.base_url}"
    try:
        ctx.sms.send(user.mobile, text)
    except Exception as exc:
        db.rollback()
        log.warning("SMS gateway failed sending an initial password: %s", type(exc).__name__)
        raise HubError(502, "sms_failed", "could not send the initial password by SMS") from exc


def issue_token(db: Session, user: User, client_ip: str | None) -> tuple[str, dt.datetime]:
    ttl = context_of(db).settings.token_ttl_seconds
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(seconds=ttl)
    db.add(
        ApiToken(token_hash=token_hash(token), user_id=user.id, expires_at=expires_at, client_ip=client_ip)
    )
    user.last_login_at = utcnow()
    if user.registered_at is None:
        user.registered_at = utcnow()
    return token, expires_at


def password_login(
    db: Session, mobile: str, password: str, client_ip: str | None
) -> tuple[User, str, dt.datetime]:
    """Console login. Commits (failed tries and lockouts must stick even though the request fails)."""
    s = context_of(db).settings
    if client_ip is not None:
        window_start = utcnow() - dt.timedelta(seconds=s.password_lockout_seconds)
        failures = db.scalar(
            select(func.count()).where(
                AuditEvent.action == "login.failed",
                AuditEvent.client_ip == client_ip,
                AuditEvent.at > window_start,
            )
        )
        if (failures or 0) >= s.password_max_failures_per_ip:
            raise HubError(
                429,
                "too_many_failures",
                "too many failed logins from this address; wait",
                {"Retry-After": str(s.password_lockout_seconds)},
            )
    user = db.scalars(
        select(User).where(User.mobile == mobile, User.role.in_([r.value for r in CONSOLE_ROLES]))
    ).first()
    if user is None or not user.active:
        _password_matches(_DUMMY_HASH, password)
        audit.record(db, "login.failed", target=mask_mobile(mobile), client_ip=client_ip, why="unknown")
        db.commit()
        raise HubError(401, "bad_credentials", "wrong mobile or password")
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        audit.record(db, "login.locked", actor=user, client_ip=client_ip)
        db.commit()
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise HubError(
            423,
            "account_locked",
            f"too many wrong passwords; try again in {wait} s",
            {"Retry-After": str(wait)},
        )
    if not _password_matches(user.password_hash, password):
        failures = user.failed_logins + 1
        locked = failures >= s.password_max_failures
        db.execute(
            update(User)
            .where(User.id == user.id)
            .values(
                failed_logins=0 if locked else User.failed_logins + 1,
                locked_until=now + dt.timedelta(seconds=s.password_lockout_seconds) if locked else None,
            )
        )
        audit.record(db, "login.failed", actor=user, client_ip=client_ip, why="password", locked=locked)
        db.commit()
        if locked:
            raise HubError(
                423,
                "account_locked",
                "too many wrong passwords; the account is locked for a while",
                {"Retry-After": str(s.password_lockout_seconds)},
            )
        raise HubError(401, "bad_credentials", "wrong mobile or password")
    user.failed_logins = 0
    user.locked_until = None
    token, expires_at = issue_token(db, user, client_ip)
    audit.record(db, "login", actor=user, client_ip=client_ip, method="password")
    db.commit()
    return user, token, expires_at


def change_password(db: Session, user: User, current: str, new: str, client_ip: str | None) -> None:
    s = context_of(db).settings
    if not _password_matches(user.password_hash, current):
        raise HubError(400, "bad_credentials", "the current password is wrong")
    if len(new) < s.password_min_length:
        raise HubError(400, "weak_password", f"at least {s.password_min_length} characters")
    if new == current:
        raise HubError(400, "weak_password", "the new password must differ from the current one")
    if new.isdigit() or new.isalpha():
        raise HubError(400, "weak_password", "mix letters with digits or symbols")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    audit.record(db, "password.changed", actor=user, client_ip=client_ip)
    db.commit()


def logout(db: Session, user: User, token: str) -> None:
    db.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.user_id == user.id)
        .values(revoked=True)
    )
    db.commit()


def revoke_all_tokens(db: Session, user_id: int) -> None:
    db.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(revoked=True))


# --- SMS-code login for the organisation roles (station admin, enterprise admin, employee) ---

SMS_LOGIN_ROLES = (Role.STATION_ADMIN, Role.ENTERPRISE_ADMIN)


def sms_login_accounts(db: Session, mobile: str) -> list[User]:
    """The accounts a mobile may log in to with an SMS code, provisioning employee accounts from the
    enterprise whitelists on first use (the seed: employees register by mobile + SMS code)."""
    from hub.models.rosters import Employee

    accounts = list(
        db.scalars(
            select(User).where(
                User.mobile == mobile,
                User.active.is_(True),
                User.role.in_([r.value for r in (*SMS_LOGIN_ROLES, Role.EMPLOYEE)]),
            )
        )
    )
    have = {(u.role, u.org_id) for u in accounts}
    for employee in db.scalars(select(Employee).where(Employee.mobile == mobile)):
        if (Role.EMPLOYEE.value, employee.org_id) not in have:
            user = User(
                mobile=mobile,
                name=employee.name,
                role=Role.EMPLOYEE.value,
                org_id=employee.org_id,
                employee_id=employee.id,
                permissions=[],
            )
            db.add(user)
            db.flush()
            accounts.append(user)
    return sorted(accounts, key=lambda u: (u.role, u.org_id or 0))


def has_sms_login(db: Session, mobile: str) -> bool:
    """Whether an SMS-code login could succeed for `mobile` (without creating any account)."""
    from hub.models.rosters import Employee

    roles = [r.value for r in (*SMS_LOGIN_ROLES, Role.EMPLOYEE)]
    query = select(User.id).where(User.mobile == mobile, User.active.is_(True), User.role.in_(roles))
    if db.scalars(query).first() is not None:
        return True
    return db.scalars(select(Employee.id).where(Employee.mobile == mobile)).first() is not None


def officer_account(db: Session, officer_id: int) -> User:
    """The officer role account for a whitelisted duty officer, created at first login."""
    from hub.models.rosters import Officer

    officer = db.get(Officer, officer_id)
    if officer is None:
        raise HubError(404, "not_found", "officer not found")
    user = db.scalars(
        select(User).where(User.officer_id == officer.id, User.role == Role.OFFICER.value)
    ).first()
    if user is None:
        user = User(
            mobile=officer.mobile,
            name=officer.name,
            role=Role.OFFICER.value,
            org_id=officer.station_id,
            officer_id=officer.id,
            permissions=[],
        )
        db.add(user)
        db.flush()
    return user
