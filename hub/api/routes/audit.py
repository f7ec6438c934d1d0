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
from hub.db import SessionDep
from hub.services import audit
from hub.services.retention import PurgeResult, purge_expired
from hub.services.scope import Scope

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
    before_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    """Newest first; page with `before_id`. Entries hold masked values only."""
    events = audit.read_log(
        db, scope, action=action, actor_user_id=actor_user_id, before_id=before_id, limit=limit
    )
    return [AuditOut.model_validate(e, from_attributes=True) for e in events]


@router.post("/retention/purge", response_model=PurgeResult, tags=["retention"])
def purge_now(
    _scope: Annotated[Scope, Depends(scope_with(Permission.RETENTION_PURGE))], db: SessionDep
) -> PurgeResult:
    """Run the retention purge now (it also runs on a schedule and as `checkpass hub purge`)."""
    return purge_expired(db)
