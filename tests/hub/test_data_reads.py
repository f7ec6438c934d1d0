"""Who read my data (hub.services.data_reads): each person sees exactly the reads of their own personal
data, a page of many included, never a read that concerned only others, and the reader masked; the
footprint page's SMS-proven answer; one read's inclusion proof, for that person only."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from hub.models.audit import AuditEvent
from hub.services import data_reads
from hub.services.errors import NotFound
from hub.services.transparency_check import verify_proof
from hub.services.transparency_log import log_public_key, sign_head
from tests.hub.hubkit import Hub, bearer

A, B, C = "+886912345678", "+886923456789", "+886934567890"  # A and B work at X, C at Y
X_ADMIN, Y_ADMIN, SUPER = "+886933000001", "+886933000002", "+886911000001"
VISITOR = "+886955123456"


@pytest.fixture
def world(hub: Hub, keys_dir: Any) -> dict[str, Any]:
    sup = hub.super_admin_token(SUPER)
    token_x, org_x = hub.register_enterprise(mobile=X_ADMIN)
    token_y, org_y = hub.register_enterprise(mobile=Y_ADMIN, ubn="04595257", name="另一家公司")
    people = [
        (token_x, org_x, "陳大明", "0912345678", "A123456789"),
        (token_x, org_x, "林美玲", "0923456789", "B220386041"),
        (token_y, org_y, "歐陽志遠", "0934567890", "F131234569"),
    ]
    for token, org, name, mobile, nid in people:
        e = hub.client.post(
            f"/api/v1/enterprises/{org['id']}/employees",
            json={"name": name, "mobile": mobile, "national_id": nid},
            headers=bearer(token),
        )
        assert e.status_code == 201, e.text
        p = hub.client.post(
            f"/api/v1/enterprises/{org['id']}/employees/{e.json()['id']}/passes",
            json={},
            headers=bearer(token),
        )
        assert p.status_code == 201, p.text
    return {"super": sup, "x": (token_x, org_x), "y": (token_y, org_y)}


def _reads(hub: Hub, mobile: str) -> list[dict[str, Any]]:
    hub.db.expire_all()
    return [r.shown() for r in data_reads.reads_of(hub.db, mobile)]


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_a_page_of_many_appears_for_each_of_them_and_for_no_one_else(hub: Hub, world: dict[str, Any]) -> None:
    token_x, org_x = world["x"]
    before = {m: _reads(hub, m) for m in (A, B, C)}
    _ok(hub.client.get(f"/api/v1/enterprises/{org_x['id']}/employees", headers=bearer(token_x)))

    for mobile in (A, B):
        new = [r for r in _reads(hub, mobile) if r not in before[mobile]]
        assert [(r["reader"], r["what"], r["unmasked"]) for r in new] == [
            ("艾斯移動股份有限公司 企業管理者 曾*愛", "企業員工名單", False)
        ]
    assert _reads(hub, C) == before[C]  # Y's employee was not on X's list


def test_a_register_query_of_one_person_in_clear_is_theirs_alone(hub: Hub, world: dict[str, Any]) -> None:
    sup = world["super"]
    before_b, before_c = _reads(hub, B), _reads(hub, C)
    rows = _ok(
        hub.client.get(
            "/api/v1/queries/passes", params={"person": "0912345678", "unmask": "true"}, headers=bearer(sup)
        )
    )["rows"]
    assert [r["mobile"] for r in rows] == ["0912345678"]

    latest = _reads(hub, A)[0]
    assert latest["what"] == "通行碼紀錄查詢"
    assert latest["unmasked"] and latest["masking"] == "未遮蔽（完整資料）"
    assert latest["reader"] == "交通管制中心 總管理者 總**者"
    assert latest["at"].endswith("（台北時間）")
    assert _reads(hub, B) == before_b and _reads(hub, C) == before_c

    # a whole register, exported: everyone on it sees it, masked
    exported = hub.client.get("/api/v1/queries/passes", params={"format": "csv"}, headers=bearer(sup))
    assert exported.status_code == 200, exported.text
    for mobile in (A, B, C):
        assert _reads(hub, mobile)[0]["what"] == "通行碼紀錄查詢（匯出 CSV 檔）"
        assert _reads(hub, mobile)[0]["unmasked"] is False


def test_the_entry_keeps_keyed_hashes_never_mobiles_and_the_list_shows_nothing_of_others(
    hub: Hub, world: dict[str, Any]
) -> None:
    token_x, org_x = world["x"]
    _ok(hub.client.get(f"/api/v1/enterprises/{org_x['id']}/employees", headers=bearer(token_x)))
    hub.db.expire_all()
    event = hub.db.scalars(select(AuditEvent).where(AuditEvent.action == "query.employees")).all()[-1]
    stored = json.dumps(event.details, ensure_ascii=False)
    assert len(event.details["subjects"]) == 2
    for mobile in (A, B, "0912345678", "912345678"):
        assert mobile not in stored

    shown = json.dumps(_reads(hub, A), ensure_ascii=False)
    # not B (the other person on the same page), not the reader's mobile, not the entry's hashes or counts
    for secret in ("林", "0923456789", B, "923456789", X_ADMIN, "933000001", "subjects", "results"):
        assert secret not in shown
    for key in event.details["subjects"]:
        assert key not in shown


def test_a_persons_own_reads_are_left_out(hub: Hub, world: dict[str, Any]) -> None:
    token_x, org_x = world["x"]
    # the enterprise admin is also on the list it reads (an admin who is an employee)
    e = hub.client.post(
        f"/api/v1/enterprises/{org_x['id']}/employees",
        json={"name": "曾可愛", "mobile": X_ADMIN, "national_id": "A223456781"},
        headers=bearer(token_x),
    )
    assert e.status_code == 201, e.text
    _ok(hub.client.get(f"/api/v1/enterprises/{org_x['id']}/employees", headers=bearer(token_x)))
    assert _reads(hub, X_ADMIN) == []
    assert _reads(hub, A)[0]["what"] == "企業員工名單"


def test_the_unmask_reason_typed_in_the_console_is_shown(hub: Hub, world: dict[str, Any]) -> None:
    from hub.models.identity import User
    from hub.services import audit, queries
    from hub.services.scope import Scope

    db = hub.db
    admin = db.scalars(select(User).where(User.mobile == SUPER)).one()
    # as the console does it (hub.console.pages_data): the reason, then the read, in one request
    audit.record(db, "personal_data.unmask_reason", actor=admin, register="passes", reason="協助警方調查竊案")
    queries.read_pass_register(db, Scope.of(admin), person="0923456789", unmask=True)
    db.commit()
    assert _reads(hub, B)[0]["reason"] == "協助警方調查竊案"
    assert all(r["reason"] is None for r in _reads(hub, A))


def test_the_footprint_page_answers_visits_and_reads_with_one_sms_code(
    hub: Hub, world: dict[str, Any]
) -> None:
    token_x, org_x = world["x"]
    venue = hub.client.post(
        f"/api/v1/organisations/{org_x['id']}/venues",
        json={"names": ["總部"], "address": "新北市板橋區"},
        headers=bearer(token_x),
    )
    assert venue.status_code == 201, venue.text
    venue_id, code = venue.json()[0]["id"], venue.json()[0]["code"]
    visit_code = hub.request_code(VISITOR, "visit", venue_code=code)
    visited = hub.client.post(
        "/api/v1/visits", json={"venue_code": code, "mobile": VISITOR, "code": visit_code}
    )
    assert visited.status_code == 201, visited.text
    _ok(hub.client.get(f"/api/v1/venues/{venue_id}/visits", headers=bearer(token_x)))

    body = {"mobile": "0955123456", "code": hub.request_code(VISITOR, "footprint")}
    answer = _ok(hub.client.post("/api/v1/footprint/data-reads", json=body))
    assert [v["venue_name"] for v in answer["visits"]] == ["總部"]
    assert [(r["reader"], r["what"]) for r in answer["reads"]] == [
        ("艾斯移動股份有限公司 企業管理者 曾*愛", "實聯碼場所的登記紀錄")
    ]
    in_english = hub.client.post(
        "/api/v1/footprint/data-reads", json=body, headers={"Accept-Language": "en"}
    ).json()
    assert [(r["reader"], r["what"]) for r in in_english["reads"]] == [
        ("艾斯移動股份有限公司 Enterprise admin 曾*愛", "A venue's check-ins")
    ]
    # the same code sent again (a double tap) is the same request: the same answer, nothing more
    # (hub.services.otp.repeated_code); a wrong code gets nothing
    again = hub.client.post("/api/v1/footprint/data-reads", json=body)
    assert again.status_code == 200 and again.json()["visits"] == answer["visits"], again.text
    wrong = {"mobile": "0955123456", "code": "000000"}
    assert hub.client.post("/api/v1/footprint/data-reads", json=wrong).status_code != 200


def test_a_read_can_be_proved_to_its_person_and_to_no_one_else(hub: Hub, world: dict[str, Any]) -> None:
    token_x, org_x = world["x"]
    _ok(hub.client.get(f"/api/v1/enterprises/{org_x['id']}/employees", headers=bearer(token_x)))
    db = hub.db
    db.expire_all()
    event_id = _reads(hub, A)[0]["event_id"]
    sign_head(db)
    db.commit()

    proof = data_reads.proof_of_read(db, A, event_id)
    key = log_public_key(db.info["hub"].settings.keys_dir)
    assert verify_proof(proof, key).ok
    # C was not on that page; an id that is not a read, or none at all, says nothing either
    with pytest.raises(NotFound):
        data_reads.proof_of_read(db, C, event_id)
    login = db.scalars(select(AuditEvent.id).where(AuditEvent.action == "login")).first()
    assert login is not None
    for other in (login, 10**9):
        with pytest.raises(NotFound):
            data_reads.proof_of_read(db, A, other)


def test_reads_older_than_the_retention_window_are_not_shown(hub: Hub, world: dict[str, Any]) -> None:
    import datetime as dt

    token_x, org_x = world["x"]
    _ok(hub.client.get(f"/api/v1/enterprises/{org_x['id']}/employees", headers=bearer(token_x)))
    hub.db.expire_all()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    assert data_reads.reads_of(hub.db, A, now=later) == []
    assert data_reads.reads_of(hub.db, A)
