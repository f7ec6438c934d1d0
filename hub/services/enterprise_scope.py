"""Which enterprise, and which of its employees, a caller may touch: the enterprise's admin, or a hub
admin holding enterprises.manage (its whitelist and passes are theirs to keep). One rule for the
enterprise, pass and download services (hub.services.enterprises, passes, downloads) and the front ends
that show an enterprise or an employee."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.core.permissions import Permission
from hub.models.identity import Role
from hub.models.organisations import Organisation, OrgKind
from hub.models.rosters import Employee
from hub.services.errors import NotFound
from hub.services.scope import Scope


def get_enterprise(db: Session, org_id: int) -> Organisation:
    org = db.get(Organisation, org_id)
    if org is None or org.kind != OrgKind.ENTERPRISE:
        raise NotFound("enterprise")
    return org


def enterprise_in_scope(db: Session, scope: Scope, org_id: int) -> Organisation:
    """The enterprise, if `scope` is its admin or a hub admin with enterprises.manage (its whitelist and
    passes are theirs to keep)."""
    org = get_enterprise(db, org_id)
    scope.require_keeper(org_id, Role.ENTERPRISE_ADMIN, Permission.ENTERPRISES_MANAGE)
    return org


def get_employee(db: Session, org: Organisation, employee_id: int) -> Employee:
    employee = db.get(Employee, employee_id)
    if employee is None or employee.org_id != org.id:
        raise NotFound("employee")
    return employee


def employee_in_scope(db: Session, scope: Scope, *, org_id: int, employee_id: int) -> Employee:
    return get_employee(db, enterprise_in_scope(db, scope, org_id), employee_id)
