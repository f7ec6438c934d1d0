"""Enterprises: the employee whitelist (every whitelist's handlers, `hub.console.whitelists`), passes
(issue, revoke with a reason, the PDF sheet), venue codes (apply, delete, poster PDF).

Who may touch which enterprise is the services' rule (`hub.services.enterprises`, `passes`, `venues`,
each given the caller's Scope); their input models check the forms, `hub.services.downloads` makes the
files. The page shows names, mobiles and national IDs masked, whoever reads.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from hub.console.web import PREFIX, Form, Page, UserPage, confirm_first, field_text, shows_refusals
from hub.console.whitelists import Where, add_routes
from hub.core.permissions import Permission
from hub.core.vocabulary import OrgKind
from hub.responses import file_response
from hub.services import downloads, enterprise_scope, enterprises, passes, venues
from hub.services import errors as domain
from hub.services.employees import EMPLOYEES

router = APIRouter()


@router.get("/enterprises", response_class=HTMLResponse)
def enterprises_page(page: UserPage) -> Response:
    assert page.user is not None
    rows = enterprises.list_enterprises(page.db, page.scope)  # 403 for roles without access
    if len(rows) == 1 and page.user.org_id == rows[0].id:
        return page.redirect(f"{PREFIX}/enterprises/{rows[0].id}")
    return page.render("enterprises.html", enterprises=[enterprises.EnterpriseOut.of(o) for o in rows])


def _enterprise_page(page: Page, org_id: int) -> Response:
    """The enterprise's page; after a refused form on it, with the refusal and what was typed."""
    assert page.user is not None
    org = enterprise_scope.enterprise_in_scope(page.db, page.scope, org_id)
    employees = EMPLOYEES.entries(page.db, page.scope, org_id=org_id)
    issued = passes.list_passes(page.db, page.scope, org_id=org_id, active_only=False)
    _org, org_venues = venues.list_venues(page.db, page.scope, org_id=org_id)
    return page.render(
        "enterprise.html",
        org=enterprises.EnterpriseOut.of(org),
        employees=[dict(EMPLOYEES.shown(e), id=e.id) for e in employees],
        fields=EMPLOYEES.fields,
        required=EMPLOYEES.required,
        passes=[passes.PassOut.of(p) for p in issued],  # the holder masked, never the usable text
        venues=[venues.VenueOut.of(page.db, v, org) for v in org_venues],
    )


@router.get("/enterprises/{org_id}", response_class=HTMLResponse)
def enterprise_page(org_id: int, page: UserPage) -> Response:
    return _enterprise_page(page, org_id)


@router.post("/enterprises/{org_id}/passes", response_class=HTMLResponse)
@shows_refusals(_enterprise_page)
def issue_passes(org_id: int, form: Form, page: UserPage) -> Response:
    assert page.user is not None
    chosen = [int(v) for v in form.getlist("employee_ids") if isinstance(v, str) and v.isdigit()]
    if not chosen:  # no box ticked: said as the task, not as a field's length
        raise domain.Invalid("no employee chosen", field="employee_ids", message_key="passes.choose")
    body = passes.BatchPassRequest(employee_ids=chosen)  # at most MAX_BATCH, each a row id
    passes.issue_passes(page.db, page.scope, org_id=org_id, employee_ids=body.employee_ids)
    return page.redirect(f"{PREFIX}/enterprises/{org_id}", done="passes_issued", n=len(chosen))


def _pass_page(page: Page, pass_id: str) -> Response:
    """The page a pass is revoked from: its enterprise's (a pass the caller may not see: refused)."""
    return _enterprise_page(page, passes.visible_pass(page.db, page.scope, pass_id).org_id)


@router.post("/passes/{pass_id}/revoke", response_class=HTMLResponse)
@shows_refusals(_pass_page)
def revoke_pass(pass_id: str, form: Form, page: UserPage) -> Response:
    assert page.user is not None
    # The reason is the service's rule (passes.revoke_reason), checked before asking, not only after.
    reason = passes.revoke_reason(field_text(form, "reason", 200))
    record = passes.visible_pass(page.db, page.scope, pass_id)
    page.scope.require(Permission.PASSES_REVOKE)
    back = f"{PREFIX}/enterprises/{record.org_id}"
    question = page.t("confirm.revoke_pass", name=passes.PassOut.of(record).holder_name_masked)
    asked = confirm_first(page, form, question=question, back=back)
    if asked is not None:
        return asked
    passes.revoke_pass(page.db, page.scope, pass_id=pass_id, reason=reason)
    return page.redirect(back, done="pass_revoked")


# The employee whitelist: every whitelist's handlers (hub.console.whitelists) under the enterprise's page.
add_routes(
    router, EMPLOYEES, Where("/enterprises/{org_id}", "{entry_id}", "/enterprises/{org_id}", _enterprise_page)
)


@router.get("/enterprises/{org_id}/sheet.pdf")
def pass_sheet(org_id: int, page: UserPage, part: int | None = None) -> Response:
    return file_response(downloads.passes_sheet(page.db, page.scope, org_id=org_id, part=part))


# --- venue codes (實聯碼) -------------------------------------------------------------------------------


@router.post("/enterprises/{org_id}/venues", response_class=HTMLResponse)
@shows_refusals(_enterprise_page)
def apply_for_venues(org_id: int, form: Form, page: UserPage) -> Response:
    """The city's 實聯申請單: one or more code names (each at most 8 characters), the address on file."""
    assert page.user is not None
    names = [n.strip() for n in field_text(form, "names", 200).replace("，", ",").split(",") if n.strip()]
    body = venues.VenueApplication.model_validate(
        {"names": names, "address": field_text(form, "address", 200) or None}
    )
    venues.apply_for_venues(page.db, page.scope, org_id=org_id, names=list(body.names), address=body.address)
    return page.redirect(f"{PREFIX}/enterprises/{org_id}", done="venues_applied")


@router.post("/venues/{venue_id}/delete", response_class=HTMLResponse)
def venue_delete(venue_id: int, form: Form, page: UserPage) -> Response:
    """Delete a venue code; the service decides whose it is (own organisation, or a hub admin)."""
    venue, org = venues.venue_in_scope(page.db, page.scope, venue_id)
    if org.kind == OrgKind.STATION:
        back = f"{PREFIX}/stations/{org.id}/roster"
    else:
        back = f"{PREFIX}/enterprises/{org.id}"
    asked = confirm_first(page, form, question=page.t("confirm.delete_venue", name=venue.name), back=back)
    if asked is not None:
        return asked
    venues.delete_venue(page.db, page.scope, venue_id=venue_id)
    return page.redirect(back, done="venue_deleted")


@router.get("/enterprises/{org_id}/venues.pdf")
def venue_posters(org_id: int, page: UserPage) -> Response:
    return file_response(downloads.venue_posters(page.db, page.scope, org_id=org_id))
