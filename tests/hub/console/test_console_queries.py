"""The console's query page as people use it: enterprises by 統一編號 or name, officers by 警員編號, a person
by part of a name; every refusal and every empty answer says why in zh-TW; a station admin's form asks
only what a station admin may ask."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from hub.services.bootstrap import create_super_admin
from tests.hub.console.consolekit import Console
from tests.hub.hubkit import bearer

SUPER = "+886911000001"
PASSWORD = "N3w-password!"


def _message(html: str) -> str:
    found = re.search(r'id="query-(?:error|none)">([^<]*)<', html)
    assert found is not None, "the page says nothing"
    return found.group(1)


@pytest.fixture
def super_console(hub, client, sms, keys_dir):
    create_super_admin(hub.db, SUPER, "總管理者")
    hub.db.commit()
    console = Console(client)
    console.login(SUPER, sms.initial_password(SUPER))
    console.post(
        "/console/password", {"current_password": sms.initial_password(SUPER), "new_password": PASSWORD}
    )
    return console


@pytest.fixture
def issued(hub, keys_dir):
    """Two enterprises (艾斯移動股份有限公司 28010606, 另一家公司 04595257), a pass each."""
    for mobile, ubn, name, person in [
        ("+886933000001", "28010606", "艾斯移動股份有限公司", ("陳大明", "0912345675", "A123456789")),
        ("+886933000002", "04595257", "另一家公司", ("林美玲", "0923456789", "B220386041")),
    ]:
        token, org = hub.register_enterprise(mobile=mobile, ubn=ubn, name=name)
        employee = hub.client.post(
            f"/api/v1/enterprises/{org['id']}/employees",
            json=dict(zip(("name", "mobile", "national_id"), person, strict=True)),
            headers=bearer(token),
        ).json()
        made = hub.client.post(
            f"/api/v1/enterprises/{org['id']}/employees/{employee['id']}/passes",
            json={},
            headers=bearer(token),
        )
        assert made.status_code == 201, made.text


def test_the_identifiers_people_know_find_rows(super_console, issued):
    by_ubn = super_console.get("/console/queries?kind=passes&enterprise=04595257")
    assert by_ubn.status_code == 200 and "林*玲" in by_ubn.text and "陳*明" not in by_ubn.text
    by_name = super_console.get("/console/queries?kind=passes&enterprise=艾斯")
    assert by_name.status_code == 200 and "陳*明" in by_name.text and "林*玲" not in by_name.text
    partial = super_console.get("/console/queries?kind=passes&person=陳")
    assert partial.status_code == 200 and "陳*明" in partial.text and "陳大明" not in partial.text
    by_id = super_console.get("/console/queries?kind=passes&person=A123456789")
    table = by_id.text[by_id.text.index('id="register"') :]
    assert "陳*明" in table and "A12*4*6*8*" in table and "A123456789" not in table


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("enterprise=不存在", "查無符合「不存在」的企業"),
        ("person=王", "查無符合條件的資料"),
        ("enterprise=04595258", "統一編號不正確"),
        ("person=0912", "須完整輸入"),
        ("since=2026-03-02T00:00&until=2026-03-01T00:00", "起始時間晚於結束時間"),
        ("since=2026-03-01T00:00&until=2026-03-01T00:00", "起始與結束時間相同"),
        ("since=yesterday", "時間格式不正確"),
        ("officer=NTP-0002", "不能依員警查詢"),
    ],
)
def test_every_refusal_and_every_empty_answer_says_why(super_console, issued, query, words):
    for headers in ({}, {"HX-Request": "true"}):  # the whole page, and the part htmx swaps in
        answer = super_console.get(f"/console/queries?kind=passes&{query}", headers=headers)
        said = _message(answer.text)
        assert words in said, (query, said)
        assert not said.endswith("：")
        assert 'id="register"' not in answer.text


def test_a_station_admin_form_asks_only_what_a_station_admin_may_ask(super_console, client, sms, hub):
    stations = super_console.post("/console/stations", {"name": "板橋分局"})
    assert stations.status_code in (200, 303)
    station_id = re.search(r'<option value="(\d+)"', super_console.get("/console/stations").text).group(1)
    super_console.post(
        "/console/stations/admins",
        {"name": "林警官", "mobile": "0922000001", "national_id": "A123456789", "station_id": station_id},
        token_from="/console/stations",
    )
    with TestClient(client.app) as other:
        station = Console(other)
        station.sms_login("0922000001", lambda m: sms.code("+886922000001"))
        form = station.get("/console/queries")
        assert form.status_code == 200
        assert 'name="officer"' in form.text
        for hidden in ('name="enterprise"', 'name="person"', 'value="passes"', 'name="unmask"'):
            assert hidden not in form.text, hidden
        refused = station.get("/console/queries?kind=passes&enterprise=04595257")
        assert refused.status_code == 403 and "警局管理者可查詢所屬分局的員警查驗紀錄" in refused.text
        nobody = station.get("/console/queries?kind=checks&officer=NTP-0002")
        assert nobody.status_code == 200 and "查無符合「NTP-0002」的員警" in _message(nobody.text)
        stray = station.get("/console/queries?kind=checks&person=陳")
        assert stray.status_code == 400 and "只能依時間與員警查詢" in _message(stray.text)
