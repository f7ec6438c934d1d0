"""Admins and permissions (seed flow 1) and station admins one by one or from .xlsx (seed flow 2).

The rules (permissions never beyond the grantor's own, who may manage whom, all-or-nothing imports) are
the services' (`hub.services.admins`, `hub.services.stations`); a refusal comes back as a message.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from crypto.identity import mask_mobile, mask_name
from hub.console.web import (
    PREFIX,
    Form,
    Page,
    Refusal,
    confirm_first,
    field_text,
    needs,
    refusal_status,
    refusal_text,
    validation_text,
)
from hub.core.fields import Mobile, NationalId, PersonName
from hub.core.permissions import Permission
from hub.core.phone import InvalidMobile, normalize_mobile
from hub.errors import HubError
from hub.responses import file_response
from hub.services import admins, downloads, stations
from hub.services import errors as domain
from hub.services.scope import effective_permissions
from hub.services.unit_of_work import finish

router = APIRouter()

AdminManager = Depends(needs(Permission.ADMINS_MANAGE))
StationManager = Depends(needs(Permission.STATIONS_MANAGE))


def _refusal(page: Page, exc: HubError | domain.DomainError) -> tuple[int, str]:
    status = refusal_status(exc)
    return status, refusal_text(page, exc.reason, exc.detail)


def _grantable(page: Page) -> list[str]:
    assert page.user is not None
    return sorted(p.value for p in effective_permissions(page.user))


def _chosen_permissions(form: object) -> set[Permission]:
    values = form.getlist("permissions")  # type: ignore[attr-defined]
    return {Permission(v) for v in values if v in {p.value for p in Permission}}


def _admins_page(page: Page, status_code: int = 200, message: str | None = None) -> Response:
    rows = [
        {
            "id": u.id,
            "name": mask_name(u.name) if u.name else "",
            "mobile": mask_mobile(u.mobile),
            "role": u.role,
            "active": u.active,
            "permissions": sorted(p.value for p in effective_permissions(u)),
        }
        for u in admins.list_admins(page.db, page.scope)
    ]
    return page.render(
        "admins.html", status_code=status_code, admins=rows, grantable=_grantable(page), message=message
    )


@router.get("/admins", response_class=HTMLResponse)
def admins_list(page: Page = AdminManager) -> Response:
    return _admins_page(page)


@router.post("/admins", response_class=HTMLResponse)
def admins_add(form: Form, page: Page = AdminManager) -> Response:
    assert page.user is not None
    try:
        mobile = normalize_mobile(field_text(form, "mobile", 32))
    except InvalidMobile:
        return _admins_page(page, 400, page.t("error.generic") + "mobile")
    name = field_text(form, "name", 64)
    try:
        admins.create_general_admin(
            page.db, page.scope, mobile=mobile, name=name, permissions=_chosen_permissions(form)
        )
    except Refusal as exc:
        finish(page.db, exc)
        return _admins_page(page, *_refusal(page, exc))
    return page.redirect(f"{PREFIX}/admins", done="admin_added")


@router.get("/admins/{admin_id}", response_class=HTMLResponse)
def admin_detail(admin_id: int, page: Page = AdminManager) -> Response:
    target = admins.console_admin(page.db, page.scope, admin_id)
    return page.render(
        "admin_detail.html",
        target=target,
        target_name=mask_name(target.name) if target.name else "",
        target_mobile=mask_mobile(target.mobile),
        held=sorted(p.value for p in effective_permissions(target)),
        grantable=_grantable(page),
    )


@router.post("/admins/{admin_id}", response_class=HTMLResponse)
def admin_change(admin_id: int, form: Form, page: Page = AdminManager) -> Response:
    action = field_text(form, "action", 20)
    try:
        if action == "permissions":
            admins.update_admin(page.db, page.scope, admin_id=admin_id, permissions=_chosen_permissions(form))
        elif action in ("disable", "enable"):
            admins.update_admin(page.db, page.scope, admin_id=admin_id, active=action == "enable")
        elif action == "reset":
            admins.reset_password(page.db, page.scope, admin_id=admin_id)
        else:
            return page.render("error.html", status_code=400, message=page.t("error.generic") + "action")
    except Refusal as exc:
        finish(page.db, exc)
        status, message = _refusal(page, exc)
        return page.render("error.html", status_code=status, message=message)
    return page.redirect(f"{PREFIX}/admins/{admin_id}", done="saved")


# --- station admins (seed flow 2) ----------------------------------------------------------------------


def _stations_page(
    page: Page,
    status_code: int = 200,
    message: str | None = None,
    report: list[dict[str, object]] | None = None,
) -> Response:
    station_rows = stations.list_stations(page.db, page.scope)
    names = {s.id: s.name for s in station_rows}
    rows = [
        {
            "id": u.id,
            "name": mask_name(u.name) if u.name else "",
            "mobile": mask_mobile(u.mobile),
            "national_id": u.national_id_masked or "",
            "station": names.get(u.org_id or 0, ""),
            "registered": u.registered_at is not None,
        }
        for u in stations.list_station_admins(page.db, page.scope)
    ]
    return page.render(
        "stations.html",
        status_code=status_code,
        stations=station_rows,
        admins=rows,
        message=message,
        report=report,
    )


@router.get("/stations", response_class=HTMLResponse)
def stations_page(page: Page = StationManager) -> Response:
    return _stations_page(page)


@router.post("/stations", response_class=HTMLResponse)
def station_add(form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    try:
        data = stations.StationIn.model_validate({"name": field_text(form, "name", 100)})
        stations.create_station(page.db, page.scope, data=data)
    except ValidationError as exc:
        return _stations_page(page, 400, validation_text(page, exc))
    except Refusal as exc:
        finish(page.db, exc)
        return _stations_page(page, *_refusal(page, exc))
    return page.redirect(f"{PREFIX}/stations", done="station_added")


@router.post("/stations/admins", response_class=HTMLResponse)
def station_admin_add(form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    station = field_text(form, "station_id", 12)
    try:
        data = stations.StationAdminIn.model_validate(
            {
                "name": field_text(form, "name", 64),
                "mobile": field_text(form, "mobile", 32),
                "national_id": field_text(form, "national_id", 16),
                "station_id": int(station) if station.isdigit() else None,
            }
        )
        stations.add_station_admin(page.db, page.scope, data=data)
    except ValidationError as exc:
        return _stations_page(page, 400, validation_text(page, exc))
    except Refusal as exc:
        finish(page.db, exc)
        return _stations_page(page, *_refusal(page, exc))
    return page.redirect(f"{PREFIX}/stations", done="station_admin_added")


@router.post("/stations/admins/{admin_id}/delete", response_class=HTMLResponse)
def station_admin_delete(admin_id: int, form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    admin = stations.get_station_admin(page.db, admin_id)
    name = mask_name(admin.name) if admin.name else mask_mobile(admin.mobile)
    question = page.t("confirm.delete_station_admin", name=name)
    asked = confirm_first(page, form, question=question, back=f"{PREFIX}/stations")
    if asked is not None:
        return asked
    stations.delete_station_admin(page.db, page.scope, admin_id=admin_id)
    return page.redirect(f"{PREFIX}/stations", done="station_admin_deleted")


@router.post("/stations/import", response_class=HTMLResponse)
async def station_admins_import(form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return _stations_page(page, 400, page.t("error.generic") + "file")
    data = await upload.read()
    try:
        created = stations.import_station_admins(page.db, page.scope, data=data)
    except Refusal as exc:
        finish(page.db, exc)  # nothing imported; the refusal's own audit entry is kept
        detail = exc.detail
        if isinstance(detail, dict) and "errors" in detail:
            return _stations_page(page, 422, None, report=list(detail["errors"]))
        return _stations_page(page, getattr(exc, "status_code", 400), refusal_text(page, exc.reason, detail))
    return page.redirect(f"{PREFIX}/stations", done="station_admins_imported", n=len(created))


@router.get("/stations/template.xlsx")
def station_admins_template(page: Page = StationManager) -> Response:
    return file_response(downloads.station_admin_template(page.scope))


class _StationAdminChanges(BaseModel):
    """The fields an edit may change; blank ones stay as they are (validated like the API's patch)."""

    name: PersonName | None = None
    mobile: Mobile | None = None
    national_id: NationalId | None = None


@router.get("/stations/admins/{admin_id}", response_class=HTMLResponse)
def station_admin_edit_form(admin_id: int, page: Page = StationManager) -> Response:
    return _station_admin_form(page, admin_id)


def _station_admin_form(page: Page, admin_id: int, message: str | None = None, status: int = 200) -> Response:
    """The edit form; after a refusal, with what was typed and what is wrong."""
    admin = stations.get_station_admin(page.db, admin_id)
    return page.render(
        "station_admin.html",
        status_code=status,
        message=message,
        admin=admin,
        name=mask_name(admin.name) if admin.name else "",
        mobile=mask_mobile(admin.mobile),
        national_id=admin.national_id_masked or "",
    )


@router.post("/stations/admins/{admin_id}", response_class=HTMLResponse)
def station_admin_edit(admin_id: int, form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    admin = stations.get_station_admin(page.db, admin_id)
    typed = {key: field_text(form, key, 64) for key in ("name", "mobile", "national_id")}
    try:
        changes = _StationAdminChanges.model_validate({k: v for k, v in typed.items() if v})
        stations.update_station_admin(
            page.db, page.scope, admin_id=admin.id, changes=changes.model_dump(exclude_none=True)
        )
    except ValidationError as exc:
        return _station_admin_form(page, admin.id, validation_text(page, exc), 400)
    except Refusal as exc:
        finish(page.db, exc)
        status, text = _refusal(page, exc)
        return _station_admin_form(page, admin_id, text, status)
    return page.redirect(f"{PREFIX}/stations", done="saved")
