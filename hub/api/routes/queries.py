"""Registers for administrators: passes, police checks, visits. Masked by default; `unmask=true` needs
personal_data.unmask. Every query is audited. `format=csv|xlsx` downloads the same rows.

Enterprises and officers are found by what people know (a 統一編號 or name, an officer number or name),
or by row id as before. A window whose `from` is not before its `to` is refused (`reversed_range`,
`empty_range`); a term that names no enterprise or officer answers no rows with `unmatched` naming it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Response
from fastapi.responses import JSONResponse

from hub.api.deps import ScopeDep
from hub.api.routing import APIRouter
from hub.core.fields import Mobile, Moment, PlainText, RowId
from hub.documents.exports import XLSX_MEDIA_TYPE
from hub.responses import file_response
from hub.services import downloads, queries
from hub.web import SessionDep

router = APIRouter(prefix="/queries", tags=["queries"])

Format = Literal["json", "csv", "xlsx"]
Since = Annotated[Moment | None, Query(alias="from", description="inclusive, ISO 8601")]
Until = Annotated[Moment | None, Query(alias="to", description="exclusive, ISO 8601")]
DOWNLOADS: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}}
Unmask = Annotated[
    bool, Query(description="show personal data in clear: needs personal_data.unmask; audited")
]


def _render(register: queries.Register, fmt: Format, name: str) -> Response:
    if fmt == "json":
        return JSONResponse(register.listing())
    return file_response(downloads.register_export(register, fmt, name))


@router.get("/passes", responses=DOWNLOADS)
def pass_register(
    scope: ScopeDep,
    db: SessionDep,
    since: Since = None,
    until: Until = None,
    enterprise_id: RowId | None = None,
    enterprise: Annotated[
        PlainText | None, Query(max_length=100, description="統一編號 (8 digits) or part of the name")
    ] = None,
    person: Annotated[
        PlainText | None,
        Query(max_length=64, description="part of a name, or a whole mobile or national ID"),
    ] = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Enterprise pass register by time, enterprise and/or person. Enterprise admins see their own."""
    register = queries.read_pass_register(
        db,
        scope,
        since=since,
        until=until,
        enterprise_id=enterprise_id,
        enterprise=enterprise,
        person=person,
        unmask=unmask,
        output=format,
    )
    return _render(register, format, "passes")


@router.get("/checks", responses=DOWNLOADS)
def check_register(
    scope: ScopeDep,
    db: SessionDep,
    since: Since = None,
    until: Until = None,
    officer_id: RowId | None = None,
    officer: Annotated[
        PlainText | None, Query(max_length=64, description="officer number (whole) or part of a name")
    ] = None,
    station_id: RowId | None = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Police check register (scans uploaded by checkpoints) by officer. Station admins see their station."""
    register = queries.read_check_register(
        db,
        scope,
        since=since,
        until=until,
        officer_id=officer_id,
        officer=officer,
        station_id=station_id,
        unmask=unmask,
        output=format,
    )
    return _render(register, format, "checks")


@router.get("/visits", responses=DOWNLOADS)
def visit_register(
    scope: ScopeDep,
    db: SessionDep,
    since: Since = None,
    until: Until = None,
    venue_id: RowId | None = None,
    org_id: RowId | None = None,
    mobile: Annotated[Mobile | None, Query()] = None,
    unmask: Unmask = False,
    format: Format = "json",
) -> Response:
    """Visits by venue (and/or organisation, person). Organisation admins see their own venues."""
    register = queries.read_visit_register(
        db,
        scope,
        since=since,
        until=until,
        venue_id=venue_id,
        org_id=org_id,
        mobile=mobile,
        unmask=unmask,
        output=format,
    )
    return _render(register, format, "visits")
