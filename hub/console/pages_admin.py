"""Admins and permissions (docs/requirements.md, 1) and station admins one by one or from .xlsx
(docs/requirements.md, 2).

The rules (permissions never beyond the grantor's own, who may manage whom, all-or-nothing imports) are
the services' (`hub.services.admins`, `hub.services.stations`); a refusal comes back as a message.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse

from hub.console.web import PREFIX, Form, Page, confirm_first, field_text, needs, shows_refusals
from hub.console.whitelists import typed_patch, uploaded
from hub.core.permissions import Permission
from hub.responses import file_response
from hub.services import admins, downloads, stations
from hub.services import errors as domain
from hub.services.scope import effective_permissions

router = APIRouter()

AdminManager = Depends(needs(Permission.ADMINS_MANAGE))
StationManager = Depends(needs(Permission.STATIONS_MANAGE))


def _grantable(page: Page) -> list[str]:
    assert page.user is not None
    return sorted(p.value for p in effective_permissions(page.user))


def _chosen_permissions(form: object) -> set[Permission]:
    values = form.getlist("permissions")  # type: ignore[attr-defined]
    return {Permission(v) for v in values if v in {p.value for p in Permission}}


def _admins_page(page: Page) -> Response:
    rows = [admins.AdminOut.of(u) for u in admins.list_admins(page.db, page.scope)]
    return page.render("admins.html", admins=rows, grantable=_grantable(page))


@router.get("/admins", response_class=HTMLResponse)
def admins_list(page: Page = AdminManager) -> Response:
    return _admins_page(page)


@router.post("/admins", response_class=HTMLResponse)
@shows_refusals(_admins_page)
def admins_add(form: Form, page: Page = AdminManager) -> Response:
    assert page.user is not None
    body = admins.AdminIn.model_validate(
        {
            "mobile": field_text(form, "mobile", 32),
            "name": field_text(form, "name", 64),
            "permissions": sorted(_chosen_permissions(form)),
        }
    )
    admins.create_general_admin(
        page.db, page.scope, mobile=body.mobile, name=body.name, permissions=set(body.permissions)
    )
    return page.redirect(f"{PREFIX}/admins", done="admin_added")


@router.get("/admins/{admin_id}", response_class=HTMLResponse)
def admin_detail(admin_id: int, page: Page = AdminManager) -> Response:
    """An admin's permissions and account; after a refused change, with the refusal."""
    target = admins.AdminOut.of(admins.console_admin(page.db, page.scope, admin_id))
    return page.render("admin_detail.html", target=target, grantable=_grantable(page))


@router.post("/admins/{admin_id}", response_class=HTMLResponse)
@shows_refusals(admin_detail)
def admin_change(admin_id: int, form: Form, page: Page = AdminManager) -> Response:
    action = field_text(form, "action", 20)
    if action == "permissions":
        changes = admins.AdminPatch(permissions=sorted(_chosen_permissions(form)))
        admins.update_admin(page.db, page.scope, admin_id=admin_id, changes=changes)
    elif action in ("disable", "enable"):
        changes = admins.AdminPatch(active=action == "enable")
        admins.update_admin(page.db, page.scope, admin_id=admin_id, changes=changes)
    elif action == "reset":
        admins.reset_password(page.db, page.scope, admin_id=admin_id)
    else:
        raise domain.Invalid("no such action", field="action")
    return page.redirect(f"{PREFIX}/admins/{admin_id}", done="saved")


# --- station admins (docs/requirements.md, 2) ----------------------------------------------------------


def _stations_page(page: Page) -> Response:
    """The stations and their admins; after a refused form on it, with the refusal and what was typed."""
    station_rows = stations.list_stations(page.db, page.scope)
    rows = [stations.StationAdminOut.of(u) for u in stations.list_station_admins(page.db, page.scope)]
    names = {s.id: s.name for s in station_rows}  # the table names each admin's station
    return page.render("stations.html", stations=station_rows, admins=rows, station_names=names)


@router.get("/stations", response_class=HTMLResponse)
def stations_page(page: Page = StationManager) -> Response:
    return _stations_page(page)


@router.post("/stations", response_class=HTMLResponse)
@shows_refusals(_stations_page)
def station_add(form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    data = stations.StationIn.model_validate({"name": field_text(form, "name", 100)})
    stations.create_station(page.db, page.scope, data=data)
    return page.redirect(f"{PREFIX}/stations", done="station_added")


@router.post("/stations/admins", response_class=HTMLResponse)
@shows_refusals(_stations_page)
def station_admin_add(form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    station = field_text(form, "station_id", 12)
    data = stations.StationAdminIn.model_validate(
        {
            "name": field_text(form, "name", 64),
            "mobile": field_text(form, "mobile", 32),
            "national_id": field_text(form, "national_id", 16),
            "station_id": int(station) if station.isdigit() else None,
        }
    )
    stations.add_station_admin(page.db, page.scope, data=data)
    return page.redirect(f"{PREFIX}/stations", done="station_admin_added")


@router.post("/stations/admins/{admin_id}/delete", response_class=HTMLResponse)
def station_admin_delete(admin_id: int, form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    admin = stations.StationAdminOut.of(stations.get_station_admin(page.db, admin_id))
    question = page.t("confirm.delete_station_admin", name=admin.name_masked)
    asked = confirm_first(page, form, question=question, back=f"{PREFIX}/stations")
    if asked is not None:
        return asked
    stations.delete_station_admin(page.db, page.scope, admin_id=admin_id)
    return page.redirect(f"{PREFIX}/stations", done="station_admin_deleted")


@router.post("/stations/import", response_class=HTMLResponse)
@shows_refusals(_stations_page)
async def station_admins_import(form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    data = await uploaded(form)
    created = stations.import_station_admins(page.db, page.scope, data=data)
    return page.redirect(f"{PREFIX}/stations", done="station_admins_imported", n=len(created))


@router.get("/stations/template.xlsx")
def station_admins_template(page: Page = StationManager) -> Response:
    return file_response(downloads.station_admin_template(page.scope))


@router.get("/stations/admins/{admin_id}", response_class=HTMLResponse)
def station_admin_edit_form(admin_id: int, page: Page = StationManager) -> Response:
    return _station_admin_form(page, admin_id)


def _station_admin_form(page: Page, admin_id: int) -> Response:
    """The edit form; after a refusal, with what was typed and what is wrong."""
    admin = stations.StationAdminOut.of(stations.get_station_admin(page.db, admin_id))
    return page.render("station_admin.html", admin=admin)


@router.post("/stations/admins/{admin_id}", response_class=HTMLResponse)
@shows_refusals(_station_admin_form)
def station_admin_edit(admin_id: int, form: Form, page: Page = StationManager) -> Response:
    assert page.user is not None
    admin = stations.get_station_admin(page.db, admin_id)
    # the console's form edits these three; blank ones stay as they are
    changes = typed_patch(form, stations.StationAdminPatch, ("name", "mobile", "national_id"))
    stations.update_station_admin(page.db, page.scope, admin_id=admin.id, changes=changes)
    return page.redirect(f"{PREFIX}/stations", done="saved")
