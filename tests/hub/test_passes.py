"""Employee whitelist, pass issuance (TP1 verifies with the hub's keys), PNG/PDF, revocation."""

from __future__ import annotations

import io

import pytest

from crypto.passes import decode_pass
from crypto.status import apply_delta, load_status_delta, load_status_list
from crypto.trust import load_trust_bundle
from crypto.verify import Reason, verify
from provisioning.keystore import KeyStore
from tests.hub.hubkit import PASSPHRASE, bearer

EMPLOYEE = {"name": "陳大明", "mobile": "0912345678", "national_id": "A123456789"}


@pytest.fixture
def enterprise(hub, keys_dir):
    token, org = hub.register_enterprise()
    return token, org


def _add_employee(client, token, org_id, **overrides):
    r = client.post(
        f"/api/v1/enterprises/{org_id}/employees", json={**EMPLOYEE, **overrides}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    return r.json()


def _issue_two(client, token, org_id):
    """Two whitelisted employees and a pass each, issued in one request."""
    e1 = _add_employee(client, token, org_id)
    e2 = _add_employee(client, token, org_id, name="王明", mobile="0922333444", national_id="B120863158")
    r = client.post(
        f"/api/v1/enterprises/{org_id}/passes",
        json={"employee_ids": [e1["id"], e2["id"]]},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_issue_pass_verifies_offline_and_revocation_reaches_status_list(client, enterprise, keys_dir, db):
    token, org = enterprise
    employee = _add_employee(client, token, org["id"])
    assert employee["name_masked"] == "陳*明"
    assert employee["national_id_masked"] == "A12*4*6*8*"
    assert employee["mobile_masked"] == "09***4***8"

    r = client.post(
        f"/api/v1/enterprises/{org['id']}/employees/{employee['id']}/passes", json={}, headers=bearer(token)
    )
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["text"].startswith("TP1:")
    _, claims = decode_pass(issued["text"])
    assert claims.holder_name == "陳大明" and claims.masked_national_id == "A12*4*6*8*"
    assert claims.org_name == "艾斯移動股份有限公司" and claims.serial == issued["serial"] == 0

    # The checkpoint's view: bundle from /trust/bundle, status list from /trust/status/{kid}.
    store = KeyStore(keys_dir, PASSPHRASE)
    bundle_r = client.get("/api/v1/trust/bundle")
    assert bundle_r.status_code == 200 and bundle_r.headers["content-type"] == "application/cose"
    bundle = load_trust_bundle(bundle_r.content, store.root_public_key())
    kid = issued["issuer_kid"]
    status_r = client.get(f"/api/v1/trust/status/{kid}")
    assert status_r.headers["etag"] == '"0"'
    issuer_pub = bundle.keys_for(bytes.fromhex(kid))[0].public_key
    status = load_status_list(status_r.content, issuer_pub)
    now = claims.issued_at + 10
    verdict = verify(issued["text"], bundle, {status.issuer_kid: status}, now)
    assert verdict.ok and verdict.reason is Reason.VALID

    # Unchanged documents cost a 304.
    assert (
        client.get("/api/v1/trust/bundle", headers={"If-None-Match": bundle_r.headers["etag"]}).status_code
        == 304
    )
    assert client.get(f"/api/v1/trust/status/{kid}", headers={"If-None-Match": '"0"'}).status_code == 304

    r = client.post(
        f"/api/v1/passes/{issued['pass_id']}/revoke",
        json={"reason": "離職"},
        headers=bearer(token),
    )
    assert r.status_code == 200 and r.json()["revoked"] is True
    again = client.post(
        f"/api/v1/passes/{issued['pass_id']}/revoke", json={"reason": "離職"}, headers=bearer(token)
    )
    assert again.status_code == 409

    # The ETag moved; a delta from 0 carries exactly the revoked serial.
    assert client.get(f"/api/v1/trust/status/{kid}", headers={"If-None-Match": '"0"'}).status_code == 200
    delta_r = client.get(f"/api/v1/trust/status/{kid}?since=0")
    assert delta_r.headers["x-status-kind"] == "delta" and delta_r.headers["etag"] == '"1"'
    delta = load_status_delta(delta_r.content, issuer_pub)
    assert delta.serials == (issued["serial"],) and (delta.from_counter, delta.to_counter) == (0, 1)
    updated = apply_delta(status, delta)
    new_bundle_r = client.get("/api/v1/trust/bundle", headers={"If-None-Match": bundle_r.headers["etag"]})
    assert new_bundle_r.status_code == 200  # the bundle carries the counter, so it changed too
    new_bundle = load_trust_bundle(new_bundle_r.content, store.root_public_key())
    verdict = verify(issued["text"], new_bundle, {updated.issuer_kid: updated}, now)
    assert not verdict.ok and verdict.reason is Reason.REVOKED
    full = load_status_list(client.get(f"/api/v1/trust/status/{kid}").content, issuer_pub)
    assert full.is_revoked(issued["serial"]) and full.counter == 1


def test_pass_png_pdf_and_serials_are_distinct(client, enterprise):
    token, org = enterprise
    issued = _issue_two(client, token, org["id"])
    assert sorted(p["serial"] for p in issued) == [0, 1]
    png = client.get(f"/api/v1/passes/{issued[0]['pass_id']}/qr.png", headers=bearer(token))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    from PIL import Image

    assert Image.open(io.BytesIO(png.content)).size[0] > 100
    pdf = client.get(f"/api/v1/passes/{issued[0]['pass_id']}/sheet.pdf", headers=bearer(token))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    sheet = client.get(f"/api/v1/enterprises/{org['id']}/passes/sheet.pdf", headers=bearer(token))
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")


def test_big_enterprise_sheet_comes_in_parts(client, enterprise, monkeypatch):
    from hub.services import passes as pass_routes

    token, org = enterprise
    _issue_two(client, token, org["id"])
    url = f"/api/v1/enterprises/{org['id']}/passes/sheet.pdf"
    monkeypatch.setattr(pass_routes, "SHEET_PART_PASSES", 1)
    whole = client.get(url, headers=bearer(token))
    assert whole.status_code == 422 and whole.json()["error"] == "too_many_passes"
    assert "?part=1 to ?part=2" in whole.json()["detail"]
    parts = [client.get(url, params={"part": n}, headers=bearer(token)) for n in (1, 2)]
    assert all(p.status_code == 200 and p.content.startswith(b"%PDF") for p in parts)
    assert parts[0].headers["content-disposition"].endswith('-part1.pdf"')
    assert parts[0].content != parts[1].content
    assert client.get(url, params={"part": 3}, headers=bearer(token)).status_code == 404
    monkeypatch.setattr(pass_routes, "SHEET_PART_PASSES", 2)
    assert client.get(url, headers=bearer(token)).status_code == 200


def test_employee_logs_in_and_sees_own_pass(hub, client, enterprise):
    token, org = enterprise
    employee = _add_employee(client, token, org["id"])
    issued = client.post(
        f"/api/v1/enterprises/{org['id']}/employees/{employee['id']}/passes", json={}, headers=bearer(token)
    ).json()
    emp_token = hub.sms_login("+886912345678")
    mine = client.get("/api/v1/me/passes", headers=bearer(emp_token))
    assert mine.status_code == 200 and [p["pass_id"] for p in mine.json()] == [issued["pass_id"]]
    assert mine.json()[0]["text"] == issued["text"]
    # An employee cannot revoke, nor touch the whitelist.
    r = client.post(
        f"/api/v1/passes/{issued['pass_id']}/revoke", json={"reason": "離職"}, headers=bearer(emp_token)
    )
    assert r.status_code == 403
    r = client.get(f"/api/v1/enterprises/{org['id']}/employees", headers=bearer(emp_token))
    assert r.status_code == 403


def test_bad_employee_input_changes_nothing(client, enterprise):
    token, org = enterprise
    url = f"/api/v1/enterprises/{org['id']}/employees"
    cases = [
        {**EMPLOYEE, "national_id": "A123456788"},  # checksum
        {**EMPLOYEE, "mobile": "0212345678"},  # a landline cannot get SMS
        {**EMPLOYEE, "mobile": "not a phone"},
        {**EMPLOYEE, "name": "x" * 65},
        {**EMPLOYEE, "name": ""},
        {**EMPLOYEE, "name": 12},
        {"name": "陳大明"},
    ]
    for body in cases:
        r = client.post(url, json=body, headers=bearer(token))
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"] == "invalid_request"
    assert client.get(url, headers=bearer(token)).json() == []
    _add_employee(client, token, org["id"])
    dup = client.post(url, json={**EMPLOYEE, "mobile": "0922333444"}, headers=bearer(token))
    assert dup.status_code == 409  # same national ID twice in one enterprise
    assert len(client.get(url, headers=bearer(token)).json()) == 1


def test_bad_pass_requests(client, enterprise):
    token, org = enterprise
    employee = _add_employee(client, token, org["id"])
    url = f"/api/v1/enterprises/{org['id']}/employees/{employee['id']}/passes"
    r = client.post(
        url,
        json={"not_before": "2030-01-02T00:00:00Z", "expires_at": "2030-01-01T00:00:00Z"},
        headers=bearer(token),
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_validity"
    r = client.post(url, json={"kind": "tank"}, headers=bearer(token))
    assert r.status_code == 422
    r = client.post(f"/api/v1/enterprises/{org['id']}/employees/999/passes", json={}, headers=bearer(token))
    assert r.status_code == 404
    assert client.get(f"/api/v1/enterprises/{org['id']}/passes", headers=bearer(token)).json() == []
    assert client.get("/api/v1/trust/status/zz").status_code == 400
    assert client.get("/api/v1/trust/status/0011223344556677").status_code == 404


def test_key_rotation_and_compromise_reach_the_bundle(client, enterprise, keys_dir):
    token, org = enterprise
    employee = _add_employee(client, token, org["id"])
    url = f"/api/v1/enterprises/{org['id']}/employees/{employee['id']}/passes"
    first = client.post(url, json={}, headers=bearer(token)).json()
    store = KeyStore(keys_dir, PASSPHRASE)
    etag = client.get("/api/v1/trust/bundle").headers["etag"]
    new_key = store.rotate()  # what an operator does with `checkpass keys rotate`
    second = client.post(url, json={}, headers=bearer(token)).json()
    assert second["issuer_kid"] == new_key.kid.hex() != first["issuer_kid"]
    assert second["serial"] == 0  # serials count per issuer key
    r = client.get("/api/v1/trust/bundle", headers={"If-None-Match": etag})
    assert r.status_code == 200
    bundle = load_trust_bundle(r.content, store.root_public_key())
    states = {k.kid.hex(): str(k.state) for k in bundle.issuer_keys}
    assert states == {first["issuer_kid"]: "retired", second["issuer_kid"]: "active"}
    store.mark_compromised(bytes.fromhex(first["issuer_kid"]))
    bundle = load_trust_bundle(client.get("/api/v1/trust/bundle").content, store.root_public_key())
    assert {k.kid.hex(): str(k.state) for k in bundle.issuer_keys}[first["issuer_kid"]] == "compromised"
    status = load_status_list(
        client.get(f"/api/v1/trust/status/{first['issuer_kid']}").content,
        bundle.keys_for(bytes.fromhex(first["issuer_kid"]))[0].public_key,
    )
    verdict = verify(
        first["text"], bundle, {status.issuer_kid: status}, decode_pass(first["text"])[1].issued_at + 5
    )
    assert not verdict.ok and verdict.reason is Reason.KEY_COMPROMISED


def test_concurrent_issuance_never_reuses_a_serial(app, enterprise, client):
    """Two issuers at once (threads with their own sessions, as two requests would be)."""
    from concurrent.futures import ThreadPoolExecutor

    from hub.models.identity import User
    from hub.models.organisations import Organisation
    from hub.models.rosters import Employee
    from hub.services import passes

    token, org = enterprise
    employee_id = _add_employee(client, token, org["id"])["id"]

    def issue(count):
        serials = []
        for _ in range(count):
            with app.state.sessionmaker() as db:
                organisation = db.get(Organisation, org["id"])
                actor = db.query(User).filter(User.org_id == org["id"]).one()
                employee = db.get(Employee, employee_id)
                record = passes.sign_pass(db, org=organisation, employee=employee, actor=actor)
                db.commit()
                serials.append(record.serial)
        return serials

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(issue, [10, 10]))
    serials = sorted(results[0] + results[1])
    assert serials == list(range(20))
