"""Holes found from outside (issue 7, Build 3), each tried from the attacker's side: someone reaching
what is someone else's, and someone who has none of it at all (docs/domain.md)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.models.audit import AuditEvent
from hub.models.devices import Device, Scan
from hub.models.identity import Role
from tests.hub.hubkit import bearer
from tests.hub.test_devices_support import (
    API,
    auth_headers,
    batch_body,
    enrol_device,
    make_event,
    make_officer,
    make_station,
    post_batch,
)

EMPLOYEE = {"name": "陳大明", "mobile": "0912345678", "national_id": "A123456789"}


# ---- a station admin whose station was never registered reaches nothing -------------------------


@pytest.fixture
def stationless(db):
    """Bearer headers of a station admin with no station (added before their station was registered)."""
    return auth_headers(db, Role.STATION_ADMIN, None)


def test_stationless_station_admin_cannot_mint_enrolment_tokens(client, db, stationless, keys_dir):
    r = client.post(f"{API}/devices/enrolment-tokens", headers=stationless)
    assert r.status_code == 403 and r.json()["error"] == "no_organisation", r.text
    r = client.post(f"{API}/devices/enrolment-tokens", json={"station_id": 1}, headers=stationless)
    assert r.status_code in (403, 404)


def test_stationless_station_admin_cannot_list_or_revoke_stationless_devices(
    client, db, stationless, keys_dir
):
    hub_admin = auth_headers(db, Role.SUPER_ADMIN)
    hub_wide = enrol_device(client, hub_admin)  # a device tied to no station
    listed = client.get(f"{API}/devices", headers=stationless)
    assert listed.status_code == 403, listed.text
    revoked = client.post(f"{API}/devices/{hub_wide.device_id}/revoke", json={}, headers=stationless)
    assert revoked.status_code == 404, revoked.text
    db.expire_all()
    assert db.get(Device, hub_wide.device_id).revoked_at is None


def test_stationless_station_admin_reads_no_register(client, db, stationless, keys_dir):
    station = make_station(db)
    officer = make_officer(db, station, "王警官", "+886955000001")
    mine = auth_headers(db, Role.STATION_ADMIN, station)
    device = enrol_device(client, mine)
    assert post_batch(
        client, device, batch_body(device, [make_event(device, officer_id=str(officer))])
    ).json()
    for register in ("checks", "visits"):
        r = client.get(f"{API}/queries/{register}", headers=stationless)
        assert r.status_code == 403 and r.json()["error"] == "no_organisation", (register, r.text)
    # The station's own admin still reads its register.
    assert client.get(f"{API}/queries/checks", headers=mine).json()["count"] == 1


# ---- a scan is written only into the register of the device's own station -----------------------


def test_a_device_cannot_write_into_another_stations_register(client, db, keys_dir):
    banqiao, sanchong = make_station(db, "板橋分局"), make_station(db, "三重分局")
    ours = make_officer(db, banqiao, "王警官", "+886955000001", "A001")
    theirs = make_officer(db, sanchong, "李警官", "+886955000002", "B001")
    device = enrol_device(client, auth_headers(db, Role.STATION_ADMIN, banqiao))
    events = [
        make_event(device, officer_id=str(ours)),
        make_event(device, officer_id=str(theirs)),
        make_event(device, officer_id="999999"),
    ]
    answer = post_batch(client, device, batch_body(device, events)).json()
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected", "rejected"]
    assert "officer_id" in answer["results"][1]["error"]
    db.expire_all()
    assert {s.officer_id for s in db.scalars(select(Scan))} == {str(ours)}
    sanchong_admin = auth_headers(db, Role.STATION_ADMIN, sanchong)
    assert client.get(f"{API}/queries/checks", headers=sanchong_admin).json()["count"] == 0


# ---- an employee's pass follows the person, not the old number ---------------------------------


@pytest.fixture
def enterprise(hub, keys_dir):
    return hub.register_enterprise()


def _employee_with_pass(client, token, org_id):
    employee = client.post(
        f"{API}/enterprises/{org_id}/employees", json=EMPLOYEE, headers=bearer(token)
    ).json()
    issued = client.post(
        f"{API}/enterprises/{org_id}/employees/{employee['id']}/passes", json={}, headers=bearer(token)
    )
    assert issued.status_code == 201, issued.text
    return employee, issued.json()


def test_after_a_mobile_change_the_old_number_no_longer_gets_the_pass(hub, client, enterprise):
    token, org = enterprise
    employee, issued = _employee_with_pass(client, token, org["id"])
    old_session = hub.sms_login("+886912345678")
    assert client.get(f"{API}/me/passes", headers=bearer(old_session)).status_code == 200

    r = client.patch(
        f"{API}/enterprises/{org['id']}/employees/{employee['id']}",
        json={"mobile": "0922333444"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    # The old number's session is over, and the old number cannot log in to the employee again.
    assert client.get(f"{API}/me/passes", headers=bearer(old_session)).status_code == 401
    code = hub.request_code("+886912345678", "login")
    again = client.post(f"{API}/auth/sms-login", json={"mobile": "+886912345678", "code": code})
    assert again.status_code != 200 or again.json().get("user", {}).get("role") != "employee", again.text
    # The new number is the employee now, and has the pass.
    new_session = hub.sms_login("+886922333444")
    mine = client.get(f"{API}/me/passes", headers=bearer(new_session)).json()
    assert [p["pass_id"] for p in mine] == [issued["pass_id"]] and mine[0]["text"] == issued["text"]


# ---- a pass's usable text is for its holder and its issuers, and every read is audited ---------


def test_a_query_permission_does_not_give_a_pass_text(hub, client, db, enterprise):
    token, org = enterprise
    _employee, issued = _employee_with_pass(client, token, org["id"])
    url = f"{API}/passes/{issued['pass_id']}"
    querier = auth_headers(db, Role.GENERAL_ADMIN, None, ["query.passes", "passes.revoke"])
    seen = client.get(url, headers=querier)
    assert seen.status_code == 200 and seen.json()["text"] is None, seen.text
    assert seen.json()["masked_national_id"] == issued["masked_national_id"]
    for form in ("qr.png", "sheet.pdf"):
        assert client.get(f"{url}/{form}", headers=querier).status_code == 403, form
    # Who issues the enterprise's passes still gets it: its admin, a hub admin with enterprises.manage.
    issuer = auth_headers(db, Role.GENERAL_ADMIN, None, ["enterprises.manage"])
    assert client.get(url, headers=issuer).json()["text"] == issued["text"]
    assert client.get(url, headers=bearer(token)).json()["text"] == issued["text"]
    # Someone else's enterprise admin does not even learn the pass exists.
    other_token, _other = hub.register_enterprise(mobile="+886933000002", ubn="04595257", name="別家公司")
    assert client.get(url, headers=bearer(other_token)).status_code == 404
    # Every read is in the audit log, saying whether it carried the text.
    db.expire_all()
    reads = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "pass.read", AuditEvent.target == f"pass:{issued['pass_id']}"
        )
    ).all()
    assert [e.details["text"] for e in reads] == [False, True, True]


# ---- a second registration for a taken 統一編號 waits for a hub admin --------------------------


def _can_log_in(hub, client, mobile: str) -> bool:
    code = hub.request_code(mobile, "login")
    return client.post(f"{API}/auth/sms-login", json={"mobile": mobile, "code": code}).status_code == 200


def _claim(hub, client, mobile: str, ubn: str = "28010606"):
    code = hub.request_code(mobile, "enterprise_registration")
    form = {
        "company_name": "冒名公司",
        "ubn": ubn,
        "admin_name": "王冒名",
        "admin_mobile": mobile,
        "code": code,
    }
    return client.post(f"{API}/enterprises/register", json=form)


def test_a_second_registration_for_a_taken_ubn_is_held_for_review(hub, client, db, enterprise):
    owner_token, org = enterprise
    held = _claim(hub, client, "+886933000009")
    assert held.status_code == 202, held.text
    assert held.json()["state"] == "pending" and "token" not in held.json()
    # The real owner is untouched: still the only admin, and the claimant has no account.
    assert client.get(f"{API}/enterprises/{org['id']}", headers=bearer(owner_token)).status_code == 200
    assert not _can_log_in(hub, client, "+886933000009")

    # Only hub admins with enterprises.manage see the queue; the owner and other roles do not.
    reviewer = auth_headers(db, Role.GENERAL_ADMIN, None, ["enterprises.manage"])
    queue = client.get(f"{API}/enterprise-registrations", headers=reviewer)
    assert queue.status_code == 200, queue.text
    (claim,) = queue.json()
    assert claim["org_id"] == org["id"] and claim["admin_mobile_masked"] == "09***0***9"
    for outsider in (bearer(owner_token), auth_headers(db, Role.GENERAL_ADMIN, None, ["query.passes"])):
        assert client.get(f"{API}/enterprise-registrations", headers=outsider).status_code == 403
        decided = client.post(f"{API}/enterprise-registrations/{claim['id']}/approve", headers=outsider)
        assert decided.status_code == 403

    # Refused: nothing changes; a claim is decided once.
    refused = client.post(f"{API}/enterprise-registrations/{claim['id']}/refuse", headers=reviewer)
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    again = client.post(f"{API}/enterprise-registrations/{claim['id']}/approve", headers=reviewer)
    assert again.status_code == 409
    assert not _can_log_in(hub, client, "+886933000009")


def test_an_approved_claim_makes_the_claimant_another_admin(hub, client, db, enterprise):
    _owner_token, org = enterprise
    assert _claim(hub, client, "+886933000008").status_code == 202
    reviewer = auth_headers(db, Role.SUPER_ADMIN)
    (claim,) = client.get(f"{API}/enterprise-registrations", headers=reviewer).json()
    approved = client.post(f"{API}/enterprise-registrations/{claim['id']}/approve", headers=reviewer)
    assert approved.status_code == 200 and approved.json()["state"] == "approved", approved.text
    token = hub.sms_login("+886933000008")
    assert client.get(f"{API}/enterprises/{org['id']}", headers=bearer(token)).status_code == 200
    db.expire_all()
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"enterprise.registration_held", "enterprise.registration_approved"} <= actions


# ---- a station admin sees the mobiles of their own roster, and only theirs --------------------


def test_station_admins_see_their_own_rosters_mobiles_only(client, db):
    banqiao, sanchong = make_station(db, "板橋分局"), make_station(db, "三重分局")
    make_officer(db, banqiao, "王警官", "+886955000001", "A001")
    make_officer(db, sanchong, "李警官", "+886955000002", "B001")
    mine = auth_headers(db, Role.STATION_ADMIN, banqiao)
    own = client.get(f"{API}/stations/{banqiao}/officers", headers=mine)
    assert own.status_code == 200 and [o["mobile"] for o in own.json()] == ["+886955000001"]
    assert client.get(f"{API}/stations/{sanchong}/officers", headers=mine).status_code == 403
    assert (
        client.get(f"{API}/stations/{banqiao}/officers", headers=stationless_headers(db)).status_code == 403
    )
    hub_admin = auth_headers(db, Role.GENERAL_ADMIN, None, ["stations.manage"])
    listed = client.get(f"{API}/stations/{sanchong}/officers", headers=hub_admin).json()
    assert [(o["mobile"], o["mobile_masked"]) for o in listed] == [(None, "09***0***2")]


def stationless_headers(db):
    return auth_headers(db, Role.STATION_ADMIN, None)


def test_stationless_station_admin_touches_no_venue_code(client, db, keys_dir):
    station = make_station(db)
    mine = auth_headers(db, Role.STATION_ADMIN, station)
    applied = client.post(
        f"{API}/organisations/{station}/venues",
        json={"names": ["正門"], "address": "新北市板橋區"},
        headers=mine,
    )
    assert applied.status_code == 201, applied.text
    venue = applied.json()[0]
    nobody = stationless_headers(db)
    assert client.get(f"{API}/organisations/{station}/venues", headers=nobody).status_code == 403
    assert client.get(f"{API}/venues/{venue['id']}/visits", headers=nobody).status_code == 403
    assert client.delete(f"{API}/venues/{venue['id']}", headers=nobody).status_code == 403
    assert client.get(f"{API}/organisations/{station}/venues", headers=mine).status_code == 200
