"""A person's action from LINE done twice at the same moment (a double tap, a resend) has the effect of
one and both get the same answer: two CONCURRENT requests against the hub served over HTTP (a real
server, its thread pool, the database's own locking), for each state-changing LIFF action and the chat's
binding code. ID tokens come from the LINE stand-in and are checked by the hub for real."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.models.audit import AuditEvent
from hub.models.line import LineBinding
from hub.models.organisations import Organisation, OrgKind, RegistrationClaim
from hub.models.passes import Pass
from hub.models.rosters import Employee, Officer
from hub.models.venues import Venue, Visit
from tests.hub.hubkit import Hub, SmsOutbox, bearer, xlsx
from tests.hub.line.linekit import SECRETS, LineChat, body_of, drained, make_event, sign

ADMIN = "+886933000001"


def _twice(send: Callable[[], httpx.Response]) -> tuple[httpx.Response, httpx.Response]:
    """`send` from two threads released at the same instant."""
    start = threading.Barrier(2)

    def go() -> httpx.Response:
        start.wait()
        return send()

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.submit(go), pool.submit(go)
        return first.result(timeout=60), second.result(timeout=60)


def _post_twice(base: str, path: str, body: dict[str, Any]) -> tuple[httpx.Response, httpx.Response]:
    return _twice(lambda: httpx.post(base + path, json=body, timeout=60))


def _count(db: Session, model: Any, *where: Any) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _bind(chat: LineChat, sms: SmsOutbox, mobile: str, name: str | None = None) -> None:
    assert chat.register(mobile, sms.code, name)[0]["text"].startswith("註冊成功")


def _same(first: httpx.Response, second: httpx.Response, status: int) -> Any:
    assert (first.status_code, second.status_code) == (status, status), (first.text, second.text)
    assert first.json() == second.json()
    return first.json()


@pytest.fixture
def enterprise(hub: Hub, client: TestClient, keys_dir: Any) -> dict[str, Any]:
    token, org = hub.register_enterprise(mobile=ADMIN)
    return {"token": token, "org": org}


def test_applying_for_passes_twice_at_once_issues_each_missing_pass_once(
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    enterprise: dict[str, Any],
) -> None:
    org_id = enterprise["org"]["id"]
    for i, nid in enumerate(["A123456789", "B223456782", "C198765437", "D276543216"]):
        added = client.post(
            f"/api/v1/enterprises/{org_id}/employees",
            json={"name": f"員工{i}", "mobile": f"095500000{i}", "national_id": nid},
            headers=bearer(enterprise["token"]),
        )
        assert added.status_code == 201, added.text
    admin = LineChat(client, standin, "enterprise")
    _bind(admin, sms, ADMIN)
    token = standin.issue_id_token(admin.user_id)

    first, second = _post_twice(served_hub, "/liff/api/passes/issue", {"id_token": token})

    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert sorted([first.json()["issued"], second.json()["issued"]]) == [0, 4]
    assert first.json()["employees"] == second.json()["employees"]  # the same list: everyone has a pass
    assert all(e["pass"] for e in first.json()["employees"])
    assert _count(db, Pass, Pass.org_id == org_id) == 4
    assert _count(db, Pass, Pass.revoked_at.is_not(None)) == 0


def test_checking_in_twice_at_once_is_one_visit_with_one_answer(
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    enterprise: dict[str, Any],
) -> None:
    org_id = enterprise["org"]["id"]
    added = client.post(
        f"/api/v1/enterprises/{org_id}/employees",
        json={"name": "王大明", "mobile": "0955000001", "national_id": "A123456789"},
        headers=bearer(enterprise["token"]),
    )
    assert added.status_code == 201, added.text
    venue = client.post(
        f"/api/v1/organisations/{org_id}/venues",
        json={
            "names": ["艾斯總部"],
            "address": "新北市板橋區中山路一段161號",
            "contact_name": "曾可愛",
            "contact_phone": "0229603456",
        },
        headers=bearer(enterprise["token"]),
    ).json()[0]
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000001")
    token = standin.issue_id_token(employee.user_id)

    # in LINE: one tap
    answer = _same(
        *_post_twice(served_hub, "/liff/api/checkin", {"id_token": token, "venue_code": venue["code"]}), 200
    )
    assert answer["done"] == "登記完成"
    assert _count(db, Visit) == 1

    # in a browser: mobile and SMS code, 登記 twice with the same code
    assert (
        client.post(
            "/api/v1/otp/request",
            json={"mobile": "0966123456", "purpose": "visit", "venue_code": venue["code"]},
        ).status_code
        == 200
    )
    body = {"venue_code": venue["code"], "mobile": "0966123456", "code": sms.code("+886966123456")}
    _same(*_post_twice(served_hub, "/api/v1/visits", body), 201)
    assert _count(db, Visit, Visit.mobile == "+886966123456") == 1

    # a wrong code is still refused (a used code is no key), and nothing is recorded
    wrong = dict(body, code="000000" if body["code"] != "000000" else "111111")
    refused = httpx.post(served_hub + "/api/v1/visits", json=wrong, timeout=60)
    assert refused.status_code == 400, refused.text
    assert _count(db, Visit) == 2

    # the footprint asked twice with one code: the same list twice, not a list and an error
    asked = client.post("/api/v1/otp/request", json={"mobile": "0966123456", "purpose": "footprint"})
    assert asked.status_code == 200
    body = {"mobile": "0966123456", "code": sms.code("+886966123456")}
    listed = _same(*_twice(lambda: httpx.post(served_hub + "/api/v1/footprint", json=body, timeout=60)), 200)
    assert [v["venue_name"] for v in listed] == ["艾斯總部"]


def test_registering_twice_at_once_registers_once_with_one_answer(
    served_hub: str, hub: Hub, standin: StandIn, sms: SmsOutbox, db: Session, keys_dir: Any
) -> None:
    def form(user: str, ubn: str, mobile: str) -> dict[str, Any]:
        return {
            "id_token": standin.issue_id_token(user),
            "company_name": "新公司股份有限公司",
            "ubn": ubn,
            "admin_name": "林小姐",
            "admin_mobile": mobile,
            "code": hub.request_code("+886" + mobile[1:], "enterprise_registration"),
        }

    # a new 統一編號: registered and bound once
    user = "U" + "1" * 32
    answer = _same(
        *_post_twice(served_hub, "/liff/api/enterprise/register", form(user, "04595257", "0966000001")), 201
    )
    assert answer == {"state": "bound", "organisation": "新公司股份有限公司", "done": "註冊成功"}
    assert _count(db, Organisation, Organisation.ubn == "04595257") == 1
    assert _count(db, LineBinding, LineBinding.line_user_id == user) == 1
    assert _count(db, AuditEvent, AuditEvent.action == "enterprise.registered") == 1
    assert _count(db, AuditEvent, AuditEvent.action == "line.bound") == 1

    # a taken 統一編號: held for review once, nobody bound
    other = "U" + "2" * 32
    answer = _same(
        *_post_twice(served_hub, "/liff/api/enterprise/register", form(other, "04595257", "0966000002")), 202
    )
    assert answer["state"] == "held_for_review" and "審核" in answer["message"]
    assert _count(db, RegistrationClaim) == 1
    assert _count(db, LineBinding, LineBinding.line_user_id == other) == 0


def test_registering_a_station_twice_at_once_registers_it_once(
    served_hub: str, client: TestClient, standin: StandIn, sms: SmsOutbox, db: Session, super_admin_token: str
) -> None:
    listed = client.post(
        "/api/v1/station-admins",
        json={"name": "林警官", "mobile": "0922000001", "national_id": "A123456789"},
        headers=bearer(super_admin_token),
    )
    assert listed.status_code == 201, listed.text
    user = "U" + "3" * 32
    token = standin.issue_id_token(user)
    sent = client.post("/liff/api/police/register/code", json={"id_token": token, "mobile": "0922000001"})
    assert sent.status_code == 202, sent.text
    form = {
        "id_token": token,
        "name": "板橋分局",
        "address": "新北市板橋區漢生東路21號",
        "contact_name": "王小明",
        "contact_phone": "0229603456",
        "admin_mobile": "0922000001",
        "code": sms.code("+886922000001"),
    }
    answer = _same(*_post_twice(served_hub, "/liff/api/police/register", form), 201)
    assert answer == {"state": "bound", "station": "板橋分局", "done": "註冊成功"}
    assert _count(db, Organisation, Organisation.kind == OrgKind.STATION.value) == 1
    assert _count(db, LineBinding, LineBinding.line_user_id == user) == 1


def test_applying_for_venue_codes_twice_at_once_makes_them_once(
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    enterprise: dict[str, Any],
) -> None:
    admin = LineChat(client, standin, "enterprise")
    _bind(admin, sms, ADMIN)
    body = {
        "id_token": standin.issue_id_token(admin.user_id),
        "address": "新北市板橋區中山路一段161號",
        "contact_name": "曾可愛",
        "contact_phone": "0229603456",
        "names": ["大門", "後門"],
    }
    answer = _same(*_post_twice(served_hub, "/liff/api/venues", body), 201)
    assert [v["name"] for v in answer["venues"]] == ["大門", "後門"]
    assert _count(db, Venue, Venue.org_id == enterprise["org"]["id"]) == 2
    # another name is another application
    more = httpx.post(served_hub + "/liff/api/venues", json=dict(body, names=["側門"]), timeout=60)
    assert more.status_code == 201 and [v["name"] for v in more.json()["venues"]] == ["側門"]


def test_the_binding_code_sent_twice_at_once_binds_once_and_both_answers_agree(
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    enterprise: dict[str, Any],
) -> None:
    chat = LineChat(client, standin, "enterprise")
    chat.tap("a=register")
    chat.say("0933000001")
    code = sms.code(ADMIN)
    before = len(standin.calls("enterprise"))

    def send() -> httpx.Response:
        event = make_event(
            "message", chat.user_id, text=code, reply_token=standin.issue_reply_token("enterprise")
        )
        body = body_of(event)
        headers = {"Content-Type": "application/json", "X-Line-Signature": sign(SECRETS["enterprise"], body)}
        return httpx.post(served_hub + "/line/enterprise/webhook", content=body, headers=headers, timeout=60)

    first, second = _twice(send)
    assert (first.status_code, second.status_code) == (200, 200)
    drained(client)  # both events are stored; the inbox answers them, in order for this user
    texts = [m["text"] for m in chat.answers(before) if m.get("type") == "text"]
    assert len(texts) == 2, texts
    assert not any("不正確" in t or "失效" in t for t in texts), texts
    assert all("企業管理者" in t for t in texts), texts
    assert _count(db, AuditEvent, AuditEvent.action == "line.bound") == 1
    assert _count(db, LineBinding, LineBinding.line_user_id == chat.user_id) == 1


def test_the_police_binding_code_sent_twice_at_once_binds_once(
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    hub: Hub,
    super_admin_token: str,
) -> None:
    """The police channel's name + mobile binding, its code double-tapped: one binding, two answers that
    agree."""
    station = hub.create_station(super_admin_token)
    added = client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(super_admin_token),
    )
    assert added.status_code == 201, added.text
    chat = LineChat(client, standin, "police")
    chat.tap("a=register")
    chat.say("陳警員")
    chat.say("0977000001")
    code = sms.code("+886977000001")
    before = len(standin.calls("police"))

    def send() -> httpx.Response:
        event = make_event(
            "message", chat.user_id, text=code, reply_token=standin.issue_reply_token("police")
        )
        body = body_of(event)
        headers = {"Content-Type": "application/json", "X-Line-Signature": sign(SECRETS["police"], body)}
        return httpx.post(served_hub + "/line/police/webhook", content=body, headers=headers, timeout=60)

    first, second = _twice(send)
    assert (first.status_code, second.status_code) == (200, 200)
    drained(client)
    texts = [m["text"] for m in chat.answers(before) if m.get("type") == "text"]
    assert len(texts) == 2 and all("執勤警員（板橋分局）" in t for t in texts), texts
    assert _count(db, AuditEvent, AuditEvent.action == "line.bound") == 1
    assert _count(db, LineBinding, LineBinding.line_user_id == chat.user_id) == 1


def test_whitelist_changes_sent_twice_at_once_are_made_once(
    served_hub: str,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    enterprise: dict[str, Any],
) -> None:
    admin = LineChat(client, standin, "enterprise")
    _bind(admin, sms, ADMIN)
    token = standin.issue_id_token(admin.user_id)
    org_id = enterprise["org"]["id"]
    employee = {"id_token": token, "name": "王大明", "mobile": "0955000001", "national_id": "A123456789"}

    added = _same(*_post_twice(served_hub, "/liff/api/employees", employee), 201)
    assert [e["name"] for e in added["employees"]] == ["王*明"]
    assert _count(db, Employee, Employee.org_id == org_id) == 1

    # the same file imported twice at once: its rows once, both told how many
    sheet = xlsx([["姓名", "手機", "身分證"], ["李小華", "0955000002", "B223456782"]])

    def upload() -> httpx.Response:
        return httpx.post(
            served_hub + "/liff/api/employees/import",
            data={"id_token": token},
            files={"file": ("員工.xlsx", sheet, "application/octet-stream")},
            timeout=60,
        )

    imported = _same(*_twice(upload), 201)
    assert imported["imported"] == 1 and len(imported["employees"]) == 2
    assert _count(db, Employee, Employee.org_id == org_id) == 2

    # the same entry once more but another person's mobile is still a duplicate, refused
    clash = httpx.post(served_hub + "/liff/api/employees", json=dict(employee, name="冒名者"), timeout=60)
    assert clash.status_code == 409 and clash.json()["error"] == "duplicate"

    first_id = added["employees"][0]["id"]
    gone = _same(*_post_twice(served_hub, f"/liff/api/employees/{first_id}/delete", {"id_token": token}), 200)
    assert [e["name"] for e in gone["employees"]] == ["李*華"]
    assert _count(db, AuditEvent, AuditEvent.action == "employee.deleted") == 1
    # a row that was never this caller's is still not found
    other = httpx.post(served_hub + "/liff/api/employees/999999/delete", json={"id_token": token}, timeout=60)
    assert other.status_code == 404


def test_roster_changes_sent_twice_at_once_are_made_once(
    served_hub: str,
    hub: Hub,
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    super_admin_token: str,
) -> None:
    station = hub.create_station(super_admin_token)
    hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    admin = LineChat(client, standin, "police")
    _bind(admin, sms, "+886922000001", "林警官")
    token = standin.issue_id_token(admin.user_id)
    officer = {"id_token": token, "name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"}

    added = _same(*_post_twice(served_hub, "/liff/api/officers", officer), 201)
    assert [o["number"] for o in added["officers"]] == ["A1001"]
    assert _count(db, Officer, Officer.station_id == station["id"]) == 1

    officer_id = added["officers"][0]["id"]
    gone = _same(
        *_post_twice(served_hub, f"/liff/api/officers/{officer_id}/delete", {"id_token": token}), 200
    )
    assert gone["officers"] == []
    assert _count(db, AuditEvent, AuditEvent.action == "officer.deleted") == 1
