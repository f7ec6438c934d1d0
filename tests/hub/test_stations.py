"""Stations, station admins (one by one and .xlsx batch), first login, duty whitelist, officer login."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.models.audit import AuditEvent
from hub.models.identity import User
from tests.hub.hubkit import bearer, officer_session, upload, xlsx

ADMIN_HEADER = ["姓名", "手機", "身分證"]


def _station_admins(client, token):
    r = client.get("/api/v1/station-admins", headers=bearer(token))
    assert r.status_code == 200
    return r.json()


def test_station_admin_crud_and_first_login(hub, client, sms):
    sup = hub.super_admin_token()
    station = hub.create_station(sup)
    assert station["contact_phone_masked"]  # a landline is a valid contact number
    r = client.post(
        "/api/v1/station-admins",
        json={
            "name": "林警官",
            "mobile": "0922000001",
            "national_id": "a123456789",
            "station_id": station["id"],
        },
        headers=bearer(sup),
    )
    assert r.status_code == 201, r.text
    admin = r.json()
    assert admin == {
        "id": admin["id"],
        "name_masked": "林*官",
        "mobile_masked": "09***0***1",
        "national_id_masked": "A12*4*6*8*",
        "station_id": station["id"],
        "registered": False,
    }
    # The national ID is not in the database in clear.
    stored = hub.db.get(User, admin["id"])
    assert (
        b"A123456789" not in (stored.national_id_ciphertext or b"")
        and "A123456789" not in stored.national_id_hash
    )
    # First login by SMS code registers them.
    token = hub.sms_login("+886922000001")
    assert _station_admins(client, sup)[0]["registered"] is True
    assert client.get("/api/v1/auth/me", headers=bearer(token)).json()["org_id"] == station["id"]

    r = client.patch(f"/api/v1/station-admins/{admin['id']}", json={"name": "林大警官"}, headers=bearer(sup))
    assert r.status_code == 200 and r.json()["name_masked"] == "林**官"
    r = client.patch(
        f"/api/v1/station-admins/{admin['id']}", json={"national_id": "A123456788"}, headers=bearer(sup)
    )
    assert r.status_code == 422
    dup = client.post(
        "/api/v1/station-admins",
        json={
            "name": "林警官",
            "mobile": "0922000001",
            "national_id": "A123456789",
            "station_id": station["id"],
        },
        headers=bearer(sup),
    )
    assert dup.status_code == 409
    assert client.delete(f"/api/v1/station-admins/{admin['id']}", headers=bearer(sup)).status_code == 204
    assert _station_admins(client, sup) == []
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_station_admin_registers_own_station(hub, client):
    sup = hub.super_admin_token()
    r = client.post(
        "/api/v1/station-admins",
        json={"name": "林警官", "mobile": "0922000001", "national_id": "A123456789"},
        headers=bearer(sup),
    )
    assert r.status_code == 201
    token = hub.sms_login("+886922000001")
    r = client.post(
        "/api/v1/stations", json={"name": "新莊分局", "address": "新北市新莊區"}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    assert client.get("/api/v1/auth/me", headers=bearer(token)).json()["org_id"] == r.json()["id"]
    again = client.post("/api/v1/stations", json={"name": "另一分局"}, headers=bearer(token))
    assert again.status_code == 409


def test_batch_import_all_or_nothing(hub, client):
    sup = hub.super_admin_token()
    station = hub.create_station(sup)
    good = xlsx(
        [
            ADMIN_HEADER + ["分局"],
            ["王小明", "0922000001", "A123456789", "板橋分局"],
            ["李美華", "0922-000-002", "B220386041", None],
            [None, None, None, None],
            ["張三", 922000003, "F131234569", "板橋分局"],
        ]
    )  # a mobile typed as a number loses its 0
    r = client.post("/api/v1/station-admins/import", files=upload(good), headers=bearer(sup))
    assert r.status_code == 201, r.text
    assert r.json() == {"imported": 3}
    admins = _station_admins(client, sup)
    assert sorted(a["mobile_masked"] for a in admins) == ["09***0***1", "09***0***2", "09***0***3"]
    assert {a["station_id"] for a in admins} == {station["id"], None}

    bad = xlsx(
        [
            ADMIN_HEADER + ["分局"],
            ["趙六", "0922000004", "H123456786", None],  # fine on its own
            ["錢七", "12345", "C123456781", None],  # bad mobile
            ["孫八", "0922000006", "A123456788", None],  # bad checksum
            ["", "0922000007", "D123456782", None],  # no name
            ["周九", "0922000004", "E123456783", None],  # same mobile as row 2
            ["吳十", "0922000008", "G123456785", "不存在分局"],  # unknown station
            ["王小明", "0922000001", "J123456787", "板橋分局"],
        ]
    )  # already imported
    r = client.post("/api/v1/station-admins/import", files=upload(bad), headers=bearer(sup))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "import_rejected" and body["detail"]["rows"] == 7
    by_row = {(e["row"], e["field"]) for e in body["detail"]["errors"]}
    assert {
        (3, "mobile"),
        (4, "national_id"),
        (5, "name"),
        (6, "mobile"),
        (7, "station"),
        (8, "mobile"),
    } <= by_row
    assert all(e["row"] != 2 for e in body["detail"]["errors"])
    assert "A123456788" not in r.text and "12345" not in r.text  # the report does not echo personal data
    assert len(_station_admins(client, sup)) == 3  # nothing half-imported
    rejected = hub.db.scalar(select(func.count()).where(AuditEvent.action == "import.rejected"))
    assert rejected == 1


def test_corrupt_and_wrong_uploads(hub, client, settings):
    sup = hub.super_admin_token()
    cases = [
        (b"PK\x03\x04 this is not really a zip", 400, "bad_spreadsheet"),
        (b"", 400, "bad_spreadsheet"),
        (b"name,mobile\n", 400, "bad_spreadsheet"),
        (xlsx([["foo", "bar"], ["x", "y"]]), 400, "bad_spreadsheet"),  # required columns missing
        (xlsx([ADMIN_HEADER]), 400, "bad_spreadsheet"),  # header only
    ]
    for data, status, reason in cases:
        r = client.post("/api/v1/station-admins/import", files=upload(data), headers=bearer(sup))
        assert r.status_code == status, (data[:20], r.text)
        assert r.json()["error"] == reason
    r = client.post(
        "/api/v1/station-admins/import",
        files={"file": ("a.txt", b"hello", "text/plain")},
        headers=bearer(sup),
    )
    assert r.status_code == 415
    big = b"0" * (settings.max_upload_bytes + 10)
    r = client.post("/api/v1/station-admins/import", files=upload(big), headers=bearer(sup))
    assert r.status_code == 413
    r = client.post("/api/v1/station-admins/import", headers=bearer(sup))
    assert r.status_code == 422
    assert _station_admins(client, sup) == []


def test_duty_officer_whitelist_and_officer_login(hub, client, sms):
    sup = hub.super_admin_token()
    station = hub.create_station(sup)
    other = hub.create_station(sup, "三重分局")
    admin = hub.station_admin_token(sup, station["id"])
    base = f"/api/v1/stations/{station['id']}/officers"
    r = client.post(
        base,
        json={"name": "張志明", "officer_number": "NTP-0001", "mobile": "0955111222"},
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    officer = r.json()
    assert officer["name_masked"] == "張*明" and officer["officer_number"] == "NTP-0001"
    for body in (
        {"name": "李", "officer_number": "NTP 0002", "mobile": "0955111333"},  # space in number
        {"name": "李", "officer_number": "NTP-0002", "mobile": "02-2960-3456"},  # landline
        {"name": "李" * 65, "officer_number": "NTP-0002", "mobile": "0955111333"},
    ):
        assert client.post(base, json=body, headers=bearer(admin)).status_code == 422
    assert (
        client.post(
            base,
            json={"name": "李", "officer_number": "NTP-0001", "mobile": "0955111333"},
            headers=bearer(admin),
        ).status_code
        == 409
    )
    # Another station's admin cannot see or edit this whitelist.
    assert client.get(f"/api/v1/stations/{other['id']}/officers", headers=bearer(admin)).status_code == 403

    batch = xlsx(
        [
            ["姓名", "警員編號", "手機"],
            ["李文華", "NTP-0002", "0955333444"],
            ["陳建國", "NTP-0003", "0955555666"],
        ]
    )
    r = client.post(f"{base}/import", files=upload(batch), headers=bearer(admin))
    assert r.status_code == 201 and r.json() == {"imported": 2}
    bad = xlsx(
        [["姓名", "警員編號", "手機"], ["周", "NTP-0009", "0955999000"], ["吳", "NTP-0001", "0955999111"]]
    )
    r = client.post(f"{base}/import", files=upload(bad), headers=bearer(admin))
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["row"] == 3
    assert len(client.get(base, headers=bearer(admin)).json()) == 3

    # An officer's session (officers log in on a device or in LINE: test_officer_device_login.py)
    # ends when the station admin changes the officer's mobile.
    officer_token = officer_session(hub.db, officer["id"])
    me = client.get("/api/v1/auth/me", headers=bearer(officer_token)).json()
    assert me["role"] == "officer" and me["org_id"] == station["id"]

    r = client.patch(f"{base}/{officer['id']}", json={"mobile": "0955111999"}, headers=bearer(admin))
    assert r.status_code == 200 and r.json()["mobile_masked"] == "09***1***9"
    assert client.get("/api/v1/auth/me", headers=bearer(officer_token)).status_code == 401
    assert client.delete(f"{base}/{officer['id']}", headers=bearer(admin)).status_code == 204
    assert client.delete(f"{base}/{officer['id']}", headers=bearer(admin)).status_code == 404
    assert len(client.get(base, headers=bearer(admin)).json()) == 2
