"""The two official accounts: which roles each serves, and its secret, token and webhook parser."""

from __future__ import annotations

from dataclasses import dataclass

from linebot.v3 import WebhookParser

from hub.core.config import Settings
from hub.core.vocabulary import ChannelName, Role
from hub.line.words import CHAT_LANGUAGE, t


def role_label(role: str, language: str = CHAT_LANGUAGE) -> str:
    """What the chat calls a role (a role it does not serve: its value)."""
    labels = {
        Role.ENTERPRISE_ADMIN.value: t("line.role.enterprise_admin", language),
        Role.EMPLOYEE.value: t("line.role.employee", language),
        Role.STATION_ADMIN.value: t("line.role.station_admin", language),
        Role.OFFICER.value: t("line.role.officer", language),
    }
    return labels.get(role, role)


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
