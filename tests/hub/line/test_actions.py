"""Menu actions in chat: employee passes (Flex with a signed QR link, PNG, PDF), the enterprise sheet by
push, police items; each re-checked against the caller's current role, from the attacker's side too."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from checkpass_testkit.line_standin import StandIn
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import LineChat

ADMIN = "+886933000001"
EMPLOYEE = ("王大明", "+886955000001", "F131104093")
OTHER_EMPLOYEE = ("林小華", "+886955000002", "A123456789")


def _bind(chat: LineChat, sms: SmsOutbox, mobile: str, name: str | None = None) -> None:
    assert chat.register(mobile, sms.code, name)[0]["text"].startswith("註冊成功")


def _employee_with_pass(hub: Hub, token: str, org_id: int, person: tuple[str, str, str]) -> dict[str, Any]:
    name, mobile, national_id = person
    added = hub.client.post(
        f"/api/v1/enterprises/{org_id}/employees",
        json={"name": name, "mobile": mobile, "national_id": national_id},
        headers=bearer(token),
    )
    assert added.status_code == 201, added.text
    issued = hub.client.post(
        f"/api/v1/enterprises/{org_id}/employees/{added.json()['id']}/passes", json={}, headers=bearer(token)
    )
    assert issued.status_code == 201, issued.text
    return issued.json()


def _local(client: TestClient, url: str) -> Any:
    """Fetch a link the hub gave LINE (its base URL is the test client's)."""
    parts = urlsplit(url)
    return client.get(parts.path + ("?" + parts.query if parts.query else ""))


@pytest.fixture
def enterprise(hub: Hub, keys_dir: Any) -> tuple[str, dict[str, Any]]:
    return hub.register_enterprise(mobile=ADMIN)


def test_employee_shows_downloads_and_prints_the_pass(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, enterprise: tuple[str, dict[str, Any]]
) -> None:
    token, org = enterprise
    issued = _employee_with_pass(hub, token, org["id"], EMPLOYEE)
    chat = LineChat(client, standin, "enterprise")
    _bind(chat, sms, EMPLOYEE[1])

    shown = chat.tap("a=pass_show")
    assert shown[0]["type"] == "flex"
    bubble = shown[0]["contents"]
    texts = [c["text"] for c in bubble["body"]["contents"]]
    assert "持有人：王*明" in texts and "身分證：F13*1*4*9*" in texts
    assert any("台北時間" in t for t in texts)
    png = _local(client, bubble["hero"]["url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png.content)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [d.text for d in decoded] == [issued["text"]]
    # a white quiet zone in LINE's dark theme too: the hero block is white and the PNG opaque, its
    # 4-module border white
    assert bubble["styles"]["hero"]["backgroundColor"] == "#FFFFFF"
    image = Image.open(io.BytesIO(png.content))
    assert "A" not in image.getbands() and "transparency" not in image.info
    grey = image.convert("L")
    border = 4 * 10  # modules x box size of the "qr" link
    width, height = grey.size
    edge = [
        grey.getpixel((x, y)) for x in range(width) for y in (*range(border), *range(height - border, height))
    ]
    edge += [
        grey.getpixel((x, y)) for y in range(height) for x in (*range(border), *range(width - border, width))
    ]
    assert min(edge) == 255

    downloaded = chat.tap("a=pass_download")
    assert downloaded[0]["type"] == "image"
    assert _local(client, downloaded[0]["previewImageUrl"]).status_code == 200

    printed = chat.tap("a=pass_print")
    pdf_url = printed[0]["contents"]["footer"]["contents"][0]["action"]["uri"]
    pdf = _local(client, pdf_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # after revocation: no pass in chat, and the links already handed out stop working
    revoked = client.post(
        f"/api/v1/passes/{issued['pass_id']}/revoke", json={"reason": "離職"}, headers=bearer(token)
    )
    assert revoked.status_code == 200, revoked.text
    assert chat.tap("a=pass_show")[0]["text"].startswith("目前沒有有效的通行碼")
    assert _local(client, bubble["hero"]["url"]).status_code == 410


def test_signed_links_cannot_be_forged_or_reused_for_another_pass(
    client: TestClient, standin: StandIn, hub: Hub, sms: SmsOutbox, enterprise: tuple[str, dict[str, Any]]
) -> None:
    token, org = enterprise
    mine = _employee_with_pass(hub, token, org["id"], EMPLOYEE)
    theirs = _employee_with_pass(hub, token, org["id"], OTHER_EMPLOYEE)
    chat = LineChat(client, standin, "enterprise")
    _bind(chat, sms, EMPLOYEE[1])
    url = chat.tap("a=pass_show")[0]["contents"]["hero"]["url"]
    assert mine["pass_id"] in url
    assert _local(client, url.replace(mine["pass_id"], theirs["pass_id"])).status_code == 410
    assert _local(client, re.sub(r"sig=[0-9a-f]+", "sig=" + "0" * 32, url)).status_code == 410
    assert _local(client, re.sub(r"exp=\d+", "exp=1", url)).status_code == 410
    assert _local(client, url.replace("/qr/", "/pdf/")).status_code == 410
    # a postback naming another person's pass shows the caller's own pass, never theirs
    shown = chat.tap(f"a=pass_show&pass_id={theirs['pass_id']}")
    assert mine["pass_id"] in shown[0]["contents"]["hero"]["url"]
    assert theirs["pass_id"] not in str(shown)


def test_admin_gets_the_enterprise_sheet_by_push(
    app: Any,
    client: TestClient,
    standin: StandIn,
    hub: Hub,
    sms: SmsOutbox,
    enterprise: tuple[str, dict[str, Any]],
) -> None:
    token, org = enterprise
    _employee_with_pass(hub, token, org["id"], EMPLOYEE)
    _employee_with_pass(hub, token, org["id"], OTHER_EMPLOYEE)
    chat = LineChat(client, standin, "enterprise")
    _bind(chat, sms, ADMIN)
    before = len(standin.calls("enterprise"))
    reply = chat.tap("a=pass_print")
    assert reply[0]["text"].startswith("正在產生全體員工通行碼的列印檔")
    client.portal.call(app.state.line.drain)  # the slow work runs on the app's event loop
    pushed = [c for c in standin.calls("enterprise", "pushMessage")[0:] if c.status == 200]
    assert len(pushed) == 1 and pushed[0].body["to"] == chat.user_id
    link = re.search(r"http\S+", pushed[0].body["messages"][0]["text"]).group(0)
    assert "（共 2 張）" in pushed[0].body["messages"][0]["text"]
    pdf = _local(client, link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert len(standin.calls("enterprise")) > before

    listed = chat.tap("a=pass_list")
    assert listed[0]["text"].startswith("有效通行碼 2 張") and "王*明" in listed[0]["text"]


def test_items_of_other_roles_are_refused_and_read_nothing(
    client: TestClient,
    standin: StandIn,
    hub: Hub,
    sms: SmsOutbox,
    enterprise: tuple[str, dict[str, Any]],
    super_admin_token: str,
) -> None:
    token, org = enterprise
    _employee_with_pass(hub, token, org["id"], EMPLOYEE)
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, EMPLOYEE[1])
    assert employee.tap("a=pass_list")[0]["text"] == "此功能僅限企業管理者使用。"
    assert employee.tap("a=venue_apply")[0]["text"].startswith("此功能僅限企業管理者")
    assert employee.tap("a=duty_roster")[0]["text"] == "此功能僅限分局管理員使用。"
    assert employee.tap("a=bogus")[0]["text"].startswith("無法辨識的操作")

    station = hub.create_station(super_admin_token)
    admin_token = hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(admin_token),
    )
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    assert officer.tap("a=duty_roster")[0]["text"] == "此功能僅限分局管理員使用。"
    assert officer.tap("a=checks")[0]["text"] == "此功能僅限分局管理員使用。"
    assert officer.tap("a=pass_show")[0]["text"].startswith("此功能僅限員工")
    scan = officer.tap("a=scan")[0]
    assert (
        scan["contents"]["footer"]["contents"][0]["action"]["uri"]
        == "https://liff.line.me/2000000001-policeAB/liff/police/scan"
    )

    station_admin = LineChat(client, standin, "police")
    _bind(station_admin, sms, "+886922000001", "林警官")
    roster = station_admin.tap("a=duty_roster")
    assert roster[0]["text"].startswith("執勤名單：1 人") and "陳*察" not in roster[0]["text"]
    assert "陳*員" in roster[0]["text"] and "0977000001" not in roster[0]["text"]
    assert station_admin.tap("a=checks")[0]["text"].startswith("本分局 24 小時內查驗 0 筆")


def test_every_menu_button_of_every_role_is_answered(
    client: TestClient,
    standin: StandIn,
    hub: Hub,
    sms: SmsOutbox,
    enterprise: tuple[str, dict[str, Any]],
    super_admin_token: str,
) -> None:
    from hub.line.menus import GUEST, MENUS
    from hub.models.line import ChannelName

    token, org = enterprise
    _employee_with_pass(hub, token, org["id"], EMPLOYEE)
    station = hub.create_station(super_admin_token)
    admin_token = hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(admin_token),
    )
    # the station admin is on the duty roster too, as station heads at a roadblock are: 掃碼核實 is for
    # officers on the roster (a check is recorded as one by an officer)
    client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "林警官", "officer_number": "A0001", "mobile": "0922000001"},
        headers=bearer(admin_token),
    )
    people = {
        (ChannelName.ENTERPRISE, "enterprise_admin"): (ADMIN, None),
        (ChannelName.ENTERPRISE, "employee"): (EMPLOYEE[1], None),
        (ChannelName.POLICE, "station_admin"): ("+886922000001", "林警官"),
        (ChannelName.POLICE, "officer"): ("+886977000001", "陳警員"),
    }
    for (channel, key), buttons in MENUS.items():
        chat = LineChat(client, standin, channel.value)
        if key != GUEST:
            _bind(chat, sms, *people[(channel, key)])
        for button in buttons:
            answer = chat.tap(f"a={button.action}")
            assert answer, (channel, key, button)
            words = " ".join(str(m.get("text", m.get("altText", ""))) for m in answer)
            assert "無法辨識" not in words and "此功能僅限" not in words, (channel, key, button, words)
            if key == GUEST and button.action not in ("register", "help"):
                assert words.startswith("請先點選單")
            chat.say("取消") if button.action in ("register", "support") else None


def test_role_lost_mid_conversation_changes_nothing(
    client: TestClient,
    standin: StandIn,
    hub: Hub,
    sms: SmsOutbox,
    db: Any,
    enterprise: tuple[str, dict[str, Any]],
) -> None:
    from sqlalchemy import func, select

    from hub.models.line import LineSupportMessage

    token, org = enterprise
    issued = _employee_with_pass(hub, token, org["id"], EMPLOYEE)
    chat = LineChat(client, standin, "enterprise")
    _bind(chat, sms, EMPLOYEE[1])
    chat.tap("a=support")  # the employee starts writing to 客服 ...
    employee_id = hub.client.get(f"/api/v1/enterprises/{org['id']}/employees", headers=bearer(token)).json()[
        0
    ]["id"]
    assert (
        client.delete(
            f"/api/v1/enterprises/{org['id']}/employees/{employee_id}", headers=bearer(token)
        ).status_code
        == 204
    )
    answer = chat.say("請把我的通行碼寄給我")  # ... and is taken off the whitelist before sending
    assert answer[0]["text"].startswith("您的身分已變更")
    assert db.scalar(select(func.count()).select_from(LineSupportMessage)) == 0
    again = chat.tap("a=pass_show")
    assert again[0]["text"].startswith("請先點選單的「註冊 登入」")
    assert issued["pass_id"] not in str(again)
