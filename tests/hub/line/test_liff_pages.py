"""LIFF pages in a real Chromium (Debian's) at a phone size, against the hub served over HTTP.

In LINE the page gets LINE's LIFF SDK; here a local stand-in `liff` object is served at /liff/sdk.js
instead (LIFF is a CDN script, an edge outside the system). Its ID token is issued by the LINE
stand-in, so the hub's server-side check (`POST /oauth2/v2.1/verify`) runs for real. Screenshots go to
build/test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.services import queries
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import LineChat

ARTIFACTS = Path(__file__).resolve().parents[3] / "build" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if _in_ci():
            pytest.fail("Chromium is required in CI")
        pytest.skip("no chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


def _phone(browser: Any, liff: dict[str, Any] | None, locale: str = "zh-TW") -> Any:
    """A phone-sized page; `liff`: the stand-in LIFF object's answers (None: an ordinary browser);
    `locale`: the phone's language (its browser's Accept-Language)."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale=locale, timezone_id="Asia/Taipei"
    )
    if liff is not None:
        script = (
            "window.liff = (function (c) { return {"
            " init: async function (o) { if (o.liffId !== c.liffId) throw new Error('liffId'); },"
            " isInClient: function () { return true; },"
            " isLoggedIn: function () { return true; },"
            " login: function () { throw new Error('not expected'); },"
            " getIDToken: function () { return c.idToken; },"
            " scanCodeV2: async function () { return { value: window.__scanValue || c.scanValue }; }"
            "}; })(" + json.dumps(liff) + ");"
        )
        context.route(
            "**/liff/sdk.js",
            lambda route: route.fulfill(status=200, content_type="text/javascript", body=script),
        )
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"line-{name}.png"), full_page=True)


def _bind(chat: LineChat, sms: SmsOutbox, mobile: str, name: str | None = None) -> None:
    assert chat.register(mobile, sms.code, name)[0]["text"].startswith("註冊成功")


@pytest.fixture
def story(hub: Hub, client: TestClient, keys_dir: Any, super_admin_token: str) -> dict[str, Any]:
    """An enterprise with a venue code and an employee holding a pass; a station with a duty officer."""
    token, org = hub.register_enterprise(mobile="+886933000001")
    employee = client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "王大明", "mobile": "0955000001", "national_id": "F131104093"},
        headers=bearer(token),
    ).json()
    issued = client.post(
        f"/api/v1/enterprises/{org['id']}/employees/{employee['id']}/passes", json={}, headers=bearer(token)
    ).json()
    venue = client.post(
        f"/api/v1/organisations/{org['id']}/venues",
        json={
            "names": ["艾斯總部"],
            "address": "新北市板橋區中山路一段161號",
            "contact_name": "曾可愛",
            "contact_phone": "0229603456",
        },
        headers=bearer(token),
    )
    assert venue.status_code == 201, venue.text
    station = hub.create_station(super_admin_token)
    admin_token = hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    officer = client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(admin_token),
    )
    assert officer.status_code == 201, officer.text
    return {
        "token": token,
        "pass": issued,
        "venue": venue.json()[0],
        "station": station,
        "officer_id": officer.json()["id"],
    }


def test_police_scan_page_gives_the_verdict_and_records_the_check(
    browser: Any,
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    story: dict[str, Any],
) -> None:
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    page = _phone(
        browser,
        {
            "liffId": "2000000001-policeAB",
            "idToken": standin.issue_id_token(officer.user_id, "陳警員"),
            "scanValue": story["pass"]["text"],
        },
    )
    page.goto(served_hub + "/liff/police/scan")
    page.get_by_role("button", name="掃描通行碼").click()
    page.locator("#verdict-word").wait_for()
    assert page.locator("#verdict-word").inner_text() == "核准通行"
    assert page.locator("#holder-name").inner_text() == "王*明"
    assert page.locator("#holder-id").inner_text() == "F13*1*4*9*"
    assert "身分證" in page.locator("#reminder").inner_text()
    _shot(page, "police-scan-approved")

    revoked = client.post(
        f"/api/v1/passes/{story['pass']['pass_id']}/revoke",
        json={"reason": "離職"},
        headers=bearer(story["token"]),
    )
    assert revoked.status_code == 200
    page.get_by_role("button", name="繼續掃描").click()
    page.locator("#verdict-word.no").wait_for()
    assert page.locator("#verdict-word").inner_text() == "不予通行"
    assert page.locator("#verdict-reason").inner_text() == "通行碼已撤銷"
    _shot(page, "police-scan-refused")

    register = queries.check_register(
        db, since=None, until=None, officer_id=story["officer_id"], station_id=None, unmask=False
    )
    assert [(r["ok"], r["reason"], r["pass_id"]) for r in reversed(register.rows)] == [
        (True, "valid", story["pass"]["pass_id"]),
        (False, "revoked", story["pass"]["pass_id"]),
    ]
    assert {r["station_id"] for r in register.rows} == {story["station"]["id"]}
    page.context.close()


def test_scan_page_refuses_an_unbound_user_and_a_forged_token(
    browser: Any, served_hub: str, standin: StandIn, story: dict[str, Any]
) -> None:
    stranger = "U" + "9" * 32
    page = _phone(
        browser,
        {
            "liffId": "2000000001-policeAB",
            "idToken": standin.issue_id_token(stranger),
            "scanValue": story["pass"]["text"],
        },
    )
    page.goto(served_hub + "/liff/police/scan")
    page.get_by_role("button", name="掃描通行碼").click()
    page.locator("#error").wait_for()
    assert "僅限已綁定的執勤警員" in page.locator("#error").inner_text()
    # one language at a time: the zh-TW page's refusal holds no English word (LINE is a name)
    assert not re.search(r"[A-Za-z]{3,}", page.locator("#error").inner_text().replace("LINE", ""))
    page.context.close()

    # a phone set to English: the page, its script's words and the hub's refusal are English, no Chinese
    english = _phone(
        browser,
        {"liffId": "2000000001-policeAB", "idToken": standin.issue_id_token(stranger), "scanValue": "x"},
        locale="en-US",
    )
    english.goto(served_hub + "/liff/police/scan")
    english.get_by_role("button", name="Scan a pass").click()
    english.locator("#error").wait_for()
    assert english.locator("#error").inner_text().startswith("This page is only for")
    assert english.locator("html").get_attribute("lang") == "en"
    shown = english.locator("body").inner_text()
    assert "Scan and verify" in shown and not re.search(r"[\u3400-\u9fff\uff01-\uff5e]", shown), shown
    _shot(english, "police-scan-refused-english")
    english.context.close()

    forged = _phone(
        browser,
        {"liffId": "2000000001-policeAB", "idToken": "eyJforged-token", "scanValue": story["pass"]["text"]},
    )
    forged.goto(served_hub + "/liff/police/scan")
    forged.get_by_role("button", name="掃描通行碼").click()
    forged.locator("#error").wait_for()
    assert "LINE 登入已失效" in forged.locator("#error").inner_text()
    _shot(forged, "police-scan-forged-token")
    forged.context.close()


def test_venue_check_in_in_line_is_one_tap_and_leads_to_the_footprint(
    browser: Any, served_hub: str, client: TestClient, standin: StandIn, sms: SmsOutbox, story: dict[str, Any]
) -> None:
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000001")
    page = _phone(
        browser,
        {"liffId": "2000000001-enterpri", "idToken": standin.issue_id_token(employee.user_id, "王大明")},
    )
    page.goto(served_hub + f"/v/{story['venue']['code']}")
    assert page.locator(".venue-name").inner_text() == "艾斯總部"
    page.get_by_role("button", name="一鍵實聯登記").click()
    page.locator("#done").wait_for()
    assert page.locator("#done .verdict").inner_text() == "登記完成"
    assert "台北時間" in page.locator("#done-detail").inner_text()
    _shot(page, "venue-checkin-in-line")
    page.get_by_role("link", name="查看我的 28 天足跡").click()
    page.locator("#visits li").first.wait_for()
    assert "艾斯總部" in page.locator("#visits").inner_text()
    _shot(page, "footprint-in-line")
    page.context.close()


def test_venue_check_in_outside_line_takes_mobile_and_sms_code(
    browser: Any, served_hub: str, sms: SmsOutbox, story: dict[str, Any]
) -> None:
    page = _phone(browser, None)  # a phone camera opens the venue QR in an ordinary browser
    page.goto(served_hub + f"/v/{story['venue']['code']}")
    page.locator("#sms").wait_for()
    page.fill("#mobile", "0966123456")
    page.get_by_role("button", name="取得簡訊驗證碼").click()
    page.get_by_role("button", name="驗證碼已傳送").wait_for()
    page.fill("#code", "000000" if sms.code("+886966123456") != "000000" else "111111")
    page.get_by_role("button", name="登記").click()
    page.locator("#error").wait_for()
    assert (
        "驗證碼不正確" in page.locator("#error").inner_text()
        or "請確認" in page.locator("#error").inner_text()
    )
    page.fill("#code", sms.code("+886966123456"))
    page.get_by_role("button", name="登記").click()
    page.locator("#done").wait_for()
    assert page.locator("#done .verdict").inner_text() == "登記完成"
    _shot(page, "venue-checkin-browser")
    page.goto(served_hub + "/v/NOSUCHCODE")
    assert "找不到這個實聯碼" in page.locator("main").inner_text()
    page.context.close()
