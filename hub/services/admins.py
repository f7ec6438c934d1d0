"""General admins: created by a super admin (or a general admin holding admins.manage) with permissions
never exceeding the grantor's own."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core.fields import Mobile, PersonName
from hub.core.masking import mask_mobile
from hub.core.permissions import Permission
from hub.models.identity import CONSOLE_ROLES, Role, User
from hub.services import audit, identity
from hub.services.errors import Conflict, Invalid, NotAllowed, NotFound
from hub.services.scope import Scope, effective_permissions


# A new general admin, as REST and the console take it (a comment, not a docstring: the OpenAPI schema
# shows docstrings and this one is REST's `AdminIn` as it was).
class AdminIn(BaseModel):
    mobile: Mobile
    name: PersonName
    permissions: list[Permission] = Field(default_factory=list, max_length=32)


# The typed update, REST's body and what the console's forms build: a field left out is kept. Not
# `patch_of(AdminIn)`: the mobile is the login and is not changed here, and being active is not chosen
# at creation.
class AdminPatch(BaseModel):
    name: PersonName | None = None
    permissions: list[Permission] | None = Field(default=None, max_length=32)
    active: bool | None = None


# What is shown of an admin to whoever manages admins: name and mobile masked (no reader needs them in
# clear), the permissions they hold in effect (a super admin: every one).
class AdminOut(BaseModel):
    id: int
    role: Role
    name_masked: str
    mobile_masked: str
    permissions: list[str]
    active: bool
    must_change_password: bool

    @classmethod
    def of(cls, user: User) -> AdminOut:
        return cls(
            **identity.account_shown(user), active=user.active, must_change_password=user.must_change_password
        )


def check_grant(grantor: User, permissions: set[Permission]) -> None:
    beyond = permissions - effective_permissions(grantor)
    if beyond:
        raise NotAllowed(
            reason="grant_exceeds_own", detail=f"you cannot grant what you do not hold: {sorted(beyond)}"
        )


def check_can_manage(grantor: User, target: User) -> None:
    """A general admin may only manage admins whose permissions are within its own (never a super admin)."""
    if Role(target.role) is Role.SUPER_ADMIN and Role(grantor.role) is not Role.SUPER_ADMIN:
        raise NotAllowed(reason="forbidden", detail="only a super admin can manage super admins")
    if Role(grantor.role) is not Role.SUPER_ADMIN:
        check_grant(grantor, set(effective_permissions(target)))


def get_console_admin(db: Session, admin_id: int) -> User:
    user = db.get(User, admin_id)
    if user is None or Role(user.role) not in CONSOLE_ROLES:
        raise NotFound("admin")
    return user


def console_admin(db: Session, scope: Scope, admin_id: int) -> User:
    scope.require(Permission.ADMINS_MANAGE)
    return get_console_admin(db, admin_id)


def list_admins(db: Session, scope: Scope) -> list[User]:
    scope.require(Permission.ADMINS_MANAGE)
    rows = list(
        db.scalars(select(User).where(User.role.in_([r.value for r in CONSOLE_ROLES])).order_by(User.id))
    )
    # The list shows each admin's name and mobile: a read of their personal data like any other.
    audit.record(
        db,
        "query.admins",
        actor=scope.user,
        client_ip=scope.client_ip,
        subjects=[u.mobile for u in rows],
        results=len(rows),
    )
    return rows


def create_general_admin(
    db: Session, scope: Scope, *, mobile: str, name: str, permissions: set[Permission]
) -> User:
    """A general admin with `permissions` (never beyond the grantor's own); the initial password goes to
    their mobile by SMS."""
    scope.require(Permission.ADMINS_MANAGE)
    grantor, client_ip = scope.user, scope.client_ip
    check_grant(grantor, permissions)
    existing = db.scalars(
        select(User).where(User.mobile == mobile, User.role.in_([r.value for r in CONSOLE_ROLES]))
    ).first()
    if existing is not None:
        raise Conflict(reason="duplicate", detail="this mobile already has a console account")
    user = User(
        mobile=mobile,
        name=name,
        role=Role.GENERAL_ADMIN.value,
        permissions=sorted(p.value for p in permissions),
        created_by=grantor.id,
    )
    db.add(user)
    db.flush()
    identity.send_initial_password(db, user)
    audit.record(
        db,
        "admin.created",
        actor=grantor,
        target=f"user:{user.id}",
        client_ip=client_ip,
        role=user.role,
        mobile=mask_mobile(mobile),
        permissions=user.permissions,
    )
    return user


def update_admin(db: Session, scope: Scope, *, admin_id: int, changes: AdminPatch) -> User:
    """Rename, re-grant, disable or enable an admin (what `changes` sets); disabling ends their
    sessions."""
    name, active = changes.name, changes.active
    permissions = set(changes.permissions) if changes.permissions is not None else None
    target = console_admin(db, scope, admin_id)
    grantor, client_ip = scope.user, scope.client_ip
    check_can_manage(grantor, target)
    if target.id == grantor.id and (permissions is not None or active is False):
        raise NotAllowed(
            reason="forbidden", detail="you cannot change your own permissions or disable yourself"
        )
    if name is not None:
        target.name = name
    if permissions is not None:
        if Role(target.role) is Role.SUPER_ADMIN:
            raise Invalid(reason="bad_request", detail="a super admin holds every permission")
        check_grant(grantor, permissions)
        target.permissions = sorted(p.value for p in permissions)
    if active is not None:
        target.active = active
        if not active:
            identity.revoke_all_tokens(db, target.id)
    audit.record(
        db,
        "admin.updated",
        actor=grantor,
        target=f"user:{target.id}",
        client_ip=client_ip,
        permissions=target.permissions,
        active=target.active,
    )
    return target


def reset_password(db: Session, scope: Scope, *, admin_id: int) -> None:
    """Send a new initial password by SMS (the admin must change it at next login)."""
    target = console_admin(db, scope, admin_id)
    grantor, client_ip = scope.user, scope.client_ip
    check_can_manage(grantor, target)
    identity.revoke_all_tokens(db, target.id)
    identity.send_initial_password(db, target)
    audit.record(db, "admin.password_reset", actor=grantor, target=f"user:{target.id}", client_ip=client_ip)
