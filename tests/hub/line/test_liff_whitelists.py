"""The LIFF whitelist and duty-roster endpoints and the station registration, from the attacker's side:
another organisation's ids in the form, a caller of another role or none, a forged or expired ID token.
Each refusal changes nothing. Driven over HTTP with ID tokens the LINE stand-in issues, so the hub's
server-side check (`POST /oauth2/v2.1/verify`) runs for real."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from checkpass_testkit.line_standin import StandIn
from hub.core.config import Settings
from hub.line.cli import cmd_setup_menus
from hub.models.audit import AuditEvent
from hub.models.identity import Role, User
from hub.models.line import ChannelName, LineBinding
from hub.models.organisations import Organisation, OrgKind
from hub.models.rosters import Employee, Officer
from hub.services.line_bindings import binding_of
from tests.hub.hubkit import Hub, SmsOutbox, bearer, xlsx
from tests.hub.line.linekit import LineChat

ADMIN_A, ADMIN_B = "+886933000001", "+886933000002"
STATION_ADMIN_A, STATION_ADMIN_B = "+886922000001", "+886922000002"


def _bind(chat: LineChat, sms: SmsOutbox, mobile: str, name: str | None = None) -> str:
    assert chat.register(mobile, sms.code, name)[0]["text"].startswith("註冊成功")
    return chat.user_id


def _employees(db: Session) -> list[tuple[int, str, str]]:
    db.expire_all()
    return [(e.org_id, e.name, e.mobile) for e in db.scalars(select(Employee).order_by(Employee.id))]


def _officers(db: Session) -> list[tuple[int, str, str, str]]:
    db.expire_all()
    return [
        (o.station_id, o.name, o.officer_number, o.mobile)
        for o in db.scalars(select(Officer).order_by(Officer.id))
    ]


@pytest.fixture
def two_enterprises(hub: Hub, client: TestClient) -> dict[str, Any]:
    token_a, org_a = hub.register_enterprise(mobile=ADMIN_A, ubn="28010606", name="艾斯移動股份有限公司")
    token_b, org_b = hub.register_enterprise(mobile=ADMIN_B, ubn="04595257", name="別家公司")
    employee_b = client.post(
        f"/api/v1/enterprises/{org_b['id']}/employees",
        json={"name": "別員工", "mobile": "0955000009", "national_id": "A123456789"},
        headers=bearer(token_b),
    ).json()
    return {"a": org_a, "b": org_b, "token_a": token_a, "employee_b": employee_b["id"]}


def test_enterprise_admin_edits_own_whitelist_and_cannot_touch_another(
    client: TestClient, standin: StandIn, sms: SmsOutbox, db: Session, two_enterprises: dict[str, Any]
) -> None:
    admin = LineChat(client, standin, "enterprise")
    token = standin.issue_id_token(_bind(admin, sms, ADMIN_A))
    org_a, org_b, other = (
        two_enterprises["a"]["id"],
        two_enterprises["b"]["id"],
        two_enterprises["employee_b"],
    )

    # add: an org_id in the form is ignored; the row lands on the caller's own whitelist
    added = client.post(
        "/liff/api/employees",
        json={
            "id_token": token,
            "org_id": org_b,
            "name": "王大明",
            "mobile": "0955000001",
            "national_id": "F131104093",
        },
    )
    assert added.status_code == 201, added.text
    listed = added.json()["employees"]
    assert [(e["name"], e["mobile"], e["national_id"]) for e in listed] == [
        ("王*明", "09***0***1", "F13*1*4*9*")
    ]
    own = listed[0]["id"]
    assert _employees(db) == [(org_b, "別員工", "+886955000009"), (org_a, "王大明", "+886955000001")]

    # modify and delete own rows
    changed = client.post(f"/liff/api/employees/{own}/update", json={"id_token": token, "name": "王小明"})
    assert changed.status_code == 200 and changed.json()["employees"][0]["name"] == "王*明"
    assert _employees(db)[1] == (org_a, "王小明", "+886955000001")

    # another enterprise's employee id: not found, nothing changed or deleted
    before = _employees(db)
    for path, body in (
        (f"/liff/api/employees/{other}/update", {"name": "冒名者", "org_id": org_b}),
        (f"/liff/api/employees/{other}/delete", {"org_id": org_b}),
    ):
        refused = client.post(path, json={"id_token": token, **body})
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"] == "not_found" and refused.json()["message"]
    assert _employees(db) == before

    deleted = client.post(f"/liff/api/employees/{own}/delete", json={"id_token": token})
    assert deleted.status_code == 200 and deleted.json()["employees"] == []
    assert _employees(db) == [(org_b, "別員工", "+886955000009")]

    # a duplicate: refused by the service's rule, nothing added
    client.post(
        "/liff/api/employees",
        json={"id_token": token, "name": "甲", "mobile": "0955000003", "national_id": "A123456789"},
    )
    clash = client.post(
        "/liff/api/employees",
        json={"id_token": token, "name": "乙", "mobile": "0955000003", "national_id": "F131104093"},
    )
    assert clash.status_code == 409 and clash.json()["error"] == "duplicate"
    assert len(_employees(db)) == 2


def test_whitelist_import_is_all_or_nothing_with_a_row_report(
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    two_enterprises: dict[str, Any],
    keys_dir: Any,
) -> None:
    token = standin.issue_id_token(_bind(LineChat(client, standin, "enterprise"), sms, ADMIN_A))
    bad = xlsx(
        [
            ["姓名", "手機", "身分證"],
            ["林小華", "0955000002", "A123456789"],
            ["壞資料", "12345", "A123456789"],
        ]
    )
    files = {"file": ("員工.xlsx", bad, "application/octet-stream")}
    refused = client.post("/liff/api/employees/import", data={"id_token": token}, files=files)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "import_rejected" and "未匯入" in body["message"]
    assert {(e["row"], e["field"]) for e in body["detail"]["errors"]} >= {(3, "mobile")}
    assert len(_employees(db)) == 1  # only the other enterprise's
    # the refused import is audited although everything else was rolled back
    rejected = db.scalar(select(func.count()).where(AuditEvent.action == "import.rejected"))
    assert rejected == 1

    good = xlsx([["姓名", "手機", "身分證"], ["林小華", "0955000002", "A123456789"]])
    done = client.post(
        "/liff/api/employees/import",
        data={"id_token": token},
        files={"file": ("員工.xlsx", good, "application/octet-stream")},
    )
    assert done.status_code == 201 and done.json()["imported"] == 1
    issued = client.post("/liff/api/passes/issue", json={"id_token": token})
    assert issued.status_code == 201 and issued.json()["issued"] == 1
    assert issued.json()["employees"][0]["pass"] is True


def test_the_whitelist_pages_refuse_other_roles_strangers_and_bad_tokens(
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    hub: Hub,
    two_enterprises: dict[str, Any],
    super_admin_token: str,
) -> None:
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000009")  # the other enterprise's employee
    station = hub.create_station(super_admin_token)
    station_admin = hub.station_admin_token(super_admin_token, station["id"], mobile=STATION_ADMIN_A)
    client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(station_admin),
    )
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    enterprise_admin = LineChat(client, standin, "enterprise")
    _bind(enterprise_admin, sms, ADMIN_A)
    before = (_employees(db), _officers(db))

    def attempts(token: str, *, employees: bool = True) -> list[Any]:
        add_employee = {"name": "冒名者", "mobile": "0955000008", "national_id": "F131104093"}
        add_officer = {"name": "冒名者", "officer_number": "X9", "mobile": "0977000009"}
        sheet = {"file": ("x.xlsx", xlsx([["姓名", "手機", "身分證"]]), "application/octet-stream")}
        other = two_enterprises["employee_b"]
        tried = []
        if employees:
            tried += [
                client.post("/liff/api/employees/list", json={"id_token": token}),
                client.post("/liff/api/employees", json={"id_token": token, **add_employee}),
                client.post(f"/liff/api/employees/{other}/delete", json={"id_token": token}),
                client.post("/liff/api/employees/import", data={"id_token": token}, files=sheet),
            ]
        return tried + [
            client.post("/liff/api/officers/list", json={"id_token": token}),
            client.post("/liff/api/officers", json={"id_token": token, **add_officer}),
            client.post("/liff/api/officers/1/delete", json={"id_token": token}),
        ]

    # an employee (enterprise channel) and a duty officer (police channel): neither page is theirs
    for caller in (employee, officer):
        statuses = [r.status_code for r in attempts(standin.issue_id_token(caller.user_id))]
        assert statuses == [403] * 7, statuses
    # an enterprise admin has no duty roster
    crossed = attempts(standin.issue_id_token(enterprise_admin.user_id), employees=False)
    assert [r.status_code for r in crossed] == [403, 403, 403]
    assert "分局管理員" in crossed[0].json()["message"]
    # a LINE user bound to nobody
    stranger = [r.status_code for r in attempts(standin.issue_id_token("U" + "7" * 32))]
    assert stranger == [403] * 7
    # forged, expired, missing
    expired = standin.issue_id_token(enterprise_admin.user_id, expired=True)
    for token in ("eyJforged-token-0000", expired):
        answers = attempts(token)
        assert [r.status_code for r in answers] == [401] * 7
        assert answers[0].json()["error"] == "not_authenticated"
    missing = client.post("/liff/api/employees/list", json={})
    assert missing.status_code == 401
    assert (_employees(db), _officers(db)) == before


def test_station_admin_edits_own_roster_and_cannot_touch_another_station(
    client: TestClient, standin: StandIn, sms: SmsOutbox, db: Session, hub: Hub, super_admin_token: str
) -> None:
    ours = hub.create_station(super_admin_token, "板橋分局")
    theirs = hub.create_station(super_admin_token, "三重分局")
    hub.station_admin_token(super_admin_token, ours["id"], mobile=STATION_ADMIN_A)
    their_token = hub.station_admin_token(super_admin_token, theirs["id"], mobile=STATION_ADMIN_B)
    their_officer = client.post(
        f"/api/v1/stations/{theirs['id']}/officers",
        json={"name": "別警員", "officer_number": "B2001", "mobile": "0977000002"},
        headers=bearer(their_token),
    ).json()["id"]
    admin = LineChat(client, standin, "police")
    token = standin.issue_id_token(_bind(admin, sms, STATION_ADMIN_A, "林警官"))

    added = client.post(
        "/liff/api/officers",
        json={
            "id_token": token,
            "station_id": theirs["id"],
            "name": "陳警員",
            "officer_number": "A1001",
            "mobile": "0977000001",
        },
    )
    assert added.status_code == 201, added.text
    mine = added.json()["officers"]
    assert [(o["name"], o["number"], o["mobile"]) for o in mine] == [("陳*員", "A1001", "09***0***1")]
    assert _officers(db)[1] == (ours["id"], "陳警員", "A1001", "+886977000001")
    # LINE shows the roster masked, and the audit trail says so
    reads = db.scalars(select(AuditEvent).where(AuditEvent.action == "query.officers")).all()
    assert reads and reads[-1].details["mobiles_in_clear"] is False

    changed = client.post(
        f"/liff/api/officers/{mine[0]['id']}/update", json={"id_token": token, "officer_number": "A1002"}
    )
    assert changed.status_code == 200 and changed.json()["officers"][0]["number"] == "A1002"
    nothing = client.post(f"/liff/api/officers/{mine[0]['id']}/update", json={"id_token": token})
    assert nothing.status_code == 400 and nothing.json()["error"] == "nothing_changed"

    before = _officers(db)
    for path, body in (
        (f"/liff/api/officers/{their_officer}/update", {"name": "冒名者", "station_id": theirs["id"]}),
        (f"/liff/api/officers/{their_officer}/delete", {"station_id": theirs["id"]}),
    ):
        refused = client.post(path, json={"id_token": token, **body})
        assert refused.status_code == 404, refused.text
    assert _officers(db) == before

    report = client.post(
        "/liff/api/officers/import",
        data={"id_token": token},
        files={
            "file": (
                "roster.xlsx",
                xlsx(
                    [
                        ["姓名", "警員編號", "手機"],
                        ["林警員", "A1003", "0977000003"],
                        ["重複", "A1002", "0977"],
                    ]
                ),
                "application/octet-stream",
            )
        },
    )
    assert report.status_code == 422 and report.json()["detail"]["errors"]
    assert _officers(db) == before

    deleted = client.post(f"/liff/api/officers/{mine[0]['id']}/delete", json={"id_token": token})
    assert deleted.status_code == 200 and deleted.json()["officers"] == []
    assert _officers(db) == [(theirs["id"], "別警員", "B2001", "+886977000002")]


def test_templates_are_the_import_sheets(client: TestClient) -> None:
    import io

    for name, headers in (
        ("employees", ["姓名", "手機", "身分證"]),
        ("officers", ["姓名", "警員編號", "手機"]),
    ):
        response = client.get(f"/liff/templates/{name}.xlsx")
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        assert [c.value for c in sheet[1]][: len(headers)] == headers
    assert client.get("/liff/templates/passes.xlsx").status_code == 404


# --- station registration ---


@pytest.fixture
def unplaced_admin(client: TestClient, super_admin_token: str) -> str:
    """A station admin the hub admin imported without a station (the city's 總管理者流程二)."""
    response = client.post(
        "/api/v1/station-admins",
        json={"name": "林警官", "mobile": "0922000001", "national_id": "A123456789"},
        headers=bearer(super_admin_token),
    )
    assert response.status_code == 201, response.text
    return STATION_ADMIN_A


def _station_form(token: str, code: str, **overrides: str) -> dict[str, str]:
    form = {
        "id_token": token,
        "name": "板橋分局",
        "address": "新北市板橋區漢生東路21號",
        "contact_name": "王小明",
        "contact_phone": "0229603456",
        "admin_mobile": "0922000001",
        "code": code,
    }
    return form | overrides


def _stations(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(Organisation.name).where(Organisation.kind == OrgKind.STATION.value)))


def test_station_registration_registers_and_binds_with_one_code(
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    settings: Settings,
    unplaced_admin: str,
) -> None:
    assert cmd_setup_menus(argparse.Namespace(channel="police"), settings) == 0
    user = "U" + "a" * 32
    token = standin.issue_id_token(user)
    sent = client.post("/liff/api/police/register/code", json={"id_token": token, "mobile": "0922000001"})
    assert sent.status_code == 202 and sent.json()["sent_to"] == "09***0***1"

    wrong = "000000" if sms.code(unplaced_admin) != "000000" else "111111"
    refused = client.post("/liff/api/police/register", json=_station_form(token, wrong))
    assert refused.status_code == 400 and "驗證碼" in refused.json()["message"]
    assert _stations(db) == []

    done = client.post("/liff/api/police/register", json=_station_form(token, sms.code(unplaced_admin)))
    assert done.status_code == 201, done.text
    assert done.json() == {"state": "bound", "station": "板橋分局", "done": "註冊成功"}
    station = db.scalars(select(Organisation).where(Organisation.kind == OrgKind.STATION.value)).one()
    assert (station.address, station.contact_name) == ("新北市板橋區漢生東路21號", "王小明")
    assert station.contact_phone is not None and station.contact_phone.endswith("229603456")
    admin = db.scalars(select(User).where(User.mobile == unplaced_admin)).one()
    assert admin.org_id == station.id and admin.registered_at is not None
    binding = binding_of(db, ChannelName.POLICE, user)
    assert binding is not None and binding.mobile == unplaced_admin
    linked = standin.linked_menu("police", user)
    assert linked is not None and linked["name"] == "checkpass:police:station_admin"

    # the same admin again (from another LINE user): the station is registered, nothing new
    again = standin.issue_id_token("U" + "b" * 32)
    client.post("/liff/api/police/register/code", json={"id_token": again, "mobile": "0922000001"})
    twice = client.post(
        "/liff/api/police/register", json=_station_form(again, sms.code(unplaced_admin), name="新莊分局")
    )
    assert twice.status_code == 409 and twice.json()["error"] == "already_registered"
    assert "板橋分局" in twice.json()["message"]
    assert _stations(db) == ["板橋分局"]
    assert binding_of(db, ChannelName.POLICE, "U" + "b" * 32) is None


def test_station_registration_refuses_a_mobile_not_allowed_and_a_taken_name(
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    db: Session,
    hub: Hub,
    super_admin_token: str,
    unplaced_admin: str,
) -> None:
    token = standin.issue_id_token("U" + "c" * 32)
    # a mobile the hub does not list as a station admin: told so once the code proves it is the caller's
    client.post("/liff/api/police/register/code", json={"id_token": token, "mobile": "0966000001"})
    stranger = client.post(
        "/liff/api/police/register",
        json=_station_form(token, sms.code("+886966000001"), admin_mobile="0966000001"),
    )
    assert stranger.status_code == 403 and stranger.json()["error"] == "not_a_station_admin"
    assert "不在分局管理員名單" in stranger.json()["message"]
    # an officer on a roster is not a station admin either
    assert _stations(db) == [] and db.scalar(select(func.count()).select_from(LineBinding)) == 0

    # a name another station has
    hub.create_station(super_admin_token, "板橋分局")
    client.post("/liff/api/police/register/code", json={"id_token": token, "mobile": "0922000001"})
    taken = client.post("/liff/api/police/register", json=_station_form(token, sms.code(unplaced_admin)))
    assert taken.status_code == 409 and taken.json()["error"] == "duplicate"
    assert _stations(db) == ["板橋分局"]
    assert db.scalars(select(User).where(User.mobile == unplaced_admin)).one().org_id is None

    # a forged token sends no code and registers nothing
    forged = client.post(
        "/liff/api/police/register/code", json={"id_token": "eyJforged-token", "mobile": "0922000001"}
    )
    assert forged.status_code == 401
    # a LINE user bound to someone else cannot register a station for another mobile
    officer_station = db.scalars(select(Organisation).where(Organisation.name == "板橋分局")).one()
    other_admin = hub.station_admin_token(super_admin_token, officer_station.id, mobile=STATION_ADMIN_B)
    client.post(
        f"/api/v1/stations/{officer_station.id}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(other_admin),
    )
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, "+886977000001", "陳警員")
    officer_token = standin.issue_id_token(officer.user_id)
    client.post("/liff/api/police/register/code", json={"id_token": officer_token, "mobile": "0922000001"})
    bound = client.post(
        "/liff/api/police/register",
        json=_station_form(officer_token, sms.code(unplaced_admin), name="新莊分局"),
    )
    assert bound.status_code == 409 and bound.json()["error"] == "already_bound"
    assert _stations(db) == ["板橋分局"]


def test_duty_roster_button_opens_the_roster_page_or_the_registration_form(
    client: TestClient,
    standin: StandIn,
    sms: SmsOutbox,
    hub: Hub,
    super_admin_token: str,
    unplaced_admin: str,
) -> None:
    unplaced = LineChat(client, standin, "police")
    _bind(unplaced, sms, unplaced_admin, "林警官")
    for action in ("duty_roster", "checks", "venue_apply"):
        answer = unplaced.tap(f"a={action}")
        assert answer[0]["type"] == "flex", answer
        uri = answer[0]["contents"]["footer"]["contents"][0]["action"]["uri"]
        assert uri.endswith("/liff/police/register")

    station = hub.create_station(super_admin_token, "三重分局")
    hub.station_admin_token(super_admin_token, station["id"], mobile=STATION_ADMIN_B)
    placed = LineChat(client, standin, "police")
    _bind(placed, sms, STATION_ADMIN_B, "林警官")
    answer = placed.tap("a=duty_roster")
    assert answer[0]["text"].startswith("執勤名單：0 人")
    assert answer[1]["contents"]["footer"]["contents"][0]["action"]["uri"].endswith("/liff/police/roster")


def test_no_liff_handler_commits() -> None:
    """The request's unit of work is the only committer (hub.line.liff_caller)."""
    here = Path(__file__).resolve().parents[3] / "hub" / "line"
    for module in ("liff_api.py", "liff_forms.py", "liff_whitelists.py"):
        assert ".commit(" not in (here / module).read_text(encoding="utf-8"), module


def test_a_binding_removed_for_a_lost_role_stays_removed_though_refused(
    client: TestClient, standin: StandIn, sms: SmsOutbox, db: Session, two_enterprises: dict[str, Any]
) -> None:
    employee = LineChat(client, standin, "enterprise")
    _bind(employee, sms, "+886955000009")
    db.execute(Employee.__table__.delete())  # taken off the whitelist behind the hub's back
    db.execute(User.__table__.delete().where(User.role == Role.EMPLOYEE.value))
    db.commit()
    refused = client.post(
        "/liff/api/checkin",
        json={"id_token": standin.issue_id_token(employee.user_id), "venue_code": "NOPE0000"},
    )
    assert refused.status_code == 403 and refused.json()["error"] == "not_bound"
    db.expire_all()
    assert binding_of(db, ChannelName.ENTERPRISE, employee.user_id) is None
