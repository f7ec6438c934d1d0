"""Accounts: console passwords (argon2id), initial passwords by SMS, the login throttle, bearer tokens,
SMS-code login for the organisation roles. The decisions are in docs/identity.md."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
from typing import Any

import nacl.exceptions
import nacl.pwhash
from pydantic import BaseModel
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from crypto.identity import mask_mobile
from hub.context import context_of
from hub.core.masking import mask_name
from hub.core.protection import token_hash
from hub.db import utcnow
from hub.models.identity import CONSOLE_ROLES, ApiToken, Role, User
from hub.models.organisations import Organisation
from hub.services import audit, login_throttle, otp
from hub.services.errors import Conflict, Invalid, NotAuthenticated, NotFound, Unavailable
from hub.services.scope import effective_permissions
from hub.services.venues import venue_by_code

log = logging.getLogger(__name__)


# What is shown of an account to its owner (a login's answer, "who am I"): their own name and mobile
# masked all the same, since the answer travels and is cached like any other.
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
            **account_shown(user),
            org_id=user.org_id,
            org_name=user.organisation.name if user.organisation is not None else None,
            must_change_password=user.must_change_password,
        )


def account_shown(user: User) -> dict[str, Any]:
    """What every public shape of an account shows of it (`UserOut`, `admins.AdminOut`): who, masked,
    the role and the permissions in effect."""
    return {
        "id": user.id,
        "role": Role(user.role),
        "name_masked": mask_name(user.name) if user.name else "",
        "mobile_masked": mask_mobile(user.mobile),
        "permissions": sorted(effective_permissions(user)),
    }


# No 0/O, 1/l/I: initial passwords are read off a phone screen and typed in.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# The argon2id cost of a new password hash. A stored hash records its own cost, so verifying never depends
# on these; the test suite lowers them (tests/conftest.py) because it creates accounts in almost every test.
PASSWORD_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
PASSWORD_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def hash_password(password: str) -> str:
    return nacl.pwhash.argon2id.str(
        password.encode(), opslimit=PASSWORD_OPSLIMIT, memlimit=PASSWORD_MEMLIMIT
    ).decode()


def password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return nacl.pwhash.verify(stored.encode(), password.encode())
    except nacl.exceptions.InvalidkeyError:
        return False


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so a wrong mobile costs the same time as a wrong
    password (made at first use, at the cost new hashes have then)."""
    return hash_password(secrets.token_hex(16))


def generate_initial_password(length: int = 12) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def send_initial_password(db: Session, user: User) -> None:
    """Set a fresh initial password, force a change at first login, and send it by SMS.

    The SMS goes out before the unit of work commits: if the gateway fails (Unavailable), nothing is
    changed.
    An administrator sending a new password also forgives the account's failed logins.
    """
    ctx = context_of(db)
    password = generate_initial_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    login_throttle.clear_account(db, user.mobile)
    db.flush()
    text = f"Checkpass 管理系統初始密碼：{password} 請於首次登入後修改。{ctx.settings.base_url}"
    try:
        ctx.sms.send(user.mobile, text)
    except Exception as exc:
        log.warning("SMS gateway failed sending an initial password: %s", type(exc).__name__)
        raise Unavailable(
            "could not send the initial password by SMS", reason="sms_failed", retry_after=30
        ) from exc


def issue_token(db: Session, user: User, client_ip: str | None) -> tuple[str, dt.datetime]:
    ttl = context_of(db).settings.token_ttl_seconds
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(seconds=ttl)
    db.add(
        ApiToken(token_hash=token_hash(token), user_id=user.id, expires_at=expires_at, client_ip=client_ip)
    )
    signed_in(user)
    return token, expires_at


def signed_in(user: User) -> bool:
    """`user` has just logged in (a REST token, a console session): the time is kept, and the first login
    registers the account (the city's 註冊成功). True when this was that first login."""
    now = utcnow()
    first = user.registered_at is None
    user.last_login_at = now
    if first:
        user.registered_at = now
    return first


def password_login(
    db: Session, mobile: str, password: str, client_ip: str | None
) -> tuple[User, str, dt.datetime]:
    """Console login, throttled with growing delays (hub.services.login_throttle), never locked.

    A failed try is committed before it is refused (its throttle counts and its audit entry): the one
    kind of write a refusal keeps. Nothing else is written before it."""
    user = db.scalars(
        select(User).where(User.mobile == mobile, User.role.in_([r.value for r in CONSOLE_ROLES]))
    ).first()
    login_throttle.check(db, mobile, client_ip, user.id if user is not None else None)
    if user is None or not user.active:
        password_matches(_dummy_hash(), password)  # the same time as a wrong password
        login_throttle.record_failure(db, mobile, client_ip)
        audit.record(db, "login.failed", target=mask_mobile(mobile), client_ip=client_ip, why="unknown")
        db.commit()
        raise NotAuthenticated("wrong mobile or password", reason="bad_credentials")
    if not password_matches(user.password_hash, password):
        login_throttle.record_failure(db, mobile, client_ip)
        audit.record(db, "login.failed", actor=user, client_ip=client_ip, why="password")
        db.commit()
        raise NotAuthenticated("wrong mobile or password", reason="bad_credentials")
    login_throttle.record_success(db, mobile, client_ip)
    token, expires_at = issue_token(db, user, client_ip)
    audit.record(db, "login", actor=user, client_ip=client_ip, method="password")
    return user, token, expires_at


def change_password(
    db: Session, user: User, current: str, new: str, client_ip: str | None, *, current_token: str
) -> None:
    """Set a new password and end every other session of the user (a changed password is often a
    reaction to a leak: whoever holds an old token must log in again). The session making the change
    (`current_token`) stays. A wrong current password counts in the login throttle like a failed login,
    so a stolen token cannot be used to guess the password (that failure is committed before the refusal,
    as in `password_login`)."""
    s = context_of(db).settings
    login_throttle.check(db, user.mobile, client_ip, user.id)
    if not password_matches(user.password_hash, current):
        login_throttle.record_failure(db, user.mobile, client_ip)
        db.commit()
        raise Invalid("the current password is wrong", field="current_password", reason="bad_credentials")
    if len(new) < s.password_min_length:
        raise Invalid(
            f"at least {s.password_min_length} characters",
            field="new_password",
            reason="weak_password",
            message_key="password.too_short",
            params={"n": s.password_min_length},
        )
    if new == current:
        raise Invalid(
            "the new password must differ from the current one",
            field="new_password",
            reason="weak_password",
            message_key="password.same_as_current",
        )
    if new.isdigit() or new.isalpha():
        raise Invalid(
            "mix letters with digits or symbols",
            field="new_password",
            reason="weak_password",
            message_key="password.needs_mix",
        )
    user.password_hash = hash_password(new)
    user.must_change_password = False
    ended = db.execute(
        update(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.token_hash != token_hash(current_token),
            ApiToken.revoked.is_(False),
        )
        .values(revoked=True)
    ).rowcount
    audit.record(db, "password.changed", actor=user, client_ip=client_ip, sessions_ended=ended)


def active_account(db: Session, user_id: int) -> User | None:
    """The account, if it still exists and is active (work done later for it asks again)."""
    user = db.get(User, user_id)
    return user if user is not None and user.active else None


# Built once: every authenticated request runs it, and building it anew (with its cache key) was a
# measurable share of a pass fetch (docs/deploy.md, "The hub's own cost per request").
_TOKEN_USER = (
    select(ApiToken.revoked, ApiToken.expires_at, User)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def user_of_token(db: Session, token: str) -> User:
    """The active account a bearer token stands for; NotAuthenticated when the token is unknown, expired,
    logged out, or its account disabled."""
    row = db.execute(_TOKEN_USER, {"token_hash": token_hash(token)}).first()
    if row is None:
        raise NotAuthenticated("unknown token", reason="invalid_token")
    revoked, expires_at, user = row
    if revoked or expires_at <= utcnow():
        raise NotAuthenticated("token expired or logged out", reason="invalid_token")
    if not user.active:
        raise NotAuthenticated("account disabled", reason="account_disabled")
    return user


def logout(db: Session, user: User, token: str) -> None:
    db.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.user_id == user.id)
        .values(revoked=True)
    )


def revoke_all_tokens(db: Session, user_id: int) -> None:
    db.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(revoked=True))


# --- SMS-code login for the organisation roles (station admin, enterprise admin, employee) ---

SMS_LOGIN_ROLES = (Role.STATION_ADMIN, Role.ENTERPRISE_ADMIN)


def sms_login_accounts(db: Session, mobile: str) -> list[User]:
    """The accounts a mobile may log in to with an SMS code, provisioning employee accounts from the
    enterprise whitelists on first use (docs/requirements.md: employees register by mobile + SMS code)."""
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
        raise NotFound("officer")
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


def request_code(
    db: Session, mobile: str, purpose: str, client_ip: str | None, *, venue_code: str | None = None
) -> None:
    """Send an SMS code for a public purpose. A login code is delivered only to a mobile with an account,
    but one is recorded either way (hub.services.otp: `deliver=False`), so the cooldown, the caps and
    wrong guesses answer the same for every number: nobody can probe which numbers are registered.
    A check-in code (`visit`) is for a venue that exists (NotFound otherwise, nothing sent) and counts
    against that venue's caps."""
    venue_id = None
    if purpose == otp.Purpose.VISIT:
        if not venue_code:
            raise Invalid("a check-in code is asked for a venue: venue_code", field="venue_code")
        venue_id = venue_by_code(db, venue_code).id
    deliver = purpose != otp.Purpose.LOGIN or has_sms_login(db, mobile)
    otp.request_code(db, mobile, purpose, client_ip, deliver=deliver, venue_id=venue_id)


def sms_login(
    db: Session,
    mobile: str,
    code: str,
    client_ip: str | None,
    *,
    role: str | None = None,
    org_id: int | None = None,
) -> tuple[User, str, dt.datetime]:
    """Login for station admins, enterprise admins and employees: mobile + SMS code (purpose `login`).

    The first such login registers the account (the city's first-login SMS confirmation). A mobile with
    several accounts gets Conflict `choose_account` listing them (role, organisation, its name) and the
    code stays valid for the retry that names one (the refusal's unit of work rolls the code's use back)."""
    otp.verify_code(db, mobile, otp.Purpose.LOGIN, code)
    accounts = sms_login_accounts(db, mobile)
    if role is not None:
        accounts = [a for a in accounts if a.role == role]
    if org_id is not None:
        accounts = [a for a in accounts if a.org_id == org_id]
    if not accounts:
        raise NotFound("account", reason="no_account")
    if len(accounts) > 1:
        # Read the names now: the rollback discards the employee accounts made just now.
        choices = [account_choice(a) for a in accounts]
        raise Conflict(
            {"message": "several accounts; send role and org_id", "accounts": choices},
            reason="choose_account",
        )
    user = accounts[0]
    first = user.registered_at is None
    token, expires_at = issue_token(db, user, client_ip)
    audit.record(db, "login", actor=user, client_ip=client_ip, method="sms", first_login=first)
    return user, token, expires_at


def account_choice(user: User) -> dict[str, object]:
    """One line of a `choose_account` list. It goes only to whoever holds the code sent to the mobile,
    that is the accounts' owner: the organisation's name is in clear (a company or a police station, on
    public registers), the person's name masked like everywhere else."""
    organisation = user.organisation
    session = Session.object_session(user)
    if organisation is None and user.org_id is not None and session is not None:
        organisation = session.get(Organisation, user.org_id)
    return {
        "role": user.role,
        "org_id": user.org_id,
        "org_name": organisation.name if organisation is not None else None,
        "org_kind": organisation.kind if organisation is not None else None,
        "name_masked": mask_name(user.name) if user.name else "",
    }
