# ruff: noqa: F811  (the `story` fixture is imported from test_liff_pages and requested by name)
"""The ID-card check on the LINE scan page (`POST /liff/api/police/id-check`): the same service as the
checkpoint app's (hub.services.id_card_check), for a duty officer bound in LINE only."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models.audit import AuditEvent
from hub.models.devices import Scan
from hub.services import queries
from tests.hub.hubkit import SmsOutbox, bearer
from tests.hub.line.linekit import LineChat
from tests.hub.line.test_liff_pages import _bind, _phone, _shot, browser, story  # noqa: F401  (fixtures)

HOLDER = "F131104093"  # the story's employee


def _card_png() -> bytes:
    import cv2

    from checkpass_testkit import id_cards

    return cv2.imencode(".png", id_cards.photo(HOLDER, "good", seed=5).frame)[1].tobytes()


def _ask(client: TestClient, standin: Any, user_id: str, national_id: str) -> Any:
    token = standin.issue_id_token(user_id)
    return client.post("/liff/api/police/id-check", json={"id_token": token, "national_id": national_id})


def test_a_bound_officer_checks_an_id_and_it_is_their_check(
    client: TestClient, standin: Any, sms: SmsOutbox, db: Session, story: dict[str, Any]
) -> None:
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    answer = _ask(client, standin, officer.user_id, HOLDER.lower())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["ok"], body["verdict"], body["holder"]) == (True, "核准通行", "王*明")
    assert body["national_id"] == "F13*1*4*9*" and HOLDER not in answer.text
    [scan] = db.scalars(select(Scan)).all()
    assert scan.officer_id == str(story["officer_id"]) and scan.reason == "id_card:valid"
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "check.id_card")).all()
    assert event.actor_role == "officer" and event.details["result"] == "valid"


def test_anyone_but_a_bound_duty_officer_is_refused(
    client: TestClient, standin: Any, sms: SmsOutbox, db: Session, story: dict[str, Any]
) -> None:
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000001")
    for user_id in (employee.user_id, "U" + "9" * 32):
        refused = _ask(client, standin, user_id, HOLDER)
        assert refused.status_code == 403, refused.text
        assert "僅限已綁定的執勤警員" in refused.json()["message"]
    assert db.scalars(select(Scan)).all() == []


def test_a_mistyped_id_gets_a_zh_tw_refusal(
    client: TestClient, standin: Any, sms: SmsOutbox, db: Session, story: dict[str, Any]
) -> None:
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    refused = _ask(client, standin, officer.user_id, "F131104094")  # one digit off: the checksum fails
    assert refused.status_code == 400
    assert refused.json()["message"] == "身分證字號不正確（檢查碼不符，可能打錯一碼）。"
    assert db.scalars(select(Scan)).all() == []


def test_scan_page_checks_an_id_without_a_pass(
    browser: Any,
    served_hub: str,
    client: TestClient,
    standin: Any,
    sms: SmsOutbox,
    db: Session,
    story: dict[str, Any],
) -> None:
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    page = _phone(
        browser,
        {"liffId": "2000000001-policeAB", "idToken": standin.issue_id_token(officer.user_id, "陳警員")},
    )
    page.goto(served_hub + "/liff/police/scan")
    # A photo of the card to read the number from: shown on the phone, never sent, gone once checked.
    sent: list[Any] = []
    page.on("request", lambda request: sent.append(request))
    page.set_input_files(
        "#id-photo", files=[{"name": "card.png", "mimeType": "image/png", "buffer": _card_png()}]
    )
    page.locator("#id-photo-view").wait_for()
    _shot(page, "police-id-check-photo")
    page.get_by_label("未帶通行碼：以身分證號查詢").fill(HOLDER)
    page.get_by_role("button", name="查詢身分證").click()
    page.locator("#verdict-word.ok").wait_for()
    assert page.locator("#id-photo-view").is_hidden() and page.locator("#id-photo").input_value() == ""
    assert [(r.method, r.url.removeprefix(served_hub)) for r in sent] == [
        ("POST", "/liff/api/police/id-check")
    ]
    assert sent[0].post_data_json == {"id_token": sent[0].post_data_json["id_token"], "national_id": HOLDER}
    assert page.locator("#holder-name").inner_text() == "王*明"
    assert page.locator("#holder-id").inner_text() == "F13*1*4*9*"
    assert page.locator("#holder-org").inner_text() == "艾斯移動股份有限公司"
    _shot(page, "police-id-check-approved")

    # the pass is revoked; the next person's check shows no trace of the first answer
    revoked = client.post(
        f"/api/v1/passes/{story['pass']['pass_id']}/revoke",
        json={"reason": "離職"},
        headers=bearer(story["token"]),
    )
    assert revoked.status_code == 200
    page.get_by_role("button", name="以身分證號查詢下一位").click()
    assert page.locator("#national-id").input_value() == ""
    page.get_by_label("未帶通行碼：以身分證號查詢").fill(HOLDER)
    page.get_by_role("button", name="查詢身分證").click()
    page.locator("#verdict-word.no").wait_for()
    assert page.locator("#verdict-reason").inner_text() == "通行碼已撤銷，不予通行"

    page.get_by_role("button", name="以身分證號查詢下一位").click()
    page.get_by_label("未帶通行碼：以身分證號查詢").fill("A12345678")
    page.get_by_role("button", name="查詢身分證").click()
    page.locator("#error").wait_for()
    assert page.locator("#error").inner_text() == "身分證字號不正確（檢查碼不符，可能打錯一碼）。"
    assert page.locator("#verdict").is_hidden()
    _shot(page, "police-id-check-mistyped")

    register = queries.check_register(
        db, since=None, until=None, officer_id=story["officer_id"], station_id=None, unmask=False
    )
    assert [(r["ok"], r["reason"]) for r in reversed(register.rows)] == [
        (True, "id_card:valid"),
        (False, "id_card:revoked"),
    ]
    page.context.close()


def test_a_station_admin_not_on_the_roster_is_told_how_to_add_themselves(
    client: TestClient, standin: Any, sms: SmsOutbox, hub: Any, story: dict[str, Any]
) -> None:
    admin = LineChat(client, standin, "police")
    _bind(admin, sms, "+886922000001", "林警官")
    told = admin.tap("a=scan")[0]["text"]
    assert "不在本分局的執勤名單上" in told and "「執勤 名單」" in told
    # the admin adds themselves with the bound mobile; the next tap opens the scan page
    token = hub.sms_login("+886922000001", role="station_admin")
    added = client.post(
        f"/api/v1/stations/{story['station']['id']}/officers",
        json={"name": "林警官", "officer_number": "A0001", "mobile": "0922000001"},
        headers=bearer(token),
    )
    assert added.status_code == 201, added.text
    opened = admin.tap("a=scan")[0]
    assert opened["type"] == "flex" and "police/scan" in json.dumps(opened, ensure_ascii=False)
