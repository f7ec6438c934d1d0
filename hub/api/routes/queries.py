"""Registers for administrators: passes, police checks, visits. Masked by default; `unmask=true` needs
personal_data.unmask. Every query is audited. `format=csv|xlsx` downloads the same rows."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from hub.api.deps import ClientIp, CurrentUser
from hub.core.fields import Mobile
from hub.core.masking import mask_mobile
from hub.core.permissions import Permission
from hub.db import SessionDep
from hub.errors import HubError
from hub.models.identity import Role, User
from hub.services import audit, queries
from hub.services.access import has_permission, is_hub_admin
from hub.services.tables import XLSX_MEDIA_TYPE, to_csv, to_xlsx

router = APIRouter(prefix="/queries", tags=["queries"])

Format = Literal["json", "csv", "xlsx"]
Since = Annotated[dt.datetime | None, Query(alias="from", description="inclusive, ISO 8601")]
Until = Annotated[dt.datetime | None, Query(alias="to", description="exclusive, ISO 8601")]
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


def _render(register: queries.Register, fmt: Format, name: str) -> Response:
    if fmt == "csv":
        return Response(
            to_csv(register.columns, register.rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            to_xlsx(register.columns, register.rows, title=name),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    rows = [
        {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()} for r in register.rows
    ]
    return JSONResponse(
        {"columns": list(register.columns), "rows": rows, "count": len(rows), "truncated": register.truncated}
    )


@router.get("/passes", responses={200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}})
def pass_register(
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    since: Since = None,
    until: Until = None,
    enterprise_id: int | None = None,
    person: Annotated[str | None, Query(max_length=64, description="name, mobile or national ID")] = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Enterprise pass register by time, enterprise and/or person. Enterprise admins see their own."""
    _check(user, Permission.QUERY_PASSES, unmask)
    if not is_hub_admin(user):
        if enterprise_id is not None and enterprise_id != user.org_id:
            raise HubError(403, "forbidden", "outside your organisation")
        enterprise_id = user.org_id
    register = queries.pass_register(
        db,
        since=_aware(since),
        until=_aware(until),
        enterprise_id=enterprise_id,
        person=person,
        unmask=unmask,
    )
    audit.record(
        db,
        "query.passes",
        actor=user,
        client_ip=ip,
        enterprise_id=enterprise_id,
        person=queries.describe_person(person),
        since=str(since) if since else None,
        until=str(until) if until else None,
        unmasked=unmask,
        results=len(register.rows),
        format=format,
    )
    db.commit()
    return _render(register, format, "passes")


@router.get("/checks", responses={200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}})
def check_register(
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    since: Since = None,
    until: Until = None,
    officer_id: int | None = None,
    station_id: int | None = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Police check register (scans uploaded by checkpoints) by officer. Station admins see their station."""
    _check(user, Permission.QUERY_CHECKS, unmask)
    if not is_hub_admin(user):
        if station_id is not None and station_id != user.org_id:
            raise HubError(403, "forbidden", "outside your organisation")
        station_id = user.org_id
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
    audit.record(
        db,
        "query.checks",
        actor=user,
        client_ip=ip,
        officer_id=officer_id,
        station_id=station_id,
        unmasked=unmask,
        results=len(register.rows),
        format=format,
    )
    db.commit()
    return _render(register, format, "checks")


@router.get("/visits", responses={200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}})
def visit_register(
    user: CurrentUser,
    db: SessionDep,
    ip: ClientIp,
    since: Since = None,
    until: Until = None,
    venue_id: int | None = None,
    org_id: int | None = None,
    mobile: Annotated[Mobile | None, Query()] = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Visits by venue (and/or organisation, person). Organisation admins see their own venues."""
    _check(user, Permission.QUERY_VISITS, unmask)
    if Role(user.role) in (Role.ENTERPRISE_ADMIN, Role.STATION_ADMIN):
        if org_id is not None and org_id != user.org_id:
            raise HubError(403, "forbidden", "outside your organisation")
        org_id = user.org_id
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
    audit.record(
        db,
        "query.visits",
        actor=user,
        client_ip=ip,
        venue_id=venue_id,
        org_id=org_id,
        mobile=mask_mobile(mobile) if mobile else None,
        unmasked=unmask,
        results=len(register.rows),
        format=format,
    )
    db.commit()
    return _render(register, format, "visits")
