"""Venue codes (實聯碼) and visits: someone scans a venue's QR, confirms their mobile with an SMS code,
and a visit is recorded; a person's footprint and a venue's visits cover the retention window."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Self

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hub.context import context_of
from hub.core.fields import Address, PersonName, Phone, VenueName
from hub.core.masking import mask_mobile, show_mobile
from hub.core.permissions import Permission
from hub.db import utcnow
from hub.models.audit import AuditEvent
from hub.models.identity import Role
from hub.models.organisations import Organisation, OrgKind
from hub.models.venues import Venue, Visit
from hub.services import audit, otp
from hub.services.errors import Conflict, Invalid, NotAllowed, NotFound, Rejected
from hub.services.scope import Scope
from hub.services.unit_of_work import REPEAT_WINDOW, serialise

# Unambiguous characters: the code is also printed under the QR for people who type it.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_VENUES_PER_ORG = 200
MAX_VENUE_NAME_CHARS = 8  # the city's 實聯申請單: each code name at most 8 characters


class VenueApplication(BaseModel):
    """The city's 實聯申請單: address and contact (stored on the organisation) and the code names; what
    REST takes as its body and the console builds from its form (the same limits for both)."""

    names: list[VenueName] = Field(min_length=1, max_length=20)
    address: Address | None = None
    contact_name: PersonName | None = None
    contact_phone: Phone | None = None


def new_venue_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


def venue_url(db: Session, venue: Venue) -> str:
    """What the venue QR holds: a link any phone camera opens (the LINE/web flow takes it from there)."""
    return f"{context_of(db).settings.base_url.rstrip('/')}/v/{venue.code}"


# What is shown of a venue code, to anyone (it is printed at an entrance): the organisation's name, the
# code and what its QR holds.
class VenueOut(BaseModel):
    id: int
    org_id: int
    org_name: str
    name: str
    code: str
    qr_text: str

    @classmethod
    def of(cls, db: Session, venue: Venue, org: Organisation) -> VenueOut:
        return cls(
            id=venue.id,
            org_id=org.id,
            org_name=org.name,
            name=venue.name,
            code=venue.code,
            qr_text=venue_url(db, venue),
        )


# A visit as its visitor sees it: where and when (a visit just recorded, and each entry of a footprint:
# two names for one shape, as REST's answers have always called them).
class VisitOut(BaseModel):
    venue_name: str
    org_name: str
    visited_at: dt.datetime

    @classmethod
    def of(cls, visit: Visit, venue: Venue, org: Organisation) -> Self:
        return cls(venue_name=venue.name, org_name=org.name, visited_at=visit.visited_at)


# A footprint's entry: a visit, under the name REST's footprint answer has always given it (a docstring
# would become the schema's description and change the published API document).
class FootprintEntry(VisitOut):
    pass


# A visit as the venue's organisation sees it: who and when, the visitor's mobile masked unless the
# reader holds personal_data.unmask and asked (`venue_visits` checks and audits that).
class VenueVisit(BaseModel):
    mobile: str  # masked unless unmasked on request with the permission
    visited_at: dt.datetime

    @classmethod
    def of(cls, visit: Visit, *, unmask: bool = False) -> VenueVisit:
        return cls(mobile=show_mobile(visit.mobile, unmask), visited_at=visit.visited_at)


def check_names(names: list[str], taken: set[str]) -> None:
    """The code names of one application: each at most MAX_VENUE_NAME_CHARS characters, none already an
    organisation's (`taken`) nor given twice. The refusal names the name, in the applicant's words."""
    for name in names:
        if len(name) > MAX_VENUE_NAME_CHARS:
            raise Rejected(
                f"實聯碼名稱最多 {MAX_VENUE_NAME_CHARS} 個字：「{name}」有 {len(name)} 個字，"
                "請縮短後再送出。",
                field="names",
                reason="venue_name_too_long",
                params={"name": name, "n": len(name), "max": MAX_VENUE_NAME_CHARS},
            )
    dupes = sorted({n for n in names if n in taken or names.count(n) > 1})
    if dupes:
        shown = "、".join(f"「{n}」" for n in dupes)
        raise Conflict(
            f"實聯碼名稱{shown}重複：同一單位的實聯碼名稱不可相同，請改用其他名稱。",
            reason="duplicate_venue_name",
            params={"names": "、".join(dupes)},
        )


def add_venues(db: Session, org: Organisation, names: list[str]) -> list[Venue]:
    existing = list(db.scalars(select(Venue).where(Venue.org_id == org.id)))
    if len(existing) + len(names) > MAX_VENUES_PER_ORG:
        raise Invalid(
            reason="too_many_venues",
            detail=f"at most {MAX_VENUES_PER_ORG} venue codes per organisation",
            params={"max": MAX_VENUES_PER_ORG},
        )
    check_names(names, {v.name for v in existing})
    venues = [Venue(org_id=org.id, name=name, code=new_venue_code()) for name in names]
    db.add_all(venues)
    db.flush()
    return venues


_VENUE_BY_CODE = select(Venue).where(Venue.code == bindparam("code"))  # built once: every check-in


def venue_by_code(db: Session, code: str) -> Venue:
    venue = db.scalars(_VENUE_BY_CODE, {"code": code.strip().upper()}).first()
    if venue is None:
        raise NotFound("venue code")
    return venue


def record_visit(db: Session, venue_code: str, mobile: str, code: str, client_ip: str | None) -> Visit:
    """The city's 實聯登記: identified by mobile + SMS code (purpose `visit`)."""
    venue = venue_by_code(db, venue_code)
    try:
        otp.verify_code(db, mobile, otp.Purpose.VISIT, code)
    except Invalid as exc:
        # the same code again (a double tap on 登記): the visit it recorded, not a second one or an error
        used = otp.repeated_code(db, mobile, otp.Purpose.VISIT, code) if exc.reason == "code_used" else None
        earlier = _visit_since(db, venue.id, mobile, used.created_at) if used is not None else None
        if earlier is None:
            raise
        return earlier
    visit = Visit(venue_id=venue.id, mobile=mobile, visited_at=utcnow())
    db.add(visit)
    db.flush()
    return visit


def _visit_since(db: Session, venue_id: int, mobile: str, since: dt.datetime) -> Visit | None:
    return db.scalars(
        select(Visit)
        .where(Visit.venue_id == venue_id, Visit.mobile == mobile, Visit.visited_at >= since)
        .order_by(Visit.visited_at, Visit.id)
        .limit(1)
    ).first()


def record_own_visit(db: Session, scope: Scope, venue_code: str) -> Visit:
    """實聯登記 by a person already signed in by SMS code (a LINE user bound to their mobile): the visit
    is always the caller's own account's mobile, proven when the caller signed in, so no second code is
    asked. There is no mobile to pass: nobody checks someone else in. Hub-wide accounts (console
    admins) are not visitors and are refused."""
    if scope.hub_wide:
        raise NotAllowed("hub administrators do not check in at venues")
    venue = venue_by_code(db, venue_code)
    # a repeated tap (or a resend after a lost answer) is the same visit: answered with the first
    serialise(db, f"visit:{scope.user.mobile}")
    earlier = _visit_since(db, venue.id, scope.user.mobile, utcnow() - REPEAT_WINDOW)
    if earlier is not None:
        return earlier
    visit = Visit(venue_id=venue.id, mobile=scope.user.mobile, visited_at=utcnow())
    db.add(visit)
    db.flush()
    audit.record(
        db, "visit.signed_in", actor=scope.user, target=f"venue:{venue.id}", client_ip=scope.client_ip
    )
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


# ---- the front ends' operations, each with the caller's Scope ----------------------------------


def org_for_venues(db: Session, scope: Scope, org_id: int) -> Organisation:
    """Enterprise and station admins manage their own organisation's venue codes; hub admins any, with
    the permission for its kind (stations.manage or enterprises.manage)."""
    org = db.get(Organisation, org_id)
    if org is None:
        raise NotFound("organisation")
    if scope.role in (Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN) and scope.member_of(org_id):
        return org
    if scope.hub_wide:
        scope.require(
            Permission.STATIONS_MANAGE if org.kind == OrgKind.STATION else Permission.ENTERPRISES_MANAGE
        )
        return org
    raise NotAllowed("outside your organisation")


def apply_for_venues(
    db: Session,
    scope: Scope,
    *,
    org_id: int,
    names: list[str],
    address: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
) -> tuple[Organisation, list[Venue]]:
    """The city's 實聯申請單: the organisation's address and contact, and one venue code per name. The
    same application again within REPEAT_WINDOW (a double tap) gets the codes the first one made."""
    org = org_for_venues(db, scope, org_id)
    serialise(db, f"venues:{org.id}")
    if address is not None:
        org.address = address
    if contact_name is not None:
        org.contact_name = contact_name
    if contact_phone is not None:
        org.contact_phone = contact_phone
    if not org.address:
        raise Invalid(
            reason="address_required",
            detail="the application needs the organisation's address",
            field="address",
        )
    repeat = _same_application(db, scope, org.id, names)
    if repeat is not None:
        return org, repeat
    created = add_venues(db, org, names)
    audit.record(
        db,
        "venues.created",
        actor=scope.user,
        target=f"org:{org.id}",
        client_ip=scope.client_ip,
        venue_ids=[v.id for v in created],
    )
    return org, created


def _same_application(db: Session, scope: Scope, org_id: int, names: list[str]) -> list[Venue] | None:
    """The venues this caller's last application for the organisation made, if it was within
    REPEAT_WINDOW and asked for exactly these names (the audit trail records which it made)."""
    last = db.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == "venues.created",
            AuditEvent.target == f"org:{org_id}",
            AuditEvent.actor_user_id == scope.user.id,
            AuditEvent.at >= utcnow() - REPEAT_WINDOW,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    ids = (last.details or {}).get("venue_ids") if last is not None else None
    if not ids:
        return None
    made = {v.id: v for v in db.scalars(select(Venue).where(Venue.id.in_(ids)))}
    venues = [made[i] for i in ids if i in made]
    return venues if [v.name for v in venues] == names else None


def list_venues(db: Session, scope: Scope, *, org_id: int) -> tuple[Organisation, list[Venue]]:
    org = org_for_venues(db, scope, org_id)
    return org, list(db.scalars(select(Venue).where(Venue.org_id == org_id).order_by(Venue.id)))


def venue_in_scope(db: Session, scope: Scope, venue_id: int) -> tuple[Venue, Organisation]:
    venue = db.get(Venue, venue_id)
    if venue is None:
        raise NotFound("venue")
    return venue, org_for_venues(db, scope, venue.org_id)


def delete_venue(db: Session, scope: Scope, *, venue_id: int) -> None:
    venue, _org = venue_in_scope(db, scope, venue_id)
    db.delete(venue)
    audit.record(db, "venue.deleted", actor=scope.user, target=f"venue:{venue_id}", client_ip=scope.client_ip)


def venues_to_print(db: Session, scope: Scope, *, org_id: int) -> tuple[Organisation, list[Venue]]:
    org, rows = list_venues(db, scope, org_id=org_id)
    if not rows:
        raise NotFound(reason="not_found", detail="no venue codes to print")
    return org, rows


def where_visited(db: Session, visit: Visit) -> tuple[Venue, Organisation]:
    """Where a visit was: its venue and the venue's organisation."""
    venue = db.get(Venue, visit.venue_id)
    assert venue is not None  # a visit's venue is a foreign key
    org = db.get(Organisation, venue.org_id)
    assert org is not None
    return venue, org


def lookup_venue(db: Session, code: str) -> tuple[Venue, Organisation]:
    """Public: what a scanned venue code is (shown before the visitor confirms with an SMS code)."""
    if len(code) > 32:
        raise NotFound("venue code")
    venue = venue_by_code(db, code)
    org = db.get(Organisation, venue.org_id)
    assert org is not None
    return venue, org


def visit(
    db: Session, *, venue_code: str, mobile: str, code: str, client_ip: str | None
) -> tuple[Visit, Venue, Organisation]:
    """Public: record a visit, proven by the SMS code sent to `mobile`."""
    recorded = record_visit(db, venue_code, mobile, code, client_ip)
    venue = db.get(Venue, recorded.venue_id)
    assert venue is not None
    org = db.get(Organisation, venue.org_id)
    assert org is not None
    return recorded, venue, org


def footprint_by_code(
    db: Session, *, mobile: str, code: str, client_ip: str | None
) -> list[tuple[Visit, Venue, Organisation]]:
    """Public: a person's own footprint, proven by an SMS code (purpose `footprint`); audited. The same
    code again at once (a double tap on 查詢) reads it again rather than failing as used."""
    try:
        otp.verify_code(db, mobile, otp.Purpose.FOOTPRINT, code)
    except Invalid as exc:
        if exc.reason != "code_used" or otp.repeated_code(db, mobile, otp.Purpose.FOOTPRINT, code) is None:
            raise
    rows = footprint(db, mobile)
    audit.record(
        db, "query.footprint", target=mask_mobile(mobile), client_ip=client_ip, results=len(rows), own=True
    )
    return rows


def my_footprint(db: Session, scope: Scope) -> list[tuple[Visit, Venue, Organisation]]:
    """The caller's own footprint (by the mobile they logged in with); audited."""
    rows = footprint(db, scope.user.mobile)
    audit.record(
        db,
        "query.footprint",
        actor=scope.user,
        target=mask_mobile(scope.user.mobile),
        client_ip=scope.client_ip,
        results=len(rows),
        own=True,
    )
    return rows


def venue_visits(db: Session, scope: Scope, *, venue_id: int, unmask: bool = False) -> list[Visit]:
    """A venue's visits in the retention window, for its organisation's admins and hub admins with
    query.visits; in clear only with personal_data.unmask. Audited."""
    venue = db.get(Venue, venue_id)
    if venue is None:
        raise NotFound("venue")
    if not (scope.role in (Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN) and scope.member_of(venue.org_id)):
        if not scope.hub_wide:
            raise NotAllowed("outside your organisation")
        scope.require(Permission.QUERY_VISITS)
    if unmask:
        scope.require(Permission.PERSONAL_DATA_UNMASK)
    rows = list(
        db.scalars(
            select(Visit)
            .where(Visit.venue_id == venue_id, Visit.visited_at >= window_start(db))
            .order_by(Visit.visited_at.desc())
        )
    )
    audit.record(
        db,
        "query.venue_visits",
        actor=scope.user,
        target=f"venue:{venue_id}",
        client_ip=scope.client_ip,
        subjects=[v.mobile for v in rows],
        results=len(rows),
        unmasked=unmask,
    )
    return rows
