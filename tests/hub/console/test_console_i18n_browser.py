"""A zh-TW console in Chromium says what went wrong in Chinese words (issue 15, one language at a time): a
wrong current password, a bad national ID, a bad mobile and a duplicate station admin each show a
sentence without English words or validation jargon (digits, LINE, QR, SMS and masked values allowed).
Screenshots: build/test-artifacts/console/40-*.png."""

from __future__ import annotations

import re
from typing import Any

from tests.hub.console.test_console_browser import (  # noqa: F401
    PASSWORD,
    _shot,
    _super_login,
    browser_type_launch_args,
    live_hub,
    watched,
)

LATIN_WORD = re.compile(r"[A-Za-z_]{2,}")
ALLOWED = re.compile(r"LINE|QR|SMS")


def _said(page: Any) -> str:
    """The refusal the page shows (role=status on the page itself)."""
    page.wait_for_selector("main [role=status]")
    return page.inner_text("main [role=status]")


def _chinese_only(text: str) -> bool:
    return bool(text) and not LATIN_WORD.search(ALLOWED.sub("", text))


def _add_station_admin(page: Any, hub: Any, name: str, mobile: str, national_id: str) -> str:
    page.goto(f"{hub.url}/console/stations")
    form = "form[action='/console/stations/admins']"
    if page.locator("select[name=station_id] option", has_text="中和分局").count() == 0:
        page.fill("form[action='/console/stations'] input[name=name]", "中和分局")
        page.click("form[action='/console/stations'] button[type=submit]")
        page.wait_for_selector("#stations >> text=中和分局")
    page.fill(f"{form} input[name=name]", name)
    page.fill(f"{form} input[name=mobile]", mobile)
    page.fill(f"{form} input[name=national_id]", national_id)
    page.select_option("select[name=station_id]", label="中和分局")
    page.click(f"{form} button[type=submit]")
    return _said(page)


def test_console_refusals_are_in_chinese_words(page, live_hub, watched):  # noqa: F811
    _super_login(page, live_hub)

    page.goto(f"{live_hub.url}/console/password")
    page.fill("input[name=current_password]", "Not-the-password-1")
    page.fill("input[name=new_password]", "Another-passw0rd")
    page.click("main button[type=submit]")
    wrong = _said(page)
    _shot(page, "40-wrong-current-password")
    assert wrong == "目前密碼不正確。"

    bad_id = _add_station_admin(page, live_hub, "林小華", "0933000001", "A123456788")
    _shot(page, "41-bad-national-id")
    assert "身分證字號" in bad_id and _chinese_only(bad_id), bad_id

    bad_mobile = _add_station_admin(page, live_hub, "林小華", "09330", "A123456789")
    _shot(page, "42-bad-mobile")
    assert "手機" in bad_mobile and _chinese_only(bad_mobile), bad_mobile

    assert _add_station_admin(page, live_hub, "林小華", "0933000003", "A123456789") == "已新增警局管理者。"
    duplicate = _add_station_admin(page, live_hub, "林小華", "0933000003", "A123456789")
    _shot(page, "43-duplicate")
    assert duplicate == "這支手機號碼已是警局管理者，不能重複新增。"
