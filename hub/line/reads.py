"""The pass reads the chat needs, with the rule the REST routes apply today (hub/api/routes/passes.py:
an employee sees its own passes, an enterprise admin its enterprise's). When the services take a
`Scope` (hub.services.passes.my_passes / sheet_passes), these become calls to them; see docs/line.md.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import utcnow
from hub.models.identity import Role, User
from hub.models.passes import Pass
from hub.services import audit
from hub.services.errors import NotAllowed


def own_valid_passes(db: Session, user: User) -> list[Pass]:
    """An employee's passes that are neither revoked nor expired; audited like GET /me/passes."""
    if user.role != Role.EMPLOYEE.value or user.employee_id is None:
        raise NotAllowed("only employees hold passes")
    rows = list(
        db.scalars(
            select(Pass)
            .where(
                Pass.employee_id == user.employee_id, Pass.revoked_at.is_(None), Pass.expires_at > utcnow()
            )
            .order_by(Pass.id)
        )
    )
    audit.record(db, "pass.read", actor=user, form="line", results=len(rows))
    return rows


def enterprise_valid_passes(db: Session, user: User) -> list[Pass]:
    """The valid passes of the admin's own enterprise, for its printable sheet; audited."""
    if user.role != Role.ENTERPRISE_ADMIN.value or user.org_id is None:
        raise NotAllowed("only enterprise admins print their enterprise's passes")
    rows = list(
        db.scalars(
            select(Pass)
            .where(Pass.org_id == user.org_id, Pass.revoked_at.is_(None), Pass.expires_at > utcnow())
            .order_by(Pass.id)
        )
    )
    audit.record(db, "pass.read", actor=user, target=f"org:{user.org_id}", form="line-pdf", results=len(rows))
    return rows


def servable_pass(db: Session, pass_id: str) -> Pass | None:
    """A pass a signed link may still serve: exists, not revoked, not expired."""
    if len(pass_id) != 32:
        return None
    record = db.scalars(select(Pass).where(Pass.pass_id == pass_id.lower())).first()
    if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
        return None
    return record
