"""Console pages per role and the city's admin flows over HTTP: each role's menu, a hidden URL of another
role answering 403, permissions never beyond the grantor's own, the station-admin import report, masked
queries and audited unmasking, and text fields shown back escaped."""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
from sqlalchemy import select

from hub.console.web import TAIPEI
from hub.core.permissions import ALL_PERMISSIONS
from hub.models.audit import AuditEvent
from hub.models.identity import User
from hub.models.organisations import Organisation
from hub.models.passes import Pass
from hub.services.bootstrap import create_super_admin
from tests.hub.console.consolekit import Console
from tests.hub.hubkit import bearer, xlsx

SUPER = "+886911000001"
GENERAL = "+886911000002"
PASSWORD = "N3w-password!"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def _menu(html: str) -> list[str]:
    return re.findall(r'data-menu="([^"]+)"', html)


def _console_login(client, sms, mobile):
    console = Console(client)
    console.login(mobile, sms.initial_password(mobile))
    changed = console.post(
        "/console/password", {"current_password": sms.initial_password(mobile), "new_password": PASSWORD}
    )
    assert changed.status_code == 303, changed.text
    return console


@pytest.fixture
def super_console(hub, client, sms, keys_dir):
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    return _console_login(client, sms, SUPER)


def test_super_admin_sees_every_menu_item(super_console):
    menu = _menu(super_console.get("/console/").text)
    assert menu == [
        "nav.dashboard",
        "nav.admins",
        "nav.stations",
        "nav.enterprises",
        "nav.review",
        "nav.queries",
        "nav.devices",
        "nav.trust",
        "nav.audit",
        "nav.support",
        "nav.account",
    ]


def test_flow1_add_a_general_admin_with_permissions_then_they_log_in(super_console, app, sms):
    from fastapi.testclient import TestClient

    added = super_console.submit(
        "/console/admins",
        {"name": "王一般", "mobile": "0911000002", "permissions": ["query.passes", "audit.read"]},
    )
    assert added.status_code == 200, added.text
    assert "已新增" in added.text and "王*般" in added.text and "王一般" not in added.text
    assert sms.initial_password(GENERAL)  # the initial password went out by SMS
    with TestClient(app) as other:
        general = _console_login(other, sms, GENERAL)
        menu = _menu(general.get("/console/").text)
        assert menu == ["nav.dashboard", "nav.queries", "nav.audit", "nav.support", "nav.account"]
        for hidden in ("/console/admins", "/console/stations", "/console/admins/1"):
            assert general.get(hidden).status_code == 403, hidden
        forged = general.client.post(
            "/console/admins", data={"name": "x", "mobile": "0911000009"}, follow_redirects=False
        )
        assert forged.status_code == 403


def test_flow1_a_grantor_cannot_grant_beyond_its_own(super_console, app, sms, db):
    from fastapi.testclient import TestClient

    super_console.post(
        "/console/admins",
        {"name": "管理者", "mobile": "0911000002", "permissions": ["admins.manage", "audit.read"]},
    )
    with TestClient(app) as other:
        general = _console_login(other, sms, GENERAL)
        page = general.get("/console/admins").text
        offered = set(re.findall(r'name="permissions" value="([^"]+)"', page))
        assert offered == {"admins.manage", "audit.read"}  # the checkboxes never exceed its own
        response = general.post(
            "/console/admins",
            {"name": "越權", "mobile": "0911000003", "permissions": ["personal_data.unmask"]},
        )
        assert response.status_code == 403
    assert db.scalars(select(User).where(User.mobile == "+886911000003")).first() is None


def test_flow1_disable_and_reset(super_console, sms, db):
    super_console.post(
        "/console/admins", {"name": "停權", "mobile": "0911000002", "permissions": ["audit.read"]}
    )
    target = db.scalars(select(User).where(User.mobile == GENERAL)).one()
    first_password = sms.initial_password(GENERAL)
    reset = super_console.post(f"/console/admins/{target.id}", {"action": "reset"})
    assert reset.status_code == 303
    assert sms.initial_password(GENERAL) != first_password
    disabled = super_console.post(f"/console/admins/{target.id}", {"action": "disable"})
    assert disabled.status_code == 303
    db.refresh(target)
    assert target.active is False


def test_flow2_station_admins_one_by_one_and_import_all_or_nothing(super_console, hub, client, sms, db):
    assert super_console.post("/console/stations", {"name": "板橋分局"}).status_code == 303
    added = super_console.submit(
        "/console/stations/admins",
        {"name": "林警官", "mobile": "0922000001", "national_id": "A123456789"},
        token_from="/console/stations",
    )
    assert added.status_code == 200 and "林*官" in added.text and "A123456789" not in added.text

    header = ["姓名", "手機", "身分證"]
    bad = xlsx([header, ["張警官", "0922000002", "A123456789"], ["李警官", "not-a-mobile", "B123456780"]])
    refused = super_console.post(
        "/console/stations/import",
        {},
        files={"file": ("list.xlsx", bad, "application/octet-stream")},
        token_from="/console/stations",
    )
    assert refused.status_code == 422
    assert 'id="import-report"' in refused.text and "<td>3</td>" in refused.text
    assert db.scalars(select(User).where(User.mobile == "+886922000002")).first() is None  # all or nothing

    good = xlsx([header, ["張警官", "0922000002", "A123456789"], ["李警官", "0922000003", "B123456780"]])
    imported = super_console.submit(
        "/console/stations/import",
        {},
        files={"file": ("list.xlsx", good, "application/octet-stream")},
        token_from="/console/stations",
    )
    assert imported.status_code == 200 and "已匯入 2 位管理者" in imported.text

    # An imported admin's first login: an SMS code, which registers them; then their own menu.
    from fastapi.testclient import TestClient

    with TestClient(client.app) as other:
        station_console = Console(other)
        done = station_console.sms_login("0922000002", lambda m: sms.code("+886922000002"))
        assert done.status_code == 303 and done.headers["location"] == "/console/"
        menu = _menu(station_console.get("/console/").text)
        assert menu == ["nav.dashboard", "nav.queries", "nav.devices", "nav.account"]
        for hidden in (
            "/console/admins",
            "/console/stations",
            "/console/audit",
            "/console/support",
            "/console/trust",
        ):
            assert station_console.get(hidden).status_code == 403, hidden
    admin = db.scalars(select(User).where(User.mobile == "+886922000002")).one()
    assert admin.registered_at is not None


def test_flow3_queries_are_masked_and_unmasking_needs_a_reason_and_is_audited(super_console, hub, db):
    token, enterprise = hub.register_enterprise()
    added = hub.client.post(
        f"/api/v1/enterprises/{enterprise['id']}/employees",
        json={"name": "陳大明", "mobile": "0912345675", "national_id": "A123456789"},
        headers=bearer(token),
    )
    assert added.status_code == 201, added.text
    issued = hub.client.post(
        f"/api/v1/enterprises/{enterprise['id']}/passes",
        json={"employee_ids": [added.json()["id"]]},
        headers=bearer(token),
    )
    assert issued.status_code in (200, 201), issued.text
    masked = super_console.get("/console/queries?kind=passes")
    assert masked.status_code == 200
    assert "陳*明" in masked.text and "陳大明" not in masked.text and "A123456789" not in masked.text
    assert "核發時間" in masked.text and "+00:00" not in masked.text  # times shown in Taipei, not UTC ISO
    record = db.scalars(select(Pass)).one()
    assert record.issued_at.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M:%S") in masked.text
    no_reason = super_console.get("/console/queries?kind=passes&unmask=1")
    assert no_reason.status_code == 400 and "陳大明" not in no_reason.text
    clear = super_console.get("/console/queries?kind=passes&unmask=1&reason=刑案偵查 113-001")
    assert clear.status_code == 200 and "陳大明" in clear.text
    reasons = db.scalars(select(AuditEvent).where(AuditEvent.action == "personal_data.unmask_reason")).all()
    assert [e.details["reason"] for e in reasons] == ["刑案偵查 113-001"]
    csv = super_console.get("/console/queries?kind=passes&format=csv")
    assert csv.status_code == 200 and "陳*明" in csv.text and "陳大明" not in csv.text
    xlsx_file = super_console.get("/console/queries?kind=passes&format=xlsx")
    assert xlsx_file.content[:2] == b"PK"


def test_unmasking_without_the_permission_is_refused(super_console, app, sms):
    from fastapi.testclient import TestClient

    super_console.post(
        "/console/admins", {"name": "查詢", "mobile": "0911000002", "permissions": ["query.passes"]}
    )
    with TestClient(app) as other:
        general = _console_login(other, sms, GENERAL)
        assert general.get("/console/queries?kind=passes").status_code == 200
        assert general.get("/console/queries?kind=passes&unmask=1&reason=x").status_code == 403
        assert general.get("/console/queries?kind=checks").status_code == 403  # not its register


def test_text_fields_are_shown_back_escaped(super_console, db):
    super_console.post("/console/stations", {"name": XSS[:100]})
    super_console.post("/console/admins", {"name": XSS[:64], "mobile": "0911000002", "permissions": []})
    for path in ("/console/stations", "/console/admins", "/console/audit"):
        html = super_console.get(path).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html, path
    assert "&lt;script&gt;alert(1)" in super_console.get("/console/stations").text


def test_devices_enrolment_qr_list_and_revoke_within_the_own_station(super_console, hub, client, sms, db):
    from fastapi.testclient import TestClient

    from hub.models.devices import Device

    for name in ("板橋分局", "三重分局"):
        super_console.post("/console/stations", {"name": name})
    stations = {o.name: o.id for o in db.scalars(select(Organisation))}
    shown = super_console.post(
        "/console/devices/enrolment", {"station_id": str(stations["三重分局"])}, token_from="/console/devices"
    )
    assert shown.status_code == 200 and 'src="data:image/png;base64,' in shown.text
    foreign = Device(
        id=str(uuid.uuid4()),
        name="三重一號",
        public_key=secrets.token_bytes(32),
        station_id=stations["三重分局"],
    )
    db.add(foreign)
    db.commit()
    super_console.post(
        "/console/stations/admins",
        {
            "name": "林警官",
            "mobile": "0922000001",
            "national_id": "A123456789",
            "station_id": str(stations["板橋分局"]),
        },
        token_from="/console/stations",
    )
    with TestClient(client.app) as other:
        station_console = Console(other)
        station_console.sms_login("0922000001", lambda m: sms.code("+886922000001"))
        listing = station_console.get("/console/devices")
        assert listing.status_code == 200 and "三重一號" not in listing.text
        refused = station_console.post(
            f"/console/devices/{foreign.id}/revoke", {"reason": "x"}, token_from="/console/devices"
        )
        assert refused.status_code == 404  # another station's device does not exist for them
    db.refresh(foreign)
    assert foreign.revoked_at is None
    revoked = super_console.post(
        f"/console/devices/{foreign.id}/revoke",
        {"reason": "遺失", "confirmed": "1"},
        token_from="/console/devices",
    )
    assert revoked.status_code == 303
    db.refresh(foreign)
    assert foreign.revoked_at is not None and foreign.revoke_reason == "遺失"


def test_keys_and_trust_are_the_super_admins(super_console, app, sms):
    from fastapi.testclient import TestClient

    page = super_console.get("/console/trust")
    assert page.status_code == 200 and 'id="issuers"' in page.text
    before = set(re.findall(r"<code>([0-9a-f]{16})</code></td>", page.text))
    asked = super_console.post("/console/trust/rotate", {}, token_from="/console/trust")
    assert asked.status_code == 200 and "確定要輪替簽發金鑰" in asked.text  # asks first, rotates nothing
    unchanged = set(re.findall(r"<code>([0-9a-f]{16})</code></td>", super_console.get("/console/trust").text))
    assert unchanged == before
    rotated = super_console.post("/console/trust/rotate", {"confirmed": "1"}, token_from="/console/trust")
    assert rotated.status_code == 303
    after = set(re.findall(r"<code>([0-9a-f]{16})</code></td>", super_console.get("/console/trust").text))
    assert len(after) == len(before) + 1
    every = list(ALL_PERMISSIONS)
    super_console.post(
        "/console/admins", {"name": "全權", "mobile": "0911000002", "permissions": [p.value for p in every]}
    )
    with TestClient(app) as other:
        general = _console_login(other, sms, GENERAL)
        assert "nav.trust" not in _menu(general.get("/console/").text)
        assert general.get("/console/trust").status_code == 403
        assert general.post("/console/trust/rotate", {}, token_from="/console/").status_code == 403


def _enterprise_console(
    hub, client, sms, mobile="+886933000001", ubn="28010606", name="艾斯移動股份有限公司"
):
    from fastapi.testclient import TestClient

    _token, enterprise = hub.register_enterprise(mobile=mobile, ubn=ubn, name=name)
    other = TestClient(client.app)
    other.__enter__()
    console = Console(other)
    done = console.sms_login("0" + mobile[4:], lambda m: sms.code(mobile))
    assert done.status_code == 303, done.text
    return console, enterprise["id"]


def test_enterprise_admin_whitelist_passes_sheet_and_revoke(super_console, hub, client, sms, db):
    console, org_id = _enterprise_console(hub, client, sms)
    assert console.get("/console/enterprises").headers["location"] == f"/console/enterprises/{org_id}"
    page = f"/console/enterprises/{org_id}"
    added = console.post(
        f"{page}/employees",
        {"name": XSS[:40], "mobile": "0912345675", "national_id": "A123456789"},
        token_from=page,
    )
    assert added.status_code == 303, added.text
    shown = console.get(page).text
    assert "<script>alert(1)" not in shown and "<img src=x" not in shown and "A123456789" not in shown
    employee_id = re.search(r'name="employee_ids" value="(\d+)"', shown).group(1)
    issued = console.submit(f"{page}/passes", {"employee_ids": [employee_id]}, token_from=page)
    assert issued.status_code == 200 and "已核發 1 張通行證" in issued.text
    sheet = console.get(f"{page}/sheet.pdf")
    assert sheet.status_code == 200 and sheet.content[:5] == b"%PDF-"
    pass_id = re.search(r'action="/console/passes/([0-9a-f]{32})/revoke"', console.get(page).text).group(1)
    assert (
        console.post(f"/console/passes/{pass_id}/revoke", {"reason": ""}, token_from=page).status_code == 400
    )
    revoked = console.post(
        f"/console/passes/{pass_id}/revoke", {"reason": "離職", "confirmed": "1"}, token_from=page
    )
    assert revoked.status_code == 303
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "pass.revoked")).all()
    assert len(events) == 1

    too_long = console.post(
        f"{page}/venues", {"names": "一二三四五六七八九", "address": "新北市板橋區"}, token_from=page
    )
    # the 8-character rule lives in the venue service (hub/services/venues.py), so REST and the console agree
    assert too_long.status_code == 422 and "一二三四五六七八九" in too_long.text
    applied = console.post(
        f"{page}/venues",
        {"names": f"總部,{XSS[:8]}", "address": "新北市板橋區中山路一段161號"},
        token_from=page,
    )
    assert applied.status_code == 303, applied.text
    shown = console.get(page).text
    venues_table = shown[shown.find('id="venues"') :]
    assert "總部" in venues_table and "<script>" not in venues_table and "&lt;script&gt;" in venues_table
    posters = console.get(f"{page}/venues.pdf")
    assert posters.status_code == 200 and posters.content[:5] == b"%PDF-"


def test_an_enterprise_admin_cannot_touch_another_enterprise(super_console, hub, client, sms):
    console, own = _enterprise_console(hub, client, sms)
    _other_console, foreign = _enterprise_console(
        hub, client, sms, mobile="+886933000002", ubn="04595257", name="別家股份有限公司"
    )
    assert console.get(f"/console/enterprises/{foreign}").status_code == 403
    refused = console.post(
        f"/console/enterprises/{foreign}/employees",
        {"name": "陳大明", "mobile": "0912345675", "national_id": "A123456789"},
        token_from=f"/console/enterprises/{own}",
    )
    assert refused.status_code == 403
    assert console.get(f"/console/enterprises/{foreign}/sheet.pdf").status_code == 403


def test_console_forms_are_checked_by_the_services_input_models(super_console, hub, client, sms, db):
    """The limits REST's bodies have hold for the console's forms (the models live in the services): a
    bad field is a 400 page naming it, never a 500, and nothing is written."""
    from hub.models.devices import Device, EnrolmentToken

    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    added = console.post(
        f"{page}/employees",
        {"name": "陳大明", "mobile": "0912345675", "national_id": "A123456789"},
        token_from=page,
    )
    assert added.status_code == 303, added.text
    employee_id = re.search(r'name="employee_ids" value="(\d+)"', console.get(page).text).group(1)
    too_many = console.post(f"{page}/passes", {"employee_ids": [employee_id] * 501}, token_from=page)
    assert too_many.status_code == 400 and "員工：最多 500 項" in too_many.text  # in words, not `loc: msg`
    out_of_range = console.post(f"{page}/passes", {"employee_ids": [str(2**31)]}, token_from=page)
    assert out_of_range.status_code == 400
    assert db.scalars(select(Pass)).all() == []
    assert console.get(f"{page}/sheet.pdf?part=0").status_code == 400

    issued = console.post(f"{page}/passes", {"employee_ids": [employee_id]}, token_from=page)
    assert issued.status_code == 303
    pass_id = re.search(r'action="/console/passes/([0-9a-f]{32})/revoke"', console.get(page).text).group(1)
    control = console.post(f"/console/passes/{pass_id}/revoke", {"reason": "離\x01職"}, token_from=page)
    assert control.status_code == 400 and "原因：" in control.text
    db.expire_all()
    assert db.scalars(select(Pass)).one().revoked_at is None

    refused = super_console.post(
        "/console/devices/enrolment", {"station_id": "0"}, token_from="/console/devices"
    )
    assert refused.status_code == 400 and "station_id" in refused.text
    assert db.scalars(select(EnrolmentToken)).all() == []
    device = Device(id=str(uuid.uuid4()), name="一號", public_key=secrets.token_bytes(32), station_id=None)
    db.add(device)
    db.commit()
    bad_reason = super_console.post(
        f"/console/devices/{device.id}/revoke", {"reason": "遺\x00失"}, token_from="/console/devices"
    )
    assert bad_reason.status_code == 400 and "reason" in bad_reason.text
    db.refresh(device)
    assert device.revoked_at is None


def test_flow2_edit_and_delete_a_station_admin(super_console, db):
    super_console.post(
        "/console/stations/admins",
        {"name": "林警官", "mobile": "0922000001", "national_id": "A123456789"},
        token_from="/console/stations",
    )
    admin = db.scalars(select(User).where(User.mobile == "+886922000001")).one()
    form = f"/console/stations/admins/{admin.id}"
    assert "林*官" in super_console.get(form).text
    bad = super_console.post(form, {"mobile": "not-a-mobile"})
    assert bad.status_code == 400 and 'value="not-a-mobile"' in bad.text  # the edit form keeps it
    assert "not-a-mobile" not in bad.text.split('role="status">')[1].split("</p>")[0]  # not in the message
    edited = super_console.post(form, {"name": "林大官", "mobile": ""})
    assert edited.status_code == 303
    db.refresh(admin)
    assert admin.name == "林大官" and admin.mobile == "+886922000001"
    deleted = super_console.post(f"{form}/delete", {"confirmed": "1"}, token_from="/console/stations")
    assert deleted.status_code == 303
    db.expire_all()
    assert db.scalars(select(User).where(User.mobile == "+886922000001")).first() is None


def test_registrations_waiting_for_review(super_console, hub, client, sms, db):
    hub.register_enterprise()
    code = hub.request_code("+886933000009", "enterprise_registration")
    again = hub.client.post(
        "/api/v1/enterprises/register",
        json={
            "company_name": XSS[:60],
            "ubn": "28010606",
            "admin_name": "冒名者",
            "admin_mobile": "+886933000009",
            "code": code,
        },
    )
    assert again.status_code in (200, 201, 202), again.text
    page = super_console.get("/console/registrations")
    assert page.status_code == 200 and "28010606" in page.text and "冒*者" in page.text
    assert "<script>alert(1)" not in page.text
    claim_id = re.search(r'action="/console/registrations/(\d+)"', page.text).group(1)
    decided = super_console.post(
        f"/console/registrations/{claim_id}", {"decision": "refuse"}, token_from="/console/registrations"
    )
    assert decided.status_code == 303
    assert (
        f'action="/console/registrations/{claim_id}"' not in super_console.get("/console/registrations").text
    )
    again = super_console.post(
        f"/console/registrations/{claim_id}", {"decision": "approve"}, token_from="/console/registrations"
    )
    assert again.status_code == 409  # decided once
    console, _org = _enterprise_console(
        hub, client, sms, mobile="+886933000002", ubn="04595257", name="別家股份有限公司"
    )
    assert console.get("/console/registrations").status_code == 403
