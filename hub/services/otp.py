"""SMS one-time codes: 6 digits, stored only as a keyed hash, single use, a newer code voids the older,
at most `otp_max_attempts` wrong tries, a resend cooldown and hourly/daily caps per number and per
client address. The lifetime is `otp_ttl_seconds` (why 300 s: see `hub.core.config.Settings`).

Every path that sends a code comes here, so the caps are one rule in one place: per number and per
address always; per LINE user as well for a LIFF form (with the address's caps), and per venue for a
check-in code (`otp_*_cap_per_venue`: a venue code printed on a poster must not become a way to send
SMS to any number). The nginx file rate-limits the same paths per address before a worker is reached
(deploy/nginx/checkpass.conf, docs/deploy.md).

A code may be recorded without being delivered (`deliver=False`): a login code asked for a number with
no account, or an officer login whose name and mobile are not on a roster. The row counts for the
cooldown and the caps and takes wrong tries exactly like a delivered one, so neither the answer to the
request nor the answers to guesses tell whether the number has an account (docs/identity.md).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import secrets
import unicodedata
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.core.clock import as_utc
from hub.db import pg_advisory_lock, utcnow
from hub.models.identity import OtpCode
from hub.services.errors import Invalid, TooManyRequests, Unavailable
from hub.services.unit_of_work import serialise

log = logging.getLogger(__name__)

# ASCII digits only: `\d` also matches other scripts' digits, which would hash as other codes.
_CODE = re.compile(r"[0-9]{6}")
_PURPOSE = re.compile(r"[a-z][a-z_]{0,31}")


class Purpose(StrEnum):
    """What a code is for; a code for one purpose never works for another."""

    LOGIN = "login"
    ENTERPRISE_REGISTRATION = "enterprise_registration"
    OFFICER_LOGIN = "officer_login"
    VISIT = "visit"
    FOOTPRINT = "footprint"


def _sms_text(code: str, ttl_seconds: int) -> str:
    minutes = max(1, ttl_seconds // 60)
    lifetime = f"{minutes} 分鐘" if ttl_seconds >= 60 else f"{ttl_seconds} 秒"
    return f"Checkpass 驗證碼 {code}，{lifetime}內有效，請勿告訴他人。"


def _too_many(detail: str, retry_after: float) -> TooManyRequests:
    return TooManyRequests(detail, retry_after=int(retry_after) + 1, reason="too_many_codes")


def _wrong_code(reason: str, detail: object) -> Invalid:
    return Invalid(detail, field="code", reason=reason)


_WINDOWS = (
    ("since_hour", dt.timedelta(hours=1), "in the last hour"),
    ("since_day", dt.timedelta(days=1), "today"),
)


@functools.lru_cache(maxsize=64)
def _limits_query(caps: tuple[tuple[str, int, int], ...]) -> Select[Any]:
    """One statement for the cooldown and every cap, built once per set of caps (`caps`: which column
    is counted, its hourly and daily cap): the cooldown's last send, then for each cap and window the
    cap-th newest send inside the window. A code request ran one query for each, every one built anew;
    this runs on every code request (docs/deploy.md, "The hub's own cost per request")."""
    last = (
        select(func.max(OtpCode.created_at))
        .where(OtpCode.mobile == bindparam("mobile"), OtpCode.purpose == bindparam("purpose"))
        .scalar_subquery()
    )
    columns: list[Any] = [last]
    for column, hourly, daily in caps:
        counted = getattr(OtpCode, column)
        for (since, _, _), cap in zip(_WINDOWS, (hourly, daily), strict=True):
            # The cap-th newest send in the window, if there is one: then the cap is reached, and the wait
            # is until that send leaves the window. One row, not up to `cap` rows: a carrier's NAT puts
            # thousands of people behind one address.
            columns.append(
                select(OtpCode.created_at)
                .where(counted == bindparam(column), OtpCode.created_at > bindparam(since))
                .order_by(OtpCode.created_at.desc())
                .offset(cap - 1)
                .limit(1)
                .scalar_subquery()
            )
    return select(*columns)


def _check_limits(
    db: Session,
    mobile_e164: str,
    purpose: str,
    client_ip: str | None,
    now: dt.datetime,
    *,
    line_user: str | None = None,
    venue_id: int | None = None,
) -> None:
    """Raise TooManyRequests when the cooldown or an hourly/daily cap per number, address, LINE user or
    venue is reached (checked in that order).

    The wait is until the oldest send inside the window leaves it, not the whole window."""
    s = context_of(db).settings
    checks: list[tuple[str, object, int, int, str]] = [
        ("mobile", mobile_e164, s.otp_hourly_cap_per_number, s.otp_daily_cap_per_number, "number")
    ]
    if client_ip:
        checks.append(("client_ip", client_ip, s.otp_hourly_cap_per_ip, s.otp_daily_cap_per_ip, "address"))
    if line_user:
        checks.append(
            ("line_user", line_user, s.otp_hourly_cap_per_ip, s.otp_daily_cap_per_ip, "LINE account")
        )
    if venue_id is not None:
        checks.append(("venue_id", venue_id, s.otp_hourly_cap_per_venue, s.otp_daily_cap_per_venue, "venue"))
    query = _limits_query(tuple((column, hourly, daily) for column, _, hourly, daily, _ in checks))
    values: dict[str, object] = {column: value for column, value, *_ in checks}
    values.update(purpose=purpose, **{since: now - window for since, window, _ in _WINDOWS})
    last, *capped = db.execute(query, values).one()
    if last is not None:
        wait = s.otp_resend_cooldown_seconds - (now - as_utc(last)).total_seconds()
        if wait > 0:
            raise _too_many("wait before asking for another code", wait)
    windows = ((window, when, check[4]) for check in checks for _, window, when in _WINDOWS)
    for (window, when, what), sent in zip(windows, capped, strict=True):
        if sent is not None:
            raise _too_many(
                f"too many codes for this {what} {when}", (as_utc(sent) + window - now).total_seconds()
            )


def request_code(
    db: Session,
    mobile_e164: str,
    purpose: str,
    client_ip: str | None,
    *,
    deliver: bool = True,
    line_user: str | None = None,
    venue_id: int | None = None,
) -> None:
    """Record a new code (voiding older ones for the same number and purpose) and, if `deliver`, send it
    by SMS. The command's unit of work commits the row. `line_user` (a LIFF form's caller, as
    hub.services.line_bindings.user_tag names it) and `venue_id` (a check-in code's venue) are counted by
    caps of their own besides the number and the address.

    Raises TooManyRequests on cooldown/caps, Unavailable if the SMS gateway fails (then the unit of work
    records nothing: the person got no code).
    """
    if not _PURPOSE.fullmatch(purpose):
        raise Invalid("unknown code purpose", field="purpose", reason="bad_purpose")
    ctx = context_of(db)
    s = ctx.settings
    if db.get_bind().dialect.name == "postgresql":
        # One request per number at a time across every worker and machine, until this transaction
        # ends: the cooldown and caps count rows, and two racing requests would both pass them.
        pg_advisory_lock(db, f"otp-request:{mobile_e164}")
    now = utcnow()
    _check_limits(db, mobile_e164, purpose, client_ip, now, line_user=line_user, venue_id=venue_id)

    db.execute(_VOID_LIVE, {"for_mobile": mobile_e164, "for_purpose": purpose})
    code = f"{secrets.randbelow(10**6):06d}"
    # stored before it is sent: a code that cannot be stored is never sent
    db.execute(
        _NEW_CODE,
        {
            "mobile": mobile_e164,
            "purpose": purpose,
            "code_hash": ctx.protector.otp_hash(mobile_e164, purpose, code),
            "client_ip": client_ip,
            "line_user": line_user,
            "venue_id": venue_id,
            "created_at": now,
            "expires_at": now + dt.timedelta(seconds=s.otp_ttl_seconds),
        },
    )
    if deliver:
        try:
            ctx.sms.send(mobile_e164, _sms_text(code, s.otp_ttl_seconds))
        except Exception as exc:  # any gateway failure: the person gets no code, so record none
            log.warning("SMS gateway failed for a code (%s): %s", purpose, type(exc).__name__)
            raise Unavailable(
                "could not send the SMS; try again later", reason="sms_failed", retry_after=30
            ) from exc


# The statements every code request and check runs, built once (docs/deploy.md, "The hub's own cost per
# request"). Plain statements on the table, not ORM ones (no object to track for the new code's row, no
# evaluating the UPDATEs' conditions against the session's objects): the code's row is always read
# afresh (`_LATEST`, populate_existing) before a check.
_CODES = OtpCode.__table__
_NEW_CODE = insert(_CODES)  # `attempts` and `state` from the columns' defaults
_VOID_LIVE = (
    update(_CODES)
    .where(_CODES.c.mobile == bindparam("for_mobile"), _CODES.c.purpose == bindparam("for_purpose"))
    .where(_CODES.c.state == "live")
    .values(state="voided")
)
_LATEST = (
    select(OtpCode)
    .where(OtpCode.mobile == bindparam("mobile"), OtpCode.purpose == bindparam("purpose"))
    .order_by(OtpCode.created_at.desc(), OtpCode.id.desc())
    .limit(1)
    .execution_options(populate_existing=True)  # as stored now, even if the session has the row already
)
_TAKE_TRY = (
    update(_CODES)
    .where(_CODES.c.id == bindparam("code_id"), _CODES.c.state == "live")
    .where(_CODES.c.attempts < bindparam("max_attempts"))
    .values(attempts=_CODES.c.attempts + 1)
    .returning(_CODES.c.attempts)
)
_MARK_USED = (
    update(_CODES).where(_CODES.c.id == bindparam("code_id"), _CODES.c.state == "live").values(state="used")
)


def code_as_typed(code: str) -> str:
    """A code as a person typed it, in the form it was sent: NFKC (a phone's full-width keyboard types
    １２３４５６, which is 123456) and without spaces ("123 456")."""
    return "".join(unicodedata.normalize("NFKC", code).split())


def _latest_code(db: Session, mobile_e164: str, purpose: str) -> OtpCode | None:
    """The newest code sent to this number for this purpose: the only one that may still be typed."""
    return db.scalars(_LATEST, {"mobile": mobile_e164, "purpose": purpose}).first()


def verify_code(db: Session, mobile_e164: str, purpose: str, code: str) -> None:
    """Accept `code` (as typed: see `code_as_typed`) once. On success the code is marked used in the
    command's unit of work (committed together with what the code authorises).

    A wrong try is committed at once, then refused: the one write a refusal must keep, or the tries would
    be unlimited. Callers check the code before they write anything, so this commit holds nothing else."""
    code = code_as_typed(code) if isinstance(code, str) and len(code) <= 32 else ""
    if not _CODE.fullmatch(code):
        raise _wrong_code("code_malformed", "the code is 6 digits")
    # One check per number and purpose at a time: a repeated request (a double tap) waits for the first
    # to commit, then finds the code used and can be answered as the first was (`repeated_code`).
    serialise(db, f"otp:{purpose}:{mobile_e164}")
    ctx = context_of(db)
    now = utcnow()
    row = _latest_code(db, mobile_e164, purpose)
    if row is None or row.state == "voided":
        raise _wrong_code("code_invalid", "no code was sent for this, or a newer one was")
    if row.state == "used":
        raise _wrong_code("code_used", "this code was already used; ask for a new one")
    if row.state == "exhausted" or row.attempts >= ctx.settings.otp_max_attempts:
        raise _wrong_code("code_exhausted", "too many wrong tries; ask for a new code")
    if as_utc(row.expires_at) <= now:
        raise _wrong_code("code_expired", "the code has expired; ask for a new one")

    # Every try, right or wrong, first takes one of the attempts left with one conditional UPDATE (which
    # also row-locks the code until this transaction ends): tries racing on several workers can never
    # have more than `otp_max_attempts` codes checked between them (docs/deploy.md).
    tries = {"code_id": row.id, "max_attempts": ctx.settings.otp_max_attempts}
    attempts = db.execute(_TAKE_TRY, tries).scalar()
    if attempts is None:  # the last attempts went to tries on other workers meanwhile
        db.rollback()
        raise _wrong_code("code_exhausted", "too many wrong tries; ask for a new code")
    if not ctx.protector.equal(row.code_hash, ctx.protector.otp_hash(mobile_e164, purpose, code)):
        left = ctx.settings.otp_max_attempts - attempts
        if left <= 0:
            db.execute(update(OtpCode).where(OtpCode.id == row.id).values(state="exhausted"))
        db.commit()  # the wrong try must count although the unit of work rolls the refusal back
        if left <= 0:
            raise _wrong_code("code_exhausted", "too many wrong tries; ask for a new code")
        raise _wrong_code("code_wrong", {"message": "wrong code", "tries_left": left})

    # Conditional update: of two concurrent requests with the right code, only one wins.
    won = db.execute(_MARK_USED, {"code_id": row.id}).rowcount
    if won != 1:
        raise _wrong_code("code_used", "this code was already used; ask for a new one")


def repeated_code(db: Session, mobile_e164: str, purpose: str, code: str) -> OtpCode | None:
    """The newest code for the number and purpose if `code` is it, already used and still within its
    lifetime: the request is a repeat of the one the code authorised (a double tap, a resend after a lost
    answer), and the caller answers it as it answered the first, doing nothing again. None otherwise.

    Call it after `verify_code` refused with `code_used`. The comparison takes one of the code's tries,
    committed like a wrong try, so a used code cannot be guessed at for free."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return None
    ctx = context_of(db)
    row = _latest_code(db, mobile_e164, purpose)
    if row is None or row.state != "used" or as_utc(row.expires_at) <= utcnow():
        return None
    attempts = db.execute(
        update(OtpCode)
        .where(OtpCode.id == row.id, OtpCode.attempts < ctx.settings.otp_max_attempts)
        .values(attempts=OtpCode.attempts + 1)
        .returning(OtpCode.attempts)
    ).scalar()
    if attempts is None:
        return None
    if not ctx.protector.equal(row.code_hash, ctx.protector.otp_hash(mobile_e164, purpose, code)):
        db.commit()  # the try counts although the refusal that follows rolls the unit of work back
        return None
    return row
