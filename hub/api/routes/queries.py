"""Registers for administrators: passes, police checks, visits. Masked by default; `unmask=true` needs
personal_data.unmask. Every query is audited. `format=csv|xlsx` downloads the same rows."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from hub.api.deps import ClientIp, CurrentUser
from hub.core.fields import Mobile, Moment, PlainText, RowId
from hub.core.masking import mask_mobile
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.documents.exports import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from hub.errors import HubError
from hub.models.identity import Role, User
from hub.services import audit, queries
from hub.services.access import has_permission, is_hub_admin

router = APIRouter(prefix="/queries", tags=["queries"])

Format = Literal["json", "csv", "xlsx"]
Since = Annotated[Moment | None, Query(alias="from", description="inclusive, ISO 8601")]
Until = Annotated[Moment | None, Query(alias="to", description="exclusive, ISO 8601")]
DOWNLOADS: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}}
Unmask = Annotated[
    bool, Query(description="show personal data in clear: needs personal_data.unmask; audited")
]


def _check(user: User, permission: Permission, unmask: bool) -> None:
    if not has_permission(user, permission):
        raise HubError(403, "forbidden", f"needs permission {permission}")
    if unmask and not has_permission(user, Permission.PERSONAL_DATA_UNMASK):
        raise HubError(403, "forbidden", "needs permission personal_data.unmask")


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise HubError(422, "invalid_request", "give times with a timezone (e.g. 2026-01-01T00:00:00+08:00)")
    return value


def _own_org(user: User, requested: int | None) -> int | None:
    """An organisation admin queries only their own organisation: refuse another, default to theirs."""
    if requested is not None and requested != user.org_id:
        raise HubError(403, "forbidden", "outside your organisation")
    return user.org_id


def _answer(
    db: Session,
    user: User,
    ip: str | None,
    name: str,
    register: queries.Register,
    fmt: Format,
    unmask: bool,
    **filters: Any,
) -> Response:
    """Audit the query (every one is), then send the rows in the asked format."""
    audit.record(
        db,
        f"query.{name}",
        actor=user,
        client_ip=ip,
        **filters,
        unmasked=unmask,
        results=len(register.rows),
        format=fmt,
    )
    db.commit()
    return _render(register, fmt, name)


def _render(register: queries.Register, fmt: Format, name: str) -> Response:
    if fmt == "csv":
        return Response(
            to_csv(register.columns, register.cells()),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            to_xlsx(register.columns, register.cells(), sheet_title=name),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    rows = [
        {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()} for r in register.rows
    ]
    return JSONResponse(
        {"columns": list(register.columns), "rows": rows, "count": len(rows), "truncated": register.truncated}
    )


@router.get("/passes", responses=DOWNLOADS)
def pass_register(
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    since: Since = None,
    until: Until = None,
    enterprise_id: RowId | None = None,
    person: Annotated[
        PlainText | None, Query(max_length=64, description="name, mobile or national ID")
    ] = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Enterprise pass register by time, enterprise and/or person. Enterprise admins see their own."""
    _check(user, Permission.QUERY_PASSES, unmask)
    if not is_hub_admin(user):
        enterprise_id = _own_org(user, enterprise_id)
    register = queries.pass_register(
        db,
        since=_aware(since),
        until=_aware(until),
        enterprise_id=enterprise_id,
        person=person,
        unmask=unmask,
    )
    return _answer(
        db,
        user,
        ip,
        "passes",
        register,
        format,
        unmask,
        enterprise_id=enterprise_id,
        person=queries.describe_person(person),
        since=str(since) if since else None,
        until=str(until) if until else None,
    )


@router.get("/checks", responses=DOWNLOADS)
def check_register(
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    since: Since = None,
    until: Until = None,
    officer_id: RowId | None = None,
    station_id: RowId | None = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Police check register (scans uploaded by checkpoints) by officer. Station admins see their station."""
    _check(user, Permission.QUERY_CHECKS, unmask)
    if not is_hub_admin(user):
        station_id = _own_org(user, station_id)
        if officer_id is not None:
            from hub.models.rosters import Officer

            officer = db.get(Officer, officer_id)
            if officer is None or officer.station_id != user.org_id:
                raise HubError(403, "forbidden", "outside your organisation")
    register = queries.check_register(
        db,
        since=_aware(since),
        until=_aware(until),
        officer_id=officer_id,
        station_id=station_id,
        unmask=unmask,
    )
    return _answer(
        db, user, ip, "checks", register, format, unmask, officer_id=officer_id, station_id=station_id
    )


@router.get("/visits", responses=DOWNLOADS)
def visit_register(
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    since: Since = None,
    until: Until = None,
    venue_id: RowId | None = None,
    org_id: RowId | None = None,
    mobile: Annotated[Mobile | None, Query()] = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Visits by venue (and/or organisation, person). Organisation admins see their own venues."""
    _check(user, Permission.QUERY_VISITS, unmask)
    if Role(user.role) in (Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN):
        org_id = _own_org(user, org_id)
    elif not is_hub_admin(user):
        raise HubError(403, "forbidden", "needs permission query.visits")
    register = queries.visit_register(
        db,
        since=_aware(since),
        until=_aware(until),
        venue_id=venue_id,
        org_id=org_id,
        mobile=mobile,
        unmask=unmask,
    )
    return _answer(
        db,
        user,
        ip,
        "visits",
        register,
        format,
        unmask,
        venue_id=venue_id,
        org_id=org_id,
        mobile=mask_mobile(mobile) if mobile else None,
    )
