"""Writing to the append-only audit log (in the caller's transaction, so no action goes unrecorded).

Reading it, through filters, is `hub.services.audit_search`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.models.audit import AuditEvent
from hub.models.identity import User


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
