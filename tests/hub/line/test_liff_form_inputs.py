"""The LIFF forms as a person fills them, in Chromium at phone size: a 統一編號 with a wrong check digit is
named before any SMS code is sent; a venue name over 8 characters is not cut by the input but refused
in words; a duplicate venue name gets its own message (not the roster's)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.models.venues import Venue
from tests.hub.hubkit import SmsOutbox
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _phone, _shot, browser  # noqa: F401  (fixture)

ENTERPRISE_LIFF = "2000000001-enterpri"
MOBILE = "+886933000001"


def _error(page: Any) -> str:
    page.locator("#error:not([hidden])").wait_for()
    return page.locator("#error").inner_text()


def test_register_then_apply_for_venue_codes_with_mistakes(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    keys_dir: Any,
) -> None:
    admin = LineChat(client, standin, "enterprise")
    admin.follow()
    page = _phone(
        browser, {"liffId": ENTERPRISE_LIFF, "idToken": standin.issue_id_token(admin.user_id, "曾可愛")}
    )
    page.goto(served_hub + "/liff/enterprise/register")
    page.fill("#company_name", "艾斯移動股份有限公司")
    page.fill("#ubn", "28010607")  # the last digit mistyped
    page.fill("#admin_name", "曾可愛")
    page.fill("#admin_mobile", "0933000001")
    page.get_by_role("button", name="取得簡訊驗證碼").click()
    said = _error(page)
    _shot(page, "form-register-bad-ubn")
    assert "統一編號" in said
    assert sms.messages(MOBILE) == []  # no code was sent for a form that cannot be registered
    page.fill("#ubn", "28010606")
    page.get_by_role("button", name="取得簡訊驗證碼").click()
    page.get_by_role("button", name="驗證碼已傳送").wait_for()
    assert page.locator("#error").is_hidden()
    page.fill("#code", sms.code(MOBILE))
    page.get_by_role("button", name="註冊").click()
    page.locator("#done").wait_for()

    page.goto(served_hub + "/liff/enterprise/venues")
    page.fill("#address", "新北市板橋區中山路一段161號")
    page.fill("#contact_name", "曾可愛")
    page.fill("#contact_phone", "0229603456")
    page.fill("#name-1", "艾斯移動板橋總部大樓")  # 10 characters
    assert page.input_value("#name-1") == "艾斯移動板橋總部大樓"  # the input keeps what was typed
    page.get_by_role("button", name="送出申請").click()
    said = _error(page)
    _shot(page, "form-venues-name-too-long")
    assert "實聯碼名稱最多 8 個字：「艾斯移動板橋總部大樓」有 10 個字" in said
    assert list(db.scalars(select(Venue))) == []

    page.fill("#name-1", "總部")
    page.get_by_role("button", name="＋ 再加一個實聯碼").click()
    page.fill("#name-2", "總部")
    page.get_by_role("button", name="送出申請").click()
    page.locator("#error").filter(has_text="重複").wait_for()  # (the pages' CSP forbids eval'd waits)
    said = page.locator("#error").inner_text()
    assert "「總部」重複" in said and "名單" not in said, said
    db.expire_all()
    assert list(db.scalars(select(Venue))) == []

    page.fill("#name-2", "門市")
    page.get_by_role("button", name="送出申請").click()
    page.locator("#created li").nth(1).wait_for()
    db.expire_all()
    assert sorted(v.name for v in db.scalars(select(Venue))) == ["總部", "門市"]
