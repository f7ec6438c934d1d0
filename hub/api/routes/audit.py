"""Reading the append-only audit log (audit.read)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel

from hub.api.deps import ScopeDep, scope_with
from hub.api.routing import APIRouter
from hub.core.fields import PlainText, RowId
from hub.core.permissions import Permission
from hub.services import audit_search
from hub.services.retention import PurgeResult, purge_expired
from hub.services.scope import Scope
from hub.web import SessionDep

router = APIRouter(tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    actor_user_id: int | None
    actor_role: str | None
    action: str
    target: str | None
    details: dict[str, Any]
    client_ip: str | None


@router.get("/audit", response_model=list[AuditOut])
def read_audit_log(
    scope: ScopeDep,
    db: SessionDep,
    action: Annotated[PlainText | None, Query(max_length=48)] = None,
    actor_user_id: RowId | None = None,
    since: Annotated[
        str | None, Query(max_length=40, description="Taipei time unless an offset is given")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=40, description="inclusive: a date means the whole day")
    ] = None,
    target_kind: Annotated[str | None, Query(max_length=8, description="org, station or device")] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(max_length=8, description="allowed or refused")] = None,
    text: Annotated[str | None, Query(max_length=100, description="in action, target, role, details")] = None,
    before_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    """Newest first; page with `before_id`. Entries hold masked values only. The filters are the
    console's (hub.services.audit_search); a bad value is a 400 naming its field."""
    flt = audit_search.parse_filter(
        action=action,
        actor=str(actor_user_id) if actor_user_id is not None else None,
        since=since,
        until=until,
        target_kind=target_kind,
        target_id=target_id,
        outcome=outcome,
        text=text,
    )
    found = audit_search.search(db, scope, flt, before_id=before_id, limit=limit)
    return [AuditOut.model_validate(e, from_attributes=True) for e in found.events]


@router.post("/retention/purge", response_model=PurgeResult, tags=["retention"])
def purge_now(
    _scope: Annotated[Scope, Depends(scope_with(Permission.RETENTION_PURGE))], db: SessionDep
) -> PurgeResult:
    """Run the retention purge now (it also runs on a schedule and as `checkpass hub purge`)."""
    return purge_expired(db)
