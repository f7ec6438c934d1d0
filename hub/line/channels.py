"""The two official accounts: which roles each serves, and its secret, token and webhook parser."""

from __future__ import annotations

from dataclasses import dataclass

from linebot.v3 import WebhookParser

from hub.core.config import Settings
from hub.models.identity import Role
from hub.models.line import ChannelName

CHANNEL_ROLES: dict[ChannelName, tuple[Role, ...]] = {
    ChannelName.ENTERPRISE: (Role.ENTERPRISE_ADMIN, Role.EMPLOYEE),
    ChannelName.POLICE: (Role.STATION_ADMIN, Role.OFFICER),
}

ROLE_LABELS: dict[str, str] = {
    Role.ENTERPRISE_ADMIN.value: "企業管理者",
    Role.EMPLOYEE.value: "員工",
    Role.STATION_ADMIN.value: "分局管理員",
    Role.OFFICER.value: "執勤警員",
}


@dataclass(frozen=True)
class LineChannel:
    name: ChannelName
    secret: str
    token: str
    parser: WebhookParser


def configured_channels(settings: Settings) -> dict[ChannelName, LineChannel]:
    """The channels whose secret and token are both set."""
    pairs = {
        ChannelName.ENTERPRISE: (
            settings.line_enterprise_channel_secret,
            settings.line_enterprise_channel_token,
        ),
        ChannelName.POLICE: (settings.line_police_channel_secret, settings.line_police_channel_token),
    }
    out: dict[ChannelName, LineChannel] = {}
    for name, (secret, token) in pairs.items():
        if secret is None or token is None:
            continue
        value = secret.get_secret_value()
        out[name] = LineChannel(name, value, token.get_secret_value(), WebhookParser(value))
    return out
