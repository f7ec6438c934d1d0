"""Venue codes (實聯碼) and visits: someone scans a venue's QR, confirms their mobile with an SMS code,
and a visit is recorded; a person's footprint and a venue's visits cover the retention window."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.db import utcnow
from hub.errors import HubError, not_found
from hub.models.organisations import Organisation
from hub.models.venues import Venue, Visit
from hub.services import otp

# Unambiguous characters: the code is also printed under the QR for people who type it.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_VENUES_PER_ORG = 200


def new_venue_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def venue_url(db: Session, venue: Venue) -> str:
    """What the venue QR holds: a link any phone camera opens (the LINE/web flow takes it from there)."""
    return f"{context_of(db).settings.base_url.rstrip('/')}/v/{venue.code}"


def add_venues(db: Session, org: Organisation, names: list[str]) -> list[Venue]:
    existing = list(db.scalars(select(Venue).where(Venue.org_id == org.id)))
    if len(existing) + len(names) > MAX_VENUES_PER_ORG:
        raise HubError(400, "too_many_venues", f"at most {MAX_VENUES_PER_ORG} venue codes per organisation")
    taken = {v.name for v in existing}
    dupes = sorted({n for n in names if n in taken or names.count(n) > 1})
    if dupes:
        raise HubError(409, "duplicate", f"venue names already used: {', '.join(dupes)}")
    venues = [Venue(org_id=org.id, name=name, code=new_venue_code()) for name in names]
    db.add_all(venues)
    db.flush()
    return venues


def venue_by_code(db: Session, code: str) -> Venue:
    venue = db.scalars(select(Venue).where(Venue.code == code.strip().upper())).first()
    if venue is None:
        raise not_found("venue code")
    return venue


def record_visit(db: Session, venue_code: str, mobile: str, code: str, client_ip: str | None) -> Visit:
    """The seed's 實聯登記: identified by mobile + SMS code (purpose `visit`)."""
    venue = venue_by_code(db, venue_code)
    otp.verify_code(db, mobile, otp.Purpose.VISIT, code)
    visit = Visit(venue_id=venue.id, mobile=mobile, visited_at=utcnow())
    db.add(visit)
    db.flush()
    return visit


def window_start(db: Session) -> dt.datetime:
    return utcnow() - dt.timedelta(days=context_of(db).settings.retention_days)


def footprint(db: Session, mobile: str) -> list[tuple[Visit, Venue, Organisation]]:
    """A person's visits within the retention window, newest first."""
    rows = db.execute(
        select(Visit, Venue, Organisation)
        .join(Venue, Venue.id == Visit.venue_id)
        .join(Organisation, Organisation.id == Venue.org_id)
        .where(Visit.mobile == mobile, Visit.visited_at >= window_start(db))
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]
