"""General admins: created by a super admin (or a general admin holding admins.manage) with permissions
never exceeding the grantor's own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.identity import mask_mobile
from hub.core.permissions import Permission
from hub.errors import HubError, not_found
from hub.models.identity import CONSOLE_ROLES, Role, User
from hub.services import audit, identity
from hub.services.access import effective_permissions


def check_grant(grantor: User, permissions: set[Permission]) -> None:
    beyond = permissions - effective_permissions(grantor)
    if beyond:
        raise HubError(403, "grant_exceeds_own", f"you cannot grant what you do not hold: {sorted(beyond)}")


def check_can_manage(grantor: User, target: User) -> None:
    """A general admin may only manage admins whose permissions are within its own (never a super admin)."""
    if Role(target.role) is Role.SUPER_ADMIN and Role(grantor.role) is not Role.SUPER_ADMIN:
        raise HubError(403, "forbidden", "only a super admin can manage super admins")
    if Role(grantor.role) is not Role.SUPER_ADMIN:
        check_grant(grantor, set(effective_permissions(target)))


def get_console_admin(db: Session, admin_id: int) -> User:
    user = db.get(User, admin_id)
    if user is None or Role(user.role) not in CONSOLE_ROLES:
        raise not_found("admin")
    return user


def create_general_admin(
    db: Session, grantor: User, mobile: str, name: str, permissions: set[Permission], client_ip: str | None
) -> User:
    check_grant(grantor, permissions)
    existing = db.scalars(
        select(User).where(User.mobile == mobile, User.role.in_([r.value for r in CONSOLE_ROLES]))
    ).first()
    if existing is not None:
        raise HubError(409, "duplicate", "this mobile already has a console account")
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
    db.commit()
    return user


def update_admin(
    db: Session,
    grantor: User,
    target: User,
    *,
    name: str | None,
    permissions: set[Permission] | None,
    active: bool | None,
    client_ip: str | None,
) -> User:
    check_can_manage(grantor, target)
    if target.id == grantor.id and (permissions is not None or active is False):
        raise HubError(403, "forbidden", "you cannot change your own permissions or disable yourself")
    if name is not None:
        target.name = name
    if permissions is not None:
        if Role(target.role) is Role.SUPER_ADMIN:
            raise HubError(400, "bad_request", "a super admin holds every permission")
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
    db.commit()
    return target


def reset_password(db: Session, grantor: User, target: User, client_ip: str | None) -> None:
    check_can_manage(grantor, target)
    identity.revoke_all_tokens(db, target.id)
    identity.send_initial_password(db, target)
    audit.record(db, "admin.password_reset", actor=grantor, target=f"user:{target.id}", client_ip=client_ip)
    db.commit()
