"""The LINE phone of `make demo` (testkit `line_standin/phone.py`) in Chromium: the demo as a person starts
it (`checkpass hub demo` in its own process), the phone URL it prints, and one flow of each of the demo's
people tapped through the phone: quick replies, rich-menu areas, Flex bubbles and their images, text
typed in, the binding code read from the phone's SMS, and LIFF pages opened in the phone's webview where
LINE's real LIFF SDK (served by the hub) initialises on the tokens the stand-in issued, as in the LINE
app. Everything the phone sends reaches the hub as signed webhooks. Screenshots go to
build/test-artifacts/line_phone/.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.line.pages import SDK_FILE
from tests.ci import skip_or_fail
from tests.hub.line.test_liff_pages import browser  # noqa: F401  (the module's Chromium fixture)

ARTIFACTS = Path(__file__).resolve().parents[3] / "build" / "test-artifacts" / "line_phone"
WAIT_MS = 30000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def phone_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`checkpass hub demo` in its own process, as `make demo` runs it; the LINE phone URL it prints."""
    if not SDK_FILE.is_file():
        skip_or_fail("the LIFF SDK is not built (scripts/bootstrap builds it with npm)")
    directory = tmp_path_factory.mktemp("phone-demo")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    log = directory / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "provisioning", "hub", "demo", "--dir", str(directory / "demo")]
            + ["--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=directory,
        )
    try:
        deadline = time.monotonic() + 180
        url = None
        while url is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"LINE phone: +(\S+)", log.read_text())
            url = found.group(1) if found else None
            time.sleep(0.2)
        while "Uvicorn running" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        assert url is not None, log.read_text()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def _phone(browser: Any, url: str, person: str, channel: str = "enterprise") -> Any:  # noqa: F811
    context = browser.new_context(
        viewport={"width": 420, "height": 880}, locale="zh-TW", timezone_id="Asia/Taipei"
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.locator("#account option").first.wait_for(state="attached")
    page.select_option("#account", channel)
    page.select_option("#person", person)
    # Opening the account the first time adds it as a friend: the hub's greeting answers the follow.
    page.locator(".row.account").filter(has_text="您好").wait_for()
    return page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _say(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.click("#send")


def _menu(page: Any, label: str) -> None:
    page.locator("#menu").get_by_role("button", name=label).click()


def _bind(page: Any, mobile: str, name: str | None = None) -> None:
    """註冊 登入 from the rich menu, (in the police account the name first,) the mobile typed, the code
    from the phone's SMS typed."""
    _menu(page, "註冊登入")
    page.locator(".row.me").filter(has_text="註冊登入").wait_for()
    page.locator(".row.account").nth(1).wait_for()
    if name is not None:
        _say(page, name)
        page.locator(".row.account").filter(has_text="請輸入您的手機號碼").wait_for()
    _say(page, mobile)
    page.locator("#sms").wait_for()
    code = re.search(r"\d{6}", page.locator("#sms").inner_text())
    assert code is not None, page.locator("#sms").inner_text()
    _say(page, code.group(0))
    page.locator(".row.account").filter(has_text="註冊成功").wait_for()


def _menu_labels(page: Any) -> list[str]:
    return [b.get_attribute("aria-label") for b in page.locator("#menu .area").all()]


def test_guest_taps_a_faq_quick_reply(browser: Any, phone_url: str) -> None:  # noqa: F811
    page = _phone(browser, phone_url, "guest")
    assert _menu_labels(page) == ["註冊登入"]  # the channel's default menu, drawn from the hub's image
    assert page.locator("#menu-image").evaluate("img => img.naturalWidth") == 2500
    page.locator("#quick button", has_text="什麼是員工通行碼？").click()
    page.locator(".row.me").filter(has_text="什麼是員工通行碼？").wait_for()
    page.locator(".row.account").filter(has_text="員工通行碼是企業為員工申請").wait_for()
    _shot(page, "guest-faq")
    page.context.close()


def test_enterprise_admin_opens_the_whitelist_liff_page(browser: Any, phone_url: str) -> None:  # noqa: F811
    page = _phone(browser, phone_url, "enterprise_admin")
    _bind(page, "0933000001")
    page.wait_for_function("() => document.querySelectorAll('#menu .area').length === 6")
    _shot(page, "enterprise-admin-menu")
    _menu(page, "通行碼名單管理")
    page.get_by_role("button", name="開啟名單管理").click()
    frame = page.frame_locator("#liff-frame")
    # The list comes from /liff/api/employees/list: the hub took the ID token LINE's SDK handed the page.
    frame.locator("#employees").get_by_text("陳*明").wait_for()
    assert frame.locator("#need-line").is_hidden()
    _shot(page, "enterprise-admin-liff-whitelist")
    page.click("#liff-close")
    assert page.locator("#liff").is_hidden()
    page.context.close()


def test_employee_shows_the_pass_as_a_flex_bubble(browser: Any, phone_url: str) -> None:  # noqa: F811
    page = _phone(browser, phone_url, "employee")
    _bind(page, "0912345678")
    page.wait_for_function("() => document.querySelectorAll('#menu .area').length === 3")
    _menu(page, "出示通行碼")
    bubble = page.locator(".row.account .fx-bubble").last
    bubble.get_by_text("持有人：陳*明").wait_for()
    qr = bubble.locator("img.fx-image")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    _shot(page, "employee-pass")
    _menu(page, "下載通行碼")  # an image message: the QR at its signed link, fetched from the hub
    image = page.locator(".row.account img.image-message").last
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    _shot(page, "employee-pass-image")
    page.context.close()


def test_station_admin_reads_the_duty_roster(browser: Any, phone_url: str) -> None:  # noqa: F811
    page = _phone(browser, phone_url, "station_admin", "police")
    _bind(page, "0955000001", "王警官")
    page.wait_for_function("() => document.querySelectorAll('#menu .area').length === 6")
    _menu(page, "執勤名單")
    page.locator(".row.account").filter(has_text="張*明").last.wait_for()
    _shot(page, "station-admin-roster")
    page.context.close()


def test_officer_opens_the_scan_page_and_checks_an_id(browser: Any, phone_url: str) -> None:  # noqa: F811
    page = _phone(browser, phone_url, "officer", "police")
    _bind(page, "0955111222", "張志明")
    page.wait_for_function("() => document.querySelectorAll('#menu .area').length === 3")
    _menu(page, "掃碼核實")
    page.locator(".row.account .fx-button").last.click()
    frame = page.frame_locator("#liff-frame")
    frame.get_by_role("button", name="掃描通行碼").wait_for()  # shown only inside LINE (liff.isInClient)
    _shot(page, "officer-scan-page")
    frame.locator("#national-id").fill("A123456789")
    frame.get_by_role("button", name="查詢身分證").click()
    frame.locator("#verdict-word").wait_for()
    assert frame.locator("#verdict-word").inner_text() == "核准通行"
    assert frame.locator("#holder-name").inner_text() == "陳*明"
    _shot(page, "officer-id-check")
    page.context.close()
