"""Writing to the append-only audit log (in the caller's transaction, so no action goes unrecorded)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.permissions import Permission
from hub.models.audit import AuditEvent
from hub.models.identity import User

if TYPE_CHECKING:
    from hub.services.scope import Scope


def record(
    db: Session,
    action: str,
    *,
    actor: User | None = None,
    target: str | None = None,
    client_ip: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event. `details` must hold no personal data in clear (masked values, ids, counts)."""
    event = AuditEvent(
        action=action,
        actor_user_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else None,
        target=target,
        details=details,
        client_ip=client_ip,
    )
    db.add(event)
    return event


def read_log(
    db: Session,
    scope: Scope,
    *,
    action: str | None = None,
    actor_user_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """The audit log, newest first, paged with `before_id` (audit.read). Entries hold masked values."""
    scope.require(Permission.AUDIT_READ)
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.scalars(query))
