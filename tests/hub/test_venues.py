"""Venue codes, printable QR, visit recording by mobile + SMS code, footprints and venue visits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from hub.models.venues import Visit
from tests.hub.hubkit import bearer

VISITOR = "+886912000111"


def _apply(client, token, org_id, names, **extra):
    return client.post(
        f"/api/v1/organisations/{org_id}/venues",
        json={"names": names, "address": "台北市大安區敦化南路二段76號5樓", **extra},
        headers=bearer(token),
    )


def _visit(hub, client, venue_code, mobile=VISITOR):
    code = hub.request_code(mobile, "visit", venue_code)
    return client.post("/api/v1/visits", json={"venue_code": venue_code, "mobile": mobile, "code": code})


def test_venue_codes_visits_and_footprint(hub, client, db):
    token, org = hub.register_enterprise()
    r = _apply(client, token, org["id"], ["艾斯總部", "艾斯一廠"], contact_phone="02-2700-1234")
    assert r.status_code == 201, r.text
    hq, plant = r.json()
    assert hq["qr_text"] == f"http://testserver/v/{hq['code']}"
    assert _apply(client, token, org["id"], ["艾斯總部"]).status_code == 409
    for names in (["一二三四五六七八九"], [], ["x"] * 21, [""]):
        assert _apply(client, token, org["id"], names).status_code == 422, names
    assert len(client.get(f"/api/v1/organisations/{org['id']}/venues", headers=bearer(token)).json()) == 2

    png = client.get(f"/api/v1/venues/{hq['id']}/qr.png", headers=bearer(token))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    pdf = client.get(f"/api/v1/organisations/{org['id']}/venues/sheet.pdf", headers=bearer(token))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    public = client.get(f"/api/v1/venue-codes/{hq['code'].lower()}")
    assert public.status_code == 200 and public.json()["name"] == "艾斯總部"
    assert client.get("/api/v1/venue-codes/NOPE123456").status_code == 404

    r = _visit(hub, client, hq["code"])
    assert r.status_code == 201 and r.json()["venue_name"] == "艾斯總部"
    assert _visit(hub, client, plant["code"]).status_code == 201
    assert _visit(hub, client, hq["code"], "+886912000222").status_code == 201
    # A visit needs the visitor's own code.
    code = hub.request_code(VISITOR, "visit", hq["code"])
    r = client.post(
        "/api/v1/visits", json={"venue_code": hq["code"], "mobile": "+886912000222", "code": code}
    )
    assert r.status_code == 400
    r = client.post("/api/v1/visits", json={"venue_code": "NOPE123456", "mobile": VISITOR, "code": code})
    assert r.status_code == 404

    # Visits older than the retention window are outside the footprint.
    db.execute(
        update(Visit)
        .where(Visit.venue_id == plant["id"])
        .values(visited_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=29))
    )
    db.commit()
    code = hub.request_code(VISITOR, "footprint")
    r = client.post("/api/v1/footprint", json={"mobile": VISITOR, "code": code})
    assert r.status_code == 200 and [v["venue_name"] for v in r.json()] == ["艾斯總部"]

    r = client.get(f"/api/v1/venues/{hq['id']}/visits", headers=bearer(token))
    assert r.status_code == 200
    assert sorted(v["mobile"] for v in r.json()) == ["09***0***1", "09***0***2"]
    r = client.get(f"/api/v1/venues/{hq['id']}/visits?unmask=true", headers=bearer(token))
    assert r.status_code == 403

    other_token, _ = hub.register_enterprise(mobile="+886933000002", ubn="04595257", name="另一家公司")
    assert client.get(f"/api/v1/venues/{hq['id']}/visits", headers=bearer(other_token)).status_code == 403
    assert (
        client.get(f"/api/v1/organisations/{org['id']}/venues", headers=bearer(other_token)).status_code
        == 403
    )
    assert client.delete(f"/api/v1/venues/{hq['id']}", headers=bearer(other_token)).status_code == 403
    assert client.delete(f"/api/v1/venues/{hq['id']}", headers=bearer(token)).status_code == 204


def test_application_needs_an_address(hub, client):
    token, org = hub.register_enterprise()
    r = client.post(
        f"/api/v1/organisations/{org['id']}/venues", json={"names": ["總部"]}, headers=bearer(token)
    )
    assert r.status_code == 400 and r.json()["error"] == "address_required"
