"""「誰查看了我的資料」 in LINE (hub.line.data_reads): the chat item and the LIFF page's API, for employees
and officers; the reads of the bound person only, the reader masked; nothing for an unbound LINE user,
for a LINE user of the other channel, or for another person's read."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from checkpass_testkit.line_standin import StandIn
from hub.services.transparency_check import verify_proof
from hub.services.transparency_log import log_public_key, sign_head
from tests.hub.hubkit import Hub, SmsOutbox, bearer
from tests.hub.line.linekit import LineChat

ADMIN = "+886933000001"
A = ("王大明", "+886955000001", "F131104093")
B = ("林小華", "+886955000002", "A123456789")
C = ("張美麗", "+886955000003", "B220386041")  # at another enterprise
OFFICER = "+886977000001"


def _bind(chat: LineChat, sms: SmsOutbox, mobile: str, name: str | None = None) -> None:
    assert chat.register(mobile, sms.code, name)[0]["text"].startswith("註冊成功")


def _employee(hub: Hub, token: str, org_id: int, person: tuple[str, str, str]) -> None:
    name, mobile, national_id = person
    added = hub.client.post(
        f"/api/v1/enterprises/{org_id}/employees",
        json={"name": name, "mobile": mobile, "national_id": national_id},
        headers=bearer(token),
    )
    assert added.status_code == 201, added.text


@pytest.fixture
def people(hub: Hub, client: TestClient, standin: StandIn, sms: SmsOutbox, keys_dir: Any) -> dict[str, Any]:
    token, org = hub.register_enterprise(mobile=ADMIN)
    other_token, other = hub.register_enterprise(mobile="+886933000002", ubn="04595257", name="另一家公司")
    _employee(hub, token, org["id"], A)
    _employee(hub, token, org["id"], B)
    _employee(hub, other_token, other["id"], C)
    chats = {}
    for key, person in (("a", A), ("c", C)):
        chats[key] = LineChat(client, standin, "enterprise")
        _bind(chats[key], sms, person[1])
    # the enterprise admin reads its employee list (A and B on it, not C)
    listed = client.get(f"/api/v1/enterprises/{org['id']}/employees", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    return chats


def _liff(client: TestClient, standin: StandIn, chat: LineChat, path: str = "", **body: Any) -> Any:
    token = standin.issue_id_token(chat.user_id)
    return client.post(f"/liff/api/data-reads{path}", json={"id_token": token, **body})


def test_the_chat_item_shows_the_employees_own_reads_masked(
    client: TestClient, standin: StandIn, people: dict[str, Any]
) -> None:
    for answer in (people["a"].tap("a=data_reads"), people["a"].say("查閱紀錄")):
        text = answer[0]["text"]
        assert text.startswith("28 天內有 1 次查閱您的個人資料")
        assert "艾斯移動股份有限公司 企業管理者 曾*愛：企業員工名單，已遮蔽" in text
        for secret in ("0933000001", "933000001", "曾可愛", "林", "0955000002"):
            assert secret not in text
        link = answer[1]["contents"]["footer"]["contents"][0]["action"]["uri"]
        assert link.endswith("/liff/enterprise/data-reads")
    # C was on no page anyone read
    assert people["c"].tap("a=data_reads")[0]["text"] == "28 天內沒有人查閱您的個人資料。"


def test_the_liff_api_answers_the_bound_person_only(
    client: TestClient, standin: StandIn, people: dict[str, Any]
) -> None:
    reads = _liff(client, standin, people["a"])
    assert reads.status_code == 200, reads.text
    [read] = reads.json()["reads"]
    assert read["reader"] == "艾斯移動股份有限公司 企業管理者 曾*愛" and read["what"] == "企業員工名單"
    assert _liff(client, standin, people["c"]).json() == {"reads": []}

    stranger = LineChat(client, standin, "enterprise")  # never bound
    refused = _liff(client, standin, stranger)
    assert refused.status_code == 403 and refused.json()["error"] == "not_bound"
    assert "reads" not in refused.json()
    # A's LINE user in the other channel, where it is not bound: the chat item answers nothing of A
    police = LineChat(client, standin, "police", user_id=people["a"].user_id)
    answer = police.tap("a=data_reads")[0]["text"]
    assert "查閱" not in answer and "曾*愛" not in answer


def test_a_read_is_proved_to_its_person_and_to_no_one_else(
    client: TestClient, standin: StandIn, people: dict[str, Any], db: Any
) -> None:
    event_id = _liff(client, standin, people["a"]).json()["reads"][0]["event_id"]
    waiting = _liff(client, standin, people["a"], "/proof", event_id=event_id)
    assert waiting.status_code == 503 and waiting.json()["message"]  # not in a signed head yet
    sign_head(db)
    db.commit()
    proof = _liff(client, standin, people["a"], "/proof", event_id=event_id)
    assert proof.status_code == 200, proof.text
    assert verify_proof(proof.json(), log_public_key(db.info["hub"].settings.keys_dir)).ok
    # C was not on that page: told nothing, as for an id that does not exist
    for other in (event_id, 10**9):
        refused = _liff(client, standin, people["c"], "/proof", event_id=other)
        assert refused.status_code == 404 and "entry" not in refused.json()


def test_an_officer_sees_the_station_admins_roster_read(
    hub: Hub, client: TestClient, standin: StandIn, sms: SmsOutbox, keys_dir: Any, super_admin_token: str
) -> None:
    station = hub.create_station(super_admin_token)
    admin_token = hub.station_admin_token(super_admin_token, station["id"], mobile="+886922000001")
    added = client.post(
        f"/api/v1/stations/{station['id']}/officers",
        json={"name": "陳警員", "officer_number": "A1001", "mobile": "0977000001"},
        headers=bearer(admin_token),
    )
    assert added.status_code == 201, added.text
    officer = LineChat(client, standin, "police")
    _bind(officer, sms, OFFICER, "陳警員")
    assert officer.tap("a=data_reads")[0]["text"] == "28 天內沒有人查閱您的個人資料。"

    station_admin = LineChat(client, standin, "police")
    _bind(station_admin, sms, "+886922000001", "林警官")
    station_admin.tap("a=duty_roster")
    text = officer.tap("a=data_reads")[0]["text"]
    assert "板橋分局 警局管理者 林*官：值勤員警名單，已遮蔽" in text
    assert "0922000001" not in text
    page = client.get("/liff/police/data-reads")
    assert page.status_code == 200 and '"page": "data_reads"' in page.text
