"""Console forms in Chromium at 1366×768 and 390×844 (issue 15): a double click adds once (with JavaScript,
whose button waits, and without, where the server's intent token does it); a refused SMS resend keeps the
code page with the wait stated and the first code still works; deleting a person asks first (cancel and
confirm) and says what happened. Screenshots: build/test-artifacts/console/30-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.models.identity import User
from tests.hub.console.test_console_browser import (  # noqa: F401
    _shot,
    _super_login,
    browser_type_launch_args,
    live_hub,
    watched,
)

SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(SIZES))
def size(request: pytest.FixtureRequest, page: Any) -> Iterator[str]:
    page.set_viewport_size(SIZES[request.param])
    yield request.param


def _users(hub: Any, mobile: str) -> int:
    with hub.db() as db:
        return int(db.scalar(select(func.count()).select_from(User).where(User.mobile == mobile)) or 0)


def _add_station_admin(page: Any, hub: Any, name: str, mobile: str) -> None:
    page.goto(f"{hub.url}/console/stations")
    form = page.locator("form[action='/console/stations/admins']")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=mobile]").fill(mobile)
    form.locator("input[name=national_id]").fill("A123456789")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/console/stations?done=station_admin_added")


def test_double_click_adds_an_admin_once(page, live_hub, watched, size):  # noqa: F811
    _super_login(page, live_hub)
    mobile = {"desktop": "0911000101", "phone": "0911000102"}[size]
    page.goto(f"{live_hub.url}/console/admins")
    form = page.locator("form[action='/console/admins']")
    form.locator("input[name=name]").fill("王雙擊")
    form.locator("input[name=mobile]").fill(mobile)
    form.locator("button[type=submit]").dblclick()
    page.wait_for_url("**/console/admins?done=admin_added")
    assert page.locator("p.notice").inner_text() == "已新增，初始密碼已以簡訊寄出。"
    assert page.locator(".error").count() == 0
    _shot(page, f"30-double-click-added-{size}")
    assert _users(live_hub, "+886" + mobile[1:]) == 1


def test_double_click_without_javascript_adds_once(browser, live_hub, size):  # noqa: F811
    """No script to hold the button: the browser sends the form twice; the intent token answers both."""
    context = browser.new_context(java_script_enabled=False, viewport=SIZES[size])
    page = context.new_page()
    try:
        _super_login(page, live_hub)
        mobile = {"desktop": "0922000201", "phone": "0922000202"}[size]
        page.goto(f"{live_hub.url}/console/stations")
        form = page.locator("form[action='/console/stations/admins']")
        form.locator("input[name=name]").fill("林雙擊")
        form.locator("input[name=mobile]").fill(mobile)
        form.locator("input[name=national_id]").fill("A123456789")
        form.locator("button[type=submit]").dblclick()
        page.wait_for_url("**/console/stations?done=station_admin_added")
        assert "已新增警局管理者" in page.locator("p.notice").inner_text()
        _shot(page, f"31-double-click-no-js-{size}")
        assert _users(live_hub, "+886" + mobile[1:]) == 1
    finally:
        context.close()


def test_refused_resend_keeps_the_code_page_and_the_first_code_works(browser, live_hub, size):  # noqa: F811
    mobile = {"desktop": "0922000301", "phone": "0922000302"}[size]
    admin = browser.new_context(viewport=SIZES[size])
    try:
        admin_page = admin.new_page()
        _super_login(admin_page, live_hub)
        _add_station_admin(admin_page, live_hub, "林重送", mobile)
    finally:
        admin.close()
    context = live_hub.app.state.context
    before = context.settings
    context.settings = before.model_copy(update={"otp_resend_cooldown_seconds": 60})
    person = browser.new_context(viewport=SIZES[size])
    try:
        page = person.new_page()
        page.goto(f"{live_hub.url}/console/login/sms")
        page.fill("input[name=mobile]", mobile)
        page.click("main button[type=submit]")
        page.wait_for_selector("input[name=code]")
        first_code = live_hub.sms.code("+886" + mobile[1:])
        page.click("#resend button")
        page.wait_for_selector("p.notice:has-text('後再要求重新發送')")
        notice = page.locator("p.notice").inner_text()
        assert (
            re.search(r"請於 (\d+ 秒|1 分鐘)後再要求重新發送", notice) and "已收到的驗證碼仍可使用" in notice
        )
        assert page.locator("input[name=code]").is_visible()  # still where the code is typed
        _shot(page, f"32-resend-refused-{size}")
        page.fill("input[name=code]", first_code)
        page.click("main form:not(#resend) button[type=submit]")
        page.wait_for_url("**/console/")
        _shot(page, f"33-resend-then-first-code-{size}")
    finally:
        context.settings = before
        person.close()


def test_deleting_a_person_asks_first_and_says_what_happened(page, live_hub, watched, size):  # noqa: F811
    _super_login(page, live_hub)
    mobile = {"desktop": "0922000401", "phone": "0922000402"}[size]
    _add_station_admin(page, live_hub, "林刪除", mobile)
    e164 = "+886" + mobile[1:]
    with live_hub.db() as db:
        admin_id = db.scalars(select(User.id).where(User.mobile == e164)).one()
    delete = page.locator(f"form[action='/console/stations/admins/{admin_id}/delete'] button")
    delete.click()
    page.wait_for_selector("#confirm")
    assert "確定要刪除警局管理者 林*除" in page.locator("#confirm-question").inner_text()
    _shot(page, f"34-confirm-delete-{size}")
    page.click("#confirm-back")  # changed their mind: nothing happens
    page.wait_for_url("**/console/stations")
    assert _users(live_hub, e164) == 1
    page.locator(f"form[action='/console/stations/admins/{admin_id}/delete'] button").click()
    page.wait_for_selector("#confirm")
    page.locator("#confirm button[type=submit]").dblclick()
    page.wait_for_url("**/console/stations?done=station_admin_deleted")
    assert "已刪除該警局管理者" in page.locator("p.notice").inner_text()
    assert page.locator(".error").count() == 0
    _shot(page, f"35-deleted-{size}")
    assert _users(live_hub, e164) == 0
