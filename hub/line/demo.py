"""`make demo` with LINE: the hub talks to an in-process LINE stand-in (`checkpass_testkit.line_standin`, test
equipment from testkit/, installed beside the product in the development .venv) on the next port, both
channels configured with demo secrets, rich menus created. A person then uses the LINE phone in a
browser (the stand-in's `/phone`: each demo person's chat, rich menu and LIFF pages) or chats from another
terminal with the command `demo_lines` prints."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from checkpass_testkit.line_standin import StandIn
from checkpass_testkit.line_standin.phone import Account, Person, Phone, person_user_id
from hub.core.config import Settings
from hub.core.vocabulary import ChannelName, Role
from hub.demo import DEMO_EMPLOYEES, DEMO_ENTERPRISE_ADMIN, DEMO_OFFICERS, DEMO_STATION_ADMIN
from hub.line.channels import configured_channels, role_label
from hub.line.delivery import Sender
from hub.line.menus import setup_menus
from hub.line.words import t

DEMO_SECRETS = {"enterprise": "demo-enterprise-channel-secret", "police": "demo-police-channel-secret"}
DEMO_TOKENS = {"enterprise": "demo-enterprise-access-token", "police": "demo-police-access-token"}
DEMO_LOGIN_CHANNEL_ID = "1650000000"
DEMO_USER = "U" + "0123456789abcdef" * 2
ACCOUNT_NAMES = {"enterprise": t("line.account.enterprise"), "police": t("line.account.police")}


def demo_people() -> list[Person]:
    """Who the LINE phone can be: a guest (a new LINE user each time) and one person of each role."""

    def person(role: Role, channel: str, name: str, mobile: str) -> Person:
        return Person(role.value, name, role_label(role.value), channel, mobile, person_user_id(role.value))

    return [
        Person("guest", t("line.demo.guest"), t("line.demo.guest_role"), None),
        person(Role.ENTERPRISE_ADMIN, "enterprise", *DEMO_ENTERPRISE_ADMIN),
        person(Role.EMPLOYEE, "enterprise", DEMO_EMPLOYEES[0][0], DEMO_EMPLOYEES[0][1]),
        person(Role.STATION_ADMIN, "police", DEMO_STATION_ADMIN[0], DEMO_STATION_ADMIN[1]),
        person(Role.OFFICER, "police", DEMO_OFFICERS[0][0], DEMO_OFFICERS[0][2]),
    ]


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
    hub_url = configured.base_url.rstrip("/")
    phone = Phone(
        standin,
        accounts=[
            Account(c, ACCOUNT_NAMES[c], f"{hub_url}/line/{c}/webhook", DEMO_SECRETS[c]) for c in DEMO_SECRETS
        ],
        people=demo_people(),
        liff_endpoints={configured.liff_id_enterprise: hub_url, configured.liff_id_police: hub_url},
        sms_file=configured.sms_file_path,
    )
    standin.attach_phone(phone, host)
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
        f"  LINE phone:    {settings.line_api_url}/phone  (each demo person's LINE, in a browser)",
        f"  LINE stand-in: {settings.line_api_url} (webhooks at {hub_url}/line/enterprise|police/webhook)",
        f"  LINE chat:     {env} .venv/bin/checkpass hub line chat --channel enterprise --user {DEMO_USER}",
    ]
