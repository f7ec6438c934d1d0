"""Venue codes (實聯碼): an organisation applies for one or more, prints their QR; visitors record visits
with mobile + SMS code; footprints and venue visits cover the retention window (28 days)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from hub.api.deps import ClientIp, CurrentUser, SettingsDep
from hub.core.fields import Address, Mobile, OtpCodeText, PersonName, Phone, PlainText, RowId, VenueName
from hub.core.masking import mask_mobile, show_mobile
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.errors import HubError
from hub.models.identity import Role, User
from hub.models.organisations import Organisation, OrgKind
from hub.models.venues import Venue, Visit
from hub.services import audit, otp, venues
from hub.services.access import has_permission, is_hub_admin

router = APIRouter(tags=["venues"])


class VenueApplication(BaseModel):
    """The seed's 實聯申請單: address and contact (stored on the organisation) and the code names."""

    names: list[VenueName] = Field(min_length=1, max_length=20)
    address: Address | None = None
    contact_name: PersonName | None = None
    contact_phone: Phone | None = None


class VenueOut(BaseModel):
    id: int
    org_id: int
    org_name: str
    name: str
    code: str
    qr_text: str


class VisitIn(BaseModel):
    venue_code: PlainText = Field(min_length=4, max_length=32)
    mobile: Mobile
    code: OtpCodeText


class VisitOut(BaseModel):
    venue_name: str
    org_name: str
    visited_at: dt.datetime


class FootprintIn(BaseModel):
    mobile: Mobile
    code: OtpCodeText


class FootprintEntry(BaseModel):
    venue_name: str
    org_name: str
    visited_at: dt.datetime


class VenueVisit(BaseModel):
    mobile: str  # masked unless unmasked on request with the permission
    visited_at: dt.datetime


def _venue_out(db: SessionDep, venue: Venue, org: Organisation) -> VenueOut:
    return VenueOut(
        id=venue.id,
        org_id=org.id,
        org_name=org.name,
        name=venue.name,
        code=venue.code,
        qr_text=venues.venue_url(db, venue),
    )


def _org_for_venues(db: SessionDep, user: User, org_id: int) -> Organisation:
    """Enterprise and station admins manage their own venue codes; hub admins with the matching permission
    manage any."""
    org = db.get(Organisation, org_id)
    if org is None:
        raise HubError(404, "not_found", "organisation not found")
    if Role(user.role) in (Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN) and user.org_id == org_id:
        return org
    needed = Permission.STATIONS_MANAGE if org.kind == OrgKind.STATION else Permission.ENTERPRISES_MANAGE
    if is_hub_admin(user) and has_permission(user, needed):
        return org
    raise HubError(403, "forbidden", "outside your organisation")


@router.post("/organisations/{org_id}/venues", response_model=list[VenueOut], status_code=201)
def apply_for_venues(
    org_id: RowId, body: VenueApplication, user: CurrentUser, db: SessionDep, ip: ClientIp
) -> list[VenueOut]:
    org = _org_for_venues(db, user, org_id)
    if body.address is not None:
        org.address = body.address
    if body.contact_name is not None:
        org.contact_name = body.contact_name
    if body.contact_phone is not None:
        org.contact_phone = body.contact_phone
    if not org.address:
        raise HubError(400, "address_required", "the application needs the organisation's address")
    created = venues.add_venues(db, org, list(body.names))
    audit.record(
        db,
        "venues.created",
        actor=user,
        target=f"org:{org.id}",
        client_ip=ip,
        venue_ids=[v.id for v in created],
    )
    db.commit()
    return [_venue_out(db, v, org) for v in created]


@router.get("/organisations/{org_id}/venues", response_model=list[VenueOut])
def list_venues(org_id: RowId, user: CurrentUser, db: SessionDep) -> list[VenueOut]:
    org = _org_for_venues(db, user, org_id)
    return [
        _venue_out(db, v, org)
        for v in db.scalars(select(Venue).where(Venue.org_id == org_id).order_by(Venue.id))
    ]


@router.delete("/venues/{venue_id}", status_code=204)
def delete_venue(venue_id: RowId, user: CurrentUser, db: SessionDep, ip: ClientIp) -> None:
    venue = db.get(Venue, venue_id)
    if venue is None:
        raise HubError(404, "not_found", "venue not found")
    _org_for_venues(db, user, venue.org_id)
    db.delete(venue)
    audit.record(db, "venue.deleted", actor=user, target=f"venue:{venue_id}", client_ip=ip)
    db.commit()


@router.get(
    "/venues/{venue_id}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def venue_png(venue_id: RowId, user: CurrentUser, db: SessionDep) -> Response:
    from crypto.passes import pass_qr_png

    venue = db.get(Venue, venue_id)
    if venue is None:
        raise HubError(404, "not_found", "venue not found")
    _org_for_venues(db, user, venue.org_id)
    return Response(pass_qr_png(venues.venue_url(db, venue)), media_type="image/png")


@router.get(
    "/organisations/{org_id}/venues/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def venues_pdf(org_id: RowId, user: CurrentUser, db: SessionDep, settings: SettingsDep) -> Response:
    """Printable posters, one venue code a page, to put at entrances."""
    from hub.documents.venue_sheet import VenueSheetItem, render_venue_sheet

    org = _org_for_venues(db, user, org_id)
    rows = list(db.scalars(select(Venue).where(Venue.org_id == org_id).order_by(Venue.id)))
    if not rows:
        raise HubError(404, "not_found", "no venue codes to print")
    items = [
        VenueSheetItem(
            qr_text=venues.venue_url(db, v), venue_name=v.name, org_name=org.name, venue_code=v.code
        )
        for v in rows
    ]
    pdf = render_venue_sheet(items, retention_days=settings.retention_days)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="venues-{org_id}.pdf"'},
    )


@router.get("/venue-codes/{code}", response_model=VenueOut)
def lookup_venue_code(code: PlainText, db: SessionDep) -> VenueOut:
    """Public: what a scanned venue code is (shown before the visitor confirms with an SMS code)."""
    if len(code) > 32:
        raise HubError(404, "not_found", "venue code not found")
    venue = venues.venue_by_code(db, code)
    org = db.get(Organisation, venue.org_id)
    assert org is not None
    return _venue_out(db, venue, org)


@router.post("/visits", response_model=VisitOut, status_code=201)
def record_visit(body: VisitIn, db: SessionDep, ip: ClientIp) -> VisitOut:
    """Record a visit: the venue code scanned, the visitor's mobile and the SMS code (purpose `visit`)."""
    visit = venues.record_visit(db, body.venue_code, body.mobile, body.code, ip)
    venue = db.get(Venue, visit.venue_id)
    assert venue is not None
    org = db.get(Organisation, venue.org_id)
    assert org is not None
    db.commit()
    return VisitOut(venue_name=venue.name, org_name=org.name, visited_at=visit.visited_at)


@router.post("/footprint", response_model=list[FootprintEntry])
def my_footprint_by_code(body: FootprintIn, db: SessionDep, ip: ClientIp) -> list[FootprintEntry]:
    """A person's own 28-day footprint, proven by an SMS code (purpose `footprint`)."""
    otp.verify_code(db, body.mobile, otp.Purpose.FOOTPRINT, body.code)
    rows = venues.footprint(db, body.mobile)
    audit.record(
        db, "query.footprint", target=mask_mobile(body.mobile), client_ip=ip, results=len(rows), own=True
    )
    db.commit()
    return [FootprintEntry(venue_name=v.name, org_name=o.name, visited_at=vi.visited_at) for vi, v, o in rows]


@router.get("/me/footprint", response_model=list[FootprintEntry])
def my_footprint(user: CurrentUser, db: SessionDep, ip: ClientIp) -> list[FootprintEntry]:
    rows = venues.footprint(db, user.mobile)
    audit.record(
        db,
        "query.footprint",
        actor=user,
        target=mask_mobile(user.mobile),
        client_ip=ip,
        results=len(rows),
        own=True,
    )
    db.commit()
    return [FootprintEntry(venue_name=v.name, org_name=o.name, visited_at=vi.visited_at) for vi, v, o in rows]


@router.get("/venues/{venue_id}/visits", response_model=list[VenueVisit])
def venue_visits(
    venue_id: RowId,
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    unmask: bool = Query(False, description="needs personal_data.unmask; audited"),
) -> list[VenueVisit]:
    """A venue's visits in the retention window (the seed's 28日場域通行資料), masked by default."""
    venue = db.get(Venue, venue_id)
    if venue is None:
        raise HubError(404, "not_found", "venue not found")
    _org_for_venues_query(db, user, venue.org_id)
    if unmask and not has_permission(user, Permission.PERSONAL_DATA_UNMASK):
        raise HubError(403, "forbidden", "needs permission personal_data.unmask")
    rows = list(
        db.scalars(
            select(Visit)
            .where(Visit.venue_id == venue_id, Visit.visited_at >= venues.window_start(db))
            .order_by(Visit.visited_at.desc())
        )
    )
    audit.record(
        db,
        "query.venue_visits",
        actor=user,
        target=f"venue:{venue_id}",
        client_ip=ip,
        results=len(rows),
        unmasked=unmask,
    )
    db.commit()
    return [VenueVisit(mobile=show_mobile(v.mobile, unmask), visited_at=v.visited_at) for v in rows]


def _org_for_venues_query(db: SessionDep, user: User, org_id: int) -> None:
    if Role(user.role) in (Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN) and user.org_id == org_id:
        return
    if is_hub_admin(user) and has_permission(user, Permission.QUERY_VISITS):
        return
    raise HubError(403, "forbidden", "needs permission query.visits")
