"""Lists the console shows that no other service offers yet (the REST routes query them inline)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models.audit import AuditEvent
from hub.models.identity import CONSOLE_ROLES, Role, User
from hub.models.organisations import Organisation, OrgKind


def console_admins(db: Session) -> list[User]:
    return list(
        db.scalars(select(User).where(User.role.in_([r.value for r in CONSOLE_ROLES])).order_by(User.id))
    )


def stations(db: Session) -> list[Organisation]:
    return list(
        db.scalars(
            select(Organisation).where(Organisation.kind == OrgKind.STATION.value).order_by(Organisation.name)
        )
    )


def station_admins(db: Session) -> list[User]:
    return list(db.scalars(select(User).where(User.role == Role.STATION_ADMIN.value).order_by(User.id)))


def audit_events(
    db: Session, *, action: str | None, actor_user_id: int | None, before_id: int | None, limit: int = 100
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.scalars(query))
