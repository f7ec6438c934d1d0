"""Enterprises: the employee whitelist (add one), passes (issue, revoke with a reason, the PDF sheet),
venue codes (apply, poster PDF).

Who may touch which enterprise is the services' rule (`hub.services.enterprises`, `passes`, `venues`,
each given the caller's Scope), reached through the REST layer's functions for the same output shapes.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from hub.api.routes import enterprises as enterprise_routes
from hub.api.routes import passes as pass_routes
from hub.api.routes import venues as venue_routes
from hub.console.web import PREFIX, Form, Page, UserPage, field_text, refusal_text
from hub.errors import HubError, http_status_of
from hub.services import enterprises
from hub.services import errors as domain
from hub.services.unit_of_work import finish

router = APIRouter()
Refusal = (HubError, domain.DomainError)


def _status(exc: HubError | domain.DomainError) -> int:
    return exc.status_code if isinstance(exc, HubError) else http_status_of(exc)


@router.get("/enterprises", response_class=HTMLResponse)
def enterprises_page(page: UserPage) -> Response:
    assert page.user is not None
    rows = enterprise_routes.list_enterprises(page.scope, page.db)  # 403 for roles without access
    if len(rows) == 1 and page.user.org_id == rows[0].id:
        return page.redirect(f"{PREFIX}/enterprises/{rows[0].id}")
    return page.render("enterprises.html", enterprises=rows)


def _enterprise_page(page: Page, org_id: int, message: str | None = None, status: int = 200) -> Response:
    assert page.user is not None
    org = enterprise_routes.get_enterprise(org_id, page.scope, page.db)
    employees = enterprise_routes.list_employees(org_id, page.scope, page.db)
    passes = pass_routes.list_passes(org_id, page.scope, page.db, active_only=False)
    venues = venue_routes.list_venues(org_id, page.scope, page.db)
    return page.render(
        "enterprise.html",
        status_code=status,
        org=org,
        employees=employees,
        passes=passes,
        venues=venues,
        message=message,
    )


@router.get("/enterprises/{org_id}", response_class=HTMLResponse)
def enterprise_page(org_id: int, page: UserPage) -> Response:
    return _enterprise_page(page, org_id)


@router.post("/enterprises/{org_id}/employees", response_class=HTMLResponse)
def add_employee(org_id: int, form: Form, page: UserPage) -> Response:
    assert page.user is not None
    try:
        body = enterprises.EmployeeIn.model_validate(
            {
                "name": field_text(form, "name", 64),
                "mobile": field_text(form, "mobile", 32),
                "national_id": field_text(form, "national_id", 16),
            }
        )
        enterprise_routes.add_employee(org_id, body, page.scope, page.db)
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors())
        return _enterprise_page(page, org_id, page.t("error.generic") + fields, 400)
    except Refusal as exc:
        finish(page.db, exc)
        return _enterprise_page(page, org_id, refusal_text(page, exc.reason, exc.detail), _status(exc))
    return page.redirect(f"{PREFIX}/enterprises/{org_id}")


@router.post("/enterprises/{org_id}/passes", response_class=HTMLResponse)
def issue_passes(org_id: int, form: Form, page: UserPage) -> Response:
    assert page.user is not None
    chosen = [int(v) for v in form.getlist("employee_ids") if isinstance(v, str) and v.isdigit()]
    if not chosen:
        return _enterprise_page(page, org_id, page.t("passes.choose"), 400)
    try:
        body = pass_routes.BatchPassRequest(employee_ids=chosen[:500])
        pass_routes.issue_passes(org_id, body, page.scope, page.db)
    except Refusal as exc:
        finish(page.db, exc)
        return _enterprise_page(page, org_id, refusal_text(page, exc.reason, exc.detail), _status(exc))
    return _enterprise_page(page, org_id, page.t("passes.issued", n=len(chosen)))


@router.post("/passes/{pass_id}/revoke", response_class=HTMLResponse)
def revoke_pass(pass_id: str, form: Form, page: UserPage) -> Response:
    assert page.user is not None
    reason = field_text(form, "reason", 200)
    if not reason:
        return page.render("error.html", status_code=400, message=page.t("passes.need_reason"))
    record = pass_routes.revoke(pass_id, pass_routes.RevokeRequest(reason=reason), page.scope, page.db)
    return page.redirect(f"{PREFIX}/enterprises/{record.org_id}")


@router.get("/enterprises/{org_id}/sheet.pdf")
def pass_sheet(org_id: int, page: UserPage, part: int | None = None) -> Response:
    assert page.user is not None
    return pass_routes.passes_pdf(org_id, page.scope, page.db, part)


# --- venue codes (實聯碼) -------------------------------------------------------------------------------


@router.post("/enterprises/{org_id}/venues", response_class=HTMLResponse)
def apply_for_venues(org_id: int, form: Form, page: UserPage) -> Response:
    """The seed's 實聯申請單: one or more code names (each at most 8 characters), the address on file."""
    assert page.user is not None
    names = [n.strip() for n in field_text(form, "names", 200).replace("，", ",").split(",") if n.strip()]
    try:
        body = venue_routes.VenueApplication.model_validate(
            {"names": names, "address": field_text(form, "address", 200) or None}
        )
        venue_routes.apply_for_venues(org_id, body, page.scope, page.db)
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors())
        return _enterprise_page(page, org_id, page.t("error.generic") + fields, 400)
    except Refusal as exc:
        finish(page.db, exc)
        return _enterprise_page(page, org_id, refusal_text(page, exc.reason, exc.detail), _status(exc))
    return page.redirect(f"{PREFIX}/enterprises/{org_id}")


@router.get("/enterprises/{org_id}/venues.pdf")
def venue_posters(org_id: int, page: UserPage) -> Response:
    assert page.user is not None
    return venue_routes.venues_pdf(org_id, page.scope, page.db, page.request.app.state.settings)
