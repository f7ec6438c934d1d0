# ruff: noqa: F811  (the `story` fixture is imported from test_liff_pages and requested by name)
"""The pass shown where it is scanned: the chat's pass bubble links to the LIFF 出示通行碼 page
(`/liff/enterprise/pass`, `POST /liff/api/pass`), which draws the QR on a white plate with a wide quiet
zone in a dark theme too, keeps the screen on where the platform allows it (Screen Wake Lock), and says
in words that a web page cannot turn the brightness up. Only the bound employee's own pass is shown."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import expect

from tests.hub.hubkit import SmsOutbox, bearer
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, _phone, _shot, browser, story  # noqa: F401  (fixtures)

EMPLOYEE_MOBILE = "+886955000001"  # the story's employee, 王大明
ENTERPRISE_LIFF = "2000000001-enterpri"
# A stand-in for the Screen Wake Lock API that records what the page asked for (headless Chromium's own
# refuses without a user gesture); "absent" removes the API, as on a browser without it.
WAKE_LOCK = """
window.__wakeRequests = [];
Object.defineProperty(navigator, "wakeLock", { configurable: true, value: {
  request: async (kind) => {
    window.__wakeRequests.push(kind);
    return { released: false, release: async () => {} };
  },
}});
"""
NO_WAKE_LOCK = "delete Navigator.prototype.wakeLock; delete navigator.wakeLock;"


def _ask(client: TestClient, standin: Any, user_id: str) -> Any:
    return client.post("/liff/api/pass", json={"id_token": standin.issue_id_token(user_id)})


def _open_pass_page(browser: Any, served_hub: str, id_token: str, *, wake_lock: bool) -> Any:
    page = _phone(browser, {"liffId": ENTERPRISE_LIFF, "idToken": id_token})
    page.emulate_media(color_scheme="dark")
    page.add_init_script(WAKE_LOCK if wake_lock else NO_WAKE_LOCK)
    page.goto(served_hub + "/liff/enterprise/pass")
    page.locator("#shown").wait_for()
    # (the pages' CSP has no 'unsafe-eval', so no wait_for_function: a property of the element instead)
    expect(page.locator("#pass-qr")).to_have_js_property("complete", True)
    assert page.locator("#pass-qr").evaluate("img => img.naturalWidth") > 0
    return page


def test_the_pass_bubble_links_to_the_full_screen_page(
    client: TestClient, standin: Any, sms: SmsOutbox, story: dict[str, Any]
) -> None:
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, EMPLOYEE_MOBILE)
    [bubble] = employee.tap("a=pass_show")
    button = bubble["contents"]["footer"]["contents"][0]
    assert button["action"]["label"] == "全螢幕出示"
    assert button["action"]["uri"].endswith("/liff/enterprise/pass")
    assert bubble["contents"]["styles"]["hero"]["backgroundColor"] == "#FFFFFF"  # the chat's own quiet zone


def test_the_page_shows_the_qr_on_white_in_the_dark_theme_and_keeps_the_screen_on(
    browser: Any, served_hub: str, client: TestClient, standin: Any, sms: SmsOutbox, story: dict[str, Any]
) -> None:
    import zxingcpp

    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, EMPLOYEE_MOBILE)
    page = _open_pass_page(
        browser, served_hub, standin.issue_id_token(employee.user_id, "王大明"), wake_lock=True
    )
    assert page.locator("#holder-name").inner_text() == "王*明"
    assert page.locator("#holder-id").inner_text() == "F13*1*4*9*"
    assert page.evaluate("window.__wakeRequests") == ["screen"]
    assert page.locator("#wake").inner_text() == "出示期間螢幕會保持開啟。"
    assert "網頁無法調整螢幕亮度" in page.locator("#brightness").inner_text()
    # The page around it is dark (the theme is honoured) ...
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(18, 22, 27)"
    _shot(page, "pass-shown-dark")
    # ... and the plate is white all round the code: its outer band, beyond the PNG's own 4 white modules.
    plate = Image.open(io.BytesIO(page.locator(".qr-plate").screenshot())).convert("L")
    width, height = plate.size
    band = 16  # of the plate's 24 px padding (its rounded corners are left out)
    edge = [
        plate.getpixel((x, y))
        for x in range(band, width - band)
        for y in (*range(band), *range(height - band, height))
    ]
    edge += [
        plate.getpixel((x, y))
        for y in range(band, height - band)
        for x in (*range(band), *range(width - band, width))
    ]
    assert min(edge) >= 250
    decoded = zxingcpp.read_barcodes(plate, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [d.text for d in decoded] == [story["pass"]["text"]]
    page.context.close()


def test_without_the_wake_lock_api_the_page_says_so(
    browser: Any, served_hub: str, client: TestClient, standin: Any, sms: SmsOutbox, story: dict[str, Any]
) -> None:
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, EMPLOYEE_MOBILE)
    page = _open_pass_page(browser, served_hub, standin.issue_id_token(employee.user_id), wake_lock=False)
    assert "無法讓螢幕保持開啟" in page.locator("#wake").inner_text()
    assert "網頁無法調整螢幕亮度" in page.locator("#brightness").inner_text()
    page.context.close()


@pytest.mark.parametrize("who", ["officer", "enterprise_admin", "stranger"])
def test_only_a_bound_employee_gets_a_pass(
    client: TestClient, standin: Any, sms: SmsOutbox, story: dict[str, Any], who: str
) -> None:
    if who == "officer":
        chat = LineChat(client, standin, "police")
        _bind(chat, sms, "+886977000001", "陳警員")
        user_id = chat.user_id
    elif who == "enterprise_admin":
        chat = LineChat(client, standin, "enterprise")
        _bind(chat, sms, "+886933000001")
        user_id = chat.user_id
    else:
        user_id = "U" + "7" * 32
    refused = _ask(client, standin, user_id)
    assert refused.status_code == 403, refused.text
    assert story["pass"]["text"] not in refused.text


def test_a_revoked_pass_is_not_shown(
    client: TestClient, standin: Any, sms: SmsOutbox, story: dict[str, Any]
) -> None:
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, EMPLOYEE_MOBILE)
    shown = _ask(client, standin, employee.user_id)
    assert shown.status_code == 200 and shown.json()["holder"] == "王*明"
    assert client.get(shown.json()["qr"]).headers["content-type"] == "image/png"  # a same-origin link
    revoked = client.post(
        f"/api/v1/passes/{story['pass']['pass_id']}/revoke",
        json={"reason": "離職"},
        headers=bearer(story["token"]),
    )
    assert revoked.status_code == 200
    gone = _ask(client, standin, employee.user_id)
    assert gone.status_code == 404 and gone.json()["error"] == "no_pass"
