"""The station registration, duty-roster and employee-whitelist LIFF pages in a real Chromium at a phone
size (the LIFF SDK faked as in test_liff_pages.py; ID tokens issued by the LINE stand-in and verified
by the hub for real). Screenshots go to build/test-artifacts/."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.models.organisations import Organisation, OrgKind
from hub.models.rosters import Employee, Officer
from tests.hub.hubkit import Hub, SmsOutbox, bearer, xlsx
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, _phone, _shot, browser  # noqa: F401  (fixture)

ENTERPRISE_LIFF = "2000000001-enterpri"
POLICE_LIFF = "2000000001-policeAB"


def _sheet(rows: list[list[object]], name: str = "名單.xlsx") -> list[dict[str, Any]]:
    return [{"name": name, "mimeType": "application/octet-stream", "buffer": xlsx(rows)}]


def _error(page: Any) -> str:
    page.locator("#error:not([hidden])").wait_for()
    return str(page.locator("#error").inner_text())


def test_station_registration_page_registers_or_says_why_not(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    super_admin_token: str,
) -> None:
    listed = client.post(
        "/api/v1/station-admins",
        json={"name": "林警官", "mobile": "0922000001", "national_id": "A123456789"},
        headers=bearer(super_admin_token),
    )
    assert listed.status_code == 201, listed.text

    def fill(page: Any, mobile: str) -> None:
        page.goto(served_hub + "/liff/police/register")
        page.fill("#name", "板橋分局")
        page.fill("#address", "新北市板橋區漢生東路21號")
        page.fill("#contact_name", "王小明")
        page.fill("#contact_phone", "0229603456")
        page.fill("#admin_mobile", mobile)
        page.get_by_role("button", name="取得簡訊驗證碼").click()
        page.get_by_role("button", name="驗證碼已傳送").wait_for()

    # a mobile the hub does not list as a station admin: told plainly once the code proved it
    stranger = _phone(browser, {"liffId": POLICE_LIFF, "idToken": standin.issue_id_token("U" + "5" * 32)})
    fill(stranger, "0966000001")
    stranger.fill("#code", sms.code("+886966000001"))
    stranger.get_by_role("button", name="註冊分局").click()
    assert "不在分局管理員名單" in _error(stranger)
    _shot(stranger, "station-register-not-allowed")
    stranger.context.close()

    admin = LineChat(client, standin, "police")
    page = _phone(browser, {"liffId": POLICE_LIFF, "idToken": standin.issue_id_token(admin.user_id)})
    fill(page, "0922000001")
    page.fill("#code", sms.code("+886922000001"))
    page.get_by_role("button", name="註冊分局").click()
    page.locator("#done").wait_for()
    assert page.locator("#done-detail").inner_text() == "板橋分局"
    _shot(page, "station-register-done")
    page.context.close()
    db.expire_all()
    assert list(db.scalars(select(Organisation.name).where(Organisation.kind == OrgKind.STATION.value))) == [
        "板橋分局"
    ]
    assert admin.tap("a=register")[0]["text"].startswith("您已完成綁定：分局管理員（板橋分局）")

    # the same admin again: the station is registered already
    again = _phone(browser, {"liffId": POLICE_LIFF, "idToken": standin.issue_id_token("U" + "6" * 32)})
    fill(again, "0922000001")
    again.fill("#code", sms.code("+886922000001"))
    again.fill("#name", "新莊分局")
    again.get_by_role("button", name="註冊分局").click()
    assert "您的分局已註冊（板橋分局）" in _error(again)
    _shot(again, "station-register-already")
    again.context.close()


def test_roster_page_adds_modifies_imports_and_deletes(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    hub: Hub,
    db: Session,
    super_admin_token: str,
) -> None:
    station = hub.create_station(super_admin_token)
    hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    admin = LineChat(client, standin, "police")
    _bind(admin, sms, "+886922000001", "林警官")
    page = _phone(browser, {"liffId": POLICE_LIFF, "idToken": standin.issue_id_token(admin.user_id)})
    page.goto(served_hub + "/liff/police/roster")
    page.locator("body[data-ready]").wait_for()
    assert page.locator("#officers").inner_text() == "名單上還沒有人。"

    page.fill("#name", "陳警員")
    page.fill("#officer_number", "A1001")
    page.fill("#mobile", "0977000001")
    page.get_by_role("button", name="加入名單").click()
    page.get_by_text("已加入名單").wait_for()
    assert page.locator("#officers li").inner_text().startswith("陳*員　A1001　09***0***1")

    page.locator("#officers li").get_by_role("button", name="修改").click()
    page.fill("#edit-officer_number", "A1002")
    page.get_by_role("button", name="儲存修改").click()
    page.get_by_text("已儲存修改").wait_for()
    assert "A1002" in page.locator("#officers").inner_text()

    # a file with a bad row: nothing imported, the report names the row
    page.set_input_files(
        "#file",
        files=_sheet([["姓名", "警員編號", "手機"], ["林警員", "A1003", "0977000003"], ["錯誤", "B1", "12"]]),
    )
    page.get_by_role("button", name="匯入").click()
    page.locator("#report:not([hidden])").wait_for()
    assert "未匯入" in _error(page)
    assert page.locator("#report tbody td").first.inner_text() == "3"
    _shot(page, "roster-import-report")
    page.set_input_files(
        "#file", files=_sheet([["姓名", "警員編號", "手機"], ["林警員", "A1003", "0977000003"]])
    )
    page.get_by_role("button", name="匯入").click()
    page.get_by_text("已匯入 1 筆").wait_for()
    assert page.locator("#report").is_hidden()
    _shot(page, "roster")

    with page.expect_download() as download:
        page.get_by_role("link", name="下載 Excel 範本").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["姓名", "警員編號", "手機"]

    first = page.locator("#officers li").first
    first.get_by_role("button", name="刪除").click()
    first.get_by_role("button", name="確定刪除？").click()
    page.get_by_text("已刪除").wait_for()
    page.context.close()
    db.expire_all()
    assert [(o.name, o.officer_number) for o in db.scalars(select(Officer))] == [("林警員", "A1003")]


def test_employee_page_modifies_deletes_and_refuses_another_enterprises_row(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    hub: Hub,
    db: Session,
) -> None:
    hub.register_enterprise(mobile="+886933000001")
    token_b, org_b = hub.register_enterprise(mobile="+886933000002", ubn="04595257", name="別家公司")
    theirs = client.post(
        f"/api/v1/enterprises/{org_b['id']}/employees",
        json={"name": "別員工", "mobile": "0955000009", "national_id": "A123456789"},
        headers=bearer(token_b),
    ).json()["id"]
    admin = LineChat(client, standin, "enterprise")
    _bind(admin, sms, "+886933000001")
    page = _phone(browser, {"liffId": ENTERPRISE_LIFF, "idToken": standin.issue_id_token(admin.user_id)})
    page.goto(served_hub + "/liff/enterprise/employees")
    page.locator("body[data-ready]").wait_for()
    page.fill("#name", "王大明")
    page.fill("#mobile", "0955000001")
    page.fill("#national_id", "F131104093")
    page.get_by_role("button", name="加入名單").click()
    page.get_by_text("已加入名單").wait_for()
    page.locator("#employees li").get_by_role("button", name="修改").click()
    page.fill("#edit-mobile", "0955000002")
    page.get_by_role("button", name="儲存修改").click()
    page.get_by_text("已儲存修改").wait_for()
    assert "09***0***2" in page.locator("#employees").inner_text()
    _shot(page, "employees-modified")

    # the page's own script, turned against another enterprise's row: refused, nothing changed
    answer = page.evaluate(
        """async (id) => {
            const r = await fetch('/liff/api/employees/' + id + '/delete', {method: 'POST',
              headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({id_token: liff.getIDToken(), org_id: id})});
            return [r.status, await r.json()];
        }""",
        theirs,
    )
    assert answer[0] == 404 and answer[1]["error"] == "not_found"

    first = page.locator("#employees li").first
    first.get_by_role("button", name="刪除").click()
    first.get_by_role("button", name="確定刪除？").click()
    page.get_by_text("名單上還沒有人。").wait_for()
    page.context.close()
    db.expire_all()
    assert [(e.name, e.org_id) for e in db.scalars(select(Employee))] == [("別員工", org_b["id"])]


def test_whitelist_pages_refuse_employees_strangers_and_expired_tokens(
    browser: Any,  # noqa: F811
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    hub: Hub,
    db: Session,
) -> None:
    token, org = hub.register_enterprise(mobile="+886933000001")
    client.post(
        f"/api/v1/enterprises/{org['id']}/employees",
        json={"name": "王大明", "mobile": "0955000001", "national_id": "F131104093"},
        headers=bearer(token),
    )
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000001")
    cases = [
        (
            "/liff/enterprise/employees",
            ENTERPRISE_LIFF,
            standin.issue_id_token(employee.user_id),
            "僅限已綁定的企業管理者",
        ),
        (
            "/liff/police/roster",
            POLICE_LIFF,
            standin.issue_id_token(employee.user_id),
            "僅限已綁定的分局管理員",
        ),
        (
            "/liff/police/roster",
            POLICE_LIFF,
            standin.issue_id_token("U" + "8" * 32),
            "僅限已綁定的分局管理員",
        ),
        (
            "/liff/enterprise/employees",
            ENTERPRISE_LIFF,
            standin.issue_id_token(employee.user_id, expired=True),
            "LINE 登入已失效",
        ),
    ]
    for number, (path, liff_id, id_token, words) in enumerate(cases):
        page = _phone(browser, {"liffId": liff_id, "idToken": id_token})
        page.goto(served_hub + path)
        assert words in _error(page)
        # the list never loaded: nothing to act on, and acting anyway changes nothing
        page.get_by_role("button", name="加入名單").click()
        page.wait_for_timeout(200)
        _shot(page, f"whitelist-refused-{number}")
        page.context.close()
    db.expire_all()
    assert [e.name for e in db.scalars(select(Employee))] == ["王大明"]
    assert list(db.scalars(select(Officer))) == []
