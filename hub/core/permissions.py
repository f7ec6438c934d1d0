"""What each role may do. Super admins hold every permission; general admins hold what they were granted;
the organisation roles hold a fixed set, always limited to their own organisation."""

from __future__ import annotations

from enum import StrEnum

from hub.core.vocabulary import Role


class Permission(StrEnum):
    ADMINS_MANAGE = "admins.manage"  # create/edit general admins (within the grantor's own permissions)
    STATIONS_MANAGE = "stations.manage"  # stations and their admins, batch import
    ENTERPRISES_MANAGE = "enterprises.manage"  # any enterprise, its whitelist and passes
    PASSES_REVOKE = "passes.revoke"
    DEVICES_MANAGE = "devices.manage"  # checkpoint enrolment tokens, device revocation
    QUERY_PASSES = "query.passes"  # enterprise pass register
    QUERY_CHECKS = "query.checks"  # police check register
    QUERY_VISITS = "query.visits"  # venue visits and personal footprints
    PERSONAL_DATA_UNMASK = "personal_data.unmask"  # see names, IDs and mobiles in clear (audited)
    AUDIT_READ = "audit.read"
    RETENTION_PURGE = "retention.purge"


ALL_PERMISSIONS = frozenset(Permission)

# Organisation roles: these permissions apply only inside their own organisation (checked by the routes).
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SUPER_ADMIN: ALL_PERMISSIONS,
    Role.GENERAL_ADMIN: frozenset(),  # whatever was granted
    Role.STATION_ADMIN: frozenset(
        {Permission.DEVICES_MANAGE, Permission.QUERY_CHECKS, Permission.QUERY_VISITS}
    ),
    Role.ENTERPRISE_ADMIN: frozenset(
        {Permission.PASSES_REVOKE, Permission.QUERY_PASSES, Permission.QUERY_VISITS}
    ),
    Role.OFFICER: frozenset(),
    Role.EMPLOYEE: frozenset(),
}

# Roles whose permissions reach every organisation (hub administrators).
HUB_WIDE_ROLES = frozenset({Role.SUPER_ADMIN, Role.GENERAL_ADMIN})
