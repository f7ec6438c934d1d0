"""The domain's closed vocabularies: the values the tables store in their string columns (a user's role,
an organisation's kind, a registration claim's review state, the LINE official account a row belongs
to). Plain enums, importing nothing of the hub, so the tables (hub/models/), the services and the front
ends all say them without a front end reaching a table module (docs/where-things-go.md)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    GENERAL_ADMIN = "general_admin"
    STATION_ADMIN = "station_admin"
    OFFICER = "officer"
    ENTERPRISE_ADMIN = "enterprise_admin"
    EMPLOYEE = "employee"


CONSOLE_ROLES = frozenset({Role.SUPER_ADMIN, Role.GENERAL_ADMIN})


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    STATION = "station"


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class ChannelName(StrEnum):
    """The two official accounts: the values of every LINE table's `channel`."""

    ENTERPRISE = "enterprise"  # 新北市交通管制通行碼管理系統: enterprise admins and employees
    POLICE = "police"  # 新北市交通管制通行碼查驗系統: station admins and duty officers
