"""Lists the console shows that no other service offers yet (the REST routes query them inline)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

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
