"""A console form acts once: the same submission sent twice has one effect and one answer.

Every form a logged-in page renders carries, next to its CSRF token, a one-time intent token made for that
rendering (`hub.console.web.Page.form_tokens`). The first POST with it claims it: a row for (session,
token) is inserted in the request's own transaction, the page does the work, and its answer — always a
redirect (post, redirect, get) — is written onto the row in that same transaction. Claim, work and answer
are committed together or not at all.

A second POST with the same token (a double click without JavaScript, a reload of the POST, a request
racing the first) cannot insert the row: on PostgreSQL its insert waits for the first transaction and
then fails on the unique key; on SQLite it waits for the write lock first. It then answers the first
one's redirect and does nothing. If the first committed part way and is still working, the second waits
for its answer (`WAIT_SECONDS`), then says the form is still being handled.

A submission that did nothing — refused, rolled back, or answered with a page instead of a redirect (a
refusal shown in the form, a confirmation step) — leaves no row, so the corrected form can be sent again
with the same token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time

from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models.console import ConsoleIntent, ConsoleSession

FIELD = "intent"  # the hidden form field
WAIT_SECONDS = 10.0  # how long a repeat waits for a first submission that committed part way
_POLL_SECONDS = 0.1
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class Busy(Exception):
    """The first submission of this form is still being handled."""


def new_token() -> str:
    return secrets.token_urlsafe(16)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: object) -> bool:
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def claim(db: Session, session: ConsoleSession, token: str) -> ConsoleIntent | str:
    """The claimed row (this request does the work), or the redirect the first submission answered.

    Called before the page does anything in this transaction: a lost race rolls the transaction back."""
    session_id, digest = session.id, _hash(token)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        row = ConsoleIntent(session_id=session_id, token_hash=digest, created_at=utcnow())
        db.add(row)
        try:
            db.flush()
            return row
        except IntegrityError:
            db.rollback()
        earlier = db.execute(
            select(ConsoleIntent.id, ConsoleIntent.location).where(
                ConsoleIntent.session_id == session_id, ConsoleIntent.token_hash == digest
            )
        ).first()
        db.rollback()  # end the read: the next look sees what the first submission committed since
        if earlier is None:
            continue  # the first one did nothing after all: this one may
        if earlier.location is not None:
            return str(earlier.location)
        if time.monotonic() >= deadline:
            raise Busy()
        time.sleep(_POLL_SECONDS)


def answered(row: ConsoleIntent, location: str) -> None:
    """The submission's answer, kept for a repeat of it."""
    row.location = location


def release(db: Session, row: ConsoleIntent) -> None:
    """The submission did nothing that a repeat should not do again: forget the claim."""
    if row.location is None and inspect(row).persistent:
        db.delete(row)
        db.flush()


def forget_old(db: Session, older_than: dt.timedelta) -> None:
    """Intents of sessions long over (a session lives at most `console_session_max_seconds`)."""
    db.execute(delete(ConsoleIntent).where(ConsoleIntent.created_at < utcnow() - older_than))
