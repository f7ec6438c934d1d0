"""「誰查看了我的資料」 on the phone, in a real Chromium (the set-up of test_liff_pages.py): the footprint
page after the SMS code lists who read the visitor's data; the LIFF page in LINE lists the employee's."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from checkpass_testkit.line_standin import StandIn
from tests.hub.hubkit import SmsOutbox, bearer
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, _phone, _shot, browser, story  # noqa: F401

VISITOR = "+886966123456"


def test_the_footprint_page_lists_who_read_the_visitors_data(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    sms: SmsOutbox,
    story: dict[str, Any],  # noqa: F811
) -> None:
    sent = client.post(
        "/api/v1/otp/request",
        json={"mobile": VISITOR, "purpose": "visit", "venue_code": story["venue"]["code"]},
    )
    assert sent.status_code == 200, sent.text
    visit = {"venue_code": story["venue"]["code"], "mobile": VISITOR, "code": sms.code(VISITOR)}
    assert client.post("/api/v1/visits", json=visit).status_code == 201
    read = client.get(f"/api/v1/venues/{story['venue']['id']}/visits", headers=bearer(story["token"]))
    assert read.status_code == 200, read.text

    page = _phone(browser, None)
    page.goto(served_hub + "/liff/footprint")
    page.locator("#sms").wait_for()
    page.fill("#mobile", "0966123456")
    page.get_by_role("button", name="取得簡訊驗證碼").click()
    page.get_by_role("button", name="驗證碼已傳送").wait_for()
    page.fill("#code", sms.code(VISITOR))
    page.get_by_role("button", name="查詢").click()
    page.locator("#reads li").first.wait_for()
    assert "艾斯總部" in page.locator("#visits").inner_text()
    reads = page.locator("#reads").inner_text()
    assert "艾斯移動股份有限公司 企業管理者 曾*愛：實聯碼場所的登記紀錄，已遮蔽" in reads
    assert "0933000001" not in reads
    _shot(page, "footprint-data-reads-browser")
    page.context.close()


def test_the_liff_page_lists_the_employees_reads_with_a_proof_button(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    story: dict[str, Any],  # noqa: F811
) -> None:
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000001")
    org_id = client.get("/api/v1/auth/me", headers=bearer(story["token"])).json()["org_id"]
    listed = client.get(f"/api/v1/enterprises/{org_id}/employees", headers=bearer(story["token"]))
    assert listed.status_code == 200, listed.text

    page = _phone(
        browser,
        {"liffId": "2000000001-enterpri", "idToken": standin.issue_id_token(employee.user_id, "王大明")},
    )
    page.goto(served_hub + "/liff/enterprise/data-reads")
    page.locator("#reads li").first.wait_for()
    text = page.locator("#reads").inner_text()
    assert "曾*愛：企業員工名單，已遮蔽" in text and "0933000001" not in text
    assert page.get_by_role("button", name="下載證明").count() == 1
    _shot(page, "data-reads-in-line")
    page.context.close()


def test_an_officers_check_in_line_is_a_read_the_holder_sees(
    db: Any,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    story: dict[str, Any],  # noqa: F811
) -> None:
    from sqlalchemy import select

    from hub.models.identity import Role, User
    from hub.services import data_reads
    from hub.services.devices.single_check import check_pass
    from hub.services.scope import Scope

    _bind(LineChat(client, standin, "police"), sms, "+886977000001", "陳警員")
    officer = db.scalars(
        select(User).where(User.mobile == "+886977000001", User.role == Role.OFFICER.value)
    ).one()
    check_pass(db, Scope.of(officer), story["pass"]["text"])
    db.commit()
    [read] = [r.shown() for r in data_reads.reads_of(db, "+886955000001")]
    assert read["what"] == "員警掃碼核實通行碼" and read["reader"] == "板橋分局 員警 陳*員"
    assert data_reads.reads_of(db, "+886977000001") == []  # the officer was not read
