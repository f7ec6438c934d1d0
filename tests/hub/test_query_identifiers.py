"""The registers searched by what people know: an enterprise by 統一編號 or part of its name, an officer by
警員編號 or name, a person by part of a name or a whole mobile / national ID (always masked in the
answer); a window that holds no time and a term that names nobody are said, never a silent 0 rows."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from hub.models.audit import AuditEvent
from tests.hub.hubkit import bearer


@pytest.fixture
def registry(hub, client, keys_dir):
    sup = hub.super_admin_token()
    token_a, org_a = hub.register_enterprise()  # 艾斯移動股份有限公司, 28010606
    token_b, org_b = hub.register_enterprise(mobile="+886933000002", ubn="04595257", name="另一家公司")
    for token, org, name, mobile, nid in [
        (token_a, org_a, "陳大明", "0912345678", "A123456789"),
        (token_a, org_a, "林美玲", "0923456789", "B220386041"),
        (token_b, org_b, "陳小華", "0934567890", "F131234569"),
    ]:
        e = client.post(
            f"/api/v1/enterprises/{org['id']}/employees",
            json={"name": name, "mobile": mobile, "national_id": nid},
            headers=bearer(token),
        ).json()
        p = client.post(
            f"/api/v1/enterprises/{org['id']}/employees/{e['id']}/passes", json={}, headers=bearer(token)
        )
        assert p.status_code == 201, p.text
    return {"super": sup, "a": (token_a, org_a), "b": (token_b, org_b)}


def _passes(client, token, **params):
    r = client.get("/api/v1/queries/passes", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_an_enterprise_is_found_by_its_ubn_or_part_of_its_name(client, registry):
    sup = registry["super"]
    by_ubn = _passes(client, sup, enterprise="04595257")
    assert [r["enterprise"] for r in by_ubn["rows"]] == ["另一家公司"]
    assert by_ubn["unmatched"] is None
    by_name = _passes(client, sup, enterprise="艾斯")
    assert sorted(r["holder_name"] for r in by_name["rows"]) == ["林*玲", "陳*明"]
    # Full-width digits are the same 統一編號.
    assert len(_passes(client, sup, enterprise="０４５９５２５７")["rows"]) == 1
    # A name or number that names no enterprise says so (not a silent empty register).
    nobody = _passes(client, sup, enterprise="不存在的公司")
    assert nobody["rows"] == [] and nobody["unmatched"] == "enterprise"
    valid_but_unknown = _passes(client, sup, enterprise="12345675")
    assert valid_but_unknown["unmatched"] == "enterprise"
    # A 統一編號 with a wrong check digit is named as such; REST keeps a machine word for it.
    r = client.get("/api/v1/queries/passes", params={"enterprise": "04595258"}, headers=bearer(sup))
    assert r.status_code == 400 and r.json()["error"] == "bad_ubn" and r.json()["field"] == "enterprise"
    # The row id still works for REST clients that use it.
    org_b = registry["b"][1]["id"]
    assert len(_passes(client, sup, enterprise_id=org_b)["rows"]) == 1
    # An enterprise admin searching by name stays inside its own enterprise.
    token_a = registry["a"][0]
    assert _passes(client, token_a, enterprise="另一家")["unmatched"] is None
    assert _passes(client, token_a, enterprise="另一家")["rows"] == []


def test_a_person_by_part_of_a_name_or_a_whole_id_or_mobile_masked(client, registry):
    sup = registry["super"]
    partial = _passes(client, sup, person="陳")
    assert sorted(r["holder_name"] for r in partial["rows"]) == ["陳*明", "陳*華"]
    assert all("*" in r["national_id"] and "*" in r["mobile"] for r in partial["rows"])
    for exact in ("A123456789", "a123456789", "Ａ１２３４５６７８９", "0912-345-678", "+886 912 345 678"):
        rows = _passes(client, sup, person=exact)["rows"]
        assert [r["holder_name"] for r in rows] == ["陳*明"], exact
        assert rows[0]["national_id"] == "A12*4*6*8*" and rows[0]["mobile"] == "09***4***8"
    # A fragment of a number would match people by a piece of their ID: refused, saying what to give.
    for fragment, reason in [("0912", "partial_number"), ("A1234", "partial_number")]:
        r = client.get("/api/v1/queries/passes", params={"person": fragment}, headers=bearer(sup))
        assert r.status_code == 400 and r.json()["error"] == reason, fragment
    r = client.get("/api/v1/queries/passes", params={"person": "A123456788"}, headers=bearer(sup))
    assert r.status_code == 400 and r.json()["error"] == "bad_national_id"
    # LIKE wildcards are text, not patterns.
    assert _passes(client, sup, person="%")["rows"] == []
    assert _passes(client, sup, person="_")["rows"] == []


def test_a_reversed_or_empty_window_is_named(client, registry):
    sup = registry["super"]
    later = "2026-03-02T00:00:00+08:00"
    earlier = "2026-03-01T00:00:00+08:00"
    for path in ("passes", "checks", "visits"):
        r = client.get(f"/api/v1/queries/{path}", params={"from": later, "to": earlier}, headers=bearer(sup))
        assert r.status_code == 400 and r.json()["error"] == "reversed_range", path
        assert r.json()["detail"]
        r = client.get(f"/api/v1/queries/{path}", params={"from": later, "to": later}, headers=bearer(sup))
        assert r.status_code == 400 and r.json()["error"] == "empty_range", path


def test_person_searches_are_audited_without_the_identifier_in_clear(client, registry, db):
    sup = registry["super"]
    _passes(client, sup, person="A123456789")
    _passes(client, sup, person="0912345678")
    _passes(client, sup, person="陳大明", enterprise="艾斯")
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "query.passes")))
    assert len(events) == 3
    logged = " ".join(str(e.details) for e in events)
    for clear in ("A123456789", "0912345678", "陳大明"):
        assert clear not in logged
    assert [e.details["results"] for e in events] == [1, 1, 1]
    assert events[2].details["enterprise"] == "艾斯" and events[2].details["person"] == "陳*明"


@pytest.fixture
def checks(client, registry, hub, db):
    """Two stations, an officer each, and one uploaded check by each officer."""
    from hub.models.devices import Device, Scan

    sup = registry["super"]
    banqiao, sanchong = hub.create_station(sup), hub.create_station(sup, name="三重分局")
    admin = hub.station_admin_token(sup, banqiao["id"])
    other_admin = hub.station_admin_token(sup, sanchong["id"], mobile="+886922000002")
    officers = []
    for station, token, name, number, mobile in [
        (banqiao, admin, "王志明", "NTP-0002", "0955111222"),
        (sanchong, other_admin, "王大同", "NTP-0003", "0955333444"),
    ]:
        r = client.post(
            f"/api/v1/stations/{station['id']}/officers",
            json={"name": name, "officer_number": number, "mobile": mobile},
            headers=bearer(token),
        )
        assert r.status_code == 201, r.text
        officers.append(r.json())
    device = Device(id=str(uuid.uuid4()), name="roadblock-1", public_key=b"\x01" * 32)
    db.add(device)
    now = dt.datetime.now(dt.UTC)
    for seq, officer in enumerate(officers):
        db.add(
            Scan(
                event_id=str(uuid.uuid4()),
                device_id=device.id,
                seq=seq,
                batch_id=str(uuid.uuid4()),
                scanned_at=now - dt.timedelta(minutes=seq),
                received_at=now,
                hlc=f"{seq}",
                ok=False,
                reason="not_ours",
                officer_id=str(officer["id"]),
                stale=False,
            )
        )
    db.commit()
    return {"super": sup, "admin": admin, "officers": officers}


def _checks(client, token, **params):
    r = client.get("/api/v1/queries/checks", params=params, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_an_officer_is_found_by_badge_or_name(client, checks):
    sup = checks["super"]
    for badge in ("NTP-0002", "ntp-0002", "ＮＴＰ－０００２"):
        rows = _checks(client, sup, officer=badge)["rows"]
        assert [(r["officer_number"], r["officer_name"]) for r in rows] == [("NTP-0002", "王*明")], badge
    assert len(_checks(client, sup, officer="王")["rows"]) == 2
    missing = _checks(client, sup, officer="NTP-9999")
    assert missing["rows"] == [] and missing["unmatched"] == "officer"
    # A station admin searches its own station's officers only: another station's badge names nobody.
    admin = checks["admin"]
    assert [r["officer_number"] for r in _checks(client, admin, officer="王")["rows"]] == ["NTP-0002"]
    assert _checks(client, admin, officer="NTP-0003")["unmatched"] == "officer"
    other = checks["officers"][1]["id"]
    assert client.get(f"/api/v1/queries/checks?officer_id={other}", headers=bearer(admin)).status_code == 403


def test_a_station_admin_cannot_query_the_pass_register(client, checks):
    r = client.get(
        "/api/v1/queries/passes", params={"enterprise": "04595257"}, headers=bearer(checks["admin"])
    )
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
