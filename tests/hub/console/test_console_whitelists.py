"""Whitelists in the console: an enterprise's employees (edit, delete, .xlsx import all or nothing, the
template) and a station's duty roster and venue codes, each through the services with the caller's Scope.
From the attacker's side: station admin A on station B's roster, an enterprise admin on another
enterprise's employees and venue codes, and an enterprise admin who has no organisation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.models.identity import User
from hub.models.organisations import Organisation
from hub.models.rosters import Employee, Officer
from hub.models.venues import Venue
from tests.hub.console.consolekit import Console
from tests.hub.console.test_console_pages import XSS, _enterprise_console, super_console  # noqa: F401
from tests.hub.hubkit import xlsx

OFFICER_HEADER = ["姓名", "警員編號", "手機"]
EMPLOYEE_HEADER = ["姓名", "手機", "身分證"]
XLSX_TYPE = "application/octet-stream"


def _station_console(
    admin_console,
    client,
    sms,
    db,
    station: str,
    mobile: str,
    national_id: str,
) -> tuple[Console, int]:
    """A station created by the super admin, its admin added one by one, logged in by SMS."""
    assert admin_console.post("/console/stations", {"name": station}).status_code == 303
    station_id = db.scalars(select(Organisation.id).where(Organisation.name == station)).one()
    added = admin_console.post(
        "/console/stations/admins",
        {"name": "林警官", "mobile": mobile, "national_id": national_id, "station_id": str(station_id)},
        token_from="/console/stations",
    )
    assert added.status_code == 303, added.text
    other = TestClient(client.app)
    other.__enter__()
    console = Console(other)
    e164 = "+886" + mobile[1:]
    done = console.sms_login(mobile, lambda m: sms.code(e164))
    assert done.status_code == 303, done.text
    return console, station_id


def _officer_ids(db, station_id: int) -> list[int]:
    db.expire_all()
    return list(db.scalars(select(Officer.id).where(Officer.station_id == station_id).order_by(Officer.id)))


def test_station_admin_keeps_its_roster_and_venue_codes(super_console, client, sms, db):  # noqa: F811
    console, station_id = _station_console(
        super_console, client, sms, db, "板橋分局", "0922000001", "A123456789"
    )
    assert console.get("/console/roster").headers["location"] == f"/console/stations/{station_id}/roster"
    roster = f"/console/stations/{station_id}/roster"
    added = console.post(
        f"/console/stations/{station_id}/officers",
        {"name": XSS[:40], "officer_number": "A001", "mobile": "0912345675"},
        token_from=roster,
    )
    assert added.status_code == 303, added.text
    shown = console.get(roster).text
    assert "<script>alert(1)" not in shown and "0912345675" not in shown and "A001" in shown
    (officer_id,) = _officer_ids(db, station_id)

    edited = console.post(
        f"/console/stations/{station_id}/officers/{officer_id}",
        {"name": "陳大明", "officer_number": "", "mobile": ""},
        token_from=roster,
    )
    assert edited.status_code == 303, edited.text
    db.expire_all()
    officer = db.get(Officer, officer_id)
    assert officer.name == "陳大明" and officer.officer_number == "A001"  # blank fields stay
    bad_edit = console.post(
        f"/console/stations/{station_id}/officers/{officer_id}", {"mobile": "not-a-mobile"}, token_from=roster
    )
    assert bad_edit.status_code == 400
    # The edit form again, with what was typed in it; the message names the field, never the value.
    assert 'value="not-a-mobile"' in bad_edit.text and 'id="officer-add"' not in bad_edit.text
    assert "not-a-mobile" not in bad_edit.text.split('role="status">')[1].split("</p>")[0]

    template = console.get(f"/console/stations/{station_id}/officers-template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    bad = xlsx([OFFICER_HEADER, ["張警官", "A002", "0922000005"], ["李警官", "A003", "not-a-mobile"]])
    refused = console.post(
        f"/console/stations/{station_id}/officers-import",
        {},
        files={"file": ("roster.xlsx", bad, XLSX_TYPE)},
        token_from=roster,
    )
    assert (
        refused.status_code == 422 and 'id="import-report"' in refused.text and "<td>3</td>" in refused.text
    )
    assert _officer_ids(db, station_id) == [officer_id]  # all or nothing
    cells = xlsx([OFFICER_HEADER, [XSS[:40], "A002", "0922000005"], ["李警官", "A003", "0922000006"]])
    imported = console.submit(
        f"/console/stations/{station_id}/officers-import",
        {},
        files={"file": ("roster.xlsx", cells, XLSX_TYPE)},
        token_from=roster,
    )
    assert imported.status_code == 200 and "已匯入 2 位員警" in imported.text
    assert "<script>alert(1)" not in imported.text
    assert len(_officer_ids(db, station_id)) == 3

    delete = f"/console/stations/{station_id}/officers/{officer_id}/delete"
    asked = console.post(delete, {}, token_from=roster)  # irreversible: asks first, does nothing yet
    assert asked.status_code == 200 and 'id="confirm"' in asked.text and "確定要將員警" in asked.text
    assert officer_id in _officer_ids(db, station_id)
    deleted = console.submit(delete, {"confirmed": "1"}, token_from=roster)
    assert "已將該員警自值勤名單刪除" in deleted.text
    assert officer_id not in _officer_ids(db, station_id)

    applied = console.post(
        f"/console/stations/{station_id}/venues",
        {"names": f"分局大廳,{XSS[:8]}", "address": "新北市板橋區中山路一段"},
        token_from=roster,
    )
    assert applied.status_code == 303, applied.text
    shown = console.get(roster).text
    table = shown[shown.find('id="venues"') :]
    assert "分局大廳" in table and "<script>" not in table and "&lt;script&gt;" in table
    posters = console.get(f"/console/stations/{station_id}/venues.pdf")
    assert posters.status_code == 200 and posters.content[:5] == b"%PDF-"
    venue_id = int(re.search(r'action="/console/venues/(\d+)/delete"', shown).group(1))
    gone = console.post(f"/console/venues/{venue_id}/delete", {"confirmed": "1"}, token_from=roster)
    assert gone.status_code == 303 and gone.headers["location"] == f"{roster}?done=venue_deleted"
    db.expire_all()
    assert db.get(Venue, venue_id) is None


def test_station_admin_a_cannot_touch_station_b(super_console, client, sms, db):  # noqa: F811
    console_a, station_a = _station_console(
        super_console, client, sms, db, "板橋分局", "0922000001", "A123456789"
    )
    console_b, station_b = _station_console(
        super_console, client, sms, db, "三重分局", "0922000002", "B123456780"
    )
    roster_b = f"/console/stations/{station_b}/roster"
    assert (
        console_b.post(
            f"/console/stations/{station_b}/officers",
            {"name": "王警官", "officer_number": "B001", "mobile": "0912345675"},
            token_from=roster_b,
        ).status_code
        == 303
    )
    (officer_b,) = _officer_ids(db, station_b)
    applied = console_b.post(
        f"/console/stations/{station_b}/venues",
        {"names": "大廳", "address": "新北市三重區"},
        token_from=roster_b,
    )
    assert applied.status_code == 303
    venue_b = db.scalars(select(Venue.id).where(Venue.org_id == station_b)).one()

    own = f"/console/stations/{station_a}/roster"
    assert console_a.get(roster_b).status_code == 403
    assert console_a.get(f"/console/stations/{station_b}/officers/{officer_b}").status_code == 403
    edit = console_a.post(
        f"/console/stations/{station_b}/officers/{officer_b}", {"name": "冒名者"}, token_from=own
    )
    assert edit.status_code in (403, 404)
    # station B's officer through station A's own path: not A's officer
    sideways = console_a.post(
        f"/console/stations/{station_a}/officers/{officer_b}", {"name": "冒名者"}, token_from=own
    )
    assert sideways.status_code == 404
    delete = console_a.post(f"/console/stations/{station_b}/officers/{officer_b}/delete", {}, token_from=own)
    assert delete.status_code in (403, 404)
    assert console_a.post(f"/console/venues/{venue_b}/delete", {}, token_from=own).status_code == 403
    imported = console_a.post(
        f"/console/stations/{station_b}/officers-import",
        {},
        files={"file": ("r.xlsx", xlsx([OFFICER_HEADER, ["張警官", "A9", "0922000009"]]), XLSX_TYPE)},
        token_from=own,
    )
    assert imported.status_code == 403
    assert console_a.get(f"/console/stations/{station_b}/officers-template.xlsx").status_code == 403
    assert console_a.get(f"/console/stations/{station_b}/venues.pdf").status_code == 403
    db.expire_all()
    officer = db.get(Officer, officer_b)
    assert officer is not None and officer.name == "王警官"
    assert _officer_ids(db, station_b) == [officer_b]
    assert db.get(Venue, venue_b) is not None


def test_enterprise_admin_edits_deletes_and_imports_employees(super_console, hub, client, sms, db):  # noqa: F811
    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    template = console.get(f"{page}/employees-template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"

    bad = xlsx([EMPLOYEE_HEADER, ["陳大明", "0912345675", "A123456789"], ["林小華", "0912345676", "bad-id"]])
    refused = console.post(
        f"{page}/employees-import", {}, files={"file": ("e.xlsx", bad, XLSX_TYPE)}, token_from=page
    )
    assert (
        refused.status_code == 422 and 'id="import-report"' in refused.text and "<td>3</td>" in refused.text
    )
    db.expire_all()
    assert db.scalars(select(Employee).where(Employee.org_id == org_id)).all() == []  # all or nothing

    good = xlsx(
        [EMPLOYEE_HEADER, [XSS[:40], "0912345675", "A123456789"], ["林小華", "0912345676", "B123456780"]]
    )
    imported = console.submit(
        f"{page}/employees-import", {}, files={"file": ("e.xlsx", good, XLSX_TYPE)}, token_from=page
    )
    assert imported.status_code == 200 and "已匯入 2 位員工" in imported.text
    assert "<script>alert(1)" not in imported.text and "A123456789" not in imported.text
    db.expire_all()
    first, second = db.scalars(
        select(Employee.id).where(Employee.org_id == org_id).order_by(Employee.id)
    ).all()

    form = console.get(f"{page}/employees/{first}")
    assert form.status_code == 200 and "0912345675" not in form.text
    edited = console.post(
        f"{page}/employees/{first}", {"name": "陳大明", "mobile": "", "national_id": ""}, token_from=page
    )
    assert edited.status_code == 303, edited.text
    db.expire_all()
    assert db.get(Employee, first).name == "陳大明"
    clash = console.post(f"{page}/employees/{first}", {"mobile": "0912345676"}, token_from=page)
    assert clash.status_code == 409
    db.expire_all()
    assert db.get(Employee, first).mobile == "+886912345675"  # refused: nothing changed

    deleted = console.post(f"{page}/employees/{second}/delete", {"confirmed": "1"}, token_from=page)
    assert deleted.status_code == 303
    db.expire_all()
    assert db.get(Employee, second) is None


def test_an_enterprise_admin_cannot_touch_another_enterprises_whitelist(super_console, hub, client, sms, db):  # noqa: F811
    console, own = _enterprise_console(hub, client, sms)
    other_console, foreign = _enterprise_console(
        hub, client, sms, mobile="+886933000002", ubn="04595257", name="別家股份有限公司"
    )
    foreign_page = f"/console/enterprises/{foreign}"
    added = other_console.post(
        f"{foreign_page}/employees",
        {"name": "王小明", "mobile": "0912345675", "national_id": "A123456789"},
        token_from=foreign_page,
    )
    assert added.status_code == 303
    applied = other_console.post(
        f"{foreign_page}/venues", {"names": "總部", "address": "新北市板橋區"}, token_from=foreign_page
    )
    assert applied.status_code == 303
    db.expire_all()
    employee = db.scalars(select(Employee).where(Employee.org_id == foreign)).one()
    venue_id = db.scalars(select(Venue.id).where(Venue.org_id == foreign)).one()

    mine = f"/console/enterprises/{own}"
    assert console.get(f"{foreign_page}/employees/{employee.id}").status_code == 403
    assert (
        console.post(
            f"{foreign_page}/employees/{employee.id}", {"name": "冒名者"}, token_from=mine
        ).status_code
        == 403
    )
    assert (
        console.post(f"{mine}/employees/{employee.id}", {"name": "冒名者"}, token_from=mine).status_code
        == 404
    )
    assert (
        console.post(f"{foreign_page}/employees/{employee.id}/delete", {}, token_from=mine).status_code == 403
    )
    assert console.post(f"{mine}/employees/{employee.id}/delete", {}, token_from=mine).status_code == 404
    assert console.post(f"/console/venues/{venue_id}/delete", {}, token_from=mine).status_code == 403
    assert console.get(f"{foreign_page}/employees-template.xlsx").status_code == 403
    sheet = xlsx([EMPLOYEE_HEADER, ["林小華", "0912345676", "B123456780"]])
    assert (
        console.post(
            f"{foreign_page}/employees-import",
            {},
            files={"file": ("e.xlsx", sheet, XLSX_TYPE)},
            token_from=mine,
        ).status_code
        == 403
    )
    db.expire_all()
    assert db.get(Employee, employee.id).name == "王小明"
    assert len(db.scalars(select(Employee).where(Employee.org_id == foreign)).all()) == 1
    assert db.get(Venue, venue_id) is not None


def test_an_admin_without_an_organisation_gets_nothing(super_console, hub, client, sms, db):  # noqa: F811
    """An enterprise admin whose organisation is gone (org_id empty) reaches no whitelist at all."""
    console, org_id = _enterprise_console(hub, client, sms)
    page = f"/console/enterprises/{org_id}"
    token_page = console.get(page)  # the form token, taken while the organisation was still theirs
    admin = db.scalars(select(User).where(User.role == "enterprise_admin")).one()
    admin.org_id = None
    db.commit()
    assert console.get("/console/enterprises").status_code in (403, 404)
    assert console.get(page).status_code == 403
    assert console.get("/console/roster").status_code == 403
    from tests.hub.console.consolekit import ORIGIN, csrf_of

    posted = console.client.post(
        f"{page}/employees",
        data={
            "csrf": csrf_of(token_page.text),
            "name": "王小明",
            "mobile": "0912345675",
            "national_id": "A123456789",
        },
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )
    assert posted.status_code == 403
    db.expire_all()
    assert db.scalars(select(Employee).where(Employee.org_id == org_id)).all() == []


def test_the_roster_forms_are_the_kinds_fields_in_either_language(super_console, client, sms, db):  # noqa: F811
    """The roster's table, add form and edit form are written once for every whitelist, from the kind's
    fields: each field labelled in the page's language, what was typed kept after a refusal."""
    console, station_id = _station_console(
        super_console, client, sms, db, "三重分局", "0922000003", "A123456789"
    )
    roster = f"/console/stations/{station_id}/roster"
    added = console.post(
        f"/console/stations/{station_id}/officers",
        {"name": "陳大明", "officer_number": "A001", "mobile": "0912345675"},
        token_from=roster,
    )
    assert added.status_code == 303, added.text
    (officer_id,) = _officer_ids(db, station_id)
    for language, labels in (
        ("zh-TW", ["姓名", "警員編號", "手機號碼"]),
        ("en", ["Name", "Officer number", "Mobile"]),
    ):
        console.client.cookies.set("checkpass_lang", language)
        page = console.get(roster).text
        header = re.search(r'<table class="list" id="officers"><thead><tr>(.*?)</tr>', page, re.S)
        assert header is not None and re.findall(r"<th>([^<]+)</th>", header.group(1)) == labels, language
        form = console.get(f"/console/stations/{station_id}/officers/{officer_id}").text
        assert all(f">{label}<input" in form for label in labels), language
        assert "陳*明" in form and "A001" in form and "0912345675" not in form  # masked, whoever reads
    # a refused add shows the form again with what was typed (the fields' names are the kind's)
    refused = console.post(
        f"/console/stations/{station_id}/officers",
        {"name": "林小華", "officer_number": "A001", "mobile": "0912345676"},
        token_from=roster,
    )
    assert (
        refused.status_code == 409
        and 'value="林小華"' in refused.text
        and 'value="0912345676"' in refused.text
    )
