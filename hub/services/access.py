"""Who may do what, and to which organisation."""

from __future__ import annotations

from hub.core.permissions import ALL_PERMISSIONS, HUB_WIDE_ROLES, ROLE_PERMISSIONS, Permission
from hub.errors import HubError
from hub.models.identity import Role, User


def effective_permissions(user: User) -> frozenset[Permission]:
    role = Role(user.role)
    if role is Role.SUPER_ADMIN:
        return ALL_PERMISSIONS
    if role is Role.GENERAL_ADMIN:
        return frozenset(Permission(p) for p in user.permissions if p in ALL_PERMISSIONS)
    return ROLE_PERMISSIONS[role]


def has_permission(user: User, permission: Permission | str) -> bool:
    return Permission(permission) in effective_permissions(user)


def is_hub_admin(user: User) -> bool:
    return Role(user.role) in HUB_WIDE_ROLES


def require_org_access(user: User, org_id: int, permission: Permission | None = None) -> None:
    """Hub admins reach any organisation (given `permission`); organisation roles only their own."""
    if is_hub_admin(user):
        if permission is not None and not has_permission(user, permission):
            raise HubError(403, "forbidden", f"needs permission {permission}")
        return
    if user.org_id != org_id:
        raise HubError(403, "forbidden", "outside your organisation")
    if permission is not None and not has_permission(user, permission):
        raise HubError(403, "forbidden", f"needs permission {permission}")
