"""`checkpass hub line chat` as a person uses it against a hub served over HTTP: the rich menu and what
each button sends, pressing a button, the push that comes after the answer (the 列印通行碼 sheet link),
stickers and images; and the stand-in keeping the menus each user had across a demo restart."""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from checkpass_testkit.line_standin import StandIn
from checkpass_testkit.line_standin.schema import check
from hub.core.config import Settings
from hub.line.channels import configured_channels
from hub.line.cli import _event, cmd_chat, cmd_setup_menus
from hub.line.delivery import Sender
from hub.line.menus import MenuLinker, setup_menus
from hub.models.line import ChannelName
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import TOKENS, line_settings

ADMIN = "+886933000001"
USER = "U" + "cd" * 16


def _chat(settings: Settings, hub_url: str, capsys: pytest.CaptureFixture[str], **what: Any) -> str:
    args = argparse.Namespace(
        channel="enterprise", user=USER, hub=hub_url, say=None, tap=None, follow=False, late=0.5
    )
    for key, value in what.items():
        setattr(args, key, value)
    assert cmd_chat(args, settings) == 0
    return capsys.readouterr().out


def test_the_menu_its_buttons_and_the_late_sheet_push(
    settings: Settings,
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    hub: Hub,
    sms: SmsOutbox,
    keys_dir: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cmd_setup_menus(argparse.Namespace(channel="enterprise"), settings) == 0
    token, org = hub.register_enterprise(mobile=ADMIN)
    added = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "王大明", "mobile": "0955000001", "national_id": "F131104093"},
        headers=bearer(token),
    )
    issued = client.post(
        f"/api/v1/enterprises/{org['id']}/employees/{added.json()['id']}/passes",
        json={},
        headers=bearer(token),
    )
    assert issued.status_code == 201, issued.text

    greeting = _chat(settings, served_hub, capsys, follow=True, name="可愛")
    assert "\n可愛，您好！\n\n防疫城市管理期間" in greeting
    guest_menu = _chat(settings, served_hub, capsys, menu=True)
    assert "選單：checkpass:enterprise:guest" in guest_menu
    assert "[1] 註冊登入 → postback a=register，聊天室顯示「註冊登入」" in guest_menu

    asked = _chat(settings, served_hub, capsys, press=1)  # the guest menu's only button
    assert "手機號碼" in asked
    _chat(settings, served_hub, capsys, say="0933000001")
    bound = _chat(settings, served_hub, capsys, say=sms.code(ADMIN))
    # binding links the admin's menu: the command shows it, each button with what it sends
    assert "註冊成功" in bound and "選單：checkpass:enterprise:enterprise_admin" in bound
    assert "[6] 列印通行碼 → postback a=pass_print" in bound

    printed = _chat(settings, served_hub, capsys, press=6, late=60.0)  # ends when the push is in
    # the answer, then the push with the link that came after it
    assert printed.index("正在產生全體員工通行碼的列印檔") < printed.index("全體員工通行碼列印檔已完成")
    assert "/line/files/sheet/" in printed

    # stickers and images: sent as LINE sends them, answered (text only) by the hub
    sticker = _chat(settings, served_hub, capsys, sticker="")
    assert "目前僅支援文字訊息" in sticker
    before = len(standin.calls("enterprise", "replyMessage"))
    nine = argparse.Namespace(
        channel="enterprise", user=USER, hub=served_hub, say=None, tap=None, follow=False
    )
    nine.press = 9  # the admin's menu has six buttons: a usage error, nothing sent
    assert cmd_chat(nine, settings) == 2
    assert len(standin.calls("enterprise", "replyMessage")) == before


def test_stickers_and_images_are_lines_events_and_the_image_is_kept(
    settings: Settings,
    served_hub: str,
    standin: StandIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), "#0b5394").save(photo)
    answer = _chat(settings, served_hub, capsys, image=str(photo))
    assert "目前僅支援文字訊息" in answer
    # the image the user sent is LINE's to serve, under the message id the event named
    sent = standin.content_ids("enterprise")
    assert len(sent) == 1
    auth = {"Authorization": f"Bearer {TOKENS['enterprise']}"}
    content = httpx.get(f"{standin.url}/v2/bot/message/{sent[-1]}/content", headers=auth)
    assert content.status_code == 200 and content.content == photo.read_bytes()
    assert httpx.get(f"{standin.url}/v2/bot/message/1/content", headers=auth).status_code == 404

    for kind, fields in (
        ("sticker", {"package": "446", "sticker": "1988"}),
        ("image", {"message_id": "123"}),
        ("message", {"text": "你好"}),
    ):
        body = {"destination": "U" + "0" * 32, "events": [_event(kind, USER, "token", **fields)]}
        assert check("webhook", "CallbackRequest", body) == [], kind

    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    args = argparse.Namespace(
        channel="enterprise", user=USER, hub=served_hub, say=None, tap=None, follow=False, image=str(bad)
    )
    assert cmd_chat(args, settings) == 2


def test_the_standin_keeps_each_users_menu_across_a_restart(settings: Settings, tmp_path: Path) -> None:
    state = tmp_path / "line-standin.json"
    user = "U" + "ef" * 16

    def once(link: str | None) -> tuple[dict[str, str], dict[str, Any] | None, list[str]]:
        standin = StandIn(TOKENS, state_file=state)
        standin.start()
        try:
            configured = line_settings(settings, standin)

            async def run() -> dict[str, str]:
                sender = Sender(configured_channels(configured), standin.url)
                try:
                    made = await setup_menus(sender, ChannelName.POLICE)
                    if link:
                        await MenuLinker(sender).show(ChannelName.POLICE, user, link)
                    return made
                finally:
                    await sender.aclose()

            made = asyncio.run(run())
            calls = [c.operation_id for c in standin.calls("police")]
            return made, standin.linked_menu("police", user), calls
        finally:
            standin.stop()

    first, linked, _ = once("officer")
    assert linked is not None and linked["name"] == "checkpass:police:officer"
    again, still, calls = once(None)  # the demo restarted: setup-menus runs again
    assert again == first and still is not None and still["richMenuId"] == first["officer"]
    assert "createRichMenu" not in calls and "deleteRichMenu" not in calls  # unchanged menus are kept
    kept = json.loads(state.read_text())
    assert kept["police"]["userMenus"] == {user: first["officer"]}

    # a menu whose image changed is replaced (and its users unlinked, as LINE does on delete)
    saved = json.loads(state.read_text())
    menu = saved["police"]["richMenus"][first["officer"]]
    other = io.BytesIO()
    Image.new("RGB", (2500, 843), "white").save(other, "PNG")
    menu["image"] = base64.b64encode(other.getvalue()).decode()
    state.write_text(json.dumps(saved))
    replaced, gone, calls = once(None)
    assert replaced["officer"] != first["officer"] and replaced["guest"] == first["guest"]
    assert gone is None and calls.count("createRichMenu") == 1


def test_a_push_that_came_with_the_answer_closes_the_window_at_once(
    settings: Settings, standin: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    """A quick PDF: the answer and the push after it are both in by the command's first look. The
    command shows both and ends then, not after waiting the whole window for a push it already has."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    api = {"Authorization": f"Bearer {TOKENS['enterprise']}"}

    class QuickHub(BaseHTTPRequestHandler):
        # A hub that has replied and pushed before its webhook answers: LINE's side is the stand-in.
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["events"][0]
            text = {"type": "text", "text": "正在產生列印檔"}
            httpx.post(
                f"{standin.url}/v2/bot/message/reply",
                json={"replyToken": event["replyToken"], "messages": [text]},
                headers=api,
            ).raise_for_status()
            pushed = {"type": "text", "text": "列印檔已完成"}
            httpx.post(
                f"{standin.url}/v2/bot/message/push", json={"to": USER, "messages": [pushed]}, headers=api
            ).raise_for_status()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), QuickHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        printed = _chat(settings, f"http://127.0.0.1:{server.server_port}", capsys, say="列印", late=30.0)
        took = time.monotonic() - started
    finally:
        server.shutdown()
    assert printed.index("正在產生列印檔") < printed.index("列印檔已完成")
    assert took < 15, f"waited {took:.1f} s for a push it had shown"
