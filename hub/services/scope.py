"""Who is asking, and what they may reach: the one access rule every front end and service uses.

A `Scope` is resolved once per command from the authenticated user (REST: `hub.api.deps.get_scope`; the
LINE channels and the console do the same) and handed to every service call. Hub-wide roles (super and
general admins) reach every organisation through their permissions; every other role reaches only the
organisations it belongs to. A caller that belongs to no organisation reaches no organisation's data:
an empty `org_ids` means nothing, never everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.permissions import ALL_PERMISSIONS, HUB_WIDE_ROLES, ROLE_PERMISSIONS, Permission
from hub.models.identity import Role, User
from hub.services.errors import NotAllowed


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


@dataclass(frozen=True)
class Scope:
    """The caller of one command: the user (for the audit log), role, permissions, organisations, and
    where the command came from (`client_ip`, for the audit log)."""

    user: User
    role: Role
    permissions: frozenset[Permission]
    org_ids: frozenset[int]
    client_ip: str | None = None

    @classmethod
    def of(cls, user: User, client_ip: str | None = None) -> Scope:
        return cls(
            user=user,
            role=Role(user.role),
            permissions=effective_permissions(user),
            org_ids=frozenset() if user.org_id is None else frozenset({user.org_id}),
            client_ip=client_ip,
        )

    @property
    def hub_wide(self) -> bool:
        return self.role in HUB_WIDE_ROLES

    @property
    def employee_id(self) -> int | None:
        return self.user.employee_id if self.role is Role.EMPLOYEE else None

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions

    def require(self, permission: Permission | str) -> None:
        if not self.can(permission):
            raise NotAllowed(f"needs permission {Permission(permission)}")

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            raise NotAllowed(f"needs role {' or '.join(sorted(roles))}")

    def member_of(self, org_id: int) -> bool:
        """The caller belongs to `org_id` (hub admins belong to none)."""
        return not self.hub_wide and org_id in self.org_ids

    def reaches(self, org_id: int, hub_permission: Permission) -> bool:
        """Members reach their own organisation; hub admins any, given `hub_permission`."""
        return self.member_of(org_id) or (self.hub_wide and self.can(hub_permission))

    def require_org(self, org_id: int, hub_permission: Permission) -> None:
        if not self.reaches(org_id, hub_permission):
            if self.hub_wide:
                raise NotAllowed(f"needs permission {hub_permission}")
            raise NotAllowed("outside your organisation")

    def require_keeper(self, org_id: int, role: Role, hub_permission: Permission) -> None:
        """Who keeps an organisation's list of the people it vouches for (an enterprise's employees, a
        station's duty officers): that organisation's own `role` admins, or hub admins with
        `hub_permission`."""
        if self.hub_wide:
            self.require(hub_permission)
            return
        self.require_role(role)
        self.require_org(org_id, hub_permission)

    def own_org(self, requested: int | None = None) -> int:
        """For an organisation role: its one organisation. Refuses another one asked for, and refuses
        outright when the caller belongs to none (a station admin whose station is not registered)."""
        if not self.org_ids:
            raise NotAllowed("you belong to no organisation yet", reason="no_organisation")
        (own,) = self.org_ids
        if requested is not None and requested != own:
            raise NotAllowed("outside your organisation")
        return own

    def org_filter(self, requested: int | None, hub_permission: Permission) -> int | None:
        """Which organisation a register read covers: for hub admins (with `hub_permission`) the one asked
        for, or every one (None); for anyone else their own, never None."""
        if self.hub_wide:
            self.require(hub_permission)
            return requested
        return self.own_org(requested)
