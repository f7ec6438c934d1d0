"""A station's duty roster (the city's 警局流程二: add, edit, delete, .xlsx import and its template) and
its venue codes (apply, delete, poster PDF).

Who may touch which station is the services' rule: `hub.services.rosters.station_in_scope` (the
station's own admins, or hub admins with stations.manage) and `hub.services.venues.org_for_venues`,
each given the caller's Scope. The page shows mobiles masked, whoever reads.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from hub.console.web import PREFIX, Form, Page, Refused, UserPage, confirm_first, field_text, shows_refusals
from hub.console.whitelists import typed_changes, uploaded
from hub.core.fields import Mobile, PersonName
from hub.core.masking import mask_mobile, mask_name
from hub.models.identity import Role
from hub.responses import file_response
from hub.services import downloads, rosters, venues

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
        {"id": o.id, "name": mask_name(o.name), "number": o.officer_number, "mobile": mask_mobile(o.mobile)}
        for o in rosters.list_officers(page.db, page.scope, station_id=station_id)
    ]
    _org, station_venues = venues.list_venues(page.db, page.scope, org_id=station_id)
    return page.render(
        "roster.html",
        station=station,
        officers=officers,
        venues=station_venues,
    )


@router.get("/stations/{station_id:int}/roster", response_class=HTMLResponse)
def roster_page(station_id: int, page: UserPage) -> Response:
    return _roster_page(page, station_id)


@router.post("/stations/{station_id:int}/officers", response_class=HTMLResponse)
@shows_refusals(_roster_page)
def officer_add(station_id: int, form: Form, page: UserPage) -> Response:
    body = rosters.OfficerIn.model_validate(
        {
            "name": field_text(form, "name", 64),
            "officer_number": field_text(form, "officer_number", 32),
            "mobile": field_text(form, "mobile", 32),
        }
    )
    rosters.add_officer(page.db, page.scope, station_id=station_id, data=body)
    return page.redirect(f"{PREFIX}/stations/{station_id}/roster", done="officer_added")


class _OfficerChanges(BaseModel):
    """The fields an edit may change; blank ones stay as they are (validated like the API's patch)."""

    name: PersonName | None = None
    officer_number: rosters.OfficerNumber | None = None
    mobile: Mobile | None = None


@router.get("/stations/{station_id:int}/officers/{officer_id:int}", response_class=HTMLResponse)
def officer_edit_form(station_id: int, officer_id: int, page: UserPage) -> Response:
    return _officer_form(page, station_id, officer_id)


def _officer_form(page: Page, station_id: int, officer_id: int) -> Response:
    """The edit form; after a refusal, with what was typed and what is wrong."""
    officer = rosters.officer_in_scope(page.db, page.scope, station_id=station_id, officer_id=officer_id)
    return page.render(
        "officer.html",
        station_id=station_id,
        officer=officer,
        name=mask_name(officer.name),
        mobile=mask_mobile(officer.mobile),
    )


@router.post("/stations/{station_id:int}/officers/{officer_id:int}", response_class=HTMLResponse)
@shows_refusals(_officer_form)
def officer_edit(station_id: int, officer_id: int, form: Form, page: UserPage) -> Response:
    changes = typed_changes(form, _OfficerChanges, ("name", "officer_number", "mobile"))
    rosters.update_officer(page.db, page.scope, station_id=station_id, officer_id=officer_id, changes=changes)
    return page.redirect(f"{PREFIX}/stations/{station_id}/roster", done="saved")


@router.post("/stations/{station_id:int}/officers/{officer_id:int}/delete", response_class=HTMLResponse)
def officer_delete(station_id: int, officer_id: int, form: Form, page: UserPage) -> Response:
    officer = rosters.officer_in_scope(page.db, page.scope, station_id=station_id, officer_id=officer_id)
    back = f"{PREFIX}/stations/{station_id}/roster"
    question = page.t("confirm.delete_officer", name=mask_name(officer.name), number=officer.officer_number)
    asked = confirm_first(page, form, question=question, back=back)
    if asked is not None:
        return asked
    rosters.delete_officer(page.db, page.scope, station_id=station_id, officer_id=officer_id)
    return page.redirect(back, done="officer_deleted")


@router.post("/stations/{station_id:int}/officers-import", response_class=HTMLResponse)
@shows_refusals(_roster_page)
async def officers_import(station_id: int, form: Form, page: UserPage) -> Response:
    data = await uploaded(form)
    created = rosters.import_officers(page.db, page.scope, station_id=station_id, data=data)
    return page.redirect(f"{PREFIX}/stations/{station_id}/roster", done="officers_imported", n=len(created))


@router.get("/stations/{station_id:int}/officers-template.xlsx")
def officers_template(station_id: int, page: UserPage) -> Response:
    return file_response(downloads.officer_template(page.db, page.scope, station_id=station_id))


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
