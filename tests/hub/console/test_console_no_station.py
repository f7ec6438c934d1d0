"""A station admin imported without a station (the import template allows a blank 分局) sees nothing of any
station and is told so in zh-TW; station admin A reaches none of station B's objects; one person (one
mobile) is a station admin once, refused in zh-TW by the service (the console and REST alike)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.models.identity import User
from hub.models.organisations import Organisation
from tests.hub.console.consolekit import Console
from tests.hub.console.test_console_pages import super_console  # noqa: F401
from tests.hub.console.test_console_whitelists import _station_console
from tests.hub.hubkit import bearer, xlsx

NO_ORGANISATION = "您的帳號尚未屬於任何分局或企業"
ENGLISH = "you belong to no organisation"
EXISTS = "這支手機號碼已是警局管理者"


def _stationless_console(super_console, client, sms) -> Console:  # noqa: F811
    added = super_console.post(
        "/console/stations/admins",
        {"name": "林警官", "mobile": "0922000009", "national_id": "A123456789", "station_id": ""},
        token_from="/console/stations",
    )
    assert added.status_code == 303, added.text
    other = TestClient(client.app)
    other.__enter__()
    console = Console(other)
    assert console.sms_login("0922000009", lambda m: sms.code("+886922000009")).status_code == 303
    return console


def test_a_station_admin_without_a_station_sees_nothing_and_is_told_in_zh_tw(super_console, client, sms, db):  # noqa: F811
    # Another station with its own admin: its figures exist, and must not reach the station-less admin.
    _station_console(super_console, client, sms, db, "板橋分局", "0922000001", "B123456780")
    console = _stationless_console(super_console, client, sms)

    board = console.get("/console/")
    assert board.status_code == 200
    assert NO_ORGANISATION in board.text and 'id="no-organisation"' in board.text
    assert "各分局每小時查驗數" not in board.text and "<svg" not in board.text  # no hub-wide figures
    assert "板橋分局" not in board.text

    for path in (
        "/console/queries?kind=checks",
        "/console/queries?kind=checks&format=csv",
        "/console/queries?kind=checks&format=xlsx",
        "/console/devices",
    ):
        answer = console.get(path)
        assert answer.status_code == 403, path
        assert NO_ORGANISATION in answer.text and ENGLISH not in answer.text, path
    assert console.get("/console/roster").status_code == 403
    station_b = db.scalars(select(Organisation.id).where(Organisation.name == "板橋分局")).one()
    for path in (
        f"/console/stations/{station_b}/roster",
        f"/console/stations/{station_b}/officers-template.xlsx",
        f"/console/stations/{station_b}/venues.pdf",
    ):
        assert console.get(path).status_code == 403, path
    in_english = console.client.get("/console/queries?kind=checks", cookies={"checkpass_lang": "en"})
    assert "belongs to no station or enterprise" in in_english.text


def test_station_admin_a_reaches_none_of_station_bs_objects(super_console, client, sms, db):  # noqa: F811
    console_b, station_b = _station_console(
        super_console, client, sms, db, "新莊分局", "0922000002", "C123456781"
    )
    roster_b = f"/console/stations/{station_b}/roster"
    assert (
        console_b.post(
            f"/console/stations/{station_b}/officers",
            {"name": "王警員", "officer_number": "B001", "mobile": "0922000004"},
            token_from=roster_b,
        )
        .headers["location"]
        .startswith(roster_b)
    )
    console_a, station_a = _station_console(
        super_console, client, sms, db, "板橋分局", "0922000001", "B123456780"
    )
    own = f"/console/stations/{station_a}/roster"
    for path in (roster_b, f"/console/stations/{station_b}/officers-template.xlsx"):
        assert console_a.get(path).status_code == 403, path
    # The query form cannot widen a station admin's register to another station either.
    mine = console_a.get(f"/console/queries?kind=checks&officer_id={station_b}")
    assert mine.status_code in (200, 403) and "新莊分局" not in mine.text
    officer_b = console_b.get(roster_b).text.split("/officers/")[1].split('"')[0]
    refused = console_a.post(
        f"/console/stations/{station_b}/officers/{officer_b}/delete", {"confirmed": "1"}, token_from=own
    )
    assert refused.status_code == 403 and "確定" not in refused.text  # refused, not even asked


def test_the_same_mobile_is_a_station_admin_once(super_console, client, sms, db, hub):  # noqa: F811
    form = {"name": "林警官", "mobile": "0922000009", "national_id": "A123456789", "station_id": ""}
    first = super_console.post("/console/stations/admins", form, token_from="/console/stations")
    assert first.status_code == 303
    again = super_console.post("/console/stations/admins", form, token_from="/console/stations")
    assert again.status_code == 409 and EXISTS in again.text
    station = super_console.post("/console/stations", {"name": "板橋分局"})
    assert station.status_code == 303
    station_id = db.scalars(select(Organisation.id).where(Organisation.name == "板橋分局")).one()
    elsewhere = super_console.post(
        "/console/stations/admins", {**form, "station_id": str(station_id)}, token_from="/console/stations"
    )
    assert elsewhere.status_code == 409 and EXISTS in elsewhere.text
    # The refused form keeps what was typed.
    assert 'value="林警官"' in elsewhere.text and 'value="0922000009"' in elsewhere.text

    sheet = xlsx([["姓名", "手機", "身分證", "分局"], ["林警官", "0922-000-009", "A123456789", None]])
    imported = super_console.post(
        "/console/stations/import",
        {},
        files={"file": ("list.xlsx", sheet, "application/octet-stream")},
        token_from="/console/stations",
    )
    assert imported.status_code == 422 and EXISTS in imported.text
    db.expire_all()
    assert len(db.scalars(select(User).where(User.mobile == "+886922000009")).all()) == 1

    rest = client.post(
        "/api/v1/station-admins",
        json={"name": "林警官", "mobile": "0922000009", "national_id": "A123456789"},
        headers=bearer(hub.super_admin_token(mobile="+886911000003")),
    )
    assert rest.status_code == 409 and EXISTS in rest.text
