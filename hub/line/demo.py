"""`make demo` with LINE: the hub talks to an in-process LINE stand-in (`checkpass_testkit.line_standin`, test
equipment from testkit/, installed beside the product in the development .venv) on the next port, both
channels configured with demo secrets, rich menus created. A person then chats from another
terminal with the command `demo_lines` prints."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from checkpass_testkit.line_standin import StandIn
from hub.core.config import Settings
from hub.line.channels import ChannelName, configured_channels
from hub.line.delivery import Sender
from hub.line.menus import setup_menus

DEMO_SECRETS = {"enterprise": "demo-enterprise-channel-secret", "police": "demo-police-channel-secret"}
DEMO_TOKENS = {"enterprise": "demo-enterprise-access-token", "police": "demo-police-access-token"}
DEMO_LOGIN_CHANNEL_ID = "1650000000"
DEMO_USER = "U" + "0123456789abcdef" * 2


def start_standin(settings: Settings, host: str, port: int) -> tuple[Settings, StandIn]:
    """Start the stand-in and return settings pointing both channels and LINE Login at it."""
    standin = StandIn(DEMO_TOKENS, login_channel_id=DEMO_LOGIN_CHANNEL_ID)
    url = standin.start(host, port)
    configured = settings.model_copy(
        update={
            "line_enterprise_channel_secret": SecretStr(DEMO_SECRETS["enterprise"]),
            "line_enterprise_channel_token": SecretStr(DEMO_TOKENS["enterprise"]),
            "line_police_channel_secret": SecretStr(DEMO_SECRETS["police"]),
            "line_police_channel_token": SecretStr(DEMO_TOKENS["police"]),
            "line_api_url": url,
            "line_login_channel_id": DEMO_LOGIN_CHANNEL_ID,
            "line_login_api_url": url,
            "liff_id_enterprise": f"{DEMO_LOGIN_CHANNEL_ID}-enterpri",
            "liff_id_police": f"{DEMO_LOGIN_CHANNEL_ID}-policeAB",
        }
    )
    channels = configured_channels(configured)

    async def menus() -> None:
        sender = Sender(channels, url)
        try:
            for channel in ChannelName:
                await setup_menus(sender, channel)
        finally:
            await sender.aclose()

    asyncio.run(menus())
    return configured, standin


def demo_lines(settings: Settings, hub_url: str) -> list[str]:
    env = (
        f"HUB_LINE_ENTERPRISE_CHANNEL_SECRET={DEMO_SECRETS['enterprise']} "
        f"HUB_LINE_ENTERPRISE_CHANNEL_TOKEN={DEMO_TOKENS['enterprise']} "
        f"HUB_LINE_POLICE_CHANNEL_SECRET={DEMO_SECRETS['police']} "
        f"HUB_LINE_POLICE_CHANNEL_TOKEN={DEMO_TOKENS['police']} "
        f"HUB_LINE_API_URL={settings.line_api_url} HUB_BASE_URL={hub_url}"
    )
    return [
        f"  LINE stand-in: {settings.line_api_url} (webhooks at {hub_url}/line/enterprise|police/webhook)",
        f"  LINE chat:     {env} .venv/bin/checkpass hub line chat --channel enterprise --user {DEMO_USER}",
    ]
