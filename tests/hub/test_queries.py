"""Registers: passes by time/enterprise/person, checks by officer, visits by venue; masked by default,
unmasked only with the permission and audited; CSV and .xlsx export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from hub.models.audit import AuditEvent
from tests.hub.hubkit import bearer


@pytest.fixture
def registry(hub, client, keys_dir):
    sup = hub.super_admin_token()
    token_a, org_a = hub.register_enterprise()
    token_b, org_b = hub.register_enterprise(mobile="+886933000002", ubn="04595257", name="另一家公司")
    people = [
        (token_a, org_a, "陳大明", "0912345678", "A123456789"),
        (token_a, org_a, "林美玲", "0923456789", "B220386041"),
        (token_b, org_b, "歐陽志遠", "0934567890", "F131234569"),
    ]
    passes = []
    for token, org, name, mobile, nid in people:
        e = client.post(
            f"/api/v1/enterprises/{org['id']}/employees",
            json={"name": name, "mobile": mobile, "national_id": nid},
            headers=bearer(token),
        ).json()
        p = client.post(
            f"/api/v1/enterprises/{org['id']}/employees/{e['id']}/passes", json={}, headers=bearer(token)
        )
        assert p.status_code == 201, p.text
        passes.append(p.json())
    return {"super": sup, "a": (token_a, org_a), "b": (token_b, org_b), "passes": passes}


def _rows(r):
    assert r.status_code == 200, r.text
    return r.json()["rows"]


def test_pass_register_filters_and_masks(client, registry, hub):
    sup = registry["super"]
    rows = _rows(client.get("/api/v1/queries/passes", headers=bearer(sup)))
    assert len(rows) == 3
    assert {r["holder_name"] for r in rows} == {"陳*明", "林*玲", "歐**遠"}
    assert {r["national_id"] for r in rows} == {"A12*4*6*8*", "B22*3*6*4*", "F13*2*4*6*"}
    assert all("*" in r["mobile"] for r in rows)
    org_b = registry["b"][1]["id"]
    assert [
        r["holder_name"]
        for r in _rows(client.get(f"/api/v1/queries/passes?enterprise_id={org_b}", headers=bearer(sup)))
    ] == ["歐**遠"]
    for person in ("A123456789", "a123456789", "0912-345-678", "陳大明"):
        found = _rows(client.get("/api/v1/queries/passes", params={"person": person}, headers=bearer(sup)))
        assert [r["holder_name"] for r in found] == ["陳*明"], person
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert _rows(client.get("/api/v1/queries/passes", params={"from": future}, headers=bearer(sup))) == []
    assert len(_rows(client.get("/api/v1/queries/passes", params={"to": future}, headers=bearer(sup)))) == 3
    r = client.get("/api/v1/queries/passes", params={"from": "2026-01-01T00:00:00"}, headers=bearer(sup))
    assert r.status_code == 422  # a time without a zone is ambiguous
    r = client.get("/api/v1/queries/passes", params={"from": "yesterday"}, headers=bearer(sup))
    assert r.status_code == 422
    r = client.get("/api/v1/queries/passes", params={"person": "x" * 65}, headers=bearer(sup))
    assert r.status_code == 422

    # An enterprise admin sees only its own passes.
    token_a = registry["a"][0]
    assert len(_rows(client.get("/api/v1/queries/passes", headers=bearer(token_a)))) == 2
    assert (
        client.get(f"/api/v1/queries/passes?enterprise_id={org_b}", headers=bearer(token_a)).status_code
        == 403
    )


def test_unmasking_needs_permission_and_is_audited(client, registry, hub, db):
    sup = registry["super"]
    viewer = hub.create_general_admin(sup, "+886911000301", ["query.passes"])
    assert client.get("/api/v1/queries/passes?unmask=true", headers=bearer(viewer)).status_code == 403
    rows = _rows(
        client.get(
            "/api/v1/queries/passes", params={"unmask": "true", "person": "A123456789"}, headers=bearer(sup)
        )
    )
    assert rows[0]["holder_name"] == "陳大明" and rows[0]["national_id"] == "A123456789"
    assert rows[0]["mobile"] == "0912345678"
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "query.passes")))
    unmasked = [e for e in events if e.details["unmasked"]]
    assert len(unmasked) == 1 and unmasked[0].details["results"] == 1
    assert "A123456789" not in str(unmasked[0].details)  # the audit log itself holds no clear ID


def test_exports(client, registry):
    sup = registry["super"]
    r = client.get("/api/v1/queries/passes?format=csv", headers=bearer(sup))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(table) == 3 and {t["holder_name"] for t in table} == {"陳*明", "林*玲", "歐**遠"}
    r = client.get("/api/v1/queries/passes?format=xlsx", headers=bearer(sup))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "pass_id" and len(values) == 4
    assert client.get("/api/v1/queries/passes?format=pdf", headers=bearer(sup)).status_code == 422


def test_check_register_by_officer(client, registry, hub, db):
    from hub.models.devices import Device, Scan

    sup = registry["super"]
    station = hub.create_station(sup)
    admin = hub.station_admin_token(sup, station["id"])
    officers = [
        client.post(
            f"/api/v1/stations/{station['id']}/officers",
            json={"name": n, "officer_number": f"N-{i}", "mobile": m},
            headers=bearer(admin),
        ).json()
        for i, (n, m) in enumerate([("張志明", "0955111222"), ("李文華", "0955333444")])
    ]
    db.add(
        Device(id=str(uuid.uuid4()), name="roadblock-1", public_key=b"\x01" * 32, station_id=station["id"])
    )
    db.flush()
    device_id = db.scalars(select(Device.id)).one()
    now = dt.datetime.now(dt.UTC)
    pass_a = registry["passes"][0]
    for seq, officer in enumerate([officers[0], officers[0], officers[1]]):
        db.add(
            Scan(
                event_id=str(uuid.uuid4()),
                device_id=device_id,
                seq=seq,
                batch_id=str(uuid.uuid4()),
                scanned_at=now - dt.timedelta(minutes=seq),
                received_at=now,
                hlc=f"{seq}",
                ok=True,
                reason="valid",
                pass_id=pass_a["pass_id"],
                officer_id=str(officer["id"]),
                stale=False,
            )
        )
    db.commit()
    rows = _rows(client.get(f"/api/v1/queries/checks?officer_id={officers[0]['id']}", headers=bearer(sup)))
    assert len(rows) == 2
    assert rows[0]["officer_name"] == "張*明" and rows[0]["holder_name"] == "陳*明"
    assert rows[0]["enterprise"] == "艾斯移動股份有限公司"
    # The station admin sees its own station's checks; an enterprise admin none.
    assert len(_rows(client.get("/api/v1/queries/checks", headers=bearer(admin)))) == 3
    assert client.get("/api/v1/queries/checks", headers=bearer(registry["a"][0])).status_code == 403
    r = client.get("/api/v1/queries/checks?format=xlsx", headers=bearer(admin))
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_visit_register(client, registry, hub):
    token_a, org_a = registry["a"]
    venue = client.post(
        f"/api/v1/organisations/{org_a['id']}/venues",
        json={"names": ["總部"], "address": "台北市"},
        headers=bearer(token_a),
    ).json()[0]
    code = hub.request_code("+886912000111", "visit", venue["code"])
    assert (
        client.post(
            "/api/v1/visits", json={"venue_code": venue["code"], "mobile": "+886912000111", "code": code}
        ).status_code
        == 201
    )
    rows = _rows(
        client.get(f"/api/v1/queries/visits?venue_id={venue['id']}", headers=bearer(registry["super"]))
    )
    assert [(r["venue"], r["mobile"]) for r in rows] == [("總部", "09***0***1")]
    assert len(_rows(client.get("/api/v1/queries/visits", headers=bearer(token_a)))) == 1
    assert _rows(client.get("/api/v1/queries/visits", headers=bearer(registry["b"][0]))) == []
    r = client.get(
        "/api/v1/queries/visits", params={"mobile": "0912000111"}, headers=bearer(registry["super"])
    )
    assert len(_rows(r)) == 1
