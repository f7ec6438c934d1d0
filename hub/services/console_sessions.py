"""Console sessions kept in the database: start at login, look up and touch per request, end at logout.

The console's service for its own table: the web layer (`hub.console.web`) moves the id between the
cookie and these functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.db import utcnow
from hub.models.console import ConsoleSession
from hub.models.identity import User
from hub.services import audit, console_intents, identity

# A session's last-seen time is written at most this often: a page view need not be a database write.
_TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Started:
    session_id: str  # goes into the cookie, never stored
    csrf_token: str


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def start(db: Session, user: User, client_ip: str | None) -> Started:
    """A new session for `user` after a successful login: always a fresh id (no fixation)."""
    settings = context_of(db).settings
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    # Form intents outlive no session (a session lasts at most this long); logins are few, so tidy here.
    console_intents.forget_old(db, dt.timedelta(seconds=settings.console_session_max_seconds))
    db.add(
        ConsoleSession(
            session_hash=_hash(session_id),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(seconds=settings.console_session_max_seconds),
            client_ip=client_ip,
        )
    )
    return Started(session_id, csrf)


def find(db: Session, session_id: str | None) -> tuple[ConsoleSession, User] | None:
    """The live session for a cookie value and its active user, touched; None when unknown or ended."""
    if not session_id or len(session_id) > 128:
        return None
    row = db.execute(
        select(ConsoleSession, User)
        .join(User, User.id == ConsoleSession.user_id)
        .where(ConsoleSession.session_hash == _hash(session_id))
    ).first()
    if row is None:
        return None
    session, user = row
    now = utcnow()
    idle = dt.timedelta(seconds=context_of(db).settings.console_idle_timeout_seconds)
    if session.ended_at is not None or not user.active:
        return None
    if _aware(session.expires_at) <= now or _aware(session.last_seen_at) + idle <= now:
        session.ended_at = now
        db.commit()
        return None
    if now - _aware(session.last_seen_at) >= _TOUCH_EVERY:
        session.last_seen_at = now
        db.commit()
    return session, user


def end(db: Session, session: ConsoleSession, user: User, client_ip: str | None) -> None:
    session.ended_at = utcnow()
    audit.record(db, "logout", actor=user, client_ip=client_ip, via="console")
    db.commit()


def end_others(db: Session, user: User, *, keep: ConsoleSession) -> None:
    """Every other console session of `user` ends (after a password change)."""
    db.execute(
        update(ConsoleSession)
        .where(
            ConsoleSession.user_id == user.id, ConsoleSession.ended_at.is_(None), ConsoleSession.id != keep.id
        )
        .values(ended_at=utcnow())
    )
    db.commit()


def end_everywhere(db: Session, user: User, client_ip: str | None) -> None:
    """Every console session and API token of `user` ends (a lost laptop, a shared computer)."""
    db.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user.id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    identity.revoke_all_tokens(db, user.id)
    audit.record(db, "logout.everywhere", actor=user, client_ip=client_ip, via="console")
    db.commit()
