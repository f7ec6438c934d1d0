"""Venue codes (實聯碼): an organisation applies for one or more, prints their QR; visitors record visits
with mobile + SMS code; footprints and venue visits cover the retention window (28 days)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Query, Request, Response
from pydantic import BaseModel, Field

from hub.api.deps import ClientIp, ScopeDep
from hub.api.routing import APIRouter
from hub.core.fields import Mobile, OtpCodeText, PlainText, RowId
from hub.errors import language_of
from hub.responses import file_response
from hub.services import data_reads, downloads, venues
from hub.services.venues import FootprintEntry, VenueApplication, VenueOut, VenueVisit, VisitOut
from hub.web import SessionDep

if TYPE_CHECKING:  # rows the services hand over, named in annotations only
    from hub.models.organisations import Organisation
    from hub.models.venues import Venue, Visit

router = APIRouter(tags=["venues"])


class VisitIn(BaseModel):
    venue_code: PlainText = Field(min_length=4, max_length=32)
    mobile: Mobile
    code: OtpCodeText


class FootprintIn(BaseModel):
    mobile: Mobile
    code: OtpCodeText


def _footprint_out(rows: list[tuple[Visit, Venue, Organisation]]) -> list[FootprintEntry]:
    return [FootprintEntry.of(*row) for row in rows]


@router.post("/organisations/{org_id}/venues", response_model=list[VenueOut], status_code=201)
def apply_for_venues(
    org_id: RowId, body: VenueApplication, scope: ScopeDep, db: SessionDep
) -> list[VenueOut]:
    org, created = venues.apply_for_venues(
        db,
        scope,
        org_id=org_id,
        names=list(body.names),
        address=body.address,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
    )
    return [VenueOut.of(db, v, org) for v in created]


@router.get("/organisations/{org_id}/venues", response_model=list[VenueOut])
def list_venues(org_id: RowId, scope: ScopeDep, db: SessionDep) -> list[VenueOut]:
    org, rows = venues.list_venues(db, scope, org_id=org_id)
    return [VenueOut.of(db, v, org) for v in rows]


@router.delete("/venues/{venue_id}", status_code=204)
def delete_venue(venue_id: RowId, scope: ScopeDep, db: SessionDep) -> None:
    venues.delete_venue(db, scope, venue_id=venue_id)


@router.get(
    "/venues/{venue_id}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def venue_png(venue_id: RowId, scope: ScopeDep, db: SessionDep) -> Response:
    from crypto.passes import pass_qr_png

    venue, _org = venues.venue_in_scope(db, scope, venue_id)
    return Response(pass_qr_png(venues.venue_url(db, venue)), media_type="image/png")


@router.get(
    "/organisations/{org_id}/venues/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def venues_pdf(org_id: RowId, scope: ScopeDep, db: SessionDep) -> Response:
    """Printable posters, one venue code a page, to put at entrances."""
    return file_response(downloads.venue_posters(db, scope, org_id=org_id))


@router.get("/venue-codes/{code}", response_model=VenueOut)
def lookup_venue_code(code: PlainText, db: SessionDep) -> VenueOut:
    """Public: what a scanned venue code is (shown before the visitor confirms with an SMS code)."""
    venue, org = venues.lookup_venue(db, code)
    return VenueOut.of(db, venue, org)


@router.post("/visits", response_model=VisitOut, status_code=201)
def record_visit(body: VisitIn, db: SessionDep, ip: ClientIp) -> VisitOut:
    """Record a visit: the venue code scanned, the visitor's mobile and the SMS code (purpose `visit`)."""
    visit, venue, org = venues.visit(
        db, venue_code=body.venue_code, mobile=body.mobile, code=body.code, client_ip=ip
    )
    return VisitOut.of(visit, venue, org)


@router.post("/footprint", response_model=list[FootprintEntry])
def my_footprint_by_code(body: FootprintIn, db: SessionDep, ip: ClientIp) -> list[FootprintEntry]:
    """A person's own 28-day footprint, proven by an SMS code (purpose `footprint`)."""
    return _footprint_out(venues.footprint_by_code(db, mobile=body.mobile, code=body.code, client_ip=ip))


class DataReadOut(BaseModel):
    """One read of the person's personal data, as hub.services.data_reads shows it (zh-TW)."""

    event_id: int
    at: str
    reader: str
    what: str
    unmasked: bool
    masking: str
    reason: str | None


class FootprintAndReads(BaseModel):
    visits: list[FootprintEntry]
    reads: list[DataReadOut]


@router.post("/footprint/data-reads", response_model=FootprintAndReads)
def my_footprint_and_reads_by_code(
    body: FootprintIn, db: SessionDep, ip: ClientIp, request: Request
) -> FootprintAndReads:
    """A person's own 28-day footprint and who read their personal data in that time, proven by one SMS
    code (purpose `footprint`): the footprint page's answer."""
    visits = venues.footprint_by_code(db, mobile=body.mobile, code=body.code, client_ip=ip)
    reads = [DataReadOut(**r.shown(language_of(request))) for r in data_reads.reads_of(db, body.mobile)]
    return FootprintAndReads(visits=_footprint_out(visits), reads=reads)


@router.get("/me/footprint", response_model=list[FootprintEntry])
def my_footprint(scope: ScopeDep, db: SessionDep) -> list[FootprintEntry]:
    return _footprint_out(venues.my_footprint(db, scope))


@router.get("/venues/{venue_id}/visits", response_model=list[VenueVisit])
def venue_visits(
    venue_id: RowId,
    scope: ScopeDep,
    db: SessionDep,
    unmask: bool = Query(False, description="needs personal_data.unmask; audited"),
) -> list[VenueVisit]:
    """A venue's visits in the retention window (the city's 28日場域通行資料), masked by default."""
    rows = venues.venue_visits(db, scope, venue_id=venue_id, unmask=unmask)
    return [VenueVisit.of(v, unmask=unmask) for v in rows]
