"""Growing delays after failed console logins, instead of a lockout anyone could trigger.

NIST SP 800-63B §5.2.2 asks to limit failed tries on an account without letting an attacker lock the
real user out. Three counters of consecutive failures, each keyed by a keyed hash
(hub.core.protection.Protector.throttle_hash), live in the database so every worker sees them:

- pair (account + client address): what one attacker machine can try against one account;
- address: one machine spraying a common password over many accounts;
- account (any address): many machines on one account. An address the account has logged in from
  before (it holds a session token from there) is exempt, so the real user is not slowed by them.

Each counter allows some failures free, then every further failure doubles the wait before the next
try is checked at all (first delay 2 s, at most 15 min by default; the schedule is in docs/identity.md).
A success clears the pair and account counters; a counter is forgotten after a quiet day.
The key is built from the typed mobile whether or not an account has it, so the answers are the same
for unknown numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.db import utcnow
from hub.models.identity import ApiToken
from hub.models.throttle import LoginThrottle
from hub.services.errors import TooManyRequests

ACCOUNT, ADDRESS, PAIR = "account", "address", "pair"


@dataclass(frozen=True)
class _Counter:
    scope: str
    key_hash: str
    free: int


def _counters(db: Session, mobile: str, client_ip: str | None) -> list[_Counter]:
    ctx = context_of(db)
    s, hashed = ctx.settings, ctx.protector.throttle_hash
    counters = [_Counter(ACCOUNT, hashed(ACCOUNT, mobile), s.login_free_failures_per_account)]
    if client_ip:
        counters.append(_Counter(PAIR, hashed(PAIR, mobile, client_ip), s.login_free_failures_per_pair))
        counters.append(_Counter(ADDRESS, hashed(ADDRESS, client_ip), s.login_free_failures_per_address))
    return counters


def delay_after(failures: int, free: int, first_seconds: int, max_seconds: int) -> int:
    """Seconds the next try must wait after `failures` consecutive failures: none within the free
    allowance, then `first_seconds` doubling with every further failure, at most `max_seconds`."""
    if failures < free:
        return 0
    return min(max_seconds, first_seconds * 2 ** min(failures - free, 32))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def check(db: Session, mobile: str, client_ip: str | None, user_id: int | None) -> None:
    """Raise TooManyRequests (with the wait) while any counter of this try is still waiting.

    Called before the password is checked: a try during the wait tells nothing about the password."""
    now = utcnow()
    counters = {(c.scope, c.key_hash): c for c in _counters(db, mobile, client_ip)}
    rows = db.scalars(select(LoginThrottle).where(LoginThrottle.key_hash.in_([k for _, k in counters])))
    wait = 0.0
    for row in rows:
        if (row.scope, row.key_hash) not in counters or row.blocked_until is None:
            continue
        left = (_aware(row.blocked_until) - now).total_seconds()
        if left <= 0:
            continue
        if row.scope == ACCOUNT and _known_address(db, user_id, client_ip):
            continue
        wait = max(wait, left)
    if wait > 0:
        raise TooManyRequests(
            "too many failed logins; wait before trying again",
            retry_after=int(wait) + 1,
            reason="login_throttled",
        )


def _known_address(db: Session, user_id: int | None, client_ip: str | None) -> bool:
    if user_id is None or not client_ip:
        return False
    query = select(ApiToken.id).where(ApiToken.user_id == user_id, ApiToken.client_ip == client_ip).limit(1)
    return db.scalar(query) is not None


def _count_failure(
    db: Session, scope: str, key_hash: str, now: dt.datetime, forget_before: dt.datetime
) -> int:
    """Add one failure to the counter in one UPDATE (atomic on every backend: concurrent failures from
    several workers all count) and return the new count; a counter quiet since `forget_before` restarts.
    The UPDATE holds the row (PostgreSQL) or the database's write lock (SQLite) until the commit."""
    where = (LoginThrottle.scope == scope, LoginThrottle.key_hash == key_hash)
    for _ in range(2):
        counted = db.execute(
            update(LoginThrottle)
            .where(*where)
            .values(
                failures=case(
                    (LoginThrottle.last_failure_at > forget_before, LoginThrottle.failures + 1), else_=1
                ),
                last_failure_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if counted:
            return int(db.scalar(select(LoginThrottle.failures).where(*where)) or 1)
        try:
            with db.begin_nested():
                db.add(LoginThrottle(scope=scope, key_hash=key_hash, failures=1, last_failure_at=now))
            return 1
        except IntegrityError:  # another worker created it first: count on theirs
            continue
    raise RuntimeError("login throttle counter could not be written")


def record_failure(db: Session, mobile: str, client_ip: str | None) -> None:
    """Count a failed try on every counter and set its wait. The caller commits."""
    s = context_of(db).settings
    now = utcnow()
    forget_before = now - dt.timedelta(hours=s.login_failure_memory_hours)
    for counter in _counters(db, mobile, client_ip):
        failures = _count_failure(db, counter.scope, counter.key_hash, now, forget_before)
        wait = delay_after(failures, counter.free, s.login_first_delay_seconds, s.login_max_delay_seconds)
        db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.scope == counter.scope, LoginThrottle.key_hash == counter.key_hash)
            .values(blocked_until=now + dt.timedelta(seconds=wait) if wait else None)
            .execution_options(synchronize_session=False)
        )


def record_success(db: Session, mobile: str, client_ip: str | None) -> None:
    """A right password ends the run of failures for the account and this pair (not for the address:
    one valid account must not wash an address's spraying away). The caller commits."""
    for counter in _counters(db, mobile, client_ip):
        if counter.scope in (ACCOUNT, PAIR):
            db.execute(
                delete(LoginThrottle).where(
                    LoginThrottle.scope == counter.scope, LoginThrottle.key_hash == counter.key_hash
                )
            )


def clear_account(db: Session, mobile: str) -> None:
    """Forget the account's failures (a new initial password was sent by an administrator)."""
    key_hash = context_of(db).protector.throttle_hash(ACCOUNT, mobile)
    db.execute(
        delete(LoginThrottle).where(LoginThrottle.scope == ACCOUNT, LoginThrottle.key_hash == key_hash)
    )
