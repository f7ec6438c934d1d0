"""Rich menus: made by `checkpass hub line setup-menus`, linked per role, unlinked on role loss; and the
`checkpass hub line chat` command against a hub served over real HTTP."""

from __future__ import annotations

import argparse
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from checkpass_testkit.line_standin import StandIn
from hub.core.config import Settings
from hub.line.cli import cmd_chat, cmd_setup_menus
from hub.line.menus import GUEST, MENUS, draw, menu_name
from hub.models.line import ChannelName
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import LineChat


def _setup(settings: Settings, channel: str | None = None) -> int:
    return cmd_setup_menus(argparse.Namespace(channel=channel), settings)


def test_setup_menus_creates_every_role_menu_with_its_image(settings: Settings, standin: StandIn) -> None:
    assert _setup(settings) == 0
    for channel in ChannelName:
        menus = standin.rich_menus(channel.value)
        names = sorted(m["name"] for m in menus.values())
        assert names == sorted(menu_name(channel, key) for (c, key) in MENUS if c is channel)
        assert all(m["hasImage"] for m in menus.values())
        for menu in menus.values():
            key = menu["name"].rsplit(":", 1)[1]
            labels = [a["action"]["displayText"] for a in menu["areas"]]
            assert labels == [b.spoken for b in MENUS[(channel, key)]]
    enterprise_admin = [
        a["action"]["displayText"] for a in _menu(standin, "enterprise", "enterprise_admin")["areas"]
    ]
    assert enterprise_admin == [
        "註冊登入",
        "申請企業實聯碼",
        "通行碼名單管理",
        "下載通行碼",
        "出示通行碼",
        "列印通行碼",
    ]
    police = [a["action"]["displayText"] for a in _menu(standin, "police", "station_admin")["areas"]]
    assert police == ["註冊登入", "掃碼核實", "執勤名單", "查詢", "申請實聯碼", "使用說明"]

    # run again: replaced, not piled up; the default is the new guest menu
    assert _setup(settings, "police") == 0
    assert len(standin.rich_menus("police")) == len([k for k in MENUS if k[0] is ChannelName.POLICE])


def _menu(standin: StandIn, channel: str, key: str) -> dict:
    return next(m for m in standin.rich_menus(channel).values() if m["name"].endswith(":" + key))


def test_menu_images_have_the_menu_size_and_drawn_labels() -> None:
    for (channel, key), buttons in MENUS.items():
        image = Image.open(io.BytesIO(draw(channel, key)))
        assert image.width == 2500 and image.height == (843 if len(buttons) <= 3 else 1686)
        # the label is drawn: the middle of the first cell is not just the blank cell colour
        centre_x = 2500 // min(len(buttons), 3) // 2
        cell = image.crop((centre_x - 300, 170, centre_x + 300, 670)).convert("L")
        assert cell.getextrema()[0] < 128


def test_setup_menus_without_a_channel_is_a_usage_error(settings: Settings) -> None:
    plain = settings.model_copy(update={"line_police_channel_secret": None})
    assert _setup(plain, "police") == 2


def test_binding_links_the_role_menu_and_losing_the_role_unlinks_it(
    settings: Settings, client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox
) -> None:
    assert _setup(settings, "enterprise") == 0
    token, enterprise = hub.register_enterprise(mobile="+886933000001")
    added = client.post(
        f"/api/v1/enterprises/{enterprise['id']}/employees",
        json={"name": "王大明", "mobile": "0955000001", "national_id": "F131104093"},
        headers=bearer(token),
    )
    chat = LineChat(client, standin, "enterprise")
    assert chat.follow()  # unbound: the default guest menu, nothing linked
    assert standin.linked_menu("enterprise", chat.user_id) is None
    chat.tap("a=register")
    chat.say("0955000001")
    chat.say(sms.code("+886955000001"))
    assert standin.linked_menu("enterprise", chat.user_id)["name"] == menu_name(
        ChannelName.ENTERPRISE, "employee"
    )

    removed = client.delete(
        f"/api/v1/enterprises/{enterprise['id']}/employees/{added.json()['id']}", headers=bearer(token)
    )
    assert removed.status_code == 204
    chat.tap("a=pass_show")
    assert standin.linked_menu("enterprise", chat.user_id) is None
    default = [c for c in standin.calls("enterprise", "setDefaultRichMenu") if c.status == 200]
    assert default and GUEST in _menu(standin, "enterprise", GUEST)["name"]


def test_chat_command_sends_signed_events_and_prints_the_replies(
    settings: Settings, served_hub: str, standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    user = "U" + "ab" * 16

    def chat(**what: object) -> str:
        args = argparse.Namespace(
            channel="police", user=user, hub=served_hub, say=None, tap=None, follow=False
        )
        for key, value in what.items():
            setattr(args, key, value)
        assert cmd_chat(args, settings) == 0
        return capsys.readouterr().out

    greeting = chat(follow=True)
    assert "防疫城市管理期間" in greeting and "/tap a=faq&q=officer_code" in greeting
    assert "警員不需另外申請" in chat(tap="a=faq&q=officer_code")
    assert "手機號碼" in chat(say="註冊 登入")
    bad = argparse.Namespace(channel="police", user="nobody", hub=served_hub, say="x", tap=None, follow=False)
    assert cmd_chat(bad, settings) == 2
