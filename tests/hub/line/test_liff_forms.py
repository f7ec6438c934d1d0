"""The whole enterprise story through LINE: follow → register in the LIFF form with an SMS code → apply
for two venue codes → add employees (one, and by .xlsx) → issue passes → the employee binds and shows
the pass → a duty officer binds and scans it in LIFF → 核准通行; after revocation → 不予通行.
In a real Chromium at phone size (see test_liff_pages.py for the LIFF stand-in), screenshots kept."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.models.line import LineBinding
from hub.models.passes import Pass
from hub.models.venues import Venue
from tests.hub.hubkit import Hub, SmsOutbox, bearer, xlsx
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, _phone, _shot, browser  # noqa: F401  (fixture)

ENTERPRISE_LIFF = "2000000001-enterpri"
POLICE_LIFF = "2000000001-policeAB"


def test_the_whole_enterprise_story_in_line(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    hub: Hub,
    sms: SmsOutbox,
    db: Session,
    keys_dir: Any,
    super_admin_token: str,
) -> None:
    admin = LineChat(client, standin, "enterprise")
    assert admin.follow()[0]["text"].startswith("您好！")
    prompt = admin.tap("a=register")[0]["text"]
    assert "https://liff.line.me/2000000001-enterpri/liff/enterprise/register" in prompt

    # register the enterprise in the LIFF form; the SMS code also binds this LINE user
    page = _phone(
        browser, {"liffId": ENTERPRISE_LIFF, "idToken": standin.issue_id_token(admin.user_id, "曾可愛")}
    )
    page.goto(served_hub + "/liff/enterprise/register")
    page.fill("#company_name", "艾斯移動股份有限公司")
    page.fill("#ubn", "28010606")
    page.fill("#admin_name", "曾可愛")
    page.fill("#admin_mobile", "0933000001")
    page.get_by_role("button", name="取得簡訊驗證碼").click()
    page.get_by_role("button", name="驗證碼已傳送").wait_for()
    page.fill("#code", sms.code("+886933000001"))
    page.get_by_role("button", name="註冊").click()
    page.locator("#done").wait_for()
    _shot(page, "form-register-done")
    assert admin.tap("a=register")[0]["text"].startswith("您已完成綁定：企業管理者（艾斯移動股份有限公司）")

    # two venue codes
    page.goto(served_hub + "/liff/enterprise/venues")
    page.fill("#address", "新北市板橋區中山路一段161號")
    page.fill("#contact_name", "曾可愛")
    page.fill("#contact_phone", "0229603456")
    page.fill("#name-1", "艾斯總部")
    page.get_by_role("button", name="＋ 再加一個實聯碼").click()
    page.fill("#name-2", "板橋門市")
    page.get_by_role("button", name="送出申請").click()
    page.locator("#created li").nth(1).wait_for()
    _shot(page, "form-venues-done")
    assert sorted(v.name for v in db.scalars(select(Venue))) == ["板橋門市", "艾斯總部"]

    # employees: one by hand, one by .xlsx, then passes for both
    page.goto(served_hub + "/liff/enterprise/employees")
    page.locator("body[data-ready]").wait_for()
    page.fill("#name", "王大明")
    page.fill("#mobile", "0955000001")
    page.fill("#national_id", "F131104093")
    page.get_by_role("button", name="加入名單").click()
    page.locator("#employees li, #error:not([hidden])").first.wait_for()
    assert page.locator("#error").is_hidden(), page.locator("#error").inner_text()
    sheet = xlsx([["姓名", "手機", "身分證"], ["林小華", "0955000002", "A123456789"]])
    page.set_input_files(
        "#file",
        files=[{"name": "員工.xlsx", "mimeType": "application/octet-stream", "buffer": sheet}],
    )
    page.get_by_role("button", name="匯入").click()
    page.locator("#employees li").nth(1).wait_for()
    page.get_by_role("button", name="為尚無通行碼的員工申請通行碼").click()
    page.get_by_text("已申請 2 張通行碼").wait_for()
    assert "王*明" in page.locator("#employees").inner_text()
    _shot(page, "form-employees")
    page.context.close()
    db.expire_all()
    issued = {p.holder_name: p for p in db.scalars(select(Pass))}
    assert set(issued) == {"王大明", "林小華"}

    # the employee binds in chat and shows the pass
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000001")
    shown = employee.tap("a=pass_show")[0]
    assert shown["type"] == "flex" and issued["王大明"].pass_id in shown["contents"]["hero"]["url"]

    # a duty officer binds in the police channel and scans it in LIFF
    station = hub.create_station(super_admin_token)
    station_token = hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(station_token),
    )
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    scan = _phone(
        browser,
        {
            "liffId": POLICE_LIFF,
            "idToken": standin.issue_id_token(officer.user_id),
            "scanValue": issued["王大明"].text,
        },
    )
    scan.goto(served_hub + "/liff/police/scan")
    scan.get_by_role("button", name="掃描通行碼").click()
    scan.locator("#verdict-word.ok").wait_for()
    assert scan.locator("#verdict-word").inner_text() == "核准通行"

    # the enterprise revokes it: the next scan refuses
    admin_token = hub.sms_login("+886933000001", role="enterprise_admin")
    revoked = client.post(
        f"/api/v1/passes/{issued['王大明'].pass_id}/revoke",
        json={"reason": "離職"},
        headers=bearer(admin_token),
    )
    assert revoked.status_code == 200, revoked.text
    scan.get_by_role("button", name="繼續掃描").click()
    scan.locator("#verdict-word.no").wait_for()
    assert scan.locator("#verdict-word").inner_text() == "不予通行"
    _shot(scan, "story-scan-after-revocation")
    scan.context.close()


def test_forms_refuse_callers_without_the_role(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    hub: Hub,
    sms: SmsOutbox,
    db: Session,
    keys_dir: Any,
) -> None:
    token, org = hub.register_enterprise(mobile="+886933000001")
    client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "王大明", "mobile": "0955000001", "national_id": "F131104093"},
        headers=bearer(token),
    )
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000001")
    page = _phone(browser, {"liffId": ENTERPRISE_LIFF, "idToken": standin.issue_id_token(employee.user_id)})
    page.goto(served_hub + "/liff/enterprise/employees")
    page.locator("#error").wait_for()
    assert "僅限已綁定的企業" in page.locator("#error").inner_text()
    page.fill("#name", "冒名者")
    page.fill("#mobile", "0955000009")
    page.fill("#national_id", "A123456789")
    page.get_by_role("button", name="加入名單").click()
    page.wait_for_timeout(300)
    page.context.close()
    assert (
        client.get(f"/api/v1/enterprises/{org['id']}/employees", headers=bearer(token)).json()[0][
            "name_masked"
        ]
        == "王*明"
    )
    assert len(client.get(f"/api/v1/enterprises/{org['id']}/employees", headers=bearer(token)).json()) == 1

    # a LINE user already bound cannot register an enterprise on top
    response = client.post(
        "/liff/api/enterprise/register",
        json={
            "id_token": standin.issue_id_token(employee.user_id),
            "company_name": "冒名公司",
            "ubn": "04595257",
            "admin_name": "冒名者",
            "admin_mobile": "0955000001",
            "code": "123456",
        },
    )
    assert response.status_code == 409
    assert len(db.scalars(select(LineBinding)).all()) == 1
