"""Device enrolment over HTTP: one-time tokens, the CPE1 QR text, pinning the root key, revocation."""

from __future__ import annotations

import base64
import datetime as dt
import json

from sqlalchemy import func, select, update

from crypto.keys import KeyPair, kid_of
from hub.db import utcnow
from hub.models.devices import Device, EnrolmentToken
from hub.models.identity import Role
from hub.models.organisations import Organisation, OrgKind
from provisioning.keystore import KeyStore
from tests.hub.test_devices_support import API, auth_headers, enrol, enrol_device, make_station, new_token


def _root_public(keys_dir, settings) -> bytes:
    return KeyStore(keys_dir, settings.passphrase()).root_public_key()


def test_token_carries_hub_token_and_root_key_in_a_qr(client, db, keys_dir, settings):
    headers = auth_headers(db, Role.SUPER_ADMIN)
    ticket = new_token(client, headers)

    assert ticket["enrolment_text"].startswith("CPE1:")
    doc = json.loads(base64.urlsafe_b64decode(ticket["enrolment_text"][5:]))
    assert doc == {
        "hub": settings.base_url,
        "token": ticket["token"],
        "root_public_key": base64.b64encode(_root_public(keys_dir, settings)).decode(),
    }
    assert base64.b64decode(ticket["qr_png_base64"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert ticket["expires_at"] > utcnow().timestamp() + 50 * 60
    # Only a hash of the token is kept.
    stored = db.scalars(select(EnrolmentToken.token_hash)).all()
    assert len(stored) == 1 and ticket["token"] not in stored[0]


def test_enrolment_pins_root_and_works_once(client, db, keys_dir, settings):
    headers = auth_headers(db, Role.SUPER_ADMIN)
    token = new_token(client, headers)["token"]
    key = KeyPair.generate()

    first = enrol(client, token, key)
    assert first.status_code == 200, first.text
    body = first.json()
    root = _root_public(keys_dir, settings)
    assert base64.b64decode(body["root_public_key"]) == root
    assert body["root_kid"] == kid_of(root).hex()
    assert abs(body["server_time"] - utcnow().timestamp()) < 60
    device = db.get(Device, body["device_id"])
    assert device is not None and device.public_key == key.public_key

    again = enrol(client, token)  # another device, same token
    assert again.status_code == 410
    assert again.json()["error"] == "token_used"
    assert db.scalar(select(func.count()).select_from(Device)) == 1


def test_expired_token_is_refused_and_changes_nothing(client, db, keys_dir):
    headers = auth_headers(db, Role.SUPER_ADMIN)
    token = new_token(client, headers)["token"]
    db.execute(update(EnrolmentToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    db.commit()

    response = enrol(client, token)
    assert response.status_code == 410
    assert response.json()["error"] == "token_expired"
    assert db.scalar(select(func.count()).select_from(Device)) == 0
    assert db.scalar(select(EnrolmentToken.used_at)) is None


def test_unknown_token_and_bad_key_are_refused(client, db, keys_dir):
    assert enrol(client, "no-such-token").status_code == 400
    token = new_token(client, auth_headers(db, Role.SUPER_ADMIN))["token"]
    bad_key = client.post(f"{API}/devices/enrol", json={"token": token, "public_key": "AAAA", "name": "x"})
    assert bad_key.status_code == 422
    not_b64 = client.post(f"{API}/devices/enrol", json={"token": token, "public_key": "!!!", "name": "x"})
    assert not_b64.status_code == 422
    # The token survived the refusals.
    assert enrol(client, token).status_code == 200


def test_same_key_cannot_enrol_twice(client, db, keys_dir):
    headers = auth_headers(db, Role.SUPER_ADMIN)
    key = KeyPair.generate()
    assert enrol(client, new_token(client, headers)["token"], key).status_code == 200
    token = new_token(client, headers)["token"]
    assert enrol(client, token, key).status_code == 409
    assert enrol(client, token).status_code == 200  # not used up by the refusal


def test_only_device_managers_make_tokens(client, db, keys_dir):
    assert client.post(f"{API}/devices/enrolment-tokens").status_code == 401
    company = Organisation(kind=OrgKind.ENTERPRISE.value, name="艾斯移動股份有限公司", ubn="28010606")
    db.add(company)
    db.commit()
    enterprise = auth_headers(db, Role.ENTERPRISE_ADMIN, org_id=company.id)
    assert client.post(f"{API}/devices/enrolment-tokens", headers=enterprise).status_code == 403
    general_without = auth_headers(db, Role.GENERAL_ADMIN)
    assert client.post(f"{API}/devices/enrolment-tokens", headers=general_without).status_code == 403
    general_with = auth_headers(db, Role.GENERAL_ADMIN, permissions=["devices.manage"])
    assert client.post(f"{API}/devices/enrolment-tokens", headers=general_with).status_code == 201


def test_station_admin_enrols_lists_and_revokes_only_its_own(client, db, keys_dir):
    banqiao, sanchong = make_station(db, "板橋分局"), make_station(db, "三重分局")
    mine = auth_headers(db, Role.STATION_ADMIN, org_id=banqiao)
    theirs = auth_headers(db, Role.STATION_ADMIN, org_id=sanchong)

    # A station admin cannot make a token for another station.
    other = client.post(f"{API}/devices/enrolment-tokens", json={"station_id": sanchong}, headers=mine)
    assert other.status_code == 403
    device = enrol_device(client, mine)  # tied to banqiao without asking
    assert db.get(Device, device.device_id).station_id == banqiao

    listed = client.get(f"{API}/devices", headers=mine).json()
    assert [d["device_id"] for d in listed] == [device.device_id]
    assert listed[0]["last_upload_at"] is None  # never synced
    assert client.get(f"{API}/devices", headers=theirs).json() == []

    assert client.post(f"{API}/devices/{device.device_id}/revoke", headers=theirs).status_code == 404
    assert db.get(Device, device.device_id).revoked_at is None
    revoked = client.post(f"{API}/devices/{device.device_id}/revoke", json={"reason": "lost"}, headers=mine)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None and revoked.json()["revoke_reason"] == "lost"


def test_hub_admin_lists_every_station(client, db, keys_dir):
    admin = auth_headers(db, Role.SUPER_ADMIN)
    banqiao, sanchong = make_station(db, "板橋分局"), make_station(db, "三重分局")
    a = enrol_device(client, admin, banqiao)
    b = enrol_device(client, admin, sanchong)
    c = enrol_device(client, admin)
    assert {d["device_id"] for d in client.get(f"{API}/devices", headers=admin).json()} == {
        a.device_id,
        b.device_id,
        c.device_id,
    }
    only = client.get(f"{API}/devices", params={"station_id": sanchong}, headers=admin).json()
    assert [d["device_id"] for d in only] == [b.device_id]
    # A token for something that is not a station is refused.
    assert (
        client.post(f"{API}/devices/enrolment-tokens", json={"station_id": 999}, headers=admin).status_code
        == 404
    )
