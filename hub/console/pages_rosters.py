"""A station's duty roster (the city's 警局流程二: every whitelist's handlers, `hub.console.whitelists`)
and its venue codes (apply, delete, poster PDF).

Who may touch which station is the services' rule: `hub.services.rosters.station_in_scope` (the
station's own admins, or hub admins with stations.manage) and `hub.services.venues.org_for_venues`,
each given the caller's Scope. The page shows mobiles masked, whoever reads.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from hub.console.web import PREFIX, Form, Page, Refused, UserPage, field_text, shows_refusals
from hub.console.whitelists import Where, add_routes
from hub.core.vocabulary import Role
from hub.responses import file_response
from hub.services import downloads, rosters, stations, venues
from hub.services.rosters import OFFICERS

router = APIRouter()


@router.get("/roster", response_class=HTMLResponse)
def my_roster(page: UserPage) -> Response:
    """A station admin's own station; the menu links here."""
    assert page.user is not None
    if Role(page.user.role) is not Role.STATION_ADMIN or page.user.org_id is None:
        raise Refused(403, "error.forbidden")
    return page.redirect(f"{PREFIX}/stations/{page.user.org_id}/roster")


def _roster_page(page: Page, station_id: int) -> Response:
    """The station's roster page; after a refused form on it, with the refusal and what was typed."""
    station = rosters.station_in_scope(page.db, page.scope, station_id)
    officers = [
        dict(OFFICERS.shown(o), id=o.id) for o in OFFICERS.entries(page.db, page.scope, org_id=station_id)
    ]
    org, station_venues = venues.list_venues(page.db, page.scope, org_id=station_id)
    return page.render(
        "roster.html",
        station=stations.StationOut.of(station),
        officers=officers,
        fields=OFFICERS.fields,
        required=OFFICERS.required,
        venues=[venues.VenueOut.of(page.db, v, org) for v in station_venues],
    )


@router.get("/stations/{station_id:int}/roster", response_class=HTMLResponse)
def roster_page(station_id: int, page: UserPage) -> Response:
    return _roster_page(page, station_id)


# The duty roster: every whitelist's handlers (hub.console.whitelists) under the station's roster page.
add_routes(
    router,
    OFFICERS,
    Where("/stations/{org_id:int}", "{entry_id:int}", "/stations/{org_id}/roster", _roster_page),
)


@router.post("/stations/{station_id:int}/venues", response_class=HTMLResponse)
@shows_refusals(_roster_page)
def station_venues_apply(station_id: int, form: Form, page: UserPage) -> Response:
    """The 實聯申請單 for a station: code names (each at most 8 characters), the address on file."""
    names = [n.strip() for n in field_text(form, "names", 200).replace("，", ",").split(",") if n.strip()]
    body = venues.VenueApplication.model_validate(
        {"names": names, "address": field_text(form, "address", 200) or None}
    )
    venues.apply_for_venues(
        page.db, page.scope, org_id=station_id, names=list(body.names), address=body.address
    )
    return page.redirect(f"{PREFIX}/stations/{station_id}/roster", done="venues_applied")


@router.get("/stations/{station_id:int}/venues.pdf")
def station_venue_posters(station_id: int, page: UserPage) -> Response:
    return file_response(downloads.venue_posters(page.db, page.scope, org_id=station_id))
