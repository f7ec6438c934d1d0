"""The ID-card check from a checkpoint device (`POST /officers/id-check`, hub.services.id_card_check):
whether a national ID holds a valid pass now, masked, recorded as that officer's check, audited and
throttled per officer; refused for anyone not logged in on the device as one of its station's officers."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.identity import is_valid_national_id
from hub.db import utcnow
from hub.models.audit import AuditEvent
from hub.models.devices import Device, Scan
from hub.models.identity import Role
from hub.models.passes import Pass
from tests.hub.hubkit import Hub, bearer
from tests.hub.test_devices_support import (
    API,
    EnrolledDevice,
    auth_headers,
    enrol_device,
    make_officer,
    make_station,
)


def national_id(stem: str) -> str:
    return next(stem + d for d in "0123456789" if is_valid_national_id(stem + d))


HOLDER = national_id("F13110409")
REVOKED = national_id("A12345678")
EXPIRED = national_id("H11111111")
NOBODY = national_id("B12222222")
OFFICER_MOBILE = "+886977000001"


def _employee_with_pass(
    client: TestClient, token: str, org_id: int, name: str, mobile: str, nid: str
) -> dict:
    employee = client.post(
        f"{API}/enterprises/{org_id}/employees",
        json={"name": name, "mobile": mobile, "national_id": nid},
        headers=bearer(token),
    )
    assert employee.status_code == 201, employee.text
    issued = client.post(
        f"{API}/enterprises/{org_id}/employees/{employee.json()['id']}/passes", json={}, headers=bearer(token)
    )
    assert issued.status_code == 201, issued.text
    return issued.json()


@pytest.fixture
def world(hub: Hub, client: TestClient, db: Session, sms: Any, keys_dir: Any) -> dict[str, Any]:
    token, org = hub.register_enterprise()
    valid = _employee_with_pass(client, token, org["id"], "王大明", "0955000001", HOLDER)
    revoked = _employee_with_pass(client, token, org["id"], "李小華", "0955000002", REVOKED)
    assert (
        client.post(
            f"{API}/passes/{revoked['pass_id']}/revoke", json={"reason": "離職"}, headers=bearer(token)
        ).status_code
        == 200
    )
    expired = _employee_with_pass(client, token, org["id"], "張三豐", "0955000003", EXPIRED)
    row = db.scalars(select(Pass).where(Pass.pass_id == expired["pass_id"])).one()
    # the pass's end has come (what 28 days would do)
    row.not_before, row.expires_at = utcnow() - dt.timedelta(days=29), utcnow() - dt.timedelta(days=1)
    db.commit()
    station = make_station(db, "板橋分局")
    other_station = make_station(db, "三重分局")
    officer = make_officer(db, station, "陳警員", OFFICER_MOBILE)
    stranger = make_officer(db, other_station, "林警員", "+886977000002", number="B001")
    device = enrol_device(client, auth_headers(db, Role.STATION_ADMIN, org_id=station))
    _login(client, sms, device, "陳警員", OFFICER_MOBILE)
    return {
        "org": org,
        "valid": valid,
        "officer": officer,
        "stranger": stranger,
        "device": device,
        "station": station,
        "other_station": other_station,
    }


def _login(client: TestClient, sms: Any, device: EnrolledDevice, name: str, mobile: str) -> None:
    started = client.post(
        f"{API}/officers/login/start", json={"device_id": device.device_id, "name": name, "mobile": mobile}
    )
    assert started.status_code == 200, started.text
    verified = client.post(
        f"{API}/officers/login/verify",
        json={"device_id": device.device_id, "mobile": mobile, "code": sms.code(mobile)},
    )
    assert verified.status_code == 200, verified.text


def _body(device: EnrolledDevice, officer_id: int | str, nid: str, **over: Any) -> bytes:
    doc = {
        "device_id": device.device_id,
        "officer_id": str(officer_id),
        "national_id": nid,
        "sent_at": time.time(),
    }
    doc.update(over)
    return json.dumps(doc).encode()


def _ask(client: TestClient, device: EnrolledDevice, body: bytes, *, key: Any = None) -> Any:
    signature = (key or device.key).sign(body)
    return client.post(
        f"{API}/officers/id-check",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Device-Id": device.device_id,
            "X-Device-Signature": base64.b64encode(signature).decode(),
        },
    )


def _check(client: TestClient, world: dict[str, Any], nid: str) -> Any:
    return _ask(client, world["device"], _body(world["device"], world["officer"], nid))


def _scans(db: Session) -> list[Scan]:
    db.expire_all()
    return list(db.scalars(select(Scan).order_by(Scan.seq)))


def _audits(db: Session, action: str = "check.id_card") -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_valid_pass_is_found_by_the_id_masked_and_recorded(
    client: TestClient, db: Session, world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    typed = f" {HOLDER[:4].lower()}-{HOLDER[4:]} "  # as typed on a phone keyboard
    response = _check(client, world, typed)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["status"] == "valid"
    assert body["message"] == "持有有效通行碼，核准通行"
    assert body["holder_masked"] == "王*明"
    assert body["national_id_masked"] != HOLDER and body["national_id_masked"][0] == HOLDER[0]
    assert "*" in body["national_id_masked"]
    assert body["organisation"] == world["org"]["name"]
    assert body["expires_at"] > time.time()
    # the check register: that officer's check, at that officer's station, for that pass
    [scan] = _scans(db)
    assert scan.event_id == body["event_id"]
    assert (scan.ok, scan.reason) == (True, "id_card:valid")
    assert scan.officer_id == str(world["officer"]) and scan.pass_id == world["valid"]["pass_id"]
    register = db.get(Device, scan.device_id)
    assert register is not None and register.station_id == world["station"]
    assert register.id != world["device"].device_id  # the device's own seq numbers stay its own
    [event] = _audits(db)
    assert event.target == f"officer:{world['officer']}"
    assert event.details["result"] == "valid" and event.details["device_id"] == world["device"].device_id
    # the ID is nowhere in clear: not in the answer, the audit row or the log
    assert HOLDER not in response.text and HOLDER not in json.dumps(event.details)
    assert HOLDER not in caplog.text and HOLDER.lower() not in caplog.text


@pytest.mark.parametrize(
    ("nid", "status", "holder"),
    [(REVOKED, "revoked", "李*華"), (EXPIRED, "expired", "張*豐"), (NOBODY, "none", None)],
)
def test_revoked_expired_and_no_pass_are_refused_and_recorded(
    client: TestClient, db: Session, world: dict[str, Any], nid: str, status: str, holder: str | None
) -> None:
    response = _check(client, world, nid)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False and body["status"] == status and body["holder_masked"] == holder
    assert "不予通行" in body["message"]
    [scan] = _scans(db)
    assert (scan.ok, scan.reason) == (False, f"id_card:{status}")
    assert _audits(db)[0].details["result"] == status


def test_a_new_valid_pass_wins_over_an_older_revoked_one(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    # the holder's earlier pass was revoked when this one was issued; the answer is the valid one
    row = db.scalars(select(Pass).where(Pass.pass_id == world["valid"]["pass_id"])).one()
    db.add(
        Pass(
            **{
                c: getattr(row, c)
                for c in (
                    "org_id",
                    "employee_id",
                    "holder_name",
                    "holder_mobile",
                    "national_id_hash",
                    "masked_national_id",
                    "kind",
                    "issuer_kid",
                    "text",
                    "not_before",
                    "expires_at",
                )
            },
            pass_id="0" * 32,
            serial=row.serial + 1000,
            issued_at=row.issued_at + dt.timedelta(seconds=1),
            revoked_at=utcnow(),
        )
    )
    db.commit()
    assert _check(client, world, HOLDER).json()["status"] == "valid"


@pytest.mark.parametrize(
    "typed", ["F13110409", "F131104090X", "F131104091" if not HOLDER.endswith("1") else "F131104092", ""]
)
def test_an_almost_right_id_is_refused_in_zh_tw_terms_and_nothing_recorded(
    client: TestClient, db: Session, world: dict[str, Any], typed: str
) -> None:
    response = _check(client, world, typed)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_national_id"
    assert _scans(db) == [] and _audits(db) == []


def test_another_stations_officer_on_this_device_is_refused(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    response = _ask(client, world["device"], _body(world["device"], world["stranger"], HOLDER))
    assert response.status_code == 403 and response.json()["error"] == "not_officer"
    assert _scans(db) == [] and _audits(db) == []


@pytest.mark.parametrize("officer_id", ["999999", "abc", ""])
def test_an_unknown_officer_is_refused(
    client: TestClient, db: Session, world: dict[str, Any], officer_id: str
) -> None:
    response = _ask(client, world["device"], _body(world["device"], officer_id, HOLDER))
    assert response.status_code == 403
    assert _scans(db) == [] and _audits(db) == []


def test_an_officer_of_the_station_not_logged_in_on_this_device_is_refused(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    colleague = make_officer(db, world["station"], "黃警員", "+886977000003", number="A002")
    response = _ask(client, world["device"], _body(world["device"], colleague, HOLDER))
    assert response.status_code == 403 and _scans(db) == []


def test_a_request_not_signed_by_the_device_or_replayed_later_is_refused(
    client: TestClient, db: Session, world: dict[str, Any]
) -> None:
    from crypto.keys import KeyPair

    device = world["device"]
    forged = _ask(client, device, _body(device, world["officer"], HOLDER), key=KeyPair.generate())
    assert forged.status_code == 401
    old = _ask(client, device, _body(device, world["officer"], HOLDER, sent_at=time.time() - 600))
    assert old.status_code == 401 and old.json()["error"] == "stale_request"
    assert _scans(db) == []


def test_a_revoked_device_is_refused(client: TestClient, db: Session, world: dict[str, Any]) -> None:
    row = db.get(Device, world["device"].device_id)
    assert row is not None
    row.revoked_at = utcnow()
    db.commit()
    assert _check(client, world, HOLDER).status_code == 403
    assert _scans(db) == []


def test_checks_are_throttled_per_officer_and_the_refusal_audited(
    app: Any, client: TestClient, db: Session, world: dict[str, Any], settings: Any, sms: Any
) -> None:
    app.state.context.settings = settings.model_copy(update={"id_card_checks_per_hour": 3})
    try:
        for _ in range(3):
            r = _check(client, world, HOLDER)
            assert r.status_code == 200, r.text
        refused = _check(client, world, NOBODY)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"] == "id_check_throttled"
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3601
        assert len(_scans(db)) == 3 and len(_audits(db)) == 3
        [throttled] = _audits(db, "check.id_card.throttled")
        assert throttled.target == f"officer:{world['officer']}"
        # another officer of the station, on another device, still has their own allowance
        colleague_device = enrol_device(client, auth_headers(db, Role.STATION_ADMIN, org_id=world["station"]))
        colleague = make_officer(db, world["station"], "黃警員", "+886977000003", number="A002")
        _login(client, sms, colleague_device, "黃警員", "+886977000003")
        ok = _ask(client, colleague_device, _body(colleague_device, colleague, HOLDER))
        assert ok.status_code == 200, ok.text
    finally:
        app.state.context.settings = settings


def test_two_concurrent_checks_cannot_both_take_the_last_allowance(
    app: Any, client: TestClient, db: Session, world: dict[str, Any], settings: Any
) -> None:
    app.state.context.settings = settings.model_copy(update={"id_card_checks_per_hour": 1})
    try:
        bodies = [_body(world["device"], world["officer"], nid) for nid in (HOLDER, NOBODY)]
        with ThreadPoolExecutor(2) as pool:
            codes = sorted(
                r.status_code for r in pool.map(lambda b: _ask(client, world["device"], b), bodies)
            )
        assert codes == [200, 429]
        assert len(_scans(db)) == 1
    finally:
        app.state.context.settings = settings
