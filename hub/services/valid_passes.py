"""The pass reads the chat needs, through the pass services with the account's `Scope`, and the one
read a signed link needs (the link itself is the permission: hub.line.links)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models.identity import User
from hub.models.passes import Pass
from hub.services import passes
from hub.services.errors import NotFound
from hub.services.scope import Scope


def own_valid_passes(db: Session, user: User) -> list[Pass]:
    """An employee's own passes that are neither revoked nor expired (audited by the service)."""
    now = utcnow()
    return [p for p in passes.my_passes(db, Scope.of(user)) if passes.valid_now(p, now)]


def enterprise_valid_passes(db: Session, user: User) -> list[Pass]:
    """The first sheet's worth of the admin's enterprise's valid passes (the service checks the scope)."""
    if user.org_id is None:
        return []
    try:
        return passes.sheet_passes(db, Scope.of(user), org_id=user.org_id, part=1)
    except NotFound:
        return []


def servable_pass(db: Session, pass_id: str) -> Pass | None:
    """A pass a signed link may still serve: exists, not revoked, not expired."""
    if len(pass_id) != 32:
        return None
    record = db.scalars(select(Pass).where(Pass.pass_id == pass_id.lower())).first()
    if record is None or not passes.valid_now(record):
        return None
    return record
