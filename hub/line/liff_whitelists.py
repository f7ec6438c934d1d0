"""The LIFF whitelist pages' endpoints: an enterprise admin's employee whitelist (通行碼名單管理) and a
station admin's duty roster (執勤名單): list (masked), add, modify, delete, .xlsx import (all rows or
none, with the row-by-row report) and, for employees, passes for everyone without a valid one.

The organisation is always the caller's own account's (`call.org_id`); an id in the request names a row
*within* it and is checked by the services (`enterprises.*_employee`, `rosters.*_officer`), which also
decide who may touch what. The import templates are the REST API's (`hub.documents.spreadsheets`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy import select

from hub.core.fields import Mobile, NationalId, PersonName
from hub.core.masking import mask_mobile, mask_name
from hub.db import utcnow
from hub.documents.exports import XLSX_MEDIA_TYPE
from hub.documents.spreadsheets import EMPLOYEE_COLUMNS, OFFICER_COLUMNS, import_template
from hub.line.liff_caller import LiffCall, LiffRefusal, TokenIn, liff
from hub.models.audit import AuditEvent
from hub.models.identity import Role
from hub.services import enterprises, passes, rosters
from hub.services.errors import NotFound, TooLarge
from hub.services.rosters import OfficerNumber
from hub.services.unit_of_work import REPEAT_WINDOW

router = APIRouter(prefix="/liff/api", tags=["line"], include_in_schema=False)
templates_router = APIRouter(prefix="/liff/templates", tags=["line"], include_in_schema=False)

EnterpriseAdmin = Annotated[LiffCall, liff(Role.ENTERPRISE_ADMIN)]
StationAdmin = Annotated[LiffCall, liff(Role.STATION_ADMIN)]
IdToken = Annotated[str, Form(min_length=10, max_length=4096)]
Sheet = Annotated[UploadFile, File()]


class EmployeeIn(TokenIn):
    name: PersonName
    mobile: Mobile
    national_id: NationalId


class EmployeeChanges(TokenIn):
    """Only the fields typed in change; the others stay."""

    name: PersonName | None = None
    mobile: Mobile | None = None
    national_id: NationalId | None = None


class OfficerIn(TokenIn):
    name: PersonName
    officer_number: OfficerNumber
    mobile: Mobile


class OfficerChanges(TokenIn):
    name: PersonName | None = None
    officer_number: OfficerNumber | None = None
    mobile: Mobile | None = None


def _changes(body: BaseModel) -> dict[str, str]:
    changes = body.model_dump(exclude_none=True, exclude={"id_token"})
    if not changes:
        raise LiffRefusal(400, "nothing_changed", "請填寫要修改的欄位。")
    return changes


def _read(sheet: UploadFile, call: LiffCall) -> bytes:
    from hub.context import context_of

    limit = context_of(call.db).settings.max_upload_bytes
    data = sheet.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"file over {limit} bytes")
    return data


def _just_deleted(call: LiffCall, action: str, target: str) -> bool:
    """Whether this caller deleted `target` within REPEAT_WINDOW (the audit trail says what was done): a
    repeated delete (a double tap) is answered with the list, as the first one was."""
    since = utcnow() - REPEAT_WINDOW
    found = call.db.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == action,
            AuditEvent.target == target,
            AuditEvent.actor_user_id == call.scope.user.id,
            AuditEvent.at >= since,
        )
    )
    return found is not None


# --- employees (enterprise admins) ---


def _employees(call: LiffCall) -> dict[str, Any]:
    """The whitelist as the page shows it: masked names, mobiles and IDs, whether each has a valid pass."""
    now = utcnow()
    held = passes.list_passes(call.db, call.scope, org_id=call.org_id, active_only=True)
    covered = {p.employee_id for p in held if passes.valid_now(p, now)}
    rows = enterprises.list_employees(call.db, call.scope, org_id=call.org_id)
    return {
        "employees": [
            {
                "id": e.id,
                "name": mask_name(e.name),
                "mobile": mask_mobile(e.mobile),
                "national_id": e.national_id_masked,
                "pass": e.id in covered,
            }
            for e in rows
        ]
    }


@router.post("/employees/list")
def list_employees(body: TokenIn, call: EnterpriseAdmin) -> dict[str, Any]:
    return _employees(call)


@router.post("/employees", status_code=201)
def add_employee(body: EmployeeIn, call: EnterpriseAdmin) -> dict[str, Any]:
    data = enterprises.EmployeeIn(name=body.name, mobile=body.mobile, national_id=body.national_id)
    enterprises.add_employee(call.db, call.scope, org_id=call.org_id, data=data)
    return _employees(call)


@router.post("/employees/{employee_id}/update")
def update_employee(employee_id: int, body: EmployeeChanges, call: EnterpriseAdmin) -> dict[str, Any]:
    enterprises.update_employee(
        call.db, call.scope, org_id=call.org_id, employee_id=employee_id, changes=_changes(body)
    )
    return _employees(call)


@router.post("/employees/{employee_id}/delete")
def delete_employee(employee_id: int, body: TokenIn, call: EnterpriseAdmin) -> dict[str, Any]:
    try:
        enterprises.delete_employee(call.db, call.scope, org_id=call.org_id, employee_id=employee_id)
    except NotFound:
        if not _just_deleted(call, "employee.deleted", f"employee:{employee_id}"):
            raise
    return _employees(call)


@router.post("/employees/import", status_code=201)
def import_employees(id_token: IdToken, file: Sheet, call: EnterpriseAdmin) -> dict[str, Any]:
    created = enterprises.import_employees(call.db, call.scope, org_id=call.org_id, data=_read(file, call))
    return dict(_employees(call), imported=len(created))


@router.post("/passes/issue", status_code=201)
def issue_missing_passes(body: TokenIn, call: EnterpriseAdmin) -> dict[str, Any]:
    """申請通行碼: a pass for every employee on the whitelist who has no valid one. A repeat (a double tap)
    finds nobody missing: it issues nothing and answers the same list, everyone with a pass."""
    issued = passes.issue_missing_passes(call.db, call.scope, org_id=call.org_id)
    return dict(_employees(call), issued=len(issued))


# --- the duty roster (station admins) ---


def _officers(call: LiffCall) -> dict[str, Any]:
    rows = rosters.list_officers(call.db, call.scope, station_id=call.org_id, masked=True)
    return {
        "officers": [
            {
                "id": o.id,
                "name": mask_name(o.name),
                "number": o.officer_number,
                "mobile": mask_mobile(o.mobile),
            }
            for o in rows
        ]
    }


@router.post("/officers/list")
def list_officers(body: TokenIn, call: StationAdmin) -> dict[str, Any]:
    return _officers(call)


@router.post("/officers", status_code=201)
def add_officer(body: OfficerIn, call: StationAdmin) -> dict[str, Any]:
    data = rosters.OfficerIn(name=body.name, officer_number=body.officer_number, mobile=body.mobile)
    rosters.add_officer(call.db, call.scope, station_id=call.org_id, data=data)
    return _officers(call)


@router.post("/officers/{officer_id}/update")
def update_officer(officer_id: int, body: OfficerChanges, call: StationAdmin) -> dict[str, Any]:
    rosters.update_officer(
        call.db, call.scope, station_id=call.org_id, officer_id=officer_id, changes=_changes(body)
    )
    return _officers(call)


@router.post("/officers/{officer_id}/delete")
def delete_officer(officer_id: int, body: TokenIn, call: StationAdmin) -> dict[str, Any]:
    try:
        rosters.delete_officer(call.db, call.scope, station_id=call.org_id, officer_id=officer_id)
    except NotFound:
        if not _just_deleted(call, "officer.deleted", f"officer:{officer_id}"):
            raise
    return _officers(call)


@router.post("/officers/import", status_code=201)
def import_officers(id_token: IdToken, file: Sheet, call: StationAdmin) -> dict[str, Any]:
    created = rosters.import_officers(call.db, call.scope, station_id=call.org_id, data=_read(file, call))
    return dict(_officers(call), imported=len(created))


# --- the empty import sheets ---

_TEMPLATES = {"employees": EMPLOYEE_COLUMNS, "officers": OFFICER_COLUMNS}


@templates_router.get("/{name}.xlsx")
def template(name: str) -> Response:
    """The import sheet to fill in: headers and instructions only, no one's data, so it needs no ID token
    (a download from LIFF opens outside LINE, where there is none)."""
    columns = _TEMPLATES.get(name)
    if columns is None:
        return Response(status_code=404)
    return Response(
        import_template(columns),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
